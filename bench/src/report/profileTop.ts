/**
 * `tsx bench/src/report/profileTop.ts <file.cpuprofile> [count]`: the top frames of a V8 CPU
 * profile by self time, and by inclusive time for the project's own code.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A frame's label: function, file tail and line. */
function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

/** Self and inclusive milliseconds per frame label. */
export function summarize(profile: Profile): {
  totalMs: number;
  self: Map<string, number>;
  total: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (!node) return;
    self.set(label(node), (self.get(label(node)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  });
  return { totalMs, self, total };
}

function top(map: Map<string, number>, count: number, filter: (name: string) => boolean = () => true): string[] {
  return [...map.entries()]
    .filter(([name]) => filter(name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

const [file, count = '25'] = process.argv.slice(2);
if (file) {
  const { totalMs, self, total } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const n = Number(count);
  process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms sampled\n\nself time:\n${top(self, n).join('\n')}\n`);
  process.stdout.write(
    `\ninclusive, project code:\n${top(total, n, (name) => name.includes('packages/')).join('\n')}\n`,
  );
}
