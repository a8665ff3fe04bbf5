/* SPDX-License-Identifier: BSD-2-Clause */
#include "dialog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/hdr.h"
#include "sip/msg.h"

static const char hexd[] = "0123456789abcdef";

static void put_hex(char *p, uint64_t v, unsigned digits)
{
	for (unsigned i = digits; i-- > 0; v >>= 4)
		p[i] = hexd[v & 15];
}

void b2b_id_make(char *buf, uint32_t inst, uint8_t shard, uint64_t rnd)
{
	put_hex(buf, inst, 8);
	put_hex(buf + 8, shard, 2);
	put_hex(buf + 10, rnd, 16);
	buf[B2B_ID_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int b2b_id_shard(struct strv id, uint32_t inst)
{
	char want[8];
	int hi, lo;

	if (id.len >= 7 && memcmp(id.p, "z9hG4bK", 7) == 0) {
		id.p += 7;
		id.len -= 7;
	}
	if (id.len < B2B_ID_PREFIX + 2)
		return -1;
	put_hex(want, inst, 8);
	if (memcmp(id.p, want, 8) != 0)
		return -1;
	hi = hexval(id.p[8]);
	lo = hexval(id.p[9]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* --- table --------------------------------------------------------------- */

static uint32_t key_hash(struct strv call_id, struct strv tag)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < call_id.len; i++)
		h = (h ^ (uint8_t)call_id.p[i]) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (size_t i = 0; i < tag.len; i++)
		h = (h ^ (uint8_t)tag.p[i]) * 16777619u;
	return h;
}

int b2b_dtab_init(struct b2b_dtab *t, uint32_t buckets)
{
	uint32_t n = 16;

	while (n < buckets && n < (1u << 30))
		n <<= 1;
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void b2b_dtab_fini(struct b2b_dtab *t)
{
	free(t->b);
	t->b = NULL;
}

static int grow(struct b2b_dtab *t)
{
	uint32_t n = (t->mask + 1) * 2;
	struct b2b_dnode **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct b2b_dnode *e = t->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = n - 1;
	return 0;
}

int b2b_dtab_insert(struct b2b_dtab *t, struct b2b_dnode *n, struct strv call_id, struct strv tag,
		    void *owner)
{
	struct b2b_dnode **head;

	b2b_dtab_remove(t, n);
	n->call_id = call_id;
	n->tag = tag;
	n->owner = owner;
	n->hash = key_hash(call_id, tag);
	head = &t->b[n->hash & t->mask];
	n->next = *head;
	*head = n;
	n->linked = true;
	t->count++;
	return t->count > t->mask + 1 ? grow(t) : 0;
}

void b2b_dtab_remove(struct b2b_dtab *t, struct b2b_dnode *n)
{
	struct b2b_dnode **pp;

	if (!n->linked)
		return;
	for (pp = &t->b[n->hash & t->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	n->linked = false;
	n->next = NULL;
	t->count--;
}

void *b2b_dtab_find(const struct b2b_dtab *t, struct strv call_id, struct strv tag)
{
	uint32_t h = key_hash(call_id, tag);

	for (struct b2b_dnode *e = t->b[h & t->mask]; e; e = e->next)
		if (e->hash == h && strv_eq(e->call_id, call_id) && strv_eq(e->tag, tag))
			return e->owner;
	return NULL;
}

/* --- dialog state -------------------------------------------------------- */

int b2b_copy(char *dst, size_t size, struct strv s)
{
	if (s.len >= size) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}

int b2b_dialog_set_routes(struct b2b_dialog *d, const struct sip_msg *m, bool reverse)
{
	const struct sip_hdr *rr[SIP_MAX_HDRS];
	size_t n = 0, len = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h;
	     h = sip_msg_hdr_next(m, h))
		rr[n++] = h;
	d->route_set[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct sip_hdr *h = rr[reverse ? n - 1 - i : i];

		if (len + h->value.len + 3 >= sizeof(d->route_set)) {
			d->route_set[0] = '\0';
			return -ENAMETOOLONG;
		}
		if (len) {
			memcpy(d->route_set + len, ", ", 2);
			len += 2;
		}
		memcpy(d->route_set + len, h->value.p, h->value.len);
		len += h->value.len;
		d->route_set[len] = '\0';
	}
	return 0;
}

int b2b_dialog_set_target(struct b2b_dialog *d, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
	struct sip_addr a;

	if (!h)
		return 0;
	if (sip_addr_parse(&a, h->value) < 0 || a.star)
		return -EINVAL;
	return b2b_copy(d->remote_target, sizeof(d->remote_target), a.uri_text);
}
