/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file routes.h  Static call routing to trunks, for destinations that are not registered users.
 *
 * A table is built once from a plain configuration struct (struct routes_conf), checked as a
 * whole (a bad setting refuses the table with a message), and is read-only afterwards: lookups
 * from any number of threads need no lock. A reload builds a new table and swaps the pointer.
 *
 * Trunks: a name, an address ("host", "host:port", an IPv4 or IPv6 address with optional port),
 * a transport, a default weight and an optional Request-URI host to write into requests sent
 * to the trunk.
 *
 * Routes match on the Request-URI:
 *  - domain: exact host, ASCII case-insensitive ("example.com"), or a suffix "*.example.com",
 *    which matches "a.example.com" and "a.b.example.com" but not "example.com" itself. An
 *    IPv4 or IPv6 address matches exactly (IPv6 as an address: "[0::1]" equals "::1"), never
 *    as a suffix. NULL, "" or "*": any domain. One trailing dot is ignored.
 *  - prefix: '+' and/or digits ("+4930", "0049", "+"), up to ROUTES_PREFIX_MAX characters,
 *    matched against the start of the Request-URI user read as a number (see below). NULL or "":
 *    any user, number or not.
 * A route that sets both requires both. The user reads as a number when, up to the first ';'
 * (telephone-subscriber parameters), after %-unescaping and dropping the visual separators
 * "-.()", it holds only an optional leading '+' and then digits, '*' and '#'; "alice" or
 * "123abc" are not numbers and only match routes without prefix.
 *
 * Precedence: the most specific domain first, then the longest prefix within it. The lookup
 * tries, in order, the routes of the exact domain, those of each matching "*." suffix from the
 * longest to the shortest, and those without domain; within each of these domains, the route
 * with the longest matching prefix, else the one without prefix. The first hit is the route.
 * So sip:+4930123@partner.example goes to a route for domain "partner.example" (with a
 * matching prefix or none) before any route for "+49" without domain, and a number the
 * partner's routes do not cover falls back to the routes without domain. At most one route per
 * (domain, prefix) pair; lookups cost O(log n) per prefix length present, no scan.
 *
 * Each route lists trunks with a priority (lower first) and an optional weight overriding the
 * trunk's. routes_lookup() returns the failover order: the priority groups in order, within a
 * group a weighted random order (a trunk of weight w comes first with probability w / sum of
 * the group's weights, then the same among those left).
 */
#ifndef SBC_ROUTING_ROUTES_H
#define SBC_ROUTING_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"
#include "sbc/sip/transport.h"

/** Longest prefix, in characters ('+' included). */
#define ROUTES_PREFIX_MAX 32
/** Most trunks one route may list. */
#define ROUTES_MAX_ROUTE_TRUNKS 32
/** Largest weight (trunk or route entry). */
#define ROUTES_WEIGHT_MAX 65535
/** Longest domain or host name. */
#define ROUTES_DOMAIN_MAX 253

/* ---- configuration: plain structs, strings owned by the caller, copied by routes_build ---- */

struct routes_trunk_conf {
	const char *name;      /**< unique, required */
	const char *address;   /**< "host", "host:port", "192.0.2.1[:port]", "[2001:db8::1]:port" */
	const char *transport; /**< "udp" (NULL or "": udp), "tcp", "tls"; any case */
	unsigned weight;       /**< default weight in routes, 1..ROUTES_WEIGHT_MAX; 0: 1 */
	const char *ruri_host; /**< Request-URI host rewrite towards this trunk; NULL or "": keep */
};

struct routes_member_conf {
	const char *trunk; /**< a trunk name */
	unsigned priority; /**< lower is tried first; equal priorities form a weighted group */
	unsigned weight;   /**< 0: the trunk's weight; else 1..ROUTES_WEIGHT_MAX */
};

struct routes_route_conf {
	const char *name;   /**< for messages and routes_lookup(); optional */
	const char *domain; /**< see the file comment; NULL, "" or "*": any */
	const char *prefix; /**< see the file comment; NULL or "": any */
	const struct routes_member_conf *trunks;
	unsigned ntrunks; /**< 1..ROUTES_MAX_ROUTE_TRUNKS */
};

struct routes_conf {
	const struct routes_trunk_conf *trunks;
	unsigned ntrunks;
	const struct routes_route_conf *routes;
	unsigned nroutes;
};

/* ---- the table ---- */

/** A trunk as built: read-only, valid until routes_free() of its table. */
struct routes_trunk {
	const char *name;
	const char *host; /**< host name or IP address (without brackets), as configured */
	uint16_t port;	  /**< 0: none configured (resolve by DNS SRV, or the default port) */
	enum sip_proto proto;
	/** set when host is an IP address; its port is port or else 5060 (5061 for TLS) */
	struct sa addr;
	const char *ruri_host; /**< NULL: keep the Request-URI host */
	unsigned weight;
	unsigned index; /**< position in routes_conf.trunks */
};

struct routes;

/**
 * Builds a table from @p conf (every string is copied: @p conf may go afterwards).
 * @return 0; -EINVAL with a message in @p err ("route [3] 'de': unknown trunk 'x'",
 *         "trunk [0] 'a': bad address ..."; routes and trunks are named by their index in
 *         @p conf and their name); -ENOMEM.
 */
int routes_build(struct routes **tp, const struct routes_conf *conf, char *err, size_t errlen);

/** Frees the table (NULL is fine). Pointers returned by lookups die with it. */
void routes_free(struct routes *t);

unsigned routes_trunk_count(const struct routes *t);
/** Trunk @p i in configuration order, or NULL. */
const struct routes_trunk *routes_trunk_get(const struct routes *t, unsigned i);
/** The trunk named @p name (case-sensitive), or NULL. */
const struct routes_trunk *routes_trunk_find(const struct routes *t, struct strv name);

/**
 * A source of uniformly distributed 32-bit numbers. It must be safe for the calling thread
 * (routes_rand_splitmix with a per-thread or per-call state is).
 */
typedef uint32_t(routes_rand_h)(void *arg);

/** splitmix64 on the uint64_t that @p arg points to: fast, seedable, not cryptographic. */
uint32_t routes_rand_splitmix(void *arg);

/**
 * Finds the route for a Request-URI and returns its trunks in failover order.
 * @param ruri_user the Request-URI user as parsed (still %-escaped; for tel: the number)
 * @param ruri_host the Request-URI host (empty for tel: URIs: only routes without domain)
 * @param out receives up to @p max trunks: priority groups in order, weighted random order
 *        within each
 * @param rnd random source for the weighted order; NULL: an internal per-thread generator
 * @param route_name if not NULL, set to the matched route's name ("" when it has none)
 * @return the number of trunks written (the route's count, truncated to @p max), or -ENOENT
 *         when no route matches.
 */
int routes_lookup(const struct routes *t, struct strv ruri_user, struct strv ruri_host,
		  const struct routes_trunk **out, unsigned max, routes_rand_h *rnd, void *rnd_arg,
		  const char **route_name);

/**
 * Whether a final response (or the lack of one) from a trunk means "try the next trunk":
 *  - 0 (no response: transaction timeout, transport error, connection refused): yes;
 *  - 408 Request Timeout: yes (the trunk, or the path to it, did not answer in time);
 *  - 5xx, 503 Service Unavailable included: yes (the trunk failed or is overloaded);
 *  - any other 4xx (404, 480, 484, 486, 487 ...), 6xx: no, the answer is about the callee
 *    and another trunk would give the same one: relay it;
 *  - 1xx, 2xx and 3xx (see routes_should_redirect): no.
 */
bool routes_should_failover(int status);

/**
 * Whether a 3xx is to be followed: 300 Multiple Choices, 301 Moved Permanently and 302 Moved
 * Temporarily are; 305 Use Proxy (a redirect to a proxy of the callee's choosing) and 380
 * Alternative Service are not. Targets must go through routes_lookup() and the caller's
 * policy again: a redirect from a trunk must never reach a destination a caller could not
 * have dialled directly (toll fraud).
 */
bool routes_should_redirect(int status);

/** Most distinct targets a redirect chain remembers. */
#define ROUTES_REDIRECT_MAX_SEEN 32

/**
 * Bounded redirect following for one call: at most max_hops 3xx responses followed, and no
 * target tried twice. Targets compare by scheme, user (unescaped), host (case-insensitive),
 * port (absent = 5060, 5061 for sips) and transport parameter; tel: by the number without
 * visual separators. Plain struct: put it in the call.
 */
struct routes_redirect {
	unsigned max_hops;
	unsigned hops;
	unsigned nseen;
	uint64_t seen[ROUTES_REDIRECT_MAX_SEEN];
};

/**
 * Starts a chain at the original Request-URI, which counts as seen.
 * @param max_hops 0 refuses every redirect.
 * @return 0, or -EINVAL for a Request-URI that is not sip:, sips: or tel: (the chain then
 *         starts empty).
 */
int routes_redirect_init(struct routes_redirect *r, unsigned max_hops, struct strv ruri);

/** Counts one 3xx about to be followed. @return 0, or -ELOOP once max_hops is exceeded. */
int routes_redirect_hop(struct routes_redirect *r);

/**
 * Checks one Contact URI of a 3xx and, if new, records it as seen.
 * @return 0 (try it); -ELOOP (tried already in this chain); -EINVAL (not a sip:, sips: or tel:
 *         URI); -ENOSPC (ROUTES_REDIRECT_MAX_SEEN targets already seen).
 */
int routes_redirect_target(struct routes_redirect *r, struct strv uri);

#endif
