// A NETLINK_SOCK_DIAG socket bound to a network namespace, and its two loops:
// dumps (every socket of a family/protocol, as `ss` reads them) and batches
// of exact lookups (one request per socket). Requests and records are built
// and decoded in inetdiag.ts; what the sources make of them is theirs.
import { closeSync, openSync } from 'node:fs';
import { FatalSysError, SysError, errnoName, fsCode } from '../errors.js';
import { AF_NETLINK, ERRNO, SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET, SO_RCVBUF } from './inet.js';
import {
  DEFAULT_EXT, DIAG_KINDS, INET_DIAG_MSG_LEN, LOOKUP_LEN, SOCK_DIAG_BY_FAMILY, buildInetDiagDump, diagMessageInode,
  kindNumbers, parseDiagMessage, protoName, writeInetDiagLookup, type DiagFamily, type DiagProtocol, type DiagRecord,
  type InetDiagSockId,
} from './inetdiag.js';
import * as libc from './libc.js';
import { NETLINK_SOCK_DIAG, NLMSG_DONE, NLMSG_ERROR, NLM_F_DUMP_INTR, kernelAddress, messages } from './netlink.js';
import { nsInode } from './proc.js';

const { EINTR, ENOENT, ENOMEM, EAGAIN, EINVAL, ENOBUFS } = ERRNO;

export interface DiagSocket {
  fd: number;
  /** 'same': the target shares our namespace; 'entered': opened inside the target's; 'own': could not enter it. */
  netns: 'same' | 'entered' | 'own';
  warnings: string[];
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

/** A NETLINK_SOCK_DIAG socket in our own namespace; throws SysError when the kernel has none. */
export function newNetlinkSocket(): number {
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
 * namespace only around socket(2) and returns to its own at once. Failing to
 * return is a FatalSysError: every later read would be of the wrong namespace.
 */
export function openDiagSocket(pid?: number): DiagSocket {
  const warnings: string[] = [];
  if (pid === undefined) return { fd: newNetlinkSocket(), netns: 'same', warnings };
  const ourPath = '/proc/thread-self/ns/net';
  const theirPath = `/proc/${pid}/ns/net`;
  const ours = nsInode('thread-self', 'net');
  const theirs = nsInode(pid, 'net');
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
    if (libc.setns(target, libc.CLONE_NEWNET) < 0) {
      const e = libc.errno();
      warnings.push(`sock_diag: cannot enter the network namespace of process ${pid} (setns: ${errnoName(e)}; needs CAP_SYS_ADMIN): using our own namespace, where its sockets are not seen`);
      return { fd: newNetlinkSocket(), netns: 'own', warnings };
    }
    let fd = -1;
    try {
      fd = newNetlinkSocket();
    } finally {
      if (libc.setns(saved, libc.CLONE_NEWNET) < 0) {
        const e = libc.errno();
        if (fd >= 0) libc.close(fd);
        throw new FatalSysError('setns', e, `cannot return to our own network namespace after reading process ${pid}'s: ${errnoName(e)}`);
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

/**
 * One dump: each record of the family/protocol (TIME_WAIT and request sockets
 * included, with inode 0) goes to `each`. A kernel without the handler, or one
 * that refuses the dump, is a SysError with syscall 'sock_diag'.
 */
export function dumpEach(family: DiagFamily, protocol: DiagProtocol, opts: DumpOptions, each: (r: DiagRecord) => void): { interrupted: boolean } {
  const own = opts.socket ? undefined : openDiagSocket(opts.pid);
  const sock = opts.socket ?? own!;
  let interrupted = false;
  try {
    const seq = nextSeq();
    const [af, proto] = kindNumbers(family, protocol);
    const req = buildInetDiagDump(af, proto, opts.ext ?? DEFAULT_EXT, opts.states ?? 0xffffffff, seq, opts.port);
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
          const kind = protoName(family, protocol);
          throw new SysError('sock_diag', err, err === ENOENT
            ? `sock_diag has no ${kind} handler on this kernel (module ${protocol}_diag not available)`
            : `sock_diag ${kind} dump refused: ${errnoName(err)}`);
        }
        if (m.payloadLen < INET_DIAG_MSG_LEN) continue;
        if (opts.inodes && !opts.inodes.has(diagMessageInode(recvBuf, m.payload))) continue;
        each(parseDiagMessage(recvBuf, m.payload, m.payloadLen, protocol));
      }
    }
  } finally {
    if (own) closeDiagSocket(own);
  }
}

/** Every socket of one family/protocol with an inode, by inode. */
export function dumpInetDiag(family: DiagFamily, protocol: DiagProtocol, opts: DumpOptions = {}): Map<number, DiagRecord> {
  const out = new Map<number, DiagRecord>();
  dumpEach(family, protocol, opts, (r) => { if (r.inode !== 0) out.set(r.inode, r); });
  return out;
}

export interface DumpAllResult {
  records: Map<number, DiagRecord>;
  /** Sockets without an inode (TIME_WAIT, request sockets), only with opts.all. */
  anonymous: DiagRecord[];
  netns: DiagSocket['netns'];
  warnings: string[];
  /** Kinds the kernel answered with an error (each also a warning): errno ENOENT when it has no handler for the kind. */
  failed: { kind: string; errno: number }[];
}

/** The four dumps (tcp, tcp6, udp, udp6) over one netlink socket in pid's namespace; a kind the kernel refuses is a warning. */
export function dumpAllInetDiag(opts: Omit<DumpOptions, 'socket'> & { all?: boolean } = {}): DumpAllResult {
  const sock = openDiagSocket(opts.pid);
  const records = new Map<number, DiagRecord>();
  const anonymous: DiagRecord[] = [];
  const warnings = [...sock.warnings];
  const failed: DumpAllResult['failed'] = [];
  try {
    for (const [family, protocol] of DIAG_KINDS) {
      try {
        const r = dumpEach(family, protocol, { ...opts, socket: sock }, (rec) => {
          if (rec.inode !== 0) records.set(rec.inode, rec);
          else if (opts.all) anonymous.push(rec);
        });
        if (r.interrupted) warnings.push(`sock_diag: the ${protoName(family, protocol)} dump was interrupted by concurrent changes: a socket may be missing or listed twice`);
      } catch (err) {
        if (!isRefusedDump(err)) throw err;
        warnings.push(err.message);
        failed.push({ kind: protoName(family, protocol), errno: err.code });
      }
    }
  } finally {
    closeDiagSocket(sock);
  }
  return { records, anonymous, netns: sock.netns, warnings, failed };
}

/** A dump the kernel answered with an error (no handler, refused): the caller may go on without that kind. */
export function isRefusedDump(err: unknown): err is SysError {
  return err instanceof SysError && err.syscall === 'sock_diag';
}

// ---- exact lookups --------------------------------------------------------
//
// The replies are queued synchronously while sendto runs (netlink_rcv_skb
// calls the handler for every message of the skb), with MSG_DONTWAIT: a reply
// that does not fit in the receive buffer is dropped and the socket gets
// ENOBUFS. So a batch is sized to the receive buffer and drained without
// blocking; what got no reply is asked again in smaller batches.

/** One lookup: the socket's kind and its id, oriented as lookupSockId() makes it. */
export interface LookupRequest {
  family: DiagFamily;
  protocol: DiagProtocol;
  id: InetDiagSockId;
}

/** The kernel's answer to one lookup: a record, an errno (ENOENT: nothing holds that address), or none at all. */
export type LookupReply = { rec: DiagRecord } | { errno: number } | undefined;

/**
 * Receive-buffer charge of one exact TCP reply with DEFAULT_EXT (skb truesize:
 * ~600 bytes of message in a 1 KiB allocation, plus the sk_buff): measured
 * ~1.3 KiB on Linux 6.18, rounded up.
 */
const REPLY_TRUESIZE = 1536;
const MAX_ROUNDS = 8;

/** How many exact replies the socket's receive buffer holds at once. */
function replyCapacity(fd: number): number {
  const v = Buffer.alloc(4), l = Buffer.alloc(4);
  l.writeUInt32LE(4, 0);
  if (libc.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, v, l) < 0) return 64;
  return Math.max(1, Math.floor(v.readInt32LE(0) / REPLY_TRUESIZE));
}

/** Reads every reply already queued (never blocks); answered requests leave bySeq. */
function drainReplies(fd: number, bySeq: Map<number, number>, requests: LookupRequest[], replies: LookupReply[]): void {
  for (;;) {
    const n = Number(libc.recv(fd, recvBuf, recvBuf.length, libc.MSG_DONTWAIT));
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
        replies[idx] = { rec: parseDiagMessage(recvBuf, m.payload, m.payloadLen, requests[idx]!.protocol) };
      } else {
        continue;
      }
      bySeq.delete(m.seq);
    }
  }
}

/** Sends the lookups in batches of up to `chunk` messages per sendto; one reply (or undefined: none came) per request. */
export function exchangeLookups(fd: number, requests: LookupRequest[], chunk: number, ext: number, warnings: string[]): LookupReply[] {
  const replies: LookupReply[] = new Array(requests.length);
  let size = Math.max(1, Math.min(Math.floor(chunk), replyCapacity(fd)));
  const out = Buffer.alloc(size * LOOKUP_LEN);
  let todo = requests.map((_, i) => i);
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
        const { family, protocol, id } = requests[idx]!;
        const seq = nextSeq();
        bySeq.set(seq, idx);
        const [af, proto] = kindNumbers(family, protocol);
        writeInetDiagLookup(out, k * LOOKUP_LEN, af, proto, ext, 0xffffffff, seq, id);
      });
      send(fd, out.subarray(0, batch.length * LOOKUP_LEN), batch.length);
      drainReplies(fd, bySeq, requests, replies);
      if (bySeq.size > 0) {
        unanswered.push(...bySeq.values());
        size = Math.max(1, size >> 1); // replies were dropped: smaller batches from now on
      }
    }
    todo = unanswered;
  }
  return replies;
}
