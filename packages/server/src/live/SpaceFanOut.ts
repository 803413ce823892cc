import type { ServerStorage } from '../storage/ServerStorage.js';
import type { LiveHub } from './LiveHub.js';

/**
 * Live pokes of shared spaces under Ferry-managed membership. Membership is read at poke time
 * (one query per commit in a shared space), so a revoked member's sockets stop hearing of the
 * space with the first commit after the revocation. The members last poked are remembered per
 * space, and a commit pokes them too once more: the commit that removes a member reaches that
 * member's devices, which pull, see the space gone from their membership list, and purge it.
 */
export class SpaceFanOut {
  readonly #hub: LiveHub;
  readonly #storage: ServerStorage;
  /** Members as of the last poke, per space with a connected member (bounded by connections). */
  readonly #known = new Map<string, Set<string>>();

  constructor(hub: LiveHub, storage: ServerStorage) {
    this.#hub = hub;
    this.#storage = storage;
  }

  /** A user connected: remember them in each of their spaces, so their revocation reaches them. */
  async join(user: string): Promise<void> {
    for (const space of await this.#storage.memberships(user)) {
      const members = this.#known.get(space.id) ?? new Set<string>();
      members.add(user);
      this.#known.set(space.id, members);
    }
  }

  /** A commit in `space` at `seq`: pokes its members now, and those it had at the last poke. */
  commit(space: string, seq: number): void {
    this.#storage.members(space).then(
      (current) => {
        const members = new Set(current);
        const targets = new Set([...(this.#known.get(space) ?? []), ...members]);
        this.#hub.pokeUsers(targets, space, seq);
        if (current.some((user) => this.#hub.isConnected(user))) this.#known.set(space, members);
        else this.#known.delete(space);
      },
      // A lost poke costs latency, never data: devices also pull on reconnect and on an interval.
      () => undefined,
    );
  }
}
