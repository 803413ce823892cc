import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:packaging`: the install check (test/packaging/*.check.ts), apart from the main
 * suite because it packs, runs an npm install and starts real processes. Needs `npm run build`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/packaging/**/*.check.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
