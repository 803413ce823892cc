// Metro as a React Native 0.84 app configures it, in the monorepo: the workspace packages
// are symlinks under the root node_modules. FERRY_BUNDLE_PEERS=none hides the optional peers
// from Metro's file map, so resolving one fails exactly as in an app that never installed
// it. Every request for a Node built-in is written to FERRY_BUNDLE_BUILTINS (check.mjs fails
// on any), including the ones Metro would skip as optional.
const { appendFileSync } = require('node:fs');
const { builtinModules } = require('node:module');
const path = require('node:path');
const { getDefaultConfig, mergeConfig } = require('@react-native/metro-config');

const root = path.resolve(__dirname, '../..');
const OPTIONAL_PEERS = [
  '@react-native-community/netinfo',
  '@react-native-async-storage/async-storage',
  'react-native-background-fetch',
  '@op-engineering/op-sqlite',
  'expo-sqlite',
];
const withoutPeers = process.env.FERRY_BUNDLE_PEERS === 'none';
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

module.exports = mergeConfig(getDefaultConfig(__dirname), {
  // Only what the app can reach: the root node_modules and the workspace packages it links.
  watchFolders: [
    path.join(root, 'node_modules'),
    path.join(root, 'packages/protocol'),
    path.join(root, 'packages/client'),
    path.join(root, 'packages/react-native'),
  ],
  resolver: {
    nodeModulesPaths: [path.join(root, 'node_modules')],
    blockList: [
      /\/node_modules\/\.cache\/.*/,
      ...(withoutPeers ? OPTIONAL_PEERS.map((name) => new RegExp(`/node_modules/${escapeRegExp(name)}/.*`)) : []),
    ],
    resolveRequest(context, moduleName, platform) {
      if (builtins.has(moduleName) && process.env.FERRY_BUNDLE_BUILTINS) {
        appendFileSync(process.env.FERRY_BUNDLE_BUILTINS, `${moduleName} from ${context.originModulePath}\n`);
      }
      return context.resolveRequest(context, moduleName, platform);
    },
  },
});
