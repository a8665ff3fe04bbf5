/* SPDX-License-Identifier: BSD-2-Clause */
#include "iface.h"

#include <errno.h>
#include <string.h>

#include "ports.h"

int iface_init(struct iface *i, const struct iface_conf *c, uint32_t seed)
{
	size_t len = c->name ? strlen(c->name) : 0;

	memset(i, 0, sizeof(*i));
	if (len == 0 || len >= sizeof(i->name) || !sa_isset(&c->local))
		return -EINVAL;
	memcpy(i->name, c->name, len + 1);
	i->local = c->local;
	sa_set_port(&i->local, 0);
	i->advertised = sa_isset(&c->advertised) ? c->advertised : c->local;
	sa_set_port(&i->advertised, 0);
	return ports_alloc(&i->ports, c->port_min, c->port_max, seed);
}

void iface_clear(struct iface *i)
{
	ports_free(i->ports);
	i->ports = NULL;
}

struct iface *iface_find(struct iface *ifaces, unsigned n, struct strv name)
{
	for (unsigned k = 0; k < n; k++) {
		if (strv_eq_cstr(name, ifaces[k].name))
			return &ifaces[k];
	}
	return NULL;
}
