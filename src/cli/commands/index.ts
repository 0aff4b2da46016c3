// Subcommands register here, one module each.
import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerSnapshot } from './snapshot.js';
import { registerList } from './list.js'; // host views (list, --all, no-pid)
import { registerOwner } from './owner.js';
import { registerBpfCheck } from './bpfcheck.js';

type Register = (program: Command) => void;
const commands: Register[] = [registerCheck, registerSnapshot, registerList, registerOwner, registerBpfCheck];

export function registerAll(program: Command): void {
  for (const r of commands) r(program);
}
