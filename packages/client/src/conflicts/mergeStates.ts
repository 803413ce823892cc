/** The field-level merge lives in `@ferry/protocol`, shared with the server's arbitration. */
export { fieldStamps, type MergedState, mergeStates } from '@ferry/protocol';
