export {
  type AuthOptions,
  checkAuthOptions,
  createTokenChecker,
  createTokenVerifier,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  MIN_SECRET_BYTES,
  type VerifiedToken,
} from './auth/createTokenVerifier.js';
export {
  DEV_TOKEN_AUDIENCE,
  DEV_TOKEN_ISSUER,
  type DevTokenOptions,
  signDevToken,
} from './auth/signDevToken.js';
export { runCli } from './cli/runCli.js';
export { type RunningServe, runServe, type ServeDeps, StartupError, UsageError } from './cli/runServe.js';
export { type CreateServerOptions, createServer, type FerryServer } from './createServer.js';
export { defaultSchema } from './defaultSchema.js';
export { HttpError, type HttpErrorOptions, SchemaError } from './errors.js';
export { LiveHub } from './live/LiveHub.js';
export { type LiveDeps, type LiveOptions, registerLive } from './live/registerLive.js';
export {
  type ConflictArbiter,
  type ConflictInput,
  type DecideContext,
  decideChange,
  reportConflict,
} from './push/decideChange.js';
export {
  type ConflictStrategies,
  createStrategyArbiter,
  parseConflictStrategies,
} from './push/strategyArbiter.js';
export {
  createRateLimiter,
  type RateKind,
  type RateLimiter,
  type RateLimitOptions,
} from './rateLimit/createRateLimiter.js';
export { PostgresRateCounter, type PostgresRateCounterOptions } from './rateLimit/PostgresRateCounter.js';
export { MemoryRateCounter, type RateCounter } from './rateLimit/RateCounter.js';
export { loadSchema } from './schema/loadSchema.js';
export {
  type EntitySchema,
  FIELD_TYPES,
  type FieldType,
  parseSchema,
  type SchemaJson,
  type ServerSchema,
} from './schema/parseSchema.js';
export { type MembershipOptions, membershipOptions } from './spaces/SpaceAccess.js';
export { PostgresStorage, type PostgresStorageOptions } from './storage/PostgresStorage.js';
export type {
  ApplyOptions,
  ApplyOutcome,
  ChangeDecider,
  CompactOptions,
  CompactResult,
  DecideInput,
  Decision,
  LoggedChange,
  MembershipEffect,
  Page,
  PullJsonPage,
  PullOptions,
  PullPage,
  ServerStorage,
  SpaceState,
  UnsequencedRecord,
} from './storage/ServerStorage.js';
export { CursorExpiredError } from './storage/ServerStorage.js';
export { SqliteStorage } from './storage/SqliteStorage.js';
export {
  type CompactionSchedule,
  type RetentionOptions,
  scheduleCompaction,
} from './storage/scheduleCompaction.js';
