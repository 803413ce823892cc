/**
 * Serves a built single-page app (the Todo demo) next to the API: its files at `/`, and
 * `index.html` for any other GET that accepts HTML, so a reload on a client-side route works.
 * API paths (`/v1/...`, `/health`) never fall back to the page: they keep their JSON 404.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const API_PATH = /^\/(v\d+|health)(\/|\?|$)/;

/**
 * Mounts `dir` at `/`. The directory must hold an `index.html` (a Vite build's `dist`).
 *
 * @example
 * await serveStatic(app, './examples/todo/dist');
 */
export async function serveStatic(app: FastifyInstance, dir: string): Promise<void> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`Cannot serve ${root}: it has no index.html (build the app first, e.g. npm run build)`);
  }
  // wildcard: false registers one route per file found now, leaving `/*` free for the fallback.
  await app.register(fastifyStatic, { root, wildcard: false, index: 'index.html' });
  app.get('/*', (request, reply) => {
    const accepts = request.headers.accept ?? '';
    if (API_PATH.test(request.url) || !accepts.includes('text/html')) return reply.callNotFound();
    return reply.sendFile('index.html');
  });
}
