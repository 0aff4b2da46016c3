// Report + Policy -> CheckResult, a pure function. Each rule is applied to the
// sockets it matches; each expectation passes, fails (with a message in Java
// terms) or is unknown (the value could not be read: unknown is not a failure).
import { javaArg } from '../java/calls.js';
import { mappings } from '../mappings.js';
import { formatEndpoint } from '../model/addr.js';
import type { Observed } from '../model/observed.js';
import type { OptionValue, Report, ReportSocket, Role } from '../model/types.js';
import { reportContext, shortApi, showValue, socketDetails, socketLabel, zeroText, type ReportContext } from '../render/format.js';
import { SO_TIMEOUT, type Match, type OptionExpectation, type Policy, type Rule } from './policy.js';

export type Status = 'pass' | 'fail' | 'skip' | 'unknown';

export interface SocketCheck {
  /** "tcp 127.0.0.1:8080 LISTEN fd 7" */
  label: string;
  fd: number;
  inode: number;
  status: Exclude<Status, 'skip'>;
  failures: string[];
  /** Expectations whose value could not be read, with why. */
  unknowns: string[];
  /** The socket's options and Java calls, one per line (JUnit system-out). */
  details: string;
}

export interface RuleCheck {
  name: string;
  required: boolean;
  status: Status;
  /** Why a rule was skipped or failed without a socket. */
  message?: string;
  sockets: SocketCheck[];
}

export interface CheckResult {
  origin: string;
  status: Exclude<Status, 'skip'>;
  counts: { rules: number; passed: number; failed: number; skipped: number; unknown: number };
  rules: RuleCheck[];
  /** What the data came from, for JUnit properties and the text header. */
  context: ReportContext;
}

function family(addr: string): string {
  return addr.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

export function matches(s: ReportSocket, m: Match): boolean {
  if (m.protocol) {
    const base = m.protocol.replace(/[46]$/, '');
    if (!s.protocol.startsWith(base)) return false;
    if (m.protocol.endsWith('6') && !s.protocol.endsWith('6')) return false;
    if (m.protocol.endsWith('4') && s.protocol.endsWith('6')) return false;
  }
  if (m.state && s.state.toUpperCase() !== m.state) return false;
  if (m.role && s.role !== m.role) return false;
  if (m.localPort !== undefined && s.local.port !== m.localPort) return false;
  if (m.remotePort !== undefined && s.remote.port !== m.remotePort) return false;
  if (m.localAddress !== undefined && family(s.local.address) !== family(m.localAddress)) return false;
  if (m.remoteAddress !== undefined && family(s.remote.address) !== family(m.remoteAddress)) return false;
  return true;
}

/** Where a message says the socket is: the peer of a connection, the local address otherwise. */
function where(s: ReportSocket): string {
  const ep = s.role === 'connected' ? s.remote : s.local;
  return `${formatEndpoint(ep.address, ep.port)} (fd ${s.fd})`;
}

const GROUP: Record<Role, 'socket' | 'server' | 'datagram'> = { connected: 'socket', accepted: 'socket', unconnected: 'socket', listening: 'server', udp: 'datagram' };

/** The Java call that gives an option this kernel value on this kind of socket, or undefined when none does. */
export function javaCallFor(option: string, v: OptionValue, r: Role): string | undefined {
  const row = mappings().java.options.find((o) => o.option === option);
  const t = row?.java[GROUP[r]] ?? row?.java.socket ?? row?.java.server ?? row?.java.datagram;
  if (!row || !t) return undefined;
  if (t.classic) return t.classic.replaceAll('{v}', javaArg(row, v, false));
  if (t.option) return `setOption(${t.option}, ${javaArg(row, v, true)})`;
  return undefined;
}

function sameValue(a: OptionValue, b: OptionValue): boolean {
  if (typeof a === 'object' || typeof b === 'object') {
    if (typeof a !== 'object' || typeof b !== 'object') return false;
    return a.enabled === b.enabled && (!a.enabled || a.seconds === b.seconds);
  }
  return typeof a === 'number' && typeof b === 'number' ? a === b : String(a) === String(b);
}

function show(option: string, v: OptionValue): string {
  return `${option}=${showValue(v)}`;
}

function wanted(option: string, e: OptionExpectation, r: Role): string {
  if (e.kind === 'exact') {
    const call = javaCallFor(option, e.value, r);
    return call ? `${call}` : show(option, e.value);
  }
  const bounds = [e.min !== undefined ? `>= ${e.min}` : '', e.max !== undefined ? `<= ${e.max}` : ''].filter(Boolean).join(' and ');
  const calls = [e.min, e.max].filter((x): x is number => x !== undefined).map((x) => javaCallFor(option, x, r)).filter(Boolean);
  const name = option === 'backlog' ? 'a listen backlog' : option;
  return `${name} ${bounds}${calls.length ? ` (${calls.join(' .. ')})` : ''}`;
}

/** Does a Java call the report wrote for this socket match what the policy names? */
function hasCall(s: ReportSocket, want: string): boolean {
  const norm = (x: string) => x.replace(/\s+/g, '');
  const w = norm(want);
  return s.java.some((c) => {
    const forms = [c.call, `${shortApi(c.api)}.${c.call}`, `${c.api}.${c.call}`, ...(c.nio ? [c.nio, shortApi(c.nio)] : [])];
    return forms.some((f) => norm(f) === w || norm(f).endsWith(`.${w}`));
  });
}

function details(s: ReportSocket): string {
  return [socketLabel(s), ...socketDetails(s, { nullNotes: true })].join('\n');
}

/** Does the kernel have this option on this kind of socket (catalog: protocols, families, states)? */
function applies(option: string, s: ReportSocket): boolean {
  if (option === 'backlog') return s.state === 'LISTEN';
  const k = mappings().kernel.find((o) => o.name === option);
  if (!k) return false;
  const proto = s.protocol.startsWith('tcp') ? 'tcp' : 'udp';
  const fam = s.protocol.endsWith('6') ? 6 : 4;
  return k.protocols.includes(proto) && k.families.includes(fam) && (!k.states || k.states.includes(s.state));
}

/** What the report says of --observe: the observation, or why there is none. */
type Observing = Pick<Report, 'observation' | 'notObserved'>;

/** A read timeout as Java sets it; 0 is none (and on JDK 22+ maybe a blocking channel's: zeroText). */
function timeoutText(t: number, o?: Observed): string {
  return t === 0 ? `${o ? zeroText(o) : 'setSoTimeout(0)'} (no timeout: infinite)` : `setSoTimeout(${t})`;
}

/**
 * soTimeout: every read timeout --observe saw on the socket must meet the
 * expectation, 0 being infinite (it fails a max, and a min >= 1). No
 * observation, or no read on the socket in the window, is unknown: never a guess.
 */
function checkSoTimeout(s: ReportSocket, e: OptionExpectation, obs: Observing, failures: string[], unknowns: string[]): void {
  const at = where(s);
  const unknown = (why: string) => unknowns.push(`${SO_TIMEOUT} on ${at} is unknown: ${why}`);
  if (!obs.observation) {
    unknown(obs.notObserved
      ? `the JVM could not be observed (${obs.notObserved.reason})`
      : 'no socket option holds it; check a live JVM with --observe <duration> (e.g. 10s) to observe it');
    return;
  }
  const sec = obs.observation.window.seconds;
  if (!s.protocol.startsWith('tcp') || s.role === 'listening') {
    unknown(`JFR records the reads of connected TCP sockets only (no ${s.role === 'listening' ? 'accept' : 'datagram'} events)`);
    return;
  }
  const o = s.observed;
  if (!o || o.reads === 0) { unknown(`no read observed in ${sec} s`); return; }
  if (o.soTimeout.length === 0) { unknown(`its ${o.reads} read(s) in ${sec} s cannot carry a timeout (SocketChannel or selector reads)`); return; }
  const ok = (t: number) => {
    if (e.kind === 'exact') return t === e.value;
    // 0 is no timeout at all: it meets no bound but an explicit min 0 without a max ("any, even none").
    if (t === 0) return e.min === 0 && e.max === undefined;
    return (e.min === undefined || t >= e.min) && (e.max === undefined || t <= e.max);
  };
  const bad = o.soTimeout.filter((t) => !ok(t));
  if (!bad.length) return;
  const want = e.kind === 'exact' ? timeoutText(Number(e.value))
    : `a read timeout ${[e.min !== undefined ? `>= ${e.min} ms` : '', e.max !== undefined ? `<= ${e.max} ms` : ''].filter(Boolean).join(' and ')}`;
  const group = o.attribution === 'peer-group' ? `, on the ${o.group?.sockets ?? 'several'} connections to this peer together` : '';
  failures.push(`expected ${want} on ${at}, found ${bad.map((t) => timeoutText(t, o)).join(', ')} (observed on ${o.reads} read(s) in ${sec} s${group})`);
}

function checkSocket(s: ReportSocket, rule: Rule, missing: Set<string>, missingReason: string | undefined, obs: Observing): SocketCheck {
  const failures: string[] = [];
  const unknowns: string[] = [];
  for (const [option, e] of Object.entries(rule.expect)) {
    if (option === SO_TIMEOUT) {
      checkSoTimeout(s, e, obs, failures, unknowns);
      continue;
    }
    const reading = s.options[option];
    if (!reading || reading.value === null) {
      // Unknown: the source tried and failed, or this capture could not read the option at all.
      if (reading || (missing.has(option) && applies(option, s))) {
        const why = reading?.error ?? reading?.note ?? missingReason ?? 'no source could read it';
        unknowns.push(`${option} on ${where(s)} could not be read: ${why}`);
      } else {
        failures.push(`expected ${wanted(option, e, s.role)} on ${where(s)}, but a ${s.protocol} ${s.state} socket has no ${option}`);
      }
      continue;
    }
    const v = reading.value;
    let ok: boolean;
    if (e.kind === 'exact') ok = sameValue(v, e.value);
    else {
      const n = typeof v === 'number' ? v : Number.NaN;
      ok = Number.isFinite(n) && (e.min === undefined || n >= e.min) && (e.max === undefined || n <= e.max);
    }
    if (!ok) {
      const found = javaCallFor(option, v, s.role);
      failures.push(`expected ${wanted(option, e, s.role)} on ${where(s)}, found ${show(option, v)}${found && e.kind === 'exact' ? ` (as after ${found})` : ''}`);
    }
  }
  for (const c of rule.java.has) if (!hasCall(s, c)) failures.push(`expected ${c} on ${where(s)}, not found among: ${s.java.map((j) => j.call).join(', ') || 'no calls'}`);
  for (const c of rule.java.not) if (hasCall(s, c)) failures.push(`expected no ${c} on ${where(s)}, but the socket is configured as after ${c}`);
  const status = failures.length ? 'fail' : unknowns.length ? 'unknown' : 'pass';
  return { label: socketLabel(s), fd: s.fd, inode: s.inode, status, failures, unknowns, details: details(s) };
}

function describeMatch(m: Match): string {
  const parts = Object.entries(m).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : 'any socket';
}

export function evaluate(report: Report, policy: Policy, snapshot?: string): CheckResult {
  // Options no source could read on this capture: a missing reading for them is unknown, not "does not apply".
  const missing = new Set(report.missing?.options ?? []);
  const rules: RuleCheck[] = policy.rules.map((rule) => {
    const hit = report.sockets.filter((s) => matches(s, rule.match));
    if (!hit.length) {
      const message = `no socket matches ${describeMatch(rule.match)}`;
      return { name: rule.name, required: rule.required, status: rule.required ? 'fail' : 'skip', message: rule.required ? `${message} (required)` : message, sockets: [] };
    }
    const sockets = hit.map((s) => checkSocket(s, rule, missing, report.missing?.reason, report));
    const status: Status = sockets.some((s) => s.status === 'fail') ? 'fail' : sockets.some((s) => s.status === 'unknown') ? 'unknown' : 'pass';
    return { name: rule.name, required: rule.required, status, sockets };
  });
  const counts = {
    rules: rules.length,
    passed: rules.filter((r) => r.status === 'pass').length,
    failed: rules.filter((r) => r.status === 'fail').length,
    skipped: rules.filter((r) => r.status === 'skip').length,
    unknown: rules.filter((r) => r.status === 'unknown').length,
  };
  return {
    origin: policy.origin,
    status: counts.failed ? 'fail' : counts.unknown ? 'unknown' : 'pass',
    counts,
    rules,
    context: reportContext(report, snapshot),
  };
}
