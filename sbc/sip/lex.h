/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lex.h  Private lexing helpers of the URI and header value parsers.
 *
 * A struct lex is a cursor over a view that is NOT NUL-terminated. Every read
 * goes through lex_peek() or lex_at(), which answer -1 at the end, so a parser
 * built on them cannot read past its input. Nothing here allocates or recurses.
 *
 * One table lookup classifies a byte for every character set of the RFC 3261
 * §25 ABNF that the parsers use; the LX_* names follow the ABNF rule names.
 *
 * Blanks: LWS = [*WSP CRLF] 1*WSP. A line break counts as blank only when a
 * space or tab follows it (a folded line). A bare LF is accepted like CRLF,
 * as the message parser accepts bare LF line ends.
 */
#ifndef SBC_SIP_LEX_H
#define SBC_SIP_LEX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/str.h"

enum {
	LX_ALPHA = 1 << 0,
	LX_DIGIT = 1 << 1,
	LX_HEX = 1 << 2,
	LX_TOKEN = 1 << 3,    /* token: alphanum / "-.!%*_+`'~" */
	LX_UNRES = 1 << 4,    /* unreserved: alphanum / mark "-_.!~*'()" */
	LX_RESERVED = 1 << 5, /* reserved: ";/?:@&=+$," */
	LX_USER = 1 << 6,  /* user: unreserved / user-unreserved "&=+$,;?/" / "#" (escapes apart) */
	LX_PASS = 1 << 7,  /* password: unreserved / "&=+$," */
	LX_PARAM = 1 << 8, /* paramchar: unreserved / param-unreserved "[]/:&+$" */
	LX_HNV = 1 << 9,   /* hname/hvalue: unreserved / hnv-unreserved "[]/?:+$" */
	LX_URIC = 1 << 10, /* uric: reserved / unreserved */
	LX_SCHEME = 1 << 11, /* scheme after its first letter: alphanum / "+-." */
	LX_HOST = 1 << 12,   /* hostname characters: alphanum / "-." */
	LX_PHONE = 1 << 13,  /* RFC 3966 phonedigit-hex: HEXDIG / "*#" / visual-separator "-.()" */
};

/* An unreserved character belongs to every URI character set. */
#define LX_U   (LX_UNRES | LX_USER | LX_PASS | LX_PARAM | LX_HNV | LX_URIC)
#define LX_AN  (LX_U | LX_TOKEN | LX_SCHEME | LX_HOST)
#define LX_DIG (LX_AN | LX_DIGIT | LX_HEX | LX_PHONE)
#define LX_AF  (LX_AN | LX_ALPHA | LX_HEX | LX_PHONE)
#define LX_GZ  (LX_AN | LX_ALPHA)

static inline unsigned lex_class(unsigned char c)
{
	static const uint16_t tab[128] = {
		['!'] = LX_U | LX_TOKEN,
		['#'] = LX_USER | LX_PHONE,
		['$'] = LX_RESERVED | LX_USER | LX_PASS | LX_PARAM | LX_HNV | LX_URIC,
		['%'] = LX_TOKEN,
		['&'] = LX_RESERVED | LX_USER | LX_PASS | LX_PARAM | LX_URIC,
		['\''] = LX_U | LX_TOKEN,
		['('] = LX_U | LX_PHONE,
		[')'] = LX_U | LX_PHONE,
		['*'] = LX_U | LX_TOKEN | LX_PHONE,
		['+'] = LX_TOKEN | LX_RESERVED | LX_USER | LX_PASS | LX_PARAM | LX_HNV | LX_URIC |
			LX_SCHEME,
		[','] = LX_RESERVED | LX_USER | LX_PASS | LX_URIC,
		['-'] = LX_U | LX_TOKEN | LX_SCHEME | LX_HOST | LX_PHONE,
		['.'] = LX_U | LX_TOKEN | LX_SCHEME | LX_HOST | LX_PHONE,
		['/'] = LX_RESERVED | LX_USER | LX_PARAM | LX_HNV | LX_URIC,
		[':'] = LX_RESERVED | LX_PARAM | LX_HNV | LX_URIC,
		[';'] = LX_RESERVED | LX_USER | LX_URIC,
		['='] = LX_RESERVED | LX_USER | LX_PASS | LX_URIC,
		['?'] = LX_RESERVED | LX_USER | LX_HNV | LX_URIC,
		['@'] = LX_RESERVED | LX_URIC,
		['['] = LX_PARAM | LX_HNV,
		[']'] = LX_PARAM | LX_HNV,
		['_'] = LX_U | LX_TOKEN,
		['`'] = LX_TOKEN,
		['~'] = LX_U | LX_TOKEN,
		/* clang-format off */
		['0'] = LX_DIG, ['1'] = LX_DIG, ['2'] = LX_DIG, ['3'] = LX_DIG, ['4'] = LX_DIG,
		['5'] = LX_DIG, ['6'] = LX_DIG, ['7'] = LX_DIG, ['8'] = LX_DIG, ['9'] = LX_DIG,
		['A'] = LX_AF, ['B'] = LX_AF, ['C'] = LX_AF,
		['D'] = LX_AF, ['E'] = LX_AF, ['F'] = LX_AF,
		['G'] = LX_GZ, ['H'] = LX_GZ, ['I'] = LX_GZ, ['J'] = LX_GZ, ['K'] = LX_GZ,
		['L'] = LX_GZ, ['M'] = LX_GZ, ['N'] = LX_GZ, ['O'] = LX_GZ, ['P'] = LX_GZ,
		['Q'] = LX_GZ, ['R'] = LX_GZ, ['S'] = LX_GZ, ['T'] = LX_GZ, ['U'] = LX_GZ,
		['V'] = LX_GZ, ['W'] = LX_GZ, ['X'] = LX_GZ, ['Y'] = LX_GZ, ['Z'] = LX_GZ,
		['a'] = LX_AF, ['b'] = LX_AF, ['c'] = LX_AF,
		['d'] = LX_AF, ['e'] = LX_AF, ['f'] = LX_AF,
		['g'] = LX_GZ, ['h'] = LX_GZ, ['i'] = LX_GZ, ['j'] = LX_GZ, ['k'] = LX_GZ,
		['l'] = LX_GZ, ['m'] = LX_GZ, ['n'] = LX_GZ, ['o'] = LX_GZ, ['p'] = LX_GZ,
		['q'] = LX_GZ, ['r'] = LX_GZ, ['s'] = LX_GZ, ['t'] = LX_GZ, ['u'] = LX_GZ,
		['v'] = LX_GZ, ['w'] = LX_GZ, ['x'] = LX_GZ, ['y'] = LX_GZ, ['z'] = LX_GZ,
		/* clang-format on */
	};

	return c < 128 ? tab[c] : 0;
}

static inline bool lex_is(int c, unsigned cls)
{
	return c >= 0 && (lex_class((unsigned char)c) & cls) != 0;
}

static inline int lex_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static inline char lex_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* ---- the cursor ---- */

struct lex {
	const char *p;
	const char *end;
};

static inline struct lex lex_make(struct strv s)
{
	/* NULL + 0 is undefined behaviour; an empty view may carry NULL. */
	if (s.p == NULL)
		return (struct lex){ .p = "", .end = "" };
	return (struct lex){ .p = s.p, .end = s.p + s.len };
}

static inline bool lex_eof(const struct lex *l)
{
	return l->p >= l->end;
}

static inline size_t lex_left(const struct lex *l)
{
	return (size_t)(l->end - l->p);
}

/** Byte @p i positions ahead, or -1 past the end. */
static inline int lex_at(const struct lex *l, size_t i)
{
	return i < lex_left(l) ? (unsigned char)l->p[i] : -1;
}

static inline int lex_peek(const struct lex *l)
{
	return lex_at(l, 0);
}

static inline bool lex_eat(struct lex *l, char c)
{
	if (lex_peek(l) != (unsigned char)c)
		return false;
	l->p++;
	return true;
}

static inline struct strv lex_since(const struct lex *l, const char *start)
{
	return strv_make(start, (size_t)(l->p - start));
}

/** Consumes characters of class @p cls; @return how many. */
static inline size_t lex_span(struct lex *l, unsigned cls)
{
	const char *start = l->p;

	while (l->p < l->end && (lex_class((unsigned char)*l->p) & cls))
		l->p++;
	return (size_t)(l->p - start);
}

/** Is there an escape "%" HEXDIG HEXDIG at offset @p i? */
static inline bool lex_escape_at(const struct lex *l, size_t i)
{
	return lex_at(l, i) == '%' && lex_hexval(lex_at(l, i + 1)) >= 0 &&
	       lex_hexval(lex_at(l, i + 2)) >= 0;
}

/** Consumes characters of class @p cls and escapes; stops at a bad escape. @return bytes. */
static inline size_t lex_span_esc(struct lex *l, unsigned cls)
{
	const char *start = l->p;

	while (l->p < l->end) {
		if (lex_class((unsigned char)*l->p) & cls)
			l->p++;
		else if (lex_escape_at(l, 0))
			l->p += 3;
		else
			break;
	}
	return (size_t)(l->p - start);
}

/** A token (RFC 3261 §25), empty if none. */
static inline struct strv lex_token(struct lex *l)
{
	const char *start = l->p;

	lex_span(l, LX_TOKEN);
	return lex_since(l, start);
}

/** Length of the line break at the cursor: 2 (CRLF), 1 (LF) or 0. */
static inline size_t lex_newline(const struct lex *l)
{
	if (lex_at(l, 0) == '\r' && lex_at(l, 1) == '\n')
		return 2;
	return lex_at(l, 0) == '\n' ? 1 : 0;
}

static inline bool lex_is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/** Skips SWS (blanks and folded line breaks). @return whether anything was skipped. */
static inline bool lex_sws(struct lex *l)
{
	const char *start = l->p;

	for (;;) {
		size_t nl;

		while (l->p < l->end && lex_is_wsp((unsigned char)*l->p))
			l->p++;
		nl = lex_newline(l);
		if (nl == 0 || !lex_is_wsp(lex_at(l, nl)))
			break;
		l->p += nl;
	}
	return l->p != start;
}

/** SWS @p c SWS (SLASH, EQUAL, COLON, COMMA ...); the cursor moves only on success. */
static inline bool lex_sep(struct lex *l, char c)
{
	struct lex t = *l;

	lex_sws(&t);
	if (!lex_eat(&t, c))
		return false;
	lex_sws(&t);
	*l = t;
	return true;
}

/**
 * quoted-string at the cursor (which must be on the DQUOTE): qdtext is LWS,
 * %x21 / %x23-5B / %x5D-7E and UTF8-NONASCII; quoted-pair is "\" and any
 * octet up to %x7F except CR and LF.
 * @param inner set to the text between the quotes, escapes kept.
 */
static inline bool lex_quoted(struct lex *l, struct strv *inner)
{
	const char *start;

	if (!lex_eat(l, '"'))
		return false;
	start = l->p;
	while (l->p < l->end) {
		int c = (unsigned char)*l->p;

		if (c == '"') {
			*inner = lex_since(l, start);
			l->p++;
			return true;
		}
		if (c == '\\') {
			int e = lex_at(l, 1);

			if (e < 0 || e > 0x7f || e == '\r' || e == '\n')
				return false;
			l->p += 2;
		} else if (c == '\r' || c == '\n') {
			if (!lex_sws(l))
				return false;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		} else {
			l->p++;
		}
	}
	return false;
}

/* ---- hosts and ports (the host functions live in uri.c) ---- */

/** IPv4address (RFC 3261 §25), octets 0..255. */
bool sip_lex_ipv4(struct strv s, uint8_t out[4]);
/** IPv6address (RFC 3261 §25 as corrected by RFC 5954), without brackets. */
bool sip_lex_ipv6(struct strv s, uint8_t out[16]);
/** host = hostname / IPv4address / IPv6reference, the whole view. */
bool sip_lex_host(struct strv s);
/**
 * host at the cursor: an IPv6 reference (@p host without brackets, @p ipv6
 * set) or the longest hostname/IPv4address. @return false if not a valid host.
 */
bool sip_lex_host_at(struct lex *l, struct strv *host, bool *ipv6);

/** port = 1*DIGIT, 0..65535, at the cursor. */
static inline bool lex_port(struct lex *l, uint16_t *port)
{
	const char *start = l->p;
	uint64_t v;

	if (lex_span(l, LX_DIGIT) == 0 || strv_to_u64(lex_since(l, start), 65535, &v) != 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* ---- header parameters ---- */

/** The most parameters one URI, header or credentials may carry (bounds duplicate checks). */
#define LEX_MAX_PARAMS 64

/** Names seen so far, to refuse a parameter given twice. */
struct lex_names {
	struct strv v[LEX_MAX_PARAMS];
	unsigned n;
};

/** Records @p name; false if it was seen before (any case) or there are too many. */
static inline bool lex_names_add(struct lex_names *s, struct strv name)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (strv_caseeq(s->v[i], name))
			return false;
	}
	if (s->n == LEX_MAX_PARAMS)
		return false;
	s->v[s->n++] = name;
	return true;
}

/** One generic-param (RFC 3261 §25) of a header. */
struct lex_param {
	const char *semi; /**< its ';' */
	struct strv name;
	struct strv value; /**< as written (a quoted-string keeps its quotes); empty without '=' */
	bool has_value;
	bool quoted;
};

/**
 * gen-value = token / host / quoted-string. A bare IPv6address is admitted too
 * (Via received, RFC 3261 §20.42).
 */
static inline bool lex_gen_value(struct lex *l, struct lex_param *gp)
{
	const char *start = l->p;
	struct strv inner;

	if (lex_peek(l) == '"') {
		gp->quoted = true;
		if (!lex_quoted(l, &inner))
			return false;
	} else if (lex_peek(l) == '[') {
		const char *close = memchr(l->p, ']', lex_left(l));
		uint8_t a6[16];

		if (!close || !sip_lex_ipv6(strv_make(l->p + 1, (size_t)(close - l->p - 1)), a6))
			return false;
		l->p = close + 1;
	} else {
		uint8_t a6[16];
		bool colon = false;

		while (lex_is(lex_peek(l), LX_TOKEN) || lex_peek(l) == ':') {
			colon |= *l->p == ':';
			l->p++;
		}
		if (l->p == start || (colon && !sip_lex_ipv6(lex_since(l, start), a6)))
			return false;
	}
	gp->value = lex_since(l, start);
	return true;
}

/**
 * SEMI generic-param, with SEMI = SWS ";" SWS and EQUAL = SWS "=" SWS. Blanks
 * after the last parameter are left unread.
 * @return 1 (one parsed), 0 (no ';' follows; cursor unchanged) or -EINVAL.
 */
static inline int lex_gparam(struct lex *l, struct lex_param *gp)
{
	struct lex t = *l;

	*gp = (struct lex_param){ 0 };
	lex_sws(&t);
	if (!lex_eat(&t, ';'))
		return 0;
	gp->semi = t.p - 1;
	lex_sws(&t);
	gp->name = lex_token(&t);
	if (gp->name.len == 0)
		return -EINVAL;
	*l = t;
	if (!lex_sep(&t, '='))
		return 1;
	gp->has_value = true;
	if (!lex_gen_value(&t, gp))
		return -EINVAL;
	*l = t;
	return 1;
}

/** Called for each parameter by lex_gparams(); a nonzero return stops the parse. */
typedef int (*lex_param_h)(void *arg, const struct lex_param *gp);

/**
 * *( SEMI generic-param ): refuses a name given twice (any case) and more than
 * LEX_MAX_PARAMS parameters.
 * @param params set to the list from the first ';' to the end of the last
 *        parameter, or left empty when there is none.
 * @return 0, -EINVAL, or what @p h returned.
 */
static inline int lex_gparams(struct lex *l, struct strv *params, lex_param_h h, void *arg)
{
	struct lex_names seen;
	struct lex_param gp;
	const char *first = NULL;
	int r;

	seen.n = 0;
	while ((r = lex_gparam(l, &gp)) == 1) {
		if (!first)
			first = gp.semi;
		if (!lex_names_add(&seen, gp.name))
			return -EINVAL;
		r = h(arg, &gp);
		if (r != 0)
			return r;
	}
	if (r < 0)
		return r;
	if (first)
		*params = lex_since(l, first);
	return 0;
}

/** Whether a parameter's value is a plain token (not quoted, not a host with ':' or '[]'). */
static inline bool lex_value_is_token(const struct lex_param *gp)
{
	struct lex t = lex_make(gp->value);

	return gp->has_value && !gp->quoted && lex_span(&t, LX_TOKEN) == gp->value.len;
}

/** Whether a parameter's value is 1*DIGIT. */
static inline bool lex_value_is_digits(const struct lex_param *gp)
{
	struct lex t = lex_make(gp->value);

	return gp->has_value && !gp->quoted && lex_span(&t, LX_DIGIT) == gp->value.len;
}

#endif
