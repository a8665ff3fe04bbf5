/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NAT keep-alives on a fake clock: a real registrar (bindings added straight
 * through its location service) and a real transaction layer whose send
 * callback records the OPTIONS; CRLF pings go to a fake raw send. Responses
 * are built from the recorded requests and fed back to the layer.
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

#include "common/timer.h"
#include "sbc/registrar/keepalive.h"
#include "sbc/registrar/location.h"
#include "sbc/registrar/registrar.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"
#include "sbc/sip/reply.h"
#include "sbc/sip/tsx.h"

#define T0	    1000000
#define MAX_REC	    64
#define MAX_TIMES   20000
#define OPTS_MAXLEN 4096

struct rec {
	char buf[OPTS_MAXLEN];
	size_t len;
	struct sip_flow flow;
	uint64_t at;
};

static struct env {
	struct timers *ts;
	struct sip_tsx_layer *l;
	struct registrar *r;
	struct location *loc;
	struct keepalive *k;
	struct sip_flow udp, tcp;

	struct rec opts[MAX_REC]; /* first transmissions and retransmissions */
	unsigned nopts;
	unsigned long tsx_sends;
	struct rec pings[MAX_REC];
	unsigned npings;
	unsigned long ping_total;
	int ping_err;		     /* raw sends fail with this when set */
	uint64_t ping_at[MAX_TIMES]; /* times of the CRLF pings */
	unsigned nping_at;
} E;

static uint64_t now(void)
{
	return timers_now(E.ts) - T0;
}

static void at(uint64_t ms)
{
	timers_run(E.ts, T0 + ms);
}

/* Runs the clock to @p ms in steps of @p step. */
static void run_to(uint64_t ms, uint64_t step)
{
	for (uint64_t t = now() + step; t < ms; t += step)
		at(t);
	at(ms);
}

static int tsx_send(void *arg, const void *dest, const char *buf, size_t len)
{
	(void)arg;
	E.tsx_sends++;
	if (E.nopts < MAX_REC && len < OPTS_MAXLEN) {
		struct rec *r = &E.opts[E.nopts++];

		memcpy(r->buf, buf, len);
		r->len = len;
		memcpy(&r->flow, dest, sizeof(r->flow));
		r->at = now();
	}
	return 0;
}

static int raw_send(void *arg, const struct sip_flow *flow, const void *buf, size_t len)
{
	assert_ptr_equal(arg, &E);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "\r\n\r\n", 4);
	if (E.ping_err)
		return E.ping_err;
	E.ping_total++;
	if (E.nping_at < MAX_TIMES)
		E.ping_at[E.nping_at++] = now();
	if (E.npings < MAX_REC) {
		E.pings[E.npings].flow = *flow;
		E.pings[E.npings].at = now();
		E.npings++;
	}
	return 0;
}

static void on_request(void *arg, struct sip_tsx *st, const struct sip_msg *req)
{
	(void)arg;
	(void)st;
	(void)req;
	fail_msg("no request expected");
}

static void env_up(const struct keepalive_conf *over)
{
	struct sip_tsx_conf tc = {
		.dest_size = sizeof(struct sip_flow),
		.send_h = tsx_send,
		.request_h = on_request,
	};
	struct registrar_conf rc = { .realm = "example.com" };
	struct keepalive_conf kc = { 0 };

	memset(&E, 0, sizeof(E));
	if (over)
		kc = *over;
	kc.send_h = raw_send;
	kc.send_arg = &E;
	assert_int_equal(timers_alloc(&E.ts, T0), 0);
	assert_int_equal(sip_tsx_layer_alloc(&E.l, E.ts, &tc), 0);
	assert_int_equal(registrar_alloc(&E.r, E.ts, &rc), 0);
	E.loc = registrar_location(E.r);
	assert_int_equal(keepalive_alloc(&E.k, E.ts, E.l, NULL, E.r, &kc), 0);

	assert_int_equal(sa_parse_cstr(&E.udp.remote, "198.51.100.7:40312", 0), 0);
	assert_int_equal(sa_parse_cstr(&E.udp.local, "192.0.2.1:5060", 0), 0);
	E.udp.proto = SIP_PROTO_UDP;
	E.tcp = E.udp;
	E.tcp.proto = SIP_PROTO_TCP;
	E.tcp.conn_id = 7;
}

static void env_down(void)
{
	keepalive_free(E.k);
	registrar_free(E.r);
	sip_tsx_layer_free(E.l);
	assert_int_equal(timers_count(E.ts), 0);
	timers_free(E.ts);
}

static int setup(void **state)
{
	(void)state;
	env_up(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	env_down();
	return 0;
}

static void add_binding(const char *user, const char *uri, uint32_t expires,
			const struct sip_flow *flow)
{
	char aor[LOCATION_AOR_MAX];
	struct location_binding b = { .uri = strv_cstr(uri), .expires_s = expires, .q = 1000 };
	static uint32_t cseq = 1;
	int n = location_aor_key(strv_cstr(user), STRV("example.com"), aor);

	assert_true(n > 0);
	assert_int_equal(
	    location_register(E.loc, strv_make(aor, (size_t)n), STRV("cid-1"), cseq++, flow, &b, 1),
	    0);
}

static unsigned bindings_of(const char *user)
{
	const struct location_contact *c[4];

	return registrar_lookup(E.r, strv_cstr(user), STRV("example.com"), c, 4);
}

static struct keepalive_stats stats(void)
{
	struct keepalive_stats st;

	keepalive_stats(E.k, &st);
	return st;
}

/* Answers recorded OPTIONS @p i with @p code. */
static void answer(unsigned i, unsigned code)
{
	struct sip_msg req, resp;
	struct sip_parse_error pe;
	char out[OPTS_MAXLEN];
	struct sip_pbuf b;
	long len;

	assert_true(i < E.nopts);
	assert_int_equal(sip_msg_parse(&req, E.opts[i].buf, E.opts[i].len, NULL, &pe), 0);
	sip_print_init(&b, out, sizeof(out));
	assert_int_equal(sip_reply_begin(&b, &req, &E.opts[i].flow, code, STRV_NULL, STRV("t1")),
			 0);
	sip_print_body(&b, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&b);
	assert_true(len > 0);
	assert_int_equal(sip_msg_parse(&resp, out, (size_t)len, NULL, &pe), 0);
	assert_int_equal(sip_tsx_recv(E.l, &resp, &E.opts[i].flow, false), 0);
}

/* --- tests --------------------------------------------------------------- */

static void test_options_at_interval(void **state)
{
	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5:5060;transport=udp", 3600, &E.udp);
	assert_int_equal(stats().bindings, 1);
	at(14999);
	assert_int_equal(E.nopts, 0); /* not before 50 % of the interval */
	while (E.nopts == 0 && now() < 30000)
		at(now() + 100);
	assert_int_equal(E.nopts, 1);
	assert_true(E.opts[0].at >= 15000 && E.opts[0].at <= 30000);
	assert_non_null(
	    strstr(E.opts[0].buf, "OPTIONS sip:alice@10.0.0.5:5060;transport=udp SIP/2.0\r\n"));
	assert_non_null(strstr(E.opts[0].buf, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK"));
	assert_non_null(strstr(E.opts[0].buf, "From: <sip:keepalive@192.0.2.1:5060>;tag="));
	assert_non_null(strstr(E.opts[0].buf, "To: <sip:alice@10.0.0.5:5060;transport=udp>"));
	assert_non_null(strstr(E.opts[0].buf, "CSeq: 1 OPTIONS"));
	assert_true(sa_equal(&E.opts[0].flow.remote, &E.udp.remote));
	assert_int_equal(E.npings, 0);
	answer(0, 200);
	assert_int_equal(stats().answered, 1);
	assert_int_equal(stats().sent, 1);

	/* The next one 80..100 % of the interval after the first. */
	uint64_t first = E.opts[0].at;
	run_to(first + 30000, 100);
	assert_int_equal(stats().sent, 2);
	assert_true(E.nopts >= 2); /* the second one, then its retransmissions */
	assert_true(E.opts[1].at >= first + 24000 && E.opts[1].at <= first + 30000);
}

static void test_any_response_keeps_binding(void **state)
{
	static const unsigned codes[] = { 200, 404, 405, 501, 486, 403 };

	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5", 3600, &E.udp);
	for (unsigned r = 0; r < 6; r++) {
		unsigned before = E.nopts;

		while (E.nopts == before)
			at(now() + 100);
		answer(E.nopts - 1, codes[r]);
	}
	assert_int_equal(stats().answered, 6);
	assert_int_equal(stats().failed, 0);
	assert_int_equal(bindings_of("alice"), 1);
	/* Answered at once: no retransmission went out. */
	assert_int_equal(E.tsx_sends, 6);
}

static void test_three_timeouts_drop(void **state)
{
	struct location_stats ls;

	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5", 3600, &E.udp);
	add_binding("bob", "sip:bob@10.0.0.6", 3600, &E.udp);
	/* bob answers every time; alice never does. */
	uint64_t end = 400000;
	unsigned seen = 0;

	while (now() < end && bindings_of("alice")) {
		at(now() + 100);
		for (; seen < E.nopts; seen++) {
			if (strstr(E.opts[seen].buf, "OPTIONS sip:bob@") == E.opts[seen].buf)
				answer(seen, 404);
		}
		if (E.nopts >= MAX_REC - 2)
			E.nopts = seen = 0; /* only what is new matters */
	}
	assert_int_equal(bindings_of("alice"), 0);
	assert_int_equal(bindings_of("bob"), 1);
	assert_int_equal(stats().failed, 3);
	assert_int_equal(stats().dropped, 1);
	assert_int_equal(stats().bindings, 1);
	assert_true(stats().skipped >= 1); /* Timer F (32 s) outlasts the interval */
	location_stats(E.loc, &ls);
	assert_int_equal(ls.removed, 1);
	/* 3 rounds of Timer F, each at most 60 s apart */
	assert_true(now() > 3 * 32000 && now() < 200000);
}

static void test_answer_resets_failures(void **state)
{
	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5", 3600, &E.udp);
	/* Two timeouts, an answer, two timeouts: still registered. */
	for (int round = 0; round < 5; round++) {
		unsigned long before = stats().sent;

		while (stats().sent == before)
			at(now() + 100);
		if (round == 2) {
			answer(0, 200); /* the round's OPTIONS: the last one timed out */
		} else {
			uint64_t until = now() + 32100;

			run_to(until, 500);
		}
		E.nopts = 0;
	}
	assert_int_equal(stats().failed, 4);
	assert_int_equal(stats().dropped, 0);
	assert_int_equal(bindings_of("alice"), 1);
}

static void test_jitter_spreads(void **state)
{
	unsigned bucket[16] = { 0 }, maxb = 0;
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)state;
	env_down();
	struct keepalive_conf kc = { .method = KEEPALIVE_CRLF };
	env_up(&kc);
	for (unsigned i = 0; i < 2000; i++) {
		char user[32], uri[64];

		snprintf(user, sizeof(user), "u%u", i);
		snprintf(uri, sizeof(uri), "sip:u%u@10.0.0.5", i);
		add_binding(user, uri, 3600, &E.udp);
	}
	run_to(30000, 10);
	assert_int_equal(E.nping_at, 2000); /* one round each, all at once registered */
	for (unsigned i = 0; i < E.nping_at; i++) {
		uint64_t t = E.ping_at[i];

		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
		assert_true(t >= 15000 && t <= 30000);
		bucket[(t - 15000) * 15 / 15001]++;
	}
	assert_true(lo < 16000 && hi > 29000);
	for (unsigned i = 0; i < 15; i++)
		maxb = bucket[i] > maxb ? bucket[i] : maxb;
	assert_true(maxb < 2000 / 15 * 2); /* about uniform: no second holds twice its share */
	/* CRLF mode over UDP: no transaction at all. */
	assert_int_equal(E.tsx_sends, 0);
}

static void test_pacer_bounds_rate(void **state)
{
	(void)state;
	env_down();
	struct keepalive_conf kc = { .method = KEEPALIVE_CRLF,
				     .interval_s = 1,
				     .max_per_sec = 100 };
	env_up(&kc);
	for (unsigned i = 0; i < 100; i++) {
		char user[32], uri[64];

		snprintf(user, sizeof(user), "u%u", i);
		snprintf(uri, sizeof(uri), "sip:u%u@10.0.0.5", i);
		add_binding(user, uri, 3600, &E.udp);
	}
	run_to(5000, 1);
	assert_true(E.nping_at > 300);
	for (unsigned i = 1; i < E.nping_at; i++)
		assert_true(E.ping_at[i] >= E.ping_at[i - 1] + 10);
}

static void test_stream_uses_crlf(void **state)
{
	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5;transport=tcp", 3600, &E.tcp);
	run_to(61000, 100);
	assert_int_equal(E.tsx_sends, 0); /* no OPTIONS over the connection */
	assert_true(E.npings >= 2 && E.npings <= 4);
	assert_int_equal(E.pings[0].flow.conn_id, 7);
	assert_int_equal(E.pings[0].flow.proto, SIP_PROTO_TCP);
	assert_int_equal(stats().sent, E.npings);

	/* The connection is gone: the binding goes at the next ping. */
	E.ping_err = -ENOTCONN;
	run_to(now() + 31000, 100);
	assert_int_equal(bindings_of("alice"), 0);
	assert_int_equal(stats().dropped, 1);
	assert_int_equal(stats().bindings, 0);
}

/*
 * RFC 5626 pongs: a UA that has answered a ping is held to it. Alice answers
 * for a while and then goes silent on a connection that stays up: her binding
 * goes after max_failures (3) unanswered rounds. Bob never answers (no 5626):
 * only send errors would drop him. Carol answers every ping and stays.
 */
static void test_silent_after_pongs_drops(void **state)
{
	struct sip_flow a = E.tcp, c = E.tcp;
	uint64_t silent_at = 0;
	unsigned seen = 0, oseen = 0;

	(void)state;
	c.conn_id = 9;
	add_binding("alice", "sip:alice@10.0.0.5;transport=tcp", 3600, &a);
	add_binding("bob", "sip:bob@10.0.0.6", 3600, &E.udp);
	add_binding("carol", "sip:carol@10.0.0.7;transport=tcp", 3600, &c);
	while (now() < 400000 && bindings_of("alice")) {
		at(now() + 100);
		for (; seen < E.npings; seen++) {
			const struct sip_flow *fl = &E.pings[seen].flow;

			if (fl->conn_id == 9 || (fl->conn_id == 7 && now() < 120000))
				keepalive_flow_alive(E.k, fl, true);
			else if (fl->conn_id == 7 && !silent_at)
				silent_at = now();
		}
		if (E.npings >= MAX_REC - 2)
			E.npings = seen = 0;
		for (; oseen < E.nopts; oseen++) /* bob is there, he just does not pong */
			answer(oseen, 200);
		if (E.nopts >= MAX_REC - 2)
			E.nopts = oseen = 0;
	}
	assert_int_equal(bindings_of("alice"), 0);
	assert_int_equal(bindings_of("bob"), 1);
	assert_int_equal(bindings_of("carol"), 1);
	assert_int_equal(stats().dropped, 1);
	assert_true(stats().pongs >= 6);
	/* within max_failures intervals (30 s each, 80..100 %) after the first unanswered ping */
	assert_true(silent_at > 0 && now() - silent_at <= 3 * 30000 + 100);
	assert_true(now() - silent_at >= 3 * 24000 - 100);

	/* A UA's own ping (not a pong) keeps it alive but does not commit it to answering. */
	keepalive_flow_alive(E.k, &E.udp, false);
	assert_int_equal(bindings_of("bob"), 1);
}

static void test_flow_closed_cancels(void **state)
{
	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5;transport=tcp", 3600, &E.tcp);
	assert_int_equal(registrar_flow_closed(E.r, 7), 1);
	assert_int_equal(stats().bindings, 0);
	run_to(60000, 1000);
	assert_int_equal(E.npings, 0);
}

static void test_removal_cancels(void **state)
{
	struct sip_tsx_stats ts;
	char aor[LOCATION_AOR_MAX];
	int n;

	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5", 3600, &E.udp);
	add_binding("bob", "sip:bob@10.0.0.6", 3600, &E.udp);
	run_to(30000, 100);
	assert_int_equal(stats().sent, 2);
	sip_tsx_layer_stats(E.l, &ts);
	assert_int_equal(ts.active, 2); /* both OPTIONS unanswered, retransmitting */

	/* alice unregisters (expires 0) while her OPTIONS is in flight. */
	struct location_binding b = { .uri = STRV("sip:alice@10.0.0.5"), .expires_s = 0 };
	n = location_aor_key(STRV("alice"), STRV("example.com"), aor);
	assert_int_equal(
	    location_register(E.loc, strv_make(aor, (size_t)n), STRV("cid-2"), 1, &E.udp, &b, 1),
	    0);
	assert_int_equal(stats().bindings, 1);
	sip_tsx_layer_stats(E.l, &ts);
	assert_int_equal(ts.active, 1); /* her transaction went with her */

	/* bob: administrative purge while idle. */
	n = location_aor_key(STRV("bob"), STRV("example.com"), aor);
	assert_int_equal(location_unregister_all(E.loc, strv_make(aor, (size_t)n), STRV_NULL, 0),
			 1);
	assert_int_equal(stats().bindings, 0);
	sip_tsx_layer_stats(E.l, &ts);
	assert_int_equal(ts.active, 0);
	E.nopts = 0;
	unsigned long sends = E.tsx_sends;

	run_to(200000, 1000);
	assert_int_equal(E.tsx_sends, sends);
	assert_int_equal(stats().failed, 0);
}

static void test_expiry_and_refresh(void **state)
{
	(void)state;
	add_binding("alice", "sip:alice@10.0.0.5", 60, &E.udp);
	add_binding("alice", "sip:alice@10.0.0.5", 60, &E.udp); /* refresh: starts over */
	assert_int_equal(stats().bindings, 1);
	run_to(61000, 100);
	assert_int_equal(bindings_of("alice"), 0);
	assert_int_equal(stats().bindings, 0);
	/* No keep-alive timer left, its OPTIONS transaction ended with it. */
	assert_int_equal(timers_count(E.ts), 0);
}

static void test_10k_bindings(void **state)
{
	struct keepalive_stats st;

	(void)state;
	for (unsigned i = 0; i < 10000; i++) {
		char user[32], uri[64];

		snprintf(user, sizeof(user), "u%u", i);
		snprintf(uri, sizeof(uri), "sip:u%u@10.0.%u.%u", i, i / 250, i % 250);
		add_binding(user, uri, 3600, i % 4 ? &E.udp : &E.tcp);
	}
	assert_int_equal(stats().bindings, 10000);
	run_to(30100, 50); /* the pacer moves a few by a millisecond or two */
	st = stats();
	assert_int_equal(st.sent, 10000); /* each exactly once in the first interval */
	assert_int_equal(E.ping_total, 2500);
	/* Unanswered: retransmissions, then Timer F: every UDP binding fails once. */
	run_to(63000, 50);
	st = stats();
	assert_int_equal(st.failed, 7500);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.bindings, 10000);
	/* Pending timers: one per binding plus live transactions, nothing else. */
	assert_true(timers_count(E.ts) >= 10000);
}

static void test_bad_conf(void **state)
{
	struct keepalive *k;
	struct keepalive_conf kc = { .user = "a b" };

	(void)state;
	assert_int_equal(keepalive_alloc(&k, E.ts, E.l, NULL, E.r, NULL), -EINVAL); /* no send */
	kc.send_h = raw_send;
	assert_int_equal(keepalive_alloc(&k, E.ts, E.l, NULL, E.r, &kc), -EINVAL);
	kc.user = NULL;
	kc.host = "sbc.example.com<";
	assert_int_equal(keepalive_alloc(&k, E.ts, E.l, NULL, E.r, &kc), -EINVAL);
}

static void test_advertised_host(void **state)
{
	(void)state;
	env_down();
	struct keepalive_conf kc = { .host = "203.0.113.9:5060", .user = "ping" };
	env_up(&kc);
	add_binding("alice", "sip:alice@10.0.0.5", 3600, &E.udp);
	run_to(30000, 100);
	assert_int_equal(stats().sent, 1);
	assert_non_null(strstr(E.opts[0].buf, "Via: SIP/2.0/UDP 203.0.113.9:5060;branch="));
	assert_non_null(strstr(E.opts[0].buf, "From: <sip:ping@203.0.113.9:5060>"));
	assert_non_null(strstr(E.opts[0].buf, "Contact: <sip:203.0.113.9:5060>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_options_at_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_response_keeps_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_timeouts_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_after_pongs_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_resets_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jitter_spreads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacer_bounds_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_uses_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_closed_cancels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal_cancels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_10k_bindings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_advertised_host, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
