/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file location.h  The location service: address-of-record -> contacts (RFC 3261 §10).
 *
 * An AOR is keyed "user@domain": the user part unescaped (%HH) and compared
 * case-sensitively, the domain lower-cased (location_aor_key). AORs live in a
 * hash table sized at creation from max_aors (no rehash, no scan); each holds
 * at most max_contacts_per_aor contacts in a list kept sorted by q (highest
 * first; a contact without q counts as q=1.0), then by the time of the last
 * REGISTER (most recent first). Lookups return that order.
 *
 * Each contact owns copies of its URI, the Call-ID of the REGISTER that set
 * it, and the RFC 5626 +sip.instance / reg-id strings; it keeps the CSeq, the
 * absolute expiry on the timers' clock, and the flow the REGISTER came by (its
 * remote address is the received source address): requests toward a NATed
 * contact go back over that flow. Each contact has its own timer; an expired
 * contact is removed by its timer, and an AOR without contacts is freed, so
 * nothing is ever scanned. Lookups also skip contacts whose expiry has passed
 * but whose timer has not run yet.
 *
 * Binding identity (RFC 3261 §10.3 step 7, RFC 5626 §6): two contacts that
 * both carry +sip.instance are the same binding when instance and reg-id are
 * equal (the instance compared in any case); otherwise when their URIs are
 * equal by RFC 3261 §19.1.4 (sip_uri_equal; URIs of other schemes byte by byte).
 *
 * Updates are atomic (step 7: all or nothing): every check and allocation is
 * done before the first change.
 *
 * Full AOR (decision): when a REGISTER takes an AOR over max_contacts_per_aor,
 * the bindings that this REGISTER did not touch and that expire first are
 * removed (ties: lowest q first). A phone that rebooted with a new Contact
 * (a new rinstance, no +sip.instance) leaves a binding behind that will never
 * be refreshed; refusing the new registration would lock the user out until
 * the stale binding expires, while the binding that expires first is the one
 * refreshed longest ago. A REGISTER that alone brings more bindings than the
 * limit is refused (-E2BIG).
 *
 * Not thread-safe: one location service per thread (shard), on that thread's timers.
 */
#ifndef SBC_REGISTRAR_LOCATION_H
#define SBC_REGISTRAR_LOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"
#include "common/timer.h"
#include "sbc/sip/transport.h"
#include "sbc/sip/uri.h"

/** Longest AOR key "user@domain", NUL included. */
#define LOCATION_AOR_MAX 512
/** Most Contact entries one REGISTER may carry (refreshes, additions and removals). */
#define LOCATION_MAX_BINDINGS 64

struct location;
struct location_aor;

/**
 * One binding. The fields are read-only for users; pointers stay valid until
 * the location is next changed (a REGISTER, a timer, location_flow_closed).
 */
struct location_contact {
	const char *uri; /**< the Contact URI as registered (no <>), NUL-terminated */
	size_t uri_len;
	struct sip_uri puri;	/**< @ref uri parsed (scheme SIP_URI_OTHER if not SIP/SIPS/TEL) */
	uint64_t expires_ms;	/**< absolute, on the timers' clock */
	uint64_t registered_ms; /**< when the REGISTER that set it arrived */
	uint16_t q;		/**< 0..1000 (q * 1000) */
	bool has_q;		/**< q was given (echoed in responses only then) */
	const char *call_id;	/**< of the REGISTER that set it */
	uint32_t cseq;
	struct sip_flow flow; /**< the REGISTER's flow: flow.remote is the received address */
	const char *instance; /**< +sip.instance without the quotes, or NULL */
	const char *reg_id;   /**< reg-id, or NULL */
	/** owned by the hooks' user (location_set_hooks); NULL when the contact is created */
	void *user;

	/* private */
	struct location *loc;
	struct location_aor *aor;
	struct location_contact *next;	    /* in the AOR, sorted */
	struct location_contact *conn_next; /* same-connection chain (flow.conn_id != 0) */
	struct location_contact **conn_pprev;
	uint64_t gen; /* the REGISTER that created it */
	struct timer timer;
};

/** One Contact of a REGISTER, as the registrar read it (views into the request). */
struct location_binding {
	struct strv uri;    /**< URI text without <> */
	uint32_t expires_s; /**< 0 removes the binding */
	uint16_t q;	    /**< 0..1000 */
	bool has_q;
	struct strv instance; /**< +sip.instance value (quotes are stripped), or empty */
	struct strv reg_id;   /**< or empty */
};

/** Settings; zero fields take the defaults. */
struct location_conf {
	uint32_t max_aors;	       /**< default 100000 */
	uint16_t max_contacts_per_aor; /**< default 10, at most LOCATION_MAX_BINDINGS */
};

struct location_stats {
	uint32_t aors;
	uint32_t contacts;
	uint64_t expired;      /**< bindings removed by their timer */
	uint64_t replaced;     /**< bindings removed because their AOR was full */
	uint64_t refused_aors; /**< new AORs refused: max_aors reached */
	uint64_t flow_closed;  /**< bindings removed by location_flow_closed */
	uint64_t removed;      /**< bindings removed by location_remove */
};

/**
 * Told of a binding that was just added (@p added true), or that is about to
 * be removed (expiry, a REGISTER, a full AOR, location_flow_closed,
 * location_remove; not location_free). A refreshing REGISTER removes the old
 * binding and adds a new one. The hook must not change the location, except
 * that the remove hook may free what c->user points to.
 */
typedef void(location_contact_h)(void *arg, struct location_contact *c, bool added);

/** @return 0, -EINVAL (no timers) or -ENOMEM. @p ts must outlive the location. */
int location_alloc(struct location **lp, struct timers *ts, const struct location_conf *conf);
/** Frees every AOR and contact (cancelling their timers). NULL is fine. */
void location_free(struct location *loc);

/**
 * The normalized AOR key: @p user with %HH escapes decoded, "@", @p domain in
 * lower case, into @p out (LOCATION_AOR_MAX bytes). A domain alone (no user) is
 * allowed: the key is then "@domain".
 * @return the key length, or -EINVAL (empty domain, a bad escape or a NUL in
 *         the user) or -ENAMETOOLONG.
 */
int location_aor_key(struct strv user, struct strv domain, char *out);

/**
 * Applies the Contacts of one REGISTER to @p aor (a key from location_aor_key):
 * each binding is added, refreshed (expiry, q, flow, Call-ID, CSeq replaced)
 * or, with expires_s 0, removed. Bindings in @p b that are the same binding
 * take effect in order (the last one wins). The request's clock is the timers'.
 * @return 0; nothing is changed on error:
 *         -EPROTO  a binding has the request's Call-ID and a CSeq not lower
 *                  (RFC 3261 §10.3 step 7: the request fails, 500);
 *         -E2BIG   more than LOCATION_MAX_BINDINGS entries, or more new
 *                  bindings than max_contacts_per_aor;
 *         -ENOSPC  a new AOR and max_aors reached;
 *         -EINVAL  an empty URI or Call-ID, or a NUL in them; -ENOMEM.
 */
int location_register(struct location *loc, struct strv aor, struct strv call_id, uint32_t cseq,
		      const struct sip_flow *flow, const struct location_binding *b, unsigned n);

/**
 * Removes every binding of @p aor ("Contact: *", RFC 3261 §10.3 step 6). With
 * a Call-ID, a binding with that Call-ID and a CSeq not lower than @p cseq
 * makes the request fail (-EPROTO, nothing removed); an empty @p call_id
 * removes unconditionally (administrative purge).
 * @return the number of bindings removed, or -EPROTO.
 */
int location_unregister_all(struct location *loc, struct strv aor, struct strv call_id,
			    uint32_t cseq);

/**
 * The live contacts of @p aor, best first (q descending, then most recent),
 * at most @p max of them. @return how many were stored in @p out.
 */
unsigned location_lookup(const struct location *loc, struct strv aor,
			 const struct location_contact **out, unsigned max);

/**
 * Removes the bindings registered over TCP/TLS connection @p conn_id (when the
 * transport reports it closed: a NATed UA is unreachable without its flow).
 * @return how many were removed.
 */
unsigned location_flow_closed(struct location *loc, uint64_t conn_id);

void location_stats(const struct location *loc, struct location_stats *st);

/**
 * Sets the hook called when a binding is added or removed (NULL: none). Set it
 * before the first REGISTER: bindings already present are not reported.
 */
void location_set_hooks(struct location *loc, location_contact_h *h, void *arg);

/**
 * A second hook, for the location's owner (the registrar), so that it hears
 * of bindings whichever module holds location_set_hooks; called after that
 * one, under the same rules. NULL: none.
 */
void location_set_owner_hook(struct location *loc, location_contact_h *h, void *arg);

/** The AOR key of live contact @p c (valid while @p c is). */
struct strv location_contact_aor(const struct location_contact *c);

/**
 * Removes binding @p c (a live contact of @p loc), e.g. when its keep-alives
 * fail; the AOR goes with its last binding. @p c is invalid afterwards.
 */
void location_remove(struct location *loc, struct location_contact *c);

#endif
