// The shape of a snapshot's capture (src/model/types.ts Capture), as the
// analysis and the renderers rely on it. A file that does not fit is
// refused with the first bad field named (exit 2), never half-rendered or
// crashed on (exit 70). Strings the inspected process controlled (comm,
// cmdline, java.home ...) are free text and are made safe where they are
// shown (src/render/terminal.ts); what the kernel or this tool writes
// (addresses, states, option names, source names) has a fixed form here, so
// a crafted file cannot smuggle text through them either.
import { SOURCE_NAMES } from '../model/types.js';
import { arr, bool, int, num, nul, obj, oneOf, oneOfValues, opt, rec, str, type Schema } from '../schema.js';

const source = oneOfValues(SOURCE_NAMES);
const protocol = oneOfValues(['tcp', 'tcp6', 'udp', 'udp6']);
/** IPv4, IPv6 (also v4-mapped), or a --redact alias (addr-3, ::ffff:addr-3). */
const address = str({ pattern: /^(?:[0-9A-Fa-f:.]{1,45}|(?:::ffff:)?addr-\d{1,9})$/i, patternName: 'an IP address' });
const endpoint = obj({ address, port: int({ min: 0, max: 65535 }) }, 'ignore', '{"address": ..., "port": n}');
const name = str({ pattern: /^[A-Za-z][A-Za-z0-9_]{0,63}$/, patternName: 'an option name (letters, digits, _)' });
const optionName = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const linger = obj({ enabled: bool(), seconds: num() });
const optionValue = oneOf('a number, a name or {"enabled": ..., "seconds": ...}', num(), str({ maxLength: 64 }), linger);

const reading = obj({
  value: oneOf('a number, a name, {"enabled": ..., "seconds": ...} or null', num(), str({ maxLength: 64 }), linger, nul()),
  source,
  inferred: opt(bool()),
  note: opt(str()),
  error: opt(str({ pattern: /^[A-Z0-9_ ]{1,32}$/i, patternName: 'an errno name' })),
  explicit: opt(bool()),
});

const TCP_INFO_NUMBERS = [
  'state', 'retransmits', 'probes', 'backoff', 'rto', 'ato', 'sndMss', 'rcvMss', 'unacked', 'sacked', 'lost', 'retrans',
  'lastDataSent', 'lastDataRecv', 'lastAckRecv', 'pmtu', 'rtt', 'rttvar', 'sndCwnd', 'advmss', 'totalRetrans',
];
const tcpInfo = obj({
  ...Object.fromEntries(TCP_INFO_NUMBERS.map((k) => [k, num()])),
  sndWnd: opt(num()),
  rcvWnd: opt(num()),
  bytesAcked: opt(num()),
  bytesReceived: opt(num()),
  bytesSent: opt(num()),
  bytesRetrans: opt(num()),
  notsentBytes: opt(num()),
  source,
});

const count = int({ min: 0 });
/** Distinct read timeouts (ms, 0 = infinite). */
const timeouts = arr(int({ min: 0, max: 0x7fffffff }));

/** --observe on one socket (model/observed.ts Observed). Frames and notes are free text, made safe where shown. */
const observed = obj({
  source: oneOfValues(['jfr']),
  window: obj({ seconds: count }),
  attribution: oneOfValues(['socket', 'peer-group']),
  soTimeout: timeouts,
  reads: count,
  bytesRead: count,
  writes: count,
  bytesWritten: count,
  readers: arr(obj({ frame: str({ maxLength: 4096 }), library: opt(str({ maxLength: 256 })) })),
  group: opt(obj({ sockets: count })),
  notes: opt(arr(str({ maxLength: 4096 }))),
});

const isoTime = str({ pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, patternName: 'an ISO 8601 UTC time' });

/** --observe on the capture (model/observed.ts Observation). */
const observation = obj({
  source: oneOfValues(['jfr']),
  recorded: obj({ events: arr(str({ pattern: /^jdk\.[A-Za-z]{1,64}$/, patternName: 'a JFR event name' })), threshold: str({ maxLength: 32 }), stackTrace: bool() }),
  window: obj({ seconds: count, start: isoTime, end: isoTime, measuredSeconds: num({ min: 0 }) }),
  jvm: obj({ version: opt(str({ maxLength: 256 })), feature: opt(int({ min: 0 })) }),
  attach: oneOfValues(['listener-running', 'started']),
  recording: obj({
    id: count, name: str({ pattern: /^knetstat-[0-9a-f]{1,32}$/, patternName: "the recording's name" }), settingsVia: oneOfValues(['overrides', 'jfc']),
    bytes: count, chunks: count, endedBy: oneOfValues(['stop', 'duration']),
  }),
  totals: obj({ reads: count, writes: count, peers: count }),
  unmatched: arr(obj({
    address, port: int({ min: 0, max: 65535 }), host: opt(str({ maxLength: 1024 })),
    reads: count, bytesRead: count, writes: count, bytesWritten: count, soTimeout: timeouts,
  })),
  unobservable: arr(str({ maxLength: 4096 })),
  effects: arr(str({ maxLength: 4096 })),
});

const socket = obj({
  protocol,
  fd: int({ min: -1 }),
  inode: int({ min: 0 }),
  local: endpoint,
  remote: endpoint,
  state: str({ pattern: /^[A-Z][A-Z0-9_]{0,31}$/, patternName: 'a socket state (ESTABLISHED, LISTEN, UNCONN ...)' }),
  recvQ: int({ min: 0 }),
  sendQ: int({ min: 0 }),
  uid: opt(int({ min: 0 })),
  options: rec(reading, optionName, 'an option name (letters, digits, _)'),
  tcpInfo: opt(tcpInfo),
  diag: opt(str({ pattern: /^[<>|#]{0,8}$/, patternName: 'Diag indicators (>| |< >#)' }), () => ''),
  userLocks: opt(obj({ rcvbuf: bool(), sndbuf: bool(), source })),
  bindLocks: opt(obj({ addr: bool(), port: bool(), source })),
  timer: opt(obj({ kind: str({ pattern: /^[a-z-]{1,32}$/, patternName: 'a timer name' }), expiresMs: num(), retrans: int({ min: 0 }), source })),
  shutdown: opt(obj({ read: bool(), write: bool(), source })),
  nonBlocking: opt(obj({ value: bool(), source })),
  vanished: opt(bool()),
  sources: opt(arr(source), () => []),
  observed: opt(observed),
});

const propertyOrigin = oneOfValues(['argv', 'argfile', 'JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'hsperfdata']);

const jdkRow = obj({
  kind: str(),
  family: oneOfValues(['inet', 'inet6']),
  options: rec(oneOf('a number or {"enabled": ..., "seconds": ...}', num(), linger), optionName, 'an option name'),
  backlog: opt(int({ min: 0 })),
  jdk: str(),
  source: str(),
  preferIPv4Stack: opt(bool()),
});

export const CAPTURE_SCHEMA: Schema = obj({
  formatVersion: opt(int()),
  tool: obj({ name: str(), version: str() }),
  capturedAt: str(),
  host: obj({
    hostname: str(),
    kernel: str(),
    sysctls: rec(str(), /^[a-z0-9_.]{1,128}$/, 'a sysctl name'),
    kernelDefaults: opt(rec(rec(optionValue, optionName, 'an option name'), /^(tcp|tcp6|udp|udp6)$/, 'a protocol')),
  }),
  process: obj({
    pid: int({ min: 0 }),
    comm: str(),
    cmdline: arr(str()),
    exe: opt(str()),
    uid: oneOf('a uid', int({ min: 0 }), nul()),
    user: opt(str()),
    isJvm: bool(),
    jvm: opt(obj({
      javaHome: opt(str()),
      version: opt(str()),
      feature: opt(int()),
      vendor: opt(str()),
      properties: rec(str()),
      propertyOrigins: opt(rec(propertyOrigin)),
      propertySettings: opt(arr(obj({ name: str(), value: str(), from: propertyOrigin, file: opt(str()) }))),
      vmArgs: opt(obj({ read: bool(), reason: opt(str()) })),
      threads: opt(obj({ total: int({ min: 0 }), asyncGroup: int({ min: 0 }) })),
      mainClass: opt(str()),
    })),
    netns: opt(obj({ inode: int({ min: 0 }), own: bool() })),
  }),
  sources: arr(obj({
    name: source,
    used: bool(),
    reason: opt(str()),
    errno: opt(str()),
    role: opt(oneOfValues(['primary', 'enrich'])),
  })),
  warnings: arr(str()),
  partial: opt(bool(), () => false),
  exited: opt(bool()),
  missing: opt(obj({ options: arr(name), reason: str() })),
  sockets: arr(socket),
  vanished: opt(arr(obj({ fd: int({ min: -1 }), inode: int({ min: 0 }) })), () => []),
  redacted: opt(bool()),
  jdkDefaults: opt(obj({ rows: arr(jdkRow), source: str() })),
  observation: opt(observation),
  notObserved: opt(obj({ kind: str({ pattern: /^[a-z-]{1,32}$/, patternName: 'an observation failure kind' }), reason: str() })),
});

/** How deep a snapshot nests (capture.sockets[i].options.X.value.enabled is 6): anything past this is not one. */
export const SNAPSHOT_MAX_DEPTH = 32;

