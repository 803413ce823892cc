import { PullQuerySchema } from '@ferry/protocol';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fastPullQuery } from './fastPullQuery.js';

/** Whatever the fast path accepts, the schema accepts with the same output (keys in the same order). */
function expectAgreement(query: unknown): 'fast' | 'schema' | 'refused' {
  const slow = v.safeParse(PullQuerySchema, query);
  const fast = fastPullQuery(query);
  if (fast === undefined) return slow.success ? 'schema' : 'refused';
  expect(slow.success).toBe(true);
  expect(fast).toStrictEqual(slow.success ? slow.output : undefined);
  expect(Object.keys(fast)).toEqual(Object.keys(slow.output as object));
  return 'fast';
}

/** A query object as fastify's parser builds it: no Object prototype. */
function parsedQuery(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null), entries);
}

describe('fastPullQuery', () => {
  it('agrees with PullQuerySchema on the queries devices send and on hostile ones', () => {
    const paths = [
      {},
      { cursor: '0' },
      { cursor: '42', limit: '100' },
      { limit: '1000', cursor: '7' },
      { cursor: '9007199254740991' },
      { cursor: '9007199254740992' },
      { cursor: '99999999999999999' },
      { cursor: '-1' },
      { cursor: '1.5' },
      { cursor: '' },
      { cursor: ['1', '2'] },
      { limit: '0' },
      { limit: '123456' },
      { limit: ' 5' },
      { cursor: '1', types: 'todos' },
      { cursor: '1', snapshot: '1' },
      { cursor: '1', space: 'sp_abcdef' },
      { constructor: '1' },
    ].map((query) => [expectAgreement(query), expectAgreement(parsedQuery(query))]);
    expect(paths.slice(0, 5).flat()).toEqual(Array(10).fill('fast'));
    for (const value of [null, undefined, 'cursor=1', [], 7]) expectAgreement(value);
  });

  it('agrees with PullQuerySchema on random queries', () => {
    const value = fc.oneof(
      fc.stringMatching(/^\d{0,18}$/),
      fc.string(),
      fc.array(fc.string(), { maxLength: 2 }),
      fc.anything(),
    );
    const query = fc.dictionary(fc.constantFrom('cursor', 'limit', 'types', 'snapshot', 'space', 'x'), value, {
      maxKeys: 3,
    });
    fc.assert(
      fc.property(query, (input) => {
        expectAgreement(input);
        expectAgreement(parsedQuery(input));
      }),
      { numRuns: 3000 },
    );
  });
});
