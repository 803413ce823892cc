import { PROTOCOL_HEADER, SUPPORTED_PROTOCOL_VERSIONS } from '@ferry/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setRequestScope } from '../auth/requestScope.js';
import { HttpError } from '../errors.js';
import { rateKindOf } from '../rateLimit/createRateLimiter.js';
import { registerDevRoutes } from './devRoutes.js';
import { registerEntityRoutes } from './entityRoutes.js';
import type { RouteContext } from './RouteContext.js';
import { registerSyncRoutes, serverConfig } from './syncRoutes.js';

function checkProtocol(request: FastifyRequest): void {
  const header = request.headers[PROTOCOL_HEADER];
  const version = typeof header === 'string' && /^\d{1,6}$/.test(header.trim()) ? Number(header) : undefined;
  if (version !== undefined && SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return;
  const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
  throw HttpError.of(
    'UNSUPPORTED_PROTOCOL',
    header === undefined
      ? `Missing "${PROTOCOL_HEADER}" header; this server speaks protocol version ${supported}`
      : `Protocol version "${String(header).slice(0, 32)}" is not supported; this server speaks ${supported}. Update the app`,
  );
}

/**
 * Mounts everything under `/v1`. Layers, outermost first: the protocol guard (every route),
 * then the bearer-token check (every route but `/config` and `/dev/token`). Both run in
 * `onRequest`, before the body is read, so an unauthenticated client cannot make us parse 1 MB.
 */
export async function registerV1(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  await app.register(
    async (v1) => {
      // Callback form (a throw fails the request): no promise per request for a synchronous check.
      v1.addHook('onRequest', (request, _reply, done) => {
        checkProtocol(request);
        done();
      });
      v1.get('/config', async () => serverConfig(ctx));
      if (ctx.signToken) registerDevRoutes(v1, ctx.signToken);
      await v1.register(async (authed) => {
        authed.addHook('onRequest', async (request, reply) => {
          const { scope, claims } = await ctx.verify(request.headers.authorization);
          setRequestScope(request, scope, claims);
          // After auth (the limit is per user) and before the body is read.
          if (ctx.rateLimit) await ctx.rateLimit(scope, rateKindOf(request.method), reply);
        });
        registerSyncRoutes(authed, ctx);
        registerEntityRoutes(authed, ctx);
      });
    },
    { prefix: '/v1' },
  );
}
