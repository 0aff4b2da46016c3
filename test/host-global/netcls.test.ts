// Item 4 of issue 11: pidfd_getfd re-stamps the socket it duplicates with the
// caller's cgroup v1 net_cls classid and net_prio index (__receive_sock, see
// src/linux/cgroup.ts). With those controllers mounted, a run must leave every
// socket's classid as it found it. Mounting them is host-wide (every pidfd
// read on the host is refused while they are), so this file runs alone, after
// the rest (vitest.config.ts, project host-global), and unmounts them again.
// The bpf source duplicates nothing and is auto's first choice: these tests
// disable it (NO_BPF) to reach the pidfd guard; bpf-cgroup.test.ts has bpf's
// side under the same mounts.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bound, classIds, mountController, socketInodes, unmount, type Mount } from '../helpers/cgroupv1.js';
import { startJvm, type Jvm } from '../helpers/jvm.js';
import { tool } from '../helpers/hostile.js';
import * as libc from '../../src/linux/libc.js';

const CLASSID = 0x100001;
const TAG = `knj-security-a-${process.pid}`;
/** No BPF object: auto's next choice is pidfd, which the guard refuses. */
const NO_BPF = { env: { KNETSTAT_BPF_OBJECT: '/nonexistent/knetstat.bpf.o' } };

describe('pidfd_getfd and cgroup v1 net_cls / net_prio', () => {
  let jvm: Jvm;
  let cls: Mount;
  let inodes: Set<number>;
  const wasBound = { net_cls: bound('net_cls'), net_prio: bound('net_prio') };
  beforeAll(async () => {
    jvm = await startJvm('SocketLab', ['s:server', 'u:udp']);
    cls = mountController(TAG, 'net_cls');
    writeFileSync(join(cls.child, 'net_cls.classid'), String(CLASSID));
    // Moving the process re-stamps the sockets it holds with the cgroup's classid (cgrp_attach).
    writeFileSync(join(cls.child, 'cgroup.procs'), String(jvm.pid));
    inodes = socketInodes(jvm.pid);
  });
  afterAll(async () => {
    await jvm?.stop();
    if (cls) unmount(cls, [], wasBound.net_cls);
    // Left bound, every pidfd read on the host would refuse from now on.
    expect({ net_cls: bound('net_cls'), net_prio: bound('net_prio') }).toEqual(wasBound);
  });

  it('the premise: duplicating a socket with pidfd_getfd resets its classid to the caller\'s (this test process: 0)', () => {
    const before = classIds(inodes);
    expect([...before.values()].every((c) => c === CLASSID), JSON.stringify([...before])).toBe(true);
    expect(before.size).toBeGreaterThanOrEqual(4);
    // One TCP socket of the JVM, duplicated into this process the way the pidfd source did.
    let fd = -1, inode = -1;
    for (const f of readdirSync(`/proc/${jvm.pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(execFileSync('readlink', [`/proc/${jvm.pid}/fd/${f}`], { encoding: 'utf8' }).trim());
      if (m && before.has(Number(m[1]))) { fd = Number(f); inode = Number(m[1]); break; }
    }
    expect(fd).toBeGreaterThanOrEqual(0);
    const pidfd = libc.pidfdOpen(jvm.pid);
    const dup = libc.pidfdGetfd(pidfd, fd);
    libc.close(dup);
    libc.close(pidfd);
    expect(dup).toBeGreaterThanOrEqual(0);
    expect(classIds(new Set([inode])).get(inode), 'the kernel re-stamped the duplicated socket').toBe(0);
    // Writing the classid again re-stamps every socket of the cgroup's tasks (write_classid): as it was.
    writeFileSync(join(cls.child, 'net_cls.classid'), String(CLASSID));
    expect(classIds(new Set([inode])).get(inode)).toBe(CLASSID);
  });

  it('where bpf cannot run, auto leaves every classid as it found it: pidfd is not used, the report says why, the next source reads what it can (exit 3)', () => {
    const r = tool([String(jvm.pid), '-f', 'json'], NO_BPF);
    const after = classIds(inodes);
    expect([...after.values()].every((c) => c === CLASSID), `classids after the run: ${JSON.stringify([...after])}`).toBe(true);
    expect(r.code, r.stderr).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.sources.find((s: any) => s.name === 'bpf')).toMatchObject({ used: false });
    expect(j.sources.find((s: any) => s.name === 'pidfd')).toMatchObject({ used: false });
    expect(j.sources.find((s: any) => s.name === 'pidfd').reason).toMatch(/with cgroup v1 net_cls mounted, the kernel re-stamps each duplicated socket with this tool's classid \(__receive_sock\)/);
    expect(j.sources.find((s: any) => s.name === 'sockdiag')).toMatchObject({ used: true });
    // sock_diag's CLASS_ID is the classid now, not SO_PRIORITY: not reported as a priority.
    const listener = j.sockets.find((s: any) => s.local.port === jvm.ready.sockets.s.localPort && s.state === 'LISTEN');
    expect(listener.options.SO_PRIORITY).toMatchObject({ value: null });
    expect(r.stderr).toMatch(/partial report: \d+ option\(s\) unreadable: the BPF object \/nonexistent\/knetstat\.bpf\.o is missing [^;]*; pidfd_getfd would change the sockets it reads/);
    const t = tool([String(jvm.pid)], NO_BPF);
    expect(t.stdout).toMatch(/^ {2}pidfd not used: pidfd_getfd would change the sockets it reads: with cgroup v1 net_cls mounted/m);
  });

  it('--source pidfd is refused with exit 2 and the reason; nothing is duplicated', () => {
    const r = tool([String(jvm.pid), '--source', 'pidfd']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^knetstat-java: --source pidfd refused: pidfd_getfd would change the sockets it reads: .* \(use --source bpf, --source knetstat or --source sockdiag\)\n$/);
    expect([...classIds(inodes).values()].every((c) => c === CLASSID)).toBe(true);
  });

  it('where bpf cannot run, --all reads no options through pidfd (exit 3, one warning) and changes no classid', () => {
    const r = tool(['--all', '-f', 'json'], { maxBuffer: 1 << 26, ...NO_BPF });
    expect([...classIds(inodes).values()].every((c) => c === CLASSID), 'classids after --all').toBe(true);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/warning: socket options not read: pidfd_getfd would change the sockets it reads/);
  });

  it('--probe-jdk still measures (the probe JVM is the tool\'s own) and the target keeps its classids', () => {
    const r = tool([String(jvm.pid), '-f', 'json', '--probe-jdk'], NO_BPF);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).defaults.note).toMatch(/measured from the target's own JDK/);
    expect([...classIds(inodes).values()].every((c) => c === CLASSID)).toBe(true);
  });

  it('net_prio alone (its index cannot be read back from user space) also keeps pidfd out', () => {
    let prio: Mount | undefined;
    try {
      if (!cls.controller.includes('net_prio')) prio = mountController(TAG, 'net_prio'); // else: bound together already
      const r = tool([String(jvm.pid), '-f', 'json'], NO_BPF);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).sources.find((s: any) => s.name === 'pidfd').reason).toMatch(/net_cls and net_prio mounted, .* classid and net_prio index/);
      expect(bound('net_prio')).toBe(true);
    } finally {
      if (prio) unmount(prio, [], wasBound.net_prio);
    }
  });
});
