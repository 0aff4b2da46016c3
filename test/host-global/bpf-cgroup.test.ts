// Reading through bpf leaves the target's sockets as they were, with cgroup v1
// net_cls and net_prio mounted. pidfd_getfd does not: installing a duplicate
// re-stamps the socket's classid and net_prio index with the reader's cgroup
// (__receive_sock(), src/linux/cgroup.ts), which is why the tool never uses it
// then, and why auto uses bpf there freely: it duplicates nothing. A JVM in a
// net_cls,net_prio cgroup of its own: its sockets' classid and prioidx, read
// two ways (the BPF record, and sock_diag's class_id through ss), are the same
// after every bpf run as before; a duplicate made here changes them, which
// shows the check can fail. Mounting is host-wide: this file runs in the
// host-global project (alone, after the rest) and leaves the controllers
// unbound again, as test/host-global/netcls.test.ts does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bound, classIds, mountController, socketFds, unmount, type Mount } from '../helpers/cgroupv1.js';
import { runCli } from '../helpers/cli.js';
import { startJvm, type Jvm } from '../helpers/jvm.js';
import { walkProcess } from '../../src/linux/bpfwalk.js';
import * as libc from '../../src/linux/libc.js';

const TAG = `knj-bpf-port-${process.pid}`;
const CLASSID = 0x00100042;
const BIG = { maxBuffer: 1 << 28 };

type Stamps = Map<number, { classid: number; prioidx: number }>;

/** classid and prioidx of every TCP/UDP socket of pid, by inode, as the kernel holds them now (a BPF walk by this process). */
function stamps(pid: number): Stamps {
  const m: Stamps = new Map();
  for (const r of walkProcess(pid).socks) {
    expect(r.has_classid && r.has_prioidx, 'kernel with CONFIG_CGROUP_NET_CLASSID and CONFIG_CGROUP_NET_PRIO').toBe(true);
    m.set(r.inode, { classid: r.classid, prioidx: r.prioidx });
  }
  return m;
}

describe('bpf and cgroup v1 net_cls / net_prio', () => {
  let jvm: Jvm;
  let cg: Mount;
  let before: Stamps;
  const wasBound = { net_cls: bound('net_cls'), net_prio: bound('net_prio') };
  beforeAll(async () => {
    cg = mountController(TAG, 'net_cls,net_prio');
    writeFileSync(join(cg.child, 'net_cls.classid'), String(CLASSID));
    // Born in the cgroup: every socket gets its classid and its net_prio index at creation.
    jvm = await startJvm('SocketLab', ['a:server:rcvBuf=65536', 'c:udp', 'd:dchannel6'], {
      wrapper: ['sh', '-c', `echo $$ > ${join(cg.child, 'cgroup.procs')} && exec "$@"`, 'sh'],
    });
    before = stamps(jvm.pid);
  });
  afterAll(async () => {
    await jvm?.stop();
    if (cg) unmount(cg, [], wasBound.net_cls && wasBound.net_prio);
    // Left bound, every pidfd read on the host would refuse from now on.
    expect({ net_cls: bound('net_cls'), net_prio: bound('net_prio') }).toEqual(wasBound);
  });

  it('the premise: the JVM\'s sockets carry its cgroup\'s classid and net_prio index, as sock_diag sees them too', () => {
    expect(before.size).toBe(5); // listener, client, accepted, two UDP
    const prioidx = [...before.values()][0]!.prioidx;
    expect(prioidx).toBeGreaterThan(1); // the group's own index (the root's is 1)
    for (const v of before.values()) expect(v).toEqual({ classid: CLASSID, prioidx });
    expect([...classIds(new Set(before.keys())).values()]).toEqual([...before.keys()].map(() => CLASSID));
  });

  it('--source bpf and auto (bpf, used freely: it duplicates nothing) read everything and change nothing', () => {
    for (let i = 0; i < 3; i++) {
      const r = runCli([String(jvm.pid), '--source', 'bpf', '-f', 'json', '-q'], BIG);
      expect(r.code, r.stderr).toBe(0);
    }
    const auto = runCli([String(jvm.pid), '-f', 'json', '-q'], BIG);
    expect(auto.code, auto.stderr).toBe(0);
    const j = JSON.parse(auto.stdout);
    // bpf answers alone: pidfd is never reached, so neither refused nor used; nothing is missing.
    expect(j.sources).toEqual([{ name: 'bpf', used: true }]);
    expect(j.partial).toBe(false);
    const listener = j.sockets.find((s: any) => s.local.port === jvm.ready.sockets.a.localPort && s.state === 'LISTEN');
    expect(listener.userLocks).toEqual({ rcvbuf: true, sndbuf: false, source: 'bpf' });
    expect(stamps(jvm.pid)).toEqual(before);
    expect([...classIds(new Set(before.keys())).values()]).toEqual([...before.keys()].map(() => CLASSID));
  });

  it('--all, auto and --source bpf: options read, no warning, nothing changed', () => {
    for (const args of [['--all', '-f', 'json'], ['--all', '--source', 'bpf', '-f', 'knetstat']]) {
      const r = runCli(args, BIG);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      if (args.includes('json')) {
        const ours = JSON.parse(r.stdout).sockets.filter((s: any) => before.has(s.inode));
        expect(ours.length).toBe(before.size);
        for (const s of ours) expect(s.sources).toEqual(['bpf']);
      } else {
        expect(r.stdout).toMatch(new RegExp(`:${jvm.ready.sockets.a.localPort} .*LSTN.*SO_RCVBUF=65536.* ${jvm.pid}/java\\n`));
      }
    }
    expect(stamps(jvm.pid)).toEqual(before);
  });

  it('--probe-jdk: the target through bpf, the probe (the tool\'s own JVM) through pidfd; the target keeps its stamps', () => {
    const r = runCli([String(jvm.pid), '-f', 'json', '-q', '--probe-jdk'], BIG);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sources).toEqual([{ name: 'bpf', used: true }]);
    expect(j.defaults.note).toMatch(/measured from the target's own JDK/);
    expect(stamps(jvm.pid)).toEqual(before);
  });

  it('the check can fail: a pidfd_getfd duplicate made here re-stamps the socket (this process: classid 0, prioidx 1)', () => {
    const [fd, inode] = [...socketFds(jvm.pid)].find(([, ino]) => before.has(ino))!;
    const pidfd = libc.pidfdOpen(jvm.pid);
    const dup = libc.pidfdGetfd(pidfd, fd);
    libc.close(dup);
    libc.close(pidfd);
    expect(dup).toBeGreaterThanOrEqual(0);
    const after = stamps(jvm.pid);
    expect(after.get(inode)).toEqual({ classid: 0, prioidx: 1 });
    expect(after).not.toEqual(before);
  });
});
