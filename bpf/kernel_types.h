/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The few kernel types knetstat.bpf.c reads, kept by hand instead of a
 * vmlinux.h dumped from the build machine's kernel: the object then builds the
 * same anywhere, and CO-RE (preserve_access_index) relocates every access
 * against the running kernel's BTF when libbpf loads it. Only field names
 * matter here, not their order or offsets. Fields that are bitfields on some
 * kernels and plain integers on others are read with BPF_CORE_READ_BITFIELD*,
 * which works for both. The ___old flavours describe fields that later moved
 * (into inet->inet_flags between 6.1 and 6.12); a field missing from the running
 * kernel is only ever read behind bpf_core_field_exists().
 */
#ifndef __KNETSTAT_KERNEL_TYPES_H
#define __KNETSTAT_KERNEL_TYPES_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
typedef int pid_t;
typedef __u32 uid_t;

enum {
	false = 0,
	true = 1,
};

enum bpf_map_type {
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
};

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

struct seq_file;
struct cgroup;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

typedef struct {
	int counter;
} atomic_t;

typedef struct refcount_struct {
	atomic_t refs;
} refcount_t;

struct ns_common {
	unsigned int inum;
};

struct netns_ipv4 {
	int sysctl_tcp_keepalive_time;
	int sysctl_tcp_keepalive_intvl;
	u8 sysctl_tcp_keepalive_probes;
	u8 sysctl_tcp_pingpong_thresh;		/* by 6.12 (absent in 6.1) */
	int sysctl_tcp_fin_timeout;
};

struct net {
	struct ns_common ns;
	struct netns_ipv4 ipv4;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct nsproxy {
	struct net *net_ns;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	struct task_struct *group_leader;
	char comm[16];
	struct nsproxy *nsproxy;
};

struct inode {
	unsigned long i_ino;
};

struct file {
	struct inode *f_inode;
	unsigned int f_flags;
};

struct sock;

struct socket {
	struct sock *sk;
};

struct socket_alloc {
	struct socket socket;
	struct inode vfs_inode;
};

struct in6_addr {
	__u8 s6_addr[16];
};

struct hlist_node {
	struct hlist_node *next;
	struct hlist_node **pprev;
};

struct timer_list {
	struct hlist_node entry;
	unsigned long expires;
};

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	unsigned char skc_reuse:4;
	unsigned char skc_reuseport:1;
	unsigned char skc_ipv6only:1;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	unsigned long skc_flags;
};

struct sock_cgroup_data {
	struct cgroup *cgroup;
	u32 classid;				/* CONFIG_CGROUP_NET_CLASSID */
	u16 prioidx;				/* CONFIG_CGROUP_NET_PRIO */
};

struct sock {
	struct sock_common __sk_common;
	struct {
		atomic_t rmem_alloc;
	} sk_backlog;
	int sk_rcvbuf;
	int sk_sndbuf;
	refcount_t sk_wmem_alloc;
	u8 sk_userlocks;			/* a 4-bit bitfield in 6.1, a u8 by 6.12 */
	u8 sk_shutdown;
	u16 sk_type;
	u16 sk_protocol;
	unsigned long sk_lingertime;
	long sk_rcvtimeo;
	long sk_sndtimeo;
	u32 sk_priority;
	u32 sk_mark;
	u32 sk_ack_backlog;
	u32 sk_max_ack_backlog;
	struct socket *sk_socket;
	struct sock_cgroup_data sk_cgrp_data;
	struct timer_list sk_timer;
};

struct ipv6_pinfo {
	s16 mcast_hops;				/* a signed 9-bit bitfield in 6.1, a u8 by 6.12 */
	u8 tclass;
};

/* 6.1: the IPv6 multicast flags are bits of struct ipv6_pinfo (of inet_flags by 6.12). */
struct ipv6_pinfo___old {
	__u16 mc_loop:1;
	__u16 mc_all:1;
};

struct inet_sock {
	struct sock sk;
	struct ipv6_pinfo *pinet6;
	unsigned long inet_flags;		/* by 6.12 (absent in 6.1) */
	__be16 inet_sport;
	__u8 tos;
	__u8 mc_ttl;
};

/* 6.1: the IPv4 multicast flags are bits of struct inet_sock (of inet_flags by 6.12). */
struct inet_sock___old {
	__u8 mc_loop:1;
	__u8 mc_all:1;
};

struct fastopen_queue {
	int max_qlen;
};

struct request_sock_queue {
	u8 rskq_defer_accept;
	struct fastopen_queue fastopenq;
};

struct tcp_congestion_ops {
	char name[16];
};

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	struct request_sock_queue icsk_accept_queue;
	struct timer_list icsk_retransmit_timer;
	unsigned long icsk_timeout;		/* gone by 6.18: then the timer's own expiry */
	__u32 icsk_rto;
	__u32 icsk_pmtu_cookie;
	const struct tcp_congestion_ops *icsk_ca_ops;
	__u8 icsk_ca_state:5;
	__u8 icsk_ca_setsockopt:1;
	__u8 icsk_retransmits;
	__u8 icsk_pending;
	__u8 icsk_backoff;
	__u8 icsk_probes_out;
	struct {
		__u8 pingpong;
		__u32 ato;			/* a u8 in 6.1, an 8-bit bitfield by 6.12 */
		__u32 lrcvtime;
		__u16 rcv_mss;
	} icsk_ack;
	__u32 icsk_user_timeout;
};

struct tcp_options_received {
	u16 user_mss;
	u16 mss_clamp;
};

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	u32 rcv_nxt;
	u32 copied_seq;
	u32 write_seq;
	u32 snd_una;
	u32 snd_nxt;
	u64 bytes_received;
	u64 bytes_acked;
	u64 bytes_sent;
	u64 bytes_retrans;
	u32 snd_wnd;
	u32 rcv_wnd;
	u32 packets_out;
	u32 rcv_tstamp;
	u32 lsndtime;
	u32 srtt_us;
	u32 mdev_us;
	u32 snd_cwnd;
	u32 mss_cache;
	u16 advmss;
	u32 sacked_out;
	u32 lost_out;
	u32 retrans_out;
	u32 total_retrans;
	u8 nonagle:4;
	u8 repair:1;
	u32 notsent_lowat;
	unsigned int keepalive_time;
	unsigned int keepalive_intvl;
	u8 keepalive_probes;
	struct tcp_options_received rx_opt;
};

struct udp_sock {
	struct inet_sock inet;
	int forward_deficit;
};

struct inet_timewait_sock {
	struct sock_common __tw_common;
	volatile unsigned char tw_substate;
};

struct tcp_timewait_sock {
	struct inet_timewait_sock tw_sk;
};

struct request_sock {
	struct sock_common __req_common;
};

struct tcp6_sock;
struct tcp_request_sock;
struct udp6_sock;
struct mptcp_sock;
struct unix_sock;

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	u32 fd;
	struct file *file;
};

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	uid_t uid;
};

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
	uid_t uid;
	int bucket;
};

#pragma clang attribute pop

/* Bit numbers in sk_flags: relocated against the running kernel's enum. */
enum sock_flags {
	SOCK_URGINLINE = 2,
	SOCK_KEEPOPEN = 3,
	SOCK_LINGER = 4,
	SOCK_BROADCAST = 6,
};

#endif /* __KNETSTAT_KERNEL_TYPES_H */
