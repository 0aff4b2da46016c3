// What a sock_diag record (linux/inetdiag.ts DiagRecord) says about a socket,
// as the model holds it: option readings under the catalog's names, timer,
// shutdown state, tcp_info, Diag; a RawSocket made from a record alone, or a
// record merged into a socket another source read (never replacing a value).
import { socketStampingControllers } from '../linux/cgroup.js';
import { TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_LISTEN, netstatSendQ } from '../linux/inet.js';
import { TIMER_KINDS, type DiagRecord } from '../linux/inetdiag.js';
import { diagFromTcpInfo } from '../linux/knetstat.js';
import type { OptionReading, RawSocket } from '../model/types.js';

// States in which a pending sk_timer is the keepalive timer (FIN_WAIT2 orphans reuse it).
const KEEPALIVE_STATES = new Set([TCP_ESTABLISHED, TCP_CLOSE_WAIT]);

let netCls: boolean | undefined;
/** Whether cgroup v1 net_cls is bound on this host (read once per run). */
function netClsBound(): boolean {
  netCls ??= socketStampingControllers().includes('net_cls');
  return netCls;
}

function r(value: number | string, note?: string, inferred?: boolean): OptionReading {
  const o: OptionReading = { value, source: 'sockdiag' };
  if (note) o.note = note;
  if (inferred) o.inferred = true;
  return o;
}

/** The option readings a record gives, under the names the catalog uses. */
export function diagOptions(rec: DiagRecord): Record<string, OptionReading> {
  const o: Record<string, OptionReading> = {};
  const tcp = rec.protocol.startsWith('tcp');
  if (rec.skmem) {
    o.SO_RCVBUF = r(rec.skmem.rcvbuf, 'sk_rcvbuf from INET_DIAG_SKMEMINFO (as getsockopt reports it)');
    o.SO_SNDBUF = r(rec.skmem.sndbuf, 'sk_sndbuf from INET_DIAG_SKMEMINFO (as getsockopt reports it)');
  }
  if (rec.tos !== undefined) o.IP_TOS = r(rec.tos);
  if (rec.family === 6 && rec.tclass !== undefined) o.IPV6_TCLASS = r(rec.tclass);
  if (rec.family === 6 && rec.v6only !== undefined) o.IPV6_V6ONLY = r(rec.v6only ? 1 : 0);
  if (tcp && rec.cong) o.TCP_CONGESTION = r(rec.cong);
  if (rec.mark !== undefined) o.SO_MARK = r(rec.mark);
  if (rec.classId !== undefined) {
    // The kernel sends the net_cls classid when the socket has one, else sk_priority: with net_cls bound, a non-zero value could be either.
    o.SO_PRIORITY = rec.classId !== 0 && netClsBound()
      ? { value: null, source: 'sockdiag', note: 'INET_DIAG_CLASS_ID holds the socket\'s net_cls classid, not sk_priority, while cgroup v1 net_cls is mounted' }
      : r(rec.classId, 'INET_DIAG_CLASS_ID: sk_priority (a net_cls cgroup classid would be shown instead)');
  }
  if (!tcp && rec.sockopt) {
    o.IP_MULTICAST_LOOP = r(rec.sockopt.mcLoop ? 1 : 0, 'INET_DIAG_SOCKOPT mc_loop');
    if (rec.family === 4) o.IP_MULTICAST_ALL = r(rec.sockopt.mcAll ? 1 : 0, 'INET_DIAG_SOCKOPT mc_all');
  }
  if (tcp && rec.timer === 2 && KEEPALIVE_STATES.has(rec.st)) {
    o.SO_KEEPALIVE = r(1, `inferred from a running keepalive timer (fires in ${rec.expiresMs} ms)`, true);
  }
  if (tcp && rec.st === TCP_LISTEN) o.backlog = r(rec.wqueue, 'max accept queue (sk_max_ack_backlog) from sock_diag idiag_wqueue');
  return o;
}

function timerOf(rec: DiagRecord): RawSocket['timer'] {
  if (!rec.timer) return undefined;
  return { kind: TIMER_KINDS[rec.timer] ?? `timer ${rec.timer}`, expiresMs: rec.expiresMs, retrans: rec.retrans, source: 'sockdiag' };
}

/** SHUT_RD is bit 0, SHUT_WR bit 1 (sk_shutdown): only worth a field when one is set. */
function shutdownOf(rec: DiagRecord): RawSocket['shutdown'] {
  if (!rec.shutdown) return undefined;
  return { read: (rec.shutdown & 1) !== 0, write: (rec.shutdown & 2) !== 0, source: 'sockdiag' };
}

/** A host-wide row (no fd) from a record alone. */
export function rawSocketFromDiag(rec: DiagRecord, fd = -1): RawSocket {
  const sock: RawSocket = {
    protocol: rec.protocol, fd, inode: rec.inode, local: rec.local, remote: rec.remote, state: rec.state,
    // sock_diag's wqueue of a listener is its backlog.
    recvQ: rec.rqueue, sendQ: netstatSendQ(rec.state, rec.wqueue), uid: rec.uid,
    options: rec.inode !== 0 ? diagOptions(rec) : {},
    diag: rec.tcpInfo ? diagFromTcpInfo(rec.state, rec.tcpInfo) : '',
    sources: ['sockdiag'],
  };
  if (rec.tcpInfo) sock.tcpInfo = rec.tcpInfo;
  const t = timerOf(rec);
  if (t) sock.timer = t;
  const sh = shutdownOf(rec);
  if (sh) sock.shutdown = sh;
  return sock;
}

/**
 * Adds what the record has and the socket lacks: options not read yet (a value
 * read by another source is never replaced), tcp_info, diag, timer, shutdown
 * state, uid. Returns whether anything was added.
 */
export function mergeDiagRecord(sock: RawSocket, rec: DiagRecord): boolean {
  let added = false;
  for (const [name, reading] of Object.entries(diagOptions(rec))) {
    const prev = sock.options[name];
    if (prev && prev.value !== null) continue;
    // The first source's options object may be shared by sockets of equal options (bpf's are): written into a copy.
    if (!added) sock.options = { ...sock.options };
    sock.options[name] = reading;
    added = true;
  }
  if (!sock.tcpInfo && rec.tcpInfo) {
    sock.tcpInfo = rec.tcpInfo;
    if (!sock.diag) sock.diag = diagFromTcpInfo(rec.state, rec.tcpInfo);
    added = true;
  }
  const t = timerOf(rec);
  if (!sock.timer && t) { sock.timer = t; added = true; }
  const sh = shutdownOf(rec);
  if (!sock.shutdown && sh) { sock.shutdown = sh; added = true; }
  if (sock.uid === undefined) { sock.uid = rec.uid; added = true; }
  if (added && !sock.sources.includes('sockdiag')) sock.sources = [...sock.sources, 'sockdiag'];
  return added;
}
