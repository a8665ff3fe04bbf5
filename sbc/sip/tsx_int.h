/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the transaction layer: tsx.c (layer, table, matching, shared
 * helpers), ctsx.c (client machines), stsx.c (server machines).
 *
 * Timers. A transaction never needs more than two timers at once, so it has
 * two slots, named by role:
 *   tr  retransmission: A (client INVITE Calling), E (client non-INVITE),
 *       G (server INVITE Completed), the 100 Trying delay (server INVITE
 *       Proceeding);
 *   tm  timeout or lifetime: B, F, H (failures), D, I, J, K, L, M (lingering
 *       to absorb retransmissions), the RFC 3261 §9.1 guard of a cancelled
 *       client INVITE.
 * Both are stopped when the transaction enters Terminated.
 *
 * Holds. Every entry point that may call a handler (reception, timers, TU
 * calls) holds the transaction around its work: tsx_terminate() only unlinks
 * it, and the memory goes with the last release. So a handler may terminate
 * the transaction that is reporting to it.
 */
#ifndef SBC_SIP_TSX_INT_H
#define SBC_SIP_TSX_INT_H

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "common/timer.h"
#include "hdr.h"
#include "tsx.h"

/* The magic cookie of RFC 3261 branches (§8.1.1.7), compared case-sensitively. */
#define TSX_COOKIE     "z9hG4bK"
#define TSX_COOKIE_LEN 7

/*
 * What identifies a transaction; the views point into the transaction's own
 * var[] area (copied at creation).
 *   client:              branch, method (CSeq method of the responses)
 *   server, cookie:      branch, host/port (sent-by), method
 *   server, RFC 2543:    ruri, to_tag, from_tag, call_id, cseq, via (top Via
 *                        value as written), method
 * method_name is set only for SIP_METHOD_OTHER.
 */
struct tsx_key {
	struct strv branch;
	struct strv host;
	struct strv method_name;
	struct strv ruri, to_tag, from_tag, call_id, via;
	uint32_t cseq;
	uint16_t port;
	enum sip_method method;
	bool rfc2543;
};

struct sip_tsx {
	struct sip_tsx *hnext; /* hash chain */
	struct sip_tsx **hpprev;
	uint64_t hash;
	struct sip_tsx_layer *l;
	const struct sip_tsx_handlers *h;
	void *arg;
	struct timer tr; /* retransmission, see above */
	struct timer tm; /* timeout / lifetime */
	char *buf;	 /* client: request, then the ACK; server: last response */
	size_t len;
	size_t cap;
	uint32_t rt_ms; /* current retransmission interval of tr */
	uint16_t hold;
	uint8_t state; /* enum sip_tsx_state */
	bool client;
	bool reliable;
	bool ack_ready;	     /* client INVITE: buf holds the ACK, no more the INVITE */
	bool cancel_pending; /* client INVITE: cancel on the first 1xx */
	bool cancelled;	     /* client INVITE: CANCEL sent */
	bool trying_pending; /* server INVITE: buf holds a 100 Trying not sent yet */
	struct tsx_key key;
	alignas(max_align_t) unsigned char var[]; /* dest, then the key's strings */
};

/* Hash table keyed by branch (RFC 2543: Call-ID); grows by incremental rehash. */
struct tsx_table {
	struct sip_tsx **cur;
	struct sip_tsx **old; /* table being emptied into cur, NULL when not rehashing */
	uint32_t cur_mask;
	uint32_t old_mask;
	uint32_t moved; /* old[0 .. moved) are empty */
	uint32_t count;
};

struct sip_tsx_layer {
	struct timers *ts;
	struct sip_tsx_conf conf; /* defaults applied */
	uint64_t hkey[2];	  /* SipHash key: branches come from the network */
	struct tsx_table tab;
	struct sip_tsx_stats stats;
};

/* Output into a buffer sized by a first, measuring pass (p == NULL). */
struct tsx_out {
	char *p;
	size_t len;
};

static inline void out_mem(struct tsx_out *o, const char *s, size_t n)
{
	if (o->p && n)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void out_str(struct tsx_out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static inline void out_strv(struct tsx_out *o, struct strv s)
{
	out_mem(o, s.p, s.len);
}

void out_u32(struct tsx_out *o, uint32_t v);
/* "name: value\r\n" */
void out_hdr(struct tsx_out *o, const char *name, struct strv value);

typedef void(tsx_print_h)(struct tsx_out *o, const void *ctx);
/* Measures, allocates (malloc) and prints. @return 0 or -ENOMEM. */
int tsx_print(char **bufp, size_t *lenp, tsx_print_h *print, const void *ctx);

/* Common machinery (tsx.c). */
uint64_t tsx_hash(const struct sip_tsx_layer *l, struct strv s);
int tsx_alloc(struct sip_tsx_layer *l, struct sip_tsx **tp, const struct tsx_key *k,
	      const void *dest, bool reliable, bool client);
void tsx_link(struct sip_tsx *t);
void tsx_destroy(struct sip_tsx *t);
struct sip_tsx *tsx_find_client(struct sip_tsx_layer *l, struct strv branch, enum sip_method method,
				struct strv method_name);

static inline void tsx_hold(struct sip_tsx *t)
{
	t->hold++;
}

void tsx_release(struct sip_tsx *t);

/* Enters Terminated: stops timers, unlinks, calls term_h. Idempotent. */
void tsx_terminate(struct sip_tsx *t);
/* err_h(err), then Terminated. */
void tsx_fail(struct sip_tsx *t, int err);
/* Sends through the layer; 0 also for a datagram lost to a transient error. */
int tsx_send(struct sip_tsx *t, const char *buf, size_t len);
/* Re-sends a stored message from an asynchronous context; fails @p t on error. */
void tsx_resend(struct sip_tsx *t);
/* Copies @p buf into t->buf, growing it. @return 0 or -ENOMEM. */
int tsx_store(struct sip_tsx *t, const char *buf, size_t len);
void tsx_drop_buf(struct sip_tsx *t);
/* Starts one of t's timers; on failure the transaction fails with -ENOMEM. */
int tsx_start(struct sip_tsx *t, struct timer *tmr, uint64_t delay_ms, timer_h *h);
/* Stays for @p delay_ms to absorb retransmissions (D, I, J, K, L, M), then ends; 0: ends now. */
void tsx_linger(struct sip_tsx *t, uint64_t delay_ms);
void tsx_stop_timers(struct sip_tsx *t);

static inline uint64_t tsx_64t1(const struct sip_tsx *t)
{
	return 64 * (uint64_t)t->l->conf.t1_ms;
}

static inline const void *tsx_dest_of(const struct sip_tsx *t)
{
	return t->var;
}

/* Client machines (ctsx.c) and server machines (stsx.c). */
void ctsx_recv(struct sip_tsx *t, const struct sip_msg *m);
int stsx_create(struct sip_tsx_layer *l, const struct tsx_key *k, const struct sip_msg *m,
		const void *dest, bool reliable);
void stsx_recv(struct sip_tsx *t, const struct sip_msg *m, const void *dest, bool reliable);

#endif
