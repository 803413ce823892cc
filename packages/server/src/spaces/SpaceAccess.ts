import { isRole, isSpaceId, type Role } from '@ferry/protocol';
import { HttpError } from '../errors.js';
import type { ServerStorage, SpaceState } from '../storage/ServerStorage.js';

/**
 * Where shared-space membership comes from, chosen per deployment:
 * - `ferry` (default): owners manage members through `$space` / `$member` changes; the storage
 *   keeps the membership tables.
 * - `token`: the app's backend decides; each token carries `{ [spaceId]: role }` in `claim`,
 *   and Ferry-managed membership changes are refused with `FORBIDDEN`.
 */
export interface MembershipOptions {
  source?: 'ferry' | 'token';
  /** The token claim that maps space ids to roles (token source). Default `spaces`. */
  claim?: string;
}

/** The defaults of {@link MembershipOptions}, filled in. */
export function membershipOptions(options: MembershipOptions = {}): Required<MembershipOptions> {
  const source = options.source ?? 'ferry';
  if (source !== 'ferry' && source !== 'token') {
    throw new Error(`membership source must be "ferry" or "token", got ${JSON.stringify(source)}`);
  }
  const claim = options.claim ?? 'spaces';
  if (!/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(claim)) {
    throw new Error(`membership claim ${JSON.stringify(claim)} is not a usable claim name`);
  }
  return { source, claim };
}

/** One request's view of the shared spaces: who asks, and their role in each space. */
export interface SpaceAccess {
  readonly user: string;
  readonly source: 'ferry' | 'token';
  /** The token's roles (token source only): fixed for the request. */
  readonly tokenRoles: ReadonlyMap<string, Role> | null;
  /** The user's role in a shared space, or null. */
  roleOf(space: string): Promise<Role | null>;
  /** Every shared space of the user with its current seq, in one storage query. */
  memberships(): Promise<SpaceState[]>;
}

/**
 * The roles a token grants, from its membership claim. A claim that is present but malformed
 * refuses the token (401): a typo in the issuer must not silently drop someone's access.
 */
export function tokenRoles(claims: Readonly<Record<string, unknown>>, claim: string): Map<string, Role> {
  const value = claims[claim];
  const roles = new Map<string, Role>();
  if (value === undefined) return roles;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw HttpError.of('UNAUTHORIZED', `Token claim "${claim}" must be an object of space id → role`);
  }
  for (const [space, role] of Object.entries(value)) {
    if (!isSpaceId(space) || !isRole(role)) {
      throw HttpError.of(
        'UNAUTHORIZED',
        `Token claim "${claim}" maps "${space.slice(0, 80)}" to ${JSON.stringify(role)?.slice(0, 40)}; use sp_… ids and roles owner, editor or viewer`,
      );
    }
    roles.set(space, role);
  }
  return roles;
}

/** Builds the {@link SpaceAccess} of one authenticated user. */
export function createSpaceAccess(
  storage: ServerStorage,
  membership: Required<MembershipOptions>,
  user: string,
  claims: Readonly<Record<string, unknown>>,
): SpaceAccess {
  if (membership.source === 'ferry') {
    return {
      user,
      source: 'ferry',
      tokenRoles: null,
      roleOf: (space) => storage.roleOf(space, user),
      memberships: () => storage.memberships(user),
    };
  }
  const roles = tokenRoles(claims, membership.claim);
  return {
    user,
    source: 'token',
    tokenRoles: roles,
    roleOf: async (space) => roles.get(space) ?? null,
    async memberships() {
      const seqs = await storage.currentSeqs([...roles.keys()]);
      // Token membership has no names: the space id stands in (the app knows its own names).
      return [...roles].map(([id, role]) => ({ id, name: id, role, seq: seqs.get(id) ?? 0 }));
    },
  };
}
