// --observe through the commands a user runs, on real TimeoutLab JVMs (each
// in a private /tmp): check with a soTimeout rule (pass, fail, unknown, exit
// codes; --expect, a policy file, JUnit validated against junit-10.xsd),
// snapshot -o with the observation and its offline render, the text report's
// lines, SIGTERM during the window, Ctrl-C (SIGINT) during the window on JDK
// 17 and Temurin 25 (jcmd's JFR.check before and after), the spinner on a
// terminal, and the free hint without --observe (JDK 17 and Temurin 25): a
// Socket that read with a timeout has a non-blocking fd, one with
// setSoTimeout(0) or that never read has not.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachSession } from '../src/observe/attach.js';
import { readSnapshot } from '../src/snapshot/file.js';
import { CLI, runCli } from './helpers/cli.js';
import { junitparser, xmllint } from './helpers/junit.js';
import { ROOT, WORK } from './helpers/jvm.js';
import { cwdTrigger, entries, JDKS, jvmTmp, startLab, type Lab } from './helpers/observe.js';

const dir = mkdtempSync(join(WORK, 'observe-cli-'));
const labs: Lab[] = [];
afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
  rmSync(dir, { recursive: true, force: true });
});

interface Truth { id: string; role: string; api: string; group: string | null; localPort: number; remotePort: number; soTimeout: number | null }

async function lab(jdk = JDKS[0]!): Promise<Lab & { truth: Truth[]; by: (id: string) => Truth }> {
  // Pings every 100 ms: every reading socket reads in any window.
  const l = await startLab(jdk, 'TimeoutLab', ['groups=2', 'perGroup=2', 'periodic=100'], { iso: { privateTmp: true } });
  labs.push(l);
  const truth = l.ready.sockets as Truth[];
  return Object.assign(l, { truth, by: (id: string) => truth.find((t) => t.id === id)! });
}

/** What observing leaves in the JVM's /tmp and cwd beyond its attach socket: nothing. */
function leftovers(pid: number): string[] {
  return [...entries(jvmTmp(pid)).keys()].filter((n) => n.startsWith('knetstat-') || n.startsWith('.attach_pid') || /^\d{4}_\d\d_\d\d_/.test(n))
    .concat(cwdTrigger(pid));
}

describe.each(JDKS)('check --observe on $name: soTimeout', (jdk) => {
  let l: Awaited<ReturnType<typeof lab>>;
  beforeAll(async () => { l = await lab(jdk); });

  it('passes where every read had a timeout, fails on setSoTimeout(0), is unknown without a read', () => {
    const g0 = l.by('g0.c0'), inf = l.by('inf.c0'), idle = l.by('idle.c');
    const r = runCli(['check', String(l.pid), '--observe', '3s', '-f', 'json',
      '-e', `remotePort=${g0.remotePort}:soTimeout>=1`, '-e', `remotePort=${g0.remotePort}:soTimeout=${g0.soTimeout}`,
      '-e', `remotePort=${inf.remotePort},role=connected:soTimeout>=1`, '-e', `remotePort=${idle.remotePort}:soTimeout>=1`,
      '-e', `localPort=${g0.remotePort}:soTimeout<=${Math.min(...l.truth.filter((t) => t.group === 'g0' && t.role === 'accepted').map((t) => t.soTimeout!)) - 1}`]);
    expect(r.code, r.stderr).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.rules.map((x: any) => x.status)).toEqual(['pass', 'pass', 'fail', 'unknown', 'fail']);
    expect(res.rules[0].sockets).toHaveLength(2); // the pool of two
    // JDK 22+ stacks do not say which API read: a 0 there may be a blocking SocketChannel's, and is not called setSoTimeout(0).
    const zero = jdk.feature >= 22 ? '0, a Socket without setSoTimeout or a blocking SocketChannel' : 'setSoTimeout\\(0\\)';
    // (The window is the one measured: on a loaded machine a 3 s window may last 4.)
    expect(res.rules[2].sockets.map((s: any) => s.failures[0])).toEqual([0, 1].map(() => expect.stringMatching(new RegExp(`expected a read timeout >= 1 ms on .*found ${zero} \\(no timeout: infinite\\) \\(observed on \\d+ read\\(s\\) in \\d+ s, on the 2 connections to this peer together\\)`))));
    expect(res.rules[3].sockets[0].unknowns[0]).toMatch(/soTimeout on .* is unknown: no read observed in \d+ s/);
    expect(res.rules[4].sockets.flatMap((s: any) => s.failures).join('\n')).toMatch(/expected a read timeout <= \d+ ms on .*found setSoTimeout\(\d+\)/);
    expect(res.context.observation).toMatch(/^\d+ s of the JVM's own socket events/);
    expect(leftovers(l.pid)).toEqual([]);
  });
});

describe('check --observe: exit codes, and a policy file', () => {
  let l: Awaited<ReturnType<typeof lab>>;
  beforeAll(async () => { l = await lab(); });

  it('a policy with "soTimeout": {"min": 1} and an exact value passes: exit 0', () => {
    const g1 = l.truth.filter((t) => t.group === 'g1' && t.role === 'accepted');
    const policy = join(dir, 'timeouts.json');
    writeFileSync(policy, JSON.stringify({ rules: [
      { name: 'the g0 pool reads with a timeout', match: { remotePort: l.by('g0.c0').remotePort }, expect: { soTimeout: { min: 1 } } },
      ...g1.map((t) => ({ name: `accepted ${t.id}`, match: { localPort: t.localPort, remotePort: t.remotePort }, expect: { soTimeout: t.soTimeout } })),
    ] }));
    const r = runCli(['check', String(l.pid), '--observe', '2s', '-p', policy]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/3 rules: 3 passed, 0 failed, 0 skipped, 0 unknown/);
  });

  it('unknown only: exit 3, and without --observe soTimeout is unknown too', () => {
    const idle = l.by('idle.c');
    const r = runCli(['check', String(l.pid), '--observe', '2s', '-e', `remotePort=${idle.remotePort}:soTimeout>=1`]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/unknown: soTimeout on .* is unknown: no read observed in \d+ s/);
    const plain = runCli(['check', String(l.pid), '-e', `remotePort=${l.by('g0.c0').remotePort}:soTimeout>=1`]);
    expect(plain.code).toBe(3);
    expect(plain.stdout).toMatch(/no socket option holds it; check a live JVM with --observe <duration>/);
  });

  it('JUnit of soTimeout rules validates against junit-10.xsd: a failure for setSoTimeout(0), an error for unknown', () => {
    const out = join(dir, 'check-observed.xml');
    const g0 = l.by('g0.c0'), inf = l.by('inf.c0'), idle = l.by('idle.c');
    const r = runCli(['check', String(l.pid), '--observe', '2s', '-f', 'junit', '-o', out,
      '-e', `remotePort=${g0.remotePort}:soTimeout>=1`, '-e', `remotePort=${inf.remotePort},role=connected:soTimeout>=1`, '-e', `remotePort=${idle.remotePort}:soTimeout>=1`]);
    expect(r.code, r.stderr).toBe(1);
    const lint = xmllint(out);
    expect(lint.code, lint.stderr).toBe(0);
    const x = junitparser(out);
    expect(x.suites.map((s) => [s.tests, s.failures, s.errors])).toEqual([[2, 0, 0], [2, 2, 0], [1, 0, 1]]);
    expect(x.suites[0]!.properties.observation).toMatch(/^\d+ s of the JVM's own socket events \(JFR: jdk\.SocketRead, jdk\.SocketWrite/);
    expect(x.suites[1]!.cases[0]!.results[0]).toMatchObject({ kind: 'Failure', message: expect.stringMatching(/^expected a read timeout >= 1 ms on .*found setSoTimeout\(0\) \(no timeout: infinite\)/) });
    expect(x.suites[2]!.cases[0]!.results[0]).toMatchObject({ kind: 'Error', message: expect.stringMatching(/is unknown: no read observed in \d+ s/) });
    // Each socket's own observation is in its system-out, as in the text report.
    expect(x.suites[0]!.cases[0]!.systemOut).toMatch(new RegExp(`observed \\(--observe\\):\n {2}read timeout \\(peer group: the 2 connections to .*\\): setSoTimeout\\(${g0.soTimeout}\\) on \\d+ reads`));
  });

  it('bad input before the target is touched: a bad duration, --observe with --snapshot or without a pid', () => {
    const bad = runCli(['check', String(l.pid), '--observe', '10 parsecs', '-e', ':soTimeout>=1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^knetstat-java: --observe takes a duration from 1s to 1h, like 10s or 2m/);
    expect(runCli(['check', '--snapshot', 'x.json', '--observe', '2s', '-e', ':soTimeout>=1']).stderr).toMatch(/--observe needs a live process/);
    expect(runCli(['--observe', '2s']).code).toBe(2);
    expect(runCli(['check', String(l.pid), '-e', ':SO_TIMEOUT>=1']).stderr).toMatch(/unknown option 'SO_TIMEOUT' \(did you mean soTimeout\?\)/);
    expect(leftovers(l.pid)).toEqual([]);
  });
});

describe('snapshot --observe, rendered offline; the text report', () => {
  let l: Awaited<ReturnType<typeof lab>>;
  beforeAll(async () => { l = await lab(); });

  it('the snapshot carries the observation, validates, and renders it as the report does', () => {
    const file = join(dir, 'observed.json');
    const r = runCli(['snapshot', String(l.pid), '--observe', '2s', '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    const snap = readSnapshot(file); // the schema checks observed and observation
    const cap = snap.capture;
    expect(cap.observation).toMatchObject({ source: 'jfr', recorded: { events: ['jdk.SocketRead', 'jdk.SocketWrite'] } });
    const sec = cap.observation!.window.seconds; // as measured: 2, or more on a loaded machine
    expect(sec).toBeGreaterThanOrEqual(2);
    const port = (s: { local: { port: number }; remote: { port: number } }, t: Truth) => s.local.port === t.localPort && s.remote.port === t.remotePort;
    for (const t of l.truth.filter((x) => x.api === 'socket' && x.role === 'accepted')) {
      expect(cap.sockets.find((s) => port(s, t))!.observed, t.id).toMatchObject({ attribution: 'socket', soTimeout: [t.soTimeout] });
    }
    const json = JSON.parse(runCli(['render', file, '-f', 'json']).stdout);
    expect(json.observation).toEqual(cap.observation);
    expect(json.sockets.map((s: any) => s.observed)).toEqual(cap.sockets.map((s) => s.observed));
    // Offline, the same bytes every time, and the same as the report format renders the capture.
    const text = runCli(['render', file]).stdout;
    expect(runCli(['render', file]).stdout).toBe(text);
    const flat = text.replace(/\n {6}/g, ' '); // the read timeout lines as one line each
    const inf = l.by('inf.c0'), idle = l.by('idle.c');
    expect(text).toMatch(new RegExp(`observed \\(--observe\\): ${sec} s of the JVM's own socket events \\(JFR: jdk\\.SocketRead, jdk\\.SocketWrite`));
    expect(flat).toMatch(new RegExp(`read timeout \\(peer group: the 2 connections to \\[::ffff:127\\.0\\.0\\.1\\]:${inf.remotePort}, observed together: JFR names the peer, not the local port\\): none \\(setSoTimeout\\(0\\): infinite`));
    expect(text).toMatch(new RegExp(`fd \\d+ \\(\\[::ffff:127\\.0\\.0\\.1\\]:${inf.localPort}\\): reads with no timeout were observed \\(setSoTimeout\\(0\\), infinite\\)`));
    const idleBlock = text.split('\n\n').find((b) => b.includes(`:${idle.localPort} -> `))!;
    expect(idleBlock).toMatch(new RegExp(`read timeout: no read observed in ${sec} s`));
    expect(idleBlock).toMatch(/not observable from the kernel: Socket\.setSoTimeout \(observed inside the JVM: the read timeout line\)/);
    expect(flat).toMatch(new RegExp(`read timeout: setSoTimeout\\(\\d+\\) on \\d+ reads; \\d+ bytes read, \\d+ writes \\(\\d+ bytes\\) in ${sec} s; read by TimeoutLab\\$Conn\\.read\n`));
    expect(text).toMatch(new RegExp(`\nObserved inside the JVM \\(--observe: JFR, ${sec} s; setSoTimeout on each socket's read timeout line\\):\n  not seen by it:\n  - a read already waiting`));
    // JUnit: the observation as a property, each socket's in its system-out.
    const xmlFile = join(dir, 'observed.xml');
    expect(runCli(['render', file, '-f', 'junit', '-o', xmlFile]).code).toBe(0);
    expect(xmllint(xmlFile).code).toBe(0);
    const xml = readFileSync(xmlFile, 'utf8');
    expect(xml).toMatch(new RegExp(`<property name="observation" value="${sec} s of the JVM&apos;s own socket events`));
    expect(xml).toMatch(/observed \(--observe\):\n {2}read timeout: setSoTimeout\(\d+\) on \d+ reads/);
  });

  it.skipIf(!existsSync(join(ROOT, 'dist', 'bundle.cjs')))('the bundle copied alone (with bundle-assets/) observes: the helper is carried inside it', () => {
    const alone = join(dir, 'bundle-alone');
    mkdirSync(alone);
    cpSync(join(ROOT, 'dist', 'bundle.cjs'), join(alone, 'knetstat-java.cjs'));
    cpSync(join(ROOT, 'dist', 'bundle-assets'), join(alone, 'bundle-assets'), { recursive: true });
    const r = spawnSync(process.execPath, [join(alone, 'knetstat-java.cjs'), String(l.pid), '--observe', '1s', '-f', 'json', '-q'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.notObserved).toBeUndefined();
    expect(got.observation).toMatchObject({ source: 'jfr', recorded: { events: ['jdk.SocketRead', 'jdk.SocketWrite'] } });
    expect(got.sockets.some((s: any) => s.observed?.reads > 0)).toBe(true);
  });

  it('--redact keeps the observation, and the snapshot still validates', () => {
    const file = join(dir, 'observed-redacted.json');
    expect(runCli(['snapshot', String(l.pid), '--observe', '1s', '--redact', '-o', file]).code).toBe(0);
    const cap = readSnapshot(file).capture;
    expect(cap.redacted).toBe(true);
    expect(cap.observation?.window.seconds).toBeGreaterThanOrEqual(1);
    expect(cap.sockets.some((s) => s.observed && s.observed.reads > 0)).toBe(true);
  });

  it('SIGTERM during the window: the recording is stopped, its files and the -o file never appear, death by SIGTERM', async () => {
    const out = join(dir, 'never.json');
    const child = spawn(process.execPath, [CLI, 'snapshot', String(l.pid), '--observe', '60s', '-o', out], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    // The recording runs once JFR's repository for it exists in the JVM's /tmp (and its dump name is ours).
    for (let i = 0; i < 600 && ![...entries(jvmTmp(l.pid)).keys()].some((n) => /^\d{4}_\d\d_\d\d_/.test(n)); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const [code, sig] = await exited;
    expect(sig === 'SIGTERM' || code === 143, `${code} ${sig}`).toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.never.json') || n.startsWith('never.json'))).toEqual([]);
    expect(leftovers(l.pid)).toEqual([]);
    const s = await AttachSession.open(l.pid);
    expect((await s.jcmd('JFR.check')).text).toMatch(/No available recordings/);
    s.close();
    // And the next observation starts from a clean JVM.
    const again = runCli([String(l.pid), '--observe', '1s', '-f', 'json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).observation.recording.name).toMatch(/^knetstat-/);
  });

  it('on a terminal a spinner shows the window; --quiet, CI=true and a terminal without size keep it silent', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', KNETSTAT_PROGRESS_DELAY_MS: '0' };
    delete env.CI;
    const run = (extra: string, e: NodeJS.ProcessEnv, size = 'cols 120 rows 30') => {
      const out = join(dir, 'tty.json');
      const r = spawnSync('script', ['-qec', `stty ${size}; ${process.execPath} ${CLI} ${l.pid} --observe 2s -f json ${extra} > ${out}`, '/dev/null'], { encoding: 'utf8', env: e });
      expect(r.status, r.stdout).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8')).observation.window.seconds).toBeGreaterThanOrEqual(2);
      return r.stdout; // the terminal: stderr only
    };
    const shown = run('', env);
    expect(shown).toMatch(/--observe: recording pid \d+'s socket reads and writes \(JFR\): [01] s of 2 s/);
    expect(shown).not.toContain('"sockets"');
    expect(run('-q', env)).not.toContain('--observe:');
    expect(run('', { ...env, CI: 'true' })).not.toContain('--observe:');
    // A terminal that reports no size (a serial console): no spinner either.
    expect(run('', env, 'cols 0 rows 0')).not.toContain('--observe:');
  });
});

describe.each(JDKS)('Ctrl-C (SIGINT) during the window on $name', (jdk) => {
  it('the recording is stopped and its files removed before the tool dies of SIGINT; nothing on stdout; jcmd JFR.check shows no recording', async () => {
    const l = await lab(jdk);
    const child = spawn(process.execPath, [CLI, String(l.pid), '--observe', '60s', '-f', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    // 'close', not 'exit': whatever it wrote has reached us.
    const exited = new Promise<[number | null, string | null]>((r) => child.on('close', (c, s) => r([c, s])));
    // Mid-window: the JDK's own jcmd (run by the test, never by the tool) sees our recording running. It runs in
    // the JVM's mount namespace: JDK 17's jcmd looks for the attach socket in its own /tmp unless the pid
    // namespace differs, and this JVM's /tmp is private.
    const jcmdCheck = () => spawnSync('nsenter', ['-t', String(l.pid), '-m', '--', 'jcmd', String(l.pid), 'JFR.check'], { encoding: 'utf8', env: jdk.env, timeout: 60_000 });
    let before = '';
    for (const until = Date.now() + 50_000; Date.now() < until && !/name=knetstat-[0-9a-f]+ .*\(running\)/.test(before);) {
      // The tool starts the attach listener; jcmd must not race it with a second trigger.
      if (entries(jvmTmp(l.pid)).has(`.java_pid${l.pid}`)) before = jcmdCheck().stdout;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(before).toMatch(/name=knetstat-[0-9a-f]+ .*\(running\)/);
    expect(leftovers(l.pid).length).toBeGreaterThan(0); // JFR's repository for it, for now
    const t0 = performance.now();
    child.kill('SIGINT');
    const [code, sig] = await exited;
    // Not asserted (a loaded machine varies): the time from Ctrl-C to the tool's death, for the report.
    console.log(`${jdk.name}: SIGINT to exit, recording stopped and files removed: ${Math.round(performance.now() - t0)} ms`);
    expect(sig === 'SIGINT' || code === 130, `${code} ${sig}`).toBe(true);
    expect(stdout).toBe('');
    expect(leftovers(l.pid)).toEqual([]);
    const check = jcmdCheck();
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/No available recordings/);
    expect(check.stdout).not.toMatch(/knetstat-/);
  });
});

describe.each(JDKS)('the free hint without --observe on $name', (jdk) => {
  it('a Socket that read with a timeout has a non-blocking fd and the hint; setSoTimeout(0), or no read yet, neither', async () => {
    const l = await lab(jdk);
    const r = runCli([String(l.pid), '-f', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const sock = (t: Truth) => report.sockets.find((s: any) => s.local.port === t.localPort && s.remote.port === t.remotePort);
    const timeoutHint = (s: any) => (s.hints ?? []).find((h: string) => /a timeout was used/.test(h));
    let checked = 0;
    for (const t of l.truth) {
      const s = sock(t);
      if (t.api === 'socket') {
        // setSoTimeout alone changes nothing: the fd turns non-blocking at the first timed read.
        const timed = t.soTimeout! > 0 && t.id !== 'idle.c';
        expect(s.nonBlocking, t.id).toEqual({ value: timed, source: expect.stringMatching(/^(procfs|pidfd|bpf)$/) }); // fdinfo, the pidfd source's fcntl, or the bpf walk's f_flags
        expect(timeoutHint(s) !== undefined, t.id).toBe(timed);
        if (timed) {
          // The causes as mappings/jdk-facts.json measured them: a client's timed connect too on 25, not on 17.
          const cause = jdk.feature >= 25 && s.role === 'connected' ? 'a timed read or a timed connect' : 'a timed read';
          expect(timeoutHint(s)).toMatch(new RegExp(`^as a Socket: a timeout was used \\(the fd is non-blocking after ${cause}\\)`));
          expect(timeoutHint(s)).toMatch(jdk.feature >= 19 ? /unless a virtual thread did its I\/O/ : /^(?!.*virtual)/);
        }
        checked++;
      }
      if (t.api === 'selector') {
        // A non-blocking channel: the kernel cannot tell it from a Socket, so the hint says what the flag means for each.
        expect(s.nonBlocking.value, t.id).toBe(true);
        expect(timeoutHint(s)).toMatch(/As a SocketChannel: configureBlocking\(false\) or an asynchronous channel, which says nothing about a timeout$/);
      }
      if (t.api === 'channel') expect(timeoutHint(s), t.id).toBeUndefined(); // a blocking channel
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    // The text shows it as a hint line.
    expect(runCli([String(l.pid)]).stdout).toMatch(/\n {2}hint: as a Socket: a timeout was used/);
  });
});
