// /proc/<pid>/net/{tcp,tcp6,udp,udp6}: the sockets of the target's network
// namespace, as the kernel's seq_file prints them (net/ipv4/tcp_ipv4.c
// get_tcp4_sock, udp.c udp4_format_sock). Only rows whose inode the caller
// wants are decoded.
import { readFileSync } from 'node:fs';
import { FormatError, TargetError, fsCode } from '../errors.js';
import { formatIPv4, formatIPv6 } from '../model/addr.js';
import type { Endpoint, Protocol } from '../model/types.js';
import { stateName } from './inet.js';

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
}

/** The four tables, in the order the kernel module and the host views print them. */
export const PROTOCOLS: Protocol[] = ['tcp', 'tcp6', 'udp', 'udp6'];

/** A hex address as /proc/net/tcp prints it: 32-bit words in host byte order (little-endian here), then the port. */
export function parseProcAddress(hex: string): Endpoint {
  const [a, p] = hex.split(':');
  if (!a || !p || (a.length !== 8 && a.length !== 32)) throw new FormatError(`bad address '${hex}'`);
  const bytes = new Uint8Array(a.length / 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length / 8; i++) view.setUint32(i * 4, parseInt(a.slice(i * 8, i * 8 + 8), 16), true);
  const port = parseInt(p, 16);
  if (!Number.isFinite(port)) throw new FormatError(`bad port in '${hex}'`);
  return { address: a.length === 8 ? formatIPv4(bytes) : formatIPv6(bytes), port };
}

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
        retrnsmt: parseInt(f[6]!, 16), uid: Number(f[7]), inode,
      });
    } catch (err) {
      throw new FormatError(`${file}: line ${i + 1}: ${(err as Error).message}`, { cause: err });
    }
  }
  return rows;
}

/** The inodes of a table's rows, in the table's order (only the tenth field is read). */
export function procNetInodes(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/, 10);
    if (f.length === 10) out.push(Number(f[9]));
  }
  return out;
}

/**
 * The text of /proc/<pid>/net/<name> (under procRoot, which tests point at
 * recorded samples); undefined when it does not exist: no IPv6 in that
 * namespace, the table's module not loaded, or the process gone. Any other
 * failure (EACCES under hidepid, say) is the caller's to report.
 */
export function readProcNetText(pid: number | 'self', name: string, procRoot = '/proc'): string | undefined {
  const file = `${procRoot}/${pid}/net/${name}`;
  try {
    return readFileSync(file, 'latin1');
  } catch (err) {
    const code = fsCode(err);
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw new TargetError(`cannot read ${file}: ${code ?? (err as Error).message}`, { errno: code, cause: err });
  }
}

/** The rows of one table of pid's namespace ([] when the table does not exist). */
export function readProcNet(pid: number | 'self', protocol: Protocol, want?: Set<number>): ProcNetRow[] {
  const text = readProcNetText(pid, protocol);
  return text === undefined ? [] : parseProcNet(text, protocol, want, `/proc/${pid}/net/${protocol}`);
}
