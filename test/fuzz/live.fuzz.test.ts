import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIVE_CLOSE, PROTOCOL_VERSION } from '@ferry/protocol';
import { createServer, defaultSchema, type FerryServer, signDevToken } from '@ferry/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileBody, hostileName, hostileNumber } from './malformedInput.js';

const SECRET = 'live-fuzz-secret-long-enough-for-hs256';
const CASES = 600;

let dir: string;
let server: FerryServer;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-live-fuzz-'));
  server = await createServer({ dbPath: join(dir, 'ferry.db'), schema: defaultSchema, auth: { secret: SECRET } });
  token = await signDevToken(SECRET, 'alice', { expiresIn: '1h' });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Exchange {
  code: number | null;
  messages: string[];
}

/** Opens `/v1/live`, sends `frames`, and waits for a close or a `ready` (then closes itself). */
async function exchange(frames: ReadonlyArray<string | Buffer>): Promise<Exchange> {
  const ws = await server.app.injectWS('/v1/live');
  const messages: string[] = [];
  const outcome = new Promise<Exchange>((resolve) => {
    ws.on('message', (data) => {
      messages.push(String(data));
      if (messages.length === 1 && frames.length === 1) ws.close();
    });
    ws.on('close', (code) => resolve({ code, messages }));
  });
  for (const frame of frames) ws.send(frame);
  return outcome;
}

const hello = fc
  .record({
    type: fc.oneof({ weight: 4, arbitrary: fc.constant('hello') }, hostileName),
    protocolVersion: fc.oneof({ weight: 3, arbitrary: fc.constant(PROTOCOL_VERSION) }, hostileNumber),
    token: fc.oneof({ weight: 2, arbitrary: fc.constant('<valid>') }, hostileName),
    extra: fc.option(fc.constantFrom('__proto__', 'constructor', 'cursor')),
  })
  .map(({ type, protocolVersion, token: t, extra }) => {
    const message: Record<string, unknown> = { type, protocolVersion, token: t };
    const text = JSON.stringify(message).replace('"<valid>"', JSON.stringify(token));
    return extra ? text.replace(/}$/, `,"${extra}":{"polluted":true}}`) : text;
  });

/** A broken peer may be closed with a Ferry code or a WebSocket protocol code, never 1011. */
const ACCEPTABLE_CLOSE = new Set<number>([...Object.values(LIVE_CLOSE), 1000, 1005, 1006, 1007, 1008, 1009]);

describe('the live WebSocket under generated malformed messages', () => {
  it(`closes ${CASES} hostile peers with a clear code and stays up`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(hello, hostileBody), { minLength: 1, maxLength: 3 }), async (frames) => {
        const { code, messages } = await exchange(frames);
        expect(code, `frames ${JSON.stringify(frames).slice(0, 300)}`).not.toBe(1011);
        expect(ACCEPTABLE_CLOSE.has(code ?? -1), `close code ${code}`).toBe(true);
        for (const message of messages) expect(() => JSON.parse(message)).not.toThrow();
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: CASES, seed: 5150 },
    );
    const health = await server.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  }, 120_000);

  it('answers a valid hello with ready, and a second message with BAD_MESSAGE', async () => {
    const valid = JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token });
    const ready = await exchange([valid]);
    expect(JSON.parse(ready.messages[0] ?? '{}')).toMatchObject({ type: 'ready', cursor: 0 });
    const chatty = await exchange([valid, '{"type":"hello"}']);
    expect(chatty.code).toBe(LIVE_CLOSE.BAD_MESSAGE);
  });

  it('closes an oversized message instead of buffering it', async () => {
    const { code } = await exchange(['x'.repeat(10 * 2 ** 20)]);
    expect(code).toBe(1009);
  });
});
