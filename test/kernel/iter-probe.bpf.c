// SPDX-License-Identifier: GPL-2.0
/*
 * BPF readiness probe for the kernel test guests (guest-checks.mjs bpf):
 * the three iterators the bpf source needs, each printing one line per
 * object, so that a guest kernel that lacks one (or lacks BTF, which CO-RE
 * and iterators need) shows it. Loaded through libbpf.so.1 from node
 * (koffi), the way the tool loads its own program.
 *
 * Built by run.sh: clang -O2 -g -target bpf against a vmlinux.h dumped
 * from the build machine's BTF; CO-RE relocates the field offsets for the
 * guest's kernel at load time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/tcp")
int probe_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "tcp %u %u\n", skc->skc_family, skc->skc_num);
	return 0;
}

SEC("iter/udp")
int probe_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;

	if (!udp)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "udp %u %u\n",
		       udp->inet.sk.__sk_common.skc_family,
		       udp->inet.sk.__sk_common.skc_num);
	return 0;
}

SEC("iter/task_file")
int probe_task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;

	if (!task || !file)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "file %d %u %lu\n", task->tgid, ctx->fd,
		       BPF_CORE_READ(file, f_inode, i_ino));
	return 0;
}
