// The knetstat source: the knetstat kernel module's tables (native/), parsed
// by linux/knetstat.ts. Rows of our format join to the target's fds by their
// Inode column; rows of upstream knetstat (no Inode) are joined to
// /proc/<pid>/net/tcp... by (local, remote, state). Rows that share those are
// ambiguous: they are reported as warnings, never guessed, unless all of them
// print the very same options (then any of them says the same).
// Values are converted to the units getsockopt reports (what the pidfd source
// stores); see native/README.md for which options are printed when.
import { accessSync, constants } from 'node:fs';
import { fsCode } from '../errors.js';
import { deferAcceptSeconds, parseKnetstat, type KnetstatFormat, type KnetstatRow } from '../linux/knetstat.js';
import { PROTOCOLS, parseProcNet, readProcNetText, type ProcNetRow } from '../linux/procnet.js';
import type { Endpoint, OptionReading, Protocol, RawSocket } from '../model/types.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

const KERNEL_DOUBLED = 'knetstat prints half the kernel value (what setsockopt was given); this is the kernel value getsockopt returns';

/**
 * A row's options as readings in getsockopt's units, plus the values the
 * absence of an option implies where that is exact.
 */
export function optionReadings(row: KnetstatRow, format: KnetstatFormat): Record<string, OptionReading> {
  const out: Record<string, OptionReading> = {};
  if (!row.full) return out;
  const source = 'knetstat' as const;
  for (const [name, o] of Object.entries(row.options)) {
    switch (name) {
      case 'SO_RCVBUF':
      case 'SO_SNDBUF':
        out[name] = { value: o.value * 2, source, note: KERNEL_DOUBLED };
        break;
      case 'SO_LINGER':
        out[name] = { value: { enabled: true, seconds: o.value }, source };
        break;
      case 'TCP_DEFER_ACCEPT':
        // Ours prints getsockopt's seconds; upstream the raw retransmission count.
        out[name] = format === 'ours' || o.value === 0
          ? { value: o.value, source }
          : { value: deferAcceptSeconds(o.value), source, note: `upstream knetstat prints ${o.value} retransmissions; converted to seconds as getsockopt does` };
        break;
      default:
        out[name] = { value: o.value, source }; // ms for *TIMEO and TCP_USER_TIMEOUT, s for TCP_KEEPIDLE/INTVL, else as is
    }
  }
  const implied = (name: string, value: OptionReading['value'], note: string) => {
    if (!(name in out)) out[name] = { value, source, inferred: true, note };
  };
  implied('SO_RCVTIMEO', 0, 'not printed: no timeout (getsockopt reports 0)');
  implied('SO_SNDTIMEO', 0, 'not printed: no timeout (getsockopt reports 0)');
  implied('SO_LINGER', { enabled: false, seconds: 0 }, 'not printed: linger off (seconds assumed 0: the kernel keeps an earlier linger time after it is switched off)');
  if (format === 'ours' && row.protocol.startsWith('tcp')) {
    implied('TCP_USER_TIMEOUT', 0, 'not printed: 0 (system default retransmission timeout)');
  }
  return out;
}

function key(protocol: Protocol, local: Endpoint, remote: Endpoint, state: string): string {
  const st = protocol.startsWith('udp') ? '' : state;
  return `${local.address}|${local.port}|${remote.address}|${remote.port}|${st}`;
}

function describe(local: Endpoint, remote: Endpoint): string {
  const ep = (e: Endpoint) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);
  return `${ep(local)} -> ${ep(remote)}`;
}

export class KnetstatSource implements Source {
  readonly name = 'knetstat' as const;

  /** Where the tables are read from; tests point this at recorded samples. */
  constructor(private readonly procRoot = '/proc') {}

  available(target: Target) {
    const path = `${this.procRoot}/${target.pid}/net/tcpstat`;
    try {
      accessSync(path, constants.R_OK);
      return { ok: true } as const;
    } catch (err) {
      if (fsCode(err) !== 'ENOENT') {
        return { ok: false, reason: `cannot read ${path}: ${fsCode(err) ?? String(err)}`, errno: fsCode(err) } as const;
      }
    }
    return {
      ok: false,
      reason: `the knetstat kernel module is not loaded (${path} is missing): build and load it from native/ (make -C native && insmod native/knetstat.ko, or dkms install; see native/README.md)`,
      errno: 'ENOENT',
    } as const;
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const warnings: string[] = [];
    const vanished: number[] = [];
    const fdOf = new Map<number, number>();
    for (const [fd, inode] of target.fds) fdOf.set(inode, fd);
    const total = fdOf.size;
    let done = 0;
    const seen = new Set<number>();
    const warned = new Set<number>();
    const tablesRead = new Set<Protocol>();

    const fill = (row: KnetstatRow, format: KnetstatFormat, inode: number, base?: ProcNetRow, note?: string) => {
      let sock = sockets.get(inode);
      if (!sock) {
        const from = base ?? row;
        sock = {
          protocol: row.protocol, fd: fdOf.get(inode) ?? -1, inode, local: from.local, remote: from.remote,
          state: base ? base.state : row.state,
          recvQ: row.recvQ, sendQ: row.sendQ, diag: '', options: {}, sources: [],
          ...(base ? { uid: base.uid } : {}),
        } satisfies RawSocket;
        sockets.set(inode, sock);
      }
      if (!sock.sources.includes('knetstat')) sock.sources = [...sock.sources, 'knetstat'];
      seen.add(inode);
      if (!row.full) return;
      let own = false;
      for (const [name, reading] of Object.entries(optionReadings(row, format))) {
        const prev = sock.options[name];
        if (prev && prev.value !== null) continue; // a richer source already read it
        // Another source's options object may be shared by sockets of equal options: written into a copy.
        if (!own) { sock.options = { ...sock.options }; own = true; }
        sock.options[name] = note ? { ...reading, note: reading.note ? `${reading.note}; ${note}` : note } : reading;
      }
      if (row.protocol.startsWith('tcp')) sock.diag = row.diag;
      sock.userLocks = { rcvbuf: 'SO_RCVBUF' in row.options, sndbuf: 'SO_SNDBUF' in row.options, source: 'knetstat' };
      ctx.progress?.(++done, total);
    };

    for (const protocol of PROTOCOLS) {
      const file = `${this.procRoot}/${target.pid}/net/${protocol}stat`;
      const text = readProcNetText(target.pid, `${protocol}stat`, this.procRoot);
      if (text === undefined) {
        // No IPv6 in the namespace, or the module is gone, or the process exited.
        if (protocol === 'tcp') warnings.push(`knetstat: ${file} is missing`);
        continue;
      }
      const table = parseKnetstat(text, file);
      if (table.format === 'ours') {
        tablesRead.add(protocol);
        for (const row of table.rows) {
          if (row.inode && fdOf.has(row.inode)) fill(row, 'ours', row.inode);
        }
        continue;
      }
      // Upstream format: join through /proc/<pid>/net/<protocol> (same iterator, read just after).
      const procFile = `${this.procRoot}/${target.pid}/net/${protocol}`;
      const procText = readProcNetText(target.pid, protocol, this.procRoot);
      if (procText === undefined) {
        warnings.push(`knetstat: ${procFile} is missing: cannot join ${file} (no Inode column) to sockets`);
        continue;
      }
      const procRows = parseProcNet(procText, protocol, undefined, procFile);
      tablesRead.add(protocol);
      const byKey = new Map<string, KnetstatRow[]>();
      for (const row of table.rows) {
        const k = key(protocol, row.local, row.remote, row.state);
        byKey.set(k, [...(byKey.get(k) ?? []), row]);
      }
      const procByKey = new Map<string, ProcNetRow[]>();
      for (const pr of procRows) {
        const k = key(protocol, pr.local, pr.remote, pr.state);
        procByKey.set(k, [...(procByKey.get(k) ?? []), pr]);
      }
      for (const pr of procRows) {
        if (!fdOf.has(pr.inode)) continue;
        const k = key(protocol, pr.local, pr.remote, pr.state);
        const candidates = byKey.get(k) ?? [];
        const twins = procByKey.get(k)!.length;
        if (candidates.length === 0) {
          warned.add(pr.inode);
          warnings.push(`knetstat: no ${protocol}stat row for inode ${pr.inode} (${describe(pr.local, pr.remote)} ${pr.state}); it changed between the reads`);
        } else if (candidates.length === 1 && twins === 1) {
          fill(candidates[0]!, 'upstream', pr.inode, pr);
        } else if (candidates.length === twins &&
          candidates.every((c) => c.optionsText === candidates[0]!.optionsText && c.diag === candidates[0]!.diag)) {
          fill(candidates[0]!, 'upstream', pr.inode, pr, `one of ${twins} rows with the same addresses and identical options (no Inode column)`);
        } else {
          warned.add(pr.inode);
          warnings.push(`knetstat: ${candidates.length} ${protocol}stat rows (and ${twins} in ${protocol}) share ${describe(pr.local, pr.remote)} ${pr.state} with different options; without an Inode column inode ${pr.inode} cannot be told apart: its options were not read from knetstat`);
        }
      }
    }

    // Sockets the fd scan found that a table we read does not list: closed meanwhile.
    for (const [inode, sock] of sockets) {
      if (!seen.has(inode) && !warned.has(inode) && fdOf.has(inode) && tablesRead.has(sock.protocol)) vanished.push(inode);
    }
    return { status: { name: this.name, used: true }, ...(vanished.length ? { vanished } : {}), ...(warnings.length ? { warnings } : {}) };
  }
}
