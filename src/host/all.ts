// Host-wide capture for `knetstat-java --all --format knetstat`: every TCP/UDP
// socket of one network namespace (ours by default), in /proc/net order (the
// knetstat module's order), with options read through pidfd_getfd from a
// process that holds the socket, and what sock_diag adds (tcp_info for the
// Diag column, timers). Sockets no process holds (TIME_WAIT, request
// sockets, orphans) have no options.
import { FatalSysError, SysError, errnoName } from '../errors.js';
import { pidfdWouldRestamp } from '../linux/cgroup.js';
import { dumpAllInetDiag } from '../linux/diagsocket.js';
import { ERRNO, netstatSendQ } from '../linux/inet.js';
import { forEachDuplicate } from '../linux/pidfd.js';
import { PROTOCOLS, readProcNet } from '../linux/procnet.js';
import { freshDefaults, identify, readSocket } from '../linux/sockopt.js';
import { readSysctls } from '../linux/sysctl.js';
import type { OptionValue, Protocol, RawSocket } from '../model/types.js';
import { mergeDiagRecord } from '../sources/diagrecord.js';
import { socketOwners, type SocketHolder } from './owner.js';

const { EPERM, EACCES, ENOENT } = ERRNO;

export interface HostRow {
  socket: RawSocket;
  /** "pid/name" of each holder. */
  owners: string[];
  holders: SocketHolder[];
}

export interface HostCapture {
  rows: HostRow[];
  warnings: string[];
  /** What this capture could not read that a run as root would (each also a warning): exit 3. */
  incomplete: string[];
  kernelDefaults: Partial<Record<Protocol, Record<string, OptionValue>>>;
  /** The sysctls that decide kernel defaults (HostInfo.sysctls), for the renderer. */
  sysctls: Record<string, string>;
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
  const incomplete: string[] = [];
  const nsPid = opts.pid ?? 'self';
  const rows: HostRow[] = [];
  const byInode = new Map<number, HostRow>();
  for (const protocol of PROTOCOLS) {
    for (const r of readProcNet(nsPid, protocol)) {
      const socket: RawSocket = {
        protocol, fd: -1, inode: r.inode, local: r.local, remote: r.remote, state: r.state,
        recvQ: r.rxQueue, sendQ: netstatSendQ(r.state, r.txQueue), uid: r.uid, options: {}, diag: '', sources: ['procfs'],
      };
      const row: HostRow = { socket, owners: [], holders: [] };
      rows.push(row);
      if (r.inode !== 0) byInode.set(r.inode, row);
    }
  }
  const scan = socketOwners({ inodes: new Set(byInode.keys()) });
  if (scan.unreadable.length > 0) {
    const w = `${scan.unreadable.length} process(es) could not be inspected (not permitted): their sockets show no owner (run as root)`;
    warnings.push(w);
    incomplete.push(w);
  }
  const byPid = new Map<number, [fd: number, inode: number][]>();
  for (const [inode, holders] of scan.owners) {
    const row = byInode.get(inode)!;
    row.holders = holders;
    row.owners = [...new Set(holders.map((h) => `${h.pid}/${h.comm}`))];
    // Options are read once per socket, from its first holder.
    const h = holders[0]!;
    let l = byPid.get(h.pid);
    if (!l) byPid.set(h.pid, (l = []));
    l.push([h.fd, inode]);
  }
  // pidfd_getfd would re-stamp every socket of the host with our net_cls/net_prio marks: read no options then.
  const restamp = opts.options !== false ? pidfdWouldRestamp() : undefined;
  if (restamp) {
    const w = `socket options not read: ${restamp} (the knetstat module's tables have them)`;
    warnings.push(w);
    incomplete.push(w);
  }
  if (opts.options !== false && !restamp) {
    const refused: string[] = [];
    for (const [pid, fds] of byPid) {
      // A process that exited meanwhile (pidfd_open fails) has nothing to read.
      await forEachDuplicate(pid, fds, {
        vanished: () => {},
        // Every fd of a process refuses alike: one refusal ends that process.
        refused: (_fd, _inode, e) => {
          if (e === EPERM || e === EACCES) { refused.push(`${pid} (${errnoName(e)})`); return false; }
          return true;
        },
        socket: (fd, inode, dup) => {
          const id = identify(dup);
          if (!id) return;
          const rd = readSocket(dup, id, 'pidfd');
          const s = byInode.get(inode)!.socket;
          // Queues stay as /proc/net printed them (same moment as the rest of the row).
          s.options = rd.options;
          if (rd.tcpInfo) s.tcpInfo = rd.tcpInfo;
          s.diag = rd.diag;
          s.fd = fd;
          s.sources = [...s.sources, 'pidfd'];
        },
      });
    }
    if (refused.length > 0) {
      const w = `pidfd_getfd refused for process(es) ${refused.join(', ')}: their sockets show no options (run as root)`;
      warnings.push(w);
      incomplete.push(w);
    }
  }
  if (opts.sockdiag !== false) {
    try {
      const d = dumpAllInetDiag({ pid: opts.pid, inodes: new Set(byInode.keys()) });
      warnings.push(...d.warnings);
      // A kernel without a kind's handler has nothing more to give; a refusal is a run without the rights.
      for (const f of d.failed) if (f.errno !== ENOENT) incomplete.push(`sock_diag ${f.kind}: ${errnoName(f.errno)}`);
      if (d.netns === 'own' && opts.pid !== undefined) incomplete.push(`sock_diag: not in the network namespace of process ${opts.pid}`);
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
      // No sock_diag here (no socket, refused): the tables go without Diag and timers.
      if (!(err instanceof SysError) || err instanceof FatalSysError) throw err;
      warnings.push(`sock_diag: ${err.message}`);
    }
  }
  return { rows, warnings, incomplete, kernelDefaults: freshDefaults(), sysctls: readSysctls() };
}
