// What O_NONBLOCK on a socket's fd (RawSocket.nonBlocking, read from fdinfo)
// says in Java terms: the free hint about setSoTimeout, without --observe.
// - java.net.Socket and ServerSocket (sun.nio.ch.NioSocketImpl, JDK 13+) keep
//   their fd blocking until the first timed read or connect (or timed accept),
//   which turns it non-blocking for good, to wait in poll() with the timeout;
//   since JDK 19 I/O from a virtual thread does the same. setSoTimeout alone
//   changes nothing until such a read. Before JDK 13, and with
//   -Djdk.net.usePlainSocketImpl on 13-17, PlainSocketImpl polls a blocking fd.
// - A channel's fd is non-blocking after configureBlocking(false), and always
//   for an asynchronous channel: that says nothing about a timeout.
// The kernel cannot tell a Socket from a SocketChannel (a fresh one of each is
// the same socket): where the report names both, the hint says what the flag
// means for each; where it names only channels, it gives none.
import type { JvmInfo, RawSocket, Role } from '../model/types.js';

const SOCKET_CLASS: Partial<Record<Role, string>> = { connected: 'java.net.Socket', accepted: 'java.net.Socket', listening: 'java.net.ServerSocket' };

/** The JDK's feature release from which a java.net.Socket's blocking mode tells a timed read (NioSocketImpl). */
export const NIO_SOCKET_IMPL_SINCE = 13;
/** From this release a virtual thread's I/O also makes the fd non-blocking. */
export const VIRTUAL_THREADS_SINCE = 19;

function plainSocketImpl(jvm: Pick<JvmInfo, 'feature' | 'properties'>): boolean {
  const v = jvm.properties['jdk.net.usePlainSocketImpl'];
  return v !== undefined && v !== 'false' && (jvm.feature ?? 0) <= 17;
}

/** The hint for a non-blocking fd, or undefined where the flag says nothing about a timeout (or is not known). */
export function nonBlockingHint(s: Pick<RawSocket, 'nonBlocking'>, role: Role, apis: readonly string[], jvm: Pick<JvmInfo, 'feature' | 'properties'> | undefined): string | undefined {
  if (s.nonBlocking?.value !== true || !jvm || jvm.feature === undefined || jvm.feature < NIO_SOCKET_IMPL_SINCE || plainSocketImpl(jvm)) return undefined;
  const cls = SOCKET_CLASS[role];
  if (!cls || !apis.includes(cls)) return undefined;
  const listener = role === 'listening';
  const timed = listener ? 'a timed accept (ServerSocket.setSoTimeout)' : 'a timed read/connect';
  const value = listener ? 'its value is in no socket option, and JFR records no accept' : '--observe shows its value';
  const virtual = jvm.feature >= VIRTUAL_THREADS_SINCE ? `, unless a virtual thread did its I/O (which makes the fd non-blocking too, JDK ${VIRTUAL_THREADS_SINCE}+)` : '';
  const claim = `a timeout was used (the fd is non-blocking after ${timed})${virtual}; ${value}`;
  const channels = apis.filter((a) => a.startsWith('java.nio.channels.'));
  if (!channels.length) return claim;
  const short = (a: string) => a.replace(/^java\.(net|nio\.channels)\./, '');
  return `as a ${short(cls)}: ${claim}. As a ${channels.map(short).join(' or ')}: configureBlocking(false) or an asynchronous channel, which says nothing about a timeout`;
}
