/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * name-addr / addr-spec headers (RFC 3261 §20.10, §25):
 *   value        = STAR / ( name-addr / addr-spec ) *( SEMI generic-param )
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * RFC 4475 §3.1.1.6 asks to accept a token display name with no blank
 * before '<' ("caller<sip:...>"); that is the only leniency here.
 */
#include "hdr.h"

#include <errno.h>
#include <string.h>

#include "lex.h"

/* Contact: STAR = SWS "*" SWS, alone. */
static bool addr_star(const struct lex *l)
{
	struct lex t = *l;

	if (!lex_eat(&t, '*'))
		return false;
	lex_sws(&t);
	return lex_eof(&t);
}

/* A URI of ours must parse; any other well-formed scheme is kept as text. */
static int addr_uri(struct sip_addr *a)
{
	int err = sip_uri_parse(&a->uri, a->uri_text);

	return err == -EPROTONOSUPPORT ? 0 : err;
}

/* LAQUOT addr-spec RAQUOT, the cursor on '<'; no blanks inside. */
static int addr_bracketed(struct lex *l, struct sip_addr *a)
{
	const char *close;

	if (!lex_eat(l, '<'))
		return -EINVAL;
	close = memchr(l->p, '>', lex_left(l));
	if (!close)
		return -EINVAL;
	a->uri_text = strv_make(l->p, (size_t)(close - l->p));
	l->p = close + 1;
	return addr_uri(a);
}

/*
 * *(token LWS) before '<'. @return true with the cursor on '<' and @p display
 * set to the tokens (blanks between them included), false (cursor unchanged)
 * when this is not a name-addr with a token display name.
 */
static bool addr_token_display(struct lex *l, struct strv *display)
{
	struct lex t = *l;
	const char *last = NULL;

	while (lex_span(&t, LX_TOKEN)) {
		last = t.p;
		if (!lex_sws(&t))
			break;
	}
	if (!last || lex_peek(&t) != '<')
		return false;
	*display = strv_make(l->p, (size_t)(last - l->p));
	*l = t;
	return true;
}

/* addr-spec without <>: it ends at the header parameters or a blank. */
static int addr_spec(struct lex *l, struct sip_addr *a)
{
	const char *start = l->p;

	for (int c; (c = lex_peek(l)) >= 0 && c != ';' && !lex_is_wsp(c) && c != '\r' && c != '\n';
	     l->p++) {
		if (c == ',' || c == '?')
			return -EINVAL; /* such a URI must be in <> */
	}
	a->uri_text = lex_since(l, start);
	return addr_uri(a);
}

static int addr_name_or_spec(struct lex *l, struct sip_addr *a)
{
	if (lex_peek(l) == '"') {
		if (!lex_quoted(l, &a->display))
			return -EINVAL;
		lex_sws(l);
		return addr_bracketed(l, a);
	}
	if (lex_peek(l) == '<' || addr_token_display(l, &a->display))
		return addr_bracketed(l, a);
	return addr_spec(l, a);
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool addr_qvalue(struct strv q)
{
	struct lex l = lex_make(q);
	int first = lex_peek(&l);

	if (first != '0' && first != '1')
		return false;
	l.p++;
	if (lex_eat(&l, '.')) {
		for (int n = 0; n < 3; n++) {
			int c = lex_peek(&l);

			if (first == '0' ? !lex_is(c, LX_DIGIT) : c != '0')
				break;
			l.p++;
		}
	}
	return lex_eof(&l);
}

static int addr_param(void *arg, const struct lex_param *gp)
{
	struct sip_addr *a = arg;

	if (strv_caseeq(gp->name, STRV("tag"))) {
		if (!lex_value_is_token(gp))
			return -EINVAL;
		a->tag = gp->value;
	} else if (strv_caseeq(gp->name, STRV("expires"))) {
		if (!lex_value_is_digits(gp))
			return -EINVAL;
		a->expires = gp->value;
	} else if (strv_caseeq(gp->name, STRV("q"))) {
		if (!gp->has_value || gp->quoted || !addr_qvalue(gp->value))
			return -EINVAL;
		a->q = gp->value;
	}
	return 0;
}

int sip_addr_parse(struct sip_addr *a, struct strv value)
{
	struct lex l = lex_make(value);
	int err;

	memset(a, 0, sizeof(*a));
	lex_sws(&l);
	if (addr_star(&l)) {
		a->star = true;
		return 0;
	}
	err = addr_name_or_spec(&l, a);
	if (!err)
		err = lex_gparams(&l, &a->params, addr_param, a);
	if (!err) {
		lex_sws(&l);
		if (!lex_eof(&l))
			err = -EINVAL;
	}
	if (err)
		memset(a, 0, sizeof(*a));
	return err;
}
