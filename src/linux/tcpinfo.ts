// struct tcp_info (include/uapi/linux/tcp.h) as TCP_INFO and INET_DIAG_INFO
// return it. knetstat's Diag indicators from it: linux/knetstat.ts.
import type { SourceName, TcpInfo } from '../model/types.js';

/**
 * Decodes the first len bytes of a struct tcp_info. The windows, which older
 * kernels do not have, stay absent beyond len (Diag must not take a missing
 * window for 0); the other fields, there since Linux 2.6, read 0 beyond len.
 */
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

// A field past len reads 0. Module-level, not closures: one parse per socket, on every source.
function u8(buf: Buffer, len: number, o: number): number {
  return o < len ? buf.readUInt8(o) : 0;
}

function u32(buf: Buffer, len: number, o: number): number {
  return o + 4 <= len ? buf.readUInt32LE(o) : 0;
}
