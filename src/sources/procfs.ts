// The procfs source: /proc/<pid>/net/{tcp,tcp6,udp,udp6} in the target's own
// network namespace. Readable by anyone; gives addresses, state, queues and
// uid, but no socket options. It is the base list for the sources that do not
// read the fds themselves, and the fallback when nothing richer is allowed.
import { netstatSendQ } from '../linux/inet.js';
import { PROTOCOLS, readProcNet } from '../linux/procnet.js';
import type { RawSocket } from '../model/types.js';
import type { Source, SourceContext, SourceResult } from './types.js';

export class ProcfsSource implements Source {
  readonly name = 'procfs' as const;

  available() {
    return { ok: true } as const;
  }

  async collect(ctx: SourceContext): Promise<SourceResult> {
    const { target, sockets } = ctx;
    const fdOf = new Map<number, number>();
    for (const [fd, inode] of target.fds) fdOf.set(inode, fd);
    const want = new Set(fdOf.keys());
    for (const protocol of PROTOCOLS) {
      for (const row of readProcNet(target.pid, protocol, want)) {
        const prev = sockets.get(row.inode);
        const sock: RawSocket = {
          protocol, fd: fdOf.get(row.inode)!, inode: row.inode, local: row.local, remote: row.remote,
          state: row.state,
          recvQ: row.rxQueue, sendQ: netstatSendQ(row.state, row.txQueue),
          uid: row.uid, diag: '', options: {}, sources: ['procfs'],
          ...(prev ?? {}),
        };
        if (prev && !prev.sources.includes('procfs')) sock.sources = [...prev.sources, 'procfs'];
        if (sock.uid === undefined) sock.uid = row.uid;
        sockets.set(row.inode, sock);
        fdOf.delete(row.inode);
      }
    }
    return { status: { name: this.name, used: true } };
  }
}
