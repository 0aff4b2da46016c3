// --format junit on the plain report, against a real JVM whose command line
// carries hostile text (<, &, quotes, a control character, a terminal escape,
// bytes that are not UTF-8): the XML must validate against junit-10.xsd, be
// read by python3-junitparser with the right counts, and keep the text escaped.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { startJvm, type Jvm } from './helpers/jvm.js';
import { runCli } from './helpers/cli.js';
import { junitparser, xmllint } from './helpers/junit.js';
import { xmlSafe } from '../src/render/junit.js';

// printf expands the escapes: 0x01, ESC[31m ... ESC[0m, and 0xff 0xfe (invalid UTF-8).
const HOSTILE_PRINTF = String.raw`x<&"'\001\033[31mRED\033[0m\377\376]]>`;
/** What the tool reads (/proc/<pid>/cmdline as latin1) after sanitising: \x01 -> ?, CSI stripped. */
const HOSTILE_SEEN = `x<&"'?REDÿþ]]>`;
const PROP = 'java.net.knetstatTest';

let jvm: Jvm;
let dir: string;
const S = (id: string) => jvm.ready.sockets[id];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'knetstat-junit-'));
  // bash puts the hostile -D right after `java`, where the JVM takes it as a system property.
  jvm = await startJvm('SocketLab', ['l:server:backlog=100', 'c:client:keepAlive', 'u:udp'], {
    wrapper: ['bash', '-c', `exec "$1" "-D${PROP}=$(printf "$HOSTILE")" "\${@:2}"`, 'bash'],
    env: { ...process.env, HOSTILE: HOSTILE_PRINTF },
  });
});
afterAll(async () => { await jvm?.stop(); });

describe('xmlSafe and XMLBuilder', () => {
  it('escapes markup and replaces what XML 1.0 forbids, so the text parses back', () => {
    const hostile = `a<b>&"c'\u0001\u0000\u001b[31mred\u001b[0m\ud800\uffff]]>\ttab`;
    const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' })
      .build({ t: { '@_v': xmlSafe(hostile), '#text': xmlSafe(hostile) } }) as string;
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u001b]/);
    expect(xml).toContain('&lt;b&gt;&amp;&quot;');
    const back = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseAttributeValue: false, parseTagValue: false, trimValues: false }).parse(xml);
    expect(back.t['#text']).toBe(`a<b>&"c'??red\ufffd\ufffd]]>\ttab`);
    expect(back.t['@_v']).toBe(`a<b>&"c'??red\ufffd\ufffd]]>\ttab`);
  });

  it('writes a property whose value is "true" as value="true" (XMLBuilder would write a bare attribute)', async () => {
    const { renderJunit } = await import('../src/render/junit.js');
    const xml = [...renderJunit({
      process: { pid: 1, comm: 'java', cmdline: ['java'], uid: 0, isJvm: false }, host: { hostname: 'h', kernel: 'k', sysctls: {} },
      sources: [], capturedAt: 't', tool: { name: 'knetstat-java', version: '0' }, warnings: [], sockets: [], vanished: [],
      partial: false, formatVersion: 1, redacted: true, defaults: { jdk: 'unknown' },
    } as any)].join('');
    expect(xml).toContain('<property name="redacted" value="true"/>');
  });
});

describe('knetstat-java <pid> --format junit', () => {
  let file: string;
  let parsed: ReturnType<typeof junitparser>;
  beforeAll(() => {
    file = join(dir, 'report.xml');
    const r = runCli([String(jvm.pid), '--format', 'junit', '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    parsed = junitparser(file);
  });

  it('validates against junit-10.xsd', () => {
    const v = xmllint(file);
    expect(v.stderr).toContain('validates');
    expect(v.code).toBe(0);
  });

  it('has one passing testcase per socket, read back by junitparser', () => {
    const n = Object.keys(jvm.ready.sockets).length; // l, l.client, l.accepted, c, c.peer, c.peerAccepted, u
    expect(n).toBe(7);
    expect(parsed.suites.length).toBe(1);
    const suite = parsed.suites[0]!;
    expect(suite.tests).toBe(n);
    expect(suite.failures).toBe(0);
    expect(suite.errors).toBe(0);
    expect(suite.skipped).toBe(0);
    expect(suite.cases.length).toBe(n);
    for (const c of suite.cases) expect(c.results).toEqual([]);
  });

  it('names each testcase after its socket and puts options and Java calls in system-out', () => {
    const suite = parsed.suites[0]!;
    const l = suite.cases.find((c) => c.name.includes(`:${S('l').localPort} LISTEN fd`))!;
    expect(l.name).toMatch(/^tcp6? (127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+ LISTEN fd \d+$/);
    expect(l.systemOut).toContain('backlog=100');
    expect(l.systemOut).toContain('new ServerSocket(port, 100) / bind(addr, 100)  (application)');
    const c = suite.cases.find((x) => x.name.includes(`:${S('c').localPort} -> `))!;
    expect(c.systemOut).toContain('SO_KEEPALIVE=1');
    expect(c.systemOut).toContain('java.net.Socket.setKeepAlive(true)  (application)');
    const u = suite.cases.find((x) => x.name.startsWith('udp'))!;
    expect(u.name).toMatch(new RegExp(`:${S('u').localPort} UNCONN fd \\d+$`));
  });

  it('carries host, kernel, pid, JVM and source as properties', () => {
    const p = parsed.suites[0]!.properties;
    expect(p.pid).toBe(String(jvm.pid));
    expect(p.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(p.host).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    expect(p.jvm).toMatch(/17\.\d+\.\d+/);
    expect(p.source).toBe('bpf'); // auto: the bpf source reads timers and shutdown state itself
  });

  it('keeps hostile command-line text escaped and valid', () => {
    const raw = readFileSync(file, 'latin1');
    expect(raw).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(readFileSync(file, 'utf8')).toContain(`-D${PROP}=x&lt;&amp;&quot;&apos;?REDÿþ]]&gt;`);
    expect(parsed.suites[0]!.properties.cmdline).toContain(`-D${PROP}=${HOSTILE_SEEN}`);
  });
});

describe('hostile text in the other formats', () => {
  it('text: terminal escapes and control characters shown escaped (src/render/terminal.ts)', () => {
    const r = runCli([String(jvm.pid)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('\u0001');
    expect(r.stdout).toContain(`-D${PROP}=x<&"'\\x01\\e[31mRED\\e[0mÿþ]]>`);
  });

  it('json: the raw text, JSON-escaped and parseable', () => {
    const r = runCli([String(jvm.pid), '-f', 'json']);
    const j = JSON.parse(r.stdout);
    expect(j.process.jvm.properties[PROP]).toBe(`x<&"'\u0001\u001b[31mRED\u001b[0m\u00ff\u00fe]]>`);
  });
});
