/**
 * docs/react-native.md's "Tested versions" table says what package.json declares and what
 * the tests run: each peer's range is exactly its peerDependencies range, and each tested
 * version is the one installed here (expo-sqlite: the declarations check-types.mjs fetches).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const pkgDir = join(__dirname, '..');
const docs = readFileSync(join(pkgDir, '../../docs/react-native.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
};
const section = docs.slice(
  docs.indexOf('## Tested versions'),
  docs.indexOf('\n## ', docs.indexOf('## Tested versions') + 1),
);
const rows = [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| ([\d.]+) \|$/gm)].map(([, name, range, tested]) => ({
  name: name as string,
  range: range as string,
  tested: tested as string,
}));
const requireHere = createRequire(join(pkgDir, 'package.json'));

function installedVersion(name: string): string {
  if (name === 'expo-sqlite') {
    const script = readFileSync(join(pkgDir, 'scripts/check-types.mjs'), 'utf8');
    return /'expo-sqlite@([\d.]+)'/.exec(script)?.[1] ?? 'missing';
  }
  return (JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

describe('docs/react-native.md tested versions', () => {
  it('lists every peer with its exact range from package.json', () => {
    expect(Object.fromEntries(rows.map(({ name, range }) => [name, range]))).toEqual(manifest.peerDependencies);
  });

  it('names the versions the tests run against', () => {
    for (const { name, tested } of rows) expect({ name, tested }).toEqual({ name, tested: installedVersion(name) });
  });
});
