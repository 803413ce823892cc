import { storageErrorKind } from './storageErrorKind.js';

export { redactReason } from '@ferry/protocol';

/** An error as a log line may carry it: type, codes and where it was thrown, never the data involved. */
export interface RedactedError {
  type: string;
  message: string;
  code?: string;
  /** `ferry_storage_errors_total`'s kind, when the database failed. */
  kind?: string;
  /** PostgreSQL's table, constraint and routine: schema names, never values. */
  table?: string;
  constraint?: string;
  routine?: string;
  /** Stack frames only: the stack's first line repeats the message. */
  stack?: string;
  cause?: RedactedError;
}

const MAX_MESSAGE = 300;

/**
 * Replaces every quoted stretch of `message` with `"…"` and caps its length. Databases and
 * parsers quote the offending value (PostgreSQL's `invalid input syntax for type integer: "…"`,
 * V8's `Unexpected token 'x', "{"title":…"... is not valid JSON`); the words around it are what
 * a person on call needs.
 */
export function scrubMessage(message: string): string {
  const scrubbed = message
    .replace(/"(?:[^"\\\n]|\\.)*"?/g, '"…"')
    .replace(/'(?:[^'\\\n]|\\.)*'?/g, "'…'")
    .replace(/`[^`]*`?/g, '`…`');
  const firstLine = scrubbed.split('\n', 1)[0] ?? '';
  return firstLine.length > MAX_MESSAGE ? `${firstLine.slice(0, MAX_MESSAGE)}…` : firstLine;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 200 ? value : undefined;
}

/**
 * What of a caught error may be logged. PostgreSQL's `detail`, `hint`, `where` and
 * `internalQuery` quote row values (`Key (entity_id)=(…) already exists`, `JSON data, line 1:
 * {"title":…`) and are dropped; messages are scrubbed of quoted values ({@link scrubMessage});
 * the stack keeps its frames only. One level of `cause` is kept, redacted the same way.
 */
export function redactError(error: unknown, depth = 0): RedactedError {
  if (typeof error !== 'object' || error === null) {
    return { type: typeof error, message: scrubMessage(String(error)) };
  }
  const fields = error as Record<string, unknown>;
  const type = stringField(fields.name) ?? (error as object).constructor?.name ?? 'Object';
  const redacted: RedactedError = {
    type,
    message: scrubMessage(typeof fields.message === 'string' ? fields.message : ''),
  };
  const code = fields.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code)) redacted.code = code;
  const kind = storageErrorKind(error);
  if (kind !== null) redacted.kind = kind;
  for (const key of ['table', 'constraint', 'routine'] as const) {
    const value = stringField(fields[key]);
    if (value !== undefined) redacted[key] = value;
  }
  if (typeof fields.stack === 'string') {
    const frames = fields.stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length > 0) redacted.stack = frames.slice(0, 20).join('\n');
  }
  if (depth === 0 && fields.cause !== undefined) redacted.cause = redactError(fields.cause, depth + 1);
  return redacted;
}
