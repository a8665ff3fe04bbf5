/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP, SIPS and tel URIs: one function per ABNF rule of RFC 3261 §25 and
 * RFC 3966 §3, over a cursor that never reads past the view (lex.h).
 *
 * Comparison (RFC 3261 §19.1.4) works on the views the parser left: escapes
 * are decoded on the fly by esc_unit(), so nothing is copied. Parameter names
 * are unique per URI (the parser refuses duplicates), which makes "the
 * parameter appears in both" well defined; lists are bounded (LEX_MAX_PARAMS),
 * so the quadratic lookups in the comparison stay small.
 */
#include "uri.h"

#include <errno.h>
#include <string.h>

#include "lex.h"

/* ---- hosts ---- */

bool sip_lex_ipv4(struct strv s, uint8_t out[4])
{
	struct lex l = lex_make(s);

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, n = 0;

		if (i > 0 && !lex_eat(&l, '.'))
			return false;
		while (n < 4 && lex_is(lex_peek(&l), LX_DIGIT)) {
			v = v * 10 + (unsigned)(*l.p++ - '0');
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return false;
		out[i] = (uint8_t)v;
	}
	return lex_eof(&l);
}

/* hex4 = 1*4HEXDIG; @return its value or -1. */
static int ipv6_group(struct lex *l)
{
	int v = 0, n = 0;

	while (n < 4 && lex_hexval(lex_peek(l)) >= 0) {
		v = v << 4 | lex_hexval(lex_peek(l));
		l->p++;
		n++;
	}
	return n ? v : -1;
}

/* The IPv4address that may end an IPv6address, as two 16-bit groups. */
static bool ipv6_v4_tail(struct lex *l, uint16_t *w)
{
	uint8_t v4[4];

	if (!sip_lex_ipv4(strv_make(l->p, lex_left(l)), v4))
		return false;
	w[0] = (uint16_t)(v4[0] << 8 | v4[1]);
	w[1] = (uint16_t)(v4[2] << 8 | v4[3]);
	l->p = l->end;
	return true;
}

static bool ipv6_v4_ahead(const struct lex *l)
{
	struct lex t = *l;

	lex_span(&t, LX_HEX);
	return lex_peek(&t) == '.';
}

bool sip_lex_ipv6(struct strv s, uint8_t out[16])
{
	struct lex l = lex_make(s);
	uint16_t w[8];
	int n = 0, gap = -1;

	if (lex_eat(&l, ':')) {
		if (!lex_eat(&l, ':'))
			return false;
		gap = 0;
	}
	while (!lex_eof(&l)) {
		int g;

		if (ipv6_v4_ahead(&l)) {
			if (n > 6 || !ipv6_v4_tail(&l, &w[n]))
				return false;
			n += 2;
			break;
		}
		if (n == 8 || (g = ipv6_group(&l)) < 0)
			return false;
		w[n++] = (uint16_t)g;
		if (lex_eof(&l))
			break;
		if (!lex_eat(&l, ':'))
			return false;
		if (lex_eat(&l, ':')) {
			if (gap >= 0)
				return false;
			gap = n;
		} else if (lex_eof(&l)) {
			return false;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;

	memset(out, 0, 16);
	for (int i = 0; i < n; i++) {
		/* groups after the "::" go to the end */
		int at = (gap >= 0 && i >= gap) ? 8 - (n - i) : i;

		out[2 * at] = (uint8_t)(w[i] >> 8);
		out[2 * at + 1] = (uint8_t)w[i];
	}
	return true;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ]; labels are alphanum with
 * inner '-', and the top label starts with a letter (which tells it from IPv4). */
static bool hostname_valid(struct strv s)
{
	struct lex l = lex_make(s);
	bool top_alpha = false;

	while (!lex_eof(&l)) {
		if (!lex_is(lex_peek(&l), LX_ALPHA | LX_DIGIT))
			return false;
		top_alpha = lex_is(lex_peek(&l), LX_ALPHA);
		while (lex_is(lex_peek(&l), LX_ALPHA | LX_DIGIT) || lex_peek(&l) == '-')
			l.p++;
		if (l.p[-1] == '-')
			return false;
		if (!lex_eat(&l, '.'))
			break;
	}
	return lex_eof(&l) && top_alpha;
}

bool sip_lex_host(struct strv s)
{
	uint8_t a[16];

	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
		return sip_lex_ipv6(strv_make(s.p + 1, s.len - 2), a);
	return sip_lex_ipv4(s, a) || hostname_valid(s);
}

bool sip_lex_host_at(struct lex *l, struct strv *host, bool *ipv6)
{
	const char *start;
	uint8_t a[16];

	if (lex_eat(l, '[')) {
		start = l->p;
		while (lex_hexval(lex_peek(l)) >= 0 || lex_peek(l) == ':' || lex_peek(l) == '.')
			l->p++;
		*host = lex_since(l, start);
		*ipv6 = true;
		return lex_eat(l, ']') && sip_lex_ipv6(*host, a);
	}
	start = l->p;
	lex_span(l, LX_HOST);
	*host = lex_since(l, start);
	*ipv6 = false;
	return sip_lex_ipv4(*host, a) || hostname_valid(*host);
}

/* ---- escapes ---- */

/*
 * The next unit of an escaped view for comparison: the octet, or for an
 * escaped reserved character the octet | 0x100, since RFC 3261 §19.1.4 makes
 * only characters outside the reserved set equal to their %HH form.
 */
static unsigned esc_unit(struct lex *l)
{
	unsigned c = (unsigned char)*l->p;

	if (lex_escape_at(l, 0)) {
		c = (unsigned)(lex_hexval(lex_at(l, 1)) << 4 | lex_hexval(lex_at(l, 2)));
		l->p += 3;
		return lex_is((int)c, LX_RESERVED) ? c | 0x100 : c;
	}
	l->p++;
	return c;
}

static unsigned unit_lower(unsigned c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool esc_eq(struct strv a, struct strv b, bool icase)
{
	struct lex la = lex_make(a), lb = lex_make(b);

	while (!lex_eof(&la) && !lex_eof(&lb)) {
		unsigned ca = esc_unit(&la), cb = esc_unit(&lb);

		if (icase) {
			ca = unit_lower(ca);
			cb = unit_lower(cb);
		}
		if (ca != cb)
			return false;
	}
	return lex_eof(&la) && lex_eof(&lb);
}

static bool esc_name_is(struct strv name, const char *lit)
{
	return esc_eq(name, strv_cstr(lit), true);
}

/* ---- parameter and header lists of a parsed URI (no blanks, no quotes) ---- */

struct kv {
	struct strv name;
	struct strv value; /* empty without '=' */
};

/*
 * Splits the next element off @p rest, a list whose first byte is a separator
 * (';' for parameters, '?' then '&' for headers) and whose elements are
 * "name[=value]" separated by @p sep.
 */
static bool kv_next(struct strv *rest, char sep, struct kv *kv)
{
	const char *p, *end, *eq;

	if (rest->len == 0)
		return false;
	p = rest->p + 1;
	end = memchr(p, sep, rest->len - 1);
	if (!end)
		end = rest->p + rest->len;
	eq = memchr(p, '=', (size_t)(end - p));
	kv->name = strv_make(p, (size_t)((eq ? eq : end) - p));
	kv->value = eq ? strv_make(eq + 1, (size_t)(end - eq - 1)) : STRV_NULL;
	*rest = strv_make(end, (size_t)(rest->p + rest->len - end));
	return true;
}

/* Value of parameter @p name (unescaped, any case) in a URI parameter list. */
static bool kv_find(struct strv list, char sep, struct strv name, struct strv *value)
{
	struct kv kv;

	while (kv_next(&list, sep, &kv)) {
		if (esc_eq(kv.name, name, true)) {
			*value = kv.value;
			return true;
		}
	}
	return false;
}

/* Refuses a name seen before among the @p n in @p seen, or one too many. */
static bool uri_name_add(struct strv *seen, unsigned *n, struct strv name)
{
	for (unsigned i = 0; i < *n; i++) {
		if (esc_eq(seen[i], name, true))
			return false;
	}
	if (*n == LEX_MAX_PARAMS)
		return false;
	seen[(*n)++] = name;
	return true;
}

/* ---- sip: and sips: (RFC 3261 §19.1.1, §25) ---- */

/* userinfo = ( user / telephone-subscriber ) [ ":" password ] "@", if there is one. */
static void sip_userinfo(struct lex *l, struct sip_uri *u)
{
	struct lex t = *l;
	const char *start = t.p;
	struct strv user, password = STRV_NULL;
	bool has_password = false;

	if (lex_span_esc(&t, LX_USER) == 0)
		return;
	user = lex_since(&t, start);
	if (lex_eat(&t, ':')) {
		start = t.p;
		lex_span_esc(&t, LX_PASS);
		password = lex_since(&t, start);
		has_password = true;
	}
	if (!lex_eat(&t, '@'))
		return; /* no userinfo: what we read is the host */
	u->user = user;
	u->password = password;
	u->has_password = has_password;
	*l = t;
}

/* hostport = host [ ":" port ] */
static int sip_hostport(struct lex *l, struct sip_uri *u)
{
	if (!sip_lex_host_at(l, &u->host, &u->host_ipv6))
		return -EINVAL;
	if (lex_eat(l, ':')) {
		if (!lex_port(l, &u->port))
			return -EINVAL;
		u->has_port = true;
	}
	return 0;
}

static void sip_known_param(struct sip_uri *u, struct strv name, struct strv value)
{
	if (esc_name_is(name, "transport"))
		u->transport = value;
	else if (esc_name_is(name, "maddr"))
		u->maddr = value;
	else if (esc_name_is(name, "user"))
		u->user_param = value;
	else if (esc_name_is(name, "lr"))
		u->lr = true;
}

/* uri-parameters = *( ";" pname [ "=" pvalue ] ), pname/pvalue = 1*paramchar */
static int sip_params(struct lex *l, struct sip_uri *u)
{
	struct strv seen[LEX_MAX_PARAMS];
	const char *start = l->p;
	unsigned n = 0;

	while (lex_eat(l, ';')) {
		const char *p = l->p;
		struct strv name, value = STRV_NULL;

		if (lex_span_esc(l, LX_PARAM) == 0)
			return -EINVAL;
		name = lex_since(l, p);
		if (lex_eat(l, '=')) {
			p = l->p;
			if (lex_span_esc(l, LX_PARAM) == 0)
				return -EINVAL;
			value = lex_since(l, p);
		}
		if (!uri_name_add(seen, &n, name))
			return -EINVAL;
		sip_known_param(u, name, value);
	}
	u->params = lex_since(l, start);
	return 0;
}

/* headers = "?" hname "=" hvalue *( "&" hname "=" hvalue ) */
static int sip_headers(struct lex *l, struct sip_uri *u)
{
	const char *start = l->p;
	unsigned n = 0;

	if (!lex_eat(l, '?'))
		return 0;
	do {
		if (++n > LEX_MAX_PARAMS || lex_span_esc(l, LX_HNV) == 0 || !lex_eat(l, '='))
			return -EINVAL;
		lex_span_esc(l, LX_HNV);
	} while (lex_eat(l, '&'));
	u->headers = lex_since(l, start);
	return 0;
}

static int sip_rest(struct lex *l, struct sip_uri *u)
{
	int err;

	sip_userinfo(l, u);
	err = sip_hostport(l, u);
	if (!err)
		err = sip_params(l, u);
	if (!err)
		err = sip_headers(l, u);
	return err;
}

/* ---- tel: (RFC 3966 §3) ---- */

static bool tel_visual(int c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * global-number-digits = "+" *phonedigit DIGIT *phonedigit (after the '+'),
 * local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex.
 */
static bool tel_digits(struct lex *l, bool hex)
{
	unsigned significant = 0;

	for (int c; (c = lex_peek(l)) >= 0; l->p++) {
		if (tel_visual(c))
			continue;
		if (!(hex ? lex_is(c, LX_PHONE) : lex_is(c, LX_DIGIT)))
			break;
		significant++;
	}
	return significant > 0;
}

static bool tel_all(struct strv s, bool hex)
{
	struct lex l = lex_make(s);

	return tel_digits(&l, hex) && lex_eof(&l);
}

/* descriptor = domainname / global-number-digits */
static bool tel_descriptor(struct strv s)
{
	if (s.len && s.p[0] == '+')
		return tel_all(strv_make(s.p + 1, s.len - 1), false);
	return hostname_valid(s);
}

/* Checks the parameters with a grammar of their own; @return whether it is phone-context. */
static int tel_known_param(struct strv name, struct strv value, bool has_value)
{
	bool ctx = strv_caseeq(name, STRV("phone-context"));

	if (ctx || strv_caseeq(name, STRV("ext")) || strv_caseeq(name, STRV("isub"))) {
		if (!has_value)
			return -EINVAL;
		if (ctx && !tel_descriptor(value))
			return -EINVAL;
		if (strv_caseeq(name, STRV("ext")) && !tel_all(value, false))
			return -EINVAL;
	}
	return ctx;
}

/* *par with par = ";" pname [ "=" pvalue ], pname = 1*( alphanum / "-" ) */
static int tel_params(struct lex *l, struct sip_uri *u, bool *context)
{
	struct strv seen[LEX_MAX_PARAMS];
	const char *start = l->p;
	unsigned n = 0;

	while (lex_eat(l, ';')) {
		const char *p = l->p;
		struct strv name, value = STRV_NULL;
		bool has_value;
		int r;

		while (lex_is(lex_peek(l), LX_ALPHA | LX_DIGIT) || lex_peek(l) == '-')
			l->p++;
		name = lex_since(l, p);
		has_value = lex_eat(l, '=');
		if (has_value) {
			p = l->p;
			if (lex_span_esc(l, LX_PARAM) == 0)
				return -EINVAL;
			value = lex_since(l, p);
		}
		if (name.len == 0 || !uri_name_add(seen, &n, name))
			return -EINVAL;
		r = tel_known_param(name, value, has_value);
		if (r < 0)
			return r;
		*context |= r == 1;
	}
	u->params = lex_since(l, start);
	return 0;
}

static int tel_rest(struct lex *l, struct sip_uri *u)
{
	const char *start = l->p;
	bool global = lex_eat(l, '+');
	bool context = false;
	int err;

	if (!tel_digits(l, !global))
		return -EINVAL;
	u->user = lex_since(l, start);
	err = tel_params(l, u, &context);
	if (err)
		return err;
	/* a local number is meaningless without its context (RFC 3966 §5.1.5) */
	return (global || context) ? 0 : -EINVAL;
}

/* ---- any scheme ---- */

static int uri_scheme(struct lex *l, enum sip_uri_scheme *scheme)
{
	const char *start = l->p;
	struct strv name;

	if (!lex_is(lex_peek(l), LX_ALPHA))
		return -EINVAL;
	lex_span(l, LX_SCHEME);
	name = lex_since(l, start);
	if (!lex_eat(l, ':'))
		return -EINVAL;
	if (strv_caseeq(name, STRV("sip")))
		*scheme = SIP_URI_SIP;
	else if (strv_caseeq(name, STRV("sips")))
		*scheme = SIP_URI_SIPS;
	else if (strv_caseeq(name, STRV("tel")))
		*scheme = SIP_URI_TEL;
	else
		*scheme = SIP_URI_OTHER;
	return 0;
}

/* absoluteURI after "scheme:" (RFC 2396 as RFC 3261 §25 cites it): 1*uric. */
static int uri_opaque(struct lex *l)
{
	return lex_span_esc(l, LX_URIC) > 0 && lex_eof(l) ? -EPROTONOSUPPORT : -EINVAL;
}

int sip_uri_parse(struct sip_uri *u, struct strv text)
{
	struct lex l = lex_make(text);
	int err;

	memset(u, 0, sizeof(*u));
	err = uri_scheme(&l, &u->scheme);
	if (err)
		return err;
	switch (u->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		err = sip_rest(&l, u);
		break;
	case SIP_URI_TEL:
		err = tel_rest(&l, u);
		break;
	default:
		err = uri_opaque(&l);
		memset(u, 0, sizeof(*u));
		return err;
	}
	if (!err && !lex_eof(&l))
		err = -EINVAL;
	if (err)
		memset(u, 0, sizeof(*u));
	return err;
}

/* ---- comparison ---- */

static bool host_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	uint8_t x[16], y[16];

	if (a->host_ipv6 != b->host_ipv6)
		return false;
	if (a->host_ipv6 && sip_lex_ipv6(a->host, x) && sip_lex_ipv6(b->host, y))
		return memcmp(x, y, 16) == 0;
	if (sip_lex_ipv4(a->host, x) && sip_lex_ipv4(b->host, y))
		return memcmp(x, y, 4) == 0;
	return strv_caseeq(a->host, b->host);
}

/* Parameters that must match even when only one URI has them (§19.1.4). */
static bool param_always_compared(struct strv name)
{
	static const char *const names[] = { "transport", "user", "ttl", "method", "maddr" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (esc_name_is(name, names[i]))
			return true;
	}
	return false;
}

/* Every parameter of @p pa matches in @p pb, or may be absent from it. */
static bool params_cover(struct strv pa, struct strv pb)
{
	struct kv kv;
	struct strv v;

	while (kv_next(&pa, ';', &kv)) {
		if (kv_find(pb, ';', kv.name, &v)) {
			if (!esc_eq(kv.value, v, true))
				return false;
		} else if (param_always_compared(kv.name)) {
			return false;
		}
	}
	return true;
}

/* How often header @p h (name in any case, value exactly) occurs in @p list. */
static unsigned header_count(struct strv list, const struct kv *h)
{
	struct kv kv;
	unsigned n = 0;

	while (kv_next(&list, '&', &kv))
		n += esc_eq(kv.name, h->name, true) && esc_eq(kv.value, h->value, false);
	return n;
}

/* Headers are a multiset: each must occur as often in both. */
static bool headers_equal(struct strv ha, struct strv hb)
{
	struct strv rest = ha;
	struct kv kv;
	unsigned na = 0, nb = 0;

	while (kv_next(&rest, '&', &kv))
		na++;
	rest = hb;
	while (kv_next(&rest, '&', &kv))
		nb++;
	if (na != nb)
		return false;
	rest = ha;
	while (kv_next(&rest, '&', &kv)) {
		if (header_count(ha, &kv) != header_count(hb, &kv))
			return false;
	}
	return true;
}

static bool sip_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	return esc_eq(a->user, b->user, false) && a->has_password == b->has_password &&
	       esc_eq(a->password, b->password, false) && host_equal(a, b) &&
	       a->has_port == b->has_port && a->port == b->port &&
	       params_cover(a->params, b->params) && params_cover(b->params, a->params) &&
	       headers_equal(a->headers, b->headers);
}

/* Phone numbers and numeric parameters: visual separators do not count. */
static bool tel_digits_eq(struct strv a, struct strv b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a.len && tel_visual((unsigned char)a.p[i]))
			i++;
		while (j < b.len && tel_visual((unsigned char)b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (lex_lower(a.p[i++]) != lex_lower(b.p[j++]))
			return false;
	}
}

static bool tel_value_eq(struct strv name, struct strv va, struct strv vb)
{
	if (strv_caseeq(name, STRV("ext")) ||
	    (strv_caseeq(name, STRV("phone-context")) && va.len && va.p[0] == '+'))
		return tel_digits_eq(va, vb);
	return esc_eq(va, vb, true);
}

/* RFC 3966 §4: the same number and the same parameter set. */
static bool tel_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	struct strv rest = a->params, v;
	struct kv kv;
	unsigned na = 0, nb = 0;

	if (!tel_digits_eq(a->user, b->user))
		return false;
	while (kv_next(&rest, ';', &kv)) {
		if (!kv_find(b->params, ';', kv.name, &v) || !tel_value_eq(kv.name, kv.value, v))
			return false;
		na++;
	}
	rest = b->params;
	while (kv_next(&rest, ';', &kv))
		nb++;
	return na == nb;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		return sip_equal(a, b);
	case SIP_URI_TEL:
		return tel_equal(a, b);
	default:
		return false;
	}
}

/* ---- parameter lookup, tolerant of header syntax ---- */

static bool param_stop(int c, bool at_name)
{
	return c < 0 || c == ';' || lex_is_wsp(c) || c == '\r' || c == '\n' ||
	       (at_name && (c == '=' || c == '"'));
}

static struct strv param_word(struct lex *l, bool at_name)
{
	const char *start = l->p;

	while (!param_stop(lex_peek(l), at_name))
		l->p++;
	return lex_since(l, start);
}

bool sip_param_get(struct strv params, struct strv name, struct strv *value)
{
	struct lex l = lex_make(params);

	for (;;) {
		struct strv n, v = STRV_NULL;

		lex_sws(&l);
		if (!lex_eat(&l, ';'))
			return false;
		lex_sws(&l);
		n = param_word(&l, true);
		if (lex_sep(&l, '=')) {
			const char *start = l.p;
			struct strv inner;

			if (lex_peek(&l) == '"') {
				if (!lex_quoted(&l, &inner))
					return false;
				v = lex_since(&l, start);
			} else {
				v = param_word(&l, false);
			}
		}
		if (n.len && strv_caseeq(n, name)) {
			if (value)
				*value = v;
			return true;
		}
	}
}
