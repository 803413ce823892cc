import { runServe, SERVE_USAGE, type ServeDeps, StartupError, UsageError } from './runServe.js';

/**
 * The `ferry` command: dispatches `serve` (also the default). Resolves to an exit code for a
 * command that is done, or to `undefined` while a server keeps the process alive.
 */
export async function runCli(argv: readonly string[], deps: ServeDeps = {}): Promise<number | undefined> {
  const print = deps.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const printError = (line: string) => process.stderr.write(`${line}\n`);
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === 'help' || rest.includes('--help')) {
    print(SERVE_USAGE);
    return 0;
  }
  if (command !== 'serve') {
    printError(`Unknown command "${command}".\n\n${SERVE_USAGE}`);
    return 2;
  }
  try {
    await runServe(rest, deps);
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) {
      printError(`${error.message}\n\n${SERVE_USAGE}`);
      return 2;
    }
    if (error instanceof StartupError) {
      printError(`ferry serve: refusing to start. ${error.message}`);
      return 1;
    }
    printError(`ferry serve failed: ${(error as Error).message}`);
    return 1;
  }
}
