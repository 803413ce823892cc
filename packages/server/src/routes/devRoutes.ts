import type { FastifyInstance } from 'fastify';
import * as v from 'valibot';
import { parseInput } from './parseInput.js';

const DevTokenBodySchema = v.strictObject({
  userId: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'userId must be 1-64 letters, digits, "_", ".", "@" or "-"'),
  ),
});

/**
 * `POST /v1/dev/token`: anyone may become anyone. Registered only in dev mode, for the demo's
 * sign-in screen; never enable it on a server that holds real data.
 */
export function registerDevRoutes(app: FastifyInstance, signToken: (userId: string) => Promise<string>): void {
  app.post('/dev/token', async (request) => {
    const { userId } = parseInput(DevTokenBodySchema, request.body ?? null);
    return { token: await signToken(userId) };
  });
}
