// The pidfd source (Linux >= 5.6): every socket of the target duplicated into
// this process by pidfd_getfd (linux/pidfd.ts) and read with getsockopt and
// friends (linux/sockopt.ts). Needs ptrace-attach rights over the target; it
// never changes the target's socket.
import { setFlagsFromString } from 'node:v8';
import { errnoName } from '../errors.js';
import { ERRNO } from '../linux/inet.js';
import * as libc from '../linux/libc.js';
import { forEachDuplicate } from '../linux/pidfd.js';
import { O_NONBLOCK } from '../linux/proc.js';
import { identify, readSocket } from '../linux/sockopt.js';
import type { RawSocket } from '../model/types.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';

const { EBADF, EPERM, EACCES, ENOSYS, ESRCH } = ERRNO;

/**
 * A capture of thousands of sockets keeps every RawSocket until the report is
 * written, so V8 sees its scavenges' survivors pile up and doubles its young
 * generation, up to 2 x 16 MB, most of it garbage between scavenges (~30 MB
 * of the tool's peak RSS at 20,000 sockets). From this many sockets on, the
 * young generation stops growing where it is (2 x 4 MB by then in the CLI): more,
 * cheaper scavenges, and since nothing per socket outlives its socket's
 * analysis except the RawSocket itself, no more promotion. Set at run time on
 * purpose: V8 raises a start-up --semi-space-growth-factor below 2 to 2.
 */
const LEAN_YOUNG_GENERATION_FROM = 2000;
let youngGenerationFixed = false;
function fixYoungGeneration(): void {
  if (youngGenerationFixed) return;
  youngGenerationFixed = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Why pidfd_getfd (or pidfd_open) failed, and what to do about it. */
export function pidfdRefusal(err: number, pid: number): string {
  if (err === ESRCH) return `process ${pid} exited (pidfd: ESRCH)`;
  if (err === ENOSYS) return 'pidfd_getfd is not available (Linux < 5.6): load the knetstat module (native/) or use --source sockdiag';
  if (err === EPERM || err === EACCES) {
    return `pidfd_getfd on process ${pid} refused (${errnoName(err)}: needs ptrace rights over it): run as root, or as the JVM's user with ptrace allowed (kernel.yama.ptrace_scope=0 or CAP_SYS_PTRACE), or load the knetstat module`;
  }
  return `pidfd_getfd on process ${pid} failed: ${errnoName(err)}`;
}

export class PidfdSource implements Source {
  readonly name = 'pidfd' as const;

  available(target: Target): { ok: true } | { ok: false; reason: string; errno?: string } {
    const pidfd = libc.pidfdOpen(target.pid);
    if (pidfd < 0) {
      const e = libc.errno();
      return { ok: false, reason: pidfdRefusal(e, target.pid), errno: errnoName(e) };
    }
    try {
      // Probe with the first socket fd: the refusal comes from pidfd_getfd, not pidfd_open.
      for (const fd of target.fds.keys()) {
        const dup = libc.pidfdGetfd(pidfd, fd);
        if (dup >= 0) { libc.close(dup); return { ok: true }; }
        const e = libc.errno();
        if (e === EBADF) continue; // closed meanwhile: try the next one
        return { ok: false, reason: pidfdRefusal(e, target.pid), errno: errnoName(e) };
      }
      return { ok: true };
    } finally {
      libc.close(pidfd);
    }
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const vanished: number[] = [];
    const warnings: string[] = [];
    const total = target.fds.size;
    const jvm = target.jvm === true;
    if (total >= LEAN_YOUNG_GENERATION_FROM) fixYoungGeneration();
    const failed = await forEachDuplicate(target.pid, target.fds, {
      vanished: (_fd, inode) => { vanished.push(inode); },
      refused: (fd, _inode, e) => { warnings.push(`fd ${fd}: ${pidfdRefusal(e, target.pid)}`); return true; },
      socket: (fd, inode, dup) => {
        const id = identify(dup);
        if (!id) return; // unix, netlink, raw: not ours to report
        const r = readSocket(dup, id, this.name);
        const prev = sockets.get(inode);
        // Written out rather than spread: V8 builds {...x, more} on a slow path, object by object.
        const sock: RawSocket = prev
          ? {
            ...prev,
            protocol: r.protocol, fd, inode, local: r.local, remote: r.remote, state: r.state,
            recvQ: r.recvQ, sendQ: r.sendQ, options: { ...prev.options, ...r.options },
            tcpInfo: r.tcpInfo, diag: r.diag, sources: [...new Set([...prev.sources, this.name])],
          }
          : {
            protocol: r.protocol, fd, inode, local: r.local, remote: r.remote, state: r.state,
            recvQ: r.recvQ, sendQ: r.sendQ, options: r.options, tcpInfo: r.tcpInfo, diag: r.diag, sources: [this.name],
          };
        // The duplicate shares the target's open file description: its O_NONBLOCK is the target's.
        if (jvm) { const fl = libc.getFileFlags(dup); if (fl >= 0) sock.nonBlocking = { value: (fl & O_NONBLOCK) !== 0, source: 'pidfd' }; }
        sockets.set(inode, sock);
      },
    }, (done) => ctx.progress?.(done, total));
    if (failed !== undefined) {
      return { status: { name: this.name, used: false, reason: pidfdRefusal(failed, target.pid), errno: errnoName(failed) }, vanished: [...target.fds.values()] };
    }
    ctx.progress?.(total, total);
    return { status: { name: this.name, used: true }, vanished, warnings };
  }
}
