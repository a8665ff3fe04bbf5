/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

/* Entries live in a ring in insertion order (so the oldest is overwritten first) and are found
 * through hash chains of ring indexes. */
struct entry {
	uint32_t hash;
	uint32_t next; /* chain; NIL ends it */
	uint64_t stored_ms;
	char *data; /* cookie then reply; NULL when the slot is empty */
	size_t cookie_len, reply_len;
};

struct ng_cache {
	uint32_t cap, nbuckets, head, count;
	uint64_t ttl_ms;
	size_t bytes, max_bytes;
	uint32_t *buckets;
	struct entry *ring;
};

static uint32_t hash_cookie(struct strv s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (uint8_t)s.p[i]) * 16777619u;
	return h;
}

int ng_cache_alloc(struct ng_cache **cp, uint32_t cap, size_t max_bytes, uint64_t ttl_ms)
{
	struct ng_cache *c = calloc(1, sizeof(*c));

	if (!c || cap == 0)
		goto fail;
	c->cap = cap;
	c->ttl_ms = ttl_ms;
	c->max_bytes = max_bytes;
	for (c->nbuckets = 16; c->nbuckets < cap; c->nbuckets *= 2)
		;
	c->buckets = malloc(c->nbuckets * sizeof(c->buckets[0]));
	c->ring = calloc(cap, sizeof(c->ring[0]));
	if (!c->buckets || !c->ring)
		goto fail;
	memset(c->buckets, 0xff, c->nbuckets * sizeof(c->buckets[0]));
	*cp = c;
	return 0;
fail:
	ng_cache_free(c);
	return -ENOMEM;
}

void ng_cache_free(struct ng_cache *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->ring && i < c->cap; i++)
		free(c->ring[i].data);
	free(c->ring);
	free(c->buckets);
	free(c);
}

static void unlink_slot(struct ng_cache *c, uint32_t slot)
{
	uint32_t *pp = &c->buckets[c->ring[slot].hash & (c->nbuckets - 1)];

	while (*pp != NIL && *pp != slot)
		pp = &c->ring[*pp].next;
	if (*pp == slot)
		*pp = c->ring[slot].next;
	free(c->ring[slot].data);
	c->ring[slot].data = NULL;
	c->bytes -= c->ring[slot].cookie_len + c->ring[slot].reply_len;
	c->count--;
}

/* Drops the oldest entries until @p need more bytes fit in the budget. */
static void make_room(struct ng_cache *c, size_t need)
{
	while (c->count && c->bytes + need > c->max_bytes)
		unlink_slot(c, (c->head + c->cap - c->count) % c->cap);
}

struct strv ng_cache_get(struct ng_cache *c, struct strv cookie, uint64_t now_ms)
{
	uint32_t h = hash_cookie(cookie);

	for (uint32_t i = c->buckets[h & (c->nbuckets - 1)]; i != NIL; i = c->ring[i].next) {
		const struct entry *e = &c->ring[i];

		if (e->hash != h || e->cookie_len != cookie.len ||
		    memcmp(e->data, cookie.p, cookie.len) != 0)
			continue;
		if (now_ms - e->stored_ms > c->ttl_ms)
			return STRV_NULL;
		return strv_make(e->data + e->cookie_len, e->reply_len);
	}
	return STRV_NULL;
}

int ng_cache_put(struct ng_cache *c, struct strv cookie, struct strv reply, uint64_t now_ms)
{
	uint32_t slot = c->head;
	struct entry *e = &c->ring[slot];
	char *data = malloc(cookie.len + reply.len + 1);

	if (!data)
		return -ENOMEM;
	if (e->data)
		unlink_slot(c, slot);
	make_room(c, cookie.len + reply.len);
	memcpy(data, cookie.p, cookie.len);
	memcpy(data + cookie.len, reply.p, reply.len);
	e->data = data;
	e->cookie_len = cookie.len;
	e->reply_len = reply.len;
	e->stored_ms = now_ms;
	e->hash = hash_cookie(cookie);
	e->next = c->buckets[e->hash & (c->nbuckets - 1)];
	c->buckets[e->hash & (c->nbuckets - 1)] = slot;
	c->head = (slot + 1) % c->cap;
	c->count++;
	c->bytes += cookie.len + reply.len;
	return 0;
}
