/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtp_load: RTP traffic for the relay tests and benchmark. One program, three modes; every
 * mode is bounded in packets and in time, and prints one summary line of key=value pairs.
 *
 *   rtp_load stream BIND_IP:PORT DEST_IP:PORT COUNT PPS SSRC [LINGER_MS [PEER_SSRC]]
 *	One endpoint of a call: sends COUNT RTP packets (12-byte header + 160 bytes of G.711
 *	silence, PT 8) with SSRC at PPS from BIND to DEST, and counts the RTP packets it receives
 *	on the same socket until LINGER_MS (default 1000) after its last send. Prints
 *	"sent=N received=M from_peer=P sources=ip:port,..." (P: those with PEER_SSRC; the
 *	sources: the distinct addresses it received from). RTP_LOAD_DELAY_MS in the environment
 *	delays the first send (the socket is bound and receives from the start).
 *
 *   rtp_load spray BIND_IP DEST_IP PORT_LO PORT_HI PPS DURATION_MS
 *	The RTP Bleed attacker: sends RTP-looking packets to every port PORT_LO..PORT_HI of
 *	DEST_IP in turn, PPS in total, for DURATION_MS, from one socket (an ephemeral port of
 *	BIND_IP), and counts every packet that comes back. Prints "sprayed=N received=M".
 *	Exit 0 either way: the caller decides what received>0 means.
 *
 *   rtp_load bench STREAMS_FILE PPS DURATION_MS [SOCKETS]
 *	The load of bench_relay.sh. STREAMS_FILE: one line "A_IP A_PORT B_IP B_PORT" per stream:
 *	relay address:port side A sends to, and the one side B sends to. Side A's sockets are
 *	bound to 127.0.0.1, side B's to 127.0.0.2, SOCKETS per side (default 4) on the ports
 *	given by RTP_LOAD_PORT_A / RTP_LOAD_PORT_B (first port, default 41000 / 42000; the
 *	streams' SDPs must name them: stream i uses socket i % SOCKETS). Each stream sends PPS
 *	packets per second in each direction for DURATION_MS with sendmmsg, paced in 1 ms ticks;
 *	recvmmsg counts what arrives (by SSRC: 2i from A, 2i+1 from B), then drains until
 *	300 ms pass without a packet (at most 2 s).
 *	A generator that falls behind catches up 4 batches per socket at a time, and gives up
 *	2 s after DURATION_MS (elapsed_s then shows it could not keep the rate).
 *	Prints "streams= pps_offered= sent= received= loss_pct= elapsed_s= rx_pps= tx_pps=".
 *
 * Exit 2 on usage or socket errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_LEN	 172
#define BATCH	 64
#define MAX_SRCS 16

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int parse_ipport(const char *s, struct sockaddr_in *sa)
{
	char ip[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static int udp_socket(const struct sockaddr_in *bind_sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int one = 1, buf = 8 << 20;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* root may exceed rmem_max; otherwise the plain option caps it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (const struct sockaddr *)bind_sa, sizeof(*bind_sa)) < 0)
		die("bind");
	return fd;
}

static void rtp_fill(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = 8; /* PCMA */
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	memset(p + 12, 0xd5, PKT_LEN - 12); /* A-law silence */
}

static int is_rtp(const uint8_t *p, ssize_t n)
{
	return n >= 12 && (p[0] & 0xc0) == 0x80 && (p[1] & 0x7f) < 72;
}

static uint32_t rtp_ssrc(const uint8_t *p)
{
	return (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
}

/* ---- stream ---------------------------------------------------------------------------- */

static int mode_stream(int argc, char **argv)
{
	struct sockaddr_in bind_sa, dst;
	struct sockaddr_in srcs[MAX_SRCS];
	unsigned nsrcs = 0;
	long count, pps, linger_ms = 1000;
	uint32_t ssrc, peer_ssrc = 0;
	uint64_t start, end_us, sent = 0, received = 0, from_peer = 0;
	uint8_t pkt[PKT_LEN], rx[2048];
	int fd;

	if (argc < 7 || parse_ipport(argv[2], &bind_sa) || parse_ipport(argv[3], &dst)) {
		fprintf(stderr, "usage: rtp_load stream BIND_IP:PORT DEST_IP:PORT COUNT PPS SSRC "
				"[LINGER_MS]\n");
		return 2;
	}
	count = atol(argv[4]);
	pps = atol(argv[5]);
	ssrc = (uint32_t)strtoul(argv[6], NULL, 0);
	if (argc > 7)
		linger_ms = atol(argv[7]);
	if (argc > 8)
		peer_ssrc = (uint32_t)strtoul(argv[8], NULL, 0);
	if (count < 0 || count > 1000000 || pps < 1 || pps > 100000 || linger_ms < 0 ||
	    linger_ms > 60000)
		return 2;
	fd = udp_socket(&bind_sa);
	start = now_us();
	if (getenv("RTP_LOAD_DELAY_MS"))
		start += (uint64_t)strtoul(getenv("RTP_LOAD_DELAY_MS"), NULL, 10) % 60000u * 1000u;
	end_us = start + (uint64_t)count * 1000000u / (uint64_t)pps + (uint64_t)linger_ms * 1000u;
	for (;;) {
		uint64_t t = now_us();
		uint64_t due = t < start ? 0 : (t - start) * (uint64_t)pps / 1000000u + 1;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms;

		while (sent < (uint64_t)count && sent < due) {
			rtp_fill(pkt, (uint16_t)sent, (uint32_t)sent * 160u, ssrc);
			if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) <
				0 &&
			    errno != EAGAIN && errno != ECONNREFUSED && errno != EHOSTUNREACH &&
			    errno != ENETUNREACH)
				die("sendto");
			sent++;
		}
		if (t >= end_us)
			break;
		wait_ms = sent < (uint64_t)count ? 2 : (int)((end_us - t) / 1000u) + 1;
		if (poll(&pfd, 1, wait_ms) > 0) {
			for (;;) {
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				ssize_t n =
				    recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&from, &fl);
				unsigned i;

				if (n < 0)
					break;
				if (!is_rtp(rx, n))
					continue;
				received++;
				if (argc > 8 && rtp_ssrc(rx) == peer_ssrc)
					from_peer++;
				for (i = 0; i < nsrcs; i++)
					if (srcs[i].sin_addr.s_addr == from.sin_addr.s_addr &&
					    srcs[i].sin_port == from.sin_port)
						break;
				if (i == nsrcs && nsrcs < MAX_SRCS)
					srcs[nsrcs++] = from;
			}
		}
	}
	printf("sent=%llu received=%llu from_peer=%llu sources=", (unsigned long long)sent,
	       (unsigned long long)received, (unsigned long long)from_peer);
	for (unsigned i = 0; i < nsrcs; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &srcs[i].sin_addr, a, sizeof(a));
		printf("%s%s:%u", i ? "," : "", a, ntohs(srcs[i].sin_port));
	}
	printf("\n");
	close(fd);
	return 0;
}

/* ---- spray ----------------------------------------------------------------------------- */

static int mode_spray(int argc, char **argv)
{
	struct sockaddr_in bind_sa = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	long lo, hi, pps, dur_ms;
	uint64_t start, sprayed = 0, received = 0, port_i = 0;
	uint8_t pkt[PKT_LEN], rx[2048];
	int fd;

	if (argc != 8 || inet_pton(AF_INET, argv[2], &bind_sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &dst.sin_addr) != 1) {
		fprintf(stderr,
			"usage: rtp_load spray BIND_IP DEST_IP PORT_LO PORT_HI PPS DURATION_MS\n");
		return 2;
	}
	lo = atol(argv[4]);
	hi = atol(argv[5]);
	pps = atol(argv[6]);
	dur_ms = atol(argv[7]);
	if (lo < 1 || hi > 65535 || lo > hi || pps < 1 || pps > 20000 || dur_ms < 0 ||
	    dur_ms > 120000)
		return 2;
	fd = udp_socket(&bind_sa);
	start = now_us();
	for (;;) {
		uint64_t t = now_us();
		uint64_t due = (t - start) * (uint64_t)pps / 1000000u + 1;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (t - start >= (uint64_t)dur_ms * 1000u)
			break;
		while (sprayed < due) {
			dst.sin_port =
			    htons((uint16_t)(lo + (long)(port_i++ % (uint64_t)(hi - lo + 1))));
			rtp_fill(pkt, (uint16_t)sprayed, (uint32_t)sprayed * 160u, 0xbadbad00u);
			sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst));
			sprayed++;
		}
		if (poll(&pfd, 1, 1) > 0) {
			while (recv(fd, rx, sizeof(rx), 0) >= 0)
				received++;
		}
	}
	while (recv(fd, rx, sizeof(rx), 0) >= 0)
		received++;
	printf("sprayed=%llu received=%llu\n", (unsigned long long)sprayed,
	       (unsigned long long)received);
	close(fd);
	return 0;
}

/* ---- bench ----------------------------------------------------------------------------- */

struct stream {
	struct sockaddr_in to[2]; /* relay address side A sends to, side B sends to */
	uint16_t seq[2];
};

static uint64_t drain(int fd, struct mmsghdr *msgs, struct iovec *iov, uint8_t (*bufs)[2048],
		      uint64_t *per_side, unsigned nstreams)
{
	uint64_t got = 0;

	for (;;) {
		int n;

		/* only the RTP header is read (the SSRC says which side): MSG_TRUNC still
		 * reports the whole length and the kernel copies 12 bytes, not 172 */
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = 12;
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			if (!is_rtp(bufs[i], msgs[i].msg_len))
				continue;
			uint32_t s = rtp_ssrc(bufs[i]);
			if (s / 2 < nstreams)
				per_side[s & 1]++;
			got++;
		}
	}
	return got;
}

/* Waits up to @p timeout_ms for any of the bench sockets, then drains the readable ones. */
static void poll_drain(int (*fds)[64], unsigned nsock, int timeout_ms, struct mmsghdr *msgs,
		       struct iovec *iov, uint8_t (*bufs)[2048], uint64_t *per_side,
		       unsigned nstreams)
{
	struct pollfd pfd[128];
	unsigned n = 0;

	for (int s = 0; s < 2; s++)
		for (unsigned k = 0; k < nsock; k++)
			pfd[n++] = (struct pollfd){ .fd = fds[s][k], .events = POLLIN };
	if (poll(pfd, n, timeout_ms) <= 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
			drain(pfd[i].fd, msgs, iov, bufs, per_side, nstreams);
}

static int mode_bench(int argc, char **argv)
{
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static uint8_t bufs[BATCH][2048];
	static uint8_t tx[BATCH][PKT_LEN];
	struct stream *st = NULL;
	unsigned nstreams = 0, cap = 0, nsock = 4;
	long pps, dur_ms;
	int fds[2][64];
	unsigned *members[2][64], nmem[2][64];
	uint64_t gsent[2][64], gtotal[2][64];
	uint64_t start, sent = 0, sent_side[2] = { 0, 0 }, recv_side[2] = { 0, 0 }, elapsed;
	const char *ip[2] = { "127.0.0.1", "127.0.0.2" };
	int port0[2];
	char line[256];
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: rtp_load bench STREAMS_FILE PPS DURATION_MS [SOCKETS]\n");
		return 2;
	}
	pps = atol(argv[3]);
	dur_ms = atol(argv[4]);
	if (argc > 5)
		nsock = (unsigned)atoi(argv[5]);
	if (pps < 1 || pps > 1000 || dur_ms < 100 || dur_ms > 60000 || nsock < 1 || nsock > 64)
		return 2;
	port0[0] = getenv("RTP_LOAD_PORT_A") ? atoi(getenv("RTP_LOAD_PORT_A")) : 41000;
	port0[1] = getenv("RTP_LOAD_PORT_B") ? atoi(getenv("RTP_LOAD_PORT_B")) : 42000;
	f = fopen(argv[2], "r");
	if (!f)
		die(argv[2]);
	while (fgets(line, sizeof(line), f)) {
		char a[64], b[64];
		int pa, pb;

		if (sscanf(line, "%63s %d %63s %d", a, &pa, b, &pb) != 4)
			continue;
		if (nstreams == cap) {
			cap = cap ? cap * 2 : 256;
			st = realloc(st, cap * sizeof(*st));
			if (!st)
				die("realloc");
		}
		memset(&st[nstreams], 0, sizeof(*st));
		for (int s = 0; s < 2; s++) {
			st[nstreams].to[s].sin_family = AF_INET;
			st[nstreams].to[s].sin_port = htons((uint16_t)(s ? pb : pa));
			if (inet_pton(AF_INET, s ? b : a, &st[nstreams].to[s].sin_addr) != 1) {
				fprintf(stderr, "bad address in %s\n", line);
				return 2;
			}
		}
		nstreams++;
	}
	fclose(f);
	if (!nstreams) {
		fprintf(stderr, "no streams in %s\n", argv[2]);
		return 2;
	}
	if (nsock > nstreams)
		nsock = nstreams;
	/* stream i uses socket i % nsock on each side; a (side, socket) group sends its
	 * streams' packets round robin, paced to members * pps per second */
	for (int s = 0; s < 2; s++)
		for (unsigned k = 0; k < nsock; k++) {
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port =
						      htons((uint16_t)(port0[s] + (int)k)) };
			inet_pton(AF_INET, ip[s], &sa.sin_addr);
			fds[s][k] = udp_socket(&sa);
			members[s][k] = calloc(nstreams / nsock + 1, sizeof(unsigned));
			if (!members[s][k])
				die("calloc");
			nmem[s][k] = 0;
			gsent[s][k] = 0;
		}
	for (unsigned i = 0; i < nstreams; i++)
		for (int s = 0; s < 2; s++)
			members[s][i % nsock][nmem[s][i % nsock]++] = i;
	for (int s = 0; s < 2; s++)
		for (unsigned k = 0; k < nsock; k++)
			gtotal[s][k] =
			    (uint64_t)nmem[s][k] * (uint64_t)pps * (uint64_t)dur_ms / 1000u;

	start = now_us();
	for (;;) {
		uint64_t t = now_us() - start;
		int busy = 0, left = 0;

		for (int s = 0; s < 2; s++)
			for (unsigned k = 0; k < nsock; k++) {
				uint64_t due = t * (uint64_t)nmem[s][k] * (uint64_t)pps / 1000000u;

				if (due > gtotal[s][k])
					due = gtotal[s][k];
				if (gsent[s][k] < gtotal[s][k])
					left = 1;
				/* at most 4 batches per socket per round, then receive: a generator
				 * that fell behind catches up without bursts that overflow buffers
				 */
				for (int b = 0; b < 4 && gsent[s][k] < due; b++) {
					unsigned n = 0;
					int r;

					while (gsent[s][k] + n < due && n < BATCH) {
						unsigned si =
						    members[s][k][(gsent[s][k] + n) % nmem[s][k]];

						rtp_fill(tx[n], st[si].seq[s],
							 (uint32_t)st[si].seq[s] * 160u,
							 si * 2u + (unsigned)s);
						st[si].seq[s]++;
						iov[n].iov_base = tx[n];
						iov[n].iov_len = PKT_LEN;
						msgs[n].msg_hdr =
						    (struct msghdr){ .msg_name = &st[si].to[s],
								     .msg_namelen =
									 sizeof(struct sockaddr_in),
								     .msg_iov = &iov[n],
								     .msg_iovlen = 1 };
						n++;
					}
					r = sendmmsg(fds[s][k], msgs, n, 0);
					if (r < 0 && errno != EAGAIN && errno != ECONNREFUSED)
						die("sendmmsg");
					/* a packet the kernel refused counts as sent and lost */
					gsent[s][k] += n;
					sent += n;
					sent_side[s] += n;
					busy = 1;
				}
			}
		if (!left)
			break;
		if (t > (uint64_t)dur_ms * 1000u + 2000000u)
			break; /* the generator could not keep up: stop anyway */
		/* receive what is there; idle, wait up to 1 ms (the pacing tick) for it */
		poll_drain(fds, nsock, busy ? 0 : 1, msgs, iov, bufs, recv_side, nstreams);
	}
	elapsed = now_us() - start;
	/* drain until 300 ms pass without a packet (at most 2 s): a generator starved of CPU
	 * must not count what still waits in its sockets as lost */
	for (uint64_t t0 = now_us(), quiet = t0, before = 0;
	     now_us() - t0 < 2000000u && now_us() - quiet < 300000u;) {
		poll_drain(fds, nsock, 10, msgs, iov, bufs, recv_side, nstreams);
		if (recv_side[0] + recv_side[1] != before) {
			before = recv_side[0] + recv_side[1];
			quiet = now_us();
		}
	}
	uint64_t received = recv_side[0] + recv_side[1];
	printf("streams=%u pps_offered=%llu sent=%llu received=%llu loss_pct=%.4f elapsed_s=%.3f "
	       "rx_pps=%.0f tx_pps=%.0f a_to_b=%llu/%llu b_to_a=%llu/%llu\n",
	       nstreams, (unsigned long long)nstreams * 2u * (unsigned long long)pps,
	       (unsigned long long)sent, (unsigned long long)received,
	       sent ? 100.0 * (double)(sent - (received > sent ? sent : received)) / (double)sent
		    : 0.0,
	       (double)elapsed / 1e6, (double)received * 1e6 / (double)elapsed,
	       (double)sent * 1e6 / (double)elapsed, (unsigned long long)recv_side[0],
	       (unsigned long long)sent_side[0], (unsigned long long)recv_side[1],
	       (unsigned long long)sent_side[1]);
	free(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "stream"))
		return mode_stream(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "spray"))
		return mode_spray(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return mode_bench(argc, argv);
	fprintf(stderr, "usage: rtp_load stream|spray|bench ... (see the comment at the top)\n");
	return 2;
}
