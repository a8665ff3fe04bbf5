/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The location service on a fake clock: keys, bindings sorted by q, refresh,
 * removal, Call-ID/CSeq ordering (atomic), expiry by timers, limits, RFC 5626
 * instance matching, flows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/timer.h"
#include "sbc/registrar/location.h"

#define T0 1000000

struct fx {
	struct timers *ts;
	struct location *loc;
	struct sip_flow flow;
};

static struct fx F;

static int setup_conf(const struct location_conf *conf)
{
	memset(&F, 0, sizeof(F));
	assert_int_equal(timers_alloc(&F.ts, T0), 0);
	assert_int_equal(location_alloc(&F.loc, F.ts, conf), 0);
	assert_int_equal(sa_parse_cstr(&F.flow.remote, "198.51.100.7:40312", 0), 0);
	assert_int_equal(sa_parse_cstr(&F.flow.local, "192.0.2.1:5060", 0), 0);
	F.flow.proto = SIP_PROTO_UDP;
	return 0;
}

static int setup(void **state)
{
	struct location_conf conf = { .max_contacts_per_aor = 3, .max_aors = 4 };

	(void)state;
	return setup_conf(&conf);
}

static int teardown(void **state)
{
	(void)state;
	location_free(F.loc);
	timers_free(F.ts);
	return 0;
}

static struct location_binding mkbind(const char *uri, uint32_t expires)
{
	return (struct location_binding){ .uri = strv_cstr(uri), .expires_s = expires, .q = 1000 };
}

static int reg(const char *aor, const char *call_id, uint32_t cseq, struct location_binding *b,
	       unsigned n)
{
	return location_register(F.loc, strv_cstr(aor), strv_cstr(call_id), cseq, &F.flow, b, n);
}

static unsigned lookup(const char *aor, const struct location_contact **out)
{
	return location_lookup(F.loc, strv_cstr(aor), out, 16);
}

static struct location_stats stats(void)
{
	struct location_stats st;

	location_stats(F.loc, &st);
	return st;
}

static void test_aor_key(void **state)
{
	char key[LOCATION_AOR_MAX], big[600];

	(void)state;
	assert_int_equal(location_aor_key(STRV("Alice%20B"), STRV("Example.COM"), key), 19);
	assert_string_equal(key, "Alice B@example.com");
	assert_int_equal(location_aor_key(STRV("%41"), STRV("x"), key), 3);
	assert_string_equal(key, "A@x");
	assert_int_equal(location_aor_key(STRV_NULL, STRV("x.org"), key), 6);
	assert_string_equal(key, "@x.org");
	assert_int_equal(location_aor_key(STRV("a%4"), STRV("x"), key), -EINVAL);
	assert_int_equal(location_aor_key(STRV("a%zz"), STRV("x"), key), -EINVAL);
	assert_int_equal(location_aor_key(STRV("a%00b"), STRV("x"), key), -EINVAL);
	assert_int_equal(location_aor_key(STRV("a"), STRV_NULL, key), -EINVAL);
	memset(big, 'a', sizeof(big));
	assert_int_equal(location_aor_key(strv_make(big, sizeof(big)), STRV("x"), key),
			 -ENAMETOOLONG);
	assert_int_equal(location_aor_key(STRV("a"), strv_make(big, 510), key), -ENAMETOOLONG);
	assert_int_equal(location_aor_key(STRV("a"), strv_make(big, 509), key), 511);
}

static void test_register_lookup(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b = mkbind("sip:alice@10.0.0.2:5062;transport=udp", 3600);
	char uri[64];

	(void)state;
	b.instance = STRV("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
	b.reg_id = STRV("1");
	b.q = 500;
	b.has_q = true;
	/* the binding owns copies: change the caller's text afterwards */
	strcpy(uri, "sip:alice@10.0.0.2:5062;transport=udp");
	b.uri = strv_cstr(uri);
	assert_int_equal(reg("alice@example.com", "call-1", 1, &b, 1), 0);
	memset(uri, 'x', strlen(uri));

	assert_int_equal(lookup("alice@example.com", c), 1);
	assert_string_equal(c[0]->uri, "sip:alice@10.0.0.2:5062;transport=udp");
	assert_int_equal(c[0]->puri.scheme, SIP_URI_SIP);
	assert_true(strv_eq_cstr(c[0]->puri.host, "10.0.0.2"));
	assert_int_equal(c[0]->expires_ms, T0 + 3600000);
	assert_int_equal(c[0]->registered_ms, T0);
	assert_int_equal(c[0]->q, 500);
	assert_true(c[0]->has_q);
	assert_string_equal(c[0]->call_id, "call-1");
	assert_int_equal(c[0]->cseq, 1);
	assert_true(sa_equal(&c[0]->flow.remote, &F.flow.remote));
	assert_string_equal(c[0]->instance, "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
	assert_string_equal(c[0]->reg_id, "1");
	assert_int_equal(lookup("Alice@example.com", c), 0); /* the user is case-sensitive */
	assert_int_equal(lookup("bob@example.com", c), 0);
	assert_int_equal(stats().aors, 1);
	assert_int_equal(stats().contacts, 1);
}

static void test_sorted_by_q(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[3] = { mkbind("sip:a@10.0.0.1", 600),
					 mkbind("sip:b@10.0.0.2", 600),
					 mkbind("sip:c@10.0.0.3", 600) };

	(void)state;
	b[0].q = 100;
	b[1].q = 900;
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 3), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
	assert_string_equal(c[0]->uri, "sip:c@10.0.0.3"); /* no q: 1.0 */
	assert_string_equal(c[1]->uri, "sip:b@10.0.0.2");
	assert_string_equal(c[2]->uri, "sip:a@10.0.0.1");

	/* equal q: the most recent registration first */
	timers_run(F.ts, T0 + 1000);
	b[0] = mkbind("sip:a@10.0.0.1", 600);
	b[0].q = 900;
	assert_int_equal(reg("alice@example.com", "c1", 2, b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
	assert_string_equal(c[0]->uri, "sip:c@10.0.0.3");
	assert_string_equal(c[1]->uri, "sip:a@10.0.0.1");
	assert_string_equal(c[2]->uri, "sip:b@10.0.0.2");
	/* out[] bounded by max */
	assert_int_equal(location_lookup(F.loc, STRV("alice@example.com"), c, 2), 2);
}

static void test_refresh_and_remove(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[2] = { mkbind("sip:alice@10.0.0.2:5062;transport=udp;x=1", 600),
					 mkbind("sip:alice@10.0.0.3", 600) };

	(void)state;
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 2), 0);
	timers_run(F.ts, T0 + 5000);
	/* the same URI by RFC 3261 §19.1.4: host case, parameter order */
	b[0] = mkbind("sip:alice@10.0.0.2:5062;x=1;TRANSPORT=UDP", 1200);
	assert_int_equal(sa_parse_cstr(&F.flow.remote, "198.51.100.7:40999", 0), 0);
	assert_int_equal(reg("alice@example.com", "c1", 2, b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 2);
	assert_string_equal(c[0]->uri, "sip:alice@10.0.0.2:5062;x=1;TRANSPORT=UDP");
	assert_int_equal(c[0]->expires_ms, T0 + 5000 + 1200000);
	assert_int_equal(c[0]->cseq, 2);
	assert_int_equal(sa_port(&c[0]->flow.remote), 40999); /* the new NAT binding */
	assert_int_equal(c[1]->cseq, 1);
	assert_int_equal(timers_count(F.ts), 2);

	/* expires 0 removes one binding */
	b[0] = mkbind("sip:alice@10.0.0.3", 0);
	assert_int_equal(reg("alice@example.com", "c1", 3, b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 1);
	assert_string_equal(c[0]->uri, "sip:alice@10.0.0.2:5062;x=1;TRANSPORT=UDP");
	assert_int_equal(timers_count(F.ts), 1);
	/* removing one that does not exist changes nothing */
	b[0] = mkbind("sip:nobody@10.0.0.9", 0);
	assert_int_equal(reg("alice@example.com", "c1", 4, b, 1), 0);
	assert_int_equal(reg("carol@example.com", "c1", 4, b, 1), 0);
	assert_int_equal(stats().aors, 1);
	/* the last one: the AOR goes too */
	b[0] = mkbind("sip:alice@10.0.0.2:5062;transport=udp;x=1", 0);
	assert_int_equal(reg("alice@example.com", "c1", 5, b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 0);
	assert_int_equal(stats().aors, 0);
	assert_int_equal(stats().contacts, 0);
	assert_int_equal(timers_count(F.ts), 0);
}

static void test_cseq_order(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[2] = { mkbind("sip:alice@10.0.0.2", 600),
					 mkbind("sip:alice@10.0.0.3", 600) };

	(void)state;
	assert_int_equal(reg("alice@example.com", "c1", 10, b, 1), 0);
	/* same Call-ID, same or lower CSeq: refused, and atomically (b[1] not added) */
	b[0].expires_s = 0;
	assert_int_equal(reg("alice@example.com", "c1", 10, b, 2), -EPROTO);
	assert_int_equal(reg("alice@example.com", "c1", 9, b, 2), -EPROTO);
	assert_int_equal(lookup("alice@example.com", c), 1);
	assert_int_equal(c[0]->cseq, 10);
	/* another Call-ID (the UA restarted): any CSeq */
	b[0].expires_s = 700;
	assert_int_equal(reg("alice@example.com", "c2", 1, b, 2), 0);
	assert_int_equal(lookup("alice@example.com", c), 2);
	assert_string_equal(c[0]->call_id, "c2");
	assert_string_equal(c[1]->call_id, "c2");
	/* a new binding under an old Call-ID has nothing to compare with */
	b[0] = mkbind("sip:alice@10.0.0.4", 600);
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
}

static void test_expiry_by_timer(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[2] = { mkbind("sip:alice@10.0.0.2", 60),
					 mkbind("sip:alice@10.0.0.3", 120) };

	(void)state;
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 2), 0);
	b[0] = mkbind("sip:bob@10.0.0.4", 90);
	assert_int_equal(reg("bob@example.com", "c9", 1, b, 1), 0);
	assert_int_equal(timers_run(F.ts, T0 + 59999), 0);
	assert_int_equal(lookup("alice@example.com", c), 2);
	/* due but the timer has not run yet: lookups skip it already */
	timers_advance(F.ts, T0 + 60000);
	assert_int_equal(lookup("alice@example.com", c), 1);
	assert_int_equal(stats().contacts, 3);
	assert_int_equal(timers_run(F.ts, T0 + 60000), 1);
	assert_int_equal(stats().contacts, 2);
	assert_int_equal(stats().expired, 1);
	assert_int_equal(timers_run(F.ts, T0 + 90000), 1);
	assert_int_equal(lookup("bob@example.com", c), 0);
	assert_int_equal(stats().aors, 1);
	assert_int_equal(timers_run(F.ts, T0 + 120000), 1);
	assert_int_equal(stats().aors, 0);
	assert_int_equal(stats().contacts, 0);
	assert_int_equal(stats().expired, 3);
}

static void test_max_contacts(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[4] = { mkbind("sip:a@10.0.0.1", 600),
					 mkbind("sip:b@10.0.0.2", 300),
					 mkbind("sip:c@10.0.0.3", 900),
					 mkbind("sip:d@10.0.0.4", 600) };

	(void)state;
	/* more new bindings than the limit in one request */
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 4), -E2BIG);
	assert_int_equal(stats().aors, 0);
	/* the same binding twice counts once (the last one wins) */
	struct location_binding dup[4] = { mkbind("sip:a@10.0.0.1", 600),
					   mkbind("sip:b@10.0.0.2", 600),
					   mkbind("sip:c@10.0.0.3", 600),
					   mkbind("sip:A@10.0.0.1", 60) };
	dup[3].uri = STRV("sip:a@10.0.0.1;lr");
	assert_int_equal(reg("alice@example.com", "c1", 1, dup, 4), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
	assert_string_equal(c[0]->uri, "sip:a@10.0.0.1;lr");
	assert_int_equal(c[0]->expires_ms, T0 + 60000);
	dup[0].expires_s = 0; /* same URI later removed: not counted either */
	assert_int_equal(reg("alice@example.com", "c1", 2, b, 3), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);

	/* full: a fourth binding replaces the one expiring first (b, 300 s) */
	timers_run(F.ts, T0 + 1000);
	assert_int_equal(reg("alice@example.com", "c2", 1, &b[3], 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
	assert_int_equal(stats().replaced, 1);
	for (unsigned i = 0; i < 3; i++)
		assert_string_not_equal(c[i]->uri, "sip:b@10.0.0.2");
	/* ties on expiry: the lowest q goes */
	struct location_binding e = mkbind("sip:e@10.0.0.5", 3600);
	assert_int_equal(reg("bob@example.com", "c3", 1, b, 1), 0); /* a: 600 */
	b[1].expires_s = 600;
	b[1].q = 100;
	assert_int_equal(reg("bob@example.com", "c3", 2, &b[1], 1), 0);
	b[2].expires_s = 600;
	assert_int_equal(reg("bob@example.com", "c3", 3, &b[2], 1), 0);
	assert_int_equal(reg("bob@example.com", "c3", 4, &e, 1), 0);
	assert_int_equal(lookup("bob@example.com", c), 3);
	for (unsigned i = 0; i < 3; i++)
		assert_string_not_equal(c[i]->uri, "sip:b@10.0.0.2");
	assert_int_equal(stats().contacts, 6);
}

static void test_max_aors(void **state)
{
	struct location_binding b = mkbind("sip:x@10.0.0.1", 600);
	char aor[32];

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(aor, sizeof(aor), "u%d@example.com", i);
		assert_int_equal(reg(aor, "c", 1, &b, 1), 0);
	}
	assert_int_equal(reg("u4@example.com", "c", 1, &b, 1), -ENOSPC);
	assert_int_equal(stats().refused_aors, 1);
	/* existing AORs still take updates */
	assert_int_equal(reg("u1@example.com", "c", 2, &b, 1), 0);
	b.expires_s = 0;
	assert_int_equal(reg("u1@example.com", "c", 3, &b, 1), 0);
	b.expires_s = 600;
	assert_int_equal(reg("u4@example.com", "c", 1, &b, 1), 0);
	assert_int_equal(stats().aors, 4);
}

static void test_instance(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b = mkbind("sip:alice@10.0.0.2;rinstance=1", 600);

	(void)state;
	b.instance = STRV("<urn:uuid:1>");
	b.reg_id = STRV("1");
	assert_int_equal(reg("alice@example.com", "c1", 1, &b, 1), 0);
	/* rebooted: new URI, same instance and reg-id: the same binding */
	b.uri = STRV("sip:alice@10.0.0.9;rinstance=2");
	b.instance = STRV("<URN:UUID:1>");
	assert_int_equal(reg("alice@example.com", "c2", 1, &b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 1);
	assert_string_equal(c[0]->uri, "sip:alice@10.0.0.9;rinstance=2");
	/* another reg-id of the same instance is another flow */
	b.reg_id = STRV("2");
	assert_int_equal(reg("alice@example.com", "c2", 2, &b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 2);
	/* a URI of another scheme is compared as text */
	b = mkbind("urn:service:x", 600);
	assert_int_equal(reg("alice@example.com", "c2", 3, &b, 1), 0);
	assert_int_equal(reg("alice@example.com", "c2", 4, &b, 1), 0);
	assert_int_equal(lookup("alice@example.com", c), 3);
	assert_int_equal(c[0]->puri.scheme, SIP_URI_OTHER);
}

static void test_unregister_all(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b[2] = { mkbind("sip:alice@10.0.0.2", 600),
					 mkbind("sip:alice@10.0.0.3", 600) };

	(void)state;
	assert_int_equal(reg("alice@example.com", "c1", 5, b, 1), 0);
	assert_int_equal(reg("alice@example.com", "c2", 1, &b[1], 1), 0);
	assert_int_equal(location_unregister_all(F.loc, STRV("alice@example.com"), STRV("c1"), 5),
			 -EPROTO);
	assert_int_equal(lookup("alice@example.com", c), 2);
	assert_int_equal(location_unregister_all(F.loc, STRV("alice@example.com"), STRV("c1"), 6),
			 2);
	assert_int_equal(lookup("alice@example.com", c), 0);
	assert_int_equal(stats().aors, 0);
	assert_int_equal(timers_count(F.ts), 0);
	assert_int_equal(location_unregister_all(F.loc, STRV("alice@example.com"), STRV("c1"), 7),
			 0);
	/* administrative purge */
	assert_int_equal(reg("alice@example.com", "c1", 9, b, 2), 0);
	assert_int_equal(location_unregister_all(F.loc, STRV("alice@example.com"), STRV_NULL, 0),
			 2);
}

static void test_flow_closed(void **state)
{
	const struct location_contact *c[16];
	struct location_binding b = mkbind("sip:alice@10.0.0.2;transport=tcp", 600);

	(void)state;
	F.flow.proto = SIP_PROTO_TCP;
	F.flow.conn_id = 7;
	assert_int_equal(reg("alice@example.com", "c1", 1, &b, 1), 0);
	b.uri = STRV("sip:bob@10.0.0.3;transport=tcp");
	assert_int_equal(reg("bob@example.com", "c2", 1, &b, 1), 0);
	F.flow.conn_id = 8;
	b.uri = STRV("sip:bob@10.0.0.4;transport=tcp");
	assert_int_equal(reg("bob@example.com", "c2", 2, &b, 1), 0);
	F.flow.proto = SIP_PROTO_UDP;
	F.flow.conn_id = 0;
	b.uri = STRV("sip:bob@10.0.0.5");
	assert_int_equal(reg("bob@example.com", "c2", 3, &b, 1), 0);
	assert_int_equal(location_flow_closed(F.loc, 0), 0);
	assert_int_equal(location_flow_closed(F.loc, 9), 0);
	assert_int_equal(location_flow_closed(F.loc, 7), 2);
	assert_int_equal(lookup("alice@example.com", c), 0);
	assert_int_equal(lookup("bob@example.com", c), 2);
	/* a refresh moves a binding to its new connection */
	F.flow.proto = SIP_PROTO_TCP;
	F.flow.conn_id = 10;
	b.uri = STRV("sip:bob@10.0.0.4;transport=tcp");
	assert_int_equal(reg("bob@example.com", "c2", 4, &b, 1), 0);
	assert_int_equal(location_flow_closed(F.loc, 8), 0);
	assert_int_equal(location_flow_closed(F.loc, 10), 1);
	assert_int_equal(lookup("bob@example.com", c), 1);
	assert_int_equal(stats().flow_closed, 3);
	assert_int_equal(stats().aors, 1);
}

static void test_invalid(void **state)
{
	struct location_binding b[LOCATION_MAX_BINDINGS + 1];

	(void)state;
	for (unsigned i = 0; i <= LOCATION_MAX_BINDINGS; i++)
		b[i] = mkbind("sip:a@10.0.0.1", 0);
	assert_int_equal(reg("alice@example.com", "c1", 1, b, LOCATION_MAX_BINDINGS + 1), -E2BIG);
	assert_int_equal(reg("alice@example.com", "c1", 1, b, LOCATION_MAX_BINDINGS), 0);
	b[0] = mkbind("", 600);
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 1), -EINVAL);
	b[0] = mkbind("sip:a@10.0.0.1", 600);
	assert_int_equal(reg("alice@example.com", "", 1, b, 1), -EINVAL);
	b[0].uri = strv_make("sip:a\0b", 7);
	assert_int_equal(reg("alice@example.com", "c1", 1, b, 1), -EINVAL);
	assert_int_equal(stats().aors, 0);
}

/* Many AORs and contacts left registered: location_free releases everything. */
static void test_free_loaded(void **state)
{
	struct location_conf conf = { 0 };
	char aor[32], uri[32];

	(void)state;
	teardown(NULL);
	setup_conf(&conf);
	for (int i = 0; i < 1000; i++) {
		struct location_binding b[2];

		snprintf(aor, sizeof(aor), "u%d@example.com", i);
		snprintf(uri, sizeof(uri), "sip:u%d@10.0.%d.%d", i, i / 250, i % 250);
		b[0] = mkbind(uri, 60 + (uint32_t)i);
		b[1] = mkbind("sip:x@192.0.2.1", 3600);
		F.flow.conn_id = (uint64_t)i % 7;
		assert_int_equal(reg(aor, "c", 1, b, 2), 0);
	}
	assert_int_equal(stats().aors, 1000);
	assert_int_equal(stats().contacts, 2000);
	assert_int_equal(timers_run(F.ts, T0 + 60000 + 499999), 500);
	assert_int_equal(stats().contacts, 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aor_key),
		cmocka_unit_test_setup_teardown(test_register_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sorted_by_q, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cseq_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_by_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_aors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_loaded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
