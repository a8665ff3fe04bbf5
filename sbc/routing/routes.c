/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Layout of a built table (all arrays allocated once, read-only afterwards):
 *
 *  trunks[]   the trunks in configuration order; byname[] indexes them sorted by name.
 *  routes[]   one per configured route: its members[] range, sorted by (priority, order).
 *  buckets[]  one per distinct domain, bucket 0 being "any domain". A bucket has the route
 *             without prefix (or -1), a bit mask of the prefix lengths present, and its range
 *             of pfx[].
 *  exact[], wild[]  domain name (lowercase, without "*.") -> bucket, sorted by name.
 *  pfx[]      every (bucket, prefix) -> route, sorted by bucket then prefix bytes then length,
 *             so a bucket's prefixes are contiguous and found by binary search.
 *
 * A lookup tries the buckets from the most specific domain to "any"; in each, every prefix
 * length present in the mask from the longest the number allows down to 1 (one binary search
 * each), then the route without prefix.
 */
#include "routes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "sbc/sip/uri.h"

struct member {
	uint32_t trunk;
	uint32_t priority;
	uint32_t weight;
};

struct route {
	char *name;
	uint32_t first; /* into members[] */
	uint32_t count;
};

struct bucket {
	int32_t def_route; /* route without prefix, -1: none */
	uint64_t lenmask;  /* bit L: a prefix of L characters exists (1..ROUTES_PREFIX_MAX) */
	uint32_t first;	   /* into pfx[] */
	uint32_t count;
};

struct domain {
	char *name;
	uint32_t bucket;
};

struct pfx {
	uint32_t bucket;
	uint32_t route;
	uint8_t len;
	char p[ROUTES_PREFIX_MAX];
};

struct routes {
	struct routes_trunk *trunks;
	uint32_t *byname;
	unsigned ntrunks;
	struct route *routes;
	unsigned nroutes;
	struct member *members;
	struct bucket *buckets;
	unsigned nbuckets;
	struct domain *exact, *wild;
	unsigned nexact, nwild;
	struct pfx *pfx;
	unsigned npfx;
};

/* ---- helpers ---- */

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool empty_str(const char *s)
{
	return !s || !*s;
}

/* Compares a view, lowercased on the fly, with a lowercase C string. */
static int cmp_lower(struct strv a, const char *b)
{
	size_t i;

	for (i = 0; i < a.len && b[i]; i++) {
		unsigned char ca = (unsigned char)lower(a.p[i]), cb = (unsigned char)b[i];

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	if (i < a.len)
		return 1;
	return b[i] ? -1 : 0;
}

/* ---- trunks ---- */

static bool all_numeric(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (!is_digit(s.p[i]) && s.p[i] != '.')
			return false;
	}
	return true;
}

/* An IPv6 address in its inet_ntop form, so that "[0::1]" and "[::1]" match. */
static bool ipv6_canon(struct strv in, char *out, size_t size)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;

	if (in.len >= sizeof(tmp))
		return false;
	memcpy(tmp, in.p, in.len);
	tmp[in.len] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1 && inet_ntop(AF_INET6, &a, out, (socklen_t)size);
}

static bool is_ipv4(struct strv in)
{
	char tmp[INET_ADDRSTRLEN + 1];
	struct in_addr a;

	if (in.len >= sizeof(tmp))
		return false;
	memcpy(tmp, in.p, in.len);
	tmp[in.len] = '\0';
	return inet_pton(AF_INET, tmp, &a) == 1;
}

static bool is_hostname(struct strv h)
{
	bool label_start = true;

	if (h.len == 0 || h.len > ROUTES_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < h.len; i++) {
		char c = h.p[i];

		if (c == '.') {
			if (label_start)
				return false;
			label_start = true;
			continue;
		}
		if (!(is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'z') || c == '-'))
			return false;
		if (c == '-' && label_start)
			return false;
		label_start = false;
	}
	return true;
}

/* A host name, an IPv4 address, or an IPv6 address with or without brackets. */
static bool valid_host(struct strv h)
{
	char v6[INET6_ADDRSTRLEN];

	if (h.len > 2 && h.p[0] == '[' && h.p[h.len - 1] == ']')
		return ipv6_canon(strv_make(h.p + 1, h.len - 2), v6, sizeof(v6));
	if (all_numeric(h))
		return is_ipv4(h);
	return is_hostname(h) || ipv6_canon(h, v6, sizeof(v6));
}

static int trunk_address(struct routes_trunk *tr, const char *address, char *host, size_t hostsize)
{
	struct strv a = strv_cstr(address), h = a;
	uint16_t defport = tr->proto == SIP_PROTO_TLS ? 5061 : 5060;
	const char *colon;
	uint64_t port = 0;

	if (sa_parse(&tr->addr, a, defport) == 0) {
		sa_print_addr(&tr->addr, host, hostsize);
		/* Written port: "v4:port" or "[v6]:port"; a bare IPv6 address never has one. */
		colon = strrchr(address, ':');
		if (colon && (address[0] == '[' ? colon[-1] == ']' : strchr(address, ':') == colon))
			tr->port = sa_port(&tr->addr);
		return 0;
	}
	sa_init(&tr->addr);
	colon = memchr(a.p, ':', a.len);
	if (colon) {
		h = strv_make(a.p, (size_t)(colon - a.p));
		if (strv_to_u64(strv_make(colon + 1, a.len - h.len - 1), 65535, &port) || port == 0)
			return -EINVAL;
	}
	if (!is_hostname(h) || h.len >= hostsize)
		return -EINVAL;
	/* All digits and dots is a malformed IPv4 address, not a name. */
	if (all_numeric(h))
		return -EINVAL;
	for (size_t i = 0; i < h.len; i++)
		host[i] = lower(h.p[i]);
	host[h.len] = '\0';
	tr->port = (uint16_t)port;
	return 0;
}

static int cmp_byname(const void *a, const void *b, void *arg)
{
	const struct routes *t = arg;

	return strcmp(t->trunks[*(const uint32_t *)a].name, t->trunks[*(const uint32_t *)b].name);
}

static int build_trunks(struct routes *t, const struct routes_conf *conf, char *err, size_t errlen)
{
	char host[ROUTES_DOMAIN_MAX + 1];

	t->ntrunks = conf->ntrunks;
	t->trunks = calloc(conf->ntrunks ? conf->ntrunks : 1, sizeof(*t->trunks));
	t->byname = calloc(conf->ntrunks ? conf->ntrunks : 1, sizeof(*t->byname));
	if (!t->trunks || !t->byname)
		return -ENOMEM;

	for (unsigned i = 0; i < conf->ntrunks; i++) {
		const struct routes_trunk_conf *c = &conf->trunks[i];
		struct routes_trunk *tr = &t->trunks[i];
		const char *n = c->name ? c->name : "";

		tr->index = i;
		t->byname[i] = i;
		if (empty_str(c->name))
			return errf(err, errlen, "trunk [%u]: no name", i);
		if (empty_str(c->transport)) {
			tr->proto = SIP_PROTO_UDP;
		} else if (sip_proto_from_name(strv_cstr(c->transport), &tr->proto)) {
			return errf(err, errlen,
				    "trunk [%u] '%s': unknown transport '%s' (udp, tcp, tls)", i, n,
				    c->transport);
		}
		if (empty_str(c->address))
			return errf(err, errlen, "trunk [%u] '%s': no address", i, n);
		if (trunk_address(tr, c->address, host, sizeof(host)))
			return errf(
			    err, errlen,
			    "trunk [%u] '%s': bad address '%s' (host, host:port, IP or IP:port)", i,
			    n, c->address);
		if (c->weight > ROUTES_WEIGHT_MAX)
			return errf(err, errlen, "trunk [%u] '%s': weight %u out of range 1..%u", i,
				    n, c->weight, ROUTES_WEIGHT_MAX);
		tr->weight = c->weight ? c->weight : 1;
		if (!empty_str(c->ruri_host)) {
			if (!valid_host(strv_cstr(c->ruri_host)))
				return errf(err, errlen, "trunk [%u] '%s': bad ruri_host '%s'", i,
					    n, c->ruri_host);
			if (!(tr->ruri_host = strdup(c->ruri_host)))
				return -ENOMEM;
		}
		tr->name = strdup(c->name);
		tr->host = strdup(host);
		if (!tr->name || !tr->host)
			return -ENOMEM;
	}

	qsort_r(t->byname, t->ntrunks, sizeof(*t->byname), cmp_byname, t);
	for (unsigned i = 1; i < t->ntrunks; i++) {
		const struct routes_trunk *a = &t->trunks[t->byname[i - 1]];
		const struct routes_trunk *b = &t->trunks[t->byname[i]];

		if (strcmp(a->name, b->name) == 0)
			return errf(err, errlen, "trunk [%u] '%s': name already used by trunk [%u]",
				    a->index > b->index ? a->index : b->index, a->name,
				    a->index > b->index ? b->index : a->index);
	}
	return 0;
}

static int trunk_find(const struct routes *t, struct strv name)
{
	size_t lo = 0, hi = t->ntrunks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *n = t->trunks[t->byname[mid]].name;
		size_t nlen = strlen(n);
		int c = memcmp(name.p, n, name.len < nlen ? name.len : nlen);

		if (c == 0)
			c = name.len < nlen ? -1 : name.len > nlen ? 1 : 0;
		if (c == 0)
			return (int)t->byname[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- routes ---- */

/* Per-route facts kept during the build only. */
struct route_key {
	char *domain; /* lowercase, without "*.", NULL: any */
	bool wild;
	uint32_t bucket;
	uint32_t index;
};

static int parse_domain(const char *in, char **out, bool *wild)
{
	struct strv d = strv_cstr(in);
	char v6[INET6_ADDRSTRLEN];
	char *s;

	*out = NULL;
	*wild = false;
	if (d.len == 0 || (d.len == 1 && d.p[0] == '*'))
		return 0;
	if (d.len > 2 && d.p[0] == '*' && d.p[1] == '.') {
		*wild = true;
		d.p += 2;
		d.len -= 2;
	}
	if (d.len > 1 && d.p[d.len - 1] == '.')
		d.len--;
	if (d.len > 2 && d.p[0] == '[' && d.p[d.len - 1] == ']') {
		d.p++;
		d.len -= 2;
	}
	if (!*wild && ipv6_canon(d, v6, sizeof(v6))) {
		d = strv_cstr(v6);
	} else if (!is_hostname(d)) {
		return -EINVAL;
	} else if (all_numeric(d) && (*wild || !is_ipv4(d))) {
		/* "1.2.3" is a malformed address, "*.2.3.4" a suffix of addresses */
		return -EINVAL;
	}
	if (!(s = malloc(d.len + 1)))
		return -ENOMEM;
	for (size_t i = 0; i < d.len; i++)
		s[i] = lower(d.p[i]);
	s[d.len] = '\0';
	*out = s;
	return 0;
}

static int parse_prefix(const char *in, struct pfx *p)
{
	size_t len = in ? strlen(in) : 0;

	if (len == 0 || len > ROUTES_PREFIX_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!(is_digit(in[i]) || (i == 0 && in[i] == '+')))
			return -EINVAL;
	}
	memcpy(p->p, in, len);
	p->len = (uint8_t)len;
	return 0;
}

static const char *route_label(const struct routes_route_conf *rc)
{
	return rc->name ? rc->name : "";
}

static int build_route(struct routes *t, unsigned i, const struct routes_route_conf *rc,
		       uint32_t first, char *err, size_t errlen)
{
	struct route *r = &t->routes[i];
	struct member *m = &t->members[first];

	r->first = first;
	r->count = rc->ntrunks;
	if (!(r->name = strdup(route_label(rc))))
		return -ENOMEM;
	for (unsigned k = 0; k < rc->ntrunks; k++) {
		const struct routes_member_conf *mc = &rc->trunks[k];
		int ti = mc->trunk ? trunk_find(t, strv_cstr(mc->trunk)) : -1;

		if (ti < 0)
			return errf(err, errlen, "route [%u] '%s': unknown trunk '%s'", i,
				    route_label(rc), mc->trunk ? mc->trunk : "(none)");
		if (mc->weight > ROUTES_WEIGHT_MAX)
			return errf(err, errlen,
				    "route [%u] '%s': trunk '%s': weight %u out of range 1..%u", i,
				    route_label(rc), mc->trunk, mc->weight, ROUTES_WEIGHT_MAX);
		for (unsigned j = 0; j < k; j++) {
			if (m[j].trunk == (uint32_t)ti)
				return errf(err, errlen, "route [%u] '%s': trunk '%s' listed twice",
					    i, route_label(rc), mc->trunk);
		}
		m[k].trunk = (uint32_t)ti;
		m[k].priority = mc->priority;
		m[k].weight = mc->weight ? mc->weight : t->trunks[ti].weight;
	}
	/* By priority, configuration order within one: an insertion sort is stable, and a
	 * route has at most ROUTES_MAX_ROUTE_TRUNKS members. */
	for (unsigned k = 1; k < rc->ntrunks; k++) {
		struct member v = m[k];
		unsigned j = k;

		while (j > 0 && m[j - 1].priority > v.priority) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = v;
	}
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct route_key *x = a, *y = b;

	if (!x->domain || !y->domain)
		return (x->domain ? 1 : 0) - (y->domain ? 1 : 0);
	if (x->wild != y->wild)
		return x->wild ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

static int cmp_pfx(const void *a, const void *b)
{
	const struct pfx *x = a, *y = b;
	int c;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return (int)x->len - (int)y->len;
}

/* Gives every distinct domain a bucket (0: any) and fills exact[] and wild[]. */
static int build_domains(struct routes *t, struct route_key *keys, unsigned n)
{
	unsigned nb = 1;

	qsort(keys, n, sizeof(*keys), cmp_key);
	for (unsigned i = 0; i < n; i++) {
		if (!keys[i].domain)
			keys[i].bucket = 0;
		else if (i > 0 && keys[i - 1].domain && cmp_key(&keys[i - 1], &keys[i]) == 0)
			keys[i].bucket = keys[i - 1].bucket;
		else
			keys[i].bucket = nb++;
	}
	t->nbuckets = nb;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	t->exact = calloc(nb, sizeof(*t->exact));
	t->wild = calloc(nb, sizeof(*t->wild));
	if (!t->buckets || !t->exact || !t->wild)
		return -ENOMEM;
	for (unsigned b = 0; b < nb; b++)
		t->buckets[b].def_route = -1;
	/* keys are sorted exact names first, then wild names, each alphabetically. */
	for (unsigned i = 0; i < n; i++) {
		struct domain *d;

		if (!keys[i].domain ||
		    (i > 0 && keys[i - 1].domain && keys[i - 1].bucket == keys[i].bucket))
			continue;
		d = keys[i].wild ? &t->wild[t->nwild++] : &t->exact[t->nexact++];
		d->name = keys[i].domain;
		d->bucket = keys[i].bucket;
		keys[i].domain = NULL; /* now owned by the table */
	}
	return 0;
}

static int build_routes(struct routes *t, const struct routes_conf *conf, char *err, size_t errlen)
{
	struct route_key *keys;
	uint32_t *bucket_of = NULL;
	unsigned nmembers = 0, np = 0;
	int ret = 0;

	for (unsigned i = 0; i < conf->nroutes; i++) {
		const struct routes_route_conf *rc = &conf->routes[i];

		if (rc->ntrunks == 0 || !rc->trunks)
			return errf(err, errlen, "route [%u] '%s': no trunks", i, route_label(rc));
		if (rc->ntrunks > ROUTES_MAX_ROUTE_TRUNKS)
			return errf(err, errlen, "route [%u] '%s': %u trunks, at most %u", i,
				    route_label(rc), rc->ntrunks, ROUTES_MAX_ROUTE_TRUNKS);
		nmembers += rc->ntrunks;
		if (!empty_str(rc->prefix))
			np++;
	}
	t->nroutes = conf->nroutes;
	t->routes = calloc(conf->nroutes ? conf->nroutes : 1, sizeof(*t->routes));
	t->members = calloc(nmembers ? nmembers : 1, sizeof(*t->members));
	t->pfx = calloc(np ? np : 1, sizeof(*t->pfx));
	keys = calloc(conf->nroutes ? conf->nroutes : 1, sizeof(*keys));
	bucket_of = calloc(conf->nroutes ? conf->nroutes : 1, sizeof(*bucket_of));
	if (!t->routes || !t->members || !t->pfx || !keys || !bucket_of) {
		ret = -ENOMEM;
		goto out;
	}

	nmembers = 0;
	for (unsigned i = 0; i < conf->nroutes; i++) {
		const struct routes_route_conf *rc = &conf->routes[i];

		ret = build_route(t, i, rc, nmembers, err, errlen);
		if (ret)
			goto out;
		nmembers += rc->ntrunks;
		keys[i].index = i;
		ret = parse_domain(rc->domain, &keys[i].domain, &keys[i].wild);
		if (ret == -EINVAL)
			ret = errf(err, errlen,
				   "route [%u] '%s': bad domain '%s' (name, IP, or *.name)", i,
				   route_label(rc), rc->domain);
		if (ret)
			goto out;
		if (!empty_str(rc->prefix) && parse_prefix(rc->prefix, &t->pfx[t->npfx]) < 0) {
			ret = errf(
			    err, errlen,
			    "route [%u] '%s': bad prefix '%s' (digits with an optional leading "
			    "'+', at most %d)",
			    i, route_label(rc), rc->prefix, ROUTES_PREFIX_MAX);
			goto out;
		}
		if (!empty_str(rc->prefix))
			t->pfx[t->npfx++].route = i;
	}

	ret = build_domains(t, keys, conf->nroutes);
	if (ret)
		goto out;
	for (unsigned i = 0; i < conf->nroutes; i++)
		bucket_of[keys[i].index] = keys[i].bucket;

	for (unsigned i = 0; i < conf->nroutes; i++) {
		struct bucket *b = &t->buckets[bucket_of[i]];

		if (!empty_str(conf->routes[i].prefix))
			continue;
		if (b->def_route >= 0) {
			ret = errf(err, errlen,
				   "route [%u] '%s': same domain and prefix as route [%d] '%s'", i,
				   route_label(&conf->routes[i]), b->def_route,
				   route_label(&conf->routes[b->def_route]));
			goto out;
		}
		b->def_route = (int32_t)i;
	}
	for (unsigned k = 0; k < t->npfx; k++)
		t->pfx[k].bucket = bucket_of[t->pfx[k].route];
	qsort(t->pfx, t->npfx, sizeof(*t->pfx), cmp_pfx);
	for (unsigned k = 0; k < t->npfx; k++) {
		struct pfx *p = &t->pfx[k];
		struct bucket *b = &t->buckets[p->bucket];

		if (k > 0 && cmp_pfx(&t->pfx[k - 1], p) == 0) {
			unsigned a =
			    t->pfx[k - 1].route < p->route ? t->pfx[k - 1].route : p->route;
			unsigned z =
			    t->pfx[k - 1].route < p->route ? p->route : t->pfx[k - 1].route;

			ret = errf(err, errlen,
				   "route [%u] '%s': same domain and prefix as route [%u] '%s'", z,
				   route_label(&conf->routes[z]), a, route_label(&conf->routes[a]));
			goto out;
		}
		if (b->count == 0)
			b->first = k;
		b->count++;
		b->lenmask |= 1ull << (p->len - 1);
	}
out:
	if (keys) {
		for (unsigned i = 0; i < conf->nroutes; i++)
			free(keys[i].domain);
	}
	free(keys);
	free(bucket_of);
	return ret;
}

int routes_build(struct routes **tp, const struct routes_conf *conf, char *err, size_t errlen)
{
	struct routes *t;
	int ret;

	*tp = NULL;
	if (err && errlen)
		err[0] = '\0';
	if ((conf->ntrunks && !conf->trunks) || (conf->nroutes && !conf->routes))
		return errf(err, errlen, "routing: counts without arrays");
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	ret = build_trunks(t, conf, err, errlen);
	if (!ret)
		ret = build_routes(t, conf, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			errf(err, errlen, "routing: out of memory");
		routes_free(t);
		return ret;
	}
	*tp = t;
	return 0;
}

void routes_free(struct routes *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->ntrunks; i++) {
		free((char *)(uintptr_t)t->trunks[i].name);
		free((char *)(uintptr_t)t->trunks[i].host);
		free((char *)(uintptr_t)t->trunks[i].ruri_host);
	}
	if (t->routes) {
		for (unsigned i = 0; i < t->nroutes; i++)
			free(t->routes[i].name);
	}
	for (unsigned i = 0; i < t->nexact; i++)
		free(t->exact[i].name);
	for (unsigned i = 0; i < t->nwild; i++)
		free(t->wild[i].name);
	free(t->trunks);
	free(t->byname);
	free(t->routes);
	free(t->members);
	free(t->buckets);
	free(t->exact);
	free(t->wild);
	free(t->pfx);
	free(t);
}

unsigned routes_trunk_count(const struct routes *t)
{
	return t->ntrunks;
}

const struct routes_trunk *routes_trunk_get(const struct routes *t, unsigned i)
{
	return i < t->ntrunks ? &t->trunks[i] : NULL;
}

const struct routes_trunk *routes_trunk_find(const struct routes *t, struct strv name)
{
	int i = trunk_find(t, name);

	return i < 0 ? NULL : &t->trunks[i];
}

/* ---- lookup ---- */

uint32_t routes_rand_splitmix(void *arg)
{
	uint64_t *s = arg, z;

	z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t default_rand(void *arg)
{
	static _Thread_local uint64_t state;

	(void)arg;
	if (!state) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		state = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ (uintptr_t)&state;
		state |= 1;
	}
	return routes_rand_splitmix(&state);
}

static const struct domain *domain_find(const struct domain *d, unsigned n, struct strv name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = cmp_lower(name, d[mid].name);

		if (c == 0)
			return &d[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int32_t pfx_find(const struct routes *t, const struct bucket *b, const char *num, size_t len)
{
	size_t lo = b->first, hi = (size_t)b->first + b->count;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct pfx *p = &t->pfx[mid];
		int c = memcmp(num, p->p, len < p->len ? len : p->len);

		if (c == 0)
			c = (int)len - (int)p->len;
		if (c == 0)
			return (int32_t)p->route;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int32_t bucket_match(const struct routes *t, const struct bucket *b, const char *num,
			    int numlen)
{
	int max = numlen < ROUTES_PREFIX_MAX ? numlen : ROUTES_PREFIX_MAX;

	for (int len = max; len > 0; len--) {
		int32_t r;

		if (!(b->lenmask & (1ull << (len - 1))))
			continue;
		r = pfx_find(t, b, num, (size_t)len);
		if (r >= 0)
			return r;
	}
	return b->def_route;
}

/* Longest number we read; longer users are not numbers. */
#define NUM_MAX 64

/* The user as a number (see routes.h), or -1 when it is not one. */
static int user_number(struct strv user, char *num)
{
	int n = 0;

	for (size_t i = 0; i < user.len; i++) {
		char c = user.p[i];

		if (c == ';')
			break;
		if (c == '%') {
			int hi, lo;

			if (i + 2 >= user.len || (hi = hexval(user.p[i + 1])) < 0 ||
			    (lo = hexval(user.p[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '-' || c == '.' || c == '(' || c == ')')
			continue;
		if (!(is_digit(c) || c == '*' || c == '#' || (c == '+' && n == 0)))
			return -1;
		if (n == NUM_MAX)
			return -1;
		num[n++] = c;
	}
	return n;
}

static unsigned weighted_order(const struct routes *t, const struct member *m, unsigned n,
			       const struct routes_trunk **out, unsigned max, routes_rand_h *rnd,
			       void *rnd_arg)
{
	uint32_t w[ROUTES_MAX_ROUTE_TRUNKS];
	uint32_t idx[ROUTES_MAX_ROUTE_TRUNKS];
	uint64_t total = 0;
	unsigned written = 0;

	for (unsigned k = 0; k < n; k++) {
		w[k] = m[k].weight;
		idx[k] = m[k].trunk;
		total += w[k];
	}
	while (n > 0 && written < max) {
		uint64_t r = n == 1 ? 0 : ((uint64_t)rnd(rnd_arg) * total) >> 32;
		unsigned k = 0;

		while (k + 1 < n && r >= w[k]) {
			r -= w[k];
			k++;
		}
		out[written++] = &t->trunks[idx[k]];
		total -= w[k];
		/* Keep the remaining ones in configuration order. */
		memmove(&w[k], &w[k + 1], (n - k - 1) * sizeof(w[0]));
		memmove(&idx[k], &idx[k + 1], (n - k - 1) * sizeof(idx[0]));
		n--;
	}
	return written;
}

int routes_lookup(const struct routes *t, struct strv ruri_user, struct strv ruri_host,
		  const struct routes_trunk **out, unsigned max, routes_rand_h *rnd, void *rnd_arg,
		  const char **route_name)
{
	char num[NUM_MAX], v6[INET6_ADDRSTRLEN];
	int numlen = user_number(ruri_user, num);
	int32_t ri = -1;
	const struct route *r;
	unsigned written = 0;

	if (ruri_host.len > 1 && ruri_host.p[ruri_host.len - 1] == '.')
		ruri_host.len--;
	if (ruri_host.len > 2 && ruri_host.p[0] == '[' && ruri_host.p[ruri_host.len - 1] == ']') {
		ruri_host.p++;
		ruri_host.len -= 2;
	}
	if (memchr(ruri_host.p ? ruri_host.p : "", ':', ruri_host.len) &&
	    ipv6_canon(ruri_host, v6, sizeof(v6)))
		ruri_host = strv_cstr(v6);
	if (ruri_host.len && ruri_host.len <= ROUTES_DOMAIN_MAX) {
		const struct domain *d = domain_find(t->exact, t->nexact, ruri_host);

		if (d)
			ri = bucket_match(t, &t->buckets[d->bucket], num, numlen);
		/* Suffixes after each dot, longest first. */
		for (size_t i = 0; ri < 0 && t->nwild && i + 1 < ruri_host.len; i++) {
			if (ruri_host.p[i] != '.')
				continue;
			d = domain_find(t->wild, t->nwild,
					strv_make(ruri_host.p + i + 1, ruri_host.len - i - 1));
			if (d)
				ri = bucket_match(t, &t->buckets[d->bucket], num, numlen);
		}
	}
	if (ri < 0 && t->nbuckets)
		ri = bucket_match(t, &t->buckets[0], num, numlen);
	if (ri < 0)
		return -ENOENT;

	r = &t->routes[ri];
	if (route_name)
		*route_name = r->name;
	if (!rnd)
		rnd = default_rand;
	for (uint32_t g = 0; g < r->count && written < max;) {
		const struct member *m = &t->members[r->first + g];
		uint32_t n = 1;

		while (g + n < r->count && m[n].priority == m[0].priority)
			n++;
		written += weighted_order(t, m, n, out + written, max - written, rnd, rnd_arg);
		g += n;
	}
	return (int)written;
}

/* ---- responses and redirects ---- */

bool routes_should_failover(int status)
{
	return status == 0 || status == 408 || (status >= 500 && status <= 599);
}

bool routes_should_redirect(int status)
{
	return status == 300 || status == 301 || status == 302;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* Hashes a field, lowercased or not, %-unescaped or not, with a separator after it. */
static uint64_t fnv_field(uint64_t h, struct strv s, bool fold, bool unescape, bool tel)
{
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		int hi, lo;

		if (unescape && c == '%' && i + 2 < s.len && (hi = hexval(s.p[i + 1])) >= 0 &&
		    (lo = hexval(s.p[i + 2])) >= 0) {
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (tel && (c == '-' || c == '.' || c == '(' || c == ')'))
			continue;
		h = fnv_byte(h, (unsigned char)(fold ? lower(c) : c));
	}
	return fnv_byte(h, 0);
}

static int target_key(struct strv text, uint64_t *key)
{
	struct sip_uri u;
	uint64_t h = FNV_OFFSET;
	unsigned port;

	if (sip_uri_parse(&u, text) != 0)
		return -EINVAL;
	if (u.scheme == SIP_URI_TEL) {
		h = fnv_byte(h, 't');
		*key = fnv_field(h, u.user, true, true, true);
		return 0;
	}
	h = fnv_byte(h, u.scheme == SIP_URI_SIPS ? 'S' : 's');
	h = fnv_field(h, u.user, false, true, false);
	h = fnv_field(h, u.host, true, false, false);
	port = u.has_port ? u.port : u.scheme == SIP_URI_SIPS ? 5061 : 5060;
	h = fnv_byte(h, (unsigned char)(port >> 8));
	h = fnv_byte(h, (unsigned char)port);
	*key = fnv_field(h, u.transport, true, true, false);
	return 0;
}

int routes_redirect_init(struct routes_redirect *r, unsigned max_hops, struct strv ruri)
{
	memset(r, 0, sizeof(*r));
	r->max_hops = max_hops;
	if (target_key(ruri, &r->seen[0]))
		return -EINVAL;
	r->nseen = 1;
	return 0;
}

int routes_redirect_hop(struct routes_redirect *r)
{
	if (r->hops >= r->max_hops)
		return -ELOOP;
	r->hops++;
	return 0;
}

int routes_redirect_target(struct routes_redirect *r, struct strv uri)
{
	uint64_t key;

	if (target_key(uri, &key))
		return -EINVAL;
	for (unsigned i = 0; i < r->nseen; i++) {
		if (r->seen[i] == key)
			return -ELOOP;
	}
	if (r->nseen >= ROUTES_REDIRECT_MAX_SEEN)
		return -ENOSPC;
	r->seen[r->nseen++] = key;
	return 0;
}
