// The sock_diag source: NETLINK_SOCK_DIAG inet_diag dumps (what `ss` reads).
// One dump per family/protocol for the whole network namespace, joined to the
// target's fds by inode; or, when the target's sockets are already known by
// address (lookupSockdiag), one exact lookup per socket, batched, whose cost
// follows the target's sockets instead of the namespace's. Needs no rights
// over the target, only to be in (or able to enter) its network namespace;
// sees fewer options than pidfd: buffers (SKMEMINFO), TOS/TCLASS, V6ONLY,
// congestion control, a few inet flags (INET_DIAG_SOCKOPT, Linux >= 5.10),
// the mark (CAP_NET_ADMIN only), timers, a listener's backlog, tcp_info.
// What it cannot see is left absent: never a guessed value.
import { closeSync, openSync, statSync } from 'node:fs';
import * as libc from '../sys/libc.js';
import {
  AF_NETLINK, DEFAULT_EXT, INET_DIAG, INET_DIAG_MSG_LEN, INET_DIAG_REQ_V2_LEN, NETLINK_SOCK_DIAG, NLMSG_DONE, NLMSG_ERROR,
  NLMSG_HDRLEN, NLM_F_DUMP_INTR, SOCK_CLOEXEC, SOCK_DIAG_BY_FAMILY, SOCK_RAW, addressBytes, buildInetDiagDump, forEachAttr,
  kernelAddress, messages, writeInetDiagLookup, type InetDiagSockId,
} from '../sys/netlink.js';
import { SysError, errnoName, fsCode } from '../errors.js';
import { socketStampingControllers } from '../linux/cgroup.js';
import { formatIPv4, formatIPv6 } from '../model/addr.js';
import { diagFromTcpInfo, parseTcpInfo } from '../model/tcpinfo.js';
import { stateName } from '../discover/procnet.js';
import type { Endpoint, OptionReading, Protocol, RawSocket, TcpInfo } from '../model/types.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

export type DiagFamily = 4 | 6;
export type DiagProtocol = 'tcp' | 'udp';

const AF_INET = 2, AF_INET6 = 10, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
const CLONE_NEWNET = 0x40000000;
const EINTR = 4, ENOENT = 2, ENOMEM = 12, EAGAIN = 11, EINVAL = 22, EOPNOTSUPP = 95, ENOBUFS = 105;
const MSG_DONTWAIT = 0x40;
const TCP_LISTEN = 10, TCP_NEW_SYN_RECV = 12, TCP_SYN_RECV = 3;
// ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING: windows mean something.
const SYNCHRONIZED = new Set([1, 4, 5, 8, 9, 11]);
// States in which a pending sk_timer is the keepalive timer (FIN_WAIT2 orphans reuse it).
const KEEPALIVE_STATES = new Set([1, 8]);

/** idiag_timer values, as ss names them. */
export const TIMER_KINDS: Record<number, string> = { 1: 'retransmit', 2: 'keepalive', 3: 'timewait', 4: 'persist' };

/** struct inet_diag_sockopt (Linux >= 5.10), bit by bit. */
export interface DiagSockopt {
  recverr: boolean; isIcsk: boolean; freebind: boolean; hdrincl: boolean; mcLoop: boolean; transparent: boolean;
  mcAll: boolean; nodefrag: boolean; bindAddressNoPort: boolean; recverrRfc4884: boolean; deferConnect: boolean;
}

/** INET_DIAG_SKMEMINFO: the SK_MEMINFO_* array (bytes). */
export interface SkMemInfo {
  rmemAlloc: number; rcvbuf: number; wmemAlloc: number; sndbuf: number; fwdAlloc: number;
  wmemQueued: number; optmem: number; backlog: number; drops?: number;
}

/** One socket as sock_diag reports it. Attributes the kernel did not send are absent. */
export interface DiagRecord {
  protocol: Protocol;
  family: DiagFamily;
  /** Kernel state number (TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12; UDP: 7 unconnected, 1 connected). */
  st: number;
  /** As /proc/net and the model spell it (request sockets: SYN_RECV). */
  state: string;
  local: Endpoint;
  remote: Endpoint;
  ifindex: number;
  /** idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 timewait, 4 persist (zero-window probe). */
  timer: number;
  /** Time until the timer fires, ms. */
  expiresMs: number;
  /** Retransmissions (timer 1) or unanswered probes (timers 2 and 4). */
  retrans: number;
  /** TCP: unread bytes, or a listener's accept queue. UDP: receive memory. */
  rqueue: number;
  /** TCP: unacknowledged bytes, or a listener's maximum backlog. UDP: send memory. */
  wqueue: number;
  uid: number;
  /** 0 for TIME_WAIT and request sockets. */
  inode: number;
  tcpInfo?: TcpInfo;
  skmem?: SkMemInfo;
  tos?: number;
  tclass?: number;
  cong?: string;
  /** Bit 0: no more receptions (SHUT_RD), bit 1: no more sends (SHUT_WR). */
  shutdown?: number;
  v6only?: boolean;
  /** SO_MARK: sent only to CAP_NET_ADMIN. */
  mark?: number;
  /** INET_DIAG_CLASS_ID: the net_cls classid, or sk_priority when there is none. */
  classId?: number;
  /** INET_DIAG_PROTOCOL: the socket's real protocol (for IPPROTO_RAW-style requests). */
  protocolAttr?: number;
  cgroupId?: bigint;
  sockopt?: DiagSockopt;
}

export interface DiagSocket {
  fd: number;
  /** 'same': the target shares our namespace; 'entered': opened inside the target's; 'own': could not enter it. */
  netns: 'same' | 'entered' | 'own';
  warnings: string[];
}

export interface DumpOptions {
  /** Dump the network namespace of this process (setns when it differs from ours); default: ours. */
  pid?: number;
  /** A socket from openDiagSocket to reuse (then pid is ignored). */
  socket?: DiagSocket;
  /** Keep only these inodes (memory: a host can hold far more sockets than the target). */
  inodes?: Set<number>;
  /** idiag_ext bits; default: INFO, CONG, TOS, TCLASS, SKMEMINFO, SHUTDOWN. */
  ext?: number;
  /** TCP states bitmask (1 << state); default: all. */
  states?: number;
  /** Only sockets on this local port (idiag_sport plus a bytecode filter). */
  port?: number;
}

/** What the netlink loops of this module sent and received (for tests and benchmarks). */
export interface DiagIoStats {
  /** sendto calls (one per dump, one per batch of lookups). */
  sendto: number;
  /** Request messages sent (dump requests and lookups). */
  requests: number;
  /** recv calls, including the last one of a drain that finds the queue empty. */
  recv: number;
  /** Netlink messages received, of every type and for any request: replies are counted before any filtering. */
  messages: number;
  /** Of those, inet_diag_msg records. */
  records: number;
  /** Bytes received. */
  bytes: number;
}

const io: DiagIoStats = { sendto: 0, requests: 0, recv: 0, messages: 0, records: 0, bytes: 0 };

/** A copy of the counters since the last reset. */
export function diagIoStats(): DiagIoStats {
  return { ...io };
}

export function resetDiagIoStats(): void {
  for (const k of Object.keys(io) as (keyof DiagIoStats)[]) io[k] = 0;
}

function nsInode(path: string): number | undefined {
  try { return statSync(path).ino; } catch { return undefined; }
}

function newNetlinkSocket(): number {
  const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) {
    const e = libc.errno();
    throw new SysError('socket', e, `cannot open a NETLINK_SOCK_DIAG socket: ${errnoName(e)}`);
  }
  return fd;
}

/**
 * A sock_diag socket in pid's network namespace. A netlink socket belongs to
 * the namespace it was created in, so this thread enters the target's
 * namespace only around socket(2) and returns to its own at once.
 */
export function openDiagSocket(pid?: number): DiagSocket {
  const warnings: string[] = [];
  if (pid === undefined) return { fd: newNetlinkSocket(), netns: 'same', warnings };
  const ourPath = '/proc/thread-self/ns/net';
  const theirPath = `/proc/${pid}/ns/net`;
  const ours = nsInode(ourPath);
  const theirs = nsInode(theirPath);
  if (theirs === undefined) {
    warnings.push(`sock_diag: cannot see the network namespace of process ${pid} (not permitted or gone): reading our own namespace, so sockets of another namespace are not seen`);
    return { fd: newNetlinkSocket(), netns: 'own', warnings };
  }
  if (theirs === ours) return { fd: newNetlinkSocket(), netns: 'same', warnings };
  let saved = -1, target = -1;
  try {
    try {
      saved = openSync(ourPath, 'r');
      target = openSync(theirPath, 'r');
    } catch (err) {
      warnings.push(`sock_diag: cannot open the network namespace of process ${pid} (${fsCode(err) ?? 'error'}): using our own namespace, where its sockets are not seen (run as root to enter it)`);
      return { fd: newNetlinkSocket(), netns: 'own', warnings };
    }
    if (libc.setns(target, CLONE_NEWNET) < 0) {
      const e = libc.errno();
      warnings.push(`sock_diag: cannot enter the network namespace of process ${pid} (setns: ${errnoName(e)}; needs CAP_SYS_ADMIN): using our own namespace, where its sockets are not seen`);
      return { fd: newNetlinkSocket(), netns: 'own', warnings };
    }
    let fd = -1;
    try {
      fd = newNetlinkSocket();
    } finally {
      if (libc.setns(saved, CLONE_NEWNET) < 0) {
        const e = libc.errno();
        if (fd >= 0) libc.close(fd);
        // Staying in the target's namespace would make every later read wrong: refuse to go on.
        throw new SysError('setns', e, `cannot return to our own network namespace after reading process ${pid}'s: ${errnoName(e)}`, { exitCode: 70 });
      }
    }
    return { fd, netns: 'entered', warnings };
  } finally {
    if (target >= 0) closeSync(target);
    if (saved >= 0) closeSync(saved);
  }
}

export function closeDiagSocket(s: DiagSocket): void {
  if (s.fd >= 0) libc.close(s.fd);
  s.fd = -1;
}

function endpoint(buf: Buffer, portOff: number, addrOff: number, family: DiagFamily): Endpoint {
  const port = buf.readUInt16BE(portOff);
  return { address: family === 4 ? formatIPv4(buf, addrOff) : formatIPv6(buf, addrOff), port };
}

/** Decodes one inet_diag_msg and its attributes at off (payload of an nlmsghdr). */
export function parseDiagMessage(buf: Buffer, off: number, len: number, protocol: DiagProtocol): DiagRecord {
  if (len < INET_DIAG_MSG_LEN) throw new Error(`sock_diag: short inet_diag_msg (${len} bytes)`);
  const family: DiagFamily = buf.readUInt8(off) === AF_INET6 ? 6 : 4;
  const proto: Protocol = protocol === 'tcp' ? (family === 4 ? 'tcp' : 'tcp6') : (family === 4 ? 'udp' : 'udp6');
  const st = buf.readUInt8(off + 1);
  const id = off + 4;
  const rec: DiagRecord = {
    protocol: proto, family, st,
    state: st === TCP_NEW_SYN_RECV ? stateName(proto, TCP_SYN_RECV) : stateName(proto, st),
    local: endpoint(buf, id, id + 4, family),
    remote: endpoint(buf, id + 2, id + 20, family),
    ifindex: buf.readUInt32LE(id + 36),
    timer: buf.readUInt8(off + 2), retrans: buf.readUInt8(off + 3),
    expiresMs: buf.readUInt32LE(off + 52), rqueue: buf.readUInt32LE(off + 56), wqueue: buf.readUInt32LE(off + 60),
    uid: buf.readUInt32LE(off + 64), inode: buf.readUInt32LE(off + 68),
  };
  forEachAttr(buf, off + INET_DIAG_MSG_LEN, off + len, (type, a, n) => {
    switch (type) {
      case INET_DIAG.INFO:
        if (protocol === 'tcp' && n > 0) rec.tcpInfo = parseTcpInfo(buf.subarray(a, a + n), n, 'sockdiag');
        break;
      case INET_DIAG.SKMEMINFO: {
        const u = (i: number) => buf.readUInt32LE(a + 4 * i);
        if (n >= 32) {
          rec.skmem = { rmemAlloc: u(0), rcvbuf: u(1), wmemAlloc: u(2), sndbuf: u(3), fwdAlloc: u(4), wmemQueued: u(5), optmem: u(6), backlog: u(7) };
          if (n >= 36) rec.skmem.drops = u(8);
        }
        break;
      }
      case INET_DIAG.TOS: if (n >= 1) rec.tos = buf.readUInt8(a); break;
      case INET_DIAG.TCLASS: if (n >= 1) rec.tclass = buf.readUInt8(a); break;
      case INET_DIAG.CONG: rec.cong = buf.toString('latin1', a, a + n).replace(/\0.*$/s, ''); break;
      case INET_DIAG.SHUTDOWN: if (n >= 1) rec.shutdown = buf.readUInt8(a); break;
      case INET_DIAG.SKV6ONLY: if (n >= 1) rec.v6only = buf.readUInt8(a) !== 0; break;
      case INET_DIAG.MARK: if (n >= 4) rec.mark = buf.readUInt32LE(a); break;
      case INET_DIAG.CLASS_ID: if (n >= 4) rec.classId = buf.readUInt32LE(a); break;
      case INET_DIAG.PROTOCOL: if (n >= 1) rec.protocolAttr = buf.readUInt8(a); break;
      case INET_DIAG.CGROUP_ID: if (n >= 8) rec.cgroupId = buf.readBigUInt64LE(a); break;
      case INET_DIAG.SOCKOPT: {
        if (n < 2) break;
        // C bitfields on little-endian ABIs: the first member is the lowest bit.
        const b0 = buf.readUInt8(a), b1 = buf.readUInt8(a + 1);
        const bit = (b: number, i: number) => ((b >> i) & 1) === 1;
        rec.sockopt = {
          recverr: bit(b0, 0), isIcsk: bit(b0, 1), freebind: bit(b0, 2), hdrincl: bit(b0, 3), mcLoop: bit(b0, 4),
          transparent: bit(b0, 5), mcAll: bit(b0, 6), nodefrag: bit(b0, 7),
          bindAddressNoPort: bit(b1, 0), recverrRfc4884: bit(b1, 1), deferConnect: bit(b1, 2),
        };
        break;
      }
      default: break;
    }
  });
  return rec;
}

const recvBuf = Buffer.alloc(64 * 1024);
let seqCounter = Math.floor(Date.now() / 1000) & 0xffff;
const nextSeq = () => (seqCounter = (seqCounter + 1) >>> 0);

function send(fd: number, buf: Buffer, requests: number): void {
  const dst = kernelAddress();
  for (;;) {
    io.sendto++;
    if (libc.sendto(fd, buf, buf.length, 0, dst, dst.length) >= 0) { io.requests += requests; return; }
    const e = libc.errno();
    if (e === EINTR) continue;
    throw new SysError('sendto', e, `sock_diag request failed: ${errnoName(e)}`);
  }
}

/** Every socket of one family/protocol in the socket's namespace, as records (TIME_WAIT and request sockets included, with inode 0). */
export function dumpInetDiagList(family: DiagFamily, protocol: DiagProtocol, opts: DumpOptions = {}): DiagRecord[] {
  const out: DiagRecord[] = [];
  dumpEach(family, protocol, opts, (r) => { out.push(r); });
  return out;
}

/** Every socket of one family/protocol with an inode, by inode. */
export function dumpInetDiag(family: DiagFamily, protocol: DiagProtocol, opts: DumpOptions = {}): Map<number, DiagRecord> {
  const out = new Map<number, DiagRecord>();
  dumpEach(family, protocol, opts, (r) => { if (r.inode !== 0) out.set(r.inode, r); });
  return out;
}

function dumpEach(family: DiagFamily, protocol: DiagProtocol, opts: DumpOptions, each: (r: DiagRecord) => void): { interrupted: boolean } {
  const own = opts.socket ? undefined : openDiagSocket(opts.pid);
  const sock = opts.socket ?? own!;
  let interrupted = false;
  try {
    const seq = nextSeq();
    const req = buildInetDiagDump(family === 4 ? AF_INET : AF_INET6, protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
      opts.ext ?? DEFAULT_EXT, opts.states ?? 0xffffffff, seq, opts.port);
    send(sock.fd, req, 1);
    for (;;) {
      const n = Number(libc.recv(sock.fd, recvBuf, recvBuf.length, 0));
      io.recv++;
      if (n < 0) {
        const e = libc.errno();
        if (e === EINTR) continue;
        throw new SysError('recv', e, `sock_diag dump failed: ${errnoName(e)}`);
      }
      if (n === 0) return { interrupted };
      io.bytes += n;
      for (const m of messages(recvBuf, n)) {
        io.messages++;
        if (m.type === SOCK_DIAG_BY_FAMILY) io.records++;
        if (m.seq !== seq) continue; // a reply to an earlier, abandoned request
        if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m.type === NLMSG_DONE) return { interrupted };
        if (m.type === NLMSG_ERROR) {
          const err = -recvBuf.readInt32LE(m.payload);
          if (err === 0) continue; // an ACK
          const proto = `${protocol}${family === 6 ? '6' : ''}`;
          throw new SysError('sock_diag', err, err === ENOENT
            ? `sock_diag has no ${proto} handler on this kernel (module ${protocol}_diag not available)`
            : `sock_diag ${proto} dump refused: ${errnoName(err)}`);
        }
        if (m.payloadLen < INET_DIAG_MSG_LEN) continue;
        const inode = recvBuf.readUInt32LE(m.payload + 68);
        if (opts.inodes && !opts.inodes.has(inode)) continue;
        each(parseDiagMessage(recvBuf, m.payload, m.payloadLen, protocol));
      }
    }
  } finally {
    if (own) closeDiagSocket(own);
  }
}

export const DIAG_KINDS: [DiagFamily, DiagProtocol][] = [[4, 'tcp'], [6, 'tcp'], [4, 'udp'], [6, 'udp']];

export interface DumpAllResult {
  records: Map<number, DiagRecord>;
  /** Sockets without an inode (TIME_WAIT, request sockets), only with opts.all. */
  anonymous: DiagRecord[];
  netns: DiagSocket['netns'];
  warnings: string[];
}

/** The four dumps (tcp, tcp6, udp, udp6) over one netlink socket in pid's namespace. */
export function dumpAllInetDiag(opts: Omit<DumpOptions, 'socket'> & { all?: boolean } = {}): DumpAllResult {
  const sock = openDiagSocket(opts.pid);
  const records = new Map<number, DiagRecord>();
  const anonymous: DiagRecord[] = [];
  const warnings = [...sock.warnings];
  try {
    for (const [family, protocol] of DIAG_KINDS) {
      try {
        const r = dumpEach(family, protocol, { ...opts, socket: sock }, (rec) => {
          if (rec.inode !== 0) records.set(rec.inode, rec);
          else if (opts.all) anonymous.push(rec);
        });
        if (r.interrupted) warnings.push(`sock_diag: the ${protocol}${family === 6 ? '6' : ''} dump was interrupted by concurrent changes: a socket may be missing or listed twice`);
      } catch (err) {
        if (err instanceof SysError && err.syscall === 'sock_diag') { warnings.push(err.message); continue; }
        throw err;
      }
    }
  } finally {
    closeDiagSocket(sock);
  }
  return { records, anonymous, netns: sock.netns, warnings };
}

// ---- RawSocket mapping ----------------------------------------------------

let netCls: boolean | undefined;
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

/** A host-wide row (no fd) from a record alone. */
export function rawSocketFromDiag(rec: DiagRecord, fd = -1): RawSocket {
  const listen = rec.st === TCP_LISTEN;
  const sock: RawSocket = {
    protocol: rec.protocol, fd, inode: rec.inode, local: rec.local, remote: rec.remote, state: rec.state,
    // As /proc/net/tcp and netstat: a listener's Send-Q is 0 (sock_diag's wqueue is its backlog).
    recvQ: rec.rqueue, sendQ: listen ? 0 : rec.wqueue, uid: rec.uid,
    options: rec.inode !== 0 ? diagOptions(rec) : {},
    diag: rec.tcpInfo && SYNCHRONIZED.has(rec.st) ? diagFromTcpInfo(rec.tcpInfo) : '',
    sources: ['sockdiag'],
  };
  if (rec.tcpInfo) sock.tcpInfo = rec.tcpInfo;
  const t = timerOf(rec);
  if (t) sock.timer = t;
  if (rec.shutdown) sock.shutdown = { read: (rec.shutdown & 1) !== 0, write: (rec.shutdown & 2) !== 0, source: 'sockdiag' };
  return sock;
}

/**
 * Adds what the record has and the socket lacks: options not read yet (a value
 * read by another source is never replaced), tcp_info, diag, timer, uid.
 * Returns whether anything was added.
 */
export function mergeDiagRecord(sock: RawSocket, rec: DiagRecord): boolean {
  let added = false;
  for (const [name, reading] of Object.entries(diagOptions(rec))) {
    const prev = sock.options[name];
    if (prev && prev.value !== null) continue;
    sock.options[name] = reading;
    added = true;
  }
  if (!sock.tcpInfo && rec.tcpInfo) {
    sock.tcpInfo = rec.tcpInfo;
    if (!sock.diag && SYNCHRONIZED.has(rec.st)) sock.diag = diagFromTcpInfo(rec.tcpInfo);
    added = true;
  }
  const t = timerOf(rec);
  if (!sock.timer && t) { sock.timer = t; added = true; }
  // SHUT_RD is bit 0, SHUT_WR bit 1 (sk_shutdown): only worth a field when one is set.
  if (!sock.shutdown && rec.shutdown) {
    sock.shutdown = { read: (rec.shutdown & 1) !== 0, write: (rec.shutdown & 2) !== 0, source: 'sockdiag' };
    added = true;
  }
  if (sock.uid === undefined) { sock.uid = rec.uid; added = true; }
  if (added && !sock.sources.includes('sockdiag')) sock.sources = [...sock.sources, 'sockdiag'];
  return added;
}

export interface EnrichResult {
  /** Sockets that got something from sock_diag. */
  enriched: number;
  /** Inodes asked for that sock_diag did not list (closed meanwhile, or another namespace). */
  notFound: number[];
  /** The records, for callers that want more than RawSocket holds (shutdown, skmem ...). */
  records: Map<number, DiagRecord>;
  warnings: string[];
}

/**
 * For the pidfd pipeline: adds to sockets already read what only sock_diag
 * has (listener backlog, timers, skmem buffers, tcp_info when missing, ...)
 * without overwriting a value another source read. One dump per kind.
 */
export function enrichWithSockdiag(pid: number, sockets: Map<number, RawSocket> | Iterable<RawSocket>): EnrichResult {
  const list = sockets instanceof Map ? [...sockets.values()] : [...sockets];
  const inodes = new Set(list.map((s) => s.inode).filter((i) => i !== 0));
  const res = dumpAllInetDiag({ pid, inodes });
  let enriched = 0;
  const notFound: number[] = [];
  for (const s of list) {
    const rec = res.records.get(s.inode);
    if (!rec) { notFound.push(s.inode); continue; }
    if (mergeDiagRecord(s, rec)) enriched++;
  }
  return { enriched, notFound, records: res.records, warnings: res.warnings };
}

// ---- exact lookups --------------------------------------------------------
//
// One SOCK_DIAG_BY_FAMILY request without NLM_F_DUMP per socket: the kernel
// looks the socket up in its hash tables by address and port (as the receive
// path does) and answers with one inet_diag_msg, or NLMSG_ERROR (ENOENT when
// nothing holds that address any more). The cost is the target's sockets, not
// the namespace's. Semantics worth knowing (net/ipv4/tcp_diag.c, udp_diag.c):
//  - TCP (tcp_diag_find_one_icsk): id.src/sport is the socket's LOCAL side,
//    id.dst/dport its peer: inet_lookup(saddr = id.dst, sport = id.dport,
//    daddr = id.src, dport = id.sport). A listener is found with a zero peer:
//    the established-table lookup misses, the listener lookup matches the local
//    address or a wildcard listener on the port. AF_INET6 requests with BOTH
//    addresses v4-mapped are looked up as IPv4 (that is where such sockets are
//    hashed); any other AF_INET6 request as IPv6.
//  - UDP (udp_dump_one): the other way round. __udp4_lib_lookup(saddr = id.src,
//    sport = id.sport, daddr = id.dst, dport = id.dport) is the receive path's
//    lookup, whose source is the peer: id.dst/dport is the LOCAL side. An
//    unconnected socket matches any peer, so a zero peer finds it; a connected
//    one only its own peer. AF_INET6 requests are looked up as IPv6 even with
//    v4-mapped addresses (where udp6 sockets are hashed).
//  - The lookups score candidates and pick one: an SO_REUSEPORT group answers
//    with the member its hash selects, and a wildcard socket can answer for an
//    address nobody else holds. So the reply's inode is checked.
//  - A TCP socket that is bound but neither listening nor connected (state
//    CLOSE) is in no table a lookup reads; dumps list it (Linux >= 6.5,
//    TCP_BOUND_INACTIVE). An unbound socket is in no table at all.
//  - The replies are queued synchronously while sendto runs (netlink_rcv_skb
//    calls the handler for every message of the skb), with MSG_DONTWAIT: a
//    reply that does not fit in the receive buffer is dropped and the socket
//    gets ENOBUFS. So a batch is sized to the receive buffer and drained
//    without blocking; what got no reply is asked again in smaller batches.

export interface LookupOptions {
  /** Lookups per sendto: an upper bound, lowered to what the receive buffer holds. Default 256. */
  chunk?: number;
}

const TCPF_LISTEN = 1 << TCP_LISTEN;
const TCPF_BOUND_INACTIVE = 1 << 13;
const LOOKUP_LEN = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;
const ZERO_ADDR = Buffer.alloc(16);
/**
 * Receive-buffer charge of one exact TCP reply with DEFAULT_EXT (skb truesize:
 * ~600 bytes of message in a 1 KiB allocation, plus the sk_buff): measured
 * ~1.3 KiB on Linux 6.18, rounded up.
 */
const REPLY_TRUESIZE = 1536;
const MAX_ROUNDS = 8;
const SOL_SOCKET = 1, SO_RCVBUF = 8;

interface Wanted {
  sock: RawSocket;
  family: DiagFamily;
  protocol: DiagProtocol;
}

interface Lookup {
  w: Wanted;
  id: InetDiagSockId;
}

type Reply = { rec: DiagRecord } | { errno: number } | undefined;

const protoName = (family: DiagFamily, protocol: DiagProtocol) => `${protocol}${family === 6 ? '6' : ''}`;

/** The inet_diag_sockid an exact lookup of this socket needs, oriented as each protocol's handler reads it. */
export function lookupSockId(sock: RawSocket): InetDiagSockId | undefined {
  const family: DiagFamily = sock.protocol.endsWith('6') ? 6 : 4;
  const tcp = sock.protocol.startsWith('tcp');
  // Sockets without a peer are found with a zero peer: listeners, unconnected UDP.
  const peerless = tcp ? sock.state === 'LISTEN' : sock.state === 'UNCONN' || sock.remote.port === 0;
  const local = addressBytes(sock.local.address, family);
  const remote = peerless ? ZERO_ADDR : addressBytes(sock.remote.address, family);
  if (!local || !remote) return undefined;
  const rport = peerless ? 0 : sock.remote.port;
  return tcp
    ? { sport: sock.local.port, dport: rport, src: local, dst: remote, ifindex: 0 }
    : { sport: rport, dport: sock.local.port, src: remote, dst: local, ifindex: 0 };
}

/** How many exact replies the socket's receive buffer holds at once. */
function replyCapacity(fd: number): number {
  const v = Buffer.alloc(4), l = Buffer.alloc(4);
  l.writeUInt32LE(4, 0);
  if (libc.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, v, l) < 0) return 64;
  return Math.max(1, Math.floor(v.readInt32LE(0) / REPLY_TRUESIZE));
}

/** Reads every reply already queued (never blocks); answered requests leave bySeq. */
function drainReplies(fd: number, bySeq: Map<number, number>, lookups: Lookup[], replies: Reply[]): void {
  for (;;) {
    const n = Number(libc.recv(fd, recvBuf, recvBuf.length, MSG_DONTWAIT));
    io.recv++;
    if (n < 0) {
      const e = libc.errno();
      // ENOBUFS: some replies were dropped (receive queue full); those queued before are still there.
      if (e === EINTR || e === ENOBUFS) continue;
      if (e === EAGAIN) return;
      throw new SysError('recv', e, `sock_diag lookup failed: ${errnoName(e)}`);
    }
    if (n === 0) return;
    io.bytes += n;
    for (const m of messages(recvBuf, n)) {
      io.messages++;
      if (m.type === SOCK_DIAG_BY_FAMILY) io.records++;
      const idx = bySeq.get(m.seq);
      if (idx === undefined) continue; // not one of this batch
      if (m.type === NLMSG_ERROR) {
        const err = m.payloadLen >= 4 ? -recvBuf.readInt32LE(m.payload) : EINVAL;
        if (err === 0) continue; // an ACK (not asked for)
        // The reply could not be queued: the request stays pending and is sent again.
        if (err === EAGAIN || err === ENOBUFS || err === ENOMEM) continue;
        replies[idx] = { errno: err };
      } else if (m.type === SOCK_DIAG_BY_FAMILY && m.payloadLen >= INET_DIAG_MSG_LEN) {
        replies[idx] = { rec: parseDiagMessage(recvBuf, m.payload, m.payloadLen, lookups[idx]!.w.protocol) };
      } else {
        continue;
      }
      bySeq.delete(m.seq);
    }
  }
}

/** Sends the lookups in batches of up to `chunk` messages per sendto; one reply (or undefined: none came) per lookup. */
function exchangeLookups(fd: number, lookups: Lookup[], chunk: number, ext: number, warnings: string[]): Reply[] {
  const replies: Reply[] = new Array(lookups.length);
  let size = Math.max(1, Math.min(Math.floor(chunk), replyCapacity(fd)));
  const out = Buffer.alloc(size * LOOKUP_LEN);
  let todo = lookups.map((_, i) => i);
  for (let round = 0; todo.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      warnings.push(`sock_diag: no reply to ${todo.length} lookup(s) after ${MAX_ROUNDS} attempts: reported as not found`);
      break;
    }
    const unanswered: number[] = [];
    for (let i = 0; i < todo.length;) {
      const batch = todo.slice(i, i + size);
      i += batch.length;
      const bySeq = new Map<number, number>();
      batch.forEach((idx, k) => {
        const { w, id } = lookups[idx]!;
        const seq = nextSeq();
        bySeq.set(seq, idx);
        writeInetDiagLookup(out, k * LOOKUP_LEN, w.family === 4 ? AF_INET : AF_INET6, w.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
          ext, 0xffffffff, seq, id);
      });
      send(fd, out.subarray(0, batch.length * LOOKUP_LEN), batch.length);
      drainReplies(fd, bySeq, lookups, replies);
      if (bySeq.size > 0) {
        unanswered.push(...bySeq.values());
        size = Math.max(1, size >> 1); // replies were dropped: smaller batches from now on
      }
    }
    todo = unanswered;
  }
  return replies;
}

/**
 * As enrichWithSockdiag, by exact lookups instead of dumps: one request per
 * socket (batched, `chunk` per sendto), so the work and the messages received
 * grow with the target's sockets, not with the host's. A reply is merged only
 * into the socket whose inode it carries (mergeDiagRecord: nothing another
 * source read is replaced). Sockets with inode 0 or fd -1 are skipped. In
 * notFound: sockets that closed meanwhile (ENOENT, or a TIME_WAIT now holds
 * the tuple), unbound ones (in no table sock_diag reads), and any the kernel
 * never answered for. Narrow dumps, filtered to one local port, find what a
 * lookup cannot: a bound-only TCP socket, a member of an SO_REUSEPORT group
 * the lookup's hash did not pick. A protocol whose exact lookups the kernel
 * refuses (EOPNOTSUPP/EINVAL) is dumped whole instead, with a warning.
 */
export function lookupSockdiag(pid: number, sockets: Map<number, RawSocket> | Iterable<RawSocket>, opts: LookupOptions = {}): EnrichResult {
  const list = sockets instanceof Map ? [...sockets.values()] : [...sockets];
  const wanted = new Map<number, Wanted>();
  const lookups: Lookup[] = [];
  const byPort: Wanted[] = [];
  for (const s of list) {
    if (s.inode === 0 || s.fd === -1 || wanted.has(s.inode)) continue;
    const w: Wanted = { sock: s, family: s.protocol.endsWith('6') ? 6 : 4, protocol: s.protocol.startsWith('tcp') ? 'tcp' : 'udp' };
    wanted.set(s.inode, w);
    if (s.local.port === 0) continue; // unbound: listed nowhere
    const id = w.protocol === 'tcp' && s.state === 'CLOSE' ? undefined : lookupSockId(s);
    if (id) lookups.push({ w, id });
    else byPort.push(w);
  }
  const records = new Map<number, DiagRecord>();
  const sock = openDiagSocket(pid);
  const warnings = [...sock.warnings];
  const kindKey = (w: Wanted) => protoName(w.family, w.protocol);
  try {
    const replies = exchangeLookups(sock.fd, lookups, opts.chunk ?? 256, DEFAULT_EXT, warnings);
    const refused = new Map<string, number>();
    const asked = new Map<string, number>(), absent = new Map<string, number>();
    const errors = new Map<number, number>();
    const mismatched: Wanted[] = [];
    lookups.forEach(({ w }, i) => {
      const k = kindKey(w);
      asked.set(k, (asked.get(k) ?? 0) + 1);
      const r = replies[i];
      if (!r) return;
      if ('errno' in r) {
        if (r.errno === ENOENT) absent.set(k, (absent.get(k) ?? 0) + 1);
        else if (r.errno === EOPNOTSUPP || r.errno === EINVAL) refused.set(k, r.errno);
        else errors.set(r.errno, (errors.get(r.errno) ?? 0) + 1);
        return;
      }
      const rec = r.rec;
      if (rec.inode === w.sock.inode) { records.set(rec.inode, rec); return; }
      // Another socket answered. Inode 0: a TIME_WAIT (or request) socket holds the tuple now, ours is gone.
      if (rec.inode === 0) return;
      // A socket of the target's own (a sibling in an SO_REUSEPORT group): the record is that one's.
      const other = wanted.get(rec.inode);
      if (other && other.protocol === w.protocol) records.set(rec.inode, rec);
      mismatched.push(w);
    });
    for (const [e, n] of errors) warnings.push(`sock_diag: ${n} lookup(s) refused: ${errnoName(e)}`);
    for (const w of mismatched) if (!records.has(w.sock.inode)) byPort.push(w);

    // Kinds whose exact lookups this kernel refuses: one whole dump each.
    for (const [k, e] of refused) {
      const [family, protocol] = DIAG_KINDS.find(([f, p]) => protoName(f, p) === k)!;
      const inodes = new Set([...wanted.values()].filter((w) => kindKey(w) === k && !records.has(w.sock.inode)).map((w) => w.sock.inode));
      warnings.push(`sock_diag: exact ${k} lookups refused (${errnoName(e)}): dumped every ${k} socket of the namespace instead`);
      try {
        dumpEach(family, protocol, { socket: sock, inodes }, (rec) => { records.set(rec.inode, rec); });
      } catch (err) {
        if (err instanceof SysError && err.syscall === 'sock_diag') { warnings.push(err.message); continue; }
        throw err;
      }
    }

    // Every lookup of a kind said ENOENT: either all those sockets closed, or the
    // kernel has no handler for the kind (the answer is the same). A dump that
    // matches nothing (local port 0) tells which, without listing any socket.
    for (const [k, n] of absent) {
      if (n !== asked.get(k) || refused.has(k)) continue;
      const [family, protocol] = DIAG_KINDS.find(([f, p]) => protoName(f, p) === k)!;
      try {
        dumpEach(family, protocol, { socket: sock, port: 0, inodes: new Set() }, () => {});
      } catch (err) {
        if (err instanceof SysError && err.syscall === 'sock_diag') { warnings.push(err.message); continue; }
        throw err;
      }
    }

    // Dumps narrowed to one local port (and the states sought): bound-only TCP
    // sockets, SO_REUSEPORT members the lookup hash did not select.
    const groups = new Map<string, { family: DiagFamily; protocol: DiagProtocol; port: number; states: number; inodes: Set<number> }>();
    for (const w of byPort) {
      if (refused.has(kindKey(w))) continue;
      const states = w.protocol === 'udp' ? 0xffffffff
        : w.sock.state === 'LISTEN' ? TCPF_LISTEN
        : w.sock.state === 'CLOSE' ? TCPF_BOUND_INACTIVE
        : 0xffffffff & ~(TCPF_LISTEN | TCPF_BOUND_INACTIVE);
      const key = `${kindKey(w)}/${w.sock.local.port}/${states}`;
      const g = groups.get(key) ?? { family: w.family, protocol: w.protocol, port: w.sock.local.port, states, inodes: new Set<number>() };
      g.inodes.add(w.sock.inode);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      try {
        dumpEach(g.family, g.protocol, { socket: sock, port: g.port, states: g.states, inodes: g.inodes }, (rec) => { records.set(rec.inode, rec); });
      } catch (err) {
        if (err instanceof SysError && err.syscall === 'sock_diag') { warnings.push(err.message); continue; }
        throw err;
      }
    }
  } finally {
    closeDiagSocket(sock);
  }
  let enriched = 0;
  const notFound: number[] = [];
  for (const w of wanted.values()) {
    const rec = records.get(w.sock.inode);
    if (!rec) { notFound.push(w.sock.inode); continue; }
    if (mergeDiagRecord(w.sock, rec)) enriched++;
  }
  return { enriched, notFound, records, warnings };
}

export class SockdiagSource implements Source {
  readonly name = 'sockdiag' as const;

  available(_target: Target): { ok: true } | { ok: false; reason: string; errno?: string } {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
      const e = libc.errno();
      return { ok: false, reason: `NETLINK_SOCK_DIAG is not available here (${errnoName(e)})`, errno: errnoName(e) };
    }
    libc.close(fd);
    return { ok: true };
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const wanted = new Set(target.fds.values());
    const fdOf = new Map<number, number>();
    for (const [fd, inode] of target.fds) fdOf.set(inode, fd);
    let res: DumpAllResult;
    try {
      res = dumpAllInetDiag({ pid: target.pid, inodes: wanted });
    } catch (err) {
      if (err instanceof SysError && err.exitCode !== 70) {
        return { status: { name: this.name, used: false, reason: err.message, errno: err.errno } };
      }
      throw err;
    }
    const warnings = [...res.warnings];
    for (const [inode, rec] of res.records) {
      const prev = sockets.get(inode);
      if (prev) mergeDiagRecord(prev, rec);
      else sockets.set(inode, rawSocketFromDiag(rec, fdOf.get(inode) ?? -1));
    }
    // A TCP/UDP socket procfs listed but the dump did not: closed in between.
    // In a namespace we could not enter, absence means nothing.
    const vanished: number[] = [];
    if (res.netns !== 'own') {
      for (const s of sockets.values()) if (wanted.has(s.inode) && !res.records.has(s.inode)) vanished.push(s.inode);
    }
    ctx.progress?.(target.fds.size, target.fds.size);
    return { status: { name: this.name, used: true }, vanished, warnings };
  }
}

/**
 * sock_diag after another source (auto mode): adds what only it has (timers,
 * shutdown state, and whatever the primary source could not read) by exact
 * lookups, so the cost follows the target's sockets, not the host's.
 */
const ENRICH_SLICE = 2048;

export class SockdiagEnricher implements Source {
  readonly name = 'sockdiag' as const;

  available(target: Target) {
    return new SockdiagSource().available(target);
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    try {
      // In slices: each slice's replies are merged and dropped before the next,
      // so the working set stays bounded on 50,000-socket JVMs.
      const all = [...ctx.sockets.values()];
      const warnings = new Set<string>();
      for (let i = 0; i < all.length; i += ENRICH_SLICE) {
        for (const w of lookupSockdiag(ctx.target.pid, all.slice(i, i + ENRICH_SLICE)).warnings) warnings.add(w);
      }
      return { status: { name: this.name, used: true, role: 'enrich' }, warnings: [...warnings] };
    } catch (err) {
      if (err instanceof SysError && err.exitCode !== 70) {
        return { status: { name: this.name, used: false, role: 'enrich', reason: err.message, errno: err.errno } };
      }
      throw err;
    }
  }
}
