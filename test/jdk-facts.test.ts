// mappings/jdk-facts.json records, per JDK feature version, the JDK behaviour the
// analysis relies on beyond the defaults (issue 13 items 5, 6, 8): which options
// each class supports, which uses leave the fd O_NONBLOCK, what sockets accepted
// by each listener kind read for SO_REUSEADDR, what getOption reads back for a
// buffer, and which threads appear. samples/java/JdkFacts.java measures them;
// this test runs it on every installed JDK (17 on PATH, Temurin 25 where present)
// and fails when the file disagrees. UPDATE_JDK_FACTS=1 rewrites the measured JDKs' entries.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLASSES, compileSamples, ROOT } from './helpers/jvm.js';
import { installedJdks } from './helpers/oracle.js';

const FILE = join(ROOT, 'mappings', 'jdk-facts.json');
const OPENS = ['java.io', 'java.net', 'sun.nio.ch'].flatMap((p) => ['--add-opens', `java.base/${p}=ALL-UNNAMED`]);
const FACTS = ['supportedOptions', 'nonblocking', 'acceptedReuseAddr', 'bufferReadBack', 'newThreads'] as const;

interface Measured {
  java: { version: string; feature: number; vendor: string };
  [k: string]: unknown;
}

function measure(java: string): Measured {
  compileSamples();
  return JSON.parse(execFileSync(java, ['-Xshare:auto', ...OPENS, '-cp', CLASSES, 'JdkFacts'], { encoding: 'utf8', timeout: 60_000 }));
}

const JDKS = installedJdks();

describe('mappings/jdk-facts.json matches every installed JDK', () => {
  it('JDK 25 (Temurin) is measured when installed', (ctx) => {
    if (!JDKS.some((j) => j.name === '25')) ctx.skip('Temurin 25 is not installed at /usr/lib/jvm/temurin-25-jdk-amd64: its entry is not re-measured here');
  });
  it('every fact names its source', () => {
    const table = JSON.parse(readFileSync(FILE, 'utf8'));
    for (const f of FACTS) expect(String(table.sources?.[f] ?? '').length, f).toBeGreaterThan(10);
  });
  for (const jdk of JDKS) {
    it(`JDK ${jdk.name} (${jdk.java})`, () => {
      const m = measure(jdk.java);
      const table = JSON.parse(readFileSync(FILE, 'utf8'));
      const key = String(m.java.feature);
      if (process.env.UPDATE_JDK_FACTS === '1') {
        table.jdks ??= {};
        table.jdks[key] = { measuredOn: m.java, ...Object.fromEntries(FACTS.map((f) => [f, m[f]])) };
        writeFileSync(FILE, JSON.stringify(table, null, 2) + '\n');
      }
      const want = table.jdks?.[key];
      expect(want, `no entry for JDK ${m.java.version} in mappings/jdk-facts.json: measure with UPDATE_JDK_FACTS=1 and review the diff`).toBeTruthy();
      for (const f of FACTS) expect(m[f], `${f} on JDK ${m.java.version}`).toEqual(want[f]);
      // The facts the analysis fixes depend on (issue 13), independent of the file:
      const sup = m.supportedOptions as Record<string, string[]>;
      for (const cls of ['java.net.ServerSocket', 'java.nio.channels.ServerSocketChannel', 'java.nio.channels.AsynchronousServerSocketChannel']) {
        expect(sup[cls], cls).toEqual(expect.arrayContaining(['TCP_KEEPIDLE', 'TCP_KEEPINTERVAL', 'TCP_KEEPCOUNT']));
        expect(sup[cls], `${cls} has no SO_SNDBUF`).not.toContain('SO_SNDBUF');
      }
      expect((m.acceptedReuseAddr as Record<string, boolean>)['ServerSocketChannel.open(StandardProtocolFamily.INET)']).toBe(true);
      const nb = m.nonblocking as Record<string, boolean>;
      expect(nb['AsynchronousSocketChannel connected'] && nb['SocketChannel configureBlocking(false)'] && !nb['SocketChannel blocking']).toBe(true);
    });
  }
});
