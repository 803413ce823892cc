/**
 * `tsx bench/src/chart.ts [results.json]`: redraws `docs/benchmarks-ratios.svg` from a results
 * file (by default `bench/results/latest.json`) without running the benchmark.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderRatiosSvg } from './report/svg.js';
import type { BenchResults } from './results.js';

const root = fileURLToPath(new URL('../../', import.meta.url).href);
const source = process.argv[2] ?? `${root}bench/results/latest.json`;
const results = JSON.parse(readFileSync(source, 'utf8')) as BenchResults;
writeFileSync(`${root}docs/benchmarks-ratios.svg`, renderRatiosSvg(results));
process.stdout.write(`wrote docs/benchmarks-ratios.svg from ${source}\n`);
