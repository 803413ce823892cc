/**
 * What a user downloads: each published tarball (as `npm pack` builds it from the built
 * workspace) carries its README and the LICENSE, source maps whose sources are in the tarball,
 * every file its manifest points at, and no import that cannot resolve once installed.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Manifest,
  type PackedPackage,
  PUBLISHED,
  packPublished,
  REPO_ROOT,
  readManifest,
} from './publishedPackages.js';

let packed: PackedPackage[];
beforeAll(async () => {
  packed = await packPublished();
}, 120_000);

const tarball = (folder: string): PackedPackage => {
  const found = packed.find((entry) => entry.dir === `packages/${folder}`);
  if (!found) throw new Error(`packages/${folder} was not packed`);
  return found;
};
const readShipped = (pkg: PackedPackage, path: string) => readFileSync(join(REPO_ROOT, pkg.dir, path), 'utf8');

/** Every path a manifest points at: main, types, bin and each leaf of `exports`. */
function manifestTargets(manifest: Manifest): string[] {
  const targets: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.push(posix.normalize(value));
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect([manifest.main, manifest.types, manifest.bin, manifest.exports]);
  return targets;
}

/** Module specifiers in compiled JS or a declaration file: static, dynamic and `require`. */
function specifiers(code: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /^\s*(?:import|export)\s[^'";]*?\sfrom\s+['"]([^'"]+)['"]/gm,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.add(match[1] as string);
  return [...found];
}

/** Each module specifier in the tarball's runnable JS and declaration files. */
function importsOf(pkg: PackedPackage): Array<{ file: string; specifier: string }> {
  return pkg.files
    .filter((path) => /^(dist|bin)\/.*\.js$/.test(path) || path.endsWith('.d.ts'))
    .flatMap((file) => specifiers(readShipped(pkg, file)).map((specifier) => ({ file, specifier })));
}

const packageName = (specifier: string) => specifier.split('/', specifier.startsWith('@') ? 2 : 1).join('/');

describe.each(PUBLISHED)('the @ferry/%s tarball', (folder) => {
  it('carries a README and the repository LICENSE (MIT, as the manifest says)', () => {
    const pkg = tarball(folder);
    expect(pkg.files).toContain('README.md');
    expect(pkg.files).toContain('LICENSE');
    expect(readShipped(pkg, 'LICENSE')).toBe(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'));
    expect(readManifest(pkg.dir).license).toBe('MIT');
    expect(readShipped(pkg, 'README.md')).toContain(`# ${pkg.name}`);
  });

  it('ships the sources of every source map, so a stack trace or "go to definition" lands in TypeScript', () => {
    const pkg = tarball(folder);
    const maps = pkg.files.filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readShipped(pkg, map)) as {
        sources: string[];
        sourceRoot?: string;
      };
      for (const source of sources) {
        const path = posix.join(posix.dirname(map), sourceRoot, source);
        if (!pkg.files.includes(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('holds every file its manifest points at (main, types, bin, exports)', () => {
    const pkg = tarball(folder);
    const targets = manifestTargets(readManifest(pkg.dir));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((target) => !pkg.files.includes(target))).toEqual([]);
  });

  it('ships no compiled file whose source is gone (a stale dist/ from a moved or deleted module)', () => {
    const pkg = tarball(folder);
    const compiled = pkg.files.filter((path) => /^dist\/.*\.js$/.test(path));
    expect(compiled.length).toBeGreaterThan(0);
    const orphans = compiled.filter((path) => {
      const stem = path.replace(/^dist\//, 'src/').replace(/\.js$/, '');
      return !pkg.files.includes(`${stem}.ts`) && !pkg.files.includes(`${stem}.tsx`);
    });
    expect(orphans).toEqual([]);
  });

  it('ships no tests or test helpers', () => {
    const pkg = tarball(folder);
    expect(pkg.files.filter((path) => /\.test\.tsx?$|(^|\/)testing(\/|\.)/.test(path))).toEqual([]);
  });

  it('imports only its declared dependencies, peers and Node built-ins', () => {
    const pkg = tarball(folder);
    const manifest = readManifest(pkg.dir);
    const allowed = new Set([
      pkg.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...builtinModules,
    ]);
    const undeclared = importsOf(pkg).filter(
      ({ specifier }) =>
        !specifier.startsWith('.') && !specifier.startsWith('node:') && !allowed.has(packageName(specifier)),
    );
    expect(undeclared.map(({ file, specifier }) => `${file}: '${specifier}'`)).toEqual([]);
  });

  it('names the exact shipped file in each relative import (as Node and TypeScript node16/nodenext resolve it)', () => {
    const pkg = tarball(folder);
    const unresolved = importsOf(pkg).filter(({ file, specifier }) => {
      if (!specifier.startsWith('.')) return false;
      const target = posix.join(posix.dirname(file), specifier);
      // A declaration file's `./x.js` (or `./x.ts`, kept by rewriteRelativeImportExtensions) is `./x.d.ts`.
      return !pkg.files.includes(file.endsWith('.d.ts') ? target.replace(/\.(js|tsx?)$/, '.d.ts') : target);
    });
    expect(unresolved.map(({ file, specifier }) => `${file}: '${specifier}'`)).toEqual([]);
  });
});
