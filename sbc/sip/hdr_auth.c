/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Credentials and challenges (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25;
 * RFC 2617, RFC 7616 digest; RFC 7235 token68):
 *   value      = auth-scheme LWS auth-param *( COMMA auth-param )
 *              / auth-scheme [ LWS token68 ]          (not Digest)
 *   auth-param = token EQUAL ( token / quoted-string )
 * A field may be a token where the RFC says quoted-string (qop, algorithm are
 * both seen in the wild); the caller checks the values it uses.
 */
#include "hdr.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lex.h"

static const struct {
	const char *name;
	size_t off;
} auth_fields[] = {
	{ "username", offsetof(struct sip_auth, username) },
	{ "realm", offsetof(struct sip_auth, realm) },
	{ "nonce", offsetof(struct sip_auth, nonce) },
	{ "uri", offsetof(struct sip_auth, uri) },
	{ "response", offsetof(struct sip_auth, response) },
	{ "algorithm", offsetof(struct sip_auth, algorithm) },
	{ "cnonce", offsetof(struct sip_auth, cnonce) },
	{ "opaque", offsetof(struct sip_auth, opaque) },
	{ "qop", offsetof(struct sip_auth, qop) },
	{ "nc", offsetof(struct sip_auth, nc) },
	{ "stale", offsetof(struct sip_auth, stale) },
	{ "domain", offsetof(struct sip_auth, domain) },
};

static void auth_field(struct sip_auth *a, struct strv name, struct strv value)
{
	if (strv_caseeq(name, STRV("userhash"))) {
		a->userhash = strv_caseeq(value, STRV("true"));
		return;
	}
	for (size_t i = 0; i < sizeof(auth_fields) / sizeof(auth_fields[0]); i++) {
		if (strv_caseeq(name, strv_cstr(auth_fields[i].name))) {
			*(struct strv *)((char *)a + auth_fields[i].off) = value;
			return;
		}
	}
}

/* auth-param; a quoted value is given without its quotes. */
static int auth_param(struct lex *l, struct sip_auth *a, struct lex_names *seen)
{
	struct strv name = lex_token(l), value;

	if (name.len == 0 || !lex_sep(l, '='))
		return -EINVAL;
	if (lex_peek(l) == '"') {
		if (!lex_quoted(l, &value))
			return -EINVAL;
	} else {
		value = lex_token(l);
		if (value.len == 0)
			return -EINVAL;
	}
	if (!lex_names_add(seen, name))
		return -EINVAL;
	auth_field(a, name, value);
	return 0;
}

static int auth_params(struct lex *l, struct sip_auth *a)
{
	struct lex_names seen;
	int err;

	seen.n = 0;
	do {
		err = auth_param(l, a, &seen);
		if (err)
			return err;
	} while (lex_sep(l, ','));
	lex_sws(l);
	return lex_eof(l) ? 0 : -EINVAL;
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static int auth_token68(struct lex *l, struct strv *out)
{
	const char *start = l->p;
	int c;

	while ((c = lex_peek(l)) >= 0 &&
	       (lex_is(c, LX_ALPHA | LX_DIGIT) || (c != 0 && strchr("-._~+/", c))))
		l->p++;
	if (l->p == start)
		return -EINVAL;
	while (lex_eat(l, '='))
		;
	*out = lex_since(l, start);
	lex_sws(l);
	return lex_eof(l) ? 0 : -EINVAL;
}

int sip_auth_parse(struct sip_auth *a, struct strv value)
{
	struct lex l = lex_make(value);
	struct strv scheme;
	struct lex params;
	int err;

	memset(a, 0, sizeof(*a));
	lex_sws(&l);
	scheme = lex_token(&l);
	if (scheme.len == 0)
		return -EINVAL;
	if (!lex_sws(&l) || lex_eof(&l)) {
		/* a scheme alone */
		a->scheme = scheme;
		err = lex_eof(&l) ? 0 : -EINVAL;
		goto out;
	}
	params = l;
	err = auth_params(&params, a);
	if (err && !strv_caseeq(scheme, STRV("Digest"))) {
		memset(a, 0, sizeof(*a));
		err = auth_token68(&l, &a->token68);
	}
	a->scheme = scheme;
out:
	if (err)
		memset(a, 0, sizeof(*a));
	return err;
}
