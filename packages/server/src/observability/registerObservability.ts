import { performance } from 'node:perf_hooks';
import { DEVICE_HEADER, PROTOCOL_VERSION, parseDeviceReport } from '@ferry/protocol';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticatedScope } from '../auth/requestScope.js';
import { installErrorHandlers } from '../errorHandler.js';
import { HttpError } from '../errors.js';
import type { LiveHub } from '../live/LiveHub.js';
import { rateKindOf } from '../rateLimit/createRateLimiter.js';
import { requestState } from '../requestState.js';
import type { ServerSchema } from '../schema/parseSchema.js';
import type { ServerStorage } from '../storage/ServerStorage.js';
import { type AdminOptions, adminEnabled, createAdminCheck } from './adminAccess.js';
import { CompactionWatch } from './CompactionWatch.js';
import { DeviceRegistry } from './DeviceRegistry.js';
import { RateLimitHits } from './RateLimitHits.js';
import { RecentStats } from './RecentStats.js';
import { registerAdminRoutes } from './registerAdminRoutes.js';
import { observeAnswer, observed } from './requestOutcome.js';
import { ScopeHistory } from './ScopeHistory.js';
import { SERVER_VERSION, ServerMetrics } from './ServerMetrics.js';
import { storageErrorKind } from './storageErrorKind.js';

/** What {@link registerObservability} needs from the server. */
export interface ObservabilityDeps extends AdminOptions {
  schema: ServerSchema;
  storage: ServerStorage;
  /** The server's clock (ms): times shown in the inspector. Durations use `performance.now()`. */
  now: () => number;
  verify: (header: string | undefined) => Promise<{ claims: Readonly<Record<string, unknown>> }>;
}

/** The server's metrics and the per-process state the inspector reads. */
export interface Observability {
  metrics: ServerMetrics;
  devices: DeviceRegistry;
  stats: RecentStats;
  history: ScopeHistory;
  rateLimits: RateLimitHits;
  /** Pass its `compacted` and `failed` to `scheduleCompaction` (after `retain`): runs are counted and shown. */
  compaction: CompactionWatch;
  /** Counts pokes and live connections of `hub` from now on. */
  watchLive(hub: LiveHub): void;
  /**
   * Serves `/metrics` (same credential) on a second port as well, e.g. one only the monitoring
   * network reaches. Throws when no admin credential is configured.
   */
  listenMetrics(options: { port: number; host?: string }): Promise<{ url: string; close(): Promise<void> }>;
}

/** How long the inspector's rates and percentiles look back. */
const WINDOW_MS = 5 * 60_000;

const SYNC_ROUTES = new Set(['/v1/push', '/v1/pull', '/v1/batch', '/v1/changes']);

/**
 * Metrics, one structured log line per request, device reports, and (when an admin credential
 * is configured) `/metrics`, `/v1/admin/…` and `/inspector`. Without a credential those routes
 * do not exist: a 404, not a 401, so a scan learns nothing.
 *
 * Hooks go on the root instance so they see every route, the /v1 plugin's included.
 */
export async function registerObservability(app: FastifyInstance, deps: ObservabilityDeps): Promise<Observability> {
  const metrics = new ServerMetrics();
  const devices = new DeviceRegistry();
  const stats = new RecentStats(WINDOW_MS, deps.now);
  const history = new ScopeHistory();
  const rateLimits = new RateLimitHits();
  const compaction = new CompactionWatch(metrics, deps.now);
  let hub: LiveHub | null = null;
  // The storage may outlive this server (a caller's own): stop observing it when the server closes.
  const onGroupCommit = deps.storage.onGroupCommit?.bind(deps.storage);
  const unwatchGroups = onGroupCommit ? metrics.watchGroupCommits(onGroupCommit) : undefined;
  if (unwatchGroups) app.addHook('onClose', async () => unwatchGroups());

  // The per-request hooks take the callback form: an async hook costs a promise and a
  // microtask per request for work that never waits.
  app.addHook('onRequest', (request, _reply, done) => {
    requestState(request).startedAt = performance.now();
    done();
  });

  app.addHook('preSerialization', (request, _reply, payload, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && SYNC_ROUTES.has(route)) observeAnswer(request, route, deps.schema, payload);
    done(null, payload);
  });

  app.addHook('onError', async (request, _reply, error) => {
    const kind = storageErrorKind(error);
    if (kind !== null) metrics.storageErrors.inc({ kind });
    if (error instanceof HttpError && error.code === 'RATE_LIMITED') {
      const rateKind = rateKindOf(request.method);
      metrics.rateLimited.inc({ kind: rateKind });
      stats.record('limited', null);
      const user = authenticatedScope(request);
      if (user !== undefined) rateLimits.hit(user, rateKind, deps.now());
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    observeResponse(request, reply);
    done();
  });

  function observeResponse(request: FastifyRequest, reply: FastifyReply): void {
    const ms = performance.now() - (requestState(request).startedAt ?? performance.now());
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const labels = { method: request.method, route, status };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, ms / 1000);
    if (reply.statusCode >= 500) metrics.internalErrors.inc();

    const user = authenticatedScope(request);
    const note = observed(request);
    const { outcome } = note;
    if (SYNC_ROUTES.has(route)) {
      const at = deps.now();
      // Refused requests (401, 429, bad input) are not pushes or pulls: their near-zero times would
      // drag the percentiles down. 429s have their own series.
      if (reply.statusCode < 400) stats.record(route === '/v1/pull' || route === '/v1/changes' ? 'pull' : 'push', ms);
      if (outcome.served) metrics.pullRecords.inc(outcome.served);
      for (const fate of note.fates) {
        metrics.changes.inc({ entity_type: fate.entityType, outcome: fate.status });
        if (fate.conflictType) {
          metrics.conflicts.inc({ entity_type: fate.entityType, conflict_type: fate.conflictType });
        }
        if (fate.code) metrics.rejections.inc({ entity_type: fate.entityType, code: fate.code });
        if (user !== undefined) history.noteFate(user, fate, at);
      }
      const header = request.headers[DEVICE_HEADER];
      const report = header === undefined ? null : parseDeviceReport(header);
      if (header !== undefined) metrics.deviceReports.inc({ valid: report ? 'true' : 'false' });
      const deviceId = report?.id ?? note.clientId;
      if (user !== undefined && deviceId !== undefined && reply.statusCode < 400) {
        const device = devices.seen(user, deviceId, at, report);
        if (route === '/v1/push' || route === '/v1/batch') device.lastPushAt = at;
        for (const { space, cursor } of note.cursors) devices.pulled(device, space, cursor, at);
      }
    }

    // One line per request: ids and counts only. The URL loses its query string, headers and
    // bodies are never logged, so no token or record content can reach a log line.
    const level = route === '/health' || route === '/metrics' ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(ms * 10) / 10,
        ...(user === undefined ? {} : { user }),
        ...(Object.keys(outcome).length === 0 ? {} : outcome),
      },
      'request',
    );
  }

  const checkAdmin = createAdminCheck(deps, deps.verify);
  const serveMetrics = async (request: FastifyRequest, reply: FastifyReply) => {
    await checkAdmin(request);
    reply.type(metrics.registry.contentType);
    return metrics.text();
  };
  if (adminEnabled(deps)) {
    app.get('/metrics', serveMetrics);
    await registerAdminRoutes(app, {
      checkAdmin,
      storage: deps.storage,
      now: deps.now,
      devices,
      stats,
      history,
      rateLimits,
      compaction,
      metrics,
      hub: () => hub,
      server: { version: SERVER_VERSION, protocol: PROTOCOL_VERSION },
    });
  }

  return {
    metrics,
    devices,
    stats,
    history,
    rateLimits,
    compaction,
    watchLive(live) {
      hub = live;
      metrics.watchLive(() => live.size);
      live.onPoke(() => {
        metrics.pokes.inc();
        stats.record('poke', null);
      });
    },
    async listenMetrics({ port, host = '127.0.0.1' }) {
      if (!adminEnabled(deps)) {
        throw new Error(
          'A metrics port needs an admin credential (FERRY_ADMIN_TOKEN or adminClaim): /metrics is never open',
        );
      }
      const side = Fastify({ logger: false });
      installErrorHandlers(side);
      side.get('/metrics', serveMetrics);
      await side.listen({ port, host });
      const address = side.server.address();
      const url =
        address === null || typeof address === 'string'
          ? String(address)
          : `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      return { url, close: () => side.close() };
    },
  };
}
