import {
  isRole,
  isSpaceId,
  MEMBER_TYPE,
  type Membership,
  memberEntityId,
  memberUser,
  type Role,
  SPACE_TYPE,
} from '@ferry/protocol';
import { SyncError } from '../errors.js';
import { CREATED_PREFIX, MEMBERSHIP_KEY } from '../sync/pullSpaces.js';
import type { ChangeTracker } from '../tracking/ChangeTracker.js';

/** A space as {@link Spaces.list} gives it. */
export interface SpaceInfo extends Membership {
  /** True while this device's creation of it is not confirmed by a sync yet. */
  pending: boolean;
}

/** A member as {@link Spaces.members} gives it (this device's view, queued changes included). */
export interface SpaceMember {
  userId: string;
  role: Role;
}

/**
 * `sync.spaces`: shared spaces and their members. Every operation is a change in the outbox
 * (a `$space` or `$member` change in that space), so it works offline, goes out in order with
 * the other writes, and is accepted or refused by the server like any write; a refused one
 * lands in the dead letters with `FORBIDDEN`. The list of the user's spaces is the server's,
 * as the last pull saw it, plus the spaces this device created and has not pushed yet.
 *
 * @example
 * const { id } = await sync.spaces.create({ name: 'Family' });
 * await sync.spaces.addMember(id, 'bob', 'editor');
 * await sync.collection('todos').insert({ title: 'Milk' }, { space: id });
 */
export class Spaces {
  readonly #tracker: ChangeTracker;
  readonly #userId: () => Promise<string>;
  readonly #random: () => number;

  /** `userId` names the signed-in user (the token's `sub`): the creator's owner entry and `leave` need it. */
  constructor(tracker: ChangeTracker, userId: () => Promise<string>, random: () => number = Math.random) {
    this.#tracker = tracker;
    this.#userId = userId;
    this.#random = random;
  }

  /** Creates a space owned by the user; works offline. Resolves to its id (`sp_…`). */
  async create(options: { name: string }): Promise<{ id: string }> {
    const name = options?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
      throw new SyncError('VALIDATION_ERROR', 'A space needs a name of 1-200 characters: spaces.create({ name })');
    }
    const me = await this.#userId();
    const id = `sp_${this.#randomId()}`;
    await this.#tracker.store.write(async (tx) => {
      await this.#tracker.trackChangeIn(tx, SPACE_TYPE, id, 'CREATE', { name }, { space: id });
      await tx.setKv(`${CREATED_PREFIX}${id}`, '1');
      // The creator's own member entry, so every member's device lists the owner too.
      await this.#tracker.trackChangeIn(tx, MEMBER_TYPE, memberEntityId(id, me), 'CREATE', { role: 'owner' }, { space: id });
    });
    return { id };
  }

  /** The user's spaces: the server's list as of the last sync, plus spaces created here and not yet pushed. */
  async list(): Promise<SpaceInfo[]> {
    return this.#tracker.store.read(async (tx) => {
      const saved = await tx.getKv(MEMBERSHIP_KEY);
      const listed = saved === null ? [] : (JSON.parse(saved) as Membership[]);
      const spaces: SpaceInfo[] = listed.map((space) => ({ ...space, pending: false }));
      const known = new Set(spaces.map((space) => space.id));
      // Spaces created here that no list has confirmed yet: their creation is queued, or
      // pushed and not yet seen by a pull.
      const { rows } = await tx.execute(
        `SELECT entity_id, json_extract(data, '$.name') AS name FROM ferry_entities
         WHERE entity_type = ? AND deleted = 0
           AND EXISTS (SELECT 1 FROM ferry_kv WHERE key = ? || entity_id) ORDER BY entity_id`,
        [SPACE_TYPE, CREATED_PREFIX],
      );
      for (const row of rows) {
        const id = String(row.entity_id);
        if (!known.has(id)) spaces.push({ id, name: String(row.name ?? ''), role: 'owner', pending: true });
      }
      return spaces;
    });
  }

  /** The members of a space as this device knows them (its last sync, plus its own queued changes). */
  async members(spaceId: string): Promise<SpaceMember[]> {
    checkSpace(spaceId);
    const { rows } = await this.#tracker.store.read((tx) =>
      tx.execute(
        `SELECT entity_id, json_extract(data, '$.role') AS role FROM ferry_entities
         WHERE entity_type = ? AND space = ? AND deleted = 0 ORDER BY entity_id`,
        [MEMBER_TYPE, spaceId],
      ),
    );
    return rows.flatMap((row) => {
      const userId = memberUser(spaceId, String(row.entity_id));
      return userId !== null && isRole(row.role) ? [{ userId, role: row.role }] : [];
    });
  }

  /** Gives `userId` a role in the space (owners only; the server refuses anyone else's). */
  async addMember(spaceId: string, userId: string, role: Role): Promise<void> {
    checkSpace(spaceId);
    checkUser(userId);
    if (!isRole(role)) throw new SyncError('VALIDATION_ERROR', 'role must be "owner", "editor" or "viewer"');
    await this.#tracker.store.write(async (tx) => {
      const entityId = memberEntityId(spaceId, userId);
      const existing = await tx.getEntity(MEMBER_TYPE, entityId);
      const live = existing !== null && !existing.deleted;
      await this.#tracker.trackChangeIn(tx, MEMBER_TYPE, entityId, live ? 'UPDATE' : 'CREATE', { role }, { space: spaceId });
    });
  }

  /** Removes `userId` from the space (owners only, or the member themselves: see {@link leave}). */
  async removeMember(spaceId: string, userId: string): Promise<void> {
    checkSpace(spaceId);
    checkUser(userId);
    await this.#tracker.trackChange(MEMBER_TYPE, memberEntityId(spaceId, userId), 'DELETE', null, { space: spaceId });
  }

  /** Leaves the space; once synced, its records leave this device. */
  async leave(spaceId: string): Promise<void> {
    await this.removeMember(spaceId, await this.#userId());
  }

  /** Calls `listener` with the list now and after every change of it (a sync, a local create). */
  subscribe(listener: (spaces: SpaceInfo[]) => void): () => void {
    let last = '';
    let active = true;
    const emit = () => {
      void this.list().then(
        (spaces) => {
          const key = JSON.stringify(spaces);
          if (!active || key === last) return;
          last = key;
          listener(spaces);
        },
        () => undefined,
      );
    };
    const unsubscribe = this.#tracker.store.subscribe((event) => {
      if (event.entityTypes.has(SPACE_TYPE) || event.entityTypes.has(MEMBER_TYPE)) emit();
    });
    emit();
    return () => {
      active = false;
      unsubscribe();
    };
  }

  #randomId(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let id = '';
    for (let i = 0; i < 20; i++) id += alphabet[Math.floor(this.#random() * alphabet.length)];
    return id;
  }
}

function checkSpace(spaceId: string): void {
  if (!isSpaceId(spaceId)) throw new SyncError('VALIDATION_ERROR', `"${String(spaceId).slice(0, 80)}" is not a space id (sp_…)`);
}

function checkUser(userId: string): void {
  if (typeof userId !== 'string' || userId === '' || userId.length > 256 || isSpaceId(userId)) {
    throw new SyncError('VALIDATION_ERROR', 'userId must be the user id (the token "sub") of the person to add');
  }
}

/**
 * The signed-in user's id, read from the `sub` of a JWT (not verified: the server does that;
 * the device only needs its own name). Throws when the token is not a JWT with a `sub`.
 */
export function subjectOfToken(token: string): string {
  const payload = token.split('.')[1];
  const decode = (globalThis as { atob?: (text: string) => string }).atob;
  if (payload === undefined || decode === undefined) {
    throw new SyncError('VALIDATION_ERROR', 'Cannot read the user id from the token: pass userId to createSyncSystem');
  }
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const json = JSON.parse(decode(base64 + '='.repeat((4 - (base64.length % 4)) % 4))) as { sub?: unknown };
  if (typeof json.sub !== 'string') {
    throw new SyncError('VALIDATION_ERROR', 'The token has no "sub": pass userId to createSyncSystem');
  }
  return json.sub;
}
