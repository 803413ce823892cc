import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '@ferry/protocol';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server package's version, read once (src/observability and dist/observability sit at the same depth). */
export const SERVER_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

/**
 * The process's own metrics (process_*, nodejs_eventloop_lag_*, heap, GC), collected once per
 * process however many servers it runs: prom-client's default metrics install a GC observer and
 * an event-loop monitor that are never removed, so collecting them per server made every server a
 * process ever created (tests, the simulator, a restart in place) keep costing on every GC.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** How a pushed change ended, as counted by `ferry_changes_total`. */
export type ChangeOutcome = 'applied' | 'duplicate' | 'conflict' | 'rejected';

/**
 * The server's Prometheus metrics on their own registry (never the global one: two servers in
 * one process, as in tests, must not share counts). Label values are bounded: routes are
 * route templates, entity types are declared ones (anything else counts as `undeclared`),
 * error codes come from a closed list.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'ferry_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'ferry_http_request_duration_seconds',
    help: 'Time from request received to response sent, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly changes = new Counter({
    name: 'ferry_changes_total',
    help: 'Pushed changes by entity type and outcome (applied, duplicate, conflict, rejected)',
    labelNames: ['entity_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'ferry_conflicts_total',
    help: 'Pushed changes answered as conflicts, by entity type and conflict type',
    labelNames: ['entity_type', 'conflict_type'] as const,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'ferry_rejections_total',
    help: 'Pushed changes rejected, by entity type and error code',
    labelNames: ['entity_type', 'code'] as const,
    registers: [this.registry],
  });
  readonly pullRecords = new Counter({
    name: 'ferry_pull_records_total',
    help: 'Records served by pull requests',
    registers: [this.registry],
  });
  readonly pokes = new Counter({
    name: 'ferry_live_pokes_total',
    help: 'Live pokes broadcast (one per commit announced to a user or space)',
    registers: [this.registry],
  });
  readonly liveConnections = new Gauge({
    name: 'ferry_live_connections',
    help: 'Authenticated live WebSocket connections on this process',
    registers: [this.registry],
  });
  readonly storageErrors = new Counter({
    name: 'ferry_storage_errors_total',
    help: 'Requests failed by a storage error (SQLite or PostgreSQL), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly internalErrors = new Counter({
    name: 'ferry_internal_errors_total',
    help: 'Requests answered with a 5xx',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'ferry_rate_limited_total',
    help: 'Requests refused with 429 by a per-user rate limit, by allowance (push: writes, pull: reads)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly compactions = new Counter({
    name: 'ferry_compactions_total',
    help: 'History compaction runs of this process, by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly compactedRows = new Counter({
    name: 'ferry_compacted_rows_total',
    help: 'Rows removed by history compaction, by kind (tombstones, changes)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly deviceReports = new Counter({
    name: 'ferry_device_reports_total',
    help: 'Sync requests carrying a ferry-device header, by whether it parsed',
    labelNames: ['valid'] as const,
    registers: [this.registry],
  });

  constructor() {
    const build = new Gauge({
      name: 'ferry_build_info',
      help: 'Always 1; labels name the server version and protocol version',
      labelNames: ['version', 'protocol'] as const,
      registers: [this.registry],
    });
    build.set({ version: SERVER_VERSION, protocol: String(PROTOCOL_VERSION) }, 1);
    processMetrics();
  }

  /**
   * Registers `ferry_group_commit_size` (pushes per durable commit) and feeds it from a storage
   * that commits pushes in groups (SQLite's `onGroupCommit`); without one the metric does not
   * exist. Returns unsubscribe.
   */
  watchGroupCommits(onGroupCommit: (listener: (pushes: number) => void) => () => void): () => void {
    const sizes = new Histogram({
      name: 'ferry_group_commit_size',
      help: 'Pushes committed together in one durable transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [this.registry],
    });
    return onGroupCommit((pushes) => sizes.observe(pushes));
  }

  /** Counts live connections from now on; read at scrape time, so it cannot drift from the hub. */
  watchLive(size: () => number): void {
    this.#liveSize = size;
  }

  #liveSize: () => number = () => 0;

  /** The registry's text exposition, with the scrape-time gauges refreshed first. */
  async text(): Promise<string> {
    this.liveConnections.set(this.#liveSize());
    // The server's metrics, then the process's (process_*, nodejs_eventloop_lag_seconds, heap, GC).
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }
}
