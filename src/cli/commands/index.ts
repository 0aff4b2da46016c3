// Subcommands register here, one module each.
import type { Command } from 'commander';

type Register = (program: Command) => void;
const commands: Register[] = [];

export function registerAll(program: Command): void {
  for (const r of commands) r(program);
}
