/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Latching rules (latch.h), table-driven: each scenario is signalling plus a sequence of packets,
 * with the verdict and the latched address expected after each one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dataplane/latch.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS     8

/* Addresses used below: 192.168.1.10 private SDP, 203.0.113.5 NAT/SIP source,
 * 203.0.113.7 public SDP, 198.51.100.66 the attacker. */
#define SDP_PRIV   "192.168.1.10:4000"
#define SDP_PUB	   "203.0.113.7:4000"
#define SIP_SRC	   "203.0.113.5"
#define NAT_PORT_A "203.0.113.5:31000"
#define NAT_PORT_B "203.0.113.5:32000"
#define ATTACKER   "198.51.100.66:4000"
#define NONE	   NULL

struct step {
	const char *src;
	uint32_t ssrc;
	bool has_ssrc;
	uint64_t now_ms;
	enum latch_verdict verdict;
	const char *latched; /* after the packet; NULL: nothing latched */
};

struct scenario {
	const char *name;
	const char *expected;
	const char *received_from;
	enum latch_mode mode;
	struct step steps[MAX_STEPS];
};

/* Window 1000 ms from t=0 in every scenario. */
#define W 1000
#define RTP(src, ssrc, t, v, l)                  \
	{                                        \
		src, ssrc, true, t, LATCH_##v, l \
	}
#define RTCP(src, t, v, l)                     \
	{                                      \
		src, 0, false, t, LATCH_##v, l \
	}

static const struct scenario scenarios[] = {
	{ "NATed endpoint: SIP source IP, random port, learned",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A),
	    RTP(NAT_PORT_A, 1, 20, FORWARD, NAT_PORT_A) } },
	{ "RTP Bleed: spray before the endpoint, SIP source known",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 9, 1, REFUSED, NONE), RTP(ATTACKER, 9, 2, REFUSED, NONE),
	    RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A), RTP(ATTACKER, 1, 11, REFUSED, NAT_PORT_A),
	    RTCP(ATTACKER, 5000, REFUSED, NAT_PORT_A) } },
	{ "RTP Bleed: public SDP address, no SIP source",
	  SDP_PUB,
	  NONE,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 9, 1, REFUSED, NONE), RTP(SDP_PUB, 1, 10, LEARNED, SDP_PUB),
	    RTP(ATTACKER, 1, 11, REFUSED, SDP_PUB) } },
	{ "RTP Bleed: handover needs more than a guessed SSRC",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_HANDOVER,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A), RTP(ATTACKER, 1, 11, REFUSED, NAT_PORT_A),
	    RTP(ATTACKER, 1, 5000, REFUSED, NAT_PORT_A) } },
	{ "public SDP: same IP, other port is rank 1",
	  SDP_PUB,
	  NONE,
	  LATCH_DEFAULT,
	  { RTP("203.0.113.7:5000", 1, 10, LEARNED, "203.0.113.7:5000"),
	    RTP(SDP_PUB, 1, 20, LEARNED, SDP_PUB) } },
	{ "nothing known: the first source is learned",
	  NONE,
	  NONE,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, 10, LEARNED, ATTACKER), RTP(NAT_PORT_A, 2, 11, FORWARD, ATTACKER) } },
	{ "private SDP only: stranger learned, then the SDP address replaces it",
	  SDP_PRIV,
	  NONE,
	  LATCH_DEFAULT,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A),
	    RTP("192.168.1.10:4002", 1, 11, LEARNED, "192.168.1.10:4002"),
	    RTP(SDP_PRIV, 1, 12, LEARNED, SDP_PRIV), RTP(NAT_PORT_A, 1, 13, FORWARD, SDP_PRIV) } },
	{ "window: a better rank replaces a worse one",
	  "203.0.113.5:4000",
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A),
	    RTP("203.0.113.5:4000", 1, 20, LEARNED, "203.0.113.5:4000"),
	    RTP(NAT_PORT_A, 1, 30, FORWARD, "203.0.113.5:4000") } },
	{ "DEFAULT: same rank does not move the latch, forwarded",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A),
	    RTP(NAT_PORT_B, 1, 20, FORWARD, NAT_PORT_A),
	    RTP(NAT_PORT_B, 1, 5000, FORWARD, NAT_PORT_A) } },
	{ "STRICT: other sources dropped",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_STRICT,
	  { RTP(NAT_PORT_A, 1, 10, LEARNED, NAT_PORT_A),
	    RTP(NAT_PORT_B, 1, 20, REFUSED, NAT_PORT_A),
	    RTP(NAT_PORT_A, 1, 30, FORWARD, NAT_PORT_A) } },
	{ "HANDOVER: same SSRC moves the latch, after the window too",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_HANDOVER,
	  { RTP(NAT_PORT_A, 7, 10, LEARNED, NAT_PORT_A),
	    RTP(NAT_PORT_B, 7, 5000, LEARNED, NAT_PORT_B),
	    RTP(NAT_PORT_A, 8, 5001, FORWARD, NAT_PORT_B),
	    RTCP(NAT_PORT_A, 5002, FORWARD, NAT_PORT_B) } },
	{ "HANDOVER: the latched source's new SSRC is the evidence",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_HANDOVER,
	  { RTP(NAT_PORT_A, 7, 10, LEARNED, NAT_PORT_A),
	    RTP(NAT_PORT_A, 8, 20, FORWARD, NAT_PORT_A),
	    RTP(NAT_PORT_B, 8, 30, LEARNED, NAT_PORT_B) } },
	{ "HANDOVER: no evidence, the latch stays",
	  "203.0.113.5:4000",
	  SIP_SRC,
	  LATCH_HANDOVER,
	  { RTP("203.0.113.5:4000", 7, 10, LEARNED, "203.0.113.5:4000"),
	    RTP(NAT_PORT_B, 9, 20, FORWARD, "203.0.113.5:4000"),
	    RTP("203.0.113.5:4000", 9, 5000, FORWARD, "203.0.113.5:4000") } },
	{ "window closed, nothing learned: a ranked source still, never a stranger",
	  "203.0.113.5:4000",
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, W + 1, REFUSED, NONE), RTP(NAT_PORT_A, 1, W + 2, LEARNED, NAT_PORT_A),
	    RTP(ATTACKER, 1, W + 3, REFUSED, NAT_PORT_A),
	    RTP("203.0.113.5:4000", 1, W + 4, LEARNED, "203.0.113.5:4000") } },
	{ "rang longer than the window: the NATed caller (SIP source IP) is still learned",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, 30 * W, REFUSED, NONE),
	    RTP(NAT_PORT_A, 1, 30 * W + 1, LEARNED, NAT_PORT_A) } },
	{ "window closed, nothing known: a stranger is refused",
	  NONE,
	  NONE,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, W + 1, REFUSED, NONE) } },
	{ "window closed: a better rank still moves the latch",
	  "203.0.113.5:4000",
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(NAT_PORT_A, 1, W, LEARNED, NAT_PORT_A),
	    RTP("203.0.113.5:4000", 1, 10 * W, LEARNED, "203.0.113.5:4000") } },
	{ "hold (0.0.0.0:0) counts as unset, the SIP source still protects",
	  "0.0.0.0:0",
	  SIP_SRC,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, 1, REFUSED, NONE), RTP(NAT_PORT_A, 1, 2, LEARNED, NAT_PORT_A) } },
	{ "hold without SIP source: anyone (nothing better expected)",
	  "0.0.0.0:0",
	  NONE,
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, 1, LEARNED, ATTACKER) } },
	{ "IPv6: public SDP protects, exact address learned",
	  "[2001:db8::5]:4000",
	  NONE,
	  LATCH_DEFAULT,
	  { RTP("[2001:db8::66]:4000", 1, 1, REFUSED, NONE),
	    RTP("[2001:db8::5]:4000", 1, 2, LEARNED, "[2001:db8::5]:4000"),
	    RTP("[2001:db8::5]:4001", 1, 3, FORWARD, "[2001:db8::5]:4000") } },
	{ "IPv6 SIP source, IPv4 stranger refused",
	  "[fd00::5]:4000",
	  "2001:db8::9",
	  LATCH_DEFAULT,
	  { RTP(ATTACKER, 1, 1, REFUSED, NONE),
	    RTP("[2001:db8::9]:50000", 1, 2, LEARNED, "[2001:db8::9]:50000") } },
	{ "ASYMMETRIC: forwarded, never latched; strangers refused as ever",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_ASYMMETRIC,
	  { RTP(NAT_PORT_A, 1, 10, FORWARD, NONE), RTP(ATTACKER, 1, 11, REFUSED, NONE),
	    RTP(NAT_PORT_B, 1, 5000, FORWARD, NONE), RTP(SDP_PRIV, 1, 5001, FORWARD, NONE) } },
	{ "RTCP (no SSRC) latches like RTP",
	  SDP_PRIV,
	  SIP_SRC,
	  LATCH_HANDOVER,
	  { RTCP(NAT_PORT_A, 1, LEARNED, NAT_PORT_A), RTCP(NAT_PORT_B, 2, FORWARD, NAT_PORT_A) } },
};

static void parse_or_unset(struct sa *sa, const char *text)
{
	sa_init(sa);
	if (text)
		assert_int_equal(sa_parse_cstr(sa, text, 0), 0);
}

static void params_of(const struct scenario *sc, struct latch_params *p)
{
	memset(p, 0, sizeof(*p));
	parse_or_unset(&p->expected, sc->expected);
	parse_or_unset(&p->received_from, sc->received_from);
	p->mode = sc->mode;
	p->window_ms = W;
}

static void assert_latched(const struct latch *l, const char *want, const char *ctx)
{
	char buf[SA_STRLEN];
	struct sa w;

	parse_or_unset(&w, want);
	if (!sa_equal(&l->learned, &w)) {
		print_error("%s: latched %s, want %s\n", ctx,
			    sa_print(&l->learned, buf, sizeof(buf)), want ? want : "(unset)");
		fail();
	}
}

/* latch_is_learned() (the DPDK hot path's shortcut) says what latch_check()'s sa_equal says. */
static void assert_shortcut_agrees(const struct latch *l, const struct sa *src, const char *ctx)
{
	struct latch_addr k;
	bool want = sa_isset(&l->learned) && sa_equal(src, &l->learned);

	latch_addr_from_sa(&k, src);
	if (latch_is_learned(l, &k) != want) {
		print_error("%s: latch_is_learned %d, sa_equal %d\n", ctx, !want, want);
		fail();
	}
}

static void run_scenario(const struct scenario *sc)
{
	struct latch_params p;
	struct latch l;
	char ctx[160];

	params_of(sc, &p);
	memset(&l, 0, sizeof(l));
	sa_init(&l.learned);
	latch_restart(&l, &p, 0);
	for (size_t i = 0; i < MAX_STEPS && sc->steps[i].src; i++) {
		const struct step *st = &sc->steps[i];
		struct sa src;
		enum latch_verdict v;

		snprintf(ctx, sizeof(ctx), "%s, step %zu", sc->name, i);
		parse_or_unset(&src, st->src);
		assert_shortcut_agrees(&l, &src, ctx);
		v = latch_check(&l, &p, &src, st->ssrc, st->has_ssrc, st->now_ms);
		if (v != st->verdict) {
			print_error("%s: verdict %d, want %d\n", ctx, v, st->verdict);
			fail();
		}
		assert_latched(&l, st->latched, ctx);
	}
}

/* The compact form tells apart what sa_equal() tells apart: port, family, IPv6 scope. */
static void test_compact_addr(void **state)
{
	static const char *const addrs[] = { "192.0.2.1:1000",	   "192.0.2.1:1001",
					     "192.0.2.2:1000",	   "[2001:db8::1]:1000",
					     "[2001:db8::1]:1001", "[::ffff:192.0.2.1]:1000" };
	struct latch_params p;
	struct latch l;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.window_ms = W;
	for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
		struct sa a;

		memset(&l, 0, sizeof(l));
		sa_init(&l.learned);
		latch_restart(&l, &p, 0);
		parse_or_unset(&a, addrs[i]);
		assert_shortcut_agrees(&l, &a, "unlatched");
		assert_int_equal(latch_check(&l, &p, &a, 0, false, 1), LATCH_LEARNED);
		for (size_t j = 0; j < ARRAY_SIZE(addrs); j++) {
			struct sa b;

			parse_or_unset(&b, addrs[j]);
			assert_shortcut_agrees(&l, &b, addrs[j]);
			if (sa_family(&b) == AF_INET6) {
				b.u.in6.sin6_scope_id = 3; /* link-local zones differ */
				assert_shortcut_agrees(&l, &b, "scoped");
			}
		}
	}
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
		run_scenario(&scenarios[i]);
}

static void setup_latched(struct latch *l, struct latch_params *p, const char *at)
{
	struct sa src;

	memset(p, 0, sizeof(*p));
	parse_or_unset(&p->expected, SDP_PRIV);
	parse_or_unset(&p->received_from, SIP_SRC);
	p->window_ms = W;
	memset(l, 0, sizeof(*l));
	sa_init(&l->learned);
	latch_restart(l, p, 0);
	parse_or_unset(&src, at);
	assert_int_equal(latch_check(l, p, &src, 1, true, 1), LATCH_LEARNED);
}

/* A re-offer restarts the window: a stranger refused before is learnable again. */
static void test_restart_reopens_window(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa src;

	(void)state;
	memset(&p, 0, sizeof(p));
	parse_or_unset(&p.expected, SDP_PRIV);
	p.window_ms = W;
	memset(&l, 0, sizeof(l));
	sa_init(&l.learned);
	latch_restart(&l, &p, 0);
	parse_or_unset(&src, NAT_PORT_A);
	assert_int_equal(latch_check(&l, &p, &src, 1, true, 5 * W), LATCH_REFUSED);
	latch_restart(&l, &p, 5 * W);
	assert_int_equal(latch_check(&l, &p, &src, 1, true, 5 * W + 1), LATCH_LEARNED);
}

/* A re-offer that keeps the endpoint keeps its latch. */
static void test_restart_keeps_latch(void **state)
{
	struct latch_params p;
	struct latch l;

	(void)state;
	setup_latched(&l, &p, NAT_PORT_A);
	latch_restart(&l, &p, 100);
	assert_latched(&l, NAT_PORT_A, "restart");
	assert_int_equal(l.rank, 1);
	assert_int_equal(l.window_end_ms, 100 + W);
}

/* The call moved (new SIP source): the old latch is now a stranger and must not keep media. */
static void test_restart_drops_stranger(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa src;

	(void)state;
	setup_latched(&l, &p, NAT_PORT_A);
	parse_or_unset(&p.received_from, "198.51.100.1");
	latch_restart(&l, &p, 100);
	assert_latched(&l, NONE, "restart");
	parse_or_unset(&src, NAT_PORT_A);
	assert_int_equal(latch_check(&l, &p, &src, 1, true, 101), LATCH_REFUSED);
	parse_or_unset(&src, "198.51.100.1:7000");
	assert_int_equal(latch_check(&l, &p, &src, 1, true, 102), LATCH_LEARNED);
}

/* Finding 2: a re-INVITE after the phone re-opened its socket (same NAT IP, new port):
 * the new mapping takes over once within the new window, then the latch holds again. */
static void test_restart_relearns_equal_rank(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa a, b, att;

	(void)state;
	setup_latched(&l, &p, NAT_PORT_A);
	parse_or_unset(&a, NAT_PORT_A);
	parse_or_unset(&b, NAT_PORT_B);
	parse_or_unset(&att, ATTACKER);
	/* before any re-signalling an equal rank does not move it */
	assert_int_equal(latch_check(&l, &p, &b, 2, true, 5 * W), LATCH_FORWARD);
	assert_latched(&l, NAT_PORT_A, "no restart");
	latch_restart(&l, &p, 10 * W);
	assert_int_equal(latch_check(&l, &p, &att, 2, true, 10 * W + 1), LATCH_REFUSED);
	assert_int_equal(latch_check(&l, &p, &b, 2, true, 10 * W + 2), LATCH_LEARNED);
	assert_latched(&l, NAT_PORT_B, "relearned");
	/* once only: the old mapping does not move it back */
	assert_int_equal(latch_check(&l, &p, &a, 1, true, 10 * W + 3), LATCH_FORWARD);
	assert_latched(&l, NAT_PORT_B, "once");
	/* and not after the window */
	latch_restart(&l, &p, 20 * W);
	assert_int_equal(latch_check(&l, &p, &a, 1, true, 22 * W), LATCH_FORWARD);
	assert_latched(&l, NAT_PORT_B, "window closed");
}

/* Finding 4: a stranger latched before the answer (OpenSIPS: no SIP source) does not survive
 * it, even though strangers stay learnable: the real callee can take the port. */
static void test_restart_drops_early_stranger(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa att, callee;

	(void)state;
	memset(&p, 0, sizeof(p));
	sa_init(&p.expected);
	sa_init(&p.received_from);
	p.window_ms = W;
	memset(&l, 0, sizeof(l));
	sa_init(&l.learned);
	latch_restart(&l, &p, 0);
	parse_or_unset(&att, ATTACKER);
	parse_or_unset(&callee, NAT_PORT_A);
	assert_int_equal(latch_check(&l, &p, &att, 9, true, 1), LATCH_LEARNED);
	parse_or_unset(&p.expected, "192.168.2.20:6000");
	latch_restart(&l, &p, 100);
	assert_latched(&l, NONE, "answer");
	assert_int_equal(latch_check(&l, &p, &callee, 1, true, 101), LATCH_LEARNED);
	assert_int_equal(latch_check(&l, &p, &att, 9, true, 102), LATCH_FORWARD);
	assert_latched(&l, NAT_PORT_A, "callee");
}

/* Finding 4: window_ms 0 (a side whose SDP is unknown): no stranger, ever. */
static void test_no_window(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa att;

	(void)state;
	memset(&p, 0, sizeof(p));
	sa_init(&p.expected);
	sa_init(&p.received_from);
	memset(&l, 0, sizeof(l));
	sa_init(&l.learned);
	latch_restart(&l, &p, 100);
	parse_or_unset(&att, ATTACKER);
	assert_int_equal(latch_check(&l, &p, &att, 9, true, 100), LATCH_REFUSED);
	assert_latched(&l, NONE, "no window");
}

/* The SSRC recorded is the one handover compares against. */
static void test_ssrc_recorded(void **state)
{
	struct latch_params p;
	struct latch l;
	struct sa src;

	(void)state;
	setup_latched(&l, &p, NAT_PORT_A);
	assert_true(l.has_ssrc);
	assert_int_equal(l.ssrc, 1);
	parse_or_unset(&src, NAT_PORT_A);
	assert_int_equal(latch_check(&l, &p, &src, 0xdeadbeef, true, 2), LATCH_FORWARD);
	assert_int_equal(l.ssrc, 0xdeadbeef);
	/* RTCP from the latched source does not erase it */
	assert_int_equal(latch_check(&l, &p, &src, 0, false, 3), LATCH_FORWARD);
	assert_true(l.has_ssrc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_compact_addr),
		cmocka_unit_test(test_restart_reopens_window),
		cmocka_unit_test(test_restart_keeps_latch),
		cmocka_unit_test(test_restart_drops_stranger),
		cmocka_unit_test(test_restart_relearns_equal_rank),
		cmocka_unit_test(test_restart_drops_early_stranger),
		cmocka_unit_test(test_no_window),
		cmocka_unit_test(test_ssrc_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
