/**
 * @ferry/client/protocol: the wire protocol (`@ferry/protocol`) for code that depends on the
 * client only: schemas, error codes, limits, the hybrid logical clock, version vectors.
 */
export * from '@ferry/protocol';
