/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file uri.h  SIP, SIPS and TEL URIs (RFC 3261 §19, §25; RFC 3966), zero-copy.
 *
 * The parser follows the ABNF: userinfo with escapes and the user-unreserved
 * set ('#' is admitted in the user part, as telephone-subscriber allows it),
 * host = hostname / IPv4address / IPv6reference, port 0..65535, uri-parameters
 * and headers. Every field is a view into the parsed text, which need not be
 * NUL-terminated; nothing is allocated or copied. A parameter name given twice
 * (compared case-insensitively after unescaping) is refused, as are more than
 * 64 parameters or 64 headers, so that comparison stays well defined and bounded.
 *
 * tel: URIs (RFC 3966) fill user with the number ("+1-201-555-0123" or a local
 * number, which must carry phone-context) and params with its parameters.
 */
#ifndef SBC_SIP_URI_H
#define SBC_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/str.h"

enum sip_uri_scheme {
	SIP_URI_OTHER = 0, /**< a well-formed absoluteURI of another scheme (see sip_uri_parse) */
	SIP_URI_SIP = 1,
	SIP_URI_SIPS,
	SIP_URI_TEL,
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct strv user;     /**< still %-escaped; for tel: the number */
	struct strv password; /**< still %-escaped; see has_password (it may be empty) */
	bool has_password;    /**< "user:...@", even "user:@" */
	struct strv host;     /**< without brackets for IPv6 references; empty for tel: */
	bool host_ipv6;	      /**< host was an IPv6 reference "[...]" */
	bool has_port;	      /**< a port was written (even ":0") */
	uint16_t port;	      /**< 0 when absent */
	struct strv params;   /**< ";a=b;lr" including the leading ';', or empty */
	struct strv headers;  /**< "?a=b&c=d" including the '?', or empty */
	/* frequently used parameters, already looked up */
	struct strv transport;
	struct strv maddr;
	struct strv user_param; /**< user=phone */
	bool lr;		/**< lr present, with or without a value */
};

/**
 * Parses a sip:, sips: or tel: URI (scheme in any case). Parameter values in
 * the fields above are still %-escaped; parameter names are recognised after
 * unescaping ("%6C%72" is lr).
 * The text must be the URI only (no <>, no header params, no blanks).
 * @return 0; -EPROTONOSUPPORT for a well-formed absoluteURI of another scheme
 *         (u->scheme is then SIP_URI_OTHER and every other field empty: answer
 *         416 to such a Request-URI); -EINVAL otherwise (u is then zeroed).
 */
int sip_uri_parse(struct sip_uri *u, struct strv text);

/**
 * RFC 3261 §19.1.4 comparison: scheme, user and password case-sensitive after
 * unescaping, host case-insensitive, port/transport/ttl/user/method/maddr must
 * match when present in either, other parameters only when in both, headers
 * all must match.
 *
 * Escapes: a character other than a reserved one equals its %HH form; an
 * escaped reserved character ("%40") differs from the literal one ("@").
 * IPv6 references compare as addresses (RFC 5954 §4.1: [::1] equals [0::1]).
 * Parameter values compare case-insensitively, header values case-sensitively,
 * headers as a multiset (order does not matter, names in any case).
 * tel: URIs compare per RFC 3966 §4 (visual separators ignored, same parameter
 * set, case-insensitive). SIP_URI_OTHER URIs are never equal.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/**
 * Looks up @p name in a parameter string ";a=b;c" (names case-insensitive,
 * compared as written: no unescaping). Works on URI parameters (sip_uri.params)
 * and on header parameters (sip_addr.params, sip_via.params), which may have
 * blanks around ';' and '=' and quoted-string values. Stops at the first
 * malformed parameter.
 * @param value set to the value as written (a quoted-string with its quotes),
 *        empty for a parameter without '='; may be NULL.
 * @return true if present.
 */
bool sip_param_get(struct strv params, struct strv name, struct strv *value);

#endif
