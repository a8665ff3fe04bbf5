/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Relay mode (relay.h). Per AOR:
 *
 *   state      event                                 action
 *   (none)     UA REGISTER                           entry made (key, Call-ID, tag); forward
 *   any        UA REGISTER, its slot in flight       500 + Retry-After (two slots when
 *                                                    bound: the binding's flow, any other)
 *   any        UA REGISTER over its source's rate    503 + Retry-After
 *   bound      UA refresh that the cache covers      location updated, 200 (nothing upstream)
 *   any        UA REGISTER otherwise                 forward (Expires 0 if it leaves none)
 *   in flight  upstream 2xx                          location updated, 200 to the UA
 *   in flight  upstream 401/407                      challenge relayed, kept 64*T1
 *   in flight  upstream error, timeout               error to the UA; if the request came
 *                                                    from the binding's flow (or nothing is
 *                                                    bound): bindings dropped, unregistered
 *   any        watch timer: no local binding left    unregister upstream, then entry freed
 *
 * An entry lives while it has local bindings, an upstream registration, a
 * request in flight or a fresh challenge; the watch timer runs at the AOR's
 * latest local expiry, and at once when one of its bindings is removed.
 */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/log.h"
#include "common/timer.h"
#include "registrar_int.h"
#include "sbc/b2bua/dialog.h"
#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"
#include "sbc/sip/reply.h"
#include "sbc/sip/tsx.h"

#define RELAY_OUT_MAX 65536 /* as the local registrar's: 200s list every binding */
#define RETRY_AFTER_S 5
/* How long an AOR without binding is kept after a challenge: 64*T1, the UA's Timer F. */
#define CHALLENGE_KEEP_MS 32000
/* Sources tracked by the per-source pacer: a fixed table, a colliding newcomer takes the slot. */
#define SRC_SLOTS 256

enum req_kind { REQ_REGISTER, REQ_UNREGISTER, REQ_QUERY };

struct relay_aor;

/* One upstream REGISTER in flight, and the UA request it answers (if any). */
struct relay_req {
	struct relay_aor *a;
	struct sip_tsx *ct; /* upstream client transaction */
	struct sip_tsx *st; /* the UA's server transaction; NULL: ours (watch) or gone */
	enum req_kind kind;
	bool ours;	/* the watch's unregister, not a UA's */
	bool foreign;	/* in a->freq: from another flow than the binding's */
	uint32_t asked; /* Expires asked upstream */
	struct sip_flow flow;
	/* Of the UA's request; stored in the AOR only on a 2xx (unauthenticated until then). */
	char *ruri, *to_uri;
	size_t len;
	char buf[]; /* copy of the UA's REGISTER */
};

struct relay_aor {
	struct registrar_relay *rr;
	struct relay_aor *next_aor, *next_key; /* hash chains */
	uint32_t h_aor, h_key;
	char key[B2B_ID_LEN + 1];     /* Contact user upstream */
	char call_id[B2B_ID_LEN + 1]; /* upstream Call-ID, kept across refreshes */
	char tag[B2B_ID_LEN + 1];     /* upstream From tag */
	uint32_t cseq;
	bool bound; /* the upstream holds our Contact */
	uint64_t up_expires_ms;
	/* the UA registration the cache stands for */
	uint64_t ua_callid_h;
	uint64_t contacts_h;
	struct sip_flow ua_flow;
	char *ruri, *to_uri; /* of the last registration upstream accepted (watch unregisters) */
	struct relay_req *req;
	/*
	 * A request from another flow than the bound one (a phone that moved, or
	 * anyone): its own slot, Call-ID and CSeq, so that it never delays the
	 * owner's refresh nor races its CSeq. Adopted as the AOR's Call-ID on 2xx.
	 */
	struct relay_req *freq;
	char fcall_id[B2B_ID_LEN + 1];
	uint32_t fcseq;
	uint64_t keep_until_ms; /* after a challenge: the UA's retry keeps Call-ID and CSeq */
	struct timer watch;
	size_t aor_len;
	char aor[];
};

struct registrar_relay {
	struct registrar *r;
	struct location *loc;
	struct timers *ts;
	struct sip_tsx_layer *tsx;
	struct registrar_relay_conf conf;
	struct sip_flow dest; /* toward upstream */
	char host[SA_STRLEN + 8];
	struct registrar_relay_pacer pacer;
	/* Per source address: one host cannot spend the global pacer alone. */
	struct src_bucket {
		uint64_t id; /* 0: free */
		struct registrar_relay_pacer p;
	} src[SRC_SLOTS];
	uint64_t src_seed;
	uint32_t inst;
	uint64_t rng;
	struct relay_aor **by_aor, **by_key;
	uint32_t mask, count;
	struct registrar_relay_stats st;
	struct log_ratelimit rl; /* about the upstream: one line per interval */
	char out[RELAY_OUT_MAX];
};

/* --- decisions ----------------------------------------------------------- */

enum registrar_relay_action registrar_relay_decide(const struct registrar_relay_view *v)
{
	uint64_t need;

	if (v->pending)
		return RELAY_BUSY;
	if (v->leaves_none)
		return RELAY_UNREGISTER;
	if (!v->bound || !v->same_call_id || !v->same_flow || !v->same_contacts)
		return RELAY_FORWARD;
	/* The upstream registration must outlive what the UA is granted now, with margin. */
	need = v->now_ms + ((uint64_t)v->grant_s + v->margin_s) * 1000;
	return v->up_expires_ms >= need ? RELAY_CACHED : RELAY_FORWARD;
}

uint32_t registrar_relay_local_expires(uint32_t asked, uint32_t endpoint, uint32_t granted)
{
	uint32_t e = asked;

	if (e > endpoint)
		e = endpoint;
	if (e > granted)
		e = granted;
	return e;
}

bool registrar_relay_pace(struct registrar_relay_pacer *p, uint64_t now_ms)
{
	if (now_ms / 1000 != p->second) {
		p->second = now_ms / 1000;
		p->tokens = p->rate;
	}
	if (!p->tokens)
		return false;
	p->tokens--;
	return true;
}

/* Seeded FNV-1a of the source's address (not port): collisions unpredictable from outside. */
static uint64_t src_id(const struct registrar_relay *rr, const struct sa *sa)
{
	const uint8_t *p = (const uint8_t *)&sa->u.in.sin_addr;
	size_t n = sizeof(sa->u.in.sin_addr);
	uint64_t h = rr->src_seed;

	if (sa_family(sa) == AF_INET6) {
		p = (const uint8_t *)&sa->u.in6.sin6_addr;
		n = sizeof(sa->u.in6.sin6_addr);
	}
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h | 1;
}

/* One token of @p src's bucket (max_per_source per second). */
static bool pace_source(struct registrar_relay *rr, const struct sa *src, uint64_t now_ms)
{
	uint64_t id = src_id(rr, src);
	struct src_bucket *b = &rr->src[(id >> 32) & (SRC_SLOTS - 1)];

	if (b->id != id) /* a newcomer takes the slot: a full bucket */
		*b = (struct src_bucket){ .id = id,
					  .p = { .rate = rr->conf.max_per_source,
						 .tokens = rr->conf.max_per_source,
						 .second = now_ms / 1000 } };
	return registrar_relay_pace(&b->p, now_ms);
}

/* --- entries ------------------------------------------------------------- */

static uint64_t hash64(struct strv s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < s.len; i++) {
		h ^= (uint8_t)s.p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint32_t hash32(struct strv s)
{
	uint64_t h = hash64(s);

	return (uint32_t)(h ^ h >> 32);
}

static uint64_t next_random(struct registrar_relay *rr)
{
	rr->rng ^= rr->rng >> 12;
	rr->rng ^= rr->rng << 25;
	rr->rng ^= rr->rng >> 27;
	return rr->rng * 0x2545F4914F6CDD1DULL;
}

static void new_id(struct registrar_relay *rr, char *buf)
{
	b2b_id_make(buf, rr->inst, rr->conf.shard, next_random(rr));
}

static struct relay_aor *find_aor(const struct registrar_relay *rr, struct strv aor)
{
	uint32_t h = hash32(aor);

	for (struct relay_aor *a = rr->by_aor[h & rr->mask]; a; a = a->next_aor) {
		if (a->h_aor == h && strv_eq(strv_make(a->aor, a->aor_len), aor))
			return a;
	}
	return NULL;
}

static struct relay_aor *find_key(const struct registrar_relay *rr, struct strv key)
{
	uint32_t h = hash32(key);

	for (struct relay_aor *a = rr->by_key[h & rr->mask]; a; a = a->next_key) {
		if (a->h_key == h && strv_eq_cstr(key, a->key))
			return a;
	}
	return NULL;
}

static void link_aor(struct registrar_relay *rr, struct relay_aor *a)
{
	a->next_aor = rr->by_aor[a->h_aor & rr->mask];
	rr->by_aor[a->h_aor & rr->mask] = a;
	a->next_key = rr->by_key[a->h_key & rr->mask];
	rr->by_key[a->h_key & rr->mask] = a;
}

/* Doubles both tables when the load passes 1 (lookups stay O(1)). */
static void grow(struct registrar_relay *rr)
{
	uint32_t n = (rr->mask + 1) * 2;
	struct relay_aor **na = calloc(n, sizeof(*na)), **nk = calloc(n, sizeof(*nk));
	struct relay_aor **oa = rr->by_aor;
	uint32_t omask = rr->mask;

	if (!na || !nk) {
		free(na);
		free(nk);
		return; /* chains just get longer */
	}
	rr->by_aor = na;
	free(rr->by_key);
	rr->by_key = nk;
	rr->mask = n - 1;
	for (uint32_t i = 0; i <= omask; i++) {
		for (struct relay_aor *a = oa[i], *next; a; a = next) {
			next = a->next_aor;
			link_aor(rr, a);
		}
	}
	free(oa);
}

static void unlink_chain(struct relay_aor **pp, struct relay_aor *a, bool key)
{
	for (; *pp; pp = key ? &(*pp)->next_key : &(*pp)->next_aor) {
		if (*pp == a) {
			*pp = key ? a->next_key : a->next_aor;
			return;
		}
	}
}

static void on_watch(void *arg);

static struct relay_aor *entry_new(struct registrar_relay *rr, struct strv aor)
{
	struct relay_aor *a = calloc(1, sizeof(*a) + aor.len + 1);

	if (!a)
		return NULL;
	a->rr = rr;
	memcpy(a->aor, aor.p, aor.len);
	a->aor_len = aor.len;
	a->h_aor = hash32(aor);
	do {
		new_id(rr, a->key);
	} while (find_key(rr, strv_cstr(a->key)));
	a->h_key = hash32(strv_cstr(a->key));
	new_id(rr, a->call_id);
	new_id(rr, a->fcall_id);
	new_id(rr, a->tag);
	timer_init(&a->watch);
	link_aor(rr, a);
	if (++rr->count > rr->mask + 1)
		grow(rr);
	return a;
}

static void req_detach(struct relay_req *q);

static void req_free(struct relay_req *q)
{
	free(q->ruri);
	free(q->to_uri);
	free(q);
}

static void entry_free(struct relay_aor *a)
{
	struct registrar_relay *rr = a->rr;

	if (a->req) {
		req_detach(a->req);
		a->req = NULL;
	}
	if (a->freq) {
		req_detach(a->freq);
		a->freq = NULL;
	}
	timer_cancel(rr->ts, &a->watch);
	unlink_chain(&rr->by_aor[a->h_aor & rr->mask], a, false);
	unlink_chain(&rr->by_key[a->h_key & rr->mask], a, true);
	rr->count--;
	free(a->ruri);
	free(a->to_uri);
	free(a);
}

int registrar_relay_aor(const struct registrar_relay *rr, struct strv user, char *aor)
{
	const struct relay_aor *a;

	if (user.len != B2B_ID_LEN)
		return -ENOENT;
	a = find_key(rr, user);
	if (!a)
		return -ENOENT;
	memcpy(aor, a->aor, a->aor_len + 1);
	return (int)a->aor_len;
}

bool registrar_relay_is_key(const struct registrar *r, struct strv user)
{
	const struct registrar_relay *rr = r ? registrar_relay_of(r) : NULL;

	/* Our instance in it: a key of ours, even once its AOR is gone. */
	return rr && user.len == B2B_ID_LEN && b2b_id_shard(user, rr->inst) >= 0;
}

/* --- responses to the UA ------------------------------------------------- */

/*
 * @p code to UA request @p m on @p st: with the challenges of @p resp
 * (401/407), Retry-After on 500/503, else as registrar_reply_status.
 */
static void respond(struct registrar_relay *rr, struct sip_tsx *st, const struct sip_msg *m,
		    const struct sip_flow *flow, unsigned code, const struct sip_msg *resp)
{
	char tag[B2B_ID_LEN + 1];
	struct sip_pbuf b;
	long len;

	if (code == 401 || code == 407 || code == 500 || code == 503) {
		new_id(rr, tag);
		sip_print_init(&b, rr->out, sizeof(rr->out));
		len = -EINVAL;
		if (sip_reply_begin(&b, m, flow, code, STRV_NULL, strv_cstr(tag)) == 0) {
			if (resp) {
				sip_print_copy_all(&b, resp, SIP_HDR_WWW_AUTHENTICATE,
						   SIP_PRINT_NAME_CANONICAL);
				sip_print_copy_all(&b, resp, SIP_HDR_PROXY_AUTHENTICATE,
						   SIP_PRINT_NAME_CANONICAL);
			}
			if (code == 500 || code == 503)
				sip_print_hdrf_name(&b, "Retry-After", "%u", RETRY_AFTER_S);
			sip_print_body(&b, STRV_NULL, STRV_NULL);
			len = sip_print_finish(&b);
		}
	} else {
		len = registrar_reply_status(rr->r, m, flow, code, NULL, rr->out, sizeof(rr->out));
	}
	if (len < 0 || sip_tsx_respond(st, rr->out, (size_t)len) < 0) {
		log_warn("registrar relay: could not answer %u to a REGISTER", code);
		sip_tsx_terminate(st);
	}
}

static void respond_ok(struct registrar_relay *rr, struct sip_tsx *st, const struct sip_msg *m,
		       const struct sip_flow *flow, struct strv aor)
{
	long len = registrar_reply_ok(rr->r, m, flow, aor, rr->out, sizeof(rr->out));

	if (len < 0 || sip_tsx_respond(st, rr->out, (size_t)len) < 0) {
		log_warn("registrar relay: could not answer 200 to a REGISTER");
		sip_tsx_terminate(st);
	}
}

/* --- the UA's contacts --------------------------------------------------- */

/* Order-independent digest of the contact URIs that stay (expires > 0). */
static uint64_t contacts_hash(const struct reg_contacts *c)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->b[i].expires_s)
			h += hash64(c->b[i].uri) | 1;
	}
	return h;
}

static bool has_removal(const struct reg_contacts *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (!c->b[i].expires_s)
			return true;
	}
	return c->star;
}

static bool uri_same(struct strv x, const struct location_contact *c)
{
	struct sip_uri u;

	if (c->puri.scheme != SIP_URI_OTHER && sip_uri_parse(&u, x) == 0)
		return sip_uri_equal(&u, &c->puri);
	return strv_eq(x, strv_make(c->uri, c->uri_len));
}

/* Whether the request leaves the AOR without a binding. */
static bool leaves_none(struct registrar_relay *rr, struct strv aor, const struct reg_contacts *c)
{
	const struct location_contact *live[LOCATION_MAX_BINDINGS];
	unsigned n;

	if (c->star)
		return true;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->b[i].expires_s)
			return false;
	}
	n = location_lookup(rr->loc, aor, live, LOCATION_MAX_BINDINGS);
	for (unsigned i = 0; i < n; i++) {
		bool removed = false;

		for (unsigned j = 0; j < c->n && !removed; j++)
			removed = uri_same(c->b[j].uri, live[i]);
		if (!removed)
			return false;
	}
	return true;
}

static bool same_flow(const struct sip_flow *x, const struct sip_flow *y)
{
	return x->proto == y->proto && x->conn_id == y->conn_id && x->listener == y->listener &&
	       sa_equal(&x->remote, &y->remote);
}

static uint32_t max_asked(const struct reg_contacts *c)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < c->n; i++) {
		if (c->b[i].expires_s > m)
			m = c->b[i].expires_s;
	}
	return m;
}

/*
 * Stores the UA's contacts of @p m with expiries cut to @p granted (upstream).
 * @return 0 or the status for the UA.
 */
static unsigned apply_local(struct registrar_relay *rr, struct relay_aor *a,
			    const struct sip_msg *m, const struct sip_flow *flow, uint32_t granted)
{
	struct strv aor = strv_make(a->aor, a->aor_len);
	struct reg_contacts c;
	const char *reason;
	unsigned code = registrar_read_contacts(rr->r, m, &c, &reason);
	int err;

	if (code)
		return code;
	if (c.star) {
		err = location_unregister_all(rr->loc, aor, m->call_id, m->cseq);
	} else {
		for (unsigned i = 0; i < c.n; i++)
			c.b[i].expires_s = registrar_relay_local_expires(
			    c.b[i].expires_s, rr->conf.endpoint_expires, granted);
		err = location_register(rr->loc, aor, m->call_id, m->cseq, flow, c.b, c.n);
	}
	code = registrar_location_status(err, &reason);
	if (code)
		return code;
	a->ua_callid_h = hash64(m->call_id);
	a->contacts_h = contacts_hash(&c);
	a->ua_flow = *flow;
	return 0;
}

/* --- watching the local bindings ----------------------------------------- */

static int send_upstream(struct registrar_relay *rr, struct relay_aor *a, struct relay_req *q,
			 const struct sip_msg *m);

/* Background unregister: no UA waits for it. */
static void unregister_now(struct registrar_relay *rr, struct relay_aor *a)
{
	struct relay_req *q;

	if (!registrar_relay_pace(&rr->pacer, timers_now(rr->ts))) {
		timer_start(rr->ts, &a->watch, 1000, on_watch, a); /* paced: a second later */
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		timer_start(rr->ts, &a->watch, 1000, on_watch, a);
		return;
	}
	q->a = a;
	q->kind = REQ_UNREGISTER;
	q->ours = true;
	if (send_upstream(rr, a, q, NULL) < 0) {
		rr->st.unreg_failed++;
		free(q);
		entry_free(a);
		return;
	}
	rr->st.unregisters++;
}

/*
 * Re-arms the watch at the AOR's latest local expiry; without a binding left,
 * unregisters upstream or frees the entry.
 */
static void watch(struct registrar_relay *rr, struct relay_aor *a)
{
	const struct location_contact *c[LOCATION_MAX_BINDINGS];
	unsigned n =
	    location_lookup(rr->loc, strv_make(a->aor, a->aor_len), c, LOCATION_MAX_BINDINGS);
	uint64_t now = timers_now(rr->ts), last = 0;

	if (a->req)
		return; /* looked at again when it ends */
	if (!n && a->bound) {
		unregister_now(rr, a);
		return;
	}
	if (!n && a->freq)
		return; /* looked at again when it ends */
	if (!n && a->keep_until_ms <= now) {
		entry_free(a);
		return;
	}
	if (!n) {
		timer_start(rr->ts, &a->watch, a->keep_until_ms - now, on_watch, a);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (c[i]->expires_ms > last)
			last = c[i]->expires_ms;
	}
	/* +1: the location skips a contact only once its expiry has passed. */
	timer_start(rr->ts, &a->watch, last - now + 1, on_watch, a);
}

static void on_watch(void *arg)
{
	struct relay_aor *a = arg;

	watch(a->rr, a);
}

/*
 * A binding went (keep-alives failed, its connection closed, a REGISTER):
 * the AOR is looked at at once rather than at its latest expiry. Only a
 * timer: the location must not change under its hook.
 */
static void on_contact(void *arg, struct location_contact *c, bool added)
{
	struct registrar_relay *rr = arg;
	struct relay_aor *a;

	if (added)
		return;
	a = find_aor(rr, location_contact_aor(c));
	if (a && !a->req)
		timer_start(rr->ts, &a->watch, 0, on_watch, a);
}

/* --- upstream ------------------------------------------------------------ */

static void on_st_term(void *arg, struct sip_tsx *t)
{
	struct relay_req *q = arg;

	(void)t;
	q->st = NULL;
}

static const struct sip_tsx_handlers st_handlers = { .term_h = on_st_term };

/* Forgets @p q: its transactions no longer report to it. */
static void req_detach(struct relay_req *q)
{
	if (q->ct) {
		sip_tsx_set_handlers(q->ct, NULL, NULL);
		sip_tsx_terminate(q->ct);
	}
	if (q->st) {
		sip_tsx_set_handlers(q->st, NULL, NULL);
		sip_tsx_terminate(q->st);
	}
	req_free(q);
}

/* Seconds the upstream granted our Contact: its expires, else Expires, else asked. */
static uint32_t granted_expires(const struct relay_aor *a, const struct sip_msg *resp,
				uint32_t asked)
{
	const struct sip_hdr *h;
	uint32_t v;

	for (h = sip_msg_hdr(resp, SIP_HDR_CONTACT); h; h = sip_msg_hdr_next(resp, h)) {
		struct sip_addr c;

		if (sip_addr_parse(&c, h->value) < 0 || c.star || !strv_eq_cstr(c.uri.user, a->key))
			continue;
		if (c.expires.len && sip_uint_parse(c.expires, UINT32_MAX, &v) == 0)
			return v < asked ? v : asked;
	}
	h = sip_msg_hdr(resp, SIP_HDR_EXPIRES);
	if (h && sip_uint_parse(h->value, UINT32_MAX, &v) == 0)
		return v < asked ? v : asked;
	return asked;
}

/*
 * The status the UA gets for an upstream final @p code (0: timeout, -1: send
 * error). A 423 is about upstream_expires, which the UA cannot change: 503.
 */
static unsigned map_status(int code)
{
	if (code == 0)
		return 504;
	if (code < 0 || code >= 500 || code == 423)
		return 503;
	return (unsigned)code;
}

/* An upstream failure, at most once per interval (an outage fails every REGISTER). */
static void log_upstream(struct registrar_relay *rr, int code, const struct relay_aor *a)
{
	char to[SA_STRLEN];

	log_ratelimited(&rr->rl, &rr->dest.remote.u.sa, timers_now(rr->ts), LOG_LVL_NOTICE,
			"registrar relay: REGISTER of %s to %s: %s %d", a->aor,
			sa_print(&rr->dest.remote, to, sizeof(to)),
			code == 0  ? "no response"
			: code < 0 ? "transport error"
				   : "status",
			code);
}

/*
 * Drops the local bindings after a failure. a->bound stays: the watch then
 * unregisters upstream rather than leaving our Contact there.
 */
static void drop_local(struct registrar_relay *rr, struct relay_aor *a)
{
	location_unregister_all(rr->loc, strv_make(a->aor, a->aor_len), STRV_NULL, 0);
}

/*
 * Whether a failure of @p q may drop the AOR's bindings: only one that
 * answers the binding's own flow. Anyone can send a REGISTER for any AOR,
 * and an upstream 403/404/timeout proves nothing against the bound UA.
 */
static bool from_owner(const struct relay_aor *a, const struct relay_req *q)
{
	return !a->bound || same_flow(&a->ua_flow, &q->flow);
}

/* After a 2xx: what the request carried becomes the AOR's (the watch's unregister). */
static void commit_request(struct registrar_relay *rr, struct relay_aor *a, struct relay_req *q)
{
	if (q->foreign && q->kind != REQ_QUERY) {
		/* The upstream binding now has the foreign Call-ID: refreshes go on with it. */
		memcpy(a->call_id, a->fcall_id, sizeof(a->call_id));
		a->cseq = a->fcseq;
		new_id(rr, a->fcall_id);
		a->fcseq = 0;
	}
	if (!q->ruri)
		return;
	free(a->ruri);
	free(a->to_uri);
	a->ruri = q->ruri;
	a->to_uri = q->to_uri;
	q->ruri = q->to_uri = NULL;
}

/* Upstream 2xx for @p q; @p m is the UA's request (NULL for ours). @return UA status. */
static unsigned upstream_ok(struct registrar_relay *rr, struct relay_req *q,
			    const struct sip_msg *resp, const struct sip_msg *m)
{
	struct relay_aor *a = q->a;
	uint32_t granted;
	unsigned code;

	a->keep_until_ms = 0; /* the challenge was answered */
	if (q->kind == REQ_QUERY)
		return 200;
	if (q->kind == REQ_UNREGISTER) {
		a->bound = false;
		if (m)
			apply_local(rr, a, m, &q->flow, 0);
		return 200;
	}
	granted = granted_expires(a, resp, q->asked);
	a->bound = granted > 0;
	a->up_expires_ms = timers_now(rr->ts) + (uint64_t)granted * 1000;
	if (!granted) {
		drop_local(rr, a); /* a->bound is false: nothing to unregister */
		return 503;
	}
	code = m ? apply_local(rr, a, m, &q->flow, granted) : 0;
	return code ? code : 200;
}

/*
 * The end of @p q: @p code is the upstream final status (0 timeout, -1 send
 * error), @p resp the response if any. Answers the UA, frees @p q.
 */
static void finish(struct registrar_relay *rr, struct relay_req *q, int code,
		   const struct sip_msg *resp)
{
	struct relay_aor *a = q->a;
	struct sip_limits lim = { 0 };
	struct sip_msg m;
	bool have_m = q->st && sip_msg_parse(&m, q->buf, q->len, &lim, NULL) == 0;
	unsigned ua = map_status(code);

	*(q->foreign ? &a->freq : &a->req) = NULL;
	/* Unhooked first: answering may end the transactions (no term_h into q). */
	if (q->st)
		sip_tsx_set_handlers(q->st, NULL, NULL);
	if (q->ct)
		sip_tsx_set_handlers(q->ct, NULL, NULL);
	if (code >= 200 && code < 300) {
		commit_request(rr, a, q);
		ua = upstream_ok(rr, q, resp, have_m ? &m : NULL);
	} else if (code == 401 || code == 407) {
		rr->st.challenges++;
		a->keep_until_ms = timers_now(rr->ts) + CHALLENGE_KEEP_MS;
		if (q->ours) {
			rr->st.unreg_failed++; /* no credentials of our own: left to expire */
			a->bound = false;
		}
	} else {
		rr->st.failures++;
		log_upstream(rr, code, a);
		if (q->ours) {
			rr->st.unreg_failed++; /* given up: left to expire upstream */
			a->bound = false;
		} else if (from_owner(a, q)) {
			drop_local(rr, a);
		}
	}
	if (have_m) {
		if (ua == 200)
			respond_ok(rr, q->st, &m, &q->flow, strv_make(a->aor, a->aor_len));
		else
			respond(rr, q->st, &m, &q->flow, ua, resp);
	}
	req_free(q);
	watch(rr, a);
}

static void on_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct relay_req *q = arg;

	(void)t;
	if (resp->status >= 200)
		finish(q->a->rr, q, resp->status, resp);
}

static void on_ct_err(void *arg, struct sip_tsx *t, int err)
{
	struct relay_req *q = arg;

	(void)t;
	finish(q->a->rr, q, err == -ETIMEDOUT ? 0 : -1, NULL); /* unhooks t: no term_h */
}

static void on_ct_term(void *arg, struct sip_tsx *t)
{
	struct relay_req *q = arg;

	(void)t;
	q->ct = NULL;
	finish(q->a->rr, q, -1, NULL); /* ended without a final response */
}

static const struct sip_tsx_handlers ct_handlers = {
	.resp_h = on_ct_resp,
	.err_h = on_ct_err,
	.term_h = on_ct_term,
};

/* R-URI and To URI of @p m, into @p q (the AOR's on a 2xx). */
static int save_request(struct relay_req *q, const struct sip_msg *m)
{
	const struct sip_hdr *to = sip_msg_hdr(m, SIP_HDR_TO);
	struct sip_addr ta;

	if (!to || sip_addr_parse(&ta, to->value) < 0)
		return -EINVAL;
	q->ruri = strndup(m->ruri.p, m->ruri.len);
	q->to_uri = strndup(ta.uri_text.p, ta.uri_text.len);
	if (!q->ruri || !q->to_uri) {
		free(q->ruri);
		free(q->to_uri);
		return -ENOMEM;
	}
	return 0;
}

/* Our REGISTER for @p q into rr->out. @return its length or a negative errno. */
static long build_register(struct registrar_relay *rr, struct relay_aor *a,
			   const struct relay_req *q, const struct sip_msg *m)
{
	char branch[8 + B2B_ID_LEN + 1] = "z9hG4bK";
	const char *transport = rr->dest.proto == SIP_PROTO_TLS	  ? ";transport=tls"
				: rr->dest.proto == SIP_PROTO_TCP ? ";transport=tcp"
								  : "";
	const char *ruri = q->ruri ? q->ruri : a->ruri;
	const char *to_uri = q->to_uri ? q->to_uri : a->to_uri;
	struct sip_pbuf b;

	new_id(rr, branch + 7);
	sip_print_init(&b, rr->out, sizeof(rr->out));
	sip_print_request_line_m(&b, SIP_METHOD_REGISTER, strv_cstr(ruri));
	sip_print_hdrf(&b, SIP_HDR_VIA, "SIP/2.0/%s %s;branch=%s;rport",
		       sip_proto_name((enum sip_proto)rr->dest.proto), rr->host, branch);
	sip_print_hdr_uint(&b, SIP_HDR_MAX_FORWARDS, 70);
	sip_print_hdrf(&b, SIP_HDR_FROM, "<%s>;tag=%s", to_uri, a->tag);
	sip_print_hdrf(&b, SIP_HDR_TO, "<%s>", to_uri);
	sip_print_hdr(&b, SIP_HDR_CALL_ID, strv_cstr(q->foreign ? a->fcall_id : a->call_id));
	sip_print_hdrf(&b, SIP_HDR_CSEQ, "%u REGISTER", q->foreign ? ++a->fcseq : ++a->cseq);
	if (q->kind != REQ_QUERY) {
		sip_print_hdrf(&b, SIP_HDR_CONTACT, "<sip:%s@%s%s>", a->key, rr->host, transport);
		sip_print_hdr_uint(&b, SIP_HDR_EXPIRES, q->asked);
	}
	/*
	 * The UA's own credentials. The watch's unregister has none: a replay of
	 * the last ones would carry a stale nonce count (or someone else's); a
	 * challenge to it is counted and the upstream binding left to expire.
	 */
	if (m) {
		sip_print_copy_all(&b, m, SIP_HDR_AUTHORIZATION, SIP_PRINT_NAME_CANONICAL);
		sip_print_copy_all(&b, m, SIP_HDR_PROXY_AUTHORIZATION, SIP_PRINT_NAME_CANONICAL);
	}
	sip_print_body(&b, STRV_NULL, STRV_NULL);
	return sip_print_finish(&b);
}

/* Sends @p q upstream (for UA request @p m, or NULL). @return 0 or a negative errno. */
static int send_upstream(struct registrar_relay *rr, struct relay_aor *a, struct relay_req *q,
			 const struct sip_msg *m)
{
	long len;
	int rc;

	if (!q->ruri && !a->ruri)
		return -EINVAL; /* never registered: nothing to unregister */
	q->asked = q->kind == REQ_REGISTER ? rr->conf.upstream_expires : 0;
	len = build_register(rr, a, q, m);
	if (len < 0)
		return (int)len;
	rc = sip_tsx_request(rr->tsx, &q->ct, rr->out, (size_t)len, &rr->dest,
			     sip_proto_is_stream((enum sip_proto)rr->dest.proto), &ct_handlers, q);
	if (rc < 0) {
		q->ct = NULL;
		return rc;
	}
	*(q->foreign ? &a->freq : &a->req) = q;
	return 0;
}

/* Whether a request from @p flow goes in the foreign slot: the AOR is bound elsewhere. */
static bool is_foreign(const struct relay_aor *a, const struct sip_flow *flow)
{
	return a->bound && !same_flow(&a->ua_flow, flow);
}

/* Whether the slot a request from @p flow would take is in flight. */
static bool slot_busy(const struct relay_aor *a, const struct sip_flow *flow)
{
	return is_foreign(a, flow) ? a->freq != NULL : a->req != NULL;
}

/* Forwards UA request @p m (on @p st) upstream as @p kind. */
static void forward(struct registrar_relay *rr, struct relay_aor *a, struct sip_tsx *st,
		    const struct sip_msg *m, enum req_kind kind)
{
	const struct sip_flow *flow = sip_tsx_dest(st);
	struct relay_req *q;
	int rc;

	if (!pace_source(rr, &flow->remote, timers_now(rr->ts))) {
		rr->st.src_paced++;
		respond(rr, st, m, flow, 503, NULL);
		watch(rr, a);
		return;
	}
	if (!registrar_relay_pace(&rr->pacer, timers_now(rr->ts))) {
		rr->st.paced++;
		respond(rr, st, m, flow, 503, NULL);
		watch(rr, a);
		return;
	}
	q = malloc(sizeof(*q) + m->len);
	if (q)
		*q = (struct relay_req){ .a = a,
					 .st = st,
					 .kind = kind,
					 .foreign = is_foreign(a, flow),
					 .flow = *flow,
					 .len = m->len };
	if (!q || save_request(q, m) < 0) {
		free(q);
		respond(rr, st, m, flow, 500, NULL);
		watch(rr, a);
		return;
	}
	memcpy(q->buf, m->buf, m->len);
	rc = send_upstream(rr, a, q, m);
	if (rc < 0) {
		log_upstream(rr, rc, a);
		rr->st.failures++;
		req_free(q);
		respond(rr, st, m, flow, 503, NULL);
		watch(rr, a);
		return;
	}
	rr->st.forwarded++;
	sip_tsx_set_handlers(st, &st_handlers, q);
}

/* --- UA requests --------------------------------------------------------- */

/* A refresh the cache covers: stored locally, answered here. */
static void answer_cached(struct registrar_relay *rr, struct relay_aor *a, struct sip_tsx *st,
			  const struct sip_msg *m)
{
	const struct sip_flow *flow = sip_tsx_dest(st);
	uint64_t now = timers_now(rr->ts);
	uint32_t left = (uint32_t)((a->up_expires_ms - now) / 1000);
	unsigned code = apply_local(rr, a, m, flow, left);

	rr->st.cached++;
	if (code)
		respond(rr, st, m, flow, code, NULL);
	else
		respond_ok(rr, st, m, flow, strv_make(a->aor, a->aor_len));
	watch(rr, a);
}

static void handle_contacts(struct registrar_relay *rr, struct relay_aor *a, struct sip_tsx *st,
			    const struct sip_msg *m, const struct reg_contacts *c)
{
	const struct sip_flow *flow = sip_tsx_dest(st);
	struct strv aor = strv_make(a->aor, a->aor_len);
	struct registrar_relay_view v = {
		.bound = a->bound,
		.pending = slot_busy(a, flow),
		.now_ms = timers_now(rr->ts),
		.up_expires_ms = a->up_expires_ms,
		.grant_s = registrar_relay_local_expires(max_asked(c), rr->conf.endpoint_expires,
							 UINT32_MAX),
		.margin_s = rr->conf.refresh_margin,
		.leaves_none = leaves_none(rr, aor, c),
		.same_call_id = a->ua_callid_h == hash64(m->call_id),
		.same_flow = same_flow(&a->ua_flow, flow),
		.same_contacts = !has_removal(c) && a->contacts_h == contacts_hash(c),
	};

	switch (registrar_relay_decide(&v)) {
	case RELAY_BUSY:
		rr->st.busy++;
		respond(rr, st, m, flow, 500, NULL);
		break;
	case RELAY_CACHED:
		answer_cached(rr, a, st, m);
		break;
	case RELAY_UNREGISTER:
		forward(rr, a, st, m, REQ_UNREGISTER);
		break;
	case RELAY_FORWARD:
		forward(rr, a, st, m, REQ_REGISTER);
		break;
	}
}

int registrar_relay_handle(struct registrar_relay *rr, struct sip_tsx *st, const struct sip_msg *m)
{
	const struct sip_flow *flow = sip_tsx_dest(st);
	char aor[LOCATION_AOR_MAX];
	struct reg_contacts c;
	struct relay_aor *a;
	const char *reason;
	unsigned code;
	long len = registrar_front(rr->r, m, flow, aor, rr->out, sizeof(rr->out));

	if (len != 0) {
		if (len < 0 || sip_tsx_respond(st, rr->out, (size_t)len) < 0)
			sip_tsx_terminate(st);
		return len < 0 ? (int)len : 0;
	}
	code = registrar_read_contacts(rr->r, m, &c, &reason);
	if (code) {
		respond(rr, st, m, flow, code, NULL);
		return 0;
	}
	a = find_aor(rr, strv_cstr(aor));
	if (!a) {
		a = entry_new(rr, strv_cstr(aor));
		if (!a) {
			respond(rr, st, m, flow, 500, NULL);
			return -ENOMEM;
		}
	}
	if (!sip_msg_hdr(m, SIP_HDR_CONTACT)) {
		/* A query: from the binding's own flow, the cache answers; else upstream asks. */
		if (slot_busy(a, flow)) {
			rr->st.busy++;
			respond(rr, st, m, flow, 500, NULL);
		} else if (a->bound && same_flow(&a->ua_flow, flow)) {
			rr->st.cached++;
			respond_ok(rr, st, m, flow, strv_cstr(aor));
		} else {
			forward(rr, a, st, m, REQ_QUERY);
		}
		return 0;
	}
	handle_contacts(rr, a, st, m, &c);
	return 0;
}

/* --- life cycle ---------------------------------------------------------- */

/* A listener of the upstream's transport and family, preferring "core". */
static int pick_listener(struct sip_transport *tp, const struct registrar_relay_conf *conf,
			 struct sa *local)
{
	int best = -1;

	for (unsigned i = 0; i < sip_transport_listener_count(tp); i++) {
		const char *name = sip_transport_listener_name(tp, i);
		struct sa la;

		if (sip_transport_listener_proto(tp, i) != (int)conf->proto ||
		    sip_transport_listener_addr(tp, i, &la) < 0 ||
		    sa_family(&la) != sa_family(&conf->upstream))
			continue;
		if (best < 0 || (name && strcmp(name, "core") == 0)) {
			best = (int)i;
			*local = la;
		}
		if (name && strcmp(name, "core") == 0)
			break;
	}
	return best;
}

static bool host_ok(const char *h)
{
	return *h && strlen(h) < SA_STRLEN && !strpbrk(h, " \t\r\n;<>\"@,");
}

static void apply_defaults(struct registrar_relay_conf *c)
{
	if (!c->endpoint_expires)
		c->endpoint_expires = 60;
	if (!c->upstream_expires)
		c->upstream_expires = 3600;
	if (!c->refresh_margin)
		c->refresh_margin = 120;
	if (!c->max_per_sec)
		c->max_per_sec = 100;
	if (!c->max_per_source)
		c->max_per_source = 20;
}

int registrar_relay_start(struct registrar *r, struct sip_tsx_layer *tsx, struct sip_transport *tp,
			  const struct registrar_relay_conf *conf)
{
	struct sip_flow dest = { 0 };
	int li;

	if (!tp || !conf)
		return -EINVAL;
	li = pick_listener(tp, conf, &dest.local);
	if (li < 0) {
		log_err("registrar relay: no listener of the upstream's transport and family");
		return -EINVAL;
	}
	dest.remote = conf->upstream;
	dest.listener = (uint16_t)li;
	dest.proto = (uint8_t)conf->proto;
	return registrar_relay_start_flow(r, tsx, &dest, conf);
}

int registrar_relay_start_flow(struct registrar *r, struct sip_tsx_layer *tsx,
			       const struct sip_flow *dest, const struct registrar_relay_conf *conf)
{
	struct registrar_relay *rr;

	if (!r || !tsx || !dest || !conf || !sa_isset(&dest->remote) || registrar_relay_of(r) ||
	    (conf->contact_host && !host_ok(conf->contact_host)))
		return -EINVAL;
	rr = calloc(1, sizeof(*rr));
	if (!rr)
		return -ENOMEM;
	rr->conf = *conf;
	apply_defaults(&rr->conf);
	if (rr->conf.endpoint_expires > rr->conf.upstream_expires) {
		log_err("registrar relay: endpoint_expires exceeds upstream_expires");
		free(rr);
		return -EINVAL;
	}
	rr->r = r;
	rr->loc = registrar_location(r);
	rr->ts = registrar_timers(r);
	rr->tsx = tsx;
	rr->dest = *dest;
	if (conf->contact_host)
		snprintf(rr->host, sizeof(rr->host), "%s", conf->contact_host);
	else
		sa_print(&dest->local, rr->host, sizeof(rr->host));
	rr->pacer.rate = rr->conf.max_per_sec;
	log_ratelimit_init(&rr->rl, 10000);
	rr->mask = 1023;
	rr->by_aor = calloc(rr->mask + 1, sizeof(*rr->by_aor));
	rr->by_key = calloc(rr->mask + 1, sizeof(*rr->by_key));
	if (!rr->by_aor || !rr->by_key ||
	    getrandom(&rr->rng, sizeof(rr->rng), 0) != sizeof(rr->rng)) {
		free(rr->by_aor);
		free(rr->by_key);
		free(rr);
		return -ENOMEM;
	}
	rr->rng |= 1;
	rr->inst = (uint32_t)(next_random(rr) >> 32);
	rr->src_seed = next_random(rr);
	location_set_owner_hook(rr->loc, on_contact, rr);
	registrar_relay_attach(r, rr);
	return 0;
}

void registrar_relay_free(struct registrar_relay *rr)
{
	if (!rr)
		return;
	location_set_owner_hook(rr->loc, NULL, NULL);
	for (uint32_t i = 0; i <= rr->mask; i++) {
		while (rr->by_aor[i])
			entry_free(rr->by_aor[i]);
	}
	free(rr->by_aor);
	free(rr->by_key);
	free(rr);
}

void registrar_relay_stats(const struct registrar *r, struct registrar_relay_stats *st)
{
	const struct registrar_relay *rr = registrar_relay_of(r);

	memset(st, 0, sizeof(*st));
	if (!rr)
		return;
	*st = rr->st;
	st->aors = rr->count;
}
