// The data tables are checked against what they claim: the kernel's headers
// on this machine, and the README's generated table.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mappings } from '../../src/mappings.js';
import { libraryOf } from '../../src/observe/libraries.js';
import { withTable } from '../../src/cli/docs.js';
import { freshDefaults } from '../../src/linux/sockopt.js';
import { readSysctls } from '../../src/linux/sysctl.js';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import type { OptionValue, Protocol } from '../../src/model/types.js';
import { ROOT } from '../helpers/root.js';

/** Runs test/helpers/kernel-facts.py: what the kernel does on sockets of its own. */
function kernelFacts(request: unknown): any {
  return JSON.parse(execFileSync('python3', [join(ROOT, 'test', 'helpers', 'kernel-facts.py')], { input: JSON.stringify(request), encoding: 'utf8' }));
}

const PROTOCOLS: Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];
const fresh = freshDefaults();
const catalog = new Map(mappings().kernel.map((o) => [o.name, o]));
/** Does the catalog read this option on this kind of socket? */
const applies = (option: string, p: Protocol) => {
  const o = catalog.get(option);
  return !!o && o.protocols.includes(p.startsWith('tcp') ? 'tcp' : 'udp') && o.families.includes(p.endsWith('6') ? 6 : 4);
};

describe('every mappings/ table', () => {
  it('says what it is, and every row names its source', () => {
    const files = readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(ROOT, 'mappings', f), 'utf8'));
      expect(typeof doc.about, f).toBe('string');
      const rows: unknown[] = [];
      const walk = (v: unknown, key: string) => {
        if (Array.isArray(v)) { if (key !== 'protocols' && key !== 'families' && key !== 'states' && key !== 'roles' && key !== 'probes' && key !== 'measuredOn') for (const x of v) if (x && typeof x === 'object') rows.push(x); }
        if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
      };
      walk(doc, '');
      if (doc.jdks && doc.sources) {
        // Measured per JDK (jdk-facts.json): every section of every JDK names how it was measured.
        for (const facts of Object.values(doc.jdks as Record<string, Record<string, unknown>>)) {
          for (const k of Object.keys(facts)) if (k !== 'measuredOn') expect(typeof doc.sources[k] === 'string' && doc.sources[k].length > 5, `${f}: ${k}`).toBe(true);
        }
        continue;
      }
      expect(rows.length, f).toBeGreaterThan(0);
      // A kernel option's source is the uapi header that numbers it.
      for (const r of rows as Record<string, unknown>[]) {
        const source = r.source ?? r.header;
        expect(typeof source === 'string' && source.length > 5, `${f}: ${JSON.stringify(r).slice(0, 80)}`).toBe(true);
      }
    }
  });
});

describe('mappings/kernel-defaults.json', () => {
  it('is what a fresh socket of this machine has, on every kind that has the option', () => {
    let checked = 0;
    for (const [option, value] of Object.entries(mappings().kernelDefaults)) {
      for (const p of PROTOCOLS) {
        if (!applies(option, p) || !fresh[p]) continue;
        expect(fresh[p][option], `${p} ${option}`).toEqual(value);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('mappings/sysctl-defaults.json', () => {
  const sc = readSysctls();
  const rules = mappings().sysctlRules;
  it('names sysctls the capture records', () => {
    for (const r of rules) expect(sc[r.sysctl], r.sysctl).toBeDefined();
  });
  it('each sysctl is the value a fresh socket of this machine has', () => {
    for (const r of rules) {
      if (r.option === 'backlog') continue;
      const raw = sc[r.sysctl]!;
      const want = r.index === undefined ? raw : raw.split(' ')[r.index]!;
      for (const p of PROTOCOLS) {
        if (!r.protocols.includes(p.startsWith('tcp') ? 'tcp' : 'udp') || !applies(r.option, p) || !fresh[p]) continue;
        expect(String(fresh[p][r.option]), `${p} ${r.option} vs ${r.sysctl}`).toBe(want);
      }
    }
  });
  it('listen() caps the backlog at net.core.somaxconn', () => {
    const somaxconn = Number(sc['net.core.somaxconn']);
    expect(kernelFacts({ backlog: [somaxconn + 1000, 7] }).backlog).toEqual([somaxconn, 7]);
  });
});

describe('mappings/tos-priority.json', () => {
  it('is the SO_PRIORITY this kernel gives after IP_TOS', () => {
    expect(kernelFacts({ tos: true }).tos).toEqual(mappings().tosPriority);
    expect(new Set(mappings().tosPriority).size).toBeGreaterThan(1);
  });
});

describe('mappings/inherited-options.json', () => {
  /** A value to set on the listener that differs from a fresh socket's. */
  const SET: Record<string, number | string> = {
    SO_KEEPALIVE: 1, TCP_NODELAY: 1, SO_LINGER: 7, SO_RCVBUF: 40000, SO_SNDBUF: 40000, SO_REUSEADDR: 1, SO_REUSEPORT: 1,
    SO_PRIORITY: 3, SO_MARK: 7, IP_TOS: 0x10, IPV6_TCLASS: 0x28, TCP_KEEPIDLE: 33, TCP_KEEPINTVL: 11, TCP_KEEPCNT: 4,
    TCP_USER_TIMEOUT: 5000, TCP_CONGESTION: 'reno', TCP_NOTSENT_LOWAT: 12345, SO_OOBINLINE: 1, SO_RCVTIMEO: 2, SO_SNDTIMEO: 3,
    IPV6_V6ONLY: 1,
  };
  it('every option set on a listener comes with the socket it accepts', () => {
    const options = [...mappings().inherited];
    const request = options.map((name) => {
      const o = catalog.get(name)!;
      expect(o, name).toBeDefined();
      expect(SET[name], `a value for ${name}`).toBeDefined();
      return { name, level: o.levelNum, optname: o.optname, type: o.type, set: SET[name], family: o.families.includes(4) ? 4 : 6 };
    });
    const got = kernelFacts({ inherited: request }).inherited as Record<string, { listener: string; accepted: string; fresh: string; skipped?: string }>;
    for (const name of options) {
      const r = got[name]!;
      if (r.skipped) { expect(process.getuid?.(), `${name} skipped: ${r.skipped}`).not.toBe(0); continue; }
      expect(r.listener, `${name} was set`).not.toBe(r.fresh);
      expect(r.accepted, `${name} inherited`).toBe(r.listener);
    }
  });
  it('and options not in the table are not: sk_priority is reset by sk_clone_lock(), TCP_DEFER_ACCEPT stays on the listener', () => {
    const cases = [['SO_PRIORITY', 3], ['TCP_DEFER_ACCEPT', 5]] as const;
    const got = kernelFacts({ inherited: cases.map(([name, set]) => {
      const o = catalog.get(name)!;
      return { name, level: o.levelNum, optname: o.optname, type: o.type, set, family: 4 };
    }) }).inherited;
    for (const [name] of cases) {
      const r = got[name];
      expect(r.listener, name).not.toBe(r.fresh);
      expect(r.accepted, name).toBe(r.fresh);
      expect(mappings().inherited.has(name), name).toBe(false);
    }
  });
});

describe('mappings/socket-kinds.json', () => {
  const { kinds, java, jdk } = mappings();
  it('has every role, its group a class group of java-api.json, each api one of its classes', () => {
    expect(Object.keys(kinds).sort()).toEqual(['accepted', 'connected', 'listening', 'udp', 'unconnected']);
    for (const [role, rk] of Object.entries(kinds)) {
      for (const k of rk.kinds) {
        const cls = java.classes[k.group ?? rk.group];
        expect(cls, role).toBeDefined();
        expect([cls.classic, cls.nio, cls.async, cls.multicast], `${role} ${k.kind}`).toContain(k.api);
      }
    }
  });
  it('names every kind jdk-defaults.json has rows for', () => {
    const named = new Set(Object.values(kinds).flatMap((rk) => rk.kinds.map((k) => k.kind)));
    for (const r of jdk) expect(named.has(r.kind), r.kind).toBe(true);
  });
});

describe('mappings/unobservable.json', () => {
  it('has every role, each call with a reason', () => {
    const u = mappings().unobservable;
    expect(Object.keys(u).sort()).toEqual(['accepted', 'connected', 'listening', 'udp', 'unconnected']);
    for (const rows of Object.values(u)) for (const r of rows) {
      expect(r.call).toMatch(/^set[A-Z]\w+$/);
      expect(r.reason.length).toBeGreaterThan(10);
      expect('source' in r).toBe(false); // the report carries the call, not the table's source
    }
  });
});

describe('mappings/kernel-options.json', () => {
  it('every level and option number matches this machine\'s C headers', () => {
    const opts = mappings().kernel;
    const dir = mkdtempSync(join(tmpdir(), 'knj-'));
    const body = opts.map((o) => `printf("%s %d %d\\n", "${o.name}", ${o.level === 'IPPROTO_IPV6' ? 'IPPROTO_IPV6' : o.level}, ${o.name === 'SO_RCVTIMEO' ? 'SO_RCVTIMEO_OLD' : o.name === 'SO_SNDTIMEO' ? 'SO_SNDTIMEO_OLD' : o.name});`).join('\n');
    writeFileSync(join(dir, 'o.c'), `#include <stdio.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <netinet/tcp.h>\n#include <linux/in6.h>\nint main(void){\n${body}\nreturn 0;}\n`);
    execFileSync('gcc', ['-o', join(dir, 'o'), join(dir, 'o.c')]);
    const lines = execFileSync(join(dir, 'o'), { encoding: 'utf8' }).trim().split('\n');
    for (const [i, o] of opts.entries()) expect(lines[i], o.name).toBe(`${o.name} ${o.levelNum} ${o.optname}`);
  });
  it('every option has a Java mapping row, and every row names its source', () => {
    const java = new Set(mappings().java.options.map((r) => r.option));
    for (const o of mappings().kernel) expect(java.has(o.name), o.name).toBe(true);
    for (const r of mappings().java.options) expect(r.source.length, r.option).toBeGreaterThan(5);
  });
});

describe('README', () => {
  it('holds the Java table exactly as mappings/ generates it (npm run docs)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(withTable(readme)).toBe(readme);
  });
  it('opens with the two commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(block).toMatch(/npm run demo/);
    expect(block).toMatch(/npm run test:all/);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/npm run test:all/);
  });
});

describe('table mappings/libraries.json', () => {
  const rows = mappings().libraries;
  it('rows have a package prefix, a name and the library\'s own source; no prefix twice', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    for (const r of rows) {
      expect(r.prefix, JSON.stringify(r)).toMatch(/^[a-z][a-z0-9_]*(\.[a-zA-Z_][a-zA-Z0-9_]*)*$/);
      expect(r.library.trim().length, r.prefix).toBeGreaterThan(1);
      expect(r.source, r.prefix).toMatch(/^https:\/\/[a-z0-9.-]+\.[a-z]{2,}\//);
      expect(r.source, r.prefix).not.toMatch(/stackoverflow|medium\.com|baeldung|mvnrepository/);
      if (r.layer !== undefined) expect(r.layer).toBe('io');
    }
    expect(new Set(rows.map((r) => r.prefix)).size).toBe(rows.length);
  });

  it('has every library the issue names', () => {
    const want: [string, string][] = [
      ['org.postgresql', 'PostgreSQL JDBC'], ['com.mysql.cj', 'MySQL Connector/J'], ['com.zaxxer.hikari', 'HikariCP'], ['org.apache.hc', 'Apache HttpClient 5'],
      ['okhttp3', 'OkHttp'], ['redis.clients.jedis', 'Jedis'], ['io.lettuce', 'Lettuce'], ['org.apache.kafka', 'Kafka client'], ['io.netty', 'Netty'],
      ['org.eclipse.jetty', 'Jetty'], ['org.apache.coyote', 'Tomcat'], ['org.apache.tomcat', 'Tomcat'], ['com.datastax', 'DataStax Java Driver (Cassandra)'],
      ['com.mongodb', 'MongoDB Java Driver'], ['software.amazon.awssdk', 'AWS SDK for Java 2'],
    ];
    for (const [prefix, library] of want) expect(rows.find((r) => r.prefix === prefix)?.library, prefix).toBe(library);
  });

  it('is longest prefix first, so a nested package wins over its parent', () => {
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.prefix.length).toBeGreaterThanOrEqual(rows[i]!.prefix.length);
  });

  // Against the real thing: every row whose library Debian ships here names a package of its jars.
  const JARS = '/usr/share/java';
  const classes = existsSync(JARS)
    ? readdirSync(JARS).filter((f) => f.endsWith('.jar') && !lstatSync(join(JARS, f)).isSymbolicLink())
      .flatMap((f) => { try { return execFileSync('unzip', ['-Z1', join(JARS, f)], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n'); } catch { return []; } })
      .filter((n) => n.endsWith('.class')).map((n) => n.slice(0, -6).replaceAll('/', '.'))
    : [];
  const under = (prefix: string) => classes.some((c) => c.startsWith(`${prefix}.`) || c.startsWith(`${prefix}$`) || c === prefix);
  // Skipped on a machine without the jars, never in CI (.ci/apt-packages installs them).
  it.runIf(classes.length > 0 || !!process.env.CI)('each row of a library installed in /usr/share/java names one of its packages', () => {
    expect(classes.length, `no classes listed from ${JARS} (install unzip and the jars of .ci/apt-packages)`).toBeGreaterThan(1000);
    // Debian: libpostgresql-jdbc-java, libhttpclient5-java, libnetty-java, libjetty9-java, libtomcat10-java (.ci/apt-packages).
    const shipped: Record<string, string[]> = {
      'PostgreSQL JDBC': ['org.postgresql.core.VisibleBufferedInputStream'], 'Apache HttpClient 5': ['org.apache.hc.core5.http.impl.io.SessionInputBufferImpl'],
      Netty: ['io.netty.channel.Channel'], Jetty: ['org.eclipse.jetty.server.Server'], Tomcat: ['org.apache.coyote.http11.Http11Processor'],
    };
    let checked = 0;
    for (const [library, cls] of Object.entries(shipped)) {
      if (!cls.every((c) => classes.includes(c))) continue;
      for (const r of rows.filter((x) => x.library === library)) {
        expect(under(r.prefix), `${r.prefix} (${library}) is no package of the installed jars`).toBe(true);
        checked++;
      }
      for (const c of cls) expect(libraryOf([c]), c).toBe(library);
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(under('org.postgresqlx')).toBe(false); // the check can fail
  });
});
