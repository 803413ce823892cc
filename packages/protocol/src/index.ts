export { compactResult, expandPushResponse, isRecordOfChange, recordFromChange } from './compactAck.js';
export {
  COMPACT_RECORDS,
  type CompactServerRecord,
  compactRecord,
  expandCompactRecords,
  fieldHlcsTextOmittable,
  omitsFieldHlcs,
  RECORDS_HEADER,
} from './compactRecords.js';
export { canonicalJson, compareCanonical, jsonEqual } from './conflicts/canonicalJson.js';
export { fieldStamps, type MergedState, mergeStates } from './conflicts/mergeStates.js';
export { pickState, resolveStates, type StateResolution } from './conflicts/resolveStates.js';
export {
  AUTOMATIC_STRATEGIES,
  type AutomaticStrategy,
  isAutomaticStrategy,
  isDeletedState,
  isPatchState,
  isResolutionStrategy,
  RESOLUTION_STRATEGIES,
  type ResolutionStrategy,
  type VersionedState,
} from './conflicts/versionedState.js';
export {
  compareClocks,
  compareTiedStates,
  fieldClock,
  laterHlc,
  latestClock,
  recordClock,
  type WriteClock,
} from './conflicts/writeClock.js';
export {
  DEVICE_HEADER,
  DEVICE_HEADER_MAX_LENGTH,
  type DeviceReport,
  formatDeviceReport,
  parseDeviceReport,
} from './deviceReport.js';
export { ERROR_META, type ErrorBody, ErrorCode, errorBody } from './errors.js';
export { fastChange } from './fastChange.js';
export { fastPullResponse, fastPushAckResponse, fastPushResponse, isServerRecord } from './fastParse.js';
export {
  ClockDriftError,
  compareHlc,
  DEFAULT_MAX_DRIFT_MS,
  decodeHlc,
  encodeHlc,
  type Hlc,
  type HlcOptions,
  HybridLogicalClock,
  isHlc,
} from './hlc.js';
export { FIELD_NAME_PATTERN, isFieldName, type JsonValue, jsonProblem, type RecordData } from './json.js';
export {
  LIVE_CLOSE,
  LIVE_MAX_PAYLOAD,
  type LiveHello,
  type LiveServerMessage,
  parseLiveHello,
  parseLiveServerMessage,
} from './live.js';
export { redactReason } from './redact.js';
export { defaultSchemaDefinition } from './schema/defaultSchema.js';
export {
  defineSchema,
  type EntityName,
  type InferRecord,
  type RecordOf,
  type TypedSchema,
} from './schema/defineSchema.js';
export {
  type EntityDefinition,
  type EntitySchema,
  FIELD_TYPES,
  type FieldDefinition,
  type FieldSchema,
  type FieldType,
  isScalarType,
  parseSchema,
  type ScalarFieldType,
  type Schema,
  SchemaError,
  type SchemaJson,
} from './schema/parseSchema.js';
export { type RecordShape, validateRecord } from './schema/validateRecord.js';
export {
  CHANGE_ID_PATTERN,
  type Change,
  ChangeDataSchema,
  ChangeEntityTypeSchema,
  ChangeIdSchema,
  type ChangeResult,
  ChangeResultSchema,
  ChangeSchema,
  CLIENT_ID_PATTERN,
  ClientIdSchema,
  type CompactResult,
  CompactResultSchema,
  describeIssues,
  ENTITY_TYPE_PATTERN,
  EntityIdSchema,
  EntityTypeSchema,
  ErrorBodySchema,
  FieldHlcsSchema,
  HlcSchema,
  isWellFormedText,
  type MultiPullRequest,
  MultiPullRequestSchema,
  type MultiPullResponse,
  MultiPullResponseSchema,
  type Operation,
  OperationSchema,
  PullQuerySchema,
  type PullResponse,
  PullResponseSchema,
  type PushAckResponse,
  PushAckResponseSchema,
  type PushAckResult,
  PushAckResultSchema,
  type PushRequest,
  PushRequestSchema,
  type PushResponse,
  PushResponseSchema,
  type PushStatus,
  RecordDataSchema,
  ResultErrorSchema,
  type ServerConfig,
  ServerConfigSchema,
  type ServerRecord,
  ServerRecordSchema,
  type SpacePage,
  SpacePageSchema,
  VersionVectorSchema,
} from './schemas.js';
export {
  canWrite,
  isReservedType,
  isRole,
  isSpaceId,
  MAX_CHECKPOINT_SPACES,
  MAX_SPACE_NAME_LENGTH,
  MEMBER_TYPE,
  type Membership,
  MembershipSchema,
  memberEntityId,
  memberUser,
  RESERVED_TYPES,
  type ReservedType,
  ROLES,
  type Role,
  RoleSchema,
  SPACE_ID_PATTERN,
  SPACE_TYPE,
  SpaceIdSchema,
} from './spaces.js';
export { LIMITS, PROTOCOL_HEADER, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './version.js';
export {
  compareVersions,
  dominates,
  incrementVector,
  mergeVersionVectors,
  type VersionComparison,
  type VersionVector,
} from './versionVector.js';
