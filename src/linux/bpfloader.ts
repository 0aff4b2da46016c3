// The kernel-side load of the tool's BPF object: libbpf records what loading
// the object takes as a small BPF program of its own (bpf_object__gen_loader,
// the "light skeleton" loader), and that program, run once by the kernel
// (BPF_PROG_TYPE_SYSCALL, Linux >= 5.14; CO-RE applied by the kernel, >= 5.17),
// creates the maps and loads the programs. The kernel keeps its own BTF parsed
// and caches CO-RE candidates, so this skips libbpf's parse of the kernel's
// BTF and its scan of every kernel type per relocated type: ~4 ms where
// bpf_object__load takes ~23 ms here (bench/results.md). This module holds
// the layouts the loader shares with userspace (tools/lib/bpf/skel_internal.h)
// and the opts structs of the libbpf calls that run it (tools/lib/bpf/bpf.h,
// libbpf 1.1), as pure Buffer builders; linux/libbpf.ts makes the calls.
// test/bpfloader-layout.test.ts checks every offset against the C headers.

/** include/uapi/linux/bpf.h */
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_PROG_TYPE_SYSCALL = 31;
export const BPF_TRACE_ITER = 28;
export const BPF_F_SLEEPABLE = 1 << 4;

/** skel_internal.h: struct bpf_loader_ctx, then one bpf_map_desc per map, then one bpf_prog_desc per loaded program. */
const CTX_HEADER = 24;
const MAP_DESC = 16;
const PROG_DESC = 4;

/**
 * The context the loader program reads and writes: initialValues[i] is the
 * address of map i's initial contents (0n for a map without them), in the
 * object's map order; progs, how many programs it loads.
 */
export function loaderCtx(initialValues: bigint[], progs: number): Buffer {
  const size = CTX_HEADER + MAP_DESC * initialValues.length + PROG_DESC * progs;
  const ctx = Buffer.alloc(size);
  ctx.writeUInt32LE(size, 0); // sz; flags, log_level, log_size, log_buf stay 0
  initialValues.forEach((v, i) => ctx.writeBigUInt64LE(v, CTX_HEADER + MAP_DESC * i + 8));
  return ctx;
}

/**
 * The fds the loader left in its context: the maps' (in map order) and the
 * loaded programs' (in load order). The loader writes 0 where it made none
 * (and closes everything it made when it fails): 0-2 are never its own.
 */
export function loaderFds(ctx: Buffer, maps: number, progs: number): { maps: number[]; progs: number[] } {
  const fd = (off: number) => {
    const v = ctx.readInt32LE(off);
    return v > 2 ? v : -1;
  };
  return {
    maps: Array.from({ length: maps }, (_, i) => fd(CTX_HEADER + MAP_DESC * i)),
    progs: Array.from({ length: progs }, (_, i) => fd(CTX_HEADER + MAP_DESC * maps + PROG_DESC * i)),
  };
}

/** A libbpf opts struct of that size, zeroed, its first field (size_t sz) set: libbpf reads only what sz covers. */
function libbpfOpts(size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeBigUInt64LE(BigInt(size), 0);
  return b;
}

/** struct gen_loader_opts (libbpf.h): sz, data, insns, data_sz, insns_sz; libbpf fills in the last four. */
export function genLoaderOpts(): Buffer {
  return libbpfOpts(32);
}

export function genLoaderResult(opts: Buffer): { data: bigint; insns: bigint; dataSize: number; insnsSize: number } {
  return { data: opts.readBigUInt64LE(8), insns: opts.readBigUInt64LE(16), dataSize: opts.readUInt32LE(24), insnsSize: opts.readUInt32LE(28) };
}

/** struct bpf_prog_load_opts (bpf.h, 104 bytes in libbpf 1.1): prog_flags, fd_array. */
export function progLoadOpts(fdArray: bigint, progFlags: number): Buffer {
  const b = libbpfOpts(104);
  b.writeUInt32LE(progFlags, 20);
  b.writeBigUInt64LE(fdArray, 48);
  return b;
}

/** struct bpf_test_run_opts (bpf.h, 80 bytes): ctx_in, ctx_size_in; the program's return value comes back in retval. */
export function testRunOpts(ctxIn: bigint, ctxSize: number): Buffer {
  const b = libbpfOpts(80);
  b.writeBigUInt64LE(ctxIn, 32);
  b.writeUInt32LE(ctxSize, 48);
  return b;
}

export function testRunRetval(opts: Buffer): number {
  return opts.readInt32LE(56);
}

/** struct bpf_link_create_opts (bpf.h, 64 bytes): iter_info, iter_info_len. */
export function linkCreateOpts(iterInfo: bigint, iterInfoLen: number): Buffer {
  const b = libbpfOpts(64);
  b.writeBigUInt64LE(iterInfo, 16);
  b.writeUInt32LE(iterInfoLen, 24);
  return b;
}
