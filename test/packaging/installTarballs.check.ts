/**
 * Ferry as a user gets it: the four packages packed with `npm pack`, installed from those
 * tarballs (third-party packages from the npm registry, through npm's cache) into a fresh
 * project in the temp dir, outside the workspace. There, the installed `ferry` bin serves on
 * loopback, a two-device script on `@ferry/client` + `@ferry/client/better-sqlite3` syncs
 * through it, and the consumer's files typecheck under moduleResolution bundler, node16 and
 * nodenext with nothing turning into `any`.
 *
 * Slow (an npm install), so not part of `npm run test:node`: `npm run test:packaging` runs
 * it after `npm run build`, and so does CI. `KEEP=1 npm run test:packaging` keeps the project
 * (its path is in the temp dir, `ferry-consumer-*`) to look at afterwards.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/freePort.js';
import { type PackedPackage, packPublished, REPO_ROOT } from './publishedPackages.js';

const exec = promisify(execFile);
const CONSUMER_FILES = join(REPO_ROOT, 'test/packaging/consumer');

/** The version the workspace has installed, so the consumer's install is served from npm's cache. */
const installed = (name: string): string =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

let project: string;
let packed: PackedPackage[];
let server: ChildProcess | undefined;

/** Runs a command in the consumer project; rejects with its output on a non-zero exit. */
async function inProject(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  try {
    return await exec(command, args, { cwd: project, env, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'ferry-consumer-'));
  mkdirSync(join(project, 'tarballs'));
  packed = await packPublished(join(project, 'tarballs'));
  const fromTarball = Object.fromEntries(packed.map((pkg) => [pkg.name, `file:./tarballs/${pkg.filename}`]));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'ferry-consumer',
        private: true,
        type: 'module',
        dependencies: {
          ...fromTarball,
          'better-sqlite3': installed('better-sqlite3'),
          jose: `^${installed('jose')}`,
          react: installed('react'),
          'react-native': installed('react-native'),
        },
        devDependencies: {
          typescript: installed('typescript'),
          '@types/node': installed('@types/node'),
          '@types/react': installed('@types/react'),
        },
        // @ferry/client asks for @ferry/protocol 0.1.0 and so on: the tarballs answer, never the registry.
        overrides: Object.fromEntries(packed.map((pkg) => [pkg.name, `$${pkg.name}`])),
      },
      null,
      2,
    ),
  );
  for (const file of ['sync.ts', 'types.ts', 'types-react-native.ts'])
    copyFileSync(join(CONSUMER_FILES, file), join(project, file));
  // Install scripts are off: the only one needed is better-sqlite3's native build, and the
  // workspace has built that exact version for this Node already. Everything else is npm's job.
  await inProject('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  const binary = 'node_modules/better-sqlite3/build';
  if (
    installed('better-sqlite3') ===
    JSON.parse(readFileSync(join(project, 'node_modules/better-sqlite3/package.json'), 'utf8')).version
  ) {
    cpSync(join(REPO_ROOT, binary), join(project, binary), { recursive: true });
  } else {
    await inProject('npm', ['rebuild', 'better-sqlite3']);
  }
}, 600_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  }
  if (project && !process.env.KEEP) rmSync(project, { recursive: true, force: true });
});

describe('the packed packages, installed into a fresh project', () => {
  it('came from the tarballs, not from the workspace', () => {
    for (const pkg of packed) {
      const manifest = join(project, 'node_modules', pkg.name, 'package.json');
      expect(JSON.parse(readFileSync(manifest, 'utf8')).version).toBe(pkg.version);
      expect(existsSync(join(project, 'node_modules', pkg.name, 'LICENSE'))).toBe(true);
      expect(existsSync(join(project, 'node_modules', pkg.name, 'README.md'))).toBe(true);
    }
    expect(project.startsWith(REPO_ROOT)).toBe(false);
  });

  it('sync two devices through a server started from the installed ferry bin', async () => {
    const port = await freePort();
    const secret = randomBytes(48).toString('base64');
    const env = { ...process.env, FERRY_JWT_SECRET: secret, FERRY_LOG_LEVEL: 'warn' };
    server = spawn(
      'npx',
      ['ferry', 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', 'server/ferry.db'],
      {
        cwd: project,
        env,
        detached: true,
      },
    );
    let output = '';
    server.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    server.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    let healthy = false;
    for (let attempt = 0; attempt < 300 && !healthy && server.exitCode === null; attempt += 1) {
      healthy = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(healthy, output).toBe(true);
    expect(output).not.toMatch(/dev token/i);

    await inProject('npx', [
      'tsc',
      '--outDir',
      'out',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      'sync.ts',
    ]);
    mkdirSync(join(project, 'devices'));
    const { stdout } = await inProject('node', ['out/sync.js'], {
      ...process.env,
      FERRY_URL: `http://127.0.0.1:${port}`,
      FERRY_JWT_SECRET: secret,
      FERRY_DATA_DIR: join(project, 'devices'),
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result).toMatchObject({
      ok: true,
      received: { title: 'Buy milk', completed: false },
      back: { completed: true },
    });
    expect(existsSync(join(project, 'devices/phone.db'))).toBe(true);
    expect(existsSync(join(project, 'devices/tablet.db'))).toBe(true);
  }, 120_000);

  it.each([
    ['bundler', 'types.ts'],
    ['node16', 'types.ts'],
    ['nodenext', 'types.ts'],
    ['bundler', 'types-react-native.ts'],
    ['node16', 'types-react-native.ts'],
    ['nodenext', 'types-react-native.ts'],
  ])('typecheck under moduleResolution %s: %s, every import typed (no any)', async (resolution, file) => {
    await inProject('npx', ['tsc', '-p', writeTsconfig(resolution, ['sync.ts', file])]);
  });

  it('the typecheck fails on an import that is any or unresolved (the probes can fail)', async () => {
    // An unresolved import inside a declaration file, as in a package whose types are broken.
    writeFileSync(join(project, 'broken.d.ts'), "export { hidden } from './nowhere';\n");
    writeFileSync(
      join(project, 'canary.ts'),
      [
        "import { hidden } from './broken.js';",
        'declare function onlyASymbol(value: symbol): void;',
        'declare const loose: any;',
        '// @ts-expect-error',
        'onlyASymbol(hidden);',
        '// @ts-expect-error',
        'onlyASymbol(loose);',
        '',
      ].join('\n'),
    );
    const failure = await inProject('npx', ['tsc', '-p', writeTsconfig('nodenext', ['canary.ts'])]).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(failure.match(/canary\.ts\(\d+,1\): error TS2578/g)).toHaveLength(2);
  });
});

/** Writes the consumer's tsconfig for one module resolution, as an app on Node would have it. */
function writeTsconfig(resolution: string, files: string[]): string {
  const name = `tsconfig.${resolution}.json`;
  const compilerOptions = {
    module: resolution === 'bundler' ? 'esnext' : resolution,
    moduleResolution: resolution,
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: ['node'],
    strict: true,
    // As apps have it (React Native's template too): the reason an unresolved import in a
    // package's declarations goes unnoticed, and why types.ts probes for `any`.
    skipLibCheck: true,
    noEmit: true,
  };
  writeFileSync(join(project, name), JSON.stringify({ compilerOptions, files }));
  return name;
}
