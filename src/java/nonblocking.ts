// What O_NONBLOCK on a socket's fd (RawSocket.nonBlocking, read from fdinfo)
// says in Java terms: the free hint about setSoTimeout, without --observe.
// - java.net.Socket and ServerSocket (sun.nio.ch.NioSocketImpl, JDK 13+) keep
//   their fd blocking until the first timed read (or timed accept), which
//   turns it non-blocking for good, to wait in poll() with the timeout; on
//   some JDKs (25, not 17) a timed connect does too, and since JDK 19 I/O
//   from a virtual thread does the same. setSoTimeout alone changes nothing
//   until such a read. Before JDK 13, and with -Djdk.net.usePlainSocketImpl
//   on 13-17, PlainSocketImpl polls a blocking fd.
// - A DatagramSocket's fd turns non-blocking after a timed receive on some
//   JDKs (25, not 17): the hint is given only where that was measured.
// - A channel's fd is non-blocking after configureBlocking(false), and always
//   for an asynchronous channel: that says nothing about a timeout.
// Which of these hold on a JDK is measured, per feature release, in
// mappings/jdk-facts.json (nonblocking); for a release not measured there the
// hint keeps to what NioSocketImpl does on every release, and names the
// timed connect as a possibility only.
// The kernel cannot tell a Socket from a SocketChannel (a fresh one of each is
// the same socket): where the report names both, the hint says what the flag
// means for each; where it names only channels, it gives none.
import { mappings } from '../mappings.js';
import type { JvmInfo, RawSocket, Role } from '../model/types.js';

/** The JDK's feature release from which a java.net.Socket's blocking mode tells a timed read (NioSocketImpl). */
export const NIO_SOCKET_IMPL_SINCE = 13;
/** From this release a virtual thread's I/O also makes the fd non-blocking. */
export const VIRTUAL_THREADS_SINCE = 19;

/**
 * Per role, the rows of jdk-facts.json's nonblocking that the hint rests on:
 * the class, its fd blocking after plain use (`plain`) and non-blocking after
 * the timed operation (`timed`); `alsoConnect`, where measured true, adds a
 * timed connect to the causes.
 */
export const FACT_ROWS = {
  connected: { cls: 'java.net.Socket', plain: 'Socket connect(addr)', timed: 'Socket connect(addr), after a timed read', alsoConnect: 'Socket connect(addr, 5000)' },
  accepted: { cls: 'java.net.Socket', plain: 'Socket accepted by ServerSocket.accept()', timed: 'Socket accepted, after a timed read (setSoTimeout(50) then read)' },
  listening: { cls: 'java.net.ServerSocket', plain: 'ServerSocket bound', timed: 'ServerSocket after a timed accept (setSoTimeout(50) then accept)' },
  udp: { cls: 'java.net.DatagramSocket', plain: 'DatagramSocket', timed: 'DatagramSocket after a timed receive' },
} as const satisfies Partial<Record<Role, { cls: string; plain: string; timed: string; alsoConnect?: string }>>;

type HintRole = keyof typeof FACT_ROWS;

function plainSocketImpl(jvm: Pick<JvmInfo, 'feature' | 'properties'>): boolean {
  const v = jvm.properties['jdk.net.usePlainSocketImpl'];
  return v !== undefined && v !== 'false' && (jvm.feature ?? 0) <= 17;
}

/** What made the fd non-blocking, as the JDK's measured facts say; undefined where they say the flag tells nothing. */
function cause(role: HintRole, feature: number): string | undefined {
  const rows = FACT_ROWS[role];
  const f = mappings().jdkNonBlocking[feature];
  const known = f !== undefined && rows.plain in f && rows.timed in f;
  if (known && (f[rows.plain] !== false || f[rows.timed] !== true)) return undefined;
  switch (role) {
    case 'listening': return 'a timed accept (ServerSocket.setSoTimeout)';
    case 'accepted': return 'a timed read';
    case 'udp': return known ? 'a timed receive (DatagramSocket.setSoTimeout)' : undefined;
    case 'connected': {
      if (!known || !(FACT_ROWS.connected.alsoConnect in f)) return 'a timed read (or, on some JDKs, a timed connect)';
      return f[FACT_ROWS.connected.alsoConnect] ? 'a timed read or a timed connect' : 'a timed read';
    }
  }
}

/**
 * The hint for a non-blocking fd, or undefined where the flag says nothing about a timeout (or is not known).
 * notObserved: --observe was asked for and could not observe this JVM, so the hint does not send the user there.
 */
export function nonBlockingHint(s: Pick<RawSocket, 'nonBlocking'>, role: Role, apis: readonly string[], jvm: Pick<JvmInfo, 'feature' | 'properties'> | undefined, notObserved = false): string | undefined {
  if (s.nonBlocking?.value !== true || !jvm || jvm.feature === undefined || jvm.feature < NIO_SOCKET_IMPL_SINCE || plainSocketImpl(jvm)) return undefined;
  if (!(role in FACT_ROWS)) return undefined;
  const r = role as HintRole;
  const cls = FACT_ROWS[r].cls;
  const timed = cause(r, jvm.feature);
  if (!timed || !apis.includes(cls)) return undefined;
  // JFR has socket read events only: no accept, no datagram.
  const value = r === 'listening' ? 'its value is in no socket option, and JFR records no accept'
    : r === 'udp' ? 'its value is in no socket option, and JFR records no datagram'
      : notObserved ? 'its value is in no socket option, and --observe could not observe this JVM' : '--observe shows its value';
  const virtual = jvm.feature >= VIRTUAL_THREADS_SINCE ? `, unless a virtual thread did its I/O (which makes the fd non-blocking too, JDK ${VIRTUAL_THREADS_SINCE}+)` : '';
  const claim = `a timeout was used (the fd is non-blocking after ${timed})${virtual}; ${value}`;
  const channels = apis.filter((a) => a.startsWith('java.nio.channels.'));
  if (!channels.length) return claim;
  const short = (a: string) => a.replace(/^java\.(net|nio\.channels)\./, '');
  const other = r === 'udp' ? 'configureBlocking(false)' : 'configureBlocking(false) or an asynchronous channel';
  return `as a ${short(cls)}: ${claim}. As a ${channels.map(short).join(' or ')}: ${other}, which says nothing about a timeout`;
}
