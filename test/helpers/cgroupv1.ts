// cgroup v1 net_cls / net_prio for the host-global tests (test/host-global/):
// mounting a hierarchy, and leaving the host as it was. A hierarchy left bound
// makes every pidfd read on the host refuse (src/linux/cgroup.ts), so
// unmount() checks /proc/cgroups until the controller is unbound again.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a controller is bound to a v1 hierarchy now (/proc/cgroups, hierarchy column not 0). */
export function bound(controller: string): boolean {
  const row = readFileSync('/proc/cgroups', 'utf8').split('\n').find((l) => l.startsWith(`${controller}\t`));
  return row !== undefined && row.split('\t')[1] !== '0';
}

/** inode -> class_id of every TCP/UDP socket, as ss prints them (sock_diag's INET_DIAG_CLASS_ID): an oracle of its own. */
export function classIds(inodes: Set<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const flags of ['-tanoe', '-uanoe']) {
    const text = execFileSync('ss', [flags, '--tos'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    for (const line of text.split('\n')) {
      const ino = /\bino:(\d+)/.exec(line);
      if (!ino || !inodes.has(Number(ino[1]))) continue;
      const c = /\bclass_id:(0x[0-9a-f]+|\d+)/.exec(line);
      out.set(Number(ino[1]), c ? Number(c[1]) : 0);
    }
  }
  return out;
}

/** fd -> socket inode of a process, read with readlink(1): not through the code under test. */
export function socketFds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(execFileSync('readlink', [`/proc/${pid}/fd/${fd}`], { encoding: 'utf8' }).trim());
      if (m) out.set(Number(fd), Number(m[1]));
    } catch { /* closed */ }
  }
  return out;
}

export function socketInodes(pid: number): Set<number> {
  return new Set(socketFds(pid).values());
}

export interface Mount { dir: string; child: string; controller: string; tag: string }

/** A v1 hierarchy of controller ("net_cls", "net_prio" or "net_cls,net_prio") with one child cgroup named tag. */
export function mountController(tag: string, controller: string): Mount {
  const dir = mkdtempSync(join('/tmp', `${tag}-${controller.replace(',', '+')}-`));
  // A hierarchy already bound with both controllers (net_cls,net_prio: systemd's, another test's) is mounted as it is.
  if (spawnSync('mount', ['-t', 'cgroup', '-o', controller, tag, dir]).status !== 0) {
    if (spawnSync('mount', ['-t', 'cgroup', '-o', 'net_cls,net_prio', tag, dir]).status !== 0) {
      rmdirSync(dir);
      throw new Error(`cannot mount cgroup v1 ${controller} (this test needs root and a kernel with it)`);
    }
    controller = 'net_cls,net_prio';
  }
  const child = join(dir, tag);
  mkdirSync(child);
  return { dir, child, controller, tag };
}

/** Moves pids back to the root cgroup, removes the child, unmounts; until the controllers are unbound again (unless they were before). */
export function unmount(m: Mount, pids: number[], wasBound: boolean): void {
  const first = m.controller.split(',')[0]!;
  for (const p of pids) { try { writeFileSync(join(m.dir, 'cgroup.procs'), String(p)); } catch { /* gone */ } }
  for (let i = 0; i < 50 && existsSync(m.child); i++) {
    try { rmdirSync(m.child); } catch { spawnSync('sleep', ['0.1']); }
  }
  spawnSync('umount', [m.dir]);
  // An unmounted v1 hierarchy with no child goes away asynchronously (its last reference drops after an
  // RCU grace period: seconds on a loaded host). One unmounted while its child was still being released
  // is never killed (cgroup_kill_sb): it stays bound until it is mounted and unmounted once more.
  for (let i = 0; i < 10 && !wasBound && !unbound(first, 3000); i++) {
    if (spawnSync('mount', ['-t', 'cgroup', '-o', m.controller, m.tag, m.dir]).status === 0) spawnSync('umount', [m.dir]);
  }
  try { rmdirSync(m.dir); } catch { /* still mounted by someone: leave it */ }
}

/** Waits up to ms for controller to be unbound; whether it is. */
function unbound(controller: string, ms: number): boolean {
  for (let waited = 0; bound(controller); waited += 100) {
    if (waited >= ms) return false;
    spawnSync('sleep', ['0.1']);
  }
  return true;
}
