// The host facts that decide kernel defaults, read once per capture.
import { readFileSync } from 'node:fs';
import { hostname, release } from 'node:os';
import type { HostInfo } from '../model/types.js';

export const SYSCTLS = [
  'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem', 'net.core.rmem_default', 'net.core.wmem_default',
  'net.core.rmem_max', 'net.core.wmem_max', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes', 'net.core.somaxconn', 'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_congestion_control', 'net.ipv4.tcp_fastopen', 'net.ipv4.tcp_notsent_lowat',
  'net.ipv6.bindv6only', 'net.ipv4.tcp_moderate_rcvbuf', 'net.ipv4.ip_local_port_range',
];

export function readSysctls(names = SYSCTLS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    try {
      out[n] = readFileSync(`/proc/sys/${n.replaceAll('.', '/')}`, 'utf8').trim().replace(/\s+/g, ' ');
    } catch { /* not in this kernel or namespace */ }
  }
  return out;
}

export function hostInfo(): HostInfo {
  return { hostname: hostname(), kernel: release(), sysctls: readSysctls() };
}
