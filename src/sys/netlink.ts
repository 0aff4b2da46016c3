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

/**
 * One SOCK_DIAG_BY_FAMILY dump request: nlmsghdr + inet_diag_req_v2 with a
 * wildcard socket id (every socket of the family/protocol in `states`).
 */
export function buildInetDiagDump(family: number, protocol: number, ext: number, states: number, seq: number): Buffer {
  const len = NLMSG_HDRLEN + INET_DIAG_REQ_V2_LEN;
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
  return b;
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
