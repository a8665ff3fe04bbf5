/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file uri.h  SIP, SIPS and TEL URIs (RFC 3261 §19, §25; RFC 3966), zero-copy.
 */
#ifndef SBC_SIP_URI_H
#define SBC_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/str.h"

enum sip_uri_scheme {
	SIP_URI_SIP = 1,
	SIP_URI_SIPS,
	SIP_URI_TEL,
};

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct strv user;     /**< still %-escaped; for tel: the number */
	struct strv password;
	struct strv host;     /**< without brackets for IPv6 references */
	bool host_ipv6;       /**< host was an IPv6 reference "[...]" */
	uint16_t port;        /**< 0 when absent */
	struct strv params;   /**< ";a=b;lr" including the leading ';', or empty */
	struct strv headers;  /**< "?a=b&c=d" including the '?', or empty */
	/* frequently used parameters, already looked up */
	struct strv transport;
	struct strv maddr;
	struct strv user_param; /**< user=phone */
	bool lr;
};

/** @return 0 or -EINVAL. The text must be the URI only (no <>, no header params). */
int sip_uri_parse(struct sip_uri *u, struct strv text);

/**
 * RFC 3261 §19.1.4 comparison: scheme, user and password case-sensitive after
 * unescaping, host case-insensitive, port/transport/ttl/user/method/maddr must
 * match when present in either, other parameters only when in both, headers
 * all must match.
 */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/**
 * Looks up @p name in a parameter string ";a=b;c" (names case-insensitive).
 * @param value set to the value, empty for a parameter without '='.
 * @return true if present.
 */
bool sip_param_get(struct strv params, struct strv name, struct strv *value);

#endif
