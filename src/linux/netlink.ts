// Netlink framing (include/uapi/linux/netlink.h): message headers, flags,
// attributes. Pure Buffer code; sock_diag's requests and records are in
// inetdiag.ts, the socket and its loops in diagsocket.ts.
import { FormatError } from '../errors.js';
import { AF_NETLINK } from './inet.js';

/** socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG). */
export const NETLINK_SOCK_DIAG = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLMSG_HDRLEN = 16;

export const NLA_ALIGN = (n: number) => (n + 3) & ~3;

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

/** The netlink messages in the first n bytes of buf (one recv). A message that overruns n is an error, not read. */
export function* messages(buf: Buffer, n: number): Generator<NlMessage> {
  let off = 0;
  while (off + NLMSG_HDRLEN <= n) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > n) throw new FormatError(`netlink: malformed message (length ${len} at ${off} of ${n})`);
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
