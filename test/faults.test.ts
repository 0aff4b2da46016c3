// Sockets that close, fd numbers reused, processes that exit mid-scan: the
// pidfd source reports what it read and names the rest, never crashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CLI } from './helpers/cli.js';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { PidfdSource } from '../src/sources/pidfd.js';
import { socketFds } from '../src/linux/proc.js';
import { capture } from '../src/capture.js';
import { PROTOCOLS, readProcNet } from '../src/linux/procnet.js';
import type { RawSocket } from '../src/model/types.js';

let jvm: Jvm;
beforeAll(async () => { jvm = await startJvm('SocketLab', ['a:server', 'u:udp']); });
afterAll(async () => { await jvm?.stop(); });

describe('pidfd source under faults', () => {
  it('an fd number now held by another socket is not reported with that socket\'s options', async () => {
    const inet = new Set(PROTOCOLS.flatMap((p) => readProcNet(jvm.pid, p).map((r) => r.inode)));
    const [[fd1, ino1], [fd2, ino2]] = [...socketFds(jvm.pid)].filter(([, i]) => inet.has(i)).slice(0, 2) as [number, number][];
    // The listing said fd1 held ino2: as if fd1 had been closed and its number reused between listing and reading.
    const target = { pid: jvm.pid, fds: new Map([[fd1, ino2], [fd2, ino2]]) };
    const sockets = new Map<number, RawSocket>();
    const res = await new PidfdSource().collect({ target, sockets });
    expect(res.vanished).toEqual([ino2]); // fd1's duplicate had inode ino1: not the socket listed
    expect(sockets.get(ino2)!.fd).toBe(fd2); // read under its real fd only
    expect(sockets.has(ino1)).toBe(false);
    expect([...sockets.values()].some((s) => s.fd === fd1)).toBe(false);
  });

  it('an fd that closed since the listing is reported as vanished', async () => {
    const target = { pid: jvm.pid, fds: new Map([[4000, 123456789]]) };
    const sockets = new Map<number, RawSocket>();
    const res = await new PidfdSource().collect({ target, sockets });
    expect(res.vanished).toEqual([123456789]);
    expect(sockets.size).toBe(0);
  });

  it('a process that exits after its fds were listed gives an empty, explained result', async () => {
    const j = await startJvm('SocketLab', ['x:udp']);
    const fds = socketFds(j.pid);
    await j.stop();
    const sockets = new Map<number, RawSocket>();
    const res = await new PidfdSource().collect({ target: { pid: j.pid, fds }, sockets });
    expect(res.status.used).toBe(false);
    expect(res.status.errno).toBe('ESRCH');
    expect(res.vanished!.length).toBe(fds.size);
  });

  it('leaves no fd open in the tool after a capture', async () => {
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 20; i++) await capture(jvm.pid);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('a reader that goes away (| head) ends the report quietly: no stack trace, exit 0', async () => {
    // Enough sockets that the JSON is far larger than a pipe's 64 KiB buffer.
    const many = await startJvm('ManySockets', ['300', '2']);
    try {
      const r = spawnSync('bash', ['-c', `set -o pipefail; node ${CLI} ${many.pid} --format json -q | head -c 200 >/dev/null; echo "rc=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
      expect(r.stderr).toMatch(/rc=0/);
      expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    } finally {
      await many.stop();
    }
  });
});
