// The floor of the pidfd source (src/sources/pidfd.ts, src/linux/sockopt.ts):
// exactly its system calls for one process, from C, with nothing else. The fd
// listing (readdir and readlink of /proc/<pid>/fd), pidfd_open, and per socket
// pidfd_getfd, statx (is it still the listed inode), getsockname (family and
// local address), SO_PROTOCOL and SO_TYPE, getpeername, TCP_INFO, SIOCINQ and
// SIOCOUTQ (TCP not listening), SO_MEMINFO (the UDP queues, SO_RCVBUF and
// SO_SNDBUF), one getsockopt per other option of mappings/kernel-options.json
// (options.h, generated from it by bench/run.js), close. Prints one short line
// per socket, as a report must print something. Built by bench/run.js with gcc.
//
//   floor-pidfd <pid>
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "options.h" /* struct option_row OPTIONS[]: level, name, size, tcp, udp, v4, v6, listen_only */

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	char path[300], link[64], val[256];
	struct sockaddr_storage addr;
	struct tcp_info ti;
	unsigned int meminfo[16];
	unsigned long sockets = 0;
	struct dirent *e;
	int pid, pidfd;
	DIR *d;

	if (argc != 2)
		return 2;
	pid = atoi(argv[1]);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return 1;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return 1;
	while ((e = readdir(d))) {
		unsigned long inode;
		socklen_t len;
		ssize_t n;
		int fd, dup, family, proto, type, tcp, state = 0, listening;
		struct statx stx;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 8 || strncmp(link, "socket:[", 8))
			continue;
		link[n] = 0;
		inode = strtoul(link + 8, NULL, 10);
		fd = atoi(e->d_name);

		dup = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		if (dup < 0)
			continue;
		if (statx(dup, "", AT_EMPTY_PATH, STATX_INO, &stx) || stx.stx_ino != inode)
			goto next;
		len = sizeof(addr);
		if (getsockname(dup, (struct sockaddr *)&addr, &len) == 0)
			family = addr.ss_family;
		else
			family = getint(dup, SOL_SOCKET, SO_DOMAIN);
		if (family != AF_INET && family != AF_INET6)
			goto next;
		proto = getint(dup, SOL_SOCKET, SO_PROTOCOL);
		type = getint(dup, SOL_SOCKET, SO_TYPE);
		tcp = proto == IPPROTO_TCP && type == SOCK_STREAM;
		if (!tcp && !(proto == IPPROTO_UDP && type == SOCK_DGRAM))
			goto next;
		len = sizeof(addr);
		getpeername(dup, (struct sockaddr *)&addr, &len);
		if (tcp) {
			int q;

			len = sizeof(ti);
			if (getsockopt(dup, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
				state = ti.tcpi_state;
			if (state != TCP_LISTEN) {
				ioctl(dup, SIOCINQ, &q);
				ioctl(dup, SIOCOUTQ, &q);
			}
		}
		listening = tcp && state == TCP_LISTEN;
		len = sizeof(meminfo);
		if (getsockopt(dup, SOL_SOCKET, SO_MEMINFO, meminfo, &len) < 0)
			len = 0;
		for (unsigned int i = 0; i < sizeof(OPTIONS) / sizeof(OPTIONS[0]); i++) {
			const struct option_row *o = &OPTIONS[i];

			if (!(tcp ? o->tcp : o->udp) || !(family == AF_INET ? o->v4 : o->v6))
				continue;
			if (o->listen_only && !listening)
				continue;
			if (o->level == SOL_SOCKET && (o->name == SO_RCVBUF || o->name == SO_SNDBUF) && len >= 16)
				continue;
			socklen_t l = o->size;

			getsockopt(dup, o->level, o->name, val, &l);
		}
		printf("%d %lu %d %u %u\n", fd, inode, state, len >= 16 ? meminfo[1] : 0, len >= 16 ? meminfo[3] : 0);
		sockets++;
next:
		close(dup);
	}
	close(pidfd);
	closedir(d);
	fprintf(stderr, "%lu sockets\n", sockets);
	return 0;
}
