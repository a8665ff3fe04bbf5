/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file xdp_prog.h  The relay's XDP program (relay.bpf.c, embedded in the binary): load it once
 * per netdev, attach it (native, else generic mode), share one `flows` map, detach at the end.
 */
#ifndef SBC_DATAPLANE_XDP_PROG_H
#define SBC_DATAPLANE_XDP_PROG_H

#include <stdint.h>

#include "common/sa.h"

#define XDP_PROG_DEVS_MAX 8

/* keep in step with struct flow_key in relay.bpf.c */
struct xdp_flow_key {
	uint8_t family; /* 4 or 6 */
	uint8_t pad;
	uint16_t port; /* network order */
	uint8_t addr[16];
};

struct bpf_object;

struct xdp_prog_dev {
	int ifindex;
	struct bpf_object *obj;
	int prog_fd;
	int xsks_fd;
	uint32_t flags; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE: how it is attached */
	int link_fd;	/* its BPF link; -1 when not attached */
};

struct xdp_prog {
	int flows_fd; /* the first object's map, reused by the others */
	unsigned ndevs;
	struct xdp_prog_dev devs[XDP_PROG_DEVS_MAX];
};

/** Prepares @p p (no program loaded yet). */
void xdp_prog_init(struct xdp_prog *p);
/**
 * Loads the program for netdev @p ifindex and attaches it (native, else generic; never replaces
 * a program already there). @return the device's slot, or -errno (-EBUSY: another program is
 * attached; -EPERM: no permission).
 */
int xdp_prog_attach(struct xdp_prog *p, int ifindex);
/** Detaches and unloads every program that @p p attached. */
void xdp_prog_detach_all(struct xdp_prog *p);

/** Lets packets to @p local (address and port) arriving on netdev @p ifindex reach the AF_XDP
 * sockets. 0 or -errno. */
int xdp_prog_flow_add(struct xdp_prog *p, const struct sa *local, int ifindex);
/** Leaves packets to @p local to the kernel again. 0 or -errno (-ENOENT: was not there). */
int xdp_prog_flow_del(struct xdp_prog *p, const struct sa *local);
/** Fills the map key of @p local. 0, or -EAFNOSUPPORT. */
int xdp_flow_key(struct xdp_flow_key *k, const struct sa *local);

#endif
