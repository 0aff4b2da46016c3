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
  if (len >= 136) { info.bytesAcked = u64(buf, 120); info.bytesReceived = u64(buf, 128); } // Linux >= 4.1
  if (len >= 148) info.notsentBytes = u32(buf, len, 144); // Linux >= 4.6
  if (len >= 216) { info.bytesSent = u64(buf, 200); info.bytesRetrans = u64(buf, 208); } // Linux >= 4.19
  if (len >= 232) info.sndWnd = u32(buf, len, 228); // Linux >= 5.4
  if (len >= 236) info.rcvWnd = u32(buf, len, 232); // Linux >= 6.2
  return info;
}

/** A u64 counter as a number (exact below 2^53 bytes). */
function u64(buf: Buffer, o: number): number {
  return buf.readUInt32LE(o) + buf.readUInt32LE(o + 4) * 0x100000000;
}

/** States in which this end's FIN may be in its sequence space; FIN_WAIT2 and TIME_WAIT: sent and acknowledged. */
const FIN_MAYBE_SENT = new Set(['FIN_WAIT1', 'CLOSING', 'LAST_ACK']);
const SYN_COUNTED = new Set(['ESTABLISHED', 'CLOSE_WAIT', 'SYN_SENT', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK']);

/**
 * Whether this end sent the connection's SYN (called connect()) or not (made by accept()),
 * from the kernel's own sequence accounting; undefined when it cannot tell.
 *
 * tcpi_bytes_acked grows by every advance of snd_una (tcp_snd_una_update): on the side that
 * called connect(), the SYN-ACK acknowledges its SYN, so it counts 1 more than the data
 * acknowledged; an accepted socket is born from the request sock with snd_una already past
 * the SYN-ACK (tcp_create_openreq_child), so it counts data only. The data sent for the first
 * time is bytes_sent - bytes_retrans (tcp_transmit_skb counts every transmission,
 * __tcp_retransmit_skb the repeats), and what is in flight is snd_nxt - snd_una = Send-Q (write_seq
 * - snd_una, SIOCOUTQ) - notsent (write_seq - snd_nxt). So
 *     d = bytes_acked + (sendQ - notsent) - (bytes_sent - bytes_retrans)
 * is 1 on a connect()ed socket and 0 on an accepted one, plus 1 once this end's FIN is in
 * snd_nxt (a FIN carries no data). Verified on loopback with no traffic, traffic both ways,
 * zero windows with retransmissions, and a FIN still queued (test/unit/launch-roles.test.ts; on real sockets, the truth harness).
 */
export function sentSyn(info: TcpInfo | undefined, sendQ: number, state: string): boolean | undefined {
  if (!info || !SYN_COUNTED.has(state)) return undefined;
  const { bytesAcked, bytesSent, bytesRetrans, notsentBytes } = info;
  if (bytesAcked === undefined || bytesSent === undefined || bytesRetrans === undefined || notsentBytes === undefined) return undefined;
  const finSent = state === 'FIN_WAIT2' || (FIN_MAYBE_SENT.has(state) && notsentBytes === 0 && sendQ > 0) ? 1 : 0;
  const d = bytesAcked + (sendQ - notsentBytes) - (bytesSent - bytesRetrans) - finSent;
  return d === 1 ? true : d === 0 ? false : undefined;
}

// A field past len reads 0. Module-level, not closures: one parse per socket, on every source.
function u8(buf: Buffer, len: number, o: number): number {
  return o < len ? buf.readUInt8(o) : 0;
}

function u32(buf: Buffer, len: number, o: number): number {
  return o + 4 <= len ? buf.readUInt32LE(o) : 0;
}
