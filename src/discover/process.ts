// pid -> facts about the process: alive, state, owner, command line, JVM or
// not, network namespace. Read through linux/proc.ts; the JVM is recognised
// by java/jvm.ts.
import { UsageError, TargetError } from '../errors.js';
import { vmArgsOf } from '../java/hsperf.js';
import { asyncGroupThreads, jvmInfo, type LaunchFacts } from '../java/jvm.js';
import { decodeText } from '../linux/files.js';
import { cmdline, comm, environOrUndefined, exe, maps, namespaceOf, processState, realUid, status, threadNames, userName, type ProcStatus } from '../linux/proc.js';
import { listTargetDir, readTargetFile, targetCwd, type Reader } from '../linux/targetfs.js';
import { jdkFactsFor } from '../mappings.js';
import type { ProcessInfo } from '../model/types.js';

/** Linux's largest pid (PID_MAX_LIMIT on 64-bit). */
const PID_MAX = 4194304;

export function parsePid(text: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new UsageError(`not a process id: '${text}' (expected a positive number, e.g. knetstat-java 4242)`);
  }
  const pid = Number(text);
  if (!Number.isSafeInteger(pid) || pid < 1 || pid > PID_MAX) {
    throw new UsageError(`not a process id: ${text} (Linux pids are 1..${PID_MAX})`);
  }
  return pid;
}

/** Thread names read at most (a JVM with more is rare; the count is still exact). */
const MAX_THREADS_READ = 8192;
/** An @argfile or hsperfdata file larger than this is not one. */
const MAX_LAUNCH_FILE = 1 << 20;
/** hsperfdata_<user> directories tried in the target's /tmp when its user's own is not there (a container's user names). */
const MAX_PERF_DIRS = 64;

/**
 * What the java launcher and the JVM read at start: the environment
 * (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS), @argfiles, and the
 * JVM's own record of its options (hsperfdata), all read in the target's root
 * with its owner's rights (linux/targetfs.ts): the target chose these paths.
 */
function launchFacts(pid: number, st: ProcStatus): Omit<LaunchFacts, 'argv' | 'feature'> & { vmArgsReason?: string } {
  const reader: Reader = { uid: st.uids[3] ?? st.uids[0] ?? -1, gid: st.gids[3] ?? st.gids[0] ?? -1, groups: st.groups };
  const cwd = targetCwd(pid);
  const argfile = (path: string) => {
    const r = readTargetFile(pid, path, { reader, cwd, maxBytes: MAX_LAUNCH_FILE, what: 'argfile' });
    return r.ok ? decodeText(r.bytes) : undefined;
  };
  const nspid = st.nspid.at(-1) ?? pid;
  const tried = new Set<string>();
  let reason = 'no hsperfdata file (-XX:-UsePerfData, or none in the target\'s /tmp)';
  const attempt = (user: string): string | undefined => {
    if (tried.has(user)) return undefined;
    tried.add(user);
    const r = readTargetFile(pid, `/tmp/hsperfdata_${user}/${nspid}`, { reader, maxBytes: MAX_LAUNCH_FILE, what: 'hsperfdata file', owner: reader.uid });
    if (!r.ok) { if (!/ENOENT/.test(r.reason)) reason = r.reason; return undefined; }
    const args = vmArgsOf(r.bytes);
    if (args === undefined) reason = `/tmp/hsperfdata_${user}/${nspid} holds no java.rt.vmArgs`;
    return args;
  };
  const own = userName(reader.uid);
  let vmArgs = own !== undefined ? attempt(own) : undefined;
  if (vmArgs === undefined) {
    // In another user namespace or /etc/passwd the name differs: the directories HotSpot made, by their names.
    for (const d of listTargetDir(pid, '/tmp', reader, 1 << 16).filter((n) => n.startsWith('hsperfdata_')).slice(0, MAX_PERF_DIRS)) {
      vmArgs = attempt(d.slice('hsperfdata_'.length));
      if (vmArgs !== undefined) break;
    }
  }
  return { env: environOrUndefined(pid), argfile, vmArgs, vmArgsReason: vmArgs === undefined ? reason : undefined };
}

export function inspectProcess(pid: number): ProcessInfo {
  const state = processState(pid);
  if (state === 'Z' || state === 'X') {
    throw new TargetError(`process ${pid} is a zombie (it has exited; its parent has not reaped it): it has no sockets to report`);
  }
  const st = status(pid);
  const uid = realUid(st) ?? NaN;
  const name = comm(pid);
  const argv = cmdline(pid);
  const jvm = jvmInfo(maps(pid) ?? '', argv, () => launchFacts(pid, st));
  if (jvm) {
    // The default asynchronous channel group runs threads of its own: evidence for (or against) an AsynchronousSocketChannel.
    const t = threadNames(pid, MAX_THREADS_READ);
    if (t) jvm.threads = { total: t.total, asyncGroup: asyncGroupThreads(t.names, jdkFactsFor(jvm.feature)?.newThreads ?? []) };
  }
  const netns = namespaceOf(pid, 'net');
  return { pid, comm: name, cmdline: argv, exe: exe(pid), uid, user: userName(uid), isJvm: jvm !== undefined, jvm, netns };
}
