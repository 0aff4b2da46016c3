// pid -> Capture: the process, its socket fds, and what the chosen sources
// read from them. Everything a report or a snapshot needs, nothing rendered.
import { inspectProcess } from './discover/process.js';
import { socketFds } from './discover/fds.js';
import { hostInfo } from './host/sysctl.js';
import { freshDefaults, optionsFor } from './sources/sockopt.js';
import { makeSource } from './sources/index.js';
import { SockdiagEnricher } from './sources/sockdiag.js';
import { UsageError } from './errors.js';
import { TOOL } from './version.js';
import { probeJdkDefaults } from './java/probe.js';
import type { Capture, RawSocket, SourceName, SourceStatus } from './model/types.js';
import type { Source, Target } from './sources/types.js';

export const FORMAT_VERSION = 1;

export type SourceChoice = 'auto' | SourceName;

export interface CaptureOptions {
  source?: SourceChoice;
  /** Do not warn when the target is not a JVM. */
  any?: boolean;
  progress?: (done: number, total: number) => void;
  /** Measure the JDK's own defaults from the target's JDK (starts a short-lived probe JVM). */
  probeJdk?: boolean;
}

interface Plan {
  /** Sources that list and read the sockets (procfs first when the reader does not list them). */
  primary: Source[];
  /** Sources run after, adding only what the primary ones could not read. */
  enrich: Source[];
}

/**
 * auto: the richest source that works here (bpf, pidfd, then the knetstat
 * module's files, then sock_diag, then /proc/<pid>/net alone), then
 * enrichment: the module's sk_userlocks (who sized a buffer) and sock_diag's
 * timers and shutdown state, which bpf reads itself. A named source is used alone.
 */
function plan(choice: SourceChoice, target: Target, statuses: SourceStatus[]): Plan {
  const order: SourceName[] = choice === 'auto' ? ['bpf', 'pidfd', 'knetstat', 'sockdiag'] : choice === 'procfs' ? [] : [choice];
  for (const name of order) {
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
  const proc = inspectProcess(pid);
  // Listed on first use: the bpf source walks the target's fds in the kernel and never needs it.
  let fds: Map<number, number> | undefined;
  const target: Target = { pid, get fds() { return (fds ??= socketFds(pid, proc.uid)); } };
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
  const { primary: chosen, enrich } = plan(opts.source ?? 'auto', target, statuses);
  for (const src of [...chosen, ...enrich]) {
    const res = await src.collect({ target, sockets, progress: enrich.includes(src) ? undefined : opts.progress });
    statuses.push(enrich.includes(src) ? { ...res.status, role: 'enrich' } : res.status);
    for (const i of res.vanished ?? []) vanished.add(i);
    warnings.push(...(res.warnings ?? []));
  }
  // A socket seen by one source and gone for another is reported with what was read.
  for (const s of sockets.values()) if (vanished.has(s.inode)) s.vanished = true;

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
  let jdkDefaults: Capture['jdkDefaults'];
  if (opts.probeJdk) {
    const home = proc.jvm?.javaHome;
    if (!home) warnings.push('--probe-jdk: the target is not a JVM (no java.home): using mappings/jdk-defaults.json');
    else {
      const rows = await probeJdkDefaults(home, proc.jvm?.version, (p) => capture(p, { source: 'pidfd', any: true }));
      jdkDefaults = { rows, source: `live probe of ${home} (JDK ${proc.jvm?.version ?? '?'}) at ${new Date().toISOString()}` };
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
    partial: missing !== undefined,
    missing,
    sockets: list,
    ...(jdkDefaults ? { jdkDefaults } : {}),
    vanished: [...vanished].filter((i) => !sockets.has(i)).map((inode) => ({ inode, fd: fdOf.get(inode) ?? -1 })),
  };
}
