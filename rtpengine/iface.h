/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file iface.h  Relay interfaces: where media ports are bound and what SDP advertises.
 *
 * An interface has a name (what ng `direction` refers to), a local address the dataplane
 * binds, an optional advertised address (the public side of a 1:1 NAT, written into SDP) and
 * its own port range. The first interface is the default when a command names none.
 */
#ifndef SBC_RTPENGINE_IFACE_H
#define SBC_RTPENGINE_IFACE_H

#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"

#define IFACE_NAME_MAX 32
#define IFACE_MAX      16

struct ports;

struct iface {
	char name[IFACE_NAME_MAX];
	struct sa local;      /**< bind address, port 0 */
	struct sa advertised; /**< written into SDP; equals @ref local without a NAT */
	struct ports *ports;
};

/** What the configuration says about one interface. */
struct iface_conf {
	const char *name;
	struct sa local;
	struct sa advertised; /**< unset: same as local */
	uint16_t port_min, port_max;
};

/** @return 0, -EINVAL (bad range or name) or -ENOMEM. */
int iface_init(struct iface *i, const struct iface_conf *c, uint32_t seed);
void iface_clear(struct iface *i);

/** The interface called @p name among @p n, or NULL. */
struct iface *iface_find(struct iface *ifaces, unsigned n, struct strv name);

#endif
