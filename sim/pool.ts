/**
 * Runs seeds on several processes (one per core by default): seed `first + k` goes to
 * worker `k mod workers`. Workers are this same script started with `--worker`; each sends
 * one message per seed back. Outcomes come back in completion order.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runSeed, type SeedOutcome } from './runSeed.js';

/** Which seeds to run and how. */
export interface SeedPlan {
  first: number;
  seeds: number;
  clients: number | readonly [number, number];
  ops: number;
}

const cliPath = fileURLToPath(new URL('./cli.ts', import.meta.url).href);

/** Runs `plan` in the current process, on the seeds `first + offset`, `+ stride`, ... */
export async function runStride(
  plan: SeedPlan,
  offset: number,
  stride: number,
  onOutcome: (outcome: SeedOutcome) => void,
): Promise<void> {
  for (let k = offset; k < plan.seeds; k += stride) {
    onOutcome(await runSeed({ seed: plan.first + k, clients: plan.clients, ops: plan.ops }));
  }
}

/** Runs `plan` on `workers` child processes. */
export async function runPool(
  plan: SeedPlan,
  workers: number,
  onOutcome: (outcome: SeedOutcome) => void,
): Promise<void> {
  const clients = Array.isArray(plan.clients) ? plan.clients.join('-') : String(plan.clients);
  const runs = Array.from({ length: workers }, (_, index) => {
    const args = ['--worker', `${index}/${workers}`];
    args.push(
      '--first',
      String(plan.first),
      '--seeds',
      String(plan.seeds),
      '--clients',
      clients,
      '--ops',
      String(plan.ops),
    );
    const child = fork(cliPath, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message) => onOutcome(message as SeedOutcome));
    return new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`Worker ${index} exited with ${code}`))));
    });
  });
  await Promise.all(runs);
}
