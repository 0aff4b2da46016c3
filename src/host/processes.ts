// The processes of this host (`knetstat-java list`): JVMs found by libjvm.so
// in their memory map, main class or jar like `jps -l`, JDK version from
// <java.home>/release, owner, namespaces relative to ours, and how many
// TCP/UDP sockets each holds (fd -> inode -> the /proc/<pid>/net table of its
// own network namespace).
import { statSync } from 'node:fs';
import { decodeArgv, readProcBytes, readProcText } from '../linux/files.js';
import { javaHomeFromMaps, mainClassOf, readRelease, userName } from '../discover/process.js';
import { socketFds } from '../discover/fds.js';
import { PROTOCOLS, readProcNet } from '../discover/procnet.js';
import { allPids } from './owner.js';
import type { Protocol } from '../model/types.js';

export interface ProcessEntry {
  pid: number;
  comm: string;
  cmdline: string[];
  uid?: number;
  user?: string;
  isJvm: boolean;
  /** As jps -l: main class, or the jar of -jar, or the module of -m. */
  mainClass?: string;
  javaHome?: string;
  /** JAVA_VERSION from <java.home>/release. */
  javaVersion?: string;
  /** Namespace inodes and whether they are ours; absent when not permitted to look. */
  netns?: { inode: number; own: boolean };
  pidns?: { inode: number; own: boolean };
  /** In another pid or network namespace (a container, `ip netns exec` ...). */
  container: boolean;
  /** TCP/UDP sockets by table; absent when its fds could not be listed. */
  sockets?: Record<Protocol, number>;
  /** Why something could not be read. */
  note?: string;
}

function read(path: string): string | undefined {
  try { return readProcText(path); } catch { return undefined; }
}

function ns(pid: number, kind: 'net' | 'pid', ours: number | undefined): { inode: number; own: boolean } | undefined {
  try {
    const inode = statSync(`/proc/${pid}/ns/${kind}`).ino;
    return { inode, own: inode === ours };
  } catch { return undefined; }
}

function ownNs(kind: 'net' | 'pid'): number | undefined {
  try { return statSync(`/proc/self/ns/${kind}`).ino; } catch { return undefined; }
}

/** Per network namespace: socket inode -> table, read once through one of its processes. */
class TableCache {
  private byNs = new Map<number, Map<number, Protocol>>();
  tables(pid: number, netns: number | undefined): Map<number, Protocol> {
    const key = netns ?? -pid;
    let m = this.byNs.get(key);
    if (!m) {
      m = new Map();
      for (const p of PROTOCOLS) for (const row of readProcNet(pid, p)) if (row.inode !== 0) m.set(row.inode, p);
      this.byNs.set(key, m);
    }
    return m;
  }
}

export interface ListOptions {
  /** Include processes that are not JVMs. */
  allProcesses?: boolean;
  /** Count sockets (default true). */
  sockets?: boolean;
}

export function listProcesses(opts: ListOptions = {}): ProcessEntry[] {
  const ourNet = ownNs('net'), ourPid = ownNs('pid');
  const cache = new TableCache();
  const out: ProcessEntry[] = [];
  for (const pid of allPids()) {
    const status = read(`/proc/${pid}/status`);
    if (status === undefined) continue; // exited
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    if (state === 'Z' || state === 'X') continue;
    let cmdlineRaw: Buffer;
    try { cmdlineRaw = readProcBytes(`/proc/${pid}/cmdline`); } catch { cmdlineRaw = Buffer.alloc(0); }
    if (cmdlineRaw.length === 0 && (pid === 2 || /^PPid:\s+2$/m.test(status))) continue; // kernel threads
    const comm = (read(`/proc/${pid}/comm`) ?? '?').trimEnd();
    const cmdline = decodeArgv(cmdlineRaw);
    const maps = read(`/proc/${pid}/maps`);
    const javaHome = maps ? javaHomeFromMaps(maps) : undefined;
    // Without the map (another user's process), a java launcher name is a hint, not proof.
    const isJvm = javaHome !== undefined;
    if (!isJvm && !opts.allProcesses) {
      if (maps !== undefined || !/(^|\/)java$/.test(cmdline[0] ?? '')) continue;
    }
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const e: ProcessEntry = {
      pid, comm, cmdline, isJvm, container: false,
      ...(Number.isFinite(uid) ? { uid, user: userName(uid) } : {}),
    };
    if (maps === undefined) e.note = 'memory map not readable (another user\'s process): run as root to tell a JVM for sure';
    if (isJvm || /(^|\/)java$/.test(cmdline[0] ?? '')) e.mainClass = mainClassOf(cmdline);
    if (javaHome) {
      e.javaHome = javaHome;
      const rel = readRelease(javaHome);
      if (rel.version) e.javaVersion = rel.version;
    }
    e.netns = ns(pid, 'net', ourNet);
    e.pidns = ns(pid, 'pid', ourPid);
    e.container = (e.netns !== undefined && !e.netns.own) || (e.pidns !== undefined && !e.pidns.own);
    if (opts.sockets !== false) {
      try {
        const fds = socketFds(pid, Number.isFinite(uid) ? uid : undefined);
        const tables = cache.tables(pid, e.netns?.inode);
        const counts: Record<Protocol, number> = { tcp: 0, tcp6: 0, udp: 0, udp6: 0 };
        for (const inode of new Set(fds.values())) {
          const p = tables.get(inode);
          if (p) counts[p]++;
        }
        e.sockets = counts;
      } catch {
        e.note ??= 'open files not readable (another user\'s process): run as root or as its user';
      }
    }
    out.push(e);
  }
  return out;
}

function nsText(e: ProcessEntry): string {
  const parts: string[] = [];
  if (e.pidns && !e.pidns.own) parts.push(`pid:[${e.pidns.inode}]`);
  if (e.netns && !e.netns.own) parts.push(`net:[${e.netns.inode}]`);
  return parts.length > 0 ? parts.join(',') : (e.netns || e.pidns ? 'host' : '?');
}

export function renderProcessListText(list: ProcessEntry[]): string {
  const head = ['PID', 'USER', 'JDK', 'TCP', 'UDP', 'NAMESPACES', 'MAIN'];
  const rows = list.map((e) => [
    String(e.pid), e.user ?? (e.uid !== undefined ? String(e.uid) : '?'),
    e.isJvm ? (e.javaVersion ?? '?') : e.note?.startsWith('memory map') ? '?' : '-',
    e.sockets ? String(e.sockets.tcp + e.sockets.tcp6) : '?',
    e.sockets ? String(e.sockets.udp + e.sockets.udp6) : '?',
    nsText(e),
    (e.isJvm || e.mainClass ? (e.mainClass ?? '') : e.comm) + (e.note ? `  (${e.note})` : ''),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : i === 0 || i === 3 || i === 4 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  if (list.length === 0) return 'no JVM found on this host (--all-processes lists every process)\n';
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export function renderProcessListJson(list: ProcessEntry[]): string {
  return `${JSON.stringify({ processes: list }, null, 2)}\n`;
}
