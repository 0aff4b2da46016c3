// The knetstat parser and source on tables recorded from the real module
// (samples/knetstat/ours, recorded in the QEMU guest by test/kernel/run.sh),
// the same tables in upstream knetstat's format (no Inode column), and
// malformed files.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FormatError } from '../../src/errors.js';
import { KnetstatSource, optionReadings } from '../../src/sources/knetstat.js';
import { deferAcceptSeconds, parseKnetstat, type KnetstatRow } from '../../src/linux/knetstat.js';
import type { RawSocket } from '../../src/model/types.js';

const SAMPLES = resolve(import.meta.dirname, '..', '..', 'samples', 'knetstat');
const read = (...p: string[]) => readFileSync(join(SAMPLES, ...p), 'utf8');
const ready = JSON.parse(read('ours', 'ready')) as Record<string, number>;

/** fd -> inode from a recorded "fds" file ("4 socket:[10587]"). */
function fdsOf(dir: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const line of read(dir, 'fds').trim().split('\n')) {
    const [fd, link] = line.split(' ');
    m.set(Number(fd), Number(/\[(\d+)\]/.exec(link!)![1]));
  }
  return m;
}

/** A fake /proc with <pid>/net/ holding a sample directory's files. */
function procRoot(dir: string, pid: number): string {
  const root = mkdtempSync(join(tmpdir(), 'knetstat-'));
  mkdirSync(join(root, String(pid), 'net'), { recursive: true });
  for (const f of readdirSync(join(SAMPLES, dir))) cpSync(join(SAMPLES, dir, f), join(root, String(pid), 'net', f));
  return root;
}

async function collect(dir: string, pid = 4242) {
  const fds = fdsOf(dir);
  const sockets = new Map<number, RawSocket>();
  const src = new KnetstatSource(procRoot(dir, pid));
  const result = await src.collect({ target: { pid, fds }, sockets });
  return { sockets, result, fds };
}

describe('parseKnetstat: our format (recorded from the module)', () => {
  const tcp = parseKnetstat(read('ours', 'tcpstat'), 'ours/tcpstat');

  it('detects format and protocol', () => {
    expect(tcp.format).toBe('ours');
    expect(tcp.protocol).toBe('tcp');
    expect(parseKnetstat(read('ours', 'udp6stat'), '/proc/1/net/udp6stat').protocol).toBe('udp6');
  });

  it('parses the listener with its options and inode', () => {
    const l4 = tcp.rows.find((r) => r.local.port === ready.l4 && r.stat === 'LSTN')!;
    expect(l4).toMatchObject({
      protocol: 'tcp', recvQ: 0, sendQ: 0, local: { address: '127.0.0.1', port: ready.l4 },
      remote: { address: '0.0.0.0', port: 0 }, state: 'LISTEN', diag: '', full: true,
    });
    expect(l4.optionsText).toBe('SO_REUSEADDR=1,SO_REUSEPORT=1,SO_KEEPALIVE=0,SO_RCVBUF=65536,TCP_NODELAY=0,TCP_FASTOPEN=0,TCP_DEFER_ACCEPT=0');
    expect(Object.keys(l4.options)).toEqual(['SO_REUSEADDR', 'SO_REUSEPORT', 'SO_KEEPALIVE', 'SO_RCVBUF', 'TCP_NODELAY', 'TCP_FASTOPEN', 'TCP_DEFER_ACCEPT']);
    expect(l4.inode).toBeGreaterThan(0);
  });

  it('keeps units: seconds, keepalive timers', () => {
    const c4 = tcp.rows.find((r) => r.local.port === ready.c4)!;
    expect(c4.options.SO_LINGER).toEqual({ raw: '7s', value: 7, unit: 's' });
    expect(c4.options.TCP_KEEPIDLE).toEqual({ raw: '30', value: 30, unit: '' });
    expect(c4.options.TCP_KEEPCNT!.value).toBe(4);
    expect(c4.options.TCP_KEEPINTVL!.value).toBe(5);
  });

  it('reads the Diag column of the window-full pair', () => {
    const w = tcp.rows.find((r) => r.local.port === ready.w)!;
    const r = tcp.rows.find((x) => x.local.port === ready.ld && x.remote.port === ready.w)!;
    expect(w.diag).toBe('>|');
    expect(w.sendQ).toBeGreaterThan(0);
    expect(r.diag).toBe('|<');
    expect(r.recvQ).toBeGreaterThan(0);
  });

  it('TIME_WAIT rows: no options, inode 0', () => {
    const tw = tcp.rows.filter((r) => r.stat === 'TIMW');
    expect(tw.length).toBeGreaterThan(0);
    for (const row of tw) expect(row).toMatchObject({ state: 'TIME_WAIT', full: false, optionsText: '', options: {}, inode: 0, diag: '' });
  });

  it('options Java cannot set: timeouts in ms, TCP_USER_TIMEOUT, fast open, defer accept', () => {
    const l = tcp.rows.find((r) => r.options.TCP_DEFER_ACCEPT?.value === 7)!;
    expect(l).toMatchObject({ stat: 'LSTN' });
    expect(l.options.TCP_FASTOPEN!.value).toBe(16);
    const c = tcp.rows.find((r) => r.options.TCP_USER_TIMEOUT)!;
    expect(c.options.TCP_USER_TIMEOUT!.value).toBe(30000);
    expect(c.options.SO_RCVTIMEO).toEqual({ raw: '1000ms', value: 1000, unit: 'ms' });
    expect(c.options.SO_SNDTIMEO).toEqual({ raw: '500ms', value: 500, unit: 'ms' });
    expect(optionReadings(c, 'ours').SO_SNDTIMEO).toEqual({ value: 500, source: 'knetstat' });
    expect(optionReadings(l, 'ours').TCP_DEFER_ACCEPT).toEqual({ value: 7, source: 'knetstat' });
    // Upstream prints the retransmission count (3 for 7 s).
    const ul = parseKnetstat(read('upstream', 'recorded', 'tcpstat'), 'tcpstat').rows.find((r) => r.local.port === l.local.port && r.stat === 'LSTN')!;
    expect(ul.options.TCP_DEFER_ACCEPT!.value).toBe(3);
    expect(optionReadings(ul, 'upstream').TCP_DEFER_ACCEPT).toMatchObject({ value: 7 });
  });

  it('request sockets (SYNR): no options, inode 0', () => {
    const req = tcp.rows.filter((r) => r.stat === 'SYNR');
    expect(req).toHaveLength(2);
    for (const r of req) expect(r).toMatchObject({ state: 'SYN_RECV', full: false, options: {}, inode: 0 });
  });

  it('IPv6: %pI6c addresses without brackets, v4-mapped, "*" ports', () => {
    const rows = parseKnetstat(read('ours', 'tcp6stat'), 'ours/tcp6stat').rows;
    const l6 = rows.find((r) => r.local.port === ready.l6 && r.stat === 'LSTN')!;
    expect(l6.local).toEqual({ address: '::1', port: ready.l6 });
    expect(l6.remote).toEqual({ address: '::', port: 0 });
    const m6 = rows.find((r) => r.local.port === ready.m6)!;
    expect(m6.local).toEqual({ address: '::ffff:127.0.0.1', port: ready.m6 });
    expect(rows.find((r) => r.local.port === ready.l6 && r.stat === 'ESTB')!.options.SO_LINGER!.raw).toBe('3s');
  });

  it('UDP: no Stat or Diag column; state from the peer', () => {
    const u4 = parseKnetstat(read('ours', 'udpstat'), 'ours/udpstat').rows.find((r) => r.local.port === ready.u4)!;
    expect(u4).toMatchObject({ protocol: 'udp', state: 'UNCONN', diag: '', stat: undefined });
    expect(u4.optionsText).toBe('SO_REUSEADDR=1,SO_REUSEPORT=0,SO_RCVBUF=65536,SO_BROADCAST=1');
    const u6 = parseKnetstat(read('ours', 'udp6stat'), 'ours/udp6stat').rows.find((r) => r.local.port === ready.u6)!;
    expect(u6).toMatchObject({ protocol: 'udp6', state: 'ESTABLISHED', remote: { address: '::1', port: ready.u6 } });
  });

  it('every TCP/UDP socket of the JVM is one row, by inode', () => {
    const fdInodes = new Set(fdsOf('ours').values());
    const inodes = ['tcpstat', 'tcp6stat', 'udpstat', 'udp6stat']
      .flatMap((f) => parseKnetstat(read('ours', f), f).rows.map((r) => r.inode!))
      .filter((i) => fdInodes.has(i));
    expect(inodes).toHaveLength(12);
    expect(new Set(inodes).size).toBe(12);
  });
});

describe('parseKnetstat: upstream format (no Inode column)', () => {
  it('parses the same rows as ours, without inodes', () => {
    for (const f of ['tcpstat', 'tcp6stat', 'udpstat', 'udp6stat']) {
      const up = parseKnetstat(read('upstream', 'recorded', f), `upstream/${f}`);
      const ours = parseKnetstat(read('ours', f), `ours/${f}`);
      expect(up.format).toBe('upstream');
      // Same rows; options differ only where upstream prints less (see samples/knetstat/README.md).
      const strip = ({ inode, file, options, optionsText, ...r }: KnetstatRow) => r;
      expect(up.rows.map(strip)).toEqual(ours.rows.map(strip));
      const jvmPorts = new Set(Object.values(ready));
      up.rows.forEach((r, i) => {
        expect(r.inode).toBeUndefined();
        if (jvmPorts.has(r.local.port)) expect(r.optionsText).toBe(ours.rows[i]!.optionsText);
      });
    }
  });

  it('parses the README example of upstream knetstat', () => {
    const rows = parseKnetstat(read('upstream', 'readme', 'tcpstat'), 'readme/tcpstat').rows;
    expect(rows).toHaveLength(5);
    expect(rows[2]).toMatchObject({ local: { address: '192.168.1.18', port: 22 }, remote: { address: '192.168.1.6', port: 49537 }, state: 'ESTABLISHED' });
    expect(rows[2]!.options.TCP_NODELAY!.value).toBe(1);
  });

  it('accepts bracketed IPv6 endpoints too', () => {
    const text = 'Recv-Q Send-Q Local Address           Foreign Address         Options\n     0      0 [::1]:53                [::]:*                  SO_REUSEADDR=0,SO_REUSEPORT=0,SO_BROADCAST=0\n';
    expect(parseKnetstat(text, 'x/udp6stat').rows[0]!.local).toEqual({ address: '::1', port: 53 });
  });
});

describe('malformed tables: FormatError naming file and line', () => {
  const cases: [string, number, RegExp][] = [
    ['not-knetstat.tcpstat', 1, /not a knetstat table/],
    ['bad-endpoint.tcpstat', 3, /bad endpoint '127\.0\.0\.1'/],
    ['bad-state.tcpstat', 2, /unknown state 'XXXX'/],
    ['bad-option.tcpstat', 4, /bad option 'SO_LINGER=seven'/],
    ['missing-inode.tcp6stat', 2, /missing Inode column/],
    ['truncated.udpstat', 3, /expected at least 4 fields, found 3/],
    ['extra-field.tcpstat', 2, /unexpected field 'extra'/],
    ['bad-port.tcpstat', 2, /bad port/],
    ['bad-queue.tcpstat', 2, /Recv-Q and Send-Q must be numbers/],
    ['udp-header-in.tcpstat', 1, /TCP file with a UDP header/],
  ];
  it.each(cases)('%s: line %i', (name, line, why) => {
    const file = join(SAMPLES, 'malformed', name);
    let err: unknown;
    try {
      parseKnetstat(readFileSync(file, 'utf8'), file).rows;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`${file}: line ${line}: `)).toBe(true);
    expect(msg).toMatch(why);
  });
});

describe('values in getsockopt units', () => {
  it('TCP_DEFER_ACCEPT retransmissions to seconds like tcp.c', () => {
    expect([0, 1, 2, 3, 5, 10].map(deferAcceptSeconds)).toEqual([0, 1, 3, 7, 31, 487]);
  });

  it('doubles buffers, fills exact defaults only', () => {
    const rows = parseKnetstat(read('ours', 'tcpstat'), 'ours/tcpstat').rows;
    const l4 = rows.find((r) => r.local.port === ready.l4 && r.stat === 'LSTN')!;
    const o = optionReadings(l4, 'ours');
    expect(o.SO_RCVBUF).toMatchObject({ value: 131072, source: 'knetstat' });
    expect(o.SO_SNDBUF).toBeUndefined(); // not locked: value unknown
    expect(o.SO_LINGER).toMatchObject({ value: { enabled: false, seconds: 0 }, inferred: true });
    expect(o.SO_RCVTIMEO).toMatchObject({ value: 0, inferred: true });
    expect(o.TCP_USER_TIMEOUT).toMatchObject({ value: 0, inferred: true });
    expect(o.TCP_KEEPIDLE).toBeUndefined(); // the sysctl default: not printed, not guessed
    const c4 = rows.find((r) => r.local.port === ready.c4)!;
    expect(optionReadings(c4, 'ours').SO_LINGER!.value).toEqual({ enabled: true, seconds: 7 });
    // Upstream never prints TCP_USER_TIMEOUT: nothing implied.
    expect(optionReadings(c4, 'upstream').TCP_USER_TIMEOUT).toBeUndefined();
    // Rows that are not full sockets give nothing.
    expect(optionReadings(rows.find((r) => r.stat === 'TIMW')!, 'ours')).toEqual({});
  });
});

describe('KnetstatSource', () => {
  it('is unavailable without the module, with the remedy', () => {
    const src = new KnetstatSource(mkdtempSync(join(tmpdir(), 'knetstat-empty-')));
    const a = src.available({ pid: 1, fds: new Map() });
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.reason).toMatch(/module is not loaded.*native\/README\.md/);
  });

  it('fills what another source left unread into a copy of its options, which sockets of equal options share', async () => {
    const dir = 'ours';
    const fds = fdsOf(dir);
    // Two TCP listeners as another source gave them: one shared, read-only options object, SO_RCVBUF unread.
    const { sockets: known } = await collect(dir);
    const listeners = [...known.values()].filter((s) => s.state === 'LISTEN' && s.protocol === 'tcp').slice(0, 2);
    expect(listeners).toHaveLength(2);
    const shared = Object.freeze({ SO_RCVBUF: { value: null, source: 'pidfd' as const, error: 'EBADF' } });
    const sockets = new Map<number, RawSocket>();
    for (const l of listeners) sockets.set(l.inode, { ...l, options: shared, sources: ['pidfd'] });
    await new KnetstatSource(procRoot(dir, 4242)).collect({ target: { pid: 4242, fds }, sockets });
    for (const l of listeners) {
      const s = sockets.get(l.inode)!;
      expect(s.options).not.toBe(shared);
      expect(s.options.SO_RCVBUF).toEqual(l.options.SO_RCVBUF);
    }
    expect(shared.SO_RCVBUF.value).toBeNull();
  });

  it('our format: joins rows by the Inode column', async () => {
    const { sockets, result, fds } = await collect('ours');
    expect(result.status).toEqual({ name: 'knetstat', used: true });
    expect(result.warnings).toBeUndefined();
    const inet = [...sockets.values()];
    expect(inet).toHaveLength(12);
    const l4 = inet.find((s) => s.local.port === ready.l4 && s.state === 'LISTEN')!;
    expect(fds.get(l4.fd)).toBe(l4.inode);
    expect(l4.options.SO_RCVBUF).toMatchObject({ value: 131072, source: 'knetstat' });
    expect(l4.options.SO_REUSEPORT!.value).toBe(1);
    expect(l4.userLocks).toEqual({ rcvbuf: true, sndbuf: false, source: 'knetstat' });
    const w = inet.find((s) => s.local.port === ready.w)!;
    expect(w.diag).toBe('>|');
    const u6 = inet.find((s) => s.protocol === 'udp6')!;
    expect(u6.options.SO_SNDBUF!.value).toBe(65536);
    expect(u6.options.SO_BROADCAST!.value).toBe(0);
    expect(u6.sources).toEqual(['knetstat']);
  });

  it('does not overwrite what a richer source already read', async () => {
    const fds = fdsOf('ours');
    const sockets = new Map<number, RawSocket>();
    const l4Inode = parseKnetstat(read('ours', 'tcpstat'), 'tcpstat').rows.find((r) => r.local.port === ready.l4 && r.stat === 'LSTN')!.inode!;
    sockets.set(l4Inode, {
      protocol: 'tcp', fd: 4, inode: l4Inode, local: { address: '127.0.0.1', port: ready.l4 }, remote: { address: '0.0.0.0', port: 0 },
      state: 'LISTEN', recvQ: 0, sendQ: 0, diag: '', sources: ['pidfd'],
      options: { SO_RCVBUF: { value: 131072, source: 'pidfd' }, SO_LINGER: { value: null, source: 'pidfd', error: 'EPERM' } },
    });
    await new KnetstatSource(procRoot('ours', 77)).collect({ target: { pid: 77, fds }, sockets });
    const s = sockets.get(l4Inode)!;
    expect(s.options.SO_RCVBUF!.source).toBe('pidfd');
    expect(s.options.SO_LINGER!.source).toBe('knetstat');
    expect(s.sources).toEqual(['pidfd', 'knetstat']);
  });

  it('upstream format: joins through /proc/<pid>/net/tcp and reads the same values', async () => {
    const ours = await collect('ours');
    const up = await collect('upstream/recorded');
    expect(up.result.warnings).toBeUndefined();
    expect([...up.sockets.keys()].sort()).toEqual([...ours.sockets.keys()].sort());
    for (const [inode, s] of ours.sockets) {
      const u = up.sockets.get(inode)!;
      const { TCP_USER_TIMEOUT, ...rest } = s.options; // only ours prints it
      expect(u.options).toEqual(rest);
      expect(u.diag).toBe(s.diag);
      expect(u.userLocks).toEqual(s.userLocks);
    }
  });

  it('upstream format: ambiguous rows are warned about, never guessed', async () => {
    const { sockets, result } = await collect('upstream/reuseport');
    // Two listeners on :8080 print identical options: either row says the same.
    for (const inode of [5001, 5002]) {
      const s = sockets.get(inode)!;
      expect(s.options.TCP_DEFER_ACCEPT).toMatchObject({ value: 7 });
      expect(s.options.SO_REUSEPORT!.note).toMatch(/one of 2 rows .* identical options/);
    }
    // Two listeners on :9090 differ: no options for either, one warning each.
    for (const inode of [5003, 5004]) {
      expect(sockets.get(inode)).toBeUndefined();
      expect(result.warnings!.some((w) => w.includes(`inode ${inode} cannot be told apart`))).toBe(true);
    }
    const c = sockets.get(5005)!;
    expect(c.diag).toBe('>#');
    expect(c.options.SO_RCVTIMEO).toEqual({ value: 1500, source: 'knetstat' });
    expect(c.options.SO_SNDTIMEO).toEqual({ value: 250, source: 'knetstat' });
    expect(c.options.SO_LINGER!.value).toEqual({ enabled: true, seconds: 0 });
    expect(result.warnings!.some((w) => /no tcpstat row for inode 5006/.test(w))).toBe(true);
    expect(result.vanished).toBeUndefined();
  });
});
