// Jest transforms sources (ours, the engine's, the server's and ESM-only dependencies) with
// React Native's own preset, as Metro does in an app. CommonJS because babel-jest loads its
// configuration synchronously.

/**
 * Jest runs modules as CommonJS, where `import.meta` does not exist; the server's sources
 * use `import.meta.url` to find files next to them. Rewrite it to the CommonJS equivalent.
 */
function importMetaUrlToCommonJs({ types: t }) {
  return {
    visitor: {
      MetaProperty(path) {
        const parent = path.parentPath;
        if (!parent.isMemberExpression() || !t.isIdentifier(parent.node.property, { name: 'url' })) return;
        parent.replaceWith(
          t.memberExpression(
            t.callExpression(
              t.memberExpression(
                t.callExpression(t.identifier('require'), [t.stringLiteral('node:url')]),
                t.identifier('pathToFileURL'),
              ),
              [t.identifier('__filename')],
            ),
            t.identifier('href'),
          ),
        );
      },
    },
  };
}

module.exports = {
  presets: ['module:@react-native/babel-preset'],
  plugins: [importMetaUrlToCommonJs],
};
