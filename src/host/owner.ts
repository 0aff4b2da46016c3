// Which processes hold a socket: one pass over /proc/*/fd building
// inode -> holders, and `knetstat-java owner <inode>|<[addr:]port>`.
import { TargetError, UsageError } from '../errors.js';
import { javaHomeFromMaps, mainClassOf } from '../java/jvm.js';
import { allPids, cmdlineOrUndefined, comm, readProcFileOrUndefined, realUid, socketFds, status, userName } from '../linux/proc.js';
import { PROTOCOLS, readProcNet } from '../linux/procnet.js';
import type { Endpoint, Protocol } from '../model/types.js';
import { builtin } from '../builtins.js';

export interface SocketHolder {
  pid: number;
  comm: string;
  fd: number;
}

export interface OwnerScan {
  /** Socket inode -> the processes (and fds) holding it. */
  owners: Map<number, SocketHolder[]>;
  /** Processes whose fds we may not list (another user's, without root). */
  unreadable: number[];
}

/** comm of a process, '?' when it is gone. */
function commOr(pid: number): string {
  try { return comm(pid); } catch { return '?'; }
}

/** inode -> holders over all processes (or only `pids`); `inodes` limits what is kept. */
export function socketOwners(opts: { pids?: number[]; inodes?: Set<number> } = {}): OwnerScan {
  const owners = new Map<number, SocketHolder[]>();
  const unreadable: number[] = [];
  for (const pid of opts.pids ?? allPids()) {
    let fds: Map<number, number>;
    try {
      fds = socketFds(pid);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      if (err.errno !== 'ENOENT') unreadable.push(pid);
      continue;
    }
    let name: string | undefined;
    for (const [fd, inode] of fds) {
      if (opts.inodes && !opts.inodes.has(inode)) continue;
      name ??= commOr(pid);
      let list = owners.get(inode);
      if (!list) owners.set(inode, (list = []));
      list.push({ pid, comm: name, fd });
    }
  }
  return { owners, unreadable };
}

export interface OwnerProcess {
  pid: number;
  comm: string;
  fds: number[];
  uid?: number;
  user?: string;
  isJvm?: boolean;
  mainClass?: string;
}

export interface OwnerMatch {
  protocol: Protocol;
  inode: number;
  local: Endpoint;
  remote: Endpoint;
  state: string;
  owners: OwnerProcess[];
}

export interface OwnerQuery {
  inode?: number;
  port?: number;
  address?: string;
}

/** "12345" (>65535: an inode), "socket:[12345]", "inode:12345", "8080", ":8080", "127.0.0.1:8080", "[::1]:8080". */
export function parseOwnerQuery(text: string): OwnerQuery {
  const t = text.trim();
  let m = /^(?:socket:\[(\d+)\]|inode:(\d+))$/.exec(t);
  if (m) return { inode: Number(m[1] ?? m[2]) };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > 65535) return { inode: n };
    return { port: n, inode: n };
  }
  m = /^(?:\[([^\]]+)\]|(.*?)):(\d+)$/.exec(t);
  if (m) {
    const port = Number(m[3]);
    const address = m[1] ?? m[2] ?? '';
    if (port > 65535) throw new UsageError(`not a port: ${m[3]} (ports are 0..65535)`);
    if (address === '' || address === '*') return { port };
    const net = builtin('node:net');
    if (!net.isIPv4(address) && !net.isIPv6(address)) throw new UsageError(`not an IP address: '${address}' (e.g. 127.0.0.1:8080 or [::1]:8080)`);
    return { port, address };
  }
  throw new UsageError(`not a socket inode or [address:]port: '${text}' (e.g. 123456, 8080, 127.0.0.1:8080, [::1]:8080)`);
}

/** The same address, an IPv4 one also in its v4-mapped form. A wildcard listener does not match a concrete address. */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const strip = (x: string) => x.replace(/^::ffff:/, '');
  return strip(a) === strip(b);
}

/** Whether pid is a JVM (undefined: its memory map is not readable), and its main class. */
function isJvmPid(pid: number): { isJvm?: boolean; mainClass?: string } {
  const maps = readProcFileOrUndefined(pid, 'maps');
  if (maps === undefined) return {};
  const isJvm = javaHomeFromMaps(maps) !== undefined;
  if (!isJvm) return { isJvm };
  const argv = cmdlineOrUndefined(pid);
  return argv === undefined ? {} : { isJvm, mainClass: mainClassOf(argv.filter((x) => x !== '')) };
}

function uidOf(pid: number): number | undefined {
  try { return realUid(status(pid)); } catch { return undefined; }
}

/**
 * Sockets of our network namespace matching the query, each with the
 * processes holding it. `unreadable` lists processes whose fds we could not
 * look at (a socket of theirs shows no owner).
 */
export function findOwners(q: OwnerQuery, nsPid: number | 'self' = 'self'): { matches: OwnerMatch[]; unreadable: number[] } {
  const found: OwnerMatch[] = [];
  for (const protocol of PROTOCOLS) {
    for (const row of readProcNet(nsPid, protocol)) {
      const byInode = q.inode !== undefined && row.inode === q.inode && row.inode !== 0;
      const byPort = q.port !== undefined && row.local.port === q.port &&
        (q.address === undefined || sameAddress(row.local.address, q.address));
      if (!byInode && !byPort) continue;
      found.push({ protocol, inode: row.inode, local: row.local, remote: row.remote, state: row.state, owners: [] });
    }
  }
  const inodes = new Set(found.map((f) => f.inode).filter((i) => i !== 0));
  const scan = inodes.size > 0 ? socketOwners({ inodes }) : { owners: new Map<number, SocketHolder[]>(), unreadable: [] };
  const info = new Map<number, { isJvm?: boolean; mainClass?: string; uid?: number }>();
  for (const f of found) {
    const byPid = new Map<number, OwnerProcess>();
    for (const h of scan.owners.get(f.inode) ?? []) {
      let p = byPid.get(h.pid);
      if (!p) {
        if (!info.has(h.pid)) info.set(h.pid, { ...isJvmPid(h.pid), uid: uidOf(h.pid) });
        const i = info.get(h.pid)!;
        p = { pid: h.pid, comm: h.comm, fds: [], ...i, ...(i.uid !== undefined ? { user: userName(i.uid) } : {}) };
        byPid.set(h.pid, p);
      }
      p.fds.push(h.fd);
    }
    f.owners = [...byPid.values()];
  }
  return { matches: found, unreadable: scan.unreadable };
}
