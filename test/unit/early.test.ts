// src/cli/early.ts: which command lines start the BPF object's load before the
// command line is built. A yes must be a capture through bpf; everything
// unusual is a no (the capture then loads as it always did).
import { describe, expect, it } from 'vitest';
import { capturesThroughBpf } from '../../src/cli/early.js';

const yes = [
  ['1234'], ['1234', '-f', 'json'], ['1234', '-f', 'json', '-q'], ['1234', '--format=json', '--quiet'],
  ['1234', '-s', 'bpf'], ['1234', '--source', 'auto'], ['1234', '--source=bpf'], ['1234', '-o', 'r.json', '--any'],
  ['1234', '--observe', '10s', '--probe-jdk'], ['check', '1234', '-p', 'policy.json', '-f', 'junit'],
  ['check', '1234', '-e', 'remotePort=5432:SO_KEEPALIVE=1', '-e', '--help'], ['snapshot', '1234', '-o', 's.json', '--redact'],
];
const no = [
  [], ['--help'], ['-V'], ['--version'], ['1234', '--help'], ['1234', '-h'], ['check', '1234', '--help'],
  ['1234', '-s', 'pidfd'], ['1234', '--source=procfs'], ['1234', '--source'], ['1234', '-s'], ['1234', '-qs', 'pidfd'],
  ['-f', 'json', '1234'], ['0'], ['01234'], ['-1'], ['12a'], ['render', '1234'], ['list'], ['check', '--all-jvms', '-p', 'p.json'],
  ['check', '--snapshot', 's.json'], ['check', '1234', '--snapshot', 's.json'], ['1234', '--all'], ['1234', '5678'],
  ['1234', '--quiet=yes'], ['1234', '--bogus'], ['snapshot', 'x'], ['help', '1234'],
];

describe('capturesThroughBpf', () => {
  it.each(yes)('yes: %j', (...a) => expect(capturesThroughBpf(a)).toBe(true));
  it.each(no)('no: %j', (...a) => expect(capturesThroughBpf(a)).toBe(false));
});
