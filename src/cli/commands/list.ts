// knetstat-java list [--all-processes] [-f text|json]: the JVMs of this host.
// Also the root's no-pid invocation (hostViews): `knetstat-java` lists, and
// `knetstat-java --all [-f knetstat|json]` prints every socket of the host's
// network namespace as the knetstat module's four tables.
import { UsageError } from '../../errors.js';
import { captureHost, type HostCapture } from '../../host/all.js';
import { captureHostBpf } from '../../host/allbpf.js';
import { listProcesses } from '../../host/processes.js';
import { bpfUnavailable } from '../../linux/bpfwalk.js';
import { renderHostSocketsJson, renderProcessListJson, renderProcessListText } from '../../render/host.js';
import { renderKnetstatTables } from '../../render/knetstat.js';
import { outputKind } from '../../render/terminal.js';
import { writeWarnings } from '../capturing.js';
import { EXIT } from '../exit.js';
import { writeOutput } from '../output.js';

export async function listCommand(flags: { format?: string; allProcesses?: boolean; output?: string }): Promise<number> {
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown format '${format}' for list (choose text or json)`);
  const list = listProcesses({ allProcesses: flags.allProcesses });
  await writeOutput([format === 'json' ? renderProcessListJson(list) : renderProcessListText(list)], flags.output, { as: outputKind(format) });
  return EXIT.OK;
}

export async function allCommand(flags: { format?: string; output?: string; source?: string }): Promise<number> {
  const format = flags.format === undefined || flags.format === 'text' ? 'knetstat' : flags.format;
  if (format !== 'knetstat' && format !== 'json') throw new UsageError(`unknown format '${format}' for --all (choose knetstat or json)`);
  const host = await captureHostWith(flags.source ?? 'auto');
  const out = format === 'json'
    ? renderHostSocketsJson(host)
    : renderKnetstatTables(host.rows, { ownerColumn: true, kernelDefaults: host.kernelDefaults, sysctls: host.sysctls });
  await writeOutput([out], flags.output, { as: outputKind(format) });
  writeWarnings(host.warnings);
  return host.incomplete.length > 0 ? EXIT.PARTIAL : EXIT.OK;
}

/** --all's sources: bpf (auto's choice where it can run), else pidfd_getfd plus sock_diag. */
async function captureHostWith(source: string): Promise<HostCapture> {
  if (source === 'bpf' || source === 'auto') {
    const why = bpfUnavailable();
    if (!why) return captureHostBpf();
    if (source === 'bpf') throw new UsageError(`--source bpf: ${why}`);
  }
  return captureHost();
}

/** `knetstat-java` without a pid: --all's tables, or the list of JVMs. */
export function hostViews(flags: { format?: string; output?: string; source?: string; all?: boolean; allProcesses?: boolean }): Promise<number> {
  if (flags.all) return allCommand({ format: flags.format, output: flags.output, source: flags.source });
  return listCommand({ format: flags.format, allProcesses: flags.allProcesses === true, output: flags.output });
}
