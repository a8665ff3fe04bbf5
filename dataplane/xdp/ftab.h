/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ftab.h  The xdp engine's flow table: (local address, port) -> flow, O(1), owned by one
 * worker. Per local address an array of 65536 flow pointers, allocated when the address is
 * added (at start), so that setting and clearing entries never allocates.
 */
#ifndef SBC_DATAPLANE_XDP_FTAB_H
#define SBC_DATAPLANE_XDP_FTAB_H

#include <stdint.h>

#include "common/sa.h"

#define XFT_ADDRS_MAX 16

struct sk_flow;

struct xft_addr {
	struct sa addr; /* the port is ignored */
	int ifindex;	/* the netdev that carries it */
	struct sk_flow **ports;
};

struct xft {
	unsigned n;
	struct xft_addr a[XFT_ADDRS_MAX];
};

/** Adds a local address (once) carried by netdev @p ifindex. 0, -ENOSPC, -ENOMEM. */
int xft_add_addr(struct xft *t, const struct sa *addr, int ifindex);
/** The entry of @p addr's address, NULL when not in the table. */
struct xft_addr *xft_find_addr(struct xft *t, const struct sa *addr);
/** Sets (@p f) or clears (NULL) the flow at @p local. 0, or -ENOENT (address not in the table). */
int xft_set(struct xft *t, const struct sa *local, struct sk_flow *f);
/** The flow at @p local (address and port), NULL if none. */
struct sk_flow *xft_get(struct xft *t, const struct sa *local);
void xft_destroy(struct xft *t);

#endif
