import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type FerryServer } from './createServer.js';
import { defaultSchema } from './defaultSchema.js';

describe('createServer({ staticDir })', () => {
  let dir: string;
  let server: FerryServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Ferry Todo</title>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log("app")');
    server = await createServer({
      schema: defaultSchema,
      auth: { secret: 'static-test-secret-long-enough-32b' },
      staticDir: dir,
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, accept = 'text/html') => server.app.inject({ method: 'GET', url, headers: { accept } });

  it('serves the app at / and its assets', async () => {
    const index = await get('/');
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.body).toContain('Ferry Todo');
    const asset = await get('/assets/app-1234.js', '*/*');
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log("app")');
  });

  it('answers a page reload on a client-side route with index.html', async () => {
    const page = await get('/settings');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Ferry Todo');
  });

  it('keeps JSON 404s for API paths and for non-HTML requests', async () => {
    for (const url of ['/v1/nope', '/health/x']) {
      const response = await get(url);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ error: { code: expect.any(String) } });
    }
    expect((await get('/assets/missing.js', '*/*')).statusCode).toBe(404);
  });

  it('still answers the API next to the app', async () => {
    expect((await get('/health', 'application/json')).json()).toEqual({ status: 'ok' });
  });

  it('refuses a directory without index.html, with a clear error', async () => {
    await expect(
      createServer({
        schema: defaultSchema,
        auth: { secret: 'static-test-secret-long-enough-32b' },
        staticDir: tmpdir(),
      }),
    ).rejects.toThrow(/no index.html/);
  });
});
