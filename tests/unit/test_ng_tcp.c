/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ng over TCP: the framing of commands in a stream (ng_frame.h), then the listener on
 * loopback (ng_tcp.h): several commands per segment, commands split over segments, garbage,
 * the connection limit, the idle timeout, and the reply cache and sessions shared with UDP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/loop.h"
#include "fake_dp.h"
#include "rtpengine/call.h"
#include "rtpengine/iface.h"
#include "rtpengine/ng.h"
#include "rtpengine/ng_frame.h"
#include "rtpengine/ng_tcp.h"

#define PING "d7:command4:pinge"
#define PONG "d6:result4:ponge"
#define SDP_A                                                                             \
	"v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
	"m=audio 4000 RTP/AVP 0 8\r\na=sendrecv\r\n"
#define OFFER	"d7:command5:offer7:call-id5:call18:from-tag4:tagA3:sdp" SDP_LEN ":" SDP_A "e"
#define SDP_LEN "107"

/* --- framing --------------------------------------------------------------- */

static struct bencode_node frame_nodes[1024];

static int frame(struct ng_frame *f, const char *s, size_t max)
{
	struct bencode_doc doc;

	bencode_doc_init(&doc, frame_nodes, 1024);
	return ng_frame_next(f, s, strlen(s), max, &doc);
}

static void test_frame(void **state)
{
	struct ng_frame f;
	char big[400];

	(void)state;
	assert_int_equal(sizeof(SDP_A) - 1, 107);
	assert_int_equal(frame(&f, "c1 " PING, 1000), 1);
	assert_int_equal(f.skip, 0);
	assert_int_equal(f.len, strlen("c1 " PING));
	/* two in a row: the first ends where its dict does */
	assert_int_equal(frame(&f, "c1 " PING "c2 " PING, 1000), 1);
	assert_int_equal(f.len, strlen("c1 " PING));
	/* whitespace between commands is dropped */
	assert_int_equal(frame(&f, "\r\n c1 " PING, 1000), 1);
	assert_int_equal(f.skip, 3);
	/* every proper prefix waits for more */
	for (size_t n = 0; n < strlen("c1 " PING); n++) {
		char part[64];

		snprintf(part, sizeof(part), "%.*s", (int)n, "c1 " PING);
		assert_int_equal(frame(&f, part, 1000), 0);
	}
	/* garbage with a cookie can be answered, without one it cannot */
	assert_int_equal(frame(&f, "GET / HTTP/1.1\r\n", 1000), -EINVAL);
	assert_int_equal(f.cookie_len, 3);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(frame(&f, big, 1000), -EINVAL);
	assert_int_equal(f.cookie_len, 0);
	/* a command longer than the limit, complete or not */
	assert_int_equal(frame(&f, "c1 " PING, 10), -EMSGSIZE);
	assert_int_equal(frame(&f, "c1 d3:foo50:abc", 10), -EMSGSIZE);
	assert_int_equal(frame(&f, "c1 d3:foo50:abc", 1000), 0);
}

/* --- the listener ------------------------------------------------------------ */

struct env {
	struct loop *loop;
	struct fake_dp dp;
	struct iface ifaces[2];
	struct calls *calls;
	struct ng_server *ng;
	struct ng_tcp *tcp;
	char buf[65536];
};

static struct env *E;

static int setup(void **state)
{
	struct iface_conf ic[2] = {
		{ .name = "access", .port_min = 30000, .port_max = 30099 },
		{ .name = "core", .port_min = 40000, .port_max = 40099 },
	};
	struct calls_conf cc = {
		.limits.timeout_ms = 60000,
		.limits.silent_timeout_ms = 3600000,
		.limits.offer_timeout_ms = 300000,
		.limits.latch_window_ms = 10000,
	};
	struct ng_tcp_limits lim = { .max_conns = 2, .max_msg = 4096, .idle_ms = 200 };
	struct sa addr;

	(void)state;
	E = calloc(1, sizeof(*E));
	assert_non_null(E);
	assert_int_equal(loop_alloc(&E->loop), 0);
	fake_dp_init(&E->dp);
	sa_parse_cstr(&ic[0].local, "127.0.0.1", 0);
	sa_parse_cstr(&ic[1].local, "127.0.0.2", 0);
	assert_int_equal(iface_init(&E->ifaces[0], &ic[0], 1), 0);
	assert_int_equal(iface_init(&E->ifaces[1], &ic[1], 2), 0);
	cc.dp = &E->dp.base;
	cc.ifaces = E->ifaces;
	cc.nifaces = 2;
	assert_int_equal(calls_alloc(&E->calls, &cc), 0);
	sa_parse_cstr(&addr, "127.0.0.1:0", 0);
	assert_int_equal(ng_server_alloc(&E->ng, E->loop, &addr, E->calls), 0);
	assert_int_equal(ng_tcp_alloc(&E->tcp, E->loop, &addr, E->ng, &lim), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ng_tcp_free(E->tcp);
	ng_server_free(E->ng);
	calls_free(E->calls);
	iface_clear(&E->ifaces[0]);
	iface_clear(&E->ifaces[1]);
	loop_free(E->loop);
	free(E);
	return 0;
}

static void stop_loop(void *arg)
{
	loop_stop(arg);
}

/* Runs the daemon side for @p ms. */
static void pump(unsigned ms)
{
	struct timer t;

	timer_init(&t);
	timer_start(loop_timers(E->loop), &t, ms, stop_loop, E->loop);
	loop_run(E->loop);
	timer_cancel(loop_timers(E->loop), &t);
}

static int client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &ng_tcp_addr(E->tcp)->u.sa, ng_tcp_addr(E->tcp)->len), 0);
	pump(5);
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* What the daemon sent on @p fd within a few rounds; *eof says whether it closed. */
static size_t receive(int fd, bool *eof)
{
	size_t len = 0;

	*eof = false;
	for (int round = 0; round < 20 && !*eof; round++) {
		ssize_t n;

		pump(5);
		while ((n = recv(fd, E->buf + len, sizeof(E->buf) - 1 - len, MSG_DONTWAIT)) > 0)
			len += (size_t)n;
		*eof = n == 0;
	}
	E->buf[len] = '\0';
	return len;
}

static void test_ping(void **state)
{
	int fd = client();
	bool eof;

	(void)state;
	send_str(fd, "a1 " PING);
	receive(fd, &eof);
	assert_string_equal(E->buf, "a1 " PONG);
	assert_false(eof);
	close(fd);
}

static void test_pipelined_and_split(void **state)
{
	const char *two = "a1 " PING "\na2 " PING "\n";
	const char *one = "b1 " PING;
	int fd = client();
	bool eof;

	(void)state;
	send_str(fd, two);
	/* a command in pieces: nothing until the last byte */
	for (size_t i = 0; one[i]; i++) {
		char c[2] = { one[i], 0 };

		send_str(fd, c);
		pump(1);
	}
	receive(fd, &eof);
	assert_string_equal(E->buf, "a1 " PONG "a2 " PONG "b1 " PONG);
	assert_int_equal(ng_tcp_stats(E->tcp)->commands, 3);
	close(fd);
}

static void test_garbage(void **state)
{
	int fd = client();
	bool eof;

	(void)state;
	send_str(fd, "a1 " PING "GET / HTTP/1.1\r\n\r\n");
	receive(fd, &eof);
	assert_string_equal(E->buf, "a1 " PONG "GET d6:result5:error12:error-reason27:Could not "
				    "decode dictionarye");
	assert_true(eof);
	assert_int_equal(ng_tcp_stats(E->tcp)->garbage, 1);
	close(fd);
	/* a command the dict of which is no dict is an ng error, not garbage */
	fd = client();
	send_str(fd, "a2 i5e");
	receive(fd, &eof);
	assert_non_null(strstr(E->buf, "5:error"));
	assert_false(eof);
	close(fd);
}

static void test_too_large(void **state)
{
	char big[5000];
	int fd = client();
	bool eof;

	(void)state;
	memset(big, 'x', sizeof(big));
	memcpy(big, "z1 d3:foo9999:", 14);
	big[sizeof(big) - 1] = '\0';
	send_str(fd, big);
	receive(fd, &eof);
	assert_non_null(strstr(E->buf, "z1 d6:result5:error12:error-reason17:Message too large"));
	assert_true(eof);
	close(fd);
}

static void test_limits(void **state)
{
	int a = client(), b = client(), c = client();
	bool eof;

	(void)state;
	assert_int_equal(ng_tcp_conns(E->tcp), 2);
	receive(c, &eof);
	assert_true(eof);
	assert_int_equal(ng_tcp_stats(E->tcp)->refused, 1);
	close(c);
	/* both idle beyond 200 ms: closed */
	pump(400);
	receive(a, &eof);
	assert_true(eof);
	receive(b, &eof);
	assert_true(eof);
	assert_int_equal(ng_tcp_conns(E->tcp), 0);
	assert_int_equal(ng_tcp_stats(E->tcp)->idle, 2);
	close(a);
	close(b);
}

/*
 * A client that sends without reading: replies queue up to the high-water mark (beyond what
 * the kernel buffers: queries of a call, about 1.5 KB each), then the daemon stops reading;
 * once the client reads, every reply comes, in order.
 */
static void test_backpressure(void **state)
{
	enum { N = 6000 };
	static char req[N * 64], in[1 << 20];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	size_t len = 0, sent = 0, have = 0;
	unsigned next = 0;
	int n;

	(void)state;
	n = ng_process(E->ng, "o1 " OFFER, strlen("o1 " OFFER), E->buf, sizeof(E->buf));
	assert_true(n > 0);
	assert_true(fd >= 0);
	(void)connect(fd, &ng_tcp_addr(E->tcp)->u.sa, ng_tcp_addr(E->tcp)->len);
	for (unsigned i = 0; i < N; i++)
		len += (size_t)snprintf(req + len, sizeof(req) - len,
					"q%u d7:command5:query7:call-id5:call1e", i);
	/* the client reads as soon as the daemon stalls: beyond 200 ms it would be idle */
	for (int round = 0; round < 3000 && !ng_tcp_stats(E->tcp)->stalls; round++) {
		ssize_t k = send(fd, req + sent, len - sent, MSG_NOSIGNAL);

		if (k > 0)
			sent += (size_t)k;
		pump(1);
	}
	assert_true(ng_tcp_stats(E->tcp)->stalls > 0);
	for (int round = 0; round < 5000 && next < N; round++) {
		struct bencode_doc doc;
		struct ng_frame f;
		ssize_t k;

		if (sent < len && (k = send(fd, req + sent, len - sent, MSG_NOSIGNAL)) > 0)
			sent += (size_t)k;
		pump(1);
		while ((k = recv(fd, in + have, sizeof(in) - have, 0)) > 0)
			have += (size_t)k;
		/* replies are framed as commands: cut them, check their order */
		bencode_doc_init(&doc, frame_nodes, 1024);
		while (ng_frame_next(&f, in, have, sizeof(in), &doc) == 1) {
			char cookie[16];

			snprintf(cookie, sizeof(cookie), "q%u ", next++);
			assert_memory_equal(in + f.skip, cookie, strlen(cookie));
			memmove(in, in + f.skip + f.len, have - f.skip - f.len);
			have -= f.skip + f.len;
		}
	}
	assert_int_equal(next, N);
	close(fd);
}

/* An offer over TCP, retransmitted on a new connection and queried over UDP. */
static void test_shared_sessions(void **state)
{
	char first[8192], req[8192];
	int fd = client();
	size_t len;
	bool eof;
	int n;

	(void)state;
	send_str(fd, "o1 " OFFER);
	len = receive(fd, &eof);
	assert_true(len > 0 && len < sizeof(first));
	assert_non_null(strstr(E->buf, "6:result2:ok"));
	memcpy(first, E->buf, len + 1);
	close(fd);
	fd = client();
	send_str(fd, "o1 " OFFER);
	receive(fd, &eof);
	assert_string_equal(E->buf, first);
	assert_int_equal(calls_counters(E->calls)->current, 1);
	assert_int_equal(ng_server_stats(E->ng)->retransmits, 1);
	close(fd);
	n = ng_process(E->ng, "q1 d7:command5:query7:call-id5:call1e", 37, req, sizeof(req));
	assert_true(n > 0);
	req[n] = '\0';
	assert_non_null(strstr(req, "6:result2:ok"));
}

#define OFFER_TD(id)                                                                \
	"d7:command5:offer7:call-id3:" id "8:from-tag4:tagA3:sdp" SDP_LEN ":" SDP_A \
	"5:flagsl15:teardown-notifyee"

/* Offers call @p req on @p fd and checks the answer. */
static void offer_on(int fd, const char *req)
{
	bool eof;

	send_str(fd, req);
	receive(fd, &eof);
	assert_non_null(strstr(E->buf, "6:result2:ok"));
	assert_false(eof);
}

/*
 * Teardown notifications over TCP: on the connection the call's last command came on; after
 * a reconnect, on the client's new connection; with none, lost. The client's answer to a
 * notification gets no answer.
 */
static void test_teardown_notify(void **state)
{
	uint64_t t0 = loop_now_ms(E->loop);
	int fd = client(), fd2;
	char reply[64];
	bool eof;

	(void)state;
	offer_on(fd, "o1 " OFFER_TD("td1"));
	calls_tick(E->calls, t0 + 400000); /* never answered: offer-timeout */
	receive(fd, &eof);
	assert_false(eof);
	assert_memory_equal(E->buf, "td", 2);
	assert_non_null(strstr(E->buf, " d7:command8:teardown7:call-id3:td18:from-tag4:tagA6:"
				       "reason13:offer-timeoute"));
	assert_int_equal(ng_server_stats(E->ng)->teardowns, 1);
	/* the client answers it, as it would a datagram: no reply to a reply */
	snprintf(reply, sizeof(reply), "%.*s d6:result2:oke", (int)(strchr(E->buf, ' ') - E->buf),
		 E->buf);
	send_str(fd, reply);
	assert_int_equal(receive(fd, &eof), 0);
	assert_false(eof);

	/* the connection closed, the client came back on another */
	offer_on(fd, "o2 " OFFER_TD("td2"));
	close(fd);
	pump(5);
	fd2 = client();
	calls_tick(E->calls, t0 + 800000);
	receive(fd2, &eof);
	assert_non_null(strstr(E->buf, "7:call-id3:td2"));
	assert_int_equal(ng_server_stats(E->ng)->teardowns, 2);

	/* nobody connected: lost */
	offer_on(fd2, "o3 " OFFER_TD("td3"));
	close(fd2);
	pump(5);
	calls_tick(E->calls, t0 + 1200000);
	assert_int_equal(calls_counters(E->calls)->current, 0);
	assert_int_equal(ng_server_stats(E->ng)->teardowns, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_notify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
