// Formatting shared by the renderers and by check/ (which imports it; this
// module imports neither): values, socket labels, Java calls as text, the
// lines that describe a socket in JUnit output, what --observe saw, and what
// a report came from.
import { formatEndpoint } from '../model/addr.js';
import { zeroMaybeChannel, type Observation, type Observed } from '../model/observed.js';
import type { JavaCall, OptionValue, ProcessInfo, Report, ReportSocket, SourceStatus } from '../model/types.js';

/** An option's value as the text and JUnit outputs print it: '?' unread, SO_LINGER as on,Ns or off. */
export function showValue(v: OptionValue | null): string {
  if (v === null) return '?';
  if (typeof v === 'object') return v.enabled ? `on,${v.seconds}s` : 'off';
  return String(v);
}

/** java.net.Socket -> Socket, java.nio.channels.SocketChannel -> SocketChannel. */
export function shortApi(api: string): string {
  return api.replace(/^java\.(net|nio\.channels)\./, '');
}

/** A call as code: on its class ("java.net.Socket.setKeepAlive(true)", short: "Socket.setKeepAlive(true)"); constructors and native settings stand alone. */
export function callText(c: JavaCall, short = false): string {
  if (c.api === 'native' || c.call.startsWith('new ')) return c.call;
  return `${short ? shortApi(c.api) : c.api}.${c.call}`;
}

/** "tcp 127.0.0.1:8080 LISTEN fd 7", "tcp6 [::1]:5 -> [::1]:80 ESTABLISHED fd 9": JUnit testcase names, check labels. */
export function socketLabel(s: ReportSocket): string {
  const local = formatEndpoint(s.local.address, s.local.port);
  const peer = s.role === 'listening' || s.role === 'unconnected' || (s.state === 'UNCONN' && s.remote.port === 0) ? '' : ` -> ${formatEndpoint(s.remote.address, s.remote.port)}`;
  return `${s.protocol} ${local}${peer} ${s.state} fd ${s.fd}`;
}

/** 1234567 -> "1,234,567". */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** A timeout of 0 as Java set it: setSoTimeout(0), unless it may be a blocking channel's (JDK 22+; see the notes). */
export function zeroText(o: Pick<Observed, 'notes'>): string {
  return zeroMaybeChannel(o) ? '0, a Socket without setSoTimeout or a blocking SocketChannel' : 'setSoTimeout(0)';
}

/** Notes the read timeout line already says in its own words. */
const SAID = [/^no read observed$/, /^JFR names the peer, not the local port/];

/** Reads that may wait forever: a timeout of 0 among the observed ones. */
export function waitsForever(o: Observed): boolean {
  return o.reads > 0 && o.soTimeout.includes(0);
}

/** What the Watch list says of reads that may wait forever. */
export function waitsForeverText(o: Observed): string {
  return `reads with no timeout were observed (${zeroText(o)}, infinite): a peer that goes silent blocks the reading thread forever`;
}

/**
 * What --observe saw on a socket, as lines: the read timeout line (the
 * timeouts, reads, bytes, the code that reads), then the notes it needs.
 * "read timeout: setSoTimeout(30000) on 412 reads; 1,234 bytes read, 3 writes
 * (99 bytes) in 10 s; read by org.postgresql...readMore (PostgreSQL JDBC)".
 */
export function observedLines(s: Pick<ReportSocket, 'observed' | 'remote'>): string[] {
  const o = s.observed;
  if (!o) return [];
  const sec = `${o.window.seconds} s`;
  const group = o.attribution === 'peer-group'
    ? ` (peer group: the ${o.group?.sockets ?? 'several'} connections to ${formatEndpoint(s.remote.address, s.remote.port)}, observed together: JFR names the peer, not the local port)`
    : '';
  const writes = `${plural(o.writes, 'write')} (${plural(o.bytesWritten, 'byte')})`;
  let line: string;
  if (o.reads === 0) line = `read timeout${group}: no read observed in ${sec}${o.writes ? `; ${writes}` : ''}`;
  else {
    const timeouts = o.soTimeout.length === 0
      ? `none applies to these ${plural(o.reads, 'read')} (see below)`
      : `${o.soTimeout.map((t) => (t === 0 ? `none (${zeroText(o)}: infinite, a read waits forever if the peer goes silent)` : `setSoTimeout(${t})`)).join(', ')} on ${plural(o.reads, 'read')}`;
    const readers = o.readers.map((r) => `${r.frame}${r.library ? ` (${r.library})` : ''}`).join(', ');
    line = `read timeout${group}: ${timeouts}; ${plural(o.bytesRead, 'byte')} read, ${writes} in ${sec}${readers ? `; read by ${readers}` : ''}`;
  }
  return [line, ...(o.notes ?? []).filter((n) => !SAID.some((re) => re.test(n))).map((n) => `observed: ${n}`)];
}

/** The header's line: "10 s of the JVM's own socket events (JFR ...), <start> to <end>: 1,234 reads, 56 writes, 7 peers". */
export function observationSummary(obs: Observation): string {
  const t = obs.totals;
  return `${obs.window.seconds} s of the JVM's own socket events (JFR: ${obs.recorded.events.join(', ')}, each read and write with its stack), ${obs.window.start} to ${obs.window.end}: ${plural(t.reads, 'read')}, ${plural(t.writes, 'write')}, ${plural(t.peers, 'peer')}`;
}

/**
 * A socket's role, options (with their sources) and Java calls, one per line:
 * JUnit's system-out. nullNotes: why an unread value is null; unknownLine: the
 * options no source could read.
 */
export function socketDetails(s: ReportSocket, opts: { nullNotes?: boolean; unknownLine?: boolean } = {}): string[] {
  const lines = [`role: ${s.role} (${s.apis.join(' / ')})`, 'options:'];
  for (const [name, o] of Object.entries(s.options)) {
    const note = opts.nullNotes && o.value === null && o.note ? ` (${o.note})` : '';
    lines.push(`  ${name}=${showValue(o.value)}${o.inferred ? ' (inferred)' : ''}${note}  [${o.source}]`);
  }
  if (opts.unknownLine && s.unknown.length) lines.push(`unknown (could not be read): ${s.unknown.join(', ')}`);
  lines.push('java:');
  if (!s.java.length) lines.push('  nothing set: every option is as a fresh socket of this kind has it');
  for (const c of s.java) lines.push(`  ${callText(c)}  (${c.origin})`);
  if (s.observed) lines.push('observed (--observe):', ...observedLines(s).map((l) => `  ${l}`));
  return lines;
}

/** "Debian 17.0.15", "unknown version", "not a JVM". */
export function jvmLabel(p: ProcessInfo): string {
  return p.jvm ? `${p.jvm.vendor ? `${p.jvm.vendor} ` : ''}${p.jvm.version ?? 'unknown version'}` : 'not a JVM';
}

/** The sources used, "pidfd + sockdiag", or "none". */
export function sourcesLabel(sources: SourceStatus[]): string {
  return sources.filter((s) => s.used).map((s) => s.name).join(' + ') || 'none';
}

/** What a report came from, for JUnit properties, check results and their text header. */
export interface ReportContext {
  pid: number; comm: string; cmdline: string[]; hostname: string; kernel: string; jvm: string;
  source: string; capturedAt: string; toolVersion: string; redacted: boolean; snapshot?: string;
  /** --observe: what was observed, or why nothing was. */
  observation?: string;
}

export function reportContext(r: Omit<Report, 'sockets'>, snapshot?: string): ReportContext {
  const p = r.process;
  return {
    pid: p.pid, comm: p.comm, cmdline: p.cmdline, hostname: r.host.hostname, kernel: r.host.kernel, jvm: jvmLabel(p),
    source: sourcesLabel(r.sources), capturedAt: r.capturedAt, toolVersion: r.tool.version, redacted: r.redacted === true,
    ...(snapshot ? { snapshot } : {}),
    ...(r.observation ? { observation: observationSummary(r.observation) } : r.notObserved ? { observation: `not observed: ${r.notObserved.reason}` } : {}),
  };
}
