/** Canonical JSON lives in `@ferry/protocol`, shared with the server's arbitration. */
export { canonicalJson } from '@ferry/protocol';
