// examples/ansible/knetstat-java.yml run by Debian's ansible against localhost
// over the local connection, with real JVMs (ours only: knetstat_java_pids):
// one per host JUnit file fetched,
// valid against the JUnit schema, with our JVM's suites in it; a JVM that
// exits between `list` and its check is a skipped suite, not a failure; a
// failed rule fails the host only after its file was fetched. Both ways of
// running the tool: the copied executable, and npx of the packed package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XSD, junitparser, xmllint } from './helpers/junit.js';
import { ROOT, WORK, startJvm, type Jvm } from './helpers/jvm.js';
import { EXE } from './helpers/nonode.js';

const PLAYBOOK_DIR = join(ROOT, 'examples', 'ansible');
const haveAnsible = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { stdio: 'ignore' }).status === 0;
const skip = !haveAnsible ? 'ansible-playbook is not installed (apt-get install ansible)'
  : !existsSync(EXE) ? 'dist/knetstat-java not built (npm run build:exe)'
    : process.getuid?.() !== 0 ? 'needs root (the playbook reads every JVM of the host)' : undefined;
if (skip) console.warn(`ansible.test.ts: skipping: ${skip}`);

const OUT = join(WORK, 'ansible');
/** Playbooks still running when the tests end (a timeout): ended, not left behind. */
const running = new Set<ChildProcess>();
afterAll(() => { for (const p of running) p.kill('SIGTERM'); });

function playbook(name: string, extra: Record<string, unknown>): Promise<{ code: number; out: string }> {
  const results = join(OUT, name, 'results');
  rmSync(join(OUT, name), { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  const vars = { ansible_python_interpreter: '/usr/bin/python3', knetstat_java_become: false, knetstat_java_results: results, ...extra };
  const args = ['-i', 'localhost,', '-c', 'local', '-e', JSON.stringify(vars), 'knetstat-java.yml'];
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(OUT, name, 'tmp'), ANSIBLE_HOME: join(OUT, name, 'home') };
  // Asynchronous: the JVM the wrapper kills is our child, and must be reaped while the playbook runs.
  return new Promise((res) => {
    const p = spawn('ansible-playbook', args, { cwd: PLAYBOOK_DIR, env });
    running.add(p);
    p.on('exit', () => running.delete(p));
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => res({ code: code ?? -1, out }));
  });
}

const suitesOf = (parsed: ReturnType<typeof junitparser>, pid: number) => parsed.suites.filter((s) => s.properties.pid === String(pid));

/**
 * The suites of these pids only, as a file for junitparser: the host's file holds
 * every JVM of the machine (other tests' 10,000-socket ones too), more than
 * junitparser's JSON through spawnSync's buffer.
 */
function onlyPids(xml: string, pids: number[]): string {
  const out = `${xml}.ours.xml`;
  const py = [
    'import sys, xml.etree.ElementTree as ET',
    'root = ET.parse(sys.argv[1]).getroot(); out = ET.Element("testsuites")',
    'for s in root.iter("testsuite"):',
    '    if {p.get("name"): p.get("value") for p in s.iter("property")}.get("pid") in sys.argv[3:]: out.append(s)',
    'ET.ElementTree(out).write(sys.argv[2], encoding="UTF-8", xml_declaration=True)',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', py, xml, out, ...pids.map(String)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`filtering ${xml}: ${r.stderr}`);
  return out;
}

describe('examples/ansible/merge-junit.py', () => {
  it("merges per-JVM files into one valid file, a vanished JVM a skipped suite, the target's text made safe", () => {
    const dir = join(OUT, 'merge');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const suite = (pid: number, failures: number) => `<testsuite name="r" tests="2" failures="${failures}" errors="0" skipped="0"><properties><property name="pid" value="${pid}"/></properties><testcase name="s" classname="r"/><testcase name="t" classname="r"/></testsuite>`;
    writeFileSync(join(dir, 'junit-10.xml'), `<?xml version="1.0"?><testsuites name="knetstat-java" tests="2" failures="1" errors="0">${suite(10, 1)}</testsuites>`);
    writeFileSync(join(dir, 'junit-11.xml'), `<?xml version="1.0"?><testsuites name="knetstat-java" tests="2" failures="0" errors="0">${suite(11, 0)}</testsuites>`);
    const out = join(dir, 'host.xml');
    const r = spawnSync('python3', [join(PLAYBOOK_DIR, 'merge-junit.py'), out, dir, '--gone', '12=app\x1b[2J\x1b]0;pwned\x07Main\x07'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(xmllint(out).code).toBe(0);
    const p = junitparser(out);
    expect(p).toMatchObject({ tests: 5, failures: 1 });
    expect(p.suites.map((s) => s.properties.pid)).toEqual(['10', '11', '12']);
    expect(p.suites[2]!.properties.mainClass).toBe('appMain?');
  });
});

describe.skipIf(skip)(`examples/ansible against localhost${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let jvm: Jvm;
  let victim: Jvm;
  beforeAll(async () => {
    // SocketLab's listeners queue 50 (the JDK's default): "listeners queue at least 128" fails.
    jvm = await startJvm('SocketLab', ['a:server', 'c:client:keepAlive=true']);
    victim = await startJvm('SocketLab', ['v:udp']);
  });
  afterAll(async () => { await jvm?.stop(); await victim?.stop(); });

  it('copies the executable, checks every JVM, fetches one valid JUnit file, then fails the host for the failed rule', async () => {
    // The executable the playbook copies: the real one, behind a wrapper that kills
    // `victim` just before its check, as if it had exited after `list`.
    const wrapper = join(OUT, 'knetstat-java-wrapper');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(wrapper, [
      '#!/bin/sh',
      `if [ "$1" = check ] && [ "$2" = ${victim.pid} ]; then`,
      `  kill -9 ${victim.pid}; i=0`,
      `  while [ $i -lt 100 ] && grep -qv ') Z ' /proc/${victim.pid}/stat 2>/dev/null; do sleep 0.05; i=$((i+1)); done`,
      'fi',
      `exec ${EXE} "$@"`, ''].join('\n'));
    chmodSync(wrapper, 0o755);
    const before = readdirSync('/tmp').filter((f) => f.startsWith('knetstat-java.'));
    // Our JVMs only: other tests' JVMs on this machine (hostile ones among them) are not this test's.
    const r = await playbook('copy', { knetstat_java_exe: wrapper, knetstat_java_pids: [jvm.pid, victim.pid] });
    expect(r.out).toMatch(/Fail when a rule failed.*\n.*FAILED!.*a rule failed on localhost/);
    expect(r.code, r.out).toBe(2); // ansible-playbook: a host failed
    const xml = join(OUT, 'copy', 'results', 'localhost.xml');
    expect(existsSync(xml), r.out).toBe(true);
    expect(xmllint(xml).code, `schema ${XSD}`).toBe(0);
    const parsed = junitparser(onlyPids(xml, [jvm.pid, victim.pid]));
    const ours = suitesOf(parsed, jvm.pid);
    expect(ours.map((s) => s.name).sort()).toEqual(['PostgreSQL connections detect a dead server', 'close() never resets connections', 'listeners queue at least 128 connections']);
    expect(ours.find((s) => s.name.startsWith('listeners'))!.failures).toBeGreaterThan(0);
    const gone = suitesOf(parsed, victim.pid);
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ name: `pid ${victim.pid}`, failures: 0, skipped: 1 });
    expect(gone[0]!.properties.mainClass).toBe('SocketLab');
    expect(gone[0]!.cases[0]!.results[0]).toMatchObject({ kind: 'Skipped', message: 'the JVM exited before it was checked' });
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
    const r = await playbook('npx', { knetstat_java_mode: 'npx', knetstat_java_npx_package: tgz, knetstat_java_fail_on_violation: false, knetstat_java_pids: [jvm.pid] });
    expect(r.code, r.out).toBe(0);
    const xml = join(OUT, 'npx', 'results', 'localhost.xml');
    expect(xmllint(xml).code).toBe(0);
    const ours = suitesOf(junitparser(onlyPids(xml, [jvm.pid])), jvm.pid);
    expect(ours).toHaveLength(3);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(readFileSync(xml, 'utf8')).toContain(`<property name="tool" value="knetstat-java ${version}"`);
  }, 600_000); // npx starts npm for every command: slow on a loaded machine
});
