import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../createServer.js';
import { defaultSchema } from '../defaultSchema.js';
import { SECRET, startTestServer, T0, type TestServer } from '../testing/testServer.js';

const SEC = Math.floor(T0 / 1000);

/** An HS256 token signed with the test secret, with exactly these claims. */
function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(SECRET));
}

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function statusWith(token: string): Promise<{ status: number; message: string | undefined }> {
  const response = await t!.call('GET', '/v1/pull', { headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, message: response.json().error?.message };
}

describe('createServer auth options', () => {
  it('refuses a secret shorter than 32 bytes, before opening anything', async () => {
    for (const secret of ['x'.repeat(31), new Uint8Array(16), 'é'.repeat(15)]) {
      await expect(createServer({ schema: defaultSchema, auth: { secret } })).rejects.toThrow(
        /auth\.secret is \d+ bytes; use a random secret of at least 32 bytes/,
      );
    }
    const ok = await createServer({ schema: defaultSchema, auth: { secret: 'é'.repeat(16) } });
    await ok.close();
  });

  it.each([-1, Number.NaN, 301])('refuses clockToleranceSec %s', async (clockToleranceSec) => {
    await expect(createServer({ schema: defaultSchema, auth: { secret: SECRET, clockToleranceSec } })).rejects.toThrow(
      /clockToleranceSec must be 0-300 seconds/,
    );
  });
});

describe('bearer tokens', () => {
  it('refuses a token without exp, which would never expire', async () => {
    t = await startTestServer();
    expect(await statusWith(await sign({ sub: 'alice', iat: SEC }))).toEqual({
      status: 401,
      message: 'Token has no "exp" claim; this server only accepts tokens that expire',
    });
    expect((await statusWith(await sign({ sub: 'alice', iat: SEC, exp: SEC + 60 }))).status).toBe(200);
  });

  it('accepts a token until 5 s past exp by default, and no longer', async () => {
    t = await startTestServer();
    const token = await sign({ sub: 'alice', exp: SEC });
    t.clock.now = (SEC + 5) * 1000 - 1;
    expect((await statusWith(token)).status).toBe(200);
    t.clock.now = (SEC + 5) * 1000;
    expect(await statusWith(token)).toEqual({ status: 401, message: 'Token expired; sign in again' });
  });

  it('remembers only tokens it accepted: one refused as not yet valid passes later, an accepted one still expires', async () => {
    t = await startTestServer();
    const token = await sign({ sub: 'alice', nbf: SEC + 60, exp: SEC + 120 });
    t.clock.now = SEC * 1000;
    expect((await statusWith(token)).status).toBe(401);
    t.clock.now = (SEC + 60) * 1000;
    expect((await statusWith(token)).status).toBe(200);
    expect((await statusWith(token)).status).toBe(200);
    t.clock.now = (SEC + 125) * 1000;
    expect(await statusWith(token)).toEqual({ status: 401, message: 'Token expired; sign in again' });
  });

  it('honours a configured clock tolerance', async () => {
    t = await startTestServer({ auth: { secret: SECRET, clockToleranceSec: 0 } });
    const token = await sign({ sub: 'alice', exp: SEC });
    t.clock.now = (SEC + 1) * 1000;
    expect((await statusWith(token)).status).toBe(401);
  });

  it.each([
    ['a lone surrogate', JSON.parse('"alice\\ud800"') as string],
    ['a control character', 'alice\u0000'],
  ])('refuses a sub with %s, which storage would alter into another scope', async (_name, sub) => {
    t = await startTestServer();
    expect(await statusWith(await sign({ sub, exp: SEC + 60 }))).toEqual({
      status: 401,
      message: 'Token has no usable "sub" claim',
    });
  });
});
