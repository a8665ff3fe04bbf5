/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "common/str.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An exact-size heap copy: ASan reports any read past the view. */
static struct strv heap_view(struct strv s)
{
	char *p = malloc(s.len ? s.len : 1);

	assert_non_null(p);
	if (s.len)
		memcpy(p, s.p, s.len);
	return strv_make(p, s.len);
}

static void heap_free(struct strv s)
{
	free((void *)(uintptr_t)s.p);
}

static void test_make(void **state)
{
	static const char text[] = "hello";
	struct strv s;

	(void)state;
	s = STRV("abc");
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.p, "abc", 3);
	s = STRV("");
	assert_int_equal(s.len, 0);
	assert_non_null(s.p);
	s = STRV("a\0b");
	assert_int_equal(s.len, 3);

	s = strv_make(text, 4);
	assert_ptr_equal(s.p, text);
	assert_int_equal(s.len, 4);

	s = strv_cstr(text);
	assert_ptr_equal(s.p, text);
	assert_int_equal(s.len, 5);
	s = strv_cstr(NULL);
	assert_null(s.p);
	assert_int_equal(s.len, 0);
	s = STRV_NULL;
	assert_null(s.p);
	assert_int_equal(s.len, 0);

	assert_true(strv_empty(STRV_NULL));
	assert_true(strv_empty(STRV("")));
	assert_true(strv_empty(strv_make(text, 0)));
	assert_false(strv_empty(STRV(" ")));
}

static void test_eq(void **state)
{
	static const char text[] = "INVITEx";

	(void)state;
	assert_true(strv_eq(STRV("INVITE"), strv_make(text, 6)));
	assert_false(strv_eq(STRV("INVITE"), strv_make(text, 7)));
	assert_false(strv_eq(STRV("INVITE"), STRV("invite")));
	assert_false(strv_eq(STRV("abc"), STRV("abd")));
	assert_true(strv_eq(STRV_NULL, STRV("")));
	assert_true(strv_eq(STRV_NULL, STRV_NULL));
	assert_false(strv_eq(STRV_NULL, STRV("a")));
	assert_true(strv_eq(STRV("a\0b"), STRV("a\0b")));
	assert_false(strv_eq(STRV("a\0b"), STRV("a\0c")));

	assert_true(strv_eq_cstr(STRV("BYE"), "BYE"));
	assert_false(strv_eq_cstr(STRV("BYE"), "BYEE"));
	assert_false(strv_eq_cstr(STRV("BYE"), "BY"));
	assert_true(strv_eq_cstr(STRV(""), ""));
	assert_true(strv_eq_cstr(STRV_NULL, NULL));
	assert_false(strv_eq_cstr(STRV("a"), NULL));
}

static void test_caseeq(void **state)
{
	static const struct {
		struct strv a, b;
		bool eq;
	} cases[] = {
		{ STRV("Via"), STRV("via"), true },
		{ STRV("CONTENT-LENGTH"), STRV("content-length"), true },
		{ STRV("Call-ID"), STRV("call-id"), true },
		{ STRV("azAZ09-.!%*_+`'~"), STRV("AZaz09-.!%*_+`'~"), true },
		{ STRV(""), STRV(""), true },
		{ STRV("via"), STRV("vias"), false },
		{ STRV("via"), STRV("vi"), false },
		{ STRV("via"), STRV("vib"), false },
		/* Only ASCII letters fold: '@' and '`', '[' and '{' differ by 0x20 too. */
		{ STRV("@"), STRV("`"), false },
		{ STRV("["), STRV("{"), false },
		{ STRV("]"), STRV("}"), false },
		{ STRV("^"), STRV("~"), false },
		{ STRV("_"), STRV("\x7f"), false },
		/* Bytes above 0x7f compare as they are. */
		{ STRV("\xc3\xa9"), STRV("\xc3\x89"), false },
		{ STRV("\xc9"), STRV("\xe9"), false },
		{ STRV("\xe9"), STRV("\xe9"), true },
		{ STRV("a\0b"), STRV("A\0B"), true },
		{ STRV("a\0b"), STRV("A\0C"), false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv a = heap_view(cases[i].a), b = heap_view(cases[i].b);

		if (strv_caseeq(a, b) != cases[i].eq || strv_caseeq(b, a) != cases[i].eq)
			fail_msg("case %zu: \"%.*s\" vs \"%.*s\"", i, (int)a.len, a.p, (int)b.len,
				 b.p);
		heap_free(a);
		heap_free(b);
	}
	assert_true(strv_caseeq(STRV_NULL, STRV("")));
	assert_false(strv_caseeq(STRV_NULL, STRV("a")));
}

static void test_trim(void **state)
{
	static const struct {
		struct strv in;
		struct strv out;
	} cases[] = {
		{ STRV(""), STRV("") },
		{ STRV(" "), STRV("") },
		{ STRV(" \t \t"), STRV("") },
		{ STRV("a"), STRV("a") },
		{ STRV(" a"), STRV("a") },
		{ STRV("a "), STRV("a") },
		{ STRV("\t a b \t"), STRV("a b") },
		{ STRV("a \t b"), STRV("a \t b") },
		/* Only space and tab: CR, LF, VT, FF and NUL stay. */
		{ STRV("a\r\n"), STRV("a\r\n") },
		{ STRV("\na"), STRV("\na") },
		{ STRV("\va\f"), STRV("\va\f") },
		{ STRV(" a\0"), STRV("a\0") },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv in = heap_view(cases[i].in);
		struct strv out = strv_trim(in);

		if (!strv_eq(out, cases[i].out))
			fail_msg("case %zu: got \"%.*s\"", i, (int)out.len, out.p);
		/* A sub-view of the input, never a copy. */
		assert_true(out.p >= in.p && out.p + out.len <= in.p + in.len);
		heap_free(in);
	}
	assert_true(strv_empty(strv_trim(STRV_NULL)));
}

static void test_to_u64(void **state)
{
	static const struct {
		struct strv in;
		uint64_t max;
		int err;
		uint64_t v;
	} cases[] = {
		{ STRV("0"), UINT64_MAX, 0, 0 },
		{ STRV("7"), UINT64_MAX, 0, 7 },
		{ STRV("5060"), 65535, 0, 5060 },
		{ STRV("65535"), 65535, 0, 65535 },
		{ STRV("0000000000000000000000000065535"), 65535, 0, 65535 },
		{ STRV("65536"), 65535, -ERANGE, 0 },
		{ STRV("100000"), 65535, -ERANGE, 0 },
		{ STRV("70000"), 65535, -ERANGE, 0 },
		{ STRV("65540"), 65535, -ERANGE, 0 },
		{ STRV("18446744073709551615"), UINT64_MAX, 0, UINT64_MAX },
		{ STRV("18446744073709551616"), UINT64_MAX, -ERANGE, 0 },
		{ STRV("18446744073709551620"), UINT64_MAX, -ERANGE, 0 },
		{ STRV("99999999999999999999"), UINT64_MAX, -ERANGE, 0 },
		{ STRV("99999999999999999999999999999999"), UINT64_MAX, -ERANGE, 0 },
		{ STRV("4294967295"), UINT32_MAX, 0, UINT32_MAX },
		{ STRV("4294967296"), UINT32_MAX, -ERANGE, 0 },
		{ STRV("0"), 0, 0, 0 },
		{ STRV("000"), 0, 0, 0 },
		{ STRV("1"), 0, -ERANGE, 0 },
		{ STRV("9"), 8, -ERANGE, 0 },
		{ STRV("8"), 8, 0, 8 },
		{ STRV("10"), 9, -ERANGE, 0 },
		{ STRV("19"), 19, 0, 19 },
		{ STRV("20"), 19, -ERANGE, 0 },
		/* not numbers */
		{ STRV(""), UINT64_MAX, -EINVAL, 0 },
		{ STRV(" "), UINT64_MAX, -EINVAL, 0 },
		{ STRV(" 1"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("1 "), UINT64_MAX, -EINVAL, 0 },
		{ STRV("-1"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("+1"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("1a"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("0x10"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("1.0"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("1e3"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("1\0"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("/"), UINT64_MAX, -EINVAL, 0 },
		{ STRV(":"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("\xb0"), UINT64_MAX, -EINVAL, 0 },
		/* Garbage wins over range: the text is not a number at all. */
		{ STRV("99999999999999999999x"), UINT64_MAX, -EINVAL, 0 },
		{ STRV("70000x"), 65535, -EINVAL, 0 },
		{ STRV("2x"), 1, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv in = heap_view(cases[i].in);
		uint64_t v = 0xdeadbeef;
		int err = strv_to_u64(in, cases[i].max, &v);

		if (err != cases[i].err)
			fail_msg("case %zu \"%.*s\": got %d, want %d", i, (int)in.len, in.p, err,
				 cases[i].err);
		if (err == 0)
			assert_true(v == cases[i].v);
		else
			assert_true(v == 0xdeadbeef); /* untouched on error */
		heap_free(in);
	}
	/* Only the view counts, not what follows it. */
	{
		static const char text[] = "12345";
		uint64_t v;

		assert_int_equal(strv_to_u64(strv_make(text, 2), UINT64_MAX, &v), 0);
		assert_true(v == 12);
		assert_int_equal(strv_to_u64(STRV_NULL, UINT64_MAX, &v), -EINVAL);
	}
}

static void test_copy(void **state)
{
	char buf[8];
	struct strv s;

	(void)state;
	s = heap_view(STRV("hello"));
	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(strv_copy(s, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "hello");
	assert_int_equal(buf[6], 'x'); /* nothing written past the terminator */

	/* Exact fit and truncation. */
	assert_string_equal(strv_copy(s, buf, 6), "hello");
	assert_string_equal(strv_copy(s, buf, 5), "hell");
	assert_string_equal(strv_copy(s, buf, 2), "h");
	assert_string_equal(strv_copy(s, buf, 1), "");

	/* size 0: nothing written. */
	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(strv_copy(s, buf, 0), buf);
	assert_int_equal(buf[0], 'x');
	heap_free(s);

	/* Empty and NULL views. */
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(strv_copy(STRV_NULL, buf, sizeof(buf)), "");
	assert_string_equal(strv_copy(STRV(""), buf, sizeof(buf)), "");

	/* A view that stops before the text's own end. */
	assert_string_equal(strv_copy(strv_make("abcdef", 3), buf, sizeof(buf)), "abc");

	/* Embedded NUL is copied as is. */
	strv_copy(STRV("a\0b"), buf, sizeof(buf));
	assert_memory_equal(buf, "a\0b", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make),   cmocka_unit_test(test_eq),
		cmocka_unit_test(test_caseeq), cmocka_unit_test(test_trim),
		cmocka_unit_test(test_to_u64), cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
