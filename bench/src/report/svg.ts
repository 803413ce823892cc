/**
 * A hand-written SVG bar chart of a run's ratios (no chart library): one bar per ratio on a
 * log scale (the ratios span 5% to 600%), a dashed mark at its target, a line at 100%.
 */
import type { BenchResults } from '../results.js';

interface Bar {
  label: string;
  value: number;
  target?: number;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The bars of a run: Ferry against the floor, PouchDB and bare inserts. */
export function ratioBars(results: BenchResults): Bar[] {
  return [
    { label: 'pull ÷ floor', value: results.pull.ratioToFloor, target: results.pull.target },
    { label: 'push ÷ floor', value: results.push.ratioToFloor, target: results.push.target },
    { label: 'pull ÷ PouchDB', value: results.pull.ratioToPouchdb },
    { label: 'push ÷ PouchDB', value: results.push.ratioToPouchdb },
    { label: 'local write ÷ bare insert', value: results.localWrite.ratioToBare, target: results.localWrite.target },
    // Results written before the 1M floor pull existed have no such ratio.
    ...(results.rss.ratioToFloor === undefined
      ? []
      : [
          {
            label: `initial sync ${results.rss.records / 1e6}M ÷ floor`,
            value: results.rss.ratioToFloor,
            target: results.rss.targetRatio,
          },
        ]),
  ];
}

/** Renders the ratio chart as a standalone SVG document. */
export function renderRatiosSvg(results: BenchResults): string {
  const bars = ratioBars(results);
  const left = 190;
  const barHeight = 26;
  const gap = 14;
  const top = 48;
  const plotWidth = 420;
  const min = Math.min(0.05, ...bars.map((bar) => bar.value)) / 1.5;
  const max = Math.max(2, ...bars.map((bar) => bar.value)) * 1.3;
  const span = Math.log(max) - Math.log(min);
  const x = (value: number) =>
    Math.round((left + ((Math.log(Math.max(value, min)) - Math.log(min)) / span) * plotWidth) * 10) / 10;
  const height = top + bars.length * (barHeight + gap) + 40;
  const width = left + plotWidth + 90;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13" role="img">`,
    `<title>${escapeXml(`Ferry's throughput as a share of the floor, PouchDB and bare inserts (${results.mode} run)`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="15" font-weight="bold">${escapeXml(`Ferry throughput ratios, log scale (${results.mode} run, ${results.sizes.sync} records)`)}</text>`,
  ];
  const axisBottom = top + bars.length * (barHeight + gap) - gap + 8;
  for (const tick of [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16].filter((t) => t >= min && t <= max)) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 8}" x2="${x(tick)}" y2="${axisBottom}" stroke="${tick === 1 ? '#444' : '#ddd'}" stroke-width="1"/>`,
      `<text x="${x(tick)}" y="${axisBottom + 16}" text-anchor="middle" fill="#555">${Math.round(tick * 100)}%</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const y = top + index * (barHeight + gap);
    const met = bar.target === undefined || bar.value >= bar.target;
    const fill = bar.target === undefined ? '#4a78b5' : met ? '#3a9a5b' : '#c9553d';
    parts.push(
      `<text x="${left - 10}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(bar.value) - left)}" height="${barHeight}" fill="${fill}"/>`,
      `<text x="${x(bar.value) + 6}" y="${y + barHeight / 2 + 4}">${Math.round(bar.value * 100)}%</text>`,
    );
    if (bar.target !== undefined) {
      parts.push(
        `<line x1="${x(bar.target)}" y1="${y - 4}" x2="${x(bar.target)}" y2="${y + barHeight + 4}" stroke="#111" stroke-width="2" stroke-dasharray="4 3"/>`,
      );
    }
  });
  parts.push(
    `<text x="16" y="${height - 8}" fill="#555" font-size="11">${escapeXml('dashed: target · green met, red missed, blue no target · higher is better for Ferry')}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
