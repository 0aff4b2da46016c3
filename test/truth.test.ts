// issue 13: every claim of the report against three oracles (the fixture's own
// record, strace, Java's getOption) and javac, over seeded random JVMs
// (samples/java/TruthLab.java) on every installed JDK and launch variant.
// test/helpers/oracle.ts is the harness; this file runs it and reports.
//
// Environment:
//   TRUTH_SEEDS=1-10        seeds (ranges and commas; default 1-2)
//   TRUTH_JDKS=17,25        JDKs to run (default: every installed one)
//   TRUTH_VARIANTS=dual,argv,JAVA_TOOL_OPTIONS,JDK_JAVA_OPTIONS,_JAVA_OPTIONS,argfile
//                           how -Djava.net.preferIPv4Stack=true is given (default dual,argv,JAVA_TOOL_OPTIONS)
//   TRUTH_PROBE=1           also run the tool with --probe-jdk (or a list of variants to do it on: TRUTH_PROBE=dual)
//   TRUTH_OUT=name          output file names (default catalogue.json, summary.txt): <name>.json, <name>.txt
//   TRUTH_STRICT=0          report wrong claims without failing (for catalogue runs over many
//                           seeds). On by default since the issue-13 fix: any wrong claim fails.
// Always enforced: the harness itself is exact (every recorded socket is found by fd in
// strace and in the report with the recorded ports, every recorded setter shows up in
// strace), and the oracles catch planted wrong claims.
// Output: test/.work/truth/catalogue.json (machine-readable) and summary.txt.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  catalogue, check, installedJdks, javacOracle, javaStrings, join3, reproduction, runSeed, startTruthLab, runTool, summary,
  TOOL_RUNS, TRUTH_DIR, VARIANTS, type SeedResult, type Variant,
} from './helpers/oracle.js';
import { straceUsable } from './helpers/strace.js';

function seeds(spec: string): number[] {
  return spec.split(',').flatMap((p) => {
    const m = /^(\d+)-(\d+)$/.exec(p.trim());
    return m ? Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i) : [Number(p)];
  }).filter((n) => Number.isFinite(n));
}

const SEEDS = seeds(process.env.TRUTH_SEEDS ?? '1-2');
const JDKS = installedJdks();
const RUN_JDKS = process.env.TRUTH_JDKS ? JDKS.filter((j) => process.env.TRUTH_JDKS!.split(',').includes(j.name)) : JDKS;
const RUN_VARIANTS = (process.env.TRUTH_VARIANTS?.split(',') ?? ['dual', 'argv', 'JAVA_TOOL_OPTIONS']).filter((v): v is Variant => (VARIANTS as string[]).includes(v));
const STRICT = process.env.TRUTH_STRICT !== '0';
const PROBE = process.env.TRUTH_PROBE ?? '';
const toolsFor = (v: Variant) => (PROBE === '1' || PROBE.split(',').includes(v) ? [...TOOL_RUNS, { label: 'pidfd --probe-jdk', args: ['--source', 'pidfd', '--probe-jdk'] }] : TOOL_RUNS);

const results: SeedResult[] = [];

afterAll(() => {
  if (!results.length) return;
  const cat = catalogue(results);
  const out = process.env.TRUTH_OUT;
  writeFileSync(join(TRUTH_DIR, out ? `${out}.json` : 'catalogue.json'), JSON.stringify(cat, null, 2) + '\n');
  const lines = [...results.map(summary), '', 'by category:', ...Object.entries(cat.byCategory).map(([k, n]) => `  ${String(n).padStart(5)}  ${k}`),
    'by issue-13 item:', ...Object.entries(cat.byItem).map(([k, n]) => `  ${String(n).padStart(5)}  item ${k}`),
    ...Object.entries(cat.byTool).flatMap(([t, c]) => [`tool ${t}:`, ...Object.entries(c.byItem).map(([k, n]) => `  ${String(n).padStart(5)}  item ${k}`)]), '', 'examples:'];
  for (const d of cat.examples) {
    const r = results.find((x) => x.seed === d.seed && x.jdk === d.jdk && x.variant === d.variant)!;
    lines.push(`- item ${d.item} ${d.category} (seed ${d.seed}, JDK ${d.jdk}, ${d.variant}, ${d.tool}): ${d.socket?.id} ${d.socket?.class} ${d.socket?.role} fd ${d.socket?.fd}`,
      `    claim: ${d.claim}`, `    truth: ${d.truth}`, `    ${d.detail}`, ...reproduction(r, d).map((c) => `      ${c}`));
  }
  const summaryFile = join(TRUTH_DIR, out ? `${out}.txt` : 'summary.txt');
  writeFileSync(summaryFile, lines.join('\n') + '\n');
  process.stdout.write(`\ntruth: ${cat.discrepancies.length} wrong claims over ${results.length} runs (${summaryFile})\n`);
});

describe.skipIf(!straceUsable() || !JDKS.length)('truth: the report against the fixture, strace, getOption and javac', () => {
  it('finds the JDKs it runs on', (ctx) => {
    expect(JDKS.length).toBeGreaterThan(0);
    if (!JDKS.some((j) => j.name === '25')) ctx.skip('Temurin 25 is not installed at /usr/lib/jvm/temurin-25-jdk-amd64: JDK 25 runs are skipped');
  });

  for (const jdk of RUN_JDKS) {
    for (const variant of RUN_VARIANTS) {
      for (const seed of SEEDS) {
        it(`seed ${seed}, JDK ${jdk.name}, ${variant}`, async () => {
          const r = await runSeed(seed, jdk, variant, JDKS, toolsFor(variant));
          results.push(r);
          process.stdout.write(summary(r) + '\n');
          expect(r.sanity, 'the harness could not join record, strace and report').toEqual([]);
          expect(r.sockets).toBeGreaterThan(20);
          if (variant !== 'dual') expect(r.facts.record.length).toBeGreaterThan(0);
          if (STRICT) expect(r.discrepancies.map((d) => `${d.category} item ${d.item}: ${d.socket?.id} ${d.claim} / ${d.truth}`)).toEqual([]);
        }, 300_000);
      }
    }
  }

  it('catches planted wrong claims (the oracles can fail)', async () => {
    const jdk = JDKS[0]!;
    const run = await startTruthLab(7, jdk, 'dual');
    try {
      const tool = runTool(run.pid, TOOL_RUNS[0]!.args, 'planted');
      const sanity = { problems: [] as string[] };
      const joined = join3(run, tool.report, sanity);
      expect(sanity.problems).toEqual([]);
      // A connected socket on which nobody set SO_KEEPALIVE: claim the application did.
      const victim = joined.find((j) => j.rep && j.rec.role === 'connected' && !j.writes.some((w) => w.name === 'SO_KEEPALIVE'))!;
      expect(victim).toBeTruthy();
      victim.rep.java.push({ api: victim.rec.class, call: 'setKeepAlive(true)', origin: 'application', options: ['SO_KEEPALIVE'] });
      // A call that does not exist on the class it names.
      victim.rep.java.push({ api: 'java.nio.channels.DatagramChannel', call: 'setTrafficClass(0x10)', origin: 'jdk-default', options: ['IP_TOS'] });
      // A wrong role and a wrong value.
      const other = joined.find((j) => j.rep && j.rec.role === 'listening')!;
      other.rep.role = 'connected';
      victim.rep.options.TCP_NODELAY = { ...victim.rep.options.TCP_NODELAY, value: victim.rep.options.TCP_NODELAY.value ? 0 : 1 };
      const javac = javacOracle(joined.flatMap((j) => (j.rep ? javaStrings(j.rep) : [])), JDKS);
      const found = check({ run, tool, joined, javac });
      const on = (id: string, cat: string) => found.some((d) => d.socket?.id === id && d.category === cat);
      expect(on(victim.rec.id, 'phantom-application-call')).toBe(true);
      expect(on(victim.rec.id, 'non-compiling-call')).toBe(true);
      expect(on(victim.rec.id, 'wrong-value')).toBe(true);
      expect(on(other.rec.id, 'wrong-role')).toBe(true);
    } finally {
      await run.stop();
    }
  }, 300_000);
});
