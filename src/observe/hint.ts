// The free hint, without --observe: since JDK 13 a java.net.Socket
// (NioSocketImpl) keeps its fd blocking until its first timed read or timed
// connect, which turns it non-blocking for good (to wait in poll() with the
// timeout); a read from a virtual thread does the same. So on JDK 13+ an
// O_NONBLOCK fd of a java.net.Socket says a timeout was used, though not
// which. A blocking fd says none was used yet (setSoTimeout alone changes
// nothing until a read). A SocketChannel in non-blocking mode has the flag
// too, and JDK 13-17 with -Djdk.net.usePlainSocketImpl poll without it.
import { O_NONBLOCK } from '../linux/procstatus.js';

export interface TimedReadHintInput {
  /** open(2) flags of the socket's fd (/proc/<pid>/fdinfo/<fd> "flags:"). */
  flags: number | undefined;
  /** The JDK's feature release (17 for 17.0.15). */
  jdkFeature: number | undefined;
  /** What the report knows of the socket's class: a java.net.Socket, a channel, or not known. */
  api?: 'socket' | 'channel' | 'unknown';
  /** The JVM's -D properties on its command line. */
  properties?: Record<string, string>;
}

export interface TimedReadHint {
  /** A timeout was used on this socket (a timed read or connect). */
  timedIo: true;
  text: string;
}

export function timedReadHint(i: TimedReadHintInput): TimedReadHint | undefined {
  if (i.flags === undefined || (i.flags & O_NONBLOCK) === 0) return undefined;
  if (i.jdkFeature === undefined || i.jdkFeature < 13) return undefined;
  if (i.api === 'channel') return undefined;
  const plain = i.properties?.['jdk.net.usePlainSocketImpl'];
  if (plain !== undefined && plain !== 'false' && i.jdkFeature <= 17) return undefined;
  const text = i.api === 'socket'
    ? 'its fd is non-blocking: a timed read or timed connect happened (JDK 13+ switch a Socket at the first one, or at a read from a virtual thread); a timeout was used, --observe shows its value'
    : 'its fd is non-blocking: if it is a java.net.Socket, a timed read or timed connect happened (JDK 13+; or a read from a virtual thread); a timeout was used, --observe shows its value (a non-blocking SocketChannel has the flag too)';
  return { timedIo: true, text };
}
