/**
 * Whether an error that failed a request came from the database, and which kind, for
 * `ferry_storage_errors_total`; null for anything else. better-sqlite3 throws `SqliteError`
 * with `SQLITE_*` codes; pg throws errors with a five-character SQLSTATE or a socket code.
 */
export function storageErrorKind(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (name === 'SqliteError') return typeof code === 'string' && /^SQLITE_[A-Z_]{1,40}$/.test(code) ? code : 'SQLITE';
  if (typeof code !== 'string') return null;
  if (/^SQLITE_[A-Z_]{1,40}$/.test(code)) return code;
  // SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention, 40 rollback, XX internal.
  if (/^(08|53|57|40|XX)[0-9A-Z]{3}$/.test(code)) return `PG_${code}`;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return code;
  return null;
}
