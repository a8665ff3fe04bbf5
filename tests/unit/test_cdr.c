/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "sbc/cdr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a small strict JSON reader for one CDR line ---- */

struct jr {
	const unsigned char *p, *end;
};

static size_t utf8_valid(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_utf8(char **o, uint32_t cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xc0 | cp >> 6);
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	} else {
		*u++ = (unsigned char)(0xe0 | cp >> 12);
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		*u++ = (unsigned char)(0x80 | (cp & 0x3f));
	}
	*o = (char *)u;
}

/* A JSON string into @p out (decoded; may be NULL). @return false when malformed. */
static bool jr_string(struct jr *r, char *out, size_t *outlen)
{
	char *o = out;

	if (r->p >= r->end || *r->p++ != '"')
		return false;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = *r->p;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			unsigned v = 0;

			if (r->end - r->p < 2)
				return false;
			c = r->p[1];
			r->p += 2;
			if (c == 'u') {
				if (r->end - r->p < 4)
					return false;
				for (int i = 0; i < 4; i++) {
					unsigned char h = r->p[i];

					v <<= 4;
					if (h >= '0' && h <= '9')
						v |= h - '0';
					else if (h >= 'a' && h <= 'f')
						v |= h - 'a' + 10;
					else if (h >= 'A' && h <= 'F')
						v |= h - 'A' + 10;
					else
						return false;
				}
				r->p += 4;
				if (v >= 0xd800 && v <= 0xdfff) /* we never need surrogate pairs */
					return false;
				if (o)
					put_utf8(&o, v);
				continue;
			}
			if (!strchr("\"\\/bfnrt", c))
				return false;
			if (o) {
				static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";

				*o++ = to[strchr(from, c) - from];
			}
			continue;
		}
		size_t n = utf8_valid(r->p, (size_t)(r->end - r->p));

		if (!n)
			return false;
		if (o) {
			memcpy(o, r->p, n);
			o += n;
		}
		r->p += n;
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	if (outlen)
		*outlen = o ? (size_t)(o - out) : 0;
	if (o)
		*o = '\0';
	return true;
}

static bool jr_lit(struct jr *r, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n))
		return false;
	r->p += n;
	return true;
}

static bool jr_number(struct jr *r)
{
	const unsigned char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return false;
	if (*r->p == '0' && r->end - r->p > 1 && r->p[1] >= '0' && r->p[1] <= '9')
		return false;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return false;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	return r->p > s;
}

/*
 * Validates a whole line: one flat object of string/number/null values, then '\n' and
 * nothing else. If @p key is given, copies its value (decoded string, or the raw number or
 * "null") into @p val. @return false if the line is not valid.
 */
static bool json_line(const char *line, size_t len, const char *key, char *val, size_t *vallen)
{
	struct jr r = { (const unsigned char *)line, (const unsigned char *)line + len };
	char name[CDR_LINE_MAX];
	size_t nlen;
	bool first = true;

	if (!jr_lit(&r, "{"))
		return false;
	while (!jr_lit(&r, "}")) {
		const unsigned char *vs;
		bool want;

		if (!first && !jr_lit(&r, ","))
			return false;
		first = false;
		if (!jr_string(&r, name, &nlen))
			return false;
		if (!jr_lit(&r, ":"))
			return false;
		want = key && strcmp(name, key) == 0;
		vs = r.p;
		if (r.p < r.end && *r.p == '"') {
			if (!jr_string(&r, want ? val : NULL, want ? vallen : NULL))
				return false;
		} else if (jr_lit(&r, "null") || jr_number(&r)) {
			if (want) {
				memcpy(val, vs, (size_t)(r.p - vs));
				val[r.p - vs] = '\0';
				if (vallen)
					*vallen = (size_t)(r.p - vs);
			}
		} else {
			return false;
		}
	}
	return jr_lit(&r, "\n") && r.p == r.end;
}

/* ---- formatting ---- */

static struct cdr sample(void)
{
	struct cdr c = {
		.a_call_id = STRV("a84b4c76e66710@pc33.atlanta.com"),
		.b_call_id = STRV("sbc-0-1f2e3d"),
		.caller = STRV("sip:alice@atlanta.com"),
		.caller_name = STRV("Alice"),
		.callee = STRV("sip:+4930123456@sbc.example;user=phone"),
		.trunk = STRV("de-1"),
		/* 2024-05-01T12:00:00.007Z */
		.start_ms = 1714564800007ull,
		.ringing_ms = 1714564801250ull,
		.answer_ms = 1714564805000ull,
		.end_ms = 1714564866250ull,
		.disposition = CDR_ANSWERED,
		.status = 200,
		.hangup_by = CDR_PARTY_CALLER,
		.hangup_reason = STRV("bye"),
	};

	assert_int_equal(sa_parse_cstr(&c.a_src, "192.0.2.10:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&c.b_src, "[2001:db8::7]:5062", 0), 0);
	return c;
}

static void test_format(void **state)
{
	static const char want[] =
	    "{\"a_call_id\":\"a84b4c76e66710@pc33.atlanta.com\",\"b_call_id\":\"sbc-0-1f2e3d\","
	    "\"caller\":\"sip:alice@atlanta.com\",\"caller_name\":\"Alice\","
	    "\"callee\":\"sip:+4930123456@sbc.example;user=phone\",\"trunk\":\"de-1\","
	    "\"a_src\":\"192.0.2.10:5060\",\"b_src\":\"[2001:db8::7]:5062\","
	    "\"start\":\"2024-05-01T12:00:00.007Z\",\"ringing\":\"2024-05-01T12:00:01.250Z\","
	    "\"answer\":\"2024-05-01T12:00:05.000Z\",\"end\":\"2024-05-01T12:01:06.250Z\","
	    "\"duration\":61.250,\"disposition\":\"answered\",\"status\":200,"
	    "\"hangup_by\":\"caller\",\"hangup_reason\":\"bye\"}\n";
	struct cdr c = sample();
	char buf[CDR_LINE_MAX + 1];
	int n;

	(void)state;
	n = cdr_format(&c, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
	assert_true(json_line(buf, (size_t)n, NULL, NULL, NULL));

	/* exactly enough room, and one byte less */
	assert_int_equal(cdr_format(&c, buf, strlen(want) + 1), n);
	assert_int_equal(cdr_format(&c, buf, strlen(want)), -ENOSPC);
	assert_string_equal(buf, "");
	assert_int_equal(cdr_format(&c, buf, 0), -ENOSPC);

	/* an unanswered call: nulls, zero duration */
	memset(&c, 0, sizeof(c));
	c.start_ms = 1714564800000ull;
	c.end_ms = 1714564830999ull;
	c.disposition = CDR_BUSY;
	c.status = 486;
	c.a_call_id = STRV("x");
	c.caller_name = STRV("");
	n = cdr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "{\"a_call_id\":\"x\",\"b_call_id\":null,\"caller\":null,"
				 "\"caller_name\":\"\",\"callee\":null,\"trunk\":null,"
				 "\"a_src\":null,\"b_src\":null,"
				 "\"start\":\"2024-05-01T12:00:00.000Z\",\"ringing\":null,"
				 "\"answer\":null,\"end\":\"2024-05-01T12:00:30.999Z\","
				 "\"duration\":0.000,\"disposition\":\"busy\",\"status\":486,"
				 "\"hangup_by\":null,\"hangup_reason\":null}\n");
	assert_true(json_line(buf, (size_t)n, NULL, NULL, NULL));

	/* an end before the answer (wall clock stepped back) does not go negative */
	c = sample();
	c.end_ms = c.answer_ms - 1;
	cdr_format(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"duration\":0.000,"));
	c.end_ms = c.answer_ms + 3600001;
	cdr_format(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"duration\":3600.001,"));
	c.status = 0;
	c.hangup_by = CDR_PARTY_SBC;
	c.hangup_reason = STRV("media-timeout");
	cdr_format(&c, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"status\":null,\"hangup_by\":\"sbc\","
				    "\"hangup_reason\":\"media-timeout\"}"));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cdr_disposition_name(CDR_ANSWERED), "answered");
	assert_string_equal(cdr_disposition_name(CDR_BUSY), "busy");
	assert_string_equal(cdr_disposition_name(CDR_NO_ANSWER), "no-answer");
	assert_string_equal(cdr_disposition_name(CDR_CANCELLED), "cancelled");
	assert_string_equal(cdr_disposition_name(CDR_FAILED), "failed");
	assert_null(cdr_party_name(CDR_PARTY_NONE));
	assert_string_equal(cdr_party_name(CDR_PARTY_CALLER), "caller");
	assert_string_equal(cdr_party_name(CDR_PARTY_CALLEE), "callee");
	assert_string_equal(cdr_party_name(CDR_PARTY_SBC), "sbc");

	assert_int_equal(cdr_disposition_from_status(200, false), CDR_ANSWERED);
	assert_int_equal(cdr_disposition_from_status(202, false), CDR_ANSWERED);
	assert_int_equal(cdr_disposition_from_status(486, false), CDR_BUSY);
	assert_int_equal(cdr_disposition_from_status(600, false), CDR_BUSY);
	assert_int_equal(cdr_disposition_from_status(480, false), CDR_NO_ANSWER);
	assert_int_equal(cdr_disposition_from_status(408, false), CDR_NO_ANSWER);
	assert_int_equal(cdr_disposition_from_status(487, false), CDR_CANCELLED);
	assert_int_equal(cdr_disposition_from_status(486, true), CDR_CANCELLED);
	assert_int_equal(cdr_disposition_from_status(200, true), CDR_ANSWERED);
	assert_int_equal(cdr_disposition_from_status(404, false), CDR_FAILED);
	assert_int_equal(cdr_disposition_from_status(503, false), CDR_FAILED);
	assert_int_equal(cdr_disposition_from_status(0, false), CDR_FAILED);
}

/* The caller field of a CDR whose caller is @p in, as written and as decoded. */
static void caller_field(struct strv in, const char *want_raw, const char *want_decoded)
{
	char buf[CDR_LINE_MAX + 1], val[CDR_LINE_MAX];
	struct cdr c = sample();
	const char *s, *e;
	size_t vlen;
	int n;

	c.caller = in;
	n = cdr_format(&c, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(json_line(buf, (size_t)n, "caller", val, &vlen));
	s = strstr(buf, "\"caller\":\"") + 10;
	e = strstr(s, "\",\"caller_name\":");
	assert_non_null(e);
	if (want_raw) {
		if ((size_t)(e - s) != strlen(want_raw) || memcmp(s, want_raw, strlen(want_raw)))
			fail_msg("escaped as '%.*s', want '%s'", (int)(e - s), s, want_raw);
	}
	if (want_decoded)
		assert_string_equal(val, want_decoded);
}

static void test_escaping(void **state)
{
	(void)state;
	caller_field(STRV("\"Bob\" <sip:bob@x>"), "\\\"Bob\\\" <sip:bob@x>", "\"Bob\" <sip:bob@x>");
	caller_field(STRV("a\\b"), "a\\\\b", "a\\b");
	caller_field(STRV("a\r\nX-Injected: 1"), "a\\u000d\\u000aX-Injected: 1",
		     "a\r\nX-Injected: 1");
	caller_field(STRV("\t\x01\x1f\x7f/"), "\\u0009\\u0001\\u001f\\u007f/", "\t\x01\x1f\x7f/");
	caller_field(STRV("nul\0byte"), "nul\\u0000byte", NULL);
	caller_field(STRV("\",\"status\":999,\"x\":\""), "\\\",\\\"status\\\":999,\\\"x\\\":\\\"",
		     "\",\"status\":999,\"x\":\"");
	/* valid UTF-8 passes as is */
	caller_field(STRV("J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80"),
		     "J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80",
		     "J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80");
	/* line and paragraph separators are escaped (JavaScript-safe) */
	caller_field(STRV("a\xe2\x80\xa8"
			  "b\xe2\x80\xa9"),
		     "a\\u2028b\\u2029", NULL);
	/* every invalid byte becomes U+FFFD */
	caller_field(STRV("\xff"), "\\ufffd", "\xef\xbf\xbd");
	caller_field(STRV("\xc0\xaf"), "\\ufffd\\ufffd", NULL);		   /* overlong '/' */
	caller_field(STRV("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd", NULL); /* overlong */
	caller_field(STRV("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd", NULL); /* surrogate */
	caller_field(STRV("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd", NULL); /* > 10FFFF */
	caller_field(STRV("\xe2\x82"), "\\ufffd\\ufffd", NULL); /* truncated */
	caller_field(STRV("\xe2\x82x"), "\\ufffd\\ufffdx", NULL);
	caller_field(STRV("\x80\xbf"), "\\ufffd\\ufffd", NULL); /* lone continuations */
	caller_field(STRV("\xf8\x88\x80\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd", NULL);
	caller_field(STRV(""), "", "");

	/* all 256 byte values, and random bytes: always a valid line */
	{
		char bytes[256], buf[CDR_LINE_MAX + 1];
		struct cdr c = sample();
		uint64_t s = 99;

		for (int i = 0; i < 256; i++)
			bytes[i] = (char)i;
		c.caller_name = strv_make(bytes, sizeof(bytes));
		c.hangup_reason = strv_make(bytes + 128, 128);
		assert_true(
		    json_line(buf, (size_t)cdr_format(&c, buf, sizeof(buf)), NULL, NULL, NULL));
		for (int round = 0; round < 2000; round++) {
			char rnd[64];
			int n;

			for (size_t i = 0; i < sizeof(rnd); i++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				rnd[i] = (char)(s >> 56);
			}
			c.callee = strv_make(rnd, (size_t)(round % 64));
			n = cdr_format(&c, buf, sizeof(buf));
			assert_true(n > 0);
			assert_null(memchr(buf, '\n', (size_t)n - 1));
			if (!json_line(buf, (size_t)n, NULL, NULL, NULL))
				fail_msg("invalid line: %s", buf);
		}
	}
}

static void test_truncation(void **state)
{
	char *big = malloc(10000), *buf = malloc(CDR_LINE_MAX + 1), *val = malloc(CDR_LINE_MAX);
	struct cdr c = sample();
	size_t vlen;
	int n;

	(void)state;
	/* plain bytes: cut at CDR_FIELD_MAX */
	memset(big, 'a', 10000);
	c.caller = strv_make(big, 10000);
	n = cdr_format(&c, buf, CDR_LINE_MAX + 1);
	assert_true(json_line(buf, (size_t)n, "caller", val, &vlen));
	assert_int_equal(vlen, CDR_FIELD_MAX);

	/* never inside a character or an escape */
	for (int i = 0; i + 3 <= 9999; i += 3)
		memcpy(big + i, "\xe2\x82\xac", 3);
	n = cdr_format(&c, buf, CDR_LINE_MAX + 1);
	assert_true(json_line(buf, (size_t)n, "caller", val, &vlen));
	assert_int_equal(vlen, CDR_FIELD_MAX / 3 * 3);
	memset(big, '\x01', 10000);
	n = cdr_format(&c, buf, CDR_LINE_MAX + 1);
	assert_true(json_line(buf, (size_t)n, "caller", val, &vlen));
	assert_int_equal(vlen, CDR_FIELD_MAX / 6);

	/* the worst record fits CDR_LINE_MAX */
	c.a_call_id = c.b_call_id = c.caller = c.caller_name = c.callee = c.trunk =
	    c.hangup_reason = strv_make(big, 10000);
	assert_int_equal(sa_parse_cstr(&c.a_src, "[fe80::1234:5678:9abc:def0%1]:65535", 0), 0);
	c.b_src = c.a_src;
	c.status = 65535;
	c.end_ms = UINT64_MAX / 1000000;
	n = cdr_format(&c, buf, CDR_LINE_MAX + 1);
	assert_true(n > 0 && n <= CDR_LINE_MAX);
	assert_true(json_line(buf, (size_t)n, NULL, NULL, NULL));
	free(big);
	free(buf);
	free(val);
}

/* ---- writer ---- */

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_cdr.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, name);
	return p[i];
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Checks every line of @p path; @return their number; the a_call_ids in @p ids if not NULL. */
static unsigned check_lines(const char *path, char ids[][32], unsigned maxids)
{
	size_t len;
	char *data = slurp(path, &len), *p = data, *val = malloc(CDR_LINE_MAX);
	unsigned n = 0;

	while (p < data + len) {
		char *nl = memchr(p, '\n', (size_t)(data + len - p));
		size_t vlen;

		if (!nl)
			fail_msg("%s: partial line at the end: %.40s", path, p);
		if (!json_line(p, (size_t)(nl + 1 - p), "a_call_id", val, &vlen))
			fail_msg("%s: line %u invalid: %.80s", path, n + 1, p);
		if (ids && n < maxids)
			snprintf(ids[n], sizeof(ids[n]), "%s", val);
		n++;
		p = nl + 1;
	}
	free(data);
	free(val);
	return n;
}

static struct cdr numbered(char *idbuf, unsigned i)
{
	struct cdr c = sample();

	snprintf(idbuf, 32, "call-%u", i);
	c.a_call_id = strv_cstr(idbuf);
	return c;
}

static void test_writer(void **state)
{
	const char *path = path_of("basic.jsonl");
	struct cdr_writer *w;
	struct cdr_writer_stats st;
	char id[32], ids[8][32];
	struct stat sb;
	mode_t old = umask(022);

	(void)state;
	assert_int_equal(cdr_writer_open(&w, path), 0);
	umask(old);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	for (unsigned i = 0; i < 3; i++) {
		struct cdr c = numbered(id, i);

		assert_int_equal(cdr_write(w, &c), 0);
	}
	assert_int_equal(cdr_writer_flush(w), 0);
	cdr_writer_stats(w, &st);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.dropped, 0);
	cdr_writer_close(w);

	/* appends to what is there */
	assert_int_equal(cdr_writer_open(&w, path), 0);
	{
		struct cdr c = numbered(id, 3);

		assert_int_equal(cdr_write(w, &c), 0);
	}
	cdr_writer_close(w);
	assert_int_equal(check_lines(path, ids, 8), 4);
	assert_string_equal(ids[0], "call-0");
	assert_string_equal(ids[3], "call-3");

	/* close-on-exec, append mode */
	assert_int_equal(cdr_writer_open(&w, path), 0);
	{
		int fd = -1;

		for (int f = 3; f < 64; f++) {
			char link[64], target[256];
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", f);
			n = readlink(link, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				if (strcmp(target, path) == 0)
					fd = f;
			}
		}
		assert_true(fd >= 0);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_true(fcntl(fd, F_GETFL) & O_APPEND);
	}
	cdr_writer_close(w);

	assert_int_equal(cdr_writer_open(&w, path_of("no/such/dir/x")), -ENOENT);
	assert_null(w);
	cdr_writer_close(NULL);
}

static void test_reopen(void **state)
{
	const char *path = path_of("rot.jsonl"), *rotated = path_of("rot.jsonl.1");
	struct cdr_writer *w;
	char id[32], ids[8][32];
	struct cdr c;

	(void)state;
	assert_int_equal(cdr_writer_open(&w, path), 0);
	c = numbered(id, 0);
	assert_int_equal(cdr_write(w, &c), 0);
	/* logrotate renames; until the reopen, lines go to the renamed file */
	assert_int_equal(rename(path, rotated), 0);
	c = numbered(id, 1);
	assert_int_equal(cdr_write(w, &c), 0);
	assert_int_equal(cdr_writer_reopen(w), 0);
	c = numbered(id, 2);
	assert_int_equal(cdr_write(w, &c), 0);
	/* a reopen without rotation keeps appending to the same file */
	assert_int_equal(cdr_writer_reopen(w), 0);
	c = numbered(id, 3);
	assert_int_equal(cdr_write(w, &c), 0);

	assert_int_equal(check_lines(rotated, ids, 8), 2);
	assert_string_equal(ids[0], "call-0");
	assert_string_equal(ids[1], "call-1");
	assert_int_equal(check_lines(path, ids, 8), 2);
	assert_string_equal(ids[0], "call-2");
	assert_string_equal(ids[1], "call-3");

	/* a failed reopen (the path is now a directory) keeps the old file */
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cdr_writer_reopen(w), -EISDIR);
	c = numbered(id, 4);
	assert_int_equal(cdr_write(w, &c), 0);
	assert_int_equal(check_lines(rotated, ids, 8), 3);
	assert_string_equal(ids[2], "call-4");
	assert_int_equal(rmdir(path), 0);
	cdr_writer_close(w);
}

/* A writer on /dev/full (through a symlink) queues, then a switch back flushes in order. */
static void test_full_device(void **state)
{
	const char *path = path_of("full.jsonl");
	struct cdr_writer_stats st;
	struct cdr_writer *w;
	char id[32], ids[8][32];
	struct cdr c;

	(void)state;
	assert_int_equal(symlink("/dev/full", path), 0);
	assert_int_equal(cdr_writer_open(&w, path), 0);
	for (unsigned i = 0; i < 3; i++) {
		c = numbered(id, i);
		assert_int_equal(cdr_write(w, &c), -EAGAIN);
	}
	assert_int_equal(cdr_writer_flush(w), -ENOSPC);
	cdr_writer_stats(w, &st);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.queued, 3);
	assert_true(st.queued_bytes > 3 * 100);
	/* one failed write per attempt: 3 writes (each stops at the first failure) + 1 flush */
	assert_int_equal(st.write_errors, 4);
	assert_int_equal(st.dropped, 0);

	/* the disk has room again: the path is a regular file after the reopen */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cdr_writer_reopen(w), 0);
	cdr_writer_stats(w, &st);
	assert_int_equal(st.written, 3);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.queued_bytes, 0);
	c = numbered(id, 3);
	assert_int_equal(cdr_write(w, &c), 0);
	assert_int_equal(check_lines(path, ids, 8), 4);
	for (unsigned i = 0; i < 4; i++) {
		char want[32];

		snprintf(want, sizeof(want), "call-%u", i);
		assert_string_equal(ids[i], want);
	}
	cdr_writer_close(w);
}

/* The queue is bounded; what does not fit is counted and logged, not silently lost. */
static void test_queue_full(void **state)
{
	const char *path = path_of("qfull.jsonl");
	struct cdr_writer_stats st;
	struct cdr_writer *w;
	char *big = malloc(CDR_FIELD_MAX);
	struct cdr c = sample();
	unsigned queued = 0;
	int err;

	(void)state;
	memset(big, 'q', CDR_FIELD_MAX);
	c.caller = c.callee = c.caller_name = c.b_call_id = c.hangup_reason =
	    strv_make(big, CDR_FIELD_MAX);
	assert_int_equal(symlink("/dev/full", path), 0);
	assert_int_equal(cdr_writer_open(&w, path), 0);
	while ((err = cdr_write(w, &c)) == -EAGAIN)
		queued++;
	assert_int_equal(err, -ENOBUFS);
	cdr_writer_stats(w, &st);
	assert_int_equal(st.queued, queued);
	assert_true(st.queued_bytes <= CDR_QUEUE_MAX_BYTES);
	assert_true(st.queued_bytes > CDR_QUEUE_MAX_BYTES - CDR_LINE_MAX);
	assert_int_equal(st.dropped, 1);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(cdr_writer_reopen(w), 0);
	cdr_writer_stats(w, &st);
	assert_int_equal(st.written, queued);
	assert_int_equal(st.queued, 0);
	cdr_writer_close(w);
	assert_int_equal(check_lines(path, NULL, 0), queued);
	free(big);
}

/* A write that the kernel cuts short (file size limit) leaves no fragment behind. */
static void test_short_write(void **state)
{
	const char *path = path_of("short.jsonl");
	struct cdr_writer_stats st;
	struct cdr_writer *w;
	struct rlimit old, lim;
	char id[32], ids[8][32];
	struct stat sb;
	struct cdr c;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(cdr_writer_open(&w, path), 0);
	c = numbered(id, 0);
	assert_int_equal(cdr_write(w, &c), 0);
	assert_int_equal(stat(path, &sb), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 50;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	c = numbered(id, 1);
	assert_int_equal(cdr_write(w, &c), -EAGAIN);
	c = numbered(id, 2);
	assert_int_equal(cdr_write(w, &c), -EAGAIN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	{
		struct stat now;

		assert_int_equal(stat(path, &now), 0);
		assert_int_equal(now.st_size, sb.st_size); /* the fragment was cut off */
	}
	cdr_writer_stats(w, &st);
	assert_int_equal(st.queued, 2);
	assert_int_equal(cdr_writer_flush(w), 0);
	c = numbered(id, 3);
	assert_int_equal(cdr_write(w, &c), 0);
	cdr_writer_close(w);
	assert_int_equal(check_lines(path, ids, 8), 4);
	assert_string_equal(ids[1], "call-1");
	assert_string_equal(ids[2], "call-2");
	assert_string_equal(ids[3], "call-3");
	signal(SIGXFSZ, SIG_DFL);
}

/* ---- atomicity: processes with their own writers, threads sharing one ---- */

enum { WRITERS = 4, PER_WRITER = 300 };

struct thread_arg {
	struct cdr_writer *w;
	unsigned id;
	int failures;
};

static void write_many(struct cdr_writer *w, unsigned who, int *failures)
{
	/* long lines (well above PIPE_BUF), each filled with its writer's letter */
	static char fill[WRITERS][6000];
	struct cdr c = sample();
	char id[32];

	memset(fill[who], 'a' + (int)who, sizeof(fill[who]));
	c.caller = c.callee = strv_make(fill[who], sizeof(fill[who]));
	for (unsigned i = 0; i < PER_WRITER; i++) {
		snprintf(id, sizeof(id), "w%u-%u", who, i);
		c.a_call_id = strv_cstr(id);
		if (cdr_write(w, &c) != 0)
			(*failures)++;
	}
}

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	write_many(a->w, a->id, &a->failures);
	return NULL;
}

static void check_interleaving(const char *path)
{
	size_t len;
	char *data = slurp(path, &len), *p = data;
	unsigned next[WRITERS] = { 0 }, n = 0;
	char *val = malloc(CDR_LINE_MAX);

	while (p < data + len) {
		char *nl = memchr(p, '\n', (size_t)(data + len - p));
		unsigned who, seq;
		size_t vlen;

		assert_non_null(nl);
		assert_true(json_line(p, (size_t)(nl + 1 - p), "a_call_id", val, &vlen));
		assert_int_equal(sscanf(val, "w%u-%u", &who, &seq), 2);
		assert_true(who < WRITERS);
		/* each writer's lines in its order, and only its letter in its fields */
		assert_int_equal(seq, next[who]);
		next[who]++;
		assert_true(json_line(p, (size_t)(nl + 1 - p), "caller", val, &vlen));
		assert_int_equal(vlen, CDR_FIELD_MAX);
		for (size_t i = 0; i < vlen; i++)
			assert_int_equal(val[i], 'a' + (int)who);
		n++;
		p = nl + 1;
	}
	assert_int_equal(n, WRITERS * PER_WRITER);
	free(val);
	free(data);
}

static void test_atomic_processes(void **state)
{
	const char *path = path_of("procs.jsonl");
	pid_t pids[WRITERS];

	(void)state;
	for (unsigned k = 0; k < WRITERS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			struct cdr_writer *w;
			int failures = 0;

			if (cdr_writer_open(&w, path))
				_exit(2);
			write_many(w, k, &failures);
			cdr_writer_close(w);
			_exit(failures ? 1 : 0);
		}
	}
	for (unsigned k = 0; k < WRITERS; k++) {
		int status;

		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	check_interleaving(path);
}

static void test_atomic_threads(void **state)
{
	const char *path = path_of("threads.jsonl");
	struct thread_arg args[WRITERS];
	pthread_t th[WRITERS];
	struct cdr_writer *w;

	(void)state;
	assert_int_equal(cdr_writer_open(&w, path), 0);
	for (unsigned k = 0; k < WRITERS; k++) {
		args[k] = (struct thread_arg){ .w = w, .id = k };
		assert_int_equal(pthread_create(&th[k], NULL, thread_main, &args[k]), 0);
	}
	for (unsigned k = 0; k < WRITERS; k++) {
		assert_int_equal(pthread_join(th[k], NULL), 0);
		assert_int_equal(args[k].failures, 0);
	}
	cdr_writer_close(w);
	check_interleaving(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),	       cmocka_unit_test(test_names),
		cmocka_unit_test(test_escaping),       cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_writer),	       cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_full_device),    cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_short_write),    cmocka_unit_test(test_atomic_processes),
		cmocka_unit_test(test_atomic_threads),
	};

	/* write failures are logged on purpose here */
	log_init("test_cdr", LOG_LVL_ERR, LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
