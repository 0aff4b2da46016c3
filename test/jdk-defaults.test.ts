// mappings/jdk-defaults.json says which socket options the JDK sets by itself
// on each kind of socket. This test measures that on every JDK installed here
// (Debian's 17 on PATH, and Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64
// when present: skipped with a message when absent): samples/java/Probe.java
// under strace, once with the default dual stack and once with
// -Djava.net.preferIPv4Stack=true. The file must agree exactly with the rows
// for each measured JDK's feature version, so a JDK whose defaults differ fails
// here until the table has rows for it. UPDATE_JDK_DEFAULTS=1 rewrites the rows
// of the measured JDKs (rows of other JDKs are kept).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/jvm.js';
import { installedJdks, type Jdk } from './helpers/oracle.js';
import { byPort, startJvmUnderStrace, straceUsable, type StracedJvm, type StraceValue } from './helpers/strace.js';

const FILE = join(ROOT, 'mappings', 'jdk-defaults.json');

/**
 * Probe's ids -> the kind names src/java/analyze.ts uses, and what Probe does.
 * Several ids share a kind (an INET channel is still a ServerSocketChannel);
 * the family then tells them apart.
 */
const KINDS: Record<string, { kind: string; java: string }> = {
  serverSocket: { kind: 'ServerSocket', java: 'new ServerSocket().bind(addr)' },
  socket: { kind: 'Socket', java: 'new Socket().connect(addr)' },
  acceptedSocket: { kind: 'accepted Socket', java: 'serverSocket.accept()' },
  serverSocketChannel: { kind: 'ServerSocketChannel', java: 'ServerSocketChannel.open().bind(addr)' },
  socketChannel: { kind: 'SocketChannel', java: 'SocketChannel.open(addr)' },
  acceptedSocketChannel: { kind: 'accepted SocketChannel', java: 'serverSocketChannel.accept()' },
  serverSocketChannelInet: { kind: 'ServerSocketChannel', java: 'ServerSocketChannel.open(StandardProtocolFamily.INET).bind(addr)' },
  socketChannelInet: { kind: 'SocketChannel', java: 'SocketChannel.open(StandardProtocolFamily.INET).connect(addr)' },
  acceptedSocketChannelInet: { kind: 'accepted SocketChannel', java: 'ServerSocketChannel.open(StandardProtocolFamily.INET)...accept()' },
  asyncServerSocketChannel: { kind: 'AsynchronousServerSocketChannel', java: 'AsynchronousServerSocketChannel.open().bind(addr)' },
  asyncSocketChannel: { kind: 'AsynchronousSocketChannel', java: 'AsynchronousSocketChannel.open().connect(addr)' },
  acceptedAsyncSocketChannel: { kind: 'accepted AsynchronousSocketChannel', java: 'asynchronousServerSocketChannel.accept()' },
  datagramSocket: { kind: 'DatagramSocket', java: 'new DatagramSocket(addr)' },
  multicastSocket: { kind: 'MulticastSocket', java: 'new MulticastSocket(addr)' },
  datagramChannel: { kind: 'DatagramChannel', java: 'DatagramChannel.open().bind(addr)' },
  datagramChannelInet: { kind: 'DatagramChannel', java: 'DatagramChannel.open(StandardProtocolFamily.INET).bind(addr)' },
  datagramChannelInet6: { kind: 'DatagramChannel', java: 'DatagramChannel.open(StandardProtocolFamily.INET6).bind(addr)' },
};

export interface JdkDefaultRow {
  /** As src/java/analyze.ts names kinds: ServerSocket, accepted Socket, DatagramChannel ... */
  kind: string;
  preferIPv4Stack: boolean;
  /** The socket's kernel family as the JDK created it. */
  family: 'AF_INET' | 'AF_INET6';
  /** Every successful setsockopt the JDK made, in call order; the last value of each. */
  options: Record<string, StraceValue>;
  /** listen()'s backlog, for listeners. */
  backlog?: number;
  /** setsockopt calls that failed: name -> errno. */
  failed?: Record<string, string>;
  /** The Probe sockets this row stands for: "<Probe id> <address>" (the Java code is in "java"). */
  probes: string[];
  java: string[];
  jdk: string;
  source: string;
}

type Measured1 = Omit<JdkDefaultRow, 'jdk' | 'source' | 'probes' | 'java'> & { probe: string; java: string };

interface Measured {
  version: string;
  feature: number;
  vendor: string;
  ipv6Error?: string;
  rows: Omit<JdkDefaultRow, 'jdk' | 'source'>[];
}

async function measure(preferIPv4Stack: boolean, jdk: Jdk): Promise<Measured> {
  let jvm: StracedJvm | undefined;
  try {
    jvm = await startJvmUnderStrace('Probe', [], { jvmArgs: preferIPv4Stack ? ['-Djava.net.preferIPv4Stack=true'] : [], timeoutMs: 60000, java: jdk.java });
    const all = jvm.parse();
    const r = jvm.ready;
    const rows: Measured1[] = [];
    for (const [half, address] of [['ipv4', '127.0.0.1'], ['ipv6', '::1']] as const) {
      const kinds = (r.sockets[half] ?? {}) as Record<string, { localPort: number; remotePort?: number }>;
      for (const [kind, e] of Object.entries(kinds)) {
        const s = byPort(all, e.localPort, e.remotePort);
        if (!s) throw new Error(`strace shows no socket for ${kind} ${address} port ${e.localPort}`);
        const k = KINDS[kind];
        if (!k) throw new Error(`Probe reported a kind this test does not know: ${kind}`);
        const options: Record<string, StraceValue> = {};
        const failed: Record<string, string> = {};
        for (const o of s.setsockopts) {
          if (o.result === 0) options[o.name] = o.value;
          else failed[o.name] = o.errno ?? String(o.result);
        }
        rows.push({
          probe: `${kind} ${address}`, kind: k.kind, java: k.java, preferIPv4Stack,
          family: s.family as JdkDefaultRow['family'], options,
          ...(s.backlog !== undefined ? { backlog: s.backlog } : {}),
          ...(Object.keys(failed).length ? { failed } : {}),
        });
      }
    }
    return { version: r.java.version, feature: r.java.feature, vendor: r.java.vendor, ipv6Error: r.ipv6Error, rows: group(rows) };
  } finally {
    await jvm?.stop();
  }
}

/** One row per kind, family, stack and identical JDK behaviour, listing the probes it stands for. */
function group(rows: Measured1[]): Omit<JdkDefaultRow, 'jdk' | 'source'>[] {
  const out = new Map<string, Omit<JdkDefaultRow, 'jdk' | 'source'>>();
  for (const { probe, java, ...r } of rows) {
    const k = JSON.stringify([r.kind, r.family, r.preferIPv4Stack, r.options, r.backlog, r.failed]);
    const g = out.get(k);
    if (g) {
      g.probes.push(probe);
      if (!g.java.includes(java)) g.java.push(java);
    } else out.set(k, { ...r, probes: [probe], java: [java] });
  }
  return [...out.values()];
}

/** "17", "17-21", ">=17" or ">=17 <18": feature-version ranges of feature versions. */
export function inRange(range: string, feature: number): boolean {
  const span = /^(\d+)\s*-\s*(\d+)$/.exec(range.trim());
  if (span) return feature >= Number(span[1]) && feature <= Number(span[2]);
  return range.split(/\s+/).filter(Boolean).every((part) => {
    const m = /^(>=|<=|>|<|=)?(\d+)$/.exec(part);
    if (!m) return false;
    const n = Number(m[2]);
    switch (m[1]) {
      case '>=': return feature >= n;
      case '<=': return feature <= n;
      case '>': return feature > n;
      case '<': return feature < n;
      default: return feature === n;
    }
  });
}

const key = (r: { kind: string; family: string; preferIPv4Stack: boolean; probes: string[] }) =>
  `${r.kind} ${r.family}${r.preferIPv4Stack ? ' preferIPv4Stack' : ''} [${r.probes.join(', ')}]`;
const comparable = (r: Omit<JdkDefaultRow, 'jdk' | 'source'> | JdkDefaultRow) =>
  ({ options: r.options, backlog: r.backlog, failed: r.failed, java: r.java });

describe('inRange', () => {
  it('reads feature-version ranges', () => {
    expect(inRange('>=17 <18', 17)).toBe(true);
    expect(inRange('>=17 <18', 18)).toBe(false);
    expect(inRange('>=11 <17', 11)).toBe(true);
    expect(inRange('21', 21)).toBe(true);
    expect(inRange('17', 17)).toBe(true);
    expect(inRange('17-21', 18)).toBe(true);
    expect(inRange('>=17', 25)).toBe(true);
    expect(inRange('nonsense', 17)).toBe(false);
  });
});

const JDKS = installedJdks();
const ABOUT = 'Socket options the JDK sets by itself (no application call) on each kind of socket, measured by running samples/java/Probe.java under strace: every setsockopt the JDK made, in call order, and listen()\'s backlog. family is the kernel family of the socket the JDK created: on a host with IPv6 the JDK makes AF_INET6 sockets even for IPv4 addresses unless -Djava.net.preferIPv4Stack=true or a StandardProtocolFamily.INET channel. Values equal to the kernel default (IPV6_V6ONLY=0 ...) are listed too: the JDK made the call. kind uses the names of src/java/analyze.ts; probes lists the Probe sockets (id and address) a row stands for, java the code that made them. jdk: the feature version(s) verified; measuredOn lists the builds. test/jdk-defaults.test.ts re-measures on every installed JDK (17 on PATH, Temurin 25 where present) and fails when the rows for a measured feature version disagree; UPDATE_JDK_DEFAULTS=1 rewrites the rows of the measured JDKs.';

describe('JDKs measured', () => {
  it('JDK 25 (Temurin) is measured when installed', (ctx) => {
    expect(JDKS.length).toBeGreaterThan(0);
    if (!JDKS.some((j) => j.name === '25')) ctx.skip('Temurin 25 is not installed at /usr/lib/jvm/temurin-25-jdk-amd64: its rows in mappings/jdk-defaults.json are not re-measured here');
  });
});

for (const jdk of JDKS) {
  describe.skipIf(!straceUsable())(`mappings/jdk-defaults.json matches JDK ${jdk.name} (${jdk.java})`, () => {
    let dual: Measured, v4: Measured;
    beforeAll(async () => {
      [dual, v4] = await Promise.all([measure(false, jdk), measure(true, jdk)]);
      if (process.env.UPDATE_JDK_DEFAULTS === '1') update(dual, v4);
    }, 120000);
    afterAll(() => {});

    it('has rows for this JDK feature version', () => {
      const table = JSON.parse(readFileSync(FILE, 'utf8')) as { rows: JdkDefaultRow[] };
      const rows = table.rows.filter((r) => inRange(r.jdk, dual.feature));
      expect(rows.length, `no rows in mappings/jdk-defaults.json for JDK ${dual.version}: measure with UPDATE_JDK_DEFAULTS=1 and review the diff`).toBeGreaterThan(0);
    });

    it('has one row per kind, family, stack and JDK range (src/java/analyze.ts picks the first match)', () => {
      const table = JSON.parse(readFileSync(FILE, 'utf8')) as { rows: JdkDefaultRow[] };
      const keys = table.rows.map((r) => `${r.kind}|${r.family}|${r.preferIPv4Stack}|${r.jdk}`);
      expect(keys.length).toBe(new Set(keys).size);
    });

    it('agrees with the measurement under -Djava.net.preferIPv4Stack=true', () => {
      check(v4, true);
    });

    it('agrees with the measurement on the default (dual) stack', (ctx) => {
      if (dual.ipv6Error) ctx.skip(`no IPv6 on this host (${dual.ipv6Error}): the dual-stack rows cannot be measured`);
      check(dual, false);
    });

    it('records the defaults the JDK is known for', () => {
      // A sanity check of the measurement itself, independent of the file.
      const row = (kind: string, m = v4) => m.rows.find((r) => r.kind === kind)!;
      expect(row('ServerSocket').options.SO_REUSEADDR).toBe(1);
      expect(row('ServerSocket').backlog).toBe(50);
      expect(row('DatagramSocket').options.SO_BROADCAST).toBe(1);
      expect(row('MulticastSocket').options.SO_REUSEADDR).toBe(1);
      expect(row('Socket').options).toEqual({});
      if (!dual.ipv6Error) expect(dual.rows.filter((r) => r.family === 'AF_INET6').every((r) => r.kind.startsWith('accepted') || r.options.IPV6_V6ONLY === 0)).toBe(true);
      // JDK 25's one new default (issue 13): IPV6_MULTICAST_ALL=0 on IPv6 datagram sockets; 17 does not set it.
      if (!dual.ipv6Error) {
        const udp6 = dual.rows.filter((r) => r.family === 'AF_INET6' && /Datagram|Multicast/.test(r.kind));
        expect(udp6.length).toBeGreaterThan(0);
        for (const r of udp6) expect(r.options.IPV6_MULTICAST_ALL, `${r.kind} on JDK ${dual.feature}`).toBe(dual.feature >= 25 ? 0 : undefined);
      }
    });
  });
}

/** Rewrites the rows of the measured JDK's feature version, keeping the others. */
function update(dual: Measured, v4: Measured): void {
  const table = JSON.parse(readFileSync(FILE, 'utf8')) as { measuredOn?: unknown; rows: JdkDefaultRow[] };
  const jdk = String(dual.feature);
  const source = `probe: samples/java/Probe.java under strace on JDK ${dual.version} (${dual.vendor})`;
  const kept = table.rows.filter((r) => r.jdk !== jdk);
  const measuredOn = (Array.isArray(table.measuredOn) ? table.measuredOn : table.measuredOn ? [table.measuredOn] : []) as { version: string; vendor: string }[];
  const others = measuredOn.filter((m) => !m.version.startsWith(`${jdk}.`) && m.version !== jdk);
  const rows = [...kept, ...[...dual.rows, ...v4.rows].map((r) => ({ ...r, jdk, source }))];
  rows.sort((a, b) => Number(a.jdk) - Number(b.jdk));
  const out = { about: ABOUT, measuredOn: [...others, { version: dual.version, vendor: dual.vendor }].sort((a, b) => parseInt(a.version) - parseInt(b.version)), rows };
  writeFileSync(FILE, JSON.stringify(out, null, 2) + '\n');
}

function check(m: Measured, preferIPv4Stack: boolean): void {
  const table = JSON.parse(readFileSync(FILE, 'utf8')) as { rows: JdkDefaultRow[] };
  const want = new Map(table.rows.filter((r) => inRange(r.jdk, m.feature) && r.preferIPv4Stack === preferIPv4Stack).map((r) => [key(r), comparable(r)]));
  const got = new Map(m.rows.map((r) => [key(r), comparable(r)]));
  expect([...got.keys()].sort(), `socket kinds measured vs recorded for JDK ${m.version}`).toEqual([...want.keys()].sort());
  for (const [k, g] of got) expect(JSON.parse(JSON.stringify(g)), `${k} on JDK ${m.version} (${m.vendor})`).toEqual(JSON.parse(JSON.stringify(want.get(k))));
}
