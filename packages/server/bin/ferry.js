#!/usr/bin/env node
// The `ferry` executable. It lives outside dist/ on purpose: npm links a workspace's bin only
// if its file exists at install time, and dist/ is built after `npm ci` in a source checkout.
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
try {
  await import('../dist/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(cli)) throw error;
  process.stderr.write('ferry: @ferry/server is not built yet. Run `npm run build` at the repository root first.\n');
  process.exitCode = 1;
}
