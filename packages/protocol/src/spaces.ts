/**
 * Sharing through spaces: the wire shapes of shared spaces, roles, membership changes and the
 * multi-space pull. See docs/sharing.md for the model.
 *
 * A space is the unit of sharing, of authorization and of the gap-free sequence. Every user
 * has a private space (the token's `sub`; records without a `space` live there, so protocol
 * v1 clients keep working). Shared spaces have ids of the form `sp_…`, which never collide
 * with a user id: the server refuses tokens whose `sub` starts with `sp_`.
 */
import * as v from 'valibot';

/** Shared space ids: `sp_` then 6–64 letters, digits, `_` or `-`. */
export const SPACE_ID_PATTERN = /^sp_[A-Za-z0-9_-]{6,64}$/;

/** True for a shared space id (the private space has no id on the wire). */
export function isSpaceId(value: unknown): value is string {
  return typeof value === 'string' && SPACE_ID_PATTERN.test(value);
}

export const SpaceIdSchema = v.pipe(
  v.string(),
  v.regex(SPACE_ID_PATTERN, 'space must be a shared space id: "sp_" then 6-64 letters, digits, "_" or "-"'),
);

/** Roles, strongest first: `owner` manages members, reads and writes; `editor` reads and writes; `viewer` reads. */
export const ROLES = ['owner', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = v.picklist(ROLES, 'role must be "owner", "editor" or "viewer"');

/** True for one of {@link ROLES}. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` may write records in a space. */
export function canWrite(role: Role | null | undefined): boolean {
  return role === 'owner' || role === 'editor';
}

/**
 * Reserved entity types: membership operations travel as ordinary changes, in the outbox,
 * in order with the other writes of the same space, and come back to members through pull.
 *
 * - `$space` (entity id = the space id, data `{ name }`): CREATE makes a space whose creator
 *   is its owner; UPDATE renames it (owners only).
 * - `$member` (entity id = `<space id>:<user id>`, see {@link memberEntityId}; data `{ role }`):
 *   CREATE/UPDATE grants or changes a role (owners only); DELETE removes the member (owners, or
 *   the member leaving). The space id in the entity id keeps a user's member entries of
 *   different spaces distinct on a device, where records are keyed by type and id.
 */
export const SPACE_TYPE = '$space';
export const MEMBER_TYPE = '$member';
export const RESERVED_TYPES = [SPACE_TYPE, MEMBER_TYPE] as const;
export type ReservedType = (typeof RESERVED_TYPES)[number];

/** True for `$space` or `$member`. */
export function isReservedType(value: string): value is ReservedType {
  return value === SPACE_TYPE || value === MEMBER_TYPE;
}

/** The entity id of `user`'s `$member` record in `space`. */
export function memberEntityId(space: string, user: string): string {
  return `${space}:${user}`;
}

/** The user id of a `$member` entity id of `space`, or null when it is not one. */
export function memberUser(space: string, entityId: string): string | null {
  const prefix = `${space}:`;
  if (!entityId.startsWith(prefix)) return null;
  const user = entityId.slice(prefix.length);
  return user === '' || SPACE_ID_PATTERN.test(user) ? null : user;
}

/** Longest space name. */
export const MAX_SPACE_NAME_LENGTH = 200;

/** One space of the user as the server lists it in every multi-space pull. */
export const MembershipSchema = v.object({
  id: SpaceIdSchema,
  name: v.string(),
  role: RoleSchema,
});
export type Membership = v.InferOutput<typeof MembershipSchema>;

/** Most spaces a multi-space pull names in its checkpoint. */
export const MAX_CHECKPOINT_SPACES = 10_000;
