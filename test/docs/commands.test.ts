/**
 * Every shell command in README.md and docs/*.md works as written in a checkout after
 * `npm ci` and `npm run build`. Each command is run here when it can be (`ferry serve` in all
 * its documented forms, `npm start`'s server, `curl`, `--help`, `export`), or else checked as
 * far as this machine allows: CI runs it verbatim, its npm script or file exists, or the
 * packages it installs into an app are Ferry's or its peers. A command no rule knows fails the
 * test, so a new one in the docs gets a check.
 *
 * Commands run in a sandbox that links every top-level entry of the repository but `data/`, so
 * `npx ferry` and relative paths resolve as in the checkout while databases stay in a temp dir.
 * The one change made to a command is its port (8787 → a free loopback port), so runs in
 * parallel never collide.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED, REPO_ROOT, readManifest } from '../packaging/publishedPackages.js';
import { freePort } from '../support/freePort.js';
import { allSnippets, type DocSnippet, splitAnd } from './docCommands.js';

const exec = promisify(execFile);
const DOC_PORT = '8787';

let sandbox: string;
let running: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(join(REPO_ROOT, 'node_modules/.bin/ferry'))) {
    throw new Error(
      'node_modules/.bin/ferry is missing: npm links it at install time. Run `npm install` (or `npm ci`).',
    );
  }
  sandbox = mkdtempSync(join(tmpdir(), 'ferry-docs-'));
  for (const entry of readdirSync(REPO_ROOT)) {
    if (entry !== 'data' && entry !== '.git') symlinkSync(join(REPO_ROOT, entry), join(sandbox, entry));
  }
});
afterEach(async () => {
  await Promise.all(running.map(stop));
  running = [];
  rmSync(join(sandbox, 'data'), { recursive: true, force: true });
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

/** The environment a reader's shell has: no Ferry settings until a command sets them. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('FERRY_')) delete env[name];
  return env;
}

/** Runs one shell command in the sandbox; resolves with its standard output, rejects on a non-zero exit. */
async function shell(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await exec('bash', ['-c', command], { cwd: sandbox, env, timeout: 60_000 });
  return stdout;
}

/** Waits (bounded) until a running server has printed `pattern`. */
async function printed(server: Started, pattern: RegExp): Promise<void> {
  for (let attempt = 0; attempt < 100 && !pattern.test(server.output()); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(server.output()).toMatch(pattern);
}

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
}

/** Starts a long-running server command and waits (bounded) until it answers /health. */
async function startServer(command: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const port = await freePort();
  const withPort = command.includes(`--port ${DOC_PORT}`)
    ? command.replace(`--port ${DOC_PORT}`, `--port ${port}`)
    : `${command} --port ${port}`;
  // Its own process group, so stopping it also stops what npx started under it.
  const child = spawn('bash', ['-c', `exec ${withPort}`], { cwd: sandbox, env, detached: true });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  for (let attempt = 0; attempt < 300 && child.exitCode === null; attempt += 1) {
    const healthy = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { child, port, output: () => output };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`\`${withPort}\` did not answer /health:\n${output}`);
}

/** Whether any process of the group `pid` leads is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the server's process group (npx and the server under it); resolves once all have exited (bounded). */
async function stop(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !groupAlive(pid)) return;
  process.kill(-pid, 'SIGTERM');
  for (let attempt = 0; attempt < 300 && groupAlive(pid); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (groupAlive(pid)) {
    process.kill(-pid, 'SIGKILL');
    throw new Error('the server did not stop within 15 s of SIGTERM');
  }
}

const rootManifest = readManifest('.');
const rootScripts = rootManifest.scripts ?? {};
const ciScript = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
const ciRuns = (command: string) =>
  new RegExp(`(^|\\n)${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(ciScript);

/** The package.json of `-w <workspace>` (a folder or a package name), or the root's. */
function scriptsOf(workspace: string | undefined): Record<string, string> {
  if (workspace === undefined) return rootScripts;
  const folder = rootManifest.workspaces?.find((dir) => dir === workspace || readManifest(dir).name === workspace);
  if (!folder) throw new Error(`-w ${workspace} is not a workspace`);
  return readManifest(folder).scripts ?? {};
}

/** What an app may be told to install: Ferry's packages and @ferry/react-native's peers. */
function installable(): Set<string> {
  const names = new Set<string>();
  for (const folder of PUBLISHED) {
    const manifest = readManifest(`packages/${folder}`);
    names.add(manifest.name);
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) names.add(peer);
  }
  return names;
}

/** One command of a snippet, with what the commands before it left behind. */
interface Step {
  command: string;
  /** It has a value for the reader to fill in (`…`, `<file>`). */
  placeholder: boolean;
  /** The shell's environment, changed by `export`. */
  env: NodeJS.ProcessEnv;
  /** Servers the snippet started, newest last; stopped after its last command. */
  servers: Started[];
}

/** How each kind of documented command is run or checked; the first matching rule applies. */
const RULES: Array<[RegExp, (match: RegExpExecArray, step: Step) => Promise<string>]> = [
  [
    /^export ([A-Z_]+)=(.*)$/,
    async ([command, name], { env, placeholder }) => {
      if (placeholder) return 'a value for the reader to fill in';
      env[name as string] = await shell(`${command}\nprintf %s "$${name}"`, env);
      if (name === 'FERRY_JWT_SECRET') expect(Buffer.byteLength(env[name] as string)).toBeGreaterThanOrEqual(32);
      return 'evaluated';
    },
  ],
  [
    /^(?:npx )?ferry(?: (.*))?$/,
    async ([, args = ''], { env, placeholder, servers }) => {
      if (args.includes('--help')) {
        expect(await shell(`npx ferry ${args}`, env)).toMatch(/Usage: ferry serve/);
        return 'ran, printed the usage';
      }
      if (placeholder) {
        const usage = await shell('npx ferry serve --help', baseEnv());
        for (const flag of args.match(/--[a-z-]+/g) ?? []) expect(usage, `ferry serve ${flag}`).toContain(flag);
        return 'has placeholders; every flag is one `ferry serve --help` lists';
      }
      // Prose names the command `ferry`; a reader runs it through npx as the README shows. A server
      // without --dev needs its secret, which the README's server section exports first.
      if (!args.includes('--dev') && env.FERRY_JWT_SECRET === undefined) {
        env.FERRY_JWT_SECRET = randomBytes(48).toString('base64');
      }
      servers.push(await startServer(`npx ferry ${args}`, env));
      return 'started, answered /health';
    },
  ],
  [
    /^npm start$/,
    async (_match, { env, servers }) => {
      const [build, serve, ...rest] = splitAnd(rootScripts.start as string);
      expect(build).toBe('npm run build');
      expect(ciRuns('npm run build')).toBe(true);
      expect(rest).toEqual([]);
      // What the README says `npm start` does: `ferry serve --dev` on ./data/ferry.db, tokens printed.
      expect(serve).toMatch(/^ferry serve --dev\b/);
      // npm runs a script with the workspace's bins on PATH.
      const server = await startServer(serve as string, {
        ...env,
        PATH: `${join(sandbox, 'node_modules/.bin')}:${env.PATH}`,
      });
      servers.push(server);
      expect(existsSync(join(sandbox, 'data/ferry.db'))).toBe(true);
      await printed(server, /dev token for alice: ey/);
      await printed(server, /dev token for bob: ey/);
      return `its build is CI's; ran "${serve}", answered /health, printed dev tokens`;
    },
  ],
  [
    /^curl (.*)$/,
    async ([command], { env, servers }) => {
      const server = servers.at(-1);
      if (!server) throw new Error(`${command} needs a server started before it`);
      const output = await shell((command as string).replaceAll(`:${DOC_PORT}`, `:${server.port}`), env);
      if (command?.endsWith('/health')) expect(JSON.parse(output)).toEqual({ status: 'ok' });
      return 'ran against the server above';
    },
  ],
  [
    /^npm ci$|^npm run build$|^npm run lint$/,
    async ([command]) => {
      expect(ciRuns(command as string), `.ci/run runs ${command}`).toBe(true);
      return 'CI runs it verbatim';
    },
  ],
  [
    /^npm test$/,
    async () => {
      const parts = splitAnd(rootScripts.test as string);
      for (const part of parts) expect(ciRuns(part), `.ci/run runs ${part}`).toBe(true);
      return `CI runs its parts (${parts.join(', ')})`;
    },
  ],
  [
    /^npm run (\S+)(?: -w (\S+))?(?: -- .*)?$/,
    async ([command, script, workspace]) => {
      expect(Object.keys(scriptsOf(workspace)), `npm script ${script}`).toContain(script);
      return ciRuns(command as string) ? 'CI runs it verbatim' : 'its npm script exists';
    },
  ],
  [
    /^npx (?:tsx (\S+)|vitest run (.+))/,
    async ([, script, tests]) => {
      const paths = script ? [script] : (tests as string).split(' ');
      for (const path of paths) expect(existsSync(join(REPO_ROOT, path)), path).toBe(true);
      return `${paths.join(', ')} exist`;
    },
  ],
  [
    /^(?:npm install|npx expo install) (.+)$/,
    async ([, names]) => {
      const known = installable();
      for (const name of (names as string).split(' ')) expect(known, `${name}: not Ferry's nor a peer`).toContain(name);
      return "for an app; installs Ferry's packages and their declared peers";
    },
  ],
  [
    /^cd ios$|^pod install$|^npx expo run:(android|ios)$/,
    async () => 'a native build step in an app, not runnable here',
  ],
];

/** Runs or checks one snippet's commands in order; returns a line per command saying how. */
async function check(snippet: DocSnippet): Promise<string[]> {
  const env = baseEnv();
  const servers: Started[] = [];
  const done: string[] = [];
  const commands = snippet.commands.flatMap(splitAnd);
  // An inline `curl` is the README's check of `npm start`: run it against that server.
  if (snippet.inline && commands[0]?.startsWith('curl ')) commands.unshift('npm start');
  for (const full of commands) {
    // Leading VAR=value assignments apply to that one command; the rules look at the rest.
    const command = full.replace(/^(?:[A-Z_]+=\S+\s+)*/, '');
    const rule = RULES.find(([pattern]) => pattern.test(command));
    if (!rule) throw new Error(`${snippet.where}: no rule for \`${command}\`; run it here or say why it cannot run`);
    const step = { command, placeholder: /…|<[a-z]+>/.test(full), env, servers };
    done.push(`${command}: ${await rule[1](rule[0].exec(command) as RegExpExecArray, step)}`);
  }
  await Promise.all(servers.map(({ child }) => stop(child)));
  for (const { port } of servers) {
    await expect(fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })).rejects.toThrow();
  }
  return done;
}

const seen = new Set<string>();
const snippets = allSnippets(REPO_ROOT).filter((snippet) => {
  // The same inline command mentioned twice is checked once.
  const key = snippet.commands.join('\n');
  if (snippet.inline && seen.has(key)) return false;
  seen.add(key);
  return true;
});

describe('the commands in README.md and docs/*.md', () => {
  it('are found (the README has its server section)', () => {
    expect(snippets.length).toBeGreaterThan(20);
    const readme = snippets.filter((snippet) => snippet.where.startsWith('README.md')).flatMap((s) => s.commands);
    expect(readme).toContain('npx ferry serve --port 8787 --db ./data/ferry.db --schema examples/todo/schema.json');
  });

  it.each(snippets.map((snippet) => [`${snippet.where} ${snippet.commands.join(' ; ')}`, snippet] as const))(
    '%s',
    async (_name, snippet) => {
      const done = await check(snippet);
      expect(done.length).toBeGreaterThan(0);
    },
    60_000,
  );
});
