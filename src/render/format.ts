// Formatting shared by the renderers and by check/ (which imports it; this
// module imports neither): values, socket labels, Java calls as text, the
// lines that describe a socket in JUnit output, and what a report came from.
import { formatEndpoint } from '../model/addr.js';
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
}

export function reportContext(r: Omit<Report, 'sockets'>, snapshot?: string): ReportContext {
  const p = r.process;
  return {
    pid: p.pid, comm: p.comm, cmdline: p.cmdline, hostname: r.host.hostname, kernel: r.host.kernel, jvm: jvmLabel(p),
    source: sourcesLabel(r.sources), capturedAt: r.capturedAt, toolVersion: r.tool.version, redacted: r.redacted === true,
    ...(snapshot ? { snapshot } : {}),
  };
}
