// Every renderer on the sample snapshots (test/golden pins their bytes; this
// checks what they must say), the renderer table, and the knetstat tables as a
// pure function of the capture: a snapshot from a host whose sysctls differ
// from this one's renders with the snapshot's.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/java/analyze.js';
import { renderCapture } from '../../src/render/capture.js';
import { formats, renderer, streams } from '../../src/render/index.js';
import { knetstatRow, renderKnetstatTables } from '../../src/render/knetstat.js';
import { parseKnetstat } from '../../src/linux/knetstat.js';
import { parseSnapshot } from '../../src/snapshot/file.js';
import type { Capture, RawSocket } from '../../src/model/types.js';
import { ROOT } from '../helpers/root.js';

const DIR = join(ROOT, 'samples', 'snapshots');
const SAMPLES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const load = (f: string): Capture => parseSnapshot(readFileSync(join(DIR, f)), f).capture;
const text = async (format: string, cap: Capture) => [...renderCapture(await renderer(format), cap)].join('');

describe('the renderer table', () => {
  it('has every format, streaming JSON only (as the table says before a renderer is loaded, and as loaded)', async () => {
    expect(formats()).toEqual(['text', 'json', 'junit', 'knetstat']);
    expect(formats().filter((f) => streams(f))).toEqual(['json']);
    const loaded = await Promise.all(formats().map((f) => renderer(f)));
    expect(formats().filter((_, i) => loaded[i]!.streams)).toEqual(['json']);
    await expect(renderer('yaml')).rejects.toThrow(/unknown format 'yaml' \(choose one of: text, json, junit, knetstat\)/);
  });
});

describe.each(SAMPLES)('%s', (file) => {
  const cap = load(file);
  const report = analyze(cap);

  it('text: the header, a block per socket, the Java calls', async () => {
    const t = await text('text', cap);
    expect(t.startsWith(`knetstat-java ${cap.tool.version}: pid ${cap.process.pid} (`)).toBe(true);
    expect(t.match(/^(tcp|udp)6? +fd \d+ /gm)?.length).toBe(cap.sockets.length);
    for (const s of report.sockets) for (const c of s.java) expect(t).toContain(c.call);
  });

  it('json: the report, socket by socket, as the JSON contract says', async () => {
    const j = JSON.parse(await text('json', cap));
    expect(j.pid).toBe(cap.process.pid);
    expect(j.sockets.map((s: { fd: number }) => s.fd)).toEqual(cap.sockets.map((s) => s.fd));
    expect(j.sockets.map((s: { java: unknown }) => s.java)).toEqual(JSON.parse(JSON.stringify(report.sockets.map((s) => s.java))));
  });

  it('junit: one passing testcase per socket', async () => {
    const x = await text('junit', cap);
    expect(x.match(/<testcase /g)?.length).toBe(cap.sockets.length);
    expect(x).toContain(`<testsuites name="knetstat-java" tests="${cap.sockets.length}" failures="0" errors="0">`);
  });

  it('knetstat: the module\'s four tables, every socket in its own, readable by the knetstat parser', async () => {
    const t = await text('knetstat', cap);
    const tables = t.trimEnd().split(/\n\n/).map((part) => part.split('\n'));
    expect(tables.map((l) => l[0])).toEqual(['== tcpstat ==', '== tcp6stat ==', '== udpstat ==', '== udp6stat ==']);
    for (const [title, header, ...body] of tables) {
      const name = /== (\w+) ==/.exec(title!)![1]!;
      expect(body.length, name).toBe(cap.sockets.filter((s) => `${s.protocol}stat` === name).length);
      // Redacted addresses (addr-1) are no addresses a parser could read.
      if (!cap.redacted) expect(parseKnetstat(`${[header, ...body].join('\n')}\n`, name).rows.length).toBe(body.length);
    }
  });
});

describe('bpf-locks.json: what only the bpf source knows, rendered offline', () => {
  const cap = load('bpf-locks.json');
  const byPort = (local: number, remote: number) => cap.sockets.find((s) => s.local.port === local && s.remote.port === remote)!;
  const listener = cap.sockets.find((s) => s.state === 'LISTEN' && s.userLocks?.rcvbuf)!;
  const accepted = cap.sockets.find((s) => s.state === 'ESTABLISHED' && s.local.port === listener.local.port)!;
  const client = cap.sockets.find((s) => s.state === 'ESTABLISHED' && s.userLocks?.sndbuf)!;

  it('is a bpf capture with the kernel\'s flags', () => {
    expect(cap.sources).toEqual([{ name: 'bpf', used: true }]);
    // setKeepAlive + TCP_KEEPIDLE 7200 (the sysctl's value) on the accepted socket: stored, so explicit.
    expect(accepted.options.TCP_KEEPIDLE).toMatchObject({ value: 7200, explicit: true });
    expect(byPort(client.remote.port, client.local.port).options.TCP_KEEPIDLE).toMatchObject({ value: 7200, explicit: false });
    expect(listener.bindLocks).toEqual({ addr: true, port: false, source: 'bpf' });
  });

  it('knetstat: a keepalive time stored on the socket is printed even at the sysctl\'s value, as the module does; one not stored is not', async () => {
    const t = await text('knetstat', cap);
    const row = (s: RawSocket) => knetstatRow(s, { sysctls: cap.host.sysctls, kernelDefaults: cap.host.kernelDefaults });
    expect(row(accepted)).toContain('TCP_KEEPIDLE=7200');
    expect(row(client)).toContain('TCP_KEEPIDLE=7200');
    expect(row(byPort(client.remote.port, client.local.port))).not.toContain('TCP_KEEPIDLE');
    // Without the flag (another source), 7200 = the captured sysctl: not printed.
    const unflagged: RawSocket = { ...accepted, options: { ...accepted.options, TCP_KEEPIDLE: { value: 7200, source: 'pidfd' } } };
    expect(row(unflagged)).not.toContain('TCP_KEEPIDLE');
    // Buffers only when locked, half the kernel value.
    expect(row(listener)).toContain('SO_RCVBUF=65536');
    expect(row(client)).toContain('SO_SNDBUF=8192');
    expect(t.match(/SO_SNDBUF=/g)?.length).toBe(1);
  });

  it('text and json: a buffer locked at the default size is the application\'s, for certain', async () => {
    const report = analyze(cap);
    const c = report.sockets.find((s) => s.inode === client.inode)!;
    expect(client.options.SO_SNDBUF!.value).toBe(16384); // what a fresh socket has too: getsockopt alone could not tell
    expect(c.verdicts.SO_SNDBUF).toMatchObject({ origin: 'application', confidence: 'certain', note: expect.stringMatching(/^locked by a set call \(sk_userlocks, bpf\), at exactly the default size/) });
    expect(c.java.map((j) => j.call)).toContain('setOption(StandardSocketOptions.SO_SNDBUF, 8192)'); // no O_NONBLOCK in the snapshot: an asynchronous channel ties
    expect(await text('text', cap)).toMatch(/^ {2}source: bpf$/m);
    const j = JSON.parse(await text('json', cap));
    expect(j.sockets.find((s: { inode: number }) => s.inode === listener.inode).bindLocks).toEqual({ addr: true, port: false, source: 'bpf' });
  });
});

describe('knetstat tables', () => {
  it('use the captured host\'s sysctls, never this host\'s', async () => {
    const cap = load('clients.json');
    const host = Number(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim());
    const captured = Number(cap.host.sysctls['net.ipv4.tcp_keepalive_time']);
    const idle = cap.sockets.map((s) => s.options.TCP_KEEPIDLE?.value).find((v) => typeof v === 'number');
    expect(idle).toBe(captured); // the sample's sockets keep the default: not printed
    expect(await text('knetstat', cap)).not.toContain('TCP_KEEPIDLE=');
    // The same capture from a host whose default is another: every socket's 7200 is now a set value.
    const other = String(host + captured + 1);
    const moved: Capture = { ...cap, host: { ...cap.host, sysctls: { ...cap.host.sysctls, 'net.ipv4.tcp_keepalive_time': other } } };
    const t = await text('knetstat', moved);
    expect(t.match(/TCP_KEEPIDLE=\d+/g)?.length).toBe(cap.sockets.filter((s) => s.protocol.startsWith('tcp')).length);
    expect(t).toContain(`TCP_KEEPIDLE=${captured}`);
  });

  it('rows without an owner (TIME_WAIT) print no options; Diag by the module\'s rule', async () => {
    const tw: RawSocket = {
      protocol: 'tcp', fd: -1, inode: 0, local: { address: '127.0.0.1', port: 5000 }, remote: { address: '127.0.0.1', port: 40000 },
      state: 'TIME_WAIT', recvQ: 0, sendQ: 0, options: {}, diag: '', sources: ['procfs'],
    };
    expect(knetstatRow(tw)).toBe('     0      0 127.0.0.1:5000          127.0.0.1:40000         TIMW');
    expect(knetstatRow(tw, { ownerColumn: true }, [])).toBe('     0      0 127.0.0.1:5000          127.0.0.1:40000         TIMW      -');
    // An older capture's side-by-side indicators print as the module's one.
    const est = { ...tw, inode: 7, state: 'ESTABLISHED', diag: '>||<', options: { TCP_NODELAY: { value: 1, source: 'pidfd' } } } as unknown as RawSocket;
    expect(knetstatRow(est)).toBe('     0      0 127.0.0.1:5000          127.0.0.1:40000         ESTB >|<  TCP_NODELAY=1');
    expect(knetstatRow({ ...est, state: 'CLOSE_WAIT', diag: '|<' })).toBe('     0      0 127.0.0.1:5000          127.0.0.1:40000         CLSW      TCP_NODELAY=1');
    expect(renderKnetstatTables([{ socket: est }])).toContain('== udp6stat ==\nRecv-Q Send-Q Local Address           Foreign Address         Options\n');
  });
});
