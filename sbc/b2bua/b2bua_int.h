/* SPDX-License-Identifier: BSD-2-Clause */
/** @file b2bua_int.h  Types shared by the B2BUA's files (private). */
#ifndef SBC_B2BUA_B2BUA_INT_H
#define SBC_B2BUA_B2BUA_INT_H

#include "b2bua.h"
#include "common/timer.h"
#include "dialog.h"
#include "hdr_policy.h"
#include "../sip/tsx.h"

#define B2B_OUT_MAX 65536

/** A copy of a received request, re-parsed to answer it later. */
struct b2b_req {
	char *buf;
	size_t len;
	struct sip_flow flow;
};

/*
 * Call states (the A-leg's view; the B-leg follows):
 *
 *   OUTGOING --1xx--> EARLY --2xx--> ANSWERED --A's ACK--> CONFIRMED --BYE--> (freed)
 *      |                |                |
 *      |  non-2xx/timeout/CANCEL: final to A; CANCELLING while B's finals are pending
 *      +----------------+---> CANCELLING --B finals--> (freed); B 2xx: ACK+BYE B
 *   ANSWERED: the 2xx to A is retransmitted (T1 doubling to T2) until A's ACK;
 *   none within 64*T1: BYE both legs, freed.
 *
 * Until the answer, the B side is a step ("attempt") of forks: one INVITE
 * client transaction and early dialog per target of the step's group
 * (struct b2b_fork, not in the dialog table). OUTGOING and EARLY last across
 * steps (failover, forwarding). The first fork to answer 2xx becomes leg[1]
 * (copied, then put in the dialog table); the others are cancelled, or get
 * ACK and BYE if they answered too.
 *
 * A call is freed as soon as nothing more is expected from either side:
 * BYEs we send are fire-and-forget client transactions (the layer ends them).
 */
enum b2b_state {
	B2B_OUTGOING,
	B2B_EARLY,
	B2B_ANSWERED,
	B2B_CONFIRMED,
	B2B_CANCELLING,
};

/** An INVITE being bridged (the initial one or a re-INVITE): one at a time. */
struct b2b_inv {
	bool active;
	enum b2bua_side from; /**< side of the server transaction */
	struct sip_tsx *st;   /**< NULL once ended */
	struct b2b_req req;
	bool final_sent;
	struct sip_tsx *ct; /**< our INVITE on the other side; NULL once ended */
	uint32_t ct_cseq;
	bool ct_final; /**< final response received on ct */
	char *ok;      /**< the 2xx sent to 'from', retransmitted until the ACK */
	size_t ok_len;
	uint32_t rtx_ms;
	uint64_t rtx_deadline;
	struct timer rtx;
	uint32_t from_cseq; /**< CSeq of the INVITE from 'from' (for its ACK) */
};

struct b2b_leg {
	struct b2b_dialog dlg;
	struct b2bua_call *call;
	enum b2bua_side side;
	bool confirmed; /**< remote tag known, dialog in the table */
	char *ack;	/**< last ACK we sent on this leg (2xx retransmissions) */
	size_t ack_len;
	struct sip_tsx *ack_ct; /**< the INVITE that ACK answers, while it lives */
};

/** A non-INVITE request bridged in dialog. */
struct b2b_fwd {
	struct b2b_fwd *next, **pprev;
	struct b2bua_call *call;
	enum b2bua_side from;
	struct sip_tsx *st, *ct;
	struct b2b_req req;
};

typedef void(b2b_finish_h)(struct b2bua_call *c, void *ctx, const char *msg, size_t len);
/** Like b2b_finish_h, for a body that waits without a message around it. */
typedef void(b2b_body_h)(struct b2bua_call *c, struct strv ctype, struct strv body);

/** A message waiting for its body (media hook) or behind one that does. */
struct b2bua_media_op {
	struct b2bua_media_op *next;
	struct b2bua_call *call;
	b2b_finish_h *finish;
	b2b_body_h *body_finish; /**< instead of finish: no headers */
	void *ctx;
	enum b2bua_side from;
	enum b2bua_sdp_kind kind;
	bool started; /**< given to the hook */
	bool done;    /**< the hook answered */
	char *hdrs;
	size_t hdrs_len;
	char ctype[128];
	char *body;
	size_t body_len;
};

/** One B-side INVITE of the current step (see the state comment). */
struct b2b_fork {
	struct b2b_leg leg; /**< side B; ack: the ACK of a 2xx we did not take */
	struct sip_tsx *ct; /**< NULL: not sent yet, or ended */
	unsigned status;    /**< final status, 0 while pending; 408/503 for errors */
	bool err;	    /**< status stands for a timeout or transport error */
	bool cancelled;
};

struct b2bua_call {
	struct b2bua *b2b;
	struct b2bua_call *next, **pprev; /* all calls */
	uint64_t id;
	enum b2b_state state;
	struct b2b_leg leg[2];
	struct b2b_dnode a_early; /* A-leg by (Call-ID, A's From tag): CANCEL */
	struct b2b_inv inv;
	struct b2b_fwd *fwds;
	struct b2bua_media_op *outq, **outq_tail;
	struct timer no_answer;
	/* Routing: targets sorted by group; [tnext, ntargets) not tried yet. */
	struct b2bua_target *targets;
	unsigned ntargets, tnext;
	struct b2b_fork *forks; /* the current step */
	unsigned nforks;
	int sdp_fork;	   /* fork whose early SDP the caller got, -1 none */
	bool forwarded;	   /* forward_h was asked (at most once) */
	bool fwd_pending;  /* the no-answer timer cancelled the step to forward */
	bool offer_queued; /* the caller's body went to the media queue */
	bool offer_ready;  /* ... and came back: offer_* hold it for every fork */
	char offer_ctype[128];
	char *offer;
	size_t offer_len;
	unsigned busy;
	bool ended;
	bool answered;
	struct b2bua_cdr cdr;
	bool cdr_written; /* emitted once, whichever way the call ends */
	char from_uri[B2B_URI_MAX], to_uri[B2B_URI_MAX];
};

struct b2bua {
	struct b2bua_conf conf;
	struct b2b_hdr_policy policy;
	struct sip_tsx_layer *tsx;
	struct sip_transport *tp;
	struct timers *ts;
	struct b2b_dtab dlgs;  /* legs by (Call-ID, local tag) */
	struct b2b_dtab early; /* calls by (A's Call-ID, A's From tag) */
	struct b2bua_call *calls;
	uint32_t inst;
	uint64_t rng;
	uint64_t next_id;
	struct b2bua_stats stats;
	char out[B2B_OUT_MAX];
};

uint64_t b2b_random(struct b2bua *b);
void b2b_new_id(struct b2bua *b, char *buf);

/* call.c */
void b2b_call_invite(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req);
void b2b_call_in_dialog(struct b2b_leg *leg, struct sip_tsx *st, const struct sip_msg *req);
void b2b_call_cancel(struct b2bua_call *c, struct sip_tsx *st, const struct sip_msg *req);
void b2b_call_ack(struct b2b_leg *leg, const struct sip_msg *ack);
void b2b_call_destroy(struct b2bua_call *c, enum b2bua_end why);
void b2b_call_drop(struct b2bua_call *c);
void b2b_respond_plain(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req,
		       unsigned code);

#endif
