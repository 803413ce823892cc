import type { ChangeFate } from './requestOutcome.js';

/** One rejected change, as the inspector lists it: ids, code and message, never contents. */
export interface RejectionEntry {
  at: number;
  user: string;
  space: string | null;
  entityType: string;
  changeId: string | null;
  code: string;
  message: string;
}

interface ScopeEntry {
  lastPushAt: number;
  /** Recent commits (seq, time), oldest first: how old the first record a lagging device lacks is. */
  commits: Array<{ seq: number; at: number }>;
}

const MAX_COMMITS = 1_000;
const MAX_SCOPES = 10_000;
const MAX_REJECTIONS = 100;

/**
 * What this process saw pushed, per scope (a user's private space is the scope equal to their
 * id; a shared space's scope is its id): when, and at which sequence. It lets the inspector say
 * not only how many records a device lacks but since when.
 */
export class ScopeHistory {
  readonly #scopes = new Map<string, ScopeEntry>();
  readonly #rejections: RejectionEntry[] = [];

  /** Records one pushed change of `user`. */
  noteFate(user: string, fate: ChangeFate, at: number): void {
    const scope = fate.space ?? user;
    if (fate.status === 'rejected') {
      this.#rejections.push({
        at,
        user,
        space: fate.space ?? null,
        entityType: fate.entityType,
        changeId: fate.changeId ?? null,
        code: fate.code ?? 'UNKNOWN',
        message: fate.message ?? '',
      });
      if (this.#rejections.length > MAX_REJECTIONS) this.#rejections.shift();
      return;
    }
    let entry = this.#scopes.get(scope);
    if (!entry) {
      entry = { lastPushAt: at, commits: [] };
      this.#scopes.set(scope, entry);
      if (this.#scopes.size > MAX_SCOPES) {
        const oldest = this.#scopes.keys().next().value;
        if (oldest !== undefined) this.#scopes.delete(oldest);
      }
    }
    entry.lastPushAt = at;
    // Re-inserted: map order is push recency, so the stalest scope is the one evicted.
    this.#scopes.delete(scope);
    this.#scopes.set(scope, entry);
    if (fate.seq !== undefined) {
      entry.commits.push({ seq: fate.seq, at });
      if (entry.commits.length > MAX_COMMITS) entry.commits.shift();
    }
  }

  /** Last push into `scope` seen by this process, or null. */
  lastPushAt(scope: string): number | null {
    return this.#scopes.get(scope)?.lastPushAt ?? null;
  }

  /** When the first commit after `cursor` in `scope` happened (as far as this process saw), or null. */
  firstCommitAfter(scope: string, cursor: number): number | null {
    return this.#scopes.get(scope)?.commits.find((commit) => commit.seq > cursor)?.at ?? null;
  }

  /** Scopes this process saw pushes into, least recently pushed first. */
  scopes(): string[] {
    return [...this.#scopes.keys()];
  }

  /** Recent rejections, newest first. */
  rejections(): RejectionEntry[] {
    return [...this.#rejections].reverse();
  }
}
