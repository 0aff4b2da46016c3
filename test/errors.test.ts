// Bad input and faults: one line on stderr, the documented exit code, no
// stack trace, nothing written to stdout or left behind.
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { CLI, runCli } from './helpers/cli.js';

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.length, stderr).toBe(1);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

export function ensureUser(name: string): number {
  try {
    return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  } catch {
    try { execFileSync('useradd', ['-r', '-M', '-s', '/usr/sbin/nologin', name]); } catch { /* created meanwhile */ }
    return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  }
}

let jvm: Jvm;
beforeAll(async () => { jvm = await startJvm('SocketLab', ['a:server', 'u:udp']); });
afterAll(async () => { await jvm?.stop(); });

describe('bad pids', () => {
  it.each([['abc', /not a process id: 'abc'/], ['-5', /unknown option|not a process id/], ['12x', /not a process id/], ['99999999999', /Linux pids are/]])('%s -> exit 2', (arg, msg) => {
    const r = runCli([arg]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(msg);
    expect(r.stdout).toBe('');
  });

  it('no such process -> exit 2 with a remedy', () => {
    let pid = 4194000;
    while (existsSync(`/proc/${pid}`)) pid--;
    const r = runCli([String(pid)]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`no such process: ${pid} \\(check the pid`));
  });

  it('a zombie -> exit 2', async () => {
    // sh forks a child that exits at once, then execs into sleep, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 30'], { stdio: 'ignore' });
    try {
      let zombie: number | undefined;
      for (let i = 0; i < 50 && zombie === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const kids = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        zombie = kids.find((k) => { try { return / Z /.test(readFileSync(`/proc/${k}/stat`, 'utf8').replace(/\(.*\)/, '()')); } catch { return false; } });
      }
      expect(zombie).toBeDefined();
      const r = runCli([String(zombie)]);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toMatch(/is a zombie/);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('stderr gone', () => {
  it('a warning to a stderr whose reader has gone (EPIPE): the exit code as usual, no crash', () => {
    const snap = join(ROOT, 'samples', 'snapshots', 'not-observed.json');
    // stderr a pipe whose reader has exited before the tool starts.
    const gone = (cmd: string) => spawnSync('bash', ['-c', `exec 2> >(exec true); sleep 0.3; ${cmd} >/dev/null; echo "rc=$?"`], { encoding: 'utf8' }).stdout.trim();
    expect(gone(`node ${CLI} render ${snap} -f json`)).toBe('rc=3'); // partial: the JVM was not observed
    // The control: a write there without a handler crashes Node.
    expect(gone(`node -e 'process.stderr.write("x\\n"); setTimeout(() => {}, 100)'`)).toBe('rc=1');
  });
});

describe('bad flags and files', () => {
  it('unknown format -> exit 2', () => {
    const r = runCli([String(jvm.pid), '--format', 'xml']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/unknown format 'xml'/);
  });
  it('unknown source -> exit 2', () => {
    const r = runCli([String(jvm.pid), '--source', 'magic']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/magic/);
  });
  it('unknown flag -> exit 2', () => {
    const r = runCli([String(jvm.pid), '--frobnicate']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/unknown option '--frobnicate'/);
  });
  it('-o into a missing directory -> exit 2 and no file', () => {
    const r = runCli([String(jvm.pid), '-o', '/nonexistent-dir/report.txt']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot write \/nonexistent-dir\/report.txt: ENOENT/);
  });
  it('-o writes the whole report and leaves no temporary file', () => {
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    const r = runCli([String(jvm.pid), '-f', 'json', '-o', `${dir}/r.json`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(`${dir}/r.json`, 'utf8')).pid).toBe(jvm.pid);
    expect(readdirSync(dir)).toEqual(['r.json']);
  });
});

describe('targets that are not what we expect', () => {
  let py: ChildProcess;
  let pyPid: number;
  beforeAll(async () => {
    py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(7)\nprint(s.getsockname()[1], flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => py.stdout!.once('data', r));
    pyPid = py.pid!;
  });
  afterAll(() => { py?.kill('SIGKILL'); });

  it('not a JVM: reported anyway, with a warning', () => {
    const r = runCli([String(pyPid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/warning: process \d+ \(python3\) is not a JVM/);
    expect(r.stdout).toMatch(/LISTEN/);
    const j = JSON.parse(runCli([String(pyPid), '-f', 'json']).stdout);
    expect(j.sockets[0].options.backlog.value).toBe(7);
  });

  it('--any silences the warning', () => {
    const r = runCli([String(pyPid), '--any']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/warning: .*not a JVM/);
    expect(r.stderr).toBe('');
  });

  it('fds listed but their links unreadable (root without CAP_SYS_PTRACE, as in a container) -> exit 2, not "no sockets"', () => {
    // /proc/<pid>/fd lists with DAC rights alone; its links need ptrace access.
    const r = runCli([String(pyPid), '--any', '--source', 'procfs'], { wrapper: ['setpriv', '--inh-caps=-sys_ptrace', '--bounding-set=-sys_ptrace'] });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot read the open files of process \d+: permission denied \(EACCES on its fd links\).*CAP_SYS_PTRACE/);
    expect(r.stdout).toBe('');
  });

  it("another user's process whose fds we may not list -> exit 2 with the remedy", () => {
    const nobody = ensureUser('nobody');
    const r = runCli([String(jvm.pid)], { wrapper: ['setpriv', `--reuid=${nobody}`, `--regid=${nobody}`, '--clear-groups'] });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/cannot list the open files of process \d+ \(owned by root\): permission denied \(run knetstat-java as root/);
  });
});

describe('pidfd_getfd refused', () => {
  let own: Jvm;
  let uid: number;
  beforeAll(async () => {
    uid = ensureUser('knjtest');
    own = await startJvm('SocketLab', ['s:server:backlog=77'], { wrapper: ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] });
  });
  afterAll(async () => { await own?.stop(); });

  it('says why, names the fix, still reports what /proc gives, exits 3', () => {
    // Same effective (fs) uid as the JVM, so /proc/<pid>/fd can be listed; another real uid,
    // so pidfd_getfd's ptrace check (real credentials) refuses: EPERM, as for a non-root user under Yama.
    const r = runCli([String(own.pid), '-f', 'json', '--source', 'pidfd'], {
      wrapper: ['setpriv', '--ruid=65534', `--euid=${uid}`, '--rgid=65534', `--egid=${uid}`, '--clear-groups'],
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/partial report: \d+ option\(s\) unreadable: pidfd_getfd on process \d+ refused \(EPERM.*run as root/);
    const j = JSON.parse(r.stdout);
    expect(j.partial).toBe(true);
    expect(j.sources.find((s: any) => s.name === 'pidfd')).toMatchObject({ used: false, errno: 'EPERM' });
    const listener = j.sockets.find((s: any) => s.local.port === own.ready.sockets.s.localPort && s.state === 'LISTEN');
    expect(listener).toBeTruthy();
    expect(listener.options.TCP_NODELAY).toBeUndefined(); // never a guessed value
    expect(j.missing.options).toContain('TCP_NODELAY');
  });

  it('auto falls back to sock_diag: names both sources, reads what sock_diag has, invents nothing, exits 3', () => {
    const r = runCli([String(own.pid), '-f', 'json'], {
      wrapper: ['setpriv', '--ruid=65534', `--euid=${uid}`, '--rgid=65534', `--egid=${uid}`, '--clear-groups'],
    });
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.sources.find((s: any) => s.name === 'pidfd')).toMatchObject({ used: false, errno: 'EPERM' });
    expect(j.sources.find((s: any) => s.name === 'sockdiag')).toMatchObject({ used: true });
    const listener = j.sockets.find((s: any) => s.local.port === own.ready.sockets.s.localPort && s.state === 'LISTEN');
    expect(listener.options.backlog).toMatchObject({ value: 77, source: 'sockdiag' });
    expect(listener.options.TCP_NODELAY).toBeUndefined();
    expect(j.missing.options).toContain('TCP_NODELAY');
    expect(j.missing.reason).toMatch(/pidfd_getfd on process \d+ refused/);
    expect(r.stderr).toMatch(/partial report: \d+ option\(s\) unreadable/);
  });
});
