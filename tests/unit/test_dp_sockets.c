/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sockets backend on loopback: two endpoints (plain UDP sockets) and two relay flows
 * linked both ways. Media crosses with the relay's other port as source, an attacker on
 * 127.0.0.2 is refused, STUN is answered, counters are readable while packets flow, a port is
 * free again once its flow is deleted, and flow_update reopens the latch window.
 * Every wait is a poll with a timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/sockets/sockets.h"
#include "dataplane/stun.h"

#define WAIT_MS 2000

struct env {
	const char *lo;	      /* "127.0.0.1" or "::1" */
	const char *attacker; /* another local address, or NULL when there is none */
	struct dataplane *dp;
	int a, b, evil; /* endpoint sockets */
	struct sa a_addr, b_addr, evil_addr;
	dp_flow_t fa, fb; /* flows A and B send to */
	struct sa fa_local, fb_local;
};

/*
 * The epoll loop's sendmmsg, interposed (this definition wins over libc's for the backend linked
 * in): counts the calls, may hold the first one (so that datagrams pile up behind it) and fail
 * a number of calls with a chosen errno. The io_uring loop never calls it.
 */
static atomic_int mmsg_calls;
static atomic_int mmsg_hold;
static atomic_int mmsg_errno;
static atomic_int mmsg_fails; /* calls left to fail with mmsg_errno */

int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct timespec ts = { 0, 1000000 };

	atomic_fetch_add(&mmsg_calls, 1);
	for (int i = 0; i < WAIT_MS && atomic_load(&mmsg_hold); i++)
		nanosleep(&ts, NULL);
	if (atomic_load(&mmsg_fails) > 0) {
		atomic_fetch_sub(&mmsg_fails, 1);
		errno = atomic_load(&mmsg_errno);
		return -1;
	}
	return (int)syscall(SYS_sendmmsg, fd, v, n, flags);
}

static struct sa addr(const char *text, uint16_t port)
{
	struct sa sa;

	assert_int_equal(sa_parse_cstr(&sa, text, port), 0);
	return sa;
}

/* A plain UDP socket on @p ip, kernel-chosen port; -1 if the address is not available. */
static int endpoint(const char *ip, struct sa *bound)
{
	struct sa local = addr(ip, 0);
	int fd = socket(sa_family(&local), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0)
		return -1;
	if (bind(fd, &local.u.sa, local.len) < 0 || getsockname(fd, (void *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(sa_set_sockaddr(bound, (void *)&ss, len), 0);
	return fd;
}

static void send_to(int fd, const void *buf, size_t len, const struct sa *to)
{
	assert_int_equal(sendto(fd, buf, len, 0, &to->u.sa, to->len), (ssize_t)len);
}

/* Waits up to @p timeout_ms for a datagram. @return its length, or -1 on timeout. */
static ssize_t recv_wait(int fd, void *buf, size_t size, struct sa *from, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	n = recvfrom(fd, buf, size, 0, (void *)&ss, &len);
	if (n >= 0 && from)
		assert_int_equal(sa_set_sockaddr(from, (void *)&ss, len), 0);
	return n;
}

static size_t rtp_packet(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	memset(p, 0, 172);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	memcpy(p + 12, "payload", 7);
	return 172;
}

static void params_init(struct dp_flow_params *p, const struct sa *local, const char *expected,
			const char *received_from, uint32_t window_ms)
{
	memset(p, 0, sizeof(*p));
	p->local = *local;
	p->group = 7;
	sa_init(&p->latch.expected);
	sa_init(&p->latch.received_from);
	if (expected)
		assert_int_equal(sa_parse_cstr(&p->latch.expected, expected, 0), 0);
	if (received_from)
		p->latch.received_from = addr(received_from, 0);
	p->latch.window_ms = window_ms;
}

/* Adds a flow on a free port of @p ip (random tries, retried on EADDRINUSE). */
static void add_on_free_port(struct dataplane *dp, struct dp_flow_params *p, const char *ip,
			     dp_flow_t *id)
{
	for (int tries = 0; tries < 200; tries++) {
		int err;

		p->local = addr(ip, (uint16_t)(20000 + rand() % 40000));
		err = dp_flow_add(dp, p, id);
		if (err == 0)
			return;
		assert_int_equal(err, -EADDRINUSE);
	}
	fail_msg("no free port");
}

static void stats(struct env *e, dp_flow_t f, struct dp_flow_stats *st)
{
	assert_int_equal(dp_flow_stats(e->dp, f, st), 0);
}

/* Polls the counters (they are published after each batch) until @p pred holds. */
static bool wait_stats(struct env *e, dp_flow_t f, bool (*pred)(const struct dp_flow_stats *))
{
	struct dp_flow_stats st;

	for (int i = 0; i < WAIT_MS / 10; i++) {
		struct timespec ts = { 0, 10000000 };

		stats(e, f, &st);
		if (pred(&st))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * A is NATed (private SDP address, sends from the SIP source IP and a random port); B's SDP
 * address is exact. Both know the SIP source, so a stranger is never learned.
 */
static int env_setup(struct env *e, const char *lo, const char *attacker)
{
	struct dp_sockets_conf conf = { .workers = 2, .batch = 8 };
	struct dp_flow_params p;
	char bexp[SA_STRLEN];
	const char *private_sdp = strchr(lo, ':') ? "[fd00::5]:4000" : "10.0.0.5:4000";

	memset(e, 0, sizeof(*e));
	e->lo = lo;
	e->a = endpoint(lo, &e->a_addr);
	if (e->a < 0)
		return -1;
	e->b = endpoint(lo, &e->b_addr);
	assert_true(e->b >= 0);
	e->evil = attacker ? endpoint(attacker, &e->evil_addr) : -1;
	e->attacker = e->evil >= 0 ? attacker : NULL;
	assert_int_equal(dp_sockets_alloc(&e->dp, &conf), 0);

	params_init(&p, &e->a_addr, private_sdp, lo, 10000);
	add_on_free_port(e->dp, &p, lo, &e->fa);
	e->fa_local = p.local;
	params_init(&p, &e->a_addr, sa_print(&e->b_addr, bexp, sizeof(bexp)), lo, 10000);
	add_on_free_port(e->dp, &p, lo, &e->fb);
	e->fb_local = p.local;
	assert_int_equal(dp_flow_link(e->dp, e->fa, e->fb), 0);
	assert_int_equal(dp_flow_link(e->dp, e->fb, e->fa), 0);
	return 0;
}

static void env_teardown(struct env *e)
{
	dataplane_free(e->dp);
	close(e->a);
	close(e->b);
	if (e->evil >= 0)
		close(e->evil);
}

static bool has_refused(const struct dp_flow_stats *st)
{
	return st->refused > 0;
}

static bool has_latched(const struct dp_flow_stats *st)
{
	return sa_isset(&st->latched);
}

static bool has_stun(const struct dp_flow_stats *st)
{
	return st->stun_answered > 0;
}

static void expect_from(int fd, const struct sa *from_relay, uint32_t ssrc)
{
	uint8_t buf[512];
	struct sa from;
	ssize_t n = recv_wait(fd, buf, sizeof(buf), &from, WAIT_MS);

	assert_int_equal(n, 172);
	assert_true(sa_equal(&from, from_relay));
	assert_int_equal(buf[11], (uint8_t)ssrc);
}

static void exchange_both_ways(struct env *e)
{
	uint8_t pkt[172];
	struct dp_flow_stats st;

	/* the attacker sprays both ports before the endpoints send anything */
	if (e->attacker) {
		send_to(e->evil, pkt, rtp_packet(pkt, 666, 1), &e->fa_local);
		send_to(e->evil, pkt, rtp_packet(pkt, 666, 2), &e->fb_local);
		assert_true(wait_stats(e, e->fa, has_refused));
		assert_true(wait_stats(e, e->fb, has_refused));
	}
	/* A -> relay(fa) -> B, sent from fb's port to B's SDP address */
	send_to(e->a, pkt, rtp_packet(pkt, 0x11, 1), &e->fa_local);
	expect_from(e->b, &e->fb_local, 0x11);
	/* B -> relay(fb) -> A, sent from fa's port to A's latched address */
	send_to(e->b, pkt, rtp_packet(pkt, 0x22, 1), &e->fb_local);
	expect_from(e->a, &e->fa_local, 0x22);
	if (e->attacker) {
		send_to(e->evil, pkt, rtp_packet(pkt, 0x11, 3), &e->fa_local);
		send_to(e->evil, pkt, rtp_packet(pkt, 0x22, 4), &e->fb_local);
		send_to(e->b, pkt, rtp_packet(pkt, 0x22, 2), &e->fb_local);
		expect_from(e->a, &e->fa_local, 0x22);
		assert_int_equal(recv_wait(e->evil, pkt, sizeof(pkt), NULL, 200), -1);
		assert_int_equal(recv_wait(e->b, pkt, sizeof(pkt), NULL, 50), -1);
		stats(e, e->fa, &st);
		assert_true(st.refused >= 2);
		stats(e, e->fb, &st);
		assert_true(st.refused >= 2);
	}
	assert_true(wait_stats(e, e->fa, has_latched));
	stats(e, e->fa, &st);
	assert_true(sa_equal(&st.latched, &e->a_addr));
	assert_int_equal(st.ssrc, 0x11);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.bytes, 172);
	assert_true(st.last_packet_ms > 0);
	assert_true(wait_stats(e, e->fb, has_latched));
	stats(e, e->fb, &st);
	assert_true(sa_equal(&st.latched, &e->b_addr));
	assert_int_equal(st.errors, 0);
}

static void test_forward_ipv4(void **state)
{
	struct env e;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", "127.0.0.2"), 0);
	exchange_both_ways(&e);
	env_teardown(&e);
}

static void test_forward_ipv6(void **state)
{
	struct env e;

	(void)state;
	if (env_setup(&e, "::1", NULL) != 0)
		skip();
	exchange_both_ways(&e);
	env_teardown(&e);
}

/* Binding request without credentials: XOR-MAPPED-ADDRESS is the sender's address. */
static void test_stun(void **state)
{
	static const uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
					 3,    4,    5,	   6,	 7,    8,    9,	   10,	 11, 12 };
	uint8_t buf[256];
	struct sa from;
	struct env e;
	ssize_t n;
	uint16_t port;
	uint32_t ip;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	send_to(e.a, req, sizeof(req), &e.fa_local);
	n = recv_wait(e.a, buf, sizeof(buf), &from, WAIT_MS);
	assert_int_equal(n, 32);
	assert_true(sa_equal(&from, &e.fa_local));
	assert_int_equal(buf[0], 0x01);
	assert_int_equal(buf[1], 0x01);
	assert_memory_equal(buf + 8, req + 8, 12);
	assert_int_equal(buf[20] << 8 | buf[21], 0x0020);
	port = (uint16_t)((buf[26] << 8 | buf[27]) ^ 0x2112);
	memcpy(&ip, buf + 28, 4);
	ip ^= htonl(0x2112A442);
	assert_int_equal(port, sa_port(&e.a_addr));
	assert_int_equal(ip, e.a_addr.u.in.sin_addr.s_addr);
	assert_true(wait_stats(&e, e.fa, has_stun));
	/* STUN neither latches nor is forwarded */
	assert_int_equal(recv_wait(e.b, buf, sizeof(buf), NULL, 100), -1);
	env_teardown(&e);
}

/* With ICE credentials: the RFC 5769 request authenticates; the answer is signed. */
static void test_stun_ice(void **state)
{
	static const uint8_t rfc5769_request[] = {
		0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
		0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
		0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
		0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
		0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
		0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
		0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
		0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
	};
	struct dp_flow_params p;
	struct dp_flow_stats st;
	uint8_t buf[256];
	struct env e;
	ssize_t n;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	params_init(&p, &e.fa_local, "10.0.0.5:4000", "127.0.0.1", 10000);
	strcpy(p.ice_local_ufrag, "evtj");
	strcpy(p.ice_local_pwd, "VOkJxbRl1RmTxUk/WvJxBt");
	assert_int_equal(dp_flow_update(e.dp, e.fa, &p), 0);
	send_to(e.a, rfc5769_request, sizeof(rfc5769_request), &e.fa_local);
	n = recv_wait(e.a, buf, sizeof(buf), NULL, WAIT_MS);
	/* success, XOR-MAPPED-ADDRESS (12), MESSAGE-INTEGRITY (24), FINGERPRINT (8) */
	assert_int_equal(n, 20 + 12 + 24 + 8);
	assert_int_equal(buf[0] << 8 | buf[1], 0x0101);
	/* the wrong password: 401 */
	strcpy(p.ice_local_pwd, "not the password");
	assert_int_equal(dp_flow_update(e.dp, e.fa, &p), 0);
	send_to(e.a, rfc5769_request, sizeof(rfc5769_request), &e.fa_local);
	n = recv_wait(e.a, buf, sizeof(buf), NULL, WAIT_MS);
	assert_true(n >= 20);
	assert_int_equal(buf[0] << 8 | buf[1], 0x0111);
	assert_true(wait_stats(&e, e.fa, has_stun));
	for (int i = 0; i < WAIT_MS / 10; i++) {
		struct timespec ts = { 0, 10000000 };

		stats(&e, e.fa, &st);
		if (st.stun_refused == 1)
			break;
		nanosleep(&ts, NULL);
	}
	assert_int_equal(st.stun_answered, 1);
	assert_int_equal(st.stun_refused, 1);
	env_teardown(&e);
}

static bool has_errors(const struct dp_flow_stats *st)
{
	return st->errors > 0;
}

/* The output flow has neither a latch nor a signalled address: dropped, counted as errors. */
static void test_no_destination(void **state)
{
	struct dp_flow_params p;
	struct dp_flow_stats st;
	uint8_t pkt[172];
	struct env e;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	params_init(&p, &e.fb_local, NULL, "127.0.0.1", 10000);
	assert_int_equal(dp_flow_update(e.dp, e.fb, &p), 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	assert_true(wait_stats(&e, e.fa, has_errors));
	stats(&e, e.fa, &st);
	assert_int_equal(st.packets, 0);
	assert_true(sa_equal(&st.latched, &e.a_addr)); /* accepted, just nowhere to go */
	assert_int_equal(recv_wait(e.b, pkt, sizeof(pkt), NULL, 100), -1);
	env_teardown(&e);
}

/* Counters are read while the worker writes them; they only grow, and end exact. */
static void test_counters_while_forwarding(void **state)
{
	uint8_t pkt[172], buf[512];
	struct dp_flow_stats st;
	uint64_t last = 0;
	unsigned got = 0;
	struct env e;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	for (uint16_t i = 0; i < 200; i++) {
		send_to(e.a, pkt, rtp_packet(pkt, 0x11, i), &e.fa_local);
		stats(&e, e.fa, &st);
		assert_true(st.packets >= last);
		last = st.packets;
		/* keep the socket buffers from overflowing on a slow machine */
		if (i % 20 == 19) {
			while (recv_wait(e.b, buf, sizeof(buf), NULL, 0) > 0)
				got++;
		}
	}
	while (got < 200 && recv_wait(e.b, buf, sizeof(buf), NULL, WAIT_MS) > 0)
		got++;
	assert_int_equal(got, 200);
	for (int i = 0; i < WAIT_MS / 10 && st.packets < 200; i++) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
		stats(&e, e.fa, &st);
	}
	assert_int_equal(st.packets, 200);
	assert_int_equal(st.bytes, 200 * 172);
	env_teardown(&e);
}

static void test_del_frees_port(void **state)
{
	struct dp_flow_params p;
	struct env e;
	dp_flow_t again, dup;
	uint8_t pkt[172];

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	params_init(&p, &e.fa_local, NULL, "127.0.0.1", 10000);
	assert_int_equal(dp_flow_add(e.dp, &p, &dup), -EADDRINUSE);
	assert_int_equal(dp_flow_del(e.dp, e.fa), 0);
	assert_int_equal(dp_flow_stats(e.dp, e.fa, &(struct dp_flow_stats){ 0 }), -ENOENT);
	assert_int_equal(dp_flow_del(e.dp, e.fa), -ENOENT);
	/* fb linked to the deleted flow: its packets are accepted, not forwarded anywhere */
	send_to(e.b, pkt, rtp_packet(pkt, 0x22, 1), &e.fb_local);
	assert_int_equal(recv_wait(e.a, pkt, sizeof(pkt), NULL, 200), -1);
	assert_int_equal(dp_flow_add(e.dp, &p, &again), 0);
	assert_int_equal(dp_flow_link(e.dp, e.fb, again), 0);
	assert_int_equal(dp_flow_link(e.dp, again, e.fb), 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	expect_from(e.b, &e.fb_local, 0x11);
	send_to(e.b, pkt, rtp_packet(pkt, 0x22, 2), &e.fb_local);
	expect_from(e.a, &e.fa_local, 0x22);
	/* an update may not move the flow to another port */
	p.local = addr("127.0.0.1", (uint16_t)(sa_port(&e.fa_local) ^ 1));
	assert_int_equal(dp_flow_update(e.dp, again, &p), -EINVAL);
	env_teardown(&e);
}

/* A third flow of the call whose endpoint is B (as fb): a re-INVITE's new relay port. */
static void add_towards_b(struct env *e, dp_flow_t *id, struct sa *local)
{
	struct dp_flow_params p;
	char bexp[SA_STRLEN];

	params_init(&p, &e->a_addr, sa_print(&e->b_addr, bexp, sizeof(bexp)), e->lo, 10000);
	add_on_free_port(e->dp, &p, e->lo, id);
	*local = p.local;
}

/*
 * Deleting a flow unlinks exactly the flows linked into it (back-references, not a walk):
 * a flow relinked elsewhere before keeps forwarding, several flows linked into the deleted one
 * (and the deleted one into itself) all stop.
 */
static void test_del_after_relink(void **state)
{
	struct env e;
	struct sa c_local;
	dp_flow_t c;
	uint8_t pkt[172];

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	add_towards_b(&e, &c, &c_local);
	assert_int_equal(dp_flow_link(e.dp, e.fa, c), 0); /* fa leaves fb's back-references */
	assert_int_equal(dp_flow_link(e.dp, c, c), 0);
	assert_int_equal(dp_flow_del(e.dp, e.fb), 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	expect_from(e.b, &c_local, 0x11);
	/* fa into c, c into itself: deleting c stops both, fa stays */
	assert_int_equal(dp_flow_del(e.dp, c), 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 2), &e.fa_local);
	assert_int_equal(recv_wait(e.b, pkt, sizeof(pkt), NULL, 200), -1);
	assert_int_equal(dp_flow_stats(e.dp, e.fa, &(struct dp_flow_stats){ 0 }), 0);
	env_teardown(&e);
}

/*
 * dp_flow_del_many: the whole call at once; an unknown or repeated id is reported (-ENOENT)
 * without stopping the others, and every port is free when it returns.
 */
static void test_del_many(void **state)
{
	struct dp_flow_params p;
	struct env e;
	struct sa c_local;
	dp_flow_t c, again, ids[5];

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	add_towards_b(&e, &c, &c_local);
	assert_int_equal(dp_flow_link(e.dp, c, e.fa), 0);
	ids[0] = e.fa;
	ids[1] = e.fb;
	ids[2] = 54321;
	ids[3] = c;
	ids[4] = e.fa;
	assert_int_equal(dp_flow_del_many(e.dp, ids, 5), -ENOENT);
	for (int i = 0; i < 5; i++)
		assert_int_equal(dp_flow_stats(e.dp, ids[i], &(struct dp_flow_stats){ 0 }),
				 -ENOENT);
	params_init(&p, &e.fa_local, NULL, "127.0.0.1", 10000);
	assert_int_equal(dp_flow_add(e.dp, &p, &again), 0);
	p.local = c_local;
	assert_int_equal(dp_flow_add(e.dp, &p, &again), 0);
	assert_int_equal(dp_flow_del_many(e.dp, ids, 0), 0);
	env_teardown(&e);
}

/* Flow ids: unique while live, the freed ones taken again before the table grows. */
static void test_ids_reused(void **state)
{
	enum { N = 150 };
	struct dp_flow_params p;
	struct dataplane *dp;
	dp_flow_t ids[N], max = 0;
	bool seen[N + 1] = { false };

	(void)state;
	assert_int_equal(dp_sockets_alloc(&dp, NULL), 0);
	params_init(&p, &(struct sa){ 0 }, NULL, "127.0.0.1", 10000);
	for (int i = 0; i < N; i++) {
		add_on_free_port(dp, &p, "127.0.0.1", &ids[i]);
		max = ids[i] > max ? ids[i] : max;
	}
	for (int i = 0; i < N; i += 2)
		assert_int_equal(dp_flow_del(dp, ids[i]), 0);
	for (int i = 0; i < N; i += 2)
		add_on_free_port(dp, &p, "127.0.0.1", &ids[i]);
	for (int i = 0; i < N; i++) {
		assert_true(ids[i] >= 1 && ids[i] <= max);
		assert_false(seen[ids[i]]);
		seen[ids[i]] = true;
		assert_int_equal(dp_flow_stats(dp, ids[i], &(struct dp_flow_stats){ 0 }), 0);
	}
	dataplane_free(dp);
}

static void wait_calls(int n)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < WAIT_MS && atomic_load(&mmsg_calls) < n; i++)
		nanosleep(&ts, NULL);
	assert_true(atomic_load(&mmsg_calls) >= n);
}

/*
 * A held: 1 datagram A -> fa whose send waits in sendmmsg while 7 more queue up; they leave in
 * one batch. Sends fail with @p err for @p fails calls.
 */
static void burst_with_failures(struct env *e, int err, int fails, uint16_t seq)
{
	uint8_t pkt[172];

	atomic_store(&mmsg_calls, 0);
	atomic_store(&mmsg_errno, err);
	atomic_store(&mmsg_fails, fails);
	atomic_store(&mmsg_hold, 1);
	send_to(e->a, pkt, rtp_packet(pkt, 0x11, seq), &e->fa_local);
	wait_calls(1);
	for (uint16_t i = 1; i < 8; i++)
		send_to(e->a, pkt, rtp_packet(pkt, 0x11, (uint16_t)(seq + i)), &e->fa_local);
	atomic_store(&mmsg_hold, 0);
	wait_calls(2);
}

static bool has_8_errors(const struct dp_flow_stats *st)
{
	return st->errors >= 8;
}

/*
 * A full socket buffer (EAGAIN) fails the rest of the batch in one call; a per-destination error
 * (EHOSTUNREACH) skips one message and the others leave. Epoll loop only (sendmmsg).
 */
static void test_send_failures(void **state)
{
	struct dp_flow_stats st;
	uint8_t pkt[172];
	struct env e;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	atomic_store(&mmsg_calls, 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	expect_from(e.b, &e.fb_local, 0x11);
	if (atomic_load(&mmsg_calls) == 0) {
		/* the io_uring loop: one send SQE per datagram, each failure its own CQE, no retry
		 */
		env_teardown(&e);
		return;
	}
	/* the held datagram, then the batch of 7: one failing call each */
	burst_with_failures(&e, EAGAIN, 100, 10);
	assert_true(wait_stats(&e, e.fa, has_8_errors));
	assert_int_equal(atomic_load(&mmsg_calls), 2);
	stats(&e, e.fa, &st);
	assert_int_equal(st.errors, 8);
	assert_int_equal(st.packets, 1);
	assert_int_equal(recv_wait(e.b, pkt, sizeof(pkt), NULL, 100), -1);
	/* held one fails, the batch's first fails, its 6 others in one more call */
	atomic_store(&mmsg_fails, 0);
	burst_with_failures(&e, EHOSTUNREACH, 2, 20);
	for (int i = 0; i < 6; i++)
		expect_from(e.b, &e.fb_local, 0x11);
	assert_int_equal(atomic_load(&mmsg_calls), 3);
	stats(&e, e.fa, &st);
	assert_int_equal(st.errors, 10);
	assert_int_equal(st.packets, 7);
	env_teardown(&e);
}

/* A window that closed before A (a stranger: private SDP, no SIP source) sent: A is refused
 * until a re-offer reopens it. */
static void test_update_restarts_window(void **state)
{
	struct timespec ts = { 0, 50000000 };
	struct dp_flow_params p;
	struct dp_flow_stats st;
	uint8_t pkt[172];
	struct env e;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	params_init(&p, &e.fa_local, "10.0.0.5:4000", NULL, 1);
	assert_int_equal(dp_flow_update(e.dp, e.fa, &p), 0);
	nanosleep(&ts, NULL);
	nanosleep(&ts, NULL);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	assert_true(wait_stats(&e, e.fa, has_refused));
	assert_int_equal(recv_wait(e.b, pkt, sizeof(pkt), NULL, 100), -1);
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_update(e.dp, e.fa, &p), 0);
	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 2), &e.fa_local);
	expect_from(e.b, &e.fb_local, 0x11);
	stats(&e, e.fa, &st);
	assert_int_equal(st.refused, 1);
	env_teardown(&e);
}

static void test_bad_calls(void **state)
{
	struct dataplane *dp;
	struct dp_flow_params p;
	dp_flow_t f;

	(void)state;
	assert_int_equal(dp_sockets_alloc(&dp, NULL), 0);
	params_init(&p, &(struct sa){ 0 }, NULL, NULL, 0);
	sa_init(&p.local);
	assert_int_equal(dp_flow_add(dp, &p, &f), -EINVAL);
	p.local = addr("127.0.0.1", 0);
	assert_int_equal(dp_flow_add(dp, &p, &f), -EINVAL);
	assert_int_equal(dp_flow_link(dp, 1, 2), -ENOENT);
	assert_int_equal(dp_flow_update(dp, 0, &p), -ENOENT);
	assert_int_equal(dp_flow_del(dp, 12345), -ENOENT);
	dataplane_free(dp);
}

/* Linked flows must share a group (and so a worker), whatever the number of workers. */
/*
 * The xdp engine without a netdev to attach to (no relay address given; as when XDP cannot be
 * attached): the backend warns and runs as plain "sockets", its xdp counters inactive.
 */
static void test_xdp_falls_back(void **state)
{
	struct dp_sockets_conf conf = { .workers = 2, .engine = DP_SOCKETS_ENGINE_XDP };
	struct dp_sockets_xdp_stats st;
	struct dataplane *dp;

	(void)state;
	assert_int_equal(dp_sockets_alloc(&dp, &conf), 0);
	assert_string_equal(dp->ops->name, "sockets");
	assert_int_equal(dp_sockets_xdp_stats(dp, &st), 0);
	assert_false(st.active);
	assert_int_equal(st.rx + st.tx + st.sockets, 0);
	dataplane_free(dp);
}

static void test_link_across_groups(void **state)
{
	struct dp_flow_params p;
	struct env e;
	dp_flow_t other;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	params_init(&p, &e.a_addr, NULL, "127.0.0.1", 10000);
	p.group = 8;
	add_on_free_port(e.dp, &p, "127.0.0.1", &other);
	assert_int_equal(dp_flow_link(e.dp, e.fa, other), -EXDEV);
	assert_int_equal(dp_flow_link(e.dp, other, e.fb), -EXDEV);
	assert_int_equal(dp_flow_link(e.dp, other, 0), 0);
	assert_int_equal(dp_flow_del(e.dp, other), 0);
	env_teardown(&e);
}

/* An RTCP receiver report (PT 201: 0xc9 in the second byte, 73 with the marker bit masked). */
static size_t rtcp_packet(uint8_t *p, uint32_t ssrc)
{
	memset(p, 0, 8);
	p[0] = 0x80;
	p[1] = 201;
	p[3] = 1;
	p[4] = (uint8_t)(ssrc >> 24);
	p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8);
	p[7] = (uint8_t)ssrc;
	return 8;
}

/* Waits for a datagram of @p len bytes from @p from_relay on @p fd; its last byte is @p tag. */
static void expect_len_from(int fd, const struct sa *from_relay, ssize_t len, uint8_t tag)
{
	uint8_t buf[512];
	struct sa from;
	ssize_t n = recv_wait(fd, buf, sizeof(buf), &from, WAIT_MS);

	assert_int_equal(n, len);
	assert_true(sa_equal(&from, from_relay));
	assert_int_equal(buf[n - 1], tag);
}

/*
 * RFC 5761 demux: A multiplexes RTCP on its RTP port (flow fa), B receives and sends RTCP
 * apart (its RTCP flow fbc). A's RTCP leaves through fbc to B's RTCP port, A's RTP through fb;
 * B's RTCP goes to A's RTP port from fa (a plain link). Without the RTCP link, or once fbc is
 * deleted, A's RTCP goes with its RTP again.
 */
static void test_rtcp_mux_demux(void **state)
{
	struct dp_flow_params p;
	uint8_t pkt[172];
	struct sa bc_addr, fbc_local;
	char exp[SA_STRLEN];
	struct env e;
	dp_flow_t fbc;
	int bc;

	(void)state;
	assert_int_equal(env_setup(&e, "127.0.0.1", NULL), 0);
	bc = endpoint("127.0.0.1", &bc_addr);
	assert_true(bc >= 0);
	params_init(&p, &e.a_addr, sa_print(&bc_addr, exp, sizeof(exp)), "127.0.0.1", 10000);
	p.is_rtcp = true;
	add_on_free_port(e.dp, &p, "127.0.0.1", &fbc);
	fbc_local = p.local;
	assert_int_equal(dp_flow_link_rtcp(e.dp, e.fa, fbc), 0);
	assert_int_equal(dp_flow_link(e.dp, fbc, e.fa), 0);

	send_to(e.a, pkt, rtp_packet(pkt, 0x11, 1), &e.fa_local);
	expect_from(e.b, &e.fb_local, 0x11);
	send_to(e.a, pkt, rtcp_packet(pkt, 0x11), &e.fa_local);
	expect_len_from(bc, &fbc_local, 8, 0x11);
	assert_int_equal(recv_wait(e.b, pkt, sizeof(pkt), NULL, 50), -1);
	/* B's RTCP from its own port reaches A's RTP port, from A's relay port */
	send_to(bc, pkt, rtcp_packet(pkt, 0x22), &fbc_local);
	expect_len_from(e.a, &e.fa_local, 8, 0x22);
	/* RTP keeps its way back */
	send_to(e.b, pkt, rtp_packet(pkt, 0x22, 1), &e.fb_local);
	expect_from(e.a, &e.fa_local, 0x22);

	/* unlinked: muxed RTCP goes with the RTP */
	assert_int_equal(dp_flow_link_rtcp(e.dp, e.fa, 0), 0);
	send_to(e.a, pkt, rtcp_packet(pkt, 0x33), &e.fa_local);
	expect_len_from(e.b, &e.fb_local, 8, 0x33);
	/* a deleted RTCP flow takes its link with it */
	assert_int_equal(dp_flow_link_rtcp(e.dp, e.fa, fbc), 0);
	assert_int_equal(dp_flow_del(e.dp, fbc), 0);
	send_to(e.a, pkt, rtcp_packet(pkt, 0x44), &e.fa_local);
	expect_len_from(e.b, &e.fb_local, 8, 0x44);
	assert_int_equal(recv_wait(bc, pkt, sizeof(pkt), NULL, 50), -1);
	assert_int_equal(dp_flow_link_rtcp(e.dp, e.fa, 12345), -ENOENT);
	close(bc);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_ipv4),
		cmocka_unit_test(test_forward_ipv6),
		cmocka_unit_test(test_stun),
		cmocka_unit_test(test_stun_ice),
		cmocka_unit_test(test_no_destination),
		cmocka_unit_test(test_counters_while_forwarding),
		cmocka_unit_test(test_del_frees_port),
		cmocka_unit_test(test_del_after_relink),
		cmocka_unit_test(test_del_many),
		cmocka_unit_test(test_ids_reused),
		cmocka_unit_test(test_send_failures),
		cmocka_unit_test(test_update_restarts_window),
		cmocka_unit_test(test_bad_calls),
		cmocka_unit_test(test_link_across_groups),
		cmocka_unit_test(test_xdp_falls_back),
		cmocka_unit_test(test_rtcp_mux_demux),
	};

	srand((unsigned)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
