/**
 * A conservative check that an SQL read is one read-only statement, and the tables it names.
 * The store also runs every SQL read with `PRAGMA query_only` on, so SQLite itself refuses a
 * write that slipped past this scan; the scan's job is to refuse early and clearly (and to
 * refuse a second statement, which some drivers would run).
 */
import { SyncError } from '../errors.js';

/** The first word of every statement we accept (after an optional `EXPLAIN [QUERY PLAN]`). */
const READ_STARTS = new Set(['SELECT', 'WITH', 'VALUES']);
/** Words that only appear in statements that write or change the connection. */
const WRITE_WORDS = new Set([
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'ATTACH',
  'DETACH',
  'PRAGMA',
  'VACUUM',
  'REINDEX',
  'ANALYZE',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'LOAD_EXTENSION',
]);

/** What {@link checkReadOnlySql} learned about a statement. */
export interface SqlReadInfo {
  /** Every identifier (bare or quoted), lower-cased: the tables and views it may read. */
  identifiers: Set<string>;
}

function reject(reason: string): SyncError {
  return new SyncError('VALIDATION_ERROR', `SQL reads take one read-only SELECT statement: ${reason}`, {
    retryable: false,
  });
}

/**
 * Scans `sql` (skipping comments and string literals) and throws a `VALIDATION_ERROR` unless it
 * is a single statement starting with SELECT, WITH or VALUES (optionally behind `EXPLAIN` or
 * `EXPLAIN QUERY PLAN`) that holds no writing keyword.
 * `REPLACE` is refused only as `REPLACE INTO`, since `replace()` is a string function.
 */
export function checkReadOnlySql(sql: string): SqlReadInfo {
  if (typeof sql !== 'string' || sql.length === 0) throw reject('pass the statement as a non-empty string');
  const identifiers = new Set<string>();
  const words: string[] = [];
  let ended = false;
  /** Whether the statement's first word (after any EXPLAIN) was seen. */
  let started = false;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw reject('a comment is not closed');
      i = end + 2;
    } else if (ended) {
      throw reject('only one statement is allowed; remove what follows the ";"');
    } else if (c === ';') {
      ended = true;
      i++;
    } else if (c === "'") {
      // A string literal; '' inside is an escaped quote.
      let j = i + 1;
      for (;;) {
        const end = sql.indexOf("'", j);
        if (end === -1) throw reject('a string literal is not closed');
        if (sql[end + 1] === "'") j = end + 2;
        else {
          i = end + 1;
          break;
        }
      }
    } else if (c === '"' || c === '`' || c === '[') {
      if (!started) throw reject('it starts with a quoted name, not SELECT, WITH or VALUES');
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      let name = '';
      for (;;) {
        const end = sql.indexOf(close, j);
        if (end === -1) throw reject('a quoted name is not closed');
        name += sql.slice(j, end);
        if (close !== ']' && sql[end + 1] === close) {
          name += close;
          j = end + 2;
        } else {
          i = end + 1;
          break;
        }
      }
      identifiers.add(name.toLowerCase());
      words.push('');
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      const word = sql.slice(i, j);
      const upper = word.toUpperCase();
      if (!started) {
        // `EXPLAIN [QUERY PLAN]` may lead: it shows the plan of the read that follows, never runs it.
        const lead = words.join(' ');
        const explainWord =
          (lead === '' && upper === 'EXPLAIN') ||
          (lead === 'EXPLAIN' && upper === 'QUERY') ||
          (lead === 'EXPLAIN QUERY' && upper === 'PLAN');
        if (!explainWord) {
          if (!READ_STARTS.has(upper))
            throw reject(`it starts with ${word.slice(0, 32)}; writes go through collections`);
          started = true;
        }
      }
      if (WRITE_WORDS.has(upper)) throw reject(`${upper} is not allowed in a read`);
      if (upper === 'INTO' && words[words.length - 1] === 'REPLACE')
        throw reject('REPLACE INTO is not allowed in a read');
      identifiers.add(word.toLowerCase());
      words.push(upper);
      i = j;
    } else {
      i++;
    }
  }
  if (!started) throw reject(words.length === 0 ? 'the statement is empty' : 'EXPLAIN needs the read it explains');
  return { identifiers };
}
