// Jest under React Native's preset: the real React Native renderer, React Native's own
// mocks of its core native modules, and ours (test/native/) for third-party native modules.
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const pkg = (p) => path.join(root, 'packages', p);

/** @type {import('jest').Config} */
module.exports = {
  preset: 'react-native',
  rootDir: __dirname,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  resolver: '<rootDir>/test/resolver.cjs',
  setupFiles: ['<rootDir>/test/native/setup.ts'],
  testTimeout: 30000,
  moduleNameMapper: {
    // The engine and the server run from source, so the tests see the tree as it is now.
    '^@ferry/protocol$': pkg('protocol/src/index.ts'),
    '^@ferry/client$': pkg('client/src/index.ts'),
    '^@ferry/client/better-sqlite3$': pkg('client/src/drivers/better-sqlite3.ts'),
    '^@ferry/client/engine$': pkg('client/src/engine.ts'),
    '^@ferry/client/protocol$': pkg('client/src/protocol.ts'),
    '^@ferry/client/testing$': pkg('client/src/testing/index.ts'),
    '^@ferry/server$': pkg('server/src/index.ts'),
    // op-sqlite ships a Node build of its exact API over better-sqlite3 (its "node" export
    // condition, which React Native's test environment does not select): the SQL runs for
    // real; only the JSI native module is swapped for better-sqlite3.
    '^@op-engineering/op-sqlite$': path.join(root, 'node_modules/@op-engineering/op-sqlite/node/dist/index.js'),
    // The workspaces write NodeNext-style `./x.js` specifiers for `./x.ts` files.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transformIgnorePatterns: [
    'node_modules/(?!((jest-)?react-native|@react-native(-community)?|@op-engineering|react-native-background-fetch|jose)/)',
  ],
};
