// One interface for every source of socket facts. capture.ts runs the chosen
// sources in turn over one map of the target's sockets by inode: bpf (its walk
// of the target's files in the kernel) and pidfd (the fds) list the sockets
// themselves; the others start from procfs's list (fds -> inodes ->
// /proc/<pid>/net rows); enrichers then add only what is missing.
import type { RawSocket, SourceName, SourceStatus } from '../model/types.js';

export interface Target {
  pid: number;
  /** The target is a JVM: sources then also read what only the Java analysis uses (the fds' O_NONBLOCK). */
  jvm?: boolean;
  /** fd number -> socket inode, from /proc/<pid>/fd: listed on first use (the bpf source never needs it). */
  readonly fds: Map<number, number>;
}

export interface SourceContext {
  target: Target;
  /** Sockets by inode; sources add options, tcpInfo, diag, userLocks, bindLocks, timer. */
  sockets: Map<number, RawSocket>;
  /** Called after each socket so long captures can show progress. */
  progress?: (done: number, total: number) => void;
}

export interface SourceResult {
  status: SourceStatus;
  /** Inodes that closed while this source read them. */
  vanished?: number[];
  warnings?: string[];
}

export interface Source {
  readonly name: SourceName;
  /** Cheap check: can this source run here at all (kernel, files, rights)? A reason when not. */
  available(target: Target): { ok: true } | { ok: false; reason: string; errno?: string };
  collect(ctx: SourceContext): Promise<SourceResult>;
}
