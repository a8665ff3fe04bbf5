/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file hdr.h  Parsers for the structured header values a B2BUA needs.
 *
 * Each takes one header entry's value (a view; see sip_hdr.value) and fills a
 * struct of views into it. Values may contain folded lines (CRLF followed by a
 * space or tab), which count as blanks. The value need not be NUL-terminated,
 * nothing is allocated, and on error the struct is left zeroed.
 * Header parameters follow RFC 3261 §25 generic-param (blanks allowed around
 * ';' and '='); a parameter name given twice is refused, as are more than 64.
 * @return 0 or -EINVAL (sip_uint_parse also -ERANGE).
 */
#ifndef SBC_SIP_HDR_H
#define SBC_SIP_HDR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/str.h"
#include "msg.h"
#include "uri.h"

/** Via (RFC 3261 §20.42, RFC 3581 rport). */
struct sip_via {
	struct strv transport; /**< "UDP", "TCP", "TLS", ... */
	struct strv host;      /**< sent-by host, no brackets */
	bool host_ipv6;
	bool has_port;	    /**< a port was written (even ":0") */
	uint16_t port;	    /**< 0 when absent */
	struct strv params; /**< ";branch=...;rport" with the leading ';' */
	struct strv branch;
	struct strv received; /**< as written: IPv4, IPv6, or [IPv6] */
	bool rport;	      /**< rport present (with or without value) */
	uint16_t rport_value; /**< 0 when rport has no value */
	struct strv maddr;
};
/**
 * One via-parm (the message parser has split the list): "SIP/2.0/UDP host:port;params",
 * blanks allowed around the slashes and the colon. The version must be 2.0;
 * branch must be a token, received an address, rport and ttl numbers, maddr a host.
 */
int sip_via_parse(struct sip_via *v, struct strv value);

/**
 * name-addr / addr-spec with header parameters: From, To, Contact, Route,
 * Record-Route, Refer-To, Reply-To (RFC 3261 §20.10, §20.20, §20.39).
 * For addr-spec without <>, parameters after the URI belong to the header,
 * and such a URI must not contain ',' or '?' (RFC 3261 §20.10).
 * A URI of another scheme (absoluteURI, e.g. <http://x>) is accepted with
 * uri.scheme == SIP_URI_OTHER and only uri_text set. The display name may be a
 * quoted-string or tokens separated by blanks; no blanks inside <>.
 * tag must be a token, expires 1*DIGIT, q a qvalue.
 */
struct sip_addr {
	bool star;	      /**< Contact: * */
	struct strv display;  /**< without quotes; may contain \-escapes and folded blanks */
	struct strv uri_text; /**< the URI as written, without <> */
	struct sip_uri uri;
	struct strv params; /**< header parameters ";tag=x;expires=60" with the leading ';' */
	struct strv tag;
	struct strv expires; /**< Contact expires parameter */
	struct strv q;
};
int sip_addr_parse(struct sip_addr *a, struct strv value);

/** CSeq (RFC 3261 §20.16): a 32-bit number and a method. */
struct sip_cseq {
	uint32_t seq;
	enum sip_method method;
	struct strv method_name;
};
int sip_cseq_parse(struct sip_cseq *c, struct strv value);

/** RAck (RFC 3262 §7.2): response-num, CSeq-num, method. */
struct sip_rack {
	uint32_t rseq;
	uint32_t cseq;
	enum sip_method method;
	struct strv method_name;
};
int sip_rack_parse(struct sip_rack *r, struct strv value);

/**
 * A decimal header value (Content-Length, Max-Forwards, Expires, RSeq, ...) no
 * larger than @p max; blanks around it are fine.
 * @return 0, -EINVAL (not 1*DIGIT) or -ERANGE (a number above @p max: RFC 4475
 *         §3.1.2.3 lets some headers be treated as absent then).
 */
int sip_uint_parse(struct strv value, uint32_t max, uint32_t *out);

/**
 * Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate
 * (RFC 3261 §20.7 with RFC 2617/7616 digest): the scheme and its parameters;
 * quoted values are given without quotes (escapes kept). Parameters are
 * auth-param = token EQUAL ( token / quoted-string ), comma-separated; names
 * any case; unknown ones skipped; a name given twice refused. A scheme other
 * than Digest may instead carry one token68 (RFC 7235, e.g. Bearer, RFC 8898).
 */
struct sip_auth {
	struct strv scheme; /**< "Digest" */
	struct strv username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc,
	    stale, domain;
	bool userhash;	     /**< userhash=true (RFC 7616) */
	struct strv token68; /**< non-Digest schemes only: "Bearer <token68>" */
};
int sip_auth_parse(struct sip_auth *a, struct strv value);

/**
 * Option tags of Supported / Require / Unsupported: does one entry equal @p tag?
 * @p value may be one entry or a comma-separated list; tags compare in any case
 * (they are tokens, RFC 3261 §7.3.1).
 */
bool sip_option_tag_eq(struct strv value, struct strv tag);

#endif
