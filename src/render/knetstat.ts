// The knetstat module's four tables (tcpstat, tcp6stat, udpstat, udp6stat),
// built in user space from RawSockets: same columns, widths, state names,
// Diag indicators and option spelling as native/knetstat.c (linux/knetstat.ts
// holds the format), so the output can be read by the same tools (and by
// src/sources/knetstat.ts). A pure function of what it is given: the host
// facts come from the capture (Report.host), never from the host it runs on.
//
// Options follow the module's rules where the reading allows: "always"
// options when read; TCP_KEEPIDLE/CNT/INTVL when set on the socket (as the
// module prints them) where the source knows it (the bpf source's explicit),
// else when they differ from the captured host's sysctl default;
// TCP_USER_TIMEOUT, timeouts, SO_LINGER only when not at their
// default; SO_RCVBUF/SO_SNDBUF (half the kernel value, what setsockopt was
// given) only when known to be set: the knetstat lock flag, or a listener/UDP
// socket whose buffer differs from a fresh socket's (no autotuning there). A
// value no source read is not printed.
import { knetstatStateCode } from '../linux/inet.js';
import { KNETSTAT_ADDR_WIDTH, KNETSTAT_DIAG_WIDTH, KNETSTAT_TCP_HEADER, KNETSTAT_UDP_HEADER, listedInProcNet, normalDiag } from '../linux/knetstat.js';
import type { Linger, OptionValue, Protocol, RawSocket, Report } from '../model/types.js';
import { terminalSafe } from './terminal.js';

export interface KnetstatRowInput {
  socket: RawSocket;
  /** Processes holding the socket ("pid/name"); [] for none. Only printed when the table has an owner column. */
  owners?: string[];
}

export interface KnetstatRenderOptions {
  /** Add a trailing Process column (pid/name, "-" when no process holds the socket). */
  ownerColumn?: boolean;
  /** Options of a fresh socket of each kind (Capture.host.kernelDefaults), to tell a set buffer from the default. */
  kernelDefaults?: Partial<Record<Protocol, Record<string, OptionValue>>>;
  /** The captured host's sysctls (Capture.host.sysctls): the keepalive defaults. Without them no keepalive time is printed. */
  sysctls?: Record<string, string>;
}

/** "addr:port" as %pI4 / %pI6c print it (IPv6 without brackets), port 0 as "*", padded to 23 + a blank. */
export function knetstatEndpoint(address: string, port: number): string {
  return `${address}:${port === 0 ? '*' : port}`.padEnd(KNETSTAT_ADDR_WIDTH) + ' ';
}

/** A sysctl of the capture as a number; undefined when absent or not one. */
function sysctlInt(sysctls: Record<string, string> | undefined, name: string): number | undefined {
  const raw = sysctls?.[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

function num(s: RawSocket, name: string): number | undefined {
  const v = s.options[name]?.value;
  return typeof v === 'number' ? v : undefined;
}

/** The Options column of one socket, in the module's order and units; '' when nothing was read. */
export function knetstatOptions(s: RawSocket, opts: KnetstatRenderOptions = {}): string {
  const tcp = s.protocol.startsWith('tcp');
  if (tcp && (s.state === 'TIME_WAIT' || s.state === 'SYN_RECV' || s.state === 'NEW_SYN_RECV')) return '';
  const out: string[] = [];
  const put = (name: string, text: string | number | undefined) => { if (text !== undefined) out.push(`${name}=${text}`); };
  put('SO_REUSEADDR', num(s, 'SO_REUSEADDR'));
  put('SO_REUSEPORT', num(s, 'SO_REUSEPORT'));
  if (tcp) {
    const keepOpt = s.options.SO_KEEPALIVE;
    // An inferred SO_KEEPALIVE=1 (sock_diag timer) is a fact worth printing; there is no inferred 0.
    put('SO_KEEPALIVE', num(s, 'SO_KEEPALIVE') ?? (keepOpt?.inferred ? 1 : undefined));
    // The module prints a keepalive setting when the socket stores one; where the source knows that
    // (OptionReading.explicit), so do we, else when it differs from the captured host's sysctl.
    const keep = (name: string, sysctl: number | undefined) => {
      const v = num(s, name), set = s.options[name]?.explicit;
      if (v !== undefined && (set !== undefined ? set : sysctl !== undefined && v !== sysctl)) put(name, v);
    };
    keep('TCP_KEEPIDLE', sysctlInt(opts.sysctls, 'net.ipv4.tcp_keepalive_time'));
    keep('TCP_KEEPCNT', sysctlInt(opts.sysctls, 'net.ipv4.tcp_keepalive_probes'));
    keep('TCP_KEEPINTVL', sysctlInt(opts.sysctls, 'net.ipv4.tcp_keepalive_intvl'));
    const ut = num(s, 'TCP_USER_TIMEOUT');
    if (ut) put('TCP_USER_TIMEOUT', ut);
  }
  // Buffers: what setsockopt was given (half the kernel value), only when known to be set.
  const fresh = opts.kernelDefaults?.[s.protocol];
  const noAutotune = !tcp || s.state === 'LISTEN';
  for (const [name, lock] of [['SO_RCVBUF', s.userLocks?.rcvbuf], ['SO_SNDBUF', s.userLocks?.sndbuf]] as const) {
    const v = num(s, name);
    if (v === undefined) continue;
    const set = lock !== undefined ? lock : noAutotune && typeof fresh?.[name] === 'number' && fresh[name] !== v;
    if (set) put(name, Math.floor(v / 2));
  }
  const rt = num(s, 'SO_RCVTIMEO'), st = num(s, 'SO_SNDTIMEO');
  if (rt) put('SO_RCVTIMEO', `${rt}ms`);
  if (st) put('SO_SNDTIMEO', `${st}ms`);
  const linger = s.options.SO_LINGER?.value;
  if (linger && typeof linger === 'object' && (linger as Linger).enabled) put('SO_LINGER', `${(linger as Linger).seconds}s`);
  if (tcp) {
    put('TCP_NODELAY', num(s, 'TCP_NODELAY'));
    if (s.state === 'LISTEN') put('TCP_FASTOPEN', num(s, 'TCP_FASTOPEN'));
    put('TCP_DEFER_ACCEPT', num(s, 'TCP_DEFER_ACCEPT'));
  } else {
    put('SO_BROADCAST', num(s, 'SO_BROADCAST'));
  }
  return out.join(',');
}

/** One row as the module prints it (without its Inode column). */
export function knetstatRow(s: RawSocket, opts: KnetstatRenderOptions = {}, owners?: string[]): string {
  const tcp = s.protocol.startsWith('tcp');
  let line = `${String(s.recvQ).padStart(6)} ${String(s.sendQ).padStart(6)} ` +
    knetstatEndpoint(s.local.address, s.local.port) + knetstatEndpoint(s.remote.address, s.remote.port);
  if (tcp) line += `${knetstatStateCode(s.state)} ${normalDiag(s.state, s.diag).padEnd(KNETSTAT_DIAG_WIDTH)} `;
  const options = knetstatOptions(s, opts);
  line += options;
  if (opts.ownerColumn) line += `${options ? ' ' : ''}${owners && owners.length > 0 ? owners.join(',') : '-'}`;
  return line.trimEnd();
}

const TABLES: [Protocol, string][] = [['tcp', 'tcpstat'], ['tcp6', 'tcp6stat'], ['udp', 'udpstat'], ['udp6', 'udp6stat']];

/** The four tables, each under a "== <name> ==" title line, rows in the order given. */
export function renderKnetstatTables(input: KnetstatRowInput[], opts: KnetstatRenderOptions = {}): string {
  // Process names (comm) and a snapshot's strings are the target's text: shown safe for a terminal.
  const rows = terminalSafe(input);
  const parts: string[] = [];
  for (const [protocol, name] of TABLES) {
    const tcp = protocol.startsWith('tcp');
    const lines = [`== ${name} ==`, (tcp ? KNETSTAT_TCP_HEADER : KNETSTAT_UDP_HEADER) + (opts.ownerColumn ? ' Process' : '')];
    for (const r of rows) if (r.socket.protocol === protocol) lines.push(knetstatRow(r.socket, opts, r.owners));
    parts.push(lines.join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

/** `knetstat-java <pid> --format knetstat`: the report's sockets as the module's tables, with the captured host's defaults. */
export function* renderKnetstat(r: Report): Generator<string> {
  // The module's tables are the kernel's hash tables: a TCP socket in CLOSE or an unbound UDP socket is in none.
  const listed = r.sockets.filter((s) => listedInProcNet(s.protocol, s.state, s.local.port));
  yield renderKnetstatTables(listed.map((socket) => ({ socket })), { kernelDefaults: r.host.kernelDefaults, sysctls: r.host.sysctls });
}
