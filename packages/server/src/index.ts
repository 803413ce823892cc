export { type AuthOptions, createTokenVerifier } from './auth/createTokenVerifier.js';
export {
  DEV_TOKEN_AUDIENCE,
  DEV_TOKEN_ISSUER,
  type DevTokenOptions,
  signDevToken,
} from './auth/signDevToken.js';
export { runCli } from './cli/runCli.js';
export { type RunningServe, runServe, type ServeDeps, UsageError } from './cli/runServe.js';
export { type CreateServerOptions, createServer, type FerryServer } from './createServer.js';
export { defaultSchema } from './defaultSchema.js';
export { HttpError, type HttpErrorOptions, SchemaError } from './errors.js';
export {
  type ConflictArbiter,
  type ConflictInput,
  type DecideContext,
  decideChange,
  reportConflict,
} from './push/decideChange.js';
export { loadSchema } from './schema/loadSchema.js';
export {
  type EntitySchema,
  FIELD_TYPES,
  type FieldType,
  parseSchema,
  type SchemaJson,
  type ServerSchema,
} from './schema/parseSchema.js';
export type {
  ApplyOutcome,
  ChangeDecider,
  DecideInput,
  Decision,
  LoggedChange,
  Page,
  ServerStorage,
  UnsequencedRecord,
} from './storage/ServerStorage.js';
export { SqliteStorage } from './storage/SqliteStorage.js';
