// The command line: every command's arguments, options and description, and
// an action that imports the command's module (cli/commands/) only when that
// command runs, so --help, --version and each command load no more than they
// use. Commands never import this module (nor the entry, main.ts).
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { formats } from '../render/index.js';
import { TOOL } from '../version.js';
import { addCaptureOptions, formatOption, outputOption, type CaptureFlags, type ReportFlags } from './options.js';
import { mayBeTerminal, stdoutText } from './output.js';

type RootFlags = ReportFlags & { all?: boolean; allProcesses?: boolean };
type CheckFlags = ReportFlags & { policy?: string; expect?: string[]; snapshot?: string; allJvms?: boolean };

/** The check formats (check/render.ts's table, whose JUnit part loads only when chosen). */
const CHECK_FORMATS = ['text', 'json', 'junit'];

function rootCommand(): Command {
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
    .configureOutput({
      outputError: () => { /* main() prints one line */ },
      // Help goes to fd 1 as a report does: process.stdout would be made (Node's stream
      // modules, ~2.5 ms of a start) only to learn that it is not a terminal. No styles are
      // configured, so colour support decides nothing but whether commander strips them.
      writeOut: stdoutText,
      // undefined, as commander's own answer off a terminal (its types say number): its default width.
      getOutHelpWidth: () => (mayBeTerminal(1) && process.stdout.isTTY ? process.stdout.columns : undefined as unknown as number),
      getOutHasColors: () => mayBeTerminal(1) && process.stdout.isTTY && process.stdout.hasColors(),
    })
    .action(async (pid: string | undefined, flags: RootFlags) => {
      if (pid === undefined && flags.observe !== undefined) throw new UsageError('--observe needs the pid of the JVM to observe');
      process.exitCode = pid === undefined
        ? await (await import('./commands/list.js')).hostViews(flags)
        : await (await import('./commands/report.js')).reportCommand(pid, flags);
    });
  return program;
}

function addCheck(program: Command): void {
  // Subcommand options after the subcommand name belong to it, not to the report's own -f/-o/-q.
  program.enablePositionalOptions();
  const cmd = program
    .command('check')
    .description('check sockets against a policy (exit 0 pass, 1 a rule failed, 2 bad input, 3 a value could not be read)')
    .argument('[pid]', 'process id of the JVM (or --snapshot FILE)')
    .option('-p, --policy <file>', 'policy JSON (see README "Checks")')
    .option('-e, --expect <spec>', "quick rule 'remotePort=5432:SO_KEEPALIVE=1' (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--snapshot <file>', 'check a snapshot file instead of a live process')
    .option('--all-jvms', 'check every JVM on this host (as `list` shows them), in one result')
    .addOption(formatOption(CHECK_FORMATS, { choices: true }))
    .addOption(outputOption('the result'));
  addCaptureOptions(cmd)
    .action(async (pid: string | undefined, flags: CheckFlags) => {
      process.exitCode = await (await import('./commands/check.js')).checkCommand(pid, flags);
    });
}

function addSnapshot(program: Command): void {
  program.enablePositionalOptions();
  addCaptureOptions(program
    .command('snapshot')
    .description('write what the tool reads from a JVM to a file (render it anywhere with `render`)')
    .argument('<pid>', 'process id of the JVM')
    .option('-o, --output <file>', 'snapshot file (created only when complete; default: stdout)')
    .option('--redact', 'hide addresses (not loopback), hostname, user and command-line arguments (see README "Snapshots")'))
    .action(async (pid: string, flags: CaptureFlags & { output?: string; redact?: boolean }) => {
      process.exitCode = await (await import('./commands/snapshot.js')).snapshotCommand(pid, flags);
    });
  program
    .command('render')
    .description('render a snapshot file as a report (no root, no JVM needed)')
    .argument('<file>', 'snapshot written by `knetstat-java snapshot`')
    .addOption(formatOption(formats()))
    .addOption(outputOption())
    .action(async (file: string, flags: { format: string; output?: string }) => {
      process.exitCode = await (await import('./commands/snapshot.js')).renderCommand(file, flags);
    });
}

function addList(program: Command): void {
  program.option('--all', 'every TCP/UDP socket of this host (network namespace), as the knetstat tables (-f knetstat|json)');
  program.option('--all-processes', 'without a pid: list every process, not only JVMs');
  program
    .command('list')
    .description('the JVMs on this host: pid, user, JDK, main class, sockets, namespaces (like jps -l)')
    .option('--all-processes', 'include processes that are not JVMs')
    .addOption(formatOption(['text', 'json'], { choices: true }))
    .addOption(outputOption('the list'))
    .action(async (flags: { format: string; allProcesses?: boolean; output?: string }) => {
      process.exitCode = await (await import('./commands/list.js')).listCommand(flags);
    });
}

function addOwner(program: Command): void {
  program
    .command('owner')
    .description('the process(es) holding a socket, by inode or [address:]port, and whether they are JVMs')
    .argument('<socket>', 'socket inode, port, or address:port (127.0.0.1:8080, [::1]:8080)')
    .addOption(formatOption(['text', 'json'], { choices: true }))
    .action(async (query: string, flags: { format: string }) => {
      process.exitCode = await (await import('./commands/owner.js')).ownerCommand(query, flags);
    });
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`not a positive integer: '${v}'`);
  return n;
}

function addBpfCheck(program: Command): void {
  program
    .command('bpf-selfcheck')
    .description('check the bpf source against getsockopt on sockets of its own (no JVM needed)')
    .option('--seed <n>', 'seed of the option mix', positive, 1)
    .option('--rounds <n>', 'rounds of sockets (each: a listener, client, accepted socket, UDP socket...)', positive, 12)
    .addOption(formatOption(['text', 'json'], { choices: true }))
    .action(async (flags: { seed: number; rounds: number; format: string }) => {
      process.exitCode = await (await import('./commands/bpfcheck.js')).bpfCheckCommand(flags);
    });
}

export function buildProgram(): Command {
  const program = rootCommand();
  for (const add of [addCheck, addSnapshot, addList, addOwner, addBpfCheck]) add(program);
  return program;
}
