/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bencode.h"

#define NODES 256

static struct bencode_node nodes[NODES];

/* Decodes a NUL-terminated literal with default limits into the static nodes. */
static int decode(struct bencode_doc *doc, const char *s, size_t *consumed)
{
	bencode_doc_init(doc, nodes, NODES);
	return bencode_decode(doc, s, strlen(s), NULL, consumed);
}

/* Decodes @p s, expects failure @p err with a reason; returns the error offset. */
static size_t expect_fail(const char *s, size_t len, int err)
{
	struct bencode_doc doc;
	size_t consumed = 99;
	int rc;

	bencode_doc_init(&doc, nodes, NODES);
	rc = bencode_decode(&doc, s, len, NULL, &consumed);
	if (rc != err)
		print_error("input \"%.*s\": got %d, want %d\n", (int)len, s, rc, err);
	assert_int_equal(rc, err);
	assert_non_null(doc.error);
	assert_true(doc.error_offset <= len);
	assert_int_equal(doc.count, 0);
	assert_null(bencode_root(&doc));
	assert_int_equal(consumed, 0);
	return doc.error_offset;
}

static void expect_fail_s(const char *s, int err)
{
	expect_fail(s, strlen(s), err);
}

static bool strv_is(struct strv v, const char *s)
{
	return strv_eq_cstr(v, s);
}

static void test_int_valid(void **state)
{
	static const struct {
		const char *in;
		int64_t v;
	} cases[] = {
		{ "i0e", 0 },
		{ "i42e", 42 },
		{ "i-1e", -1 },
		{ "i-42e", -42 },
		{ "i1000000e", 1000000 },
		{ "i9223372036854775807e", INT64_MAX },
		{ "i-9223372036854775808e", INT64_MIN },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bencode_doc doc;
		size_t consumed;
		const struct bencode_node *r;

		assert_int_equal(decode(&doc, cases[i].in, &consumed), 0);
		assert_null(doc.error);
		assert_int_equal(doc.count, 1);
		assert_int_equal(consumed, strlen(cases[i].in));
		r = bencode_root(&doc);
		assert_non_null(r);
		assert_int_equal(r->type, BENCODE_INT);
		assert_true(r->v.i == cases[i].v);
		assert_ptr_equal(r->raw.p, cases[i].in);
		assert_int_equal(r->raw.len, consumed);
		assert_int_equal(r->next, 0);
		assert_null(bencode_first(&doc, r));
	}
}

static void test_int_malformed(void **state)
{
	(void)state;
	assert_int_equal(expect_fail("i-0e", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i03e", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i00e", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i-03e", 5, -EINVAL), 2);
	assert_int_equal(expect_fail("ie", 2, -EINVAL), 1);
	assert_int_equal(expect_fail("i-e", 3, -EINVAL), 2);
	assert_int_equal(expect_fail("i--1e", 5, -EINVAL), 2);
	assert_int_equal(expect_fail("i+1e", 4, -EINVAL), 1);
	assert_int_equal(expect_fail("i 1e", 4, -EINVAL), 1);
	assert_int_equal(expect_fail("i1 e", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i1xe", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i0xe", 4, -EINVAL), 2);
	assert_int_equal(expect_fail("i1.5e", 5, -EINVAL), 2);
	/* int64 overflow, both ends, and far past them */
	assert_int_equal(expect_fail("i9223372036854775808e", 21, -EINVAL), 19);
	assert_int_equal(expect_fail("i-9223372036854775809e", 22, -EINVAL), 20);
	expect_fail_s("i18446744073709551616e", -EINVAL);
	expect_fail_s("i99999999999999999999999999999999e", -EINVAL);
}

static void test_str_valid(void **state)
{
	static const char bin[] = "5:a\0b\xff"
				  "c";
	struct bencode_doc doc;
	const struct bencode_node *r;
	size_t consumed;

	(void)state;
	assert_int_equal(decode(&doc, "0:", &consumed), 0);
	r = bencode_root(&doc);
	assert_int_equal(r->type, BENCODE_STR);
	assert_int_equal(r->v.s.len, 0);
	assert_int_equal(r->raw.len, 2);

	assert_int_equal(decode(&doc, "4:spam", &consumed), 0);
	r = bencode_root(&doc);
	assert_true(strv_is(r->v.s, "spam"));
	assert_int_equal(consumed, 6);

	/* zero-copy: the view points into the input */
	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, bin, sizeof(bin) - 1, NULL, &consumed), 0);
	r = bencode_root(&doc);
	assert_ptr_equal(r->v.s.p, bin + 2);
	assert_int_equal(r->v.s.len, 5);
	assert_memory_equal(r->v.s.p,
			    "a\0b\xff"
			    "c",
			    5);
	assert_int_equal(consumed, 7);

	/* consumed excludes trailing data */
	assert_int_equal(decode(&doc, "3:abcTRAILING", &consumed), 0);
	assert_int_equal(consumed, 5);
	assert_int_equal(decode(&doc, "i7ei8e", &consumed), 0);
	assert_int_equal(consumed, 3);
	/* consumed may be NULL */
	assert_int_equal(decode(&doc, "i7e", NULL), 0);
}

static void test_str_malformed(void **state)
{
	(void)state;
	assert_int_equal(expect_fail("01:a", 4, -EINVAL), 1);
	assert_int_equal(expect_fail("00:", 3, -EINVAL), 1);
	assert_int_equal(expect_fail("3x", 2, -EINVAL), 1);
	assert_int_equal(expect_fail("3 :abc", 6, -EINVAL), 1);
	assert_int_equal(expect_fail("-1:a", 4, -EINVAL), 0);
	assert_int_equal(expect_fail(":", 1, -EINVAL), 0);
	assert_int_equal(expect_fail("x", 1, -EINVAL), 0);
	assert_int_equal(expect_fail(" i1e", 4, -EINVAL), 0);
}

static void test_str_too_long(void **state)
{
	struct bencode_limits lim = { .max_str_len = 4 };
	struct bencode_doc doc;

	(void)state;
	/* refused from the length prefix alone, before the data arrives */
	assert_int_equal(expect_fail("1048577:", 8, -EMSGSIZE), 6);
	expect_fail_s("4294967296:", -EMSGSIZE);
	expect_fail_s("18446744073709551616:", -EMSGSIZE);
	expect_fail_s("99999999999999999999999999999999999999999:", -EMSGSIZE);
	expect_fail_s("l99999999999999999999999999999999999999999", -EMSGSIZE);
	/* within the limit but not (yet) there: incomplete */
	expect_fail_s("1048576:abc", -ENODATA);
	expect_fail_s("1048576:", -ENODATA);

	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, "4:abcd", 6, &lim, NULL), 0);
	assert_int_equal(bencode_decode(&doc, "5:abcde", 7, &lim, NULL), -EMSGSIZE);
	assert_non_null(doc.error);
}

static void test_incomplete(void **state)
{
	static const char *const cases[] = {
		"",
		"i",
		"i-",
		"i1",
		"i12",
		"i0",
		"i-1",
		"1",
		"12",
		"0",
		"3:",
		"3:ab",
		"l",
		"li1e",
		"l4:spam",
		"d",
		"d3:key",
		"d3:keyi1e",
		"d3:keyl",
		"lld3:key",
		"i9223372036854775807",
		"i-9223372036854775808",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i]);

		assert_int_equal(expect_fail(cases[i], len, -ENODATA), len);
	}
	/* NULL buffer is empty input */
	{
		struct bencode_doc doc;

		bencode_doc_init(&doc, nodes, NODES);
		assert_int_equal(bencode_decode(&doc, NULL, 0, NULL, NULL), -ENODATA);
	}
}

static void test_structure_malformed(void **state)
{
	(void)state;
	assert_int_equal(expect_fail("e", 1, -EINVAL), 0);
	assert_int_equal(expect_fail("lxe", 3, -EINVAL), 1);
	assert_int_equal(expect_fail("li1e e", 6, -EINVAL), 4);
	/* dict keys must be strings */
	assert_int_equal(expect_fail("di1ei2ee", 8, -EINVAL), 1);
	assert_int_equal(expect_fail("dlei1ee", 7, -EINVAL), 1);
	assert_int_equal(expect_fail("d1:ai1edeee", 11, -EINVAL), 7);
	/* key without value */
	assert_int_equal(expect_fail("d3:keye", 7, -EINVAL), 6);
	assert_int_equal(expect_fail("d1:ai1e1:be", 11, -EINVAL), 10);
}

static void test_list_nesting(void **state)
{
	const char *in = "l4:spami42eli1eli2eee0:de3:endel";
	struct bencode_doc doc;
	const struct bencode_node *r, *n, *inner, *deeper;
	size_t consumed;

	(void)state;
	assert_int_equal(decode(&doc, in, &consumed), 0);
	assert_int_equal(consumed, strlen(in) - 1); /* a trailing 'l' is not ours */
	r = bencode_root(&doc);
	assert_int_equal(r->type, BENCODE_LIST);
	assert_int_equal(r->count, 6);
	assert_int_equal(r->raw.len, consumed);
	assert_int_equal(r->next, 0);
	assert_int_equal(doc.count, 10);

	n = bencode_first(&doc, r);
	assert_true(strv_is(n->v.s, "spam"));
	n = bencode_next(&doc, n);
	assert_int_equal(n->type, BENCODE_INT);
	assert_true(n->v.i == 42);
	inner = bencode_next(&doc, n);
	assert_int_equal(inner->type, BENCODE_LIST);
	assert_int_equal(inner->count, 2);
	assert_true(strv_is(inner->raw, "li1eli2eee"));
	n = bencode_first(&doc, inner);
	assert_true(n->v.i == 1);
	deeper = bencode_next(&doc, n);
	assert_int_equal(deeper->count, 1);
	assert_true(strv_is(deeper->raw, "li2ee"));
	assert_true(bencode_first(&doc, deeper)->v.i == 2);
	assert_null(bencode_next(&doc, bencode_first(&doc, deeper)));
	assert_null(bencode_next(&doc, deeper));
	n = bencode_next(&doc, inner);
	assert_int_equal(n->type, BENCODE_STR);
	assert_int_equal(n->v.s.len, 0);
	n = bencode_next(&doc, n);
	assert_int_equal(n->type, BENCODE_DICT);
	assert_int_equal(n->count, 0);
	assert_null(bencode_first(&doc, n));
	assert_true(strv_is(n->raw, "de"));
	n = bencode_next(&doc, n);
	assert_true(strv_is(n->v.s, "end"));
	assert_null(bencode_next(&doc, n));

	/* empty containers */
	assert_int_equal(decode(&doc, "le", &consumed), 0);
	assert_int_equal(bencode_root(&doc)->count, 0);
	assert_int_equal(decode(&doc, "de", &consumed), 0);
	assert_int_equal(bencode_root(&doc)->type, BENCODE_DICT);
	assert_int_equal(decode(&doc, "lllleeee", &consumed), 0);
	assert_int_equal(doc.count, 4);
}

static void test_dict(void **state)
{
	/* keys deliberately unsorted, one duplicated */
	const char *in = "d3:zzzi1e3:aaa3:str4:listli1ei2ee4:dictd1:xi9ee3:zzzi2ee";
	struct bencode_doc doc;
	const struct bencode_node *r, *v;
	struct strv s;
	int64_t i;

	(void)state;
	assert_int_equal(decode(&doc, in, NULL), 0);
	r = bencode_root(&doc);
	assert_int_equal(r->type, BENCODE_DICT);
	assert_int_equal(r->count, 5);

	assert_true(bencode_dict_get_int(&doc, r, STRV("zzz"), &i));
	assert_true(i == 1); /* first match */
	assert_true(bencode_dict_get_str(&doc, r, STRV("aaa"), &s));
	assert_true(strv_is(s, "str"));
	v = bencode_dict_get(&doc, r, STRV("list"));
	assert_int_equal(v->type, BENCODE_LIST);
	assert_int_equal(v->count, 2);
	v = bencode_dict_get(&doc, r, STRV("dict"));
	assert_int_equal(v->type, BENCODE_DICT);
	assert_true(bencode_dict_get_int(&doc, v, STRV("x"), &i));
	assert_true(i == 9);
	/* not found at the outer level (x is nested) */
	assert_null(bencode_dict_get(&doc, r, STRV("x")));
	assert_null(bencode_dict_get(&doc, r, STRV("zz")));
	assert_null(bencode_dict_get(&doc, r, STRV("")));
	/* wrong type */
	assert_false(bencode_dict_get_str(&doc, r, STRV("zzz"), &s));
	assert_false(bencode_dict_get_int(&doc, r, STRV("aaa"), &i));
	assert_false(bencode_dict_get_int(&doc, r, STRV("nope"), &i));
	/* not a dict */
	assert_null(bencode_dict_get(&doc, bencode_dict_get(&doc, r, STRV("list")), STRV("x")));
	assert_null(bencode_dict_get(&doc, NULL, STRV("x")));

	/* iterate: keys and values alternate */
	{
		static const char *const keys[] = { "zzz", "aaa", "list", "dict", "zzz" };
		const struct bencode_node *k = bencode_first(&doc, r);

		for (size_t j = 0; j < 5; j++) {
			assert_non_null(k);
			assert_int_equal(k->type, BENCODE_STR);
			assert_true(strv_is(k->v.s, keys[j]));
			v = bencode_next(&doc, k);
			assert_ptr_equal(v, k + 1);
			k = bencode_next(&doc, v);
		}
		assert_null(k);
	}
	/* empty key is a valid key */
	assert_int_equal(decode(&doc, "d0:i5ee", NULL), 0);
	assert_true(bencode_dict_get_int(&doc, bencode_root(&doc), STRV(""), &i));
	assert_true(i == 5);
}

static const char ping[] = "d7:command4:pinge";

static void test_ng_ping(void **state)
{
	/* Over UDP the ng message is "<cookie> <bencode>"; the cookie is the caller's. */
	const char *msg = "5323_1 d7:command4:pinge";
	const char *body = strchr(msg, ' ') + 1;
	struct bencode_doc doc;
	struct strv cmd;
	size_t consumed;

	(void)state;
	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, body, strlen(body), NULL, &consumed), 0);
	assert_int_equal(consumed, strlen(body));
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("command"), &cmd));
	assert_true(strv_is(cmd, "ping"));
	assert_int_equal(decode(&doc, ping, NULL), 0);

	/* the reply */
	assert_int_equal(decode(&doc, "d6:result4:ponge", NULL), 0);
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("result"), &cmd));
	assert_true(strv_is(cmd, "pong"));
}

#define OFFER_SDP                                               \
	"v=0\r\n"                                               \
	"o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n" \
	"s=-\r\n"                                               \
	"c=IN IP4 192.168.1.10\r\n"                             \
	"t=0 0\r\n"                                             \
	"m=audio 49170 RTP/AVP 0 8 101\r\n"                     \
	"a=rtpmap:0 PCMU/8000\r\n"                              \
	"a=rtpmap:8 PCMA/8000\r\n"                              \
	"a=rtpmap:101 telephone-event/8000\r\n"                 \
	"a=fmtp:101 0-16\r\n"                                   \
	"a=sendrecv\r\n"

/* Builds an offer the way Kamailio's rtpengine module lays it out: flags first,
 * then sdp, call-id, via-branch, received-from, from-tag, and command last. */
static int build_offer(char *out, size_t cap)
{
	struct bencode_buf b;

	bencode_buf_init(&b, out, cap);
	bencode_dict_begin(&b);
	bencode_put_cstr(&b, "flags");
	bencode_list_begin(&b);
	bencode_put_cstr(&b, "trust-address");
	bencode_put_cstr(&b, "SIP-source-address");
	bencode_end(&b);
	bencode_put_cstr(&b, "replace");
	bencode_list_begin(&b);
	bencode_put_cstr(&b, "origin");
	bencode_put_cstr(&b, "session-connection");
	bencode_end(&b);
	bencode_dict_put_str(&b, "ICE", STRV("remove"));
	bencode_dict_put_str(&b, "transport-protocol", STRV("RTP/AVP"));
	bencode_put_cstr(&b, "rtcp-mux");
	bencode_list_begin(&b);
	bencode_put_cstr(&b, "demux");
	bencode_end(&b);
	bencode_dict_put_str(&b, "sdp", STRV(OFFER_SDP));
	bencode_dict_put_str(&b, "call-id", STRV("a84b4c76e66710@pc33.atlanta.example.com"));
	bencode_dict_put_str(&b, "via-branch", STRV("z9hG4bK776asdhds"));
	bencode_put_cstr(&b, "received-from");
	bencode_list_begin(&b);
	bencode_put_cstr(&b, "IP4");
	bencode_put_cstr(&b, "203.0.113.5");
	bencode_end(&b);
	bencode_dict_put_str(&b, "from-tag", STRV("1928301774"));
	bencode_dict_put_str(&b, "command", STRV("offer"));
	bencode_end(&b);
	return bencode_buf_finish(&b);
}

static void check_offer(const struct bencode_doc *doc)
{
	const struct bencode_node *r = bencode_root(doc), *l, *n;
	struct strv s;

	assert_non_null(r);
	assert_int_equal(r->type, BENCODE_DICT);
	assert_int_equal(r->count, 11);
	assert_true(bencode_dict_get_str(doc, r, STRV("command"), &s));
	assert_true(strv_is(s, "offer"));
	assert_true(bencode_dict_get_str(doc, r, STRV("sdp"), &s));
	assert_true(strv_is(s, OFFER_SDP));
	assert_true(bencode_dict_get_str(doc, r, STRV("call-id"), &s));
	assert_true(strv_is(s, "a84b4c76e66710@pc33.atlanta.example.com"));
	assert_true(bencode_dict_get_str(doc, r, STRV("from-tag"), &s));
	assert_true(strv_is(s, "1928301774"));
	assert_false(bencode_dict_get_str(doc, r, STRV("to-tag"), &s));

	l = bencode_dict_get(doc, r, STRV("flags"));
	assert_int_equal(l->type, BENCODE_LIST);
	assert_int_equal(l->count, 2);
	n = bencode_first(doc, l);
	assert_true(strv_is(n->v.s, "trust-address"));
	n = bencode_next(doc, n);
	assert_true(strv_is(n->v.s, "SIP-source-address"));
	assert_null(bencode_next(doc, n));

	l = bencode_dict_get(doc, r, STRV("replace"));
	assert_int_equal(l->count, 2);
	assert_true(strv_is(bencode_first(doc, l)->v.s, "origin"));

	l = bencode_dict_get(doc, r, STRV("received-from"));
	assert_int_equal(l->count, 2);
	n = bencode_first(doc, l);
	assert_true(strv_is(n->v.s, "IP4"));
	assert_true(strv_is(bencode_next(doc, n)->v.s, "203.0.113.5"));
}

static void test_ng_offer(void **state)
{
	char buf[2048];
	struct bencode_doc doc;
	size_t consumed;
	int len;

	(void)state;
	len = build_offer(buf, sizeof(buf));
	assert_true(len > 0);
	assert_memory_equal(buf, "d5:flagsl13:trust-address18:SIP-source-addresse7:replacel", 57);
	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, buf, (size_t)len, NULL, &consumed), 0);
	assert_int_equal(consumed, (size_t)len);
	check_offer(&doc);

	/* every proper prefix is "incomplete", never "malformed" */
	for (int cut = 0; cut < len; cut++) {
		assert_int_equal(expect_fail(buf, (size_t)cut, -ENODATA), (size_t)cut);
	}
}

static void test_ng_answer_reply(void **state)
{
	const char *answer = "d3:sdp17:v=0\r\ns=-\r\nt=0 0\r\n7:call-id9:abc@host18:from-tag3:ft16:"
			     "to-tag3:tt17:command6:answere";
	const char *reply = "d3:sdp17:v=0\r\ns=-\r\nt=0 0\r\n6:result2:oke";
	const char *err = "d6:result5:error12:error-reason15:Unknown call-ide";
	const char *stats = "d6:result2:ok7:createdi1700000000e11:last signali1700000100e"
			    "6:totalsd11:RTP packetsi1234eee";
	struct bencode_doc doc;
	struct strv s;
	int64_t i;

	(void)state;
	assert_int_equal(decode(&doc, answer, NULL), 0);
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("to-tag"), &s));
	assert_true(strv_is(s, "tt1"));
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("command"), &s));
	assert_true(strv_is(s, "answer"));

	assert_int_equal(decode(&doc, reply, NULL), 0);
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("result"), &s));
	assert_true(strv_is(s, "ok"));

	assert_int_equal(decode(&doc, err, NULL), 0);
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("error-reason"), &s));
	assert_true(strv_is(s, "Unknown call-id"));

	assert_int_equal(decode(&doc, stats, NULL), 0);
	assert_true(bencode_dict_get_int(&doc, bencode_root(&doc), STRV("last signal"), &i));
	assert_true(i == 1700000100);
	assert_true(bencode_dict_get_int(&doc,
					 bencode_dict_get(&doc, bencode_root(&doc), STRV("totals")),
					 STRV("RTP packets"), &i));
	assert_true(i == 1234);
}

static void test_roundtrip(void **state)
{
	char buf[512], again[512];
	struct bencode_buf b;
	struct bencode_doc doc;
	const struct bencode_node *r, *n;
	int len;
	int64_t i;
	struct strv s;

	(void)state;
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_dict_begin(&b);
	bencode_dict_put_int(&b, "min", INT64_MIN);
	bencode_dict_put_int(&b, "max", INT64_MAX);
	bencode_dict_put_int(&b, "zero", 0);
	bencode_dict_put_int(&b, "neg", -7);
	bencode_put_cstr(&b, "bin");
	bencode_put_str(&b, strv_make("\0e:\xff", 4));
	bencode_put_cstr(&b, "nul");
	bencode_put_cstr(&b, NULL);
	bencode_put_cstr(&b, "l");
	bencode_list_begin(&b);
	bencode_list_begin(&b);
	bencode_dict_begin(&b);
	bencode_end(&b);
	bencode_end(&b);
	bencode_put_int(&b, 1);
	bencode_end(&b);
	bencode_end(&b);
	len = bencode_buf_finish(&b);
	assert_true(len > 0);
	assert_memory_equal(buf,
			    "d3:mini-9223372036854775808e3:maxi9223372036854775807e4:zeroi0e"
			    "3:negi-7e3:bin4:\0e:\xff"
			    "3:nul0:1:llldeei1eee",
			    (size_t)len);

	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, buf, (size_t)len, NULL, NULL), 0);
	r = bencode_root(&doc);
	assert_true(bencode_dict_get_int(&doc, r, STRV("min"), &i) && i == INT64_MIN);
	assert_true(bencode_dict_get_int(&doc, r, STRV("max"), &i) && i == INT64_MAX);
	assert_true(bencode_dict_get_int(&doc, r, STRV("zero"), &i) && i == 0);
	assert_true(bencode_dict_get_int(&doc, r, STRV("neg"), &i) && i == -7);
	assert_true(bencode_dict_get_str(&doc, r, STRV("bin"), &s));
	assert_true(strv_eq(s, strv_make("\0e:\xff", 4)));
	assert_true(bencode_dict_get_str(&doc, r, STRV("nul"), &s) && s.len == 0);
	n = bencode_dict_get(&doc, r, STRV("l"));
	assert_int_equal(n->count, 2);

	/* put_raw of decoded nodes reproduces the input */
	bencode_buf_init(&b, again, sizeof(again));
	bencode_put_raw(&b, r->raw);
	assert_int_equal(bencode_buf_finish(&b), len);
	assert_memory_equal(again, buf, (size_t)len);

	/* re-encode field by field from the views */
	bencode_buf_init(&b, again, sizeof(again));
	bencode_dict_begin(&b);
	for (const struct bencode_node *k = bencode_first(&doc, r); k;
	     k = bencode_next(&doc, k + 1)) {
		bencode_put_str(&b, k->v.s);
		if (k[1].type == BENCODE_INT)
			bencode_put_int(&b, k[1].v.i);
		else
			bencode_put_raw(&b, k[1].raw);
	}
	bencode_end(&b);
	assert_int_equal(bencode_buf_finish(&b), len);
	assert_memory_equal(again, buf, (size_t)len);
}

static void test_encoder_overflow(void **state)
{
	char buf[16];
	struct bencode_buf b;

	(void)state;
	/* exact fit */
	bencode_buf_init(&b, buf, 6);
	bencode_put_cstr(&b, "spam");
	assert_int_equal(bencode_buf_finish(&b), 6);
	assert_false(b.overflow);

	/* one byte short: nothing written, sticky */
	memset(buf, '#', sizeof(buf));
	bencode_buf_init(&b, buf, 8);
	bencode_put_int(&b, 42);      /* 4 bytes */
	bencode_put_cstr(&b, "spam"); /* 6 more: does not fit */
	assert_true(b.overflow);
	assert_int_equal(b.len, 4);
	assert_int_equal(buf[4], '#');
	bencode_put_int(&b, 1); /* would fit, but overflow is sticky */
	bencode_list_begin(&b);
	bencode_end(&b);
	bencode_put_raw(&b, STRV("e"));
	assert_int_equal(b.len, 4);
	assert_int_equal(buf[4], '#');
	assert_int_equal(bencode_buf_finish(&b), -ENOBUFS);

	/* zero capacity, NULL buffer */
	bencode_buf_init(&b, NULL, 0);
	bencode_put_int(&b, 0);
	assert_int_equal(bencode_buf_finish(&b), -ENOBUFS);
	/* empty string into an empty buffer still overflows ("0:") */
	bencode_buf_init(&b, buf, 1);
	bencode_put_str(&b, STRV(""));
	assert_int_equal(bencode_buf_finish(&b), -ENOBUFS);
	/* a huge declared length does not wrap the room check */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_str(&b, strv_make("x", SIZE_MAX - 2));
	assert_int_equal(bencode_buf_finish(&b), -ENOBUFS);
	assert_int_equal(b.len, 0);
}

static void test_encoder_unbalanced(void **state)
{
	char buf[16];
	struct bencode_buf b;

	(void)state;
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_list_begin(&b);
	assert_int_equal(bencode_buf_finish(&b), -EINVAL);
	bencode_end(&b);
	assert_int_equal(bencode_buf_finish(&b), 2);
	bencode_end(&b); /* nothing open: not emitted, reported */
	assert_int_equal(b.len, 2);
	bencode_list_begin(&b);
	bencode_end(&b);
	assert_int_equal(bencode_buf_finish(&b), -EINVAL);
}

/* Builds "lll...eee" @p depth deep (caller frees). */
static char *make_nest(size_t depth, bool closed, size_t *len)
{
	char *p = malloc(2 * depth);

	assert_non_null(p);
	memset(p, 'l', depth);
	memset(p + depth, 'e', depth);
	*len = closed ? 2 * depth : depth;
	return p;
}

static void test_depth_bomb(void **state)
{
	struct bencode_limits lim = { .max_depth = 3 };
	struct bencode_doc doc;
	size_t len;
	char *p = make_nest(100000, false, &len);

	(void)state;
	assert_int_equal(expect_fail(p, len, -ELOOP), BENCODE_DEFAULT_MAX_DEPTH);
	free(p);
	p = make_nest(100000, true, &len);
	assert_int_equal(expect_fail(p, len, -ELOOP), BENCODE_DEFAULT_MAX_DEPTH);
	free(p);
	/* d and l count alike */
	{
		char mixed[1 + 5 * 16 + 1];

		mixed[0] = 'l';
		for (int i = 0; i < 16; i++)
			memcpy(mixed + 1 + 5 * i, "d1:al", 5);
		/* 33 open containers: the 33rd, the last 'l', is refused */
		assert_int_equal(expect_fail(mixed, sizeof(mixed) - 1, -ELOOP), 5 * 16);
		mixed[5 * 16] = 'i'; /* 32 deep, then an incomplete integer */
		assert_int_equal(expect_fail(mixed, sizeof(mixed) - 1, -ENODATA), 5 * 16 + 1);
	}

	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, "llleee", 6, &lim, NULL), 0);
	assert_int_equal(bencode_decode(&doc, "lllleeee", 8, &lim, NULL), -ELOOP);
	assert_int_equal(doc.error_offset, 3);
	/* exactly the default depth is fine */
	p = make_nest(BENCODE_DEFAULT_MAX_DEPTH, true, &len);
	bencode_doc_init(&doc, nodes, NODES);
	assert_int_equal(bencode_decode(&doc, p, len, NULL, NULL), 0);
	free(p);
}

#define DEEP 100000

struct deep_job {
	const char *in;
	size_t len;
	struct bencode_doc doc;
	int rc;
	uint32_t depth_seen;
};

static void *deep_decode(void *arg)
{
	struct deep_job *job = arg;
	struct bencode_limits lim = { .max_depth = DEEP };
	const struct bencode_node *n;

	job->rc = bencode_decode(&job->doc, job->in, job->len, &lim, NULL);
	for (n = bencode_root(&job->doc); n; n = bencode_first(&job->doc, n))
		job->depth_seen++;
	return NULL;
}

/* 100k deep decodes fine on a 128 KiB thread stack when allowed: no recursion. */
static void test_depth_no_stack(void **state)
{
	struct bencode_node *big = calloc(DEEP, sizeof(*big));
	struct deep_job job = { 0 };
	pthread_attr_t attr;
	pthread_t t;
	char *p;

	(void)state;
	assert_non_null(big);
	p = make_nest(DEEP, true, &job.len);
	job.in = p;
	bencode_doc_init(&job.doc, big, DEEP);
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
	assert_int_equal(pthread_create(&t, &attr, deep_decode, &job), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	assert_int_equal(job.rc, 0);
	assert_int_equal(job.doc.count, DEEP);
	assert_int_equal(job.depth_seen, DEEP);
	assert_int_equal(big[0].raw.len, 2 * DEEP);
	assert_int_equal(big[DEEP - 1].raw.len, 2);
	free(p);
	free(big);
}

static void test_node_cap(void **state)
{
	struct bencode_node small[4];
	struct bencode_doc doc;

	(void)state;
	bencode_doc_init(&doc, small, 3);
	assert_int_equal(bencode_decode(&doc, "li1ei2ei3ee", 11, NULL, NULL), -E2BIG);
	assert_non_null(doc.error);
	assert_int_equal(doc.error_offset, 7);
	assert_int_equal(doc.count, 0);
	bencode_doc_init(&doc, small, 4);
	assert_int_equal(bencode_decode(&doc, "li1ei2ei3ee", 11, NULL, NULL), 0);
	assert_int_equal(doc.count, 4);
	bencode_doc_init(&doc, small, 0);
	assert_int_equal(bencode_decode(&doc, "i1e", 3, NULL, NULL), -E2BIG);

	/* many tiny values: refused by count, not by size */
	{
		size_t n = 10000, len = 2 + 3 * n;
		char *p = malloc(len);

		assert_non_null(p);
		p[0] = 'l';
		for (size_t i = 0; i < n; i++)
			memcpy(p + 1 + 3 * i, "i0e", 3);
		p[len - 1] = 'e';
		assert_int_equal(expect_fail(p, len, -E2BIG), 1 + 3 * (NODES - 1));
		free(p);
	}
}

/* A doc reused after an error holds no stale state. */
static void test_doc_reuse(void **state)
{
	struct bencode_doc doc;

	(void)state;
	assert_int_equal(decode(&doc, "li1e", NULL), -ENODATA);
	assert_non_null(doc.error);
	assert_int_equal(bencode_decode(&doc, "li1ee", 5, NULL, NULL), 0);
	assert_null(doc.error);
	assert_int_equal(doc.error_offset, 0);
	assert_int_equal(doc.count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_valid),
		cmocka_unit_test(test_int_malformed),
		cmocka_unit_test(test_str_valid),
		cmocka_unit_test(test_str_malformed),
		cmocka_unit_test(test_str_too_long),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_structure_malformed),
		cmocka_unit_test(test_list_nesting),
		cmocka_unit_test(test_dict),
		cmocka_unit_test(test_ng_ping),
		cmocka_unit_test(test_ng_offer),
		cmocka_unit_test(test_ng_answer_reply),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_encoder_overflow),
		cmocka_unit_test(test_encoder_unbalanced),
		cmocka_unit_test(test_depth_bomb),
		cmocka_unit_test(test_depth_no_stack),
		cmocka_unit_test(test_node_cap),
		cmocka_unit_test(test_doc_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
