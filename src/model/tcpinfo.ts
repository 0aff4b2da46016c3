// struct tcp_info (include/uapi/linux/tcp.h) as TCP_INFO and INET_DIAG_INFO
// return it, and knetstat's Diag indicators computed from it.
import type { SourceName, TcpInfo } from './types.js';

/** Decodes the first len bytes of a struct tcp_info; fields beyond len (older kernels) stay absent. */
export function parseTcpInfo(buf: Buffer, len: number, source: SourceName): TcpInfo {
  const info: TcpInfo = {
    state: u8(buf, len, 0), retransmits: u8(buf, len, 2), probes: u8(buf, len, 3), backoff: u8(buf, len, 4),
    rto: u32(buf, len, 8), ato: u32(buf, len, 12), sndMss: u32(buf, len, 16), rcvMss: u32(buf, len, 20),
    unacked: u32(buf, len, 24), sacked: u32(buf, len, 28), lost: u32(buf, len, 32), retrans: u32(buf, len, 36),
    lastDataSent: u32(buf, len, 44), lastDataRecv: u32(buf, len, 52), lastAckRecv: u32(buf, len, 56),
    pmtu: u32(buf, len, 60), rtt: u32(buf, len, 68), rttvar: u32(buf, len, 72), sndCwnd: u32(buf, len, 80),
    advmss: u32(buf, len, 84), totalRetrans: u32(buf, len, 100),
    source,
  };
  if (len >= 232) info.sndWnd = u32(buf, len, 228); // Linux >= 5.4
  if (len >= 236) info.rcvWnd = u32(buf, len, 232); // Linux >= 6.2
  return info;
}

// Fields past len (an older kernel's shorter struct) read as 0. Module-level, not closures: one
// parse per socket, on every source.
function u8(buf: Buffer, len: number, o: number): number {
  return o < len ? buf.readUInt8(o) : 0;
}

function u32(buf: Buffer, len: number, o: number): number {
  return o + 4 <= len ? buf.readUInt32LE(o) : 0;
}

/**
 * knetstat's Diag column: ">|" the peer's window is 0 (we cannot send), "|<" our
 * window is 0 (the peer cannot send), ">#" unacknowledged data and the last
 * ACK came more than a second ago. An indicator whose field the kernel did not
 * report is left out rather than guessed.
 */
export function diagFromTcpInfo(ti: TcpInfo): string {
  let d = '';
  if (ti.sndWnd === 0) d += '>|';
  if (ti.rcvWnd === 0) d += '|<';
  if (ti.unacked > 0 && ti.lastAckRecv > 1000) d += '>#';
  return d;
}
