/* SPDX-License-Identifier: BSD-2-Clause */
/*
 *   request-line = method SP request-target SP HTTP-version CRLF    (single spaces)
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 * A bare LF ends a line too (RFC 9112 section 2.2 allows it); a CR anywhere else, a control
 * character, obsolete line folding, or a malformed Content-Length is refused.
 */
#include "http_req.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* tchar (RFC 9110 section 5.6.2) */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(struct strv s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (!is_tchar(s.p[i]))
			return false;
	}
	return true;
}

/* Visible characters, blanks and obs-text: no CR, LF, NUL or other controls. */
static bool is_field_text(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* The next line without its end (CRLF or LF). @return false when no complete line is left. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct strv *line)
{
	const char *lf = memchr(buf + *pos, '\n', len - *pos);
	size_t n;

	if (!lf)
		return false;
	n = (size_t)(lf - (buf + *pos));
	*line = strv_make(buf + *pos, n && lf[-1] == '\r' ? n - 1 : n);
	*pos += n + 1;
	return true;
}

/*
 * Splits @p s at the first @p sep: the part before goes to @p head, @p s keeps the part after.
 * Without @p sep, @p head is all of @p s and @p s becomes empty (never NULL). @return found.
 */
static bool split_at(struct strv *s, char sep, struct strv *head)
{
	const char *p = s->len ? memchr(s->p, sep, s->len) : NULL;

	*head = *s;
	if (!p) {
		*s = strv_make(s->p + s->len, 0);
		return false;
	}
	head->len = (size_t)(p - s->p);
	*s = strv_make(p + 1, s->len - head->len - 1);
	return true;
}

static int parse_request_line(struct http_req *r, struct strv line)
{
	struct strv rest = line, version;
	const char *query;

	split_at(&rest, ' ', &r->method);
	split_at(&rest, ' ', &r->target);
	version = rest;
	if (!is_token(r->method) || r->target.len == 0 || r->target.p[0] != '/')
		return -EINVAL;
	for (size_t i = 0; i < r->target.len; i++) {
		unsigned char c = (unsigned char)r->target.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return -EINVAL;
	}
	query = memchr(r->target.p, '?', r->target.len);
	r->path = strv_make(r->target.p, query ? (size_t)(query - r->target.p) : r->target.len);
	if (strv_eq(version, STRV("HTTP/1.1")))
		r->minor = 1;
	else if (strv_eq(version, STRV("HTTP/1.0")))
		r->minor = 0;
	else
		return -EINVAL;
	r->conn_close = r->minor == 0;
	return 0;
}

/* "Connection: keep-alive, close" */
static bool has_close_token(struct strv value)
{
	while (value.len) {
		struct strv tok;

		split_at(&value, ',', &tok);
		if (strv_caseeq(strv_trim(tok), STRV("close")))
			return true;
	}
	return false;
}

static int parse_field(struct http_req *r, struct strv line)
{
	struct strv value = line, name;
	uint64_t clen;

	if (line.len && (line.p[0] == ' ' || line.p[0] == '\t'))
		return -EINVAL; /* obsolete line folding */
	if (!split_at(&value, ':', &name) || !is_token(name) || !is_field_text(value))
		return -EINVAL;
	value = strv_trim(value);
	if (strv_caseeq(name, STRV("Connection")) && has_close_token(value))
		r->conn_close = true;
	else if (strv_caseeq(name, STRV("Transfer-Encoding")))
		r->has_body = true;
	else if (strv_caseeq(name, STRV("Content-Length"))) {
		if (strv_to_u64(value, UINT64_MAX, &clen) < 0)
			return -EINVAL;
		r->has_body |= clen != 0;
	}
	return 0;
}

int http_req_parse(struct http_req *r, const char *buf, size_t len)
{
	size_t pos = 0;
	struct strv line;
	int err;

	memset(r, 0, sizeof(*r));
	/* RFC 9112 section 2.2: ignore empty lines before the request line */
	do {
		if (!next_line(buf, len, &pos, &line))
			return 0;
	} while (line.len == 0);
	err = parse_request_line(r, line);
	if (err < 0)
		return err;
	for (;;) {
		if (!next_line(buf, len, &pos, &line))
			return 0;
		if (line.len == 0)
			break;
		err = parse_field(r, line);
		if (err < 0)
			return err;
	}
	return pos > INT32_MAX ? -EINVAL : (int)pos;
}
