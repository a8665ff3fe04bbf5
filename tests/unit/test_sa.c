/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/sa.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Parses @p text from an exact-size heap copy, so that ASan reports any read
 * past the view's length (there is no terminator to stop a runaway scan).
 */
static int parse_exact(struct sa *sa, struct strv text, uint16_t default_port)
{
	char *copy = malloc(text.len ? text.len : 1);
	int err;

	assert_non_null(copy);
	if (text.len)
		memcpy(copy, text.p, text.len);
	err = sa_parse(sa, strv_make(copy, text.len), default_port);
	free(copy);
	return err;
}

struct accept_case {
	struct strv in;
	uint16_t default_port;
	int family;
	const char *printed; /* sa_print */
	const char *addr;    /* sa_print_addr */
};

#define ACC(in, dport, fam, printed, addr)          \
	{                                           \
		STRV(in), dport, fam, printed, addr \
	}

static const struct accept_case accept_cases[] = {
	/* IPv4 */
	ACC("192.0.2.1", 5060, AF_INET, "192.0.2.1:5060", "192.0.2.1"),
	ACC("192.0.2.1:5061", 5060, AF_INET, "192.0.2.1:5061", "192.0.2.1"),
	ACC("192.0.2.1:0", 5060, AF_INET, "192.0.2.1:0", "192.0.2.1"),
	ACC("192.0.2.1", 0, AF_INET, "192.0.2.1:0", "192.0.2.1"),
	ACC("192.0.2.1:65535", 0, AF_INET, "192.0.2.1:65535", "192.0.2.1"),
	ACC("192.0.2.1:05060", 0, AF_INET, "192.0.2.1:5060", "192.0.2.1"),
	ACC("0.0.0.0", 5060, AF_INET, "0.0.0.0:5060", "0.0.0.0"),
	ACC("255.255.255.255:1", 0, AF_INET, "255.255.255.255:1", "255.255.255.255"),
	ACC("10.0.0.0", 1, AF_INET, "10.0.0.0:1", "10.0.0.0"),
	ACC("1.2.3.0", 1, AF_INET, "1.2.3.0:1", "1.2.3.0"),
	/* IPv6, bare: never a port */
	ACC("2001:db8::1", 5060, AF_INET6, "[2001:db8::1]:5060", "2001:db8::1"),
	ACC("::", 5060, AF_INET6, "[::]:5060", "::"),
	ACC("::1", 5060, AF_INET6, "[::1]:5060", "::1"),
	/* ::1:5060 is ::0.1.80.96, an IPv4-compatible address to inet_ntop */
	ACC("::1:5060", 7, AF_INET6, "[::0.1.80.96]:7", "::0.1.80.96"),
	ACC("2001:db8::1:5060", 7, AF_INET6, "[2001:db8::1:5060]:7", "2001:db8::1:5060"),
	ACC("2001:DB8::A", 1, AF_INET6, "[2001:db8::a]:1", "2001:db8::a"),
	ACC("2001:0db8:0000:0000:0000:0000:0000:0001", 1, AF_INET6, "[2001:db8::1]:1",
	    "2001:db8::1"),
	ACC("1:2:3:4:5:6:7:8", 1, AF_INET6, "[1:2:3:4:5:6:7:8]:1", "1:2:3:4:5:6:7:8"),
	ACC("1:2:3:4:5:6:1.2.3.4", 1, AF_INET6, "[1:2:3:4:5:6:102:304]:1", "1:2:3:4:5:6:102:304"),
	ACC("::ffff:192.0.2.1", 1, AF_INET6, "[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1"),
	/* longest IPv6 text inet_pton accepts: 45 characters */
	ACC("0000:0000:0000:0000:0000:ffff:255.255.255.255", 1, AF_INET6,
	    "[::ffff:255.255.255.255]:1", "::ffff:255.255.255.255"),
	/* IPv6, bracketed */
	ACC("[2001:db8::1]", 5060, AF_INET6, "[2001:db8::1]:5060", "2001:db8::1"),
	ACC("[2001:db8::1]:5061", 5060, AF_INET6, "[2001:db8::1]:5061", "2001:db8::1"),
	ACC("[::1]:0", 5060, AF_INET6, "[::1]:0", "::1"),
	ACC("[::]:65535", 5060, AF_INET6, "[::]:65535", "::"),
	ACC("[::ffff:192.0.2.1]:5060", 1, AF_INET6, "[::ffff:192.0.2.1]:5060", "::ffff:192.0.2.1"),
	ACC("[0000:0000:0000:0000:0000:ffff:255.255.255.255]:65535", 1, AF_INET6,
	    "[::ffff:255.255.255.255]:65535", "::ffff:255.255.255.255"),
	/* zones by number (names are tested apart: their index depends on the host) */
	ACC("[fe80::1%2]:5060", 1, AF_INET6, "[fe80::1%2]:5060", "fe80::1%2"),
	ACC("fe80::1%2", 5060, AF_INET6, "[fe80::1%2]:5060", "fe80::1%2"),
	ACC("[fe80::1%4294967295]:65535", 1, AF_INET6, "[fe80::1%4294967295]:65535",
	    "fe80::1%4294967295"),
	ACC("[fe80::1%0]", 5060, AF_INET6, "[fe80::1]:5060", "fe80::1"),
	ACC("[fe80::1%007]", 5060, AF_INET6, "[fe80::1%7]:5060", "fe80::1%7"),
	ACC("[2001:db8::1%3]:9", 1, AF_INET6, "[2001:db8::1%3]:9", "2001:db8::1%3"),
};

static const struct strv reject_cases[] = {
	/* empty and junk */
	STRV(""),
	STRV(" "),
	STRV(":"),
	STRV("["),
	STRV("]"),
	STRV("[]"),
	STRV("[]:5060"),
	STRV("localhost"),
	STRV("example.com:5060"),
	STRV("sip:192.0.2.1"),
	/* IPv4 per inet_pton */
	STRV("1.2.3"),
	STRV("1.2.3.4.5"),
	STRV("01.2.3.4"),
	STRV("1.2.3.04"),
	STRV("1.2.3.256"),
	STRV("256.1.1.1"),
	STRV("127.1"),
	STRV("0x7f.0.0.1"),
	STRV("1.2.3.4."),
	STRV(".1.2.3.4"),
	STRV("1..2.3"),
	STRV("1.2.3.4/24"),
	STRV("1.2.3.4x"),
	STRV("1.2.3.-4"),
	STRV("1234.1.1.1"),
	STRV("255.255.255.2555"),
	/* IPv4 ports */
	STRV("1.2.3.4:"),
	STRV("1.2.3.4:65536"),
	STRV("1.2.3.4:99999999999999999999999"),
	STRV("1.2.3.4:-1"),
	STRV("1.2.3.4:+1"),
	STRV("1.2.3.4:0x10"),
	STRV("1.2.3.4:50 60"),
	STRV("1.2.3.4:5060:"),
	STRV("1.2.3.4::5060"),
	STRV(":5060"),
	STRV("1.2.3.4:5060x"),
	/* blanks and control characters */
	STRV(" 1.2.3.4"),
	STRV("1.2.3.4 "),
	STRV("1.2.3.4\n"),
	STRV("1.2.3.4\r\n"),
	STRV("1.2.3.4 :5060"),
	STRV("1.2.3.4: 5060"),
	STRV("1.2.3.4:5060 "),
	STRV("\t::1"),
	STRV("[ ::1]"),
	STRV("[::1 ]"),
	STRV("[::1] :5060"),
	/* embedded NUL: libc would stop there, we must not */
	STRV("1.2.3.4\0"),
	STRV("1.2.3.4\0:5060"),
	STRV("1.2.3.4:5060\0"),
	STRV("[::1]\0:5060"),
	STRV("::1\0"),
	STRV("\0"),
	/* IPv4 in brackets */
	STRV("[1.2.3.4]"),
	STRV("[1.2.3.4]:5060"),
	/* IPv6 */
	STRV("::1::"),
	STRV("1::2::3"),
	STRV(":::"),
	STRV("1:2:3:4:5:6:7:8:9"),
	STRV("1:2:3:4:5:6:7"),
	STRV("12345::1"),
	STRV("g::1"),
	STRV("2001:db8::1:65536"),
	STRV("0000:0000:0000:0000:0000:0000:0000:00001"),
	STRV("00000:0000:0000:0000:0000:ffff:255.255.255.255"),
	STRV("::ffff:1.2.3"),
	STRV("::ffff:01.2.3.4"),
	/* brackets */
	STRV("[::1"),
	STRV("[::1:5060"),
	STRV("::1]"),
	STRV("::1]:5060"),
	STRV("[::1]]"),
	STRV("[[::1]]"),
	STRV("[[::1]"),
	STRV("[::1]x"),
	STRV("[::1]5060"),
	STRV("[::1]:"),
	STRV("[::1]:65536"),
	STRV("[::1]:5060:"),
	STRV("[::1]:5060]"),
	STRV("[::1]:[5060]"),
	STRV("[::1]:-1"),
	STRV("[2001:db8::1:5060]:"),
	STRV("2001:db8::1]:5060"),
	/* zones */
	STRV("fe80::1%"),
	STRV("[fe80::1%]"),
	STRV("[fe80::1%]:5060"),
	STRV("%lo"),
	STRV("%1"),
	STRV("[%lo]"),
	STRV("[%1]:5060"),
	STRV("fe80::1%4294967296"),
	STRV("fe80::1%99999999999999999999"),
	STRV("fe80::1%-1"),
	STRV("fe80::1%lo%lo"),
	STRV("fe80::1%1%1"),
	STRV("fe80::1%no-such-if0"),
	STRV("fe80::1%averyveryverylongifname"),
	STRV("fe80::1%l/o"),
	STRV("fe80::1%l o"),
	STRV("fe80::1%lo\n"),
	STRV("[fe80::1%lo:5060]"),
	STRV("[fe80::1%lo]:%"),
	STRV("[fe80::1%[lo]]"),
	STRV("1.2.3.4%1"),
	STRV("1.2.3.4%1:5060"),
	STRV("[1.2.3.4%1]"),
};

static void test_parse_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++) {
		const struct accept_case *c = &accept_cases[i];
		char buf[SA_STRLEN], addr[SA_STRLEN];
		struct sa sa;
		int err;

		memset(&sa, 0xa5, sizeof(sa));
		err = parse_exact(&sa, c->in, c->default_port);
		if (err)
			fail_msg("\"%.*s\": %d", (int)c->in.len, c->in.p, err);
		assert_int_equal(sa_family(&sa), c->family);
		assert_true(sa_isset(&sa));
		assert_int_equal(sa.len, c->family == AF_INET ? sizeof(struct sockaddr_in)
							      : sizeof(struct sockaddr_in6));
		sa_print(&sa, buf, sizeof(buf));
		sa_print_addr(&sa, addr, sizeof(addr));
		if (strcmp(buf, c->printed) || strcmp(addr, c->addr))
			fail_msg("\"%.*s\": printed \"%s\" / \"%s\", want \"%s\" / \"%s\"",
				 (int)c->in.len, c->in.p, buf, addr, c->printed, c->addr);
		/* Same result through the C-string entry point. */
		{
			char cstr[128];
			struct sa sa2;

			assert_true(c->in.len < sizeof(cstr));
			strv_copy(c->in, cstr, sizeof(cstr));
			assert_int_equal(sa_parse_cstr(&sa2, cstr, c->default_port), 0);
			assert_true(sa_equal(&sa, &sa2));
		}
	}
}

static void test_parse_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		struct strv in = reject_cases[i];
		struct sa sa, before;
		int err;

		memset(&sa, 0x5a, sizeof(sa));
		before = sa;
		err = parse_exact(&sa, in, 5060);
		if (err != -EINVAL) {
			char buf[SA_STRLEN];

			fail_msg("case %zu \"%.*s\": got %d, printed %s", i, (int)in.len, in.p, err,
				 err ? "-" : sa_print(&sa, buf, sizeof(buf)));
		}
		/* The output is untouched on error. */
		assert_memory_equal(&sa, &before, sizeof(sa));
	}
}

/* Only the view's bytes count, whatever follows them in memory. */
static void test_parse_view_bounds(void **state)
{
	static const char text[] = "192.0.2.1:50609[::1]:5060]";
	char buf[SA_STRLEN];
	struct sa sa;

	(void)state;
	assert_int_equal(sa_parse(&sa, strv_make(text, 9), 1), 0);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), "192.0.2.1:1");
	assert_int_equal(sa_parse(&sa, strv_make(text, 12), 1), 0);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), "192.0.2.1:50");
	assert_int_equal(sa_parse(&sa, strv_make(text, 10), 1), -EINVAL);
	assert_int_equal(sa_parse(&sa, strv_make(text + 15, 5), 1), 0);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), "[::1]:1");
	assert_int_equal(sa_parse(&sa, strv_make(text + 15, 10), 1), 0);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), "[::1]:5060");
	assert_int_equal(sa_parse(&sa, strv_make(text + 15, 4), 1), -EINVAL);
	assert_int_equal(sa_parse(&sa, strv_make(text + 16, 3), 1), 0);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), "[::1]:1");
	assert_int_equal(sa_parse(&sa, strv_make(NULL, 0), 1), -EINVAL);
	assert_int_equal(sa_parse(&sa, STRV_NULL, 1), -EINVAL);
	assert_int_equal(sa_parse_cstr(&sa, NULL, 1), -EINVAL);
}

static void test_parse_zone_name(void **state)
{
	unsigned lo = if_nametoindex("lo");
	char buf[SA_STRLEN], want[SA_STRLEN];
	struct sa sa, sa2;

	(void)state;
	if (lo == 0)
		skip();
	assert_int_equal(parse_exact(&sa, STRV("[fe80::1%lo]:5060"), 1), 0);
	assert_int_equal(sa.u.in6.sin6_scope_id, lo);
	snprintf(want, sizeof(want), "[fe80::1%%%u]:5060", lo);
	assert_string_equal(sa_print(&sa, buf, sizeof(buf)), want);
	assert_int_equal(parse_exact(&sa2, STRV("fe80::1%lo"), 5060), 0);
	assert_true(sa_equal(&sa, &sa2));
	/* The printed numeric zone parses back to the same address. */
	assert_int_equal(parse_exact(&sa2, strv_cstr(buf), 0), 0);
	assert_true(sa_equal(&sa, &sa2));
	/* A name and the same index are one address; another zone is another. */
	snprintf(want, sizeof(want), "fe80::1%%%u", lo);
	assert_int_equal(parse_exact(&sa2, strv_cstr(want), 5060), 0);
	assert_true(sa_equal(&sa, &sa2));
	snprintf(want, sizeof(want), "fe80::1%%%u", lo + 1);
	assert_int_equal(parse_exact(&sa2, strv_cstr(want), 5060), 0);
	assert_false(sa_equal_addr(&sa, &sa2));
}

/* print -> parse -> equal, for every accepted form, also through sa_print_addr. */
static void test_print_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++) {
		char buf[SA_STRLEN], buf2[SA_STRLEN];
		struct sa sa, back;

		assert_int_equal(parse_exact(&sa, accept_cases[i].in, accept_cases[i].default_port),
				 0);
		sa_print(&sa, buf, sizeof(buf));
		assert_int_equal(parse_exact(&back, strv_cstr(buf), 1), 0);
		assert_true(sa_equal(&sa, &back));
		assert_string_equal(sa_print(&back, buf2, sizeof(buf2)), buf);

		sa_print_addr(&sa, buf, sizeof(buf));
		assert_int_equal(parse_exact(&back, strv_cstr(buf), sa_port(&sa)), 0);
		assert_true(sa_equal(&sa, &back));
	}
}

static void test_print_truncation(void **state)
{
	char buf[SA_STRLEN];
	struct sa sa;

	(void)state;
	assert_int_equal(sa_parse_cstr(&sa, "[2001:db8::1]:5060", 0), 0);

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(sa_print(&sa, buf, 0), buf);
	assert_int_equal(buf[0], 'x');
	assert_string_equal(sa_print(&sa, buf, 1), "");
	assert_string_equal(sa_print(&sa, buf, 6), "[2001");
	assert_int_equal(buf[7], 'x');
	assert_string_equal(sa_print_addr(&sa, buf, 5), "2001");
	assert_ptr_equal(sa_print_addr(&sa, buf, 0), buf);

	/* The longest printable form fits in SA_STRLEN. */
	assert_int_equal(
	    sa_parse_cstr(&sa, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535", 0), 0);
	sa_print(&sa, buf, sizeof(buf));
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");
	assert_int_equal(sa_parse_cstr(&sa, "[::ffff:255.255.255.255%4294967295]:65535", 0), 0);
	sa_print(&sa, buf, sizeof(buf));
	assert_string_equal(buf, "[::ffff:255.255.255.255%4294967295]:65535");
}

static void test_unset(void **state)
{
	char buf[SA_STRLEN];
	struct sa a, b;

	(void)state;
	memset(&a, 0xff, sizeof(a));
	sa_init(&a);
	sa_init(&b);
	assert_false(sa_isset(&a));
	assert_int_equal(sa_family(&a), AF_UNSPEC);
	assert_int_equal(sa_port(&a), 0);
	sa_set_port(&a, 5060);
	assert_int_equal(sa_port(&a), 0);
	assert_false(sa_isset(&a));
	assert_string_equal(sa_print(&a, buf, sizeof(buf)), "(unset)");
	assert_string_equal(sa_print_addr(&a, buf, sizeof(buf)), "(unset)");
	assert_true(sa_equal(&a, &b));
	assert_true(sa_equal_addr(&a, &b));
	assert_false(sa_is_any(&a));
	assert_false(sa_is_loopback(&a));
	assert_false(sa_is_private(&a));

	assert_int_equal(sa_parse_cstr(&b, "0.0.0.0:0", 0), 0);
	assert_false(sa_equal(&a, &b));
	assert_false(sa_equal_addr(&b, &a));
}

static void test_port(void **state)
{
	struct sa sa;

	(void)state;
	assert_int_equal(sa_parse_cstr(&sa, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_port(&sa), 5060);
	assert_int_equal(sa.u.in.sin_port, htons(5060));
	sa_set_port(&sa, 65535);
	assert_int_equal(sa_port(&sa), 65535);
	assert_int_equal(sa_parse_cstr(&sa, "[::1]:5061", 0), 0);
	assert_int_equal(sa_port(&sa), 5061);
	assert_int_equal(sa.u.in6.sin6_port, htons(5061));
	sa_set_port(&sa, 0);
	assert_int_equal(sa_port(&sa), 0);
}

static void test_set_sockaddr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
	struct sa sa, want;

	(void)state;
	/* IPv4, with garbage in sin_zero: normalised away. */
	memset(&in, 0xee, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(5060);
	inet_pton(AF_INET, "192.0.2.1", &in.sin_addr);
	memset(&sa, 0x11, sizeof(sa));
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in, sizeof(in)), 0);
	assert_int_equal(sa_parse_cstr(&want, "192.0.2.1:5060", 0), 0);
	assert_true(sa_equal(&sa, &want));
	assert_int_equal(sa.len, sizeof(in));
	assert_memory_equal(&sa, &want, sizeof(sa));

	/* IPv6 with zone; a longer length (sockaddr_storage) is fine. */
	memset(&ss, 0, sizeof(ss));
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons(5061);
	in6.sin6_scope_id = 3;
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	memcpy(&ss, &in6, sizeof(in6));
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&ss, sizeof(ss)), 0);
	assert_int_equal(sa_parse_cstr(&want, "[fe80::1%3]:5061", 0), 0);
	assert_true(sa_equal(&sa, &want));
	assert_int_equal(sa.len, sizeof(in6));

	/* Refused, and sa untouched. */
	want = sa;
	assert_int_equal(sa_set_sockaddr(&sa, NULL, sizeof(in)), -EINVAL);
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in, 0), -EINVAL);
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in, 1), -EINVAL);
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in, sizeof(in) - 1), -EINVAL);
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in6, sizeof(in6) - 1), -EINVAL);
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in6, sizeof(in)), -EINVAL);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&un, sizeof(un)), -EINVAL);
	in.sin_family = AF_UNSPEC;
	assert_int_equal(sa_set_sockaddr(&sa, (struct sockaddr *)&in, sizeof(in)), -EINVAL);
	assert_memory_equal(&sa, &want, sizeof(sa));
}

static void test_equal(void **state)
{
	struct sa a, b;

	(void)state;
	/* Padding and other non-identity bytes do not count. */
	assert_int_equal(sa_parse_cstr(&a, "192.0.2.1:5060", 0), 0);
	b = a;
	memset(b.u.in.sin_zero, 0xff, sizeof(b.u.in.sin_zero));
	memset((char *)&b.u + sizeof(b.u.in), 0xff, sizeof(b.u) - sizeof(b.u.in));
	assert_true(sa_equal(&a, &b));
	assert_true(sa_equal_addr(&a, &b));

	assert_int_equal(sa_parse_cstr(&a, "[2001:db8::1]:5060", 0), 0);
	b = a;
	b.u.in6.sin6_flowinfo = htonl(0x12345);
	memset((char *)&b.u + sizeof(b.u.in6), 0xff, sizeof(b.u) - sizeof(b.u.in6));
	assert_true(sa_equal(&a, &b));

	/* Port differs: same address only. */
	assert_int_equal(sa_parse_cstr(&a, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "192.0.2.1:5061", 0), 0);
	assert_false(sa_equal(&a, &b));
	assert_true(sa_equal_addr(&a, &b));
	assert_int_equal(sa_parse_cstr(&a, "[::1]:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "[::1]:5061", 0), 0);
	assert_false(sa_equal(&a, &b));
	assert_true(sa_equal_addr(&a, &b));

	/* Address differs. */
	assert_int_equal(sa_parse_cstr(&a, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "192.0.2.2:5060", 0), 0);
	assert_false(sa_equal(&a, &b));
	assert_false(sa_equal_addr(&a, &b));
	assert_int_equal(sa_parse_cstr(&a, "2001:db8::1", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "2001:db8::1:0", 0), 0);
	assert_false(sa_equal_addr(&a, &b));

	/* Zone differs. */
	assert_int_equal(sa_parse_cstr(&a, "fe80::1%2", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "fe80::1%3", 0), 0);
	assert_false(sa_equal_addr(&a, &b));
	assert_int_equal(sa_parse_cstr(&b, "fe80::1", 0), 0);
	assert_false(sa_equal_addr(&a, &b));

	/* Family differs: IPv4 and its mapped form are distinct. */
	assert_int_equal(sa_parse_cstr(&a, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "[::ffff:192.0.2.1]:5060", 0), 0);
	assert_false(sa_equal(&a, &b));
	assert_false(sa_equal_addr(&a, &b));
	assert_int_equal(sa_parse_cstr(&a, "0.0.0.0:0", 0), 0);
	assert_int_equal(sa_parse_cstr(&b, "[::]:0", 0), 0);
	assert_false(sa_equal(&a, &b));
}

struct class_case {
	const char *addr;
	bool any, loopback, private_;
};

static const struct class_case class_cases[] = {
	{ "0.0.0.0", true, false, false },
	{ "::", true, false, false },
	{ "::ffff:0.0.0.0", false, false, false },
	/* loopback */
	{ "127.0.0.1", false, true, true },
	{ "127.0.0.0", false, true, true },
	{ "127.255.255.255", false, true, true },
	{ "126.255.255.255", false, false, false },
	{ "128.0.0.0", false, false, false },
	{ "::1", false, true, true },
	{ "::ffff:127.0.0.1", false, true, true },
	{ "::ffff:127.1.2.3", false, true, true },
	{ "::2", false, false, false },
	{ "::127.0.0.1", false, false, false }, /* IPv4-compatible, not mapped */
	/* RFC 1918 and edges */
	{ "10.0.0.0", false, false, true },
	{ "10.255.255.255", false, false, true },
	{ "9.255.255.255", false, false, false },
	{ "11.0.0.0", false, false, false },
	{ "172.16.0.0", false, false, true },
	{ "172.31.255.255", false, false, true },
	{ "172.15.255.255", false, false, false },
	{ "172.32.0.0", false, false, false },
	{ "192.168.0.0", false, false, true },
	{ "192.168.255.255", false, false, true },
	{ "192.167.255.255", false, false, false },
	{ "192.169.0.0", false, false, false },
	/* RFC 6598 */
	{ "100.64.0.0", false, false, true },
	{ "100.127.255.255", false, false, true },
	{ "100.63.255.255", false, false, false },
	{ "100.128.0.0", false, false, false },
	/* IPv4 link-local */
	{ "169.254.0.0", false, false, true },
	{ "169.254.255.255", false, false, true },
	{ "169.253.255.255", false, false, false },
	{ "169.255.0.0", false, false, false },
	/* public IPv4 */
	{ "192.0.2.1", false, false, false },
	{ "8.8.8.8", false, false, false },
	{ "255.255.255.255", false, false, false },
	/* IPv6 ULA fc00::/7 */
	{ "fc00::", false, false, true },
	{ "fd12:3456::1", false, false, true },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false, true },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false, false },
	{ "fe00::", false, false, false },
	/* IPv6 link-local fe80::/10 */
	{ "fe80::", false, false, true },
	{ "fe80::1%2", false, false, true },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false, true },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false, false },
	{ "fec0::1", false, false, false },
	/* public IPv6 */
	{ "2001:db8::1", false, false, false },
	{ "2600::1", false, false, false },
	{ "ff02::1", false, false, false },
	{ "64:ff9b::10.1.2.3", false, false, false },
	/* IPv4-mapped */
	{ "::ffff:10.1.2.3", false, false, true },
	{ "::ffff:172.16.0.1", false, false, true },
	{ "::ffff:192.168.1.1", false, false, true },
	{ "::ffff:100.64.0.1", false, false, true },
	{ "::ffff:169.254.0.1", false, false, true },
	{ "::ffff:8.8.8.8", false, false, false },
	{ "::ffff:172.32.0.1", false, false, false },
	{ "::10.1.2.3", false, false, false },
	{ "::fffe:10.1.2.3", false, false, false },
};

static void test_classify(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(class_cases); i++) {
		const struct class_case *c = &class_cases[i];
		struct sa sa;

		assert_int_equal(sa_parse_cstr(&sa, c->addr, 5060), 0);
		if (sa_is_any(&sa) != c->any || sa_is_loopback(&sa) != c->loopback ||
		    sa_is_private(&sa) != c->private_)
			fail_msg("%s: any %d loopback %d private %d, want %d %d %d", c->addr,
				 sa_is_any(&sa), sa_is_loopback(&sa), sa_is_private(&sa), c->any,
				 c->loopback, c->private_);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accept),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_parse_view_bounds),
		cmocka_unit_test(test_parse_zone_name),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_truncation),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_set_sockaddr),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_classify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
