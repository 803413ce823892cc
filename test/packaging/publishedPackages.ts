/**
 * The packages Ferry publishes, and what `npm pack` puts in their tarballs. Shared by the
 * tarball-contents test and the install check, so both look at exactly what a user downloads.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The published packages, by workspace folder (in dependency order: each after what it needs). */
export const PUBLISHED = ['protocol', 'client', 'server', 'react-native'] as const;

/** One package as `npm pack --json` describes its tarball. */
export interface PackedPackage {
  /** Workspace folder, e.g. `packages/client`. */
  dir: string;
  name: string;
  version: string;
  /** The tarball's file name (written only when packing for real). */
  filename: string;
  /** Compressed size in bytes. */
  size: number;
  unpackedSize: number;
  /** Paths inside the package, e.g. `dist/index.js`. */
  files: string[];
}

const run = promisify(execFile);

/**
 * Runs `npm pack --json` on the published workspaces: into `destination` when given, else as a
 * dry run that only lists the files. Needs `npm run build` first (the tarballs carry dist/).
 */
export async function packPublished(destination?: string): Promise<PackedPackage[]> {
  const args = ['pack', '--json', '--ignore-scripts'];
  for (const name of PUBLISHED) args.push('--workspace', `packages/${name}`);
  args.push(...(destination === undefined ? ['--dry-run'] : ['--pack-destination', destination]));
  const { stdout } = await run('npm', args, { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024, timeout: 120_000 });
  const packed = JSON.parse(stdout) as Array<Omit<PackedPackage, 'files' | 'dir'> & { files: Array<{ path: string }> }>;
  return PUBLISHED.map((folder) => {
    const dir = `packages/${folder}`;
    const entry = packed.find((candidate) => candidate.name === readManifest(dir).name);
    if (!entry) throw new Error(`npm pack did not report ${dir}`);
    const { name, version, filename, size, unpackedSize } = entry;
    return { dir, name, version, filename, size, unpackedSize, files: entry.files.map((file) => file.path).sort() };
  });
}

/** The package.json fields these checks read. */
export interface Manifest {
  name: string;
  version: string;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  scripts?: Record<string, string>;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A workspace's package.json (`.` for the root's), parsed. */
export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8'));
}
