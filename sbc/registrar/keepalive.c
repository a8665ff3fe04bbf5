/* SPDX-License-Identifier: BSD-2-Clause */
#include "keepalive.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "common/timer.h"
#include "location.h"
#include "registrar.h"
#include "sbc/sip/print.h"
#include "sbc/sip/tsx.h"

#define OUT_MAX 8192

/*
 * One binding's keep-alive. Lives from the location's add hook to its remove
 * hook (c->user points back here); then it goes to the free list. State:
 * timer pending (waiting for the next round, or @ref paced for its slot), and
 * at most one OPTIONS in flight (@ref tsx, cleared by term_h).
 */
struct ka_entry {
	struct keepalive *k;
	struct location_contact *c;   /* NULL while on the free list */
	struct ka_entry *prev, *next; /* active list, or the free list (next only) */
	struct ka_entry *hnext;	      /* flow index chain */
	uint32_t hash;		      /* of c->flow */
	struct timer timer;
	struct sip_tsx *tsx;
	uint8_t fails; /* in a row */
	bool paced;    /* the pacer already gave this firing its slot */
	bool answered; /* the OPTIONS in flight got a response */
	bool ponged;   /* the UA answers CRLF pings (RFC 5626): silence counts */
	bool awaiting; /* a ping went out and nothing came back since */
};

struct keepalive {
	struct timers *ts;
	struct sip_tsx_layer *tsx;
	struct sip_transport *tp;
	struct location *loc;
	enum keepalive_method method;
	uint64_t interval_ms;
	uint8_t max_failures;
	char *user, *host;
	keepalive_send_h *send_h;
	void *send_arg;

	/* pacer: at most per_slot sends in each slot of slot_ms, slots from pace_ms on */
	uint64_t pace_ms;
	uint32_t pace_used, per_slot, slot_ms;

	uint64_t rng;
	struct ka_entry *active, *free_list;
	/* entries by flow: a keep-alive from a UA finds its bindings in O(1) */
	struct ka_entry **idx;
	uint32_t idx_mask, idx_count;
	struct keepalive_stats st;
	char out[OUT_MAX];
};

static const char PING[] = "\r\n\r\n";

static uint64_t next_random(struct keepalive *k)
{
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	return k->rng * 0x2545F4914F6CDD1DULL;
}

/* A delay of @p lo_pct..100 % of the interval, at random. */
static uint64_t jitter(struct keepalive *k, unsigned lo_pct)
{
	uint64_t lo = k->interval_ms * lo_pct / 100;
	uint64_t span = k->interval_ms - lo;

	return lo + (span ? next_random(k) % (span + 1) : 0);
}

static int raw_send(void *arg, const struct sip_flow *flow, const void *buf, size_t len)
{
	return sip_transport_send(arg, flow, buf, len);
}

/* --- the flow index ------------------------------------------------------ */

static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* A flow is its connection (streams), or its listener and remote address (UDP). */
static uint32_t flow_hash(const struct sip_flow *f)
{
	const struct sa *r = &f->remote;
	uint64_t h = (uint64_t)f->listener << 48 ^ f->conn_id;

	if (f->conn_id)
		return mix(h);
	if (r->u.sa.sa_family == AF_INET) {
		h ^= (uint64_t)r->u.in.sin_addr.s_addr << 16 ^ r->u.in.sin_port;
	} else if (r->u.sa.sa_family == AF_INET6) {
		uint64_t w[2];

		memcpy(w, &r->u.in6.sin6_addr, sizeof(w));
		h ^= mix(w[0]) ^ (uint64_t)mix(w[1]) << 20 ^ r->u.in6.sin6_port;
	}
	return mix(h);
}

static bool flow_same(const struct sip_flow *a, const struct sip_flow *b)
{
	if (a->conn_id || b->conn_id)
		return a->conn_id == b->conn_id;
	return a->listener == b->listener && sa_equal(&a->remote, &b->remote);
}

/* Doubles the buckets when the load passes 1 (a failure keeps the old ones). */
static void idx_grow(struct keepalive *k)
{
	uint32_t n = k->idx ? (k->idx_mask + 1) * 2 : 64;
	struct ka_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (uint32_t i = 0; k->idx && i <= k->idx_mask; i++) {
		while (k->idx[i]) {
			struct ka_entry *e = k->idx[i];

			k->idx[i] = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(k->idx);
	k->idx = b;
	k->idx_mask = n - 1;
}

static void idx_insert(struct keepalive *k, struct ka_entry *e)
{
	if (!k->idx || k->idx_count > k->idx_mask)
		idx_grow(k);
	if (!k->idx)
		return; /* no memory: this binding only misses its pongs */
	e->hash = flow_hash(&e->c->flow);
	e->hnext = k->idx[e->hash & k->idx_mask];
	k->idx[e->hash & k->idx_mask] = e;
	k->idx_count++;
}

static void idx_remove(struct keepalive *k, struct ka_entry *e)
{
	struct ka_entry **pp;

	if (!k->idx)
		return;
	for (pp = &k->idx[e->hash & k->idx_mask]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			k->idx_count--;
			return;
		}
	}
}

void keepalive_flow_alive(struct keepalive *k, const struct sip_flow *flow, bool pong)
{
	uint32_t h;

	if (!k || !k->idx)
		return;
	h = flow_hash(flow);
	for (struct ka_entry *e = k->idx[h & k->idx_mask]; e; e = e->hnext) {
		if (e->hash != h || !flow_same(&e->c->flow, flow))
			continue;
		/* on UDP a CRLF is a pong only while a ping of ours waits for one */
		if (pong && (flow->conn_id || e->awaiting)) {
			k->st.pongs++;
			e->ponged = true;
		}
		e->awaiting = false;
		e->fails = 0;
	}
}

/* --- entries ------------------------------------------------------------- */

static void on_timer(void *arg);

static void schedule(struct ka_entry *e, uint64_t delay_ms)
{
	int rc = timer_start(e->k->ts, &e->timer, delay_ms, on_timer, e);

	if (rc < 0)
		log_warn("keepalive: no timer for a binding: %s", strerror(-rc));
}

static void entry_release(struct keepalive *k, struct ka_entry *e)
{
	timer_cancel(k->ts, &e->timer);
	if (e->tsx)
		sip_tsx_terminate(e->tsx); /* no handler is called any more */
	idx_remove(k, e);
	if (e->prev)
		e->prev->next = e->next;
	else
		k->active = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->c->user = NULL;
	memset(e, 0, sizeof(*e));
	e->next = k->free_list;
	k->free_list = e;
	k->st.bindings--;
}

static void on_binding(void *arg, struct location_contact *c, bool added)
{
	struct keepalive *k = arg;
	struct ka_entry *e;

	if (!added) {
		if (c->user)
			entry_release(k, c->user);
		return;
	}
	e = k->free_list;
	if (e) {
		k->free_list = e->next;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e) {
			log_warn("keepalive: out of memory: a binding goes without keep-alives");
			return;
		}
	}
	timer_init(&e->timer);
	e->k = k;
	e->c = c;
	e->prev = NULL;
	e->next = k->active;
	if (k->active)
		k->active->prev = e;
	k->active = e;
	c->user = e;
	idx_insert(k, e);
	k->st.bindings++;
	/* First round after 50..100 %: a burst of REGISTERs spreads over half an interval. */
	schedule(e, jitter(k, 50));
}

/*
 * A failure of @p e. @return true when it dropped the binding (@p e is then
 * back on the free list and its transaction terminated).
 */
static bool entry_fail(struct keepalive *k, struct ka_entry *e, int err)
{
	char fl[SIP_FLOW_STRLEN];

	k->st.failed++;
	if (++e->fails < k->max_failures && err != -ENOTCONN)
		return false;
	k->st.dropped++;
	log_info("keepalive: dropping the binding %.*s over %s: %s", (int)e->c->uri_len, e->c->uri,
		 sip_flow_print(&e->c->flow, fl, sizeof(fl)),
		 err == -ETIMEDOUT ? "no answer" : strerror(-err));
	location_remove(k->loc, e->c); /* the remove hook releases e */
	return true;
}

/* --- OPTIONS ------------------------------------------------------------- */

static void on_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct ka_entry *e = arg;

	(void)t;
	(void)resp;
	/* Any response, even 404/405/501: the UA is there and the pinhole open. */
	e->fails = 0;
	if (!e->answered) {
		e->answered = true;
		e->k->st.answered++;
	}
}

static void on_err(void *arg, struct sip_tsx *t, int err)
{
	struct ka_entry *e = arg;

	(void)t;
	entry_fail(e->k, e, err == -ETIMEDOUT ? err : -EIO);
}

static void on_term(void *arg, struct sip_tsx *t)
{
	struct ka_entry *e = arg;

	(void)t;
	e->tsx = NULL;
}

static const struct sip_tsx_handlers options_h = {
	.resp_h = on_resp,
	.err_h = on_err,
	.term_h = on_term,
};

/* The OPTIONS toward @p c into k->out. @return its length or a negative errno. */
static long build_options(struct keepalive *k, const struct location_contact *c)
{
	char host[SA_STRLEN];
	struct sa ours;
	unsigned long long branch = next_random(k), tag = next_random(k), cid = next_random(k);
	struct sip_pbuf b;

	if (k->host)
		snprintf(host, sizeof(host), "%s", k->host);
	else if (!k->tp || sip_transport_sent_by(k->tp, &c->flow, &ours) < 0)
		sa_print(&c->flow.local, host, sizeof(host));
	else
		sa_print(&ours, host, sizeof(host)); /* advertised (1:1 NAT) */
	sip_print_init(&b, k->out, sizeof(k->out));
	sip_print_request_line_m(&b, SIP_METHOD_OPTIONS, strv_make(c->uri, c->uri_len));
	sip_print_hdrf(&b, SIP_HDR_VIA, "SIP/2.0/%s %s;branch=z9hG4bKka%016llx;rport",
		       sip_proto_name(c->flow.proto), host, branch);
	sip_print_hdr_uint(&b, SIP_HDR_MAX_FORWARDS, 70);
	sip_print_hdrf(&b, SIP_HDR_FROM, "<sip:%s@%s>;tag=%016llx", k->user, host, tag);
	sip_print_hdrf(&b, SIP_HDR_TO, "<%.*s>", (int)c->uri_len, c->uri);
	sip_print_hdrf(&b, SIP_HDR_CALL_ID, "%016llx-ka@%s", cid, host);
	sip_print_hdr(&b, SIP_HDR_CSEQ, STRV("1 OPTIONS"));
	sip_print_hdrf(&b, SIP_HDR_CONTACT, "<sip:%s>", host);
	sip_print_body(&b, STRV_NULL, STRV_NULL);
	return sip_print_finish(&b);
}

/* @return false when @p e was dropped. */
static bool send_options(struct keepalive *k, struct ka_entry *e)
{
	long len;
	int rc;

	if (e->tsx) {
		k->st.skipped++; /* Timer F outlasts the interval: one at a time */
		return true;
	}
	len = build_options(k, e->c);
	if (len < 0) {
		log_warn("keepalive: cannot build an OPTIONS to %.*s: %s", (int)e->c->uri_len,
			 e->c->uri, strerror((int)-len));
		return true;
	}
	e->answered = false;
	rc = sip_tsx_request(k->tsx, &e->tsx, k->out, (size_t)len, &e->c->flow, false, &options_h,
			     e);
	if (rc < 0) {
		e->tsx = NULL;
		return !entry_fail(k, e, rc == -ENOMEM ? -ENOMEM : -EIO);
	}
	k->st.sent++;
	return true;
}

/* --- rounds -------------------------------------------------------------- */

/*
 * A CRLF ping. A UA that has answered one (a pong, or any keep-alive of its
 * own) is expected to answer them all: a round that finds the last ping
 * unanswered is a failure. Others only fail when the send does.
 * @return false when @p e was dropped.
 */
static bool send_ping(struct keepalive *k, struct ka_entry *e)
{
	int rc;

	if (e->ponged && e->awaiting && entry_fail(k, e, -ETIMEDOUT))
		return false;
	rc = k->send_h(k->send_arg, &e->c->flow, PING, sizeof(PING) - 1);
	if (rc == 0) {
		k->st.sent++;
		e->awaiting = true;
		if (!e->ponged)
			e->fails = 0;
		return true;
	}
	/* A connection that is gone: the binding cannot be reached any more. */
	if (rc == -EINVAL || rc == -ENOBUFS)
		rc = -ENOTCONN;
	if (!sip_proto_is_stream(e->c->flow.proto) && rc == -ENOTCONN)
		rc = -EIO;
	return !entry_fail(k, e, rc);
}

/*
 * The time at which a keep-alive due now may go: now, or the first slot with
 * room. Each firing asks once, so a burst of N due timers costs N restarts at most.
 */
static uint64_t pace(struct keepalive *k, uint64_t now)
{
	if (now >= k->pace_ms + k->slot_ms) {
		k->pace_ms = now;
		k->pace_used = 0;
	}
	if (k->pace_used >= k->per_slot) {
		k->pace_ms += k->slot_ms;
		k->pace_used = 0;
	}
	k->pace_used++;
	return k->pace_ms > now ? k->pace_ms : now;
}

static void on_timer(void *arg)
{
	struct ka_entry *e = arg;
	struct keepalive *k = e->k;
	uint64_t now = timers_now(k->ts);
	bool alive;

	if (!e->paced) {
		uint64_t at = pace(k, now);

		if (at > now) {
			e->paced = true;
			schedule(e, at - now);
			return;
		}
	}
	e->paced = false;
	if (k->method == KEEPALIVE_OPTIONS && !sip_proto_is_stream(e->c->flow.proto))
		alive = send_options(k, e);
	else
		alive = send_ping(k, e);
	if (alive)
		schedule(e, jitter(k, 80));
}

/* --- life cycle ---------------------------------------------------------- */

static bool token_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\r\n<>\"@;");
}

int keepalive_alloc(struct keepalive **kp, struct timers *ts, struct sip_tsx_layer *tsx,
		    struct sip_transport *tp, struct registrar *r,
		    const struct keepalive_conf *conf)
{
	static const struct keepalive_conf defaults = { 0 };
	struct keepalive *k;
	uint32_t rate;

	if (!conf)
		conf = &defaults;
	if (!kp || !ts || !tsx || !r || (!tp && !conf->send_h) ||
	    (conf->method != KEEPALIVE_OPTIONS && conf->method != KEEPALIVE_CRLF) ||
	    (conf->user && !token_ok(conf->user)) ||
	    (conf->host && (!token_ok(conf->host) || strlen(conf->host) >= SA_STRLEN)))
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ts = ts;
	k->tsx = tsx;
	k->tp = tp;
	k->loc = registrar_location(r);
	k->method = conf->method;
	k->interval_ms = (uint64_t)(conf->interval_s ? conf->interval_s : 30) * 1000;
	k->max_failures = conf->max_failures ? conf->max_failures : 3;
	k->send_h = conf->send_h ? conf->send_h : raw_send;
	k->send_arg = conf->send_h ? conf->send_arg : tp;
	rate = conf->max_per_sec ? conf->max_per_sec : 20000;
	k->slot_ms = rate >= 1000 ? 1 : 1000 / rate;
	k->per_slot = rate >= 1000 ? rate / 1000 : 1;
	k->user = strdup(conf->user ? conf->user : "keepalive");
	k->host = conf->host ? strdup(conf->host) : NULL;
	if (!k->user || (conf->host && !k->host)) {
		keepalive_free(k);
		return -ENOMEM;
	}
	if (RAND_bytes((unsigned char *)&k->rng, sizeof(k->rng)) != 1 || !k->rng)
		k->rng = 0x9E3779B97F4A7C15ULL;
	location_set_hooks(k->loc, on_binding, k);
	*kp = k;
	return 0;
}

void keepalive_free(struct keepalive *k)
{
	if (!k)
		return;
	if (k->loc)
		location_set_hooks(k->loc, NULL, NULL);
	while (k->active)
		entry_release(k, k->active);
	while (k->free_list) {
		struct ka_entry *e = k->free_list;

		k->free_list = e->next;
		free(e);
	}
	free(k->idx);
	free(k->user);
	free(k->host);
	free(k);
}

void keepalive_stats(const struct keepalive *k, struct keepalive_stats *st)
{
	*st = k->st;
}
