/**
 * `npm run bench [-- --quick] [-- --profile]`: runs every scenario in child processes, prints
 * a table, writes `bench/results/latest.json` (or `quick.json`) and, for a full run, the
 * ratio chart `docs/benchmarks-ratios.svg`.
 *
 *   --quick    small sizes (the CI smoke run); asserts nothing about time
 *   --profile  adds `--cpu-prof` to Ferry's client and server children (profiles land in
 *              bench/results/*.cpuprofile)
 *   --only=ferry,floor,pouch,local,rss,live,query  runs just those scenarios and prints their raw
 *              figures, writing no results (for profiling one path)
 *   --only=query --record  also writes the query figures into the results file, leaving the
 *              other scenarios' figures as they are
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LIMITS } from '@ferry/protocol';
import { averageRecordBytes } from './data.js';
import { runScenarioChild, startServerChild } from './proc.js';
import { renderRatiosSvg } from './report/svg.js';
import { renderQueryLines, renderTable } from './report/table.js';
import { type BenchResults, direction, type QueryRate, type QueryResults, queryRatio, ratio } from './results.js';
import { runLive } from './runLive.js';
import type { Throughput } from './scenarios/measure.js';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const sizes = quick
  ? { sync: 1_000, localWrite: 200, rss: 10_000, liveClients: 5, liveRounds: 5, syncRounds: 1, query: 2_000 }
  : {
      sync: 100_000,
      localWrite: 5_000,
      rss: 1_000_000,
      liveClients: 100,
      liveRounds: 200,
      syncRounds: 2,
      query: 100_000,
    };
/**
 * Queries per timed batch, batches per contender (interleaved, each keeps its best batch: a
 * burst of load from other processes rarely spans every batch), and the reactive writes.
 */
const querySizes = quick ? { queries: 100, rounds: 2, reactive: 10 } : { queries: 250, rounds: 24, reactive: 200 };
const root = fileURLToPath(new URL('../../', import.meta.url).href);
const resultsDir = `${root}bench/results`;
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (name: string) => only === undefined || only.includes(name);
const profArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}`] : [];
// Generous deadlines: a wedged child fails the run instead of hanging CI.
const deadline = (fullMs: number) => (quick ? 60_000 : fullMs);

type SyncFigures = { push: Throughput; pull: Throughput };

async function withServer<T>(
  entry: string,
  args: string[],
  seedMs: number,
  fn: (url: string, token: string, pid: string) => Promise<T>,
  execArgv: string[] = [],
) {
  const server = await startServerChild(entry, args, deadline(seedMs), execArgv);
  try {
    return await fn(server.url, server.token ?? '', String(server.child.pid ?? 0));
  } finally {
    await server.stop();
  }
}

function step(label: string): void {
  process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${label}\n`);
}

/** The faster push and the faster pull of two rounds. */
function best(a: SyncFigures | undefined, b: SyncFigures | undefined): SyncFigures | undefined {
  if (!a || !b) return a ?? b;
  return {
    push: a.push.docsPerSec >= b.push.docsPerSec ? a.push : b.push,
    pull: a.pull.docsPerSec >= b.pull.docsPerSec ? a.pull : b.pull,
  };
}

type QueryFigures = Record<
  'ferryPage' | 'barePage' | 'jsonPage' | 'typedPage' | 'ferryCount' | 'bareCount' | 'jsonCount' | 'typedCount',
  QueryRate
> & {
  records: number;
  limit: number;
  reactive: QueryResults['reactive'];
};

/** The query scenario's raw figures as results, with ratios and targets. */
function queryResults(figures: QueryFigures): QueryResults {
  const compare = (ferry: QueryRate, bare: QueryRate, bareJsonTable: QueryRate, bareTyped: QueryRate) => ({
    ferry,
    bare,
    bareJsonTable,
    bareTyped,
    ratioToBare: queryRatio(ferry, bare),
    ratioToJsonTable: queryRatio(ferry, bareJsonTable),
    ratioToTyped: queryRatio(ferry, bareTyped),
    target: 0.8,
  });
  return {
    records: figures.records,
    page: {
      ...compare(figures.ferryPage, figures.barePage, figures.jsonPage, figures.typedPage),
      limit: figures.limit,
    },
    count: compare(figures.ferryCount, figures.bareCount, figures.jsonCount, figures.typedCount),
    reactive: figures.reactive,
  };
}

/** Runs one scenario unless `--only` leaves it out. */
async function phase<T>(name: string, label: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (!wanted(name)) return undefined;
  step(label);
  return fn();
}

async function main(): Promise<void> {
  mkdirSync(resultsDir, { recursive: true });
  const n = String(sizes.sync);
  // The floor and Ferry alternate for a few rounds and each keeps its best push and best pull,
  // so a burst of load from other processes on a shared machine does not decide a ratio.
  let floor: SyncFigures | undefined;
  let ferry: SyncFigures | undefined;
  for (let round = 1; round <= sizes.syncRounds; round++) {
    const floorRound = await phase('floor', `floor: push + pull ${n} (round ${round})`, () =>
      withServer('./servers/floorServerHost.ts', ['0'], 30_000, (url, _token, pid) =>
        runScenarioChild<SyncFigures>('./scenarios/floorClient.ts', [url, n, 'sync', pid], deadline(600_000)),
      ),
    );
    floor = best(floor, floorRound);
    const ferryRound = await phase('ferry', `Ferry: push + pull ${n} (round ${round})`, () =>
      withServer(
        './servers/ferryServerHost.ts',
        ['0'],
        30_000,
        (url, token, pid) =>
          runScenarioChild<SyncFigures>(
            './scenarios/ferryClient.ts',
            ['sync', url, token, n, pid],
            deadline(1_200_000),
            profArgs,
          ),
        profArgs,
      ),
    );
    ferry = best(ferry, ferryRound);
  }
  const pouch = await phase('pouch', `PouchDB: push + pull ${n}`, () =>
    withServer('./servers/pouchServerHost.ts', [], 30_000, (url) =>
      runScenarioChild<SyncFigures>('./scenarios/pouchClient.ts', [url, n], deadline(1_200_000)),
    ),
  );
  const local = await phase('local', `local write ${sizes.localWrite}`, () =>
    runScenarioChild<{ ferry: Throughput; bare: Throughput }>(
      './scenarios/localWrite.ts',
      [String(sizes.localWrite), String(sizes.syncRounds === 1 ? 1 : 3)],
      deadline(600_000),
      profArgs,
    ),
  );
  const rss = await phase('rss', `client RSS: initial sync of ${sizes.rss}`, () =>
    withServer('./servers/ferryServerHost.ts', [String(sizes.rss)], 900_000, (url, token, pid) =>
      runScenarioChild<{ pull: Throughput; peakMB: number; sampledPeakMB: number; baselineMB: number }>(
        './scenarios/ferryClient.ts',
        ['pull', url, token, String(sizes.rss), pid],
        deadline(1_800_000),
      ),
    ),
  );
  // The floor pulls the same number of records right after, for the initial-sync rate ratio.
  const rssFloor = await phase('rss', `floor: pull ${sizes.rss}`, () =>
    withServer('./servers/floorServerHost.ts', [String(sizes.rss)], 900_000, (url, _token, pid) =>
      runScenarioChild<{ pull: Throughput }>(
        './scenarios/floorClient.ts',
        [url, String(sizes.rss), 'pull', pid],
        deadline(1_800_000),
      ),
    ),
  );
  const live = await phase('live', 'live propagation', () =>
    runLive(sizes.liveClients, sizes.liveRounds, deadline(300_000)),
  );
  const queryFigures = await phase('query', `queries on ${sizes.query} local records`, () =>
    withServer('./servers/ferryServerHost.ts', ['0'], 30_000, (url, token) =>
      runScenarioChild<QueryFigures>(
        './scenarios/query.ts',
        [
          url,
          token,
          String(sizes.query),
          String(querySizes.queries),
          String(querySizes.rounds),
          String(querySizes.reactive),
        ],
        deadline(900_000),
        profArgs,
      ),
    ),
  );
  const query = queryFigures && queryResults(queryFigures);
  if (!floor || !ferry || !pouch || !local || !rss || !rssFloor || !live || !query) {
    process.stdout.write(`${JSON.stringify({ floor, ferry, pouch, local, rss, rssFloor, live, query }, null, 2)}\n`);
    if (query) {
      process.stdout.write(`\n${renderQueryLines(query).join('\n')}\n`);
      if (process.argv.includes('--record')) recordQuery(query);
    }
    return;
  }

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 1024 ** 3),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    },
    recordBytes: averageRecordBytes(),
    sizes,
    setup: {
      ferryPushBatch: LIMITS.maxChangesPerPush,
      ferryPullPage: LIMITS.maxPullLimit,
      floorBatch: 1000,
      pouchdbBatch: 1000,
      pouchdbAdapter: 'leveldb (both sides)',
      sqlite: 'WAL, synchronous=FULL (Ferry client and server, floor client and server)',
    },
    pull: direction(ferry.pull, floor.pull, pouch.pull, 0.8),
    push: direction(ferry.push, floor.push, pouch.push, 0.5),
    localWrite: { ...local, ratioToBare: ratio(local.ferry, local.bare), target: 0.6 },
    rss: {
      records: sizes.rss,
      ...rss,
      targetMB: 150,
      floorPull: rssFloor.pull,
      ratioToFloor: ratio(rss.pull, rssFloor.pull),
      targetRatio: 0.8,
    },
    query,
    live,
  };
  const out = `${resultsDir}/${quick ? 'quick' : 'latest'}.json`;
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  if (!quick && existsSync(`${root}docs`)) writeFileSync(`${root}docs/benchmarks-ratios.svg`, renderRatiosSvg(results));
  process.stdout.write(`\n${renderTable(results)}\n\nwrote ${out}\n`);
}

/** Writes the query figures into the existing results file, keeping every other figure. */
function recordQuery(query: QueryResults): void {
  const out = `${resultsDir}/${quick ? 'quick' : 'latest'}.json`;
  if (!existsSync(out)) throw new Error(`${out} does not exist yet: run the whole benchmark once first`);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  results.query = query;
  results.sizes = { ...results.sizes, query: sizes.query };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote the query figures into ${out}\n`);
}

await main();
