// Reading through bpf leaves the target's sockets as they were. pidfd_getfd
// does not: installing a duplicate re-stamps the socket's net_cls classid and
// net_prio index with the reader's cgroup (__receive_sock()). With a JVM in a
// net_cls/net_prio cgroup of its own, its sockets' classid and prioidx must be
// the same after `--source bpf` as before, read two ways (the BPF record, and
// sock_diag's INET_DIAG_CLASS_ID); after `--source pidfd` they change, which
// shows the check can fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { walkProcess } from '../src/sources/bpf.js';
import { dumpInetDiag } from '../src/sources/sockdiag.js';

const MNT = `/tmp/bpfwt-netcls-${process.pid}`;
const GROUP = `${MNT}/bpfwt-${process.pid}`;
const CLASSID = 0x00100042;
let mounted = false;
let jvm: Jvm | undefined;

/** classid and prioidx of every TCP/UDP socket of pid, by inode, as the kernel holds them now. */
function stamps(pid: number): Map<number, { classid: number; prioidx: number }> {
  const m = new Map<number, { classid: number; prioidx: number }>();
  for (const r of walkProcess(pid).socks) {
    expect(r.has_classid && r.has_prioidx, 'kernel with CONFIG_CGROUP_NET_CLASSID and CONFIG_CGROUP_NET_PRIO').toBe(true);
    m.set(r.inode, { classid: r.classid, prioidx: r.prioidx });
  }
  return m;
}

beforeAll(async () => {
  mkdirSync(MNT, { recursive: true });
  const r = spawnSync('mount', ['-t', 'cgroup', '-o', 'net_cls,net_prio', `bpfwt-netcls`, MNT], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot mount the cgroup v1 net_cls,net_prio hierarchy at ${MNT}: ${r.stderr.trim()}`);
  mounted = true;
  mkdirSync(GROUP, { recursive: true });
  writeFileSync(`${GROUP}/net_cls.classid`, String(CLASSID));
  jvm = await startJvm('SocketLab', ['a:server:rcvBuf=65536', 'c:udp', 'd:dchannel6'], {
    wrapper: ['sh', '-c', `echo $$ > ${GROUP}/cgroup.procs && exec "$@"`, 'sh'],
  });
});

afterAll(async () => {
  await jvm?.stop();
  if (existsSync(GROUP)) {
    // Its processes are gone once the JVM is: the group can go, then the mount.
    for (let i = 0; i < 50 && readFileSync(`${GROUP}/cgroup.procs`, 'utf8').trim() !== ''; i++) execFileSync('sleep', ['0.1']);
    rmdirSync(GROUP);
  }
  if (mounted) spawnSync('umount', [MNT]);
  if (existsSync(MNT)) rmdirSync(MNT);
});

describe('net_cls classid and net_prio index of the target\'s sockets', () => {
  it('are the JVM cgroup\'s, unchanged by --source bpf, re-stamped by --source pidfd', () => {
    const before = stamps(jvm!.pid);
    expect(before.size).toBe(5);
    const prioidx = [...before.values()][0]!.prioidx;
    expect(prioidx).toBeGreaterThan(1); // the group's own index (the root's is 1)
    for (const v of before.values()) expect(v).toEqual({ classid: CLASSID, prioidx });
    // sock_diag sees the same classid (INET_DIAG_CLASS_ID) on the listener.
    const listener = [...dumpInetDiag(6, 'tcp').values()].find((d) => before.has(d.inode) && d.state === 'LISTEN')!;
    expect(listener.classId).toBe(CLASSID);

    for (let i = 0; i < 3; i++) expect(runCli([String(jvm!.pid), '--source', 'bpf', '-f', 'json', '-q']).code).toBe(0);
    expect(runCli(['--all', '--source', 'bpf', '-f', 'json'], { maxBuffer: 1 << 28 }).code).toBe(0);
    expect(stamps(jvm!.pid)).toEqual(before);

    expect(runCli([String(jvm!.pid), '--source', 'pidfd', '-f', 'json', '-q']).code).toBe(0);
    const after = stamps(jvm!.pid);
    // The tool runs in the root cgroups: classid 0, prioidx 1.
    for (const v of after.values()) expect(v).toEqual({ classid: 0, prioidx: 1 });
  });
});
