// The data model shared by every stage. A Capture is what the sources read
// (raw values with their provenance); it is what a snapshot file stores. A
// Report is a Capture analysed: roles, Java calls, defaults. Renderers take a
// Report and nothing else.

import type { NotObserved, Observation, Observed } from './observed.js';

/**
 * The format of a Capture, and of the snapshot file that stores one
 * (snapshot/file.ts migrates older ones forward). Also the report JSON's
 * formatVersion.
 */
export const FORMAT_VERSION = 1;

/**
 * On a verdicts object made for one listener from a shared template
 * (java/analyze.ts forListener): the template, whose notes name the listener
 * by placeholder, and the name that stands in for it. A renderer may write the
 * template once and fill the name in (render/json.ts). A non-enumerable
 * symbol: JSON, spreads and for...in never see it.
 */
export const LISTENER_TEMPLATE = Symbol('knetstat.listenerTemplate');
export interface ListenerTemplate {
  template: Record<string, OptionVerdict>;
  placeholder: string;
  name: string;
}

export type Protocol = 'tcp' | 'tcp6' | 'udp' | 'udp6';
/** The sources, in the order --source lists them (sources/index.ts has a row for each). */
export const SOURCE_NAMES = ['bpf', 'pidfd', 'knetstat', 'sockdiag', 'procfs'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];
/**
 * listening: a TCP listener; accepted: made by accept(); connected: made by connect();
 * unconnected: a TCP socket that never connected (state CLOSE, no peer: never bound, bound
 * only, or its connect failed); udp: a UDP socket.
 */
export type Role = 'listening' | 'accepted' | 'connected' | 'unconnected' | 'udp';

/**
 * knetstat's Diag column, one indicator as the module prints it: ">|<" both
 * windows 0, "|<" ours, ">|" the peer's, ">#" unacknowledged data and no ACK
 * for over a second; '' otherwise and outside ESTABLISHED.
 */
export type Diag = '' | '>|<' | '|<' | '>|' | '>#';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Linger {
  enabled: boolean;
  seconds: number;
}

/** A value as the kernel reports it: ints, TCP_CONGESTION's name, SO_LINGER's pair. */
export type OptionValue = number | string | Linger;

export interface OptionReading {
  /** null: the source tried and could not read it (never a guessed 0). */
  value: OptionValue | null;
  source: SourceName;
  /** Deduced rather than read (e.g. SO_KEEPALIVE=1 from a running keepalive timer). */
  inferred?: boolean;
  /** Why the value is null or how it was derived. */
  note?: string;
  /** errno name when getsockopt failed (ENOPROTOOPT ...). */
  error?: string;
  /**
   * The kernel records whether this value was set on the socket (bpf source):
   * true when set by setsockopt (or inherited from a listener where it was set),
   * false when the kernel's state proves it was not set; absent when it cannot tell.
   */
  explicit?: boolean;
}

/**
 * The subset of struct tcp_info the report uses, in its units (tcp_get_info()):
 * rto, ato, rtt and rttvar in microseconds; lastDataSent, lastDataRecv and
 * lastAckRecv in milliseconds.
 */
export interface TcpInfo {
  state: number;
  retransmits: number;
  probes: number;
  backoff: number;
  /** Retransmission timeout, us. */
  rto: number;
  /** Delayed-ACK timeout, us. */
  ato: number;
  sndMss: number;
  rcvMss: number;
  /** For a listener, tcp_get_info puts the accept queue in unacked and its limit in sacked. */
  unacked: number;
  sacked: number;
  lost: number;
  retrans: number;
  /** Time since the last data sent, ms. */
  lastDataSent: number;
  /** Time since the last data received, ms. */
  lastDataRecv: number;
  /** Time since the last ACK received, ms (Diag's ">#": over 1000). */
  lastAckRecv: number;
  pmtu: number;
  /** Smoothed round-trip time, us. */
  rtt: number;
  /** Its mean deviation, us. */
  rttvar: number;
  sndCwnd: number;
  advmss: number;
  totalRetrans: number;
  /** Peer's advertised window; absent when the kernel's tcp_info is too short. */
  sndWnd?: number;
  /** Our advertised window (Linux >= 6.2). */
  rcvWnd?: number;
  /**
   * RFC 4898 byte counters (tcp_info since Linux 4.1 / 4.19), absent when the kernel's tcp_info
   * is too short: bytes acknowledged by the peer (on the side that called connect() this
   * counts its own SYN too), data bytes received, data bytes sent including
   * retransmissions, of which retransmitted.
   */
  bytesAcked?: number;
  bytesReceived?: number;
  bytesSent?: number;
  bytesRetrans?: number;
  /** Bytes written by the application and not yet sent (tcpi_notsent_bytes, Linux >= 4.6). */
  notsentBytes?: number;
  source: SourceName;
}

export interface RawSocket {
  protocol: Protocol;
  /** The fd number in the target; -1 when the socket has no fd there (host-wide views). */
  fd: number;
  inode: number;
  local: Endpoint;
  remote: Endpoint;
  /** Kernel state name as ss/netstat spell it: ESTABLISHED, LISTEN, ... ("UNCONN" for unconnected UDP). */
  state: string;
  recvQ: number;
  sendQ: number;
  uid?: number;
  /** Option name (the kernel's, as knetstat prints it) -> reading. "backlog" for a listener's backlog. */
  options: Record<string, OptionReading>;
  tcpInfo?: TcpInfo;
  /** knetstat's Diag indicator, by the module's rule (linux/knetstat.ts): computed from tcp_info or read from the module. */
  diag: Diag;
  /** sk_userlocks from the knetstat module or the bpf source: which buffers the application locked. */
  userLocks?: { rcvbuf: boolean; sndbuf: boolean; source: SourceName };
  /**
   * sk_userlocks' bind locks (bpf source): addr, bind() named a local address
   * (an accepted socket inherits its listener's); port, bind() named a port on
   * this very socket (sk_clone_lock clears it on accepted sockets).
   */
  bindLocks?: { addr: boolean; port: boolean; source: SourceName };
  /** Timers reported by sock_diag (keepalive, retransmit ...). */
  timer?: { kind: string; expiresMs: number; retrans: number; source: SourceName };
  /** shutdown(2) already called on it (sock_diag INET_DIAG_SHUTDOWN): which directions. */
  shutdown?: { read: boolean; write: boolean; source: SourceName };
  /**
   * O_NONBLOCK on the target's fd (its open file description's status flags: F_GETFL on the
   * pidfd duplicate, the file's f_flags in the bpf walk, /proc/<pid>/fdinfo/<fd> otherwise:
   * source procfs), read for JVMs only. A plain fact: what it means depends on the class
   * (java/nonblocking.ts); asynchronous channels always have it, blocking channels never.
   */
  nonBlocking?: { value: boolean; source: SourceName };
  /** The socket closed (or the process exited) while it was being read. */
  vanished?: boolean;
  /** Sources that contributed to this socket. */
  sources: SourceName[];
  /** What --observe saw the JVM do on it (JFR socket events). */
  observed?: Observed;
}

export interface ProcessInfo {
  pid: number;
  comm: string;
  /** argv as read from /proc/<pid>/cmdline. */
  cmdline: string[];
  exe?: string;
  uid: number;
  user?: string;
  isJvm: boolean;
  jvm?: JvmInfo;
  /** Inode of the target's network namespace and whether it differs from ours. */
  netns?: { inode: number; own: boolean };
}

/** Where a JVM got a -D option: the launcher's and the JVM's ways, and the JVM's own record of them. */
export type PropertyOrigin = 'argv' | 'argfile' | 'JAVA_TOOL_OPTIONS' | 'JDK_JAVA_OPTIONS' | '_JAVA_OPTIONS' | 'hsperfdata';

/** One -D option as the JVM received it, in the order the JVM read them (the last one of a name wins). */
export interface PropertySetting {
  name: string;
  value: string;
  from: PropertyOrigin;
  /** The @argfile it was in (as the command line names it). */
  file?: string;
}

export interface JvmInfo {
  javaHome?: string;
  /** e.g. "17.0.15" from $JAVA_HOME/release. */
  version?: string;
  /** Feature release, 17 for "17.0.15". */
  feature?: number;
  vendor?: string;
  /**
   * System properties that change socket behaviour (-Djava.net.preferIPv4Stack ...), with the
   * value the JVM runs with: from the command line, @argfiles, JAVA_TOOL_OPTIONS,
   * JDK_JAVA_OPTIONS, _JAVA_OPTIONS and the JVM's own record (hsperfdata), by the JDK's precedence.
   */
  properties: Record<string, string>;
  /** Where each property's value came from (the setting that won), by name. */
  propertyOrigins?: Record<string, PropertyOrigin>;
  /** Every socket -D setting seen, in the order the JVM read them (overridden ones too). */
  propertySettings?: PropertySetting[];
  /** Whether the JVM's own record of its arguments (hsperfdata java.rt.vmArgs) was read, and why not. */
  vmArgs?: { read: boolean; reason?: string };
  /**
   * Threads named as the JDK's default asynchronous channel group names its own
   * (mappings/jdk-facts.json newThreads: Thread-N on 17, InnocuousThread on 25), of all threads
   * read: evidence for or against an AsynchronousSocketChannel. Absent when not read.
   */
  threads?: { total: number; asyncGroup: number };
  mainClass?: string;
}

export interface HostInfo {
  hostname: string;
  kernel: string;
  /** sysctls that decide kernel defaults, e.g. "net.ipv4.tcp_rmem": "4096 131072 6291456". */
  sysctls: Record<string, string>;
  /** Options of a fresh socket of each kind made by the tool at capture time: the kernel's defaults. */
  kernelDefaults?: Partial<Record<Protocol, Record<string, OptionValue>>>;
}

export interface SourceStatus {
  name: SourceName;
  used: boolean;
  /** One-line reason a source was unavailable or refused, with the remedy. */
  reason?: string;
  errno?: string;
  /** enrich: ran after the primary source, adding only what it could not read. */
  role?: 'primary' | 'enrich';
}

export interface Capture {
  formatVersion: number;
  tool: { name: string; version: string };
  capturedAt: string;
  host: HostInfo;
  process: ProcessInfo;
  sources: SourceStatus[];
  /** Human-readable warnings gathered during the capture. */
  warnings: string[];
  /** True when some option could not be read (permission, kernel), or the process exited mid-scan: exit 3. */
  partial: boolean;
  /** The process exited during the scan: the sockets are those read before it did (absent otherwise). */
  exited?: boolean;
  /** Options no source could read, with why: shown once per report. */
  missing?: { options: string[]; reason: string };
  sockets: RawSocket[];
  /** Sockets that closed during the scan. */
  vanished: { fd: number; inode: number }[];
  redacted?: boolean;
  /** JDK defaults measured from the target's own JDK (--probe-jdk); otherwise mappings/jdk-defaults.json applies. */
  jdkDefaults?: { rows: JdkDefaults[]; source: string };
  /** --observe: what was recorded in the JVM, for how long, what could not be observed. */
  observation?: Observation;
  /** --observe was asked for and the JVM could not be observed: why (no observation then). */
  notObserved?: NotObserved;
}

/** What the JDK sets by itself on a fresh socket of one kind (a row of mappings/jdk-defaults.json). */
export interface JdkDefaults {
  kind: string;
  family: string;
  options: Record<string, number | Linger>;
  backlog?: number;
  jdk: string;
  source: string;
  preferIPv4Stack?: boolean;
}

export type Origin = 'application' | 'jdk-default' | 'inherited' | 'framework-default';

/** What a verdict or a call rests on, strongest first: a kernel flag (a lock, a stored-or-not value), a value the kernel stores as set, a value no default has, a judgement. */
export type Evidence = 'kernel-flag' | 'stored-value' | 'value' | 'heuristic';

/** The same setting made elsewhere, where the kernel's state would be the same: on the listener instead of the socket, on another listener, on another class. */
export interface JavaCallAlternative {
  api: string;
  call: string;
  origin: Origin;
  nio?: string;
  note?: string;
  from?: { fd: number; local: Endpoint };
}

export interface JavaCall {
  /** Class or interface the call is made on: java.net.Socket, java.nio.channels.SocketChannel ... */
  api: string;
  /** The call as source code: setTcpNoDelay(true), setOption(StandardSocketOptions.SO_REUSEPORT, true) */
  call: string;
  origin: Origin;
  /** Kernel option(s) it explains. */
  options: string[];
  /** NIO spelling of the same call, when it differs. */
  nio?: string;
  /** How sure: "certain", "likely", "uncertain". */
  confidence?: 'certain' | 'likely' | 'uncertain';
  note?: string;
  /** For inherited calls: the listener it comes from. */
  from?: { fd: number; local: Endpoint };
  /** What the claim rests on (see Evidence). */
  evidence?: Evidence;
  /** Other places the same setting could have been made, the kernel's state being the same for each: one of them (this call or an alternative) was made. */
  alternatives?: JavaCallAlternative[];
}

export interface Unobservable {
  /** The class the call is made on (java.net.Socket ...); absent when it applies to every class. */
  api?: string;
  call: string;
  reason: string;
  /** What would show it. */
  seeInstead?: string;
}

/** A per-option verdict relative to the defaults of a fresh socket of the same kind. */
export interface OptionVerdict {
  /** "kernel-default": as the kernel sets it; "jdk-default": the JDK set it; "application": differs from both. */
  origin: 'kernel-default' | 'jdk-default' | 'application' | 'autotuned' | 'unknown';
  /** How sure the origin is: buffers without the knetstat lock flag are a judgement. */
  confidence?: 'certain' | 'likely' | 'uncertain';
  /** The value equals a host sysctl default (tcp_keepalive_time, tcp_rmem ...). */
  systemDefault?: string;
  note?: string;
  /** What the origin rests on (see Evidence): a source that knows more (bpf's lock flags) makes it stronger. */
  evidence?: Evidence;
}

export interface ReportSocket extends RawSocket {
  role: Role;
  /** How sure the role is, and why in words: the kernel's own accounting (certain), a listener on the port (likely) ... */
  roleConfidence?: 'certain' | 'likely' | 'uncertain';
  roleNote?: string;
  /** The Java classes a developer would use for this socket. */
  apis: string[];
  java: JavaCall[];
  /** Option name -> verdict, for options that were read. */
  verdicts: Record<string, OptionVerdict>;
  unobservable: Unobservable[];
  /** Hints that are not facts ("likely Tomcat default acceptCount"). */
  hints: string[];
  /** For accepted sockets: the listener they came from (the one whose options explain it best). */
  listener?: { fd: number; inode: number; local: Endpoint };
  /** Accepted sockets of a SO_REUSEPORT group whose options more than one listener explains: all of them, the listener above first. */
  listenerCandidates?: { fd: number; inode: number; local: Endpoint }[];
  /** Why apis names these classes, when the fd's flags or the JVM's threads took part. */
  classNote?: string;
  /** Options whose value could not be read by any source. */
  unknown: string[];
}

export interface Report extends Omit<Capture, 'sockets'> {
  sockets: ReportSocket[];
  /** Which JDK defaults table applied and why. */
  defaults: { jdk: string; note?: string };
}

/** A Report whose sockets may come one at a time (java/analyze.ts analyzeStream): read once, in order, by a renderer that streams. */
export interface ReportStream extends Omit<Report, 'sockets'> {
  sockets: Iterable<ReportSocket>;
  /** How many sockets `sockets` gives, when known before they are read (a renderer may choose how to write by it). */
  socketCount?: number;
}
