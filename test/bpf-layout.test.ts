// The BPF object and its TypeScript side cannot drift: every record field the
// decoder reads sits where the object's own BTF says (bpftool), every field of
// the C structs is known to the decoder, the header's constants are the
// decoder's, and the inet_flags bit numbers the program hard-codes are the
// running kernel's. Also: the jiffies conversions against the kernel's
// arithmetic, and no fd left open by the loader on any path.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/jvm.js';
import { END, HDR, KIND, OWNER, REC_VERSION, SOCK, decodeSock, decodeWalk, type FieldType, type StructLayout } from '../src/linux/bpfrecord.js';
import { BpfObject } from '../src/linux/libbpf.js';
import { hzFromSysctls, jiffiesToMsecs, jiffiesToUsecs, lingerSeconds, MAX_SCHEDULE_TIMEOUT, timeoutMs } from '../src/linux/jiffies.js';
import { BPF_OBJECT, walkHost, walkProcess } from '../src/sources/bpf.js';
import { FormatError, SysError } from '../src/errors.js';

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

const types = btf(BPF_OBJECT);
const PAD = /^(pad\d*|bits_pad|has_pad)$/;

describe('record layout: the decoder against the object\'s BTF', () => {
  it.each([HDR, SOCK, OWNER, END] as StructLayout[])('struct $name', (L) => {
    const t = [...types.values()].find((x) => x.kind === 'STRUCT' && x.name === L.name);
    expect(t, `struct ${L.name} in ${BPF_OBJECT}`).toBeTruthy();
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
    const out = execFileSync('bpftool', ['btf', 'dump', 'file', BPF_OBJECT, 'format', 'raw'], { encoding: 'utf8' });
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

describe('the decoder', () => {
  it('reads every field from its own offset', () => {
    const b = Buffer.alloc(SOCK.size);
    const want: Record<string, unknown> = {};
    let v = 1;
    for (const [name, [off, type]] of Object.entries(SOCK.fields) as [string, readonly [number, FieldType]][]) {
      v++;
      switch (type) {
        case 'u8': b.writeUInt8(v & 0xff, off); want[name] = v & 0xff; break;
        case 'u16': b.writeUInt16LE(v * 257, off); want[name] = v * 257; break;
        case 'i16': b.writeInt16LE(-v, off); want[name] = -v; break;
        case 'u32': b.writeUInt32LE(v * 65537, off); want[name] = v * 65537; break;
        case 'i32': b.writeInt32LE(-v * 3, off); want[name] = -v * 3; break;
        case 'u64': b.writeBigUInt64LE(BigInt(v) * 0x100000001n, off); want[name] = v * 0x100000001; break;
        case 'i64': b.writeBigInt64LE(-BigInt(v) * 0x100000001n, off); want[name] = -BigInt(v) * 0x100000001n; break;
        case 'bytes16': for (let i = 0; i < 16; i++) b[off + i] = (v + i) & 0xff; want[name] = Buffer.from(b.subarray(off, off + 16)); break;
      }
    }
    let i = 0;
    for (const [name, [off, bit]] of Object.entries(SOCK.bits)) {
      const on = i++ % 3 !== 0;
      if (on) b.writeUInt32LE(b.readUInt32LE(off) | (1 << bit), off);
      want[name] = on;
    }
    const rec = decodeSock(b, 0) as unknown as Record<string, unknown>;
    for (const [k, w] of Object.entries(want)) expect(rec[k], k).toEqual(w);
  });

  it('walks a stream of records, and refuses a cut or foreign one', () => {
    const rec = (size: number, kind: number, version = REC_VERSION) => {
      const b = Buffer.alloc(size);
      b.writeUInt16LE(version, 0); b.writeUInt16LE(size, 2); b[4] = kind;
      return b;
    };
    const stream = Buffer.concat([rec(SOCK.size, KIND.SOCK), rec(SOCK.size, KIND.TIMEWAIT), rec(OWNER.size, KIND.OWNER), rec(12, 99), rec(END.size, KIND.END)]);
    const w = decodeWalk(stream);
    expect([w.socks.length, w.owners.length, w.end !== undefined]).toEqual([2, 1, true]);
    expect(() => decodeWalk(stream.subarray(0, stream.length - 3))).toThrow(FormatError);
    expect(() => decodeWalk(rec(SOCK.size, KIND.SOCK, REC_VERSION + 1))).toThrow(/record version/);
    expect(() => decodeWalk(rec(OWNER.size, KIND.SOCK))).toThrow(/expected 296/);
  });
});

describe('kernel time, as getsockopt and tcp_info convert it', () => {
  it('jiffies_to_msecs/usecs round up where HZ does not divide a second (HZ=300)', () => {
    expect([jiffiesToMsecs(1, 250), jiffiesToMsecs(250, 250), jiffiesToMsecs(1, 300), jiffiesToMsecs(3, 300), jiffiesToMsecs(7, 1000)]).toEqual([4, 1000, 4, 10, 7]);
    expect([jiffiesToUsecs(1, 250), jiffiesToUsecs(1, 300), jiffiesToUsecs(2, 100)]).toEqual([4000, 3334, 20000]);
  });

  it('SO_RCVTIMEO: none is 0, a jiffy at HZ=250 is 4 ms, long ones keep their ms', () => {
    expect(timeoutMs(MAX_SCHEDULE_TIMEOUT, 250)).toBe(0);
    expect(timeoutMs(1n, 250)).toBe(4);
    expect(timeoutMs(375n, 250)).toBe(1500);
    expect(timeoutMs(1n, 300)).toBe(3); // tv_usec = 3333: 3 ms, as the pidfd source reads the timeval
  });

  it('SO_LINGER: seconds truncated to an int, as the kernel stores l_linger', () => {
    expect(lingerSeconds(0n, 250)).toBe(0);
    expect(lingerSeconds(5n * 250n, 250)).toBe(5);
    expect(lingerSeconds(MAX_SCHEDULE_TIMEOUT, 250)).toBe(Number(BigInt.asIntN(32, MAX_SCHEDULE_TIMEOUT / 250n)));
  });

  it('HZ from sysctls read in jiffies and in seconds; none when they disagree or are 0', () => {
    const d = mkdtempSync(join(tmpdir(), 'bpfwt-hz-'));
    try {
      writeFileSync(join(d, 'tcp_keepalive_time'), '7200\n');
      writeFileSync(join(d, 'tcp_keepalive_intvl'), '75\n');
      writeFileSync(join(d, 'tcp_fin_timeout'), '0\n');
      expect(hzFromSysctls({ tcp_keepalive_time: 1_800_000, tcp_keepalive_intvl: 18_750, tcp_fin_timeout: 0 }, d)).toBe(250);
      expect(hzFromSysctls({ tcp_keepalive_time: 1_800_000, tcp_keepalive_intvl: 75_000, tcp_fin_timeout: 0 }, d)).toBeUndefined();
      expect(hzFromSysctls({ tcp_keepalive_time: 0, tcp_keepalive_intvl: 0, tcp_fin_timeout: 0 }, d)).toBeUndefined();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the loader leaves no fd open', () => {
  const fds = () => readdirSync('/proc/self/fd').length;

  it('after walks, and after every way a load can fail', () => {
    walkProcess(process.pid); // first use binds libbpf and libc: not a leak
    const before = fds();
    for (let i = 0; i < 15; i++) walkProcess(process.pid);
    for (let i = 0; i < 3; i++) walkHost();
    for (let i = 0; i < 5; i++) expect(() => BpfObject.open('/nonexistent/knetstat.bpf.o')).toThrow(SysError);
    const notBtf = join(tmpdir(), `bpfwt-notbtf-${process.pid}`);
    writeFileSync(notBtf, 'not BTF');
    try {
      for (let i = 0; i < 5; i++) {
        const o = BpfObject.open(BPF_OBJECT, { btfPath: notBtf });
        try { expect(() => o.load(['knetstat_task_file'])).toThrow(SysError); } finally { o.close(); }
      }
    } finally {
      rmSync(notBtf, { force: true });
    }
    for (let i = 0; i < 5; i++) {
      const o = BpfObject.open(BPF_OBJECT);
      try {
        o.load(['knetstat_task_file']);
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
