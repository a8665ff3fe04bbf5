/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/http_metrics.h"
#include "common/http_req.h"
#include "common/loop.h"
#include "common/metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the writer ---- */

static char *text_of(struct metrics_writer *w)
{
	static char buf[4096];

	assert_true(w->len < sizeof(buf));
	memcpy(buf, w->buf ? w->buf : "", w->len);
	buf[w->len] = '\0';
	return buf;
}

static void test_writer_format(void **state)
{
	const struct metrics_label in[] = { { "dir", "in" }, { "iface", "core" } };
	const struct metrics_label out[] = { { "dir", "out" }, { "iface", "core" } };
	struct metrics_writer w;

	(void)state;
	metrics_writer_init(&w, 0);
	assert_int_equal(
	    metrics_counter(&w, "rtpengine_packets_total", "Packets relayed.", in, 2, 7), 0);
	assert_int_equal(metrics_counter(&w, "rtpengine_packets_total", "Packets relayed.", out, 2,
					 18446744073709551615ull),
			 0);
	assert_int_equal(metrics_gauge(&w, "rtpengine_sessions", "Sessions now.", NULL, 0, 3), 0);
	assert_int_equal(metrics_gauge(&w, "load:ratio", NULL, NULL, 0, 0.25), 0);
	assert_string_equal(
	    text_of(&w),
	    "# HELP rtpengine_packets_total Packets relayed.\n"
	    "# TYPE rtpengine_packets_total counter\n"
	    "rtpengine_packets_total{dir=\"in\",iface=\"core\"} 7\n"
	    "rtpengine_packets_total{dir=\"out\",iface=\"core\"} 18446744073709551615\n"
	    "# HELP rtpengine_sessions Sessions now.\n"
	    "# TYPE rtpengine_sessions gauge\n"
	    "rtpengine_sessions 3\n"
	    "# TYPE load:ratio gauge\n"
	    "load:ratio 0.25\n");
	metrics_writer_reset(&w);
	assert_int_equal(w.len, 0);
}

static void test_writer_escaping(void **state)
{
	const struct metrics_label l[] = { { "ua", "a\\b\"c\nd" } };
	struct metrics_writer w;

	(void)state;
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_gauge(&w, "x", "back\\slash \"quoted\"\nnext", l, 1, 0.1), 0);
	assert_int_equal(metrics_gauge(&w, "y", NULL, NULL, 0, NAN), 0);
	assert_int_equal(metrics_gauge(&w, "z", NULL, NULL, 0, -INFINITY), 0);
	assert_int_equal(metrics_gauge(&w, "zz", NULL, NULL, 0, INFINITY), 0);
	assert_int_equal(metrics_gauge(&w, "big", NULL, NULL, 0, 1e300), 0);
	assert_string_equal(text_of(&w), "# HELP x back\\\\slash \"quoted\"\\nnext\n"
					 "# TYPE x gauge\n"
					 "x{ua=\"a\\\\b\\\"c\\nd\"} 0.1\n"
					 "# TYPE y gauge\ny NaN\n"
					 "# TYPE z gauge\nz -Inf\n"
					 "# TYPE zz gauge\nzz +Inf\n"
					 "# TYPE big gauge\nbig 1e+300\n");
	metrics_writer_reset(&w);
}

static void test_writer_refuses(void **state)
{
	const struct metrics_label reserved[] = { { "__name__", "x" } };
	const struct metrics_label colon[] = { { "a:b", "x" } };
	const struct metrics_label nullv[] = { { "a", NULL } };
	static const char *const bad_names[] = { "", "1abc", "a-b", "a b", "é" };
	struct metrics_writer w;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		metrics_writer_init(&w, 0);
		assert_int_equal(metrics_counter(&w, bad_names[i], NULL, NULL, 0, 1), -EINVAL);
		assert_int_equal(w.len, 0);
	}
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_counter(&w, NULL, NULL, NULL, 0, 1), -EINVAL);
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_counter(&w, "a", NULL, reserved, 1, 1), -EINVAL);
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_counter(&w, "a", NULL, colon, 1, 1), -EINVAL);
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_counter(&w, "a", NULL, nullv, 1, 1), -EINVAL);

	/* a family split by another one, a family changing type; the error sticks */
	metrics_writer_init(&w, 0);
	assert_int_equal(metrics_counter(&w, "a", NULL, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter(&w, "b", NULL, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter(&w, "a", NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter(&w, "c", NULL, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_writer_error(&w), -EINVAL);
	metrics_writer_reset(&w);
	assert_int_equal(metrics_counter(&w, "a", NULL, NULL, 0, 1), 0);
	assert_int_equal(metrics_gauge(&w, "a", NULL, NULL, 0, 1), -EINVAL);
	metrics_writer_reset(&w);

	/* the size limit */
	metrics_writer_init(&w, 40);
	assert_int_equal(metrics_counter(&w, "a", NULL, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter(&w, "b", NULL, NULL, 0, 1), -E2BIG);
	assert_true(w.len <= 40);
	metrics_writer_reset(&w);
}

/* ---- the request parser ---- */

static int parse_str(struct http_req *r, const char *s)
{
	return http_req_parse(r, s, strlen(s));
}

static void test_req_parse(void **state)
{
	static const char get[] = "GET /metrics?a=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nrest";
	static const char *const bad[] = {
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET metrics HTTP/1.1\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"G(T /metrics HTTP/1.1\r\n\r\n",
		"GET /met rics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHo st: x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
		"\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\n\n",
	};
	struct http_req r;

	(void)state;
	assert_int_equal(http_req_parse(&r, get, sizeof(get) - 1), (int)sizeof(get) - 1 - 4);
	assert_true(strv_eq_cstr(r.method, "GET"));
	assert_true(strv_eq_cstr(r.target, "/metrics?a=1"));
	assert_true(strv_eq_cstr(r.path, "/metrics"));
	assert_int_equal(r.minor, 1);
	assert_false(r.conn_close);
	assert_false(r.has_body);
	for (size_t n = 0; n < sizeof(get) - 5; n++)
		assert_int_equal(http_req_parse(&r, get, n), 0);

	assert_int_equal(parse_str(&r, "\r\nGET / HTTP/1.0\n\n"), 18);
	assert_true(r.conn_close);
	assert_true(parse_str(&r, "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n") > 0);
	assert_true(r.has_body);
	assert_true(parse_str(&r, "GET / HTTP/1.1\r\nconnection: keep-alive, Close\r\n\r\n") > 0);
	assert_true(r.conn_close);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (http_req_parse(&r, bad[i], strlen(bad[i])) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

/* ---- the server, over loopback ---- */

struct fixture {
	struct loop *l;
	struct http_metrics *hm;
	unsigned scrapes;
	bool fail_writer;
};

static void write_metrics(struct metrics_writer *w, void *arg)
{
	struct fixture *f = arg;
	const struct metrics_label l[] = { { "kind", "test" } };

	f->scrapes++;
	metrics_counter(w, "test_scrapes_total", "Scrapes so far.", l, 1, f->scrapes);
	metrics_gauge(w, "test_up", NULL, NULL, 0, 1);
	if (f->fail_writer)
		metrics_gauge(w, "bad name", NULL, NULL, 0, 1);
}

static int start(struct fixture *f, const struct http_metrics_opts *opts)
{
	struct sa addr;

	memset(f, 0, sizeof(*f));
	assert_int_equal(loop_alloc(&f->l), 0);
	assert_int_equal(sa_parse_cstr(&addr, "127.0.0.1", 0), 0);
	assert_int_equal(http_metrics_alloc(&f->hm, f->l, &addr, opts, write_metrics, f), 0);
	assert_true(sa_port(http_metrics_addr(f->hm)) != 0);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	start(f, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_metrics_free(f->hm);
	loop_free(f->l);
	free(f);
	return 0;
}

static void stop_loop(void *arg)
{
	loop_stop(arg);
}

/* Runs the loop for @p ms (the server side of every exchange). */
static void run_ms(struct fixture *f, unsigned ms)
{
	struct timer t;

	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, ms, stop_loop, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	timer_cancel(loop_timers(f->l), &t);
}

static int client(struct fixture *f)
{
	const struct sa *a = http_metrics_addr(f->hm);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &a->u.sa, a->len), 0);
	return fd;
}

static void say(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/*
 * Serves for up to 1 s until the client got @p nresp responses (or end of input; 50 ms when
 * none is expected), and
 * returns what it got, NUL-terminated; *eof tells whether the server closed.
 */
static char *hear(struct fixture *f, int fd, unsigned nresp, bool *eof)
{
	static char buf[16384];
	size_t len = 0;

	*eof = false;
	for (int round = 0; round < (nresp ? 100 : 5) && !*eof; round++) {
		ssize_t n;

		run_ms(f, 10);
		while ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT)) > 0)
			len += (size_t)n;
		if (n == 0 || (n < 0 && errno != EAGAIN))
			*eof = true;
		buf[len] = '\0';
		unsigned count = 0;
		for (const char *p = buf; (p = strstr(p, "HTTP/1.1 ")); p++)
			count++;
		if (count >= nresp && nresp && strstr(buf, "\r\n\r\n")) {
			const char *cl = strstr(buf, "Content-Length: ");
			const char *body = strstr(buf, "\r\n\r\n") + 4;

			/* a complete single response, or enough for a pipelined test */
			if (nresp > 1 ||
			    (cl && (size_t)(buf + len - body) >= strtoul(cl + 16, NULL, 10)))
				break;
		}
	}
	return buf;
}

static void test_get_metrics(void **state)
{
	struct fixture *f = *state;
	int fd = client(f);
	bool eof;
	char *r;

	say(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_false(eof);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4\r\n"));
	assert_non_null(strstr(r, "\r\n\r\n# HELP test_scrapes_total Scrapes so far.\n"
				  "# TYPE test_scrapes_total counter\n"
				  "test_scrapes_total{kind=\"test\"} 1\n"
				  "# TYPE test_up gauge\ntest_up 1\n"));
	assert_int_equal(strtoul(strstr(r, "Content-Length: ") + 16, NULL, 10),
			 strlen(strstr(r, "\r\n\r\n") + 4));

	/* keep-alive: the same connection serves again */
	say(fd, "GET /metrics?x HTTP/1.1\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_non_null(strstr(r, "test_scrapes_total{kind=\"test\"} 2\n"));
	assert_int_equal(http_metrics_conns(f->hm), 1);

	/* HEAD: the headers only */
	say(fd, "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_true(eof);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r, "Connection: close\r\n"));
	assert_null(strstr(r, "# HELP"));
	close(fd);
	assert_int_equal(http_metrics_conns(f->hm), 0);
}

struct status_case {
	const char *request;
	const char *status;
	bool closes;
};

static void test_statuses(void **state)
{
	static const struct status_case cases[] = {
		{ "GET /nope HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", false },
		{ "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", false },
		{ "DELETE /metrics HTTP/1.1\r\n\r\n",
		  "HTTP/1.1 405 Method Not Allowed\r\nAllow: "
		  "GET, HEAD\r\n",
		  false },
		{ "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
		  "HTTP/1.1 405 Method Not Allowed\r\n", true },
		{ "get /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405", false },
		{ "HELLO\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true },
		{ "GET /metrics HTTP/2.0\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", true },
		{ "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", true },
		{ "\x16\x03\x01\x02\xa5\x01\x01\x01\xa1\x03\x03\r\n\r\n", "HTTP/1.1 400", true },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd = client(f);
		bool eof;
		char *r;

		say(fd, cases[i].request);
		r = hear(f, fd, 1, &eof);
		if (strncmp(r, cases[i].status, strlen(cases[i].status)) != 0)
			fail_msg("%s: got %.60s", cases[i].request, r);
		if (eof != cases[i].closes)
			fail_msg("%s: closed %d", cases[i].request, eof);
		close(fd);
	}
}

static void test_pipelined_and_partial(void **state)
{
	struct fixture *f = *state;
	int fd = client(f);
	const char *second, *third;
	bool eof;
	char *r;

	/* three requests in one segment: answered in order */
	say(fd, "GET /metrics HTTP/1.1\r\n\r\nGET /other HTTP/1.1\r\n\r\n"
		"GET /metrics HTTP/1.1\r\n\r\n");
	r = hear(f, fd, 3, &eof);
	assert_false(eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 200 OK\r\n", 17), 0);
	second = strstr(r + 1, "HTTP/1.1 ");
	assert_non_null(second);
	assert_int_equal(strncmp(second, "HTTP/1.1 404", 12), 0);
	third = strstr(second + 1, "HTTP/1.1 ");
	assert_non_null(third);
	assert_int_equal(strncmp(third, "HTTP/1.1 200 OK\r\n", 17), 0);
	assert_non_null(strstr(third, "test_scrapes_total{kind=\"test\"} 2\n"));

	/* a request in pieces: nothing until it is complete */
	say(fd, "GET /met");
	r = hear(f, fd, 0, &eof);
	assert_string_equal(r, "");
	say(fd, "rics HTTP/1.1\r\nHo");
	r = hear(f, fd, 0, &eof);
	assert_string_equal(r, "");
	say(fd, "st: x\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_non_null(strstr(r, "test_scrapes_total{kind=\"test\"} 3\n"));

	/* the client half-closes after its request: still answered, then closed */
	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	shutdown(fd, SHUT_WR);
	r = hear(f, fd, 1, &eof);
	assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
	r = hear(f, fd, 1, &eof);
	assert_true(eof);
	close(fd);
}

static void test_too_large(void **state)
{
	struct fixture *f = *state;
	char big[HTTP_METRICS_MAX_REQUEST + 100];
	int fd = client(f);
	bool eof;
	char *r;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	say(fd, big);
	r = hear(f, fd, 1, &eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 431 ", 13), 0);
	assert_true(eof);
	close(fd);
}

static void test_writer_failure_is_500(void **state)
{
	struct fixture *f = *state;
	int fd = client(f);
	bool eof;
	char *r;

	f->fail_writer = true;
	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 500 ", 13), 0);
	assert_null(strstr(r, "test_up"));
	close(fd);
}

static void test_idle_and_limit(void **state)
{
	const struct http_metrics_opts opts = { .max_conns = 2, .idle_ms = 100 };
	struct fixture f;
	int a, b, c;
	bool eof;
	char *r;

	(void)state;
	start(&f, &opts);
	a = client(&f);
	b = client(&f);
	run_ms(&f, 10);
	assert_int_equal(http_metrics_conns(f.hm), 2);
	c = client(&f);
	r = hear(&f, c, 1, &eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 503 ", 13), 0);
	assert_true(eof);
	close(c);

	/* a trickling client is closed at the deadline all the same */
	for (int i = 0; i < 15; i++) {
		ssize_t n = send(b, "X", 1, MSG_NOSIGNAL); /* fails once the server closed */

		(void)n;
		run_ms(&f, 10);
	}
	r = hear(&f, a, 1, &eof);
	assert_true(eof);
	assert_string_equal(r, "");
	r = hear(&f, b, 1, &eof);
	assert_true(eof);
	assert_int_equal(http_metrics_conns(f.hm), 0);
	close(a);
	close(b);

	/* a slot is free again */
	a = client(&f);
	say(a, "GET /metrics HTTP/1.1\r\n\r\n");
	r = hear(&f, a, 1, &eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 200 OK", 15), 0);
	close(a);
	http_metrics_free(f.hm);
	loop_free(f.l);
}

/* Out of descriptors: the listener pauses instead of spinning, then serves the client. */
static void test_accept_emfile(void **state)
{
	struct fixture *f = *state;
	struct rlimit saved, low;
	int fd = client(f), lowest = dup(0);
	bool eof;
	char *r;

	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)lowest; /* accept would need a descriptor >= the limit */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	run_ms(f, 20);
	assert_int_equal(http_metrics_conns(f->hm), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

	say(fd, "GET /metrics HTTP/1.1\r\n\r\n");
	r = hear(f, fd, 1, &eof);
	assert_int_equal(strncmp(r, "HTTP/1.1 200 OK", 15), 0);
	close(fd);
}

static void test_alloc_errors(void **state)
{
	struct fixture *f = *state;
	struct http_metrics *hm = NULL;
	struct sa addr;

	sa_init(&addr);
	assert_int_equal(http_metrics_alloc(&hm, f->l, &addr, NULL, write_metrics, f), -EINVAL);
	/* the port is taken */
	assert_int_equal(
	    http_metrics_alloc(&hm, f->l, http_metrics_addr(f->hm), NULL, write_metrics, f),
	    -EADDRINUSE);
	http_metrics_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_format),
		cmocka_unit_test(test_writer_escaping),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_req_parse),
		cmocka_unit_test_setup_teardown(test_get_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_failure_is_500, setup, teardown),
		cmocka_unit_test(test_idle_and_limit),
		cmocka_unit_test_setup_teardown(test_accept_emfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
