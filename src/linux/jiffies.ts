// Kernel time in jiffies (HZ per second) turned into what getsockopt() and
// tcp_info report, with the kernel's own rounding (kernel/time/time.c,
// net/core/sock.c sock_get_timeout()), so values read from struct sock equal
// the ones getsockopt returns for the same field. No I/O here.

/** MAX_SCHEDULE_TIMEOUT (LONG_MAX): sk_rcvtimeo/sk_sndtimeo when no timeout is set. */
export const MAX_SCHEDULE_TIMEOUT = (1n << 63n) - 1n;

/** jiffies_to_msecs(): exact when HZ divides 1000, else rounded up (64-bit kernels). */
export function jiffiesToMsecs(j: number, hz: number): number {
  return Math.floor((j * 1000 + hz - 1) / hz);
}

/** jiffies_to_usecs(), likewise. */
export function jiffiesToUsecs(j: number, hz: number): number {
  return Math.floor((j * 1_000_000 + hz - 1) / hz);
}

/** SO_RCVTIMEO/SO_SNDTIMEO as getsockopt's struct timeval, in ms the way the pidfd source reads it. */
export function timeoutMs(timeo: bigint, hz: number): number {
  if (timeo === MAX_SCHEDULE_TIMEOUT) return 0;
  const h = BigInt(hz);
  const sec = timeo / h;
  const usec = ((timeo % h) * 1_000_000n) / h;
  return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
}

/** SO_LINGER's l_linger: sk_lingertime / HZ (unsigned long arithmetic) stored in an int. */
export function lingerSeconds(lingertime: bigint, hz: number): number {
  return Number(BigInt.asIntN(32, BigInt.asUintN(64, lingertime) / BigInt(hz)));
}

/** The sysctls the BPF walk reports in jiffies and /proc/sys shows in seconds (proc_dointvec_jiffies). */
export const JIFFIES_SYSCTLS = ['tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_fin_timeout'] as const;
export type JiffiesSysctl = (typeof JIFFIES_SYSCTLS)[number];

/**
 * The kernel's HZ from sysctls read both ways in the same network namespace:
 * jiffies (from the kernel's memory) over seconds (net.ipv4.<name> from
 * /proc/sys, linux/sysctl.ts). Writes through /proc/sys store seconds * HZ, so
 * the ratio is exact; every sysctl that gives a ratio must give the same one.
 * undefined when none does (all 0, or unreadable).
 */
export function hzFromSysctls(jiffies: Record<JiffiesSysctl, number>, seconds: Partial<Record<JiffiesSysctl, string>>): number | undefined {
  let hz: number | undefined;
  for (const name of JIFFIES_SYSCTLS) {
    const text = seconds[name];
    if (text === undefined) continue;
    const secs = Number(text.trim());
    const j = jiffies[name];
    if (!Number.isInteger(secs) || secs <= 0 || j <= 0 || j % secs !== 0) continue;
    const r = j / secs;
    if (hz !== undefined && hz !== r) return undefined;
    hz = r;
  }
  return hz;
}
