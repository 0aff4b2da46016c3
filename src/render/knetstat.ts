// The knetstat module's four tables (tcpstat, tcp6stat, udpstat, udp6stat),
// built in user space from RawSockets: same columns, widths, state names,
// Diag indicators and option spelling as native/knetstat.c, so the output can
// be read by the same tools (and by src/sources/knetstat.ts).
//
// Options follow the module's rules where the reading allows: "always"
// options when read; TCP_KEEPIDLE/CNT/INTVL when set on the socket (as the
// module prints them) where the source knows it, else when they differ from
// the host's sysctl default;
// TCP_USER_TIMEOUT, timeouts, SO_LINGER only when not at their default;
// SO_RCVBUF/SO_SNDBUF (half the kernel value, what setsockopt was given) only
// when known to be set: the knetstat lock flag, or a listener/UDP socket whose
// buffer differs from a fresh socket's (no autotuning there). A value no
// source read is not printed.
import { readFileSync } from 'node:fs';
import type { Linger, OptionValue, Protocol, RawSocket, Report } from '../model/types.js';
import { registerRenderer } from './index.js';

export const KNETSTAT_TCP_HEADER = 'Recv-Q Send-Q Local Address           Foreign Address         Stat Diag Options';
export const KNETSTAT_UDP_HEADER = 'Recv-Q Send-Q Local Address           Foreign Address         Options';

const STAT: Record<string, string> = {
  ESTABLISHED: 'ESTB', SYN_SENT: 'SYNS', SYN_RECV: 'SYNR', NEW_SYN_RECV: 'SYNR', FIN_WAIT1: 'FNW1', FIN_WAIT2: 'FNW2',
  TIME_WAIT: 'TIMW', CLOSE: 'CLSD', CLOSE_WAIT: 'CLSW', LAST_ACK: 'LACK', LISTEN: 'LSTN', CLOSING: 'CLSG',
};

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
  /** Host sysctl defaults for keepalive; read from /proc/sys when absent. */
  keepalive?: { time?: number; probes?: number; intvl?: number };
}

/** "addr:port" as %pI4 / %pI6c print it (IPv6 without brackets), port 0 as "*", padded to 23 + a blank. */
export function knetstatEndpoint(address: string, port: number): string {
  return `${address}:${port === 0 ? '*' : port}`.padEnd(23) + ' ';
}

/** The module's Diag: ">|<" both windows 0, "|<", ">|", else ">#"; ESTABLISHED only. */
export function knetstatDiag(s: RawSocket): string {
  if (s.state !== 'ESTABLISHED' || !s.diag) return '';
  const snd = s.diag.includes('>|'), rcv = s.diag.includes('|<');
  if (snd && rcv) return '>|<';
  if (rcv) return '|<';
  if (snd) return '>|';
  return s.diag.includes('>#') ? '>#' : '';
}

function sysctlInt(name: string): number | undefined {
  try {
    const v = Number(readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim());
    return Number.isFinite(v) ? v : undefined;
  } catch { return undefined; }
}

let keepaliveCache: { time?: number; probes?: number; intvl?: number } | undefined;
function hostKeepalive(): { time?: number; probes?: number; intvl?: number } {
  keepaliveCache ??= {
    time: sysctlInt('net.ipv4.tcp_keepalive_time'),
    probes: sysctlInt('net.ipv4.tcp_keepalive_probes'),
    intvl: sysctlInt('net.ipv4.tcp_keepalive_intvl'),
  };
  return keepaliveCache;
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
    const ka = opts.keepalive ?? hostKeepalive();
    const keepOpt = s.options.SO_KEEPALIVE;
    // An inferred SO_KEEPALIVE=1 (sock_diag timer) is a fact worth printing; there is no inferred 0.
    put('SO_KEEPALIVE', num(s, 'SO_KEEPALIVE') ?? (keepOpt?.inferred ? 1 : undefined));
    // The module prints a keepalive setting when the socket stores one; where the source knows that
    // (OptionReading.explicit), so do we, else when it differs from the host's sysctl.
    const keep = (name: string, sysctl: number | undefined) => {
      const v = num(s, name), set = s.options[name]?.explicit;
      if (v !== undefined && (set !== undefined ? set : sysctl !== undefined && v !== sysctl)) put(name, v);
    };
    keep('TCP_KEEPIDLE', ka.time);
    keep('TCP_KEEPCNT', ka.probes);
    keep('TCP_KEEPINTVL', ka.intvl);
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
  if (tcp) line += `${STAT[s.state] ?? 'NONE'} ${knetstatDiag(s).padEnd(4)} `;
  const options = knetstatOptions(s, opts);
  line += options;
  if (opts.ownerColumn) line += `${options ? ' ' : ''}${owners && owners.length > 0 ? owners.join(',') : '-'}`;
  return line.trimEnd();
}

const TABLES: [Protocol, string][] = [['tcp', 'tcpstat'], ['tcp6', 'tcp6stat'], ['udp', 'udpstat'], ['udp6', 'udp6stat']];

/** The four tables, each under a "== <name> ==" title line, rows in the order given. */
export function renderKnetstatTables(rows: KnetstatRowInput[], opts: KnetstatRenderOptions = {}): string {
  const parts: string[] = [];
  for (const [protocol, name] of TABLES) {
    const tcp = protocol.startsWith('tcp');
    const lines = [`== ${name} ==`, (tcp ? KNETSTAT_TCP_HEADER : KNETSTAT_UDP_HEADER) + (opts.ownerColumn ? ' Process' : '')];
    for (const r of rows) if (r.socket.protocol === protocol) lines.push(knetstatRow(r.socket, opts, r.owners));
    parts.push(lines.join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

/** A single process's sockets (a Capture's or Report's) as the four tables, no owner column. */
export function renderKnetstatForReport(sockets: RawSocket[], opts: Omit<KnetstatRenderOptions, 'ownerColumn'> = {}): string {
  return renderKnetstatTables(sockets.map((socket) => ({ socket })), opts);
}

// `knetstat-java <pid> --format knetstat`: the report's sockets as the module's tables.
registerRenderer('knetstat', (r: Report) => [renderKnetstatForReport(r.sockets, { kernelDefaults: r.host.kernelDefaults })]);
