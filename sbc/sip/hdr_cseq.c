/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Numbers and methods (RFC 3261 §20.16, §25; RFC 3262 §7.2):
 *   CSeq  = 1*DIGIT LWS Method
 *   RAck  = response-num LWS CSeq-num LWS Method
 * and the option-tag lists of Supported, Require and Unsupported.
 */
#include "hdr.h"

#include <errno.h>
#include <string.h>

#include "lex.h"

/* 1*DIGIT no larger than @p max. @return 0, -EINVAL or -ERANGE. */
static int num(struct lex *l, uint64_t max, uint64_t *out)
{
	const char *start = l->p;

	if (lex_span(l, LX_DIGIT) == 0)
		return -EINVAL;
	return strv_to_u64(lex_since(l, start), max, out);
}

/* 32-bit number then the mandatory LWS. */
static int num32_lws(struct lex *l, uint32_t *out)
{
	uint64_t v;

	if (num(l, UINT32_MAX, &v) != 0 || !lex_sws(l))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Method = token, then nothing but blanks. */
static int method_end(struct lex *l, enum sip_method *m, struct strv *name)
{
	*name = lex_token(l);
	if (name->len == 0)
		return -EINVAL;
	lex_sws(l);
	if (!lex_eof(l))
		return -EINVAL;
	*m = sip_method_from_name(*name);
	return 0;
}

int sip_cseq_parse(struct sip_cseq *c, struct strv value)
{
	struct lex l = lex_make(value);
	int err;

	memset(c, 0, sizeof(*c));
	lex_sws(&l);
	err = num32_lws(&l, &c->seq);
	if (!err)
		err = method_end(&l, &c->method, &c->method_name);
	if (err)
		memset(c, 0, sizeof(*c));
	return err;
}

int sip_rack_parse(struct sip_rack *r, struct strv value)
{
	struct lex l = lex_make(value);
	int err;

	memset(r, 0, sizeof(*r));
	lex_sws(&l);
	err = num32_lws(&l, &r->rseq);
	if (!err)
		err = num32_lws(&l, &r->cseq);
	if (!err)
		err = method_end(&l, &r->method, &r->method_name);
	if (err)
		memset(r, 0, sizeof(*r));
	return err;
}

int sip_uint_parse(struct strv value, uint32_t max, uint32_t *out)
{
	struct lex l = lex_make(value);
	uint64_t v;
	int err;

	lex_sws(&l);
	err = num(&l, max, &v);
	if (err == -EINVAL)
		return err;
	lex_sws(&l);
	if (!lex_eof(&l))
		return -EINVAL;
	if (err)
		return err;
	*out = (uint32_t)v;
	return 0;
}

bool sip_option_tag_eq(struct strv value, struct strv tag)
{
	struct lex l = lex_make(value);

	if (tag.len == 0)
		return false;
	lex_sws(&l);
	do {
		struct strv t = lex_token(&l);
		struct lex after = l;

		/* an entry is one token: "100rel x" is not 100rel */
		lex_sws(&after);
		if (t.len == 0 || (!lex_eof(&after) && lex_peek(&after) != ','))
			return false;
		if (strv_caseeq(t, tag))
			return true;
	} while (lex_sep(&l, ','));
	return false;
}
