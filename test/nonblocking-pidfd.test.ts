// O_NONBLOCK as the pidfd source reads it (fcntl F_GETFL on its duplicate,
// which shares the target's open file description) against the kernel's own
// account, /proc/<pid>/fdinfo/<fd> read here, on a JVM holding blocking sockets
// and a non-blocking channel.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../src/capture.js';
import { O_NONBLOCK } from '../src/linux/proc.js';
import { startJvm, type Jvm } from './helpers/jvm.js';

let jvm: Jvm;
beforeAll(async () => {
  // stall: a SocketChannel made non-blocking (configureBlocking(false)); the rest blocking.
  jvm = await startJvm('SocketLab', ['s:server', 'c:client', 'w:stall', 'u:udp']);
});
afterAll(async () => { await jvm?.stop(); });

/** fdinfo's "flags:" (octal) for an fd of the JVM. */
function fdinfoNonBlocking(pid: number, fd: number): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!;
  return (parseInt(flags, 8) & O_NONBLOCK) !== 0;
}

describe('the pidfd source reads O_NONBLOCK itself', () => {
  it('equals fdinfo on every socket, blocking and not, said to come from pidfd', async () => {
    const c = await capture(jvm.pid, { source: 'pidfd' });
    expect(c.sockets.length).toBeGreaterThanOrEqual(8);
    const seen = new Set<boolean>();
    for (const s of c.sockets) {
      const at = `fd ${s.fd} ${s.protocol} ${s.state} :${s.local.port}`;
      expect(s.nonBlocking, at).toEqual({ value: fdinfoNonBlocking(jvm.pid, s.fd), source: 'pidfd' });
      seen.add(s.nonBlocking!.value);
    }
    // Both kinds were there to be told apart.
    expect([...seen].sort()).toEqual([false, true]);
  });
});
