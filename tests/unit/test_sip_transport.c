/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SIP transport layer on loopback, with a real loop: UDP (IPv4, IPv6,
 * wildcard binds, batches, keep-alives), TCP (framing, keep-alives, limits,
 * reaping, flows) and TLS (verification both ways) against raw sockets or
 * against a second layer on the same loop.
 *
 * Nothing waits for a fixed time: run_until() runs the loop until a condition
 * holds, with a generous deadline that turns a hang into a failure (the tests
 * run under ASan on loaded machines). Timeouts under test are short, and only
 * their lower bounds are asserted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/loop.h"
#include "common/sa.h"
#include "sbc/sip/transport.h"

#define DEADLINE_MS 20000
#define MAX_RX	    512
#define MAX_CLOSED  64

struct rx {
	struct sip_flow flow;
	char *data;
	size_t len;
	uint64_t at_ms; /* loop time of the delivery */
};

struct side {
	struct sip_transport *tp;
	struct loop *l;
	struct rx rx[MAX_RX];
	unsigned nrx;
	struct sip_flow closed[MAX_CLOSED];
	int reason[MAX_CLOSED];
	unsigned nclosed;
	unsigned nka, npong; /* keep-alives reported, of which pongs */
	struct sip_flow ka_flow;
	bool echo;     /* send every message back over its flow */
	bool close_rx; /* close every flow a message arrives on */
};

struct fixture {
	struct loop *l;
	struct side a, b;
	struct timer poll, deadline;
	bool (*pred)(void *ctx);
	void *ctx;
	bool timed_out;
};

/* Set by the group setup: a throwaway self-signed certificate for "localhost" and 127.0.0.1. */
static char tmpdir[64];
static char cert_file[128];
static char key_file[128];

/* ---- plumbing ---- */

static void on_recv(const struct sip_flow *flow, const char *buf, size_t len, void *arg)
{
	struct side *s = arg;
	struct rx *r;

	assert_true(s->nrx < MAX_RX);
	r = &s->rx[s->nrx++];
	r->flow = *flow;
	r->len = len;
	r->at_ms = loop_now_ms(s->l);
	r->data = malloc(len + 1);
	assert_non_null(r->data);
	memcpy(r->data, buf, len);
	r->data[len] = '\0';
	if (s->echo)
		assert_int_equal(sip_transport_send(s->tp, flow, buf, len), 0);
	if (s->close_rx) {
		assert_int_equal(sip_transport_flow_close(s->tp, flow), 0);
		assert_false(sip_transport_flow_alive(s->tp, flow));
		assert_int_equal(sip_transport_send(s->tp, flow, "x", 1), -ENOTCONN);
		assert_int_equal(sip_transport_flow_close(s->tp, flow), -ENOTCONN);
	}
}

static void on_close(const struct sip_flow *flow, int reason, void *arg)
{
	struct side *s = arg;

	assert_true(s->nclosed < MAX_CLOSED);
	s->closed[s->nclosed] = *flow;
	s->reason[s->nclosed++] = reason;
}

static void on_keepalive(const struct sip_flow *flow, bool pong, void *arg)
{
	struct side *s = arg;

	s->nka++;
	s->npong += pong;
	s->ka_flow = *flow;
}

static void side_open(struct fixture *f, struct side *s, const struct sip_transport_opts *o)
{
	assert_int_equal(sip_transport_alloc(&s->tp, f->l, o), 0);
	s->l = f->l;
	sip_transport_set_handlers(s->tp, on_recv, on_close, s);
	sip_transport_set_keepalive_h(s->tp, on_keepalive);
}

static void side_free(struct side *s)
{
	sip_transport_free(s->tp);
	for (unsigned i = 0; i < s->nrx; i++)
		free(s->rx[i].data);
	memset(s, 0, sizeof(*s));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || loop_alloc(&f->l))
		return -1;
	timer_init(&f->poll);
	timer_init(&f->deadline);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	side_free(&f->a);
	side_free(&f->b);
	timer_cancel(loop_timers(f->l), &f->poll);
	timer_cancel(loop_timers(f->l), &f->deadline);
	loop_free(f->l);
	free(f);
	return 0;
}

static void poll_h(void *arg)
{
	struct fixture *f = arg;

	if (f->pred(f->ctx))
		loop_stop(f->l);
	else
		timer_start(loop_timers(f->l), &f->poll, 1, poll_h, f);
}

static void deadline_h(void *arg)
{
	struct fixture *f = arg;

	f->timed_out = true;
	loop_stop(f->l);
}

/* Runs the loop until pred(ctx) holds. @return false on timeout. */
static bool run_until(struct fixture *f, bool (*pred)(void *), void *ctx, uint64_t timeout_ms)
{
	if (pred(ctx))
		return true;
	f->pred = pred;
	f->ctx = ctx;
	f->timed_out = false;
	timer_start(loop_timers(f->l), &f->poll, 1, poll_h, f);
	timer_start(loop_timers(f->l), &f->deadline, timeout_ms, deadline_h, f);
	assert_int_equal(loop_run(f->l), 0);
	timer_cancel(loop_timers(f->l), &f->poll);
	timer_cancel(loop_timers(f->l), &f->deadline);
	return !f->timed_out;
}

#define RUN_UNTIL(f, pred, ctx) assert_true(run_until((f), (pred), (ctx), DEADLINE_MS))

struct want {
	const unsigned *count;
	unsigned n;
};

static bool count_reached(void *ctx)
{
	struct want *w = ctx;

	return *w->count >= w->n;
}

/* Runs until *count >= n. */
static void wait_count(struct fixture *f, const unsigned *count, unsigned n)
{
	struct want w = { count, n };

	RUN_UNTIL(f, count_reached, &w);
}

static struct sip_transport_stats stats(struct side *s, unsigned idx)
{
	struct sip_transport_stats st;

	assert_int_equal(sip_transport_stats(s->tp, idx, &st), 0);
	return st;
}

struct stat_want {
	struct side *s;
	unsigned idx;
	size_t off; /* offsetof a uint64_t in struct sip_transport_stats */
	uint64_t n;
};

static bool stat_reached(void *ctx)
{
	struct stat_want *w = ctx;
	struct sip_transport_stats st = stats(w->s, w->idx);
	uint64_t v;

	memcpy(&v, (const char *)&st + w->off, sizeof(v));
	return v >= w->n;
}

#define WAIT_STAT(f, side, idx, field, value)                                                    \
	do {                                                                                     \
		struct stat_want sw_ = { (side), (idx),                                          \
					 offsetof(struct sip_transport_stats, field), (value) }; \
		RUN_UNTIL((f), stat_reached, &sw_);                                              \
	} while (0)

/* A listener of @p proto on @p addr (port 0); returns its index and bound address. */
static unsigned listen_on(struct side *s, enum sip_proto proto, const char *addr,
			  const struct sip_tls_opts *tls, struct sa *bound)
{
	struct sip_listen_opts o = { .proto = proto, .interface = "test" };
	unsigned idx;

	assert_int_equal(sa_parse_cstr(&o.addr, addr, 0), 0);
	if (tls)
		o.tls = *tls;
	assert_int_equal(sip_transport_listen(s->tp, &o, &idx), 0);
	if (bound)
		assert_int_equal(sip_transport_listener_addr(s->tp, idx, bound), 0);
	return idx;
}

/* ---- raw client sockets ---- */

struct reader {
	int fd;
	char buf[16384];
	size_t len;
	size_t want;
	bool eof;
	bool dgram; /* read one datagram per poll */
	int err;
	struct sa from; /* datagrams: the source of the last one */
};

static bool reader_poll(void *ctx)
{
	struct reader *r = ctx;

	while (!r->eof && r->len < sizeof(r->buf)) {
		socklen_t alen = sizeof(r->from.u);
		ssize_t n = recvfrom(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT,
				     &r->from.u.sa, &alen);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				r->err = errno;
				r->eof = true;
			}
			break;
		}
		r->from.len = alen;
		if (n == 0 && !r->dgram) {
			r->eof = true;
			break;
		}
		r->len += (size_t)n;
		if (r->dgram)
			break;
	}
	return r->eof || r->len >= r->want;
}

/* Runs until @p want bytes have arrived on @p r (or EOF). */
static void read_bytes(struct fixture *f, struct reader *r, size_t want)
{
	r->want = want;
	RUN_UNTIL(f, reader_poll, r);
}

static bool reader_eof(void *ctx)
{
	struct reader *r = ctx;

	r->want = SIZE_MAX;
	reader_poll(r);
	return r->eof;
}

static int udp_client(const char *addr)
{
	struct sa sa;
	int fd;

	assert_int_equal(sa_parse_cstr(&sa, addr, 0), 0);
	fd = socket(sa_family(&sa), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, &sa.u.sa, sa.len), 0);
	return fd;
}

/* A blocking connect (loopback: the kernel completes it from the backlog), then non-blocking. */
static int tcp_client(const struct sa *dst)
{
	int fd = socket(sa_family(dst), SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &dst->u.sa, dst->len), 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static struct sa sockname(int fd)
{
	struct sa sa;
	socklen_t len = sizeof(sa.u);

	sa_init(&sa);
	assert_int_equal(getsockname(fd, &sa.u.sa, &len), 0);
	sa.len = len;
	return sa;
}

static void write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* A small SIP request: the transport only frames it, but it looks the part. */
static size_t make_msg(char *buf, size_t size, unsigned n, size_t body_len, bool with_cl)
{
	int len = snprintf(buf, size,
			   "OPTIONS sip:sbc@127.0.0.1 SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-%u\r\n"
			   "From: <sip:test@127.0.0.1>;tag=%u\r\n"
			   "To: <sip:sbc@127.0.0.1>\r\n"
			   "Call-ID: call-%u@test\r\n"
			   "CSeq: %u OPTIONS\r\n"
			   "Max-Forwards: 70\r\n",
			   n, n, n, n + 1);

	assert_true(len > 0 && (size_t)len < size);
	if (with_cl)
		len += snprintf(buf + len, size - (size_t)len, "Content-Length: %zu\r\n", body_len);
	len += snprintf(buf + len, size - (size_t)len, "\r\n");
	assert_true((size_t)len + body_len < size);
	memset(buf + len, 'b', body_len);
	return (size_t)len + body_len;
}

static void assert_rx(const struct rx *r, const char *data, size_t len)
{
	assert_int_equal(r->len, len);
	assert_memory_equal(r->data, data, len);
}

/* ---- names ---- */

static void test_names(void **state)
{
	struct sip_flow fl = { .proto = SIP_PROTO_TCP, .conn_id = 7 };
	char buf[SIP_FLOW_STRLEN];
	enum sip_proto p;

	(void)state;
	assert_string_equal(sip_proto_name(SIP_PROTO_UDP), "UDP");
	assert_string_equal(sip_proto_name(SIP_PROTO_TLS), "TLS");
	assert_int_equal(sip_proto_from_name(STRV("tcp"), &p), 0);
	assert_int_equal(p, SIP_PROTO_TCP);
	assert_int_equal(sip_proto_from_name(STRV("SCTP"), &p), -EINVAL);
	assert_int_equal(sa_parse_cstr(&fl.local, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&fl.remote, "[2001:db8::7]:40312", 0), 0);
	assert_string_equal(sip_flow_print(&fl, buf, sizeof(buf)),
			    "tcp:192.0.2.1:5060->[2001:db8::7]:40312#7");
}

/* ---- UDP ---- */

static bool have_ipv6(void)
{
	struct sa sa;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	sa_parse_cstr(&sa, "::1", 0);
	ok = bind(fd, &sa.u.sa, sa.len) == 0;
	close(fd);
	return ok;
}

/*
 * A datagram from a client arrives with its flow; the reply over the flow
 * leaves from the address and port the client sent to.
 */
static void udp_roundtrip(struct fixture *f, const char *listen_addr, const char *client_addr,
			  const char *dst_addr)
{
	struct side *s = &f->a;
	struct reader r = { 0 };
	struct sa bound, dst, expect_local;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, false);
	unsigned idx;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_UDP, listen_addr, NULL, &bound);
	r.fd = udp_client(client_addr);
	r.dgram = true;
	assert_int_equal(sa_parse_cstr(&dst, dst_addr, sa_port(&bound)), 0);
	expect_local = dst;
	assert_int_equal(sendto(r.fd, msg, len, 0, &dst.u.sa, dst.len), (ssize_t)len);
	wait_count(f, &s->nrx, 1);

	struct sa client = sockname(r.fd);
	const struct sip_flow *fl = &s->rx[0].flow;

	assert_rx(&s->rx[0], msg, len);
	assert_int_equal(fl->proto, SIP_PROTO_UDP);
	assert_int_equal(fl->listener, idx);
	assert_int_equal(fl->conn_id, 0);
	assert_true(sa_equal(&fl->remote, &client));
	assert_true(sa_equal(&fl->local, &expect_local));
	assert_true(sip_transport_flow_alive(s->tp, fl));

	assert_int_equal(sip_transport_send(s->tp, fl, "SIP/2.0 200 OK\r\n\r\n", 19), 0);
	read_bytes(f, &r, 19);
	assert_int_equal(r.len, 19);
	assert_memory_equal(r.buf, "SIP/2.0 200 OK\r\n\r\n", 19);
	assert_true(sa_equal(&r.from, &expect_local));

	struct sip_transport_stats st = stats(s, idx);

	assert_int_equal(st.rx_msgs, 1);
	assert_int_equal(st.tx_msgs, 1);
	assert_int_equal(st.rx_bytes, len);
	assert_int_equal(st.tx_bytes, 19);
	assert_int_equal(st.rx_errors + st.tx_errors, 0);
	close(r.fd);
}

static void test_udp_ipv4(void **state)
{
	udp_roundtrip(*state, "127.0.0.1", "127.0.0.1", "127.0.0.1");
}

static void test_udp_ipv6(void **state)
{
	if (!have_ipv6())
		skip();
	udp_roundtrip(*state, "::1", "::1", "::1");
}

/* Wildcard binds report the address the datagram was sent to, and reply from it. */
static void test_udp_wildcard_pktinfo(void **state)
{
	udp_roundtrip(*state, "0.0.0.0", "127.0.0.1", "127.0.0.2");
}

static void test_udp_wildcard_ipv6(void **state)
{
	if (!have_ipv6())
		skip();
	udp_roundtrip(*state, "::", "::1", "::1");
}

/*
 * What we write as ours: the advertised address (1:1 NAT), with the
 * listener's port unless it has its own; else the flow's local address; on a
 * wildcard listener with no local address yet, the source toward the remote,
 * never the wildcard.
 */
static void test_sent_by(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct sip_listen_opts o = { .proto = SIP_PROTO_UDP, .interface = "test" };
	struct sip_flow fl = { 0 };
	struct sa bound, got, want;
	unsigned pub, pubport, any;
	char buf[SA_STRLEN], wbuf[SA_STRLEN];

	side_open(f, s, NULL);
	assert_int_equal(sa_parse_cstr(&o.addr, "127.0.0.1", 0), 0);
	assert_int_equal(sa_parse_cstr(&o.advertise, "198.51.100.7", 0), 0);
	assert_int_equal(sip_transport_listen(s->tp, &o, &pub), 0);
	assert_int_equal(sip_transport_listener_addr(s->tp, pub, &bound), 0);
	assert_int_equal(sa_parse_cstr(&o.advertise, "198.51.100.7:5090", 0), 0);
	assert_int_equal(sip_transport_listen(s->tp, &o, &pubport), 0);
	any = listen_on(s, SIP_PROTO_UDP, "0.0.0.0", NULL, NULL);

	fl.listener = (uint16_t)pub;
	assert_int_equal(sa_parse_cstr(&fl.remote, "127.0.0.9:5060", 0), 0);
	assert_int_equal(sip_transport_sent_by(s->tp, &fl, &got), 0);
	assert_int_equal(sa_parse_cstr(&want, "198.51.100.7", sa_port(&bound)), 0);
	assert_string_equal(sa_print(&got, buf, sizeof(buf)), sa_print(&want, wbuf, sizeof(wbuf)));
	fl.listener = (uint16_t)pubport;
	assert_int_equal(sip_transport_sent_by(s->tp, &fl, &got), 0);
	assert_string_equal(sa_print(&got, buf, sizeof(buf)), "198.51.100.7:5090");

	fl.listener = (uint16_t)any; /* a request we start: no local address yet */
	assert_int_equal(sip_transport_listener_addr(s->tp, any, &fl.local), 0);
	assert_int_equal(sip_transport_sent_by(s->tp, &fl, &got), 0);
	assert_false(sa_is_any(&got));
	assert_true(sa_is_loopback(&got));
	assert_int_equal(sa_port(&got), sa_port(&fl.local));
	assert_int_equal(sa_parse_cstr(&fl.local, "127.0.0.3:5060", 0), 0); /* from pktinfo */
	assert_int_equal(sip_transport_sent_by(s->tp, &fl, &got), 0);
	assert_true(sa_equal(&got, &fl.local));

	fl.listener = 99;
	assert_int_equal(sip_transport_sent_by(s->tp, &fl, &got), -EINVAL);
}

/* Many datagrams per receive burst; each is echoed over its flow (batched sends). */
static void test_udp_batch(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	enum { ROUNDS = 4, PER_ROUND = 64, TOTAL = ROUNDS * PER_ROUND };
	bool seen[TOTAL] = { false };
	struct reader r = { 0 };
	struct sa bound;
	unsigned idx;

	side_open(f, s, NULL);
	s->echo = true;
	idx = listen_on(s, SIP_PROTO_UDP, "127.0.0.1", NULL, &bound);
	r.fd = udp_client("127.0.0.1");
	r.dgram = true;
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned i = 0; i < PER_ROUND; i++) {
			char msg[1024];
			size_t len = make_msg(msg, sizeof(msg), round * PER_ROUND + i, 0, false);

			assert_int_equal(sendto(r.fd, msg, len, 0, &bound.u.sa, bound.len),
					 (ssize_t)len);
		}
		wait_count(f, &s->nrx, (round + 1) * PER_ROUND);
		/* collect the echoes of this round, one datagram at a time */
		for (unsigned got = 0; got < PER_ROUND; got++) {
			unsigned n;
			char *v;

			r.len = 0;
			read_bytes(f, &r, 1);
			r.buf[r.len < sizeof(r.buf) ? r.len : sizeof(r.buf) - 1] = '\0';
			v = strstr(r.buf, "branch=z9hG4bK-");
			assert_non_null(v);
			n = (unsigned)strtoul(v + 15, NULL, 10);
			assert_true(n < TOTAL);
			assert_false(seen[n]);
			seen[n] = true;
			assert_true(sa_equal(&r.from, &bound));
		}
	}
	struct sip_transport_stats st = stats(s, idx);

	assert_int_equal(st.rx_msgs, TOTAL);
	assert_int_equal(st.tx_msgs, TOTAL);
	assert_int_equal(st.tx_errors, 0);
	close(r.fd);
}

/* CRLF datagrams are dropped; STUN Binding requests get XOR-MAPPED-ADDRESS. */
static void test_udp_keepalives(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	static const unsigned char req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4,
					       0x42, 1,	   2,	 3,    4,    5,	   6,
					       7,    8,	   9,	 10,   11,   12 };
	struct reader r = { 0 };
	struct sa bound, client;
	unsigned idx;
	const unsigned char *p;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_UDP, "127.0.0.1", NULL, &bound);
	r.fd = udp_client("127.0.0.1");
	r.dgram = true;
	client = sockname(r.fd);
	assert_int_equal(sendto(r.fd, "\r\n\r\n", 4, 0, &bound.u.sa, bound.len), 4);
	WAIT_STAT(f, s, idx, keepalives, 1);
	assert_int_equal(sendto(r.fd, req, sizeof(req), 0, &bound.u.sa, bound.len), 20);
	read_bytes(f, &r, 32);
	assert_int_equal(r.len, 32);
	p = (const unsigned char *)r.buf;
	assert_int_equal(p[0] << 8 | p[1], 0x0101);
	assert_int_equal(p[2] << 8 | p[3], 12);
	assert_memory_equal(p + 4, req + 4, 16); /* cookie and transaction id */
	assert_int_equal(p[20] << 8 | p[21], 0x0020);
	assert_int_equal(p[25], 0x01);
	assert_int_equal((p[26] << 8 | p[27]) ^ 0x2112, sa_port(&client));
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[28 + i] ^ req[4 + i],
				 ((const unsigned char *)&client.u.in.sin_addr)[i]);
	assert_int_equal(s->nrx, 0);
	assert_int_equal(stats(s, idx).keepalives, 2);
	/* both reported: the CRLF as a (STUN-less) pong, the STUN request not */
	assert_int_equal(s->nka, 2);
	assert_int_equal(s->npong, 1);
	assert_int_equal(sa_port(&s->ka_flow.remote), sa_port(&client));
	close(r.fd);
}

/* ---- TCP against raw clients ---- */

/* Receives a message over TCP, answers by flow, then sees the flow die with the connection. */
static void test_tcp_flow(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct reader r = { 0 };
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 5, true);
	struct sip_flow fl;
	unsigned idx;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	r.fd = tcp_client(&bound);
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 1);
	assert_rx(&s->rx[0], msg, len);
	fl = s->rx[0].flow;
	assert_int_equal(fl.proto, SIP_PROTO_TCP);
	assert_int_equal(fl.listener, idx);
	assert_true(fl.conn_id != 0);
	struct sa client = sockname(r.fd);

	assert_true(sa_equal(&fl.remote, &client));
	assert_true(sa_equal(&fl.local, &bound));

	assert_int_equal(sip_transport_send(s->tp, &fl, "SIP/2.0 200 OK\r\n\r\n", 19), 0);
	read_bytes(f, &r, 19);
	assert_memory_equal(r.buf, "SIP/2.0 200 OK\r\n\r\n", 19);

	/* the next message comes over the same connection */
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 2);
	assert_int_equal(s->rx[1].flow.conn_id, fl.conn_id);
	assert_int_equal(stats(s, idx).conns_open, 1);

	close(r.fd);
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], 0);
	assert_int_equal(s->closed[0].conn_id, fl.conn_id);
	assert_false(sip_transport_flow_alive(s->tp, &fl));
	assert_int_equal(sip_transport_send(s->tp, &fl, "x", 1), -ENOTCONN);
	assert_int_equal(stats(s, idx).conns_open, 0);
	assert_int_equal(stats(s, idx).conns_accepted, 1);
}

/* A message written one byte at a time arrives once, whole. */
static void test_tcp_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 10, true);
	unsigned idx;
	int fd;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	fd = tcp_client(&bound);
	for (size_t i = 0; i < len; i++) {
		write_all(fd, msg + i, 1);
		WAIT_STAT(f, s, idx, rx_bytes, i + 1);
		assert_int_equal(s->nrx, i + 1 == len ? 1 : 0);
	}
	assert_rx(&s->rx[0], msg, len);
	/* and the same again after a partial CRLF keep-alive split across writes */
	write_all(fd, "\r", 1);
	WAIT_STAT(f, s, idx, rx_bytes, len + 1);
	write_all(fd, "\n", 1);
	WAIT_STAT(f, s, idx, rx_bytes, len + 2);
	write_all(fd, msg, len);
	wait_count(f, &s->nrx, 2);
	assert_rx(&s->rx[1], msg, len);
	assert_int_equal(stats(s, idx).rx_errors, 0);
	close(fd);
}

/* Several messages in one segment, with CRLFs between them. */
static void test_tcp_pipelined(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	char buf[8192], m[3][1024];
	size_t ml[3], len = 0;
	struct sa bound;
	int fd;

	side_open(f, s, NULL);
	listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	for (unsigned i = 0; i < 3; i++)
		ml[i] = make_msg(m[i], sizeof(m[i]), i, i * 100, true);
	memcpy(buf + len, "\r\n", 2);
	len += 2;
	memcpy(buf + len, m[0], ml[0]);
	len += ml[0];
	memcpy(buf + len, m[1], ml[1]);
	len += ml[1];
	memcpy(buf + len, "\r\n", 2);
	len += 2;
	memcpy(buf + len, m[2], ml[2]);
	len += ml[2];
	fd = tcp_client(&bound);
	write_all(fd, buf, len);
	wait_count(f, &s->nrx, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_rx(&s->rx[i], m[i], ml[i]);
	assert_int_equal(s->nclosed, 0);
	close(fd);
}

/* RFC 5626 §3.5.1: a double CRLF gets a single CRLF back; the connection stays. */
static void test_tcp_ping_pong(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct reader r = { 0 };
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, true);
	unsigned idx;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	r.fd = tcp_client(&bound);
	write_all(r.fd, "\r\n\r\n", 4);
	read_bytes(f, &r, 2);
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, "\r\n", 2);
	assert_int_equal(stats(s, idx).keepalives, 1);
	/* twice more, the second ping split across writes */
	write_all(r.fd, "\r\n\r\n\r\n", 6);
	WAIT_STAT(f, s, idx, rx_bytes, 10);
	write_all(r.fd, "\r\n", 2);
	read_bytes(f, &r, 6);
	assert_int_equal(r.len, 6);
	assert_int_equal(stats(s, idx).keepalives, 3);
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 1);
	assert_rx(&s->rx[0], msg, len);
	assert_int_equal(s->nclosed, 0);
	/* the peer's pings are keep-alives, not pongs */
	assert_int_equal(s->nka, 3);
	assert_int_equal(s->npong, 0);
	/* our ping: the lone CRLF that follows is its pong (RFC 5626 §4.4.1) */
	assert_int_equal(sip_transport_send(s->tp, &s->rx[0].flow, "\r\n\r\n", 4), 0);
	read_bytes(f, &r, 10);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.buf + 6, "\r\n\r\n", 4);
	write_all(r.fd, "\r\n", 2);
	wait_count(f, &s->npong, 1);
	assert_int_equal(s->ka_flow.conn_id, s->rx[0].flow.conn_id);
	/* a lone CRLF with no ping of ours out is padding, and a message still follows */
	write_all(r.fd, "\r\n", 2);
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 2);
	assert_int_equal(s->npong, 1);
	assert_int_equal(s->nka, 4);
	close(r.fd);
}

static void expect_closed(struct fixture *f, struct side *s, struct reader *r, int reason)
{
	RUN_UNTIL(f, reader_eof, r);
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], reason);
	assert_int_equal(s->nrx, 0);
}

/* A message larger than max_msg_size closes the connection. */
static void test_tcp_oversize(void **state)
{
	struct fixture *f = *state;
	struct sip_transport_opts o = { .max_msg_size = 1024 };
	struct side *s = &f->a;
	struct reader r = { 0 }, r2 = { 0 };
	struct sa bound;
	char msg[4096];
	size_t len = make_msg(msg, sizeof(msg), 1, 2000, true);
	unsigned idx;

	side_open(f, s, &o);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	/* the header says so */
	r.fd = tcp_client(&bound);
	write_all(r.fd, msg, 300);
	expect_closed(f, s, &r, -EMSGSIZE);
	assert_int_equal(stats(s, idx).rx_errors, 1);
	/* the header never ends */
	r2.fd = tcp_client(&bound);
	memset(msg, 'a', 2000);
	write_all(r2.fd, "OPTIONS sip:x SIP/2.0\r\nX: ", 26);
	write_all(r2.fd, msg, 2000);
	RUN_UNTIL(f, reader_eof, &r2);
	wait_count(f, &s->nclosed, 2);
	assert_int_equal(s->reason[1], -EMSGSIZE);
	assert_int_equal(stats(s, idx).rx_errors, 2);
	assert_int_equal(stats(s, idx).conns_open, 0);
	(void)len;
	close(r.fd);
	close(r2.fd);
}

/* RFC 3261 §18.3: Content-Length is mandatory on streams. */
static void test_tcp_no_content_length(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct reader r = { 0 };
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, false);
	unsigned idx;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	r.fd = tcp_client(&bound);
	write_all(r.fd, msg, len);
	expect_closed(f, s, &r, -EBADMSG);
	assert_int_equal(stats(s, idx).rx_errors, 1);
	/* the request could be read: 400 with a reason to its Via before the close */
	assert_true(r.len > 0);
	r.buf[r.len < sizeof(r.buf) ? r.len : sizeof(r.buf) - 1] = 0;
	assert_non_null(strstr(r.buf, "SIP/2.0 400 Bad Content-Length\r\n"));
	assert_non_null(strstr(r.buf, "\r\nVia: "));
	assert_non_null(strstr(r.buf, "\r\nContent-Length: 0\r\n\r\n"));
	assert_int_equal(stats(s, idx).rx_rejected, 1);
	close(r.fd);
}

/* A bad Content-Length after a good message: that one is delivered, the bad one answered. */
static void test_tcp_bad_content_length(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct reader r = { 0 }, r2 = { 0 };
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, true);
	static const char bad[] = "OPTIONS sip:x SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKbad\r\n"
				  "From: <sip:a@x>;tag=1\r\nTo: <sip:x>\r\n"
				  "Call-ID: bad1\r\nCSeq: 2 OPTIONS\r\n"
				  "Content-Length: 12x\r\n\r\n";
	unsigned idx;

	side_open(f, s, NULL);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	r.fd = tcp_client(&bound);
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 1);
	write_all(r.fd, bad, sizeof(bad) - 1);
	RUN_UNTIL(f, reader_eof, &r);
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], -EBADMSG);
	r.buf[r.len < sizeof(r.buf) ? r.len : sizeof(r.buf) - 1] = 0;
	assert_non_null(strstr(r.buf, "SIP/2.0 400 Bad Content-Length\r\n"));
	assert_non_null(strstr(r.buf, "branch=z9hG4bKbad"));
	assert_non_null(strstr(r.buf, "CSeq: 2 OPTIONS\r\n"));
	assert_int_equal(stats(s, idx).rx_rejected, 1);
	/* garbage with no message start: closed without a word */
	r2.fd = tcp_client(&bound);
	write_all(r2.fd, "hello there\r\n\r\n", 15);
	RUN_UNTIL(f, reader_eof, &r2);
	wait_count(f, &s->nclosed, 2);
	assert_int_equal(r2.len, 0);
	assert_int_equal(stats(s, idx).rx_rejected, 1);
	assert_int_equal(stats(s, idx).rx_errors, 2);
	close(r.fd);
	close(r2.fd);
}

/* Idle connections are reaped after idle_timeout_ms, not before. */
static void test_tcp_idle_reap(void **state)
{
	struct fixture *f = *state;
	struct sip_transport_opts o = { .idle_timeout_ms = 300 };
	struct side *s = &f->a;
	struct reader r = { 0 };
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, true);
	unsigned idx;

	side_open(f, s, &o);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	r.fd = tcp_client(&bound);
	write_all(r.fd, msg, len);
	wait_count(f, &s->nrx, 1);
	RUN_UNTIL(f, reader_eof, &r);
	/* the last activity was in the iteration that delivered the message */
	assert_true(clock_monotonic_ms() - s->rx[0].at_ms >= 300);
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], -ETIMEDOUT);
	assert_int_equal(stats(s, idx).conns_reaped, 1);
	assert_int_equal(sip_transport_send(s->tp, &s->rx[0].flow, "x", 1), -ENOTCONN);
	close(r.fd);
}

struct handled {
	struct side *s;
	unsigned idx;
	uint64_t n;
};

static bool accepted_or_refused(void *ctx)
{
	struct handled *h = ctx;
	struct sip_transport_stats st = stats(h->s, h->idx);

	return st.conns_accepted + st.conns_refused >= h->n;
}

static void limit_case(struct fixture *f, const struct sip_transport_opts *o)
{
	struct side *s = &f->a;
	struct reader r[3] = { { 0 } };
	struct sa bound;
	struct sip_transport_stats st;
	unsigned idx, eofs = 0;

	side_open(f, s, o);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	for (unsigned i = 0; i < 3; i++) {
		struct handled h = { s, idx, i + 1 };

		r[i].fd = tcp_client(&bound);
		/* one at a time, so that the third is the refused one */
		RUN_UNTIL(f, accepted_or_refused, &h);
	}
	st = stats(s, idx);
	assert_int_equal(st.conns_accepted, 2);
	assert_int_equal(st.conns_refused, 1);
	assert_int_equal(st.conns_open, 2);
	RUN_UNTIL(f, reader_eof, &r[2]);
	for (unsigned i = 0; i < 3; i++) {
		reader_eof(&r[i]);
		eofs += r[i].eof;
		close(r[i].fd);
	}
	assert_int_equal(eofs, 1);
	assert_int_equal(s->nclosed, 0); /* refused connections never opened */
}

static void test_tcp_per_ip_limit(void **state)
{
	struct sip_transport_opts o = { .max_conns_per_ip = 2 };

	limit_case(*state, &o);
}

static void test_tcp_global_limit(void **state)
{
	struct sip_transport_opts o = { .max_conns = 2 };

	limit_case(*state, &o);
}

/* Closing a flow from the receive handler drops the rest of what that connection sent. */
static void test_tcp_close_in_handler(void **state)
{
	struct fixture *f = *state;
	struct side *s = &f->a;
	struct reader r = { 0 };
	char buf[4096];
	size_t len = make_msg(buf, sizeof(buf) / 3, 1, 0, true);
	struct sa bound;

	side_open(f, s, NULL);
	s->close_rx = true;
	listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	memcpy(buf + len, buf, len);
	memcpy(buf + 2 * len, buf, len);
	r.fd = tcp_client(&bound);
	write_all(r.fd, buf, 3 * len);
	RUN_UNTIL(f, reader_eof, &r);
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], 0);
	assert_int_equal(s->nrx, 1);
	close(r.fd);
}

/* A peer that does not read is disconnected when its output queue is full. */
static void test_tcp_outq_overflow(void **state)
{
	struct fixture *f = *state;
	struct sip_transport_opts o = { .max_outq = 65536 };
	struct side *s = &f->a;
	static char chunk[70000];
	struct sa bound;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, true);
	int fd, rcvbuf = 4096, rc = 0;
	struct sip_flow fl;
	unsigned idx, i;

	side_open(f, s, &o);
	idx = listen_on(s, SIP_PROTO_TCP, "127.0.0.1", NULL, &bound);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(connect(fd, &bound.u.sa, bound.len), 0);
	write_all(fd, msg, len);
	wait_count(f, &s->nrx, 1);
	fl = s->rx[0].flow;
	memset(chunk, 'x', sizeof(chunk));
	/* larger than the queue could ever hold: refused, the connection stays */
	assert_int_equal(sip_transport_send(s->tp, &fl, chunk, sizeof(chunk)), -EMSGSIZE);
	assert_true(sip_transport_flow_alive(s->tp, &fl));
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = sip_transport_send(s->tp, &fl, chunk, 4096);
	assert_int_equal(rc, -ENOBUFS);
	assert_false(sip_transport_flow_alive(s->tp, &fl));
	assert_int_equal(sip_transport_send(s->tp, &fl, chunk, 10), -ENOTCONN);
	assert_int_equal(s->nclosed, 0); /* reported from the loop, not from inside the send */
	wait_count(f, &s->nclosed, 1);
	assert_int_equal(s->reason[0], -ENOBUFS);
	assert_int_equal(stats(s, idx).tx_errors, 1);
	assert_int_equal(stats(s, idx).conns_open, 0);
	close(fd);
}

/* ---- TCP between two layers ---- */

/* send_to opens a connection, reuses it, and replies come back over it. */
static void test_tcp_send_to(void **state)
{
	struct fixture *f = *state;
	struct side *a = &f->a, *b = &f->b;
	struct sa a_addr, closed_port;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 3, true);
	struct sip_flow fb, fb2;
	unsigned ai, bi;

	side_open(f, a, NULL);
	side_open(f, b, NULL);
	ai = listen_on(a, SIP_PROTO_TCP, "127.0.0.1", NULL, &a_addr);
	bi = listen_on(b, SIP_PROTO_TCP, "127.0.0.1", NULL, NULL);
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, NULL, msg, len, &fb), 0);
	assert_int_equal(fb.proto, SIP_PROTO_TCP);
	assert_int_equal(fb.listener, bi);
	assert_true(fb.conn_id != 0);
	assert_true(sa_equal(&fb.remote, &a_addr));
	/* queued until connected; a second message follows on the same connection */
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, NULL, msg, len, &fb2), 0);
	assert_int_equal(fb2.conn_id, fb.conn_id);
	wait_count(f, &a->nrx, 2);
	assert_rx(&a->rx[0], msg, len);
	assert_rx(&a->rx[1], msg, len);
	assert_true(sa_equal(&a->rx[0].flow.remote, &fb.local));
	assert_int_equal(stats(b, bi).conns_connected, 1);
	assert_int_equal(stats(a, ai).conns_accepted, 1);

	/* the answer travels back over the connection b opened */
	assert_int_equal(sip_transport_send(a->tp, &a->rx[0].flow, msg, len), 0);
	wait_count(f, &b->nrx, 1);
	assert_rx(&b->rx[0], msg, len);
	assert_int_equal(b->rx[0].flow.conn_id, fb.conn_id);

	/* a closes the connection: b hears of it, and its flow is gone */
	assert_int_equal(sip_transport_flow_close(a->tp, &a->rx[0].flow), 0);
	assert_false(sip_transport_flow_alive(a->tp, &a->rx[0].flow));
	wait_count(f, &b->nclosed, 1);
	assert_int_equal(b->closed[0].conn_id, fb.conn_id);
	assert_int_equal(sip_transport_send(b->tp, &fb, msg, len), -ENOTCONN);
	assert_int_equal(a->nclosed, 1);
	assert_int_equal(a->reason[0], 0);

	/* a port nobody listens on: the connect fails, now or through the close handler */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(sa_parse_cstr(&closed_port, "127.0.0.1", 0), 0);
	assert_int_equal(bind(fd, &closed_port.u.sa, closed_port.len), 0);
	closed_port = sockname(fd); /* bound, not listening: refused */
	int rc = sip_transport_send_to(b->tp, bi, &closed_port, NULL, msg, len, &fb);

	if (rc == 0) {
		wait_count(f, &b->nclosed, 2);
		assert_int_equal(b->reason[1], -ECONNREFUSED);
		assert_int_equal(b->closed[1].conn_id, fb.conn_id);
	} else {
		assert_int_equal(rc, -ECONNREFUSED);
	}
	close(fd);
}

/* ---- TLS ---- */

static struct sip_tls_opts tls_opts(void)
{
	return (struct sip_tls_opts){ .cert_file = cert_file,
				      .key_file = key_file,
				      .ca_file = cert_file };
}

/* Half-open connections: a TLS handshake that never starts is reaped on both sides. */
static void test_tls_half_open(void **state)
{
	struct fixture *f = *state;
	struct sip_transport_opts o = { .connect_timeout_ms = 300 };
	struct sip_tls_opts tls = tls_opts();
	struct side *a = &f->a;
	struct reader r = { 0 };
	struct sa bound, mute;
	struct sip_flow fl;
	unsigned idx;
	uint64_t t0;
	int lfd;

	side_open(f, a, &o);
	idx = listen_on(a, SIP_PROTO_TLS, "127.0.0.1", &tls, &bound);
	/* server side: a client that connects and says nothing */
	t0 = clock_monotonic_ms();
	r.fd = tcp_client(&bound);
	RUN_UNTIL(f, reader_eof, &r);
	assert_true(clock_monotonic_ms() - t0 >= 250);
	wait_count(f, &a->nclosed, 1);
	assert_int_equal(a->reason[0], -ETIMEDOUT);
	assert_int_equal(stats(a, idx).conns_reaped, 1);
	close(r.fd);

	/* client side: a server that accepts (in the kernel) and never answers */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(sa_parse_cstr(&mute, "127.0.0.1", 0), 0);
	assert_int_equal(bind(lfd, &mute.u.sa, mute.len), 0);
	assert_int_equal(listen(lfd, 8), 0);
	mute = sockname(lfd);
	assert_int_equal(sip_transport_send_to(a->tp, idx, &mute, NULL, "x", 1, &fl), 0);
	wait_count(f, &a->nclosed, 2);
	assert_int_equal(a->reason[1], -ETIMEDOUT);
	assert_int_equal(a->closed[1].conn_id, fl.conn_id);
	assert_int_equal(stats(a, idx).conns_reaped, 2);
	close(lfd);
}

/* Server and client with verification on; messages both ways; a wrong name fails. */
static void test_tls_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct sip_tls_opts tls = tls_opts();
	struct side *a = &f->a, *b = &f->b;
	struct sa a_addr;
	char msg[4096], big[40000];
	size_t len = make_msg(msg, sizeof(msg), 1, 1000, true);
	size_t blen = make_msg(big, sizeof(big), 2, 30000, true); /* several TLS records */
	struct sip_flow fb;
	unsigned ai, bi;

	side_open(f, a, NULL);
	side_open(f, b, NULL);
	ai = listen_on(a, SIP_PROTO_TLS, "127.0.0.1", &tls, &a_addr);
	bi = listen_on(b, SIP_PROTO_TLS, "127.0.0.1", &tls, NULL);
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, "localhost", msg, len, &fb), 0);
	assert_int_equal(fb.proto, SIP_PROTO_TLS);
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, "localhost", big, blen, NULL),
			 0);
	wait_count(f, &a->nrx, 2);
	assert_rx(&a->rx[0], msg, len);
	assert_rx(&a->rx[1], big, blen);
	assert_int_equal(a->rx[0].flow.proto, SIP_PROTO_TLS);
	assert_true(sa_equal(&a->rx[0].flow.remote, &fb.local));

	assert_int_equal(sip_transport_send(a->tp, &a->rx[0].flow, big, blen), 0);
	assert_int_equal(sip_transport_send(a->tp, &a->rx[0].flow, msg, len), 0);
	wait_count(f, &b->nrx, 2);
	assert_rx(&b->rx[0], big, blen);
	assert_rx(&b->rx[1], msg, len);
	assert_int_equal(b->rx[0].flow.conn_id, fb.conn_id);
	assert_int_equal(stats(a, ai).tls_failures + stats(b, bi).tls_failures, 0);
	assert_int_equal(stats(b, bi).conns_connected, 1);

	/* a name the certificate does not carry: the client refuses the server */
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, "wrong.example", msg, len, &fb),
			 0);
	wait_count(f, &b->nclosed, 1);
	assert_int_equal(b->reason[0], -EPROTO);
	assert_int_equal(b->closed[0].conn_id, fb.conn_id);
	assert_int_equal(stats(b, bi).tls_failures, 1);
	assert_int_equal(a->nrx, 2);

	/* an address as the name: matched against the IP SAN */
	assert_int_equal(sip_transport_send_to(b->tp, bi, &a_addr, "127.0.0.1", msg, len, &fb), 0);
	wait_count(f, &a->nrx, 3);
	assert_int_equal(b->nclosed, 1);
	assert_int_equal(stats(b, bi).conns_connected, 3);
}

/* verify_client: a client without a certificate is refused, one with a certificate is not. */
static void test_tls_client_cert_required(void **state)
{
	struct fixture *f = *state;
	struct sip_tls_opts srv = tls_opts(), anon = tls_opts();
	struct side *a = &f->a, *b = &f->b;
	struct sa a_addr;
	char msg[1024];
	size_t len = make_msg(msg, sizeof(msg), 1, 0, true);
	unsigned ai, b_anon, b_cert;

	srv.verify_client = true;
	anon.anonymous_client = true;
	side_open(f, a, NULL);
	side_open(f, b, NULL);
	ai = listen_on(a, SIP_PROTO_TLS, "127.0.0.1", &srv, &a_addr);
	b_anon = listen_on(b, SIP_PROTO_TLS, "127.0.0.1", &anon, NULL);
	b_cert = listen_on(b, SIP_PROTO_TLS, "127.0.0.1", &srv, NULL);

	assert_int_equal(sip_transport_send_to(b->tp, b_anon, &a_addr, "localhost", msg, len, NULL),
			 0);
	WAIT_STAT(f, a, ai, tls_failures, 1);
	wait_count(f, &b->nclosed, 1);
	assert_int_equal(a->nrx, 0);
	assert_int_equal(stats(a, ai).conns_open, 0);

	assert_int_equal(sip_transport_send_to(b->tp, b_cert, &a_addr, "localhost", msg, len, NULL),
			 0);
	wait_count(f, &a->nrx, 1);
	assert_rx(&a->rx[0], msg, len);
	assert_int_equal(stats(a, ai).tls_failures, 1);
}

/* A TLS listener without a usable certificate is refused at configuration time. */
static void test_tls_bad_config(void **state)
{
	struct fixture *f = *state;
	struct sip_listen_opts o = { .proto = SIP_PROTO_TLS, .interface = "bad" };
	unsigned idx;

	side_open(f, &f->a, NULL);
	assert_int_equal(sa_parse_cstr(&o.addr, "127.0.0.1", 0), 0);
	assert_int_equal(sip_transport_listen(f->a.tp, &o, &idx), -EINVAL);
	o.tls.cert_file = "/nonexistent/cert.pem";
	o.tls.key_file = key_file;
	assert_int_equal(sip_transport_listen(f->a.tp, &o, &idx), -EINVAL);
	assert_int_equal(sip_transport_listener_count(f->a.tp), 0);
}

/* ---- certificate for the TLS tests ---- */

static int make_cert(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	X509_NAME *name;
	FILE *fp;
	int ok = 0;

	if (!key || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	if (!ext)
		goto out;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	fp = fopen(cert_file, "w");
	if (!fp)
		goto out;
	ok = PEM_write_X509(fp, x);
	fclose(fp);
	fp = fopen(key_file, "w");
	if (!fp) {
		ok = 0;
		goto out;
	}
	ok = ok && PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/sbc-tp-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cert_file, sizeof(cert_file), "%s/cert.pem", tmpdir);
	snprintf(key_file, sizeof(key_file), "%s/key.pem", tmpdir);
	return make_cert();
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(cert_file);
	unlink(key_file);
	rmdir(tmpdir);
	return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		T(test_udp_ipv4),
		T(test_udp_ipv6),
		T(test_udp_wildcard_pktinfo),
		T(test_udp_wildcard_ipv6),
		T(test_sent_by),
		T(test_udp_batch),
		T(test_udp_keepalives),
		T(test_tcp_flow),
		T(test_tcp_byte_by_byte),
		T(test_tcp_pipelined),
		T(test_tcp_ping_pong),
		T(test_tcp_oversize),
		T(test_tcp_bad_content_length),
		T(test_tcp_no_content_length),
		T(test_tcp_idle_reap),
		T(test_tcp_per_ip_limit),
		T(test_tcp_global_limit),
		T(test_tcp_close_in_handler),
		T(test_tcp_outq_overflow),
		T(test_tcp_send_to),
		T(test_tls_half_open),
		T(test_tls_roundtrip),
		T(test_tls_client_cert_required),
		T(test_tls_bad_config),
	};

	/* SIGPIPE stays fatal: the layer must never raise it */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
