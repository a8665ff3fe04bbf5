/* SPDX-License-Identifier: BSD-2-Clause */
/* The B2BUA module: identifiers, the dialog tables and request dispatch. */
#include "b2bua.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "b2bua_int.h"
#include "common/loop.h"
#include "sip/hdr.h"

uint64_t b2b_random(struct b2bua *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545F4914F6CDD1DULL;
}

void b2b_new_id(struct b2bua *b, char *buf)
{
	b2b_id_make(buf, b->inst, b->conf.shard, b2b_random(b));
}

const char *b2bua_end_name(enum b2bua_end e)
{
	static const char *const names[] = { "caller_bye", "callee_bye",   "cancelled",
					     "rejected",   "no_answer",	   "failed",
					     "shutdown",   "media_timeout" };

	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

int b2bua_alloc(struct b2bua **bp, struct sip_tsx_layer *tsx, struct sip_transport *tp,
		struct timers *ts, const struct b2bua_conf *conf)
{
	struct b2bua *b;
	int rc;

	if (!conf->route_h)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->conf = *conf;
	if (!b->conf.t1_ms)
		b->conf.t1_ms = 500;
	if (!b->conf.t2_ms)
		b->conf.t2_ms = 4000;
	b->tsx = tsx;
	b->tp = tp;
	b->ts = ts;
	rc = b2b_hdr_policy_init(&b->policy, conf->headers_allow, conf->nheaders_allow,
				 conf->headers_deny, conf->nheaders_deny);
	if (rc == 0)
		rc = b2b_dtab_init(&b->dlgs, 1024);
	if (rc == 0)
		rc = b2b_dtab_init(&b->early, 1024);
	if (rc) {
		b2bua_free(b);
		return rc;
	}
	if (getrandom(&b->rng, sizeof(b->rng), 0) != sizeof(b->rng) || b->rng == 0)
		b->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)clock_monotonic_ms();
	b->inst = (uint32_t)(b2b_random(b) >> 32);
	*bp = b;
	return 0;
}

void b2bua_free(struct b2bua *b)
{
	if (!b)
		return;
	while (b->calls)
		b2b_call_drop(b->calls);
	b2b_reapers_free(b);
	b2b_dtab_fini(&b->dlgs);
	b2b_dtab_fini(&b->early);
	free(b);
}

void b2bua_stats(const struct b2bua *b, struct b2bua_stats *st)
{
	*st = b->stats;
	st->dialogs_active = b->dlgs.count;
}

static struct strv tag_of(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	struct sip_addr a;

	if (!h || sip_addr_parse(&a, h->value) < 0)
		return STRV_NULL;
	return a.tag;
}

int b2bua_request(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req)
{
	struct strv to_tag = tag_of(req, SIP_HDR_TO);

	if (req->method == SIP_METHOD_CANCEL) {
		struct b2bua_call *c;

		if (to_tag.len) {
			/* A CANCEL of an in-dialog request: answered, the request runs on. */
			b2b_respond_plain(b, st, req,
					  sip_tsx_cancel_target(b->tsx, req) ? 200 : 481);
			return 0;
		}
		c = b2b_dtab_find(&b->early, req->call_id, tag_of(req, SIP_HDR_FROM));
		if (!c)
			return -ENOENT;
		b2b_call_cancel(c, st, req);
		return 0;
	}
	if (to_tag.len) {
		struct b2b_leg *leg = b2b_dtab_find(&b->dlgs, req->call_id, to_tag);

		if (!leg)
			b2b_respond_plain(b, st, req, 481);
		else
			b2b_call_in_dialog(leg, st, req);
		return 0;
	}
	if (req->method == SIP_METHOD_INVITE) {
		b2b_call_invite(b, st, req);
		return 0;
	}
	return -ENOENT;
}

void b2bua_ack(struct b2bua *b, const struct sip_msg *ack, const struct sip_flow *flow)
{
	struct b2b_leg *leg;

	(void)flow;
	leg = b2b_dtab_find(&b->dlgs, ack->call_id, tag_of(ack, SIP_HDR_TO));
	if (leg)
		b2b_call_ack(leg, ack);
}

const struct sa *b2bua_call_peer(const struct b2bua_call *c, enum b2bua_side side)
{
	return &c->leg[side].dlg.flow.remote;
}

void b2bua_call_end(struct b2bua_call *c, enum b2bua_end why)
{
	b2b_call_hold(c);
	b2b_call_destroy(c, why);
	b2b_call_release(c);
}

const char *b2bua_call_interface(const struct b2bua_call *c, enum b2bua_side side)
{
	return sip_transport_listener_name(c->b2b->tp, c->leg[side].dlg.flow.listener);
}

void b2bua_call_set_fail_status(struct b2bua_call *c, unsigned code)
{
	if (!c->answered && code >= 300 && code <= 699 && c->cdr.status < 300)
		c->cdr.status = code;
}
