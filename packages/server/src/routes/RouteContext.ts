import type { ApplyDeps } from '../push/applyPush.js';
import type { ConflictStrategies } from '../push/strategyArbiter.js';
import type { RateLimiter } from '../rateLimit/createRateLimiter.js';
import type { ServerSchema } from '../schema/parseSchema.js';
import type { MembershipOptions } from '../spaces/SpaceAccess.js';
import type { ServerStorage } from '../storage/ServerStorage.js';

/** What every route handler may use; built once by `createServer`. */
export interface RouteContext {
  schema: ServerSchema;
  storage: ServerStorage;
  /** The server's conflict strategy per entity type, served by `GET /v1/config`. */
  conflictStrategies: ConflictStrategies;
  apply: ApplyDeps;
  now: () => number;
  /** Resolves an `Authorization` header to a scope and the token's claims, or throws a 401. */
  verify: (header: string | undefined) => Promise<{ scope: string; claims: Readonly<Record<string, unknown>> }>;
  /** Where shared-space membership comes from. */
  membership: Required<MembershipOptions>;
  /** Signs dev tokens; present only when dev mode is on. */
  signToken: ((userId: string) => Promise<string>) | null;
  /** Per-user request limits, charged after authentication; absent or null when off. */
  rateLimit?: RateLimiter | null;
}
