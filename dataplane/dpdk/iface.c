/* SPDX-License-Identifier: BSD-2-Clause */
/* Relay addresses, interfaces and next hops: a few entries, scanned linearly. */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>

#include "dpdk_priv.h"

static const uint8_t *sa_bytes(const struct sa *sa)
{
	if (sa_family(sa) == AF_INET)
		return (const uint8_t *)&sa->u.in.sin_addr;
	return sa->u.in6.sin6_addr.s6_addr;
}

static size_t fam_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Per packet (next hop): 32-bit words under a mask, no memcmp() call. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	for (unsigned int off = 0; bits > 0; off += 4) {
		unsigned int n = bits < 32 ? bits : 32;
		uint32_t x, y;

		memcpy(&x, a + off, 4);
		memcpy(&y, b + off, 4);
		if ((x ^ y) & rte_cpu_to_be_32(~0u << (32 - n)))
			return false;
		bits -= n;
	}
	return true;
}

/** The interface that carries relay address @p addr, or -ENOENT. */
int dpdk_iface_of_addr(const struct dp_dpdk *d, int family, const void *addr)
{
	for (unsigned int i = 0; i < d->n_ifaces; i++) {
		const struct dp_dpdk_iface_conf *c = &d->ifaces[i].conf;

		for (unsigned int j = 0; j < c->n_addrs; j++) {
			const struct sa *a = &c->addrs[j].addr;

			if (sa_family(a) == family && !memcmp(sa_bytes(a), addr, fam_len(family)))
				return (int)i;
		}
	}
	return -ENOENT;
}

/** The interface a frame received on @p port with VLAN @p vlan belongs to, or -ENOENT. */
int dpdk_iface_of_rx(const struct dp_dpdk *d, uint16_t port, uint16_t vlan)
{
	for (unsigned int i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].conf.port_id == port && d->ifaces[i].conf.vlan == vlan)
			return (int)i;
	return -ENOENT;
}

static void prefix_set(struct dpdk_prefix *p, const struct sa *sa, uint8_t len)
{
	int fam = sa_family(sa);

	memset(p, 0, sizeof(*p));
	if (fam != AF_INET && fam != AF_INET6)
		return;
	p->family = (uint8_t)fam;
	p->len = len > fam_len(fam) * 8 ? (uint8_t)(fam_len(fam) * 8) : len;
	memcpy(p->addr, sa_bytes(sa), fam_len(fam));
}

/*
 * The MTU of the interface's port as ethdev reports it: the PMD's default until the port is
 * configured, then what rte_eth_dev_configure() set (port_init() reads it again); 1500 when it
 * reports nothing usable.
 */
void dpdk_iface_mtu_read(struct dpdk_iface *ifc)
{
	if (rte_eth_dev_get_mtu(ifc->conf.port_id, &ifc->mtu) != 0 || ifc->mtu < RTE_ETHER_MIN_MTU)
		ifc->mtu = RTE_ETHER_MTU;
}

/** Wire forms of the interface's addresses, subnets and gateways for the fast path; its MTU. */
void dpdk_iface_prepare(struct dpdk_iface *ifc)
{
	const struct dp_dpdk_iface_conf *c = &ifc->conf;

	dpdk_iface_mtu_read(ifc);

	for (unsigned int j = c->n_addrs; j-- > 0;) { /* backwards: the first one wins */
		const struct sa *a = &c->addrs[j].addr;

		prefix_set(&ifc->pfx[j], a, c->addrs[j].prefix_len);
		if (sa_family(a) == AF_INET) {
			ifc->ip4_be = a->u.in.sin_addr.s_addr;
		} else if (sa_family(a) == AF_INET6) {
			memcpy(ifc->ip6, &a->u.in6.sin6_addr, 16);
			ifc->has_ip6 = true;
		}
	}
	prefix_set(&ifc->gw4, &c->gateway4, 32);
	prefix_set(&ifc->gw6, &c->gateway6, 128);
	ifc->n_net4 = 0;
	for (unsigned int j = 0; j < c->n_addrs; j++) {
		const struct dpdk_prefix *p = &ifc->pfx[j];
		uint32_t net, mask;
		unsigned int k = 0;

		if (p->family != AF_INET)
			continue;
		mask = p->len ? rte_cpu_to_be_32(~0u << (32 - p->len)) : 0;
		memcpy(&net, p->addr, 4);
		net &= mask;
		while (k < ifc->n_net4 && (ifc->net4[k] != net || ifc->mask4[k] != mask))
			k++;
		if (k == ifc->n_net4) {
			ifc->net4[k] = net;
			ifc->mask4[k] = mask;
			ifc->n_net4++;
		}
	}
}

/** On-link destinations are their own next hop, others go to the gateway. 0 or -EHOSTUNREACH. */
int dpdk_iface_next_hop(const struct dpdk_iface *ifc, int family, const uint8_t *dst, uint8_t *nh)
{
	const struct dpdk_prefix *gw = family == AF_INET ? &ifc->gw4 : &ifc->gw6;
	size_t alen = fam_len(family);

	if (family == AF_INET) { /* per packet: each subnet once, one masked compare */
		uint32_t d4;

		memcpy(&d4, dst, 4);
		for (unsigned int j = 0; j < ifc->n_net4; j++) {
			if (((d4 ^ ifc->net4[j]) & ifc->mask4[j]) == 0) {
				memcpy(nh, dst, 4);
				return 0;
			}
		}
	}
	for (unsigned int j = 0; family == AF_INET6 && j < ifc->conf.n_addrs; j++) {
		const struct dpdk_prefix *p = &ifc->pfx[j];

		if (p->family == family && prefix_match(p->addr, dst, p->len)) {
			memcpy(nh, dst, alen);
			return 0;
		}
	}
	if (gw->family != family)
		return -EHOSTUNREACH;
	memcpy(nh, gw->addr, alen);
	return 0;
}
