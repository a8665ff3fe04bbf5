/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file call.h  Media sessions: calls, their monologues (one per tag) and media streams.
 *
 * A call (by call-id) holds monologues. A monologue is one party of the call as signalling
 * sees it (its tag) and owns, per media of its SDP, a pair of relay ports on its interface:
 * the ports *its* endpoint sends to (RTP and RTCP = RTP + 1). Each port is a dataplane flow.
 * An offer from tag A creates A and A's peer (the answerer, tagless until the answer names
 * it): A's ports go on the `direction[0]` interface and end up in the answer's SDP; the
 * peer's ports go on `direction[1]` and are written into the offer's SDP. Flows are linked
 * peer -> A at the offer (early media from the callee) and both ways at the answer.
 *
 * Forks (call_fork.c), as Sipwise: an offer sent again with another `via-branch` (the proxy
 * forked it) is a fork with ports of its own, written into that branch's SDP; answers with
 * other to-tags to one offer are forks that share the ports that offer carried. A keeps its
 * ports whatever answers; its media go to the fork that answered last, every fork's reach A.
 * A delete with a fork's to-tag, or with its offer's via-branch, ends that fork only.
 *
 * Re-offers keep ports: media index i of a monologue keeps its ports as long as the monologue
 * lives. Ports return to their interface when a monologue (delete of a branch) or the call
 * is deleted, or the call times out.
 *
 * Single-threaded: everything here runs on the control thread; no locks.
 */
#ifndef SBC_RTPENGINE_CALL_H
#define SBC_RTPENGINE_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "common/bencode.h"
#include "common/sa.h"
#include "common/str.h"
#include "iface.h"
#include "ng_params.h"

struct dataplane;
struct iface;
struct calls;

/** What may change while calls run (SIGHUP). */
struct calls_limits {
	uint32_t max_sessions;	    /**< 0: unlimited */
	uint32_t timeout_ms;	    /**< no RTP for that long: deleted; 0: never */
	uint32_t silent_timeout_ms; /**< the same while the call is on hold */
	uint32_t final_timeout_ms;  /**< longest call; 0: none */
	uint32_t offer_timeout_ms;  /**< offer without answer; 0: none */
	uint32_t latch_window_ms;   /**< for flows signalled from now on */
	uint32_t delete_delay_ms;   /**< a deleted call lives on that long; 0: gone at once */
};

struct calls_conf {
	struct dataplane *dp;
	struct iface *ifaces; /**< the first one is the default */
	unsigned nifaces;
	struct calls_limits limits;
};

/** A call removed by a timeout, to be reported (only calls offered with teardown-notify). */
struct call_teardown {
	struct strv call_id, from_tag;
	const char *reason;  /**< "timeout", "final-timeout", "offer-timeout" */
	const struct sa *to; /**< where the call's last command came from */
	void *via;	     /**< the origin's @ref call_origin.via (its ng transport) */
	uint64_t conn;	     /**< the origin's @ref call_origin.conn */
};
typedef void(call_teardown_h)(const struct call_teardown *t, void *arg);

/** Where a command came from: timeouts are reported there. */
struct call_origin {
	struct sa from; /**< unset: nowhere to report */
	void *via;	/**< what sends the report (ng.h: struct ng_notifier) */
	uint64_t conn;	/**< the stream connection it came on; 0: a datagram */
};

/** What a command returned besides its reply. */
struct call_result {
	const char *why; /**< error-reason when the call returns an error */
	size_t sdp_len;	 /**< offer/answer: the rewritten SDP's length */
	/** `transport-protocol` asked for another protocol than the SDP's: no translation
	 * (SRTP/RTP, DTLS) is done, the media go through as they are */
	bool proto_ignored;
	/** a re-offer's `direction` named other interfaces than the monologues have: they keep
	 * their ports (and interfaces) */
	bool direction_ignored;
};

int calls_alloc(struct calls **cp, const struct calls_conf *conf);
/** Deletes every call (their flows and ports) and frees @p c. */
void calls_free(struct calls *c);
void calls_set_teardown_h(struct calls *c, call_teardown_h *h, void *arg);
/** New limits; live calls keep their ports and flows. */
void calls_set_limits(struct calls *c, const struct calls_limits *l);

/**
 * offer / answer: rewrites @p p->sdp into @p sdp_out.
 * @return 0; -EBUSY when max_sessions is reached (load limit); another negative errno with
 * res->why ("Unknown call-id", "Failed to parse SDP: ...", "Ran out of ports", ...).
 */
int calls_offer(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		uint64_t now_ms, char *sdp_out, size_t outsize, struct call_result *res);
int calls_answer(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		 uint64_t now_ms, char *sdp_out, size_t outsize, struct call_result *res);
/**
 * Writes the call's statistics into the reply (dict members), then deletes call or branch.
 * A whole call is deleted after `delete-delay` seconds (the key, else the limits'
 * delete_delay_ms), as Sipwise does: until then it relays media and answers query and list,
 * and an offer or answer for it cancels the deletion. A branch goes at once: a fork (by its
 * to-tag or its offer's `via-branch`, unless it is the last), or a dialogue of several.
 */
int calls_delete(struct calls *c, const struct ng_params *p, uint64_t now_ms,
		 struct bencode_buf *out, struct call_result *res);
/** Writes the call's statistics (created, tags, totals, ...) into the reply dict. */
int calls_query(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		uint64_t now_ms, struct bencode_buf *out, struct call_result *res);
/** `calls` list of call-ids (at most @p limit when >= 0). */
void calls_list(struct calls *c, int64_t limit, struct bencode_buf *out);
/** `statistics` dict. */
void calls_statistics(struct calls *c, uint64_t now_ms, struct bencode_buf *out);

/** Deletes the calls whose timeouts expired by @p now_ms; call every second or so. */
void calls_tick(struct calls *c, uint64_t now_ms);

/** Why a call ended: every call created ends with one of these (metrics). */
enum call_end {
	CALL_END_DELETE = 0,	/**< ng delete */
	CALL_END_TIMEOUT,	/**< no RTP for timeout (silent_timeout on hold) */
	CALL_END_FINAL_TIMEOUT, /**< lived longer than final_timeout */
	CALL_END_OFFER_TIMEOUT, /**< offered, never answered */
	CALL_END_FAILED,	/**< the offer that created it failed */
	CALL_END_SHUTDOWN,	/**< the daemon stopped */
	CALL_END_MAX,
};
/** "delete", "timeout", "final-timeout", "offer-timeout", "failed", "shutdown". */
const char *call_end_name(enum call_end e);

struct calls_counters {
	uint64_t current;	      /**< live calls */
	uint64_t total;		      /**< calls created */
	uint64_t timeouts;	      /**< deleted by a timeout */
	uint64_t rejected;	      /**< refused by the load limit */
	uint64_t ended[CALL_END_MAX]; /**< calls ended, by why */
};
const struct calls_counters *calls_counters(const struct calls *c);

/** Dataplane counters of flows (dp_flow_stats), summed. */
struct calls_traffic {
	uint64_t packets, bytes, errors, refused, stun_answered, stun_refused;
};

/** What lives now, and the traffic of every flow since start, per interface. */
struct calls_media {
	uint64_t monologues;
	uint64_t streams; /**< open relay ports (flows): RTP and RTCP each count */
	struct calls_traffic traffic[IFACE_MAX]; /**< indexed as calls_conf.ifaces */
};
/**
 * Fills @p out: the totals kept for flows already deleted plus the live flows' counters,
 * read now (O(live flows): for scrapes, not for the packet path).
 */
void calls_media_totals(struct calls *c, struct calls_media *out);

/** One call, for the control socket. */
struct call_info {
	struct strv call_id;
	uint64_t age_ms;
	unsigned ntags;
	struct strv tags[8];
};
typedef void(call_info_h)(const struct call_info *ci, void *arg);
void calls_foreach(struct calls *c, uint64_t now_ms, call_info_h *h, void *arg);

/** One flow of a call, for the control socket. */
struct stream_info {
	struct strv tag;
	unsigned media_index; /**< 1-based, as in ng replies */
	const char *iface;
	uint16_t local_port;
	int is_rtcp;
	struct sa latched;
	uint64_t packets, bytes, errors, refused;
};
typedef void(stream_info_h)(const struct stream_info *si, void *arg);
/** @return 0, or -ENOENT for an unknown call-id. */
int calls_foreach_stream(struct calls *c, struct strv call_id, stream_info_h *h, void *arg);

#endif
