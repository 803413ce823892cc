/**
 * The shell commands that README.md and docs/*.md tell a reader to type: every line of a
 * `sh` code block (and of an untagged block that starts with a command), and every inline
 * code span that starts with `npm`, `npx`, `ferry` or `curl`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Commands that run one after another (a fenced block), or one inline command alone. */
export interface DocSnippet {
  /** `README.md:42`, where the block or span starts. */
  where: string;
  inline: boolean;
  /** One command per entry: continuation lines joined, comments removed. */
  commands: string[];
}

const COMMAND_START = /^(npm|npx|ferry|curl|export|cd)\b/;
const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);

/** The documents whose commands must work: README.md and every docs/*.md. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.sort().map((name) => `docs/${name}`)];
}

/** Every command snippet in one Markdown document. */
export function extractSnippets(file: string, markdown: string): DocSnippet[] {
  const snippets: DocSnippet[] = [];
  const lines = markdown.split('\n');
  const prose: string[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const fence = /^```(\S*)/.exec(lines[index] as string);
    if (!fence) {
      prose.push(lines[index] as string);
      continue;
    }
    const start = index;
    const body: string[] = [];
    for (index += 1; index < lines.length && !(lines[index] as string).startsWith('```'); index += 1) {
      body.push(lines[index] as string);
    }
    prose.push(...new Array<string>(index - start + 1).fill(''));
    const lang = fence[1] ?? '';
    const first = body.find((line) => line.trim() !== '')?.trim() ?? '';
    if (SHELL_LANGS.has(lang) || (lang === '' && COMMAND_START.test(first))) {
      snippets.push({ where: `${file}:${start + 1}`, inline: false, commands: blockCommands(body) });
    }
  }
  // Inline spans, looked for in the prose only (blocks are blanked out, line numbers kept).
  const text = prose.join('\n');
  for (const match of text.matchAll(/`([^`]+)`/g)) {
    const command = (match[1] as string).replace(/\s+/g, ' ').trim();
    // One word (`ferry`, `curl`) names a tool; a command has at least its first argument.
    if (!/^(npm|npx|ferry|curl) \S/.test(command)) continue;
    const line = text.slice(0, match.index).split('\n').length;
    snippets.push({ where: `${file}:${line}`, inline: true, commands: [command] });
  }
  return snippets;
}

/** A block's lines as commands: `\` continuations joined, `# comments` and blank lines dropped. */
function blockCommands(body: string[]): string[] {
  const commands: string[] = [];
  let pending = '';
  for (const raw of body) {
    const line = raw.replace(/(^|\s)#\s.*$/, '').trimEnd();
    if (line.trim() === '') continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    commands.push((pending + line.trim()).trim());
    pending = '';
  }
  if (pending.trim() !== '') commands.push(pending.trim());
  return commands;
}

/** Splits `a && b` into its commands (the docs use no other shell operators). */
export function splitAnd(command: string): string[] {
  return command.split(/\s+&&\s+/).map((part) => part.trim());
}

/** Reads every snippet of the documents under `root`. */
export function allSnippets(root: string): DocSnippet[] {
  return docFiles(root).flatMap((file) => extractSnippets(file, readFileSync(join(root, file), 'utf8')));
}
