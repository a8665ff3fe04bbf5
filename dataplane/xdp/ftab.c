/* SPDX-License-Identifier: BSD-2-Clause */
/* The xdp engine's flow table: a short list of addresses, each with a port array. */
#include "ftab.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool same_ip(const struct sa *a, const struct sa *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
}

struct xft_addr *xft_find_addr(struct xft *t, const struct sa *addr)
{
	if (!sa_isset(addr))
		return NULL;
	for (unsigned i = 0; i < t->n; i++) {
		if (same_ip(&t->a[i].addr, addr))
			return &t->a[i];
	}
	return NULL;
}

int xft_add_addr(struct xft *t, const struct sa *addr, int ifindex)
{
	struct xft_addr *e;

	if (sa_family(addr) != AF_INET && sa_family(addr) != AF_INET6)
		return -EINVAL;
	if (xft_find_addr(t, addr))
		return 0;
	if (t->n == XFT_ADDRS_MAX)
		return -ENOSPC;
	e = &t->a[t->n];
	e->ports = calloc(65536, sizeof(*e->ports));
	if (!e->ports)
		return -ENOMEM;
	e->addr = *addr;
	sa_set_port(&e->addr, 0);
	e->ifindex = ifindex;
	t->n++;
	return 0;
}

int xft_set(struct xft *t, const struct sa *local, struct sk_flow *f)
{
	struct xft_addr *e = xft_find_addr(t, local);

	if (!e)
		return -ENOENT;
	e->ports[sa_port(local)] = f;
	return 0;
}

struct sk_flow *xft_get(struct xft *t, const struct sa *local)
{
	struct xft_addr *e = xft_find_addr(t, local);

	return e ? e->ports[sa_port(local)] : NULL;
}

void xft_destroy(struct xft *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->a[i].ports);
	t->n = 0;
}
