import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { defaultSchema } from '../defaultSchema.js';
import { makeChange } from '../testing/testServer.js';
import { observeAnswer, observed } from './requestOutcome.js';

describe('observeAnswer', () => {
  // The commit seq of an applied change dates a lagging device's first missing record.
  it('keeps the commit seq of applied changes, from a full record or a compact acknowledgement', () => {
    const changes = [makeChange({ entityId: 'a' }), makeChange({ entityId: 'b' })];
    const request = { body: { clientId: 'device-a', changes } } as unknown as FastifyRequest;
    const results = [
      { changeId: changes[0]!.id, status: 'applied', record: { seq: 7 } },
      { changeId: changes[1]!.id, status: 'applied', version: 1, seq: 8 },
    ];
    observeAnswer(request, '/v1/push', defaultSchema, { results, cursor: 8, serverTime: 1 });
    expect(observed(request).fates.map((fate) => fate.seq)).toEqual([7, 8]);
    expect(observed(request).outcome.applied).toBe(2);
  });
});
