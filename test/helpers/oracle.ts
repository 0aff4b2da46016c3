// The truth harness (issue 13): runs samples/java/TruthLab.java with a seed
// under strace, runs the tool on it, and checks every claim of the report
// against independent oracles:
//   (a) the fixture's own record of what it called (class, method, arguments, role),
//   (b) strace: which setsockopt(2) each recorded call made (TruthLab brackets every
//       call with marker setsockopts on an AF_UNIX channel), the rest being the JDK's,
//   (c) Java's own getOption/getter values against the report's option values,
//   (d) javac: every Java call string the report prints must compile on the class it names
//       (see javacOracle below; JDK 17 and 25).
// Each discrepancy gets a category and the issue-13 item it belongs to.
//
// One module on purpose (~800 lines): the oracles share one join of record, trace
// and report per socket, and the classification reads all three at once;
// splitting it would spread one definition of "the truth" over several files.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI } from './cli.js';
import { CLASSES, compileSamples, WORK } from './jvm.js';
import { parseCalls, parseStraceText, TRACED, type StraceSetsockopt, type StraceSocket } from './strace.js';

export const JDK25_HOME = '/usr/lib/jvm/temurin-25-jdk-amd64';
export const TRUTH_DIR = join(WORK, 'truth');

export interface Jdk {
  /** "17", "25": a short name for messages and file names. */
  name: string;
  java: string;
  javac: string;
}

/** The JDKs installed here: the java on PATH (Debian's 17) and Temurin 25 where present. */
export function installedJdks(): Jdk[] {
  const out: Jdk[] = [];
  const onPath = spawnSync('java', ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  const m = /java\.specification\.version = (\d+)/.exec(onPath.stderr ?? '');
  if (m) out.push({ name: m[1]!, java: 'java', javac: 'javac' });
  if (existsSync(join(JDK25_HOME, 'bin', 'java'))) out.push({ name: '25', java: join(JDK25_HOME, 'bin', 'java'), javac: join(JDK25_HOME, 'bin', 'javac') });
  return out;
}

/** How -Djava.net.preferIPv4Stack=true reaches the JVM (issue 13 item 4), or not at all (dual). */
export type Variant = 'dual' | 'argv' | 'JAVA_TOOL_OPTIONS' | 'JDK_JAVA_OPTIONS' | '_JAVA_OPTIONS' | 'argfile';
export const VARIANTS: Variant[] = ['dual', 'argv', 'JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'argfile'];

const OPENS = ['java.io', 'java.net', 'sun.nio.ch'].flatMap((p) => ['--add-opens', `java.base/${p}=ALL-UNNAMED`]);
const V4 = '-Djava.net.preferIPv4Stack=true';

// ------------------------------------------------------------------ the fixture's record

export interface RecCall {
  seq: number;
  on: string;
  via?: string;
  method: string;
  args: string[];
  java: string;
  phase: string;
  marked: boolean;
  ok: boolean;
  error?: string;
}

export interface RecEndpoint { address: string; port: number }

export interface RecSocket {
  id: string;
  fd: number;
  fdError?: string;
  class: string;
  opened: string;
  family: string | null;
  role: 'listening' | 'connected' | 'accepted' | 'unconnected' | 'udp';
  listener?: string;
  listenerClosed?: boolean;
  reusePortGroup?: string;
  boundTo?: string;
  closed: boolean;
  localAtClose?: RecEndpoint | null;
  local?: RecEndpoint | null;
  remote?: RecEndpoint | null;
  blocking?: boolean;
  soTimeout?: number;
  sent?: number;
  received?: number;
  supported?: string[];
  options?: Record<string, boolean | number | string | null>;
  getters?: Record<string, boolean | number | string | null>;
  calls: RecCall[];
}

export interface LabRecord {
  seed: number;
  pid: number;
  java: { version: string; feature: number; vendor: string; home: string };
  preferIPv4Stack: boolean;
  ipv6: boolean;
  inputArguments: string[];
  env: { [k: string]: string };
  sysctl: { [k: string]: number };
  marker: { fd: number; begin: string; end: string; base: number };
  sockets: RecSocket[];
}

export interface LabRun {
  seed: number;
  jdk: Jdk;
  variant: Variant;
  pid: number;
  record: LabRecord;
  traceFile: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts TruthLab under strace -f with one seed, JDK and launch variant; resolves once its record is written. */
export async function startTruthLab(seed: number, jdk: Jdk, variant: Variant): Promise<LabRun> {
  compileSamples();
  mkdirSync(TRUTH_DIR, { recursive: true });
  const tag = `${seed}-jdk${jdk.name}-${variant}-${process.pid}`;
  const recordFile = join(TRUTH_DIR, `record-${tag}.json`);
  const traceFile = join(TRUTH_DIR, `strace-${tag}.txt`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS']) delete env[k];
  const pre: string[] = [];
  if (variant === 'argv') pre.push(V4);
  else if (variant === 'argfile') {
    const f = join(TRUTH_DIR, `args-${tag}`);
    writeFileSync(f, `${V4}\n`);
    pre.push(`@${f}`);
  } else if (variant !== 'dual') env[variant] = V4;
  const javaArgs = ['-Xshare:auto', '-XX:+UseSerialGC', '-Xmx64m', ...pre, ...OPENS, '-cp', CLASSES, 'TruthLab', '--seed', String(seed), '--record', recordFile];
  const proc = spawn('strace', ['-f', '-qq', '-e', `trace=${TRACED.join(',')}`, '-o', traceFile, jdk.java, ...javaArgs], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += String(d); });
  const ready = await new Promise<{ pid: number }>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`TruthLab seed ${seed} (JDK ${jdk.name}, ${variant}) not READY within 90 s: ${stderr}`)), 90_000);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.startsWith('READY ')) { clearTimeout(t); res(JSON.parse(l.slice(6))); }
    });
    proc.on('exit', (c) => { clearTimeout(t); rej(new Error(`TruthLab seed ${seed} exited with ${c} before READY: ${stderr}`)); });
  }).catch((e: Error) => {
    // No JVM outlives a failed start: strace's child is the JVM.
    killChildren(proc.pid!);
    proc.kill('SIGKILL');
    throw e;
  });
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as LabRecord;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((res) => proc.once('exit', () => res()));
    proc.stdin!.end();
    const t = setTimeout(() => { try { process.kill(ready.pid, 'SIGKILL'); } catch { /* gone */ } proc.kill('SIGKILL'); }, 5000);
    await exited;
    clearTimeout(t);
  };
  return { seed, jdk, variant, pid: ready.pid, record, traceFile, proc, stop };
}

/** Kills the JVM strace started (by its pid, read from /proc: a killed strace would detach it, not end it). */
function killChildren(pid: number): void {
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(c), 'SIGKILL'); } catch { /* gone */ }
    }
  } catch { /* strace gone */ }
}

// ------------------------------------------------------------------ the tool

export interface ToolRun {
  /** "pidfd", "auto", "pidfd --probe-jdk" ... */
  label: string;
  args: string[];
  report: any;
  knetstat?: string;
}

export function runTool(pid: number, args: string[], label = args.join(' ') || 'auto'): ToolRun {
  const r = spawnSync(process.execPath, [CLI, String(pid), '-f', 'json', '-q', ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 180_000, maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.status !== 3) throw new Error(`knetstat-java ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const k = spawnSync(process.execPath, [CLI, String(pid), '-f', 'knetstat', '-q', ...args.filter((a) => a !== '--probe-jdk')], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 180_000 });
  return { label, args, report: JSON.parse(r.stdout), knetstat: k.status === 0 || k.status === 3 ? k.stdout : undefined };
}

// ------------------------------------------------------------------ fresh kernel defaults (python, not the tool)

const PY_DEFAULTS = `
import socket, struct, json
opts = {"SO_REUSEADDR":(1,2),"SO_REUSEPORT":(1,15),"SO_KEEPALIVE":(1,9),"SO_RCVBUF":(1,8),"SO_SNDBUF":(1,7),"SO_OOBINLINE":(1,10),
 "SO_BROADCAST":(1,6),"SO_PRIORITY":(1,12),"IP_TOS":(0,1),"IPV6_TCLASS":(41,67),"IPV6_V6ONLY":(41,26),"TCP_NODELAY":(6,1),"TCP_KEEPIDLE":(6,4),
 "TCP_KEEPINTVL":(6,5),"TCP_KEEPCNT":(6,6),"IP_MULTICAST_TTL":(0,33),"IPV6_MULTICAST_HOPS":(41,18),"IP_MULTICAST_LOOP":(0,34),
 "IPV6_MULTICAST_LOOP":(41,19),"IP_MULTICAST_ALL":(0,49),"IPV6_MULTICAST_ALL":(41,29)}
out = {}
for name, fam, typ in (("tcp",2,1),("tcp6",10,1),("udp",2,2),("udp6",10,2)):
    s = socket.socket(fam, typ); d = {}
    for o,(lvl,n) in opts.items():
        try: d[o] = s.getsockopt(lvl, n)
        except OSError: pass
    l = struct.unpack("ii", s.getsockopt(1, 13, 8)); d["SO_LINGER"] = {"enabled": l[0] != 0, "seconds": l[1]}
    out[name] = d; s.close()
print(json.dumps(out))
`;
let freshCache: { [proto: string]: { [opt: string]: unknown } } | undefined;
export function freshDefaults(): { [proto: string]: { [opt: string]: unknown } } {
  return (freshCache ??= JSON.parse(execFileSync('python3', ['-c', PY_DEFAULTS], { encoding: 'utf8' })));
}

// ------------------------------------------------------------------ strace: who made each setsockopt

/** Kernel options a Java call can set (the oracle's own table: javadoc and the JDK's sources, not mappings/). */
const EFFECTS: { [k: string]: string[] } = {
  setTcpNoDelay: ['TCP_NODELAY'], TCP_NODELAY: ['TCP_NODELAY'],
  setKeepAlive: ['SO_KEEPALIVE'], SO_KEEPALIVE: ['SO_KEEPALIVE'],
  setSoLinger: ['SO_LINGER'], SO_LINGER: ['SO_LINGER'],
  setReuseAddress: ['SO_REUSEADDR'], SO_REUSEADDR: ['SO_REUSEADDR'], SO_REUSEPORT: ['SO_REUSEPORT'],
  setReceiveBufferSize: ['SO_RCVBUF'], SO_RCVBUF: ['SO_RCVBUF'], setSendBufferSize: ['SO_SNDBUF'], SO_SNDBUF: ['SO_SNDBUF'],
  setTrafficClass: ['IP_TOS', 'IPV6_TCLASS'], IP_TOS: ['IP_TOS', 'IPV6_TCLASS'],
  setOOBInline: ['SO_OOBINLINE'], SO_OOBINLINE: ['SO_OOBINLINE'],
  setBroadcast: ['SO_BROADCAST'], SO_BROADCAST: ['SO_BROADCAST'],
  setTimeToLive: ['IP_MULTICAST_TTL', 'IPV6_MULTICAST_HOPS'], IP_MULTICAST_TTL: ['IP_MULTICAST_TTL', 'IPV6_MULTICAST_HOPS'],
  setLoopbackMode: ['IP_MULTICAST_LOOP', 'IPV6_MULTICAST_LOOP'], IP_MULTICAST_LOOP: ['IP_MULTICAST_LOOP', 'IPV6_MULTICAST_LOOP'],
  TCP_KEEPIDLE: ['TCP_KEEPIDLE'], TCP_KEEPINTERVAL: ['TCP_KEEPINTVL'], TCP_KEEPCOUNT: ['TCP_KEEPCNT'], TCP_QUICKACK: ['TCP_QUICKACK'],
  IP_DONTFRAGMENT: ['IP_MTU_DISCOVER', 'IPV6_MTU_DISCOVER', 'IPV6_DONTFRAG'],
  setSoTimeout: [], setPerformancePreferences: [],
};

export function effectsOf(c: RecCall): string[] | undefined {
  if (c.method === 'setOption') return EFFECTS[(c.args[0] ?? '').replace(/^\w+\./, '')];
  return EFFECTS[c.method];
}

/** A setsockopt on an inspected socket, attributed. */
export interface Write {
  name: string;
  value: unknown;
  line: number;
  by: 'app' | 'jdk';
  /** The recorded call (app), or the call during which the JDK made it (jdk inside a bracket). */
  seq?: number;
  call?: RecCall;
}

export interface Joined {
  rec: RecSocket;
  trace?: StraceSocket;
  /** The report's socket (by fd, checked against ports). */
  rep?: any;
  writes: Write[];
  listener?: Joined;
  /** strace line of the accept() that made it. */
  acceptLine?: number;
}

export interface Sanity { problems: string[] }

/** Joins record, trace and report; attributes every setsockopt of every recorded socket. */
export function join3(run: LabRun, report: any, sanity: Sanity): Joined[] {
  const text = readFileSync(run.traceFile, 'utf8');
  const all = parseStraceText(text);
  const calls = parseCalls(text);
  const { marker } = run.record;
  // Brackets per thread: seq -> [begin line, end line].
  const brackets = new Map<number, { tid: number; from: number; to: number }>();
  for (const c of calls) {
    if (c.name !== 'setsockopt' || Number(c.args[0]) !== marker.fd) continue;
    const v = /^\[(\d+)\]$/.exec(c.args[3] ?? '');
    if (!v) continue;
    const seq = Number(v[1]) - marker.base;
    if (c.args[2] === marker.begin) brackets.set(seq, { tid: c.tid, from: c.line, to: Infinity });
    else if (c.args[2] === marker.end) { const b = brackets.get(seq); if (b) b.to = c.line; }
  }
  const bySeq = new Map<number, { rec: RecSocket; call: RecCall }>();
  for (const r of run.record.sockets) for (const c of r.calls) bySeq.set(c.seq, { rec: r, call: c });
  const bracketOf = (o: StraceSetsockopt): number | undefined => {
    for (const [seq, b] of brackets) if (b.tid === o.tid && o.line! > b.from && o.line! < b.to) return seq;
    return undefined;
  };
  const inet = all.filter((s) => s.family === 'AF_INET' || s.family === 'AF_INET6');
  const reportByFd = new Map<number, any>((report.sockets as any[]).map((s) => [s.fd, s]));
  const joined = new Map<string, Joined>();
  for (const rec of run.record.sockets) {
    const j: Joined = { rec, writes: [] };
    joined.set(rec.id, j);
    if (rec.fd < 0) {
      // java.net sockets create their fd lazily: new ServerSocket() with only setSoTimeout never makes one.
      const madeOne = rec.calls.some((c) => c.ok && (c.method === 'bind' || c.method === 'connect' || (effectsOf(c) ?? []).length > 0));
      if (!rec.closed && madeOne) sanity.problems.push(`${rec.id} (${rec.class}) has no fd: ${rec.fdError ?? 'never created'}`);
      continue;
    }
    const port = (rec.closed ? rec.localAtClose : rec.local)?.port;
    const cands = inet.filter((s) => (s.fd === rec.fd || s.aliases.includes(rec.fd)) && (rec.closed ? !!s.closed : !s.closed));
    const t = cands.length === 1 ? cands[0] : cands.find((s) => s.local?.port === port) ?? cands.at(-1);
    if (!t) { sanity.problems.push(`${rec.id}: strace shows no ${rec.closed ? 'closed' : 'open'} socket with fd ${rec.fd}`); continue; }
    if (port && t.local?.port && t.local.port !== port) sanity.problems.push(`${rec.id}: fd ${rec.fd} has port ${t.local.port} in strace, ${port} in the record`);
    j.trace = t;
    if (t.origin === 'accept') j.acceptLine = t.line;
    if (!rec.closed) {
      const rep = reportByFd.get(rec.fd);
      if (!rep) sanity.problems.push(`${rec.id}: the report has no socket with fd ${rec.fd}`);
      else if (rec.local?.port && rep.local.port !== rec.local.port) sanity.problems.push(`${rec.id}: report fd ${rec.fd} has local port ${rep.local.port}, the record ${rec.local.port}`);
      else if (rec.remote?.port && rep.remote.port !== rec.remote.port) sanity.problems.push(`${rec.id}: report fd ${rec.fd} has remote port ${rep.remote.port}, the record ${rec.remote.port}`);
      else j.rep = rep;
      try {
        const link = readlinkSync(`/proc/${run.pid}/fd/${rec.fd}`);
        if (rep && link !== `socket:[${rep.inode}]`) sanity.problems.push(`${rec.id}: /proc fd ${rec.fd} is ${link}, the report says inode ${rep.inode}`);
      } catch { sanity.problems.push(`${rec.id}: /proc/${run.pid}/fd/${rec.fd} is gone`); }
    }
    for (const o of t.setsockopts) {
      if (o.result !== 0) continue;
      const seq = bracketOf(o);
      const owner = seq === undefined ? undefined : bySeq.get(seq);
      const app = owner && owner.rec === rec && owner.call.ok && (effectsOf(owner.call) ?? []).includes(o.name);
      j.writes.push({ name: o.name, value: o.value, line: o.line!, by: app ? 'app' : 'jdk', seq, call: owner?.call });
    }
    // A lazily created socket gets the JDK's own writes inside the first call's bracket
    // (new ServerSocket() then setReuseAddress(false): SO_REUSEADDR=1, then 0): per bracket
    // and option, only the last write is the call's.
    for (let i = 0; i < j.writes.length; i++) {
      const w = j.writes[i]!;
      if (w.by === 'app' && j.writes.some((x, k) => k > i && x.seq === w.seq && x.name === w.name)) w.by = 'jdk';
    }
  }
  // Every successful recorded setter with a kernel effect made at least one setsockopt on its socket.
  for (const j of joined.values()) {
    if (!j.trace) continue;
    for (const c of j.rec.calls) {
      const eff = effectsOf(c);
      if (!c.ok || !c.marked || !eff?.length) continue;
      if (!j.writes.some((w) => w.seq === c.seq && w.by === 'app')) sanity.problems.push(`${j.rec.id}: ${c.java} made no setsockopt of ${eff.join('/')} in strace`);
    }
  }
  for (const j of joined.values()) {
    if (j.rec.listener) {
      j.listener = joined.get(j.rec.listener);
      const li = j.trace?.listener;
      if (j.trace && li !== undefined && j.listener?.trace && all[li] !== j.listener.trace) sanity.problems.push(`${j.rec.id}: accepted from another listener in strace than the record says`);
    }
  }
  return [...joined.values()];
}

// ------------------------------------------------------------------ truth per option

/** Who made the value an option has now. */
export interface Truth {
  by: 'app' | 'jdk' | 'inherited-app' | 'inherited-jdk' | 'none';
  value?: unknown;
  call?: RecCall;
  /** The listener it came from. */
  from?: Joined;
  /** Without the application's calls the option would read this (JDK's or kernel's value). */
  counterfactual?: unknown;
}

const sameValue = (a: unknown, b: unknown) => {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const x = a as { enabled: boolean; seconds: number }, y = b as { enabled: boolean; seconds: number };
    return x.enabled === y.enabled && (!x.enabled || x.seconds === y.seconds);
  }
  return a === b;
};

const lastWrite = (ws: Write[], name: string, by?: 'app' | 'jdk', before = Infinity, after = -1) =>
  ws.filter((w) => w.name === name && (!by || w.by === by) && w.line < before && w.line > after).at(-1);

export function truthOf(j: Joined, name: string): Truth {
  const proto = j.rep?.protocol ?? 'tcp';
  const kernel = freshDefaults()[proto]?.[name];
  const own = lastWrite(j.writes, name, undefined, Infinity, j.acceptLine ?? -1);
  const ownJdk = lastWrite(j.writes, name, 'jdk', Infinity, j.acceptLine ?? -1);
  if (j.rec.role === 'accepted' && j.listener && j.acceptLine !== undefined) {
    const lw = lastWrite(j.listener.writes, name, undefined, j.acceptLine);
    const ljdk = lastWrite(j.listener.writes, name, 'jdk', j.acceptLine);
    const base = ljdk ? ljdk.value : kernel;
    if (own) return own.by === 'app' ? { by: 'app', value: own.value, call: own.call, counterfactual: ownJdk?.value ?? (lw ? lw.value : kernel) } : { by: 'jdk', value: own.value };
    if (lw) return lw.by === 'app' ? { by: 'inherited-app', value: lw.value, call: lw.call, from: j.listener, counterfactual: base } : { by: 'inherited-jdk', value: lw.value, from: j.listener };
    return { by: 'none', counterfactual: kernel };
  }
  if (own) return own.by === 'app' ? { by: 'app', value: own.value, call: own.call, counterfactual: ownJdk && ownJdk.line < own.line ? ownJdk.value : kernel } : { by: 'jdk', value: own.value };
  return { by: 'none', counterfactual: kernel };
}

// ------------------------------------------------------------------ discrepancies

export type Category =
  | 'phantom-application-call' | 'missing-application-call' | 'wrong-class' | 'non-compiling-call' | 'wrong-role'
  | 'wrong-origin' | 'wrong-confidence' | 'wrong-value' | 'knetstat-row';

export interface Discrepancy {
  seed: number;
  jdk: string;
  variant: Variant;
  tool: string;
  category: Category;
  /** issue 13 item 1-11, 0 when none fits. */
  item: number;
  socket?: { id: string; fd: number; class: string; role: string; opened: string; reportRole?: string };
  option?: string;
  claim?: string;
  truth?: string;
  detail: string;
}

/** Buffer options: the kernel doubles, locks on set, and autotunes when unlocked. */
const BUFFERS = new Set(['SO_RCVBUF', 'SO_SNDBUF']);
/** Options whose value moves by itself: no claim can be checked against a call. */
const DYNAMIC = new Set(['TCP_QUICKACK', 'TCP_MAXSEG']);
/** Options the kernel derives from another (SO_PRIORITY from IP_TOS), or sets on bind (IPV6_V6ONLY). */
const DERIVED = new Set(['SO_PRIORITY']);

const ROLE_EXPECTED: { [k: string]: string } = { listening: 'listening', connected: 'connected', accepted: 'accepted', unconnected: 'unconnected', udp: 'udp' };

function classOfNio(nio: string | undefined): string | undefined {
  return nio ? /^((?:[a-z]\w*\.)+[A-Z]\w*)\./.exec(nio)?.[1] : undefined;
}

function fmt(v: unknown): string {
  return typeof v === 'object' && v ? JSON.stringify(v) : String(v);
}

export interface CheckInput {
  run: LabRun;
  tool: ToolRun;
  joined: Joined[];
  /** javac results by "class\u0000call" -> errors per JDK (empty: compiles). */
  javac: Map<string, { [jdk: string]: string | null }>;
}

/** All claims of one report against the oracles. */
export function check({ run, tool, joined, javac }: CheckInput): Discrepancy[] {
  const out: Discrepancy[] = [];
  const report = tool.report;
  const props: { [k: string]: string } = report.process?.jvm?.properties ?? {};
  const v4Seen = props['java.net.preferIPv4Stack'] === 'true';
  const v4Hidden = run.record.preferIPv4Stack && !v4Seen;
  const add = (j: Joined | undefined, d: Omit<Discrepancy, 'seed' | 'jdk' | 'variant' | 'tool' | 'socket' | 'item'> & { item?: number }) => {
    const r = j?.rec;
    const disc: Discrepancy = {
      seed: run.seed, jdk: run.jdk.name, variant: run.variant, tool: tool.label, item: 0, ...d,
      socket: r ? { id: r.id, fd: r.fd, class: r.class, role: r.role, opened: r.opened, reportRole: j?.rep?.role } : undefined,
    };
    disc.item = d.item ?? itemFor(disc, j, v4Hidden);
    out.push(disc);
  };

  for (const j of joined) {
    const rep = j.rep;
    if (!rep) continue;
    const rec = j.rec;
    // Role, and the listener an accepted socket came from.
    const wantRole = ROLE_EXPECTED[rec.role]!;
    if (rep.role !== wantRole) {
      add(j, { category: 'wrong-role', claim: rep.role, truth: wantRole, detail: `${rec.opened}${rec.boundTo ? ` bound with SO_REUSEPORT to the port of ${rec.boundTo}` : ''}${rec.listenerClosed ? ' (its listener was closed)' : ''} is reported ${rep.role}` });
    } else if (rec.role === 'accepted' && j.listener && !rec.listenerClosed && rep.listener && rep.listener.fd !== j.listener.rec.fd
      // listenerCandidates: the report says several listeners explain the socket equally (a stated tie).
      && !(rep.listenerCandidates ?? []).some((c: any) => c.fd === j.listener!.rec.fd)) {
      add(j, { category: 'wrong-role', claim: `accepted from fd ${rep.listener.fd}`, truth: `accepted from fd ${j.listener.rec.fd} (${j.listener.rec.id})`, detail: 'attributed to the wrong listener of a SO_REUSEPORT group' });
    }
    // The class: it must be among the classes named for the socket.
    const apis: string[] = rep.apis ?? [];
    const ties = tiesOf(rep);
    if (!apis.includes(rec.class)) add(j, { category: 'wrong-class', claim: apis.join(' | '), truth: rec.class, detail: `${rec.class} is never named for this socket` });

    // Calls the report prints.
    const claimed = new Set<string>();
    for (const c of rep.java as any[]) {
      for (const opt of c.options as string[]) {
        if (opt === 'backlog') continue;
        claimed.add(opt);
        const t = truthOf(j, opt);
        const value = rep.options[opt]?.value;
        const who = t.by === 'none' ? 'nobody set it' : `${t.by}${t.call ? `: ${t.call.java}` : ''}`;
        if (c.origin === 'application' || c.origin === 'inherited') {
          // A call with alternatives is a stated tie ("this call, or that one: the kernel's state is the same"): right when one of them is.
          const alts: any[] = c.alternatives ?? [];
          if ([c, ...alts].some((x: any) => claimProblem(j, { ...x, options: c.options }, opt, ties) === undefined)) continue;
          const first = claimProblem(j, c, opt, ties)!;
          add(j, alts.length ? { ...first, claim: `${first.claim} (or ${alts.map((a) => `${a.api}.${a.call} [${a.origin}]`).join(', or ')})` } : first);
        } else if (c.origin === 'jdk-default') {
          // The class the JDK default is named on: the socket's, its adaptor's, or a true tie; else the hint must name the real class.
          const named = c.api === rec.class || classOfNio(c.nio) === rec.class || (ties.includes(rec.class) && ties.includes(c.api));
          if (!named && !hintedCall(rep, rec.class, opt) && !hintedClass(rep, rec.class)) {
            add(j, { category: 'wrong-class', option: opt, claim: `${c.api}.${c.call} [jdk-default]`, truth: rec.class, detail: `the JDK default is named on ${c.api}; the code used ${rec.class}` });
          }
          const ok = t.by === 'jdk' || t.by === 'inherited-jdk' || (t.by === 'app' || t.by === 'inherited-app') && sameValue(t.value, t.counterfactual) || (t.by === 'none' && sameValue(value, t.counterfactual))
            // "or a <the class the code used> on which the application called <it>": the ambiguity is named.
            || hintedCall(rep, rec.class, opt)
            // The JDK's, or (a stated alternative) the code's: right when the alternative is.
            || (c.alternatives ?? []).some((a: any) => claimProblem(j, { ...a, options: c.options }, opt, ties) === undefined);
          if (!ok) add(j, { category: 'wrong-origin', option: opt, claim: `${c.api}.${c.call} [jdk-default]`, truth: who, detail: `${opt}=${fmt(value)} claimed a JDK default; ${who}` });
        }
      }
    }
    // A hint naming the class the code used: its calls must be ones the code made.
    for (const h of rep.hints ?? []) {
      const m = /or an? ((?:[a-z]\w*\.)+[A-Z]\w*) on which the application called (.*?): both leave/.exec(h);
      if (!m || m[1] !== rec.class) continue;
      for (const call of splitCalls(m[2]!)) {
        const opts = optionsOfCall(call).filter((o) => rep.options[o]);
        if (!opts.length) continue;
        const t = truthOf(j, opts[0]!);
        if (t.by !== 'app' && t.by !== 'inherited-app') {
          add(j, { category: 'phantom-application-call', option: opts[0], claim: `hint: ${rec.class}.${call}`, truth: t.by === 'none' ? 'nobody set it' : t.by, detail: `the hint names the class the code used with a call it never made` });
        }
      }
    }
    // Verdicts and calls the report should have made.
    for (const [opt, v] of Object.entries<any>(rep.verdicts ?? {})) {
      if (opt === 'backlog' || DYNAMIC.has(opt) || DERIVED.has(opt)) continue;
      const t = truthOf(j, opt);
      const value = rep.options[opt]?.value;
      if (t.by !== 'app' && t.by !== 'inherited-app') {
        // Nobody in the application set it: a buffer verdict "application" without a call is still a claim.
        if (BUFFERS.has(opt) && v.origin === 'application' && !claimed.has(opt)) add(j, { category: 'phantom-application-call', option: opt, claim: `verdict application${v.confidence ? ` (${v.confidence})` : ''}`, truth: t.by === 'none' ? 'nobody set it' : t.by, detail: `${opt}=${fmt(value)}` });
        continue;
      }
      const distinguishable = BUFFERS.has(opt) ? 'lock' : !sameValue(value, t.counterfactual) ? 'value' : 'no';
      if (distinguishable === 'no') continue;
      // A verdict that says it is uncertain ("the kernel cannot tell") is not a missing call where that is true: a buffer
      // on a socket whose source read no lock flag (pidfd, sockdiag), or another option whose value some class the
      // report names as a tie has by default (a never-connected socket: a client's or a never-bound listener's).
      if (v.confidence === 'uncertain' && v.origin !== 'application' && (BUFFERS.has(opt) ? !rep.userLocks : ties.length > 1)) continue;
      if (claimed.has(opt) && v.origin !== 'kernel-default' && v.origin !== 'autotuned') {
        // Claimed: a buffer verdict hedged where the kernel's own state is decisive.
        if (BUFFERS.has(opt) && v.confidence && v.confidence !== 'certain' && decisiveBuffer(j, opt, value)) {
          add(j, { category: 'wrong-confidence', option: opt, claim: `${v.origin} (${v.confidence}): ${v.note ?? ''}`, truth: t.call?.java ?? t.by, detail: decisiveBuffer(j, opt, value)! });
        }
        continue;
      }
      if (claimed.has(opt) && !BUFFERS.has(opt)) continue;
      // Named as the alternative: "or a <the class the code used> on which the application called <this call>".
      if (hintedCall(rep, rec.class, opt)) continue;
      const how = BUFFERS.has(opt) ? bufferEvidence(j, opt, value, t) : `value ${fmt(value)} differs from ${fmt(t.counterfactual)}`;
      add(j, { category: 'missing-application-call', option: opt, claim: `verdict ${v.origin}${v.confidence ? ` (${v.confidence})` : ''}${v.note ? `: ${v.note}` : ''}`, truth: `${t.by}: ${t.call?.java}`, detail: how });
    }
    // (c) Java's getOption vs the report's values.
    for (const [jname, jv] of Object.entries(rec.options ?? {})) {
      const kname = kernelName(jname, rep.protocol);
      if (!kname || DYNAMIC.has(kname) || typeof jv === 'string') continue;
      const reading = rep.options[kname];
      if (!reading || reading.value === null) continue;
      const want = javaToKernel(jname, jv, reading.value);
      if (!sameValue(reading.value, want)) add(j, { category: 'wrong-value', option: kname, claim: fmt(reading.value), truth: `getOption(${jname}) = ${fmt(jv)}`, detail: `the report reads ${kname}=${fmt(reading.value)}, Java reads ${fmt(jv)}` });
    }
  }
  // (d) javac: every printed call compiles on the class it names; one discrepancy per socket and call string.
  for (const j of joined) {
    if (!j.rep) continue;
    const seen = new Set<string>();
    const strings = javaStrings(j.rep);
    const errors = (jc: JavaString) => Object.entries(javac.get(`${jc.cls}\u0000${jc.call}`) ?? {}).filter(([, e]) => e);
    for (const jc of strings) {
      const errs = errors(jc);
      if (!errs.length) continue;
      if (jc.group && strings.some((o) => o.group === jc.group && !errors(o).length)) continue; // compiles on a tied class
      const k = jc.group ?? `${jc.cls}\u0000${jc.call}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const on = jc.group ? strings.filter((o) => o.group === jc.group).map((o) => o.cls).join(' | ') : jc.cls;
      add(j, { category: 'non-compiling-call', item: 1, claim: `${on}.${jc.call}`, option: jc.options?.join(','), truth: errs.map(([jdk, e]) => `javac ${jdk}: ${e}`).join('; '), detail: `in ${jc.where}` });
    }
  }
  // Item 11: the knetstat format lists what /proc/net lists, no more.
  out.push(...knetstatRows(run, tool, joined));
  return out;
}

/** The listener class whose accept() returns each socket class. */
const LISTENER_CLASS: { [k: string]: string } = {
  'java.net.Socket': 'java.net.ServerSocket', 'java.nio.channels.SocketChannel': 'java.nio.channels.ServerSocketChannel',
  'java.nio.channels.AsynchronousSocketChannel': 'java.nio.channels.AsynchronousServerSocketChannel',
};

/** What is wrong with one application/inherited claim (a call or one of its stated alternatives) on one option; undefined when it is right. */
function claimProblem(j: Joined, c: any, opt: string, ties: string[]): Omit<Discrepancy, 'seed' | 'jdk' | 'variant' | 'tool' | 'socket' | 'item'> | undefined {
  const rec = j.rec;
  const t = truthOf(j, opt);
  const value = j.rep.options[opt]?.value;
  const who = t.by === 'none' ? 'nobody set it' : `${t.by}${t.call ? `: ${t.call.java}` : ''}`;
  const inheritedClaim = c.origin === 'inherited';
  const ok = inheritedClaim ? t.by === 'inherited-app' || t.by === 'app' : t.by === 'app';
  if (!ok) return { category: t.by !== 'none' ? 'wrong-origin' : 'phantom-application-call', option: opt, claim: `${c.api}.${c.call} [${c.origin}${c.confidence ? `, ${c.confidence}` : ''}]`, truth: who, detail: `${opt}=${fmt(value)}: ${inheritedClaim ? 'claimed inherited from an application call on the listener' : 'claimed an application call'}; ${who}` };
  if (inheritedClaim && t.from && c.from && c.from.fd !== t.from.rec.fd) return { category: 'wrong-origin', option: opt, claim: `inherited from fd ${c.from.fd}`, truth: `inherited from fd ${t.from.rec.fd} (${t.from.rec.id})`, detail: `${opt} comes from another listener of the group` };
  if (c.api === 'native') return { category: 'wrong-class', option: opt, claim: `${c.call}: ${c.note ?? 'no Java API'}`, truth: t.call?.java ?? '', detail: `the code set ${opt} through Java (${t.call?.on}.${t.call?.method}); the report says no Java API` };
  const owner = t.by === 'inherited-app' ? t.from!.rec : rec;
  const okClasses = new Set([owner.class]);
  if (t.call?.via) okClasses.add(t.call.on);
  // A MulticastSocket is a DatagramSocket: a setter named on DatagramSocket is the code's call, when the report names MulticastSocket as the alternative.
  if (owner.class === 'java.net.MulticastSocket' && t.by !== 'inherited-app' && (hintedClass(j.rep, owner.class) || ties.includes(owner.class))) okClasses.add('java.net.DatagramSocket');
  // A listener closed since has no report of its own: the classes it can be follow from the accepted socket's ties.
  const ownerTies = t.by === 'inherited-app' ? (t.from!.rep ? tiesOf(t.from!.rep) : ties.map((c) => LISTENER_CLASS[c] ?? c)) : ties;
  const tied = ownerTies.includes(owner.class) && ownerTies.includes(c.api) && String(c.call).startsWith('setOption(');
  if (!tied && !okClasses.has(c.api) && !okClasses.has(classOfNio(c.nio) ?? '')) return { category: 'wrong-class', option: opt, claim: `${c.api}.${c.call}${c.nio ? ` / ${c.nio}` : ''}`, truth: `${owner.class}: ${t.call?.java}`, detail: `the call is named on a class the code did not use` };
  return undefined;
}

/** The classes a report names as equally good for a socket: apis less those a hint names as an alternative with other calls. */
function tiesOf(rep: any): string[] {
  const hinted = new Set<string>();
  for (const h of rep.hints ?? []) { const m = /or an? ((?:[a-z]\w*\.)+[A-Z]\w*) on which/.exec(h); if (m) hinted.add(m[1]!); }
  return (rep.apis ?? []).filter((a: string) => !hinted.has(a));
}

/** Kernel options a call string can set: "setBroadcast(false)", "setOption(StandardSocketOptions.IP_TOS, 0x10)". */
function optionsOfCall(call: string): string[] {
  const method = /^(\w+)\((?:\w+\.)?(\w+)?/.exec(call);
  const key = method?.[1] === 'setOption' ? method[2] : method?.[1];
  return key ? EFFECTS[key] ?? [] : [];
}

/** A hint names cls as the alternative with a call that sets opt. */
function hintedCall(rep: any, cls: string, opt: string): boolean {
  for (const h of rep.hints ?? []) {
    const m = /or an? ((?:[a-z]\w*\.)+[A-Z]\w*) on which the application called (.*?): both leave/.exec(h);
    if (!m || m[1] !== cls) continue;
    if (splitCalls(m[2]!).some((call) => optionsOfCall(call).includes(opt))) return true;
  }
  return false;
}

/** Some hint names cls as the alternative. */
function hintedClass(rep: any, cls: string): boolean {
  return (rep.hints ?? []).some((h: string) => h.includes(`or a ${cls} on which`) || h.includes(`or an ${cls} on which`));
}

/** Why the kernel can tell an application-set buffer (or cannot), in words. */
function bufferEvidence(j: Joined, opt: string, value: unknown, t: Truth): string {
  const rep = j.rep;
  const parts = [`${opt}=${fmt(value)} set by ${t.call?.java ?? t.by} (sk_userlocks has the lock)`];
  if (opt === 'SO_SNDBUF' && rep.state === 'ESTABLISHED' && rep.protocol.startsWith('tcp')) parts.push('ESTABLISHED: an unlocked send buffer would have been expanded at connection setup (tcp_sndbuf_expand)');
  else if (!sameValue(value, t.counterfactual)) parts.push(`differs from the default ${fmt(t.counterfactual)}`);
  else parts.push('equal to the default: only the lock flag tells');
  return parts.join('; ');
}

/** The kernel's state alone proves an application size (no lock flag needed), and why; undefined when it does not. */
function decisiveBuffer(j: Joined, opt: string, value: unknown): string | undefined {
  const rep = j.rep;
  if (!rep.protocol.startsWith('tcp') || rep.role === 'listening' || rep.state !== 'ESTABLISHED') return `no autotuning on a ${rep.protocol} ${rep.state} socket: a size other than the default was set`;
  if (opt === 'SO_SNDBUF') return 'ESTABLISHED and not expanded at connection setup: locked by a set call';
  return undefined;
}

/** getOption name -> the kernel option the report reads for it. */
function kernelName(jname: string, protocol: string): string | undefined {
  const v6 = protocol.endsWith('6');
  const m: { [k: string]: string } = {
    SO_RCVBUF: 'SO_RCVBUF', SO_SNDBUF: 'SO_SNDBUF', SO_KEEPALIVE: 'SO_KEEPALIVE', SO_REUSEADDR: 'SO_REUSEADDR', SO_REUSEPORT: 'SO_REUSEPORT',
    TCP_NODELAY: 'TCP_NODELAY', SO_LINGER: 'SO_LINGER', IP_TOS: v6 ? 'IPV6_TCLASS' : 'IP_TOS', SO_BROADCAST: 'SO_BROADCAST', SO_OOBINLINE: 'SO_OOBINLINE',
    IP_MULTICAST_TTL: v6 ? 'IPV6_MULTICAST_HOPS' : 'IP_MULTICAST_TTL', IP_MULTICAST_LOOP: v6 ? 'IPV6_MULTICAST_LOOP' : 'IP_MULTICAST_LOOP',
    TCP_KEEPIDLE: 'TCP_KEEPIDLE', TCP_KEEPINTERVAL: 'TCP_KEEPINTVL', TCP_KEEPCOUNT: 'TCP_KEEPCNT',
  };
  return m[jname];
}

/** Java's value -> the kernel's. The JDK halves SO_SNDBUF/SO_RCVBUF on Linux (net_util_md.c NET_GetSockOpt), so the kernel's is 2x or 2x+1. */
function javaToKernel(jname: string, v: unknown, kernel?: unknown): unknown {
  if (jname === 'SO_RCVBUF' || jname === 'SO_SNDBUF') return Math.floor(Number(kernel) / 2) === v ? kernel : Number(v) * 2;
  if (jname === 'SO_LINGER') return Number(v) < 0 ? { enabled: false, seconds: 0 } : { enabled: true, seconds: Number(v) };
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** issue 13's items, from what the discrepancy is about. */
function itemFor(d: Discrepancy, j: Joined | undefined, v4Hidden: boolean): number {
  const r = j?.rec;
  const opt = d.option ?? '';
  if (d.category === 'non-compiling-call') return 1;
  if (d.category === 'knetstat-row') return 11;
  if (v4Hidden && (d.category === 'wrong-origin' || d.category === 'phantom-application-call' || d.category === 'wrong-class')) return 4;
  if (r && (r.role === 'unconnected' || r.boundTo) && d.category !== 'wrong-value' && !BUFFERS.has(opt)) return 7;
  if (r?.role === 'accepted' && opt === 'SO_REUSEADDR' && j?.listener?.rec.family === 'INET' && d.category !== 'wrong-value') return 5;
  if (/^TCP_KEEP/.test(opt) && (d.category === 'wrong-class' || (d.claim ?? '').includes('no Java API'))) return 6;
  if (d.category === 'wrong-class' && r && (/Asynchronous/.test(r.class) || r.role === 'udp')) return 8;
  if (r?.role === 'accepted' && r.listenerClosed && d.category !== 'wrong-value') return 2;
  if (r?.role === 'accepted' && j?.listener?.rec.reusePortGroup && d.category !== 'wrong-value') return 3;
  if (BUFFERS.has(opt)) return 9;
  if (d.category === 'wrong-role') return 7;
  // Which UDP class made it decides the defaults: a wrong pick turns them into calls (or hides calls).
  if (r?.role === 'udp' && d.category !== 'wrong-value') return 8;
  return 0;
}

// ------------------------------------------------------------------ knetstat format (item 11)

function knetstatRows(run: LabRun, tool: ToolRun, joined: Joined[]): Discrepancy[] {
  if (!tool.knetstat) return [];
  const out: Discrepancy[] = [];
  const tables: { [k: string]: string } = { tcp: 'tcpstat', tcp6: 'tcp6stat', udp: 'udpstat', udp6: 'udp6stat' };
  const rows: { [t: string]: number } = {};
  let cur = '';
  for (const l of tool.knetstat.split('\n')) {
    const m = /^== (\w+) ==$/.exec(l);
    if (m) { cur = m[1]!; rows[cur] = 0; continue; }
    if (cur && l.trim() && !/^Recv-Q/.test(l)) rows[cur]!++;
  }
  for (const [proto, table] of Object.entries(tables)) {
    let inodes: Set<number>;
    try {
      inodes = new Set(readFileSync(`/proc/${run.pid}/net/${proto}`, 'utf8').split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[9])).filter((n) => n > 0));
    } catch { continue; }
    const ours = (tool.report.sockets as any[]).filter((s) => s.protocol === proto);
    const extra = ours.filter((s) => !inodes.has(s.inode));
    if ((rows[table] ?? 0) !== ours.length) continue; // rows are not one per report socket: cannot attribute
    for (const s of extra) {
      const j = joined.find((x) => x.rep === s);
      out.push({
        seed: run.seed, jdk: run.jdk.name, variant: run.variant, tool: tool.label, category: 'knetstat-row', item: 11,
        socket: j ? { id: j.rec.id, fd: j.rec.fd, class: j.rec.class, role: j.rec.role, opened: j.rec.opened, reportRole: s.role } : undefined,
        claim: `a ${table} row for ${s.state} ${s.local.address}:${s.local.port}`, truth: `/proc/net/${proto} has no row for inode ${s.inode}`,
        detail: `--format knetstat prints a row the kernel's table does not list`,
      });
    }
  }
  return out;
}

// ------------------------------------------------------------------ (d) the javac oracle

export interface JavaString {
  cls: string;
  call: string;
  where: string;
  options?: string[];
  /**
   * A call in prose that names no class ("setSendBufferSize(8192) would read back the same"):
   * one entry per class the report names as a tie for the socket, sharing this key; it is
   * wrong only when it compiles on none of them.
   */
  group?: string;
}

const CLASS_CALL = /^((?:[a-z]\w*\.)+[A-Z]\w*)\.(.+)$/;

/** Splits "a(x, y), b(z)" at top-level commas. */
function splitCalls(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(start, i).trim()); start = i + 1; }
  }
  out.push(s.slice(start).trim());
  return out.filter(Boolean);
}

/** Every Java call string a report socket prints: api + call, the nio spelling, calls in hints and notes. */
export function javaStrings(s: any): JavaString[] {
  const out: JavaString[] = [];
  const ties = tiesOf(s);
  const bare = (call: string, where: string, options?: string[]) => {
    for (const cls of ties) out.push({ cls, call, where, options, group: `${where}\u0000${call}` });
  };
  for (const c of s.java ?? []) {
    if (c.api !== 'native') for (const alt of String(c.call).split(' / ')) out.push({ cls: c.api, call: alt.trim(), where: `java[].call (${c.origin})`, options: c.options });
    if (c.nio) {
      const m = CLASS_CALL.exec(c.nio);
      if (m) for (const alt of m[2]!.split(' / ')) out.push({ cls: m[1]!, call: alt.trim(), where: `java[].nio (${c.origin})`, options: c.options });
    }
    for (const a of c.alternatives ?? []) {
      if (a.api !== 'native') out.push({ cls: a.api, call: a.call, where: `java[].alternatives (${a.origin})`, options: c.options });
      const m = a.nio ? CLASS_CALL.exec(a.nio) : null;
      if (m) out.push({ cls: m[1]!, call: m[2]!, where: `java[].alternatives.nio (${a.origin})`, options: c.options });
    }
    for (const call of callsInText(c.note ?? '')) {
      if (call.cls) out.push({ cls: call.cls, call: call.call, where: 'java[].note', options: c.options });
      else if (c.api === 'native') bare(call.call, 'java[].note', c.options);
      else out.push({ cls: c.api, call: call.call, where: 'java[].note', options: c.options });
    }
  }
  for (const h of s.hints ?? []) {
    const m = /or an? ((?:[a-z]\w*\.)+[A-Z]\w*) on which the application called (.*?): both leave/.exec(h);
    if (m) for (const call of splitCalls(m[2]!)) if (/^\w+\(/.test(call)) out.push({ cls: m[1]!, call, where: 'hints' });
  }
  for (const [opt, v] of Object.entries<any>(s.verdicts ?? {})) {
    for (const call of callsInText(v.note ?? '')) {
      if (call.cls) out.push({ cls: call.cls, call: call.call, where: `verdicts.${opt}.note`, options: [opt] });
      else bare(call.call, `verdicts.${opt}.note`, [opt]);
    }
  }
  return out;
}

const SIMPLE: { [k: string]: string } = {
  Socket: 'java.net.Socket', ServerSocket: 'java.net.ServerSocket', DatagramSocket: 'java.net.DatagramSocket', MulticastSocket: 'java.net.MulticastSocket',
  SocketChannel: 'java.nio.channels.SocketChannel', ServerSocketChannel: 'java.nio.channels.ServerSocketChannel', DatagramChannel: 'java.nio.channels.DatagramChannel',
  AsynchronousSocketChannel: 'java.nio.channels.AsynchronousSocketChannel', AsynchronousServerSocketChannel: 'java.nio.channels.AsynchronousServerSocketChannel',
};

/**
 * Calls written in prose with real arguments: "setSendBufferSize(8192) would read back ...",
 * "java.net.Socket.setX(1)". A method named with a parameter name ("setLoopbackMode(disable)")
 * names a signature, not a call, and is left out.
 */
function callsInText(text: string): { cls?: string; call: string }[] {
  const out: { cls?: string; call: string }[] = [];
  for (const m of text.matchAll(/\b((?:[a-z]\w*\.)*([A-Z]\w*)\.)?(set[A-Z]\w*\(([^()]*)\))/g)) {
    if (m[4]!.split(',').some((a) => /^\s*[a-z]\w*\s*$/.test(a) && !/^\s*(true|false)\s*$/.test(a))) continue;
    const cls = m[1] ? (m[1].includes('.', 0) && /^[a-z]/.test(m[1]) ? m[1].slice(0, -1) : SIMPLE[m[2]!]) : undefined;
    out.push({ cls, call: m[3]! });
  }
  return out;
}

/** A Java statement for a call on a variable x of cls (constructors and bind's placeholders declared). */
function statement(cls: string, call: string): string {
  if (call.startsWith('new ')) {
    const m = /^new (\w+)\((.*)\)$/.exec(call);
    const simple = cls.slice(cls.lastIndexOf('.') + 1);
    if (m && m[1] === simple) return `Object o = new ${cls}(${m[2]});`;
    return `Object o = ${call};`;
  }
  return `x.${call};`;
}

/** Compiles every distinct (class, call) with each JDK's javac: null when it compiles, else javac's first error. */
export function javacOracle(strings: JavaString[], jdks: Jdk[]): Map<string, { [jdk: string]: string | null }> {
  const uniq = [...new Map(strings.map((s) => [`${s.cls}\u0000${s.call}`, s])).values()];
  const out = new Map<string, { [jdk: string]: string | null }>();
  if (!uniq.length) return out;
  const dir = join(TRUTH_DIR, `javac-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const lines = [
    'import java.net.*;', 'import java.nio.channels.*;', 'import jdk.net.ExtendedSocketOptions;',
    '@SuppressWarnings({"deprecation", "removal", "unused"})',
    'class KnjCalls {', '  static int port; static SocketAddress addr; static InetAddress address; static int backlog;',
  ];
  const lineOf: number[] = [];
  uniq.forEach((s, i) => {
    lineOf.push(lines.length + 1);
    lines.push(`  void c${i}(${s.cls} x) throws Exception { ${statement(s.cls, s.call)} }`);
  });
  lines.push('}');
  const file = join(dir, 'KnjCalls.java');
  writeFileSync(file, lines.join('\n') + '\n');
  for (const jdk of jdks) {
    const r = spawnSync(jdk.javac, ['-nowarn', '-Xlint:none', '-Xmaxerrs', '10000', '-d', dir, file], { encoding: 'utf8' });
    const errs = new Map<number, string>();
    for (const m of (r.stderr ?? '').matchAll(/KnjCalls\.java:(\d+): error: (.*)/g)) if (!errs.has(Number(m[1]))) errs.set(Number(m[1]), m[2]!);
    if (r.status !== 0 && !errs.size) throw new Error(`javac ${jdk.name} failed without errors it could place: ${r.stderr}`);
    uniq.forEach((s, i) => {
      const k = `${s.cls}\u0000${s.call}`;
      const e = out.get(k) ?? {};
      e[jdk.name] = errs.get(lineOf[i]!) ?? null;
      out.set(k, e);
    });
  }
  return out;
}

// ------------------------------------------------------------------ facts the harness reads beside the claims

/** fdinfo flags (O_NONBLOCK) and the JVM's thread names: evidence for the class (issue 13 item 8). */
export function processFacts(run: LabRun): { nonblocking: { [id: string]: boolean }; threads: string[] } {
  const nonblocking: { [id: string]: boolean } = {};
  for (const s of run.record.sockets) {
    if (s.closed || s.fd < 0) continue;
    try {
      const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/${run.pid}/fdinfo/${s.fd}`, 'utf8'))?.[1];
      if (flags) nonblocking[s.id] = (parseInt(flags, 8) & 0o4000) !== 0;
    } catch { /* gone */ }
  }
  const threads: string[] = [];
  try {
    for (const t of readdirSync(`/proc/${run.pid}/task`)) threads.push(readFileSync(`/proc/${run.pid}/task/${t}/comm`, 'utf8').trim());
  } catch { /* gone */ }
  return { nonblocking, threads };
}

// ------------------------------------------------------------------ one seed, end to end

export interface SeedResult {
  seed: number;
  jdk: string;
  variant: Variant;
  sockets: number;
  claims: number;
  sanity: string[];
  discrepancies: Discrepancy[];
  facts: ReturnType<typeof processFacts> & { record: RecSocket[] };
}

export const TOOL_RUNS: { label: string; args: string[] }[] = [
  { label: 'pidfd', args: ['--source', 'pidfd'] },
  { label: 'auto', args: [] },
];

/** Runs one seed: the fixture, every tool run, all oracles. */
export async function runSeed(seed: number, jdk: Jdk, variant: Variant, jdks: Jdk[], tools = TOOL_RUNS): Promise<SeedResult> {
  const run = await startTruthLab(seed, jdk, variant);
  try {
    const toolRuns = tools.map((t) => runTool(run.pid, t.args, t.label));
    // Kept beside the record and the trace, so a run can be re-checked offline.
    for (const t of toolRuns) writeFileSync(join(TRUTH_DIR, `report-${seed}-jdk${jdk.name}-${variant}-${t.label.replace(/\W+/g, '_')}.json`), JSON.stringify(t.report));
    const facts = processFacts(run);
    const sanity: Sanity = { problems: [] };
    const joins = toolRuns.map((t) => join3(run, t.report, sanity));
    const strings = joins.flatMap((js) => js.flatMap((j) => (j.rep ? javaStrings(j.rep) : [])));
    const javac = javacOracle(strings, jdks);
    const discrepancies = toolRuns.flatMap((t, i) => check({ run, tool: t, joined: joins[i]!, javac }));
    // Item 10: what --probe-jdk gets wrong that the same source gets right without it.
    const key = (d: Discrepancy) => `${d.socket?.id}|${d.category}|${d.option}|${d.claim}`;
    const plain = new Set(discrepancies.filter((d) => d.tool === 'pidfd').map(key));
    for (const d of discrepancies) if (d.tool.includes('--probe-jdk') && !plain.has(key(d))) d.item = 10;
    const claims = toolRuns.reduce((n, t) => n + (t.report.sockets as any[]).reduce((m, s) => m + s.java.length + 1, 0), 0);
    return { seed, jdk: jdk.name, variant, sockets: run.record.sockets.length, claims, sanity: [...new Set(sanity.problems)], discrepancies, facts: { ...facts, record: run.record.sockets } };
  } finally {
    await run.stop();
  }
}

// ------------------------------------------------------------------ the catalogue

export interface Catalogue {
  runs: { seed: number; jdk: string; variant: Variant; sockets: number; claims: number; discrepancies: number }[];
  byCategory: { [c: string]: number };
  byItem: { [i: string]: number };
  /** The same counts per tool run (pidfd, auto, --probe-jdk): each run's claims are checked on their own. */
  byTool: { [tool: string]: { byCategory: { [c: string]: number }; byItem: { [i: string]: number } } };
  /** One minimal example per (item, category): the smallest socket history. */
  examples: Discrepancy[];
  discrepancies: Discrepancy[];
}

export function catalogue(results: SeedResult[]): Catalogue {
  const all = results.flatMap((r) => r.discrepancies);
  const byCategory: { [c: string]: number } = {};
  const byItem: { [i: string]: number } = {};
  for (const d of all) {
    byCategory[d.category] = (byCategory[d.category] ?? 0) + 1;
    byItem[String(d.item)] = (byItem[String(d.item)] ?? 0) + 1;
  }
  const byTool: Catalogue['byTool'] = {};
  for (const d of all) {
    const t = (byTool[d.tool] ??= { byCategory: {}, byItem: {} });
    t.byCategory[d.category] = (t.byCategory[d.category] ?? 0) + 1;
    t.byItem[String(d.item)] = (t.byItem[String(d.item)] ?? 0) + 1;
  }
  const examples = new Map<string, Discrepancy>();
  const size = (d: Discrepancy) => results.find((r) => r.seed === d.seed && r.jdk === d.jdk && r.variant === d.variant)?.facts.record.find((s) => s.id === d.socket?.id)?.calls.length ?? 99;
  for (const d of all) {
    const k = `${d.item}|${d.category}`;
    const have = examples.get(k);
    // The smallest history, from the plain pidfd run where there is one.
    const rank = (x: Discrepancy) => size(x) + (x.tool === 'pidfd' ? 0 : 1000);
    if (!have || rank(d) < rank(have)) examples.set(k, d);
  }
  return {
    runs: results.map((r) => ({ seed: r.seed, jdk: r.jdk, variant: r.variant, sockets: r.sockets, claims: r.claims, discrepancies: r.discrepancies.length })),
    byCategory, byItem, byTool, examples: [...examples.values()].sort((a, b) => a.item - b.item || a.category.localeCompare(b.category)), discrepancies: all,
  };
}

/** A readable summary of one seed. */
export function summary(r: SeedResult): string {
  const lines = [`seed ${r.seed} JDK ${r.jdk} ${r.variant}: ${r.sockets} sockets, ${r.claims} claims, ${r.discrepancies.length} wrong${r.sanity.length ? `, ${r.sanity.length} harness problems` : ''}`];
  const by = new Map<string, number>();
  for (const d of r.discrepancies) by.set(`${d.category} (item ${d.item})`, (by.get(`${d.category} (item ${d.item})`) ?? 0) + 1);
  for (const [k, n] of [...by].sort()) lines.push(`  ${String(n).padStart(4)}  ${k}`);
  for (const p of r.sanity) lines.push(`  harness: ${p}`);
  return lines.join('\n');
}

/** A record socket's calls as Java source: the reproduction of one discrepancy. */
export function reproduction(r: SeedResult, d: Discrepancy): string[] {
  const rec = r.facts.record;
  const s = rec.find((x) => x.id === d.socket?.id);
  if (!s) return [];
  const l = s.listener ? rec.find((x) => x.id === s.listener) : undefined;
  return [...(l ? l.calls.map((c) => c.java) : []), ...s.calls.map((c) => c.java)];
}
