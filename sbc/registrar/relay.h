/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file relay.h  Relay mode of the registrar: REGISTER forwarded to an upstream
 * registrar with the SBC as Contact, and registration caching.
 *
 * Per address-of-record (AOR) the relay keeps one upstream registration that
 * stands for every contact the UA registered here:
 *  - Identity toward upstream: a Call-ID and From tag made once per AOR and
 *    kept across refreshes, a CSeq that increments, a fresh Via branch per
 *    request, all of the form of the B2BUA's identifiers (dialog.h: instance,
 *    shard, random). The Contact is sip:<key>@<core address>, key an opaque
 *    identifier of the same form that names the AOR here. To and From carry
 *    the AOR (the UA's To URI); the Request-URI is the UA's (the digest-uri
 *    of the UA's credentials must match it, RFC 7616 §3.4.6). Nothing else of
 *    the UA's request crosses: no Via, Call-ID, tag, branch, Contact, address
 *    or port (topology hiding), except Authorization and Proxy-Authorization,
 *    copied as they are: the SBC never holds the upstream password.
 *  - A REGISTER from the UA is answered from the cache (nothing goes
 *    upstream) when the AOR has an upstream registration, no upstream
 *    REGISTER is in flight, and the request is a refresh of what is cached:
 *    same Call-ID, same set of contact URIs, none removed, from the same flow
 *    (source address, port, transport and connection: a request from
 *    elsewhere is authenticated upstream before it may move the binding),
 *    and the upstream registration outlives the binding granted now by at
 *    least refresh_margin (registrar_relay_decide). Anything else goes
 *    upstream, with Expires 0 when the request leaves no binding (Contact: *
 *    or every contact removed), else upstream_expires.
 *  - Upstream 2xx: the UA's contacts are stored in the location service with
 *    the flow they came by and an expiry of min(asked, endpoint_expires,
 *    granted upstream) (registrar_relay_local_expires); the UA gets 200 with
 *    its bindings. 401/407: relayed with the upstream's challenge headers,
 *    nothing changes. A timeout: 504; a transport error, 5xx, 423 (about
 *    upstream_expires, not the UA's business) or the pacer (max_per_sec
 *    upstream REGISTERs): 503 with Retry-After; any other final status is
 *    relayed as is. Nothing of a request is stored (Request-URI, To,
 *    credentials) before its 2xx: until then it is unauthenticated. After a
 *    failure other than a challenge of a request from the binding's own flow
 *    (or of an AOR not bound), the local bindings are dropped (no stale
 *    binding routes calls) and the watch unregisters upstream. A failure of a
 *    request from elsewhere changes nothing: anyone can send a REGISTER for
 *    any AOR, and its 403 or timeout says nothing about the bound UA. After
 *    a challenge the AOR's state is kept for 64*T1, so that the
 *    UA's retry goes upstream on the same Call-ID with the next CSeq.
 *  - The AOR is watched on a timer at its latest local expiry, and at once
 *    when one of its bindings is removed (keep-alives failed, its connection
 *    closed): once no binding is left the relay unregisters upstream
 *    (Expires: 0), without credentials: the SBC holds none of its own, and
 *    the UA's last ones would be replayed (stale nonce count). A registrar
 *    that accepts it drops our Contact; one that challenges it (401/407) or
 *    fails it is not retried: counted in unreg_failed, and the upstream
 *    binding left to expire (upstream_expires bounds that).
 *  - Requests from upstream toward sip:<key>@... are routed to the AOR's
 *    contacts over their flows: registrar_lookup resolves keys, and only
 *    keys (a call to an AOR goes by routing to the core, which calls the key
 *    back: phones never reach each other around the upstream).
 *
 * One upstream REGISTER per AOR and slot at a time: a UA REGISTER that
 * arrives while its slot is in flight gets 500 with Retry-After (a UA waits
 * for the final response before it sends new contacts, RFC 3261 §10.2). A
 * bound AOR has two slots: one for its binding's flow (and the watch), one
 * for every other source (a phone that moved, or anyone), so that no other
 * source can hold off the bound UA's refreshes. The second slot has its own
 * upstream Call-ID and CSeq (no CSeq race between the two; RFC 3261 §10.3
 * lets a REGISTER of another Call-ID update the same Contact), which becomes
 * the AOR's on a 2xx. An AOR not bound has one slot, for anyone.
 *
 * Pacing: at most max_per_sec UA REGISTERs forwarded per second, and of them
 * at most max_per_source from one source address (a table of 256 token
 * buckets keyed by a seeded hash of the address; a colliding source takes
 * the slot over with a full bucket), both answered 503 with Retry-After.
 *
 * Not thread-safe: one relay per shard, on its timers and transaction layer.
 */
#ifndef SBC_REGISTRAR_RELAY_H
#define SBC_REGISTRAR_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"
#include "sbc/sip/transport.h"

struct registrar;
struct registrar_relay;
struct sip_tsx_layer;
struct sip_tsx;
struct sip_msg;
struct sip_transport;
struct timers;

/** Settings; zero fields take the defaults. */
struct registrar_relay_conf {
	struct sa upstream;	   /**< the upstream registrar (required) */
	enum sip_proto proto;	   /**< toward it */
	const char *contact_host;  /**< host[:port] of our Via and Contact; NULL: the listener's */
	uint32_t endpoint_expires; /**< seconds granted to UAs; default 60 */
	uint32_t upstream_expires; /**< seconds asked upstream; default 3600 */
	uint32_t refresh_margin;   /**< seconds; default 120 */
	uint32_t max_per_sec;	   /**< upstream REGISTERs per second; default 100 */
	uint32_t max_per_source;   /**< of them per source address; default 20 */
	uint8_t shard;		   /**< encoded in the identifiers we make */
};

struct registrar_relay_stats {
	uint32_t aors;	      /**< AORs with relay state */
	uint64_t forwarded;   /**< REGISTERs sent upstream for a UA */
	uint64_t cached;      /**< UA REGISTERs answered from the cache */
	uint64_t challenges;  /**< 401/407 relayed to UAs */
	uint64_t failures;    /**< timeouts, transport errors, 5xx, other errors */
	uint64_t paced;	      /**< refused by the pacer (503) */
	uint64_t src_paced;   /**< refused by the per-source pacer (503) */
	uint64_t busy;	      /**< refused: an upstream REGISTER of the AOR in flight */
	uint64_t unregisters; /**< sent upstream because no local binding was left */
	uint64_t unreg_failed;
};

/**
 * Puts @p r in relay mode: its REGISTERs go upstream over @p tsx (whose
 * destinations are struct sip_flow) through a listener of @p tp of the
 * upstream's transport and family, preferring one named "core".
 * @return 0, -EINVAL (no upstream, no such listener, bad contact_host,
 *         endpoint_expires above upstream_expires) or -ENOMEM.
 */
int registrar_relay_start(struct registrar *r, struct sip_tsx_layer *tsx, struct sip_transport *tp,
			  const struct registrar_relay_conf *conf);

/**
 * registrar_relay_start with the flow toward upstream given (@p dest: remote,
 * local, listener, proto), e.g. by tests without a transport.
 */
int registrar_relay_start_flow(struct registrar *r, struct sip_tsx_layer *tsx,
			       const struct sip_flow *dest,
			       const struct registrar_relay_conf *conf);

void registrar_relay_stats(const struct registrar *r, struct registrar_relay_stats *st);

/**
 * Whether @p user has the form of a key this relay made (registered or not
 * any more): a request to it must not be routed anywhere else (404).
 */
bool registrar_relay_is_key(const struct registrar *r, struct strv user);

/* --- the decisions, pure (unit tests) ------------------------------------ */

/** What a UA REGISTER needs. */
enum registrar_relay_action {
	RELAY_FORWARD,	  /**< send upstream (refresh or new registration) */
	RELAY_UNREGISTER, /**< send upstream with Expires: 0 */
	RELAY_CACHED,	  /**< answer from the cache */
	RELAY_BUSY,	  /**< an upstream REGISTER of the AOR is in flight */
};

/** What the cache knows and what the request asks, for registrar_relay_decide. */
struct registrar_relay_view {
	bool bound;   /**< an upstream registration exists */
	bool pending; /**< an upstream REGISTER is in flight */
	uint64_t now_ms;
	uint64_t up_expires_ms; /**< when the upstream registration ends */
	uint32_t grant_s;	/**< what the UA would be granted now */
	uint32_t margin_s;
	bool leaves_none;  /**< after the request no binding is left */
	bool same_call_id; /**< Call-ID of the cached registration */
	bool same_flow;
	bool same_contacts; /**< the same contact URIs, none removed */
};

enum registrar_relay_action registrar_relay_decide(const struct registrar_relay_view *v);

/** Seconds granted to the UA: min(asked, endpoint, granted upstream); 0 stays 0. */
uint32_t registrar_relay_local_expires(uint32_t asked, uint32_t endpoint, uint32_t granted);

/** A token bucket of @p rate per second, on the caller's clock. */
struct registrar_relay_pacer {
	uint32_t rate;
	uint32_t tokens;
	uint64_t second; /**< the current second (now_ms / 1000) */
};

/** Takes one token at @p now_ms. @return true if allowed. */
bool registrar_relay_pace(struct registrar_relay_pacer *p, uint64_t now_ms);

#endif
