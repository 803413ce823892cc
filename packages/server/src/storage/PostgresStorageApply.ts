import { type Change, type ChangeResult, MEMBER_TYPE, memberUser, type Role, type ServerRecord } from '@ferry/protocol';
import type pg from 'pg';
import { HttpError } from '../errors.js';
import { COMMIT_CHANNEL, commitPayload } from './PostgresStorageListener.js';
import { RECORD_COLUMNS, type RecordRow, toRecord } from './PostgresStorageSchema.js';
import type { ApplyOutcome, ChangeDecider, MembershipEffect, SpaceRoster } from './ServerStorage.js';

/** One push, as {@link applyChangesPostgres} runs it. */
export interface PostgresPush {
  scope: string;
  changes: readonly Change[];
  decide: ChangeDecider;
  /** Wall clock (ms) stamped on the rows for compaction. */
  now: number;
  /** The pushing user, whose role in the scope the decisions get (shared spaces). */
  actor?: string | undefined;
}

const ROLE_OF = 'SELECT role FROM ferry_space_members WHERE space = $1 AND user_id = $2';
const ROSTER = `SELECT count(*) FILTER (WHERE role = 'owner') AS owners, count(*) AS members,
    max(role) FILTER (WHERE user_id = $2) AS subject
  FROM ferry_space_members WHERE space = $1`;

/**
 * The space's owner and member counts and the role of the member `entityId` names, inside the
 * push transaction (for `$member` changes only: rare).
 */
async function readRoster(client: pg.PoolClient, space: string, entityId: string): Promise<SpaceRoster> {
  const { rows } = await client.query<{ owners: string; members: string; subject: Role | null }>(ROSTER, [
    space,
    memberUser(space, entityId) ?? '',
  ]);
  const row = rows[0];
  return { owners: Number(row?.owners ?? 0), members: Number(row?.members ?? 0), subjectRole: row?.subject ?? null };
}

async function readRole(client: pg.PoolClient, scope: string, actor: string): Promise<Role | null> {
  const { rows } = await client.query<{ role: Role }>(ROLE_OF, [scope, actor]);
  return rows[0]?.role ?? null;
}

/** Writes a membership effect inside the push transaction (rare: one statement or two). */
async function applyEffect(client: pg.PoolClient, effect: MembershipEffect, now: number): Promise<void> {
  if (effect.kind === 'space') {
    if (effect.createdBy === undefined) {
      await client.query('UPDATE ferry_spaces SET name = $2 WHERE id = $1', [effect.space, effect.name]);
      return;
    }
    await client.query('INSERT INTO ferry_spaces (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)', [
      effect.space,
      effect.name,
      effect.createdBy,
      now,
    ]);
    await applyEffect(client, { kind: 'member', space: effect.space, user: effect.createdBy, role: 'owner' }, now);
  } else if (effect.role === null) {
    await client.query('DELETE FROM ferry_space_members WHERE space = $1 AND user_id = $2', [
      effect.space,
      effect.user,
    ]);
  } else {
    await client.query(
      `INSERT INTO ferry_space_members (space, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (space, user_id) DO UPDATE SET role = excluded.role`,
      [effect.space, effect.user, effect.role],
    );
  }
}

/** SQLSTATE of "unsupported Unicode escape sequence" (U+0000 in jsonb). */
const UNTRANSLATABLE_CHARACTER = '22P05';

const entityKey = (entityType: string, entityId: string) => JSON.stringify([entityType, entityId]);

/** The recordset columns of the bulk writes below; values travel as one jsonb parameter. */
const RECORD_SET = `jsonb_to_recordset($2::jsonb) AS r(entity_type text, entity_id text, data jsonb, deleted boolean,
  version integer, vector jsonb, hlc text, field_hlcs jsonb, seq bigint, client_id text, change_id text)`;

/** Reads every touched record and every already-logged change id of a push in one round trip. */
const READ_PUSH_STATE = `SELECT
  (SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) FROM (
     SELECT ${RECORD_COLUMNS} FROM ferry_records
     WHERE scope = $1 AND (entity_type, entity_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))) r) AS records,
  (SELECT coalesce(jsonb_agg(change_id), '[]'::jsonb) FROM ferry_change_log
     WHERE scope = $1 AND change_id = ANY($4::text[])) AS logged`;

/**
 * Writes a push in one round trip: records (one row per entity, the push's last state), log
 * entries, the counter, and the NOTIFY. Data-modifying CTEs run whether or not they are read.
 */
const WRITE_PUSH = `WITH upserted AS (
    INSERT INTO ferry_records (scope, ${RECORD_COLUMNS}, written_at)
    SELECT $1, ${RECORD_COLUMNS}, $3 FROM ${RECORD_SET}
    ON CONFLICT (scope, entity_type, entity_id) DO UPDATE SET
      data = excluded.data, deleted = excluded.deleted, version = excluded.version, vector = excluded.vector,
      hlc = excluded.hlc, field_hlcs = excluded.field_hlcs, seq = excluded.seq, client_id = excluded.client_id,
      change_id = excluded.change_id, written_at = excluded.written_at
    RETURNING 1),
  logged AS (
    INSERT INTO ferry_change_log (scope, change_id, seq, client_id, entity_type, entity_id, change, applied_at)
    SELECT $1, l.change_id, l.seq, l.client_id, l.entity_type, l.entity_id, l.change, $3
    FROM jsonb_to_recordset($4::jsonb)
      AS l(change_id text, seq bigint, client_id text, entity_type text, entity_id text, change jsonb)
    RETURNING 1),
  counted AS (UPDATE ferry_scopes SET seq = $5 WHERE scope = $1 RETURNING 1)
  SELECT CASE WHEN $7::text IS NULL THEN NULL ELSE pg_notify($6, $7::text) END AS notified`;

/**
 * Runs one push as one transaction in a constant number of round trips, whatever its size:
 * lock the scope's counter row, read every touched record and logged id at once, decide in
 * memory (later changes of the push see earlier ones), then write records, log, counter and
 * NOTIFY in one statement: BEGIN, lock, read, write, COMMIT. A decision that throws rolls everything back.
 */
export async function applyChangesPostgres(pool: pg.Pool, push: PostgresPush): Promise<ApplyOutcome> {
  const { scope, changes, decide, now, actor } = push;
  const client = await pool.connect();
  let failed: unknown;
  try {
    await client.query('BEGIN');
    // The row lock taken here is held to COMMIT: the next push to this scope waits for it.
    const locked = await client.query<{ seq: string }>(
      `INSERT INTO ferry_scopes (scope, seq) VALUES ($1, 0)
       ON CONFLICT (scope) DO UPDATE SET seq = ferry_scopes.seq RETURNING seq`,
      [scope],
    );
    let seq = Number(locked.rows[0]?.seq ?? 0);
    // Read after the lock: the previous push to this scope has committed, and this sees it.
    const state = await client.query<{ records: RecordRow[]; logged: string[] }>(READ_PUSH_STATE, [
      scope,
      changes.map((change) => change.entityType),
      changes.map((change) => change.entityId),
      changes.map((change) => change.id),
    ]);
    const current = new Map<string, ServerRecord>();
    for (const row of state.rows[0]?.records ?? []) {
      current.set(entityKey(row.entity_type, row.entity_id), toRecord(row));
    }
    const applied = new Set(state.rows[0]?.logged ?? []);
    // After the lock: a membership change in this space commits before or after this push, never during.
    let actorRole = actor === undefined ? undefined : await readRole(client, scope, actor);

    const results: ChangeResult[] = [];
    const written = new Map<string, ServerRecord>();
    const log: Array<Record<string, unknown>> = [];
    for (const change of changes) {
      const key = entityKey(change.entityType, change.entityId);
      const decision = decide({
        change,
        current: current.get(key) ?? null,
        alreadyApplied: applied.has(change.id),
        ...(actor === undefined ? {} : { actorRole }),
        ...(actor !== undefined && change.entityType === MEMBER_TYPE
          ? { roster: await readRoster(client, scope, change.entityId) }
          : {}),
      });
      if (decision.kind === 'skip') {
        results.push(decision.result);
        continue;
      }
      if (decision.effect) {
        await applyEffect(client, decision.effect, now);
        if (actor !== undefined) actorRole = await readRole(client, scope, actor);
      }
      seq += 1;
      const record: ServerRecord = { ...decision.record, seq };
      current.set(key, record);
      // Re-inserting moves the key last, so the bulk upsert writes each entity once, in seq order.
      written.delete(key);
      written.set(key, record);
      applied.add(decision.change.id);
      log.push({
        change_id: decision.change.id,
        seq,
        client_id: decision.change.clientId,
        entity_type: record.entityType,
        entity_id: record.entityId,
        change: decision.change,
      });
      results.push({ changeId: change.id, status: 'applied', record });
    }

    if (log.length > 0) {
      const rows = [...written.values()].map((record) => ({
        entity_type: record.entityType,
        entity_id: record.entityId,
        data: record.data,
        deleted: record.deleted,
        version: record.version,
        vector: record.vector,
        hlc: record.hlc,
        field_hlcs: record.fieldHlcs,
        seq: record.seq,
        client_id: record.clientId,
        change_id: record.changeId,
      }));
      // The NOTIFY is queued by the transaction: delivered to every listener only if COMMIT succeeds.
      await client.query(WRITE_PUSH, [
        scope,
        JSON.stringify(rows),
        now,
        JSON.stringify(log),
        seq,
        COMMIT_CHANNEL,
        commitPayload(scope, seq),
      ]);
    }
    await client.query('COMMIT');
    return { results, cursor: seq };
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => undefined);
    // jsonb cannot hold U+0000; without this the push would fail as a retryable 500 forever.
    if ((error as { code?: string }).code === UNTRANSLATABLE_CHARACTER) {
      failed = undefined;
      throw HttpError.of(
        'VALIDATION_ERROR',
        'A string in this push contains the NUL character (\\u0000), which the server cannot store; remove it',
        error,
      );
    }
    throw error;
  } finally {
    // A connection that failed mid-transaction may be in any state: destroy it, do not reuse it.
    client.release(failed instanceof Error && !isDecisionError(failed) ? failed : undefined);
  }
}

/** A decision that throws leaves the connection healthy; only database errors taint it. */
function isDecisionError(error: Error): boolean {
  return !('code' in error) && !('severity' in error);
}
