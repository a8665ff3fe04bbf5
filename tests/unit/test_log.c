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
#include <unistd.h>

#include "common/log.h"
#include "common/sa.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* log_msg formats into a 2048-byte buffer: the longest line, newline included. */
#define LOG_LINE_MAX 2047

/* --- stderr capture: fd 2 goes to a temporary file between start and end --- */

static FILE *cap_file;
static int cap_saved_fd = -1;

static void capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	assert_non_null(cap_file);
	cap_saved_fd = dup(STDERR_FILENO);
	assert_true(cap_saved_fd >= 0);
	assert_true(dup2(fileno(cap_file), STDERR_FILENO) >= 0);
}

/* Restores fd 2 and returns what was written, NUL-terminated, in @p buf. */
static size_t capture_end(char *buf, size_t size)
{
	ssize_t n;

	fflush(stderr);
	assert_true(dup2(cap_saved_fd, STDERR_FILENO) >= 0);
	close(cap_saved_fd);
	cap_saved_fd = -1;
	n = pread(fileno(cap_file), buf, size - 1, 0);
	fclose(cap_file);
	cap_file = NULL;
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static int setup(void **state)
{
	(void)state;
	log_init("testlog", LOG_LVL_DEBUG, LOG_TO_STDERR);
	return 0;
}

/* --- levels --- */

static void test_level_parse(void **state)
{
	static const struct {
		const char *name;
		enum log_level level;
	} good[] = {
		{ "err", LOG_LVL_ERR },	  { "warn", LOG_LVL_WARN },   { "notice", LOG_LVL_NOTICE },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	static const char *const bad[] = {
		"",    "ERR", "Err",	"Info",	 "warning", "error",
		"dbg", "inf", "debug ", " info", "?",	    "0",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		enum log_level level = (enum log_level)99;

		assert_int_equal(log_level_parse(good[i].name, &level), 0);
		assert_int_equal(level, good[i].level);
		/* name and parse are inverse */
		assert_string_equal(log_level_name(good[i].level), good[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		enum log_level level = LOG_LVL_NOTICE;

		if (log_level_parse(bad[i], &level) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(level, LOG_LVL_NOTICE); /* untouched */
	}
}

static void test_level_name(void **state)
{
	(void)state;
	assert_string_equal(log_level_name(LOG_LVL_ERR), "err");
	assert_string_equal(log_level_name(LOG_LVL_WARN), "warn");
	assert_string_equal(log_level_name(LOG_LVL_NOTICE), "notice");
	assert_string_equal(log_level_name(LOG_LVL_INFO), "info");
	assert_string_equal(log_level_name(LOG_LVL_DEBUG), "debug");
	assert_string_equal(log_level_name((enum log_level)(LOG_LVL_DEBUG + 1)), "?");
	assert_string_equal(log_level_name((enum log_level) - 1), "?");
}

/* --- log_msg --- */

static void test_msg_one_line(void **state)
{
	char out[4096], want[64];
	size_t n;

	(void)state;
	capture_start();
	log_msg(LOG_LVL_WARN, "hello %d %s", 42, "world");
	n = capture_end(out, sizeof(out));

	/* "YYYY-MM-DDTHH:MM:SS.mmmZ testlog[pid] warn: hello 42 world\n" */
	assert_true(n > 25);
	assert_int_equal(count_char(out, '\n'), 1);
	assert_int_equal(out[n - 1], '\n');
	assert_true(out[4] == '-' && out[7] == '-' && out[10] == 'T' && out[13] == ':' &&
		    out[16] == ':' && out[19] == '.' && out[23] == 'Z' && out[24] == ' ');
	snprintf(want, sizeof(want), "testlog[%d] warn: hello 42 world\n", (int)getpid());
	assert_string_equal(out + 25, want);
}

static void test_msg_each_level(void **state)
{
	static const char *const names[] = { "err", "warn", "notice", "info", "debug" };
	char out[4096], want[32];

	(void)state;
	capture_start();
	log_err("m%d", 0);
	log_warn("m%d", 1);
	log_notice("m%d", 2);
	log_info("m%d", 3);
	log_debug("m%d", 4);
	capture_end(out, sizeof(out));

	assert_int_equal(count_char(out, '\n'), 5);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(want, sizeof(want), "] %s: m%zu\n", names[i], i);
		if (!strstr(out, want))
			fail_msg("no \"%s\" in:\n%s", want, out);
	}
}

static int calls;

static int count_call(void)
{
	return ++calls;
}

/* A disabled level must not evaluate, let alone format, its arguments. */
static void test_threshold_skips_formatting(void **state)
{
	struct log_ratelimit rl;
	char out[4096];
	uint32_t supp;
	struct sa src;

	(void)state;
	log_init("testlog", LOG_LVL_WARN, LOG_TO_STDERR);
	assert_int_equal(log_threshold, LOG_LVL_WARN);
	calls = 0;
	capture_start();
	log_debug("%d", count_call());
	log_info("%d", count_call());
	log_notice("%d", count_call());
	assert_int_equal(calls, 0);
	assert_int_equal(capture_end(out, sizeof(out)), 0);

	capture_start();
	log_warn("w%d", count_call());
	log_err("e%d", count_call());
	capture_end(out, sizeof(out));
	assert_int_equal(calls, 2);
	assert_int_equal(count_char(out, '\n'), 2);
	assert_non_null(strstr(out, " warn: w1\n"));
	assert_non_null(strstr(out, " err: e2\n"));

	/* Rate-limited too: the limiter is not even consulted below the threshold. */
	log_ratelimit_init(&rl, 1000);
	assert_int_equal(sa_parse_cstr(&src, "192.0.2.1:5060", 0), 0);
	calls = 0;
	capture_start();
	log_ratelimited(&rl, &src.u.sa, 1000, LOG_LVL_DEBUG, "%d", count_call());
	assert_int_equal(capture_end(out, sizeof(out)), 0);
	assert_int_equal(calls, 0);
	assert_true(log_ratelimit_allow(&rl, &src.u.sa, 1000, &supp)); /* still the first */
	assert_int_equal(supp, 0);
}

static void test_truncation(void **state)
{
	char out[8192], msg[5000];
	size_t n, prefix;

	(void)state;
	/* The prefix length, constant within this process. */
	capture_start();
	log_msg(LOG_LVL_INFO, "x");
	n = capture_end(out, sizeof(out));
	prefix = n - 2;

	/* Far too long: cut, but still one line ending in a newline. */
	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	capture_start();
	log_msg(LOG_LVL_INFO, "%s", msg);
	n = capture_end(out, sizeof(out));
	assert_int_equal(n, LOG_LINE_MAX);
	assert_int_equal(out[n - 1], '\n');
	assert_int_equal(count_char(out, '\n'), 1);
	assert_int_equal(strspn(out + prefix, "a"), LOG_LINE_MAX - 1 - prefix);

	/* Longest message that fits whole. */
	msg[LOG_LINE_MAX - 1 - prefix] = '\0';
	capture_start();
	log_msg(LOG_LVL_INFO, "%s", msg);
	n = capture_end(out, sizeof(out));
	assert_int_equal(n, LOG_LINE_MAX);
	assert_string_equal(out + prefix + strlen(msg), "\n");
	assert_memory_equal(out + prefix, msg, strlen(msg));

	/* One more character: the last one is dropped, the newline stays. */
	msg[LOG_LINE_MAX - 1 - prefix] = 'b';
	msg[LOG_LINE_MAX - prefix] = '\0';
	capture_start();
	log_msg(LOG_LVL_INFO, "%s", msg);
	n = capture_end(out, sizeof(out));
	assert_int_equal(n, LOG_LINE_MAX);
	assert_int_equal(out[n - 1], '\n');
	assert_null(strchr(out, 'b'));
}

static void test_syslog_target(void **state)
{
	char out[4096];

	(void)state;
	log_init("testlog", LOG_LVL_INFO, LOG_TO_SYSLOG);
	capture_start();
	log_info("to syslog");
	assert_int_equal(capture_end(out, sizeof(out)), 0);
	log_close();
	capture_start();
	log_info("to stderr");
	capture_end(out, sizeof(out));
	assert_non_null(strstr(out, " info: to stderr\n"));
}

/* --- log_ratelimit --- */

static const struct sockaddr *src_of(struct sa *sa, const char *text)
{
	assert_int_equal(sa_parse_cstr(sa, text, 5060), 0);
	return &sa->u.sa;
}

static void test_ratelimit_one_source(void **state)
{
	struct log_ratelimit rl;
	uint32_t supp = 99;
	struct sa sa;
	const struct sockaddr *src = src_of(&sa, "192.0.2.1:5060");

	(void)state;
	log_ratelimit_init(&rl, 1000);
	/* First message: allowed, nothing suppressed. */
	assert_true(log_ratelimit_allow(&rl, src, 10000, &supp));
	assert_int_equal(supp, 0);
	/* Within the interval: refused and counted. */
	assert_false(log_ratelimit_allow(&rl, src, 10000, &supp));
	assert_false(log_ratelimit_allow(&rl, src, 10500, &supp));
	assert_false(log_ratelimit_allow(&rl, src, 10999, &supp));
	/* Interval over: allowed, with the count. */
	assert_true(log_ratelimit_allow(&rl, src, 11000, &supp));
	assert_int_equal(supp, 3);
	/* The count restarts, and so does the interval. */
	assert_false(log_ratelimit_allow(&rl, src, 11001, &supp));
	assert_true(log_ratelimit_allow(&rl, src, 12000, &supp));
	assert_int_equal(supp, 1);
	/* Long quiet: allowed, nothing suppressed. */
	assert_true(log_ratelimit_allow(&rl, src, 99000, &supp));
	assert_int_equal(supp, 0);
}

static void test_ratelimit_sources(void **state)
{
	struct log_ratelimit rl;
	struct sa a, a_port, b, c6, c6_port, d6, mapped;
	uint32_t supp;

	(void)state;
	src_of(&a, "192.0.2.1:5060");
	src_of(&a_port, "192.0.2.1:40000");
	src_of(&b, "192.0.2.2:5060");
	src_of(&c6, "[2001:db8::1]:5060");
	src_of(&c6_port, "[2001:db8::1]:5062");
	src_of(&d6, "[2001:db8::2]:5060");
	src_of(&mapped, "[::ffff:192.0.2.9]:5060");

	log_ratelimit_init(&rl, 1000);
	assert_true(log_ratelimit_allow(&rl, &a.u.sa, 0, &supp));
	/* Same address, another port: the same source. */
	assert_false(log_ratelimit_allow(&rl, &a_port.u.sa, 1, &supp));
	/* Another address: independent. */
	assert_true(log_ratelimit_allow(&rl, &b.u.sa, 2, &supp));
	assert_false(log_ratelimit_allow(&rl, &b.u.sa, 3, &supp));
	/* IPv6 likewise. */
	assert_true(log_ratelimit_allow(&rl, &c6.u.sa, 4, &supp));
	assert_false(log_ratelimit_allow(&rl, &c6_port.u.sa, 5, &supp));
	assert_false(log_ratelimit_allow(&rl, &c6.u.sa, 6, &supp));
	assert_true(log_ratelimit_allow(&rl, &d6.u.sa, 7, &supp));
	assert_true(log_ratelimit_allow(&rl, &mapped.u.sa, 8, &supp));
	assert_false(log_ratelimit_allow(&rl, &mapped.u.sa, 9, &supp));

	/* Each source's count is its own. */
	assert_true(log_ratelimit_allow(&rl, &a.u.sa, 1000, &supp));
	assert_int_equal(supp, 1);
	assert_true(log_ratelimit_allow(&rl, &b.u.sa, 1002, &supp));
	assert_int_equal(supp, 1);
	assert_true(log_ratelimit_allow(&rl, &c6_port.u.sa, 1004, &supp));
	assert_int_equal(supp, 2);
	assert_true(log_ratelimit_allow(&rl, &d6.u.sa, 1007, &supp));
	assert_int_equal(supp, 0);
}

/* Many sources at once: each still gets its first line, whatever the collisions. */
static void test_ratelimit_many_sources(void **state)
{
	struct log_ratelimit rl;
	uint32_t supp;

	(void)state;
	log_ratelimit_init(&rl, 1000);
	for (unsigned i = 0; i < 4 * LOG_RATELIMIT_SLOTS; i++) {
		char text[32];
		struct sa sa;

		snprintf(text, sizeof(text), "10.%u.%u.1", i >> 8, i & 0xff);
		assert_true(log_ratelimit_allow(&rl, src_of(&sa, text), 5, &supp));
		assert_int_equal(supp, 0);
	}
}

static void test_ratelimit_zero_interval(void **state)
{
	struct log_ratelimit rl;
	uint32_t supp;
	struct sa sa;
	const struct sockaddr *src = src_of(&sa, "192.0.2.1");

	(void)state;
	log_ratelimit_init(&rl, 0);
	for (int i = 0; i < 3; i++) {
		assert_true(log_ratelimit_allow(&rl, src, 5, &supp));
		assert_int_equal(supp, 0);
	}
}

static void test_ratelimited_macro(void **state)
{
	struct log_ratelimit rl;
	char out[4096];
	struct sa sa;
	const struct sockaddr *src = src_of(&sa, "192.0.2.1:5060");

	(void)state;
	log_ratelimit_init(&rl, 1000);
	calls = 0;
	capture_start();
	log_ratelimited(&rl, src, 0, LOG_LVL_WARN, "bad packet %d", count_call());
	log_ratelimited(&rl, src, 10, LOG_LVL_WARN, "bad packet %d", count_call());
	log_ratelimited(&rl, src, 20, LOG_LVL_WARN, "bad packet %d", count_call());
	log_ratelimited(&rl, src, 1000, LOG_LVL_WARN, "bad packet %d", count_call());
	log_ratelimited(&rl, src, 2000, LOG_LVL_WARN, "no arguments");
	capture_end(out, sizeof(out));

	/* Refused lines are not formatted either. */
	assert_int_equal(calls, 2);
	assert_int_equal(count_char(out, '\n'), 3);
	assert_non_null(strstr(out, " warn: bad packet 1\n"));
	assert_non_null(strstr(out, " warn: bad packet 2 (2 similar suppressed)\n"));
	assert_non_null(strstr(out, " warn: no arguments\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_level_parse, setup),
		cmocka_unit_test_setup(test_level_name, setup),
		cmocka_unit_test_setup(test_msg_one_line, setup),
		cmocka_unit_test_setup(test_msg_each_level, setup),
		cmocka_unit_test_setup(test_threshold_skips_formatting, setup),
		cmocka_unit_test_setup(test_truncation, setup),
		cmocka_unit_test_setup(test_syslog_target, setup),
		cmocka_unit_test_setup(test_ratelimit_one_source, setup),
		cmocka_unit_test_setup(test_ratelimit_sources, setup),
		cmocka_unit_test_setup(test_ratelimit_many_sources, setup),
		cmocka_unit_test_setup(test_ratelimit_zero_interval, setup),
		cmocka_unit_test_setup(test_ratelimited_macro, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
