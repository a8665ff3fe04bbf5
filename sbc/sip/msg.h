/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file msg.h  SIP messages: a zero-copy parser and its header index (RFC 3261 §7, §20, §25).
 *
 * sip_msg_parse() makes one pass over the receive buffer and builds an index of
 * every header: its id (compact and long names, case-insensitive), name and
 * value as views into the buffer, in message order. Header lists are split at
 * top-level commas (outside quotes and <>), so each Via, Contact or Route
 * element is its own entry; headers that are not lists (e.g. the
 * Authorization family, whose values contain commas) are never split. Folded
 * lines stay in the value view; the value parsers treat CRLF+WSP as blank.
 * Nothing is allocated and nothing is copied: the message is valid as long as
 * the buffer is. Structured values (Via, From/To, CSeq, ...) are parsed on
 * demand by the functions in hdr.h and uri.h.
 *
 * A message that cannot be a SIP message (bad start line, no mandatory header,
 * a Content-Length that lies, limits exceeded) is refused with the status code
 * and reason a server should answer with (400, 413, 505, 513), so that the
 * transport can reply without parsing it again.
 */
#ifndef SBC_SIP_MSG_H
#define SBC_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

enum sip_method {
	SIP_METHOD_OTHER = 0, /**< an extension method: see sip_msg.method_name */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_INFO,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
};

/** Method from its name (case-sensitive, as RFC 3261 says). */
enum sip_method sip_method_from_name(struct strv name);
/** Canonical name, "" for SIP_METHOD_OTHER. */
const char *sip_method_name(enum sip_method m);

/** Headers the SBC knows by id; everything else is SIP_HDR_OTHER (look up by name). */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ALLOW,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,             /* i */
	SIP_HDR_CONTACT,             /* m */
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING,    /* e */
	SIP_HDR_CONTENT_LENGTH,      /* l */
	SIP_HDR_CONTENT_TYPE,        /* c */
	SIP_HDR_CSEQ,
	SIP_HDR_EVENT,               /* o */
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,                /* f */
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RACK,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,            /* r */
	SIP_HDR_REFERRED_BY,         /* b */
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_RSEQ,
	SIP_HDR_SERVER,
	SIP_HDR_SESSION_EXPIRES,     /* x */
	SIP_HDR_SUBJECT,             /* s */
	SIP_HDR_SUPPORTED,           /* k */
	SIP_HDR_TO,                  /* t */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,                 /* v */
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_COUNT
};

/** Canonical long name of a known header ("Call-ID"), NULL for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);
/** Id from a header name, long or compact, any case. */
enum sip_hdr_id sip_hdr_id_from_name(struct strv name);

/** One header entry: one line, or one element of a comma-separated list. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct strv name;  /**< as written (may be compact, any case) */
	struct strv value; /**< trimmed; may contain folded CRLF+WSP */
	uint16_t next;     /**< index+1 of the next entry with the same id, 0 = last */
	uint16_t line;     /**< index of the header line it came from (list elements share it) */
};

/** Limits; zero fields take the defaults. */
struct sip_limits {
	uint32_t max_msg_size; /**< whole message; default 65535 (413 beyond) */
	uint16_t max_headers;  /**< entries; default SIP_MAX_HDRS (the hard cap) */
	uint16_t max_hdr_len;  /**< one header line incl. folding; default 8192 (513/400 beyond) */
};

#define SIP_MAX_HDRS 128

/** Why a message was refused: the status to answer with and a static reason. */
struct sip_parse_error {
	uint16_t status; /**< 400, 413, 505 or 513; 0 if not answerable at all */
	const char *reason; /**< e.g. "Missing Call-ID header" */
	size_t offset;      /**< where in the buffer */
};

struct sip_msg {
	const char *buf;
	size_t len; /**< bytes that belong to the message (start line to end of body) */
	bool is_request;

	/* request line */
	enum sip_method method;
	struct strv method_name;
	struct strv ruri;

	/* status line */
	uint16_t status;
	struct strv reason;

	struct strv version; /**< "SIP/2.0" */

	struct sip_hdr hdrs[SIP_MAX_HDRS];
	uint16_t nhdrs;
	uint16_t first[SIP_HDR_COUNT]; /**< index+1 of the first entry per id, 0 = none */

	/* shortcuts to the mandatory headers, checked by the parser */
	struct strv call_id;
	uint32_t cseq;
	enum sip_method cseq_method;
	struct strv cseq_method_name;
	struct strv body;
};

/**
 * Parses one message starting at @p buf. On a datagram, @p len is its size and
 * Content-Length (if any) must not exceed what follows the headers. On a
 * stream, frame first with sip_msg_frame().
 * @return 0, or -EINVAL / -EMSGSIZE / -EPROTONOSUPPORT with @p err filled.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, const struct sip_limits *lim,
		  struct sip_parse_error *err);

/**
 * Stream framing (RFC 3261 §18.3): finds where the message that starts at
 * @p buf ends, from the blank line and Content-Length.
 * @return the message length, 0 if more bytes are needed, or a negative errno
 *         (-EINVAL: no Content-Length on a stream, or not a number;
 *          -EMSGSIZE: larger than @p max).
 */
long sip_msg_frame(const char *buf, size_t len, size_t max);

/** First entry with @p id, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	return m->first[id] ? &m->hdrs[m->first[id] - 1] : NULL;
}

/** Next entry with the same id as @p h, or NULL. */
static inline const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *m,
						     const struct sip_hdr *h)
{
	return h->next ? &m->hdrs[h->next - 1] : NULL;
}

/** First entry whose name is @p name (any case; compact forms of known headers match too). */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct strv name);

/** Number of entries with @p id. */
unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id);

#endif
