/**
 * What the network saw the server say about pushed changes. The invariants compare it with
 * the server's storage: an acknowledged change must be there, and no change may be applied twice.
 */
export class Ledger {
  /** `${user}\u0000${changeId}` → times the server answered `applied` (any copy, delivered or not). */
  readonly applied = new Map<string, number>();
  /** Changes whose `applied`/`duplicate` answer reached a running app. */
  readonly acked = new Map<string, { user: string; changeId: string }>();

  /** Records a push answer the server produced. */
  observe(user: string, url: string, status: number, body: string, delivered: boolean): void {
    if (!url.startsWith('/v1/push') || status !== 200) return;
    const parsed = JSON.parse(body) as { results?: Array<{ changeId: string; status: string }> };
    for (const result of parsed.results ?? []) {
      const key = `${user}\u0000${result.changeId}`;
      if (!delivered && result.status === 'applied') this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
      if (delivered && (result.status === 'applied' || result.status === 'duplicate')) {
        this.acked.set(key, { user, changeId: result.changeId });
      }
    }
  }

  /** Change ids the server applied more than once. */
  appliedTwice(): string[] {
    return [...this.applied].filter(([, count]) => count > 1).map(([key]) => key.replace('\u0000', '/'));
  }
}

/** A write an app saw committed on a shared entity (several devices write it). */
interface SharedWrite {
  device: string;
  user: string;
  entityId: string;
  /** The write's title (titles are unique per write); null for a delete. */
  title: string | null;
  step: number;
}

/**
 * Unacknowledged writes must not vanish either. A write on a shared entity leaves its
 * device's outbox in one of two ways: it reaches the server (its title is in the server's log
 * for that entity, in the change itself or in a resolution carrying it), or a conflict decision
 * on that device after the write replaced it, or the device deleted the entity afterwards (a
 * delete meeting the server's delete settles every pending change of the entity). Anything
 * else lost a user's write silently.
 */
export class SharedWrites {
  #step = 0;
  readonly #writes: SharedWrite[] = [];
  /** `device/entityId` → step of the latest conflict decision the device made on it. */
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
  decided(device: string, entityId: string): void {
    this.#decisions.set(`${device}/${entityId}`, this.tick());
  }

  /** The first write of `user` that neither reached the server nor lost a conflict, if any. */
  lost(user: string, log: ReadonlyArray<{ entityType: string; entityId: string; operation: string; data: unknown }>) {
    const titles = new Set<string>();
    const deleted = new Set<string>();
    for (const change of log) {
      if (change.entityType !== 'todos') continue;
      const title = (change.data as { title?: unknown } | null)?.title;
      if (typeof title === 'string') titles.add(`${change.entityId}\u0000${title}`);
      if (change.operation === 'DELETE') deleted.add(change.entityId);
    }
    const deletedLater = (write: SharedWrite) =>
      this.#writes.some(
        (other) =>
          other.title === null &&
          other.step > write.step &&
          other.device === write.device &&
          other.entityId === write.entityId,
      );
    return this.#writes.find((write) => {
      if (write.user !== user) return false;
      const reached =
        write.title === null ? deleted.has(write.entityId) : titles.has(`${write.entityId}\u0000${write.title}`);
      return (
        !reached && (this.#decisions.get(`${write.device}/${write.entityId}`) ?? 0) < write.step && !deletedLater(write)
      );
    });
  }
}
