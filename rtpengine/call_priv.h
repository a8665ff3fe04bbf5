/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of call.h, shared by call.c, call_stats.c and call_timeout.c only. */
#ifndef SBC_RTPENGINE_CALL_PRIV_H
#define SBC_RTPENGINE_CALL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "dataplane/dataplane.h"
#include "iface.h"

#define CALL_MAX_MONO 8
#define ICE_UFRAG_LEN 8
#define ICE_PWD_LEN   24

/* One relay port: a flow of the dataplane. */
struct stream {
	uint16_t port; /* 0: not open */
	dp_flow_t flow;
	struct sa expected; /* where the endpoint said (SDP) it receives this */
};

struct media {
	char type[16];
	char proto[32];
	struct stream rtp, rtcp; /* rtcp.port = rtp.port + 1, open together */
	struct sa rtcp_apart;	 /* where RTCP goes if the mux its SDP offered is refused */
	bool rtcp_mux;
	bool hold; /* sendonly, inactive or 0.0.0.0 */
};

struct monologue {
	char *tag; /* NULL until an answer names the answerer */
	char *label;
	uint64_t created_ms, created_wall_s;
	struct monologue *peer;
	struct iface *iface; /* where its ports are */
	struct sa received_from;
	enum latch_mode mode;
	bool sdp_known; /* it sent an SDP: until then its flows learn no stranger */
	bool ice;	/* its flows answer STUN with the credentials below */
	char ice_ufrag[ICE_UFRAG_LEN + 1];
	char ice_pwd[ICE_PWD_LEN + 1];
	unsigned nmedia;
	struct media *media;
};

struct call {
	struct call *hnext;	  /* hash chain */
	struct call *prev, *next; /* all calls, oldest first */
	char *id;
	size_t id_len;
	char *from_tag; /* of the offer that created it: the sbc's dialog, whatever was deleted */
	uint32_t hash;
	uint64_t created_ms, created_wall_s, last_signal_ms, offer_ms;
	uint32_t created_wall_us;
	uint64_t delete_at_ms; /* delete-delay: deleted then; 0: not deleted */
	bool answered;
	bool teardown_notify;
	struct call_origin origin;
	unsigned nmono;
	struct monologue *mono[CALL_MAX_MONO];
};

/* A port pair whose flows the dataplane did not delete (-ETIMEDOUT): still bound, so the pair
 * goes back to its interface only once calls_tick() deleted them. */
struct zombie {
	struct zombie *next;
	struct iface *iface;
	uint16_t port;
	dp_flow_t flow[2]; /* 0: deleted */
};

struct calls {
	struct calls_conf conf;
	struct zombie *zombies;
	struct call **buckets;
	uint32_t nbuckets;
	struct call *first, *last;
	struct calls_counters counters;
	struct calls_traffic gone[IFACE_MAX]; /* counters of deleted flows, per interface */
	call_teardown_h *teardown_h;
	void *teardown_arg;
	uint32_t rand_state;
	uint32_t hash_seed; /* call-ids choose neither the bucket nor the worker */
};

struct call *calls_find(struct calls *c, struct strv id);
struct monologue *call_find_tag(struct call *call, struct strv tag);
/* Removes the call from the table and frees it with its flows and ports; counts @p why. */
void call_destroy(struct calls *c, struct call *call, enum call_end why);
/* Adds one flow's counters to @p t. */
void calls_traffic_add(struct calls_traffic *t, const struct dp_flow_stats *st);
/* Retries the deletes that failed; gives back the pairs whose flows are gone. */
void calls_reap_zombies(struct calls *c);
/* Writes created, last signal, tags, totals (the members of a query reply). */
void call_encode_stats(struct calls *c, struct call *call, uint64_t now_ms,
		       struct bencode_buf *out);

#endif
