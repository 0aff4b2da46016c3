// The BPF object and its TypeScript side cannot drift: every record field the
// decoder reads sits where the built object's own BTF says (bpftool), every
// field of the C structs is known to the decoder, the header's constants are
// the decoder's, and the inet_flags bit numbers the program hard-codes are the
// running kernel's. Also: no fd left open by the loader on any path (root).
// The decoder and the jiffies arithmetic alone: test/unit/bpfrecord.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/jvm.js';
import { END, HDR, KIND, OWNER, REC_VERSION, SOCK, type FieldType, type StructLayout } from '../src/linux/bpfrecord.js';
import { bpfObjectPath, taskFileBuildInUse, walkHost, walkProcess } from '../src/linux/bpfwalk.js';

const BPF_OBJECT_FILE = bpfObjectPath();
import { BpfObject } from '../src/linux/libbpf.js';
import { SysError } from '../src/errors.js';

interface BtfType { kind: string; name: string; rest: string; members: { name: string; type: number; bits: number; bitfield: number }[] }

/** `bpftool btf dump ... format raw`, parsed: id -> type with members. */
function btf(file: string): Map<number, BtfType> {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const types = new Map<number, BtfType>();
  let cur: BtfType | undefined;
  for (const line of out.split('\n')) {
    let m = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (m) { cur = { kind: m[2]!, name: m[3]!, rest: m[4]!, members: [] }; types.set(Number(m[1]), cur); continue; }
    m = /^\s+'([^']*)' type_id=(\d+) bits_offset=(\d+)(?: bitfield_size=(\d+))?/.exec(line);
    if (m && cur) cur.members.push({ name: m[1]!, type: Number(m[2]), bits: Number(m[3]), bitfield: Number(m[4] ?? 0) });
  }
  return types;
}

/** A member's type as the decoder's FieldType ('struct' for nested records). */
function fieldType(types: Map<number, BtfType>, id: number): string {
  let t = types.get(id)!;
  while (['TYPEDEF', 'VOLATILE', 'CONST'].includes(t.kind)) t = types.get(Number(/type_id=(\d+)/.exec(t.rest)![1]))!;
  if (t.kind === 'INT') {
    const size = Number(/size=(\d+)/.exec(t.rest)![1]);
    return `${/SIGNED/.test(t.rest) ? 'i' : 'u'}${size * 8}`;
  }
  if (t.kind === 'ARRAY') {
    const n = Number(/nr_elems=(\d+)/.exec(t.rest)![1]);
    const el = fieldType(types, Number(/type_id=(\d+)/.exec(t.rest)![1]));
    return `bytes${n * (Number(el.replace(/\D/g, '')) / 8)}`;
  }
  return t.kind.toLowerCase();
}

const types = btf(BPF_OBJECT_FILE);
const PAD = /^(pad\d*|bits_pad|has_pad)$/;

describe('record layout: the decoder against the object\'s BTF', () => {
  it.each([HDR, SOCK, OWNER, END] as StructLayout[])('struct $name', (L) => {
    const t = [...types.values()].find((x) => x.kind === 'STRUCT' && x.name === L.name);
    expect(t, `struct ${L.name} in ${BPF_OBJECT_FILE}`).toBeTruthy();
    expect(Number(/size=(\d+)/.exec(t!.rest)![1])).toBe(L.size);
    const seen = new Set<string>();
    for (const m of t!.members) {
      if (PAD.test(m.name) || (m.name === 'hdr' && L !== HDR)) continue;
      seen.add(m.name);
      if (m.bitfield) {
        expect(L.bits[m.name], `bit ${m.name} known to the decoder`).toBeDefined();
        expect(m.bitfield).toBe(1);
        const [off, bit] = L.bits[m.name]!;
        expect(off * 8 + bit, `${L.name}.${m.name}`).toBe(m.bits);
      } else {
        expect(L.fields[m.name], `field ${m.name} known to the decoder`).toBeDefined();
        const [off, type] = L.fields[m.name]! as readonly [number, FieldType];
        expect([off * 8, type], `${L.name}.${m.name}`).toEqual([m.bits, fieldType(types, m.type)]);
      }
    }
    expect([...seen].sort()).toEqual([...Object.keys(L.fields), ...Object.keys(L.bits)].sort());
  });

  it('the header\'s constants are the decoder\'s', () => {
    const h = readFileSync(join(ROOT, 'bpf', 'knetstat_record.h'), 'utf8');
    const defs = Object.fromEntries([...h.matchAll(/^#define KNETSTAT_(\w+)\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(defs.REC_VERSION).toBe(REC_VERSION);
    expect(Object.fromEntries(Object.entries(defs).filter(([k]) => k.startsWith('KIND_')).map(([k, v]) => [k.slice(5), v]))).toEqual(KIND);
  });

  it('.rodata holds target_tgid alone (the loader writes its 4 bytes)', () => {
    const out = execFileSync('bpftool', ['btf', 'dump', 'file', BPF_OBJECT_FILE, 'format', 'raw'], { encoding: 'utf8' });
    expect(out).toMatch(/DATASEC '\.rodata' size=\d+ vlen=1\n\ttype_id=\d+ offset=0 size=4 \(VAR 'target_tgid'\)/);
  });

  it('the inet_flags bits the program hard-codes are the running kernel\'s', () => {
    const src = readFileSync(join(ROOT, 'bpf', 'knetstat.bpf.c'), 'utf8');
    const ours = Object.fromEntries([...src.matchAll(/^#define (INET_FLAGS_\w+)\s+(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(Object.keys(ours).length).toBe(4);
    const r = spawnSync('bash', ['-c', "bpftool btf dump file /sys/kernel/btf/vmlinux format raw | grep -E \"'INET_FLAGS_MC6?_(LOOP|ALL)' val=\""], { encoding: 'utf8' });
    const kernel = Object.fromEntries([...r.stdout.matchAll(/'(INET_FLAGS_\w+)' val=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    if (Object.keys(kernel).length === 0) return; // a kernel before inet_flags (6.1): the bitfields are read instead
    expect(kernel).toEqual(ours);
  });
});

describe('a walk of a process that is gone', () => {
  it('is empty and complete (its end record), so that capture names the exit rather than an error', () => {
    let pid = 4_000_000; // above any pid_max: never a process
    while (readdirSync('/proc').includes(String(pid))) pid++;
    const w = walkProcess(pid);
    expect(w.socks).toEqual([]);
    expect(w.end).toBeDefined();
  });
});

describe('the loader leaves no fd open', () => {
  const fds = () => readdirSync('/proc/self/fd').length;

  it('after walks, and after every way a load can fail', () => {
    walkProcess(process.pid); // first use binds libbpf and libc: not a leak
    const taskFile = taskFileBuildInUse()!;
    const before = fds();
    for (let i = 0; i < 15; i++) walkProcess(process.pid);
    for (let i = 0; i < 3; i++) walkHost();
    for (let i = 0; i < 5; i++) expect(() => BpfObject.open('/nonexistent/knetstat.bpf.o')).toThrow(SysError);
    const notBtf = join(tmpdir(), `bpfwt-notbtf-${process.pid}`);
    writeFileSync(notBtf, 'not BTF');
    try {
      for (let i = 0; i < 5; i++) {
        const o = BpfObject.open(BPF_OBJECT_FILE, { btfPath: notBtf });
        try { expect(() => o.load([taskFile])).toThrow(SysError); } finally { o.close(); }
      }
    } finally {
      rmSync(notBtf, { force: true });
    }
    for (let i = 0; i < 5; i++) {
      const o = BpfObject.open(BPF_OBJECT_FILE);
      try {
        o.load([taskFile]);
        // Not loaded: attaching it fails after the object's fds exist.
        expect(() => o.readIter('knetstat_tcp')).toThrow(SysError);
      } finally {
        o.close();
        o.close(); // idempotent
      }
    }
    expect(fds()).toBe(before);
  });
});

describe('KNETSTAT_LIBBPF_DEBUG=1', () => {
  /** libbpf's stderr while loading every program, against this kernel's BTF or a file that is not BTF. */
  const load = (btfPath?: string) => {
    walkProcess(process.pid);
    const taskFile = taskFileBuildInUse()!;
    const script = `import { BpfObject } from ${JSON.stringify(join(ROOT, 'dist', 'linux', 'libbpf.js'))};
const o = BpfObject.open(${JSON.stringify(BPF_OBJECT_FILE)}, ${JSON.stringify(btfPath ? { btfPath } : {})});
try { o.load([${JSON.stringify(taskFile)}, 'knetstat_tcp', 'knetstat_udp', 'knetstat_owners']); console.log('loaded'); } catch (e) { console.log('failed'); }
o.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, KNETSTAT_LIBBPF_DEBUG: '1' } });
    const lines = r.stderr.split('\n').filter(Boolean);
    return { out: r.stdout.trim(), lines, warnings: lines.filter((l) => l.startsWith('libbpf warning: ')) };
  };

  it('tags libbpf\'s warnings, so the kernel test can require none (and a clean load has none)', () => {
    const ok = load();
    expect(ok.out).toBe('loaded');
    expect(ok.lines.length).toBeGreaterThan(100);
    expect(ok.lines.every((l) => l.startsWith('libbpf: ') || l.startsWith('libbpf warning: '))).toBe(true);
    expect(ok.warnings).toEqual([]);
    const notBtf = join(tmpdir(), `bpfwt-debug-notbtf-${process.pid}`);
    writeFileSync(notBtf, 'not BTF');
    try {
      const bad = load(notBtf);
      expect(bad.out).toBe('failed');
      expect(bad.warnings.length).toBeGreaterThan(0);
    } finally {
      rmSync(notBtf, { force: true });
    }
  });
});

describe('the load on a worker thread (a capture starts it before reading the process)', () => {
  const fds = () => readdirSync('/proc/self/fd').length;

  it('runs off this thread: the event loop turns while libbpf and the verifier work', async () => {
    const o = BpfObject.open(BPF_OBJECT_FILE);
    try {
      let turns = 0;
      let on = true;
      const spin = () => { turns++; if (on) setImmediate(spin); };
      setImmediate(spin);
      await o.loadInBackground([taskFileBuildInUse() ?? (walkProcess(process.pid), taskFileBuildInUse()!)]);
      on = false;
      expect(turns).toBeGreaterThan(3);
      expect(o.readIter(taskFileBuildInUse()!, { pid: process.pid }).length).toBeGreaterThan(0); // at least its end record
    } finally {
      o.close();
    }
  });

  it('captures leave no fd open: used, unused (another source) and after a capture that failed', async () => {
    const { capture } = await import('../src/capture.js');
    await capture(process.pid, { any: true });
    const before = fds();
    for (let i = 0; i < 3; i++) {
      const c = await capture(process.pid, { any: true });
      expect(c.sources.find((s) => s.used)?.name).toBe('bpf');
      await capture(process.pid, { any: true, source: 'procfs' });
      await expect(capture(2 ** 22 + 7, {})).rejects.toThrow();
    }
    expect(fds()).toBe(before);
  });

  it('a background load that fails is done again in the foreground, which says why (libbpf\'s warning)', async () => {
    const notBtf = join(tmpdir(), `bpfwt-bg-notbtf-${process.pid}`);
    writeFileSync(notBtf, 'not BTF');
    const script = `const { capture } = await import(${JSON.stringify(join(ROOT, 'dist', 'capture.js'))});
const c = await capture(process.pid, { any: true, source: 'bpf' });
console.log(JSON.stringify(c.sources));`;
    try {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, KNETSTAT_BTF: notBtf } });
      const sources = JSON.parse(r.stdout) as { name: string; used: boolean; reason?: string }[];
      const bpf = sources.find((s) => s.name === 'bpf')!;
      expect(bpf.used).toBe(false);
      expect(bpf.reason).toMatch(/the bpf source cannot load: .*\(libbpf: /);
    } finally {
      rmSync(notBtf, { force: true });
    }
  });
});
