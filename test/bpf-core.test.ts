// CO-RE against the kernels the object must also load on, without booting
// them: libbpf relocates the object against the BTF of Debian's 6.1 and 6.12
// images (/boot/vmlinuz-*, decompressed to their ELF with .BTF), and every
// relocation must find its field, except the ones the program only reads
// behind bpf_core_field_exists() for exactly that kernel generation. (The
// load itself then fails on this machine, whose kernel is another: only the
// relocation log is the subject here; the guests run the real thing.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, WORK } from './helpers/jvm.js';
import { bpfObjectPath } from '../src/linux/bpfwalk.js';

/** Fields that exist on some kernels only, each read behind bpf_core_field_exists(). */
const GUARDED: Record<string, RegExp[]> = {
  // 6.1: no inet_flags word (the multicast flags are bitfields) and no pingpong sysctl.
  '6.1': [/^struct inet_sock\.inet_flags /, /^struct net\.ipv4\.sysctl_tcp_pingpong_thresh /],
  // 6.12: the multicast flags moved into inet_flags; the 6.1 bitfields are gone.
  '6.12': [/^struct (inet_sock|ipv6_pinfo)___old\.mc_(loop|all) /],
};

/** The ELF vmlinux inside a bzImage: the first xz or zstd stream that decompresses to one. */
function vmlinux(image: string): string | undefined {
  const out = join(WORK, `vmlinux-${image.replace(/^vmlinuz-/, '')}`);
  if (existsSync(out)) return out;
  const d = readFileSync(join('/boot', image));
  for (const [magic, cmd] of [[Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'], [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd']] as const) {
    for (let i = d.indexOf(magic); i >= 0; i = d.indexOf(magic, i + 1)) {
      const r = spawnSync(cmd, ['-dc'], { input: d.subarray(i), maxBuffer: 1 << 28 });
      if (r.stdout.length > 4 && r.stdout.readUInt32BE(0) === 0x7f454c46) {
        mkdirSync(WORK, { recursive: true });
        writeFileSync(out, r.stdout);
        return out;
      }
    }
  }
  return undefined;
}

/** The relocations libbpf could not resolve against btf, as "struct x.field (...)" texts. */
function unresolved(btf: string): { relos: number; missing: string[] } {
  const script = `import { BpfObject } from ${JSON.stringify(join(ROOT, 'dist', 'linux', 'libbpf.js'))};
const o = BpfObject.open(${JSON.stringify(bpfObjectPath())}, { btfPath: ${JSON.stringify(btf)} });
try { o.load(['knetstat_task_file', 'knetstat_task_file_cast', 'knetstat_tcp', 'knetstat_udp', 'knetstat_owners']); } catch {}
o.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, KNETSTAT_LIBBPF_DEBUG: '1' }, maxBuffer: 1 << 26 });
  const lines = r.stderr.split('\n');
  const missing = new Set<string>();
  let relos = 0, last = '';
  for (const l of lines) {
    const m = /: relo #\d+: <[a-z_0-9]+> \[\d+\] (.*)$/.exec(l);
    if (m) { last = m[1]!; relos++; }
    if (/relo #\d+: no matching targets found/.test(l)) missing.add(last);
  }
  return { relos, missing: [...missing].sort() };
}

const images = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-6\.(1|12)\.\d/.test(f) && !f.includes('-rt-')) : [];

describe.skipIf(images.length === 0)('CO-RE relocations against Debian\'s kernels', () => {
  it.each(images)('%s: every field found, but the guarded ones', (image) => {
    const file = vmlinux(image);
    expect(file, `an ELF vmlinux inside /boot/${image}`).toBeTruthy();
    const gen = /^vmlinuz-6\.1\./.test(image) ? '6.1' : '6.12';
    const { relos, missing } = unresolved(file!);
    expect(relos).toBeGreaterThan(500);
    for (const m of missing) expect(GUARDED[gen]!.some((g) => g.test(m)), `unresolved on ${gen}: ${m}`).toBe(true);
    // The guards are needed there: each guarded field really is missing (else the guard is stale).
    for (const g of GUARDED[gen]!) expect(missing.some((m) => g.test(m)), `${g} missing on ${gen}`).toBe(true);
  });
});
