/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The records knetstat.bpf.c writes with bpf_seq_write(): one fixed-layout,
 * native-endian record per object. Every record starts with the same header;
 * hdr.size lets a reader step over kinds it does not know. src/linux/bpfrecord.ts
 * decodes them, and test/bpf-layout.test.ts checks its offsets against the BTF
 * of the built object, so this file and the decoder cannot drift apart.
 *
 * Values are the kernel's own fields, unconverted (jiffies stay jiffies, 0
 * keepalive times stay 0): user space applies the getsockopt() conversions,
 * so what the kernel *stored* is never lost on the way.
 */
#ifndef __KNETSTAT_RECORD_H
#define __KNETSTAT_RECORD_H

/* Bumped on any change of layout or meaning. */
#define KNETSTAT_REC_VERSION	2

#define KNETSTAT_KIND_SOCK	1	/* a full TCP or UDP socket */
#define KNETSTAT_KIND_TIMEWAIT	2	/* a TIME_WAIT mini socket */
#define KNETSTAT_KIND_REQUEST	3	/* a connection request (SYN_RECV) */
#define KNETSTAT_KIND_OWNER	4	/* an fd that holds a TCP/UDP socket */
#define KNETSTAT_KIND_END	5	/* written once, when the walk is done */

struct knetstat_hdr {
	__u16 version;			/* KNETSTAT_REC_VERSION */
	__u16 size;			/* bytes of this record, header included */
	__u8  kind;			/* KNETSTAT_KIND_* */
	__u8  pad[3];
};

struct knetstat_sock {
	struct knetstat_hdr hdr;
	__u8  family;			/* AF_INET, AF_INET6 */
	__u8  protocol;			/* IPPROTO_TCP, IPPROTO_UDP */
	__u8  state;			/* sk_state (tw_substate for TIME_WAIT) */
	__u8  shutdown;			/* sk_shutdown: RCV_SHUTDOWN 1, SEND_SHUTDOWN 2 */
	__u16 type;			/* sk_type */
	__u8  timer;			/* as /proc/net/tcp: 1 retransmit, 2 keepalive, 4 zero window probe */
	__u8  timer_retrans;		/* icsk_retransmits (timer 1), icsk_probes_out (2, 4) */
	__s32 fd;			/* fd in tgid (task walk); -1 from the table walks */
	__u32 tgid;			/* 0 from the table walks */
	__u64 inode;			/* sock_i_ino(); 0 for TIME_WAIT and requests */
	__u32 uid;			/* sock_i_uid(), table walks only */
	__u32 netns;			/* inode number of the socket's network namespace */
	__u8  saddr[16];		/* network order; IPv4 in the first 4 bytes */
	__u8  daddr[16];
	__u16 sport;			/* host order */
	__u16 dport;
	__u32 rx_queue;			/* as /proc/net/{tcp,udp} print them */
	__u32 tx_queue;
	__s32 timer_expires;		/* jiffies until the timer fires (may be < 0) */

	/* struct sock */
	__s32 rcvbuf;			/* sk_rcvbuf */
	__s32 sndbuf;			/* sk_sndbuf */
	__u32 priority;			/* sk_priority */
	__u32 mark;			/* sk_mark */
	__s64 lingertime;		/* sk_lingertime, jiffies */
	__s64 rcvtimeo;			/* sk_rcvtimeo, jiffies; LONG_MAX: none */
	__s64 sndtimeo;			/* sk_sndtimeo, jiffies; LONG_MAX: none */
	__u32 ack_backlog;		/* sk_ack_backlog */
	__u32 max_ack_backlog;		/* sk_max_ack_backlog */
	__u32 classid;			/* sk_cgrp_data.classid (net_cls) */
	__u16 prioidx;			/* sk_cgrp_data.prioidx (net_prio) */
	__u8  reuse;			/* sk_reuse */
	__u8  userlocks;		/* sk_userlocks: SNDBUF 1, RCVBUF 2, BINDADDR 4, BINDPORT 8 */

	/* struct inet_sock, struct ipv6_pinfo */
	__u8  tos;			/* inet->tos */
	__u8  mc_ttl;			/* inet->mc_ttl */
	__u8  tclass;			/* np->tclass */
	__u8  pad1;
	__s16 mcast_hops;		/* np->mcast_hops */
	__u16 pad2;

	/* Single-bit facts, decoded from whichever field holds them on this kernel. */
	__u32 keepopen:1,		/* SOCK_KEEPOPEN */
	      linger:1,			/* SOCK_LINGER */
	      urginline:1,		/* SOCK_URGINLINE */
	      broadcast:1,		/* SOCK_BROADCAST */
	      reuseport:1,		/* sk_reuseport */
	      v6only:1,			/* sk_ipv6only */
	      mc_loop:1,		/* IP_MULTICAST_LOOP */
	      mc_all:1,			/* IP_MULTICAST_ALL */
	      mc6_loop:1,		/* IPV6_MULTICAST_LOOP */
	      mc6_all:1,		/* IPV6_MULTICAST_ALL */
	      ca_setsockopt:1,		/* icsk_ca_setsockopt: TCP_CONGESTION was set */
	      repair:1,			/* tp->repair */
	      bits_pad:20;
	/* Which of the fields above this kernel has (0: the value is not known). */
	__u32 has_classid:1,
	      has_prioidx:1,
	      has_pinet6:1,		/* tclass, mcast_hops, mc6_* */
	      has_pingpong_thresh:1,	/* net.ipv4.tcp_pingpong_thresh */
	      has_ca_setsockopt:1,
	      has_file_flags:1,		/* file_flags: the walk read the fd's file */
	      has_bytes_sent:1,		/* bytes_sent, bytes_retrans (Linux >= 4.19) */
	      has_pad:25;

	/* struct tcp_sock, struct inet_connection_sock */
	__u32 keepalive_time;		/* tp->keepalive_time, jiffies; 0: follows the sysctl */
	__u32 keepalive_intvl;		/* tp->keepalive_intvl, jiffies; 0: follows the sysctl */
	__u32 sysctl_keepalive_time;	/* sock_net(sk)->ipv4.sysctl_tcp_keepalive_time, jiffies */
	__u32 sysctl_keepalive_intvl;	/* ... sysctl_tcp_keepalive_intvl, jiffies */
	__u8  keepalive_probes;		/* tp->keepalive_probes; 0: follows the sysctl */
	__u8  sysctl_keepalive_probes;
	__u8  nonagle;			/* tp->nonagle: TCP_NAGLE_OFF 1, CORK 2, PUSH 4 */
	__u8  defer_accept;		/* rskq_defer_accept, in retransmissions */
	__u32 user_timeout;		/* icsk_user_timeout, ms */
	__u16 user_mss;			/* tp->rx_opt.user_mss; 0: none set */
	__u16 mss_clamp;		/* tp->rx_opt.mss_clamp */
	__u32 mss_cache;		/* tp->mss_cache */
	__u32 notsent_lowat;		/* tp->notsent_lowat; 0: follows the sysctl */
	__s32 fastopen_max_qlen;	/* icsk_accept_queue.fastopenq.max_qlen */
	char  ca_name[16];		/* icsk_ca_ops->name */
	__u8  pingpong;			/* icsk_ack.pingpong */
	__u8  pingpong_thresh;		/* sock_net(sk)->ipv4.sysctl_tcp_pingpong_thresh */
	__u8  retransmits;		/* icsk_retransmits */
	__u8  probes_out;		/* icsk_probes_out */
	__u8  backoff;			/* icsk_backoff */
	__u8  ca_state;			/* icsk_ca_state */
	__u16 pad3;

	/* What tcp_get_info() and the Diag column use. */
	__u32 snd_wnd;
	__u32 rcv_wnd;
	__u32 packets_out;
	__u32 since_ack;		/* tcp_jiffies32 - rcv_tstamp: jiffies since the last ACK */
	__u32 since_data_sent;		/* tcp_jiffies32 - lsndtime */
	__u32 since_data_recv;		/* tcp_jiffies32 - icsk_ack.lrcvtime */
	__u32 rto;			/* icsk_rto, jiffies */
	__u32 ato;			/* icsk_ack.ato, jiffies */
	__u32 rcv_mss;			/* icsk_ack.rcv_mss */
	__u32 pmtu;			/* icsk_pmtu_cookie */
	__u32 srtt_us;			/* tp->srtt_us (8 x the smoothed RTT in us) */
	__u32 mdev_us;			/* tp->mdev_us (4 x the RTT deviation in us) */
	__u32 snd_cwnd;
	__u32 advmss;
	__u32 sacked_out;
	__u32 lost_out;
	__u32 retrans_out;
	__u32 total_retrans;

	/* The kernel's byte accounting (tcp_get_info()'s RFC 4898 counters): which side sent the SYN. */
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 bytes_sent;
	__u64 bytes_retrans;
	__u32 notsent_bytes;		/* write_seq - snd_nxt, >= 0: written, not yet sent (tcpi_notsent_bytes) */
	__u32 file_flags;		/* f_flags of the fd's file (O_NONBLOCK ...), task walks only */
};

/* One fd of one process that holds a TCP/UDP socket (the owner walk). */
struct knetstat_owner {
	struct knetstat_hdr hdr;
	__u32 tgid;
	__s32 fd;
	__u64 inode;
	char  comm[16];			/* task->comm of the thread group leader */
};

/* The walk's last record: proof it ran to the end, and the kernel's clock. */
struct knetstat_end {
	struct knetstat_hdr hdr;
	__u64 jiffies;			/* jiffies_64 at the end of the walk */
	/*
	 * The reader's own network namespace's sysctls, in jiffies: with the
	 * seconds /proc/sys/net/ipv4 shows for them they give the kernel's HZ.
	 */
	__u32 sysctl_keepalive_time;
	__u32 sysctl_keepalive_intvl;
	__u32 sysctl_fin_timeout;
	__u32 pad;
};

#endif /* __KNETSTAT_RECORD_H */
