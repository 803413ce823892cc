import { ERROR_META, type ErrorCode, LIMITS, PROTOCOL_HEADER } from '@ferry/protocol';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallOptions,
  makeChange,
  pushBody,
  SECRET,
  startTestServer,
  T0,
  type TestServer,
} from '../testing/testServer.js';

interface Case {
  name: string;
  method: string;
  url: string;
  options?: CallOptions | (() => Promise<CallOptions>);
  status: number;
  code: ErrorCode;
  message?: RegExp;
}

const validPush = () => pushBody([makeChange({ entityId: 'new-1' })]);
const oversized = JSON.stringify({ title: 'x'.repeat(LIMITS.maxBodyBytes) });
const manyChanges = () =>
  pushBody(Array.from({ length: LIMITS.maxChangesPerPush + 1 }, (_, i) => makeChange({ entityId: `m${i}` })));

/** The bad inputs every route must answer with a documented error. */
function authAndProtocolCases(method: string, url: string, body?: unknown): Case[] {
  const withBody = body === undefined ? {} : { body };
  return [
    { name: 'no token', method, url, options: { ...withBody, as: null }, status: 401, code: 'UNAUTHORIZED' },
    {
      name: 'garbage token',
      method,
      url,
      options: { ...withBody, headers: { authorization: 'Bearer not.a.jwt' } },
      status: 401,
      code: 'UNAUTHORIZED',
    },
    {
      name: 'basic auth instead of bearer',
      method,
      url,
      options: { ...withBody, headers: { authorization: 'Basic YWxpY2U6cHc=' } },
      status: 401,
      code: 'UNAUTHORIZED',
    },
    ...protocolCases(method, url, body),
  ];
}

function protocolCases(method: string, url: string, body?: unknown): Case[] {
  const withBody = body === undefined ? {} : { body };
  return [
    {
      name: 'no protocol header',
      method,
      url,
      options: { ...withBody, headers: { [PROTOCOL_HEADER]: undefined } },
      status: 426,
      code: 'UNSUPPORTED_PROTOCOL',
      message: /speaks protocol version 1/,
    },
    {
      name: 'unsupported protocol version',
      method,
      url,
      options: { ...withBody, headers: { [PROTOCOL_HEADER]: '99' } },
      status: 426,
      code: 'UNSUPPORTED_PROTOCOL',
      message: /"99" is not supported; this server speaks 1/,
    },
  ];
}

function bodyCases(method: string, url: string, wrongTypes: unknown): Case[] {
  return [
    {
      name: 'malformed JSON',
      method,
      url,
      options: { rawBody: '{"clientId": ' },
      status: 400,
      code: 'BAD_REQUEST',
      message: /not valid JSON/,
    },
    {
      name: 'wrong content type',
      method,
      url,
      options: { rawBody: 'hello', headers: { 'content-type': 'text/plain' } },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'form content type',
      method,
      url,
      options: { rawBody: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    { name: 'oversized body', method, url, options: { rawBody: oversized }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
    {
      name: '__proto__ key',
      method,
      url,
      options: { rawBody: '{"title":"x","__proto__":{"admin":true}}' },
      status: 400,
      code: 'BAD_REQUEST',
      message: /forbidden "__proto__"/,
    },
    {
      name: 'nested constructor.prototype',
      method,
      url,
      options: { rawBody: '{"title":"x","meta":{"constructor":{"prototype":{"admin":true}}}}' },
      status: 400,
      code: 'BAD_REQUEST',
      message: /forbidden "__proto__"/,
    },
    { name: 'JSON array body', method, url, options: { body: [1, 2] }, status: 400, code: 'BAD_REQUEST' },
    { name: 'wrong types', method, url, options: { body: wrongTypes }, status: 400, code: 'VALIDATION_ERROR' },
  ];
}

function pushLikeCases(url: string): Case[] {
  return [
    ...authAndProtocolCases('POST', url, { clientId: 'device-a', changes: [] }),
    // A wrong type in the envelope; one inside a change rejects that change only (pushRejections.test.ts).
    ...bodyCases('POST', url, { clientId: 7, changes: [makeChange({ entityId: 'x' })] }),
    { name: 'no body', method: 'POST', url, status: 400, code: 'BAD_REQUEST' },
    {
      name: 'empty changes',
      method: 'POST',
      url,
      options: { body: pushBody([]) },
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /at least one change/,
    },
    {
      name: 'unknown field in the request',
      method: 'POST',
      url,
      options: () => Promise.resolve({ body: { ...validPush(), admin: true } }),
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'a change that is not an object',
      method: 'POST',
      url,
      options: () => Promise.resolve({ body: pushBody([makeChange({ entityId: 'ok' }), 'x' as never]) }),
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /changes\.1 must be a change object/,
    },
    {
      name: 'a change without a usable id (no result could name it)',
      method: 'POST',
      url,
      options: () =>
        Promise.resolve({ body: pushBody([makeChange({ entityId: 'ok' }), makeChange({ entityId: 'x', id: '' })]) }),
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /changes\.1\.id/,
    },
    {
      name: 'too many changes',
      method: 'POST',
      url,
      options: () => Promise.resolve({ body: manyChanges() }),
      status: 413,
      code: 'TOO_MANY_CHANGES',
    },
    {
      name: 'a change from another client id',
      method: 'POST',
      url,
      options: () => Promise.resolve({ body: pushBody([makeChange({ entityId: 'x', clientId: 'device-b' })]) }),
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /but the push is from "device-a"/,
    },
    {
      name: 'the reserved server client id',
      method: 'POST',
      url,
      options: () => Promise.resolve({ body: pushBody([makeChange({ entityId: 'x', clientId: 'server' })], 'server') }),
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /reserved/,
    },
  ];
}

function queryCases(url: string, bad: Record<string, [string, ErrorCode]>): Case[] {
  return [
    ...authAndProtocolCases('GET', url),
    ...Object.entries(bad).map(([name, [query, code]]) => ({
      name,
      method: 'GET',
      url: `${url}?${query}`,
      status: ERROR_META[code].status,
      code,
    })),
  ];
}

const CASES: Record<string, Case[]> = {
  'GET /v1/config': protocolCases('GET', '/v1/config'),
  'POST /v1/push': pushLikeCases('/v1/push'),
  'POST /v1/batch': pushLikeCases('/v1/batch'),
  'GET /v1/pull': queryCases('/v1/pull', {
    'limit 0': ['limit=0', 'VALIDATION_ERROR'],
    'limit too big': [`limit=${LIMITS.maxPullLimit + 1}`, 'VALIDATION_ERROR'],
    'negative cursor': ['cursor=-1', 'VALIDATION_ERROR'],
    'cursor not a number': ['cursor=abc', 'VALIDATION_ERROR'],
    'cursor twice': ['cursor=1&cursor=2', 'VALIDATION_ERROR'],
    'cursor past 2^53-1': ['cursor=9999999999999999', 'VALIDATION_ERROR'],
    'unknown parameter': ['since=1', 'VALIDATION_ERROR'],
    'unknown type': ['types=todos,users', 'UNKNOWN_ENTITY_TYPE'],
    'prototype key as type': ['types=constructor', 'UNKNOWN_ENTITY_TYPE'],
    'empty type': ['types=todos,', 'VALIDATION_ERROR'],
  }),
  'GET /v1/changes': queryCases('/v1/changes', {
    'limit 0': ['limit=0', 'VALIDATION_ERROR'],
    'since not a number': ['since=yesterday', 'VALIDATION_ERROR'],
    'unknown parameter': ['cursor=1', 'VALIDATION_ERROR'],
  }),
  'GET /v1/entities/:type': [
    ...queryCases('/v1/entities/todos', {
      'limit 0': ['limit=0', 'VALIDATION_ERROR'],
      'unknown parameter': ['cursor=1', 'VALIDATION_ERROR'],
    }),
    { name: 'unknown type', method: 'GET', url: '/v1/entities/users', status: 400, code: 'UNKNOWN_ENTITY_TYPE' },
    { name: '__proto__ type', method: 'GET', url: '/v1/entities/__proto__', status: 400, code: 'UNKNOWN_ENTITY_TYPE' },
  ],
  'POST /v1/entities/:type': [
    ...authAndProtocolCases('POST', '/v1/entities/todos', { title: 'x' }),
    ...bodyCases('POST', '/v1/entities/todos', { title: 7 }),
    {
      name: 'unknown type',
      method: 'POST',
      url: '/v1/entities/users',
      options: { body: { title: 'x' } },
      status: 400,
      code: 'UNKNOWN_ENTITY_TYPE',
    },
    {
      name: 'numeric id',
      method: 'POST',
      url: '/v1/entities/todos',
      options: { body: { id: 5 } },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
    {
      name: 'an id that is already live (409, nothing replaced)',
      method: 'POST',
      url: '/v1/entities/todos',
      options: { body: { id: 'a1', title: 'replaced?' } },
      status: 409,
      code: 'CONFLICT',
      message: /already exists; change it with PUT \/v1\/entities\/todos\/a1/,
    },
    {
      name: 'an id with a lone surrogate',
      method: 'POST',
      url: '/v1/entities/todos',
      options: { rawBody: '{"id":"a\\ud800","title":"x"}' },
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /well-formed Unicode/,
    },
    {
      name: 'a NUL character in a field',
      method: 'POST',
      url: '/v1/entities/todos',
      options: { rawBody: '{"title":"a\\u0000b"}' },
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /NUL character/,
    },
    {
      name: 'bad field name',
      method: 'POST',
      url: '/v1/entities/todos',
      options: { body: { 'a b': 1 } },
      status: 400,
      code: 'VALIDATION_ERROR',
    },
  ],
  'PUT /v1/entities/:type/:id': [
    ...authAndProtocolCases('PUT', '/v1/entities/todos/a1', { title: 'x' }),
    ...bodyCases('PUT', '/v1/entities/todos/a1', { completed: 'yes' }),
    {
      name: 'unknown type',
      method: 'PUT',
      url: '/v1/entities/users/a1',
      options: { body: { title: 'x' } },
      status: 400,
      code: 'UNKNOWN_ENTITY_TYPE',
    },
    {
      name: 'an id in the body that differs from the URL',
      method: 'PUT',
      url: '/v1/entities/todos/a1',
      options: { body: { id: 'a2', title: 'renamed?' } },
      status: 400,
      code: 'VALIDATION_ERROR',
      message: /differs from the URL/,
    },
    {
      name: 'missing entity',
      method: 'PUT',
      url: '/v1/entities/todos/nope',
      options: { body: { title: 'x' } },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: "another user's entity id",
      method: 'PUT',
      url: '/v1/entities/todos/a1',
      options: { as: 'bob', body: { title: 'hijack' } },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'deleted entity',
      method: 'PUT',
      url: '/v1/entities/todos/gone',
      options: { body: { title: 'x' } },
      status: 404,
      code: 'NOT_FOUND',
    },
  ],
  'DELETE /v1/entities/:type/:id': [
    ...authAndProtocolCases('DELETE', '/v1/entities/todos/a1'),
    { name: 'unknown type', method: 'DELETE', url: '/v1/entities/users/a1', status: 400, code: 'UNKNOWN_ENTITY_TYPE' },
    { name: 'missing entity', method: 'DELETE', url: '/v1/entities/todos/nope', status: 404, code: 'NOT_FOUND' },
    {
      name: "another user's entity id",
      method: 'DELETE',
      url: '/v1/entities/todos/a1',
      options: { as: 'bob' },
      status: 404,
      code: 'NOT_FOUND',
    },
    { name: 'already deleted', method: 'DELETE', url: '/v1/entities/todos/gone', status: 404, code: 'NOT_FOUND' },
  ],
  'unknown routes': [
    { name: 'unknown v1 route', method: 'GET', url: '/v1/nope', status: 404, code: 'NOT_FOUND' },
    {
      name: 'unknown root route',
      method: 'POST',
      url: '/admin',
      options: { body: {} },
      status: 404,
      code: 'NOT_FOUND',
    },
    {
      name: 'dev token route when dev is off',
      method: 'POST',
      url: '/v1/dev/token',
      options: { body: { userId: 'mallory' } },
      status: 404,
      code: 'NOT_FOUND',
    },
  ],
};

describe('bad input gets a clear error and changes nothing', () => {
  let t: TestServer;
  let hash: string;

  beforeAll(async () => {
    t = await startTestServer();
    const seed = await t.call('POST', '/v1/push', {
      body: pushBody([
        makeChange({ entityId: 'a1', data: { title: 'alice' } }),
        makeChange({ entityId: 'gone' }),
        makeChange({ entityId: 'gone', operation: 'DELETE', vector: { 'device-a': 2 } }),
      ]),
    });
    expect(seed.json().cursor).toBe(3);
    hash = t.hashDb();
  });

  afterAll(async () => {
    // After every bad request: the data is unchanged and the server still answers.
    expect(t.hashDb()).toBe(hash);
    const health = await t.server.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toEqual({ status: 'ok' });
    await t.close();
  });

  for (const [endpoint, cases] of Object.entries(CASES)) {
    describe(endpoint, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
        const options = typeof c.options === 'function' ? await c.options() : c.options;
        const response = await t.call(c.method, c.url, options);
        expect({ status: response.statusCode, code: response.json().error?.code }).toEqual({
          status: c.status,
          code: c.code,
        });
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        const body = response.json();
        expect(body).toEqual({
          error: { code: c.code, message: expect.any(String), retryable: ERROR_META[c.code].retryable },
        });
        expect(body.error.message.length).toBeGreaterThan(5);
        if (c.message) expect(body.error.message).toMatch(c.message);
        expect(t.hashDb()).toBe(hash);
      });
    });
  }

  describe('tokens', () => {
    const tokenCases: Array<[string, () => Promise<string>, RegExp]> = [
      ['expired', () => t.token('alice', { expiresIn: -60 }), /expired/],
      ['signed with another secret', () => signWith('another-secret-another-secret-xx', {}), /Invalid token/],
      ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice' })}.`, /Invalid token/],
      ['without sub', () => signWith(SECRET, { sub: undefined }), /sub/],
      ['HS512 instead of HS256', () => signWith(SECRET, {}, 'HS512'), /Invalid token/],
    ];
    it.each(tokenCases)('rejects a token %s with 401 and changes nothing', async (_name, makeToken, message) => {
      const token = await makeToken();
      const response = await t.call('POST', '/v1/push', {
        body: validPush(),
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: expect.stringMatching(message), retryable: false },
      });
      expect(t.hashDb()).toBe(hash);
    });
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token on the test server's virtual clock (T0), with our claims and `alg`. */
async function signWith(secret: string, claims: { sub?: string | undefined }, alg = 'HS256'): Promise<string> {
  const sub = 'sub' in claims ? claims.sub : 'alice';
  const iat = Math.floor(T0 / 1000);
  return new SignJWT({ ...(sub === undefined ? {} : { sub }), iat, exp: iat + 3600 })
    .setProtectedHeader({ alg })
    .sign(new TextEncoder().encode(secret));
}
