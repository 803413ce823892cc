import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@ferry\/protocol$/, replacement: src('./packages/protocol/src/index.ts') },
      { find: /^@ferry\/client$/, replacement: src('./packages/client/src/index.ts') },
      { find: /^@ferry\/client\/engine$/, replacement: src('./packages/client/src/engine.ts') },
      { find: /^@ferry\/client\/protocol$/, replacement: src('./packages/client/src/protocol.ts') },
      { find: /^@ferry\/client\/testing$/, replacement: src('./packages/client/src/testing/index.ts') },
      {
        find: /^@ferry\/client\/better-sqlite3$/,
        replacement: src('./packages/client/src/drivers/better-sqlite3.ts'),
      },
      { find: /^@ferry\/server$/, replacement: src('./packages/server/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // @ferry/react-native runs under Jest with React Native's preset (`npm run test:rn`).
    exclude: [...configDefaults.exclude, 'packages/react-native/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
