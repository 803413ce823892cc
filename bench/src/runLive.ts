/**
 * Live propagation A → B with `clients` connected devices: a Ferry server child, a child
 * holding `clients - 2` load devices, and a probe child with devices A and B. Needs the
 * server's WebSocket pokes (`packages/server/src/live`) and the client's `LiveConnection`;
 * without both the scenario reports itself as pending.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runScenarioChild, startServerChild } from './proc.js';
import type { BenchResults } from './results.js';

const root = fileURLToPath(new URL('../../', import.meta.url).href);

/** Whether the live-poke parts this scenario drives are in the tree. */
export function liveAvailable(): boolean {
  return (
    existsSync(`${root}packages/server/src/live`) &&
    existsSync(`${root}packages/client/src/transport/LiveConnection.ts`)
  );
}

/** Measures A → B propagation with `clients` connected devices over `rounds` writes. */
export async function runLive(clients: number, rounds: number, timeoutMs: number): Promise<BenchResults['live']> {
  if (!liveAvailable()) return { status: 'pending', reason: 'WebSocket live pokes are not in the tree yet' };
  const server = await startServerChild('./servers/ferryServerHost.ts', ['0'], 30_000);
  const token = server.token ?? '';
  try {
    const loadDevices = await startServerChild(
      './scenarios/liveClient.ts',
      ['load', server.url, token, String(Math.max(0, clients - 2))],
      120_000,
    );
    try {
      const figures = await runScenarioChild<{ rounds: number; p50Ms: number; p99Ms: number }>(
        './scenarios/liveClient.ts',
        ['probe', server.url, token, String(rounds)],
        timeoutMs,
      );
      return { status: 'measured', clients, ...figures, targetP99Ms: 50 };
    } finally {
      await loadDevices.stop();
    }
  } finally {
    await server.stop();
  }
}
