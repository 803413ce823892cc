/** The protocol version this build speaks. Sent on every request in {@link PROTOCOL_HEADER}. */
export const PROTOCOL_VERSION = 1;

/** Protocol versions a server of this build accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Request header that carries the protocol version (HTTP header names are case-insensitive). */
export const PROTOCOL_HEADER = 'ferry-protocol';

/** Hard limits shared by server validation and client batching. */
export const LIMITS = {
  /** Largest request body the server reads, in bytes. */
  maxBodyBytes: 1024 * 1024,
  /**
   * Most changes in one push (this build's server; 1,000 and, before that, 500 in earlier
   * servers). A client pushes at most {@link LIMITS.legacyMaxChangesPerPush} until the server's
   * `/v1/config` says more, and never more than it says.
   */
  maxChangesPerPush: 2000,
  /** What every server accepts in one push, whatever its version: the client's default until it knows better. */
  legacyMaxChangesPerPush: 500,
  /**
   * Largest page a pull may ask for (this build's server; 1,000 in earlier servers), on
   * `GET /v1/pull`, `POST /v1/pull` and snapshot pages alike. A client asks for at most
   * {@link LIMITS.legacyMaxPullLimit} until the server's `/v1/config` says more, and never more
   * than it says.
   */
  maxPullLimit: 2000,
  /** What every server accepts as a pull's `limit`, whatever its version: the client's bound until it knows better. */
  legacyMaxPullLimit: 1000,
  /** Page size when a pull names none. */
  defaultPullLimit: 500,
  /** Deepest nesting of a record's JSON data. */
  maxJsonDepth: 32,
} as const;
