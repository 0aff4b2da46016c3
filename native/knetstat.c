// SPDX-License-Identifier: GPL-2.0
/*
 * knetstat - socket options of TCP and UDP sockets in /proc/net
 *
 * Adds four files to /proc/net of every network namespace: tcpstat,
 * tcp6stat, udpstat and udp6stat. Each lists the same sockets as the
 * matching /proc/net/{tcp,tcp6,udp,udp6} file (the rows come from the
 * kernel's own seq_file iterators, tcp_seq_* and udp_seq_*), printed the
 * way netstat -an would, plus the socket options that are set and the
 * socket inode so that user space can join rows to processes.
 *
 * The format is specified in README.md next to this file.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/version.h>
#include <net/inet_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/net_namespace.h>
#include <net/request_sock.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#define pde_data(inode) PDE_DATA(inode)
#endif

/* Width of the address columns; seq_pad() adds one blank after them. */
#define KNETSTAT_ADDR_WIDTH	23
#define KNETSTAT_DIAG_WIDTH	4

#define KNETSTAT_COLS \
	"Recv-Q Send-Q Local Address           Foreign Address         "
#define KNETSTAT_TCP_HEADER	KNETSTAT_COLS "Stat Diag Options Inode\n"
#define KNETSTAT_UDP_HEADER	KNETSTAT_COLS "Options Inode\n"

static const char *const knetstat_state_names[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED]	= "ESTB",
	[TCP_SYN_SENT]		= "SYNS",
	[TCP_SYN_RECV]		= "SYNR",
	[TCP_FIN_WAIT1]		= "FNW1",
	[TCP_FIN_WAIT2]		= "FNW2",
	[TCP_TIME_WAIT]		= "TIMW",
	[TCP_CLOSE]		= "CLSD",
	[TCP_CLOSE_WAIT]	= "CLSW",
	[TCP_LAST_ACK]		= "LACK",
	[TCP_LISTEN]		= "LSTN",
	[TCP_CLOSING]		= "CLSG",
	[TCP_NEW_SYN_RECV]	= "SYNR",
};

static const char *knetstat_state_name(int state)
{
	if (state < 0 || state >= TCP_MAX_STATES || !knetstat_state_names[state])
		return "NONE";
	return knetstat_state_names[state];
}

static sa_family_t knetstat_tcp_family(struct seq_file *seq)
{
	const struct tcp_seq_afinfo *afinfo = pde_data(file_inode(seq->file));

	return afinfo->family;
}

static sa_family_t knetstat_udp_family(struct seq_file *seq)
{
	const struct udp_seq_afinfo *afinfo = pde_data(file_inode(seq->file));

	return afinfo->family;
}

/* "addr:port" padded to the column width; port 0 is printed as '*'. */
static void knetstat_show_endpoint(struct seq_file *seq, sa_family_t family,
				   const void *addr, u16 port)
{
	seq_setwidth(seq, KNETSTAT_ADDR_WIDTH);
	if (family == AF_INET6)
		seq_printf(seq, "%pI6c", addr);
	else
		seq_printf(seq, "%pI4", addr);
	if (port)
		seq_printf(seq, ":%u", port);
	else
		seq_puts(seq, ":*");
	seq_pad(seq, ' ');
}

static void knetstat_show_queues(struct seq_file *seq, int rx, int tx)
{
	seq_printf(seq, "%6d %6d ", rx, tx);
}

/* A socket timeout in jiffies as milliseconds, without overflowing for long ones. */
static unsigned long long knetstat_timeo_ms(long timeo)
{
	unsigned long long secs = (unsigned long)timeo / HZ;
	unsigned long rem = (unsigned long)timeo % HZ;

	return secs * MSEC_PER_SEC + rem * MSEC_PER_SEC / HZ;
}

/*
 * Options every socket type shares, printed only when they differ from the
 * kernel's default (so their absence means: at the default).
 */
static void knetstat_show_sock_options(struct seq_file *seq, struct sock *sk)
{
	u8 userlocks = sk->sk_userlocks;
	long rcvtimeo = READ_ONCE(sk->sk_rcvtimeo);
	long sndtimeo = READ_ONCE(sk->sk_sndtimeo);

	/* setsockopt() doubles the value; print what the user asked for. */
	if (userlocks & SOCK_RCVBUF_LOCK)
		seq_printf(seq, ",SO_RCVBUF=%d", READ_ONCE(sk->sk_rcvbuf) / 2);
	if (userlocks & SOCK_SNDBUF_LOCK)
		seq_printf(seq, ",SO_SNDBUF=%d", READ_ONCE(sk->sk_sndbuf) / 2);
	if (rcvtimeo != MAX_SCHEDULE_TIMEOUT)
		seq_printf(seq, ",SO_RCVTIMEO=%llums", knetstat_timeo_ms(rcvtimeo));
	if (sndtimeo != MAX_SCHEDULE_TIMEOUT)
		seq_printf(seq, ",SO_SNDTIMEO=%llums", knetstat_timeo_ms(sndtimeo));
	if (sock_flag(sk, SOCK_LINGER))
		seq_printf(seq, ",SO_LINGER=%lds",
			   READ_ONCE(sk->sk_lingertime) / HZ);
}

/* TCP_DEFER_ACCEPT is kept as a retransmission count; report seconds. */
static unsigned int knetstat_defer_secs(u8 retrans)
{
	unsigned int timeout = TCP_TIMEOUT_INIT / HZ;
	unsigned int period = 0;

	if (!retrans)
		return 0;
	period = timeout;
	while (--retrans) {
		timeout <<= 1;
		if (timeout > TCP_RTO_MAX / HZ)
			timeout = TCP_RTO_MAX / HZ;
		period += timeout;
	}
	return period;
}

static void knetstat_show_tcp_diag(struct seq_file *seq, struct sock *sk,
				   int state)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const char *diag = "";

	if (state == TCP_ESTABLISHED) {
		bool snd_zero = READ_ONCE(tp->snd_wnd) == 0;
		bool rcv_zero = READ_ONCE(tp->rcv_wnd) == 0;
		s32 since_ack = tcp_jiffies32 - READ_ONCE(tp->rcv_tstamp);

		if (snd_zero && rcv_zero)
			diag = ">|<";
		else if (rcv_zero)
			diag = "|<";
		else if (snd_zero)
			diag = ">|";
		else if (READ_ONCE(tp->packets_out) && since_ack > HZ)
			diag = ">#";
	}
	seq_printf(seq, "%-*s ", KNETSTAT_DIAG_WIDTH, diag);
}

static void knetstat_show_tcp_options(struct seq_file *seq, struct sock *sk,
				      int state)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct inet_connection_sock *icsk = inet_csk(sk);
	unsigned int keepidle = READ_ONCE(tp->keepalive_time);
	unsigned int keepcnt = READ_ONCE(tp->keepalive_probes);
	unsigned int keepintvl = READ_ONCE(tp->keepalive_intvl);
	unsigned int user_timeout = READ_ONCE(icsk->icsk_user_timeout);

	seq_printf(seq, "SO_REUSEADDR=%d,SO_REUSEPORT=%d,SO_KEEPALIVE=%d",
		   sk->sk_reuse, sk->sk_reuseport,
		   sock_flag(sk, SOCK_KEEPOPEN));
	if (keepidle)
		seq_printf(seq, ",TCP_KEEPIDLE=%u", keepidle / HZ);
	if (keepcnt)
		seq_printf(seq, ",TCP_KEEPCNT=%u", keepcnt);
	if (keepintvl)
		seq_printf(seq, ",TCP_KEEPINTVL=%u", keepintvl / HZ);
	if (user_timeout)
		seq_printf(seq, ",TCP_USER_TIMEOUT=%u", user_timeout);
	knetstat_show_sock_options(seq, sk);
	seq_printf(seq, ",TCP_NODELAY=%d",
		   !!(tp->nonagle & TCP_NAGLE_OFF));
	if (state == TCP_LISTEN)
		seq_printf(seq, ",TCP_FASTOPEN=%d",
			   READ_ONCE(icsk->icsk_accept_queue.fastopenq.max_qlen));
	seq_printf(seq, ",TCP_DEFER_ACCEPT=%u",
		   knetstat_defer_secs(READ_ONCE(icsk->icsk_accept_queue.rskq_defer_accept)));
}

/* A full TCP socket: listener or connection. */
static void knetstat_tcp_full_row(struct seq_file *seq, struct sock *sk,
				  sa_family_t family)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	const struct inet_sock *inet = inet_sk(sk);
	int state = inet_sk_state_load(sk);
	const void *src = &inet->inet_rcv_saddr;
	const void *dst = &inet->inet_daddr;
	int rx, tx;

#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6) {
		src = &sk->sk_v6_rcv_saddr;
		dst = &sk->sk_v6_daddr;
	}
#endif
	if (state == TCP_LISTEN) {
		rx = READ_ONCE(sk->sk_ack_backlog);
		tx = 0;
	} else {
		rx = max_t(int, READ_ONCE(tp->rcv_nxt) -
				READ_ONCE(tp->copied_seq), 0);
		/*
		 * Clamped like rx: in connect(), write_seq is set before
		 * snd_una (tcp_v4_connect, then tcp_connect_init), and a
		 * reader in between would print a huge negative queue.
		 */
		tx = max_t(int, READ_ONCE(tp->write_seq) - tp->snd_una, 0);
	}

	knetstat_show_queues(seq, rx, tx);
	knetstat_show_endpoint(seq, family, src, ntohs(inet->inet_sport));
	knetstat_show_endpoint(seq, family, dst, ntohs(inet->inet_dport));
	seq_printf(seq, "%s ", knetstat_state_name(state));
	knetstat_show_tcp_diag(seq, sk, state);
	knetstat_show_tcp_options(seq, sk, state);
	seq_printf(seq, " %llu\n", (unsigned long long)sock_i_ino(sk));
}

/* A connection request (SYN_RECV): not a full socket, no options. */
static void knetstat_tcp_req_row(struct seq_file *seq,
				 const struct request_sock *req,
				 sa_family_t family)
{
	const struct inet_request_sock *ireq = inet_rsk(req);
	const void *src = &ireq->ir_loc_addr;
	const void *dst = &ireq->ir_rmt_addr;

#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6) {
		src = &ireq->ir_v6_loc_addr;
		dst = &ireq->ir_v6_rmt_addr;
	}
#endif
	knetstat_show_queues(seq, 0, 0);
	knetstat_show_endpoint(seq, family, src, ireq->ir_num);
	knetstat_show_endpoint(seq, family, dst, ntohs(ireq->ir_rmt_port));
	seq_printf(seq, "%s  0\n", knetstat_state_name(TCP_SYN_RECV));
}

/* A TIME_WAIT mini socket: not a full socket, no options. */
static void knetstat_tcp_tw_row(struct seq_file *seq,
				const struct inet_timewait_sock *tw,
				sa_family_t family)
{
	const void *src = &tw->tw_rcv_saddr;
	const void *dst = &tw->tw_daddr;

#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6) {
		src = &tw->tw_v6_rcv_saddr;
		dst = &tw->tw_v6_daddr;
	}
#endif
	knetstat_show_queues(seq, 0, 0);
	knetstat_show_endpoint(seq, family, src, ntohs(tw->tw_sport));
	knetstat_show_endpoint(seq, family, dst, ntohs(tw->tw_dport));
	seq_printf(seq, "%s  0\n", knetstat_state_name(READ_ONCE(tw->tw_substate)));
}

static int knetstat_tcp_seq_show(struct seq_file *seq, void *v)
{
	sa_family_t family = knetstat_tcp_family(seq);
	struct sock *sk = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, KNETSTAT_TCP_HEADER);
		return 0;
	}

	switch (sk->sk_state) {
	case TCP_TIME_WAIT:
		knetstat_tcp_tw_row(seq, inet_twsk(sk), family);
		break;
	case TCP_NEW_SYN_RECV:
		knetstat_tcp_req_row(seq, inet_reqsk(sk), family);
		break;
	default:
		knetstat_tcp_full_row(seq, sk, family);
		break;
	}
	return 0;
}

static int knetstat_udp_seq_show(struct seq_file *seq, void *v)
{
	sa_family_t family = knetstat_udp_family(seq);
	struct sock *sk = v;
	const struct inet_sock *inet;
	const void *src, *dst;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, KNETSTAT_UDP_HEADER);
		return 0;
	}

	inet = inet_sk(sk);
	src = &inet->inet_rcv_saddr;
	dst = &inet->inet_daddr;
#if IS_ENABLED(CONFIG_IPV6)
	if (family == AF_INET6) {
		src = &sk->sk_v6_rcv_saddr;
		dst = &sk->sk_v6_daddr;
	}
#endif
	knetstat_show_queues(seq, udp_rqueue_get(sk), sk_wmem_alloc_get(sk));
	knetstat_show_endpoint(seq, family, src, ntohs(inet->inet_sport));
	knetstat_show_endpoint(seq, family, dst, ntohs(inet->inet_dport));
	seq_printf(seq, "SO_REUSEADDR=%d,SO_REUSEPORT=%d",
		   sk->sk_reuse, sk->sk_reuseport);
	knetstat_show_sock_options(seq, sk);
	seq_printf(seq, ",SO_BROADCAST=%d", sock_flag(sk, SOCK_BROADCAST));
	seq_printf(seq, " %llu\n", (unsigned long long)sock_i_ino(sk));
	return 0;
}

#if defined(KNETSTAT_OWN_TCP_ITER) || defined(KNETSTAT_OWN_UDP_ITER)
#ifdef KNETSTAT_STATS
/*
 * Test builds only (make KNETSTAT_STATS=1): buckets and sockets the walkers
 * have looked at, so that the kernel test can count what a read costs.
 */
static unsigned long knetstat_walk_steps;
module_param_named(walk_steps, knetstat_walk_steps, ulong, 0444);
#define knetstat_step()	WRITE_ONCE(knetstat_walk_steps, READ_ONCE(knetstat_walk_steps) + 1)
#else
#define knetstat_step()	do { } while (0)
#endif

/*
 * The row a read() stopped at, to find it again in its bucket when the next
 * read() resumes. Only compared with the rows of that bucket (under its
 * lock), never dereferenced: the socket may be gone by then.
 */
struct knetstat_mark {
	const struct sock *sk;
	__portpair ports;
};

static void knetstat_mark_set(struct knetstat_mark *mark, const struct sock *sk)
{
	mark->sk = sk;
	mark->ports = READ_ONCE(sk->sk_portpair);
}

/* The same object with the same ports: not a socket that reused its memory. */
static bool knetstat_mark_is(const struct knetstat_mark *mark,
			     const struct sock *sk)
{
	return mark->sk == sk && mark->ports == READ_ONCE(sk->sk_portpair);
}

/* The next row of the table in the same (locked) bucket after sk, or NULL. */
typedef struct sock *(*knetstat_next_t)(struct seq_file *seq, struct sock *sk);

/*
 * Back in the bucket a read stopped in, locked, from its first row sk on:
 * the row it stopped at, wherever sockets that came or went before it moved
 * it; if that row is gone, the row now at its offset, as tcp_seek_last_pos()
 * does. NULL when the bucket is shorter than that. *offset becomes the
 * row's offset.
 */
static struct sock *knetstat_find_mark(struct seq_file *seq, struct sock *sk,
				       const struct knetstat_mark *mark,
				       unsigned int *offset, knetstat_next_t next)
{
	struct sock *nth = NULL;
	unsigned int i;

	for (i = 0; sk; sk = next(seq, sk), i++) {
		if (knetstat_mark_is(mark, sk)) {
			*offset = i;
			return sk;
		}
		if (i == *offset)
			nth = sk;
	}
	return nth;
}
#endif

#ifdef KNETSTAT_OWN_TCP_ITER
/*
 * Recent kernels export tcp_seq_start/next/stop only while IPv6 is a module
 * (EXPORT_IPV6_MOD). Where Kbuild finds them missing, walk the same tables
 * the same way: the listening hash, then the established hash (which also
 * holds TIME_WAIT and request sockets), holding one bucket lock while a row
 * is shown.
 *
 * A read() that ends inside the table leaves the bucket, the row's offset
 * in it and the row itself in the iterator; the next read() resumes there,
 * like tcp_seek_last_pos(), instead of walking every row before it again.
 */
enum { KNETSTAT_TCP_LISTENING, KNETSTAT_TCP_ESTABLISHED, KNETSTAT_TCP_DONE };

struct knetstat_tcp_iter {
	struct seq_net_private p;	/* first: seq_file_net() needs it */
	int state;
	unsigned int bucket;
	unsigned int offset;		/* rows of the bucket before this one */
	loff_t last_pos;		/* *pos of this row */
	struct knetstat_mark mark;	/* this row, when a read stopped at it */
};

static struct inet_hashinfo *knetstat_tcp_hinfo(struct seq_file *seq)
{
	return seq_file_net(seq)->ipv4.tcp_death_row.hashinfo;
}

/* The first row of this table from sk on in its bucket, or NULL. */
static struct sock *knetstat_tcp_match(struct seq_file *seq, struct sock *sk)
{
	sa_family_t family = knetstat_tcp_family(seq);
	struct net *net = seq_file_net(seq);

	for (; sk; sk = sk_nulls_next(sk)) {
		knetstat_step();
		if (sk->sk_family == family && net_eq(sock_net(sk), net))
			return sk;
	}
	return NULL;
}

static struct sock *knetstat_tcp_in_bucket(struct seq_file *seq, struct sock *sk)
{
	return knetstat_tcp_match(seq, sk_nulls_next(sk));
}

static void knetstat_tcp_unlock(struct seq_file *seq)
{
	struct knetstat_tcp_iter *st = seq->private;
	struct inet_hashinfo *h = knetstat_tcp_hinfo(seq);

	if (st->state == KNETSTAT_TCP_LISTENING)
		spin_unlock(&h->lhash2[st->bucket].lock);
	else if (st->state == KNETSTAT_TCP_ESTABLISHED)
		spin_unlock_bh(inet_ehash_lockp(h, st->bucket));
}

static struct sock *knetstat_tcp_first_listening(struct seq_file *seq)
{
	struct knetstat_tcp_iter *st = seq->private;
	struct inet_hashinfo *h = knetstat_tcp_hinfo(seq);
	struct sock *sk;

	for (; st->bucket <= h->lhash2_mask; st->bucket++) {
		struct inet_listen_hashbucket *ilb = &h->lhash2[st->bucket];

		knetstat_step();
		if (hlist_nulls_empty(&ilb->nulls_head))
			continue;
		spin_lock(&ilb->lock);
		sk = knetstat_tcp_match(seq, sk_nulls_head(&ilb->nulls_head));
		if (sk)
			return sk;
		spin_unlock(&ilb->lock);
	}
	return NULL;
}

static struct sock *knetstat_tcp_first_established(struct seq_file *seq)
{
	struct knetstat_tcp_iter *st = seq->private;
	struct inet_hashinfo *h = knetstat_tcp_hinfo(seq);
	struct sock *sk;

	for (; st->bucket <= h->ehash_mask; st->bucket++) {
		struct inet_ehash_bucket *b = &h->ehash[st->bucket];

		cond_resched();
		knetstat_step();
		if (hlist_nulls_empty(&b->chain))
			continue;
		spin_lock_bh(inet_ehash_lockp(h, st->bucket));
		sk = knetstat_tcp_match(seq, sk_nulls_head(&b->chain));
		if (sk)
			return sk;
		spin_unlock_bh(inet_ehash_lockp(h, st->bucket));
	}
	return NULL;
}

/* The first row from st->state/st->bucket on, returned with its bucket locked. */
static struct sock *knetstat_tcp_first(struct seq_file *seq)
{
	struct knetstat_tcp_iter *st = seq->private;
	struct sock *sk;

	st->offset = 0;
	if (st->state == KNETSTAT_TCP_LISTENING) {
		sk = knetstat_tcp_first_listening(seq);
		if (sk)
			return sk;
		st->state = KNETSTAT_TCP_ESTABLISHED;
		st->bucket = 0;
	}
	if (st->state == KNETSTAT_TCP_ESTABLISHED) {
		sk = knetstat_tcp_first_established(seq);
		if (sk)
			return sk;
	}
	st->state = KNETSTAT_TCP_DONE;
	return NULL;
}

static struct sock *knetstat_tcp_after(struct seq_file *seq, struct sock *sk)
{
	struct knetstat_tcp_iter *st = seq->private;

	sk = knetstat_tcp_in_bucket(seq, sk);
	if (sk) {
		st->offset++;
		return sk;
	}
	knetstat_tcp_unlock(seq);
	st->bucket++;
	return knetstat_tcp_first(seq);
}

/*
 * Back to the row the last read stopped at, in its bucket (see
 * knetstat_find_mark()), or the next bucket's first row when that one is
 * gone or the bucket has become shorter.
 */
static struct sock *knetstat_tcp_resume(struct seq_file *seq)
{
	struct knetstat_tcp_iter *st = seq->private;
	unsigned int bucket = st->bucket, offset = st->offset;
	int state = st->state;
	struct sock *sk;

	if (state == KNETSTAT_TCP_DONE)
		return NULL;
	sk = knetstat_tcp_first(seq);
	if (!sk || st->state != state || st->bucket != bucket)
		return sk;
	st->offset = offset;
	sk = knetstat_find_mark(seq, sk, &st->mark, &st->offset,
				knetstat_tcp_in_bucket);
	if (sk)
		return sk;
	knetstat_tcp_unlock(seq);
	st->bucket++;
	return knetstat_tcp_first(seq);
}

/* Row pos (from 1) the slow way, from the first bucket on. */
static struct sock *knetstat_tcp_idx(struct seq_file *seq, loff_t pos)
{
	struct sock *sk = knetstat_tcp_first(seq);

	while (sk && --pos)
		sk = knetstat_tcp_after(seq, sk);
	return sk;
}

static void *knetstat_tcp_start(struct seq_file *seq, loff_t *pos)
{
	struct knetstat_tcp_iter *st = seq->private;
	void *rc;

	if (*pos && *pos == st->last_pos) {
		rc = knetstat_tcp_resume(seq);
	} else {
		st->state = KNETSTAT_TCP_LISTENING;
		st->bucket = 0;
		rc = *pos ? knetstat_tcp_idx(seq, *pos) : SEQ_START_TOKEN;
	}
	st->last_pos = *pos;
	return rc;
}

static void *knetstat_tcp_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct knetstat_tcp_iter *st = seq->private;
	void *rc;

	if (v == SEQ_START_TOKEN)
		rc = knetstat_tcp_first(seq);
	else
		rc = knetstat_tcp_after(seq, v);
	st->last_pos = ++*pos;
	return rc;
}

static void knetstat_tcp_stop(struct seq_file *seq, void *v)
{
	struct knetstat_tcp_iter *st = seq->private;

	if (v && v != SEQ_START_TOKEN) {
		knetstat_mark_set(&st->mark, v);
		knetstat_tcp_unlock(seq);
	}
}

#define KNETSTAT_TCP_ITER_SIZE	sizeof(struct knetstat_tcp_iter)
#else
#define knetstat_tcp_start	tcp_seq_start
#define knetstat_tcp_next	tcp_seq_next
#define knetstat_tcp_stop	tcp_seq_stop
#define KNETSTAT_TCP_ITER_SIZE	sizeof(struct tcp_iter_state)
#endif

#ifdef KNETSTAT_OWN_UDP_ITER
/*
 * Same for udp_seq_start/next/stop: the UDP hash one slot at a time, and
 * resumed where the last read stopped (the kernel's own UDP iterator walks
 * every row before it again).
 */
struct knetstat_udp_iter {
	struct seq_net_private p;	/* first: seq_file_net() needs it */
	unsigned int bucket;
	unsigned int offset;		/* rows of the slot before this one */
	loff_t last_pos;		/* *pos of this row */
	struct knetstat_mark mark;	/* this row, when a read stopped at it */
};

static struct udp_table *knetstat_udp_table(struct seq_file *seq)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	return &udp_table;
#else
	return seq_file_net(seq)->ipv4.udp_table;
#endif
}

/* The first row of this table from sk on in its slot, or NULL. */
static struct sock *knetstat_udp_match(struct seq_file *seq, struct sock *sk)
{
	sa_family_t family = knetstat_udp_family(seq);
	struct net *net = seq_file_net(seq);

	for (; sk; sk = sk_next(sk)) {
		knetstat_step();
		if (sk->sk_family == family && net_eq(sock_net(sk), net))
			return sk;
	}
	return NULL;
}

static struct sock *knetstat_udp_in_bucket(struct seq_file *seq, struct sock *sk)
{
	return knetstat_udp_match(seq, sk_next(sk));
}

static void knetstat_udp_unlock(struct seq_file *seq)
{
	struct knetstat_udp_iter *st = seq->private;

	spin_unlock_bh(&knetstat_udp_table(seq)->hash[st->bucket].lock);
}

/* The first row from st->bucket on, returned with its slot locked. */
static struct sock *knetstat_udp_first(struct seq_file *seq)
{
	struct knetstat_udp_iter *st = seq->private;
	struct udp_table *t = knetstat_udp_table(seq);
	struct sock *sk;

	st->offset = 0;
	for (; st->bucket <= t->mask; st->bucket++) {
		struct udp_hslot *slot = &t->hash[st->bucket];

		knetstat_step();
		if (hlist_empty(&slot->head))
			continue;
		spin_lock_bh(&slot->lock);
		sk = knetstat_udp_match(seq, sk_head(&slot->head));
		if (sk)
			return sk;
		spin_unlock_bh(&slot->lock);
	}
	return NULL;
}

static struct sock *knetstat_udp_after(struct seq_file *seq, struct sock *sk)
{
	struct knetstat_udp_iter *st = seq->private;

	sk = knetstat_udp_in_bucket(seq, sk);
	if (sk) {
		st->offset++;
		return sk;
	}
	knetstat_udp_unlock(seq);
	st->bucket++;
	return knetstat_udp_first(seq);
}

/* As knetstat_tcp_resume(). */
static struct sock *knetstat_udp_resume(struct seq_file *seq)
{
	struct knetstat_udp_iter *st = seq->private;
	unsigned int bucket = st->bucket, offset = st->offset;
	struct sock *sk;

	sk = knetstat_udp_first(seq);
	if (!sk || st->bucket != bucket)
		return sk;
	st->offset = offset;
	sk = knetstat_find_mark(seq, sk, &st->mark, &st->offset,
				knetstat_udp_in_bucket);
	if (sk)
		return sk;
	knetstat_udp_unlock(seq);
	st->bucket++;
	return knetstat_udp_first(seq);
}

static struct sock *knetstat_udp_idx(struct seq_file *seq, loff_t pos)
{
	struct sock *sk = knetstat_udp_first(seq);

	while (sk && --pos)
		sk = knetstat_udp_after(seq, sk);
	return sk;
}

static void *knetstat_udp_start(struct seq_file *seq, loff_t *pos)
{
	struct knetstat_udp_iter *st = seq->private;
	void *rc;

	if (*pos && *pos == st->last_pos) {
		rc = knetstat_udp_resume(seq);
	} else {
		st->bucket = 0;
		rc = *pos ? knetstat_udp_idx(seq, *pos) : SEQ_START_TOKEN;
	}
	st->last_pos = *pos;
	return rc;
}

static void *knetstat_udp_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct knetstat_udp_iter *st = seq->private;
	void *rc;

	if (v == SEQ_START_TOKEN)
		rc = knetstat_udp_first(seq);
	else
		rc = knetstat_udp_after(seq, v);
	st->last_pos = ++*pos;
	return rc;
}

static void knetstat_udp_stop(struct seq_file *seq, void *v)
{
	struct knetstat_udp_iter *st = seq->private;

	if (v && v != SEQ_START_TOKEN) {
		knetstat_mark_set(&st->mark, v);
		knetstat_udp_unlock(seq);
	}
}

#define KNETSTAT_UDP_ITER_SIZE	sizeof(struct knetstat_udp_iter)
#else
#define knetstat_udp_start	udp_seq_start
#define knetstat_udp_next	udp_seq_next
#define knetstat_udp_stop	udp_seq_stop
#define KNETSTAT_UDP_ITER_SIZE	sizeof(struct udp_iter_state)
#endif

static const struct seq_operations knetstat_tcp_seq_ops = {
	.start	= knetstat_tcp_start,
	.next	= knetstat_tcp_next,
	.stop	= knetstat_tcp_stop,
	.show	= knetstat_tcp_seq_show,
};

static const struct seq_operations knetstat_udp_seq_ops = {
	.start	= knetstat_udp_start,
	.next	= knetstat_udp_next,
	.stop	= knetstat_udp_stop,
	.show	= knetstat_udp_seq_show,
};

static struct tcp_seq_afinfo knetstat_tcp4_afinfo = {
	.family		= AF_INET,
};

static struct tcp_seq_afinfo knetstat_tcp6_afinfo = {
	.family		= AF_INET6,
};

/*
 * Until 6.2 UDP sockets live in the global udp_table; since then a NULL
 * table selects the per-namespace one, and later kernels dropped the field
 * (Kbuild detects it in the headers we build against).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define KNETSTAT_UDP_TABLE	.udp_table = &udp_table,
#elif defined(KNETSTAT_HAVE_AFINFO_UDP_TABLE)
#define KNETSTAT_UDP_TABLE	.udp_table = NULL,
#else
#define KNETSTAT_UDP_TABLE
#endif

static struct udp_seq_afinfo knetstat_udp4_afinfo = {
	.family		= AF_INET,
	KNETSTAT_UDP_TABLE
};

static struct udp_seq_afinfo knetstat_udp6_afinfo = {
	.family		= AF_INET6,
	KNETSTAT_UDP_TABLE
};

struct knetstat_file {
	const char *name;
	const struct seq_operations *ops;
	unsigned int state_size;
	void *afinfo;
};

static const struct knetstat_file knetstat_files[] = {
	{ "tcpstat", &knetstat_tcp_seq_ops, KNETSTAT_TCP_ITER_SIZE,
	  &knetstat_tcp4_afinfo },
	{ "tcp6stat", &knetstat_tcp_seq_ops, KNETSTAT_TCP_ITER_SIZE,
	  &knetstat_tcp6_afinfo },
	{ "udpstat", &knetstat_udp_seq_ops, KNETSTAT_UDP_ITER_SIZE,
	  &knetstat_udp4_afinfo },
	{ "udp6stat", &knetstat_udp_seq_ops, KNETSTAT_UDP_ITER_SIZE,
	  &knetstat_udp6_afinfo },
};

static void knetstat_remove_files(struct net *net, int count)
{
	while (count-- > 0)
		remove_proc_entry(knetstat_files[count].name, net->proc_net);
}

static int __net_init knetstat_net_init(struct net *net)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(knetstat_files); i++) {
		const struct knetstat_file *f = &knetstat_files[i];

		if (!proc_create_net_data(f->name, 0444, net->proc_net, f->ops,
					  f->state_size, f->afinfo)) {
			knetstat_remove_files(net, i);
			return -ENOMEM;
		}
	}
	return 0;
}

static void __net_exit knetstat_net_exit(struct net *net)
{
	knetstat_remove_files(net, ARRAY_SIZE(knetstat_files));
}

static struct pernet_operations knetstat_net_ops = {
	.init	= knetstat_net_init,
	.exit	= knetstat_net_exit,
};

static int __init knetstat_init(void)
{
	return register_pernet_subsys(&knetstat_net_ops);
}

static void __exit knetstat_exit(void)
{
	unregister_pernet_subsys(&knetstat_net_ops);
}

module_init(knetstat_init);
module_exit(knetstat_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Socket options of TCP and UDP sockets in /proc/net/{tcp,tcp6,udp,udp6}stat");
MODULE_VERSION("1.0");
