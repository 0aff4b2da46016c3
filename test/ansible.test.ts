// examples/ansible/knetstat-java.yml run by Debian's ansible against localhost
// over the local connection, with real JVMs, in a private pid namespace (so
// every JVM of "the host" is the test's own: test/helpers/pidns.ts): one
// JUnit file per host fetched, valid against the JUnit schema, with a suite per
// JVM and rule (check --all-jvms); a JVM that exits during the run is a skipped
// suite, not a failure; a failed rule fails the host only after its file was
// fetched. Both ways of running the tool: the copied executable, and npx of
// the packed package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XSD, junitparser, xmllint } from './helpers/junit.js';
import { ROOT, WORK, startJvm, type Jvm } from './helpers/jvm.js';
import { EXE } from './helpers/nonode.js';
import { pidNamespace, pidNamespaceUnavailable, type PidNamespace } from './helpers/pidns.js';

const PLAYBOOK_DIR = join(ROOT, 'examples', 'ansible');
const haveAnsible = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { stdio: 'ignore' }).status === 0;
const skip = !haveAnsible ? 'ansible-playbook is not installed (apt-get install ansible)'
  : !existsSync(EXE) ? 'dist/knetstat-java not built (npm run build:exe)'
    : process.getuid?.() !== 0 ? 'needs root (the playbook reads every JVM of the host)' : pidNamespaceUnavailable();
if (skip) console.warn(`ansible.test.ts: skipping: ${skip}`);

const OUT = join(WORK, 'ansible');
/** Playbooks still running when the tests end (a timeout): ended, not left behind. */
const running = new Set<ChildProcess>();
afterAll(() => { for (const p of running) p.kill('SIGTERM'); });

function playbook(ns: PidNamespace, name: string, extra: Record<string, unknown>): Promise<{ code: number; out: string }> {
  const results = join(OUT, name, 'results');
  rmSync(join(OUT, name), { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const vars = { ansible_python_interpreter: '/usr/bin/python3', knetstat_java_become: false, knetstat_java_results: results, ...extra };
  const args = ['-i', 'localhost,', '-c', 'local', '-e', JSON.stringify(vars), 'knetstat-java.yml'];
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(OUT, name, 'tmp'), ANSIBLE_HOME: join(OUT, name, 'home') };
  // Asynchronous: the JVM the wrapper kills is our child, and must be reaped while the playbook runs.
  return new Promise((res) => {
    // Inside the namespace: the playbook, and the tool it runs, see only the test's JVMs.
    const p = spawn(ns.enter[0]!, [...ns.enter.slice(1), `--wd=${PLAYBOOK_DIR}`, 'ansible-playbook', ...args], { env });
    running.add(p);
    p.on('exit', () => running.delete(p));
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    // 'close', not 'exit': the playbook's last lines (its failure, the recap) may reach us after its exit is seen.
    p.on('close', (code) => res({ code: code ?? -1, out }));
  });
}

const suitesOf = (parsed: ReturnType<typeof junitparser>, pid: number) => parsed.suites.filter((s) => s.properties.pid === String(pid));

describe.skipIf(skip)(`examples/ansible against localhost${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let ns: PidNamespace;
  let jvm: Jvm;
  let victim: Jvm;
  beforeAll(async () => {
    ns = await pidNamespace();
    // SocketLab's listeners queue 50 (the JDK's default): "listeners queue at least 128" fails.
    // Started in this order: the tool reads jvm first (lower pid), victim after.
    jvm = await startJvm('SocketLab', ['a:server', 'c:client:keepAlive=true'], { wrapper: ns.enter });
    victim = await startJvm('SocketLab', ['v:udp'], { wrapper: ns.enter });
  });
  afterAll(async () => { await jvm?.stop(); await victim?.stop(); await ns?.close(); });

  it('copies the executable, checks every JVM, fetches one valid JUnit file, then fails the host for the failed rule', async () => {
    // The executable the playbook copies: the real one, behind a wrapper that stops it at its
    // first socket() (strace injects SIGSTOP: the list is made, the first JVM is being read),
    // kills `victim`, and lets it go on: a JVM that exits during the run.
    const wrapper = join(OUT, 'knetstat-java-wrapper');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(wrapper, [
      '#!/bin/sh',
      'log=$(mktemp)',
      `strace -f -qq -o "$log" -e trace=socket -e inject=socket:signal=SIGSTOP:when=1 ${EXE} "$@" &`,
      'st=$!',
      'while kill -0 $st 2>/dev/null; do',
      `  p=$(sed -n 's/^\\([0-9]*\\) *--- stopped by SIGSTOP ---$/\\1/p' "$log" | head -n 1)`,
      '  if [ -n "$p" ]; then',
      `    kill -9 ${victim.pid}; i=0`,
      `    while [ $i -lt 200 ] && grep -qv ') Z ' /proc/${victim.pid}/stat 2>/dev/null; do sleep 0.05; i=$((i+1)); done`,
      '    kill -CONT "$p"; break',
      '  fi',
      '  sleep 0.01',
      'done',
      'wait $st; rc=$?; rm -f "$log"; exit $rc', ''].join('\n'));
    chmodSync(wrapper, 0o755);
    const before = readdirSync('/tmp').filter((f) => f.startsWith('knetstat-java.'));
    const r = await playbook(ns, 'copy', { knetstat_java_exe: wrapper });
    expect(r.out).toMatch(/Fail when a rule failed.*\n.*FAILED!.*a rule failed on localhost/);
    expect(r.code, r.out).toBe(2); // ansible-playbook: a host failed
    const xml = join(OUT, 'copy', 'results', 'localhost.xml');
    expect(existsSync(xml), r.out).toBe(true);
    expect(xmllint(xml).code, `schema ${XSD}`).toBe(0);
    const parsed = junitparser(xml);
    // Every JVM of the (namespace's) host, and nothing else.
    expect(new Set(parsed.suites.map((s) => s.properties.pid))).toEqual(new Set([String(jvm.pid), String(victim.pid)]));
    const ours = suitesOf(parsed, jvm.pid);
    const prefix = `pid ${jvm.pid} (SocketLab): `;
    expect(ours.map((s) => s.name).sort()).toEqual(['PostgreSQL connections detect a dead server', 'close() never resets connections', 'listeners queue at least 128 connections'].map((n) => prefix + n));
    expect(ours.find((s) => s.name.startsWith(`${prefix}listeners`))!.failures).toBeGreaterThan(0);
    for (const s of ours) expect(s.properties).toMatchObject({ mainClass: 'SocketLab', pid: String(jvm.pid), host: expect.any(String) });
    const gone = suitesOf(parsed, victim.pid);
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ name: `pid ${victim.pid} (SocketLab)`, failures: 0, errors: 0, skipped: 1 });
    expect(gone[0]!.properties.mainClass).toBe('SocketLab');
    expect(gone[0]!.cases[0]!.results[0]).toMatchObject({ kind: 'Skipped' });
    expect(gone[0]!.cases[0]!.results[0]!.message).toMatch(/^the JVM exited during the run/);
    // The working directory on the host is gone.
    expect(readdirSync('/tmp').filter((f) => f.startsWith('knetstat-java.') && !before.includes(f))).toEqual([]);
  }, 600_000);

  it('runs the packed package with npx where Node is present; knetstat_java_fail_on_violation=false keeps the host green', async () => {
    const pack = join(OUT, 'pack');
    rmSync(pack, { recursive: true, force: true });
    mkdirSync(pack, { recursive: true });
    const p = spawnSync('npm', ['pack', '--silent', '--pack-destination', pack], { cwd: ROOT, encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const tgz = join(pack, p.stdout.trim().split('\n').pop()!);
    const r = await playbook(ns, 'npx', { knetstat_java_mode: 'npx', knetstat_java_npx_package: tgz, knetstat_java_fail_on_violation: false });
    expect(r.code, r.out).toBe(0);
    const xml = join(OUT, 'npx', 'results', 'localhost.xml');
    expect(xmllint(xml).code).toBe(0);
    const ours = suitesOf(junitparser(xml), jvm.pid);
    expect(ours).toHaveLength(3);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(readFileSync(xml, 'utf8')).toContain(`<property name="tool" value="knetstat-java ${version}"`);
  }, 600_000); // npx starts npm for every command: slow on a loaded machine
});
