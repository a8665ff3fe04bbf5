/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * print.c  The message printer: appends start line, headers and body to one
 * fixed buffer. Each public put computes its whole size first and either
 * writes all of it or sets the sticky overflow flag and writes nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "print.h"

static const char crlf[2] = { '\r', '\n' };

static inline bool usable(struct sip_pbuf *b)
{
	return !b->overflow && !b->invalid;
}

/* Room for n more bytes; sets overflow when there is none. */
static inline bool room(struct sip_pbuf *b, size_t n)
{
	if (!usable(b))
		return false;
	if (n > b->cap - b->len) {
		b->overflow = true;
		return false;
	}
	return true;
}

static inline void put(struct sip_pbuf *b, const void *p, size_t n)
{
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static bool is_token_char(unsigned char c)
{
	if ((unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u)
		return true;
	return c && strchr("-.!%*_+`'~", c);
}

static bool valid_token(struct strv s)
{
	if (!s.len || !s.p)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_token_char((unsigned char)s.p[i]))
			return false;
	return true;
}

/* A header value: CR and LF only as a fold, CRLF followed by SP or HT. */
static bool valid_value(struct strv v)
{
	for (size_t i = 0; i < v.len; i++) {
		char c = v.p[i];

		if (c == '\n')
			return false;
		if (c == '\r') {
			if (i + 2 >= v.len || v.p[i + 1] != '\n' ||
			    (v.p[i + 2] != ' ' && v.p[i + 2] != '\t'))
				return false;
			i += 2;
		}
	}
	return true;
}

/* No CR or LF (reason phrase). */
static bool valid_line(struct strv v)
{
	return !v.len || (!memchr(v.p, '\r', v.len) && !memchr(v.p, '\n', v.len));
}

/* No controls, blanks or DEL (Request-URI). */
static bool valid_uri(struct strv v)
{
	if (!v.len || !v.p)
		return false;
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] <= ' ' || v.p[i] == 0x7f)
			return false;
	return true;
}

static void refuse(struct sip_pbuf *b)
{
	b->invalid = true;
}

/* Headers and start lines may not follow the body. */
static bool open_section(struct sip_pbuf *b)
{
	if (b->ended) {
		refuse(b);
		return false;
	}
	return usable(b);
}

static size_t fmt_uint(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void sip_print_request_line(struct sip_pbuf *b, struct strv method, struct strv ruri)
{
	static const char ver[] = " SIP/2.0\r\n";

	if (!open_section(b))
		return;
	if (!valid_token(method) || !valid_uri(ruri)) {
		refuse(b);
		return;
	}
	if (!room(b, method.len + 1 + ruri.len + sizeof(ver) - 1))
		return;
	put(b, method.p, method.len);
	put(b, " ", 1);
	put(b, ruri.p, ruri.len);
	put(b, ver, sizeof(ver) - 1);
}

void sip_print_request_line_m(struct sip_pbuf *b, enum sip_method method, struct strv ruri)
{
	if (method == SIP_METHOD_OTHER) {
		refuse(b);
		return;
	}
	sip_print_request_line(b, strv_cstr(sip_method_name(method)), ruri);
}

void sip_print_status_line(struct sip_pbuf *b, unsigned code, struct strv reason)
{
	static const char ver[] = "SIP/2.0 ";
	char num[3];

	if (!open_section(b))
		return;
	if (code < 100 || code > 699 || !valid_line(reason)) {
		refuse(b);
		return;
	}
	if (!reason.len)
		reason = strv_cstr(sip_status_reason(code));
	num[0] = (char)('0' + code / 100);
	num[1] = (char)('0' + code / 10 % 10);
	num[2] = (char)('0' + code % 10);
	if (!room(b, sizeof(ver) - 1 + 3 + 1 + reason.len + 2))
		return;
	put(b, ver, sizeof(ver) - 1);
	put(b, num, 3);
	put(b, " ", 1);
	put(b, reason.p, reason.len);
	put(b, crlf, 2);
}

/* RFC 3261 §21 and the extensions registered since, sorted by code. */
static const struct {
	uint16_t code;
	const char *reason;
} reasons[] = {
	{ 100, "Trying" },
	{ 180, "Ringing" },
	{ 181, "Call Is Being Forwarded" },
	{ 182, "Queued" },
	{ 183, "Session Progress" },
	{ 199, "Early Dialog Terminated" },
	{ 200, "OK" },
	{ 202, "Accepted" },
	{ 204, "No Notification" },
	{ 300, "Multiple Choices" },
	{ 301, "Moved Permanently" },
	{ 302, "Moved Temporarily" },
	{ 305, "Use Proxy" },
	{ 380, "Alternative Service" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 410, "Gone" },
	{ 412, "Conditional Request Failed" },
	{ 413, "Request Entity Too Large" },
	{ 414, "Request-URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Unsupported URI Scheme" },
	{ 417, "Unknown Resource-Priority" },
	{ 420, "Bad Extension" },
	{ 421, "Extension Required" },
	{ 422, "Session Interval Too Small" },
	{ 423, "Interval Too Brief" },
	{ 428, "Use Identity Header" },
	{ 429, "Provide Referrer Identity" },
	{ 430, "Flow Failed" },
	{ 433, "Anonymity Disallowed" },
	{ 436, "Bad Identity-Info" },
	{ 437, "Unsupported Certificate" },
	{ 438, "Invalid Identity Header" },
	{ 439, "First Hop Lacks Outbound Support" },
	{ 440, "Max-Breadth Exceeded" },
	{ 469, "Bad Info Package" },
	{ 470, "Consent Needed" },
	{ 480, "Temporarily Unavailable" },
	{ 481, "Call/Transaction Does Not Exist" },
	{ 482, "Loop Detected" },
	{ 483, "Too Many Hops" },
	{ 484, "Address Incomplete" },
	{ 485, "Ambiguous" },
	{ 486, "Busy Here" },
	{ 487, "Request Terminated" },
	{ 488, "Not Acceptable Here" },
	{ 489, "Bad Event" },
	{ 491, "Request Pending" },
	{ 493, "Undecipherable" },
	{ 494, "Security Agreement Required" },
	{ 500, "Server Internal Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Server Time-out" },
	{ 505, "Version Not Supported" },
	{ 513, "Message Too Large" },
	{ 555, "Push Notification Service Not Supported" },
	{ 580, "Precondition Failure" },
	{ 600, "Busy Everywhere" },
	{ 603, "Decline" },
	{ 604, "Does Not Exist Anywhere" },
	{ 606, "Not Acceptable" },
	{ 607, "Unwanted" },
	{ 608, "Rejected" },
};

const char *sip_status_reason(unsigned code)
{
	size_t lo = 0, hi = sizeof(reasons) / sizeof(reasons[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (reasons[mid].code == code)
			return reasons[mid].reason;
		if (reasons[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "";
}

/* "name: value\r\n" after the checks. */
static void put_hdr(struct sip_pbuf *b, struct strv name, struct strv value)
{
	if (!open_section(b))
		return;
	if (!valid_token(name) || !valid_value(value)) {
		refuse(b);
		return;
	}
	if (!room(b, name.len + 2 + value.len + 2))
		return;
	put(b, name.p, name.len);
	put(b, ": ", 2);
	put(b, value.p, value.len);
	put(b, crlf, 2);
}

static struct strv known_name(struct sip_pbuf *b, enum sip_hdr_id id)
{
	const char *n = id != SIP_HDR_OTHER ? sip_hdr_name(id) : NULL;

	if (!n)
		refuse(b);
	return strv_cstr(n);
}

void sip_print_hdr(struct sip_pbuf *b, enum sip_hdr_id id, struct strv value)
{
	struct strv name = known_name(b, id);

	if (name.p)
		put_hdr(b, name, value);
}

void sip_print_hdr_name(struct sip_pbuf *b, struct strv name, struct strv value)
{
	put_hdr(b, name, value);
}

void sip_print_hdr_uint(struct sip_pbuf *b, enum sip_hdr_id id, uint64_t value)
{
	char num[20];
	struct strv name = known_name(b, id);

	if (name.p)
		put_hdr(b, name, strv_make(num, fmt_uint(num, value)));
}

/* "name: " then the formatted value, checked, then CRLF; nothing stays on failure. */
static void put_hdrv(struct sip_pbuf *b, struct strv name, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void put_hdrv(struct sip_pbuf *b, struct strv name, const char *fmt, va_list ap)
{
	size_t start = b->len, avail;
	int n;

	if (!open_section(b))
		return;
	if (!valid_token(name)) {
		refuse(b);
		return;
	}
	if (!room(b, name.len + 2))
		return;
	put(b, name.p, name.len);
	put(b, ": ", 2);
	avail = b->cap - b->len;
	n = vsnprintf(b->p + b->len, avail, fmt, ap);
	if (n < 0) {
		b->len = start;
		refuse(b);
		return;
	}
	if ((size_t)n + 2 > avail) { /* the value and its CRLF (vsnprintf needs a NUL byte too) */
		b->len = start;
		b->overflow = true;
		return;
	}
	if (!valid_value(strv_make(b->p + b->len, (size_t)n))) {
		b->len = start;
		refuse(b);
		return;
	}
	b->len += (size_t)n;
	put(b, crlf, 2);
}

void sip_print_hdrf(struct sip_pbuf *b, enum sip_hdr_id id, const char *fmt, ...)
{
	struct strv name = known_name(b, id);
	va_list ap;

	if (!name.p)
		return;
	va_start(ap, fmt);
	put_hdrv(b, name, fmt, ap);
	va_end(ap);
}

void sip_print_hdrf_name(struct sip_pbuf *b, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	put_hdrv(b, strv_cstr(name), fmt, ap);
	va_end(ap);
}

void sip_print_copy(struct sip_pbuf *b, const struct sip_hdr *h, enum sip_print_name mode)
{
	struct strv name = h->name;
	char compact;

	if (h->id != SIP_HDR_OTHER) {
		switch (mode) {
		case SIP_PRINT_NAME_ASIS:
			break;
		case SIP_PRINT_NAME_COMPACT:
			compact = sip_hdr_compact(h->id);
			if (compact) {
				name = strv_make(&compact, 1);
				break;
			}
			/* fall through */
		case SIP_PRINT_NAME_CANONICAL:
			name = strv_cstr(sip_hdr_name(h->id));
			break;
		}
	}
	put_hdr(b, name, h->value);
}

void sip_print_copy_all(struct sip_pbuf *b, const struct sip_msg *m, enum sip_hdr_id id,
			enum sip_print_name mode)
{
	if ((unsigned)id >= SIP_HDR_COUNT) {
		refuse(b);
		return;
	}
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h))
		sip_print_copy(b, h, mode);
}

void sip_print_raw(struct sip_pbuf *b, struct strv raw)
{
	if (!open_section(b) || !room(b, raw.len))
		return;
	put(b, raw.p, raw.len);
}

void sip_print_body(struct sip_pbuf *b, struct strv content_type, struct strv body)
{
	static const char cl[] = "Content-Length: ";
	char num[20];
	size_t nlen, start = b->len;

	if (!open_section(b))
		return;
	if (body.len && content_type.len) {
		put_hdr(b, strv_cstr("Content-Type"), content_type);
		if (!usable(b))
			return;
	}
	nlen = fmt_uint(num, body.len);
	if (!room(b, sizeof(cl) - 1 + nlen + 4 + body.len)) {
		b->len = start; /* nothing torn: take the Content-Type back too */
		return;
	}
	put(b, cl, sizeof(cl) - 1);
	put(b, num, nlen);
	put(b, "\r\n\r\n", 4);
	put(b, body.p, body.len);
	b->ended = true;
}
