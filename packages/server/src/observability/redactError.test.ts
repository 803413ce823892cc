import { describe, expect, it } from 'vitest';
import { redactError, redactReason, scrubMessage } from './redactError.js';

describe('redactError', () => {
  it('keeps the words of a message and drops every quoted value, escaped quotes included', () => {
    expect(scrubMessage('invalid input syntax for type integer: "se\\"cret"')).toBe(
      'invalid input syntax for type integer: "…"',
    );
    expect(scrubMessage(`Unexpected token 's', "secret" is not valid JSON`)).toBe(
      `Unexpected token '…', "…" is not valid JSON`,
    );
    // An unterminated quote hides the rest of the line; later lines are dropped.
    expect(scrubMessage('bad value "secret and more\nsecond line secret')).toBe('bad value "…"');
  });

  it("drops PostgreSQL's detail, hint, where and query, and keeps code, table and frames", () => {
    const error = Object.assign(new Error('duplicate key value violates unique constraint "ferry_records_pkey"'), {
      name: 'error',
      code: '23505',
      detail: 'Key (entity_id)=(secret) already exists.',
      hint: 'secret',
      where: 'JSON data, line 1: {"title":"secret"',
      internalQuery: 'SELECT secret',
      table: 'ferry_records',
      constraint: 'ferry_records_pkey',
      cause: new Error('cause "secret"'),
    });
    const redacted = redactError(error);
    expect(JSON.stringify(redacted)).not.toContain('secret');
    expect(redacted).toMatchObject({
      type: 'error',
      code: '23505',
      table: 'ferry_records',
      constraint: 'ferry_records_pkey',
      message: 'duplicate key value violates unique constraint "…"',
      cause: { type: 'Error', message: 'cause "…"' },
    });
    expect(redacted.stack).toMatch(/^\s+at /);
  });

  it('keeps a rejection reason but not the value the schema check quotes', () => {
    expect(redactReason('Change c1 is invalid: timestamp: Invalid type: Expected number but received "secret"')).toBe(
      'Change c1 is invalid: timestamp: Invalid type: Expected number but received …',
    );
    expect(redactReason('Entity type "todo" is not declared')).toBe('Entity type "todo" is not declared');
  });
});
