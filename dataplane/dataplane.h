/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file dataplane.h  The packet path behind the relay: one API, several backends.
 *
 * The control plane (rtpengine's sessions) thinks in *flows*. A flow is one local relay
 * address:port that one endpoint sends to (an RTP port, or the RTCP port next to it). Linking
 * flow `in` to flow `out` means: a packet accepted on `in` is sent from `out`'s local address to
 * `out`'s destination. A call's stream is two flows linked both ways (plus two for RTCP unless
 * rtcp-mux).
 *
 * RTCP multiplexed on the RTP port (RFC 5761) towards a peer that sends and receives it apart:
 * the mux side's RTP flow gets a second link, flow_link_rtcp(), that its RTCP (payload type
 * 64..95 in the second byte) takes instead, e.g. to the peer's RTCP flow; the other way is a
 * plain link of the peer's RTCP flow to the mux side's RTP flow.
 *
 * The destination of a flow is where its endpoint really is: the address latched from the
 * packets that endpoint sends (see latch.h), or until then the address signalled in the SDP.
 *
 * Backends: `sockets` (the default, sockets/) and `dpdk` (dpdk/). Every backend applies the same
 * relay semantics (latch.h, stun.h, the counters below); the control plane never knows which
 * one runs.
 *
 * Threading: every function here is called from the control thread only. Backends forward on
 * their own threads/lcores; flows sharing a @ref dp_flow_params.group are handled by the same
 * worker, so a linked pair never crosses workers. Counters are written by the worker that owns
 * the flow and read here without stopping it (torn 64-bit reads are impossible: relaxed atomics).
 */
#ifndef SBC_DATAPLANE_H
#define SBC_DATAPLANE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/sa.h"
#include "latch.h"

/** Identifies a flow; 0 is never a valid flow. */
typedef uint32_t dp_flow_t;

#define DP_ICE_UFRAG_MAX 64
#define DP_ICE_PWD_MAX	 128

/** What the control plane tells the backend about one flow. */
struct dp_flow_params {
	struct sa local; /**< relay address:port the endpoint sends to; the backend binds it */
	uint32_t group;	 /**< flows of one call share a group (and so a worker) */
	struct latch_params latch; /**< expected source, mode, window: see latch.h */
	/** ICE credentials for STUN on this flow; empty strings when the call has no ICE. */
	char ice_local_ufrag[DP_ICE_UFRAG_MAX];
	char ice_local_pwd[DP_ICE_PWD_MAX];
	bool is_rtcp; /**< counts as RTCP (RTCP carries no timeout evidence of its own) */
};

/** Counters of one flow, as seen by the packets that arrive on it. */
struct dp_flow_stats {
	uint64_t packets;	/**< accepted and forwarded */
	uint64_t bytes;		/**< payload bytes of those */
	uint64_t errors;	/**< could not be forwarded (no destination, send failure) */
	uint64_t refused;	/**< dropped by the latching rules (RTP Bleed attempts land here) */
	uint64_t stun_answered; /**< STUN binding requests answered */
	uint64_t stun_refused;	/**< STUN messages dropped or answered with an error */
	uint64_t last_packet_ms; /**< monotonic ms of the last accepted packet, 0 if none */
	struct sa latched;	 /**< learned source (unset until latched) */
	uint32_t ssrc;		 /**< SSRC of the latched source's RTP (0 if unknown) */
};

struct dataplane;

/** A backend: what `sockets` and `dpdk` implement. */
struct dataplane_ops {
	const char *name;
	/** Creates the flow and binds its local address. -EADDRINUSE when that port is taken. */
	int (*flow_add)(struct dataplane *dp, const struct dp_flow_params *p, dp_flow_t *out);
	/**
	 * New signalling for a live flow (re-offer/answer): new expected source, latch window
	 * restarted, ICE credentials. The local address must not change.
	 */
	int (*flow_update)(struct dataplane *dp, dp_flow_t f, const struct dp_flow_params *p);
	/**
	 * Packets accepted on @p in leave through @p out (0: drop them, e.g. while on hold).
	 * Both flows must have the same group: -EXDEV otherwise.
	 */
	int (*flow_link)(struct dataplane *dp, dp_flow_t in, dp_flow_t out);
	/**
	 * Optional: RTCP multiplexed on @p in (RFC 5761: payload type 64..95) leaves through
	 * @p out instead of flow_link's out (0: with the RTP again). Same group rule as flow_link.
	 * NULL: dp_flow_link_rtcp returns -ENOTSUP (muxed RTCP goes with the RTP).
	 */
	int (*flow_link_rtcp)(struct dataplane *dp, dp_flow_t in, dp_flow_t out);
	/** Stops and frees the flow; its port can be bound again once this returns. */
	int (*flow_del)(struct dataplane *dp, dp_flow_t f);
	/**
	 * Optional: flow_del for each of @p n flows, with one wait for all (e.g. a whole call).
	 * Every flow that can be deleted is, whatever the others; the ports of those are free once
	 * this returns. @return 0 or the first error. NULL: dp_flow_del_many loops on flow_del.
	 */
	int (*flow_del_many)(struct dataplane *dp, const dp_flow_t *f, unsigned n);
	int (*flow_stats)(struct dataplane *dp, dp_flow_t f, struct dp_flow_stats *out);
	void (*free)(struct dataplane *dp);
};

/** Every backend's state starts with this. */
struct dataplane {
	const struct dataplane_ops *ops;
};

static inline int dp_flow_add(struct dataplane *dp, const struct dp_flow_params *p, dp_flow_t *out)
{
	return dp->ops->flow_add(dp, p, out);
}

static inline int dp_flow_update(struct dataplane *dp, dp_flow_t f, const struct dp_flow_params *p)
{
	return dp->ops->flow_update(dp, f, p);
}

static inline int dp_flow_link(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return dp->ops->flow_link(dp, in, out);
}

/** Whether the backend demultiplexes RTCP (has flow_link_rtcp). */
static inline bool dp_can_link_rtcp(const struct dataplane *dp)
{
	return dp->ops->flow_link_rtcp != NULL;
}

static inline int dp_flow_link_rtcp(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return dp->ops->flow_link_rtcp ? dp->ops->flow_link_rtcp(dp, in, out) : -ENOTSUP;
}

static inline int dp_flow_del(struct dataplane *dp, dp_flow_t f)
{
	return dp->ops->flow_del(dp, f);
}

static inline int dp_flow_del_many(struct dataplane *dp, const dp_flow_t *f, unsigned n)
{
	int first = 0;

	if (dp->ops->flow_del_many)
		return dp->ops->flow_del_many(dp, f, n);
	for (unsigned i = 0; i < n; i++) {
		int err = dp->ops->flow_del(dp, f[i]);

		if (err && !first)
			first = err;
	}
	return first;
}

static inline int dp_flow_stats(struct dataplane *dp, dp_flow_t f, struct dp_flow_stats *out)
{
	return dp->ops->flow_stats(dp, f, out);
}

static inline void dataplane_free(struct dataplane *dp)
{
	if (dp)
		dp->ops->free(dp);
}

#endif
