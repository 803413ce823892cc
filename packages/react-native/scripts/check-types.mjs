// Type checks that need the built package (dist/) and the real peers' declarations:
//
// 1. test/types/consumer.mts imports every export as an app does (package.json exports →
//    dist/*.d.ts) under moduleResolution bundler, node16 and nodenext: an export whose types
//    do not resolve would silently be `any`, and the file fails to compile if one is.
// 2. Every ```ts / ```tsx snippet of docs/react-native.md compiles against the real packages
//    (and every ```json snippet parses). A snippet whose first line is a `// name.ts(x)`
//    comment is saved under that name beside the other snippets of its `##` section (and,
//    unless that section has its own, of every other section), so snippets import each other.
// 3. test/types/peers.ts: the peers' real default exports and classes are accepted as they
//    ship, including peers this package does not install (expo-sqlite pulls in all of Expo;
//    AsyncStorage 3 has another native module): their declarations are fetched with
//    `npm pack` (cached in node_modules/.cache) and only typechecked.
// 4. examples/rn-bundle typechecks.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const cache = join(root, 'node_modules/.cache/ferry-check-types');
const failures = [];

/** Declarations of peers that are only typechecked: name → [npm spec, entry inside the package]. */
const PACKED_TYPES = {
  'expo-sqlite': ['expo-sqlite@57.0.3', 'build/index.d.ts'],
  'async-storage-v3': ['@react-native-async-storage/async-storage@3.1.1', 'lib/typescript/index.d.ts'],
};

function run(label, args) {
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd: pkg, stdio: 'pipe', encoding: 'utf8' });
    console.log(`ok   ${label}`);
  } catch (error) {
    failures.push(label);
    console.log(`FAIL ${label}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

function packedTypes() {
  const paths = {};
  for (const [alias, [spec, entry]] of Object.entries(PACKED_TYPES)) {
    const dir = join(cache, spec.replaceAll('/', '+'));
    if (!existsSync(join(dir, 'package', entry))) {
      mkdirSync(dir, { recursive: true });
      const tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', dir], {
        encoding: 'utf8',
      }).trim();
      execFileSync('tar', ['xzf', join(dir, tarball.split('\n').at(-1)), '-C', dir]);
    }
    paths[alias] = [join(dir, 'package', entry)];
  }
  return paths;
}

/** A tsconfig for app code: what a React Native app's own tsconfig sets. */
function appConfig(files, paths = {}) {
  return {
    compilerOptions: {
      target: 'es2022',
      lib: ['es2022'],
      module: 'esnext',
      moduleResolution: 'bundler',
      jsx: 'react-jsx',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      paths,
    },
    files,
  };
}

// 1. The built package's types under each resolution mode.
mkdirSync(cache, { recursive: true });
for (const [resolution, module] of [
  ['bundler', 'esnext'],
  ['node16', 'node16'],
  ['nodenext', 'nodenext'],
]) {
  const config = appConfig([join(pkg, 'test/types/consumer.mts')]);
  Object.assign(config.compilerOptions, { module, moduleResolution: resolution });
  const file = join(cache, `consumer.${resolution}.tsconfig.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  run(`types resolve under moduleResolution ${resolution}`, ['-p', file]);
}

// 2. The docs' snippets, and 3. the peers' real types.
const paths = packedTypes();
const snippetsDir = join(cache, 'doc-snippets');
rmSync(snippetsDir, { recursive: true, force: true });
const docs = readFileSync(join(root, 'docs/react-native.md'), 'utf8');
const sections = [];
let section = { slug: 'intro', files: new Map() };
sections.push(section);
let unnamed = 0;
for (const match of docs.matchAll(/^## (.+)$|^```(\w+)\n([\s\S]*?)^```$/gm)) {
  const [, heading, lang, code] = match;
  if (heading) {
    section = { slug: heading.toLowerCase().replace(/[^a-z0-9]+/g, '-'), files: new Map() };
    sections.push(section);
  } else if (lang === 'json') {
    try {
      JSON.parse(code);
    } catch (error) {
      failures.push(`docs json snippet: ${error.message}`);
      console.log(`FAIL docs json snippet\n${code}`);
    }
  } else if (lang === 'ts' || lang === 'tsx') {
    const named = /^\/\/ ([\w.-]+\.tsx?)\b/.exec(code);
    section.files.set(named ? named[1] : `snippet-${++unnamed}.${lang}`, code);
  }
}
const shared = new Map();
for (const { files } of sections) for (const [name, code] of files) if (!shared.has(name)) shared.set(name, code);
const snippetFiles = [];
for (const { slug, files } of sections) {
  if (files.size === 0) continue;
  const dir = join(snippetsDir, slug);
  mkdirSync(dir, { recursive: true });
  for (const [name, code] of [...shared, ...files]) writeFileSync(join(dir, name), code);
  for (const name of files.keys()) snippetFiles.push(join(dir, name));
}
writeFileSync(
  join(snippetsDir, 'app.d.ts'),
  '// What the snippets take from the app around them.\ndeclare const auth: { getAccessToken(): Promise<string> };\n',
);
const snippetsConfig = join(snippetsDir, 'tsconfig.json');
writeFileSync(
  snippetsConfig,
  JSON.stringify(
    appConfig([join(snippetsDir, 'app.d.ts'), ...snippetFiles, join(pkg, 'test/types/peers.ts')], paths),
    null,
    2,
  ),
);
console.log(
  `     ${snippetFiles.length} snippets: ${snippetFiles.map((file) => relative(snippetsDir, file)).join(', ')}`,
);
run('docs/react-native.md snippets and the peers’ real types', ['-p', snippetsConfig]);

// 4. The bundle-check app.
run('examples/rn-bundle', ['-p', join(root, 'examples/rn-bundle/tsconfig.json')]);

if (failures.length > 0) {
  console.log(`check-types: ${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
