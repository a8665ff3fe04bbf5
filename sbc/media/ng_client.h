/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng_client.h  Asynchronous client of the rtpengine "ng" control protocol.
 *
 * A request is one datagram "<cookie> <bencode dict>" over UDP; the node's
 * reply carries the same cookie. The client drives several media nodes from
 * the sbc's event loop with one UDP socket per address family, and nothing in
 * it ever waits: every request completes through a callback, so a slow or dead
 * node never blocks signalling.
 *
 * Cookies: a random per-client prefix (64 bits from getrandom) and a counter,
 * "<16 hex>-<decimal>", unique for the life of the process and unguessable for
 * an off-path sender. Replies are matched by cookie alone: the source address
 * is not checked, since a node bound to a wildcard address may answer from
 * another of its addresses.
 *
 * Retransmission: a request that got no reply within `timeout_ms` is sent
 * again, the same bytes with the SAME cookie, up to `tries` datagrams per node.
 * rtpengine caches its replies by cookie, so a retransmitted command is never
 * executed twice. When the last try times out the node is marked down.
 *
 * Node selection and failover: a request either lets the client choose
 * (NG_NODE_ANY: `ping`, and the first `offer` of a call) or is pinned to a
 * node. The client chooses among the nodes that are up by smooth weighted
 * round robin (as nginx does: deterministic, and spreads even small weights
 * evenly); when the chosen node times out, or answers `result: load limit`,
 * the request moves to the next node it has not tried yet, with a fresh
 * cookie (so that a late reply of the node given up is recognised as stale).
 *
 * Affinity: a call's media lives on the node that took its `offer`, so its
 * `answer`, `delete`, `query` and any later re-`offer` must go there. The
 * client keeps no call-id table: the caller learns the node that answered
 * with ng_client_cb_node() inside the offer's callback, stores that small
 * integer in its call object (which dies with the call, so nothing can leak or
 * go stale), and passes it back in every later request of the call. Pinned
 * requests never fail over, and are sent even to a node marked down: the
 * session exists only there, failing fast would not save the call, and a node
 * that answers is up again. `answer`, `delete` and `query` with NG_NODE_ANY
 * are refused with -EINVAL.
 *
 * Node health: a node whose request timed out is marked down and probed with
 * `ping` every `probe_interval_ms` until it answers; any reply from a node
 * (probe or not) marks it up again. Requests with NG_NODE_ANY skip nodes that
 * are down; when every node is down they fail with -EHOSTUNREACH at once,
 * without a datagram, so that the caller refuses the call (503) instead of
 * setting it up by half.
 *
 * Callback contract: ng_client_request returns 0 and the callback is then
 * called exactly once, always later from the event loop (never from inside
 * ng_client_request), unless the request is cancelled; or it returns a
 * negative errno and the callback is never called. ng_client_cancel and
 * ng_client_free drop requests WITHOUT calling their callbacks: the owner that
 * cancels knows, and at free time the objects behind the callbacks may already
 * be gone. Note that a cancelled `offer` may already have been executed by the
 * node; the caller that cancels it sends a `delete` if it had learnt the node.
 * A callback may start and cancel requests; it must not free the client.
 *
 * Notifications: a datagram "<cookie> <dict>" whose dict has a `command` key
 * and whose cookie is not one of ours is a command from a node (e.g.
 * `teardown` after a media timeout, sent by our rtpengine only for calls whose
 * offer carried the flag `teardown-notify`). It is taken only from the exact
 * address of a configured node, answered `result: ok` with its cookie (the
 * node may stop retransmitting it), and handed to the notify handler; from
 * anywhere else it is counted as `unsolicited` and dropped.
 *
 * Memory: a request allocates one block (its state and its encoded dict) at
 * request time and frees it when it completes; replies are decoded into the
 * client's own receive buffer and node array, valid during the callback only.
 * Not thread-safe: one client per event loop (thread).
 */
#ifndef SBC_MEDIA_NG_CLIENT_H
#define SBC_MEDIA_NG_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/bencode.h"
#include "common/sa.h"
#include "common/str.h"

struct loop;
struct ng_client;
struct ng_req;

/** Most nodes per client. */
#define NG_CLIENT_MAX_NODES 64
/** Largest datagram sent (the largest UDP payload over IPv4); replies may be up to 65535. */
#define NG_CLIENT_MAX_DATAGRAM 65507
/** Decoder capacity for one reply. */
#define NG_CLIENT_MAX_REPLY_NODES 1024

/** Lets the client choose the node (with failover), for `ping` and a call's first `offer`. */
#define NG_NODE_ANY (-1)

/**
 * Completion of a request.
 * @param err   0: a reply with a result other than "error"/"load limit" ("ok", "pong");
 *              -EPROTO: `result: error` or no `result` (reply given: read `error-reason`);
 *              -EBUSY: `result: load limit` and no other node to try (reply given);
 *              -ETIMEDOUT: the last node tried did not answer any try;
 *              -EHOSTUNREACH: no node was up (NG_NODE_ANY);
 *              another negative errno: a local failure (-ENOMEM).
 * @param reply the decoded reply, or NULL when there is none; valid during the call only.
 * @param dict  the reply's root dictionary, or NULL.
 */
typedef void(ng_client_h)(void *arg, int err, const struct bencode_doc *reply,
			  const struct bencode_node *dict);

struct ng_client_opts {
	uint32_t timeout_ms;	    /**< wait for a reply per try; 0: 500 */
	uint32_t tries;		    /**< datagrams per node, first one included; 0: 3 */
	uint32_t probe_interval_ms; /**< `ping` period for nodes marked down; 0: 10000 */
};

enum ng_command {
	NG_CMD_PING = 0,
	NG_CMD_OFFER,
	NG_CMD_ANSWER,
	NG_CMD_DELETE,
	NG_CMD_QUERY,
};

/**
 * One command, with the keys Kamailio's rtpengine module sends. An empty view
 * (or a NULL list, or a NULL address) leaves its key out. Views need only live
 * until ng_client_request returns: the datagram is encoded at once.
 */
struct ng_cmd {
	enum ng_command command;
	struct strv call_id;		/**< `call-id` */
	struct strv from_tag;		/**< `from-tag` */
	struct strv to_tag;		/**< `to-tag` */
	struct strv via_branch;		/**< `via-branch` */
	struct strv sdp;		/**< `sdp` */
	struct strv label;		/**< `label` */
	struct strv ice;		/**< `ICE`: "remove", "force", ... */
	struct strv transport_protocol; /**< `transport-protocol`: "RTP/AVP", "RTP/SAVPF", ... */
	const struct sa *received_from; /**< `received-from`: ["IP4"|"IP6", address] */
	const struct strv *flags;	/**< `flags` list: "trust-address", "symmetric", ... */
	unsigned nflags;
	const struct strv *replace; /**< `replace` list: "origin", "session-connection" */
	unsigned nreplace;
	const struct strv
	    *direction; /**< `direction` list: "access", "core" (or "external", ...) */
	unsigned ndirection;
	const struct strv *rtcp_mux; /**< `rtcp-mux` list: "demux", "offer", "accept", ... */
	unsigned nrtcp_mux;
	/** Further key/value pairs, already bencoded, appended verbatim to the dict. */
	struct strv extra;
};

/** What a reply says, as views into the reply buffer. */
enum ng_result {
	NG_RESULT_NONE = 0, /**< no `result` key, or not a string */
	NG_RESULT_OK,
	NG_RESULT_PONG,
	NG_RESULT_ERROR,
	NG_RESULT_LOAD_LIMIT,
	NG_RESULT_OTHER, /**< a result this client does not know */
};

struct ng_reply {
	enum ng_result result;
	struct strv result_str;	  /**< `result` as sent */
	struct strv error_reason; /**< `error-reason`, with NG_RESULT_ERROR */
	struct strv sdp;	  /**< `sdp` of an offer's or answer's reply */
	struct strv warning;	  /**< `warning` */
};

struct ng_client_stats {
	uint64_t requests;	/**< accepted by ng_client_request, and health probes */
	uint64_t sent;		/**< first datagrams of a request on a node (failover included) */
	uint64_t retransmits;	/**< datagrams sent again with the same cookie */
	uint64_t timeouts;	/**< requests whose last try on a node got no reply */
	uint64_t replies;	/**< replies matched to a pending request */
	uint64_t errors;	/**< replies with `result: error` (or none), and send failures */
	uint64_t load_limit;	/**< replies with `result: load limit` */
	uint64_t unreachable;	/**< requests failed at once: no node up */
	uint64_t malformed;	/**< datagrams that are not "<cookie> <dict>" */
	uint64_t stale;		/**< well-formed replies with an unknown cookie */
	uint64_t notifications; /**< commands from nodes, handed to the notify handler */
	uint64_t unsolicited;	/**< commands from an address that is no node: dropped */
};

struct ng_node_stats {
	bool up;
	uint64_t sent;	      /**< datagrams, retransmissions included */
	uint64_t retransmits; /**< of which retransmissions */
	uint64_t timeouts;    /**< requests whose last try got no reply */
	uint64_t replies;     /**< replies matched to a request to this node */
	uint64_t downs;	      /**< transitions up -> down */
	uint64_t ups;	      /**< transitions down -> up */
};

/** @param opts NULL for the defaults. @return 0, -ENOMEM. */
int ng_client_alloc(struct ng_client **cp, struct loop *l, const struct ng_client_opts *opts);
/** Closes the sockets and drops pending requests without calling their callbacks. */
void ng_client_free(struct ng_client *c);

/**
 * Adds a media node (up until it fails to answer). Node ids are 0, 1, ... in
 * the order of addition; nodes are never removed while the client lives, so
 * an id stored in a call stays valid. Opens the socket of the address family
 * on first use.
 * @param weight share of NG_NODE_ANY requests; 0 counts as 1.
 * @param idp    set to the node id; may be NULL.
 * @return 0, -EINVAL (unset address or port 0), -EEXIST (same address twice),
 *         -ENOSPC (NG_CLIENT_MAX_NODES), or a negative errno from socket().
 */
int ng_client_node_add(struct ng_client *c, const struct sa *addr, uint32_t weight, int *idp);

unsigned ng_client_node_count(const struct ng_client *c);
/** @return the node's address, or NULL for a bad id. */
const struct sa *ng_client_node_addr(const struct ng_client *c, int node);
/** @return the node's counters, or NULL for a bad id. */
const struct ng_node_stats *ng_client_node_stats(const struct ng_client *c, int node);
const struct ng_client_stats *ng_client_stats(const struct ng_client *c);

/**
 * Encodes @p cmd as a bencode dict into @p b (for ng_client_request, tests and
 * fuzzing). Overflow is left to bencode_buf_finish.
 * @return 0, or -EINVAL for an unknown command.
 */
int ng_cmd_encode(struct bencode_buf *b, const struct ng_cmd *cmd);

/**
 * Sends @p cmd and calls @p h with the outcome (see the contract above).
 * @param node NG_NODE_ANY to let the client choose (with failover), or the id
 *             of the node that took the call's offer.
 * @param reqp set to a handle for ng_client_cancel, valid until the callback
 *             is entered or the request is cancelled; may be NULL.
 * @return 0; -EINVAL (no callback, unknown command, `answer`/`delete`/`query`
 *         without a node, or a node id out of range); -EMSGSIZE (the command
 *         does not fit a datagram); -ENOMEM.
 */
int ng_client_request(struct ng_client *c, const struct ng_cmd *cmd, int node, ng_client_h *h,
		      void *arg, struct ng_req **reqp);

/**
 * A command a node sent us (see Notifications above): @p command its
 * `command` value, @p dict the whole dict (views valid during the call only).
 */
typedef void(ng_client_notify_h)(void *arg, int node, struct strv command,
				 const struct bencode_doc *doc, const struct bencode_node *dict);

/** Sets the handler of notifications (NULL: answered and dropped). */
void ng_client_set_notify_h(struct ng_client *c, ng_client_notify_h *h, void *arg);

/** Sends `ping` (see ng_client_request). */
int ng_client_ping(struct ng_client *c, int node, ng_client_h *h, void *arg, struct ng_req **reqp);

/** Drops a pending request; its callback is not called. */
void ng_client_cancel(struct ng_client *c, struct ng_req *r);

/**
 * The node whose reply (or timeout) is being delivered: valid inside a
 * callback only, -1 elsewhere or when no node was tried (-EHOSTUNREACH). An
 * offer's callback stores it to pin the call's later requests.
 */
int ng_client_cb_node(const struct ng_client *c);

/**
 * Reads the keys of a reply dict into @p r (views into the reply buffer).
 * @return 0, or -EINVAL if @p dict is not a dictionary.
 */
int ng_reply_parse(const struct bencode_doc *doc, const struct bencode_node *dict,
		   struct ng_reply *r);

#endif
