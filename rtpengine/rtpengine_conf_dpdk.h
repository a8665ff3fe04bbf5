/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file rtpengine_conf_dpdk.h  The dataplane.dpdk.* settings (conf/rtpengine.conf): EAL
 * arguments, pools and queues, and the DPDK ports with their relay addresses. Parsed in every
 * build, so that a file is checked the same way with or without DPDK.
 */
#ifndef SBC_RTPENGINE_CONF_DPDK_H
#define SBC_RTPENGINE_CONF_DPDK_H

#include <stdint.h>

#include "common/conf.h"
#include "common/sa.h"

#define RTPENGINE_DPDK_EAL_MAX	 48
#define RTPENGINE_DPDK_PORTS_MAX 4
#define RTPENGINE_DPDK_ADDRS_MAX 32

struct rtpengine_dpdk_port {
	const char *device;    /**< ethdev name: a vdev ("net_af_packet0") or a PCI address */
	const char *exception; /**< ethdev name of its kernel path (TAP), NULL: none */
	uint16_t vlan;
	uint16_t mtu; /**< the device's MTU: entries on one device agree */
	struct sa addrs[RTPENGINE_DPDK_ADDRS_MAX]; /**< relay addresses, port 0 */
	uint8_t prefix_len[RTPENGINE_DPDK_ADDRS_MAX];
	unsigned n_addrs;
	struct sa gateway4, gateway6; /**< unset: none */
};

struct rtpengine_dpdk_conf {
	const char *eal_args[RTPENGINE_DPDK_EAL_MAX]; /**< without argv[0] */
	unsigned n_eal_args;
	uint32_t mbufs; /**< 0: sized from ports and queues */
	uint16_t rx_desc, tx_desc;
	uint32_t neighbours; /**< neighbour entries per worker: a power of two */
	struct rtpengine_dpdk_port ports[RTPENGINE_DPDK_PORTS_MAX];
	unsigned n_ports;
};

extern const struct conf_setting rtpengine_dpdk_settings[];

/** @p need_ports: the dpdk backend is selected. @return 0, or -EINVAL with the reason in @p err. */
int rtpengine_conf_dpdk_read(struct rtpengine_dpdk_conf *out, const struct conf *c, bool need_ports,
			     char *err, size_t errlen);

#endif
