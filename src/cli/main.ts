#!/usr/bin/env node
// The CLI entry: the command line (program.ts) run on argv, and the one place
// errors become exit codes and one-line messages (exit.ts). Nothing imports
// this module. `--version` alone is answered before the command line is built
// (what commander would print, without loading it).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TOOL } from '../version.js';
import { exitFor } from './exit.js';
import { stdoutText } from './output.js';

export async function main(argv: string[]): Promise<void> {
  try {
    const args = argv.slice(2);
    if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
      stdoutText(`${TOOL.version}\n`);
      return;
    }
    const { buildProgram } = await import('./program.js');
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitFor(err);
  }
}

// Run when executed, not when imported by tests.
// No top-level await: the single executable's main script is CommonJS.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv);
}
