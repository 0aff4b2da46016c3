// Send-Q as every source reports it (linux/inet.ts netstatSendQ).
import { describe, expect, it } from 'vitest';
import { netstatSendQ } from '../../src/linux/inet.js';

describe('netstatSendQ', () => {
  it('a listener has none (its Recv-Q is the accept queue)', () => {
    expect(netstatSendQ('LISTEN', 5)).toBe(0);
  });
  it('unacknowledged bytes otherwise', () => {
    expect(netstatSendQ('ESTABLISHED', 1234)).toBe(1234);
    expect(netstatSendQ('SYN_SENT', 1)).toBe(1);
  });
  it('write_seq - snd_una caught mid-connect() (negative as a 32-bit difference, as a u32 from sock_diag or /proc) is 0', () => {
    expect(netstatSendQ('SYN_SENT', -1085772528)).toBe(0);
    expect(netstatSendQ('SYN_SENT', 0x100000000 - 1085772528)).toBe(0);
  });
});
