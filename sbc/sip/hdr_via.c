/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Via (RFC 3261 §20.42, §25; RFC 3581 rport):
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 * SLASH and COLON admit blanks on both sides.
 */
#include "hdr.h"

#include <errno.h>
#include <string.h>

#include "lex.h"

static int via_sent_protocol(struct lex *l, struct sip_via *v)
{
	if (!strv_caseeq(lex_token(l), STRV("SIP")) || !lex_sep(l, '/'))
		return -EINVAL;
	if (!strv_eq(lex_token(l), STRV("2.0")) || !lex_sep(l, '/'))
		return -EINVAL;
	v->transport = lex_token(l);
	return v->transport.len ? 0 : -EINVAL;
}

static int via_sent_by(struct lex *l, struct sip_via *v)
{
	if (!sip_lex_host_at(l, &v->host, &v->host_ipv6))
		return -EINVAL;
	if (lex_sep(l, ':')) {
		if (!lex_port(l, &v->port))
			return -EINVAL;
		v->has_port = true;
	}
	return 0;
}

/* via-received = "received" EQUAL ( IPv4address / IPv6address ); "[IPv6]" is common too. */
static bool via_address(struct strv s)
{
	uint8_t a[16];

	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']')
		return sip_lex_ipv6(strv_make(s.p + 1, s.len - 2), a);
	return sip_lex_ipv4(s, a) || sip_lex_ipv6(s, a);
}

static bool via_number(const struct lex_param *gp, uint64_t max, uint64_t *out)
{
	return lex_value_is_digits(gp) && strv_to_u64(gp->value, max, out) == 0;
}

static int via_param(void *arg, const struct lex_param *gp)
{
	struct sip_via *v = arg;
	uint64_t n = 0;

	if (strv_caseeq(gp->name, STRV("branch"))) {
		if (!lex_value_is_token(gp))
			return -EINVAL;
		v->branch = gp->value;
	} else if (strv_caseeq(gp->name, STRV("received"))) {
		if (!gp->has_value || gp->quoted || !via_address(gp->value))
			return -EINVAL;
		v->received = gp->value;
	} else if (strv_caseeq(gp->name, STRV("rport"))) {
		if (gp->has_value && !via_number(gp, 65535, &n))
			return -EINVAL;
		v->rport = true;
		v->rport_value = gp->has_value ? (uint16_t)n : 0;
	} else if (strv_caseeq(gp->name, STRV("maddr"))) {
		if (!gp->has_value || gp->quoted || !sip_lex_host(gp->value))
			return -EINVAL;
		v->maddr = gp->value;
	} else if (strv_caseeq(gp->name, STRV("ttl"))) {
		/* ttl = 1*3DIGIT, 0..255 */
		if (gp->value.len > 3 || !via_number(gp, 255, &n))
			return -EINVAL;
	}
	return 0;
}

int sip_via_parse(struct sip_via *v, struct strv value)
{
	struct lex l = lex_make(value);
	int err;

	memset(v, 0, sizeof(*v));
	lex_sws(&l);
	err = via_sent_protocol(&l, v);
	if (!err && !lex_sws(&l))
		err = -EINVAL;
	if (!err)
		err = via_sent_by(&l, v);
	if (!err)
		err = lex_gparams(&l, &v->params, via_param, v);
	if (!err) {
		lex_sws(&l);
		if (!lex_eof(&l))
			err = -EINVAL;
	}
	if (err)
		memset(v, 0, sizeof(*v));
	return err;
}
