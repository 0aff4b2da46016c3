// The knetstat source: /proc/<pid>/net/{tcp,tcp6,udp,udp6}stat, printed by
// the knetstat kernel module (native/). Two formats exist:
//  - ours (native/knetstat.c): a trailing Inode column, so rows join to the
//    target's fds exactly;
//  - upstream knetstat (no Inode): rows are joined to /proc/<pid>/net/tcp...
//    by (local, remote, state). Rows that share those are ambiguous: they are
//    reported as warnings, never guessed, unless all of them print the very
//    same options (then any of them says the same).
// Values are converted to the units getsockopt reports (what the pidfd source
// stores); see native/README.md for the format and which options are printed
// when.
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { FormatError, fsCode } from '../errors.js';
import { formatIPv6 } from '../model/addr.js';
import { PROTOCOLS, parseProcNet, type ProcNetRow } from '../discover/procnet.js';
import type { Endpoint, OptionReading, Protocol, RawSocket } from '../model/types.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

export type KnetstatFormat = 'upstream' | 'ours';

export interface KnetstatOption {
  /** As printed after '=' ("65536", "7s", "100ms"). */
  raw: string;
  value: number;
  unit: '' | 's' | 'ms';
}

export interface KnetstatRow {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  protocol: Protocol;
  recvQ: number;
  sendQ: number;
  local: Endpoint;
  remote: Endpoint;
  /** knetstat's 4-letter state (TCP only): ESTB, LSTN, TIMW ... */
  stat?: string;
  /** The state as the model spells it: ESTABLISHED, LISTEN, ...; UDP: ESTABLISHED (connected) or UNCONN. */
  state: string;
  /** Diag column: '', '>|', '|<', '>|<' or '>#'. Always '' for UDP. */
  diag: string;
  /** The Options column as printed ('' for TIME_WAIT and request sockets). */
  optionsText: string;
  options: Record<string, KnetstatOption>;
  /** False for TIME_WAIT and SYN_RECV request rows, which have no options. */
  full: boolean;
  /** Socket inode (our format only; 0 for rows that are not full sockets). */
  inode?: number;
}

export interface KnetstatTable {
  file: string;
  format: KnetstatFormat;
  protocol: Protocol;
  rows: KnetstatRow[];
}

const STATES: Record<string, string> = {
  ESTB: 'ESTABLISHED', SYNS: 'SYN_SENT', SYNR: 'SYN_RECV', FNW1: 'FIN_WAIT1', FNW2: 'FIN_WAIT2',
  TIMW: 'TIME_WAIT', CLSD: 'CLOSE', CLSW: 'CLOSE_WAIT', LACK: 'LAST_ACK', LSTN: 'LISTEN', CLSG: 'CLOSING',
  NONE: 'UNKNOWN',
};
const DIAGS = new Set(['>|', '|<', '>|<', '>#']);
const HEADER_START = /^Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+/;
const OPTION = /^([A-Z][A-Z0-9_]*)=(-?\d+)(ms|s)?$/;

function protocolOf(file: string, tcpHeader: boolean): Protocol {
  const m = /(tcp6?|udp6?)stat$/.exec(file);
  if (m) return m[1] as Protocol;
  return tcpHeader ? 'tcp' : 'udp';
}

/** IPv6 text (RFC 4291 forms, with an optional dotted IPv4 tail) to 16 bytes. */
function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let s = text;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const parts = v4[2]!.split('.').map(Number);
    tail.push((parts[0]! << 8) | parts[1]!, (parts[2]! << 8) | parts[3]!);
    s = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const hw = head ? head.split(':').map((h) => parseInt(h, 16)) : [];
  const rw = rest !== undefined && rest !== '' ? rest.split(':').map((h) => parseInt(h, 16)) : [];
  const words = [...hw, ...new Array(8 - hw.length - rw.length - tail.length).fill(0), ...rw, ...tail];
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/**
 * "127.0.0.1:8080", "::1:8080" (knetstat prints IPv6 like %pI6c, without
 * brackets: the port is after the last colon), "[::1]:8080", port "*" = 0.
 * IPv6 addresses are normalised to the text the other sources use.
 */
function parseEndpoint(token: string, where: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|(.*)):(\*|\d+)$/.exec(token);
  if (!m) throw new FormatError(`${where}: bad endpoint '${token}' (want address:port)`);
  const address = m[1] ?? m[2]!;
  const port = m[3] === '*' ? 0 : Number(m[3]);
  if (port > 65535) throw new FormatError(`${where}: bad port in '${token}'`);
  if (isIPv4(address)) return { address, port };
  if (isIPv6(address)) return { address: formatIPv6(ipv6Bytes(address)), port };
  throw new FormatError(`${where}: bad address in '${token}'`);
}

function parseOptions(text: string, where: string): Record<string, KnetstatOption> {
  const options: Record<string, KnetstatOption> = {};
  for (const item of text.split(',')) {
    const m = OPTION.exec(item);
    if (!m) throw new FormatError(`${where}: bad option '${item}' (want NAME=number[s|ms])`);
    if (m[1]! in options) throw new FormatError(`${where}: option ${m[1]} printed twice`);
    options[m[1]!] = { raw: `${m[2]}${m[3] ?? ''}`, value: Number(m[2]), unit: (m[3] ?? '') as KnetstatOption['unit'] };
  }
  return options;
}

/** Parse a whole table: its format (from the header), protocol (from the file name) and rows. */
export function parseKnetstat(text: string, file: string): KnetstatTable {
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  if (!HEADER_START.test(header)) {
    throw new FormatError(`${file}: line 1: not a knetstat table (header '${header.slice(0, 60)}')`);
  }
  const cols = header.trim().split(/\s+/);
  const format: KnetstatFormat = cols[cols.length - 1] === 'Inode' ? 'ours' : 'upstream';
  const tcpHeader = cols.includes('Stat');
  const protocol = protocolOf(file, tcpHeader);
  const tcp = protocol.startsWith('tcp');
  if (tcp !== tcpHeader) {
    throw new FormatError(`${file}: line 1: ${tcp ? 'TCP' : 'UDP'} file with a ${tcpHeader ? 'TCP' : 'UDP'} header`);
  }
  const rows: KnetstatRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = `${file}: line ${i + 1}`;
    const t = line.trim().split(/\s+/);
    if (t.length < 4) throw new FormatError(`${where}: expected at least 4 fields, found ${t.length}`);
    if (!/^-?\d+$/.test(t[0]!) || !/^-?\d+$/.test(t[1]!)) {
      throw new FormatError(`${where}: Recv-Q and Send-Q must be numbers, found '${t[0]}' '${t[1]}'`);
    }
    const local = parseEndpoint(t[2]!, where);
    const remote = parseEndpoint(t[3]!, where);
    const rest = t.slice(4);
    let stat: string | undefined;
    let state: string;
    let diag = '';
    if (tcp) {
      stat = rest.shift();
      if (stat === undefined || !(stat in STATES)) throw new FormatError(`${where}: unknown state '${stat ?? ''}'`);
      state = STATES[stat]!;
    } else {
      state = remote.port !== 0 ? 'ESTABLISHED' : 'UNCONN';
    }
    let inode: number | undefined;
    if (format === 'ours') {
      const last = rest.pop();
      if (last === undefined || !/^\d+$/.test(last)) throw new FormatError(`${where}: missing Inode column (last field '${last ?? ''}')`);
      inode = Number(last);
    }
    if (tcp && rest.length > 0 && DIAGS.has(rest[0]!)) diag = rest.shift()!;
    let optionsText = '';
    if (rest.length > 0 && rest[0]!.includes('=')) optionsText = rest.shift()!;
    if (rest.length > 0) throw new FormatError(`${where}: unexpected field '${rest[0]}'`);
    const options = optionsText ? parseOptions(optionsText, where) : {};
    rows.push({
      file, line: i + 1, protocol, recvQ: Number(t[0]), sendQ: Number(t[1]), local, remote, stat, state, diag,
      optionsText, options, full: optionsText !== '', ...(inode !== undefined ? { inode } : {}),
    });
  }
  return { file, format, protocol, rows };
}

/** The rows of one /proc/net/*stat file (either format). Throws FormatError naming file and line. */
export function parseKnetstatTable(text: string, file: string): KnetstatRow[] {
  return parseKnetstat(text, file).rows;
}

/** tcp.c's retrans_to_secs(): TCP_DEFER_ACCEPT's retransmissions as getsockopt's seconds (1 s initial RTO, 120 s max). */
export function deferAcceptSeconds(retrans: number): number {
  if (retrans <= 0) return 0;
  let timeout = 1, period = 1;
  while (--retrans > 0) {
    timeout = Math.min(timeout * 2, 120);
    period += timeout;
  }
  return period;
}

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

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch (err) {
    if (fsCode(err) === 'ENOENT') return undefined;
    throw err;
  }
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
      for (const [name, reading] of Object.entries(optionReadings(row, format))) {
        const prev = sock.options[name];
        if (prev && prev.value !== null) continue; // a richer source already read it
        sock.options[name] = note ? { ...reading, note: reading.note ? `${reading.note}; ${note}` : note } : reading;
      }
      if (row.protocol.startsWith('tcp')) sock.diag = row.diag;
      sock.userLocks = { rcvbuf: 'SO_RCVBUF' in row.options, sndbuf: 'SO_SNDBUF' in row.options, source: 'knetstat' };
      ctx.progress?.(++done, total);
    };

    for (const protocol of PROTOCOLS) {
      const file = `${this.procRoot}/${target.pid}/net/${protocol}stat`;
      const text = readText(file);
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
      const procText = readText(procFile);
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
