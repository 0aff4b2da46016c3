// pid -> facts about the process: alive, state, owner, command line, JVM or
// not, network namespace. Read through linux/proc.ts; the JVM is recognised
// by java/jvm.ts.
import { UsageError, TargetError } from '../errors.js';
import { jvmInfo } from '../java/jvm.js';
import { cmdline, comm, exe, maps, namespaceOf, processState, realUid, status, userName } from '../linux/proc.js';
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

export function inspectProcess(pid: number): ProcessInfo {
  const state = processState(pid);
  if (state === 'Z' || state === 'X') {
    throw new TargetError(`process ${pid} is a zombie (it has exited; its parent has not reaped it): it has no sockets to report`);
  }
  const uid = realUid(status(pid)) ?? NaN;
  const name = comm(pid);
  const argv = cmdline(pid);
  const jvm = jvmInfo(maps(pid) ?? '', argv);
  const netns = namespaceOf(pid, 'net');
  return { pid, comm: name, cmdline: argv, exe: exe(pid), uid, user: userName(uid), isJvm: jvm !== undefined, jvm, netns };
}
