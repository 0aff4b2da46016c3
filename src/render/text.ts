// The text report: per socket, what it is, its options, and the Java code
// that configured it. A pure function of the Report; streamed per socket.
// Every string in it is first made safe for a terminal (render/terminal.ts):
// the target controls its command line, names and paths.
import { FIN_RECEIVED_STATES } from '../linux/inet.js';
import { formatEndpoint } from '../model/addr.js';
import type { OptionReading, Report, ReportSocket } from '../model/types.js';
import { callText, count, observationSummary, observedLines, showValue, shortApi, waitsForever, waitsForeverText } from './format.js';
import { terminalSafe } from './terminal.js';

const ORIGIN: Record<string, string> = {
  application: 'application',
  'jdk-default': 'JDK default',
  inherited: 'inherited',
  'framework-default': 'framework default',
};

function optionList(s: ReportSocket): string {
  const parts: string[] = [];
  for (const [name, o] of Object.entries(s.options) as [string, OptionReading][]) {
    const v = s.verdicts[name];
    let mark = '';
    if (v?.origin === 'application') mark = '*';
    else if (v?.origin === 'jdk-default') mark = '+';
    else if (v?.origin === 'autotuned') mark = '~';
    const inf = o.inferred ? '(inferred)' : '';
    parts.push(`${name}=${showValue(o.value)}${mark}${inf}`);
  }
  return parts.join(' ');
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.map((l) => indent + l).join('\n');
}

function header(r: Report): string {
  const p = r.process;
  const lines: string[] = [];
  const who = p.user ?? `uid ${p.uid}`;
  const jvm = p.jvm ? `JDK ${p.jvm.version ?? '?'}${p.jvm.javaHome ? ` (${p.jvm.javaHome})` : ''}` : 'not a JVM';
  lines.push(`knetstat-java ${r.tool.version}: pid ${p.pid} (${p.comm}), user ${who}, ${jvm}`);
  if (p.jvm?.mainClass) lines.push(`  main: ${p.jvm.mainClass}`);
  const props = Object.entries(p.jvm?.properties ?? {});
  if (props.length) lines.push(`  properties: ${props.map(([k, v]) => `-D${k}=${v}`).join(' ')}`);
  lines.push(`  host ${r.host.hostname}, Linux ${r.host.kernel}, captured ${r.capturedAt}${r.redacted ? ', redacted' : ''}`);
  const used = r.sources.filter((s) => s.used && s.role !== 'enrich').map((s) => s.name).join(' + ') || 'none';
  const enrich = r.sources.filter((s) => s.used && s.role === 'enrich').map((s) => s.name);
  lines.push(`  source: ${used}${enrich.length ? `, enriched by ${enrich.join(' + ')} (what ${used} cannot see: timers, shutdown state${enrich.includes('knetstat') ? ', buffer locks' : ''})` : ''}`);
  for (const s of r.sources) if (!s.used && s.reason) lines.push(`  ${s.name} not used: ${s.reason}`);
  const roles = new Map<string, number>();
  for (const s of r.sockets) roles.set(s.role, (roles.get(s.role) ?? 0) + 1);
  lines.push(`  ${r.sockets.length} TCP/UDP socket${r.sockets.length === 1 ? '' : 's'}${roles.size ? `: ${[...roles].map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}`);
  const sc = r.host.sysctls;
  const pick = (k: string) => (sc[k] !== undefined ? `${k.replace(/^net\.(ipv4|core|ipv6)\./, '')}=${sc[k]!.replaceAll(' ', '/')}` : undefined);
  const host = ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', 'net.core.somaxconn', 'net.ipv4.tcp_congestion_control'].map(pick).filter(Boolean);
  if (host.length) lines.push(`  host defaults: ${host.join(' ')}`);
  if (r.observation) lines.push(`  observed (--observe): ${observationSummary(r.observation)}`);
  if (r.defaults.note) lines.push(`  note: ${r.defaults.note}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  if (r.missing) lines.push(`  missing: ${r.missing.options.join(', ')}: ${r.missing.reason}`);
  if (r.vanished.length) lines.push(`  closed during the scan: ${r.vanished.map((v) => `fd ${v.fd} (inode ${v.inode})`).join(', ')}`);
  lines.push('  marks: * set by the application, + set by the JDK itself, ~ sized by the kernel (autotuning)');
  return lines.join('\n');
}

function shutdownText(s: ReportSocket): string {
  const { read, write } = s.shutdown!;
  if (s.state === 'CLOSE') return 'the connection is over (reset, or closed by the kernel): nothing more can be sent or received';
  const parts: string[] = [];
  if (write) parts.push('shutdownOutput() was called: no more data will be sent');
  if (read) parts.push(FIN_RECEIVED_STATES.has(s.state) ? 'the peer closed its side: reads return end of stream' : 'shutdownInput() was called: reads return end of stream');
  return parts.join('; ');
}

export function socketText(s: ReportSocket): string {
  const out: string[] = [];
  const local = formatEndpoint(s.local.address, s.local.port);
  const remote = s.role === 'listening' || s.role === 'unconnected' || (s.remote.port === 0 && s.state === 'UNCONN') ? '*' : formatEndpoint(s.remote.address, s.remote.port);
  const diag = s.diag ? `  Diag ${s.diag}` : '';
  out.push(`${s.protocol.padEnd(4)} fd ${s.fd}  ${local} -> ${remote}  ${s.state}  Recv-Q ${s.recvQ} Send-Q ${s.sendQ}${diag}  inode ${s.inode}${s.vanished ? '  (closed during the scan)' : ''}`);
  const via = s.listener ? `, accepted by the listener fd ${s.listener.fd} (${formatEndpoint(s.listener.local.address, s.listener.local.port)})` : '';
  out.push(`  ${s.role}: ${s.apis.join(' / ')}${via}`);
  // How sure the role is when the kernel did not decide it, which listeners a REUSEPORT socket may be from, why these classes.
  if (s.roleNote && (s.roleConfidence !== 'certain' || s.listenerCandidates || s.role === 'accepted' && !s.listener)) out.push(wrap(`role ${s.roleConfidence ?? ''}: ${s.roleNote}`, 100, '    '));
  if (s.classNote) out.push(wrap(`classes: ${s.classNote}`, 100, '    '));
  const opts = optionList(s);
  if (opts) out.push(wrap(opts, 100, '    '));
  if (s.timer) out.push(`  timer: ${s.timer.kind}, fires in ${(s.timer.expiresMs / 1000).toFixed(1)} s${s.timer.retrans ? `, ${s.timer.retrans} retransmissions/probes so far` : ''} (${s.timer.source})`);
  if (s.shutdown) out.push(`  shut down: ${shutdownText(s)} (${s.shutdown.source})`);
  if (s.unknown.length) out.push(`  unknown (could not be read): ${s.unknown.join(', ')}`);
  if (s.java.length) {
    out.push('  Java:');
    for (const c of s.java) {
      const conf = c.confidence && c.confidence !== 'certain' ? ` (${c.confidence})` : '';
      out.push(`    ${callText(c, true).padEnd(58)} ${ORIGIN[c.origin] ?? c.origin}${conf}`);
      if (c.nio) out.push(`      NIO: ${shortApi(c.nio)}`);
      const note = c.origin === 'jdk-default' ? c.note?.replace(/ \((?:probe|live probe)(?:[^()]|\([^()]*\))*\)$/, '') : c.note;
      if (note) out.push(wrap(note, 96, '      '));
      // The same kernel state from another call: the report names each, it does not pick one.
      for (const a of c.alternatives ?? []) out.push(wrap(`or: ${callText({ ...a, options: c.options }, true)} (${ORIGIN[a.origin] ?? a.origin})${a.note ? `: ${a.note}` : ''}`, 96, '      '));
    }
  } else {
    out.push('  Java: nothing set: every option is as a fresh socket of this kind has it');
  }
  for (const l of observedLines(s)) out.push(wrap(l, 110, '  ').replace(/^ {2}/, '  ').replace(/\n {2}/g, '\n      '));
  for (const h of s.hints) out.push(`  hint: ${h}`);
  if (s.unobservable.length) {
    // setSoTimeout stays unobservable from the kernel; --observe saw it from inside the JVM, on the line above.
    const names = s.unobservable.map((u) => (s.observed && u.call === 'setSoTimeout' ? `${unobservableName(u)} (observed inside the JVM: the read timeout line)` : unobservableName(u)));
    out.push(`  not observable${s.observed ? ' from the kernel' : ''}: ${names.join(', ')} (see below)`);
  }
  return out.join('\n');
}

/**
 * What an engineer reads first: sockets grouped by what the application did to
 * them, and the facts that usually explain an incident.
 */
export function summary(r: Report): string {
  const groups = new Map<string, { n: number; fds: number[]; role: string; api: string; calls: string[] }>();
  const watch: string[] = [];
  for (const s of r.sockets) {
    const calls = s.java.filter((c) => c.origin === 'application' || c.origin === 'inherited').map((c) => `${c.call}${c.origin === 'inherited' ? ' (inherited)' : ''}`);
    const api = shortApi(s.apis[0] ?? '');
    const key = `${s.role}|${api}|${calls.join(';')}`;
    const g = groups.get(key) ?? { n: 0, fds: [], role: s.role, api, calls };
    g.n++;
    if (g.fds.length < 6) g.fds.push(s.fd);
    groups.set(key, g);
    const at = `fd ${s.fd} (${formatEndpoint(s.local.address, s.local.port)})`;
    const l = s.options.SO_LINGER?.value;
    if (l && typeof l === 'object' && l.enabled && l.seconds === 0) watch.push(`${at}: SO_LINGER on with 0 s: close() sends RST and drops unsent data`);
    if (s.diag.includes('>|')) watch.push(`${at}: the peer's window is 0: the peer is not reading`);
    if (s.diag.includes('|<')) watch.push(`${at}: our window is 0: this JVM is not reading`);
    if (s.diag.includes('>#')) watch.push(`${at}: unacknowledged data, no ACK for over 1 s: network trouble or a dead peer`);
    for (const h of s.hints) if (/capped|somaxconn/.test(h)) watch.push(`${at}: ${h}`);
    if (s.observed && waitsForever(s.observed)) watch.push(`${at}: ${waitsForeverText(s.observed)}`);
  }
  const lines = ['Summary (sockets grouped by what the application set):'];
  const sorted = [...groups.values()].sort((a, b) => b.n - a.n);
  for (const g of sorted.slice(0, 30)) {
    const more = g.n > g.fds.length ? ', ...' : '';
    lines.push(`  ${String(g.n).padStart(5)} ${g.role} ${g.api} (fd ${g.fds.join(', ')}${more}): ${g.calls.length ? g.calls.join(', ') : 'defaults only'}`);
  }
  if (sorted.length > 30) lines.push(`  ... ${sorted.length - 30} more groups`);
  if (watch.length) {
    lines.push('Watch:');
    for (const w of watch.slice(0, 20)) lines.push(`  ${w}`);
    if (watch.length > 20) lines.push(`  ... ${watch.length - 20} more`);
  }
  return lines.join('\n');
}

function unobservableName(u: { api?: string; call: string }): string {
  return u.api ? `${shortApi(u.api)}.${u.call}` : u.call;
}

export function* renderText(report: Report): Generator<string> {
  const r = terminalSafe(report);
  yield `${header(r)}\n`;
  if (r.sockets.length) yield `\n${summary(r)}\n`;
  for (const s of r.sockets) yield `\n${socketText(s)}\n`;
  const seen = new Map<string, string>();
  for (const s of r.sockets) for (const u of s.unobservable) if (!seen.has(unobservableName(u))) seen.set(unobservableName(u), `${u.reason}${u.seeInstead ? `; to see it: ${u.seeInstead}` : ''}`);
  if (seen.size) {
    yield '\nNot observable from outside the JVM:\n';
    for (const [call, why] of seen) yield `${wrap(`${call}: ${why}.`, 100, '  ').replace(/^ {2}/, '  ')}\n`;
  }
  if (r.observation) yield observationFooter(r.observation);
}

/** What the observation could not see, peers no open socket has, what it did to the JVM. */
function observationFooter(obs: NonNullable<Report['observation']>): string {
  const lines = [`\nObserved inside the JVM (--observe: JFR, ${obs.window.seconds} s; setSoTimeout on each socket's read timeout line):`];
  const item = (t: string) => lines.push(wrap(t, 100, '    ').replace(/^ {4}/, '  - '));
  lines.push('  not seen by it:');
  for (const u of obs.unobservable) item(u);
  if (obs.unmatched.length) {
    lines.push('  peers of connections closed before the capture:');
    for (const p of obs.unmatched.slice(0, 10)) {
      item(`${formatEndpoint(p.address, p.port)}${p.host ? ` (${p.host})` : ''}: ${count(p.reads)} reads, ${count(p.writes)} writes${p.soTimeout.length ? `, setSoTimeout ${p.soTimeout.join(', ')}` : ''}`);
    }
    if (obs.unmatched.length > 10) lines.push(`    ... ${obs.unmatched.length - 10} more`);
  }
  lines.push('  what observing did to the JVM:');
  for (const e of obs.effects) item(e);
  return `${lines.join('\n')}\n`;
}
