/* SPDX-License-Identifier: BSD-2-Clause */
/* B2BUA: generated identifiers, the dialog table, the header policy. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/b2bua/dialog.h"
#include "sbc/b2bua/hdr_policy.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"

static void test_id_shard(void **state)
{
	char id[B2B_ID_LEN + 1], br[7 + B2B_ID_LEN + 1] = "z9hG4bK";

	(void)state;
	b2b_id_make(id, 0xdeadbeef, 7, 0x0123456789abcdefULL);
	assert_string_equal(id, "deadbeef070123456789abcdef");
	assert_int_equal(b2b_id_shard(strv_cstr(id), 0xdeadbeef), 7);
	assert_int_equal(b2b_id_shard(strv_cstr(id), 0xdeadbeee), -1);
	assert_true(b2b_id_ours(strv_cstr(id), 0xdeadbeef));
	b2b_id_make(br + 7, 0x00000001, 255, 1);
	assert_int_equal(b2b_id_shard(strv_cstr(br), 1), 255);
	assert_false(b2b_id_ours(STRV("z9hG4bK-sipp-1"), 1));
	assert_false(b2b_id_ours(STRV("0000"), 0));
	/* Two ids from different random values differ. */
	b2b_id_make(br, 1, 0, 2);
	b2b_id_make(id, 1, 0, 3);
	assert_string_not_equal(br, id);
}

struct owner {
	struct b2b_dnode node;
	char call_id[32], tag[32];
};

static void test_dtab(void **state)
{
	enum { N = 5000 };
	struct b2b_dtab t;
	struct owner *o = calloc(N, sizeof(*o));

	(void)state;
	assert_non_null(o);
	assert_int_equal(b2b_dtab_init(&t, 16), 0);
	for (int i = 0; i < N; i++) {
		snprintf(o[i].call_id, sizeof(o[i].call_id), "call-%d@x", i / 2);
		snprintf(o[i].tag, sizeof(o[i].tag), "tag%d", i);
		assert_int_equal(b2b_dtab_insert(&t, &o[i].node, strv_cstr(o[i].call_id),
						 strv_cstr(o[i].tag), &o[i]),
				 0);
	}
	assert_int_equal(t.count, N);
	assert_true(t.mask + 1 >= N); /* grew */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(b2b_dtab_find(&t, strv_cstr(o[i].call_id), strv_cstr(o[i].tag)),
				 &o[i]);
	/* Same Call-ID, other tag (the two legs of a forked call): no match. */
	assert_null(b2b_dtab_find(&t, STRV("call-0@x"), STRV("tag2")));
	assert_null(b2b_dtab_find(&t, STRV("call-0@x"), STRV("TAG0")));
	assert_null(b2b_dtab_find(&t, STRV("call-0@X"), STRV("tag0")));
	for (int i = 0; i < N; i += 2)
		b2b_dtab_remove(&t, &o[i].node);
	b2b_dtab_remove(&t, &o[0].node); /* twice: harmless */
	assert_int_equal(t.count, N / 2);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(b2b_dtab_find(&t, strv_cstr(o[i].call_id), strv_cstr(o[i].tag)),
				 i % 2 ? &o[i] : NULL);
	b2b_dtab_fini(&t);
	free(o);
}

static const char invite[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: \"Alice\" <sip:alice@192.0.2.1>;tag=a1\r\n"
			     "To: <sip:bob@example.com>\r\n"
			     "Call-ID: c1@192.0.2.1\r\n"
			     "CSeq: 1 INVITE\r\n"
			     "Contact: <sip:alice@192.0.2.1:5060>\r\n"
			     "Record-Route: <sip:p1.example.com;lr>\r\n"
			     "Record-Route: <sip:p2.example.com;lr>\r\n"
			     "User-Agent: Phone/1.0\r\n"
			     "Server: x\r\n"
			     "Subject: hello\r\n"
			     "k: 100rel, timer, replaces\r\n"
			     "Require: timer\r\n"
			     "P-Asserted-Identity: <sip:alice@192.0.2.1>\r\n"
			     "X-Custom: 1\r\n"
			     "Allow: INVITE, ACK\r\n"
			     "Content-Type: application/sdp\r\n"
			     "Content-Length: 0\r\n\r\n";

static char *policy_out(const char *const *allow, unsigned na, const char *const *deny, unsigned nd)
{
	static char out[4096];
	struct b2b_hdr_policy p;
	struct sip_msg m;
	struct sip_pbuf b;

	assert_int_equal(b2b_hdr_policy_init(&p, allow, na, deny, nd), 0);
	assert_int_equal(sip_msg_parse(&m, invite, sizeof(invite) - 1, NULL, NULL), 0);
	sip_print_init(&b, out, sizeof(out) - 1);
	b2b_hdr_policy_copy(&p, &b, &m);
	assert_false(b.overflow);
	out[b.len] = '\0';
	return out;
}

static void test_policy_default(void **state)
{
	const char *out = policy_out(NULL, 0, NULL, 0);

	(void)state;
	assert_string_equal(out, "Subject: hello\r\n"
				 "Supported: timer\r\n"
				 "Require: timer\r\n"
				 "Allow: INVITE\r\n"
				 "Allow: ACK\r\n");
}

static void test_policy_lists(void **state)
{
	static const char *const allow[] = { "*" };
	static const char *const deny[] = { "user-agent", "Server", "x-custom", "Via" };
	static const char *const allow2[] = { "P-Asserted-Identity", "X-Custom", "Via", "Contact" };
	const char *out;

	(void)state;
	/* Everything but the denied and the B2BUA's own headers. */
	out = policy_out(allow, 1, deny, 4);
	assert_null(strstr(out, "User-Agent"));
	assert_null(strstr(out, "Server"));
	assert_null(strstr(out, "X-Custom"));
	assert_null(strstr(out, "Via"));
	assert_null(strstr(out, "Record-Route"));
	assert_null(strstr(out, "Contact"));
	assert_null(strstr(out, "Content-"));
	assert_non_null(strstr(out, "P-Asserted-Identity: <sip:alice@192.0.2.1>\r\n"));
	assert_non_null(strstr(out, "Subject: hello\r\n"));
	/* Only the allowed; structural headers can never be allowed. */
	out = policy_out(allow2, 4, deny, 0);
	assert_string_equal(out, "P-Asserted-Identity: <sip:alice@192.0.2.1>\r\nX-Custom: 1\r\n");
	/* Denied wins over allowed. */
	out = policy_out(allow2, 4, deny, 4);
	assert_string_equal(out, "P-Asserted-Identity: <sip:alice@192.0.2.1>\r\n");
}

static void test_policy_bad_name(void **state)
{
	static const char *const bad[] = { "Bad Name" };
	struct b2b_hdr_policy p;

	(void)state;
	assert_int_equal(b2b_hdr_policy_init(&p, bad, 1, NULL, 0), -EINVAL);
}

static void test_dialog_routes(void **state)
{
	struct b2b_dialog d;
	struct sip_msg m;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(sip_msg_parse(&m, invite, sizeof(invite) - 1, NULL, NULL), 0);
	assert_int_equal(b2b_dialog_set_routes(&d, &m, false), 0);
	assert_string_equal(d.route_set, "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>");
	assert_int_equal(b2b_dialog_set_routes(&d, &m, true), 0);
	assert_string_equal(d.route_set, "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>");
	assert_int_equal(b2b_dialog_set_target(&d, &m), 0);
	assert_string_equal(d.remote_target, "sip:alice@192.0.2.1:5060");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_shard),	cmocka_unit_test(test_dtab),
		cmocka_unit_test(test_policy_default),	cmocka_unit_test(test_policy_lists),
		cmocka_unit_test(test_policy_bad_name), cmocka_unit_test(test_dialog_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
