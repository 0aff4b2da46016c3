// Snapshots: capture a real JVM to a file, render and check it after the JVM
// is gone (no capture, no root), redact it, reject damaged or foreign files
// with one line; the sample snapshots in samples/snapshots render as captured.
// Also progress: nothing extra on a piped stderr, stdout untouched on a TTY.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startJvm, type Jvm } from './helpers/jvm.js';
import { CLI, runCli } from './helpers/cli.js';
import { junitparser, xmllint } from './helpers/junit.js';

let dir: string;
const SAMPLES = join(ROOT, 'samples', 'snapshots');
const sample = (n: string) => join(SAMPLES, n);

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'knetstat-snap-')); });

describe('snapshot <pid> -o FILE, then render and check with the JVM gone', () => {
  let jvm: Jvm;
  let file: string;
  let live: any;
  let ready: any;
  beforeAll(async () => {
    jvm = await startJvm('SocketLab', ['db:client:keepAlive,tcpNoDelay', 'big:server:backlog=200', 'u:udp:rcvBuf=100000']);
    ready = jvm.ready.sockets;
    file = join(dir, 'ticket.json');
    const r = runCli(['snapshot', String(jvm.pid), '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    live = JSON.parse(runCli([String(jvm.pid), '-f', 'json']).stdout);
    await jvm.stop();
  });

  it('wraps the Capture with kind and formatVersion, with everything a ticket needs', () => {
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    expect(snap.kind).toBe('knetstat-java-snapshot');
    expect(snap.formatVersion).toBe(1);
    const c = snap.capture;
    expect(c.process.pid).toBe(jvm.pid);
    expect(c.process.cmdline.slice(-3)).toEqual(['db:client:keepAlive,tcpNoDelay', 'big:server:backlog=200', 'u:udp:rcvBuf=100000']);
    expect(c.process.jvm.version).toMatch(/^17\./);
    expect(c.host.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(c.host.sysctls['net.ipv4.tcp_rmem']).toBe(readFileSync('/proc/sys/net/ipv4/tcp_rmem', 'utf8').trim().replace(/\s+/g, ' '));
    expect(c.host.sysctls['net.core.somaxconn']).toBe(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    expect(Object.keys(c.host.kernelDefaults)).toEqual(expect.arrayContaining(['tcp', 'udp']));
    expect(c.tool.name).toBe('knetstat-java');
    expect(Date.parse(c.capturedAt)).toBeGreaterThan(Date.now() - 600_000);
    expect(c.sockets.length).toBe(Object.keys(ready).length);
  });

  it('render: the same sockets and calls as the live report, after the JVM exited', () => {
    expect(() => process.kill(jvm.pid, 0)).toThrow(); // gone: render cannot have read it
    const r = runCli(['render', file, '-f', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.pid).toBe(jvm.pid);
    const key = (s: any) => `${s.protocol} ${s.local.port} ${s.remote.port}`;
    expect(rep.sockets.map(key).sort()).toEqual(live.sockets.map(key).sort());
    for (const s of rep.sockets) {
      const l = live.sockets.find((x: any) => key(x) === key(s));
      expect(s.java.map((c: any) => c.call), key(s)).toEqual(l.java.map((c: any) => c.call));
      expect(s.options.SO_KEEPALIVE?.value, key(s)).toEqual(l.options.SO_KEEPALIVE?.value);
    }
    const db = rep.sockets.find((s: any) => s.local.port === ready.db.localPort);
    expect(db.java.filter((c: any) => c.origin === 'application').map((c: any) => c.call)).toEqual(['setKeepAlive(true)', 'setTcpNoDelay(true)']);
  });

  it('render text and junit', () => {
    const t = runCli(['render', file]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain(`pid ${jvm.pid} (java)`);
    expect(t.stdout).toMatch(/ServerSocket \(fd \d+\): new ServerSocket\(port, 200\) \/ bind\(addr, 200\)/);
    const out = join(dir, 'ticket.xml');
    expect(runCli(['render', file, '-f', 'junit', '-o', out]).code).toBe(0);
    expect(xmllint(out).code).toBe(0);
    expect(junitparser(out).tests).toBe(Object.keys(ready).length);
  });

  it('check --snapshot works offline, with the same verdicts', () => {
    const r = runCli(['check', '--snapshot', file, '-e', `remotePort=${ready.db.remotePort}:SO_KEEPALIVE=1,TCP_NODELAY=1`,
      '-e', `localPort=${ready.u.localPort}:SO_RCVBUF>=200000`, '-f', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.counts).toEqual({ rules: 2, passed: 2, failed: 0, skipped: 0, unknown: 0 });
    expect(j.context.snapshot).toBe(file);
    const f = runCli(['check', '--snapshot', file, '-e', 'state=LISTEN:backlog>=128']);
    expect(f.code).toBe(1);
    expect(f.stdout).toMatch(/found backlog=50/);
  });
});

function nonLoopbackIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

describe('snapshot --redact', () => {
  const ip = nonLoopbackIPv4();
  let jvm: Jvm;
  let server: Server;
  let port: number;
  let snap: any;
  beforeAll(async () => {
    if (!ip) return;
    server = createServer(() => {});
    await new Promise<void>((res) => server.listen(0, ip, () => res()));
    port = (server.address() as any).port;
    jvm = await startJvm('SocketLab', [`ext:dial:host=${ip},port=${port},keepAlive`, 'l:server'], { jvmArgs: ['-Djava.net.preferIPv4Stack=true', '-Dsecret.token=hunter2'] });
    const file = join(dir, 'redacted.json');
    const r = runCli(['snapshot', String(jvm.pid), '-o', file, '--redact']);
    expect(r.code, r.stderr).toBe(0);
    snap = JSON.parse(readFileSync(file, 'utf8'));
  });
  afterAll(async () => { await jvm?.stop(); server?.close(); });

  it.skipIf(!ip)('replaces non-loopback addresses consistently, keeps loopback and ports', () => {
    const ext = snap.capture.sockets.find((s: any) => s.remote.port === port);
    expect(ext.local.address).toBe('addr-1');
    expect(ext.remote.address).toBe('addr-1'); // the same address, the same alias
    expect(ext.local.port).toBe(jvm.ready.sockets.ext.localPort);
    const l = snap.capture.sockets.find((s: any) => s.local.port === jvm.ready.sockets.l.localPort);
    expect(l.local.address).toBe('127.0.0.1');
    expect(JSON.stringify(snap)).not.toContain(ip);
  });

  it.skipIf(!ip)('hides hostname, user and arguments; keeps argv[0], the main class and socket properties', () => {
    const c = snap.capture;
    expect(snap.redacted).toBe(true);
    expect(c.redacted).toBe(true);
    expect(c.host.hostname).toBe('redacted');
    expect(c.process.user).toBe('redacted');
    const argv = c.process.cmdline;
    expect(argv[0]).toBe('java');
    expect(argv).toContain('SocketLab');
    expect(argv).toContain('-Djava.net.preferIPv4Stack=true');
    expect(argv.filter((a: string) => a !== '<redacted>').sort()).toEqual(['-Djava.net.preferIPv4Stack=true', 'SocketLab', 'java']);
    expect(JSON.stringify(snap)).not.toContain('hunter2');
    expect(JSON.stringify(snap)).not.toContain(`host=${ip}`);
  });
});

describe('damaged, foreign and future files: exit 2, one line, no stack', () => {
  let good: string;
  beforeAll(() => { good = readFileSync(sample('clients.json'), 'utf8'); });
  const bad = (name: string, content: string | Buffer | null, line: RegExp) => {
    const f = join(dir, name);
    if (content !== null) writeFileSync(f, content);
    for (const args of [['render', f], ['check', '--snapshot', f, '-e', ':SO_KEEPALIVE=1']]) {
      const r = runCli(args);
      expect(r.code, `${args[0]} ${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
      expect(r.stdout).toBe('');
    }
  };
  it('bad JSON', () => bad('bad.json', '{"kind": "knetstat-java-snapshot", formatVersion: 1}', /bad\.json is not a snapshot: not valid JSON \(/));
  it('truncated', () => bad('cut.json', good.slice(0, 5000), /cut\.json is truncated: the JSON ends early after 5000 bytes/));
  it('a JSON report instead', () => bad('report.json', JSON.stringify({ pid: 1, sockets: [] }), /report\.json is not a knetstat-java snapshot \(no "kind": "knetstat-java-snapshot"\): it looks like a JSON report/));
  it('other JSON', () => bad('other.json', '[1, 2, 3]', /other\.json is not a knetstat-java snapshot/));
  it('binary', () => bad('bin.json', readFileSync(process.execPath).subarray(0, 4096), /bin\.json is not a snapshot: binary data, not JSON text$/));
  it('empty', () => bad('empty.json', '', /empty\.json is empty: not a snapshot$/));
  it('missing', () => bad('nope.json', null, /cannot read snapshot .*nope\.json: ENOENT$/));
  it('a future format', () => {
    const doc = JSON.parse(good);
    doc.formatVersion = 9;
    bad('future.json', JSON.stringify(doc), /^knetstat-java: .*future\.json: snapshot format 9 is newer than this tool \(reads 1\): upgrade knetstat-java$/);
  });
  it('a damaged capture names the field', () => {
    const doc = JSON.parse(good);
    doc.capture.sockets[2].local = 'x';
    bad('damaged.json', JSON.stringify(doc), /damaged\.json: capture\.sockets\[2\]\.local: expected \{"address": \.\.\., "port": n\}/);
  });
});

describe('samples/snapshots render as captured', () => {
  it('clients.json: keepalive + nodelay client, and a linger-0 client that resets', () => {
    const r = runCli(['render', sample('clients.json'), '-f', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sockets.length).toBe(6);
    const app = (fd: number) => j.sockets.find((s: any) => s.fd === fd).java.filter((c: any) => c.origin === 'application').map((c: any) => c.call);
    // No O_NONBLOCK in these snapshots: an asynchronous channel ties, and setOption is the spelling all three have.
    expect(app(5)).toEqual(['setOption(StandardSocketOptions.SO_KEEPALIVE, true)', 'setOption(StandardSocketOptions.TCP_NODELAY, true)']);
    expect(app(8)).toEqual(['setSoLinger(true, 0)']);
    const t = runCli(['render', sample('clients.json')]);
    expect(t.stdout).toContain('fd 8 ([::ffff:127.0.0.1]:33494): SO_LINGER on with 0 s: close() sends RST and drops unsent data');
  });

  it('servers.json: backlog 200 and an inherited receive buffer', () => {
    const j = JSON.parse(runCli(['render', sample('servers.json'), '-f', 'json']).stdout);
    const big = j.sockets.find((s: any) => s.fd === 4);
    expect(big.options.backlog.value).toBe(200);
    expect(big.java.filter((c: any) => c.origin === 'application').map((c: any) => c.call))
      .toEqual(expect.arrayContaining(['setOption(StandardSocketOptions.SO_RCVBUF, 32768)', 'new ServerSocket(port, 200) / bind(addr, 200)']));
    const acc = j.sockets.find((s: any) => s.fd === 6);
    expect(acc.java.find((c: any) => c.origin === 'inherited').call).toBe('setOption(StandardSocketOptions.SO_RCVBUF, 32768)');
  });

  it('udp-dial-redacted.json: redacted, UDP calls intact', () => {
    const out = join(dir, 'udp.xml');
    expect(runCli(['render', sample('udp-dial-redacted.json'), '-f', 'junit', '-o', out]).code).toBe(0);
    expect(xmllint(out).code).toBe(0);
    const x = junitparser(out);
    expect(x.tests).toBe(3);
    expect(x.suites[0]!.properties.redacted).toBe('true');
    expect(x.suites[0]!.properties.host).toBe('redacted');
    const ext = x.suites[0]!.cases.find((c) => c.name.startsWith('tcp6 [::ffff:addr-1]:'))!;
    expect(ext.systemOut).toContain('java.net.Socket.setOption(StandardSocketOptions.SO_KEEPALIVE, true)  (application)');
    const m = x.suites[0]!.cases.find((c) => c.systemOut?.includes('setOption(StandardSocketOptions.IP_MULTICAST_TTL, 4)'));
    expect(m).toBeTruthy();
  });

  it('check --snapshot with the sample policies', () => {
    const r = runCli(['check', '--snapshot', sample('clients.json'), '-p', join(ROOT, 'samples', 'policies', 'example.json'), '-f', 'json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.rules.map((x: any) => x.status)).toEqual(['skip', 'fail', 'fail']);
    expect(j.rules[2].sockets.filter((s: any) => s.status === 'fail').map((s: any) => s.fd)).toEqual([8]);
  });
});

describe('progress', () => {
  let jvm: Jvm;
  beforeAll(async () => { jvm = await startJvm('SocketLab', ['c:client:keepAlive', 'u:udp']); });
  afterAll(async () => { await jvm?.stop(); });
  const env = { ...process.env, CI: '', TERM: 'xterm' };
  delete (env as any).CI;

  it('stderr piped (not a TTY), CI unset: nothing on stderr for complete runs', () => {
    for (const args of [[String(jvm.pid), '-f', 'json'], ['snapshot', String(jvm.pid)], ['check', String(jvm.pid), '-e', ':SO_REUSEPORT=0']]) {
      const r = runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.stdout.length).toBeGreaterThan(100);
    }
  });

  it('stderr a TTY (script): stdout still a clean document, nothing of it on the terminal', () => {
    const out = join(dir, 'tty.json');
    const snap = join(dir, 'tty-snap.json');
    const cmd = `${process.execPath} ${CLI} ${jvm.pid} -f json > ${out} && ${process.execPath} ${CLI} snapshot ${jvm.pid} > ${snap}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).pid).toBe(jvm.pid);
    expect(JSON.parse(readFileSync(snap, 'utf8')).kind).toBe('knetstat-java-snapshot');
    // Whatever reached the terminal is progress (or nothing, for a capture this short), never the document.
    expect(r.stdout).not.toContain('"sockets"');
    expect(r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]|[\r\n]/g, '').replace(/[^\x20-\x7e]/g, '').replace(/reading sockets(: \d+\/\d+)?/g, '').trim()).toBe('');
  });

  it('a long capture on a TTY shows ora progress on stderr; --quiet and CI=true keep it silent', async () => {
    // 1,200 sockets: the pidfd source reports progress every 512 fds.
    const many = await startJvm('ManySockets', ['1200', '4']);
    try {
      const run = (extra: string, e: NodeJS.ProcessEnv, size = 'stty cols 100 rows 30; ') => {
        const out = join(dir, 'many.json');
        // pidfd: its progress moves every 512 fds (the bpf source reads all sockets in one walk).
        const cmd = `${size}${process.execPath} ${CLI} ${many.pid} -f json --source pidfd ${extra} > ${out}`;
        const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...e, KNETSTAT_PROGRESS_DELAY_MS: '0' } });
        expect(r.status, r.stdout).toBe(0);
        expect(JSON.parse(readFileSync(out, 'utf8')).sockets.length).toBeGreaterThanOrEqual(1200);
        return r.stdout; // what reached the terminal: stderr only, stdout went to the file
      };
      const shown = run('', env);
      expect(shown).toMatch(/reading sockets: (512|1024)\/\d{4}/);
      expect(shown).not.toContain('"sockets"');
      expect(run('-q', env)).not.toContain('reading sockets');
      expect(run('', { ...env, CI: 'true' })).not.toContain('reading sockets');
      // A terminal without a size (serial console): no spinner rather than endless line clearing.
      expect(run('', env, '')).not.toContain('reading sockets');
    } finally {
      await many.stop();
    }
  });
});
