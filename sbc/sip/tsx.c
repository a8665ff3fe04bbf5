/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Transaction layer: the table, matching, dispatch, and the machinery the four
 * state machines share (the machines are in ctsx.c and stsx.c).
 *
 * Table. One hash table holds client and server transactions of the layer's
 * thread. The key is the top Via branch (client, and server with the magic
 * cookie) or the Call-ID and CSeq number (RFC 2543 server transactions:
 * what a request, its ACK and its CANCEL have in common), hashed with
 * SipHash-1-3 under a random key: branches come from the network, and a
 * predictable hash would let a peer pile every transaction into one chain
 * (what it can still do, reuse one key, is capped by SAME_HASH_MAX).
 * Chains are doubly linked through the transactions (no allocation per
 * insertion, O(1) removal). When the table holds more than 2 transactions per
 * bucket it doubles, and the old buckets move over TAB_STEP per insertion
 * (as in Redis's incremental rehash), so no operation ever walks the whole
 * table; lookups search both tables while a move is under way.
 *
 * Matching (RFC 3261 §17.1.3, §17.2.3):
 *   response -> client transaction: branch, and CSeq method == method
 *   request  -> server transaction, branch with cookie z9hG4bK:
 *               branch, sent-by host (any case) and port, and method ==
 *               method, except ACK, which matches INVITE
 *   request  -> server transaction, RFC 2543 (no cookie): Request-URI, From
 *               tag, Call-ID, CSeq number, top Via as written, and method and
 *               To tag equal; for an ACK, method INVITE and the To tag of the
 *               final response the transaction sent
 *   CANCEL   -> the transaction it cancels (§9.2): as a request, but with any
 *               method other than CANCEL.
 * Client and server transactions never match each other's messages, so a
 * request looping back through the SBC with its own branch is not confused
 * with the client transaction that sent it.
 */
#include "tsx_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "common/log.h"

#define DEF_T1_MS      500
#define DEF_T2_MS      4000
#define DEF_T4_MS      5000
#define DEF_TIMER_D_MS 32000
#define DEF_BUCKETS    4096

#define TAB_MIN	 64
#define TAB_MAX	 (1u << 30)
#define TAB_LOAD 2  /* grow above this many transactions per bucket */
#define TAB_STEP 16 /* old buckets moved per insertion while rehashing */
/*
 * Transactions that may share one hash value: legitimately a few (an INVITE
 * and its CANCEL share a branch). More is a peer reusing one branch with other
 * methods or sent-bys, or one RFC 2543 key with other To tags, to build a long
 * chain that every lookup would walk: new transactions are refused instead.
 */
#define SAME_HASH_MAX 16

/* --- SipHash-1-3 (Aumasson, Bernstein), 64-bit output ------------------- */

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13) ^ v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17) ^ v[2];
	v[2] = rotl64(v[2], 32);
}

uint64_t tsx_hash(const struct sip_tsx_layer *l, struct strv s)
{
	uint64_t v[4] = {
		0x736f6d6570736575ULL ^ l->hkey[0],
		0x646f72616e646f6dULL ^ l->hkey[1],
		0x6c7967656e657261ULL ^ l->hkey[0],
		0x7465646279746573ULL ^ l->hkey[1],
	};
	const unsigned char *p = (const unsigned char *)s.p;
	size_t whole = s.len & ~(size_t)7;
	uint64_t m;

	for (size_t i = 0; i < whole; i += 8) {
		memcpy(&m, p + i, 8);
		v[3] ^= m;
		sipround(v);
		v[0] ^= m;
	}
	m = (uint64_t)s.len << 56;
	for (size_t i = 0; i < (s.len & 7); i++)
		m |= (uint64_t)p[whole + i] << (8 * i);
	v[3] ^= m;
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* RFC 2543 key: Call-ID and CSeq number, so that one dialog's requests spread out. */
static uint64_t hash_2543(const struct sip_tsx_layer *l, struct strv call_id, uint32_t cseq)
{
	unsigned char b[12];
	uint64_t h = tsx_hash(l, call_id);

	memcpy(b, &h, 8);
	memcpy(b + 8, &cseq, 4);
	return tsx_hash(l, strv_make((const char *)b, sizeof(b)));
}

/* --- table --------------------------------------------------------------- */

static void chain_add(struct sip_tsx **head, struct sip_tsx *t)
{
	t->hnext = *head;
	if (*head)
		(*head)->hpprev = &t->hnext;
	*head = t;
	t->hpprev = head;
}

static void chain_del(struct sip_tsx *t)
{
	*t->hpprev = t->hnext;
	if (t->hnext)
		t->hnext->hpprev = t->hpprev;
	t->hnext = NULL;
	t->hpprev = NULL;
}

static int tab_init(struct tsx_table *tab, uint32_t buckets)
{
	uint32_t n = TAB_MIN;

	while (n < buckets && n < TAB_MAX)
		n <<= 1;
	memset(tab, 0, sizeof(*tab));
	tab->cur = calloc(n, sizeof(*tab->cur));
	if (!tab->cur)
		return -ENOMEM;
	tab->cur_mask = n - 1;
	return 0;
}

/* Moves up to @p n old buckets into the current table. */
static void tab_step(struct tsx_table *tab, unsigned n)
{
	while (tab->old && n--) {
		struct sip_tsx *t;

		while ((t = tab->old[tab->moved]) != NULL) {
			chain_del(t);
			chain_add(&tab->cur[t->hash & tab->cur_mask], t);
		}
		if (tab->moved++ == tab->old_mask) {
			free(tab->old);
			tab->old = NULL;
		}
	}
}

static void tab_grow(struct tsx_table *tab)
{
	uint64_t n = ((uint64_t)tab->cur_mask + 1) * 2;
	struct sip_tsx **nb;

	if (tab->old || n > TAB_MAX)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	tab->old = tab->cur;
	tab->old_mask = tab->cur_mask;
	tab->moved = 0;
	tab->cur = nb;
	tab->cur_mask = (uint32_t)n - 1;
}

static void tab_insert(struct tsx_table *tab, struct sip_tsx *t)
{
	tab_step(tab, TAB_STEP);
	if ((uint64_t)tab->count >= TAB_LOAD * ((uint64_t)tab->cur_mask + 1))
		tab_grow(tab);
	chain_add(&tab->cur[t->hash & tab->cur_mask], t);
	tab->count++;
}

static void tab_remove(struct tsx_table *tab, struct sip_tsx *t)
{
	chain_del(t);
	tab->count--;
}

typedef bool(tsx_match_h)(const struct sip_tsx *t, const void *ctx);

/* The transaction @p match accepts among those hashed @p h; counts them in @p same. */
static struct sip_tsx *tab_find(const struct tsx_table *tab, uint64_t h, tsx_match_h *match,
				const void *ctx, unsigned *same)
{
	struct sip_tsx *t;

	*same = 0;
	for (t = tab->cur[h & tab->cur_mask]; t; t = t->hnext)
		if (t->hash == h && (++*same, match(t, ctx)))
			return t;
	if (tab->old && (h & tab->old_mask) >= tab->moved)
		for (t = tab->old[h & tab->old_mask]; t; t = t->hnext)
			if (t->hash == h && (++*same, match(t, ctx)))
				return t;
	return NULL;
}

/* --- matching ------------------------------------------------------------ */

static bool has_cookie(struct strv branch)
{
	return branch.len >= TSX_COOKIE_LEN && memcmp(branch.p, TSX_COOKIE, TSX_COOKIE_LEN) == 0;
}

static bool method_is(const struct tsx_key *k, enum sip_method m, struct strv name)
{
	return k->method == m && (m != SIP_METHOD_OTHER || strv_eq(k->method_name, name));
}

struct client_q {
	struct strv branch;
	enum sip_method method;
	struct strv method_name;
};

static bool client_match(const struct sip_tsx *t, const void *ctx)
{
	const struct client_q *q = ctx;

	return t->client && strv_eq(t->key.branch, q->branch) &&
	       method_is(&t->key, q->method, q->method_name);
}

struct sip_tsx *tsx_find_client(struct sip_tsx_layer *l, struct strv branch, enum sip_method method,
				struct strv method_name)
{
	struct client_q q = { .branch = branch, .method = method, .method_name = method_name };
	unsigned same;

	return tab_find(&l->tab, tsx_hash(l, branch), client_match, &q, &same);
}

/* A request as the server side matches it. */
struct server_q {
	const struct sip_msg *m;
	struct sip_via via;
	struct strv via_value;	      /* top Via as written */
	struct strv to_tag, from_tag; /* RFC 2543 only */
	bool rfc2543;
	bool cancel_target; /* §9.2: match any method but CANCEL */
};

static int hdr_tag(const struct sip_msg *m, enum sip_hdr_id id, struct strv *tag)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	struct sip_addr a;

	if (!h || sip_addr_parse(&a, h->value))
		return -EINVAL;
	*tag = a.tag;
	return 0;
}

static int server_q_init(struct server_q *q, const struct sip_msg *m, bool cancel_target)
{
	const struct sip_hdr *via = sip_msg_hdr(m, SIP_HDR_VIA);

	memset(q, 0, sizeof(*q));
	q->m = m;
	q->cancel_target = cancel_target;
	if (!via || sip_via_parse(&q->via, via->value))
		return -EINVAL;
	q->via_value = via->value;
	q->rfc2543 = !has_cookie(q->via.branch);
	if (q->rfc2543 &&
	    (hdr_tag(m, SIP_HDR_FROM, &q->from_tag) || hdr_tag(m, SIP_HDR_TO, &q->to_tag)))
		return -EINVAL;
	return 0;
}

static uint64_t server_q_hash(const struct sip_tsx_layer *l, const struct server_q *q)
{
	return q->rfc2543 ? hash_2543(l, q->m->call_id, q->m->cseq) : tsx_hash(l, q->via.branch);
}

/* RFC 2543 ACK: the To tag of the final response this transaction sent. */
static bool response_tag_eq(const struct sip_tsx *t, struct strv tag)
{
	struct sip_limits lim = { 0 };
	struct sip_parse_error perr;
	struct sip_msg resp;
	struct strv rtag;

	if ((t->state != SIP_TSX_COMPLETED && t->state != SIP_TSX_CONFIRMED) || !t->buf)
		return false;
	if (sip_msg_parse(&resp, t->buf, t->len, &lim, &perr) || hdr_tag(&resp, SIP_HDR_TO, &rtag))
		return false;
	return strv_eq(rtag, tag);
}

static bool server_match(const struct sip_tsx *t, const void *ctx)
{
	const struct server_q *q = ctx;
	const struct sip_msg *m = q->m;
	const struct tsx_key *k = &t->key;
	bool ack = !q->cancel_target && m->method == SIP_METHOD_ACK;

	if (t->client || k->rfc2543 != q->rfc2543)
		return false;
	if (q->cancel_target) {
		if (k->method == SIP_METHOD_CANCEL)
			return false;
	} else if (ack ? k->method != SIP_METHOD_INVITE
		       : !method_is(k, m->method, m->method_name)) {
		return false;
	}
	if (!q->rfc2543)
		return strv_eq(k->branch, q->via.branch) && strv_caseeq(k->host, q->via.host) &&
		       k->port == q->via.port;
	if (k->cseq != m->cseq || !strv_eq(k->call_id, m->call_id) ||
	    !strv_eq(k->from_tag, q->from_tag) || !strv_eq(k->ruri, m->ruri) ||
	    !strv_eq(k->via, q->via_value))
		return false;
	return ack ? response_tag_eq(t, q->to_tag) : strv_eq(k->to_tag, q->to_tag);
}

static void server_key(struct tsx_key *k, const struct server_q *q)
{
	const struct sip_msg *m = q->m;

	memset(k, 0, sizeof(*k));
	k->rfc2543 = q->rfc2543;
	k->method = m->method;
	if (m->method == SIP_METHOD_OTHER)
		k->method_name = m->method_name;
	if (!q->rfc2543) {
		k->branch = q->via.branch;
		k->host = q->via.host;
		k->port = q->via.port;
		return;
	}
	k->ruri = m->ruri;
	k->to_tag = q->to_tag;
	k->from_tag = q->from_tag;
	k->call_id = m->call_id;
	k->cseq = m->cseq;
	k->via = q->via_value;
}

/* --- transactions -------------------------------------------------------- */

/* The key's views, in the order they are copied into var[]. */
#define KEY_NSTR 8
static void key_strs(struct tsx_key *k, struct strv *s[KEY_NSTR])
{
	s[0] = &k->branch;
	s[1] = &k->host;
	s[2] = &k->method_name;
	s[3] = &k->ruri;
	s[4] = &k->to_tag;
	s[5] = &k->from_tag;
	s[6] = &k->call_id;
	s[7] = &k->via;
}

int tsx_alloc(struct sip_tsx_layer *l, struct sip_tsx **tp, const struct tsx_key *k,
	      const void *dest, bool reliable, bool client)
{
	size_t dsz = l->conf.dest_size;
	struct tsx_key src = *k;
	struct strv *s[KEY_NSTR];
	struct sip_tsx *t;
	size_t extra = 0;
	char *p;

	if (dsz && !dest)
		return -EINVAL;
	key_strs(&src, s);
	for (unsigned i = 0; i < KEY_NSTR; i++)
		extra += s[i]->len;
	t = calloc(1, sizeof(*t) + dsz + extra);
	if (!t)
		return -ENOMEM;
	if (dsz)
		memcpy(t->var, dest, dsz);
	t->key = *k;
	key_strs(&t->key, s);
	p = (char *)t->var + dsz;
	for (unsigned i = 0; i < KEY_NSTR; i++) {
		if (s[i]->len)
			memcpy(p, s[i]->p, s[i]->len);
		*s[i] = strv_make(s[i]->len ? p : NULL, s[i]->len);
		p += s[i]->len;
	}
	t->l = l;
	t->client = client;
	t->reliable = reliable;
	t->hash = client || !k->rfc2543 ? tsx_hash(l, t->key.branch)
					: hash_2543(l, t->key.call_id, t->key.cseq);
	*tp = t;
	return 0;
}

void tsx_link(struct sip_tsx *t)
{
	tab_insert(&t->l->tab, t);
	t->l->stats.active++;
}

static void tsx_unlink(struct sip_tsx *t)
{
	if (!t->hpprev)
		return;
	tab_remove(&t->l->tab, t);
	t->l->stats.active--;
}

void tsx_stop_timers(struct sip_tsx *t)
{
	timer_cancel(t->l->ts, &t->tr);
	timer_cancel(t->l->ts, &t->tm);
}

void tsx_destroy(struct sip_tsx *t)
{
	tsx_stop_timers(t);
	tsx_unlink(t);
	free(t->buf);
	free(t);
}

void tsx_release(struct sip_tsx *t)
{
	if (--t->hold == 0 && t->state == SIP_TSX_TERMINATED)
		tsx_destroy(t);
}

static void tsx_end(struct sip_tsx *t, bool notify)
{
	if (t->state == SIP_TSX_TERMINATED)
		return;
	t->state = SIP_TSX_TERMINATED;
	tsx_stop_timers(t);
	tsx_unlink(t);
	tsx_hold(t);
	if (notify && t->h && t->h->term_h)
		t->h->term_h(t->arg, t);
	tsx_release(t);
}

void tsx_terminate(struct sip_tsx *t)
{
	tsx_end(t, true);
}

void tsx_fail(struct sip_tsx *t, int err)
{
	if (t->state == SIP_TSX_TERMINATED)
		return;
	if (err == -ETIMEDOUT)
		t->l->stats.timeouts++;
	else
		t->l->stats.transport_errors++;
	log_debug("sip tsx %p (%s %s): %s", (void *)t, t->client ? "client" : "server",
		  sip_tsx_state_name(t->state), strerror(-err));
	tsx_hold(t);
	if (t->h && t->h->err_h)
		t->h->err_h(t->arg, t, err);
	tsx_terminate(t);
	tsx_release(t);
}

static bool transient(int err)
{
	return err == -EAGAIN || err == -EWOULDBLOCK || err == -ENOBUFS || err == -EINTR;
}

int tsx_send(struct sip_tsx *t, const char *buf, size_t len)
{
	const struct sip_tsx_conf *c = &t->l->conf;
	int err = c->send_h(c->send_arg, tsx_dest_of(t), buf, len);

	if (err >= 0 || (!t->reliable && transient(err)))
		return 0;
	return err;
}

void tsx_resend(struct sip_tsx *t)
{
	int err;

	if (!t->buf)
		return;
	t->l->stats.retransmitted++;
	err = tsx_send(t, t->buf, t->len);
	if (err)
		tsx_fail(t, err);
}

int tsx_store(struct sip_tsx *t, const char *buf, size_t len)
{
	if (len > t->cap) {
		size_t cap = 512;
		char *p;

		while (cap < len)
			cap *= 2;
		p = malloc(cap); /* not realloc: the old content is not kept */
		if (!p)
			return -ENOMEM;
		free(t->buf);
		t->buf = p;
		t->cap = cap;
	}
	memcpy(t->buf, buf, len);
	t->len = len;
	return 0;
}

void tsx_drop_buf(struct sip_tsx *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
	t->cap = 0;
}

int tsx_start(struct sip_tsx *t, struct timer *tmr, uint64_t delay_ms, timer_h *h)
{
	int err;

	if (t->state == SIP_TSX_TERMINATED)
		return -ESRCH;
	err = timer_start(t->l->ts, tmr, delay_ms, h, t);
	if (err) {
		log_err("sip tsx: cannot start a timer: %s", strerror(-err));
		tsx_fail(t, err);
	}
	return err;
}

static void tsx_linger_h(void *arg)
{
	struct sip_tsx *t = arg;

	tsx_hold(t);
	tsx_terminate(t);
	tsx_release(t);
}

void tsx_linger(struct sip_tsx *t, uint64_t delay_ms)
{
	if (t->state == SIP_TSX_TERMINATED)
		return;
	timer_cancel(t->l->ts, &t->tr);
	if (delay_ms == 0)
		tsx_terminate(t);
	else
		tsx_start(t, &t->tm, delay_ms, tsx_linger_h);
}

/* --- output -------------------------------------------------------------- */

void out_u32(struct tsx_out *o, uint32_t v)
{
	char d[10];
	size_t n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(o, d + sizeof(d) - n, n);
}

void out_hdr(struct tsx_out *o, const char *name, struct strv value)
{
	out_str(o, name);
	out_mem(o, ": ", 2);
	out_strv(o, value);
	out_mem(o, "\r\n", 2);
}

int tsx_print(char **bufp, size_t *lenp, tsx_print_h *print, const void *ctx)
{
	struct tsx_out o = { 0 };
	size_t len;

	print(&o, ctx);
	len = o.len;
	o.p = malloc(len ? len : 1);
	if (!o.p)
		return -ENOMEM;
	o.len = 0;
	print(&o, ctx);
	*bufp = o.p;
	*lenp = len;
	return 0;
}

/* --- layer --------------------------------------------------------------- */

static void seed_key(uint64_t key[2])
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(key[0])))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec;
	key[1] = (uint64_t)(uintptr_t)key * 0xc2b2ae3d27d4eb4fULL ^ key[0];
}

int sip_tsx_layer_alloc(struct sip_tsx_layer **lp, struct timers *ts,
			const struct sip_tsx_conf *conf)
{
	struct sip_tsx_layer *l;
	struct sip_tsx_conf *c;
	int err;

	if (!lp || !ts || !conf || !conf->send_h || !conf->request_h ||
	    conf->dest_size > SIP_TSX_DEST_MAX)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ts = ts;
	l->conf = *conf;
	c = &l->conf;
	c->t1_ms = c->t1_ms ? c->t1_ms : DEF_T1_MS;
	c->t2_ms = c->t2_ms ? c->t2_ms : DEF_T2_MS;
	c->t4_ms = c->t4_ms ? c->t4_ms : DEF_T4_MS;
	c->timer_d_ms = c->timer_d_ms ? c->timer_d_ms : DEF_TIMER_D_MS;
	c->buckets = c->buckets ? c->buckets : DEF_BUCKETS;
	if (c->t2_ms < c->t1_ms) {
		err = -EINVAL;
		goto out;
	}
	seed_key(l->hkey);
	err = tab_init(&l->tab, c->buckets);
out:
	if (err)
		free(l);
	else
		*lp = l;
	return err;
}

static void free_chains(struct sip_tsx **b, uint32_t mask)
{
	for (uint64_t i = 0; i <= mask; i++) {
		while (b[i]) {
			struct sip_tsx *t = b[i];

			tsx_destroy(t); /* unlinks it from b[i] */
		}
	}
}

void sip_tsx_layer_free(struct sip_tsx_layer *l)
{
	if (!l)
		return;
	if (l->tab.old)
		free_chains(l->tab.old, l->tab.old_mask);
	free_chains(l->tab.cur, l->tab.cur_mask);
	free(l->tab.old);
	free(l->tab.cur);
	free(l);
}

void sip_tsx_layer_stats(const struct sip_tsx_layer *l, struct sip_tsx_stats *st)
{
	*st = l->stats;
}

static int recv_response(struct sip_tsx_layer *l, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	struct sip_tsx *t;
	struct sip_via via;

	if (!h || sip_via_parse(&via, h->value))
		return -EINVAL;
	if (m->status < 100 || m->status > 699)
		return -EINVAL;
	t = strv_empty(via.branch)
		? NULL
		: tsx_find_client(l, via.branch, m->cseq_method, m->cseq_method_name);
	if (!t) {
		l->stats.stray++;
		return -ENOENT;
	}
	ctsx_recv(t, m);
	return 0;
}

int sip_tsx_recv(struct sip_tsx_layer *l, const struct sip_msg *m, const void *dest, bool reliable)
{
	struct server_q q;
	struct sip_tsx *t;
	struct tsx_key k;
	unsigned same;
	int err;

	if (!m->is_request)
		return recv_response(l, m);
	err = server_q_init(&q, m, false);
	if (err)
		return err;
	t = tab_find(&l->tab, server_q_hash(l, &q), server_match, &q, &same);
	if (t) {
		stsx_recv(t, m, dest, reliable);
		return 0;
	}
	if (m->method == SIP_METHOD_ACK) {
		if (l->conf.ack_h)
			l->conf.ack_h(l->conf.tu_arg, m, dest, reliable);
		return 0;
	}
	if (same >= SAME_HASH_MAX) {
		l->stats.refused++;
		return -EBUSY;
	}
	server_key(&k, &q);
	return stsx_create(l, &k, m, dest, reliable);
}

struct sip_tsx *sip_tsx_cancel_target(struct sip_tsx_layer *l, const struct sip_msg *cancel)
{
	struct server_q q;
	unsigned same;

	if (!cancel->is_request || cancel->method != SIP_METHOD_CANCEL ||
	    server_q_init(&q, cancel, true))
		return NULL;
	return tab_find(&l->tab, server_q_hash(l, &q), server_match, &q, &same);
}

int sip_tsx_send(struct sip_tsx_layer *l, const void *dest, const char *buf, size_t len)
{
	int err = l->conf.send_h(l->conf.send_arg, dest, buf, len);

	return err > 0 ? 0 : err;
}

void sip_tsx_set_handlers(struct sip_tsx *t, const struct sip_tsx_handlers *h, void *arg)
{
	t->h = h;
	t->arg = arg;
}

void sip_tsx_terminate(struct sip_tsx *t)
{
	tsx_end(t, false);
}

void sip_tsx_transport_error(struct sip_tsx *t, int err)
{
	tsx_fail(t, err < 0 ? err : -EIO);
}

enum sip_tsx_state sip_tsx_state(const struct sip_tsx *t)
{
	return (enum sip_tsx_state)t->state;
}

const char *sip_tsx_state_name(enum sip_tsx_state s)
{
	static const char *const names[] = {
		[SIP_TSX_CALLING] = "Calling",	     [SIP_TSX_TRYING] = "Trying",
		[SIP_TSX_PROCEEDING] = "Proceeding", [SIP_TSX_COMPLETED] = "Completed",
		[SIP_TSX_CONFIRMED] = "Confirmed",   [SIP_TSX_ACCEPTED] = "Accepted",
		[SIP_TSX_TERMINATED] = "Terminated",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

bool sip_tsx_is_client(const struct sip_tsx *t)
{
	return t->client;
}

enum sip_method sip_tsx_method(const struct sip_tsx *t)
{
	return t->key.method;
}

const void *sip_tsx_dest(const struct sip_tsx *t)
{
	return tsx_dest_of(t);
}

bool sip_tsx_reliable(const struct sip_tsx *t)
{
	return t->reliable;
}

struct strv sip_tsx_branch(const struct sip_tsx *t)
{
	return t->key.branch;
}
