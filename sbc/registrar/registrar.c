/* SPDX-License-Identifier: BSD-2-Clause */
#include "registrar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "common/timer.h"
#include "digest.h"
#include "registrar_int.h"
#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"
#include "sbc/sip/reply.h"
#include "sbc/sip/transport.h"
#include "sbc/sip/tsx.h"

#define OUT_MAX	  65536
#define FAIL_WAYS 4

struct reg_user {
	char *key; /* "username@domain", the user's AOR; "username@" for any domain */
	size_t key_len;
	bool any_domain;
	char ha1[SIP_DIGEST_ALG_COUNT][SIP_DIGEST_HEX_MAX]; /* "" when not available */
};

struct registrar {
	struct timers *ts;
	struct location *loc;
	struct sip_digest *digest;
	struct registrar_relay *relay; /* NULL: local mode */
	char *realm;		       /* NULL: per domain */
	uint32_t min_expires, max_expires, default_expires;
	bool alg_on[SIP_DIGEST_ALG_COUNT];

	struct reg_user *users;
	unsigned nusers;
	uint32_t *uidx; /* open addressing: index + 1, 0 = empty */
	uint32_t umask;

	uint64_t rng;
	struct registrar_stats st;
	struct registrar_auth_fail fails[REGISTRAR_FAIL_SLOTS];
	struct log_ratelimit rl;
	char out[OUT_MAX];
};

/* --- users --------------------------------------------------------------- */

static uint32_t hash_key(struct strv k)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < k.len; i++) {
		h ^= (uint8_t)k.p[i];
		h *= 16777619u;
	}
	return h;
}

/* "user@domain" with the domain in lower case; -ENAMETOOLONG if it does not fit. */
static int user_key(struct strv user, struct strv domain, char *out)
{
	size_t n = 0;

	if (user.len + 1 + domain.len + 1 > LOCATION_AOR_MAX)
		return -ENAMETOOLONG;
	memcpy(out, user.p, user.len);
	n = user.len;
	out[n++] = '@';
	for (size_t i = 0; i < domain.len; i++) {
		char c = domain.p[i];

		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	out[n] = 0;
	return (int)n;
}

static const struct reg_user *user_find(const struct registrar *r, struct strv key)
{
	for (uint32_t i = hash_key(key) & r->umask;; i = (i + 1) & r->umask) {
		uint32_t x = r->uidx[i];

		if (!x)
			return NULL;
		if (strv_eq(strv_make(r->users[x - 1].key, r->users[x - 1].key_len), key))
			return &r->users[x - 1];
	}
}

/* Whether AOR key @p aor is @p u's (its own domain, or any domain). */
static bool user_owns(const struct reg_user *u, struct strv aor)
{
	if (!u->any_domain)
		return strv_eq(strv_make(u->key, u->key_len), aor);
	return aor.len > u->key_len && memcmp(aor.p, u->key, u->key_len) == 0 &&
	       !memchr(aor.p + u->key_len, '@', aor.len - u->key_len);
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int user_add(struct registrar *r, const struct registrar_user *in, const char *realm_conf)
{
	struct reg_user *u = &r->users[r->nusers];
	const char *ha1_in[SIP_DIGEST_ALG_COUNT] = { in->ha1_md5, in->ha1_sha256 };
	char key[LOCATION_AOR_MAX], realm[LOCATION_AOR_MAX];
	int n;

	if (!in->username || !*in->username) {
		log_err("registrar: a user has no name");
		return -EINVAL;
	}
	if (!in->domain && !realm_conf) {
		log_err("registrar: user %s has no domain and no realm is set", in->username);
		return -EINVAL;
	}
	n = user_key(strv_cstr(in->username), strv_cstr(in->domain), key);
	if (n < 0) {
		log_err("registrar: user %s: name too long", in->username);
		return -EINVAL;
	}
	if (user_find(r, strv_make(key, (size_t)n))) {
		log_err("registrar: user %s given twice", key);
		return -EINVAL;
	}
	u->any_domain = !in->domain;
	/* The realm the HA1 is computed with: conf.realm, else the domain (lower case). */
	strv_copy(strv_cstr(realm_conf ? realm_conf : strrchr(key, '@') + 1), realm, sizeof(realm));
	for (int a = 0; a < SIP_DIGEST_ALG_COUNT; a++) {
		if (!r->alg_on[a])
			continue;
		if (in->password) {
			if (sip_digest_ha1(a, strv_cstr(in->username), strv_cstr(realm),
					   strv_cstr(in->password), u->ha1[a]) < 0) {
				log_err("registrar: cannot hash with %s", sip_digest_alg_name(a));
				return -EINVAL;
			}
		} else if (ha1_in[a]) {
			if (!is_hex(ha1_in[a], sip_digest_hex_len(a))) {
				log_err("registrar: user %s: the %s HA1 is not %zu hex digits", key,
					sip_digest_alg_name(a), sip_digest_hex_len(a));
				return -EINVAL;
			}
			for (size_t i = 0; i <= sip_digest_hex_len(a); i++) {
				char c = ha1_in[a][i];

				u->ha1[a][i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
			}
		}
	}
	if (!u->ha1[SIP_DIGEST_MD5][0] && !u->ha1[SIP_DIGEST_SHA256][0]) {
		log_err("registrar: user %s has no password nor HA1 for an enabled algorithm", key);
		return -EINVAL;
	}
	u->key = strdup(key);
	if (!u->key)
		return -ENOMEM;
	u->key_len = (size_t)n;
	for (uint32_t i = hash_key(strv_make(key, (size_t)n)) & r->umask;; i = (i + 1) & r->umask) {
		if (!r->uidx[i]) {
			r->uidx[i] = ++r->nusers;
			break;
		}
	}
	return 0;
}

/* --- failures per source ------------------------------------------------- */

static struct sa source_addr(const struct sip_flow *flow)
{
	struct sa a = flow->remote;

	sa_set_port(&a, 0);
	return a;
}

static uint32_t sa_hash(const struct sa *a)
{
	char text[SA_STRLEN];

	return hash_key(strv_cstr(sa_print_addr(a, text, sizeof(text))));
}

static const struct registrar_auth_fail *fail_find(const struct registrar *r, const struct sa *a)
{
	const struct registrar_auth_fail *set =
	    &r->fails[(sa_hash(a) % (REGISTRAR_FAIL_SLOTS / FAIL_WAYS)) * FAIL_WAYS];

	for (unsigned i = 0; i < FAIL_WAYS; i++) {
		if (set[i].count && sa_equal_addr(&set[i].addr, a))
			return &set[i];
	}
	return NULL;
}

static uint64_t fail_count(struct registrar *r, const struct sip_flow *flow, uint64_t now)
{
	struct sa a = source_addr(flow);
	struct registrar_auth_fail *set =
	    &r->fails[(sa_hash(&a) % (REGISTRAR_FAIL_SLOTS / FAIL_WAYS)) * FAIL_WAYS];
	struct registrar_auth_fail *e = NULL;

	for (unsigned i = 0; i < FAIL_WAYS && !e; i++) {
		if (set[i].count && sa_equal_addr(&set[i].addr, &a))
			e = &set[i];
	}
	if (!e) {
		/* An empty slot, else the source that failed longest ago. */
		e = &set[0];
		for (unsigned i = 0; i < FAIL_WAYS; i++) {
			if (!set[i].count) {
				e = &set[i];
				break;
			}
			if (set[i].last_ms < e->last_ms)
				e = &set[i];
		}
		*e = (struct registrar_auth_fail){ .addr = a };
	}
	e->count++;
	e->last_ms = now;
	r->st.auth_failures++;
	return e->count;
}

/* --- responses ----------------------------------------------------------- */

struct reply {
	struct sip_pbuf b;
	unsigned code;
};

static uint64_t next_random(struct registrar *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

static int reply_begin(struct registrar *r, struct reply *rp, const struct sip_msg *req,
		       const struct sip_flow *flow, unsigned code, const char *reason)
{
	char tag[24];

	snprintf(tag, sizeof(tag), "%016llx", (unsigned long long)next_random(r));
	rp->code = code;
	return sip_reply_begin(&rp->b, req, flow, code, strv_cstr(reason), strv_cstr(tag));
}

static long reply_end(struct registrar *r, struct reply *rp)
{
	sip_print_body(&rp->b, STRV_NULL, STRV_NULL);
	if (rp->code == 200)
		r->st.ok++;
	else if (rp->code != 401)
		r->st.rejected++;
	return sip_print_finish(&rp->b);
}

/* A response with no header of ours. */
static long reply_simple(struct registrar *r, struct reply *rp, const struct sip_msg *req,
			 const struct sip_flow *flow, unsigned code, const char *reason)
{
	if (reply_begin(r, rp, req, flow, code, reason) < 0)
		return -EINVAL;
	return reply_end(r, rp);
}

static long reply_challenge(struct registrar *r, struct reply *rp, const struct sip_msg *req,
			    const struct sip_flow *flow, struct strv realm, bool stale)
{
	char nonce[SIP_DIGEST_NONCE_LEN + 1], value[512];
	/* RFC 8760 §2.4: the preferred algorithm first. */
	static const enum sip_digest_alg order[] = { SIP_DIGEST_SHA256, SIP_DIGEST_MD5 };

	if (reply_begin(r, rp, req, flow, 401, NULL) < 0)
		return -EINVAL;
	if (sip_digest_nonce(r->digest, timers_now(r->ts), realm, nonce) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < 2; i++) {
		int n;

		if (!r->alg_on[order[i]])
			continue;
		n = sip_digest_challenge(value, sizeof(value), realm, strv_cstr(nonce), order[i],
					 stale);
		if (n < 0)
			return n;
		sip_print_hdr(&rp->b, SIP_HDR_WWW_AUTHENTICATE, strv_make(value, (size_t)n));
	}
	return reply_end(r, rp);
}

/* q = 0..1000 as a qvalue: "1", "0.5", "0.125". */
static void print_q(char *out, size_t size, uint16_t q)
{
	if (q >= 1000) {
		snprintf(out, size, "1");
		return;
	}
	snprintf(out, size, "0.%03u", q);
	for (size_t n = strlen(out); n > 2 && out[n - 1] == '0'; n--)
		out[n - 1] = 0;
	if (out[strlen(out) - 1] == '.')
		snprintf(out, size, "0");
}

static void print_date(struct sip_pbuf *b)
{
	char date[64];
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		sip_print_hdr_name(b, STRV("Date"), strv_cstr(date));
}

/* 200 with every binding of @p aor (RFC 3261 §10.3 step 8). */
static long reply_bindings(struct registrar *r, struct reply *rp, const struct sip_msg *req,
			   const struct sip_flow *flow, struct strv aor)
{
	const struct location_contact *c[LOCATION_MAX_BINDINGS];
	uint64_t now = timers_now(r->ts);
	unsigned n = location_lookup(r->loc, aor, c, LOCATION_MAX_BINDINGS);

	if (reply_begin(r, rp, req, flow, 200, NULL) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t left = (c[i]->expires_ms - now + 999) / 1000;
		const char *inst = c[i]->instance, *reg_id = c[i]->reg_id;
		char q[8] = "";

		if (c[i]->has_q)
			print_q(q, sizeof(q), c[i]->q);
		sip_print_hdrf(&rp->b, SIP_HDR_CONTACT, "<%s>;expires=%llu%s%s%s%s%s%s%s",
			       c[i]->uri, (unsigned long long)left, c[i]->has_q ? ";q=" : "", q,
			       inst ? ";+sip.instance=\"" : "", inst ? inst : "", inst ? "\"" : "",
			       reg_id ? ";reg-id=" : "", reg_id ? reg_id : "");
	}
	print_date(&rp->b);
	return reply_end(r, rp);
}

/* --- REGISTER ------------------------------------------------------------ */

/* Expires header: absent or malformed -> -1; above 2^32-1 -> UINT32_MAX. */
static int64_t header_expires(const struct sip_msg *req)
{
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_EXPIRES);
	uint32_t v;
	int rc;

	if (!h)
		return -1;
	rc = sip_uint_parse(h->value, UINT32_MAX, &v);
	if (rc == -ERANGE)
		return UINT32_MAX;
	return rc < 0 ? -1 : (int64_t)v;
}

/* qvalue (validated by sip_addr_parse) to 0..1000. */
static uint16_t parse_q(struct strv q)
{
	unsigned v = (q.len && q.p[0] == '1') ? 1000 : 0, scale = 100;

	for (size_t i = 2; i < q.len && scale; i++, scale /= 10)
		v += (unsigned)(q.p[i] - '0') * scale;
	return (uint16_t)(v > 1000 ? 1000 : v);
}

static struct strv unquote(struct strv s)
{
	if (s.len >= 2 && s.p[0] == '"' && s.p[s.len - 1] == '"')
		return strv_make(s.p + 1, s.len - 2);
	return s;
}

/*
 * The Authorization header with our realm, parsed into @p a.
 * @return 1 found, 0 none, -EINVAL one of them is malformed.
 */
static int find_credentials(const struct sip_msg *req, struct strv realm, struct sip_auth *a)
{
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION); h;
	     h = sip_msg_hdr_next(req, h)) {
		if (sip_auth_parse(a, h->value) < 0)
			return -EINVAL;
		if (strv_caseeq(a->scheme, STRV("Digest")) && strv_eq(a->realm, realm))
			return 1;
	}
	return 0;
}

/* The digest-uri must be the Request-URI (RFC 7616 §3.4.6). */
static bool digest_uri_matches(struct strv duri, struct strv ruri)
{
	struct sip_uri a, b;

	if (strv_eq(duri, ruri))
		return true;
	return sip_uri_parse(&a, duri) == 0 && sip_uri_parse(&b, ruri) == 0 &&
	       sip_uri_equal(&a, &b);
}

struct reg_ctx {
	struct registrar *r;
	const struct sip_msg *req;
	const struct sip_flow *flow;
	struct reply rp;
	struct sip_addr to;
	char realm[LOCATION_AOR_MAX];
	char aor[LOCATION_AOR_MAX];
	int aor_len;
};

static void log_failure(struct reg_ctx *x, const struct sip_auth *a, uint64_t count,
			const char *why)
{
	char from[SIP_FLOW_STRLEN];

	log_ratelimited(&x->r->rl, &x->flow->remote.u.sa, timers_now(x->r->ts), LOG_LVL_NOTICE,
			"REGISTER of %s from %s: authentication failed (%s, user \"%.*s\", %llu "
			"failures from this address)",
			x->aor, sip_flow_print(x->flow, from, sizeof(from)), why,
			(int)(a->username.len > 64 ? 64 : a->username.len), a->username.p,
			(unsigned long long)count);
}

/* 0 when authenticated as the AOR's user; otherwise the response in x->rp. */
static long authenticate(struct reg_ctx *x)
{
	struct registrar *r = x->r;
	struct strv realm = strv_cstr(x->realm);
	uint64_t now = timers_now(r->ts);
	char key[LOCATION_AOR_MAX], scratch[SIP_DIGEST_HEX_MAX];
	const struct reg_user *u = NULL;
	enum sip_digest_alg alg;
	struct sip_auth a;
	int rc, n;

	rc = find_credentials(x->req, realm, &a);
	if (rc < 0)
		return reply_simple(r, &x->rp, x->req, x->flow, 400, "Malformed Authorization");
	if (rc == 0) {
		r->st.challenged++;
		return reply_challenge(r, &x->rp, x->req, x->flow, realm, false);
	}
	if (sip_digest_alg_parse(a.algorithm, &alg) < 0 || !r->alg_on[alg])
		return reply_simple(r, &x->rp, x->req, x->flow, 400, "Unsupported Algorithm");
	if (!digest_uri_matches(a.uri, x->req->ruri))
		return reply_simple(r, &x->rp, x->req, x->flow, 400, "Digest URI Mismatch");
	n = user_key(a.username, x->to.uri.host, key);
	if (n >= 0)
		u = user_find(r, strv_make(key, (size_t)n));
	if (!u && user_key(a.username, STRV_NULL, key) >= 0)
		u = user_find(r, strv_cstr(key)); /* a user of every domain */
	if (!u || !u->ha1[alg][0]) {
		/* The same work as for a known user: the timing does not tell. */
		memset(scratch, '0', sip_digest_hex_len(alg));
		sip_digest_response(alg, strv_make(scratch, sip_digest_hex_len(alg)),
				    x->req->method_name, a.uri, a.nonce, a.nc, a.cnonce, a.qop,
				    scratch);
		log_failure(x, &a, fail_count(r, x->flow, now), "unknown user");
		return reply_challenge(r, &x->rp, x->req, x->flow, realm, false);
	}
	switch (sip_digest_verify(r->digest, now, &a, x->req->method_name, realm,
				  strv_cstr(u->ha1[alg]))) {
	case SIP_DIGEST_OK:
		break;
	case SIP_DIGEST_MALFORMED:
		return reply_simple(r, &x->rp, x->req, x->flow, 400, "Malformed Authorization");
	case SIP_DIGEST_WRONG:
		log_failure(x, &a, fail_count(r, x->flow, now), "wrong password");
		return reply_challenge(r, &x->rp, x->req, x->flow, realm, false);
	case SIP_DIGEST_STALE:
		r->st.stale++;
		return reply_challenge(r, &x->rp, x->req, x->flow, realm, true);
	case SIP_DIGEST_REPLAY:
		r->st.replays++;
		return reply_challenge(r, &x->rp, x->req, x->flow, realm, true);
	}
	/* Authenticated as u: it may change the bindings of its own AOR only. */
	if (!user_owns(u, strv_make(x->aor, (size_t)x->aor_len)))
		return reply_simple(r, &x->rp, x->req, x->flow, 403, "Not Your Address-of-Record");
	return 0;
}

/* 420 when the request requires an extension (none is supported). */
static long check_require(struct reg_ctx *x)
{
	const struct sip_hdr *h = sip_msg_hdr(x->req, SIP_HDR_REQUIRE);

	if (!h)
		return 0;
	if (reply_begin(x->r, &x->rp, x->req, x->flow, 420, NULL) < 0)
		return -EINVAL;
	for (; h; h = sip_msg_hdr_next(x->req, h))
		sip_print_hdr(&x->rp.b, SIP_HDR_UNSUPPORTED, h->value);
	return reply_end(x->r, &x->rp);
}

/* One Contact into @p b. @return 0 or 400 (malformed expires). */
static unsigned read_binding(const struct registrar *r, const struct sip_addr *c, int64_t hdr_exp,
			     struct location_binding *b)
{
	struct strv v;
	uint32_t e;
	int rc;

	if (c->expires.len) {
		rc = sip_uint_parse(c->expires, UINT32_MAX, &e);
		if (rc == -ERANGE)
			e = UINT32_MAX;
		else if (rc < 0)
			return 400;
	} else {
		e = hdr_exp >= 0 ? (uint32_t)hdr_exp : r->default_expires;
	}
	*b = (struct location_binding){ .uri = c->uri_text, .expires_s = e, .q = 1000 };
	if (c->q.len) {
		b->q = parse_q(c->q);
		b->has_q = true;
	}
	if (sip_param_get(c->params, STRV("+sip.instance"), &v))
		b->instance = unquote(v);
	if (sip_param_get(c->params, STRV("reg-id"), &v))
		b->reg_id = v;
	return 0;
}

unsigned registrar_read_contacts(const struct registrar *r, const struct sip_msg *req,
				 struct reg_contacts *out, const char **reason)
{
	int64_t hdr_exp = header_expires(req);
	bool too_brief = false;

	out->n = 0;
	out->star = false;
	*reason = NULL;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(req, h)) {
		struct location_binding *b = &out->b[out->n];
		struct sip_addr c;

		*reason = "Malformed Contact";
		if (sip_addr_parse(&c, h->value) < 0)
			return 400;
		if (c.star) {
			out->star = true;
			*reason = "Invalid Contact: *";
			if (sip_msg_hdr_count(req, SIP_HDR_CONTACT) != 1 || hdr_exp != 0)
				return 400;
			*reason = NULL;
			return 0;
		}
		*reason = "Too Many Contacts";
		if (out->n == LOCATION_MAX_BINDINGS)
			return 403;
		*reason = "Malformed Contact";
		if (read_binding(r, &c, hdr_exp, b))
			return 400;
		if (b->expires_s && b->expires_s < r->min_expires)
			too_brief = true;
		if (b->expires_s > r->max_expires)
			b->expires_s = r->max_expires;
		out->n++;
	}
	*reason = NULL;
	return too_brief ? 423 : 0;
}

long registrar_reply_status(struct registrar *r, const struct sip_msg *req,
			    const struct sip_flow *flow, unsigned code, const char *reason,
			    char *out, size_t size)
{
	struct reply rp;

	sip_print_init(&rp.b, out, size);
	if (reply_begin(r, &rp, req, flow, code, reason) < 0)
		return -EINVAL;
	if (code == 423)
		sip_print_hdr_uint(&rp.b, SIP_HDR_MIN_EXPIRES, r->min_expires);
	return reply_end(r, &rp);
}

long registrar_reply_ok(struct registrar *r, const struct sip_msg *req, const struct sip_flow *flow,
			struct strv aor, char *out, size_t size)
{
	struct reply rp;

	sip_print_init(&rp.b, out, size);
	return reply_bindings(r, &rp, req, flow, aor);
}

static long apply_status(struct reg_ctx *x, unsigned code, const char *reason)
{
	return registrar_reply_status(x->r, x->req, x->flow, code, reason, x->rp.b.p, x->rp.b.cap);
}

static long do_contacts(struct reg_ctx *x)
{
	struct registrar *r = x->r;
	const struct sip_msg *req = x->req;
	struct strv aor = strv_make(x->aor, (size_t)x->aor_len);
	struct reg_contacts rc;
	const char *reason;
	unsigned code = registrar_read_contacts(r, req, &rc, &reason);
	int err;

	if (code)
		return apply_status(x, code, reason);
	if (rc.star)
		err = location_unregister_all(r->loc, aor, req->call_id, req->cseq);
	else
		err = location_register(r->loc, aor, req->call_id, req->cseq, x->flow, rc.b, rc.n);
	code = registrar_location_status(err, &reason);
	if (code)
		return apply_status(x, code, reason);
	return reply_bindings(r, &x->rp, req, x->flow, aor);
}

unsigned registrar_location_status(int err, const char **reason)
{
	*reason = NULL;
	if (err >= 0)
		return 0;
	switch (err) {
	case -EPROTO:
		*reason = "Out-of-Order CSeq";
		return 500;
	case -E2BIG:
		*reason = "Too Many Contacts";
		return 403;
	case -ENOSPC:
		*reason = "Registrar Full";
		return 503;
	case -EINVAL:
		*reason = "Invalid Contact";
		return 400;
	default:
		return 500;
	}
}

/* To, AOR, realm, Require: 0 to go on, else the response (or a negative errno). */
static long front(struct reg_ctx *x, char *out, size_t size)
{
	const struct sip_msg *req = x->req;
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	struct registrar *r = x->r;

	if (!req->is_request || req->method != SIP_METHOD_REGISTER ||
	    !sip_msg_hdr(req, SIP_HDR_VIA))
		return -EINVAL;
	r->st.requests++;
	sip_print_init(&x->rp.b, out, size);
	if (!to || sip_addr_parse(&x->to, to->value) < 0)
		return reply_simple(r, &x->rp, req, x->flow, 400, "Malformed To");
	if ((x->to.uri.scheme != SIP_URI_SIP && x->to.uri.scheme != SIP_URI_SIPS) ||
	    !x->to.uri.user.len || !x->to.uri.host.len)
		return reply_simple(r, &x->rp, req, x->flow, 404, "Not Found");
	x->aor_len = location_aor_key(x->to.uri.user, x->to.uri.host, x->aor);
	if (x->aor_len < 0)
		return reply_simple(r, &x->rp, req, x->flow, 404, "Not Found");
	if (r->realm)
		strv_copy(strv_cstr(r->realm), x->realm, sizeof(x->realm));
	else
		strv_copy(strv_cstr(strrchr(x->aor, '@') + 1), x->realm, sizeof(x->realm));
	return check_require(x);
}

long registrar_front(struct registrar *r, const struct sip_msg *req, const struct sip_flow *flow,
		     char *aor, char *out, size_t size)
{
	struct reg_ctx x = { .r = r, .req = req, .flow = flow };
	long rc = front(&x, out, size);

	if (rc == 0)
		memcpy(aor, x.aor, (size_t)x.aor_len + 1);
	return rc;
}

long registrar_handle_message(struct registrar *r, const struct sip_msg *req,
			      const struct sip_flow *flow, char *out, size_t size)
{
	struct reg_ctx x = { .r = r, .req = req, .flow = flow };
	long rc = front(&x, out, size);

	if (rc)
		return rc;
	rc = authenticate(&x);
	if (rc)
		return rc;
	if (!sip_msg_hdr(req, SIP_HDR_CONTACT))
		return reply_bindings(r, &x.rp, req, flow, strv_make(x.aor, (size_t)x.aor_len));
	return do_contacts(&x);
}

int registrar_handle(struct registrar *r, struct sip_tsx *st, const struct sip_msg *req)
{
	long len;
	int rc;

	if (r->relay)
		return registrar_relay_handle(r->relay, st, req);
	len = registrar_handle_message(r, req, sip_tsx_dest(st), r->out, sizeof(r->out));

	if (len < 0) {
		log_warn("registrar: could not answer a REGISTER: %s", strerror((int)-len));
		sip_tsx_terminate(st);
		return (int)len;
	}
	rc = sip_tsx_respond(st, r->out, (size_t)len);
	if (rc < 0)
		sip_tsx_terminate(st);
	return rc;
}

/* --- queries ------------------------------------------------------------- */

unsigned registrar_lookup(const struct registrar *r, struct strv user, struct strv domain,
			  const struct location_contact **out, unsigned max)
{
	char key[LOCATION_AOR_MAX];
	int n;

	/*
	 * Relay mode: only the keys we registered upstream as Contact are
	 * looked up. A call to an AOR goes by routing to the core, which calls
	 * the key back: the upstream stays the one place that routes (and bills).
	 */
	if (r->relay)
		n = registrar_relay_aor(r->relay, user, key);
	else
		n = location_aor_key(user, domain, key);
	if (n < 0)
		return 0;
	return location_lookup(r->loc, strv_make(key, (size_t)n), out, max);
}

unsigned registrar_flow_closed(struct registrar *r, uint64_t conn_id)
{
	return location_flow_closed(r->loc, conn_id);
}

void registrar_stats(const struct registrar *r, struct registrar_stats *st)
{
	struct location_stats ls;

	location_stats(r->loc, &ls);
	*st = r->st;
	st->aors = ls.aors;
	st->bindings = ls.contacts;
	st->expired = ls.expired;
	st->replaced = ls.replaced;
}

struct location *registrar_location(struct registrar *r)
{
	return r->loc;
}

struct timers *registrar_timers(struct registrar *r)
{
	return r->ts;
}

void registrar_relay_attach(struct registrar *r, struct registrar_relay *rr)
{
	r->relay = rr;
}

struct registrar_relay *registrar_relay_of(const struct registrar *r)
{
	return r->relay;
}

uint64_t registrar_auth_failures(const struct registrar *r, const struct sa *src)
{
	struct sa a = *src;
	const struct registrar_auth_fail *e;

	sa_set_port(&a, 0);
	e = fail_find(r, &a);
	return e ? e->count : 0;
}

unsigned registrar_auth_fail_list(const struct registrar *r, struct registrar_auth_fail *out,
				  unsigned max)
{
	unsigned n = 0;

	/* Insertion into the caller's array, most failures first: no copy of the table. */
	for (unsigned i = 0; i < REGISTRAR_FAIL_SLOTS; i++) {
		const struct registrar_auth_fail *e = &r->fails[i];
		unsigned at = n;

		if (!e->count)
			continue;
		while (at > 0 && out[at - 1].count < e->count)
			at--;
		if (at >= max)
			continue;
		if (n < max)
			n++;
		memmove(&out[at + 1], &out[at], (n - 1 - at) * sizeof(*out));
		out[at] = *e;
	}
	return n;
}

/* --- life cycle ---------------------------------------------------------- */

int registrar_alloc(struct registrar **rp, struct timers *ts, const struct registrar_conf *conf)
{
	struct registrar *r;
	struct location_conf lc;
	struct sip_digest_conf dc;
	size_t slots = 16;
	int rc = -ENOMEM;

	if (!ts || !conf || (conf->no_md5 && conf->no_sha256) ||
	    (conf->realm && (!*conf->realm || strpbrk(conf->realm, "\"\\\r\n"))))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ts = ts;
	r->min_expires = conf->min_expires ? conf->min_expires : 60;
	r->max_expires = conf->max_expires ? conf->max_expires : 3600;
	r->default_expires = conf->default_expires ? conf->default_expires : 3600;
	if (r->min_expires > r->max_expires) {
		log_err("registrar: min_expires %u > max_expires %u", r->min_expires,
			r->max_expires);
		rc = -EINVAL;
		goto fail;
	}
	if (r->default_expires < r->min_expires)
		r->default_expires = r->min_expires;
	if (r->default_expires > r->max_expires)
		r->default_expires = r->max_expires;
	r->alg_on[SIP_DIGEST_MD5] = !conf->no_md5;
	r->alg_on[SIP_DIGEST_SHA256] = !conf->no_sha256;
	log_ratelimit_init(&r->rl, conf->log_interval_ms ? conf->log_interval_ms : 10000);
	if (RAND_bytes((unsigned char *)&r->rng, sizeof(r->rng)) != 1 || !r->rng)
		r->rng = 0x9E3779B97F4A7C15ULL;
	if (conf->realm) {
		char low[LOCATION_AOR_MAX];

		strv_copy(strv_cstr(conf->realm), low, sizeof(low));
		r->realm = strdup(low);
		if (!r->realm)
			goto fail;
	}

	while (slots < 2 * (size_t)conf->nusers)
		slots <<= 1;
	r->uidx = calloc(slots, sizeof(*r->uidx));
	r->users = calloc(conf->nusers ? conf->nusers : 1, sizeof(*r->users));
	if (!r->uidx || !r->users)
		goto fail;
	r->umask = (uint32_t)(slots - 1);
	for (unsigned i = 0; i < conf->nusers; i++) {
		rc = user_add(r, &conf->users[i], conf->realm);
		if (rc)
			goto fail;
	}

	lc = (struct location_conf){ .max_aors = conf->max_aors,
				     .max_contacts_per_aor = conf->max_contacts_per_aor };
	rc = location_alloc(&r->loc, ts, &lc);
	if (rc)
		goto fail;
	dc = (struct sip_digest_conf){
		.nonce_ttl_ms = conf->nonce_ttl ? conf->nonce_ttl * 1000 : 0,
		.replay_slots = conf->replay_slots,
		.secret = (const uint8_t *)conf->nonce_secret,
		.secret_len = conf->nonce_secret ? strlen(conf->nonce_secret) : 0,
	};
	if (conf->nonce_secret && !*conf->nonce_secret)
		dc.secret = NULL;
	rc = sip_digest_alloc(&r->digest, &dc);
	if (rc)
		goto fail;
	*rp = r;
	return 0;
fail:
	registrar_free(r);
	return rc;
}

void registrar_free(struct registrar *r)
{
	if (!r)
		return;
	registrar_relay_free(r->relay);
	location_free(r->loc);
	sip_digest_free(r->digest);
	for (unsigned i = 0; r->users && i < r->nusers; i++)
		free(r->users[i].key);
	OPENSSL_cleanse(r->users, r->nusers * sizeof(*r->users));
	free(r->users);
	free(r->uidx);
	free(r->realm);
	free(r);
}
