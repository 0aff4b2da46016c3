// Host-wide views: `--all --format knetstat` against /proc/net/{tcp,tcp6,udp,udp6}
// and `ss -tanuie` read around it; `<pid> --format knetstat`; `list`; `owner`;
// a JVM in another network namespace in `list` and in its own report.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { parseProcNet } from '../src/linux/procnet.js';
import { parseKnetstat } from '../src/linux/knetstat.js';
import { dumpInetDiag } from '../src/linux/diagsocket.js';
import { parseOwnerQuery } from '../src/host/owner.js';
import type { Protocol } from '../src/model/types.js';

const ADDR = '127.0.0.79';
const NS = `knjtest${process.pid % 100}`;
let jvm: Jvm;
let nsJvm: Jvm;

beforeAll(async () => {
  try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }); } catch { /* not there */ }
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  [jvm, nsJvm] = await Promise.all([
    startJvm('DiagSample', ['both', ADDR]),
    startJvm('DiagSample', ['v4', '127.0.0.1'], { wrapper: ['ip', 'netns', 'exec', NS] }),
  ]);
});

afterAll(async () => {
  await jvm?.stop();
  await nsJvm?.stop();
  try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' }); } catch { /* already gone */ }
});

/** The four tables of a knetstat-format output, by protocol (lines after each title). */
function tables(out: string): Record<Protocol, string> {
  const res = {} as Record<Protocol, string>;
  for (const part of out.split(/\n\n/)) {
    const m = /^== (tcp6?|udp6?)stat ==\n/.exec(part);
    if (m) res[m[1] as Protocol] = part.slice(m[0].length);
  }
  return res;
}

const key = (p: string, l: { address: string; port: number }, r: { address: string; port: number }) => `${p} ${l.address}:${l.port} ${r.address}:${r.port}`;

function procNet(protocol: Protocol) {
  return parseProcNet(readFileSync(`/proc/net/${protocol}`, 'latin1'), protocol);
}

describe('--all --format knetstat', () => {
  it('has the module\'s columns and the same sockets and queues as /proc/net and ss', () => {
    const before = (['tcp', 'tcp6', 'udp', 'udp6'] as Protocol[]).flatMap(procNet);
    const r = runCli(['--all', '--format', 'knetstat', '-q'], { maxBuffer: 256 << 20 });
    const after = (['tcp', 'tcp6', 'udp', 'udp6'] as Protocol[]).flatMap(procNet);
    const ss = execFileSync('ss', ['-tanuieH', 'src', ADDR], { encoding: 'utf8' });
    expect(r.code).toBe(0);
    const t = tables(r.stdout);
    expect(t.tcp.split('\n')[0]).toBe('Recv-Q Send-Q Local Address           Foreign Address         Stat Diag Options Process');
    expect(t.udp.split('\n')[0]).toBe('Recv-Q Send-Q Local Address           Foreign Address         Options Process');
    // Our sample's sockets: present in /proc/net before and after, so stable.
    const stable = before.filter((b) => b.local.address === ADDR && after.some((a) => a.inode === b.inode && a.state === b.state));
    expect(stable.length).toBe(5); // listener, client, accepted, 2 udp
    const ssLines = ss.split('\n').filter((l) => l.trim() && !/^\s/.test(l));
    expect(ssLines.length).toBe(5);
    for (const row of stable) {
      const table = t[row.protocol].split('\n');
      const local = `${row.local.address}:${row.local.port}`.padEnd(23);
      const remote = `${row.remote.address}:${row.remote.port === 0 ? '*' : row.remote.port}`.padEnd(23);
      const line = table.find((l) => l.slice(14, 37) === local && l.slice(38, 61) === remote);
      expect(line, `${row.protocol} ${local}`).toBeTruthy();
      const recvQ = Number(line!.slice(0, 6)), sendQ = Number(line!.slice(7, 13));
      const listen = row.state === 'LISTEN';
      expect(recvQ).toBe(row.rxQueue);
      expect(sendQ).toBe(listen ? 0 : row.txQueue);
      // ss: same queues (a listener's Send-Q is its backlog there).
      const ssl = ssLines.find((l) => l.includes(`${row.local.address}:${row.local.port} `) && l.includes(`ino:${row.inode} `))!;
      expect(ssl, `ss ${local}`).toBeTruthy();
      const f = ssl.trim().split(/\s+/);
      expect(Number(f[2])).toBe(recvQ);
      if (!listen) expect(Number(f[3])).toBe(sendQ);
      expect(line!.endsWith(` ${jvm.pid}/java`)).toBe(true);
      if (row.protocol === 'tcp') expect(line!.slice(62, 66)).toBe(listen ? 'LSTN' : 'ESTB');
    }
    const client = t.tcp.split('\n').find((l) => l.startsWith(`${' '.repeat(5)}0      0 ${ADDR}:${jvm.ready.client} `))!;
    expect(client).toContain('SO_KEEPALIVE=1');
    expect(client).toContain('TCP_NODELAY=0');
    const listener = t.tcp.split('\n').find((l) => l.includes(`${ADDR}:${jvm.ready.listen} `) && l.includes('LSTN'))!;
    expect(listener).toContain('SO_RCVBUF=100000');
    const udp = t.udp.split('\n').find((l) => l.includes(`${ADDR}:${jvm.ready.udp} `))!;
    expect(udp).toMatch(/SO_REUSEADDR=0,SO_REUSEPORT=0,SO_RCVBUF=50000,SO_BROADCAST=0 \d+\/java$/);
  });
});

describe('<pid> --format knetstat', () => {
  it('parses as knetstat tables whose options agree with the pidfd report', () => {
    const r = runCli([String(jvm.pid), '--format', 'knetstat', '-q']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(runCli([String(jvm.pid), '--format', 'json', '-q']).stdout);
    const t = tables(r.stdout);
    let rows = 0;
    for (const p of ['tcp', 'tcp6', 'udp', 'udp6'] as Protocol[]) {
      const parsed = parseKnetstat(t[p], `/proc/net/${p}stat`);
      for (const row of parsed.rows) {
        const s = rep.sockets.find((x: any) => key(x.protocol, x.local, x.remote) === key(p, row.local, row.remote));
        expect(s, key(p, row.local, row.remote)).toBeTruthy();
        expect(row.state).toBe(s.state);
        if (row.options.SO_REUSEADDR) expect(row.options.SO_REUSEADDR.value).toBe(s.options.SO_REUSEADDR.value);
        if (row.options.TCP_NODELAY) expect(row.options.TCP_NODELAY.value).toBe(s.options.TCP_NODELAY.value);
        if (row.options.SO_RCVBUF) expect(row.options.SO_RCVBUF.value * 2).toBe(s.options.SO_RCVBUF.value);
        rows++;
      }
    }
    expect(rows).toBe(rep.sockets.length);
  });
});

describe('list and owner', () => {
  it('list shows the JVM with its JDK, main class and socket counts', () => {
    const r = runCli(['list', '--format', 'json']);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout).processes.find((p: any) => p.pid === jvm.pid);
    expect(e).toMatchObject({ isJvm: true, mainClass: 'DiagSample', user: 'root', container: false });
    expect(e.javaVersion).toMatch(/^\d+/);
    expect(e.sockets.tcp).toBe(3);
    expect(e.sockets.udp).toBe(2);
    expect(e.sockets.tcp6).toBe(1);
    const text = runCli([]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^\\s*${jvm.pid}\\s+root\\s+\\S+\\s+4\\s+2\\s+host\\s+DiagSample$`, 'm'));
    const all = JSON.parse(runCli(['list', '--all-processes', '--format', 'json']).stdout).processes;
    expect(all.some((p: any) => p.pid === process.pid && !p.isJvm)).toBe(true);
  });

  it('owner names the JVM holding a port and an inode', () => {
    const r = runCli(['owner', `${ADDR}:${jvm.ready.listen}`, '--format', 'json']);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout).matches;
    const listener = m.find((x: any) => x.state === 'LISTEN');
    expect(listener.owners).toEqual([expect.objectContaining({ pid: jvm.pid, isJvm: true, mainClass: 'DiagSample' })]);
    const byInode = runCli(['owner', String(listener.inode)]);
    expect(byInode.code).toBe(0);
    expect(byInode.stdout).toContain(`pid ${jvm.pid} (java)`);
    expect(byInode.stdout).toContain('JVM DiagSample');
    expect(runCli(['owner', 'nonsense']).code).toBe(2);
    expect(parseOwnerQuery('[::1]:8080')).toEqual({ address: '::1', port: 8080 });
    expect(parseOwnerQuery('123456')).toEqual({ inode: 123456 });
  });
});

describe('a JVM in another network namespace', () => {
  it('appears in list as in another namespace', () => {
    const e = JSON.parse(runCli(['list', '--format', 'json']).stdout).processes.find((p: any) => p.pid === nsJvm.pid);
    expect(e).toBeTruthy();
    expect(e.netns.own).toBe(false);
    expect(e.container).toBe(true);
    expect(e.sockets.tcp).toBe(3);
    expect(runCli(['list']).stdout).toMatch(new RegExp(`^\\s*${nsJvm.pid}\\s.*net:\\[${e.netns.inode}\\]`, 'm'));
  });

  it('its sock_diag report (setns into its namespace) shows its own addresses', () => {
    const r = runCli([String(nsJvm.pid), '--source', 'sockdiag', '--format', 'json', '-q']);
    expect(r.code).toBe(3);
    const rep = JSON.parse(r.stdout);
    expect(rep.warnings.join(' ')).not.toMatch(/sock_diag: cannot/);
    const listener = rep.sockets.find((s: any) => s.state === 'LISTEN');
    expect(listener.local).toEqual({ address: '127.0.0.1', port: nsJvm.ready.listen });
    expect(listener.options.backlog.value).toBe(77);
    expect(listener.sources).toContain('sockdiag');
    // Our own namespace does not have them; our netns is unchanged after the setns round trip.
    const ours = [...dumpInetDiag(4, 'tcp').values()].filter((x) => x.inode === listener.inode);
    expect(ours).toEqual([]);
    const ourNs = statSync('/proc/thread-self/ns/net').ino;
    const theirs = dumpInetDiag(4, 'tcp', { pid: nsJvm.pid });
    expect(theirs.get(listener.inode)?.local.address).toBe('127.0.0.1');
    expect(statSync('/proc/thread-self/ns/net').ino).toBe(ourNs); // back in our own namespace
    expect([...dumpInetDiag(4, 'tcp').values()].some((x) => x.inode === listener.inode)).toBe(false);
    const k = runCli([String(nsJvm.pid), '--format', 'knetstat', '-q']);
    expect(k.stdout).toContain(`127.0.0.1:${nsJvm.ready.listen}`);
  });
});
