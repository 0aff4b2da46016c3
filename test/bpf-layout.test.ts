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
import { decodeWalk, END, HDR, KIND, OWNER, REC_VERSION, SOCK, type FieldType, type StructLayout } from '../src/linux/bpfrecord.js';
import { bpfObjectPath, taskFileBuildInUse, walkHost, walkProcess } from '../src/linux/bpfwalk.js';

const BPF_OBJECT_FILE = bpfObjectPath();
import { BpfObject } from '../src/linux/libbpf.js';
import { SysError } from '../src/errors.js';
// @ts-expect-error plain JavaScript, shared with the QEMU guest's checks
import { STABLE_FIELDS } from './kernel/stable-fields.mjs';

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

describe('the kernel loader (linux/bpfloader.ts)', () => {
  /** Offsets, sizes and constants as the C headers have them: libbpf's bpf.h, libbpf.h, skel_internal.h and the kernel's uapi bpf.h. */
  const fromC = (() => {
    const dir = join(tmpdir(), `bpfloader-c-${process.pid}`);
    execFileSync('mkdir', ['-p', dir]);
    const src = join(dir, 'off.c');
    const fields: [string, string][] = [
      ['bpf_prog_load_opts', 'prog_flags'], ['bpf_prog_load_opts', 'fd_array'],
      ['bpf_test_run_opts', 'ctx_in'], ['bpf_test_run_opts', 'ctx_size_in'], ['bpf_test_run_opts', 'retval'],
      ['bpf_link_create_opts', 'iter_info'], ['bpf_link_create_opts', 'iter_info_len'],
      ['gen_loader_opts', 'data'], ['gen_loader_opts', 'insns'], ['gen_loader_opts', 'data_sz'], ['gen_loader_opts', 'insns_sz'],
      ['bpf_map_desc', 'map_fd'], ['bpf_map_desc', 'initial_value'], ['bpf_loader_ctx', 'sz'],
    ];
    const structs = ['bpf_prog_load_opts', 'bpf_test_run_opts', 'bpf_link_create_opts', 'gen_loader_opts', 'bpf_loader_ctx', 'bpf_map_desc', 'bpf_prog_desc'];
    const consts = ['BPF_MAP_TYPE_ARRAY', 'BPF_PROG_TYPE_SYSCALL', 'BPF_TRACE_ITER', 'BPF_F_SLEEPABLE'];
    writeFileSync(src, [
      '#include <errno.h>', '#include <stdio.h>', '#include <stddef.h>', '#include <bpf/libbpf.h>', '#include <bpf/bpf.h>', '#include <bpf/skel_internal.h>',
      'int main(void) {',
      ...fields.map(([s, f]) => `printf("${s}.${f} %zu\\n", offsetof(struct ${s}, ${f}));`),
      ...structs.map((s) => `printf("sizeof ${s} %zu\\n", sizeof(struct ${s}));`),
      ...consts.map((c) => `printf("${c} %d\\n", (int)${c});`),
      'return 0; }',
    ].join('\n'));
    try {
      execFileSync('gcc', ['-o', join(dir, 'off'), src], { stdio: 'pipe' });
      return Object.fromEntries(execFileSync(join(dir, 'off'), { encoding: 'utf8' }).trim().split('\n').map((l) => {
        const i = l.lastIndexOf(' ');
        return [l.slice(0, i), Number(l.slice(i + 1))];
      })) as Record<string, number>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes every struct the way the C headers lay it out', async () => {
    const L = await import('../src/linux/bpfloader.js');
    const c = fromC();
    expect({ array: L.BPF_MAP_TYPE_ARRAY, syscall: L.BPF_PROG_TYPE_SYSCALL, iter: L.BPF_TRACE_ITER, sleepable: L.BPF_F_SLEEPABLE })
      .toEqual({ array: c.BPF_MAP_TYPE_ARRAY, syscall: c.BPF_PROG_TYPE_SYSCALL, iter: c.BPF_TRACE_ITER, sleepable: c.BPF_F_SLEEPABLE });
    const load = L.progLoadOpts(0x1122334455667788n, 0x55);
    expect(load.length).toBe(c['sizeof bpf_prog_load_opts']);
    expect(load.readBigUInt64LE(0)).toBe(BigInt(load.length));
    expect(load.readUInt32LE(c['bpf_prog_load_opts.prog_flags']!)).toBe(0x55);
    expect(load.readBigUInt64LE(c['bpf_prog_load_opts.fd_array']!)).toBe(0x1122334455667788n);
    const run = L.testRunOpts(0x99887766n, 1234);
    expect(run.length).toBe(c['sizeof bpf_test_run_opts']);
    expect(run.readBigUInt64LE(c['bpf_test_run_opts.ctx_in']!)).toBe(0x99887766n);
    expect(run.readUInt32LE(c['bpf_test_run_opts.ctx_size_in']!)).toBe(1234);
    run.writeInt32LE(-13, c['bpf_test_run_opts.retval']!);
    expect(L.testRunRetval(run)).toBe(-13);
    const link = L.linkCreateOpts(0xabcdefn, 12);
    expect(link.length).toBe(c['sizeof bpf_link_create_opts']);
    expect(link.readBigUInt64LE(c['bpf_link_create_opts.iter_info']!)).toBe(0xabcdefn);
    expect(link.readUInt32LE(c['bpf_link_create_opts.iter_info_len']!)).toBe(12);
    const gen = L.genLoaderOpts();
    expect(gen.length).toBe(c['sizeof gen_loader_opts']);
    gen.writeBigUInt64LE(0x1000n, c['gen_loader_opts.data']!);
    gen.writeBigUInt64LE(0x2000n, c['gen_loader_opts.insns']!);
    gen.writeUInt32LE(77, c['gen_loader_opts.data_sz']!);
    gen.writeUInt32LE(88, c['gen_loader_opts.insns_sz']!);
    expect(L.genLoaderResult(gen)).toEqual({ data: 0x1000n, insns: 0x2000n, dataSize: 77, insnsSize: 88 });
    // The context: header, two map descs, three prog descs.
    const ctx = L.loaderCtx([0n, 0x7000n], 3);
    const [hdr, map, prog] = [c['sizeof bpf_loader_ctx']!, c['sizeof bpf_map_desc']!, c['sizeof bpf_prog_desc']!];
    expect(ctx.length).toBe(hdr + 2 * map + 3 * prog);
    expect(ctx.readUInt32LE(c['bpf_loader_ctx.sz']!)).toBe(ctx.length);
    expect(ctx.readBigUInt64LE(hdr + c['bpf_map_desc.initial_value']!)).toBe(0n);
    expect(ctx.readBigUInt64LE(hdr + map + c['bpf_map_desc.initial_value']!)).toBe(0x7000n);
    ctx.writeInt32LE(9, hdr + map + c['bpf_map_desc.map_fd']!);
    ctx.writeInt32LE(11, hdr + 2 * map + prog);
    expect(L.loaderFds(ctx, 2, 3)).toEqual({ maps: [-1, 9], progs: [-1, 11, -1] });
  });

  /** A walk's records as the program read them through CO-RE (not the clock, not the counters). */
  const stable = (socks: { [k: string]: unknown }[]) => socks.map((r) => (STABLE_FIELDS as string[]).map((f) => String(r[f])).join(' ')).sort();

  it('loads on this kernel, and every walk reads what libbpf\'s own load reads', async () => {
    const { loadObject } = await import('../src/linux/bpfwalk.js');
    // Sockets of this process for the task_file walk: a listener with options set, a UDP socket.
    const { createServer } = await import('node:net');
    const { createSocket } = await import('node:dgram');
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const udp = createSocket('udp6');
    await new Promise<void>((res) => udp.bind(0, '::1', res));
    udp.setRecvBufferSize(70_000);
    const walks = (loader?: string) => {
      if (loader) process.env.KNETSTAT_BPF_LOADER = loader;
      try {
        const p = loadObject(['knetstat_task_file']);
        const h = loadObject(['knetstat_tcp', 'knetstat_udp', 'knetstat_owners']);
        const by = [p.loadedBy, h.loadedBy];
        const w = walkProcess(process.pid, p);
        h.close();
        const host = walkHost();
        // The tgid filter for kernels without task iterator parameters, set in .rodata before load: every task walked, ours kept.
        const f = loadObject(['knetstat_task_file'], process.pid);
        by.push(f.loadedBy);
        let filtered;
        try {
          filtered = decodeWalk(f.readIter('knetstat_task_file'), 'filtered walk').socks;
        } finally {
          f.close();
        }
        return { by, socks: stable(w.socks as never), filtered: stable(filtered as never), tgids: [...new Set(filtered.map((r) => r.tgid))],
          tcp: host.tcp.socks.length, owners: host.owners.owners.length };
      } finally {
        delete process.env.KNETSTAT_BPF_LOADER;
      }
    };
    let k, l;
    try {
      k = walks();
      l = walks('libbpf');
    } finally {
      server.close();
      udp.close();
    }
    expect(k.by).toEqual(['kernel loader', 'kernel loader', 'kernel loader']);
    expect(l.by).toEqual(['libbpf', 'libbpf', 'libbpf']);
    expect(k.tgids).toEqual([process.pid]);
    expect(k.filtered).toEqual(k.socks);
    expect(l.filtered).toEqual(l.socks);
    expect(k.socks.length).toBeGreaterThanOrEqual(2);
    expect(k.socks).toEqual(l.socks);
    expect(k.tcp).toBeGreaterThan(0);
    expect(k.owners).toBeGreaterThan(0);
  });

  it('a program the kernel refuses is refused by libbpf again, with its reason, and nothing is left open', () => {
    walkProcess(process.pid);
    const other = taskFileBuildInUse() === 'knetstat_task_file_cast' ? 'knetstat_task_file' : 'knetstat_task_file_cast';
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    let refused = 0;
    for (let i = 0; i < 5; i++) {
      const o = BpfObject.open(BPF_OBJECT_FILE);
      try {
        o.load([other]);
        expect(o.loadedBy).toBe('kernel loader'); // this kernel takes both builds
      } catch (err) {
        refused++;
        expect(err).toBeInstanceOf(SysError);
        expect((err as SysError).syscall).toBe('bpf_object__load');
        expect((err as Error).message).toMatch(/\(libbpf: /);
      } finally {
        o.close();
      }
    }
    expect(fds()).toBe(before);
    if (refused === 0) console.warn('this kernel loads both builds of the task_file walk: the refusal path went untested');
  });
});
