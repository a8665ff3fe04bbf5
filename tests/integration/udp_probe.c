/*
 * udp_probe: the smallest UDP tool the namespace tests need.
 *
 *   udp_probe echo BIND_ADDR PORT COUNT
 *	Answers each datagram with "from <ip>:<port>", the source address it saw, and logs the
 *	same line on stdout. Exits 0 after COUNT datagrams or on SIGTERM/SIGINT, 1 when the
 *	timeout (default 30 s) expires first.
 *   udp_probe send LOCAL_PORT DEST_ADDR DEST_PORT [DEST_PORT2]
 *	Binds LOCAL_PORT on the wildcard address, sends one datagram to each destination from
 *	that one socket, prints "local <port> reply <text>" per reply and exits 0 once it has as
 *	many replies as destinations, 1 on timeout (default 3 s).
 *
 * Exit 2 on usage or socket errors (ENETUNREACH included). Addresses are numeric, IPv4 or
 * IPv6; IPv6 prints as "[addr]:port" and v4-mapped addresses print as IPv4.
 * UDP_PROBE_TIMEOUT_MS overrides the timeout of either mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_TIMEOUT = 1, EXIT_ERROR = 2 };

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses a decimal in [min, max]; -1 when it is not one. */
static long parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

static int timeout_ms(int dflt)
{
	const char *s = getenv("UDP_PROBE_TIMEOUT_MS");
	long v = s ? parse_num(s, 0, 3600 * 1000) : -1;

	return v < 0 ? dflt : (int)v;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	int err;

	if (parse_num(port, 0, 65535) < 0) {
		fprintf(stderr, "udp_probe: bad port '%s'\n", port);
		return -1;
	}
	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "udp_probe: bad address '%s': %s\n", host, gai_strerror(err));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, sizeof(ip));
			snprintf(buf, size, "%s:%u", ip, ntohs(s6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
		}
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

static int bound_socket(const struct sockaddr_storage *ss, socklen_t len)
{
	char name[INET6_ADDRSTRLEN + 8];
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, len) < 0) {
		format_addr(ss, name, sizeof(name));
		fprintf(stderr, "udp_probe: bind %s: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* 1 when fd is readable, 0 at the deadline or on a stop signal, -1 on error. */
static int wait_readable(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!stop_requested) {
		long long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR) {
			perror("udp_probe: poll");
			return -1;
		}
	}
	return 0;
}

static int run_echo(const char *addr, const char *port, const char *count_arg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long count = parse_num(count_arg, 1, 1000000);
	long long deadline;
	char self[INET6_ADDRSTRLEN + 8];
	long n;
	int fd;

	if (count < 0) {
		fprintf(stderr, "udp_probe: bad COUNT '%s'\n", count_arg);
		return EXIT_ERROR;
	}
	if (parse_addr(addr, port, &ss, &len) < 0)
		return EXIT_ERROR;
	fd = bound_socket(&ss, len);
	if (fd < 0)
		return EXIT_ERROR;
	format_addr(&ss, self, sizeof(self));
	printf("echo listening on %s for %ld datagrams\n", self, count);
	fflush(stdout);

	deadline = now_ms() + timeout_ms(30000);
	for (n = 0; n < count; n++) {
		struct sockaddr_storage src;
		socklen_t srclen = sizeof(src);
		char text[INET6_ADDRSTRLEN + 16], from[INET6_ADDRSTRLEN + 8], buf[1500];
		int r = wait_readable(fd, deadline);

		if (r < 0)
			return EXIT_ERROR;
		if (r == 0) {
			if (stop_requested) {
				printf("echo stopped after %ld datagrams\n", n);
				return 0;
			}
			fprintf(stderr, "udp_probe: echo timeout after %ld of %ld datagrams\n", n,
				count);
			return EXIT_TIMEOUT;
		}
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &srclen) < 0) {
			perror("udp_probe: recvfrom");
			return EXIT_ERROR;
		}
		format_addr(&src, from, sizeof(from));
		snprintf(text, sizeof(text), "from %s", from);
		if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&src, srclen) < 0)
			fprintf(stderr, "udp_probe: reply to %s: %s\n", from, strerror(errno));
		printf("echo %s\n", text);
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int run_send(int ndst, char **argv)
{
	struct sockaddr_storage dst[2], local;
	socklen_t dstlen[2], locallen = sizeof(local);
	unsigned int lport;
	long port = parse_num(argv[0], 0, 65535);
	long long deadline;
	int fd, i, got;

	if (port < 0) {
		fprintf(stderr, "udp_probe: bad LOCAL_PORT '%s'\n", argv[0]);
		return EXIT_ERROR;
	}
	for (i = 0; i < ndst; i++) {
		if (parse_addr(argv[1], argv[2 + i], &dst[i], &dstlen[i]) < 0)
			return EXIT_ERROR;
	}
	memset(&local, 0, sizeof(local));
	local.ss_family = dst[0].ss_family;
	if (local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&local)->sin_port = htons((uint16_t)port);
	fd = bound_socket(&local, dstlen[0]);
	if (fd < 0)
		return EXIT_ERROR;
	getsockname(fd, (struct sockaddr *)&local, &locallen);
	lport = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&local)->sin6_port
						  : ((struct sockaddr_in *)&local)->sin_port);

	for (i = 0; i < ndst; i++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "probe %d", i);
		if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&dst[i], dstlen[i]) < 0) {
			fprintf(stderr, "udp_probe: send to %s port %s: %s\n", argv[1], argv[2 + i],
				strerror(errno));
			return EXIT_ERROR;
		}
	}

	deadline = now_ms() + timeout_ms(3000);
	for (got = 0; got < ndst; got++) {
		char buf[256];
		ssize_t n;
		int r = wait_readable(fd, deadline);

		if (r <= 0) {
			fprintf(stderr, "udp_probe: timeout, %d of %d replies on local port %u\n",
				got, ndst, lport);
			return r < 0 ? EXIT_ERROR : EXIT_TIMEOUT;
		}
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0) {
			perror("udp_probe: recv");
			return EXIT_ERROR;
		}
		buf[n] = '\0';
		printf("local %u reply %s\n", lport, buf);
	}
	close(fd);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: udp_probe echo BIND_ADDR PORT COUNT\n"
			"       udp_probe send LOCAL_PORT DEST_ADDR DEST_PORT [DEST_PORT2]\n");
	return EXIT_ERROR;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };

	/* No SA_RESTART: a stop signal interrupts poll() and the loop returns cleanly. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (argc == 5 && strcmp(argv[1], "echo") == 0)
		return run_echo(argv[2], argv[3], argv[4]);
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "send") == 0)
		return run_send(argc - 4, argv + 2);
	return usage();
}
