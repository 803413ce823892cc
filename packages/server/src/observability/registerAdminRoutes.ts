import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LiveHub } from '../live/LiveHub.js';
import type { ServerStorage } from '../storage/ServerStorage.js';
import type { CompactionWatch } from './CompactionWatch.js';
import type { DeviceRegistry } from './DeviceRegistry.js';
import type { RateLimitHits } from './RateLimitHits.js';
import type { RecentStats, StatKind } from './RecentStats.js';
import type { ScopeHistory } from './ScopeHistory.js';
import type { ServerMetrics } from './ServerMetrics.js';
import { devicesAnswer, spacesAnswer } from './scopeAnswers.js';

/** What the admin routes read. */
export interface AdminRouteDeps {
  checkAdmin: (request: FastifyRequest) => Promise<void>;
  storage: ServerStorage;
  now: () => number;
  devices: DeviceRegistry;
  stats: RecentStats;
  history: ScopeHistory;
  rateLimits: RateLimitHits;
  compaction: CompactionWatch;
  metrics: ServerMetrics;
  hub: () => LiveHub | null;
  server: { version: string; protocol: number };
}

// src/observability and dist/observability both sit two levels under the package root.
const INSPECTOR_PAGE = new URL('../../inspector/index.html', import.meta.url);

/** Slices of the window the inspector's charts draw (15 s each over 5 minutes). */
const CHART_SLICES = 20;
const STAT_KINDS: readonly StatKind[] = ['push', 'pull', 'poke', 'limited'];

/** Sums of a labelled counter, one row per label set. */
async function counterRows(
  counter: ServerMetrics['conflicts'] | ServerMetrics['rateLimited'],
): Promise<Array<Record<string, string | number>>> {
  const { values } = await counter.get();
  return values.filter((value) => value.value > 0).map((value) => ({ ...value.labels, count: value.value }));
}

/**
 * Group-commit sizes when the storage commits pushes in groups (`ferry_group_commit_size`, a
 * histogram, SQLite): durable commits and the pushes they carried; null when the metric does not exist.
 */
async function groupCommit(metrics: ServerMetrics): Promise<{ commits: number; pushes: number } | null> {
  const metric = metrics.registry.getSingleMetric('ferry_group_commit_size');
  if (!metric) return null;
  const { values } = await metric.get();
  const sum = (suffix: string) =>
    values
      .filter((value) => (value as { metricName?: string }).metricName === `ferry_group_commit_size${suffix}`)
      .reduce((total, value) => total + value.value, 0);
  return { commits: sum('_count'), pushes: sum('_sum') };
}

/**
 * `GET /v1/admin/overview`, `/v1/admin/devices`, `/v1/admin/spaces` and the `/inspector` page.
 * The JSON holds ids, counts, cursors, codes and times; never a record's contents. Live
 * sockets, devices, rates and rejections are this process's own (every process of a deployment
 * answers for itself); heads, horizons and the storage size are the database's. The page is
 * static: it holds no data and asks for the admin token, then reads these endpoints with it.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): Promise<void> {
  const startedAt = deps.now();
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request) => deps.checkAdmin(request));

      admin.get('/overview', async () => {
        const hub = deps.hub();
        const byUser = hub ? [...hub.connectionsByUser()].map(([user, sockets]) => ({ user, sockets })) : [];
        const storage = deps.storage.inspect ? await deps.storage.inspect([]) : null;
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
          rates: Object.fromEntries(STAT_KINDS.map((kind) => [kind, deps.stats.figures(kind)])),
          series: Object.fromEntries(STAT_KINDS.map((kind) => [kind, deps.stats.series(kind, CHART_SLICES)])),
          conflicts: await counterRows(deps.metrics.conflicts),
          rejections: await counterRows(deps.metrics.rejections),
          recentRejections: deps.history.rejections(),
          rateLimited: await counterRows(deps.metrics.rateLimited),
          rateLimitedUsers: deps.rateLimits.list().slice(0, 200),
          groupCommit: await groupCommit(deps.metrics),
          storage: { backend: storage?.backend ?? null, sizeBytes: storage?.sizeBytes ?? null },
          compaction: deps.compaction.state(),
        };
      });

      admin.get('/devices', async () => devicesAnswer(deps));
      admin.get('/spaces', async () => spacesAnswer(deps));
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
