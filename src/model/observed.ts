// What --observe adds to a report (JSON contract): per socket "observed",
// at the top "observation". Made by src/observe/ from the JVM's own
// Flight Recorder events (jdk.SocketRead, jdk.SocketWrite).

/** One socket's (or one peer group's) reads and writes in the observation window. */
export interface Observed {
  source: 'jfr';
  window: { seconds: number };
  /** 'socket': the only open connection to that peer; 'peer-group': shared by group.sockets connections. */
  attribution: 'socket' | 'peer-group';
  /** Distinct read timeouts seen (ms, 0 = infinite), ascending; only reads that can carry one. */
  soTimeout: number[];
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  /** The code that reads: first application frame and its library, most reads first (at most 5). */
  readers: { frame: string; library?: string }[];
  /** peer-group: how many open sockets share the peer. */
  group?: { sockets: number };
  /** What the figures mean where they need words ("no read observed", channel reads ...). */
  notes?: string[];
}

/**
 * The note attribute.ts writes when reads reported 0 on a blocking socket on
 * JDK 22+, whose stacks no longer say which API read: a Socket without
 * setSoTimeout, or a blocking SocketChannel (no timeout possible). Either way
 * the read may wait forever; but "setSoTimeout(0)" would name a call the code
 * may never have made.
 */
export const ZERO_SOCKET_OR_CHANNEL = 'reported 0: no timeout (a Socket without setSoTimeout, or a blocking SocketChannel, which cannot have one; JDK 22+ stacks do not say which)';

/** The 0 among the observed timeouts may be a blocking SocketChannel's, not setSoTimeout(0). */
export function zeroMaybeChannel(o: Pick<Observed, 'notes'>): boolean {
  return o.notes?.some((n) => n.endsWith(ZERO_SOCKET_OR_CHANNEL)) ?? false;
}

/** Reads and writes of a peer that no open socket of the report has (a connection closed before the capture). */
export interface UnmatchedPeer {
  address: string;
  port: number;
  host?: string;
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  soTimeout: number[];
}

/** The top-level "observation": what was recorded, for how long, what could not be observed. */
export interface Observation {
  source: 'jfr';
  /** The events recorded, and their settings. */
  recorded: { events: string[]; threshold: string; stackTrace: boolean };
  window: { seconds: number; start: string; end: string; measuredSeconds: number };
  jvm: { version?: string; feature?: number };
  /** 'listener-running': the JVM's attach listener was up; 'started': the SIGQUIT handshake started it. */
  attach: 'listener-running' | 'started';
  recording: { id: number; name: string; settingsVia: 'overrides' | 'jfc'; bytes: number; chunks: number; endedBy: 'stop' | 'duration' };
  totals: { reads: number; writes: number; peers: number };
  /** Peers of connections no longer open at capture time. */
  unmatched: UnmatchedPeer[];
  /** What this observation could not see. */
  unobservable: string[];
  /** What observing did to the JVM, beyond the recording itself. */
  effects: string[];
}

/** --observe was asked for, and the JVM could not be observed (attach disabled, no JFR, no answer ...). */
export interface NotObserved {
  /** ObserveError's kind: attach-disabled, no-jfr, timeout, exited, no-sigquit, not-hotspot ... */
  kind: string;
  reason: string;
}
