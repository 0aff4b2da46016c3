// --observe against real JVMs on JDK 17 and Temurin 25: what it reports
// equals what the sample itself counted and set; it never signals a JVM that
// would die of SIGQUIT; it refuses a JVM with attach disabled or without JFR;
// it leaves nothing in the JVM's /tmp; as root it observes an ordinary user's
// JVM doing every file step as that user; other recordings are untouched
// (Ctrl-C is test/observe-cli.test.ts's). Each JVM runs in a private /tmp
// (its own tmpfs) so that "nothing left" is checked on exactly what the JVM sees.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capture } from '../src/capture.js';
import { ObserveError } from '../src/errors.js';
import { nonBlockingHint } from '../src/java/nonblocking.js';
import { fdFlags, O_NONBLOCK } from '../src/linux/proc.js';
import type { Capture, RawSocket } from '../src/model/types.js';
import { readers } from '../src/observe/activity.js';
import { AttachSession } from '../src/observe/attach.js';
import { applyObservation, observe, type ObserveOptions, type ObserveRun } from '../src/observe/index.js';
import { Chunk, chunkHeader } from '../src/observe/jfr/recording.js';
import { CLI, runCli } from './helpers/cli.js';
import { ROOT, WORK } from './helpers/jvm.js';
import { alive, baseRuntime, CHECKOUT_IN_TMP, compileHttpClientPool, cwdTrigger, entries, JDKS, jvmTmp, startLab, TEST_UID, type Jdk, type Lab } from './helpers/observe.js';

const labs: Lab[] = [];
afterAll(async () => { await Promise.all(labs.map((l) => l.stop())); });

async function lab(jdk: Jdk, args: string[] = ['groups=3', 'perGroup=3'], opts: Parameters<typeof startLab>[3] = {}): Promise<Lab> {
  const l = await startLab(jdk, 'TimeoutLab', args, { ...opts, iso: { privateTmp: true, ...opts.iso } });
  labs.push(l);
  return l;
}

/** Observes for ms while the lab does a burst of n ping-pongs; the sample's own counts come with it. */
async function observeBurst(l: Lab, n: number, opts: Partial<ObserveOptions> = {}, ms = 2500): Promise<{ run: ObserveRun; counts: any[]; raw: Buffer[] }> {
  let done: Promise<any> | undefined;
  let doneAt = Infinity;
  const raw: Buffer[] = [];
  const run = await observe(l.pid, {
    durationMs: ms, ...opts,
    onStarted: (r) => { opts.onStarted?.(r); l.send(`burst ${n}`); done = l.next('DONE').then((d) => { doneAt = Date.now(); return d; }); },
    onRawChunk: (c) => raw.push(c),
  });
  const counts = (await done!).sockets;
  // The counts compare only if the whole burst happened inside the recording.
  if (doneAt > Date.parse(run.recording.stoppedAt)) throw new Error(`the burst outlasted the ${ms} ms window (machine overloaded?)`);
  return { run, counts, raw };
}

async function observedCapture(pid: number, run: ObserveRun): Promise<Capture> {
  const cap = await capture(pid, { source: 'procfs', any: true });
  applyObservation(cap, run);
  return cap;
}

function socketOf(cap: Capture, local: number, remote: number): RawSocket {
  const s = cap.sockets.find((x) => x.local.port === local && x.remote.port === remote);
  if (!s) throw new Error(`no socket ${local} -> ${remote}`);
  return s;
}

/** Events per type name in a recording: only ours may be there. */
function eventTypes(raw: Buffer[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const buf of raw) {
    const info = chunkHeader(buf, 0);
    const probe = new Chunk(buf, info, []);
    const names = [...probe.meta.classes.values()].filter((c) => c.superType === 'jdk.jfr.Event').map((c) => c.name);
    new Chunk(buf, info, names).events((desc) => out.set(desc.name, (out.get(desc.name) ?? 0) + 1));
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Once a knetstat-java in another process has its recording running in the JVM: a session of ours on it. */
async function untilRecording(pid: number): Promise<AttachSession> {
  // The tool starts the attach listener; ours must not race it with a second trigger.
  for (let i = 0; i < 300 && !entries(jvmTmp(pid)).has(`.java_pid${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
  const s = await AttachSession.open(pid);
  for (let i = 0; i < 300; i++) {
    if (/name=knetstat-[0-9a-f]+ .*\(running\)/.test((await s.jcmd('JFR.check')).text)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  s.close();
  throw new Error('the recording did not start');
}

describe.each(JDKS)('--observe on $name', (jdk) => {
  it('reports exactly what the sample read, wrote and set; only socket events are recorded; nothing is left in its /tmp', async () => {
    const l = await lab(jdk);
    const tmpBefore = entries(jvmTmp(l.pid));
    const { run, counts, raw } = await observeBurst(l, 20, {}, 4000);
    const cap = await observedCapture(l.pid, run);
    const truth = l.ready.sockets as any[];
    // The lab keeps its clients' local ports distinct (TimeoutLab CLIENT_PORTS): each accepted socket a peer of its own.
    const accepted = truth.filter((x) => x.role === 'accepted');
    expect(new Set(accepted.map((x) => x.remotePort)).size).toBe(accepted.length);
    const count = (id: string) => counts.find((c) => c.id === id)!;
    // What JFR can see of a socket's reads: not a read already waiting when the recording began.
    const seen = (id: string) => ({ reads: count(id).reads - count(id).readsBefore, bytesRead: count(id).bytesRead - count(id).bytesBefore, writes: count(id).writes, bytesWritten: count(id).bytesWritten });
    let checked = 0;
    for (const t of truth) {
      const o = socketOf(cap, t.localPort, t.remotePort).observed!;
      expect(o, t.id).toBeDefined();
      expect(o.source).toBe('jfr');
      expect(o.window.seconds).toBeGreaterThanOrEqual(4);
      if (t.role === 'client' && t.api === 'socket' && t.id !== 'idle.c') {
        // A pool: every client of the group shares the server's address and port.
        const group = truth.filter((x) => x.group === t.group && x.role === 'client');
        expect(o.attribution, t.id).toBe('peer-group');
        expect(o.group).toEqual({ sockets: group.length });
        expect(o.soTimeout, t.id).toEqual([...new Set(group.map((x) => x.soTimeout as number))].sort((a, b) => a - b));
        expect({ reads: o.reads, bytesRead: o.bytesRead, writes: o.writes, bytesWritten: o.bytesWritten }, t.id).toEqual({
          reads: sum(group.map((x) => seen(x.id).reads)), bytesRead: sum(group.map((x) => seen(x.id).bytesRead)),
          writes: sum(group.map((x) => seen(x.id).writes)), bytesWritten: sum(group.map((x) => seen(x.id).bytesWritten)),
        });
      } else if (t.id === 'idle.c' || (t.api === 'adaptor' && jdk.feature < 22)) {
        // No read at all; on JDK 17 a socket adaptor's stream emits no event.
        expect(o, t.id).toMatchObject({ attribution: 'socket', soTimeout: [], reads: 0, writes: 0, readers: [] });
        expect(o.notes, t.id).toContain('no read observed');
      } else {
        expect(o.attribution, t.id).toBe('socket');
        expect({ reads: o.reads, bytesRead: o.bytesRead, writes: o.writes, bytesWritten: o.bytesWritten }, t.id).toEqual(seen(t.id));
        if (t.api === 'selector') {
          expect(o.soTimeout, t.id).toEqual([]);
          expect(o.notes!.join(' '), t.id).toMatch(/non-blocking socket \(selector-driven NIO\)/);
        } else if (t.api === 'channel') {
          // A blocking SocketChannel: JDK 17's stack says so; JDK 22+ only that it waits without a timeout.
          if (jdk.feature < 22) {
            expect(o.soTimeout, t.id).toEqual([]);
            expect(o.notes!.join(' '), t.id).toMatch(/through SocketChannel.read: a channel read has no timeout/);
          } else {
            expect(o.soTimeout, t.id).toEqual([0]);
            expect(o.notes!.join(' '), t.id).toMatch(/reported 0: no timeout .*blocking SocketChannel/);
          }
        } else {
          expect(o.soTimeout, t.id).toEqual([t.soTimeout]);
        }
      }
      if (o.reads > 0) expect(o.readers, t.id).toEqual([{ frame: 'TimeoutLab$Conn.read' }]);
      checked++;
    }
    expect(checked).toBe(truth.length);
    expect(run.attach).toBe('started');
    expect(cap.observation!.totals.reads).toBe(sum(truth.map((t) => (t.api === 'adaptor' && jdk.feature < 22 ? 0 : seen(t.id).reads))));
    expect(cap.observation!.unmatched).toEqual([]);
    expect(cap.observation!.jvm.feature).toBe(jdk.feature);
    // Only the two socket events are in the recording.
    expect([...eventTypes(raw).keys()].sort()).toEqual(['jdk.SocketRead', 'jdk.SocketWrite']);
    // Its /tmp holds what it held, plus the attach listener's socket (as after any jcmd): no trigger, no
    // settings, no recording, no JFR repository.
    const after = entries(jvmTmp(l.pid));
    expect([...after.keys()].filter((n) => !tmpBefore.has(n))).toEqual([`.java_pid${l.pid}`]);
    expect(cwdTrigger(l.pid)).toEqual([]);
    expect(cap.observation!.effects.join('\n')).toMatch(/repository .* removed after it/);

    // Without --observe: the fd is non-blocking exactly where a timed read happened (JDK 13+).
    for (const t of truth) {
      const s = socketOf(cap, t.localPort, t.remotePort);
      const nb = ((fdFlags(l.pid, s.fd) ?? 0) & O_NONBLOCK) !== 0;
      const timedRead = t.api === 'socket' && t.soTimeout > 0 && t.id !== 'idle.c';
      expect(s.nonBlocking, t.id).toEqual({ value: nb, source: expect.stringMatching(/^(procfs|pidfd|bpf)$/) }); // what the capture read (fdinfo, the pidfd source's fcntl, or the bpf walk's f_flags)
      if (t.api === 'socket') {
        expect(nb, `${t.id} non-blocking`).toBe(timedRead);
        expect(nonBlockingHint(s, 'connected', ['java.net.Socket'], { feature: jdk.feature, properties: {} }) !== undefined, t.id).toBe(timedRead);
      }
      if (t.api === 'selector') expect(nb).toBe(true);
      if (t.api === 'channel') expect(nb).toBe(false);
    }

    // The JVM goes on as before, and a second observation finds the listener running.
    const again = await observeBurst(l, 3, {}, 1500);
    expect(again.run.attach).toBe('listener-running');
    // The repository JFR made anew for the second recording (the first one's was removed) goes too.
    expect(again.run.recording.repository).toMatchObject({ createdByUs: true, removed: true });
    expect([...entries(jvmTmp(l.pid)).keys()].filter((n) => !tmpBefore.has(n))).toEqual([`.java_pid${l.pid}`]);
    expect(alive(l.pid)).toBe(true);
  });

  it('a -Xrs JVM is observed through the listener it started itself, and never signalled', async () => {
    const l = await lab(jdk, ['groups=1', 'perGroup=2'], { jvmArgs: ['-Xrs'] });
    expect(entries(jvmTmp(l.pid)).has(`.java_pid${l.pid}`)).toBe(true); // -Xrs: listener at startup
    const { run } = await observeBurst(l, 5, {}, 1500);
    expect(run.attach).toBe('listener-running');
    expect(run.activity.reads).toBeGreaterThan(0);
    // Its socket gone (a tmp cleaner): attach would need SIGQUIT, which kills a -Xrs JVM. Refused.
    unlinkSync(join(jvmTmp(l.pid), `.java_pid${l.pid}`));
    const err = await observe(l.pid, { durationMs: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ObserveError);
    expect(err.kind).toBe('no-sigquit');
    expect(err.message).toMatch(/does not handle SIGQUIT .*not signalled/);
    // The CLI: the report without the observation, why, exit 3.
    const cli = runCli([String(l.pid), '--observe', '1s', '-f', 'json']);
    expect(cli.code, cli.stderr).toBe(3);
    expect(JSON.parse(cli.stdout).notObserved).toMatchObject({ kind: 'no-sigquit' });
    expect(JSON.parse(cli.stdout).observation).toBeUndefined();
    expect(cli.stderr).toMatch(/warning: not observed: process \d+ has no attach listener and does not handle SIGQUIT/);
    expect(cwdTrigger(l.pid)).toEqual([]);
    l.send('burst 1');
    await l.next('DONE');
    expect(alive(l.pid)).toBe(true);
  });

  it('-XX:+DisableAttachMechanism (command line, or an @argfile the perf data reveals) is refused without a signal', async () => {
    const args = join(mkdtempSync(join(WORK, 'argfile-')), 'jvm.args');
    writeFileSync(args, '-XX:+DisableAttachMechanism\n');
    for (const jvmArgs of [['-XX:+DisableAttachMechanism'], [`@${args}`]]) {
      const l = await lab(jdk, ['groups=1', 'perGroup=1'], { jvmArgs });
      const err = await observe(l.pid, { durationMs: 1000 }).catch((e) => e);
      expect(err, jvmArgs[0]).toBeInstanceOf(ObserveError);
      expect(err.kind).toBe('attach-disabled');
      expect(err.message).toMatch(/-XX:\+DisableAttachMechanism: it cannot be observed/);
      await new Promise((r) => setTimeout(r, 300));
      // Had SIGQUIT been sent, the JVM would have printed a thread dump on its stdout.
      expect(l.stdout.join('\n')).not.toMatch(/Full thread dump/);
      expect([...entries(jvmTmp(l.pid)).keys()].filter((n) => n.startsWith('.attach_pid') || n.startsWith('.java_pid'))).toEqual([]);
      expect(alive(l.pid)).toBe(true);
    }
  });
});

const [J17, J25] = JDKS;

describe('--observe as root, of an ordinary user\'s JVM', () => {
  it('every file step runs as that user: no file of root\'s ever appears in its directories', async () => {
    const cwd = mkdtempSync(join(WORK, 'user-cwd-'));
    chownSync(cwd, TEST_UID, TEST_UID);
    const l = await lab(J17!, ['groups=2', 'perGroup=2'], { iso: { uid: TEST_UID, cwd } });
    expect(readFileSync(`/proc/${l.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${TEST_UID}\\s`, 'm'));
    const rootOwned: string[] = [];
    let helper: string | undefined;
    const watch = setInterval(() => {
      for (const dir of [cwd, jvmTmp(l.pid)]) {
        try {
          for (const [n, uid] of entries(dir)) if (uid === 0 && !(dir !== cwd && n === CHECKOUT_IN_TMP)) rootOwned.push(`${dir}/${n}`);
        } catch { /* the JVM exited */ }
      }
    }, 5);
    // The helper: our child, running as the JVM's user.
    const findHelper = setInterval(() => {
      if (helper) return;
      for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
        try {
          const st = readFileSync(`/proc/${p}/status`, 'utf8');
          if (new RegExp(`^PPid:\\s+${process.pid}$`, 'm').test(st) && readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('knetstat-java-helper')) helper = st;
        } catch { /* gone */ }
      }
    }, 100);
    try {
      const { run } = await observeBurst(l, 5);
      expect(run.attach).toBe('started');
      expect(run.activity.reads).toBeGreaterThan(0);
      const cap = await observedCapture(l.pid, run);
      const t = (l.ready.sockets as any[]).find((x) => x.id === 'g0.a0');
      expect(socketOf(cap, t.localPort, t.remotePort).observed!.soTimeout).toEqual([t.soTimeout]);
    } finally {
      clearInterval(watch);
      clearInterval(findHelper);
    }
    expect(rootOwned).toEqual([]);
    expect(helper).toBeDefined();
    expect(helper).toMatch(new RegExp(`^Uid:\\s+${TEST_UID}\\s+${TEST_UID}\\s+${TEST_UID}\\s+${TEST_UID}$`, 'm'));
    expect(helper).toMatch(new RegExp(`^Gid:\\s+${TEST_UID}\\s+${TEST_UID}\\s+${TEST_UID}\\s+${TEST_UID}$`, 'm'));
    expect(helper).toMatch(/^Groups:\s*$/m);
    expect(helper).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(helper).toMatch(/^CapEff:\s+0+$/m);
    expect(helper).toMatch(/^CapBnd:\s+0+$/m);
    // Nothing of ours left: the trigger was made (the cwd is the user's) and removed, the recording deleted.
    expect(readdirSync(cwd)).toEqual([]);
    expect([...entries(jvmTmp(l.pid)).keys()].filter((n) => n.startsWith('knetstat-') || n.startsWith('.attach_pid') || /^\d{4}_\d\d_\d\d_/.test(n))).toEqual([]);
    rmSync(cwd, { recursive: true, force: true });
  });
});

describe.each(JDKS)('HotSpot\'s attach listener on $name (what the helper relies on)', (jdk) => {
  it('answers a peer with the JVM\'s euid and egid, or root; no one else, even past the socket file\'s 0600', async () => {
    const l = await lab(jdk, ['groups=1', 'perGroup=1'], { jvmArgs: ['-Xrs'], iso: { uid: TEST_UID } }); // -Xrs: listener at startup
    const script = join(WORK, 'attach-peer.mjs');
    writeFileSync(script, `import net from 'node:net';
const s = net.connect(process.argv[2]); const got = [];
s.on('connect', () => s.end(Buffer.from('1\\0jcmd\\0VM.version\\0\\0\\0')));
s.on('data', (d) => got.push(d));
s.on('error', (e) => { console.log(e.code); process.exit(0); });
s.on('close', () => console.log(Buffer.concat(got).toString().split('\\n')[0] === '0' ? 'answered' : 'closed'));
`);
    // From inside the JVM's mount namespace (its private /tmp), as the given credentials.
    const as = (uid: number, gid: number, dac = false) => execFileSync('nsenter', ['-t', String(l.pid), '-m', 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups',
      ...(dac ? ['--inh-caps=+dac_override', '--ambient-caps=+dac_override'] : []), '--', process.execPath, script, `/tmp/.java_pid${l.pid}`], { encoding: 'utf8' }).trim();
    const other = TEST_UID + 1;
    expect(as(TEST_UID, TEST_UID)).toBe('answered');
    expect(as(0, other)).toBe('answered'); // root, whatever its gid
    expect(as(other, other)).toBe('EACCES'); // the socket file is 0600
    // Past the file's mode (CAP_DAC_OVERRIDE), HotSpot's own SO_PEERCRED check still closes the connection.
    expect(['closed', 'EPIPE', 'ECONNRESET']).toContain(as(other, TEST_UID, true));
    expect(['closed', 'EPIPE', 'ECONNRESET']).toContain(as(TEST_UID, other, true));
  });
});

describe.runIf(J25)('--observe next to recordings of the JVM\'s own', () => {
  it('leaves them running, with their repository; the CLI carries the observation in its JSON', async () => {
    const l = await lab(J25!, ['groups=1', 'perGroup=2'], { jvmArgs: ['-XX:StartFlightRecording=name=mine,settings=default,disk=true'] });
    const s = await AttachSession.open(l.pid);
    const repo = (await s.execute('properties')).text.match(/^jdk\.jfr\.repository=(.*)$/m)![1]!;
    const theirs = (await s.jcmd('JFR.check name=mine verbose=true')).text;
    s.close();
    const child = spawn(process.execPath, [CLI, String(l.pid), '--observe', '2s', '-f', 'json', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    (await untilRecording(l.pid)).close();
    l.send('burst 5');
    const code = await exited;
    expect(code, err).toBe(0);
    const report = JSON.parse(out);
    expect(report.observation).toMatchObject({ source: 'jfr', recorded: { events: ['jdk.SocketRead', 'jdk.SocketWrite'], threshold: '0 ms', stackTrace: true }, window: { seconds: 2 }, attach: 'listener-running' });
    const observed = report.sockets.filter((x: any) => x.observed).map((x: any) => x.observed);
    expect(observed.length).toBeGreaterThan(4);
    expect(observed.some((o: any) => o.reads > 0 && o.soTimeout.length === 1)).toBe(true);
    // Their recording still runs, as it was; ours is gone; the repository stays (it is theirs).
    const s2 = await AttachSession.open(l.pid);
    const check = (await s2.jcmd('JFR.check')).text;
    const theirsAfter = (await s2.jcmd('JFR.check name=mine verbose=true')).text;
    s2.close();
    expect(check).toMatch(/name=mine .*\(running\)/);
    expect(theirsAfter).toBe(theirs); // every event and setting as it was
    expect(theirs.split('\n').length).toBeGreaterThan(100);
    expect(check).not.toMatch(/knetstat-/);
    expect(report.observation.effects.join('\n')).not.toMatch(/repository/);
    expect(entries(join(`/proc/${l.pid}/root`, repo.replace(/\/[^/]+$/, ''))).has(repo.split('/').pop()!)).toBe(true);
  });
});

describe('--observe: the rest of what a user meets', () => {
  it('a JVM without jdk.jfr says so; a JVM that exits during the window says that', async () => {
    const image = baseRuntime();
    const env = { ...process.env, PATH: `${image}/bin:${process.env.PATH}` };
    const l = await lab({ name: 'java.base only', feature: 17, env }, ['groups=1', 'perGroup=1']);
    const err = await observe(l.pid, { durationMs: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ObserveError);
    expect(err.kind).toBe('no-jfr');
    expect(err.message).toMatch(/has no Flight Recorder \(JDK 17[^)]*: a runtime without the jdk.jfr module/);
    expect(alive(l.pid)).toBe(true);

    const gone = await lab(J17!, ['groups=1', 'perGroup=1']);
    const e2 = await observe(gone.pid, { durationMs: 5000, onStarted: () => { gone.proc.kill('SIGKILL'); } }).catch((e) => e);
    expect(e2).toBeInstanceOf(ObserveError);
    expect(e2.kind).toBe('exited');
  });

  it('older JDKs\' way of settings, a .jfc file, records the same and is removed', async () => {
    const l = await lab(J17!, ['groups=1', 'perGroup=2']);
    const { run, counts } = await observeBurst(l, 10, { settings: 'jfc' }, 3000);
    expect(run.recording.settings).toBe('jfc');
    const cap = await observedCapture(l.pid, run);
    const t = (l.ready.sockets as any[]).find((x) => x.id === 'g0.a1');
    const c = counts.find((x: any) => x.id === 'g0.a1');
    expect(socketOf(cap, t.localPort, t.remotePort).observed).toMatchObject({ attribution: 'socket', soTimeout: [t.soTimeout], reads: c.reads - c.readsBefore, writes: c.writes });
    expect([...entries(jvmTmp(l.pid)).keys()].filter((n) => n.startsWith('knetstat-'))).toEqual([]);
  });
});

describe('--observe of a busy JVM', () => {
  it('a recording of several MB (frames of 1 MiB through a full pipe) arrives intact and is read chunk by chunk', async () => {
    const l = await startLab(J17!, 'ReadHeavy', ['clients=2', 'chunk=512'], { iso: { privateTmp: true } });
    labs.push(l);
    await new Promise((r) => setTimeout(r, 1500));
    const raw: Buffer[] = [];
    const run = await observe(l.pid, { durationMs: 3000, onRawChunk: (c) => raw.push(c) });
    expect(run.recording.bytes).toBeGreaterThan(2 << 20);
    expect(run.recording.chunks).toBe(raw.length);
    expect(run.activity.reads).toBeGreaterThan(30_000);
    // Every read: up to 512 bytes with the clients' timeout, from ReadHeavy's reading loop.
    const [peer] = [...run.activity.peers.values()].filter((p) => p.reads > 0);
    // (a read may return less than the 512 bytes asked for, never more)
    expect(peer!.bytesRead).toBeLessThanOrEqual(peer!.reads * 512);
    expect(peer!.bytesRead).toBeGreaterThan(peer!.reads * 500);
    expect([...peer!.readKinds].map(([api, t]) => [api, [...t.keys()]])).toEqual([['stream', [30000]]]);
    expect(readers(peer!).map((r) => r.frame)).toEqual(['ReadHeavy.lambda$main$1']);
  });
});

const POOL = compileHttpClientPool(ROOT);

describe.runIf(POOL).each(JDKS)('a pool of a real library (Apache HttpClient 5) on $name', (jdk) => {
  it('the pool is one peer group with its timeout, read by HttpClient; the server\'s sockets each their own', async () => {
    const l = await startLab(jdk, 'HttpClientPool', ['connections=4'], { cp: POOL!, iso: { privateTmp: true } });
    labs.push(l);
    let done: Promise<any> | undefined;
    const run = await observe(l.pid, { durationMs: 3000, onStarted: () => { l.send('burst 10'); done = l.next('DONE'); } });
    expect((await done!).requests).toBe(40);
    const cap = await observedCapture(l.pid, run);
    const clients = cap.sockets.filter((s) => s.remote.port === l.ready.serverPort);
    expect(clients).toHaveLength(4);
    for (const c of clients) {
      expect(c.observed).toMatchObject({ attribution: 'peer-group', group: { sockets: 4 } });
      // HttpClient's stale-connection check reads with a 1 ms timeout before reusing a connection idle for a
      // while; it times out, which JDK 21 and older record (JDK 22+ record no read that throws).
      const stale = c.observed!.soTimeout.includes(1);
      expect(c.observed!.soTimeout).toEqual(stale ? [1, l.ready.soTimeout] : [l.ready.soTimeout]);
      if (stale) {
        expect(jdk.feature).toBeLessThan(22);
        expect(c.observed!.notes!.join(' ')).toMatch(/read\(s\) ended in SocketTimeoutException, after 1 ms/);
      }
      expect(c.observed!.readers.some((r) => r.library === 'Apache HttpClient 5' && r.frame.startsWith('org.apache.hc.'))).toBe(true);
      expect(c.observed!.reads).toBeGreaterThanOrEqual(40);
    }
    // The server's side: each accepted socket its own timeout; one the pool left idle in the window shows no read
    // (its read began before the recording).
    let busy = 0;
    for (const a of l.ready.accepted as any[]) {
      const o = socketOf(cap, a.localPort, a.remotePort).observed!;
      expect(o.attribution).toBe('socket');
      if (o.reads > 0) {
        busy++;
        expect(o.soTimeout).toEqual([a.soTimeout]);
      } else expect(o.notes).toContain('no read observed');
    }
    expect(busy).toBeGreaterThanOrEqual(1);
  });
});
