#!/usr/bin/env node
// The CLI entry: the root command (`knetstat-java <pid>`, or the host views
// without one), the subcommands, and the one place errors become exit codes
// and one-line messages (exit.ts). Nothing imports this module.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formats } from '../render/index.js';
import { TOOL } from '../version.js';
import { registerCheck } from './commands/check.js';
import { hostViews, registerList } from './commands/list.js';
import { registerOwner } from './commands/owner.js';
import { reportCommand } from './commands/report.js';
import { registerSnapshot } from './commands/snapshot.js';
import { exitFor } from './exit.js';
import { addCaptureOptions, formatOption, outputOption, type ReportFlags } from './options.js';

type RootFlags = ReportFlags & { all?: boolean; allProcesses?: boolean };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('knetstat-java')
    .description('Show the socket options of a running JVM, and the Java calls that set them')
    .version(TOOL.version)
    .argument('[pid]', 'process id of the JVM (without it: the JVMs on this host, as `list`)')
    .addOption(formatOption(formats()));
  addCaptureOptions(program)
    .addOption(outputOption())
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => { /* main() prints one line */ } })
    .action(async (pid: string | undefined, flags: RootFlags) => {
      process.exitCode = pid === undefined ? await hostViews(flags) : await reportCommand(pid, flags);
    });
  for (const register of [registerCheck, registerSnapshot, registerList, registerOwner]) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
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
