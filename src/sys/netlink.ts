// NETLINK_SOCK_DIAG message building and parsing (include/uapi/linux/netlink.h,
// sock_diag.h, inet_diag.h). Pure Buffer code: the syscalls are in libc.ts,
// the dump loop in sources/sockdiag.ts.

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLMSG_HDRLEN = 16;
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

export const NLA_ALIGN = (n: number) => (n + 3) & ~3;

/** Request attribute carrying filter bytecode (enum inet_diag_req_attrs). */
export const INET_DIAG_REQ_BYTECODE = 1;
/** Bytecode ops (enum in inet_diag.h) used here: local port >= / <= op[1].no. */
export const INET_DIAG_BC_S_GE = 2;
export const INET_DIAG_BC_S_LE = 3;
/** Length of the local-port filter attribute (nlattr + two 8-byte comparisons). */
const PORT_FILTER_LEN = 4 + 16;

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

/** inet_diag_sockid fields, in the orientation the kernel's exact lookup wants (see writeInetDiagLookup). */
export interface InetDiagSockId {
  sport: number;
  dport: number;
  /** 16 bytes each: IPv4 in the first 4, IPv6 in all 16 (network order). */
  src: Uint8Array;
  dst: Uint8Array;
  ifindex: number;
}

/**
 * One exact SOCK_DIAG_BY_FAMILY request (no NLM_F_DUMP: the kernel's dump_one
 * handler looks one socket up by its id), written at off of buf (72 bytes).
 * Several can share one sendto: netlink_rcv_skb runs every message of a skb.
 * The cookie is INET_DIAG_NOCOOKIE: the lookup is by addresses and ports.
 */
export function writeInetDiagLookup(buf: Buffer, off: number, family: number, protocol: number, ext: number, states: number,
  seq: number, id: InetDiagSockId): number {
  const len = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;
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

/** Dotted-quad IPv4 into out[at..at+3]; false when s is not one. */
function parseIPv4(s: string, out: Buffer, at: number): boolean {
  let part = 0, n = 0, digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (digits === 0 || part === 3) return false;
      out[at + part++] = n;
      n = 0; digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || ++digits > 3) return false;
    n = n * 10 + (c - 48);
    if (n > 255) return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[at + 3] = n;
  return true;
}

/** One to four hex digits, or -1. */
function hexGroup(s: string): number {
  if (s.length < 1 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20; // lower case (digits unchanged)
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * An address as inet_diag_sockid holds it: 16 bytes, network order; IPv4 in
 * the first word. IPv6 accepts "::", embedded IPv4 ("::ffff:1.2.3.4") and a
 * "%zone" suffix (dropped). undefined when the text is not an address.
 */
export function addressBytes(address: string, family: 4 | 6): Buffer | undefined {
  const out = Buffer.alloc(16);
  if (family === 4) return parseIPv4(address, out, 0) ? out : undefined;
  let a = address;
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  let words = 8;
  if (a.includes('.')) {
    const c = a.lastIndexOf(':');
    if (c < 0 || !parseIPv4(a.slice(c + 1), out, 12)) return undefined;
    const prefix = a.slice(0, c + 1); // "::ffff:", "::", "64:ff9b::"
    a = prefix.endsWith('::') ? prefix : prefix.slice(0, -1);
    words = 6;
  }
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== words : head.length + tail.length >= words) return undefined;
  for (let k = 0; k < head.length; k++) {
    const v = hexGroup(head[k]!);
    if (v < 0) return undefined;
    out.writeUInt16BE(v, 2 * k);
  }
  for (let k = 0; k < tail.length; k++) {
    const v = hexGroup(tail[k]!);
    if (v < 0) return undefined;
    out.writeUInt16BE(v, 2 * (words - tail.length + k));
  }
  return out;
}

/** struct sockaddr_nl for the kernel (pid 0, no groups). */
export function kernelAddress(): Buffer {
  const a = Buffer.alloc(12);
  a.writeUInt16LE(AF_NETLINK, 0);
  return a;
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** Offset of the payload in the receive buffer, and its length. */
  payload: number;
  payloadLen: number;
}

/** The netlink messages in the first n bytes of buf (one recv). A truncated tail is reported, not read. */
export function* messages(buf: Buffer, n: number): Generator<NlMessage> {
  let off = 0;
  while (off + NLMSG_HDRLEN <= n) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > n) throw new Error(`netlink: malformed message (length ${len} at ${off} of ${n})`);
    yield {
      type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8),
      payload: off + NLMSG_HDRLEN, payloadLen: len - NLMSG_HDRLEN,
    };
    off += NLA_ALIGN(len);
  }
}

/** rtattrs in [start, end): calls fn(type, dataOffset, dataLen). */
export function forEachAttr(buf: Buffer, start: number, end: number, fn: (type: number, off: number, len: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
    if (len < 4 || off + len > end) break;
    fn(type, off + 4, len - 4);
    off += NLA_ALIGN(len);
  }
}
