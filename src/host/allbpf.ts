// `--all` through the bpf source: every TCP/UDP socket of our network
// namespace from the kernel's own tables (iter/tcp, iter/udp), with options read from each
// socket's struct sock and the holding processes from one walk over every
// process's files (iter/task_file). No fd is duplicated (so cgroup v1
// net_cls/net_prio marks stay as they are), no module is needed, and sockets
// no process holds (TIME_WAIT, requests, orphans) are listed too.
// Rows come in /proc/net's order: iter/tcp walks the tables /proc/net/tcp
// walks; iter/udp did too until Linux 6.5, whose batching walks the
// (address, port) hash instead (net/ipv4/udp.c bpf_iter_udp_batch), so UDP
// rows are put in the order /proc/net/udp{,6} lists their inodes.
import { cString } from '../linux/bpfrecord.js';
import { walkHost, walkHz } from '../linux/bpfwalk.js';
import { netstatSendQ } from '../linux/inet.js';
import { procNetInodes, readProcNetText } from '../linux/procnet.js';
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
  for (const p of ['udp', 'udp6'] as const) inProcOrder(byProtocol.get(p)!, readProcNetText('self', p));
  // Every process's files are walked in the kernel: no process is left unread, nothing is incomplete.
  return { rows: ORDER.flatMap((p) => byProtocol.get(p)!), warnings: [], incomplete: [], kernelDefaults: freshDefaults(), sysctls: readSysctls() };
}

/** rows sorted as /proc/net lists their inodes; a row it does not list (opened since) keeps its place after them. */
function inProcOrder(rows: HostRow[], procText: string | undefined): void {
  if (procText === undefined || rows.length < 2) return;
  const at = new Map<number, number>();
  procNetInodes(procText).forEach((inode, i) => { if (!at.has(inode)) at.set(inode, i); });
  const end = at.size;
  rows.sort((a, b) => (at.get(a.socket.inode) ?? end) - (at.get(b.socket.inode) ?? end));
}
