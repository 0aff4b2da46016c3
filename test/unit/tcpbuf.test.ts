// linux/tcpbuf.ts: which send buffer sizes the kernel gives an unlocked TCP socket by itself
// (tcp_sndbuf_expand), measured on loopback here (6.18, BBR): 30 x 131328 = 3939840 at setup.
import { describe, expect, it } from 'vitest';
import { perSegmentSizes, sndbufFromKernel, sndbufFactors } from '../../src/linux/tcpbuf.js';

const loopback = { sndMss: 65483, advmss: 65483, rcvMss: 536 };
const base = { wmem: [4096, 16384, 4194304], perSegment: perSegmentSizes(loopback), factors: sndbufFactors('bbr') };

describe('tcp_sndbuf_expand sizes', () => {
  it('the setup size, also after traffic grew cwnd past TCP_INIT_CWND', () => {
    expect(sndbufFromKernel(3939840, { ...base, cwnd: 10, grew: false })).toBe('setup');
    // A 1 KB write acknowledged, cwnd 11 now: the buffer keeps the size the setup gave it (it only grows).
    expect(sndbufFromKernel(3939840, { ...base, cwnd: 11, grew: true })).toBe('setup');
  });
  it('sizes no expansion gives are not the kernel\'s: a set call (100001 -> 200002), and the cap is its own case', () => {
    expect(sndbufFromKernel(200002, { ...base, cwnd: 10, grew: true })).toBe(false);
    expect(sndbufFromKernel(131072, { ...base, cwnd: 10, grew: false })).toBe(false);
    expect(sndbufFromKernel(4194304, { ...base, cwnd: 10, grew: true })).toBe('cap');
  });
});
