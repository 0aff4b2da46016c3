// SPDX-License-Identifier: MIT
/*
 * Socket churn for the knetstat module stress test: several threads open
 * and close TCP listeners, connections (leaving TIME_WAIT entries) and UDP
 * sockets, IPv4 and IPv6, on loopback only, until a deadline.
 *
 *   stress THREADS MAX_SECONDS [STOP_FILE]
 *   stress hold SECONDS
 *   stress idle SECONDS [N]
 *   stress read FILE CHUNK
 *
 * It stops at MAX_SECONDS or as soon as STOP_FILE exists; MAX_SECONDS 0
 * means one round per thread.
 * Prints "stress sockets=N errors=E" and exits 0 when no unexpected error.
 *
 * "hold" sets up sockets with options Java cannot set and keeps them for
 * SECONDS: an IPv4 listener with TCP_DEFER_ACCEPT (its handshakes stay
 * SYN_RECV request sockets until data arrives, or for the 6 SYN-ACK
 * retransmissions that 60 s round up to: 63 s) and TCP_FASTOPEN, and two
 * clients of it with SO_RCVTIMEO, SO_SNDTIMEO, TCP_USER_TIMEOUT and
 * SO_LINGER; an IPv6 UDP socket with SO_RCVTIMEO. It prints
 * HOLD {"listener":P,"c1":P,"c2":P,"udp":P} when ready.
 *
 * "idle" opens N (default 300) idle sockets, v4 and v6: a third are
 * listeners, each with one connection to it (client and accepted socket),
 * the rest UDP, so that the tables span many seq_file pages and both TCP
 * hashes. It prints IDLE when ready and keeps them SECONDS.
 *
 * "read" copies FILE to stdout in read() calls of CHUNK bytes, the way a
 * reader with a tiny buffer would, and prints "READ bytes=B reads=R
 * cpu_ns=T" on stderr: T is this process's CPU time (user and system)
 * spent in the loop, which is nearly all in the kernel's seq_file code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_long sockets;
static atomic_long errors;
static time_t deadline;
static const char *stop_file;

static socklen_t loopback(int family, struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

static void fail(const char *what)
{
	/* Port exhaustion under heavy TIME_WAIT is expected; count the rest. */
	if (errno != EADDRNOTAVAIL && errno != EADDRINUSE)
		atomic_fetch_add(&errors, 1);
	(void)what;
}

static void tcp_round(int family, int n)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, 0);
	int one = 1, l, c, a;
	char buf[64] = "x";

	l = socket(family, SOCK_STREAM, 0);
	if (l < 0)
		return fail("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&ss, len) || listen(l, 16) ||
	    getsockname(l, (struct sockaddr *)&ss, &len)) {
		fail("listen");
		close(l);
		return;
	}
	c = socket(family, SOCK_STREAM, 0);
	if (c < 0) {
		fail("socket");
		close(l);
		return;
	}
	if (n & 1)
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (n & 2)
		setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(c, (struct sockaddr *)&ss, len)) {
		fail("connect");
		close(c);
		close(l);
		return;
	}
	a = accept(l, NULL, NULL);
	if (a >= 0) {
		if (write(c, buf, 1) != 1 || read(a, buf, sizeof(buf)) != 1)
			fail("io");
		atomic_fetch_add(&sockets, 1);
		/* Alternate the active closer so both sides reach TIME_WAIT. */
		if (n & 4) {
			close(a);
			close(c);
		} else {
			close(c);
			close(a);
		}
	} else {
		fail("accept");
		close(c);
	}
	close(l);
	atomic_fetch_add(&sockets, 2);
}

static void udp_round(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, 0);
	int u = socket(family, SOCK_DGRAM, 0);

	if (u < 0)
		return fail("udp");
	if (bind(u, (struct sockaddr *)&ss, len) == 0 &&
	    getsockname(u, (struct sockaddr *)&ss, &len) == 0)
		sendto(u, "x", 1, 0, (struct sockaddr *)&ss, len);
	close(u);
	atomic_fetch_add(&sockets, 1);
}

static void *worker(void *arg)
{
	int n = (int)(long)arg;

	do {
		int family = (n & 1) ? AF_INET6 : AF_INET;

		tcp_round(family, n);
		udp_round(family);
		n++;
	} while (time(NULL) < deadline &&
		 !(stop_file && access(stop_file, F_OK) == 0));
	return NULL;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int hold(int seconds)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(AF_INET, &ss, 0);
	struct timeval rcv = { .tv_sec = 1, .tv_usec = 0 };
	struct timeval snd = { .tv_sec = 0, .tv_usec = 500000 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int defer = 60, qlen = 16, user_timeout = 30000;
	int l, c1, c2, u;

	l = socket(AF_INET, SOCK_STREAM, 0);
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	if (l < 0 || c1 < 0 || c2 < 0 || u < 0 ||
	    setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)) ||
	    setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)) ||
	    bind(l, (struct sockaddr *)&ss, len) || listen(l, 8) ||
	    getsockname(l, (struct sockaddr *)&ss, &len) ||
	    setsockopt(c1, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) ||
	    setsockopt(c1, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)) ||
	    setsockopt(c1, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout)) ||
	    setsockopt(c2, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    connect(c1, (struct sockaddr *)&ss, len) ||
	    connect(c2, (struct sockaddr *)&ss, len)) {
		perror("hold");
		return 1;
	}
	len = loopback(AF_INET6, &ss, 0);
	if (setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) ||
	    bind(u, (struct sockaddr *)&ss, len)) {
		perror("hold udp");
		return 1;
	}
	printf("HOLD {\"pid\":%d,\"listener\":%d,\"c1\":%d,\"c2\":%d,\"udp\":%d}\n",
	       (int)getpid(), local_port(l), local_port(c1), local_port(c2), local_port(u));
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static int idle(int seconds, int n)
{
	struct rlimit nofile = { .rlim_cur = 2 * n + 64, .rlim_max = 2 * n + 64 };
	struct sockaddr_storage ss;

	/* Root may raise the limit; the guest's default (1024) is too small. */
	if (nofile.rlim_cur > 1024)
		setrlimit(RLIMIT_NOFILE, &nofile);
	for (int i = 0; i < n; i++) {
		int fam = (i & 1) ? AF_INET6 : AF_INET;
		int tcp = (i % 3) == 0;
		int fd = socket(fam, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
		socklen_t len = loopback(fam, &ss, 0);
		int c;

		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) ||
		    (tcp && listen(fd, 4))) {
			perror("idle");
			return 1;
		}
		if (!tcp)
			continue;
		c = socket(fam, SOCK_STREAM, 0);
		if (c < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) ||
		    connect(c, (struct sockaddr *)&ss, len) ||
		    accept(fd, NULL, NULL) < 0) {
			perror("idle connect");
			return 1;
		}
	}
	printf("IDLE\n");
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int read_file(const char *file, int chunk)
{
	char buf[65536];
	long long bytes = 0, reads = 0, t0;
	int fd = open(file, O_RDONLY);
	ssize_t r;

	if (fd < 0 || chunk < 1 || chunk > (int)sizeof(buf)) {
		perror(file);
		return 1;
	}
	t0 = cpu_ns();
	while ((r = read(fd, buf, chunk)) > 0) {
		bytes += r;
		reads++;
		if (fwrite(buf, 1, r, stdout) != (size_t)r)
			return 1;
	}
	t0 = cpu_ns() - t0;
	close(fd);
	fflush(stdout);
	fprintf(stderr, "READ bytes=%lld reads=%lld cpu_ns=%lld\n", bytes, reads, t0);
	return r < 0;
}

int main(int argc, char **argv)
{
	int threads, seconds, i;
	pthread_t tid[64];

	if (argc > 2 && strcmp(argv[1], "hold") == 0)
		return hold(atoi(argv[2]));
	if (argc > 2 && strcmp(argv[1], "idle") == 0)
		return idle(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 300);
	if (argc > 3 && strcmp(argv[1], "read") == 0)
		return read_file(argv[2], atoi(argv[3]));
	threads = argc > 1 ? atoi(argv[1]) : 4;
	seconds = argc > 2 ? atoi(argv[2]) : 10;

	if (threads < 1 || threads > 64 || seconds < 0)
		threads = 4;
	stop_file = argc > 3 ? argv[3] : NULL;
	deadline = time(NULL) + seconds;
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, (void *)(long)i);
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("stress sockets=%ld errors=%ld\n", atomic_load(&sockets),
	       atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
