/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/routing/routes.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct routes_trunk_conf trunks4[] = {
	{ .name = "A", .address = "192.0.2.1" },
	{ .name = "B", .address = "192.0.2.2:5070", .transport = "tcp" },
	{ .name = "C",
	  .address = "carrier.example.net",
	  .transport = "TLS",
	  .ruri_host = "ims.example.net" },
	{ .name = "D", .address = "[2001:db8::1]:5080" },
};

#define M1(t) ((const struct routes_member_conf[]){ { .trunk = (t) } }), 1

static struct routes *build(const struct routes_route_conf *r, unsigned n)
{
	struct routes_conf conf = {
		.trunks = trunks4, .ntrunks = ARRAY_SIZE(trunks4), .routes = r, .nroutes = n
	};
	struct routes *t;
	char err[256];
	int ret = routes_build(&t, &conf, err, sizeof(err));

	if (ret)
		fail_msg("routes_build: %s", err);
	return t;
}

/* The name of the route a lookup picks, "-" for none; checks the trunk too. */
static const char *match(const struct routes *t, const char *user, const char *host)
{
	const struct routes_trunk *out[8];
	const char *name = NULL;
	uint64_t seed = 1;
	int n = routes_lookup(t, strv_cstr(user), strv_cstr(host), out, ARRAY_SIZE(out),
			      routes_rand_splitmix, &seed, &name);

	if (n == -ENOENT)
		return "-";
	assert_true(n >= 1);
	return name;
}

static void test_trunks(void **state)
{
	const struct routes_route_conf r[] = { { .name = "x", .trunks = M1("A") } };
	struct routes *t = build(r, 1);
	const struct routes_trunk *tr;
	char buf[SA_STRLEN];

	(void)state;
	assert_int_equal(routes_trunk_count(t), 4);
	tr = routes_trunk_get(t, 0);
	assert_string_equal(tr->name, "A");
	assert_string_equal(tr->host, "192.0.2.1");
	assert_int_equal(tr->port, 0);
	assert_int_equal(tr->proto, SIP_PROTO_UDP);
	assert_string_equal(sa_print(&tr->addr, buf, sizeof(buf)), "192.0.2.1:5060");
	assert_null(tr->ruri_host);
	assert_int_equal(tr->weight, 1);

	tr = routes_trunk_find(t, STRV("B"));
	assert_non_null(tr);
	assert_int_equal(tr->index, 1);
	assert_int_equal(tr->port, 5070);
	assert_int_equal(tr->proto, SIP_PROTO_TCP);

	tr = routes_trunk_find(t, STRV("C"));
	assert_string_equal(tr->host, "carrier.example.net");
	assert_false(sa_isset(&tr->addr));
	assert_int_equal(tr->port, 0);
	assert_int_equal(tr->proto, SIP_PROTO_TLS);
	assert_string_equal(tr->ruri_host, "ims.example.net");

	tr = routes_trunk_find(t, STRV("D"));
	assert_string_equal(tr->host, "2001:db8::1");
	assert_int_equal(tr->port, 5080);
	assert_string_equal(sa_print(&tr->addr, buf, sizeof(buf)), "[2001:db8::1]:5080");

	assert_null(routes_trunk_find(t, STRV("E")));
	assert_null(routes_trunk_find(t, STRV("")));
	assert_null(routes_trunk_get(t, 4));
	routes_free(t);
}

static void test_longest_prefix(void **state)
{
	const struct routes_route_conf r[] = {
		{ .name = "+49", .prefix = "+49", .trunks = M1("A") },
		{ .name = "+4930", .prefix = "+4930", .trunks = M1("B") },
		{ .name = "+493012", .prefix = "+493012", .trunks = M1("B") },
		{ .name = "0049", .prefix = "0049", .trunks = M1("C") },
		{ .name = "+", .prefix = "+", .trunks = M1("D") },
		{ .name = "4", .prefix = "4", .trunks = M1("A") },
		{ .name = "49", .prefix = "49", .trunks = M1("A") },
	};
	struct routes *t = build(r, ARRAY_SIZE(r));

	(void)state;
	assert_string_equal(match(t, "+4930123456", "sbc.example"), "+493012");
	assert_string_equal(match(t, "+4930999", "sbc.example"), "+4930");
	assert_string_equal(match(t, "+4940123", "sbc.example"), "+49");
	assert_string_equal(match(t, "+49", "sbc.example"), "+49");
	assert_string_equal(match(t, "+493", "sbc.example"), "+49");
	assert_string_equal(match(t, "+4", "sbc.example"), "+");
	assert_string_equal(match(t, "+1212555", "sbc.example"), "+");
	assert_string_equal(match(t, "+", "sbc.example"), "+");
	assert_string_equal(match(t, "00493012", "sbc.example"), "0049");
	assert_string_equal(match(t, "004", "sbc.example"), "-");
	assert_string_equal(match(t, "4930", "sbc.example"), "49");
	assert_string_equal(match(t, "41", "sbc.example"), "4");
	/* '+' only leads: "49+30" is not a number */
	assert_string_equal(match(t, "49+30", "sbc.example"), "-");
	/* visual separators, escapes, parameters */
	assert_string_equal(match(t, "+49-30-12.34(5)", "sbc.example"), "+493012");
	assert_string_equal(match(t, "%2B4930123", "sbc.example"), "+493012");
	assert_string_equal(match(t, "+4930;phone-context=+49", "sbc.example"), "+4930");
	assert_string_equal(match(t, "%2", "sbc.example"), "-");
	/* not numbers: only routes without prefix would match */
	assert_string_equal(match(t, "alice", "sbc.example"), "-");
	assert_string_equal(match(t, "4930abc", "sbc.example"), "-");
	assert_string_equal(match(t, "", "sbc.example"), "-");
	/* '*' and '#' are number characters that no prefix starts with */
	assert_string_equal(match(t, "*67", "sbc.example"), "-");
	assert_string_equal(match(t, "49#", "sbc.example"), "49");
	/* tel: URIs have no host */
	assert_string_equal(match(t, "+4930123", ""), "+493012");
	routes_free(t);

	/* With a default route, non-numbers fall to it. */
	{
		const struct routes_route_conf r2[] = {
			{ .name = "+49", .prefix = "+49", .trunks = M1("A") },
			{ .name = "default", .trunks = M1("B") },
		};

		t = build(r2, ARRAY_SIZE(r2));
		assert_string_equal(match(t, "alice", "x"), "default");
		assert_string_equal(match(t, "+4930", "x"), "+49");
		assert_string_equal(match(t, "+4", "x"), "default");
		routes_free(t);
	}
}

static void test_domains(void **state)
{
	const struct routes_route_conf r[] = {
		{ .name = "partner", .domain = "Partner.Example", .trunks = M1("A") },
		{ .name = "partner+4930",
		  .domain = "partner.example.",
		  .prefix = "+4930",
		  .trunks = M1("B") },
		{ .name = "wild", .domain = "*.example.com", .trunks = M1("C") },
		{ .name = "wild-b", .domain = "*.b.example.com", .trunks = M1("C") },
		{ .name = "exact-b", .domain = "b.example.com", .trunks = M1("C") },
		{ .name = "+49", .prefix = "+49", .trunks = M1("D") },
		{ .name = "only+1", .domain = "only.example", .prefix = "+1", .trunks = M1("A") },
		{ .name = "v6", .domain = "[2001:db8::1]", .trunks = M1("A") },
		{ .name = "v4", .domain = "192.0.2.9", .trunks = M1("A") },
		{ .name = "default", .domain = "*", .trunks = M1("A") },
	};
	struct routes *t = build(r, ARRAY_SIZE(r));

	(void)state;
	/* exact domain, case-insensitive, trailing dot; prefix within a domain */
	assert_string_equal(match(t, "+4930123", "partner.example"), "partner+4930");
	assert_string_equal(match(t, "+4940123", "PARTNER.EXAMPLE."), "partner");
	assert_string_equal(match(t, "bob", "partner.example"), "partner");
	/* domain before number: a "+49" route without domain loses to the partner's domain */
	assert_string_equal(match(t, "+4940", "partner.example"), "partner");
	assert_string_equal(match(t, "+4940", "other.example"), "+49");
	/* suffixes: longest first, the bare domain is not matched by "*." */
	assert_string_equal(match(t, "bob", "x.example.com"), "wild");
	assert_string_equal(match(t, "bob", "x.y.example.com"), "wild");
	assert_string_equal(match(t, "bob", "a.b.example.com"), "wild-b");
	assert_string_equal(match(t, "bob", "B.example.com"), "exact-b");
	assert_string_equal(match(t, "bob", "example.com"), "default");
	assert_string_equal(match(t, "bob", "xexample.com"), "default");
	assert_string_equal(match(t, "+4930", "x.example.com"), "wild");
	/* a route that requires both */
	assert_string_equal(match(t, "+1555", "only.example"), "only+1");
	assert_string_equal(match(t, "+4930", "only.example"), "+49");
	assert_string_equal(match(t, "bob", "only.example"), "default");
	assert_string_equal(match(t, "+1555", "elsewhere.example"), "default");
	/* addresses */
	assert_string_equal(match(t, "bob", "2001:DB8:0::1"), "v6");
	assert_string_equal(match(t, "bob", "[2001:db8::1]"), "v6");
	assert_string_equal(match(t, "bob", "2001:db8::2"), "default");
	assert_string_equal(match(t, "bob", "192.0.2.9"), "v4");
	assert_string_equal(match(t, "bob", "1.192.0.2.9"), "default");
	routes_free(t);

	/* Without any domain-less route, other domains find nothing. */
	{
		const struct routes_route_conf r2[] = {
			{ .name = "p", .domain = "p.example", .trunks = M1("A") },
		};

		t = build(r2, 1);
		assert_string_equal(match(t, "bob", "p.example"), "p");
		assert_string_equal(match(t, "bob", "q.example"), "-");
		assert_string_equal(match(t, "bob", ""), "-");
		routes_free(t);
	}
}

static unsigned trunk_pos(const struct routes_trunk **out, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(out[i]->name, name) == 0)
			return (unsigned)i;
	}
	fail_msg("trunk %s not in the list", name);
	return 0;
}

static void test_priority_groups(void **state)
{
	const struct routes_member_conf m[] = {
		{ .trunk = "A", .priority = 1 },
		{ .trunk = "B", .priority = 1 },
		{ .trunk = "C", .priority = 2 },
		{ .trunk = "D", .priority = 0 },
	};
	const struct routes_route_conf r[] = { { .name = "r", .trunks = m, .ntrunks = 4 } };
	struct routes *t = build(r, 1);
	const struct routes_trunk *out[8];
	uint64_t seed = 42;
	unsigned a_first = 0;
	int n;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		n = routes_lookup(t, STRV("1"), STRV("h"), out, 8, routes_rand_splitmix, &seed,
				  NULL);
		assert_int_equal(n, 4);
		assert_string_equal(out[0]->name, "D");
		assert_string_equal(out[3]->name, "C");
		assert_true(trunk_pos(out, n, "A") >= 1 && trunk_pos(out, n, "A") <= 2);
		assert_true(trunk_pos(out, n, "B") >= 1 && trunk_pos(out, n, "B") <= 2);
		a_first += out[1]->name[0] == 'A';
	}
	/* equal weights: both orders happen */
	assert_true(a_first > 400 && a_first < 600);

	/* max truncates, 0 writes nothing */
	n = routes_lookup(t, STRV("1"), STRV("h"), out, 2, routes_rand_splitmix, &seed, NULL);
	assert_int_equal(n, 2);
	assert_string_equal(out[0]->name, "D");
	n = routes_lookup(t, STRV("1"), STRV("h"), out, 0, routes_rand_splitmix, &seed, NULL);
	assert_int_equal(n, 0);
	/* the internal generator */
	n = routes_lookup(t, STRV("1"), STRV("h"), out, 8, NULL, NULL, NULL);
	assert_int_equal(n, 4);
	assert_string_equal(out[3]->name, "C");
	routes_free(t);
}

static void test_weights(void **state)
{
	static const struct routes_trunk_conf tc[] = {
		{ .name = "w1", .address = "192.0.2.1", .weight = 1 },
		{ .name = "w3", .address = "192.0.2.2", .weight = 3 },
		{ .name = "w6", .address = "192.0.2.3", .weight = 100 },
	};
	/* the route's weight overrides w6's trunk weight of 100 */
	const struct routes_member_conf m[] = {
		{ .trunk = "w1" },
		{ .trunk = "w3" },
		{ .trunk = "w6", .weight = 6 },
	};
	const struct routes_route_conf r[] = { { .name = "r", .trunks = m, .ntrunks = 3 } };
	struct routes_conf conf = { .trunks = tc, .ntrunks = 3, .routes = r, .nroutes = 1 };
	const struct routes_trunk *out[3];
	unsigned first[3] = { 0 }, second_after_w6[3] = { 0 }, w6_first = 0;
	const unsigned draws = 100000;
	uint64_t seed = 12345;
	struct routes *t;
	char err[128];

	(void)state;
	assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), 0);
	for (unsigned i = 0; i < draws; i++) {
		int n = routes_lookup(t, STRV("+1"), STRV_NULL, out, 3, routes_rand_splitmix, &seed,
				      NULL);

		assert_int_equal(n, 3);
		assert_true(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
		first[out[0]->index]++;
		if (out[0]->index == 2) {
			w6_first++;
			second_after_w6[out[1]->index]++;
		}
	}
	/* first place: 1/10, 3/10, 6/10 */
	assert_in_range(first[0], draws * 8 / 100, draws * 12 / 100);
	assert_in_range(first[1], draws * 27 / 100, draws * 33 / 100);
	assert_in_range(first[2], draws * 57 / 100, draws * 63 / 100);
	/* after w6: w1 1/4, w3 3/4 */
	assert_in_range(second_after_w6[0], w6_first * 20 / 100, w6_first * 30 / 100);
	assert_in_range(second_after_w6[1], w6_first * 70 / 100, w6_first * 80 / 100);

	/* the same seed gives the same order */
	{
		const struct routes_trunk *o1[3], *o2[3];
		uint64_t s1 = 7, s2 = 7;

		for (int i = 0; i < 10; i++) {
			routes_lookup(t, STRV("+1"), STRV_NULL, o1, 3, routes_rand_splitmix, &s1,
				      NULL);
			routes_lookup(t, STRV("+1"), STRV_NULL, o2, 3, routes_rand_splitmix, &s2,
				      NULL);
			assert_memory_equal(o1, o2, sizeof(o1));
		}
	}
	routes_free(t);
}

static void test_failover(void **state)
{
	static const int yes[] = { 0, 408, 500, 502, 503, 504, 580, 599 };
	static const int no[] = { 100, 180, 183, 200, 202, 300, 301, 302, 380, 400, 401, 403,
				  404, 407, 480, 484, 486, 487, 488, 600, 603, 604, 606 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		assert_true(routes_should_failover(yes[i]));
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		assert_false(routes_should_failover(no[i]));

	assert_true(routes_should_redirect(300));
	assert_true(routes_should_redirect(301));
	assert_true(routes_should_redirect(302));
	assert_false(routes_should_redirect(305));
	assert_false(routes_should_redirect(380));
	assert_false(routes_should_redirect(200));
	assert_false(routes_should_redirect(404));
}

static void test_redirect(void **state)
{
	struct routes_redirect r;

	(void)state;
	assert_int_equal(routes_redirect_init(&r, 2, STRV("sip:+4930123@sbc.example")), 0);
	/* the original target, in other spellings */
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@SBC.example:5060")), -ELOOP);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:%2B4930123@sbc.example")), -ELOOP);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@sbc.example;lr")), -ELOOP);

	assert_int_equal(routes_redirect_hop(&r), 0);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@other.example")), 0);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@other.example")), -ELOOP);
	/* port, transport, scheme and user make a different target */
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@sbc.example:5070")), 0);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930123@sbc.example;transport=tcp")),
			 0);
	assert_int_equal(routes_redirect_target(&r, STRV("sips:+4930123@sbc.example")), 0);
	assert_int_equal(routes_redirect_target(&r, STRV("sips:+4930123@sbc.example:5061")),
			 -ELOOP);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:+4930124@sbc.example")), 0);
	/* tel: visual separators do not count */
	assert_int_equal(routes_redirect_target(&r, STRV("tel:+49-30-999")), 0);
	assert_int_equal(routes_redirect_target(&r, STRV("tel:+4930999")), -ELOOP);
	/* not SIP */
	assert_int_equal(routes_redirect_target(&r, STRV("http://evil.example/")), -EINVAL);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:")), -EINVAL);

	assert_int_equal(routes_redirect_hop(&r), 0);
	assert_int_equal(routes_redirect_hop(&r), -ELOOP);
	assert_int_equal(routes_redirect_hop(&r), -ELOOP);

	/* no redirects at all */
	assert_int_equal(routes_redirect_init(&r, 0, STRV("sip:a@b")), 0);
	assert_int_equal(routes_redirect_hop(&r), -ELOOP);
	assert_int_equal(routes_redirect_init(&r, 1, STRV("mailto:a@b")), -EINVAL);
	assert_int_equal(r.nseen, 0);

	/* the seen set is bounded */
	assert_int_equal(routes_redirect_init(&r, 5, STRV("sip:a@b")), 0);
	for (unsigned i = 1; i < ROUTES_REDIRECT_MAX_SEEN; i++) {
		char uri[32];

		snprintf(uri, sizeof(uri), "sip:%u@b", i);
		assert_int_equal(routes_redirect_target(&r, strv_cstr(uri)), 0);
	}
	assert_int_equal(routes_redirect_target(&r, STRV("sip:new@b")), -ENOSPC);
	assert_int_equal(routes_redirect_target(&r, STRV("sip:1@b")), -ELOOP);
}

/*
 * 100k prefixes: 90,000 of 8 characters "+1" + 6 digits, and 10,000 of 6 characters
 * "+1" + 4 digits, which are prefixes of 100 longer ones each.
 */
static void test_100k(void **state)
{
	enum { NLONG = 90000, NSHORT = 10000, N = NLONG + NSHORT };
	struct routes_route_conf *r = calloc(N, sizeof(*r));
	char(*names)[16] = calloc(N, sizeof(*names));
	char(*prefixes)[16] = calloc(N, sizeof(*prefixes));
	static const struct routes_member_conf ma[] = { { .trunk = "A" } };
	static const struct routes_member_conf mb[] = { { .trunk = "B" } };
	struct routes_conf conf = { .trunks = trunks4, .ntrunks = ARRAY_SIZE(trunks4) };
	const struct routes_trunk *out[4];
	struct routes *t;
	char err[256], user[32];

	(void)state;
	assert_non_null(r);
	assert_non_null(names);
	assert_non_null(prefixes);
	/* interleaved, so that the build has to sort */
	for (unsigned i = 0; i < N; i++) {
		unsigned k = (unsigned)(((uint64_t)i * 7919) % N);

		if (k < NLONG) {
			snprintf(prefixes[i], sizeof(prefixes[i]), "+1%06u", k);
			snprintf(names[i], sizeof(names[i]), "l%u", k);
		} else {
			snprintf(prefixes[i], sizeof(prefixes[i]), "+1%04u", k - NLONG);
			snprintf(names[i], sizeof(names[i]), "s%u", k - NLONG);
		}
		r[i].name = names[i];
		r[i].prefix = prefixes[i];
		r[i].trunks = k & 1 ? mb : ma;
		r[i].ntrunks = 1;
	}
	conf.routes = r;
	conf.nroutes = N;
	assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), 0);

	for (unsigned k = 0; k < 1000000; k += 7) {
		const char *name = NULL;
		char want[16];
		int n;

		/* "+1" + 6 digits of k + "55": the long prefix if k < NLONG, else the short */
		snprintf(user, sizeof(user), "+1%06u55", k);
		n = routes_lookup(t, strv_cstr(user), STRV("h"), out, 4, NULL, NULL, &name);
		if (k < NLONG) {
			snprintf(want, sizeof(want), "l%u", k);
		} else if (k / 100 < NSHORT) {
			snprintf(want, sizeof(want), "s%u", k / 100);
		} else {
			assert_int_equal(n, -ENOENT);
			continue;
		}
		assert_int_equal(n, 1);
		assert_string_equal(name, want);
		assert_string_equal(out[0]->name, strtoul(want + 1, NULL, 10) & 1 ? "B" : "A");
	}
	/* every short prefix exactly */
	for (unsigned s = 0; s < NSHORT; s++) {
		const char *name = NULL;
		char want[16];

		snprintf(user, sizeof(user), "+1%04u", s);
		snprintf(want, sizeof(want), "s%u", s);
		assert_int_equal(
		    routes_lookup(t, strv_cstr(user), STRV("h"), out, 4, NULL, NULL, &name), 1);
		assert_string_equal(name, want);
	}
	assert_int_equal(routes_lookup(t, STRV("+1"), STRV("h"), out, 4, NULL, NULL, NULL),
			 -ENOENT);
	routes_free(t);
	free(r);
	free(names);
	free(prefixes);
}

/* Builds a one-trunk configuration with one changed item and expects an error message. */
static void expect_error(const struct routes_trunk_conf *tc, unsigned ntc,
			 const struct routes_route_conf *rc, unsigned nrc, const char *want)
{
	struct routes_conf conf = { .trunks = tc, .ntrunks = ntc, .routes = rc, .nroutes = nrc };
	struct routes *t = (struct routes *)1;
	char err[256];

	assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), -EINVAL);
	assert_null(t);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_conf_errors(void **state)
{
	const struct routes_trunk_conf ok = { .name = "A", .address = "192.0.2.1" };
	const struct routes_route_conf r_ok[] = { { .name = "r", .trunks = M1("A") } };
	struct routes_trunk_conf tc[2];
	struct routes_route_conf rc[2];
	static const char *const bad_prefixes[] = {
		"+49a", "4+9", "++1", "-1", " 1", "+1 ", "123456789012345678901234567890123",
	};
	static const char *const bad_domains[] = {
		"*.", "a..b", ".a", "a b", "1.2.3", "*.2.3.4", "*.[::1]", "-a.example", "a_b",
	};
	static const char *const bad_addresses[] = {
		"",	"a b",	     "host:0",	 "host:65536", "host:", "1.2.3", "1.2.3.4:99999",
		"[::1", "::1]:5060", "h:5060:1", "sip:host",
	};

	(void)state;
	/* trunks */
	tc[0] = ok;
	tc[0].name = NULL;
	expect_error(tc, 1, r_ok, 1, "trunk [0]: no name");
	tc[0] = ok;
	tc[0].transport = "sctp";
	expect_error(tc, 1, r_ok, 1, "trunk [0] 'A': unknown transport 'sctp'");
	tc[0] = ok;
	tc[0].address = NULL;
	expect_error(tc, 1, r_ok, 1, "trunk [0] 'A': no address");
	for (size_t i = 0; i < ARRAY_SIZE(bad_addresses); i++) {
		tc[0] = ok;
		tc[0].address = bad_addresses[i];
		expect_error(tc, 1, r_ok, 1, bad_addresses[i][0] ? "bad address" : "no address");
	}
	tc[0] = ok;
	tc[0].weight = ROUTES_WEIGHT_MAX + 1;
	expect_error(tc, 1, r_ok, 1, "weight 65536 out of range");
	tc[0] = ok;
	tc[0].ruri_host = "bad host";
	expect_error(tc, 1, r_ok, 1, "bad ruri_host 'bad host'");
	static const char *const bad_ruri_hosts[] = { "1.2.3", "h:5060", "[1.2.3.4]", "a..b" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_ruri_hosts); i++) {
		tc[0] = ok;
		tc[0].ruri_host = bad_ruri_hosts[i];
		expect_error(tc, 1, r_ok, 1, "bad ruri_host");
	}
	static const char *const good_ruri_hosts[] = { "ims.example", "192.0.2.7", "[::1]", "::1" };
	for (size_t i = 0; i < ARRAY_SIZE(good_ruri_hosts); i++) {
		struct routes_conf conf = {
			.trunks = tc, .ntrunks = 1, .routes = r_ok, .nroutes = 1
		};
		struct routes *t;
		char err[128];

		tc[0] = ok;
		tc[0].ruri_host = good_ruri_hosts[i];
		assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), 0);
		assert_string_equal(routes_trunk_get(t, 0)->ruri_host, good_ruri_hosts[i]);
		routes_free(t);
	}
	tc[0] = ok;
	tc[1] = ok;
	expect_error(tc, 2, r_ok, 1, "trunk [1] 'A': name already used by trunk [0]");

	/* routes */
	tc[0] = ok;
	rc[0] = r_ok[0];
	rc[0].trunks = ((const struct routes_member_conf[]){ { .trunk = "X" } });
	expect_error(tc, 1, rc, 1, "route [0] 'r': unknown trunk 'X'");
	rc[0] = r_ok[0];
	rc[0].ntrunks = 0;
	expect_error(tc, 1, rc, 1, "route [0] 'r': no trunks");
	rc[0] = r_ok[0];
	rc[0].trunks = ((const struct routes_member_conf[]){ { .trunk = "A" }, { .trunk = "A" } });
	rc[0].ntrunks = 2;
	expect_error(tc, 1, rc, 1, "trunk 'A' listed twice");
	rc[0] = r_ok[0];
	rc[0].trunks = ((const struct routes_member_conf[]){ { .trunk = "A", .weight = 70000 } });
	expect_error(tc, 1, rc, 1, "weight 70000 out of range");
	rc[0] = r_ok[0];
	rc[0].ntrunks = ROUTES_MAX_ROUTE_TRUNKS + 1;
	expect_error(tc, 1, rc, 1, "33 trunks, at most 32");
	for (size_t i = 0; i < ARRAY_SIZE(bad_prefixes); i++) {
		rc[0] = r_ok[0];
		rc[0].prefix = bad_prefixes[i];
		expect_error(tc, 1, rc, 1, "bad prefix");
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_domains); i++) {
		rc[0] = r_ok[0];
		rc[0].domain = bad_domains[i];
		expect_error(tc, 1, rc, 1, "bad domain");
	}
	/* duplicates: (domain, prefix) pairs, domains compared case-insensitively */
	rc[0] = r_ok[0];
	rc[1] = r_ok[0];
	rc[1].name = "s";
	expect_error(tc, 1, rc, 2, "route [1] 's': same domain and prefix as route [0] 'r'");
	rc[0].domain = "A.example";
	rc[1].domain = "a.example.";
	rc[0].prefix = rc[1].prefix = "+1";
	expect_error(tc, 1, rc, 2, "route [1] 's': same domain and prefix as route [0] 'r'");
	rc[1].domain = "*.a.example";
	{
		struct routes_conf conf = {
			.trunks = tc, .ntrunks = 1, .routes = rc, .nroutes = 2
		};
		struct routes *t;
		char err[128];

		/* an exact domain and its suffix are different */
		assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), 0);
		routes_free(t);
		/* no routes at all is a valid (empty) table */
		conf.nroutes = 0;
		assert_int_equal(routes_build(&t, &conf, err, sizeof(err)), 0);
		assert_int_equal(routes_lookup(t, STRV("1"), STRV("h"), NULL, 0, NULL, NULL, NULL),
				 -ENOENT);
		routes_free(t);
	}
	/* a NULL error buffer is fine */
	{
		struct routes_conf conf = {
			.trunks = tc, .ntrunks = 0, .routes = r_ok, .nroutes = 1
		};
		struct routes *t;

		assert_int_equal(routes_build(&t, &conf, NULL, 0), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trunks),	    cmocka_unit_test(test_longest_prefix),
		cmocka_unit_test(test_domains),	    cmocka_unit_test(test_priority_groups),
		cmocka_unit_test(test_weights),	    cmocka_unit_test(test_failover),
		cmocka_unit_test(test_redirect),    cmocka_unit_test(test_100k),
		cmocka_unit_test(test_conf_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
