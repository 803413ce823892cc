/**
 * Generators of hostile requests for every HTTP route of the server: broken JSON, wrong
 * types, extreme numbers, deep nesting, huge strings, prototype keys, SQL metacharacters in
 * entity type and field names, wrong content types and gzip bombs.
 */
import { gzipSync } from 'node:zlib';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@ferry/protocol';
import fc from 'fast-check';

/** One generated request. */
export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const SQL_META = [
  "todos'; DROP TABLE records; --",
  'todos" OR 1=1 --',
  'x); DELETE FROM change_log; --',
  '`records`',
  '%',
  '_',
  '\\',
  '$.title',
  'a\u0000b',
  '../../etc/passwd',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Names an attacker would put where an entity type or field name goes. */
export const hostileName = fc.oneof(
  fc.constantFrom(...SQL_META, ...PROTO_KEYS, 'todos', 'notes', '', ' '),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 300, max: 5000 }).map((n) => 'x'.repeat(n)),
);

/** Numbers that break naive code once they reach a query or a counter. */
export const hostileNumber = fc.oneof(
  fc.constantFrom(-1, -0, 0, 2 ** 53, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER + 2, 0.5, 4294967296),
  fc.double(),
  fc.integer(),
);

/** The same numbers as query-string text (where NaN, 1e999 and hex can be spelt). */
const hostileQueryNumber = fc.oneof(
  hostileNumber.map(String),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '0x10', '', ' 1', '1 ', '01', '9'.repeat(40), '1,2'),
);

/** Any JSON value, and then some that JSON cannot hold once stringified. */
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileNumber, hostileName);

function nested(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

const validChange = (entityType: string) => ({
  id: 'fuzz-change-1',
  entityType,
  entityId: 'fuzz-entity-1',
  operation: 'CREATE',
  data: { title: 'fuzz', completed: false },
  timestamp: 1_764_000_000_000,
  hlc: '001764000000000-000000-fuzzer',
  version: 1,
  vector: { fuzzer: 1 },
  clientId: 'fuzzer',
});

/** A push body with one field of one change replaced by something hostile. */
const mutatedPush = fc
  .record({
    field: fc.constantFrom(...Object.keys(validChange('todos')), 'extra', '__proto__'),
    value: anyValue,
    type: fc.constantFrom('todos', 'notes'),
    dataKey: hostileName,
  })
  .map(({ field, value, type, dataKey }) => {
    const change: Record<string, unknown> = validChange(type);
    change[field] = value;
    if (field === 'data') change.data = { [dataKey]: value };
    return JSON.stringify({ clientId: 'fuzzer', changes: [change] });
  });

/** Bodies: broken, mistyped, deep, huge, poisoned, or nearly valid. */
export const hostileBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 4, arbitrary: mutatedPush },
  { weight: 2, arbitrary: mutatedPush.chain((body) => fc.nat(body.length - 1).map((cut) => body.slice(0, cut))) },
  { weight: 2, arbitrary: anyValue.map((value) => JSON.stringify(value) ?? 'undefined') },
  { weight: 1, arbitrary: fc.integer({ min: 33, max: 20_000 }).map((d) => nested(d, '[', ']')) },
  { weight: 1, arbitrary: fc.integer({ min: 33, max: 5_000 }).map((d) => nested(d, '{"a":', '}')) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...PROTO_KEYS)
      .map((key) => `{"clientId":"fuzzer","changes":[],"${key}":{"prototype":{"polluted":true},"polluted":true}}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('NaN', '{"a":NaN}', '[1e999]', '{"a":-Infinity}', '', 'null', '"', '{') },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Rare, expensive bodies: 10 MB strings and gzip bombs. */
export const giantBody = fc.oneof(
  fc.constant(
    JSON.stringify({
      clientId: 'fuzzer',
      changes: [{ ...validChange('notes'), data: { big: 'x'.repeat(10 * 2 ** 20) } }],
    }),
  ),
  fc.constant(gzipSync(Buffer.alloc(64 * 2 ** 20, 0x20))),
  fc.constant(gzipSync(Buffer.from(`[${'1,'.repeat(2 ** 20)}1]`))),
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/octet-stream',
      '',
    ),
  },
);

const routes = fc.oneof(
  fc.constant({ method: 'POST' as const, path: '/v1/push', body: true }),
  fc.constant({ method: 'POST' as const, path: '/v1/batch', body: true }),
  hostileQueryNumber.chain((cursor) =>
    fc.record({ limit: hostileQueryNumber, types: hostileName }).map(({ limit, types }) => ({
      method: 'GET' as const,
      path: `/v1/pull?cursor=${encodeURIComponent(cursor)}&limit=${encodeURIComponent(limit)}&types=${encodeURIComponent(types)}`,
      body: false,
    })),
  ),
  hostileQueryNumber.map((since) => ({
    method: 'GET' as const,
    path: `/v1/changes?since=${encodeURIComponent(since)}`,
    body: false,
  })),
  fc.constant({ method: 'GET' as const, path: '/v1/config', body: false }),
  hostileName.map((type) => ({
    method: 'GET' as const,
    path: `/v1/entities/${encodeURIComponent(type)}`,
    body: false,
  })),
  hostileName.map((type) => ({
    method: 'POST' as const,
    path: `/v1/entities/${encodeURIComponent(type)}`,
    body: true,
  })),
  fc.tuple(hostileName, hostileName, fc.constantFrom('PUT' as const, 'DELETE' as const)).map(([type, id, method]) => ({
    method,
    path: `/v1/entities/${encodeURIComponent(type)}/${encodeURIComponent(id)}`,
    body: method === 'PUT',
  })),
  fc.constant({ method: 'POST' as const, path: '/v1/dev/token', body: true }),
);

/** A whole hostile request; `auth` is a valid bearer header, sometimes withheld or mangled. */
export function hostileRequest(auth: string): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      route: routes,
      body: hostileBody,
      type: contentType,
      auth: fc.oneof(
        { weight: 8, arbitrary: fc.constant(auth) },
        fc.constantFrom('', 'Bearer ', `${auth}x`, 'Basic YTpi'),
      ),
      protocol: fc.oneof(
        { weight: 8, arbitrary: fc.constant(String(PROTOCOL_VERSION)) },
        fc.constantFrom('0', '999', 'abc', ''),
      ),
      gzip: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, fc.constant(true)),
    })
    .map(({ route, body, type, auth: authorization, protocol, gzip }) => {
      const headers: Record<string, string> = { [PROTOCOL_HEADER]: protocol };
      if (authorization) headers.authorization = authorization;
      if (!route.body) return { method: route.method, url: route.path, headers };
      if (type) headers['content-type'] = type;
      if (gzip) headers['content-encoding'] = 'gzip';
      return { method: route.method, url: route.path, headers, payload: gzip ? gzipSync(body) : body };
    });
}
