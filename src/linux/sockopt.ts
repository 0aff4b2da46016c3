// Reads a socket's options, addresses, queues and tcp_info from an fd this
// process holds (a pidfd_getfd duplicate, or a fresh socket of our own).
// Read-only: getsockopt, getsockname, getpeername and FIONREAD-style ioctls.
// Buffers are allocated once (at the first read: koffi loads then) and reused
// for every socket. One SO_MEMINFO answers SO_RCVBUF and SO_SNDBUF (the same
// sk_rcvbuf and sk_sndbuf fields sock_getsockopt returns), so a socket costs
// one getsockopt less than its options.
import { errnoName } from '../errors.js';
import { mappings, type KernelOption } from '../mappings.js';
import { formatIPv4, formatIPv6 } from '../model/addr.js';
import type { Diag, Endpoint, OptionReading, OptionValue, Protocol, RawSocket, SourceName, TcpInfo } from '../model/types.js';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SIOCINQ, SIOCOUTQ, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
  SO_DOMAIN, SO_MEMINFO, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE, TCP_INFO, TCP_LISTEN, stateName,
} from './inet.js';
import { diagFromTcpInfo } from './knetstat.js';
import * as libc from './libc.js';
import { parseTcpInfo } from './tcpinfo.js';

// Native memory rather than Buffers: ~35 calls per socket pass these, and a
// pointer of our own skips koffi's Buffer-to-pointer step on each. Made by
// buffers(), which every exported reader calls first.
let valPtr: libc.NativeMemory, val: Buffer, lenPtr: libc.NativeMemory, len: Buffer, addrPtr: libc.NativeMemory, addr: Buffer;
let haveBuffers = false;
function buffers(): void {
  if (haveBuffers) return;
  ({ ptr: valPtr, buf: val } = libc.nativeBuffer(256));
  ({ ptr: lenPtr, buf: len } = libc.nativeBuffer(4));
  ({ ptr: addrPtr, buf: addr } = libc.nativeBuffer(128));
  haveBuffers = true;
}

/** getsockopt into the shared buffer; returns the length read, or -errno. */
function get(fd: number, level: number, name: number, size: number): number {
  len.writeUInt32LE(size, 0);
  if (libc.getsockopt(fd, level, name, valPtr, lenPtr) < 0) return -libc.errno();
  return len.readUInt32LE(0);
}

function getInt(fd: number, level: number, name: number): number | undefined {
  const n = get(fd, level, name, 4);
  return n >= 4 ? val.readInt32LE(0) : n > 0 ? val.readUInt8(0) : undefined;
}

export interface Identity {
  protocol: Protocol;
  family: 4 | 6;
  /**
   * The local address, when identify() already asked getsockname (its family
   * stands for SO_DOMAIN): readSocket() with this Identity does not ask again.
   */
  local?: Endpoint;
}

function getsockname(fd: number): boolean {
  len.writeUInt32LE(addr.length, 0);
  return libc.getsockname(fd, addrPtr, lenPtr) === 0;
}

/** TCP or UDP over IPv4/IPv6? undefined for every other kind of socket. */
export function identify(fd: number): Identity | undefined {
  buffers();
  let domain: number | undefined;
  let local: Endpoint | undefined;
  if (getsockname(fd) && len.readUInt32LE(0) >= 2) {
    domain = addr.readUInt16LE(0);
    if (domain === AF_INET || domain === AF_INET6) local = decodeSockaddr(addr);
  } else {
    domain = getInt(fd, SOL_SOCKET, SO_DOMAIN);
  }
  if (domain !== AF_INET && domain !== AF_INET6) return undefined;
  const proto = getInt(fd, SOL_SOCKET, SO_PROTOCOL);
  const type = getInt(fd, SOL_SOCKET, SO_TYPE);
  const family = domain === AF_INET ? 4 : 6;
  // A raw socket can carry IPPROTO_TCP too: only stream/datagram sockets are TCP/UDP endpoints.
  if (proto === IPPROTO_TCP && type === SOCK_STREAM) return { protocol: family === 4 ? 'tcp' : 'tcp6', family, local };
  if (proto === IPPROTO_UDP && type === SOCK_DGRAM) return { protocol: family === 4 ? 'udp' : 'udp6', family, local };
  return undefined; // raw, sctp, udplite...
}

/**
 * Address text, made once per address: a capture's sockets share a few local
 * addresses (and their peers), so equal addresses are one string, not one per
 * socket. IPv4 (and v4-mapped IPv6) by number, other IPv6 by their 16 bytes.
 */
const ipv4Text = new Map<number, string>();
const ipv6Text = new Map<string, string>();
const MAX_ADDRESSES = 65536;

/** An IPv4 address's text, one string per address (shared with the bpf source). */
export function ipv4(buf: Buffer, off: number): string {
  const key = buf.readUInt32BE(off);
  let a = ipv4Text.get(key);
  if (a === undefined) {
    a = formatIPv4(buf, off);
    if (ipv4Text.size < MAX_ADDRESSES) ipv4Text.set(key, a);
  }
  return a;
}

export function ipv6(buf: Buffer, off: number): string {
  // ::ffff:a.b.c.d: keyed by the IPv4 number above 2^32.
  if (buf.readUInt32BE(off) === 0 && buf.readUInt32BE(off + 4) === 0 && buf.readUInt32BE(off + 8) === 0xffff) {
    const key = 0x100000000 + buf.readUInt32BE(off + 12);
    let a = ipv4Text.get(key);
    if (a === undefined) {
      a = formatIPv6(buf, off);
      if (ipv4Text.size < MAX_ADDRESSES) ipv4Text.set(key, a);
    }
    return a;
  }
  const key = buf.toString('latin1', off, off + 16);
  let a = ipv6Text.get(key);
  if (a === undefined) {
    a = formatIPv6(buf, off);
    if (ipv6Text.size < MAX_ADDRESSES) ipv6Text.set(key, a);
  }
  return a;
}

function decodeSockaddr(buf: Buffer): Endpoint | undefined {
  const fam = buf.readUInt16LE(0);
  const port = buf.readUInt16BE(2);
  if (fam === AF_INET) return { address: ipv4(buf, 4), port };
  if (fam === AF_INET6) return { address: ipv6(buf, 8), port };
  return undefined;
}

function anyAddress(family: 4 | 6): Endpoint {
  return { address: family === 4 ? '0.0.0.0' : '::', port: 0 };
}

/** local: what getsockname already said of this fd (identify()), else it is asked. */
export function addresses(fd: number, family: 4 | 6, known?: Endpoint): { local: Endpoint; remote: Endpoint; connected: boolean } {
  buffers();
  const local = known ?? (getsockname(fd) ? decodeSockaddr(addr) : undefined);
  len.writeUInt32LE(addr.length, 0);
  const peer = libc.getpeername(fd, addrPtr, lenPtr) === 0 ? decodeSockaddr(addr) : undefined;
  return { local: local ?? anyAddress(family), remote: peer ?? anyAddress(family), connected: peer !== undefined };
}

export function tcpInfo(fd: number, source: SourceName): TcpInfo | undefined {
  buffers();
  const n = get(fd, IPPROTO_TCP, TCP_INFO, 256);
  return n > 0 ? parseTcpInfo(val, n, source) : undefined;
}

/**
 * Equal readings (same option, value, source) are one shared, read-only object: a
 * 50,000-socket capture holds ~30 readings per socket and most are the same few
 * values. Bounded per option so a long-running process does not grow with it.
 */
const sharedReadings = new Map<string, Map<number | string, OptionReading>>();
function reading(o: KernelOption, value: OptionValue, source: SourceName): OptionReading {
  const key = source === 'pidfd' ? o.name : `${o.name}\u0000${source}`;
  let m = sharedReadings.get(key);
  if (!m) sharedReadings.set(key, (m = new Map()));
  // SO_LINGER's {enabled, seconds}: keyed by one number, the pair packed.
  const k = typeof value === 'object' ? (value.enabled ? 1 : 0) + 2 * value.seconds : value;
  let r = m.get(k);
  if (!r) {
    r = { value, source };
    if (m.size < 256) m.set(k, r);
  }
  return r;
}

/**
 * A signed 64-bit little-endian integer as the nearest Number, what
 * Number(buf.readBigInt64LE(off)) gives, without a BigInt: the high half times
 * 2^32 is exact, so adding the low half rounds once, to the same Number.
 */
export function readInt64LE(buf: Buffer, off: number): number {
  return buf.readInt32LE(off + 4) * 0x100000000 + buf.readUInt32LE(off);
}

/** getsockopt's buffer size for an option of this type. */
function sizeOf(o: KernelOption): number {
  return o.type === 'linger' ? 8 : o.type === 'timeval' ? 16 : o.type === 'string' ? 16 : 4;
}

function readOne(fd: number, o: KernelOption, source: SourceName): OptionReading {
  const n = get(fd, o.levelNum, o.optname, sizeOf(o));
  if (n < 0) return { value: null, source, error: errnoName(-n) };
  let value: OptionValue;
  switch (o.type) {
    case 'linger': value = { enabled: val.readInt32LE(0) !== 0, seconds: val.readInt32LE(4) }; break;
    // struct timeval {s64 sec; s64 usec}.
    case 'timeval': value = readInt64LE(val, 0) * 1000 + Math.floor(readInt64LE(val, 8) / 1000); break;
    case 'string': { const end = val.indexOf(0); value = val.toString('latin1', 0, end >= 0 && end < n ? end : n); break; }
    default: value = n >= 4 ? val.readInt32LE(0) : val.readUInt8(0);
  }
  return reading(o, value, source);
}

const byProtocol = new Map<string, KernelOption[]>();
/** The catalog rows that apply to a socket kind, computed once per kind. */
export function optionsFor(protocol: Protocol): KernelOption[] {
  let list = byProtocol.get(protocol);
  if (!list) {
    const proto = protocol.startsWith('tcp') ? 'tcp' : 'udp';
    const fam = protocol.endsWith('6') ? 6 : 4;
    list = mappings().kernel.filter((o) => o.protocols.includes(proto) && o.families.includes(fam));
    byProtocol.set(protocol, list);
  }
  return list;
}

/** What readSocket() reads: a RawSocket's kernel facts, without what the source adds (fd, inode, sources). */
export type SocketReading = Pick<RawSocket, 'protocol' | 'local' | 'remote' | 'state' | 'recvQ' | 'sendQ' | 'options' | 'tcpInfo' | 'diag'>;

/** struct sock's memory figures (SO_MEMINFO, u32 each, enum SK_MEMINFO_*): the ones read here. */
const SK_MEMINFO_RMEM_ALLOC = 0, SK_MEMINFO_RCVBUF = 1, SK_MEMINFO_WMEM_ALLOC = 2, SK_MEMINFO_SNDBUF = 3;

const isBufferOption = (o: KernelOption) => o.levelNum === SOL_SOCKET && (o.optname === SO_RCVBUF || o.optname === SO_SNDBUF);

/** Everything readable from one fd of a TCP/UDP socket. */
export function readSocket(fd: number, id: Identity, source: SourceName): SocketReading {
  buffers();
  const { local, remote, connected } = addresses(fd, id.family, id.local);
  const tcp = id.protocol.startsWith('tcp');
  const options: Record<string, OptionReading> = {};
  let ti: TcpInfo | undefined;
  let state: string, recvQ = 0, sendQ = 0, diag: Diag = '';
  if (tcp) {
    ti = tcpInfo(fd, source);
    const st = ti?.state ?? 0;
    state = stateName(id.protocol, st);
    if (st === TCP_LISTEN) {
      // tcp_get_info reports a listener's accept queue in unacked and its limit in sacked.
      recvQ = ti?.unacked ?? 0;
      options.backlog = ti?.sacked !== undefined ? { value: ti.sacked, source, note: 'max accept queue (sk_max_ack_backlog) from TCP_INFO' } : { value: null, source };
    } else {
      if (libc.ioctl(fd, SIOCINQ, lenPtr) === 0) recvQ = len.readInt32LE(0);
      if (libc.ioctl(fd, SIOCOUTQ, lenPtr) === 0) sendQ = Math.max(len.readInt32LE(0), 0); // negative for a moment in connect(): see netstatSendQ
    }
    if (ti) diag = diagFromTcpInfo(state, ti);
  } else {
    state = connected ? 'ESTABLISHED' : 'UNCONN';
  }
  // SO_MEMINFO: [rmem_alloc, rcvbuf, wmem_alloc, sndbuf, ...]. For UDP, rmem and wmem are the
  // queues /proc/net/udp prints; rcvbuf and sndbuf are what SO_RCVBUF and SO_SNDBUF return.
  const n = get(fd, SOL_SOCKET, SO_MEMINFO, 64);
  if (!tcp && n >= 4 * (SK_MEMINFO_WMEM_ALLOC + 1)) { recvQ = val.readUInt32LE(4 * SK_MEMINFO_RMEM_ALLOC); sendQ = val.readUInt32LE(4 * SK_MEMINFO_WMEM_ALLOC); }
  const haveBufs = n >= 4 * (SK_MEMINFO_SNDBUF + 1);
  const rcvbuf = haveBufs ? val.readInt32LE(4 * SK_MEMINFO_RCVBUF) : 0;
  const sndbuf = haveBufs ? val.readInt32LE(4 * SK_MEMINFO_SNDBUF) : 0;
  for (const o of optionsFor(id.protocol)) {
    if (o.states && !o.states.includes(state)) continue;
    options[o.name] = haveBufs && isBufferOption(o) ? reading(o, o.optname === SO_RCVBUF ? rcvbuf : sndbuf, source) : readOne(fd, o, source);
  }
  // ~30 keyed stores leave V8 a dictionary-mode object (~1.6 KB); its copy has fast properties (~0.3 KB).
  // A capture holds one per socket until the report is written.
  return { protocol: id.protocol, local, remote, state, recvQ, sendQ, options: { ...options }, tcpInfo: ti, diag };
}

/** Options of a fresh socket of each kind, made in this process: the kernel's defaults on this host. */
export function freshDefaults(): Record<Protocol, Record<string, OptionValue>> {
  buffers();
  const out = {} as Record<Protocol, Record<string, OptionValue>>;
  const kinds: [Protocol, number, number][] = [['tcp', AF_INET, SOCK_STREAM], ['tcp6', AF_INET6, SOCK_STREAM], ['udp', AF_INET, SOCK_DGRAM], ['udp6', AF_INET6, SOCK_DGRAM]];
  for (const [protocol, domain, type] of kinds) {
    const fd = libc.socket(domain, type | SOCK_CLOEXEC, 0);
    if (fd < 0) continue; // no IPv6 on this host
    try {
      const opts: Record<string, OptionValue> = {};
      for (const o of optionsFor(protocol)) {
        const r = readOne(fd, o, 'pidfd');
        if (r.value !== null) opts[o.name] = r.value;
      }
      out[protocol] = opts;
    } finally {
      libc.close(fd);
    }
  }
  return out;
}

