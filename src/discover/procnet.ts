// /proc/<pid>/net/{tcp,tcp6,udp,udp6}: the sockets of the target's network
// namespace, as the kernel's seq_file prints them. Only rows whose inode the
// caller wants are decoded.
import { readFileSync } from 'node:fs';
import { FormatError } from '../errors.js';
import { parseProcAddress } from '../model/addr.js';
import type { Endpoint, Protocol } from '../model/types.js';

export const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];

export function stateName(protocol: Protocol, st: number): string {
  if (protocol.startsWith('udp')) return st === 1 ? 'ESTABLISHED' : 'UNCONN';
  return TCP_STATES[st] ?? `STATE_${st}`;
}

export interface ProcNetRow {
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  st: number;
  state: string;
  txQueue: number;
  rxQueue: number;
  timerActive: number;
  timerJiffies: number;
  retrnsmt: number;
  uid: number;
  inode: number;
  /** Line index in its file (for joining knetstat's tables, which share the order). */
  index: number;
}

export const PROTOCOLS: Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];

export function parseProcNet(text: string, protocol: Protocol, want?: Set<number>, file = `/proc/net/${protocol}`): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 10) throw new FormatError(`${file}: line ${i + 1}: expected at least 10 fields, found ${f.length}`);
    const inode = Number(f[9]);
    if (want && !want.has(inode)) continue;
    try {
      const [tx, rx] = f[4]!.split(':');
      const [ta, tj] = f[5]!.split(':');
      const st = parseInt(f[3]!, 16);
      rows.push({
        protocol, local: parseProcAddress(f[1]!), remote: parseProcAddress(f[2]!), st, state: stateName(protocol, st),
        txQueue: parseInt(tx!, 16), rxQueue: parseInt(rx!, 16), timerActive: parseInt(ta!, 16), timerJiffies: parseInt(tj!, 16),
        retrnsmt: parseInt(f[6]!, 16), uid: Number(f[7]), inode, index: i - 1,
      });
    } catch (err) {
      throw new FormatError(`${file}: line ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
  }
  return rows;
}

export function readProcNet(pid: number | 'self', protocol: Protocol, want?: Set<number>): ProcNetRow[] {
  const file = `/proc/${pid}/net/${protocol}`;
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return []; // no IPv6 in that namespace, or the process went away
  }
  return parseProcNet(text, protocol, want, file);
}
