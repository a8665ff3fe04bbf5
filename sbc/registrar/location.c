/* SPDX-License-Identifier: BSD-2-Clause */
#include "location.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/log.h"

struct location_aor {
	struct location_aor *next; /* hash chain */
	uint32_t hash;
	uint16_t ncontacts;
	struct location_contact *contacts; /* sorted: q descending, then newest first */
	size_t key_len;
	char key[]; /* NUL-terminated */
};

struct location {
	struct timers *ts;
	uint32_t max_aors;
	uint16_t max_contacts;
	uint32_t mask; /* buckets - 1, for both tables */
	uint64_t seed;
	uint64_t gen; /* of the last REGISTER applied */
	struct location_aor **aors;
	struct location_contact **conns; /* by flow.conn_id */
	struct location_stats st;
	location_contact_h *hook;
	void *hook_arg;
	location_contact_h *owner_hook; /* the registrar's (location_set_owner_hook) */
	void *owner_arg;
};

/* --- keys ---------------------------------------------------------------- */

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int location_aor_key(struct strv user, struct strv domain, char *out)
{
	size_t n = 0;

	if (!domain.len)
		return -EINVAL;
	for (size_t i = 0; i < user.len; i++) {
		char c = user.p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= user.len)
				return -EINVAL;
			hi = hexv(user.p[i + 1]);
			lo = hexv(user.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == 0)
			return -EINVAL;
		if (n + 1 >= LOCATION_AOR_MAX)
			return -ENAMETOOLONG;
		out[n++] = c;
	}
	if (n + 1 + domain.len + 1 > LOCATION_AOR_MAX)
		return -ENAMETOOLONG;
	out[n++] = '@';
	for (size_t i = 0; i < domain.len; i++) {
		char c = domain.p[i];

		if (c == 0)
			return -EINVAL;
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	out[n] = 0;
	return (int)n;
}

static uint32_t hash_bytes(const struct location *loc, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ loc->seed;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct location_aor *aor_find(const struct location *loc, struct strv key, uint32_t h)
{
	for (struct location_aor *a = loc->aors[h & loc->mask]; a; a = a->next) {
		if (a->hash == h && strv_eq(strv_make(a->key, a->key_len), key))
			return a;
	}
	return NULL;
}

static void aor_free(struct location *loc, struct location_aor *a)
{
	struct location_aor **pp = &loc->aors[a->hash & loc->mask];

	while (*pp != a)
		pp = &(*pp)->next;
	*pp = a->next;
	loc->st.aors--;
	free(a);
}

/* --- contacts ------------------------------------------------------------ */

/*
 * What identifies a binding: instance + reg-id when both sides have an
 * instance, else the URI (parsed when it is SIP/SIPS/TEL, else its text).
 */
struct bkey {
	struct strv instance, reg_id, uri;
	const struct sip_uri *puri; /* NULL: not a URI sip_uri_parse takes */
};

static bool bkey_eq(const struct bkey *x, const struct bkey *y)
{
	if (x->instance.len && y->instance.len)
		return strv_caseeq(x->instance, y->instance) && strv_eq(x->reg_id, y->reg_id);
	if (x->puri && y->puri)
		return sip_uri_equal(x->puri, y->puri);
	return strv_eq(x->uri, y->uri);
}

static struct bkey contact_key(const struct location_contact *c)
{
	return (struct bkey){
		.instance = strv_cstr(c->instance),
		.reg_id = strv_cstr(c->reg_id),
		.uri = strv_make(c->uri, c->uri_len),
		.puri = c->puri.scheme != SIP_URI_OTHER ? &c->puri : NULL,
	};
}

static struct location_contact *find_binding(const struct location_aor *a, const struct bkey *k)
{
	for (struct location_contact *c = a ? a->contacts : NULL; c; c = c->next) {
		struct bkey ck = contact_key(c);

		if (bkey_eq(&ck, k))
			return c;
	}
	return NULL;
}

static bool has_nul(struct strv s)
{
	return s.len && memchr(s.p, 0, s.len) != NULL;
}

static char *put_str(char **pos, struct strv s)
{
	char *r = *pos;

	if (s.len)
		memcpy(r, s.p, s.len);
	r[s.len] = 0;
	*pos += s.len + 1;
	return r;
}

/* A detached contact for binding @p b, strings copied into the same allocation. */
static struct location_contact *contact_new(struct location *loc, const struct location_binding *b,
					    struct strv call_id, uint32_t cseq,
					    const struct sip_flow *flow)
{
	size_t extra = b->uri.len + 1 + call_id.len + 1 + b->instance.len + 1 + b->reg_id.len + 1;
	struct location_contact *c = calloc(1, sizeof(*c) + extra);
	uint64_t now = timers_now(loc->ts);
	char *pos;

	if (!c)
		return NULL;
	pos = (char *)(c + 1);
	c->uri = put_str(&pos, b->uri);
	c->uri_len = b->uri.len;
	if (sip_uri_parse(&c->puri, strv_make(c->uri, c->uri_len)) < 0)
		memset(&c->puri, 0, sizeof(c->puri)); /* SIP_URI_OTHER: compared as text */
	c->call_id = put_str(&pos, call_id);
	c->instance = b->instance.len ? put_str(&pos, b->instance) : NULL;
	c->reg_id = b->reg_id.len ? put_str(&pos, b->reg_id) : NULL;
	c->cseq = cseq;
	c->q = b->q > 1000 ? 1000 : b->q;
	c->has_q = b->has_q;
	c->registered_ms = now;
	c->expires_ms = now + (uint64_t)b->expires_s * 1000;
	if (flow)
		c->flow = *flow;
	c->loc = loc;
	c->gen = loc->gen;
	timer_init(&c->timer);
	return c;
}

static void conn_link(struct location *loc, struct location_contact *c)
{
	struct location_contact **head;

	if (!c->flow.conn_id)
		return;
	head = &loc->conns[hash_bytes(loc, &c->flow.conn_id, sizeof(c->flow.conn_id)) & loc->mask];
	c->conn_next = *head;
	if (*head)
		(*head)->conn_pprev = &c->conn_next;
	*head = c;
	c->conn_pprev = head;
}

static void conn_unlink(struct location_contact *c)
{
	if (!c->conn_pprev)
		return;
	*c->conn_pprev = c->conn_next;
	if (c->conn_next)
		c->conn_next->conn_pprev = c->conn_pprev;
	c->conn_pprev = NULL;
	c->conn_next = NULL;
}

static void report(struct location *loc, struct location_contact *c, bool added)
{
	if (loc->hook)
		loc->hook(loc->hook_arg, c, added);
	if (loc->owner_hook)
		loc->owner_hook(loc->owner_arg, c, added);
}

/* Unlinks @p c from its AOR and everything else and frees it; the AOR may become empty. */
static void contact_remove(struct location *loc, struct location_contact *c)
{
	struct location_aor *a = c->aor;
	struct location_contact **pp = &a->contacts;

	report(loc, c, false);

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	a->ncontacts--;
	loc->st.contacts--;
	timer_cancel(loc->ts, &c->timer);
	conn_unlink(c);
	free(c);
}

static void on_expire(void *arg)
{
	struct location_contact *c = arg;
	struct location *loc = c->loc;
	struct location_aor *a = c->aor;

	loc->st.expired++;
	contact_remove(loc, c);
	if (!a->ncontacts)
		aor_free(loc, a);
}

/* Links @p c into @p a in order and starts its timer. */
static void contact_insert(struct location *loc, struct location_aor *a, struct location_contact *c)
{
	struct location_contact **pp = &a->contacts;
	uint64_t now = timers_now(loc->ts);
	int rc;

	while (*pp && (*pp)->q > c->q)
		pp = &(*pp)->next;
	c->next = *pp;
	*pp = c;
	c->aor = a;
	a->ncontacts++;
	loc->st.contacts++;
	conn_link(loc, c);
	rc = timer_start(loc->ts, &c->timer, c->expires_ms - now, on_expire, c);
	if (rc < 0) {
		/* Lookups skip it once expired; the next REGISTER of the AOR replaces it. */
		log_warn("location: no timer for a binding of %s: %s", a->key, strerror(-rc));
	}
	report(loc, c, true);
}

/*
 * The binding to drop from a full AOR: the one expiring first, among those
 * this request did not create (@p fresh) if there are any; ties: lowest q.
 */
static struct location_contact *evict_pick(struct location_aor *a, uint64_t gen)
{
	struct location_contact *best = NULL;

	for (int pass = 0; pass < 2 && !best; pass++) {
		for (struct location_contact *c = a->contacts; c; c = c->next) {
			if (pass == 0 && c->gen == gen)
				continue;
			if (!best || c->expires_ms < best->expires_ms ||
			    (c->expires_ms == best->expires_ms && c->q < best->q))
				best = c;
		}
	}
	return best;
}

/* --- updates ------------------------------------------------------------- */

int location_register(struct location *loc, struct strv aor, struct strv call_id, uint32_t cseq,
		      const struct sip_flow *flow, const struct location_binding *b, unsigned n)
{
	struct location_contact *fresh[LOCATION_MAX_BINDINGS] = { 0 };
	struct sip_uri bu[LOCATION_MAX_BINDINGS];
	struct bkey key[LOCATION_MAX_BINDINGS];
	uint32_t h = hash_bytes(loc, aor.p, aor.len);
	struct location_aor *a = aor_find(loc, aor, h);
	bool new_aor = false;
	unsigned nnew = 0;
	int rc = 0;

	if (n > LOCATION_MAX_BINDINGS)
		return -E2BIG;
	if (!call_id.len || has_nul(call_id) || !aor.len || has_nul(aor))
		return -EINVAL;

	/* Checks first: nothing changes unless every binding can be applied. */
	for (unsigned i = 0; i < n; i++) {
		struct location_contact *c;

		if (!b[i].uri.len || has_nul(b[i].uri) || has_nul(b[i].instance) ||
		    has_nul(b[i].reg_id))
			return -EINVAL;
		key[i] =
		    (struct bkey){ .instance = b[i].instance,
				   .reg_id = b[i].reg_id,
				   .uri = b[i].uri,
				   .puri = sip_uri_parse(&bu[i], b[i].uri) == 0 ? &bu[i] : NULL };
		c = find_binding(a, &key[i]);
		if (c && strv_eq(strv_cstr(c->call_id), call_id) && cseq <= c->cseq)
			return -EPROTO;
	}
	for (unsigned i = 0; i < n; i++) {
		bool later = false;

		/* A binding given again later in the request is replaced by that one. */
		for (unsigned j = i + 1; j < n && !later; j++)
			later = bkey_eq(&key[i], &key[j]);
		if (b[i].expires_s && !later)
			nnew++;
	}
	if (nnew > loc->max_contacts)
		return -E2BIG;
	if (!a && !nnew)
		return 0; /* only removals of bindings that do not exist */
	if (!a) {
		if (loc->st.aors >= loc->max_aors) {
			loc->st.refused_aors++;
			return -ENOSPC;
		}
		a = calloc(1, sizeof(*a) + aor.len + 1);
		if (!a)
			return -ENOMEM;
		memcpy(a->key, aor.p, aor.len);
		a->key_len = aor.len;
		a->hash = h;
		new_aor = true;
	}
	loc->gen++;
	for (unsigned i = 0; i < n; i++) {
		if (!b[i].expires_s)
			continue;
		fresh[i] = contact_new(loc, &b[i], call_id, cseq, flow);
		if (!fresh[i]) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (new_aor) {
		a->next = loc->aors[h & loc->mask];
		loc->aors[h & loc->mask] = a;
		loc->st.aors++;
	}

	/* Commit: nothing below fails. */
	for (unsigned i = 0; i < n; i++) {
		struct location_contact *c = find_binding(a, &key[i]);

		if (c)
			contact_remove(loc, c);
		if (fresh[i])
			contact_insert(loc, a, fresh[i]);
	}
	while (a->ncontacts > loc->max_contacts) {
		loc->st.replaced++;
		contact_remove(loc, evict_pick(a, loc->gen));
	}
	if (!a->ncontacts)
		aor_free(loc, a);
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		free(fresh[i]);
	if (new_aor)
		free(a);
	return rc;
}

int location_unregister_all(struct location *loc, struct strv aor, struct strv call_id,
			    uint32_t cseq)
{
	struct location_aor *a = aor_find(loc, aor, hash_bytes(loc, aor.p, aor.len));
	int n = 0;

	if (!a)
		return 0;
	if (call_id.len) {
		for (struct location_contact *c = a->contacts; c; c = c->next) {
			if (strv_eq(strv_cstr(c->call_id), call_id) && cseq <= c->cseq)
				return -EPROTO;
		}
	}
	while (a->contacts) {
		contact_remove(loc, a->contacts);
		n++;
	}
	aor_free(loc, a);
	return n;
}

unsigned location_lookup(const struct location *loc, struct strv aor,
			 const struct location_contact **out, unsigned max)
{
	const struct location_aor *a = aor_find(loc, aor, hash_bytes(loc, aor.p, aor.len));
	uint64_t now = timers_now(loc->ts);
	unsigned n = 0;

	for (const struct location_contact *c = a ? a->contacts : NULL; c && n < max; c = c->next) {
		if (c->expires_ms > now)
			out[n++] = c;
	}
	return n;
}

unsigned location_flow_closed(struct location *loc, uint64_t conn_id)
{
	struct location_contact **head;
	unsigned n = 0;

	if (!conn_id)
		return 0;
	head = &loc->conns[hash_bytes(loc, &conn_id, sizeof(conn_id)) & loc->mask];
	for (struct location_contact *c = *head, *next; c; c = next) {
		struct location_aor *a = c->aor;

		next = c->conn_next;
		if (c->flow.conn_id != conn_id)
			continue;
		/* Removing c may free its AOR, never another contact of this chain. */
		contact_remove(loc, c);
		if (!a->ncontacts)
			aor_free(loc, a);
		loc->st.flow_closed++;
		n++;
	}
	return n;
}

void location_stats(const struct location *loc, struct location_stats *st)
{
	*st = loc->st;
}

void location_set_hooks(struct location *loc, location_contact_h *h, void *arg)
{
	loc->hook = h;
	loc->hook_arg = arg;
}

void location_set_owner_hook(struct location *loc, location_contact_h *h, void *arg)
{
	loc->owner_hook = h;
	loc->owner_arg = arg;
}

struct strv location_contact_aor(const struct location_contact *c)
{
	return strv_make(c->aor->key, c->aor->key_len);
}

void location_remove(struct location *loc, struct location_contact *c)
{
	struct location_aor *a = c->aor;

	loc->st.removed++;
	contact_remove(loc, c);
	if (!a->ncontacts)
		aor_free(loc, a);
}

/* --- life cycle ---------------------------------------------------------- */

int location_alloc(struct location **lp, struct timers *ts, const struct location_conf *conf)
{
	static const struct location_conf defaults = { 0 };
	struct location *loc;
	size_t buckets = 64;

	if (!ts)
		return -EINVAL;
	if (!conf)
		conf = &defaults;
	loc = calloc(1, sizeof(*loc));
	if (!loc)
		return -ENOMEM;
	loc->ts = ts;
	loc->max_aors = conf->max_aors ? conf->max_aors : 100000;
	loc->max_contacts = conf->max_contacts_per_aor ? conf->max_contacts_per_aor : 10;
	if (loc->max_contacts > LOCATION_MAX_BINDINGS)
		loc->max_contacts = LOCATION_MAX_BINDINGS;
	/* One bucket per AOR at most: chains stay short at the limit, no rehash ever. */
	while (buckets < loc->max_aors && buckets < (1u << 24))
		buckets <<= 1;
	loc->mask = (uint32_t)(buckets - 1);
	loc->aors = calloc(buckets, sizeof(*loc->aors));
	loc->conns = calloc(buckets, sizeof(*loc->conns));
	if (!loc->aors || !loc->conns) {
		location_free(loc);
		return -ENOMEM;
	}
	if (RAND_bytes((unsigned char *)&loc->seed, sizeof(loc->seed)) != 1)
		loc->seed = 0x9E3779B97F4A7C15ULL;
	*lp = loc;
	return 0;
}

void location_free(struct location *loc)
{
	if (!loc)
		return;
	loc->hook = NULL; /* not reported: the hooks' users are gone first */
	loc->owner_hook = NULL;
	for (size_t i = 0; loc->aors && i <= loc->mask; i++) {
		while (loc->aors[i]) {
			struct location_aor *a = loc->aors[i];

			while (a->contacts)
				contact_remove(loc, a->contacts);
			aor_free(loc, a);
		}
	}
	free(loc->aors);
	free(loc->conns);
	free(loc);
}
