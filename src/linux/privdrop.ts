// Running a program as another process's user, with no way back up: for
// --probe-jdk, which runs the target's own `java` (a file its owner chose).
// The wrapper is util-linux's setpriv: it sets the groups, then the gids, then
// the uids (setresuid: real, effective and saved), clears the inheritable and
// ambient capabilities, empties the bounding set, sets PR_SET_NO_NEW_PRIVS (no
// setuid/setgid/file-capability exec can raise it again) and the parent-death
// signal, in that order, and execs. Node's spawn({uid, gid}) cannot do the
// groups, no_new_privs or the bounding set between fork and exec.
import { statSync } from 'node:fs';
import { ProbeError, TargetError } from '../errors.js';
import { status } from './proc.js';

export interface Credentials {
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: number[];
}

/**
 * The target's credentials from /proc/<pid>/status. Real, effective, saved
 * and filesystem ids must agree: a process between two identities (a setuid
 * program, a daemon that dropped only its effective uid) has no single
 * owner to run as, and is refused.
 */
export function processCredentials(pid: number): Credentials {
  const { uids, gids, groups } = status(pid);
  if (uids.length !== 4 || gids.length !== 4) {
    throw new TargetError(`cannot read the credentials of process ${pid} (/proc/${pid}/status)`);
  }
  if (new Set(uids).size !== 1 || new Set(gids).size !== 1) {
    throw new ProbeError(`process ${pid} runs with mixed credentials (uids ${uids.join('/')}, gids ${gids.join('/')}): there is no single owner to run its JDK as`, { remedy: 'drop --probe-jdk' });
  }
  return { uid: uids[0]!, gid: gids[0]!, groups };
}

/** setpriv in a root-owned directory, itself root-owned and writable by no one else; never from $PATH. */
function setprivPath(): string {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv']) {
    try {
      const st = statSync(p);
      if (st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0) return p;
    } catch { /* not here */ }
  }
  throw new ProbeError('--probe-jdk needs setpriv (util-linux) to run the probe as the target\'s user', { remedy: 'install util-linux, or drop --probe-jdk' });
}

/**
 * The argv prefix that runs a command as `as`, with no new privileges. As
 * root: that uid, gid and groups, no capabilities. As the same user: only
 * no_new_privs (nothing to drop). As anyone else: refused, since the command
 * would run with this user's rights rather than its owner's.
 */
export function runAsArgv(as: Credentials): string[] {
  const euid = process.geteuid?.() ?? -1;
  const setpriv = setprivPath();
  const common = ['--inh-caps=-all', '--no-new-privs', '--pdeathsig=SIGKILL'];
  if (euid === 0) {
    return [
      setpriv, `--reuid=${as.uid}`, `--regid=${as.gid}`,
      ...(as.groups.length ? [`--groups=${as.groups.join(',')}`] : ['--clear-groups']),
      '--bounding-set=-all', ...common, '--',
    ];
  }
  if (euid === as.uid) return [setpriv, ...common, '--'];
  throw new ProbeError(`--probe-jdk runs the target's own java as the target's user (uid ${as.uid}): this needs root, or to be that user`, { remedy: 'run as root or as that user, or drop --probe-jdk' });
}
