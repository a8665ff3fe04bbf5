/* SPDX-License-Identifier: BSD-2-Clause */
#include "rtpengine_conf_dpdk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Production defaults: two lcores (control + one worker), hugepages, no files in /run. */
const struct conf_setting rtpengine_dpdk_settings[] = {
	{ .path = "dataplane.dpdk.eal_args",
	  .type = CONF_STRS,
	  .def = "[ \"-l\", \"0,1\", \"--in-memory\" ]" },
	{ .path = "dataplane.dpdk.mbufs", .type = CONF_INT, .def = "0", .min = 0, .max = 16777215 },
	{ .path = "dataplane.dpdk.rx_desc",
	  .type = CONF_INT,
	  .def = "1024",
	  .min = 64,
	  .max = 32768 },
	{ .path = "dataplane.dpdk.tx_desc",
	  .type = CONF_INT,
	  .def = "1024",
	  .min = 64,
	  .max = 32768 },
	/* a power of two (the table's index is a mask), checked in rtpengine_conf_dpdk_read();
	 * the largest is 56 MiB per worker */
	{ .path = "dataplane.dpdk.neighbours",
	  .type = CONF_INT,
	  .def = "4096",
	  .min = 256,
	  .max = 1048576 },
	{ .path = "dataplane.dpdk.ports", .type = CONF_LIST },
	{ .path = "dataplane.dpdk.ports.[].device", .type = CONF_STR },
	{ .path = "dataplane.dpdk.ports.[].exception", .type = CONF_STR },
	{ .path = "dataplane.dpdk.ports.[].vlan",
	  .type = CONF_INT,
	  .def = "0",
	  .min = 0,
	  .max = 4094 },
	/* 1280: IPv6's minimum link MTU (RFC 8200 5), every port may carry IPv6. 9702: the
	 * largest frame of Intel's NICs and virtio-net (9728 bytes) less Ethernet header, CRC and
	 * two tags; the backend checks the port's own limits at start-up */
	{ .path = "dataplane.dpdk.ports.[].mtu",
	  .type = CONF_INT,
	  .def = "1500",
	  .min = 1280,
	  .max = 9702 },
	{ .path = "dataplane.dpdk.ports.[].addresses", .type = CONF_STRS },
	{ .path = "dataplane.dpdk.ports.[].gateway", .type = CONF_STR },
	{ .path = "dataplane.dpdk.ports.[].gateway6", .type = CONF_STR },
	{ .path = NULL },
};

static const char *pmember(char *buf, size_t size, unsigned i, const char *name)
{
	snprintf(buf, size, "dataplane.dpdk.ports.[%u].%s", i, name);
	return buf;
}

/* "192.0.2.1/24" or "2001:db8::1/64"; without a length: a host route (/32, /128). */
static int parse_prefix(const char *text, struct sa *addr, uint8_t *len)
{
	char buf[SA_STRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max;
	char *end;
	unsigned long l;

	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (sa_parse_cstr(addr, buf, 0) < 0 || sa_port(addr) != 0 || sa_is_any(addr))
		return -EINVAL;
	max = sa_family(addr) == AF_INET ? 32 : 128;
	if (!slash) {
		*len = (uint8_t)max;
		return 0;
	}
	l = strtoul(slash + 1, &end, 10);
	if (end == slash + 1 || *end || l == 0 || l > max)
		return -EINVAL;
	*len = (uint8_t)l;
	return 0;
}

static int read_gateway(const struct conf *c, unsigned i, const char *name, int family,
			struct sa *out, char *err, size_t errlen)
{
	char path[96];
	const char *text = conf_str(c, pmember(path, sizeof(path), i, name));

	sa_init(out);
	if (!text)
		return 0;
	if (sa_parse_cstr(out, text, 0) < 0 || sa_port(out) != 0 || sa_family(out) != family)
		return conf_error(c, path, err, errlen, "expected an %s address, got \"%s\"",
				  family == AF_INET ? "IPv4" : "IPv6", text);
	return 0;
}

static int read_port(struct rtpengine_dpdk_port *p, const struct conf *c, unsigned i, char *err,
		     size_t errlen)
{
	char path[96];
	int rc;

	p->device = conf_str(c, pmember(path, sizeof(path), i, "device"));
	if (!p->device || !*p->device)
		return conf_error(c, path, err, errlen, "expected an ethdev name");
	p->exception = conf_str(c, pmember(path, sizeof(path), i, "exception"));
	if (p->exception && !*p->exception)
		p->exception = NULL;
	p->vlan = (uint16_t)conf_int(c, pmember(path, sizeof(path), i, "vlan"));
	p->mtu = (uint16_t)conf_int(c, pmember(path, sizeof(path), i, "mtu"));
	pmember(path, sizeof(path), i, "addresses");
	p->n_addrs = conf_count(c, path);
	if (p->n_addrs == 0 || p->n_addrs > RTPENGINE_DPDK_ADDRS_MAX)
		return conf_error(c, path, err, errlen, "expected 1 to %d addresses, got %u",
				  RTPENGINE_DPDK_ADDRS_MAX, p->n_addrs);
	for (unsigned k = 0; k < p->n_addrs; k++) {
		const char *text = conf_strs_elem(c, path, k);

		if (parse_prefix(text, &p->addrs[k], &p->prefix_len[k]) < 0)
			return conf_error(c, path, err, errlen,
					  "element %u: expected address/prefix-length, got \"%s\"",
					  k, text);
	}
	if ((rc = read_gateway(c, i, "gateway", AF_INET, &p->gateway4, err, errlen)) ||
	    (rc = read_gateway(c, i, "gateway6", AF_INET6, &p->gateway6, err, errlen)))
		return rc;
	return 0;
}

/* Entries on one device (VLANs) are one port: entry @p i agrees with those before on the MTU. */
static int port_agrees(const struct rtpengine_dpdk_conf *out, unsigned i, const struct conf *c,
		       char *err, size_t errlen)
{
	const struct rtpengine_dpdk_port *p = &out->ports[i];
	char path[96];

	for (unsigned k = 0; k < i; k++) {
		const struct rtpengine_dpdk_port *q = &out->ports[k];

		if (strcmp(q->device, p->device) == 0 && q->mtu != p->mtu)
			return conf_error(c, pmember(path, sizeof(path), i, "device"), err, errlen,
					  "entry %u is this device with mtu %u, this one has %u: "
					  "a port has one MTU",
					  k, q->mtu, p->mtu);
	}
	return 0;
}

static int read_eal(struct rtpengine_dpdk_conf *out, const struct conf *c, char *err, size_t errlen)
{
	out->n_eal_args = conf_count(c, "dataplane.dpdk.eal_args");
	if (out->n_eal_args > RTPENGINE_DPDK_EAL_MAX)
		return conf_error(c, "dataplane.dpdk.eal_args", err, errlen, "at most %d arguments",
				  RTPENGINE_DPDK_EAL_MAX);
	for (unsigned k = 0; k < out->n_eal_args; k++)
		out->eal_args[k] = conf_strs_elem(c, "dataplane.dpdk.eal_args", k);
	return 0;
}

/*
 * A power of two, refused otherwise rather than rounded: up would take up to twice the memory
 * asked for (56 MiB per worker at the top), down fewer neighbours than the subnet was sized for.
 */
static int read_neighbours(struct rtpengine_dpdk_conf *out, const struct conf *c, char *err,
			   size_t errlen)
{
	uint32_t n = (uint32_t)conf_int(c, "dataplane.dpdk.neighbours"), below;

	out->neighbours = n;
	if ((n & (n - 1)) == 0)
		return 0;
	below = 1u << (31 - __builtin_clz(n)); /* the schema's range: n >= 256 */
	return conf_error(c, "dataplane.dpdk.neighbours", err, errlen,
			  "expected a power of two, got %u (%u or %u?)", n, below, 2 * below);
}

int rtpengine_conf_dpdk_read(struct rtpengine_dpdk_conf *out, const struct conf *c, bool need_ports,
			     char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_eal(out, c, err, errlen)))
		return rc;
	out->mbufs = (uint32_t)conf_int(c, "dataplane.dpdk.mbufs");
	out->rx_desc = (uint16_t)conf_int(c, "dataplane.dpdk.rx_desc");
	out->tx_desc = (uint16_t)conf_int(c, "dataplane.dpdk.tx_desc");
	if ((rc = read_neighbours(out, c, err, errlen)))
		return rc;
	out->n_ports = conf_count(c, "dataplane.dpdk.ports");
	if (out->n_ports > RTPENGINE_DPDK_PORTS_MAX || (need_ports && out->n_ports == 0))
		return conf_error(c, "dataplane.dpdk.ports", err, errlen,
				  "the dpdk backend needs 1 to %d ports, got %u",
				  RTPENGINE_DPDK_PORTS_MAX, out->n_ports);
	for (unsigned i = 0; i < out->n_ports; i++) {
		if ((rc = read_port(&out->ports[i], c, i, err, errlen)) ||
		    (rc = port_agrees(out, i, c, err, errlen)))
			return rc;
	}
	return 0;
}
