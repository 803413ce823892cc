// Resolves as React Native's preset does ("react-native" export condition first). The
// server the tests start runs in the same process, and a few of its Node-only dependencies
// name a "react-native" build they do not ship (lru-cache under @fastify/static): for those,
// fall back to the package's Node build.
// biome-ignore lint/suspicious/noReactNativeDeepImports: the preset's resolver is only reachable by its path
const reactNativeResolver = require('react-native/jest/resolver.js');

module.exports = (path, options) => {
  try {
    return reactNativeResolver(path, options);
  } catch (error) {
    if (!options.conditions) throw error;
    return options.defaultResolver(path, { ...options, conditions: ['require', 'node', 'default'] });
  }
};
