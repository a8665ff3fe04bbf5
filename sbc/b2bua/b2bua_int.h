/* SPDX-License-Identifier: BSD-2-Clause */
/** @file b2bua_int.h  Types shared by the B2BUA's files (private). */
#ifndef SBC_B2BUA_B2BUA_INT_H
#define SBC_B2BUA_B2BUA_INT_H

#include "b2bua.h"
#include "common/timer.h"
#include "dialog.h"
#include "hdr_policy.h"
#include "oa.h"
#include "../sip/hdr.h"
#include "../sip/print.h"
#include "../sip/tsx.h"
#include "../routing/routes.h"

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
 * steps (failover, redirects, forwarding). A fork joins the dialog table with
 * its first To tag (its early dialog: UPDATE, INFO from the callee, RFC 3311);
 * the first fork to answer 2xx becomes leg[1] (copied, and put in the table
 * in its place); the others are cancelled, or get ACK and BYE if they
 * answered too.
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
	/*
	 * The legs it came on and goes to: leg[from] and leg[!from], or a fork's
	 * early dialog for either; NULL once that fork is gone.
	 */
	struct b2b_leg *src, *to;
	struct sip_tsx *st, *ct;
	struct b2b_req req;
};

/*
 * RFC 3262 toward the caller (prack.c). Each leg handles reliability itself:
 * when the caller supports (or requires) 100rel, every 18x it gets from us is
 * reliable, with our own RSeq, retransmitted (T1 doubling to T2) until its
 * PRACK or 64*T1; one is outstanding at a time, the newest later one waits.
 */
struct b2b_rel {
	bool supported; /**< the caller's INVITE had 100rel in Supported or Require */
	uint32_t rseq;	/**< RSeq of the last reliable 18x sent */
	char *msg;	/**< that 18x while unacknowledged */
	size_t len;
	char *next; /**< the 18x waiting for msg's PRACK (not yet numbered) */
	size_t next_len;
	uint32_t rtx_ms;
	uint64_t deadline;
	struct timer rtx;
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
	char *redir; /**< a copy of its 3xx, when one to follow (redirect_h set) */
	size_t redir_len;
	uint32_t inv_cseq; /**< CSeq of its INVITE (PRACKs take the next ones) */
	uint32_t rseq;	   /**< last RSeq PRACKed (RFC 3262: retransmissions dropped) */
	/** RSeq of a reliable 18x carrying a late offer: PRACKed with the caller's answer */
	uint32_t prack_rseq;
};

struct b2bua_call {
	struct b2bua *b2b;
	struct b2bua_call *next, **pprev; /* all calls */
	uint64_t id;
	enum b2b_state state;
	struct b2b_leg leg[2];
	struct b2b_dnode a_early; /* A-leg by (Call-ID, A's From tag): CANCEL */
	struct b2b_inv inv;
	struct b2b_rel rel;
	struct b2b_oa oa; /* offer/answer state, both legs */
	struct b2b_fwd *fwds;
	struct b2bua_media_op *outq, **outq_tail;
	struct timer no_answer;
	/* Routing: targets sorted by group; [tnext, ntargets) not tried yet. */
	struct b2bua_target *targets;
	unsigned ntargets, tnext;
	struct b2b_fork *forks; /* the current step */
	unsigned nforks;
	int sdp_fork;		      /* fork whose early SDP the caller got, -1 none */
	bool forwarded;		      /* forward_h was asked (at most once) */
	bool fwd_pending;	      /* the no-answer timer cancelled the step to forward */
	struct routes_redirect redir; /* 3xx followed, targets tried */
	bool offer_queued;	      /* the caller's body went to the media queue */
	bool offer_ready;	      /* ... and came back: offer_* hold it for every fork */
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
	struct b2b_reaper *reapers; /* INVITEs no call takes any more (fork.c) */
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

/* call.c, for fork.c: the building blocks of a leg */
extern const struct sip_limits b2b_req_limits;		  /* re-parsing saved messages */
extern const struct sip_tsx_handlers b2b_inv_ct_handlers; /* c->inv.ct's */
/* Every entry point holds the call: destroyed inside, it is freed at the last release. */
void b2b_call_hold(struct b2bua_call *c);
void b2b_call_release(struct b2bua_call *c);
uint64_t b2b_realtime_ms(void);
unsigned b2b_max_forwards(const struct sip_msg *m);
/* The status the caller sees for a callee's final (see call.c). */
unsigned b2b_map_final(unsigned code);
/* A request on @p leg, up to (not including) the body. */
void b2b_print_request(struct b2bua *b, struct sip_pbuf *pb, struct b2b_leg *leg,
		       struct strv method, uint32_t cseq, const struct sip_msg *src, unsigned mf,
		       bool contact);
/* Answers the saved request @p r on @p st at once, no body. */
void b2b_reply_now(struct b2bua *b, struct sip_tsx *st, const struct b2b_req *r,
		   struct b2b_leg *leg, unsigned code);
/* Queues a message (or, without @p pb, a body only) behind the media hook. */
void b2b_out_queue(struct b2bua_call *c, struct sip_pbuf *pb, const struct sip_msg *src,
		   enum b2bua_side from, enum b2bua_sdp_kind kind, b2b_finish_h *finish,
		   b2b_body_h *body_finish, void *ctx);
/* Final or provisional @p code to the side that sent the INVITE being bridged. */
void b2b_relay_to_inv_from(struct b2bua_call *c, unsigned code, const struct sip_msg *resp,
			   bool dlg_hdrs, bool body);
void b2b_learn_remote(struct b2b_leg *leg, const struct sip_msg *resp, bool routes);
void b2b_send_bye(struct b2bua_call *c, struct b2b_leg *leg);
/* Bridges in-dialog request @p req of @p leg to @p to; a PRACK gets RAck @p rack_*. */
void b2b_bridge_request(struct b2b_leg *leg, struct b2b_leg *to, struct sip_tsx *st,
			const struct sip_msg *req, uint32_t rack_rseq, uint32_t rack_cseq);
/* The dialog of a fork toward @p tg: fresh identifiers. */
int b2b_setup_leg_b(struct b2bua_call *c, struct b2b_dialog *d, const struct sip_msg *req,
		    const struct b2bua_target *tg, const struct sip_addr *from,
		    const struct sip_addr *to);

/* fork.c: the B side until the answer */
/* Frees the step's forks; @p reap: their INVITEs still alive go to reapers. */
void b2b_forks_free(struct b2bua_call *c, bool reap);
/* Whether 2xx @p resp is from another dialog than @p leg's (RFC 3261 §13.2.2.4). */
bool b2b_other_dialog(const struct b2b_leg *leg, const struct sip_msg *resp);
/* ACK, then BYE if @p bye, for 2xx @p resp of a dialog (like @p tmpl's) we don't keep. */
void b2b_release_2xx(struct b2bua *b, const struct b2b_leg *tmpl, const struct sip_msg *resp,
		     bool bye);
/*
 * Hands INVITE client transaction @p t of @p leg to a reaper until it ends:
 * every 2xx gets ACK and BYE (once per To tag; @p tag, if set, already had its BYE).
 */
void b2b_reap(struct b2bua *b, struct sip_tsx *t, const struct b2b_leg *leg, const char *tag);
/* Fork @p f's INVITE (alive) goes to a reaper: its later 2xx must still be ended. */
void b2b_fork_reap(struct b2bua_call *c, struct b2b_fork *f);
/* Shutdown: reapers dropped, no message sent. */
void b2b_reapers_free(struct b2bua *b);
/* Keeps @p n targets sorted by group (stable). @return 0 or -ENOMEM. */
int b2b_targets_set(struct b2bua_call *c, const struct b2bua_target *tg, unsigned n);
/* Starts the next step. @return 0, -ENOENT (no target left), -EINVAL or -ENOMEM. */
int b2b_step_start(struct b2bua_call *c);
void b2b_no_answer_start(struct b2bua_call *c);
/* Whether @p leg is a fork's early dialog (not leg[0] or leg[1]). */
bool b2b_leg_is_fork(const struct b2b_leg *leg);
/* @p code to the caller, every fork cancelled; the call ends once they have. */
void b2b_cancel_b(struct b2bua_call *c, unsigned code, enum b2bua_end why);

/* prack.c: RFC 3262 on each leg */
void b2b_rel_init(struct b2bua_call *c, const struct sip_msg *invite);
/* An 18x for the caller: @return true if sent (or queued) reliably. */
bool b2b_rel_provisional(struct b2bua_call *c, const char *msg, size_t len);
/* No more reliable 18x (final sent, call ending): retransmissions stop. */
void b2b_rel_stop(struct b2bua_call *c);
/* The caller's PRACK on @p leg (side A). */
void b2b_rel_prack(struct b2b_leg *leg, struct sip_tsx *st, const struct sip_msg *req);
/* A callee's 18x on fork @p f: PRACKs it when reliable. @return false: a retransmission. */
bool b2b_rel_fork_18x(struct b2bua_call *c, struct b2b_fork *f, const struct sip_msg *resp);
/* Whether response @p resp is a reliable 18x (RSeq, Require: 100rel). */
bool b2b_rel_is_reliable(const struct sip_msg *resp);
/* Whether @p m carries option tag @p tag in a header @p id. */
bool b2b_has_option(const struct sip_msg *m, enum sip_hdr_id id, struct strv tag);

#endif
