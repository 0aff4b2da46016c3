// The host-wide views as text and JSON: `list` (processes), `owner` (who
// holds a socket), `--all -f json`. Pure functions of what host/ gathered;
// --all's tables are render/knetstat.ts's.
import type { HostCapture } from '../host/all.js';
import type { OwnerMatch } from '../host/owner.js';
import type { ProcessEntry } from '../host/processes.js';
import { formatEndpoint } from '../model/addr.js';
import { terminalSafe } from './terminal.js';

function nsText(e: ProcessEntry): string {
  const parts: string[] = [];
  if (e.pidns && !e.pidns.own) parts.push(`pid:[${e.pidns.inode}]`);
  if (e.netns && !e.netns.own) parts.push(`net:[${e.netns.inode}]`);
  return parts.length > 0 ? parts.join(',') : (e.netns || e.pidns ? 'host' : '?');
}

/** `list`: a table like jps -l with user, JDK, socket counts and namespaces. */
export function renderProcessListText(entries: ProcessEntry[]): string {
  // Command lines, names and paths are the processes' own text: shown safe for a terminal.
  const list = terminalSafe(entries);
  const head = ['PID', 'USER', 'JDK', 'TCP', 'UDP', 'NAMESPACES', 'MAIN'];
  const rows = list.map((e) => [
    String(e.pid), e.user ?? (e.uid !== undefined ? String(e.uid) : '?'),
    e.isJvm ? (e.javaVersion ?? '?') : e.note?.startsWith('memory map') ? '?' : '-',
    e.sockets ? String(e.sockets.tcp + e.sockets.tcp6) : '?',
    e.sockets ? String(e.sockets.udp + e.sockets.udp6) : '?',
    nsText(e),
    (e.isJvm || e.mainClass ? (e.mainClass ?? '') : e.comm) + (e.note ? `  (${e.note})` : ''),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : i === 0 || i === 3 || i === 4 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  if (list.length === 0) return 'no JVM found on this host (--all-processes lists every process)\n';
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

export function renderProcessListJson(list: ProcessEntry[]): string {
  return `${JSON.stringify({ processes: list }, null, 2)}\n`;
}

/** `owner`: each matching socket and the processes holding it. */
export function renderOwnersText(found: OwnerMatch[]): string {
  const matches = terminalSafe(found);
  const lines: string[] = [];
  for (const m of matches) {
    lines.push(`${m.protocol} ${formatEndpoint(m.local.address, m.local.port)} -> ${formatEndpoint(m.remote.address, m.remote.port)} ${m.state} inode ${m.inode}`);
    if (m.owners.length === 0) lines.push(m.inode === 0 ? '  no process (TIME_WAIT, request or orphaned socket)' : '  no process found (held by a process we may not inspect, or in flight)');
    for (const o of m.owners) {
      const what = o.isJvm ? `JVM${o.mainClass ? ` ${o.mainClass}` : ''}` : o.isJvm === false ? 'not a JVM' : 'JVM unknown';
      lines.push(`  pid ${o.pid} (${o.comm}) user ${o.user ?? o.uid ?? '?'} fd ${o.fds.join(',')}: ${what}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderOwnersJson(found: { matches: OwnerMatch[]; unreadable: number[] }): string {
  return `${JSON.stringify({ matches: found.matches, unreadable: found.unreadable }, null, 2)}\n`;
}

/** `--all -f json`: every socket of the namespace with the processes holding it. */
export function renderHostSocketsJson(host: HostCapture): string {
  return `${JSON.stringify({ sockets: host.rows.map((r) => ({ ...r.socket, owners: r.holders })), warnings: host.warnings }, null, 2)}\n`;
}
