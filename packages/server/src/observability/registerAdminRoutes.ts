import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LiveHub } from '../live/LiveHub.js';
import type { ServerStorage } from '../storage/ServerStorage.js';
import type { DeviceRegistry } from './DeviceRegistry.js';
import type { RateLimitHits } from './RateLimitHits.js';
import type { RecentStats } from './RecentStats.js';
import type { ScopeHistory } from './ScopeHistory.js';
import type { ServerMetrics } from './ServerMetrics.js';

/** What the admin routes read. */
export interface AdminRouteDeps {
  checkAdmin: (request: FastifyRequest) => Promise<void>;
  storage: ServerStorage;
  now: () => number;
  devices: DeviceRegistry;
  stats: RecentStats;
  history: ScopeHistory;
  rateLimits: RateLimitHits;
  metrics: ServerMetrics;
  hub: () => LiveHub | null;
  storageSize: () => Promise<number | null>;
  server: { version: string; protocol: number };
}

// src/observability and dist/observability both sit two levels under the package root.
const INSPECTOR_PAGE = new URL('../../inspector/index.html', import.meta.url);

/** Slices of the window the inspector's charts draw (15 s each over 5 minutes). */
const CHART_SLICES = 20;

/** Sums of a labelled counter, one row per label set. */
async function counterRows(
  counter: ServerMetrics['conflicts'] | ServerMetrics['rateLimited'],
): Promise<Array<Record<string, string | number>>> {
  const { values } = await counter.get();
  return values.filter((value) => value.value > 0).map((value) => ({ ...value.labels, count: value.value }));
}

/**
 * `GET /v1/admin/overview`, `GET /v1/admin/devices` and the `/inspector` page. The JSON holds
 * ids, counts, cursors, codes and times of this process only (every process of a deployment
 * answers for itself); never a record's contents. The page is static: it holds no data and
 * asks for the admin token, then reads these endpoints with it.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const startedAt = deps.now();
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => deps.checkAdmin(request));

      admin.get('/overview', async () => {
        const hub = deps.hub();
        const byUser = hub ? [...hub.connectionsByUser()].map(([user, sockets]) => ({ user, sockets })) : [];
        return {
          server: {
            version: deps.server.version,
            protocol: deps.server.protocol,
            process: { pid: process.pid, host: hostname() },
            startedAt,
            now: deps.now(),
          },
          live: { sockets: hub?.size ?? 0, users: byUser },
          windowMs: deps.stats.windowMs,
          rates: {
            push: deps.stats.figures('push'),
            pull: deps.stats.figures('pull'),
            poke: deps.stats.figures('poke'),
            limited: deps.stats.figures('limited'),
          },
          series: {
            push: deps.stats.series('push', CHART_SLICES),
            pull: deps.stats.series('pull', CHART_SLICES),
            poke: deps.stats.series('poke', CHART_SLICES),
            limited: deps.stats.series('limited', CHART_SLICES),
          },
          conflicts: await counterRows(deps.metrics.conflicts),
          rejections: await counterRows(deps.metrics.rejections),
          recentRejections: deps.history.rejections(),
          rateLimited: await counterRows(deps.metrics.rateLimited),
          rateLimitedUsers: deps.rateLimits.list().slice(0, 200),
          storage: { sizeBytes: await deps.storageSize() },
        };
      });

      admin.get('/devices', async () => {
        const now = deps.now();
        const heads = new Map<string, number>();
        const headOf = async (scope: string) => {
          let head = heads.get(scope);
          if (head === undefined) {
            head = await deps.storage.currentSeq(scope);
            heads.set(scope, head);
          }
          return head;
        };
        const devices = [];
        for (const device of deps.devices.list()) {
          const cursors = [];
          for (const entry of device.cursors) {
            const scope = entry.space ?? device.user;
            const head = await headOf(scope);
            const behind = Math.max(0, head - entry.cursor);
            const since = behind === 0 ? null : deps.history.firstCommitAfter(scope, entry.cursor);
            cursors.push({
              space: entry.space,
              cursor: entry.cursor,
              head,
              lagRecords: behind,
              // Since the first record it lacks was written (null: caught up, or written before this process started).
              lagMs: since === null ? null : Math.max(0, now - since),
              pulledAt: entry.pulledAt,
              lastPushAt: deps.history.lastPushAt(scope),
            });
          }
          devices.push({
            user: device.user,
            deviceId: device.deviceId,
            report: device.report,
            firstSeenAt: device.firstSeenAt,
            lastSeenAt: device.lastSeenAt,
            lastPushAt: device.lastPushAt,
            lastPullAt: device.lastPullAt,
            cursors,
          });
        }
        return { now, devices };
      });
    },
    { prefix: '/v1/admin' },
  );

  // No credential check here: the page is the same static file for everyone and holds no data.
  app.get('/inspector', async (_request, reply) => {
    reply.type('text/html; charset=utf-8');
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    );
    reply.header('cache-control', 'no-store');
    return readFile(INSPECTOR_PAGE, 'utf8');
  });
}
