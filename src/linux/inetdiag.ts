// sock_diag's inet_diag (include/uapi/linux/sock_diag.h, inet_diag.h): the
// requests (a dump of a family/protocol, or one exact lookup) and the records
// the kernel answers with, decoded. Pure Buffer code: the socket and its
// send/receive loops are in diagsocket.ts.
import { FormatError } from '../errors.js';
import { addressBytes, formatIPv4, formatIPv6 } from '../model/addr.js';
import type { Endpoint, Protocol, RawSocket, TcpInfo } from '../model/types.js';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, stateName } from './inet.js';
import { NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST, forEachAttr } from './netlink.js';
import { parseTcpInfo } from './tcpinfo.js';

export const SOCK_DIAG_BY_FAMILY = 20;

/** struct inet_diag_req_v2 */
export const INET_DIAG_REQ_V2_LEN = 56;
/** struct inet_diag_msg */
export const INET_DIAG_MSG_LEN = 72;

/** enum of inet_diag response attributes. */
export const INET_DIAG = {
  MEMINFO: 1, INFO: 2, VEGASINFO: 3, CONG: 4, TOS: 5, TCLASS: 6, SKMEMINFO: 7, SHUTDOWN: 8,
  DCTCPINFO: 9, PROTOCOL: 10, SKV6ONLY: 11, LOCALS: 12, PEERS: 13, PAD: 14, MARK: 15, BBRINFO: 16,
  CLASS_ID: 17, MD5SIG: 18, ULP_INFO: 19, SK_BPF_STORAGES: 20, CGROUP_ID: 21, SOCKOPT: 22,
} as const;

/** Extensions that must be asked for in idiag_ext (bit ext-1); the others come unasked. */
export const DEFAULT_EXT =
  (1 << (INET_DIAG.INFO - 1)) | (1 << (INET_DIAG.CONG - 1)) | (1 << (INET_DIAG.TOS - 1)) |
  (1 << (INET_DIAG.TCLASS - 1)) | (1 << (INET_DIAG.SKMEMINFO - 1)) | (1 << (INET_DIAG.SHUTDOWN - 1));

/** Request attribute carrying filter bytecode (enum inet_diag_req_attrs). */
export const INET_DIAG_REQ_BYTECODE = 1;
/** Bytecode ops (enum in inet_diag.h) used here: local port >= / <= op[1].no. */
export const INET_DIAG_BC_S_GE = 2;
export const INET_DIAG_BC_S_LE = 3;
/** Length of the local-port filter attribute (nlattr + two 8-byte comparisons). */
const PORT_FILTER_LEN = 4 + 16;

export type DiagFamily = 4 | 6;
export type DiagProtocol = 'tcp' | 'udp';

/** The four kinds sock_diag dumps, in /proc/net's order. */
export const DIAG_KINDS: [DiagFamily, DiagProtocol][] = [[4, 'tcp'], [6, 'tcp'], [4, 'udp'], [6, 'udp']];

/** "tcp", "tcp6", "udp", "udp6". */
export const protoName = (family: DiagFamily, protocol: DiagProtocol): Protocol =>
  (family === 6 ? `${protocol}6` : protocol) as Protocol;

/** The AF_* and IPPROTO_* numbers of a kind. */
export function kindNumbers(family: DiagFamily, protocol: DiagProtocol): [number, number] {
  return [family === 4 ? AF_INET : AF_INET6, protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP];
}

/**
 * One SOCK_DIAG_BY_FAMILY dump request: nlmsghdr + inet_diag_req_v2 with a
 * wildcard socket id (every socket of the family/protocol in `states`).
 * With `port`, only sockets on that local port: id.idiag_sport (honoured by
 * the listen, established and UDP walks) plus bytecode `sport >= port && sport
 * <= port` (the bound-but-inactive walk, Linux >= 6.5, ignores idiag_sport).
 */
export function buildInetDiagDump(family: number, protocol: number, ext: number, states: number, seq: number, port?: number): Buffer {
  const len = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN + (port === undefined ? 0 : PORT_FILTER_LEN);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(0, 12);
  const o = NLMSG_HDRLEN;
  b.writeUInt8(family, o);
  b.writeUInt8(protocol, o + 1);
  b.writeUInt8(ext & 0xff, o + 2);
  b.writeUInt8(0, o + 3);
  b.writeUInt32LE(states >>> 0, o + 4);
  // inet_diag_sockid: all zero (any port, any address, any interface); cookie = INET_DIAG_NOCOOKIE.
  b.writeUInt32LE(0xffffffff, o + 8 + 40);
  b.writeUInt32LE(0xffffffff, o + 8 + 44);
  if (port !== undefined) {
    b.writeUInt16BE(port, o + 8); // idiag_sport
    const a = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;
    b.writeUInt16LE(PORT_FILTER_LEN, a);
    b.writeUInt16LE(INET_DIAG_REQ_BYTECODE, a + 2);
    // struct inet_diag_bc_op { u8 code; u8 yes; u16 no; }: "yes" steps to the next op,
    // "no" jumps past the end (len + 4), which rejects; a port operand sits in the next op's "no".
    const ops: [number, number, number][] = [
      [INET_DIAG_BC_S_GE, 8, 20], [0, 0, port],
      [INET_DIAG_BC_S_LE, 8, 12], [0, 0, port],
    ];
    ops.forEach(([code, yes, no], i) => {
      b.writeUInt8(code, a + 4 + 4 * i);
      b.writeUInt8(yes, a + 5 + 4 * i);
      b.writeUInt16LE(no, a + 6 + 4 * i);
    });
  }
  return b;
}

/** inet_diag_sockid fields, in the orientation the kernel's exact lookup wants (see lookupSockId). */
export interface InetDiagSockId {
  sport: number;
  dport: number;
  /** 16 bytes each: IPv4 in the first 4, IPv6 in all 16 (network order). */
  src: Uint8Array;
  dst: Uint8Array;
  ifindex: number;
}

/** Bytes of one exact lookup request (writeInetDiagLookup). */
export const LOOKUP_LEN = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;

/**
 * One exact SOCK_DIAG_BY_FAMILY request (no NLM_F_DUMP: the kernel's dump_one
 * handler looks one socket up by its id), written at off of buf (72 bytes).
 * Several can share one sendto: netlink_rcv_skb runs every message of a skb.
 * The cookie is INET_DIAG_NOCOOKIE: the lookup is by addresses and ports.
 */
export function writeInetDiagLookup(buf: Buffer, off: number, family: number, protocol: number, ext: number, states: number,
  seq: number, id: InetDiagSockId): number {
  const len = LOOKUP_LEN;
  buf.fill(0, off, off + len);
  buf.writeUInt32LE(len, off);
  buf.writeUInt16LE(SOCK_DIAG_BY_FAMILY, off + 4);
  buf.writeUInt16LE(NLM_F_REQUEST, off + 6);
  buf.writeUInt32LE(seq >>> 0, off + 8);
  const o = off + NLMSG_HDRLEN;
  buf.writeUInt8(family, o);
  buf.writeUInt8(protocol, o + 1);
  buf.writeUInt8(ext & 0xff, o + 2);
  buf.writeUInt32LE(states >>> 0, o + 4);
  const i = o + 8;
  buf.writeUInt16BE(id.sport, i);
  buf.writeUInt16BE(id.dport, i + 2);
  if (id.src.length !== 16 || id.dst.length !== 16) throw new RangeError('inet_diag_sockid addresses are 16 bytes');
  buf.set(id.src, i + 4);
  buf.set(id.dst, i + 20);
  buf.writeUInt32LE(id.ifindex >>> 0, i + 36);
  buf.writeUInt32LE(0xffffffff, i + 40);
  buf.writeUInt32LE(0xffffffff, i + 44);
  return len;
}

// Exact lookups (one SOCK_DIAG_BY_FAMILY request without NLM_F_DUMP): the
// kernel looks the socket up in its hash tables by address and port, as the
// receive path does (net/ipv4/tcp_diag.c, udp_diag.c):
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
//    address nobody else holds. So the reply's inode must be checked.
//  - A TCP socket that is bound but neither listening nor connected (state
//    CLOSE) is in no table a lookup reads; dumps list it (Linux >= 6.5,
//    TCP_BOUND_INACTIVE). An unbound socket is in no table at all.

const ZERO_ADDR = Buffer.alloc(16);

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

/** The inode of the inet_diag_msg at off, without decoding the rest (filtering a dump). */
export function diagMessageInode(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off + 68);
}

function endpoint(buf: Buffer, portOff: number, addrOff: number, family: DiagFamily): Endpoint {
  const port = buf.readUInt16BE(portOff);
  return { address: family === 4 ? formatIPv4(buf, addrOff) : formatIPv6(buf, addrOff), port };
}

/** Decodes one inet_diag_msg and its attributes at off (payload of an nlmsghdr). */
export function parseDiagMessage(buf: Buffer, off: number, len: number, protocol: DiagProtocol): DiagRecord {
  if (len < INET_DIAG_MSG_LEN) throw new FormatError(`sock_diag: short inet_diag_msg (${len} bytes)`);
  const family: DiagFamily = buf.readUInt8(off) === AF_INET6 ? 6 : 4;
  const proto = protoName(family, protocol);
  const st = buf.readUInt8(off + 1);
  const id = off + 4;
  const rec: DiagRecord = {
    protocol: proto, family, st,
    state: stateName(proto, st), // a request socket (TCP_NEW_SYN_RECV) is SYN_RECV, as /proc/net/tcp prints it
    local: endpoint(buf, id, id + 4, family),
    remote: endpoint(buf, id + 2, id + 20, family),
    ifindex: buf.readUInt32LE(id + 36),
    timer: buf.readUInt8(off + 2), retrans: buf.readUInt8(off + 3),
    expiresMs: buf.readUInt32LE(off + 52), rqueue: buf.readUInt32LE(off + 56), wqueue: buf.readUInt32LE(off + 60),
    uid: buf.readUInt32LE(off + 64), inode: diagMessageInode(buf, off),
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
