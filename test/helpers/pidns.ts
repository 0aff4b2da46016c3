// A private pid namespace with its own /proc, for tests that look at every
// process of "the host" (check --all-jvms, list): inside it only the test's
// own JVMs are there, not whatever else runs on a shared machine. The
// namespace's init is `sleep`, under `unshare --pid --fork --mount-proc
// --kill-child`; commands enter it with nsenter (pid and mount namespaces, so
// they see its /proc). When init dies the kernel kills everything inside.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The pids of a process's children (/proc/<pid>/task/<pid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Waits until the process has a child (the command nsenter or unshare forked) and returns its pid. */
export async function childOf(pid: number, timeoutMs = 10_000): Promise<number> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    const c = childrenOf(pid)[0];
    if (c !== undefined) return c;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`process ${pid} forked no child within ${timeoutMs} ms`);
}

export interface PidNamespace {
  /** argv prefix that runs a command inside. */
  enter: string[];
  /** Runs argv inside and waits. */
  run(argv: string[], opts?: { env?: NodeJS.ProcessEnv }): { code: number; stdout: string; stderr: string };
  close(): Promise<void>;
}

export async function pidNamespace(): Promise<PidNamespace> {
  const holder: ChildProcess = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'sleep', '3600'], { stdio: 'ignore' });
  const init = await childOf(holder.pid!);
  const enter = ['nsenter', `--target=${init}`, '--pid', '--mount'];
  return {
    enter,
    run(argv, opts = {}) {
      const r = spawnSync(enter[0]!, [...enter.slice(1), ...argv], { encoding: 'utf8', timeout: 300_000, env: opts.env ?? process.env });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    close: () => new Promise<void>((res) => {
      if (holder.exitCode !== null || holder.signalCode !== null) return res();
      holder.once('exit', () => res());
      holder.kill('SIGKILL');
    }),
  };
}

/** Whether this machine can make one (root, util-linux's unshare and nsenter). */
export function pidNamespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (unshare --pid)';
  for (const c of ['unshare', 'nsenter']) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} is not installed (util-linux)`;
  return undefined;
}
