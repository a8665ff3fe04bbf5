/* SPDX-License-Identifier: BSD-2-Clause */
/** @file rtpengine_conf.h  The settings of the rtpengine daemon (see conf/rtpengine.conf). */
#ifndef SBC_RTPENGINE_CONF_H
#define SBC_RTPENGINE_CONF_H

#include "common/conf.h"
#include "common/sa.h"
#include "iface.h"
#include "rtpengine_conf_dpdk.h"
#include "stun_server.h"

#define RTPENGINE_MAX_NG 8

enum rtpengine_backend {
	RTPENGINE_BACKEND_SOCKETS = 0,
	RTPENGINE_BACKEND_DPDK,
	RTPENGINE_BACKEND_XDP, /**< the sockets backend with its AF_XDP engine */
};

struct rtpengine_conf {
	struct sa ng[RTPENGINE_MAX_NG];
	unsigned nng;
	struct sa ng_tcp[RTPENGINE_MAX_NG]; /**< ng.listen_tcp: ng over TCP, none by default */
	unsigned nng_tcp;
	uint32_t ng_tcp_idle_ms;
	const char *control_socket;
	struct iface_conf ifaces[IFACE_MAX]; /**< strings valid until conf_free */
	unsigned nifaces;
	/* calls.*, in milliseconds where the file says seconds */
	uint32_t max_sessions;
	uint32_t timeout_ms, silent_timeout_ms, final_timeout_ms, offer_timeout_ms;
	uint32_t latch_window_ms;
	uint32_t delete_delay_ms;
	enum rtpengine_backend backend;
	unsigned workers;
	unsigned xdp_frames;		 /**< dataplane.xdp_frames: UMEM frames per AF_XDP socket */
	struct sa metrics;		 /**< Prometheus endpoint; unset: none */
	struct stun_server_conf stun;	 /**< stun.listen */
	struct rtpengine_dpdk_conf dpdk; /**< dataplane.dpdk.*, strings valid until conf_free */
};

extern const struct conf_schema rtpengine_conf_schema;

/** @return 0, or -EINVAL with "file:line: ..." in @p err. */
int rtpengine_conf_read(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen);

#endif
