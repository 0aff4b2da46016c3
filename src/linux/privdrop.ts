// Running a program as another process's user, with no way back up: for
// --probe-jdk, which runs the target's own `java` (a file its owner chose),
// and for --observe's helper (src/observe/helper.ts: our own code, doing the
// file steps in a JVM's directories as the JVM's user). The wrapper is
// util-linux's setpriv: it sets the groups, then the gids, then the uids
// (setresuid: real, effective and saved), clears the inheritable and ambient
// capabilities, empties the bounding set, sets PR_SET_NO_NEW_PRIVS (no
// setuid/setgid/file-capability exec can raise it again) and the parent-death
// signal, in that order, and execs. Node's spawn({uid, gid}) cannot do the
// groups, no_new_privs or the bounding set between fork and exec. The two uses
// differ on purpose in three points, all in USES below.
import { statSync } from 'node:fs';
import { ObserveError, ProbeError, TargetError, type KnetstatError } from '../errors.js';
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

/** Who runs a program as another process's user. */
export type RunAsUse = 'probe' | 'observe-helper';

interface UsePolicy {
  /** The option that asks for it, and what it runs, for messages. */
  flag: string;
  what: string;
  /** SIGKILL the program when the tool dies. */
  parentDeathSignal: boolean;
  /** Run as root for a root target with root's capabilities (else: none, even as root). */
  rootTargetKeepsCapabilities: boolean;
  /** As a non-root caller, the target's gid must be ours too (not only its uid). */
  sameGid: boolean;
  refuse: (message: string, remedy: string) => KnetstatError;
}

/**
 * Where the probe and the observe helper differ, and why:
 * - the probe runs the target's own java: nothing of root's is kept, ever, and
 *   it dies with the tool (it must not outlive it and go on as someone's JVM);
 * - the helper runs our code, shipped with the tool. It has no parent-death
 *   signal: when the tool dies, the helper sees its stdin close and removes the
 *   attach trigger it created before it exits, which a SIGKILL would prevent. For
 *   a JVM that runs as root it keeps root's capabilities: a root process's
 *   /proc/<pid>/root is reached only with them (ptrace access), and as root
 *   there is no one less privileged to act as. As the JVM's own user it must
 *   match the gid too: HotSpot's attach listener checks the peer's euid and egid.
 */
const USES: Record<RunAsUse, UsePolicy> = {
  probe: {
    flag: '--probe-jdk', what: "the target's own java", parentDeathSignal: true, rootTargetKeepsCapabilities: false, sameGid: false,
    refuse: (message, remedy) => new ProbeError(message, { remedy: `${remedy}, or drop --probe-jdk` }),
  },
  'observe-helper': {
    flag: '--observe', what: 'its helper (the attach and recording file steps)', parentDeathSignal: false, rootTargetKeepsCapabilities: true, sameGid: true,
    refuse: (message, remedy) => new ObserveError(message, { kind: 'not-permitted', remedy }),
  },
};

/** setpriv in a root-owned directory, itself root-owned and writable by no one else; never from $PATH. */
function setprivPath(use: UsePolicy): string {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv']) {
    try {
      const st = statSync(p);
      if (st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0) return p;
    } catch { /* not here */ }
  }
  throw use.refuse(`${use.flag} needs setpriv (util-linux) to run ${use.what} as the target's user`, 'install util-linux');
}

/**
 * The argv prefix that runs a command as `as`, with no new privileges. As
 * root: that uid, gid and groups, no capabilities (see USES for a root
 * target). As the same user: only no_new_privs (nothing to drop). As anyone
 * else: refused, since the command would run with this user's rights rather
 * than its owner's.
 */
export function runAsArgv(as: Credentials, useName: RunAsUse = 'probe'): string[] {
  const use = USES[useName];
  const euid = process.geteuid?.() ?? -1;
  const setpriv = setprivPath(use);
  const tail = ['--no-new-privs', ...(use.parentDeathSignal ? ['--pdeathsig=SIGKILL'] : []), '--'];
  if (euid === 0) {
    const caps = use.rootTargetKeepsCapabilities && as.uid === 0 ? [] : ['--bounding-set=-all', '--inh-caps=-all'];
    return [
      setpriv, `--reuid=${as.uid}`, `--regid=${as.gid}`,
      ...(as.groups.length ? [`--groups=${as.groups.join(',')}`] : ['--clear-groups']),
      ...caps, ...tail,
    ];
  }
  if (euid === as.uid && (!use.sameGid || process.getegid?.() === as.gid)) return [setpriv, '--inh-caps=-all', ...tail];
  throw use.refuse(
    `${use.flag} runs ${use.what} as the target's user (uid ${as.uid}${use.sameGid ? `, gid ${as.gid}` : ''}): this needs root, or to be that user`,
    'run as root or as that user',
  );
}
