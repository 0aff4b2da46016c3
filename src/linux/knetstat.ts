// The knetstat kernel module's tables, /proc/<pid>/net/{tcp,tcp6,udp,udp6}stat
// (native/knetstat.c; the format is in native/README.md): header, columns,
// the Diag rule, and the parser of both formats:
//  - ours: a trailing Inode column, so rows join to the target's fds exactly;
//  - upstream knetstat: no Inode column (sources/knetstat.ts joins its rows to
//    /proc/<pid>/net/tcp... by address and state).
// The renderer of these tables (render/knetstat.ts) uses the same facts.
import { FormatError } from '../errors.js';
import { addressBytes, formatIPv6 } from '../model/addr.js';
import type { Diag, Endpoint, Protocol, TcpInfo } from '../model/types.js';
import { stateOfKnetstatCode } from './inet.js';
import { builtin } from '../builtins.js';

/**
 * Whether /proc/net/{tcp,tcp6,udp,udp6} list a socket in this state with this
 * local port: the tables walk the kernel's hash tables, where a TCP socket is
 * only while listening or connected (a CLOSE one, never connected or already
 * over, is in none: inet_unhash), and a UDP socket once it has a port
 * (udp_lib_get_port hashes it at bind or autobind). The knetstat module walks
 * the same tables, so its format lists the same rows.
 */
export function listedInProcNet(protocol: Protocol, state: string, localPort: number): boolean {
  return protocol.startsWith('tcp') ? state !== 'CLOSE' : localPort !== 0;
}

export const KNETSTAT_TCP_HEADER = 'Recv-Q Send-Q Local Address           Foreign Address         Stat Diag Options';
export const KNETSTAT_UDP_HEADER = 'Recv-Q Send-Q Local Address           Foreign Address         Options';
/** KNETSTAT_ADDR_WIDTH and KNETSTAT_DIAG_WIDTH. */
export const KNETSTAT_ADDR_WIDTH = 23;
export const KNETSTAT_DIAG_WIDTH = 4;

const DIAGS = new Set<string>(['>|', '|<', '>|<', '>#']);

/**
 * knetstat's Diag indicator, exclusive as knetstat_show_tcp_diag() prints it:
 * ">|<" both windows 0, "|<" our window is 0 (the peer cannot send), ">|" the
 * peer's window is 0 (we cannot send), ">#" unacknowledged data and the last
 * ACK more than a second ago; '' otherwise, and always '' outside ESTABLISHED.
 */
export function knetstatDiag(state: string, sndWndZero: boolean, rcvWndZero: boolean, staleAck: boolean): Diag {
  if (state !== 'ESTABLISHED') return '';
  if (sndWndZero && rcvWndZero) return '>|<';
  if (rcvWndZero) return '|<';
  if (sndWndZero) return '>|';
  return staleAck ? '>#' : '';
}

/**
 * The Diag of a socket from its tcp_info (TCP_INFO or INET_DIAG_INFO):
 * tcpi_snd_wnd / tcpi_rcv_wnd for the windows, tcpi_unacked (packets_out) and
 * tcpi_last_ack_recv (ms) for ">#". A window the kernel did not report (older
 * kernels' shorter tcp_info) is not taken for 0.
 */
export function diagFromTcpInfo(state: string, ti: TcpInfo): Diag {
  return knetstatDiag(state, ti.sndWnd === 0, ti.rcvWnd === 0, ti.unacked > 0 && ti.lastAckRecv > 1000);
}

/** A Diag as stored (a snapshot of an older tool may hold indicators side by side, on any state), under the rule above. */
export function normalDiag(state: string, diag: string): Diag {
  if (diag === '') return '';
  return knetstatDiag(state, diag.includes('>|'), diag.includes('|<'), diag.includes('>#'));
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
  diag: Diag;
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

const HEADER_START = /^Recv-Q\s+Send-Q\s+Local Address\s+Foreign Address\s+/;
const OPTION = /^([A-Z][A-Z0-9_]*)=(-?\d+)(ms|s)?$/;

function protocolOf(file: string, tcpHeader: boolean): Protocol {
  const m = /(tcp6?|udp6?)stat$/.exec(file);
  if (m) return m[1] as Protocol;
  return tcpHeader ? 'tcp' : 'udp';
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
  const net = builtin('node:net');
  if (net.isIPv4(address)) return { address, port };
  const bytes = net.isIPv6(address) ? addressBytes(address, 6) : undefined;
  if (bytes) return { address: formatIPv6(bytes), port };
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

/** Parse a whole table: its format (from the header), protocol (from the file name) and rows. Throws FormatError naming file and line. */
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
    let diag: Diag = '';
    if (tcp) {
      stat = rest.shift();
      const name = stat === undefined ? undefined : stateOfKnetstatCode(stat);
      if (name === undefined) throw new FormatError(`${where}: unknown state '${stat ?? ''}'`);
      state = name;
    } else {
      state = remote.port !== 0 ? 'ESTABLISHED' : 'UNCONN';
    }
    let inode: number | undefined;
    if (format === 'ours') {
      const last = rest.pop();
      if (last === undefined || !/^\d+$/.test(last)) throw new FormatError(`${where}: missing Inode column (last field '${last ?? ''}')`);
      inode = Number(last);
    }
    if (tcp && rest.length > 0 && DIAGS.has(rest[0]!)) diag = rest.shift() as Diag;
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
