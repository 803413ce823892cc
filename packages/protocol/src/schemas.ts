/**
 * The wire format, one schema source: the server validates requests with these, the client
 * parses responses with them. Types are inferred from the schemas, so they cannot drift.
 */
import * as v from 'valibot';
import { isHlc } from './hlc.js';
import { isFieldName, jsonProblem, type RecordData } from './json.js';
import { MAX_CHECKPOINT_SPACES, MembershipSchema, RESERVED_TYPES, SpaceIdSchema } from './spaces.js';
import { LIMITS } from './version.js';
import type { VersionVector } from './versionVector.js';

/** Entity type names as declared in the server schema: they never reach SQL as identifiers. */
export const ENTITY_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Client (device) ids: also HLC node ids and version-vector keys. */
export const CLIENT_ID_PATTERN = /^(?!(?:constructor|prototype)$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Change ids: idempotency keys, unique per user. */
export const CHANGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export const EntityTypeSchema = v.pipe(
  v.string(),
  v.regex(ENTITY_TYPE_PATTERN, 'entityType must be 1-64 letters, digits or "_", starting with a letter'),
);
/** A declared entity type, or one of the reserved membership types (`$space`, `$member`). */
export const ChangeEntityTypeSchema = v.union(
  [EntityTypeSchema, v.picklist(RESERVED_TYPES)],
  'entityType must be 1-64 letters, digits or "_", starting with a letter (or "$space" / "$member")',
);
export const ClientIdSchema = v.pipe(
  v.string(),
  v.regex(
    CLIENT_ID_PATTERN,
    'clientId must be 1-64 letters, digits, "_" or "-", starting with a letter or digit (not "constructor" or "prototype")',
  ),
);
export const ChangeIdSchema = v.pipe(
  v.string(),
  v.regex(CHANGE_ID_PATTERN, 'change id must be 1-128 letters, digits, "_", ".", ":" or "-"'),
);
export const EntityIdSchema = v.pipe(
  v.string(),
  v.minLength(1, 'entityId must not be empty'),
  v.maxLength(256, 'entityId must be at most 256 characters'),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  v.regex(/^[^\u0000-\u001f\u007f]+$/, 'entityId must not contain control characters'),
  // Storage holds UTF-8: a lone surrogate would come back as U+FFFD, and two ids would become one.
  v.check(isWellFormedText, 'entityId must be well-formed Unicode (it contains a lone surrogate)'),
);
export const HlcSchema = v.pipe(
  v.string(),
  v.check(isHlc, 'hlc must be a hybrid logical clock stamp WWWWWWWWWWWWWWW-CCCCCC-node'),
);
const Counter = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const Cursor = Counter;

/** A lone UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `text` is well-formed UTF-16 (no lone surrogates), like ES2024's
 * `String.prototype.isWellFormed`, which not every React Native engine has.
 */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** Plain object, not an array, a class instance or null (arrays would pass `v.record`). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// The key checks come before `v.record`, which would silently drop a "constructor" key.
export const VersionVectorSchema = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'version vector must be an object'),
  v.check(
    (value) => !['__proto__', 'constructor', 'prototype'].some((key) => Object.hasOwn(value, key)),
    'version vector keys must be client ids',
  ),
  v.check((value) => Object.keys(value).length <= 1000, 'version vector has too many entries'),
  v.record(ClientIdSchema, Counter),
) as v.GenericSchema<VersionVector>;

// Not `v.record`: it silently drops keys such as `__proto__`, and bad input must be refused,
// never quietly altered.
export const RecordDataSchema = v.pipe(
  v.custom<RecordData>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'data must be a JSON object',
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const bad = Object.keys(dataset.value).find((field) => !isFieldName(field));
    if (bad !== undefined) {
      addIssue({
        message: `field name "${bad.slice(0, 64)}" is not allowed: use 1-64 letters, digits, "_" or "$", not starting with a digit`,
      });
      return;
    }
    // Depth 0 is the data object itself, so data may nest exactly maxJsonDepth levels.
    const problem = jsonProblem(dataset.value, LIMITS.maxJsonDepth);
    if (problem) addIssue({ message: `data is not plain JSON: ${problem}` });
  }),
);

/** The first string in `value` (keys included) that storage could not hold as it is, described. */
function unstorableString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (!isWellFormedText(value)) return 'a string contains a lone surrogate (it is not well-formed Unicode)';
    return value.includes('\u0000') ? 'a string contains the NUL character (\\u0000)' : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const problem = unstorableString(key) ?? unstorableString(item);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Record data a client may write: {@link RecordDataSchema} whose strings every storage keeps
 * exactly (PostgreSQL's jsonb refuses U+0000 and lone surrogates; SQLite would keep them, so
 * a record would differ by backend). Refused, never altered. Responses are parsed with the
 * laxer {@link RecordDataSchema}, so records stored before this rule still pull.
 */
export const ChangeDataSchema = v.pipe(
  RecordDataSchema,
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = unstorableString(dataset.value);
    if (problem) addIssue({ message: `data cannot be stored as sent: ${problem}` });
  }),
);

/**
 * Per-field stamps of a change: a plain object (never an array, whose indices would become
 * fields) of field name → HLC. Keys are checked before `v.record`, which drops some silently.
 */
export const FieldHlcsSchema = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'fieldHlcs must be an object of field name → hlc'),
  v.check(
    (value) => Object.keys(value).every(isFieldName),
    'fieldHlcs keys must be field names (1-64 letters, digits, "_" or "$", not starting with a digit)',
  ),
  v.record(v.string(), HlcSchema),
);

export const OperationSchema = v.picklist(['CREATE', 'UPDATE', 'DELETE']);
export type Operation = v.InferOutput<typeof OperationSchema>;

/**
 * One local write, as the client records it and pushes it.
 * `data` is the whole record for CREATE, only the changed fields for UPDATE, null for DELETE.
 */
export const ChangeSchema = v.pipe(
  v.strictObject({
    id: ChangeIdSchema,
    entityType: ChangeEntityTypeSchema,
    entityId: EntityIdSchema,
    operation: OperationSchema,
    data: v.nullable(ChangeDataSchema),
    /** Wall-clock part of `hlc`, in ms (informational; ordering uses `hlc`). */
    timestamp: Counter,
    hlc: HlcSchema,
    /** Per-entity revision on the client that made the change (1 for a first write). */
    version: v.pipe(Counter, v.minValue(1)),
    /** The entity's version vector after this change: its base plus this client's increment. */
    vector: VersionVectorSchema,
    clientId: ClientIdSchema,
    /**
     * Per-field stamps, sent only when fields of `data` carry stamps other than `hlc`
     * (a merged conflict resolution); the server keeps them as the record's field clocks.
     */
    fieldHlcs: v.optional(FieldHlcsSchema),
    /** The shared space the change writes in; absent for the user's private space. */
    space: v.optional(SpaceIdSchema),
  }),
  v.check(
    (change) => (change.operation === 'DELETE' ? change.data === null : change.data !== null),
    'data must be null for DELETE and an object for CREATE and UPDATE',
  ),
);
export type Change = v.InferOutput<typeof ChangeSchema>;

/** An entity as the server holds it: the latest state, or a tombstone. */
export const ServerRecordSchema = v.object({
  entityType: ChangeEntityTypeSchema,
  entityId: EntityIdSchema,
  data: v.nullable(RecordDataSchema),
  deleted: v.boolean(),
  /** Server revision of this entity: 1 on create, +1 per applied change. */
  version: Counter,
  vector: VersionVectorSchema,
  /** Stamp of the write that produced this state. */
  hlc: HlcSchema,
  /** Stamp of the last write of each field (drives field-level merge). */
  fieldHlcs: v.record(v.string(), HlcSchema),
  /** Position in the user's change sequence: the pull cursor. */
  seq: Counter,
  /** Who wrote this state, and with which change. */
  clientId: ClientIdSchema,
  changeId: ChangeIdSchema,
});
export type ServerRecord = v.InferOutput<typeof ServerRecordSchema>;

export const PushRequestSchema = v.strictObject({
  clientId: ClientIdSchema,
  changes: v.pipe(
    v.array(ChangeSchema),
    v.minLength(1, 'a push needs at least one change'),
    v.maxLength(LIMITS.maxChangesPerPush, `a push carries at most ${LIMITS.maxChangesPerPush} changes`),
  ),
});
export type PushRequest = v.InferOutput<typeof PushRequestSchema>;

export const ResultErrorSchema = v.object({ code: v.string(), message: v.string(), retryable: v.boolean() });

/** What happened to one pushed change. */
export const PushStatusSchema = v.picklist(['applied', 'duplicate', 'conflict', 'rejected']);
export type PushStatus = v.InferOutput<typeof PushStatusSchema>;

export const ChangeResultSchema = v.object({
  changeId: ChangeIdSchema,
  status: PushStatusSchema,
  /** The entity's server state after the change (applied, duplicate) or as it stands (conflict). */
  record: v.optional(v.nullable(ServerRecordSchema)),
  /** Why a change was rejected. */
  error: v.optional(ResultErrorSchema),
});
export type ChangeResult = v.InferOutput<typeof ChangeResultSchema>;

export const PushResponseSchema = v.object({
  results: v.array(ChangeResultSchema),
  /** The user's sequence after this push. */
  cursor: Cursor,
  /** Server time in ms, so a client can correct a skewed clock. */
  serverTime: Counter,
});
export type PushResponse = v.InferOutput<typeof PushResponseSchema>;

/**
 * A compact acknowledgement (`POST /v1/push?ack=compact`): the change was applied (or had been)
 * and the entity's server record is exactly what the change carried, so only the record's
 * `version` and `seq` travel; the client rebuilds the rest from the change it sent
 * (`recordFromChange`, docs/protocol.md).
 */
export const CompactResultSchema = v.strictObject({
  changeId: ChangeIdSchema,
  status: v.picklist(['applied', 'duplicate']),
  version: Counter,
  seq: Counter,
});
export type CompactResult = v.InferOutput<typeof CompactResultSchema>;

/** Any object carrying a compact result's own keys is judged as a compact result, never stripped to a full one. */
function looksCompact(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && (Object.hasOwn(value, 'version') || Object.hasOwn(value, 'seq'))
  );
}

/**
 * One result of a push that asked for compact acknowledgements: a result with `version` or `seq`
 * must be a valid {@link CompactResultSchema}; any other is judged by {@link ChangeResultSchema}.
 */
export const PushAckResultSchema = v.pipe(
  v.unknown(),
  v.rawTransform<unknown, CompactResult | ChangeResult>(({ dataset, addIssue, NEVER }) => {
    const compact = looksCompact(dataset.value);
    const parsed = compact
      ? v.safeParse(CompactResultSchema, dataset.value)
      : v.safeParse(ChangeResultSchema, dataset.value);
    if (parsed.success) return parsed.output;
    const what = compact ? 'compact result (changeId, status applied or duplicate, version, seq only)' : 'result';
    addIssue({ message: `invalid ${what}: ${describeIssues(parsed.issues)}` });
    return NEVER;
  }),
);
export type PushAckResult = v.InferOutput<typeof PushAckResultSchema>;

/** The answer to `POST /v1/push?ack=compact`: {@link PushResponseSchema} whose results may be compact. */
export const PushAckResponseSchema = v.object({ ...PushResponseSchema.entries, results: v.array(PushAckResultSchema) });
export type PushAckResponse = v.InferOutput<typeof PushAckResponseSchema>;

/** Query of `GET /v1/pull`; numbers arrive as strings in a query string. */
export const PullQuerySchema = v.strictObject({
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,16}$/, 'cursor must be a non-negative integer'),
      // 16 digits reach past 2^53-1, where a cursor would lose precision (and fail the response schema).
      v.check((cursor) => Number(cursor) <= Number.MAX_SAFE_INTEGER, 'cursor must be at most 9007199254740991'),
    ),
    '0',
  ),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,5}$/, 'limit must be a positive integer')),
    String(LIMITS.defaultPullLimit),
  ),
  types: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  /** `1` while a client re-syncs from a snapshot after a 410 `RESET_REQUIRED`: its cursor may be below the horizon. */
  snapshot: v.optional(v.literal('1')),
});

export const PullResponseSchema = v.object({
  changes: v.array(ServerRecordSchema),
  /** Pass this back as `cursor` to continue. */
  cursor: Cursor,
  hasMore: v.boolean(),
  serverTime: Counter,
  /**
   * Snapshot pages only: the scope's compaction horizon when the page was read. A rise during
   * a reset means tombstones the reset had not reached yet may be gone: the reset starts over.
   */
  horizon: v.optional(Cursor),
});
export type PullResponse = v.InferOutput<typeof PullResponseSchema>;

/**
 * Body of `POST /v1/pull`, the multi-space pull: one request serves every space of the user.
 * `private` is the cursor of the user's private space (omit it to skip that space); `spaces`
 * maps shared space ids to cursors. A space of the user missing from `spaces` is pulled from
 * 0 (backfill after a grant); an id the user is not a member of is ignored (the device purges
 * it when it sees the membership list).
 */
export const MultiPullRequestSchema = v.strictObject({
  private: v.optional(Cursor),
  spaces: v.optional(
    v.pipe(
      v.custom<Record<string, unknown>>(
        (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
        'spaces must be an object of space id → cursor',
      ),
      v.check(
        (value) => Object.keys(value).length <= MAX_CHECKPOINT_SPACES,
        `spaces names at most ${MAX_CHECKPOINT_SPACES} spaces`,
      ),
      v.record(SpaceIdSchema, Cursor),
    ),
    {},
  ),
  limit: v.optional(v.pipe(Cursor, v.minValue(1), v.maxValue(LIMITS.maxPullLimit)), LIMITS.defaultPullLimit),
  types: v.optional(v.pipe(v.array(EntityTypeSchema), v.maxLength(256))),
  /**
   * Spaces whose cursor continues a snapshot begun from 0 (a backfill or a reset longer than a
   * page): read them as snapshot pages, without the compaction-horizon check. Sent only when
   * not empty.
   */
  snapshots: v.optional(v.pipe(v.array(SpaceIdSchema), v.maxLength(MAX_CHECKPOINT_SPACES))),
});
export type MultiPullRequest = v.InferOutput<typeof MultiPullRequestSchema>;

/** One space's page in a multi-space pull: apply `changes` and store `cursor` in one local transaction. */
export const SpacePageSchema = v.object({
  /** The shared space, or null for the private space. */
  space: v.nullable(SpaceIdSchema),
  changes: v.array(ServerRecordSchema),
  cursor: Cursor,
  hasMore: v.boolean(),
  /**
   * The device's cursor for this space is older than the space's compaction horizon: drop the
   * space's local records and pull it again from 0 (its pending writes stay in the outbox).
   */
  reset: v.optional(v.boolean()),
  /**
   * On a snapshot page: the space's compaction horizon when it was read. A snapshot whose
   * horizon rises before it ends starts over from 0 (a record an earlier page gave live may
   * have been deleted, and its tombstone removed).
   */
  horizon: v.optional(Cursor),
});
export type SpacePage = v.InferOutput<typeof SpacePageSchema>;

export const MultiPullResponseSchema = v.object({
  /** Every shared space the user belongs to now; a space the device holds that is missing here was revoked. */
  membership: v.array(MembershipSchema),
  /** Pages of the spaces with something past the device's cursor, at most `limit` records in all. */
  pages: v.array(SpacePageSchema),
  /** True while any space has more to pull: ask again with the new cursors. */
  hasMore: v.boolean(),
  serverTime: Counter,
});
export type MultiPullResponse = v.InferOutput<typeof MultiPullResponseSchema>;

export const ErrorBodySchema = v.object({ error: ResultErrorSchema });

/** `GET /v1/config`: what a client learns about the server on connect. */
export const ServerConfigSchema = v.object({
  protocolVersion: v.number(),
  supportedVersions: v.array(v.number()),
  entityTypes: v.array(EntityTypeSchema),
  /** Conflict strategy the server uses per entity type when it arbitrates; absent means "report". */
  conflictStrategies: v.record(v.string(), v.string()),
  limits: v.object({ maxBodyBytes: v.number(), maxChangesPerPush: v.number(), maxPullLimit: v.number() }),
  serverTime: Counter,
});
export type ServerConfig = v.InferOutput<typeof ServerConfigSchema>;

/** Formats valibot issues as one readable sentence with paths. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = v.getDotPath(issue);
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
