/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sdp_int.h  What the SDP parser (sdp.c) and printer (sdp_rewrite.c) share: the line scanner,
 * the field splitter and the classification of attributes. Private to rtpengine/sdp*.c.
 */
#ifndef SBC_RTPENGINE_SDP_INT_H
#define SBC_RTPENGINE_SDP_INT_H

#include <stdbool.h>
#include <string.h>

#include "common/str.h"

struct sdp_cursor {
	const char *p, *end;
};

static inline void sdp_cursor_init(struct sdp_cursor *c, const char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
}

/*
 * The next line without its end (LF or CRLF; the last line may have none).
 * @return false when the buffer is exhausted.
 */
static inline bool sdp_line_next(struct sdp_cursor *c, struct strv *line)
{
	const char *lf;
	size_t n;

	if (c->p >= c->end)
		return false;
	lf = memchr(c->p, '\n', (size_t)(c->end - c->p));
	n = lf ? (size_t)(lf - c->p) : (size_t)(c->end - c->p);
	*line = strv_make(c->p, n);
	if (n && line->p[n - 1] == '\r')
		line->len--;
	c->p += lf ? n + 1 : n;
	return true;
}

/* Lines are "<letter>=<value>"; trailing blanks (some phones send them) are not part of it. */
static inline bool sdp_line_split(struct strv line, char *type, struct strv *value)
{
	if (line.len < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
		return false;
	*type = line.p[0];
	*value = strv_trim(strv_make(line.p + 2, line.len - 2));
	return true;
}

static inline bool sdp_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits the next blank-separated field off @p rest. @return false when none is left. */
static inline bool sdp_field_next(struct strv *rest, struct strv *field)
{
	size_t i = 0, start;

	if (rest->len == 0) {
		*field = *rest;
		return false;
	}
	while (i < rest->len && sdp_is_blank(rest->p[i]))
		i++;
	start = i;
	while (i < rest->len && !sdp_is_blank(rest->p[i]))
		i++;
	*field = strv_make(rest->p + start, i - start);
	*rest = strv_make(rest->p + i, rest->len - i);
	return field->len != 0;
}

/* "name:value" or "name": splits an a= value into both. */
static inline struct strv sdp_attr_name(struct strv value, struct strv *attr_value)
{
	const char *colon = value.len ? memchr(value.p, ':', value.len) : NULL;
	size_t n = colon ? (size_t)(colon - value.p) : value.len;

	/* never a NULL view: "a=rtcp" must read as an empty value, not as no memory at all */
	*attr_value = colon ? strv_make(colon + 1, value.len - n - 1) : strv_make(value.p + n, 0);
	return strv_make(value.p, n);
}

/* The ICE attributes (RFC 8839) that a rewrite removes or replaces, at either level. */
static inline bool sdp_attr_is_ice(struct strv name)
{
	static const struct strv ice[] = {
		STRV("ice-ufrag"), STRV("ice-pwd"),	      STRV("ice-options"),
		STRV("ice-lite"),  STRV("ice-mismatch"),      STRV("ice-pacing"),
		STRV("candidate"), STRV("remote-candidates"), STRV("end-of-candidates"),
	};

	for (size_t i = 0; i < sizeof(ice) / sizeof(ice[0]); i++) {
		if (strv_caseeq(name, ice[i]))
			return true;
	}
	return false;
}

#endif
