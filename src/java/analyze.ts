// Capture -> Report: classify each socket by role, compare every option with
// what a fresh socket of that kind has (kernel default, plus what the JDK sets
// by itself), and write the differences back as the Java calls that make them.
// The concerns live beside it: roles.ts (role, kinds), defaults.ts, verdicts.ts,
// calls.ts, hints.ts, context.ts (per-capture caches); the tables in mappings/.
import { mappings } from '../mappings.js';
import { formatEndpoint } from '../model/addr.js';
import type { Capture, JavaCall, OptionValue, OptionVerdict, RawSocket, Report, ReportSocket, ReportStream } from '../model/types.js';
import { makeCall, merge, show } from './calls.js';
import { cachedJdkRow, context, freshFor, type Ctx } from './context.js';
import { boundToIPv6, covers, expectedFromJdk, expectedValue, same, tosToPriority } from './defaults.js';
import { frameworkHints } from './hints.js';
import { nonBlockingHint } from './nonblocking.js';
import { altRowsFor, kindCosts, role, roleFamily } from './roles.js';
import { bufferVerdict, constVerdict, dynamicVerdict, shared, systemDefault, verdictScratch, verdictsObject, withSystemDefault } from './verdicts.js';

function analyzeSocket(s: RawSocket, ctx: Ctx): ReportSocket {
  const { role: r, listener } = role(s, ctx.listenersByPort.get(s.local.port));
  const { group } = mappings().kinds[r];
  const family: 4 | 6 = s.protocol.endsWith('6') ? 6 : 4;
  const fresh = freshFor(ctx, s.protocol);
  const api = mappings().java;
  const cls = api.classes[group];
  const hints: string[] = [];
  const unknown: string[] = [];
  const rows = api.options;
  for (let i = 0; i < rows.length; i++) verdictScratch[i] = undefined;

  // Which JDK class explains the socket with the fewest application calls: kinds in the order a stable sort by cost puts them.
  const rf = roleFamily(ctx, r, family);
  const kinds = rf.kinds;
  const n = kinds.length;
  const costs: number[] = [];
  kindCosts(s, rf, fresh, costs);
  const ranked: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = costs[i]!;
    let j = ranked.length;
    while (j > 0 && costs[ranked[j - 1]!]! > c) j--;
    ranked.splice(j, 0, i);
  }
  const bi = ranked[0]!;
  const best = kinds[bi]!;
  let tieMask = 0;
  for (let i = 0; i < n; i++) if (costs[i] === costs[bi]) tieMask |= 1 << i;
  let apis = rf.apis[tieMask];
  if (!apis) {
    const ties = ranked.filter((i) => costs[i] === costs[bi]).map((i) => kinds[i]!);
    apis = rf.apis[tieMask] = [...new Set([...ties.map((k) => k.api), ...kinds.map((k) => k.api)])];
  }
  const isMulticast = best.kind === 'MulticastSocket';
  const mainApi = r === 'udp' ? best.api : cls.classic;
  // Other classes that could have made the same socket with other calls: say so rather than pick silently.
  for (let k = 1; k < n; k++) {
    const ai = ranked[k]!;
    const alt = kinds[ai]!;
    if (!alt.row || !Number.isFinite(costs[ai]) || alt.api === best.api) continue;
    const candidates = altRowsFor(rf, bi, ai, fresh);
    if (!candidates.length) continue;
    const diff = candidates.filter((row) => s.options[row.option]?.value != null && same(s.options[row.option]!.value!, expectedValue(best.row, row.option, fresh)));
    if (!diff.length) continue;
    const altCalls = diff.map((row) => makeCall(row, group, alt.api, cls.nio, s.options[row.option]!.value!, 'application', alt.kind === 'MulticastSocket')?.call ?? `${row.option}=${show(s.options[row.option]!.value!)}`);
    hints.push(`or a ${alt.api} on which the application called ${altCalls.join(', ')}: both leave this socket as it is`);
  }

  const java: JavaCall[] = [];
  const tos = Number(s.options.IP_TOS?.value ?? 0);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const reading = s.options[row.option];
    if (!reading) continue;
    if (reading.value === null) { unknown.push(row.option); continue; }
    const v = reading.value;
    if (row.dynamic) { verdictScratch[i] = dynamicVerdict(ctx, row); continue; }
    const sd = systemDefault(ctx, row.option, s, v);

    if (row.option === 'backlog') {
      const n = Number(v);
      const jdkDefault = best.row?.backlog ?? 50;
      const origin = n === jdkDefault ? 'jdk-default' : 'application';
      verdictScratch[i] = constVerdict(ctx, `backlog|${origin}|${sd ?? ''}`, () => ({ origin, systemDefault: sd }));
      const c = makeCall(row, 'server', cls.classic, cls.nio, v, origin, false);
      if (c) {
        if (origin === 'jdk-default') { c.call = 'new ServerSocket(port) / bind(addr)'; c.nio = `${cls.nio}.bind(addr)`; c.note = `no backlog given (or 0): the JDK asks listen() for ${jdkDefault}`; }
        java.push(c);
      }
      continue;
    }

    // Accepted sockets: a value equal to the listener's came with accept().
    if (r === 'accepted' && listener && ctx.inherited.has(row.option)) {
      const lv = listener.options[row.option]?.value;
      if (lv !== undefined && lv !== null && same(v, lv) && !same(lv, fresh[row.option])) {
        const lrow = cachedJdkRow(ctx, 'ServerSocket', family);
        const ljdk = lrow?.options?.[row.option];
        const viaJdk = ljdk !== undefined && same(ljdk as OptionValue, lv);
        const inherited: OptionVerdict = { origin: viaJdk ? 'jdk-default' : 'application', systemDefault: sd, note: `inherited from listener fd ${listener.fd} (${formatEndpoint(listener.local.address, listener.local.port)})` };
        verdictScratch[i] = inherited;
        if (viaJdk || (row.option === 'IPV6_V6ONLY' && boundToIPv6(listener))) {
          inherited.origin = viaJdk ? 'jdk-default' : 'kernel-default';
          continue; // the JDK or the kernel set it on the listener: nothing for the application to change
        }
        const target = row.java.server ? 'server' : 'socket';
        const c = makeCall(row, target, target === 'server' ? api.classes.server.classic : cls.classic, target === 'server' ? api.classes.server.nio : cls.nio, v, 'inherited', false);
        const from = { fd: listener.fd, local: listener.local };
        if (c) {
          c.from = from;
          c.note = target === 'server'
            ? `inherited from the listener: the call belongs on the ServerSocket${row.option.startsWith('SO_RCVBUF') ? ' (before bind)' : ''}`
            : `inherited from the listener, where ${row.listener ?? 'no Java API sets it'}`;
          java.push(c);
        } else {
          java.push({ api: 'native', call: `${row.option}=${show(v)}`, origin: 'inherited', options: [row.option], from, note: `inherited from the listener; no Java API${row.native ? ` (${row.native})` : ''}` });
        }
        continue;
      }
    }

    let verdict: OptionVerdict;
    const boundV6 = row.option === 'IPV6_V6ONLY' && v === 1 && boundToIPv6(s, r === 'accepted' ? listener : undefined);
    if (row.option === 'SO_PRIORITY' && tos !== 0 && v === tosToPriority(tos)) {
      verdict = { origin: 'kernel-default', note: `set by the kernel from IP_TOS 0x${tos.toString(16)} (rt_tos2priority), not by a call of its own` };
    } else if (boundV6) {
      verdict = constVerdict(ctx, 'boundV6', () => ({ origin: 'kernel-default', note: 'the kernel sets IPV6_V6ONLY when a socket binds to a specific IPv6 address (not :: or ::ffff:*)' }));
    } else if (row.option === 'SO_RCVBUF' || row.option === 'SO_SNDBUF') {
      verdict = bufferVerdict(row.option, s, Number(v), fresh[row.option] as number | undefined, r, ctx);
    } else {
      const exp = expectedValue(best.row, row.option, fresh);
      if (same(v, exp)) {
        verdict = expectedFromJdk(best.row, row.option, fresh)
          ? constVerdict(ctx, 'jdk-default', () => ({ origin: 'jdk-default' }))
          : constVerdict(ctx, 'kernel-default', () => ({ origin: 'kernel-default' }));
      } else if (exp === undefined) {
        verdict = constVerdict(ctx, 'no-default', () => ({ origin: 'unknown', note: 'no default known for this kind of socket' }));
      } else {
        verdict = constVerdict(ctx, 'application', () => ({ origin: 'application' }));
      }
    }
    if (sd) {
      // A shared verdict gets its systemDefault on a shared copy; one made for this socket alone, on itself.
      if (ctx.sharedVerdicts.has(verdict)) verdict = withSystemDefault(ctx, verdict, sd);
      else verdict.systemDefault = sd;
    }
    verdictScratch[i] = verdict;

    if (verdict.origin === 'application' || verdict.origin === 'jdk-default') {
      const origin = verdict.origin;
      const c = makeCall(row, group, mainApi, cls.nio, v, origin, isMulticast);
      if (c) {
        if (origin === 'jdk-default') c.note = `the JDK sets this on every new ${best.kind}${best.row ? ` (${best.row.source})` : ''}`;
        else if (verdict.note) { c.note = verdict.note; c.confidence = verdict.confidence; }
        if (r === 'listening' && !row.java.server && row.listener) c.note = `${row.listener}`;
        java.push(c);
      } else if (origin === 'application') {
        const note = r === 'listening' && row.listener ? row.listener : `no Java API: ${row.native ?? 'set by native code'}`;
        java.push({ api: 'native', call: `${row.option}=${show(v)}`, origin, options: [row.option], note });
      }
    }
  }

  frameworkHints(s, r, ctx.sysctl, hints);
  // The hint points to --observe: not where the observation saw this socket's reads.
  if (s.nonBlocking && !(s.observed && s.observed.reads > 0)) {
    const h = nonBlockingHint(s, r, apis, ctx.capture.process.jvm);
    if (h) hints.push(h);
  }
  const verdicts = verdictsObject(rows);
  // Whole reports: the verdicts made for this socket alone join their equals too (those above are shared already).
  if (ctx.verdictCache) {
    for (const k in verdicts) if (!ctx.sharedVerdicts.has(verdicts[k]!)) verdicts[k] = shared(ctx.verdictCache, verdicts[k]!);
  }
  // The RawSocket's fields in its own order, then the analysis: what {...s, role, ...} makes, without
  // the spread (V8 builds a spread-then-extended literal on a slow path that tenures every copy).
  const out = Object.assign({}, s) as ReportSocket;
  out.role = r;
  out.apis = apis;
  out.java = merge(java);
  out.verdicts = verdicts;
  out.unobservable = mappings().unobservable[r];
  out.hints = hints;
  out.unknown = unknown;
  out.listener = listener ? { fd: listener.fd, inode: listener.inode, local: listener.local } : undefined;
  return out;
}

/**
 * The report's sockets one at a time, for renderers that stream (JSON): each
 * ReportSocket can be dropped once written, so a 50,000-socket report is not
 * held in memory next to its capture. Same sockets, same order as analyze().
 */
export function* analyzeSockets(capture: Capture): Generator<ReportSocket> {
  const ctx = context(capture);
  for (const s of capture.sockets) yield analyzeSocket(s, ctx);
}

/** Which JDK defaults table applies to the capture, and why. */
function defaultsOf(capture: Capture): Report['defaults'] {
  const jvm = capture.process.jvm;
  const verified = [...new Set(mappings().jdk.map((r) => r.jdk))].join(', ') || 'none';
  let note: string | undefined;
  if (capture.jdkDefaults) note = `JDK defaults measured from the target's own JDK: ${capture.jdkDefaults.source}`;
  else if (!jvm) note = 'not a JVM: Java calls are what a JVM would have needed';
  else if (jvm.feature === undefined) note = `JDK version unknown: defaults as verified on JDK ${verified}`;
  else if (!mappings().jdk.some((r) => covers(r.jdk, jvm.feature))) note = `target runs JDK ${jvm.version}; defaults verified on JDK ${verified} only: origins may be off (--probe-jdk measures them from the target's JDK)`;
  return { jdk: jvm?.version ?? 'unknown', note };
}

/** The whole report: sockets analysed at once, equal verdicts shared between them. */
export function analyze(capture: Capture): Report {
  const ctx = context(capture);
  ctx.verdictCache = new Map();
  return {
    ...capture,
    sockets: capture.sockets.map((s) => analyzeSocket(s, ctx)),
    defaults: defaultsOf(capture),
  };
}

/** The report with its sockets analysed as they are read (analyzeSockets): for renderers that stream. */
export function analyzeStream(capture: Capture): ReportStream {
  return { ...capture, sockets: analyzeSockets(capture), defaults: defaultsOf(capture) };
}
