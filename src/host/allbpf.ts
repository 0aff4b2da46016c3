// `--all` through the bpf source: every TCP/UDP socket of our network
// namespace from the kernel's own tables (iter/tcp, iter/udp: the walk
// /proc/net/{tcp,udp} make, in the same order), with options read from each
// socket's struct sock and the holding processes from one walk over every
// process's files (iter/task_file). No fd is duplicated (so cgroup v1
// net_cls/net_prio marks stay as they are), no module is needed, and sockets
// no process holds (TIME_WAIT, requests, orphans) are listed too.
import { cString } from '../linux/bpfrecord.js';
import { walkHost, walkHz } from '../linux/bpfwalk.js';
import { netstatSendQ } from '../linux/inet.js';
import { freshDefaults } from '../linux/sockopt.js';
import { readSysctls } from '../linux/sysctl.js';
import type { Protocol } from '../model/types.js';
import { socketFromRecord } from '../sources/bpf.js';
import type { HostCapture, HostRow } from './all.js';
import type { SocketHolder } from './owner.js';

const ORDER: Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];

export function captureHostBpf(): HostCapture {
  const walks = walkHost();
  const hz = walkHz(walks.tcp, 'tcp iterator');
  walkHz(walks.udp, 'udp iterator');
  walkHz(walks.owners, 'owner iterator');
  const holders = new Map<number, SocketHolder[]>();
  for (const o of walks.owners.owners) {
    let l = holders.get(o.inode);
    if (!l) holders.set(o.inode, (l = []));
    l.push({ pid: o.tgid, comm: cString(o.comm), fd: o.fd });
  }
  const byProtocol = new Map<Protocol, HostRow[]>(ORDER.map((p) => [p, []]));
  for (const rec of [...walks.tcp.socks, ...walks.udp.socks]) {
    const h = rec.inode !== 0 ? holders.get(rec.inode) ?? [] : [];
    // As the pidfd view: the fd is the first holder's.
    const socket = socketFromRecord(rec, hz, h[0]?.fd ?? -1);
    socket.sendQ = netstatSendQ(socket.state, socket.sendQ);
    byProtocol.get(socket.protocol)!.push({ socket, holders: h, owners: [...new Set(h.map((x) => `${x.pid}/${x.comm}`))] });
  }
  // Every process's files are walked in the kernel: no process is left unread, nothing is incomplete.
  return { rows: ORDER.flatMap((p) => byProtocol.get(p)!), warnings: [], incomplete: [], kernelDefaults: freshDefaults(), sysctls: readSysctls() };
}
