// The processes of this host (`knetstat-java list`): JVMs found by libjvm.so
// in their memory map, main class or jar like `jps -l`, JDK version from
// <java.home>/release, owner, namespaces relative to ours, and how many
// TCP/UDP sockets each holds (fd -> inode -> the /proc/<pid>/net table of its
// own network namespace).
import { TargetError } from '../errors.js';
import { javaHomeFromMaps, mainClassOf, readJdkVersion } from '../java/jvm.js';
import { allPids, cmdlineOrUndefined, namespaceOf, parseStatus, readProcFileOrUndefined, realUid, socketFds, userName } from '../linux/proc.js';
import { PROTOCOLS, readProcNet } from '../linux/procnet.js';
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
  const cache = new TableCache();
  const out: ProcessEntry[] = [];
  for (const pid of allPids()) {
    const statusText = readProcFileOrUndefined(pid, 'status');
    if (statusText === undefined) continue; // exited
    const st = parseStatus(statusText);
    if (st.state === 'Z' || st.state === 'X') continue;
    const cmdline = cmdlineOrUndefined(pid) ?? [];
    if (cmdline.length === 0 && (pid === 2 || st.ppid === 2)) continue; // kernel threads
    const comm = (readProcFileOrUndefined(pid, 'comm') ?? '?').trimEnd();
    const maps = readProcFileOrUndefined(pid, 'maps');
    const javaHome = maps ? javaHomeFromMaps(maps) : undefined;
    // Without the map (another user's process), a java launcher name is a hint, not proof.
    const isJvm = javaHome !== undefined;
    if (!isJvm && !opts.allProcesses) {
      if (maps !== undefined || !/(^|\/)java$/.test(cmdline[0] ?? '')) continue;
    }
    const uid = realUid(st);
    const e: ProcessEntry = {
      pid, comm, cmdline, isJvm, container: false,
      ...(uid !== undefined ? { uid, user: userName(uid) } : {}),
    };
    if (maps === undefined) e.note = 'memory map not readable (another user\'s process): run as root to tell a JVM for sure';
    if (isJvm || /(^|\/)java$/.test(cmdline[0] ?? '')) e.mainClass = mainClassOf(cmdline);
    if (javaHome) {
      e.javaHome = javaHome;
      const rel = readJdkVersion(javaHome);
      if (rel) e.javaVersion = rel.version;
    }
    e.netns = namespaceOf(pid, 'net');
    e.pidns = namespaceOf(pid, 'pid');
    e.container = (e.netns !== undefined && !e.netns.own) || (e.pidns !== undefined && !e.pidns.own);
    if (opts.sockets !== false) {
      try {
        const fds = socketFds(pid, uid);
        const tables = cache.tables(pid, e.netns?.inode);
        const counts: Record<Protocol, number> = { tcp: 0, tcp6: 0, udp: 0, udp6: 0 };
        for (const inode of new Set(fds.values())) {
          const p = tables.get(inode);
          if (p) counts[p]++;
        }
        e.sockets = counts;
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        e.note ??= 'open files not readable (another user\'s process): run as root or as its user';
      }
    }
    out.push(e);
  }
  return out;
}
