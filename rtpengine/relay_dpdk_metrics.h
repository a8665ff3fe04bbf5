/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file relay_dpdk_metrics.h  The DPDK backend in Prometheus: per port link state, speed and
 * ethdev counters (label port="<ethdev name>", kind="relay" or "kernel" for a TAP), per worker
 * the fast path's counters (label worker="<n>"). Counters end in _total; link_up and
 * speed_bytes are gauges. Built only with DPDK (SBC_HAVE_DPDK).
 */
#ifndef SBC_RTPENGINE_RELAY_DPDK_METRICS_H
#define SBC_RTPENGINE_RELAY_DPDK_METRICS_H

#include "common/metrics.h"
#include "dataplane/dpdk/dp_dpdk.h"

/** What one scrape shows: read from the backend by relay_dpdk_metrics_write(). */
struct relay_dpdk_metrics {
	const struct dp_dpdk_port_info *ports;
	unsigned nports;
	const struct dp_dpdk_worker_stats *workers;
	unsigned nworkers;
};

/** Writes every rtpengine_dpdk_* family of @p m into @p w (errors stay in @p w). */
void relay_dpdk_metrics_render(struct metrics_writer *w, const struct relay_dpdk_metrics *m);

/** Reads the ports and workers of the started backend @p dp and renders them. */
void relay_dpdk_metrics_write(struct metrics_writer *w, struct dataplane *dp);

#endif
