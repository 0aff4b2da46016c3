// knetstat-java list [--all-processes] [-f text|json]: the JVMs of this host.
// Also the root's no-pid invocation: `knetstat-java` lists, and
// `knetstat-java --all [-f knetstat|json]` prints every socket of the host's
// network namespace as the knetstat module's four tables.
import { Option, type Command } from 'commander';
import { EXIT, UsageError } from '../../errors.js';
import { listProcesses, renderProcessListJson, renderProcessListText } from '../../host/processes.js';
import { captureHost } from '../../host/all.js';
import { captureHostBpf } from '../../host/allbpf.js';
import { bpfUnavailable } from '../../sources/bpf.js';
import { renderKnetstatTables } from '../../render/knetstat.js';
import { setNoPidHandler } from '../main.js';
import { writeOutput } from '../output.js';

export async function listCommand(flags: { format?: string; allProcesses?: boolean; output?: string }): Promise<number> {
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown format '${format}' for list (choose text or json)`);
  const list = listProcesses({ allProcesses: flags.allProcesses });
  await writeOutput([format === 'json' ? renderProcessListJson(list) : renderProcessListText(list)], flags.output);
  return EXIT.OK;
}

export async function allCommand(flags: { format?: string; output?: string; source?: string }): Promise<number> {
  const format = flags.format === undefined || flags.format === 'text' ? 'knetstat' : flags.format;
  if (format !== 'knetstat' && format !== 'json') throw new UsageError(`unknown format '${format}' for --all (choose knetstat or json)`);
  const host = await captureHostWith(flags.source ?? 'auto');
  const out = format === 'json'
    ? `${JSON.stringify({ sockets: host.rows.map((r) => ({ ...r.socket, owners: r.holders })), warnings: host.warnings }, null, 2)}\n`
    : renderKnetstatTables(host.rows, { ownerColumn: true, kernelDefaults: host.kernelDefaults });
  await writeOutput([out], flags.output);
  for (const w of host.warnings) process.stderr.write(`knetstat-java: warning: ${w}\n`);
  return host.warnings.some((w) => /refused|not permitted/.test(w)) ? EXIT.PARTIAL : EXIT.OK;
}

/** --all's sources: bpf (auto's choice where it can run), else pidfd_getfd plus sock_diag. */
async function captureHostWith(source: string) {
  if (source === 'bpf' || source === 'auto') {
    const why = bpfUnavailable();
    if (!why) return captureHostBpf();
    if (source === 'bpf') throw new UsageError(`--source bpf: ${why}`);
  }
  return captureHost();
}

export function register(program: Command): void {
  program.option('--all', 'every TCP/UDP socket of this host (network namespace), as the knetstat tables (-f knetstat|json)');
  program.option('--all-processes', 'without a pid: list every process, not only JVMs');
  setNoPidHandler(async (flags) => {
    if (flags.all) return allCommand({ format: flags.format, output: flags.output, source: flags.source });
    return listCommand({ format: flags.format, allProcesses: flags.allProcesses === true, output: flags.output });
  });
  program
    .command('list')
    .description('the JVMs on this host: pid, user, JDK, main class, sockets, namespaces (like jps -l)')
    .option('--all-processes', 'include processes that are not JVMs')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write the list to a file')
    .action(async (flags: { format: string; allProcesses?: boolean; output?: string }) => {
      process.exitCode = await listCommand(flags);
    });
}

export { register as registerList };
