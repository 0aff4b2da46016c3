// SO_RCVBUF and SO_SNDBUF: who sized them. A set call stores twice the value
// and locks it; the kernel sizes an unlocked TCP buffer by itself (the send
// buffer at connection setup and as data is acknowledged, the receive buffer
// as data is read: linux/tcpbuf.ts). The lock flag (bpf, knetstat) decides;
// without it the size does where the kernel could not have given it, and the
// verdict says so, and how sure it is, where it could.
import { sndbufFactors, perSegmentSizes, setupMayReachCap, sndbufFromKernel } from '../linux/tcpbuf.js';
import { sentSyn } from '../linux/tcpinfo.js';
import type { Evidence, OptionVerdict, RawSocket } from '../model/types.js';

/** What the buffer rules read of a socket's tcp_info, derived once (and part of the analysis' signature). */
export interface BufferFacts {
  /** The per-segment sizes tcp_sndbuf_expand may use; [] without tcp_info. */
  perSegment: number[];
  cwnd: number;
  /** Some of its own data has been acknowledged (send autotuning may have grown it); undefined: cannot tell. */
  grew: boolean | undefined;
  /** No data received yet (receive autotuning has not run); undefined: cannot tell. */
  nothingReceived: boolean | undefined;
  /** tcp_info was read at all. */
  info: boolean;
}

const NO_INFO: readonly number[] = [];

/** The facts into out (a scratch the caller reuses per socket, and copies where it keeps them), or a new object. */
export function bufferFacts(s: RawSocket, connected: boolean, out: BufferFacts = { perSegment: [], cwnd: 0, grew: undefined, nothingReceived: undefined, info: false }): BufferFacts {
  const info = s.tcpInfo;
  if (!info) {
    out.perSegment = NO_INFO as number[]; out.cwnd = 0; out.grew = undefined; out.nothingReceived = undefined; out.info = false;
    return out;
  }
  const syn = sentSyn(info, s.sendQ, s.state);
  const own = info.bytesAcked === undefined ? undefined : info.bytesAcked - (syn === true || (syn === undefined && connected) ? 1 : 0);
  out.perSegment = perSegmentSizes(info);
  out.cwnd = info.sndCwnd;
  out.grew = own === undefined ? undefined : own > 0;
  out.nothingReceived = info.bytesReceived === undefined ? undefined : info.bytesReceived === 0;
  out.info = true;
  return out;
}
import type { Ctx, RoleInfo } from './context.js';

/** Where a buffer an application sized was set, for an accepted socket: its listener, or either (the listener is gone). */
export type BufferPlace = 'socket' | 'listener' | 'either';

export interface BufferJudgement {
  verdict: OptionVerdict;
  /** For application verdicts: where the call was made. */
  place?: BufferPlace;
}

/** States in which a TCP connection went through its setup (the send buffer was expanded if unlocked). */
const SET_UP = new Set(['ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK', 'CLOSE', 'TIME_WAIT']);

function v(c: 'certain' | 'likely' | 'uncertain', origin: OptionVerdict['origin'], evidence: Evidence, note: string): OptionVerdict {
  return { origin, confidence: c, note, evidence };
}

/**
 * The verdict on one buffer of s (value n, the fresh socket's default fresh), given its
 * role and (accepted) listener; call: the set call that gives n, as the classes the socket
 * may be have it (named in notes), else 'a set call'.
 */
export function judgeBuffer(name: 'SO_RCVBUF' | 'SO_SNDBUF', n: number, s: RawSocket, ri: RoleInfo, bf: BufferFacts, fresh: number | undefined, ctx: Ctx, call = 'a set call'): BufferJudgement {
  const rcv = name === 'SO_RCVBUF';
  const lock = rcv ? s.userLocks?.rcvbuf : s.userLocks?.sndbuf;
  const l = ri.listener;
  const lv = l?.options[name]?.value;
  const lockOf = (x: RawSocket) => (rcv ? x.userLocks?.rcvbuf : x.userLocks?.sndbuf);
  const accepted = ri.role === 'accepted';
  const half = Math.floor(n / 2);
  if (lock !== undefined) {
    const src = s.userLocks!.source;
    if (!lock) return { verdict: v('certain', n === fresh ? 'kernel-default' : 'autotuned', 'kernel-flag', `not locked (sk_userlocks, ${src}): the kernel sized it`) };
    if (accepted && l && lv === n && lockOf(l) !== false) return { verdict: v('certain', 'application', 'kernel-flag', `locked (sk_userlocks, ${src}), as its listener's: set there before accept`), place: 'listener' };
    if (accepted && ri.listenerGone) return { verdict: v('certain', 'application', 'kernel-flag', `locked (sk_userlocks, ${src}): set by a call, on this socket or on its listener (closed since) before accept; the lock looks the same either way`), place: 'either' };
    // On an accepted socket the call may be its own, or a closed SO_REUSEPORT sibling's (place 'socket': analyze.ts says which).
    return { verdict: v('certain', 'application', 'kernel-flag', n === fresh ? `locked by a set call (sk_userlocks, ${src}), at exactly the default size: certain (kernel lock flag)` : `locked by a set call (sk_userlocks, ${src}): certain (kernel lock flag)`), ...(accepted ? { place: 'socket' as const } : {}) };
  }
  const tcp = s.protocol.startsWith('tcp');
  const kernelSizes = tcp && (ri.role === 'connected' || accepted) && SET_UP.has(s.state);
  const cap2 = (max: number | undefined) => (max !== undefined && n === 2 * max ? `; capped at 2 x net.core.${rcv ? 'rmem' : 'wmem'}_max: the application may have asked for more` : '');
  if (!kernelSizes) {
    const where = !tcp ? 'a UDP socket' : ri.role === 'listening' ? 'a listener' : 'a connection not set up';
    if (n === fresh) return { verdict: v('uncertain', 'kernel-default', 'value', `equal to the default (${n}): whether the code set it, the kernel cannot tell (only a lock flag would: the bpf source reads it)`) };
    return { verdict: v('certain', 'application', 'value', `the kernel never resizes the buffer of ${where}, and this is not its default (${fresh}): set by a call${cap2(rcv ? ctx.rmemMax : ctx.wmemMax)}`) };
  }
  // An accepted socket with its listener's (set, so locked) size kept it: inherited.
  if (accepted && l && lv === n && lv !== fresh) {
    return { verdict: v('certain', 'application', 'value', `its listener's size, set there (a locked buffer is never resized) and inherited with accept()`), place: 'listener' };
  }
  if (!bf.info) return legacy(n, fresh, call);
  if (!rcv) {
    const facts = { wmem: ctx.wmem, perSegment: bf.perSegment, factors: sndbufFactors(stringOption(s, 'TCP_CONGESTION')), cwnd: bf.cwnd, grew: bf.grew };
    const k = sndbufFromKernel(n, facts);
    // No listener class can set SO_SNDBUF through Java: an accepted socket's own call.
    const place: BufferPlace = 'socket';
    switch (k) {
      case 'setup': return { verdict: v('likely', 'autotuned', 'value', 'the size the kernel gives an unlocked send buffer when the connection is set up (tcp_sndbuf_expand): sized by the kernel') };
      case 'grown': return { verdict: v('likely', 'autotuned', 'value', 'a size send autotuning gives as sent data is acknowledged (tcp_sndbuf_expand): sized by the kernel') };
      case 'initial': return { verdict: v('likely', 'kernel-default', 'value', 'the default, which the expansion at connection setup did not need to grow') };
      case 'cap':
        if (facts.grew === false && !setupMayReachCap(facts)) {
          return { verdict: v('certain', 'application', 'value', `at the tcp_wmem max (${n}) with none of its data acknowledged yet: the kernel's own sizing stops below that until data flows, so ${call} set it (a locked buffer is never resized)`), place };
        }
        return { verdict: v('uncertain', 'autotuned', 'value', `at the tcp_wmem max (${n}), where send autotuning stops: sized by the kernel, or by ${call}; only a lock flag tells them apart (the bpf source reads it)`) };
      default:
        return { verdict: v('certain', 'application', 'value', `not a size the kernel gives an unlocked send buffer of this connection (it expands one at connection setup to ${facts.factors.join(' or ')} x cwnd segments, up to the tcp_wmem max): set by a call, which locks it${cap2(ctx.wmemMax)}`), place };
    }
  }
  // Receive buffer.
  if (n % 2 === 1) return { verdict: v('certain', 'autotuned', 'value', 'an odd size: a set call stores twice its value, so the kernel sized it (receive autotuning)') };
  const initial = accepted && l && lv !== undefined && lv !== null ? Number(lv) : fresh;
  const max = ctx.rmem[2];
  const place: BufferPlace = accepted && ri.listenerGone ? 'either' : 'socket';
  if (max !== undefined && n > max) return { verdict: v('certain', 'application', 'value', `above the tcp_rmem max (${max}), where receive autotuning stops: set by a call${cap2(ctx.rmemMax)}`), place };
  if (n === initial) {
    if (bf.nothingReceived) return { verdict: v('uncertain', 'kernel-default', 'value', `equal to the default (${n}), no data received yet: whether the code set it (${call} reads the same), the kernel cannot tell (only a lock flag would: the bpf source reads it)`) };
    return { verdict: v('uncertain', 'kernel-default', 'value', `equal to the default (${n}) after data arrived: receive autotuning may not have grown it yet, or ${call} locked it; only a lock flag tells them apart (the bpf source reads it)`) };
  }
  if (bf.nothingReceived) return { verdict: v('certain', 'application', 'value', `no data received yet, so receive autotuning has not resized it, and it is not the default (${initial}): set by a call`), place };
  const round = half % 1000 === 0 || half % 1024 === 0;
  // Autotuning lands on multiples of 1024 too (seen: 2 x 964608 on JDK 25, nobody set it): a hint, never a claim.
  if (round) return { verdict: v('uncertain', 'autotuned', 'heuristic', `grown after data arrived, to twice a round number (${half}): ${call}, or receive autotuning, which lands on such sizes too; the kernel cannot tell without the lock flag (the bpf source reads it)`) };
  // Autotuning lands on any size once data arrived (odd ones most often, but not only): the kernel's state does not say.
  return { verdict: v('uncertain', 'autotuned', 'heuristic', `grown after data arrived: receive autotuning, or ${call}; whether the code set it, the kernel cannot tell without the lock flag (the bpf source reads it)`) };
}

function stringOption(s: RawSocket, name: string): string | undefined {
  const x = s.options[name]?.value;
  return typeof x === 'string' ? x : undefined;
}

/** No tcp_info (a source without it): what the value alone suggests. */
function legacy(n: number, fresh: number | undefined, call: string): BufferJudgement {
  if (n === fresh) return { verdict: v('uncertain', 'kernel-default', 'value', `equal to the default: ${call} would read back the same, and only a lock flag could tell them apart`) };
  if (fresh !== undefined && n < fresh) return { verdict: v('likely', 'application', 'value', `below the kernel's default (${fresh}): autotuning only grows a buffer, so ${call}`) };
  const half = n / 2;
  if (Number.isInteger(half) && (half % 1000 === 0 || half % 1024 === 0)) return { verdict: v('uncertain', 'autotuned', 'heuristic', `twice a round number (${half}): ${call}, or TCP autotuning, which lands on such sizes too; only a lock flag could tell`) };
  return { verdict: v('likely', 'autotuned', 'heuristic', 'above the default and not twice a round number: most likely the kernel\'s autotuning, not a set call') };
}
