/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file relay_metrics.h  What rtpengine shows Prometheus (common/http_metrics.h serves it).
 *
 * Counters only grow (rates are Prometheus' business); gauges are read at scrape time. The
 * traffic counters are the dataplane's flow counters summed per interface: flows deleted so far
 * are kept as running totals, live ones read at each scrape (calls_media_totals).
 */
#ifndef SBC_RTPENGINE_RELAY_METRICS_H
#define SBC_RTPENGINE_RELAY_METRICS_H

#include <stdint.h>

#include "common/metrics.h"
#include "iface.h"

struct calls;
struct dp_sockets_xdp_stats;
struct ng_server;

/** Where the numbers come from (all owned by the daemon). */
struct relay_metrics_src {
	struct calls *calls;
	struct ng_server *const *ng;
	unsigned nng;
	const struct iface *ifaces;
	unsigned nifaces;
	const char *backend;
	unsigned workers;
	uint64_t uptime_s;
	/** the sockets backend's xdp engine (NULL: not running) */
	const struct dp_sockets_xdp_stats *xdp;
};

/** Writes every rtpengine_* family into @p w (errors stay in @p w). */
void relay_metrics_write(struct metrics_writer *w, const struct relay_metrics_src *src);

#endif
