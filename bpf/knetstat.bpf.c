// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * knetstat's socket walks: BPF iterators that write, for every TCP and UDP
 * socket, one struct knetstat_sock (knetstat_record.h) with the kernel's own
 * fields, read where getsockopt() reads them. Three walks:
 *
 *   iter/task_file  knetstat_task_file: the sockets one process holds (the
 *                   loader binds the iterator to it on 6.1+, else target_tgid
 *                   filters); knetstat_task_file_cast is the same walk for
 *                   kernels whose verifier no longer lets a socket file's
 *                   sk (an untrusted pointer there) reach
 *                   bpf_skc_to_tcp_sock(): the loader picks the one the
 *                   kernel accepts
 *   iter/task_file  knetstat_owners: (tgid, fd, inode) of every socket fd of
 *                   every process, for the host-wide view's process column
 *   iter/tcp        knetstat_tcp, iter/udp knetstat_udp: every socket of the
 *                   network namespace the iterator fd was created in
 *
 * Each walk ends with one struct knetstat_end. Nothing here changes a socket.
 * One file on purpose: libbpf loads one object, and the programs share
 * the record builders below (each program gets its own inlined copy).
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "knetstat_record.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET			2
#define AF_INET6		10
#define IPPROTO_TCP		6
#define IPPROTO_UDP		17
#define SOCK_STREAM		1
#define SOCK_DGRAM		2

#define TCP_LISTEN		10
#define TCP_TIME_WAIT		6
#define TCP_NEW_SYN_RECV	12

#define ICSK_TIME_RETRANS	1
#define ICSK_TIME_PROBE0	3
#define ICSK_TIME_LOSS_PROBE	5
#define ICSK_TIME_REO_TIMEOUT	6

/* Bits of inet->inet_flags (include/net/inet_sock.h); appended to, never renumbered. */
#define INET_FLAGS_MC_LOOP	13
#define INET_FLAGS_MC_ALL	14
#define INET_FLAGS_MC6_LOOP	20
#define INET_FLAGS_MC6_ALL	22

/*
 * The generic read-only cast (Linux >= 6.2): weak, so the object still loads
 * where it is missing, as long as the program calling it is not loaded.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Set by the loader before load: walk only this thread group (0: every process). */
const volatile __u32 target_tgid = 0;

/*
 * Records are built here, not on the stack (a socket record would take most
 * of it): one per CPU. Its type names every record kind, so all of them are
 * in the object's BTF, where the layout test reads them.
 */
union knetstat_buf {
	struct knetstat_sock sock;
	struct knetstat_owner owner;
	struct knetstat_end end;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union knetstat_buf);
} buf SEC(".maps");

static __always_inline union knetstat_buf *buffer(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&buf, &zero);
}

static __always_inline void hdr_init(struct knetstat_hdr *h, __u8 kind, __u16 size)
{
	h->version = KNETSTAT_REC_VERSION;
	h->size = size;
	h->kind = kind;
}

static __always_inline struct knetstat_sock *record(__u8 kind)
{
	union knetstat_buf *b = buffer();
	struct knetstat_sock *r;

	if (!b)
		return NULL;
	r = &b->sock;
	__builtin_memset(r, 0, sizeof(*r));
	hdr_init(&r->hdr, kind, sizeof(*r));
	r->fd = -1;
	return r;
}

static __always_inline int emit_end(struct seq_file *seq)
{
	struct task_struct *task = bpf_get_current_task_btf();
	union knetstat_buf *b = buffer();
	struct knetstat_end *e;
	struct net *net;

	if (!b)
		return 0;
	e = &b->end;
	__builtin_memset(e, 0, sizeof(*e));
	hdr_init(&e->hdr, KNETSTAT_KIND_END, sizeof(*e));
	e->jiffies = bpf_jiffies64();
	net = task->nsproxy->net_ns;
	e->sysctl_keepalive_time = net->ipv4.sysctl_tcp_keepalive_time;
	e->sysctl_keepalive_intvl = net->ipv4.sysctl_tcp_keepalive_intvl;
	e->sysctl_fin_timeout = net->ipv4.sysctl_tcp_fin_timeout;
	bpf_seq_write(seq, e, sizeof(*e));
	return 0;
}

/* Addresses, ports, state: the part every kind of socket shares. */
static __always_inline void fill_common(struct knetstat_sock *r, struct sock_common *skc)
{
	r->family = skc->skc_family;
	r->state = skc->skc_state;
	r->sport = skc->skc_num;
	r->dport = bpf_ntohs(skc->skc_dport);
	r->netns = skc->skc_net.net->ns.inum;
	if (r->family == AF_INET6) {
		bpf_probe_read_kernel(r->saddr, sizeof(r->saddr), &skc->skc_v6_rcv_saddr);
		bpf_probe_read_kernel(r->daddr, sizeof(r->daddr), &skc->skc_v6_daddr);
	} else {
		*(__be32 *)r->saddr = skc->skc_rcv_saddr;
		*(__be32 *)r->daddr = skc->skc_daddr;
	}
}

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - bpf_core_field_offset(type, member)))
#endif

static __always_inline __u64 inode_of(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	unsigned long ino = 0;

	if (!sock)
		return 0;
	/* SOCK_INODE(): the inode sits right after the socket in socket_alloc. */
	bpf_probe_read_kernel(&ino, sizeof(ino),
			      &container_of(sock, struct socket_alloc, socket)->vfs_inode.i_ino);
	return ino;
}

/* struct sock: what sk_getsockopt() reads (net/core/sock.c). */
static __always_inline void fill_sock(struct knetstat_sock *r, struct sock *sk)
{
	unsigned long flags = sk->__sk_common.skc_flags;

	r->type = BPF_CORE_READ_BITFIELD(sk, sk_type);
	r->protocol = BPF_CORE_READ_BITFIELD(sk, sk_protocol);
	r->shutdown = BPF_CORE_READ_BITFIELD(sk, sk_shutdown);
	r->userlocks = BPF_CORE_READ_BITFIELD(sk, sk_userlocks);
	r->reuse = BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_reuse);
	r->reuseport = BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_reuseport);
	r->v6only = BPF_CORE_READ_BITFIELD(sk, __sk_common.skc_ipv6only);
	r->keepopen = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_KEEPOPEN)) & 1;
	r->linger = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_LINGER)) & 1;
	r->urginline = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_URGINLINE)) & 1;
	r->broadcast = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_BROADCAST)) & 1;
	r->rcvbuf = sk->sk_rcvbuf;
	r->sndbuf = sk->sk_sndbuf;
	r->priority = sk->sk_priority;
	r->mark = sk->sk_mark;
	r->lingertime = sk->sk_lingertime;
	r->rcvtimeo = sk->sk_rcvtimeo;
	r->sndtimeo = sk->sk_sndtimeo;
	r->ack_backlog = sk->sk_ack_backlog;
	r->max_ack_backlog = sk->sk_max_ack_backlog;
	if (bpf_core_field_exists(sk->sk_cgrp_data.classid)) {
		r->classid = sk->sk_cgrp_data.classid;
		r->has_classid = 1;
	}
	if (bpf_core_field_exists(sk->sk_cgrp_data.prioidx)) {
		r->prioidx = sk->sk_cgrp_data.prioidx;
		r->has_prioidx = 1;
	}
}

/* A flag that is a bitfield of old_type where the kernel has it, else bit nr of inet_flags. */
#define MOVED_FLAG(old_type, ptr, field, flags, nr)				\
	(bpf_core_field_exists(old_type, field) ?				\
	 BPF_CORE_READ_BITFIELD_PROBED((old_type *)(ptr), field) : ((flags) >> (nr)) & 1)

/* struct inet_sock and ipv6_pinfo: do_ip_getsockopt(), do_ipv6_getsockopt(). */
static __always_inline void fill_inet(struct knetstat_sock *r, struct inet_sock *inet)
{
	unsigned long flags = 0;
	struct ipv6_pinfo *np;

	r->tos = BPF_CORE_READ(inet, tos);
	r->mc_ttl = BPF_CORE_READ(inet, mc_ttl);
	if (bpf_core_field_exists(inet->inet_flags))
		flags = BPF_CORE_READ(inet, inet_flags);
	r->mc_loop = MOVED_FLAG(struct inet_sock___old, inet, mc_loop, flags, INET_FLAGS_MC_LOOP);
	r->mc_all = MOVED_FLAG(struct inet_sock___old, inet, mc_all, flags, INET_FLAGS_MC_ALL);

	if (r->family != AF_INET6)
		return;
	np = BPF_CORE_READ(inet, pinet6);
	if (!np)
		return;
	r->has_pinet6 = 1;
	r->tclass = BPF_CORE_READ(np, tclass);
	r->mcast_hops = BPF_CORE_READ_BITFIELD_PROBED(np, mcast_hops);
	r->mc6_loop = MOVED_FLAG(struct ipv6_pinfo___old, np, mc_loop, flags, INET_FLAGS_MC6_LOOP);
	r->mc6_all = MOVED_FLAG(struct ipv6_pinfo___old, np, mc_all, flags, INET_FLAGS_MC6_ALL);
}

/* What /proc/net/tcp shows as the timer, and inet_diag as idiag_timer. */
static __always_inline void fill_timer(struct knetstat_sock *r, struct tcp_sock *tp, __u64 now)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	__u8 pending = icsk->icsk_pending;
	unsigned long expires;

	if (bpf_core_field_exists(icsk->icsk_timeout))
		expires = icsk->icsk_timeout;
	else
		expires = icsk->icsk_retransmit_timer.expires;
	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE) {
		r->timer = 1;
		r->timer_retrans = icsk->icsk_retransmits;
	} else if (pending == ICSK_TIME_PROBE0) {
		r->timer = 4;
		r->timer_retrans = icsk->icsk_probes_out;
	} else if (sk->sk_timer.entry.pprev) {
		r->timer = 2;
		r->timer_retrans = icsk->icsk_probes_out;
		expires = sk->sk_timer.expires;
	} else {
		return;
	}
	r->timer_expires = (__s32)(expires - now);
}

/* struct tcp_sock and inet_connection_sock: do_tcp_getsockopt(), tcp_get_info(). */
static __always_inline void fill_tcp(struct knetstat_sock *r, struct tcp_sock *tp)
{
	struct inet_connection_sock *icsk = &tp->inet_conn;
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	struct net *net = sk->__sk_common.skc_net.net;
	const struct tcp_congestion_ops *ca;
	__u64 now = bpf_jiffies64();
	__u32 now32 = now;

	r->keepalive_time = tp->keepalive_time;
	r->keepalive_intvl = tp->keepalive_intvl;
	r->keepalive_probes = tp->keepalive_probes;
	r->sysctl_keepalive_time = net->ipv4.sysctl_tcp_keepalive_time;
	r->sysctl_keepalive_intvl = net->ipv4.sysctl_tcp_keepalive_intvl;
	r->sysctl_keepalive_probes = net->ipv4.sysctl_tcp_keepalive_probes;
	if (bpf_core_field_exists(net->ipv4.sysctl_tcp_pingpong_thresh)) {
		r->pingpong_thresh = net->ipv4.sysctl_tcp_pingpong_thresh;
		r->has_pingpong_thresh = 1;
	}
	r->nonagle = BPF_CORE_READ_BITFIELD(tp, nonagle);
	r->repair = BPF_CORE_READ_BITFIELD(tp, repair);
	r->user_timeout = icsk->icsk_user_timeout;
	r->user_mss = tp->rx_opt.user_mss;
	r->mss_clamp = tp->rx_opt.mss_clamp;
	r->mss_cache = tp->mss_cache;
	r->notsent_lowat = tp->notsent_lowat;
	r->defer_accept = icsk->icsk_accept_queue.rskq_defer_accept;
	r->fastopen_max_qlen = icsk->icsk_accept_queue.fastopenq.max_qlen;
	ca = icsk->icsk_ca_ops;
	if (ca)
		bpf_probe_read_kernel_str(r->ca_name, sizeof(r->ca_name), ca->name);
	if (bpf_core_field_exists(icsk->icsk_ca_setsockopt)) {
		r->ca_setsockopt = BPF_CORE_READ_BITFIELD(icsk, icsk_ca_setsockopt);
		r->has_ca_setsockopt = 1;
	}
	r->ca_state = BPF_CORE_READ_BITFIELD(icsk, icsk_ca_state);
	r->pingpong = icsk->icsk_ack.pingpong;
	r->retransmits = icsk->icsk_retransmits;
	r->probes_out = icsk->icsk_probes_out;
	r->backoff = icsk->icsk_backoff;

	if (r->state == TCP_LISTEN) {
		r->rx_queue = sk->sk_ack_backlog;
	} else {
		__s32 rx = tp->rcv_nxt - tp->copied_seq;

		r->rx_queue = rx > 0 ? rx : 0;
		r->tx_queue = tp->write_seq - tp->snd_una;
	}
	r->snd_wnd = tp->snd_wnd;
	r->rcv_wnd = tp->rcv_wnd;
	r->packets_out = tp->packets_out;
	r->since_ack = now32 - tp->rcv_tstamp;
	r->since_data_sent = now32 - tp->lsndtime;
	r->since_data_recv = now32 - icsk->icsk_ack.lrcvtime;
	r->rto = icsk->icsk_rto;
	r->ato = BPF_CORE_READ_BITFIELD(icsk, icsk_ack.ato);
	r->rcv_mss = icsk->icsk_ack.rcv_mss;
	r->pmtu = icsk->icsk_pmtu_cookie;
	r->srtt_us = tp->srtt_us;
	r->mdev_us = tp->mdev_us;
	r->snd_cwnd = tp->snd_cwnd;
	r->advmss = tp->advmss;
	r->sacked_out = tp->sacked_out;
	r->lost_out = tp->lost_out;
	r->retrans_out = tp->retrans_out;
	r->total_retrans = tp->total_retrans;
	r->bytes_acked = tp->bytes_acked;
	r->bytes_received = tp->bytes_received;
	r->notsent_bytes = (__s32)(tp->write_seq - tp->snd_nxt) > 0 ? tp->write_seq - tp->snd_nxt : 0;
	if (bpf_core_field_exists(tp->bytes_sent)) {
		r->bytes_sent = tp->bytes_sent;
		r->bytes_retrans = tp->bytes_retrans;
		r->has_bytes_sent = 1;
	}
	fill_timer(r, tp, now);
}

/* struct udp_sock: the queues as /proc/net/udp prints them (udp_rqueue_get()). */
static __always_inline void fill_udp(struct knetstat_sock *r, struct udp_sock *up)
{
	struct sock *sk = (struct sock *)up;
	int rmem = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	int wmem = BPF_CORE_READ(sk, sk_wmem_alloc.refs.counter);

	r->rx_queue = rmem - BPF_CORE_READ(up, forward_deficit);
	r->tx_queue = wmem - 1;
}

/*
 * One full socket. sk is a BTF pointer (from a socket file or an iterator);
 * the TCP part is read through a typed tcp_sock pointer, the rest with probe
 * reads, which need no type. cast (a constant): the pointer is made by
 * bpf_rdonly_cast() rather than bpf_skc_to_tcp_sock(), which newer kernels
 * refuse for the untrusted sk of a socket file (the protocol and type
 * checked first say it is a tcp_sock).
 */
static __always_inline int emit_sock(struct seq_file *seq, struct sock *sk, __s32 fd, __u32 tgid, __u64 inode, __u32 uid,
				     struct file *file, bool cast)
{
	struct knetstat_sock *r;
	struct tcp_sock *tp = NULL;
	__u16 family = sk->__sk_common.skc_family;
	__u16 type, protocol;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	type = BPF_CORE_READ_BITFIELD(sk, sk_type);
	protocol = BPF_CORE_READ_BITFIELD(sk, sk_protocol);
	if (protocol == IPPROTO_TCP && type == SOCK_STREAM) {
		if (cast)
			tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
		else
			tp = bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return 0;
	} else if (protocol != IPPROTO_UDP || type != SOCK_DGRAM) {
		return 0;	/* raw, SCTP, UDP-Lite, MPTCP ...: not ours */
	}
	r = record(KNETSTAT_KIND_SOCK);
	if (!r)
		return 0;
	r->fd = fd;
	r->tgid = tgid;
	r->inode = inode;
	r->uid = uid;
	if (file) {
		r->file_flags = file->f_flags;
		r->has_file_flags = 1;
	}
	fill_common(r, &sk->__sk_common);
	fill_sock(r, sk);
	fill_inet(r, (struct inet_sock *)sk);
	if (tp)
		fill_tcp(r, tp);
	else
		fill_udp(r, (struct udp_sock *)sk);
	bpf_seq_write(seq, r, sizeof(*r));
	return 0;
}

/* The socket behind an open file, NULL for every other kind of file. */
static __always_inline struct sock *file_sock(struct file *file)
{
	struct socket *sock = bpf_sock_from_file(file);

	return sock ? sock->sk : NULL;
}

static __always_inline int task_file(struct bpf_iter__task_file *ctx, bool cast)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sock *sk;

	if (!task || !file)
		return emit_end(ctx->meta->seq);
	if (target_tgid && (__u32)task->tgid != target_tgid)
		return 0;
	sk = file_sock(file);
	if (!sk)
		return 0;
	return emit_sock(ctx->meta->seq, sk, ctx->fd, task->tgid, file->f_inode->i_ino, 0, file, cast);
}

SEC("iter/task_file")
int knetstat_task_file(struct bpf_iter__task_file *ctx)
{
	return task_file(ctx, false);
}

SEC("iter/task_file")
int knetstat_task_file_cast(struct bpf_iter__task_file *ctx)
{
	return task_file(ctx, true);
}

SEC("iter/task_file")
int knetstat_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	union knetstat_buf *b;
	struct knetstat_owner *o;
	struct sock *sk;
	__u16 family;

	if (!task || !file)
		return emit_end(ctx->meta->seq);
	sk = file_sock(file);
	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	b = buffer();
	if (!b)
		return 0;
	o = &b->owner;
	__builtin_memset(o, 0, sizeof(*o));
	hdr_init(&o->hdr, KNETSTAT_KIND_OWNER, sizeof(*o));
	o->tgid = task->tgid;
	o->fd = ctx->fd;
	o->inode = file->f_inode->i_ino;
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), task->group_leader->comm);
	bpf_seq_write(ctx->meta->seq, o, sizeof(*o));
	return 0;
}

SEC("iter/tcp")
int knetstat_tcp(struct bpf_iter__tcp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct sock_common *skc = ctx->sk_common;
	struct tcp_timewait_sock *tw;
	struct knetstat_sock *r;
	struct sock *sk;
	__u8 state;

	if (!skc)
		return emit_end(seq);
	if (skc->skc_family != AF_INET && skc->skc_family != AF_INET6)
		return 0;
	state = skc->skc_state;
	if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV) {
		/* A full socket: typed, so its struct sock fields can be read. */
		sk = (struct sock *)bpf_skc_to_tcp_sock(skc);
		if (!sk)
			return 0;
		return emit_sock(seq, sk, -1, 0, inode_of(sk), ctx->uid, NULL, false);
	}
	/* Mini sockets: addresses and state only, as /proc/net/tcp shows them. */
	r = record(state == TCP_TIME_WAIT ? KNETSTAT_KIND_TIMEWAIT : KNETSTAT_KIND_REQUEST);
	if (!r)
		return 0;
	fill_common(r, skc);
	r->protocol = IPPROTO_TCP;
	r->type = SOCK_STREAM;
	r->uid = ctx->uid;
	if (state == TCP_TIME_WAIT) {
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (tw)
			r->state = tw->tw_sk.tw_substate;
	}
	bpf_seq_write(seq, r, sizeof(*r));
	return 0;
}

SEC("iter/udp")
int knetstat_udp(struct bpf_iter__udp *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct udp_sock *up = ctx->udp_sk;
	struct sock *sk;

	if (!up)
		return emit_end(seq);
	sk = &up->inet.sk;
	return emit_sock(seq, sk, -1, 0, inode_of(sk), ctx->uid, NULL, false);
}
