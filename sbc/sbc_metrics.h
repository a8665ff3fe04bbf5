/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sbc_metrics.h  What sbc shows Prometheus (common/http_metrics.h serves it).
 *
 * Mostly the counters `sbcctl status` prints, read at scrape time on the loop's thread; the
 * only ones added for metrics are the SIP messages by method and response class
 * (msg_counters.h). Counters only grow: call attempts per second and the like are
 * Prometheus' rate().
 */
#ifndef SBC_SBC_METRICS_H
#define SBC_SBC_METRICS_H

#include <stdint.h>

#include "common/metrics.h"

struct sip_server;

/** Writes every sbc_* family into @p w (errors stay in @p w). */
void sbc_metrics_write(struct metrics_writer *w, const struct sip_server *s, uint64_t uptime_s);

#endif
