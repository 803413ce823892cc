/**
 * One load-test server process: `ferry serve` on the database given as argv[2]. Tells its
 * parent its URL over IPC, answers RSS, CPU-time and group-commit requests, and shuts down gracefully when
 * told. Rate limits stay on, as in a deployment, with allowances no device fleet here reaches,
 * so their cost (one counter hit per request) is in the figures but no request is refused.
 */
import { runServe } from '@ferry/server';

const db = process.argv[2] ?? ':memory:';
const secret = process.argv[3] ?? '';
const running = await runServe(
  ['--port', '0', '--db', db, '--pushes-per-minute', '1000000', '--pulls-per-minute', '1000000'],
  {
    env: { FERRY_JWT_SECRET: secret },
    print: () => undefined,
    logger: false,
  },
);
// Group commits (SQLite): how many durable commits carried how many pushes, for the capacity table.
const groups = { commits: 0, pushes: 0 };
running.server.storage.onGroupCommit?.((pushes) => {
  groups.commits += 1;
  groups.pushes += pushes;
});
process.on('message', async (message: { type: string }) => {
  if (message.type === 'groups') process.send?.({ type: 'groups', ...groups });
  if (message.type === 'rss') process.send?.({ type: 'rss', rss: process.memoryUsage().rss });
  if (message.type === 'cpu') process.send?.({ type: 'cpu', cpu: process.cpuUsage() });
  if (message.type === 'stop') {
    await running.shutdown();
    process.exit(0);
  }
});
process.send?.({ type: 'ready', url: running.url });
