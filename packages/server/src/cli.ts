#!/usr/bin/env node
/** The `ferry` executable; everything testable lives in `cli/`. */
import { runCli } from './cli/runCli.js';

const code = await runCli(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
