// The tool as root against a hostile local user (issue 11): an ordinary uid
// (test/helpers/hostile.ts, played with setpriv) that plants files, links,
// FIFOs and processes, and an operator whose disk is full. Each test was run
// once against main's build (KNETSTAT_CLI=<main>/dist/cli/main.js) and failed
// there. The net_cls/net_prio case needs a host-wide cgroup mount and runs on
// its own: test/host-global/netcls.test.ts.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSES, ROOT, compileSamples, startJvm, type Jvm } from './helpers/jvm.js';
import {
  AS_HOSTILE, HOSTILE_GID, HOSTILE_UID, RAW_CONTROL, asHostile, fakeJavaHome, fakeJvm, plantDir, removeAll, scratch, spawnReady, tool, TOOL, type Run,
} from './helpers/hostile.js';

/**
 * A probe that did not give a believable answer: the report is still made, with the shipped JDK
 * defaults, as partial (exit 3); stderr holds the probe's one warning (returned) and the partial line.
 */
function probeFellBack(r: Run): string {
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  const lines = r.stderr.trimEnd().split('\n');
  const probe = lines.filter((l) => l.startsWith('knetstat-java: warning: --probe-jdk: '));
  expect(probe.length, r.stderr).toBe(1);
  expect(probe[0]).toMatch(/: JDK defaults from mappings\/jdk-defaults\.json instead, which may not match the target's JDK$/);
  expect(lines.at(-1)).toMatch(/^knetstat-java: partial report: /);
  expect(JSON.parse(r.stdout).defaults.note ?? '').not.toMatch(/measured from the target's own JDK/);
  return probe[0]!;
}

function oneLine(r: Run): string {
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.length, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** Nothing a terminal would act on, and no line forged by a newline in a name. */
function terminalClean(text: string, what: string): void {
  expect(RAW_CONTROL.test(text), `${what}: raw control in ${JSON.stringify(text.slice(0, 2000))}`).toBe(false);
  expect(text, what).not.toMatch(/^\s*FORGED/m);
}

/** JSON and JUnit XML escape for themselves; what they must not carry raw either: a terminal still acts on it when someone cats the file. */
function documentClean(text: string, what: string): void {
  expect(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(text), `${what}: raw control`).toBe(false);
}

const ESC_ALL = '\x1b[2J\x1b]0;pwned\x07\r\u009b31m\u202e';
/** The same without CR, which the JVM detector takes for a blank in /proc/<pid>/maps. */
const ESC_PATH = ESC_ALL.replace('\r', '');

let root: Jvm;
beforeAll(async () => { root = await startJvm('SocketLab', ['s:server', 'u:udp']); });
afterAll(async () => { await root?.stop(); });

describe('item 1: --probe-jdk never runs the target owner\'s files as root', () => {
  it('a planted bin/java (and bin/javac) of a fake JVM runs as its user, with no_new_privs, no capabilities, no groups', async () => {
    const dir = scratch('probe');
    const marks = plantDir(join(dir, 'marks'));
    // What a hostile java would do with root: here it only says who it ran as.
    const spy = `#!/bin/sh\n{ id -u; id -g; grep -E '^(NoNewPrivs|CapEff|CapBnd|Groups):' /proc/self/status; } > "${marks}/$(basename "$0").$$"\nexit 1\n`;
    const home = fakeJavaHome(join(dir, 'jdk'), { 'bin/java': spy, 'bin/javac': spy, release: 'JAVA_VERSION="17.0.99"\n' });
    const jvm = await fakeJvm(home);
    try {
      const r = tool([String(jvm.pid), '--probe-jdk', '-f', 'json']);
      const files = readdirSync(marks);
      expect(files.length, 'the planted java ran at all (else this test proves nothing)').toBeGreaterThan(0);
      for (const f of files) {
        expect(statSync(join(marks, f)).uid, `${f} was written by uid`).toBe(HOSTILE_UID);
        const [uid, gid, ...status] = readFileSync(join(marks, f), 'utf8').trimEnd().split('\n');
        expect([uid, gid]).toEqual([String(HOSTILE_UID), String(HOSTILE_GID)]);
        const s = status.join('\n');
        expect(s).toMatch(/^NoNewPrivs:\s+1$/m);
        expect(s).toMatch(/^CapEff:\s+0+$/m);
        expect(s).toMatch(/^CapBnd:\s+0+$/m);
        expect(s).toMatch(/^Groups:\s*$/m);
      }
      expect(files.some((f) => f.startsWith('javac.')), 'nothing is compiled at run time').toBe(false);
      expect(probeFellBack(r)).toMatch(/--probe-jdk: the probe JVM \(.*bin\/java, run as uid 48311\) exited with 1 before it was ready/);
      // No private directory left behind.
      expect(readdirSync('/tmp').filter((n) => n.startsWith('knetstat-java-probe-'))).toEqual([]);
    } finally {
      await jvm.stop();
      removeAll(dir);
    }
  });

  it('a SocketLab.class planted in a cache under $XDG_CACHE_HOME or $HOME is never run', () => {
    const dir = scratch('cache');
    const marker = join(dir, 'ran-as');
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'SocketLab.java'), `public class SocketLab { public static void main(String[] a) throws Exception {
      java.nio.file.Files.write(java.nio.file.Paths.get("${marker}"), java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/self/status")));
      System.exit(3); } }`);
    const hash = createHash('sha256').update(readFileSync(join(ROOT, 'samples', 'java', 'SocketLab.java'))).digest('hex').slice(0, 12);
    // Where the old probe looked: $XDG_CACHE_HOME/knetstat-java/lab-<hash>, else $HOME/.cache/knetstat-java/lab-<hash>.
    for (const base of [join(dir, 'xdg'), join(dir, 'home', '.cache')]) {
      const lab = join(base, 'knetstat-java', `lab-${hash}`);
      mkdirSync(lab, { recursive: true });
      execFileSync('javac', ['--release', '11', '-Xlint:-options', '-d', lab, join(src, 'SocketLab.java')]);
    }
    execFileSync('chown', ['-R', `${HOSTILE_UID}:${HOSTILE_GID}`, join(dir, 'xdg'), join(dir, 'home')]);
    try {
      for (const env of [{ XDG_CACHE_HOME: join(dir, 'xdg') }, { XDG_CACHE_HOME: '', HOME: join(dir, 'home') }]) {
        const r = tool([String(root.pid), '--probe-jdk', '-f', 'json'], { env });
        expect(existsSync(marker), 'the planted class ran').toBe(false);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout).defaults.note).toMatch(/measured from the target's own JDK: live probe of/);
      }
    } finally {
      removeAll(dir);
    }
  });

  it('a probe that answers for another pid is not believed (its sockets would not be its own)', async () => {
    const dir = scratch('liar');
    const liar = `#!/bin/sh\necho 'READY {"pid":1,"sockets":{}}'\nexec sleep 20\n`;
    const home = fakeJavaHome(join(dir, 'jdk'), { 'bin/java': liar, release: 'JAVA_VERSION="17"\n' });
    const jvm = await fakeJvm(home);
    try {
      const r = tool([String(jvm.pid), '--probe-jdk', '-f', 'json']);
      expect(probeFellBack(r)).toMatch(/is not the probe \(it answered for pid 1, not its own \d+\)/);
    } finally {
      await jvm.stop();
      removeAll(dir);
    }
  });

  it('a real JVM of an ordinary user is probed as that user, from the shipped class files', async () => {
    const theirs = await startJvm('SocketLab', ['s:server'], { wrapper: AS_HOSTILE, jvmArgs: ['-XX:-UsePerfData'] });
    try {
      const p = spawn(process.execPath, [TOOL, String(theirs.pid), '--probe-jdk', '-f', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
      let out = '', err = '';
      p.stdout!.on('data', (d) => { out += d; });
      p.stderr!.on('data', (d) => { err += d; });
      // Watch for the probe JVM (its class path is the private directory) and note whose it is.
      const probes = new Map<number, string>();
      let done = false;
      p.once('exit', () => { done = true; });
      while (!done) {
        for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
          try {
            if (!readFileSync(`/proc/${n}/cmdline`, 'latin1').includes('knetstat-java-probe-')) continue;
            const st = readFileSync(`/proc/${n}/status`, 'latin1');
            probes.set(Number(n), `${/^Uid:\s+(.*)$/m.exec(st)?.[1]} ${/^NoNewPrivs:\s+(\d)/m.exec(st)?.[1]}`);
          } catch { /* gone */ }
        }
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(p.exitCode, err).toBe(0);
      expect(probes.size, 'a probe JVM was seen').toBeGreaterThan(0);
      for (const who of probes.values()) expect(who).toBe(`${HOSTILE_UID}\t${HOSTILE_UID}\t${HOSTILE_UID}\t${HOSTILE_UID} 1`);
      const j = JSON.parse(out);
      expect(j.defaults.note).toMatch(/measured from the target's own JDK/);
      const s = j.sockets.find((x: any) => x.local.port === theirs.ready.sockets.s.localPort);
      expect(s.java.find((c: any) => c.options.includes('SO_REUSEADDR')).origin).toBe('jdk-default');
    } finally {
      await theirs.stop();
    }
  });
});

describe('item 1 (continued): run as the target\'s own user', () => {
  it('the tool runs the probe as itself (nothing to drop but new privileges)', async () => {
    const theirs = await startJvm('SocketLab', ['s:server'], { wrapper: AS_HOSTILE, jvmArgs: ['-XX:-UsePerfData'] });
    try {
      const same = tool([String(theirs.pid), '--probe-jdk', '-f', 'json'], { wrapper: AS_HOSTILE });
      expect(same.code, same.stderr).toBe(0);
      expect(JSON.parse(same.stdout).defaults.note).toMatch(/measured from the target's own JDK/);
    } finally {
      await theirs.stop();
    }
  });
});

describe('item 2: -o writes what it should and replaces nothing else', () => {
  let shared: string;
  let mine: string;
  beforeAll(() => { shared = scratch('out-shared', 'shared'); mine = scratch('out-root', 'root'); });
  afterAll(() => removeAll(shared, mine));

  it('a symbolic link planted at the output path is refused: the link and its target stay as they were', () => {
    const victim = join(mine, 'victim');
    writeFileSync(victim, 'precious\n');
    const link = join(shared, 'report.txt');
    asHostile(['ln', '-s', victim, link]);
    const r = tool([String(root.pid), '-o', link]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/will not write the report to .*report\.txt: a symbolic link \(to .*victim\)/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it("another user's FIFO is refused (its reader would get root's report); the FIFO stays a FIFO", async () => {
    const fifo = join(shared, 'fifo');
    asHostile(['mkfifo', fifo]);
    const reader = spawn(AS_HOSTILE[0]!, [...AS_HOSTILE.slice(1), 'timeout', '5', 'cat', fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    reader.stdout!.on('data', (d) => { got += d; });
    await new Promise((res) => setTimeout(res, 300));
    const r = tool([String(root.pid), '-o', fifo]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/a FIFO owned by uid 48311, not by this user/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    reader.kill();
    await new Promise((res) => reader.once('exit', res));
    expect(got).toBe('');
  });

  it('our own FIFO with a reader gets the report; without a reader: exit 2 at once, no hang', async () => {
    const fifo = join(mine, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const none = tool([String(root.pid), '-o', fifo], { timeout: 20_000 });
    expect(none.code).toBe(2);
    expect(oneLine(none)).toMatch(/a FIFO with no reader/);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    reader.stdout!.on('data', (d) => { got += d; });
    await new Promise((res) => setTimeout(res, 300));
    const r = spawnSync(process.execPath, [TOOL, String(root.pid), '-o', fifo], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    await new Promise((res) => reader.once('exit', res));
    expect(r.status, r.stderr).toBe(0);
    expect(got).toMatch(/^knetstat-java .*: pid \d+/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('/dev/null and /dev/full (copies) stay devices: null takes the report, full is ENOSPC, exit 2, nothing left beside them', () => {
    const dir = scratch('dev', 'root');
    try {
      execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
      execFileSync('mknod', [join(dir, 'full'), 'c', '1', '7']);
      const ok = tool([String(root.pid), '-o', join(dir, 'null')]);
      expect(ok.code, ok.stderr).toBe(0);
      const full = tool([String(root.pid), '-f', 'json', '-o', join(dir, 'full')]);
      expect(full.code).toBe(2);
      expect(oneLine(full)).toMatch(/cannot write .*\/full: ENOSPC \(no space left on device\)$/);
      for (const d of ['null', 'full']) expect(lstatSync(join(dir, d)).isCharacterDevice()).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['full', 'null']);
      // Devices that act when opened (a watchdog, a tape) are never opened: here /dev/mem's numbers.
      execFileSync('mknod', [join(dir, 'mem'), 'c', '1', '1']);
      const mem = tool([String(root.pid), '-o', join(dir, 'mem')]);
      expect(mem.code).toBe(2);
      expect(oneLine(mem)).toMatch(/a character device \(1:1\); -o writes only into \/dev\/null, \/dev\/zero, \/dev\/full or a terminal of yours/);
    } finally {
      removeAll(dir);
    }
  });

  it("another user's terminal is refused: the report would be shown to them", async () => {
    // A pseudo-terminal the hostile user holds (script allocates one; its child's stdin is the slave).
    const sh = spawn(AS_HOSTILE[0]!, [...AS_HOSTILE.slice(1), 'script', '-qfc', 'sleep 20', '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    let sleeper: number | undefined;
    try {
      let pts: string | undefined;
      for (let i = 0; i < 200 && !pts; i++) {
        await new Promise((res) => setTimeout(res, 20));
        for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
          try {
            if (readFileSync(`/proc/${n}/cmdline`, 'latin1') !== 'sleep\u000020\u0000') continue;
            const l = readlinkSync(`/proc/${n}/fd/0`);
            if (l.startsWith('/dev/pts/') && statSync(`/proc/${n}`).uid === HOSTILE_UID) { pts = l; sleeper = Number(n); }
          } catch { /* gone */ }
        }
      }
      expect(pts, 'a pseudo-terminal of the hostile user').toBeDefined();
      expect(statSync(pts!).uid).toBe(HOSTILE_UID);
      const r = tool([String(root.pid), '-o', pts!]);
      expect(r.code).toBe(2);
      expect(oneLine(r)).toMatch(/will not write the report to \/dev\/pts\/\d+: the terminal of uid 48311, not this user's/);
    } finally {
      sh.kill('SIGKILL');
      if (sleeper) { try { process.kill(sleeper, 'SIGKILL'); } catch { /* gone with its terminal */ } }
    }
  });

  it('-o /dev/stdout and -o /dev/null (in a private /dev) write through, and stay what they are', () => {
    // A private mount namespace with its own /dev: the host's /dev/stdout is never at stake, even for a broken build.
    const script = [
      'set -e', 'mount -t tmpfs knj-security-a-dev /dev', 'mknod /dev/null c 1 3', 'mknod /dev/urandom c 1 9',
      'ln -s /proc/self/fd/1 /dev/stdout',
      `"${process.execPath}" "${TOOL}" ${root.pid} -o /dev/stdout > /tmp/knj-security-a-stdout.$$ || echo "rc=$?"`,
      'wc -c < /tmp/knj-security-a-stdout.$$; rm -f /tmp/knj-security-a-stdout.$$',
      `"${process.execPath}" "${TOOL}" ${root.pid} -o /dev/null || echo "rc=$?"`,
      'stat -c "%F" /dev/stdout /dev/null',
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.stderr).toBe('');
    const [bytes, ...kinds] = r.stdout.trim().split('\n');
    expect(Number(bytes)).toBeGreaterThan(500);
    expect(kinds).toEqual(['symbolic link', 'character special file']);
  });

  it('temporary names cannot be predicted: one pre-created for the pid does not make the write fail', async () => {
    const out = join(shared, 'predict.txt');
    // The tool's pid is known before it runs: bash execs it in place once told to.
    const p = spawn('bash', ['-c', `read go; exec "${process.execPath}" "${TOOL}" ${root.pid} -o "${out}"`], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stderr = '';
    p.stderr!.on('data', (d) => { stderr += d; });
    for (const name of [`.predict.txt.${p.pid}.tmp`, `predict.txt.${p.pid}.tmp`, `.predict.txt.tmp`]) {
      asHostile(['ln', '-s', '/nonexistent', join(shared, name)]);
    }
    p.stdin!.end('go\n');
    const code = await new Promise((res) => p.once('exit', res));
    expect(code, stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^knetstat-java .*: pid \d+/);
    expect(statSync(out).uid).toBe(0);
  });

  it('the file gets the mode of a new file, never more open than the file it replaces', () => {
    const out = join(mine, 'mode.txt');
    writeFileSync(out, 'old\n', { mode: 0o600 });
    const r = tool([String(root.pid), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const fresh = join(mine, 'fresh.txt');
    expect(tool([String(root.pid), '-o', fresh]).code).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o644); // 0666 & ~022
  });

  it('the signal handlers are installed before the temporary file exists (a signal in between would leave it)', () => {
    const dir = scratch('sig-order', 'root');
    try {
      const snap = join(ROOT, 'samples', 'snapshots', 'servers.json');
      const log = join(dir, 'strace.txt');
      const r = spawnSync('strace', ['-f', '-o', log, '-e', 'trace=rt_sigaction,openat', process.execPath, TOOL, 'render', snap, '-o', join(dir, 'out.txt')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const lines = readFileSync(log, 'utf8').split('\n');
      const created = lines.findIndex((l) => /openat\(.*\.out\.txt\.[0-9a-f]+\.tmp".*O_EXCL/.test(l));
      expect(created, 'the temporary file was created').toBeGreaterThan(0);
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
        const handled = lines.findIndex((l) => new RegExp(`rt_sigaction\\(${sig}, \\{sa_handler=0x`).test(l));
        expect(handled, `${sig} caught`).toBeGreaterThan(-1);
        expect(handled, `${sig} caught before the file exists`).toBeLessThan(created);
      }
    } finally {
      removeAll(dir);
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s while the file is being written removes the temporary file and ends as the signal', async (signal) => {
    const dir = scratch(`sig-${signal}`, 'root');
    try {
      const snap = bigSnapshot(dir, 20_000);
      const p = spawn(process.execPath, [TOOL, 'render', snap, '-o', join(dir, 'out.txt')], { stdio: 'ignore' });
      let seen = false;
      for (let i = 0; i < 2000 && !seen && p.exitCode === null; i++) {
        await new Promise((res) => setTimeout(res, 5));
        seen = readdirSync(dir).some((n) => n.startsWith('.out.txt.') && n.endsWith('.tmp'));
      }
      expect(seen, 'the temporary file was seen while the report was written').toBe(true);
      p.kill(signal);
      const [code, sig] = await new Promise<[number | null, string | null]>((res) => p.once('exit', (c, s) => res([c, s])));
      expect(sig ?? code).toBe(signal); // died of the signal itself: a shell reports 128 + its number
      expect(readdirSync(dir).sort()).toEqual(['big.json']);
    } finally {
      removeAll(dir);
    }
  });
});

/** A snapshot with n sockets (copies of a sample's first socket): slow enough to render that a signal lands mid-write. */
function bigSnapshot(dir: string, n: number): string {
  const doc = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8'));
  const s0 = doc.capture.sockets[0];
  doc.capture.sockets = Array.from({ length: n }, (_, i) => ({ ...s0, fd: 100 + i, inode: 10_000_000 + i, local: { ...s0.local, port: 1024 + (i % 60000) } }));
  const file = join(dir, 'big.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('item 3: a full disk or /dev/full: exit 2, one line, no file', () => {
  let full: string;
  let many: Jvm;
  beforeAll(async () => {
    full = scratch('full', 'root');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'knj-security-a-full', full]);
    many = await startJvm('ManySockets', ['400', '2']);
  });
  afterAll(async () => {
    await many?.stop();
    spawnSync('umount', [full]);
    removeAll(full);
  });

  it.each([
    ['snapshot -o', () => ['snapshot', String(many.pid), '-o', join(full, 's.json')]],
    ['check -f junit -o', () => ['check', String(many.pid), '--expect', ':SO_REUSEADDR>=0', '-f', 'junit', '-o', join(full, 'c.xml')]],
    ['--all -f json -o', () => ['--all', '-f', 'json', '-o', join(full, 'a.json')]],
    ['<pid> -f json -o', () => [String(many.pid), '-f', 'json', '-o', join(full, 'r.json')]],
  ])('%s', { timeout: 600_000 }, (_name, args) => {
    const r = tool(args(), { maxBuffer: 1 << 26, timeout: 300_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(oneLine(r)).toMatch(/cannot write .*: ENOSPC \(no space left on device\)$/);
    expect(readdirSync(full)).toEqual([]);
  });

  it('stdout on the full disk: exit 2, one line', () => {
    const fd = openSync(join(full, 'stdout.json'), 'w');
    try {
      const r = spawnSync(process.execPath, [TOOL, String(many.pid), '-f', 'json'], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine({ code: r.status, signal: null, stdout: '', stderr: r.stderr })).toMatch(/^knetstat-java: cannot write standard output: ENOSPC/);
    } finally {
      closeSync(fd);
      removeAll(join(full, 'stdout.json'));
    }
  });

  it('stdout on /dev/full: exit 2, one line (not a stack, not exit 1)', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [TOOL, String(root.pid)], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      expect(r.status, r.stderr).toBe(2);
      expect(oneLine({ code: r.status, signal: null, stdout: '', stderr: r.stderr })).toBe('knetstat-java: cannot write standard output: ENOSPC (no space left on device)');
    } finally {
      closeSync(fd);
    }
  });
});

describe('item 5: text the target controls never reaches a terminal raw', () => {
  let dir: string;
  let fake: Awaited<ReturnType<typeof fakeJvm>>;
  let real: Awaited<ReturnType<typeof spawnReady>>;
  beforeAll(async () => {
    dir = scratch('text');
    // java.home with controls (a newline cannot survive /proc/<pid>/maps: the kernel writes it \012), and a release file full of them.
    const home = fakeJavaHome(join(dir, `jdk${ESC_PATH}`), { release: `JAVA_VERSION="17${ESC_ALL}"\nIMPLEMENTOR="Evil${ESC_ALL}"\n` });
    fake = await fakeJvm(home, { comm: 'x\x1b[31m\nFORGED', args: [`-Djava.net.k${ESC_ALL}\nFORGED=v${ESC_ALL}\nFORGED`] });
    // A real JVM run through a link whose name is hostile (argv[0] and comm), with hostile -D keys and jar name.
    const bin = plantDir(join(dir, `bin${ESC_ALL}`));
    const launcher = join(bin, 'j\x1b[2J\nFORGED');
    symlinkSync(realpathSync('/usr/bin/java'), launcher);
    const jar = join(dir, `app${ESC_ALL}\nFORGED.jar`);
    compileSamples();
    execFileSync('jar', ['--create', '--file', jar, '--main-class', 'SocketLab', '-C', CLASSES, 'SocketLab.class']);
    chownSync(jar, HOSTILE_UID, HOSTILE_GID);
    real = await spawnReady([...AS_HOSTILE, launcher, '-XX:-UsePerfData', `-Djava.net.p${ESC_ALL}\nFORGED=1`, '-jar', jar, 's:server']);
  });
  afterAll(async () => {
    await fake?.stop();
    await real?.stop();
    removeAll(dir);
  });

  it('the text report: comm, java.home, JDK release file, properties', () => {
    for (const pid of [fake.pid, real.pid]) {
      const r = tool([String(pid), '--any']);
      expect([0, 3]).toContain(r.code);
      terminalClean(r.stdout, `report of ${pid}`);
      terminalClean(r.stderr, `stderr of ${pid}`);
    }
    const f = tool([String(fake.pid)]).stdout;
    expect(f).toContain('\\e[2J\\e]0;pwned\\x07\\r\\u009b31m\\u202e'); // shown, escaped: the operator sees what is there
    expect(f).toMatch(/\(x\\e\[31m\\nFORGED\)/);
  });

  it('knetstat tables, list, owner, --all', { timeout: 900_000 }, () => {
    for (const args of [[String(real.pid), '-f', 'knetstat'], ['list'], ['list', '--all-processes'], ['owner', String(fake.port)], ['owner', String(real.ready.sockets.s.localPort)], ['--all']]) {
      // --all reads every socket of a shared host (other work may hold 100,000): room and time for it.
      const r = tool(args, { maxBuffer: 1 << 28, timeout: 300_000 });
      expect([0, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      terminalClean(r.stdout, args.join(' '));
      terminalClean(r.stderr, `${args.join(' ')} (stderr)`);
    }
    expect(tool(['list']).stdout).toMatch(/app\\e\[2J.*\\nFORGED\.jar/);
    for (const args of [[String(fake.pid), '-f', 'json'], ['snapshot', String(fake.pid)], ['list', '-f', 'json'], ['owner', String(fake.port), '-f', 'json'], [String(real.pid), '-f', 'junit']]) {
      const r = tool(args, { maxBuffer: 1 << 26 });
      expect([0, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      documentClean(r.stdout, args.join(' '));
    }
  });

  it('stderr: warnings and errors naming hostile text or files stay one line', () => {
    // Not a JVM, warned about on stderr with its comm (json: warnings go to stderr).
    const py = spawn(AS_HOSTILE[0]!, [...AS_HOSTILE.slice(1), 'python3', '-c', 'import ctypes,socket,sys; ctypes.CDLL(None).prctl(15, b"p\\x1b[2J\\nFORGED", 0, 0, 0); s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print("R", flush=True); sys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    return new Promise<void>((res, rej) => {
      py.stdout!.once('data', () => {
        try {
          const r = tool([String(py.pid), '-f', 'json']);
          expect(r.code).toBe(0);
          expect(oneLine(r)).toMatch(/warning: process \d+ \(p\\e\[2J\\nFORGED\) is not a JVM/);
          const missing = tool(['render', join(dir, `no${ESC_ALL}\nFORGED.json`)]);
          expect(missing.code).toBe(2);
          terminalClean(missing.stderr, 'render of a hostile file name');
          expect(oneLine(missing)).toMatch(/cannot read snapshot .*no\\e\[2J.*\\nFORGED\.json: ENOENT/);
          res();
        } catch (e) { rej(e); } finally { py.kill('SIGKILL'); }
      });
    });
  });

  it('render and check of a crafted snapshot, with a crafted policy and --expect', () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8'));
    const c = doc.capture;
    const evil = `${ESC_ALL}\nFORGED line`;
    c.process.comm = evil;
    c.process.cmdline = [evil, evil];
    c.process.user = evil;
    c.process.jvm.javaHome = evil;
    c.process.jvm.version = evil;
    c.process.jvm.mainClass = evil;
    c.process.jvm.properties = { [`java.net.${evil}`]: evil };
    c.host.hostname = evil;
    c.host.kernel = evil;
    c.capturedAt = evil;
    c.warnings = [evil];
    c.sources[0].reason = evil;
    c.sources.push({ name: 'knetstat', used: false, reason: evil });
    c.missing = { options: ['TCP_NODELAY'], reason: evil };
    c.partial = true;
    c.jdkDefaults = { rows: [], source: evil };
    c.sockets[0].options.TCP_CONGESTION.value = evil.slice(0, 40);
    c.sockets[0].options.TCP_NODELAY.note = evil;
    const snap = join(dir, 'evil.json');
    writeFileSync(snap, JSON.stringify(doc));
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [{ name: evil, match: { state: `LISTEN${ESC_ALL}` }, expect: { TCP_CONGESTION: evil.slice(0, 30) } }] }));
    for (const args of [['render', snap], ['render', snap, '-f', 'knetstat'], ['check', '--snapshot', snap, '--policy', policy],
      ['check', '--snapshot', snap, '--expect', `state=x${ESC_PATH}:TCP_CONGESTION=y${ESC_PATH}`]]) {
      const r = tool(args);
      expect([0, 1, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      terminalClean(r.stdout, args.join(' '));
      terminalClean(r.stderr, `${args.join(' ')} (stderr)`);
    }
    for (const args of [['render', snap, '-f', 'json'], ['render', snap, '-f', 'junit'], ['check', '--snapshot', snap, '--policy', policy, '-f', 'junit'],
      ['check', '--snapshot', snap, '--policy', policy, '-f', 'json']]) {
      const r = tool(args);
      expect([0, 1, 3], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      documentClean(r.stdout, args.join(' '));
      terminalClean(r.stderr, `${args.join(' ')} (stderr)`);
    }
    // Escaped, not lost: the JSON still holds the very string.
    expect(JSON.parse(tool(['render', snap, '-f', 'json']).stdout).process.comm).toBe(evil);
  });
});

describe('item 6: FIFOs and endless files as release file, policy or snapshot: no hang, no memory blow-up', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratch('hang');
    asHostile(['mkfifo', join(dir, 'fifo')]);
  });
  afterAll(() => removeAll(dir));

  it.each([['a FIFO', 'fifo'], ['a link to /dev/zero', 'zero']])('a target JDK whose release file is %s: the report and list finish, version unknown', async (_what, kind) => {
    const home = fakeJavaHome(join(dir, `jdk-${kind}`));
    if (kind === 'fifo') asHostile(['mkfifo', join(home, 'release')]);
    else asHostile(['ln', '-s', '/dev/zero', join(home, 'release')]);
    const jvm = await fakeJvm(home);
    try {
      const r = tool([String(jvm.pid), '-f', 'json'], { timeout: 20_000 });
      expect(r.signal, 'timed out').toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).process.jvm.version).toBeUndefined();
      const l = tool(['list', '-f', 'json'], { timeout: 20_000, maxBuffer: 1 << 26 });
      expect(l.signal, 'list timed out').toBeNull();
      expect(JSON.parse(l.stdout).processes.find((p: any) => p.pid === jvm.pid).javaVersion).toBeUndefined();
    } finally {
      await jvm.stop();
    }
  });

  it.each([
    ['--policy FIFO', () => ['check', String(root.pid), '--policy', join(dir, 'fifo')], /cannot read policy .*fifo: a FIFO, not a regular file$/],
    ['--policy /dev/zero', () => ['check', String(root.pid), '--policy', '/dev/zero'], /cannot read policy \/dev\/zero: a character device, not a regular file$/],
    ['render FIFO', () => ['render', join(dir, 'fifo')], /cannot read snapshot .*fifo: a FIFO, not a regular file$/],
    ['render /dev/zero', () => ['render', '/dev/zero'], /cannot read snapshot \/dev\/zero: a character device, not a regular file$/],
    ['check --snapshot /dev/zero', () => ['check', '--snapshot', '/dev/zero', '--expect', ':TCP_NODELAY=1'], /cannot read snapshot \/dev\/zero: a character device/],
    ['render a directory', () => ['render', dir], /cannot read snapshot .*: a directory, not a regular file$/],
  ])('%s: exit 2 at once, one line', (_name, args, msg) => {
    const r = tool(args(), { timeout: 15_000 });
    expect(r.signal, 'timed out').toBeNull();
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(msg);
  });

  it('a policy or snapshot larger than its cap is refused before it is read', () => {
    const big = join(dir, 'big-policy.json');
    execFileSync('truncate', ['-s', '5M', big]);
    const r = tool(['check', String(root.pid), '--policy', big]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/cannot read policy .*: larger than 4 MiB \(5 MiB\)$/);
  });
});

describe('item 7: hostile nesting and wrongly typed snapshots are bad input (exit 2), not bugs (exit 70)', () => {
  let dir: string;
  beforeAll(() => { dir = scratch('shape', 'root'); });
  afterAll(() => removeAll(dir));

  it('a policy nested 100,000 deep', () => {
    const f = join(dir, 'deep.json');
    writeFileSync(f, `{"rules": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const r = tool(['check', String(root.pid), '--policy', f]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/deep\.json: nested more than 16 levels deep/);
  });

  it('a snapshot nested 100,000 deep', () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8'));
    const f = join(dir, 'deep-snap.json');
    writeFileSync(f, JSON.stringify(doc).replace('"warnings":[]', `"warnings":${'['.repeat(100_000)}${']'.repeat(100_000)}`));
    const r = tool(['render', f]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/nested more than 32 levels deep/);
  });

  const cases: [string, (c: any) => void, RegExp][] = [
    ['comm: {}', (c) => { c.process.comm = {}; }, /capture\.process\.comm: expected a string, got \{\}/],
    ['sources: [null]', (c) => { c.sources = [null]; }, /capture\.sources\[0\]: expected an object, got null/],
    ['warnings: [{}]', (c) => { c.warnings = [{}]; }, /capture\.warnings\[0\]: expected a string, got \{\}/],
    ['a numeric sysctl', (c) => { c.host.sysctls['net.core.somaxconn'] = 4096; }, /capture\.host\.sysctls\["net\.core\.somaxconn"\]: expected a string, got 4096/],
    ['cmdline: [1]', (c) => { c.process.cmdline = [1]; }, /capture\.process\.cmdline\[0\]: expected a string, got 1/],
    ['an option value {}', (c) => { c.sockets[0].options.TCP_NODELAY.value = {}; }, /capture\.sockets\[0\]\.options\.TCP_NODELAY\.value: expected a number, a name/],
    ['tool: 5', (c) => { c.tool = 5; }, /capture\.tool: expected an object, got 5/],
    ['state: {}', (c) => { c.sockets[0].state = {}; }, /capture\.sockets\[0\]\.state: expected a socket state/],
    ['an address with an escape', (c) => { c.sockets[0].local.address = '\x1b[2J'; }, /capture\.sockets\[0\]\.local\.address: expected an IP address/],
    ['vanished: [7]', (c) => { c.vanished = [7]; }, /capture\.vanished\[0\]: expected an object, got 7/],
    ['tcpInfo.rtt: "x"', (c) => { c.sockets[0].tcpInfo.rtt = 'x'; }, /capture\.sockets\[0\]\.tcpInfo\.rtt: expected a number, got "x"/],
    ['missing.options: [{}]', (c) => { c.missing = { options: [{}], reason: 'r' }; }, /capture\.missing\.options\[0\]: expected an option name/],
  ];
  it.each(cases)('snapshot with %s', (name, edit, msg) => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'samples', 'snapshots', 'servers.json'), 'utf8'));
    edit(doc.capture);
    const f = join(dir, `${name.replace(/\W+/g, '_')}.json`);
    writeFileSync(f, JSON.stringify(doc));
    for (const args of [['render', f], ['render', f, '-f', 'knetstat'], ['check', '--snapshot', f, '--expect', ':TCP_NODELAY=1']]) {
      const r = tool(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(oneLine(r)).toMatch(msg);
    }
  });
});

/** SIGKILL, and wait (synchronously: inside a capture's progress callback) until the process is a zombie or gone. */
function killSync(jvm: Jvm): void {
  jvm.proc.kill('SIGKILL');
  const until = Date.now() + 5000;
  while (Date.now() < until && existsSync(`/proc/${jvm.pid}/stat`) && !/\) [ZX] /.test(readFileSync(`/proc/${jvm.pid}/stat`, 'utf8'))) { /* wait for the exit */ }
}

describe('item 8: a process that exits during the scan is reported as such', () => {
  // The socket-by-socket scan (pidfd) is what a kill lands in the middle of; the bpf source reads
  // every socket in one read() of its walk (its case: the last test here).
  it('never a complete report of nothing: each run is complete, partial with "exited": true, or exit 2 naming the exit', async () => {
    const outcomes: string[] = [];
    const delays = [0, 20, 50, 90, 140, 200];
    for (const delay of delays) {
      const many = await startJvm('ManySockets', ['3000', '4']);
      const all: number = many.ready.sockets;
      const p = spawn(process.execPath, [TOOL, String(many.pid), '-f', 'json', '-q', '--source', 'pidfd'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
      let out = '', err = '';
      p.stdout!.on('data', (d) => { out += d; });
      p.stderr!.on('data', (d) => { err += d; });
      // 'close', not 'exit': the tool's last lines on stderr may reach us after its exit is seen.
      const exited = new Promise<number | null>((res) => p.once('close', (c) => res(c)));
      // Kill the JVM once the tool is reading its sockets (it holds a pidfd then), after the delay: mid-scan, whatever the load.
      for (let i = 0; i < 3000 && p.exitCode === null; i++) {
        let reading = false;
        try {
          reading = readdirSync(`/proc/${p.pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${p.pid}/fd/${fd}`) === 'anon_inode:[pidfd]'; } catch { return false; } });
        } catch { /* exited */ }
        if (reading) break;
        await new Promise((res) => setTimeout(res, 2));
      }
      await new Promise((res) => setTimeout(res, delay));
      many.proc.kill('SIGKILL');
      const code = await exited;
      await many.stop();
      if (code === 2) {
        expect(err).toMatch(/exited during the scan|no such process|is a zombie/);
        outcomes.push('gone');
        continue;
      }
      const j = JSON.parse(out);
      if (!j.exited && code === 0) {
        expect(j.sockets.length, 'a report that does not say the process exited has every socket').toBe(all);
        outcomes.push('complete');
        continue;
      }
      // Anything less than every socket must say so.
      expect(j.exited, `${j.sockets.length} sockets, exit ${code}, partial ${j.partial}`).toBe(true);
      expect(j.partial).toBe(true);
      expect(code).toBe(3);
      expect(err).toMatch(/partial report: process \d+ exited during the scan/);
      expect(j.warnings.join(' ')).toMatch(/exited during the scan: this report holds the \d+ socket\(s\) read before it did/);
      outcomes.push('exited');
    }
    expect(outcomes.length).toBe(delays.length);
    // The kills landed mid-scan: the case under test happened.
    expect(outcomes, outcomes.join(' ')).toContain('exited');
  });

  it('in process, deterministically: killed after 512 sockets were read', async () => {
    const { capture } = await import('../src/capture.js');
    const many = await startJvm('ManySockets', ['3000', '4']);
    let killed = false;
    try {
      const cap = await capture(many.pid, {
        source: 'pidfd',
        progress: (done) => {
          if (killed || done < 512) return;
          killed = true;
          killSync(many);
        },
      });
      expect(killed).toBe(true);
      expect(cap.exited).toBe(true);
      expect(cap.partial).toBe(true);
      expect(cap.sockets.length).toBeGreaterThan(0);
      expect(cap.sockets.length).toBeLessThan(3000);
      expect(cap.warnings.join(' ')).toMatch(/exited during the scan/);
    } finally {
      await many.stop();
    }
  });

  it('bpf: killed right after its walk, every socket read is reported, and the report says the process exited', async () => {
    const { capture } = await import('../src/capture.js');
    const many = await startJvm('ManySockets', ['3000', '4']);
    let killed = false;
    try {
      const cap = await capture(many.pid, {
        progress: (done, total) => {
          // bpf reports progress once, when its walk has read them all.
          expect(done).toBe(total);
          killed = true;
          killSync(many);
        },
      });
      expect(killed).toBe(true);
      expect(cap.sources).toEqual([{ name: 'bpf', used: true }]);
      expect(cap.exited).toBe(true);
      expect(cap.partial).toBe(true);
      expect(cap.sockets.length).toBe(many.ready.sockets);
      expect(cap.warnings.join(' ')).toMatch(new RegExp(`exited during the scan: this report holds the ${many.ready.sockets} socket\\(s\\) read before it did`));
    } finally {
      await many.stop();
    }
  });
});

describe('item 9: /proc text is decoded as UTF-8 where valid', () => {
  it('command line, main class and java.home keep é€😀; Latin-1 bytes still read', async () => {
    const jvm = await startJvm('SocketLab', ['é€😀:udp'], { jvmArgs: ['-Dknj.utf8=é€😀'] });
    const dir = scratch('utf8');
    const home = fakeJavaHome(join(dir, 'jdk-é€😀'), { release: 'JAVA_VERSION="17.0.1"\nIMPLEMENTOR="Ünïcødé"\n' });
    const fake = await fakeJvm(home, { args: ['caf\xe9'] });
    try {
      const j = JSON.parse(tool([String(jvm.pid), '-f', 'json']).stdout);
      expect(j.process.cmdline).toContain('-Dknj.utf8=é€😀');
      expect(j.process.cmdline).toContain('é€😀:udp');
      const f = JSON.parse(tool([String(fake.pid), '-f', 'json']).stdout);
      expect(f.process.jvm.javaHome).toBe(home);
      expect(f.process.jvm.version).toBe('17.0.1'); // read through the UTF-8 path
      expect(f.process.jvm.vendor).toBe('Ünïcødé');
      expect(f.process.cmdline).toContain('café');
    } finally {
      await jvm.stop();
      await fake.stop();
      removeAll(dir);
    }
  });
});

describe('item 10: --redact hides secret-looking properties whatever their prefix', () => {
  it('java.net.socks.password and .username, an api token; preferIPv4Stack kept', async () => {
    const jvm = await startJvm('SocketLab', ['s:server'], {
      jvmArgs: ['-Djava.net.socks.password=hunter2x', '-Djava.net.socks.username=alice-knj', '-Djdk.net.authToken=tok-knj-1', '-Djava.net.preferIPv4Stack=true', '-Dmy.secret.key=sk-knj-2'],
    });
    try {
      const r = tool(['snapshot', String(jvm.pid), '--redact']);
      expect(r.code, r.stderr).toBe(0);
      for (const s of ['hunter2x', 'alice-knj', 'tok-knj-1', 'sk-knj-2']) expect(r.stdout).not.toContain(s);
      const c = JSON.parse(r.stdout).capture;
      expect(c.process.cmdline).toContain('-Djava.net.socks.password=<redacted>');
      expect(c.process.cmdline).toContain('-Djava.net.preferIPv4Stack=true');
      expect(c.process.jvm.properties).toMatchObject({ 'java.net.socks.password': '<redacted>', 'java.net.preferIPv4Stack': 'true' });
    } finally {
      await jvm.stop();
    }
  });
});

describe('item 11: --expect refuses unknown keys as the policy file does', () => {
  it.each(['__proto__', 'constructor', 'toString', 'remotePortt'])('%s', (k) => {
    const e = tool(['check', String(root.pid), '--expect', `${k}=1:TCP_NODELAY=1`]);
    expect(e.code).toBe(2);
    expect(oneLine(e)).toMatch(new RegExp(`--expect '${k.replace(/_/g, '_')}=1:TCP_NODELAY=1'\\.${k}: unknown match key \\(known: protocol, state`));
    const dir = scratch('expect', 'root');
    try {
      const f = join(dir, 'p.json');
      writeFileSync(f, `{"rules": [{"name": "r", "match": {"${k}": 1}, "expect": {"TCP_NODELAY": 1}}]}`);
      const p = tool(['check', String(root.pid), '--policy', f]);
      expect(p.code).toBe(2);
      expect(oneLine(p)).toMatch(new RegExp(`rules\\[0\\]\\.match\\.${k}: unknown match key`));
    } finally {
      removeAll(dir);
    }
  });
  it('a match key given twice', () => {
    const e = tool(['check', String(root.pid), '--expect', 'remotePort=1,remotePort=2:TCP_NODELAY=1']);
    expect(e.code).toBe(2);
    expect(oneLine(e)).toMatch(/match key 'remotePort' given twice/);
  });
});

describe('item 12: a non-dumpable process of the caller\'s own user', () => {
  it('says why it is refused and what works', async () => {
    const dir = scratch('dumpable');
    const fake = await fakeJvm(fakeJavaHome(join(dir, 'jdk')), { dumpable: false });
    try {
      const r = tool([String(fake.pid)], { wrapper: AS_HOSTILE });
      expect(r.code).toBe(2);
      const line = oneLine(r);
      expect(line).toMatch(/cannot list the open files of process \d+ \(owned by uid 48311\): it is not dumpable/);
      expect(line).toMatch(/prctl\(PR_SET_DUMPABLE, 0\)/);
      expect(line).toMatch(/run knetstat-java as root \(sudo\)\)$/);
      expect(line).not.toMatch(/as the process's user/);
    } finally {
      await fake.stop();
      removeAll(dir);
    }
  });
});
