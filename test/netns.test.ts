// A JVM in its own network namespace, talking to a host behind a veth pair
// (both namespaces made by this test). Its report shows its own addresses,
// and when the far side goes silent the ># indicator appears: unacknowledged
// data and no ACK for more than a second.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { byPorts, reportJson } from './helpers/cli.js';

const A = `knjdiagA${process.pid % 10000}`;
const B = `knjdiagB${process.pid % 10000}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

let jvm: Jvm;
let server: ChildProcess;

beforeAll(async () => {
  ip('netns', 'add', A);
  ip('netns', 'add', B);
  ip('link', 'add', `va${process.pid % 10000}`, 'netns', A, 'type', 'veth', 'peer', 'name', `vb${process.pid % 10000}`, 'netns', B);
  for (const [ns, dev, addr] of [[A, `va${process.pid % 10000}`, '10.213.0.1/24'], [B, `vb${process.pid % 10000}`, '10.213.0.2/24']] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  server = spawn('ip', ['netns', 'exec', B, 'python3', '-c',
    'import socket,time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.213.0.2", 7070)); s.listen(5)\nprint("up", flush=True)\nc,_=s.accept()\ntime.sleep(120)'],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => createInterface({ input: server.stdout! }).once('line', r));
  jvm = await startJvm('SocketLab', ['far:dial:host=10.213.0.2,port=7070,tcpNoDelay', 'near:server'], { wrapper: ['ip', 'netns', 'exec', A] });
});

afterAll(async () => {
  await jvm?.stop();
  server?.kill('SIGKILL');
  for (const ns of [A, B]) { try { ip('netns', 'del', ns); } catch { /* already gone */ } }
});

describe('a JVM in another network namespace', () => {
  it('is reported with its own addresses and a note on the namespace', () => {
    const r = reportJson(jvm.pid);
    const far = byPorts(r, jvm.ready.sockets.far.localPort, 7070);
    expect(far.local.address).toMatch(/^(::ffff:)?10\.213\.0\.1$/);
    expect(far.remote.address).toMatch(/^(::ffff:)?10\.213\.0\.2$/);
    expect(far.options.TCP_NODELAY.value).toBe(1);
    expect(r.process.netns.own).toBe(false);
    expect(r.warnings.join(' ')).toMatch(/another network namespace/);
  });

  it('shows ># when data stays unacknowledged for more than a second', async () => {
    ip('-n', B, 'link', 'set', `vb${process.pid % 10000}`, 'down'); // the far side goes silent
    const ok = new Promise((r) => createInterface({ input: jvm.proc.stdout! }).on('line', (l) => l.startsWith('OK') && r(l)));
    jvm.proc.stdin!.write('write far 1000\n');
    await ok;
    await new Promise((r) => setTimeout(r, 1600));
    const far = byPorts(reportJson(jvm.pid), jvm.ready.sockets.far.localPort, 7070);
    expect(far.tcpInfo.unacked).toBeGreaterThan(0);
    expect(far.diag).toContain('>#');
  });
});
