/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file hdr.h  Parsers for the structured header values a B2BUA needs.
 *
 * Each takes one header entry's value (a view; see sip_hdr.value) and fills a
 * struct of views into it. Values may contain folded lines (CRLF followed by a
 * space or tab), which count as blanks. @return 0 or -EINVAL.
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
	uint16_t port;         /**< 0 when absent */
	struct strv params;    /**< ";branch=...;rport" with the leading ';' */
	struct strv branch;
	struct strv received;
	bool rport;            /**< rport present (with or without value) */
	uint16_t rport_value;  /**< 0 when rport has no value */
	struct strv maddr;
};
int sip_via_parse(struct sip_via *v, struct strv value);

/**
 * name-addr / addr-spec with header parameters: From, To, Contact, Route,
 * Record-Route, Refer-To, Reply-To (RFC 3261 §20.10, §20.20, §20.39).
 * For addr-spec without <>, parameters after the URI belong to the header.
 */
struct sip_addr {
	bool star;          /**< Contact: * */
	struct strv display; /**< without quotes; may contain \-escapes */
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

/** A decimal header value (Content-Length, Max-Forwards, Expires, RSeq, ...) no larger than @p max. */
int sip_uint_parse(struct strv value, uint32_t max, uint32_t *out);

/**
 * Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate
 * (RFC 3261 §20.7 with RFC 2617/7616 digest): the scheme and its parameters;
 * quoted values are given without quotes (escapes kept).
 */
struct sip_auth {
	struct strv scheme; /**< "Digest" */
	struct strv username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc,
		stale, domain;
	bool userhash;
};
int sip_auth_parse(struct sip_auth *a, struct strv value);

/** Option tags of Supported / Require / Unsupported: does one entry equal @p tag? */
bool sip_option_tag_eq(struct strv value, struct strv tag);

#endif
