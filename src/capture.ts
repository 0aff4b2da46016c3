// pid -> Capture: the process, its socket fds, and what the chosen sources
// read from them. Everything a report or a snapshot needs, nothing rendered.
import { inspectProcess } from './discover/process.js';
import { ProbeError, TargetError, UsageError } from './errors.js';
import { probeJdkDefaults } from './java/probe.js';
import { pidfdWouldRestamp } from './linux/cgroup.js';
import { hasExited, startTime } from './linux/lifetime.js';
import { fdFlags, O_NONBLOCK, socketFds } from './linux/proc.js';
import { freshDefaults, optionsFor } from './linux/sockopt.js';
import { hostInfo } from './linux/sysctl.js';
import { FORMAT_VERSION, type Capture, type RawSocket, type SourceName, type SourceStatus } from './model/types.js';
import { AUTO_ORDER, makeSource } from './sources/index.js';
import { dropPreloadedBpf, preloadBpf } from './sources/bpf.js';
import { SockdiagEnricher } from './sources/sockdiag.js';
import type { Source, Target } from './sources/types.js';
import { TOOL } from './version.js';

export type SourceChoice = 'auto' | SourceName;

export interface CaptureOptions {
  source?: SourceChoice;
  /** Do not warn when the target is not a JVM. */
  any?: boolean;
  progress?: (done: number, total: number) => void;
  /** Measure the JDK's own defaults from the target's JDK (starts a short-lived probe JVM). */
  probeJdk?: boolean;
  /**
   * The target is the tool's own probe JVM: pidfd_getfd may re-stamp its sockets'
   * net_cls/net_prio marks (src/linux/cgroup.ts), since nobody else's traffic depends on them.
   */
  ownProbe?: boolean;
}

interface Plan {
  /** Sources that list and read the sockets (procfs first when the reader does not list them). */
  primary: Source[];
  /** Sources run after, adding only what the primary ones could not read. */
  enrich: Source[];
}

/**
 * auto: the richest source that works here (AUTO_ORDER: bpf, pidfd, the
 * knetstat module's files, sock_diag; else /proc/<pid>/net alone), then
 * enrichment: the module's sk_userlocks (who sized a buffer) and sock_diag's
 * timers and shutdown state, which bpf reads itself (it gets none). A named
 * source is used alone. restamp: why pidfd_getfd would change the target's
 * sockets here (linux/cgroup.ts), if it would; bpf duplicates nothing, so it
 * is used whatever restamp says.
 */
function plan(choice: SourceChoice, target: Target, statuses: SourceStatus[], restamp: string | undefined): Plan {
  const order: SourceName[] = choice === 'auto' ? AUTO_ORDER : choice === 'procfs' ? [] : [choice];
  for (const name of order) {
    // Duplicating a socket would change the target's traffic classification: never, whoever asks (no override:
    // a read-only tool does not offer to write). The next source is used and the report says why.
    if (name === 'pidfd' && restamp) {
      if (choice !== 'auto') throw new UsageError(`--source pidfd refused: ${restamp}`, { remedy: 'use --source bpf, --source knetstat or --source sockdiag' });
      statuses.push({ name, used: false, reason: restamp });
      continue;
    }
    const src = makeSource(name);
    if (!src) {
      if (choice !== 'auto') throw new UsageError(`source '${name}' is not available in this build`);
      continue;
    }
    const ok = src.available(target);
    if (ok.ok) {
      // pidfd and bpf list the sockets themselves; the others join to /proc/<pid>/net.
      const primary = name === 'pidfd' || name === 'bpf' ? [src] : [makeSource('procfs')!, src];
      if (choice !== 'auto' || name === 'bpf') return { primary, enrich: [] };
      const enrich: Source[] = [];
      if (name === 'pidfd') {
        const k = makeSource('knetstat');
        if (k?.available(target).ok) enrich.push(k);
      }
      if (name !== 'sockdiag') {
        const d = new SockdiagEnricher();
        if (d.available(target).ok) enrich.push(d);
      }
      return { primary, enrich };
    }
    statuses.push({ name, used: false, reason: ok.reason, errno: ok.errno });
    if (choice !== 'auto') break;
  }
  return { primary: [makeSource('procfs')!], enrich: [] };
}

export async function capture(pid: number, opts: CaptureOptions = {}): Promise<Capture> {
  // The bpf source's load (libbpf parsing the kernel's BTF, the verifier) runs on a worker
  // thread while this one reads the process and the kernel defaults.
  const choice = opts.source ?? 'auto';
  const preload = choice === 'bpf' || (choice === 'auto' && AUTO_ORDER[0] === 'bpf') ? preloadBpf() : undefined;
  try {
    return await captureWith(pid, opts, preload);
  } finally {
    await preload;
    dropPreloadedBpf();
  }
}

async function captureWith(pid: number, opts: CaptureOptions, preload: Promise<void> | undefined): Promise<Capture> {
  const proc = inspectProcess(pid);
  const started = startTime(pid);
  // Listed on first use: the bpf source walks the target's fds in the kernel and never needs the list.
  let fds: Map<number, number> | undefined;
  const target: Target = { pid, jvm: proc.isJvm, get fds() { return (fds ??= socketFds(pid, proc.uid)); } };
  const statuses: SourceStatus[] = [];
  const warnings: string[] = [];
  if (!proc.isJvm && !opts.any) {
    warnings.push(`process ${pid} (${proc.comm}) is not a JVM (no libjvm.so in its memory map): reporting its sockets anyway (--any silences this)`);
  }
  if (proc.netns && !proc.netns.own) warnings.push(`process ${pid} is in another network namespace (net:[${proc.netns.inode}]): addresses are as it sees them`);
  const host = hostInfo();
  host.kernelDefaults = freshDefaults();

  const sockets = new Map<number, RawSocket>();
  const vanished = new Set<number>();
  await preload;
  const { primary: chosen, enrich } = plan(opts.source ?? 'auto', target, statuses, opts.ownProbe ? undefined : pidfdWouldRestamp());
  for (const src of [...chosen, ...enrich]) {
    const res = await src.collect({ target, sockets, progress: enrich.includes(src) ? undefined : opts.progress });
    statuses.push(enrich.includes(src) ? { ...res.status, role: 'enrich' } : res.status);
    for (const i of res.vanished ?? []) vanished.add(i);
    warnings.push(...(res.warnings ?? []));
  }
  // A socket seen by one source and gone for another is reported with what was read.
  for (const s of sockets.values()) if (vanished.has(s.inode)) s.vanished = true;
  // Each fd's O_NONBLOCK (fdinfo): a plain fact the analysis reads in Java terms (java/nonblocking.ts).
  // For JVMs only: one small /proc read per socket, unless the source read it itself.
  if (proc.isJvm) {
    for (const s of sockets.values()) {
      if (s.fd < 0 || s.vanished || s.nonBlocking) continue;
      const flags = fdFlags(pid, s.fd, s.inode);
      if (flags !== undefined) s.nonBlocking = { value: (flags & O_NONBLOCK) !== 0, source: 'procfs' };
    }
  }

  const fdOf = new Map<number, number>();
  if (vanished.size > 0) for (const [fd, inode] of target.fds) fdOf.set(inode, fd);
  const list = [...sockets.values()].sort((a, b) => a.fd - b.fd || a.inode - b.inode);
  const refused = statuses.filter((s) => !s.used && s.reason);
  const optionSource = chosen.some((s) => s.name !== 'procfs');
  let missing: Capture['missing'];
  const unread = new Set<string>();
  for (const s of list) {
    for (const o of optionsFor(s.protocol)) {
      if (o.states && !o.states.includes(s.state)) continue;
      if (!(o.name in s.options)) unread.add(o.name);
    }
  }
  if (unread.size > 0 && list.length > 0) {
    const why = refused.map((r) => r.reason).join('; ') ||
      (optionSource ? `the ${chosen.at(-1)!.name} source cannot see them` : 'the procfs source shows no socket options');
    missing = { options: [...unread].sort(), reason: why };
  }
  // A process that exited while it was read: what was read is reported, as partial, and said so; nothing read is no report.
  const exited = hasExited(pid, started);
  if (exited) {
    if (list.length === 0) {
      throw new TargetError(`process ${pid} exited during the scan, before any of its sockets could be read`, { errno: 'ESRCH', remedy: 'check the pid with jps or knetstat-java list' });
    }
    warnings.push(`process ${pid} exited during the scan: this report holds the ${list.length} socket(s) read before it did`);
  }
  let jdkDefaults: Capture['jdkDefaults'];
  let probeFailed = false;
  if (opts.probeJdk && !exited) {
    const home = proc.jvm?.javaHome;
    if (!home) warnings.push('--probe-jdk: the target is not a JVM (no java.home): using mappings/jdk-defaults.json');
    else {
      try {
        const rows = await probeJdkDefaults(
          { pid, javaHome: home, version: proc.jvm?.version, feature: proc.jvm?.feature },
          (p) => capture(p, { source: 'pidfd', any: true, ownProbe: true }),
        );
        jdkDefaults = { rows, source: `live probe of ${home} (JDK ${proc.jvm?.version ?? '?'}) at ${new Date().toISOString()}` };
      } catch (err) {
        // Not bad input: the report is made with the shipped table, and says so (partial: exit 3).
        if (!(err instanceof ProbeError)) throw err;
        warnings.push(`${err.message}${err.remedy ? ` (${err.remedy})` : ''}: JDK defaults from mappings/jdk-defaults.json instead, which may not match the target's JDK`);
        probeFailed = true;
      }
    }
  }
  return {
    formatVersion: FORMAT_VERSION,
    tool: TOOL,
    capturedAt: new Date().toISOString(),
    host,
    process: proc,
    sources: statuses,
    warnings,
    partial: missing !== undefined || probeFailed || exited,
    ...(exited ? { exited: true } : {}),
    missing,
    sockets: list,
    ...(jdkDefaults ? { jdkDefaults } : {}),
    vanished: [...vanished].filter((i) => !sockets.has(i)).map((inode) => ({ inode, fd: fdOf.get(inode) ?? -1 })),
  };
}
