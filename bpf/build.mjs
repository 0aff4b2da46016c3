// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
// `npm run build` step: compiles knetstat.bpf.c into dist/bpf/knetstat.bpf.o
// with bpf/Makefile when clang and libbpf's headers are installed. Without
// them the TypeScript build still succeeds and the bpf source reports the
// missing object at run time; under CI (CI=true) or KNETSTAT_REQUIRE_BPF=1 a
// missing toolchain fails the build instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '..', 'dist', 'bpf');
const required = process.env.CI === 'true' || process.env.KNETSTAT_REQUIRE_BPF === '1';

function missing(what) {
  const msg = `knetstat-java build: ${what}: dist/bpf/knetstat.bpf.o not built, so --source bpf will be unavailable (Debian/Ubuntu: apt-get install clang llvm libbpf-dev)`;
  process.stderr.write(`${msg}\n`);
  process.exit(required ? 1 : 0);
}

const clang = process.env.CLANG ?? 'clang';
if (spawnSync(clang, ['--version'], { stdio: 'ignore' }).status !== 0) missing(`${clang} not found`);
if (!existsSync('/usr/include/bpf/bpf_helpers.h') && !process.env.BPF_CFLAGS) missing("libbpf's headers (bpf/bpf_helpers.h) not found");
const r = spawnSync('make', ['-s', '-C', here, `OUT=${out}`, `CLANG=${clang}`], { stdio: 'inherit' });
if (r.error) missing(`make could not run (${r.error.message})`);
process.exit(r.status ?? 1);
