// Every Java call the report can print (issue 13 item 1): the calls are made by
// the real analysis (src/java/analyze.ts on mappings/java-api.json) from
// synthetic captures that set every mapping row, on every role, family,
// stack and JDK version, for every class that can win; every call string, its
// NIO spelling and every call inside hints and notes is then
//   1. compiled with javac of each installed JDK on the class it names, and
//   2. RUN on a real socket of that class with that JDK: getOption (or the
//      classic getter) must read back the value the call was derived from.
// KNOWN_FAILURES is empty since the issue-13 fix: every call compiles and runs.
// A call that regresses may be listed there (run as it.fails) only while its fix
// is under way; the guard test fails when a listed entry is no longer produced.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/java/analyze.js';
import { mappings } from '../src/mappings.js';
import { hostInfo } from '../src/linux/sysctl.js';
import { freshDefaults } from '../src/linux/sockopt.js';
import type { Capture, OptionValue, Protocol, RawSocket } from '../src/model/types.js';
import { installedJdks, javacOracle, javaStrings, TRUTH_DIR, type JavaString } from './helpers/oracle.js';

/**
 * Calls the analysis prints today that do not compile on the class they name, or
 * do not set what they claim. Remove an entry when the analysis stops printing it
 * (or prints it right). Keys: "<class>.<call> [<option>]".
 */
const KNOWN_FAILURES = new Set<string>([
  // KNOWN-FAILURES-BEGIN (KNJ_CALLS_LIST=1 prints the current list; issue 13 item 1)
  // KNOWN-FAILURES-END
]);

const JDKS = installedJdks();

/** A non-default kernel value for each mapping row (what a call would have set). */
const VALUES: Record<string, OptionValue> = {
  SO_KEEPALIVE: 1, TCP_NODELAY: 1, SO_LINGER: { enabled: true, seconds: 5 }, SO_REUSEADDR: 1, SO_REUSEPORT: 1,
  SO_RCVBUF: 100002, SO_SNDBUF: 100002, IP_TOS: 0x28, IPV6_TCLASS: 0x28, SO_OOBINLINE: 1, SO_BROADCAST: 1,
  IP_MULTICAST_TTL: 7, IPV6_MULTICAST_HOPS: 7, IP_MULTICAST_LOOP: 0, IPV6_MULTICAST_LOOP: 0, IP_MULTICAST_ALL: 1, IPV6_MULTICAST_ALL: 0,
  TCP_KEEPIDLE: 33, TCP_KEEPINTVL: 7, TCP_KEEPCNT: 3, TCP_USER_TIMEOUT: 5000, TCP_CONGESTION: 'reno', TCP_NOTSENT_LOWAT: 16384,
  TCP_DEFER_ACCEPT: 5, TCP_FASTOPEN: 5, IPV6_V6ONLY: 1, SO_PRIORITY: 3, SO_MARK: 7, SO_RCVTIMEO: 1500, SO_SNDTIMEO: 2000, backlog: 321,
};

let inode = 1000;

function sock(protocol: Protocol, state: string, port: number, peer: number, options: Record<string, OptionValue>, base: Record<string, OptionValue>): RawSocket {
  const v6 = protocol.endsWith('6');
  const addr = v6 ? '::1' : '127.0.0.1';
  const opts: RawSocket['options'] = {};
  const names = mappings().kernel.filter((o) => o.protocols.includes(protocol.startsWith('tcp') ? 'tcp' : 'udp') && o.families.includes(v6 ? 6 : 4)).map((o) => o.name);
  for (const n of names) if (base[n] !== undefined) opts[n] = { value: base[n]!, source: 'pidfd' };
  if (state === 'LISTEN') opts.backlog = { value: 50, source: 'pidfd' };
  for (const [k, v] of Object.entries(options)) opts[k] = { value: v, source: 'pidfd' };
  return {
    protocol, fd: inode - 990, inode: inode++, local: { address: addr, port }, remote: { address: peer ? addr : v6 ? '::' : '0.0.0.0', port: peer },
    state, recvQ: 0, sendQ: 0, options: opts, diag: '', sources: ['pidfd'],
  };
}

/** One capture per JDK version and stack: every row set on every role, and the JDK's own defaults for each UDP kind to win. */
function captures(): Capture[] {
  const fresh = freshDefaults();
  const host = { ...hostInfo(), kernelDefaults: fresh };
  const out: Capture[] = [];
  for (const feature of [17, 25]) {
    for (const v4stack of [false, true]) {
      const sockets: RawSocket[] = [];
      let port = 20000;
      const protos: Protocol[] = v4stack ? ['tcp', 'udp'] : ['tcp', 'tcp6', 'udp', 'udp6'];
      for (const row of mappings().java.options) {
        const v = VALUES[row.option];
        if (v === undefined) continue;
        for (const p of protos) {
          const base = fresh[p] ?? {};
          const kernel = mappings().kernel.find((k) => k.name === row.option);
          const tcp = p.startsWith('tcp');
          if (row.option === 'backlog' && !tcp) continue;
          if (kernel && (!kernel.protocols.includes(tcp ? 'tcp' : 'udp') || !kernel.families.includes(p.endsWith('6') ? 6 : 4))) continue;
          const set = { [row.option]: v };
          if (tcp) {
            // A listener with it; one accepted from it (inherited), one accepted from a default listener, a client.
            const lp = port++, lp2 = port++;
            sockets.push(sock(p, 'LISTEN', lp, 0, set, base));
            if (row.option !== 'backlog') sockets.push(sock(p, 'ESTABLISHED', lp, port++, set, base));
            sockets.push(sock(p, 'LISTEN', lp2, 0, {}, base));
            if (row.option !== 'backlog') sockets.push(sock(p, 'ESTABLISHED', lp2, port++, set, base));
            if (row.option !== 'backlog') sockets.push(sock(p, 'ESTABLISHED', port++, 9, set, base));
            // Never connected (role unconnected): a client's or a listener's that never listened.
            if (row.option !== 'backlog') sockets.push(sock(p, 'CLOSE', 0, 0, set, base));
          } else {
            // Each UDP class wins once: DatagramChannel (kernel defaults), DatagramSocket (SO_BROADCAST=1), MulticastSocket (and SO_REUSEADDR=1).
            for (const extra of [{}, { SO_BROADCAST: 1 }, { SO_BROADCAST: 1, SO_REUSEADDR: 1 }]) sockets.push(sock(p, 'UNCONN', port++, 0, { ...extra, ...set }, base));
          }
        }
      }
      out.push({
        formatVersion: 1, tool: { name: 'knetstat-java', version: 'test' }, capturedAt: new Date(0).toISOString(), host,
        process: { pid: 1, comm: 'java', cmdline: ['java'], uid: 0, isJvm: true, jvm: { feature, version: `${feature}`, properties: v4stack ? { 'java.net.preferIPv4Stack': 'true' } : {} } },
        sources: [{ name: 'pidfd', used: true }], warnings: [], partial: false, sockets, vanished: [],
      });
    }
  }
  return out;
}

interface Case extends JavaString {
  key: string;
  /** A call in prose that names no class: the classes it may be read on (it must compile on one). */
  alts?: string[];
  /** The kernel option the call claims to set, and its value in the capture. */
  option?: string;
  value?: OptionValue;
}

function cases(): Case[] {
  const out = new Map<string, Case>();
  for (const cap of captures()) {
    const report = analyze(cap);
    for (const s of report.sockets) {
      const strings = javaStrings(s);
      for (const js of strings) {
        const option = js.options?.find((o) => o !== 'backlog') ?? js.options?.[0];
        const alts = js.group ? strings.filter((o) => o.group === js.group).map((o) => o.cls).sort() : undefined;
        const key = `${alts && alts.length > 1 ? `{${alts.join('|')}}` : js.cls}.${js.call} [${option ?? '?'}]`;
        if (!out.has(key)) out.set(key, { ...js, key, option, alts, value: option ? s.options[option]?.value ?? undefined : undefined });
      }
    }
  }
  return [...out.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** Java source that makes a real socket of cls, runs the call on it and prints what getOption reads back. */
function runner(list: Case[]): string {
  const make = (cls: string) => ({
    'java.net.Socket': 'new java.net.Socket()', 'java.net.ServerSocket': 'new java.net.ServerSocket()',
    'java.net.DatagramSocket': 'new java.net.DatagramSocket((SocketAddress) null)', 'java.net.MulticastSocket': 'new java.net.MulticastSocket((SocketAddress) null)',
    'java.nio.channels.SocketChannel': 'SocketChannel.open()', 'java.nio.channels.ServerSocketChannel': 'ServerSocketChannel.open()',
    'java.nio.channels.DatagramChannel': 'DatagramChannel.open()', 'java.nio.channels.AsynchronousSocketChannel': 'AsynchronousSocketChannel.open()',
    'java.nio.channels.AsynchronousServerSocketChannel': 'AsynchronousServerSocketChannel.open()',
  } as Record<string, string>)[cls];
  const javaName: Record<string, string> = {
    SO_KEEPALIVE: 'SO_KEEPALIVE', TCP_NODELAY: 'TCP_NODELAY', SO_LINGER: 'SO_LINGER', SO_REUSEADDR: 'SO_REUSEADDR', SO_REUSEPORT: 'SO_REUSEPORT',
    SO_RCVBUF: 'SO_RCVBUF', SO_SNDBUF: 'SO_SNDBUF', IP_TOS: 'IP_TOS', IPV6_TCLASS: 'IP_TOS', SO_BROADCAST: 'SO_BROADCAST',
    IP_MULTICAST_TTL: 'IP_MULTICAST_TTL', IPV6_MULTICAST_HOPS: 'IP_MULTICAST_TTL', IP_MULTICAST_LOOP: 'IP_MULTICAST_LOOP', IPV6_MULTICAST_LOOP: 'IP_MULTICAST_LOOP',
    TCP_KEEPIDLE: 'TCP_KEEPIDLE', TCP_KEEPINTVL: 'TCP_KEEPINTERVAL', TCP_KEEPCNT: 'TCP_KEEPCOUNT', SO_OOBINLINE: 'getOOBInline',
  };
  const body = list.map((c, i) => {
    const stmt = c.call.startsWith('new ') ? `Object made = ${c.call.replace(/^new (\w+)\(/, (_m, n) => `new ${c.cls.slice(0, c.cls.lastIndexOf('.') + 1)}${n}(`)};` : `x.${c.call};`;
    const read = c.option && javaName[c.option] ? `read(x, "${javaName[c.option]}")` : '"n/a"';
    return `    try { ${c.cls} x = ${make(c.cls)}; ${stmt} out(${i}, ${read}); } catch (Throwable t) { err(${i}, t); }`;
  });
  return [
    'import java.net.*;', 'import java.nio.channels.*;', 'import jdk.net.ExtendedSocketOptions;',
    '@SuppressWarnings({"deprecation", "removal", "unused", "unchecked", "rawtypes"})',
    'public class KnjRun {',
    '  static int port = 0; static int backlog = 0; static SocketAddress addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0); static InetAddress address = InetAddress.getLoopbackAddress();',
    '  static String q(Object o) { return o == null ? "null" : "\\"" + o.toString().replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"") + "\\""; }',
    '  static void out(int i, Object v) { System.out.println("{\\"i\\":" + i + ",\\"value\\":" + (v instanceof Number || v instanceof Boolean ? v.toString() : q(v)) + "}"); }',
    '  static void err(int i, Throwable t) { System.out.println("{\\"i\\":" + i + ",\\"error\\":" + q(t) + "}"); }',
    '  static Object read(Object x, String name) throws Exception {',
    '    if (name.equals("getOOBInline")) return x instanceof Socket ? (Object) ((Socket) x).getOOBInline() : "n/a";',
    '    SocketOption o;',
    '    try { o = (SocketOption) StandardSocketOptions.class.getField(name).get(null); } catch (NoSuchFieldException e) { o = (SocketOption) ExtendedSocketOptions.class.getField(name).get(null); }',
    '    if (x instanceof NetworkChannel) return ((NetworkChannel) x).getOption(o);',
    '    if (x instanceof Socket) return ((Socket) x).getOption(o);',
    '    if (x instanceof ServerSocket) return ((ServerSocket) x).getOption(o);',
    '    if (x instanceof DatagramSocket) return ((DatagramSocket) x).getOption(o);',
    '    return "n/a";',
    '  }',
    '  public static void main(String[] a) {',
    ...body,
    '  }',
    '}',
  ].join('\n') + '\n';
}

/** What getOption should read after a call derived from this kernel value. */
function expected(option: string | undefined, v: OptionValue | undefined): unknown {
  if (option === undefined || v === undefined) return undefined;
  if (typeof v === 'object') return v.enabled ? v.seconds : -1;
  if (option === 'SO_RCVBUF' || option === 'SO_SNDBUF') return Math.floor(Number(v) / 2); // the call asked for half; the JDK reads back kernel/2
  const bool = ['SO_KEEPALIVE', 'TCP_NODELAY', 'SO_REUSEADDR', 'SO_REUSEPORT', 'SO_BROADCAST', 'IP_MULTICAST_LOOP', 'IPV6_MULTICAST_LOOP', 'SO_OOBINLINE'];
  if (bool.includes(option)) return v !== 0;
  return v;
}

const ALL = cases();
/** Each case once per class it may be read on; a case with alternatives passes on any one of them. */
const CASES: Case[] = [...new Map(ALL.flatMap((c) => (c.alts ?? [c.cls]).map((cls) => ({ ...c, cls }))).map((c) => [`${c.cls}|${c.key}`, c])).values()];
const results = new Map<string, { jdk: string; compile: string | null; run?: { value?: unknown; error?: string } }[]>();

beforeAll(() => {
  const javac = javacOracle(CASES, JDKS);
  for (const jdk of JDKS) {
    const ok = CASES.filter((c) => !javac.get(`${c.cls}\u0000${c.call}`)?.[jdk.name]);
    const dir = join(TRUTH_DIR, `calls-${jdk.name}-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'KnjRun.java'), runner(ok));
    execFileSync(jdk.javac, ['-nowarn', '-Xlint:none', '-d', dir, join(dir, 'KnjRun.java')], { stdio: 'pipe' });
    const java = jdk.javac.replace(/javac$/, 'java');
    const r = spawnSync(java, ['-cp', dir, 'KnjRun'], { encoding: 'utf8', timeout: 60_000 });
    const ran = new Map<number, { value?: unknown; error?: string }>();
    for (const l of (r.stdout ?? '').split('\n').filter(Boolean)) { const o = JSON.parse(l); ran.set(o.i, o); }
    for (const c of CASES) {
      const compile = javac.get(`${c.cls}\u0000${c.call}`)?.[jdk.name] ?? null;
      const idx = ok.indexOf(c);
      const list = results.get(`${c.cls}|${c.key}`) ?? [];
      list.push({ jdk: jdk.name, compile, run: idx >= 0 ? ran.get(idx) : undefined });
      results.set(`${c.cls}|${c.key}`, list);
    }
  }
  if (process.env.KNJ_CALLS_LIST === '1') {
    const failing = ALL.filter((c) => !passes(c)).map((c) => c.key);
    process.stdout.write(`\nKNOWN_FAILURES (${failing.length}):\n${failing.map((k) => `  ${JSON.stringify(k)},`).join('\n')}\n`);
  }
}, 180_000);

/** What is wrong with a case: on its class, or, for prose with alternatives, on the best of them. */
function problems(c: Case): string[] {
  const each = (c.alts ?? [c.cls]).map((cls) => problemsOn(c, cls));
  return each.find((p) => p.length === 0) ?? each.flat();
}

function problemsOn(c: Case, cls: string): string[] {
  const out: string[] = [];
  for (const r of results.get(`${cls}|${c.key}`) ?? []) {
    if (r.compile) { out.push(`JDK ${r.jdk}: does not compile on ${cls}: ${r.compile}`); continue; }
    if (!r.run) { out.push(`JDK ${r.jdk}: did not run`); continue; }
    if (r.run.error) { out.push(`JDK ${r.jdk}: throws ${r.run.error}`); continue; }
    const want = expected(c.option, c.value);
    if (want !== undefined && r.run.value !== 'n/a' && r.run.value !== want) out.push(`JDK ${r.jdk}: getOption reads ${JSON.stringify(r.run.value)}, the call was derived from ${JSON.stringify(c.value)} (expected ${JSON.stringify(want)})`);
  }
  return out;
}

function passes(c: Case): boolean {
  return problems(c).length === 0;
}

describe.skipIf(!JDKS.length)('every Java call the mappings can produce compiles and runs on the class it names', () => {
  it('covers every class, and every mapping row that has a Java API', () => {
    const classes = new Set(ALL.map((c) => c.cls));
    for (const c of ['java.net.Socket', 'java.net.ServerSocket', 'java.net.DatagramSocket', 'java.net.MulticastSocket', 'java.nio.channels.SocketChannel', 'java.nio.channels.ServerSocketChannel', 'java.nio.channels.DatagramChannel']) {
      expect(classes.has(c), c).toBe(true);
    }
    const options = new Set(ALL.map((c) => c.option));
    // Rows whose value moves by itself (TCP_QUICKACK) never become a call.
    for (const row of mappings().java.options) if (Object.keys(row.java).length && !row.dynamic) expect(options.has(row.option), row.option).toBe(true);
  });

  for (const c of ALL) {
    const known = KNOWN_FAILURES.has(c.key);
    (known ? it.fails : it)(`${known ? '[known failure, issue 13] ' : ''}${c.key} (${c.where})`, () => {
      expect(problems(c)).toEqual([]);
    });
  }

  it('every known failure is still produced by the analysis (remove fixed ones from KNOWN_FAILURES)', () => {
    const keys = new Set(ALL.map((c) => c.key));
    expect([...KNOWN_FAILURES].filter((k) => !keys.has(k))).toEqual([]);
  });
});
