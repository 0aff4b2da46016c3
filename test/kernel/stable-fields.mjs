// The fields of a bpf walk's socket records that two loads of the same object
// must read alike: what the program reads through CO-RE (not the clock, not the
// counters). Shared by test/bpf-layout.test.ts (this kernel) and
// guest-checks.mjs's bpf-kernel-loader check (the QEMU kernels), which runs as
// plain JavaScript in the guest.
export const STABLE_FIELDS = Object.freeze(['inode', 'fd', 'family', 'protocol', 'state', 'rcvbuf', 'sndbuf', 'userlocks', 'keepopen', 'linger',
  'lingertime', 'reuse', 'reuseport', 'v6only', 'nonagle', 'priority', 'tos', 'mark', 'keepalive_time', 'user_mss', 'mss_clamp', 'ca_name',
  'file_flags', 'max_ack_backlog']);
