// Host-wide capture for `knetstat-java --all --format knetstat`: every TCP/UDP
// socket of one network namespace (ours by default), in /proc/net order (the
// knetstat module's order), with options read through pidfd_getfd from a
// process that holds the socket, and what sock_diag adds (tcp_info for the
// Diag column, timers). Sockets no process holds (TIME_WAIT, request
// sockets, orphans) have no options.
import { fstatSync } from 'node:fs';
import * as libc from '../sys/libc.js';
import { errnoName } from '../errors.js';
import { pidfdWouldRestamp } from '../linux/cgroup.js';
import { PROTOCOLS, readProcNet } from '../discover/procnet.js';
import { identify, readSocket, freshDefaults } from '../sources/sockopt.js';
import { dumpAllInetDiag, mergeDiagRecord } from '../sources/sockdiag.js';
import { socketOwners, type SocketHolder } from './owner.js';
import type { OptionValue, Protocol, RawSocket } from '../model/types.js';
import type { KnetstatRowInput } from '../render/knetstat.js';

export interface HostRow extends KnetstatRowInput {
  socket: RawSocket;
  /** "pid/name" of each holder. */
  owners: string[];
  holders: SocketHolder[];
}

export interface HostCapture {
  rows: HostRow[];
  warnings: string[];
  kernelDefaults: Partial<Record<Protocol, Record<string, OptionValue>>>;
  /** Some socket options could not be read (refused, or not read to leave sockets unchanged): exit 3. */
  partial?: boolean;
}

export interface HostCaptureOptions {
  /** Read options through pidfd_getfd (default true). */
  options?: boolean;
  /** Add tcp_info and timers from sock_diag (default true). */
  sockdiag?: boolean;
  /** The namespace to show: that of this process (default: ours). */
  pid?: number;
}

export async function captureHost(opts: HostCaptureOptions = {}): Promise<HostCapture> {
  const warnings: string[] = [];
  const nsPid = opts.pid ?? 'self';
  const rows: HostRow[] = [];
  const byInode = new Map<number, HostRow>();
  for (const protocol of PROTOCOLS) {
    for (const r of readProcNet(nsPid, protocol)) {
      const listen = r.state === 'LISTEN';
      const socket: RawSocket = {
        protocol, fd: -1, inode: r.inode, local: r.local, remote: r.remote, state: r.state,
        recvQ: r.rxQueue, sendQ: listen ? 0 : r.txQueue, uid: r.uid, options: {}, diag: '', sources: ['procfs'],
      };
      const row: HostRow = { socket, owners: [], holders: [] };
      rows.push(row);
      if (r.inode !== 0) byInode.set(r.inode, row);
    }
  }
  const scan = socketOwners({ inodes: new Set(byInode.keys()) });
  if (scan.unreadable.length > 0) {
    warnings.push(`${scan.unreadable.length} process(es) could not be inspected (not permitted): their sockets show no owner (run as root)`);
  }
  const byPid = new Map<number, { fd: number; inode: number }[]>();
  for (const [inode, holders] of scan.owners) {
    const row = byInode.get(inode)!;
    row.holders = holders;
    row.owners = [...new Set(holders.map((h) => `${h.pid}/${h.comm}`))];
    // Options are read once per socket, from its first holder.
    const h = holders[0]!;
    let l = byPid.get(h.pid);
    if (!l) byPid.set(h.pid, (l = []));
    l.push({ fd: h.fd, inode });
  }
  // pidfd_getfd would re-stamp every socket of the host with our net_cls/net_prio marks: read no options then.
  const restamp = opts.options !== false ? pidfdWouldRestamp() : undefined;
  if (restamp) warnings.push(`socket options not read: ${restamp} (the knetstat module's tables have them)`);
  if (opts.options !== false && !restamp) {
    const refused: string[] = [];
    for (const [pid, fds] of byPid) {
      const pidfd = libc.pidfdOpen(pid);
      if (pidfd < 0) continue; // exited
      try {
        for (const { fd, inode } of fds) {
          const dup = libc.pidfdGetfd(pidfd, fd);
          if (dup < 0) {
            const e = libc.errno();
            if (e === 1 || e === 13) { refused.push(`${pid} (${errnoName(e)})`); break; }
            continue; // closed meanwhile
          }
          try {
            if (fstatSync(dup).ino !== inode) continue;
            const id = identify(dup);
            if (!id) continue;
            const rd = readSocket(dup, id, 'pidfd');
            const s = byInode.get(inode)!.socket;
            // Queues stay as /proc/net printed them (same moment as the rest of the row).
            s.options = rd.options;
            if (rd.tcpInfo) s.tcpInfo = rd.tcpInfo;
            s.diag = rd.diag;
            s.fd = fd;
            s.sources = [...s.sources, 'pidfd'];
          } finally {
            libc.close(dup);
          }
        }
      } finally {
        libc.close(pidfd);
      }
    }
    if (refused.length > 0) warnings.push(`pidfd_getfd refused for process(es) ${refused.join(', ')}: their sockets show no options (run as root)`);
  }
  if (opts.sockdiag !== false) {
    try {
      const d = dumpAllInetDiag({ pid: opts.pid, inodes: new Set(byInode.keys()) });
      warnings.push(...d.warnings);
      for (const [inode, rec] of d.records) {
        const row = byInode.get(inode);
        if (!row) continue;
        // Only what the Diag column and timers need: options stay as pidfd read them (or absent).
        const before = row.socket.options;
        row.socket.options = {};
        mergeDiagRecord(row.socket, rec);
        const inferredKeepalive = row.socket.options.SO_KEEPALIVE;
        row.socket.options = before;
        if (row.holders.length > 0 && !before.SO_KEEPALIVE && inferredKeepalive) before.SO_KEEPALIVE = inferredKeepalive;
      }
    } catch (err) {
      warnings.push(`sock_diag: ${(err as Error).message}`);
    }
  }
  const partial = restamp !== undefined || warnings.some((w) => /refused|not permitted/.test(w));
  return { rows, warnings, kernelDefaults: freshDefaults(), partial };
}
