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
	/* the offer asked to accept its mux whatever the answerer does (rtcp-mux demux/accept) */
	bool mux_keep;
	bool demuxing; /* rtp.flow has an RTCP link (dp_flow_link_rtcp) */
	bool hold;     /* sendonly, inactive or 0.0.0.0 */
};

struct monologue {
	char *tag; /* NULL until an answer names the answerer */
	char *label;
	char *via_branch; /* of the offer that created it (a fork): NULL when none was given */
	/* the offer it was created by (0: an offerer); monologues of one offer are forks behind
	 * it that were sent the same SDP, so they share its ports (call_fork.c) */
	unsigned offer_id;
	bool ports_lent; /* its ports serve another monologue of its offer */
	/* when its latest answer (or offer) was taken, from call->sdps: 0 never; the fork that
	 * becomes active when the active one goes is the latest (call_fork.c) */
	unsigned sdp_seq;
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
	unsigned offers; /* offer_id of the last monologue an offer created */
	unsigned sdps;	 /* sdp_seq of the last offer or answer taken */
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
/* Monologues and their flows (call.c). */
struct monologue *mono_create(struct call *call, struct strv tag, struct iface *ifc,
			      uint64_t now_ms);
/* Frees @p m and its ports; monologues whose peer it was are left without one. */
void mono_destroy(struct calls *c, struct call *call, struct monologue *m);
int mono_reserve(struct monologue *m, unsigned n);
/* Deletes a media's flows and gives its port pair back. */
void media_close(struct calls *c, struct monologue *m, struct media *md);
void mono_refresh_flows(struct calls *c, const struct call *call, const struct monologue *m);
/* Links every media of @p from to the same media of @p to (packets on from's ports leave
 * through to's). */
void mono_link(struct calls *c, struct monologue *from, const struct monologue *to);

/* Forks (call_fork.c, where the model is). */
/* The fork of @p a offered with via-branch @p vb (the one holding its ports), or NULL. */
struct monologue *fork_by_branch(struct call *call, const struct monologue *a, struct strv vb);
/* Gives @p m the ports of its offer if another fork of that offer holds them. */
int fork_take_ports(struct calls *c, struct call *call, struct monologue *m);
/* The answerer of an answer to @p a, created (@p created) for a new to-tag behind an offer
 * another fork answered; @return 0 or -errno with @p why. Checks @p nmedia first. */
int fork_answerer(struct calls *c, struct call *call, struct monologue *a,
		  const struct ng_params *p, unsigned nmedia, uint64_t now_ms,
		  struct monologue **bp, bool *created, const char **why);
/* Ends fork @p m: its ports freed (shared ones to its offer's other fork); if it was its
 * peer's active fork, another fork becomes it. */
void fork_delete(struct calls *c, struct call *call, struct monologue *m);
/* delete with a via-branch: ends @p a's forks of that branch unless they are all it has.
 * @return whether it did. */
bool fork_end_via_branch(struct calls *c, struct call *call, struct monologue *a, struct strv vb);
/* delete with a to-tag naming @p m: ends a fork, or m's dialogue (with its forks) when other
 * dialogues remain in the call. @return whether it did (false: the call ends). */
bool fork_end_tag(struct calls *c, struct call *call, struct monologue *m);

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
