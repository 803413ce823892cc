/** The stdout table of a run. */
import type { BenchResults, QueryResults } from '../results.js';

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[index]!))).join('  ');
}

function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** The query scenario's lines (also printed on their own by `--only=query`). */
export function renderQueryLines(query: QueryResults): string[] {
  const line = (name: string, result: QueryResults['count']) =>
    `${name}: Ferry ${result.ferry.perSec}/s, bare same file ${result.bare.perSec}/s (${pct(result.ratioToBare)}), ` +
    `JSON table ${result.bareJsonTable.perSec}/s (${pct(result.ratioToJsonTable)}), typed table ${result.bareTyped.perSec}/s ` +
    `(${pct(result.ratioToTyped)}) — target ≥${pct(result.target)} of bare ${verdict(result.ratioToBare >= result.target)}`;
  return [
    line(`query ${query.records}: filter + sort + limit ${query.page.limit}`, query.page),
    line(`query ${query.records}: count() of an indexed filter`, query.count),
    `reactive query, pulled page commit → callback (${query.reactive.rounds} rounds): p50 ${query.reactive.p50Ms} ms, p99 ${query.reactive.p99Ms} ms`,
  ];
}

/** Renders the results as a fixed-width text table. */
export function renderTable(results: BenchResults): string {
  const widths = [30, 12, 12, 12, 10, 10, 14];
  const lines = [
    row(['scenario', 'Ferry doc/s', 'floor doc/s', 'Pouch doc/s', 'vs floor', 'vs Pouch', 'target'], widths),
    row(['-'.repeat(30), ...widths.slice(1).map((w) => '-'.repeat(w))], widths),
  ];
  for (const [name, result] of [
    [`pull ${results.sizes.sync} records`, results.pull],
    [`push ${results.sizes.sync} changes`, results.push],
  ] as const) {
    lines.push(
      row(
        [
          name,
          String(result.ferry.docsPerSec),
          String(result.floor.docsPerSec),
          String(result.pouchdb.docsPerSec),
          pct(result.ratioToFloor),
          pct(result.ratioToPouchdb),
          `≥${pct(result.target)} ${verdict(result.ratioToFloor >= result.target)}`,
        ],
        widths,
      ),
    );
  }
  const local = results.localWrite;
  lines.push(
    row(
      [
        `local write ${results.sizes.localWrite} (vs bare)`,
        String(local.ferry.docsPerSec),
        String(local.bare.docsPerSec),
        '-',
        pct(local.ratioToBare),
        '-',
        `≥${pct(local.target)} ${verdict(local.ratioToBare >= local.target)}`,
      ],
      widths,
    ),
  );
  const rss = results.rss;
  lines.push('');
  lines.push(
    `client peak RSS, initial sync of ${rss.records} records: ${rss.peakMB} MB ` +
      `(baseline ${rss.baselineMB} MB, ${rss.pull.docsPerSec} doc/s) — target < ${rss.targetMB} MB ${verdict(rss.peakMB < rss.targetMB)}`,
  );
  lines.push(
    `initial sync of ${rss.records} records: Ferry ${rss.pull.docsPerSec} doc/s, floor ${rss.floorPull.docsPerSec} doc/s ` +
      `(${pct(rss.ratioToFloor)}) — target ≥${pct(rss.targetRatio)} ${verdict(rss.ratioToFloor >= rss.targetRatio)}`,
  );
  const live = results.live;
  lines.push(
    live.status === 'measured'
      ? `live A → B with ${live.clients} clients: p50 ${live.p50Ms} ms, p99 ${live.p99Ms} ms — target p99 < ${live.targetP99Ms} ms ${verdict(live.p99Ms < live.targetP99Ms)}`
      : `live propagation: pending (${live.reason})`,
  );
  if (results.query) lines.push(...renderQueryLines(results.query));
  lines.push(`records ~${results.recordBytes} B JSON; ${results.machine.cpus} cores, Node ${results.machine.node}`);
  return lines.join('\n');
}
