/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file msg_counters.h  SIP messages counted by method and response class (for metrics).
 *
 * On the per-message path: an array increment, no lock (each thread owns its counters), no
 * allocation. Sent messages are classified from their start line alone (a method name or
 * "SIP/2.0 NNN"), so the sender needs no parsed message.
 */
#ifndef SBC_MSG_COUNTERS_H
#define SBC_MSG_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"

/** Methods counted: enum sip_method, SIP_METHOD_OTHER (extensions) first. */
#define MSG_COUNTERS_METHODS (SIP_METHOD_PUBLISH + 1)

struct msg_counters {
	uint64_t requests[MSG_COUNTERS_METHODS]; /**< by enum sip_method */
	uint64_t responses[7];			 /**< by class, 1xx..6xx; [0] anything else */
};

/** A parsed message received. */
void msg_counters_rx(struct msg_counters *c, const struct sip_msg *m);

/** A message sent: @p buf starts with its start line. */
void msg_counters_tx(struct msg_counters *c, const char *buf, size_t len);

/** "INVITE", ..., "other" (SIP_METHOD_OTHER). */
const char *msg_counters_method(unsigned i);

#endif
