// cgroup v1 net_cls and net_prio stamp each socket with a classid and a
// priority index (the cgroup of the task that made it; tc, iptables' cgroup
// match and the device priomap act on them). The kernel re-stamps a socket
// whenever a file descriptor for it is installed in a process: __receive_sock
// (net/core/sock.c) calls sock_update_netprioidx and sock_update_classid with
// the *receiver's* cgroups, for SCM_RIGHTS and for pidfd_getfd alike
// (pidfd_getfd -> receive_fd -> __receive_fd -> __receive_sock). So while
// either controller is bound to a v1 hierarchy, duplicating a target's socket
// with pidfd_getfd changes how its traffic is classified. The priority index
// cannot be read back from user space (sock_diag has the classid only), so no
// check per socket could prove a duplicate harmless: the pidfd path is not
// used at all then. Without a v1 hierarchy, both stay at the root cgroup's
// values for every socket, and duplicating changes nothing.
import { decodeText } from './files.js';
import { readProcPath } from './proc.js';

/** Controllers bound to a cgroup v1 hierarchy that stamp sockets: a subset of ["net_cls", "net_prio"]. */
export function socketStampingControllers(cgroupsFile = '/proc/cgroups'): string[] {
  let text: string;
  try {
    text = decodeText(readProcPath(cgroupsFile));
  } catch {
    return []; // no /proc/cgroups: a kernel without cgroup v1
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    // #subsys_name hierarchy num_cgroups enabled; hierarchy 0: not bound to a v1 hierarchy.
    const [name, hierarchy, , enabled] = line.trim().split(/\s+/);
    if ((name === 'net_cls' || name === 'net_prio') && Number(hierarchy) !== 0 && enabled === '1') out.push(name);
  }
  return out;
}

/** Why pidfd_getfd must not be used on this host now, or undefined when it leaves sockets as they are. */
export function pidfdWouldRestamp(): string | undefined {
  const c = socketStampingControllers();
  if (c.length === 0) return undefined;
  return `pidfd_getfd would change the sockets it reads: with cgroup v1 ${c.join(' and ')} mounted, the kernel re-stamps each duplicated socket with this tool's ${c.map((x) => (x === 'net_cls' ? 'classid' : 'net_prio index')).join(' and ')} (__receive_sock), changing how tc/iptables classify the process's traffic`;
}
