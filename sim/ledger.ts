/**
 * What the network saw the server say about pushed changes. The invariants compare it with
 * the server's storage: an acknowledged change must be there, no change may be applied twice,
 * and a change refused as FORBIDDEN to a running app must reach that device's dead letters.
 */
export class Ledger {
  /** `${scope}\u0000${changeId}` → times the server answered `applied` (any copy, delivered or not). */
  readonly applied = new Map<string, number>();
  /** Changes whose `applied`/`duplicate` answer reached a running app; `scope` is the user or the space. */
  readonly acked = new Map<string, { scope: string; changeId: string }>();
  /**
   * Changes whose latest answer to reach a running app was FORBIDDEN, by `device/changeId`, with
   * the app generation that heard it.
   */
  readonly forbidden = new Map<string, { device: string; scope: string; changeId: string; generation: number }>();
  /** FORBIDDEN answers that reached a running app, counted even when a later retry was decided otherwise. */
  refusalsHeard = 0;
  /**
   * Hears every `applied` answer the server produced, with the sequence number the change got
   * in its scope (the membership model orders a space's changes by it).
   */
  onApplied: (user: string, change: PushedChange, seq: number | undefined) => void = () => undefined;

  /**
   * Records a push answer the server produced for `device` of `user`; `delivered` when it reached
   * the app of `generation`.
   */
  observe(
    device: string,
    user: string,
    request: { url: string; body?: string | undefined },
    status: number,
    body: string,
    delivered: boolean,
    generation = 0,
  ): void {
    if (!request.url.startsWith('/v1/push') || status !== 200) return;
    const parsed = JSON.parse(body) as {
      results?: Array<{
        changeId: string;
        status: string;
        error?: { code: string };
        seq?: number;
        record?: { seq?: number };
      }>;
    };
    const sent = new Map<string, PushedChange>();
    for (const change of (JSON.parse(request.body ?? '{}') as { changes?: PushedChange[] }).changes ?? []) {
      sent.set(change.id, change);
    }
    for (const result of parsed.results ?? []) {
      const scope = sent.get(result.changeId)?.space ?? user;
      const key = `${scope}\u0000${result.changeId}`;
      if (!delivered && result.status === 'applied') {
        this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
        const change = sent.get(result.changeId);
        // A full answer carries the record; a compact one its seq.
        if (change) this.onApplied(user, change, result.record?.seq ?? result.seq);
      }
      if (!delivered) continue;
      if (result.status === 'applied' || result.status === 'duplicate') {
        this.acked.set(key, { scope, changeId: result.changeId });
      }
      // The latest answer a running app heard decides: a refusal the app died before recording
      // is retried, and once a role was granted meanwhile the server may apply it or decide it
      // as a conflict (a member wrote the same record), which the conflict invariants judge.
      if (result.status === 'rejected' && result.error?.code === 'FORBIDDEN') {
        this.forbidden.set(`${device}/${result.changeId}`, { device, scope, changeId: result.changeId, generation });
        this.refusalsHeard += 1;
      } else {
        this.forbidden.delete(`${device}/${result.changeId}`);
      }
    }
  }

  /**
   * The app of `generation` on `device` was killed, and its store, opened again, still queues
   * `queued`: refusals that app heard of those changes died with it before the store recorded
   * them. To the device they are answers that never came (as a lost response is), so each such
   * change is an ordinary pending change again: pushed again (the server judges it afresh, a
   * refusal is never logged), or decided on the device by a conflict with a newer write of the
   * record before it goes out. What becomes of it is judged as of any write in a space, by the
   * lost-write check (d), not as a refusal the device must show.
   */
  refusalsLostWith(device: string, generation: number, queued: ReadonlySet<string>): void {
    for (const [key, refusal] of this.forbidden) {
      if (refusal.device === device && refusal.generation === generation && queued.has(refusal.changeId)) {
        this.forbidden.delete(key);
      }
    }
  }

  /** Change ids the server applied more than once. */
  appliedTwice(): string[] {
    return [...this.applied].filter(([, count]) => count > 1).map(([key]) => key.replace('\u0000', '/'));
  }
}

/** A change as a push carries it (the fields the simulator reads). */
export interface PushedChange {
  id: string;
  entityType: string;
  entityId: string;
  operation: string;
  data: Record<string, unknown> | null;
  clientId: string;
  space?: string;
}

/** A write an app saw committed on an entity several devices write. */
interface SharedWrite {
  device: string;
  user: string;
  /** Where the entity lives: the user (a private contended entity) or a shared space id. */
  scope: string;
  entityType: string;
  entityId: string;
  /** The write's title (titles are unique per write); null for a delete. */
  title: string | null;
  step: number;
}

/** A change a device holds in its dead letters, as the lost-write check reads it. */
export interface DeadWrite {
  device: string;
  entityType: string;
  entityId: string;
  /** The change's title, or null for a delete. */
  title: string | null;
}

/**
 * Unacknowledged writes must not vanish either. A write on a shared entity leaves its
 * device's outbox in one of these ways: it reaches the server (its title is in the server's log
 * for that entity, in the change itself or in a resolution carrying it), or the server refused
 * it and it sits in the device's dead letters (a viewer's write, a revoked member's), or a
 * conflict decision on that device after the write replaced it, or the device deleted the
 * entity afterwards (a delete meeting the server's delete settles every pending change of the
 * entity). Anything else lost a user's write silently.
 */
export class SharedWrites {
  #step = 0;
  readonly #writes: SharedWrite[] = [];
  /** `device/entityType/entityId` → step of the latest conflict decision the device made on it. */
  readonly #decisions = new Map<string, number>();

  /** A point in the run's order of writes and decisions. */
  tick(): number {
    return ++this.#step;
  }

  /** The app saw a write committed that it started at `step`. */
  wrote(write: SharedWrite): void {
    this.#writes.push(write);
  }

  /** A device decided a conflict on an entity (automatically or from its inbox). */
  decided(device: string, entityType: string, entityId: string): void {
    this.#decisions.set(`${device}/${entityType}/${entityId}`, this.tick());
  }

  /**
   * The first write in `scope` that neither reached the server, nor was dead-lettered, nor
   * lost a conflict, if any. `log` is the scope's server log; `dead` every device's dead letters.
   */
  lost(
    scope: string,
    log: ReadonlyArray<{ entityType: string; entityId: string; operation: string; data: unknown }>,
    dead: readonly DeadWrite[] = [],
  ) {
    const titles = new Set<string>();
    const deleted = new Set<string>();
    for (const change of log) {
      const entity = `${change.entityType}\u0000${change.entityId}`;
      const title = (change.data as { title?: unknown } | null)?.title;
      if (typeof title === 'string') titles.add(`${entity}\u0000${title}`);
      if (change.operation === 'DELETE') deleted.add(entity);
    }
    const refused = new Set(
      dead.map((write) => `${write.device}\u0000${write.entityType}\u0000${write.entityId}\u0000${write.title}`),
    );
    const deletedLater = (write: SharedWrite) =>
      this.#writes.some(
        (other) =>
          other.title === null &&
          other.step > write.step &&
          other.device === write.device &&
          other.entityType === write.entityType &&
          other.entityId === write.entityId,
      );
    return this.#writes.find((write) => {
      if (write.scope !== scope) return false;
      const entity = `${write.entityType}\u0000${write.entityId}`;
      const reached = write.title === null ? deleted.has(entity) : titles.has(`${entity}\u0000${write.title}`);
      return (
        !reached &&
        !refused.has(`${write.device}\u0000${entity}\u0000${write.title}`) &&
        (this.#decisions.get(`${write.device}/${write.entityType}/${write.entityId}`) ?? 0) < write.step &&
        !deletedLater(write)
      );
    });
  }
}
