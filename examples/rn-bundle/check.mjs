// The React Native bundle check: Metro bundles this app for android and ios (`--dev false`),
// as `react-native bundle` does in a release build, and hermesc compiles each bundle to Hermes
// bytecode. Twice: with every optional peer of @ferry/react-native installed (index.all.tsx,
// every subpath), and with all of them absent (index.core.tsx, the root only). Fails on a
// Metro resolution error, a Hermes compile error, or any import of a Node built-in.
//
//   node check.mjs [--out DIR]        (npm run check -w @ferry/example-rn-bundle)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : join(tmpdir(), 'ferry-rn-bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const cli = require.resolve('@react-native-community/cli/build/bin.js');
const hermesc = join(
  dirname(
    require.resolve('hermes-compiler/package.json', { paths: [dirname(require.resolve('react-native/package.json'))] }),
  ),
  'hermesc',
  { linux: 'linux64-bin', darwin: 'osx-bin', win32: 'win64-bin' }[process.platform] ?? 'linux64-bin',
  process.platform === 'win32' ? 'hermesc.exe' : 'hermesc',
);

// Ferry's own string that every bundle must carry: proof the package's code is in it.
const FERRY_MARK = 'com.ferry.sync';
const configs = [
  { name: 'all-peers', entry: 'index.all.tsx', env: {} },
  { name: 'no-optional-peers', entry: 'index.core.tsx', env: { FERRY_BUNDLE_PEERS: 'none' } },
];
const failures = [];
const failed = new Set();
const rows = [];

for (const config of configs) {
  for (const platform of ['android', 'ios']) {
    const label = `${config.name} ${platform}`;
    const bundle = join(out, `${config.name}.${platform}.js`);
    const builtinsLog = join(out, `${config.name}.${platform}.builtins.txt`);
    const metroStart = performance.now();
    const metro = spawnSync(
      process.execPath,
      [
        cli,
        'bundle',
        '--entry-file',
        config.entry,
        '--platform',
        platform,
        '--dev',
        'false',
        '--bundle-output',
        bundle,
        '--assets-dest',
        join(out, `assets-${config.name}-${platform}`),
      ],
      { cwd: here, encoding: 'utf8', env: { ...process.env, ...config.env, FERRY_BUNDLE_BUILTINS: builtinsLog } },
    );
    const metroSeconds = (performance.now() - metroStart) / 1000;
    if (metro.status !== 0 || !existsSync(bundle)) {
      failed.add(label);
      failures.push(`${label}: Metro failed\n${metro.stdout}\n${metro.stderr}`);
      continue;
    }
    if (existsSync(builtinsLog)) {
      failed.add(label);
      failures.push(`${label}: imports of Node built-ins:\n${readFileSync(builtinsLog, 'utf8')}`);
    }
    if (!readFileSync(bundle, 'utf8').includes(FERRY_MARK)) {
      failed.add(label);
      failures.push(`${label}: the bundle does not contain @ferry/react-native (no "${FERRY_MARK}")`);
    }
    const bytecode = `${bundle.slice(0, -3)}.hbc`;
    const hermesStart = performance.now();
    try {
      // -w: Hermes warns about globals it cannot see (setTimeout...); only errors fail.
      execFileSync(hermesc, ['-emit-binary', '-O', '-w', '-out', bytecode, bundle], { stdio: 'pipe' });
    } catch (error) {
      failed.add(label);
      failures.push(`${label}: hermesc failed\n${error.stderr?.toString() ?? error}`);
      continue;
    }
    const hermesSeconds = (performance.now() - hermesStart) / 1000;
    rows.push({
      config: label,
      'bundle KiB': Math.round(statSync(bundle).size / 1024),
      'hbc KiB': Math.round(statSync(bytecode).size / 1024),
      'metro s': Number(metroSeconds.toFixed(1)),
      'hermesc s': Number(hermesSeconds.toFixed(1)),
    });
  }
}

if (rows.length > 0) console.table(rows);
for (const failure of failures) console.error(`FAIL ${failure}`);
const total = configs.length * 2;
console.log(`rn-bundle: ${total - failed.size} passed, ${failed.size} failed`);
process.exit(failures.length > 0 ? 1 : 0);
