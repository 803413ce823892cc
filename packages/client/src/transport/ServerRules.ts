import { LIMITS, type ServerConfig } from '@ferry/protocol';
import { SyncError } from '../errors.js';
import type { KeyValueStore } from '../store/types.js';

/** Key under which the last learned rules are kept, so a restarted app checks writes offline too. */
const RULES_KEY = 'ferry:serverRules';

/** What the server accepts, as far as this device knows. */
export interface ServerRulesSnapshot {
  /** Declared entity types; null until the server has said. */
  entityTypes: readonly string[] | null;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Most changes in one push. */
  maxChangesPerPush: number;
  /** Most records a pull may ask for in one page. */
  maxPullLimit: number;
}

/**
 * What the server accepts: its declared entity types and its request limits, learned from
 * `GET /v1/config` and kept in the store. Until the server has answered, the protocol's
 * {@link LIMITS} apply (with the changes per push and the pull page every server version
 * accepts, `LIMITS.legacyMaxChangesPerPush` and `LIMITS.legacyMaxPullLimit`) and every entity
 * type is allowed (the server decides).
 *
 * Local writes are checked against these rules so that a change the server could never take
 * fails at once with a clear error, instead of syncing into a dead letter later; the push
 * sizes its requests by them, and the pull its pages.
 */
export class ServerRules {
  #types: ReadonlySet<string> | null = null;
  #maxBodyBytes: number = LIMITS.maxBodyBytes;
  // An older server takes at most 500 changes a push; a newer one says it takes more in /v1/config.
  #maxChangesPerPush: number = LIMITS.legacyMaxChangesPerPush;
  // An older server refuses a pull `limit` over 1,000 (a 400); a newer one says it takes more.
  #maxPullLimit: number = LIMITS.legacyMaxPullLimit;
  #restored = false;

  /** The rules now. */
  get snapshot(): ServerRulesSnapshot {
    return {
      entityTypes: this.#types ? [...this.#types] : null,
      maxBodyBytes: this.#maxBodyBytes,
      maxChangesPerPush: this.#maxChangesPerPush,
      maxPullLimit: this.#maxPullLimit,
    };
  }

  get maxBodyBytes(): number {
    return this.#maxBodyBytes;
  }

  get maxChangesPerPush(): number {
    return this.#maxChangesPerPush;
  }

  /** Most records one pull page may ask for: what the server said, else what every server takes. */
  get maxPullLimit(): number {
    return this.#maxPullLimit;
  }

  /**
   * The `limit` of the next pull page for a device configured with `pageSize`: that many, but
   * never more than the server takes (an older server answers a larger `limit` with a 400).
   * Read at each request, so the pages after the first use what `/v1/config` said.
   */
  pullLimit(pageSize: number): number {
    return Math.min(pageSize, this.#maxPullLimit);
  }

  /** Adopts a server's configuration; saves it when `kv` is given. */
  async learn(config: Pick<ServerConfig, 'entityTypes' | 'limits'>, kv?: KeyValueStore): Promise<void> {
    this.#adopt({
      entityTypes: config.entityTypes,
      maxBodyBytes: config.limits.maxBodyBytes,
      maxChangesPerPush: config.limits.maxChangesPerPush,
      maxPullLimit: config.limits.maxPullLimit,
    });
    this.#restored = true;
    await kv?.setItem(RULES_KEY, JSON.stringify(this.snapshot));
  }

  /** Loads the rules saved by an earlier run, once (later calls do nothing). */
  async restore(getItem: (key: string) => Promise<string | null>): Promise<void> {
    if (this.#restored) return;
    this.#restored = true;
    const saved = await getItem(RULES_KEY);
    if (!saved) return;
    try {
      this.#adopt(JSON.parse(saved) as ServerRulesSnapshot);
    } catch {
      // A damaged entry only means the rules are learned again on the next connect.
    }
  }

  /**
   * Throws a `VALIDATION_ERROR` when the server declares its entity types and `entityType` is
   * not among them.
   */
  assertKnownType(entityType: string): void {
    if (!this.#types || this.#types.has(entityType)) return;
    const known = [...this.#types].map((type) => `"${type}"`).join(', ') || 'none';
    throw new SyncError(
      'VALIDATION_ERROR',
      `The server declares no entity type "${entityType}" (it knows ${known}), so this write could never sync. ` +
        `Check the collection name, or declare "${entityType}" in the server's schema.`,
      { serverCode: 'UNKNOWN_ENTITY_TYPE', retryable: false },
    );
  }

  #adopt(rules: Partial<ServerRulesSnapshot>): void {
    if (Array.isArray(rules.entityTypes)) this.#types = new Set(rules.entityTypes.map(String));
    if (isPositiveInt(rules.maxBodyBytes)) this.#maxBodyBytes = rules.maxBodyBytes;
    if (isPositiveInt(rules.maxChangesPerPush)) this.#maxChangesPerPush = rules.maxChangesPerPush;
    if (isPositiveInt(rules.maxPullLimit)) this.#maxPullLimit = rules.maxPullLimit;
  }
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
