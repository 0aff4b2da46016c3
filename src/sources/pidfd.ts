// The pidfd source (Linux >= 5.6): pidfd_open the target once, pidfd_getfd
// each socket into this process, read it, close the duplicate at once.
// pidfd_getfd needs ptrace-attach rights (PTRACE_MODE_ATTACH_REALCREDS) over
// the target; it never changes the target's socket.
import { fstatSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import * as libc from '../sys/libc.js';
import { errnoName } from '../errors.js';
import { identify, readSocket } from './sockopt.js';
import type { Source, SourceContext, SourceResult, Target } from './types.js';
import type { RawSocket } from '../model/types.js';

const EBADF = 9, ESRCH = 3, EPERM = 1, ENOSYS = 38;

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

const statxBuf = libc.statx ? libc.nativeBuffer(libc.STATX_SIZE) : undefined;

/** The inode of an fd of ours, or undefined when it cannot be read (closed meanwhile). statx when libc has it, else fstat. */
function inodeOf(fd: number): number | undefined {
  if (libc.statx && statxBuf) {
    if (libc.statx(fd, '', libc.AT_EMPTY_PATH, libc.STATX_INO, statxBuf.ptr) !== 0) return undefined;
    const b = statxBuf.buf;
    if (b.readUInt32LE(libc.STATX_MASK_OFFSET) & libc.STATX_INO) return b.readUInt32LE(libc.STATX_INO_OFFSET + 4) * 0x100000000 + b.readUInt32LE(libc.STATX_INO_OFFSET);
  }
  try { return fstatSync(fd).ino; } catch { return undefined; }
}

export function pidfdRefusal(err: number, pid: number): string {
  if (err === ESRCH) return `process ${pid} exited (pidfd: ESRCH)`;
  if (err === ENOSYS) return 'pidfd_getfd is not available (Linux < 5.6): load the knetstat module (native/) or use --source sockdiag';
  if (err === EPERM || err === 13) {
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
    const pidfd = libc.pidfdOpen(target.pid);
    if (pidfd < 0) {
      const e = libc.errno();
      return { status: { name: this.name, used: false, reason: pidfdRefusal(e, target.pid), errno: errnoName(e) }, vanished: [...target.fds.values()] };
    }
    const vanished: number[] = [];
    const warnings: string[] = [];
    let done = 0;
    const total = target.fds.size;
    if (total >= LEAN_YOUNG_GENERATION_FROM) fixYoungGeneration();
    try {
      for (const [fd, inode] of target.fds) {
        if (++done % 512 === 0) {
          ctx.progress?.(done, total);
          await new Promise((r) => setImmediate(r)); // let a progress spinner draw
        }
        const dup = libc.pidfdGetfd(pidfd, fd);
        if (dup < 0) {
          const e = libc.errno();
          if (e === EBADF || e === ESRCH) { vanished.push(inode); continue; }
          warnings.push(`fd ${fd}: ${pidfdRefusal(e, target.pid)}`);
          continue;
        }
        try {
          // The fd number may have been reused by another socket since we listed it.
          const ino = inodeOf(dup);
          if (ino === undefined || ino !== inode) { vanished.push(inode); continue; }
          const id = identify(dup);
          if (!id) continue; // unix, netlink, raw: not ours to report
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
          sockets.set(inode, sock);
        } finally {
          libc.close(dup);
        }
      }
      ctx.progress?.(total, total);
    } finally {
      libc.close(pidfd);
    }
    return { status: { name: this.name, used: true }, vanished, warnings };
  }
}
