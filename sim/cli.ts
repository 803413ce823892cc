/**
 * `npm run sim -- --seeds N --clients K --ops M` runs seeds 1..N; `--seed S` replays one.
 * `--clients` takes a number or a range `3-8` (each seed draws its count from the range).
 * `--postgres` runs the server on PostgreSQL: a throwaway cluster (Debian's binaries) unless
 * `FERRY_SIM_PG` names one (`postgres://…/postgres`); each world gets its own database.
 */
import { availableParallelism } from 'node:os';
import { startPostgres } from '../test/support/postgres.js';
import { runPool, runStride } from './pool.js';
import { runSeed, type SeedOutcome } from './runSeed.js';
import { shrinkOps } from './shrink.js';

interface CliOptions {
  seeds: number;
  first: number;
  clients: number | [number, number];
  ops: number;
  verbose: boolean;
  postgres: boolean;
  /** Shrink failing seeds to fewer ops at the end (`--no-shrink` skips it). */
  shrink: boolean;
  workers: number;
  /** Set in a child process: `index/count`. */
  worker: [number, number] | undefined;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    seeds: 100,
    first: 1,
    clients: [3, 8],
    ops: 300,
    verbose: false,
    postgres: false,
    shrink: true,
    workers: Math.min(2, availableParallelism()),
    worker: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1] ?? '';
    const int = (name: string) => {
      if (!/^\d+$/.test(value)) throw new Error(`${name} needs a non-negative integer, got "${value}"`);
      i++;
      return Number(value);
    };
    if (flag === '--seeds') options.seeds = int('--seeds');
    else if (flag === '--first') options.first = int('--first');
    else if (flag === '--seed') {
      options.first = int('--seed');
      options.seeds = 1;
    } else if (flag === '--ops') options.ops = int('--ops');
    else if (flag === '--clients') {
      const range = /^(\d+)-(\d+)$/.exec(value);
      if (range) {
        options.clients = [Number(range[1]), Number(range[2])];
        i++;
      } else options.clients = int('--clients');
    } else if (flag === '--verbose') options.verbose = true;
    else if (flag === '--postgres') options.postgres = true;
    else if (flag === '--no-shrink') options.shrink = false;
    else if (flag === '--workers') options.workers = Math.max(1, int('--workers'));
    else if (flag === '--worker') {
      const [index, count] = value.split('/').map(Number);
      options.worker = [index!, count!];
      i++;
    } else {
      throw new Error(
        `Unknown flag ${flag}; use --seeds N, --seed S, --first S, --clients K|A-B, --ops M, --workers W, --postgres, --no-shrink, --verbose`,
      );
    }
  }
  return options;
}

/** The regimes' switches (on by default): a replay names those turned off, or it would run another world. */
const REGIMES = [
  'FERRY_SIM_COMPACTION',
  'FERRY_SIM_MANUAL',
  'FERRY_SIM_SERVER_WINS',
  'FERRY_SIM_SHARING',
  'FERRY_SIM_BURSTS',
  'FERRY_SIM_TYPES',
];

function replayCommand(seed: number, options: CliOptions, ops = options.ops): string {
  const clients = Array.isArray(options.clients) ? options.clients.join('-') : String(options.clients);
  const off = REGIMES.filter((name) => process.env[name] === '0').map((name) => `${name}=0 `);
  return `${off.join('')}npm run sim -- --seed ${seed} --clients ${clients} --ops ${ops}${options.postgres ? ' --postgres' : ''}`;
}

/** Failing seeds shrunk to fewer ops at the end of a run (each costs up to 20 worlds). */
const SHRINK_AT_MOST = 3;

async function shrink(outcome: SeedOutcome, options: CliOptions): Promise<void> {
  const run = (ops: number) => runSeed({ seed: outcome.seed, clients: options.clients, ops });
  const shrunk = await shrinkOps(options.ops, outcome, run);
  if (shrunk.ops === options.ops) {
    console.log(`  seed ${outcome.seed} did not shrink below ${options.ops} ops (${shrunk.runs} worlds tried)`);
    return;
  }
  const error = shrunk.outcome.error ?? '';
  console.log(`SHRUNK seed ${outcome.seed} to ${shrunk.ops} ops (${shrunk.runs} worlds tried): ${error}`);
  console.log(`  replay: ${replayCommand(outcome.seed, options, shrunk.ops)} --verbose`);
  console.log('  trace:');
  for (const line of focusTrace(error, shrunk.outcome.trace)) console.log(`    ${line}`);
}

/**
 * The trace cut down to what the failure names: events of the devices (users, spaces) in the
 * message, plus server restarts and crashes; the latest 40 of them.
 */
function focusTrace(error: string, trace: readonly string[]): string[] {
  const names = new Set(error.match(/\bdev\d+\b|\balice\b|\bbob\b|\bcarol\b|\bdave\b|\bsp_[a-z0-9]+/g) ?? []);
  if (names.size === 0) return trace.slice(-40);
  const relevant = trace.filter(
    (line) =>
      [...names].some((name) => line.includes(`${name}:`) || line.includes(`${name} `) || line.endsWith(name)) ||
      /server/.test(line),
  );
  return relevant.slice(-40);
}

function report(outcome: SeedOutcome, options: CliOptions): void {
  console.log(`FAIL seed ${outcome.seed}: ${outcome.error}`);
  console.log(`  replay: ${replayCommand(outcome.seed, options)} --verbose`);
  console.log('  trace (latest events of what the failure names):');
  for (const line of focusTrace(outcome.error ?? '', outcome.trace)) console.log(`    ${line}`);
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.worker) {
    const [index, count] = options.worker;
    await runStride(options, index, count, (outcome) => process.send?.(outcome));
    return 0;
  }
  // Workers inherit the cluster through the environment.
  const cluster = options.postgres && !process.env.FERRY_SIM_PG ? await startPostgres() : undefined;
  if (cluster) process.env.FERRY_SIM_PG = cluster.url;
  try {
    return await runAll(options);
  } finally {
    await cluster?.stop();
  }
}

async function runAll(options: CliOptions): Promise<number> {
  const started = performance.now();
  const failures: SeedOutcome[] = [];
  let done = 0;
  let events = 0;
  let requests = 0;
  const routes = new Map<string, number>();
  const onOutcome = (outcome: SeedOutcome) => {
    done++;
    events += outcome.stats.events;
    requests += outcome.stats.requests;
    for (const [route, count] of Object.entries(outcome.stats.routes))
      routes.set(route, (routes.get(route) ?? 0) + count);
    if (!outcome.ok) {
      failures.push(outcome);
      report(outcome, options);
    } else if (options.verbose || options.seeds === 1) {
      console.log(`ok seed ${outcome.seed}: ${JSON.stringify(outcome.stats)}`);
    }
    if (done % 100 === 0) {
      const rate = done / ((performance.now() - started) / 1000);
      console.log(`… ${done}/${options.seeds} seeds, ${failures.length} failed, ${rate.toFixed(2)} seeds/s`);
    }
  };
  if (options.seeds === 1) {
    onOutcome(
      await runSeed({
        seed: options.first,
        clients: options.clients,
        ops: options.ops,
        ...(options.verbose ? { echo: (line: string) => console.log(line) } : {}),
      }),
    );
  } else if (options.workers > 1) await runPool(options, Math.min(options.workers, options.seeds), onOutcome);
  else await runStride(options, 0, 1, onOutcome);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${options.seeds} seeds${options.postgres ? ' on PostgreSQL' : ''}, ${failures.length} failed, ${seconds.toFixed(1)} s, ` +
      `${(options.seeds / seconds).toFixed(2)} seeds/s (${events} events, ${requests} requests, ${options.workers} workers)`,
  );
  const byRoute = [...routes].sort(([, a], [, b]) => b - a);
  console.log(`requests by route: ${byRoute.map(([route, count]) => `${route} ${count}`).join(', ')}`);
  if (failures.length > 0) {
    console.log(`failing seeds: ${failures.map((f) => f.seed).join(' ')}`);
    if (options.shrink) for (const failure of failures.slice(0, SHRINK_AT_MOST)) await shrink(failure, options);
  }
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
