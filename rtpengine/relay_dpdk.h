/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file relay_dpdk.h  rtpengine on the DPDK backend: EAL start from dataplane.dpdk.*, ports
 * found by name, the backend started; port state for `status`; EAL cleanup at exit.
 * Built only with DPDK (SBC_HAVE_DPDK).
 */
#ifndef SBC_RTPENGINE_RELAY_DPDK_H
#define SBC_RTPENGINE_RELAY_DPDK_H

#include "common/ctl.h"
#include "dataplane/dataplane.h"
#include "rtpengine_conf.h"

/** Starts the EAL and the DPDK backend. @return 0 or -errno (logged). */
int relay_dpdk_alloc(struct dataplane **dp, const struct rtpengine_conf *cfg);

/** One `dpdk-port:` line per port: link, speed, packet and error counters. */
void relay_dpdk_status(struct ctl_reply *r, struct dataplane *dp);

/** After dataplane_free(): releases the EAL's memory (and hugepages) when it was started. */
void relay_dpdk_cleanup(void);

#endif
