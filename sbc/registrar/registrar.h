/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file registrar.h  The local registrar (RFC 3261 §10.3) over the location service.
 *
 * REGISTER handling, in the order of RFC 3261 §10.3:
 *  - To must hold a SIP/SIPS URI with a user (the address-of-record), else 404.
 *  - Require: no extension is supported (no path, no outbound): 420 with
 *    Unsupported listing the tags.
 *  - Authentication (digest.h): credentials are looked for in the
 *    Authorization headers whose realm is ours. Without them: 401 with one
 *    WWW-Authenticate per algorithm, SHA-256 first (RFC 8760 §2.4), both with
 *    the same nonce. Malformed credentials, an algorithm or qop that was not
 *    offered, a digest-uri other than the Request-URI: 400. A wrong password
 *    and an unknown user both get 401 with a fresh challenge (the response
 *    does not tell which: the same hashing runs for an unknown user) and count
 *    as a failure of the source address. Right credentials with a nonce that
 *    expired, is not ours, or whose nc was seen: 401 stale=true.
 *  - The authenticated user must be the AOR's (To user@host): 403.
 *  - Contacts: "*" needs Expires: 0 and no other Contact (else 400) and
 *    removes every binding; otherwise each Contact's expires parameter, else
 *    the Expires header, else default_expires; 0 removes the binding, other
 *    values below min_expires get 423 with Min-Expires (nothing changes),
 *    values above max_expires are shortened to it. Call-ID/CSeq ordering per
 *    step 7: a binding with the request's Call-ID and a CSeq not lower fails
 *    the whole request with 500. All or nothing.
 *  - 200 lists every current binding of the AOR (RFC 3261 §10.3 step 8), each
 *    with ;expires= (seconds left), ;q= when given, +sip.instance and reg-id
 *    when given, and a Date header. A REGISTER without Contact is a query:
 *    the same 200, nothing changed.
 *  - Limits: more new bindings than max_contacts_per_aor in one request, or
 *    more than LOCATION_MAX_BINDINGS Contacts: 403; a new AOR beyond max_aors:
 *    503 (see location.h for what happens when an AOR is full).
 *
 * Realm: conf.realm when set; otherwise each domain is its own realm (the To
 * host in lower case), so an HA1 given in the configuration must be computed
 * with that realm. A user belongs to one domain (registrar_user.domain), or,
 * without one, to every domain (single-tenant setups where phones name the
 * SBC by address or by any name: the AOR is still the To user@host).
 *
 * Failed authentications are counted per source address (IP, no port) in a
 * fixed table (REGISTRAR_FAIL_SLOTS, set-associative; a full set forgets the
 * source that failed longest ago) and logged at most once per source per
 * interval. Bans and rate limits are policy's, later.
 *
 * Responses go back by the flow the request came by; each binding remembers
 * that flow (location.h) so that requests to a NATed UA reuse it.
 *
 * Not thread-safe: a registrar belongs to the thread that runs its timers.
 *
 * Relay mode (relay.h, registrar_relay_start): REGISTERs are forwarded to an
 * upstream registrar with the SBC as Contact and refreshes answered from a
 * cache; no local users or digest then (the upstream authenticates, the UA's
 * credentials pass through). Departures from the first design note: a
 * refresh is answered from the cache only when it comes by the cached flow
 * (else a spoofed REGISTER with the right Call-ID could move the binding
 * without credentials), and the cache holds while the upstream registration
 * outlives the UA's new one by refresh_margin, so that it never lapses
 * between two UA refreshes.
 */
#ifndef SBC_REGISTRAR_REGISTRAR_H
#define SBC_REGISTRAR_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"
#include "location.h"

struct timers;
struct sip_msg;
struct sip_flow;
struct sip_tsx;
struct registrar;

/** One user of the database; strings are copied by registrar_alloc. */
struct registrar_user {
	const char *username; /**< the user part of the AOR and the digest username */
	/** the AOR's domain; NULL: any domain (then conf.realm must be set) */
	const char *domain;
	const char *password; /**< cleartext; NULL when the HA1s below are given */
	/** hex H(username ":" realm ":" password) per algorithm; used when password is NULL */
	const char *ha1_md5;
	const char *ha1_sha256;
};

/** Settings; zero fields take the defaults. */
struct registrar_conf {
	const struct registrar_user *users;
	unsigned nusers;
	const char *realm;	       /**< NULL: the To domain is the realm */
	uint32_t min_expires;	       /**< seconds; default 60 */
	uint32_t max_expires;	       /**< seconds; default 3600 */
	uint32_t default_expires;      /**< seconds, when the REGISTER says none; default 3600 */
	uint32_t nonce_ttl;	       /**< seconds a nonce is accepted; default 300 */
	uint16_t max_contacts_per_aor; /**< default 10 */
	uint32_t max_aors;	       /**< default 100000 */
	uint32_t replay_slots;	       /**< digest nc table entries; default 4096 */
	const char *nonce_secret;      /**< shared by nodes that accept each other's nonces;
					    NULL: random at start */
	bool no_md5;		       /**< offer and accept SHA-256 only */
	bool no_sha256;		       /**< offer and accept MD5 only */
	uint32_t log_interval_ms;      /**< per-source log rate limit; default 10000 */
};

/** Failed authentications of one source address. */
struct registrar_auth_fail {
	struct sa addr; /**< port 0 */
	uint64_t count;
	uint64_t last_ms; /**< timers clock */
};

#define REGISTRAR_FAIL_SLOTS 1024

struct registrar_stats {
	uint32_t aors;
	uint32_t bindings;
	uint64_t requests;	/**< REGISTERs handled */
	uint64_t ok;		/**< 200 sent */
	uint64_t challenged;	/**< 401 to requests without (our) credentials */
	uint64_t auth_failures; /**< wrong password or unknown user */
	uint64_t stale;		/**< 401 stale=true: nonce expired or not ours */
	uint64_t replays;	/**< 401 stale=true: nonce+nc seen before */
	uint64_t rejected;	/**< other 4xx, 5xx */
	uint64_t expired;	/**< bindings removed by their timer */
	uint64_t replaced;	/**< bindings removed because their AOR was full */
};

/**
 * @param ts the thread's timers (expiry and the clock of nonces); must outlive
 *        the registrar.
 * @return 0, -EINVAL (logged: no realm for a user, a user twice, no
 *         credentials, an HA1 that is not hex of the right length, both
 *         algorithms disabled, min > max expires) or -ENOMEM.
 */
int registrar_alloc(struct registrar **rp, struct timers *ts, const struct registrar_conf *conf);
void registrar_free(struct registrar *r);

/**
 * Handles REGISTER @p req that came by @p flow: applies it to the location
 * service and builds the response into @p out.
 * @return the response length, -EINVAL (not a REGISTER, or no Via to answer
 *         by) or -ENOBUFS (@p size too small).
 */
long registrar_handle_message(struct registrar *r, const struct sip_msg *req,
			      const struct sip_flow *flow, char *out, size_t size);

/**
 * registrar_handle_message on server transaction @p st (whose destination is
 * a struct sip_flow: sip_tsx_conf.dest_size = sizeof(struct sip_flow)), the
 * response sent with sip_tsx_respond. @return 0 or a negative errno (the
 * transaction is then terminated).
 */
int registrar_handle(struct registrar *r, struct sip_tsx *st, const struct sip_msg *req);

/**
 * Contacts of @p user@@p domain for routing a request to a registered user,
 * best first (location_lookup). Valid until the registrar next changes. In
 * relay mode @p user must be a key the relay registered upstream as Contact
 * (relay.h); AORs are not looked up.
 */
unsigned registrar_lookup(const struct registrar *r, struct strv user, struct strv domain,
			  const struct location_contact **out, unsigned max);

/** A TCP/TLS connection closed: drops the bindings that lived on it. @return how many. */
unsigned registrar_flow_closed(struct registrar *r, uint64_t conn_id);

void registrar_stats(const struct registrar *r, struct registrar_stats *st);

/** The registrar's location service (for location_set_hooks, location_remove). */
struct location *registrar_location(struct registrar *r);

/** Failed authentications counted for @p src (its address; the port is ignored). */
uint64_t registrar_auth_failures(const struct registrar *r, const struct sa *src);

/**
 * The sources with failed authentications, most failures first.
 * @return how many were stored in @p out.
 */
unsigned registrar_auth_fail_list(const struct registrar *r, struct registrar_auth_fail *out,
				  unsigned max);

#endif
