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
 * and reason a server should answer with (400, 413, 414, 505, 513), so that the
 * transport can reply without parsing it again.
 *
 * What the parser checks, and what it leaves to the value parsers:
 *  - Start line. Request-Line = Method SP Request-URI SP SIP-Version; runs of
 *    SP between the elements and SP/HT before the CRLF are tolerated (RFC 4475
 *    §3.1.2.9 and §3.1.2.10 allow a liberal element to accept them, and a
 *    B2BUA never forwards a start line verbatim). The method is a token; the
 *    Request-URI is "scheme:" followed by characters a URI may contain (no
 *    blanks, controls, non-ASCII, or <>"{}|\^`); the version is SIP/2.0 (the
 *    "SIP" in any case), another SIP/x.y is 505. Status-Line = SIP-Version SP
 *    3DIGIT SP Reason-Phrase, the code 100..699, the reason may be empty.
 *  - Lines end with CRLF only. A bare CR or bare LF anywhere in the start line
 *    or the header section is refused (400): RFC 3261 §7 requires CRLF, and a
 *    parser that guessed at line ends would see other headers than the next
 *    hop does. CRLFs before the start line are skipped (RFC 3261 §7.5).
 *  - Header line: token name, optional blanks, ':', value up to the CRLF that
 *    is not followed by SP/HT (folded lines continue the value). The value is
 *    trimmed of blanks and folds at both ends; bytes inside it are not checked
 *    (quoted-pair admits controls, e.g. RFC 4475 intmeth).
 *  - List headers (Via, Contact, Route, Record-Route, Allow, Supported,
 *    Require, Proxy-Require, Unsupported, Accept, Content-Encoding) are split
 *    at commas outside quoted strings and <>; an empty element (",," or a
 *    trailing comma) is refused, an entirely empty value is one empty entry.
 *    These and From/To must have balanced quotes and <>.
 *  - Single-valued headers (Call-ID, CSeq, From, To, Max-Forwards,
 *    Content-Length, Content-Type) given twice with different values: 400.
 *  - Mandatory: To, From, Call-ID, CSeq, Via in requests and responses.
 *    Max-Forwards is NOT required: a proxy passes a request without it
 *    (RFC 3261 §16.3 step 3), and RFC 4475 §3.4.1 asks RFC 3261 elements to
 *    accept RFC 2543 requests, which have none. When present it must be
 *    0..255 (RFC 3261 §20.22). Call-ID must have no blanks; CSeq is a 32-bit
 *    number and a method that, in a request, equals the request method.
 *  - Content-Length (RFC 3261 §18.3, datagrams): the body is what follows the
 *    empty line; a Content-Length larger than that is refused, a smaller one
 *    truncates the body (the rest of the datagram is ignored). Without
 *    Content-Length the body is the rest of the datagram. A message without the
 *    empty line is refused (a truncated datagram must not pass as complete).
 *
 * Status codes: 400 malformed; 505 another SIP version (requests);
 * 414 start line longer than max_hdr_len (requests); 513 Message Too Large
 * (RFC 3261 §21.5.14) for a header section over max_msg_size, a header line
 * over max_hdr_len or more than max_headers entries - limits of this server,
 * not errors of the sender; 413 Request Entity Too Large (§21.4.11) when the
 * header section fits but the body takes the message over max_msg_size.
 * Responses are never answered: their refusals carry status 0 (and the reason).
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
	SIP_HDR_CALL_ID, /* i */
	SIP_HDR_CONTACT, /* m */
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING, /* e */
	SIP_HDR_CONTENT_LENGTH,	  /* l */
	SIP_HDR_CONTENT_TYPE,	  /* c */
	SIP_HDR_CSEQ,
	SIP_HDR_EVENT, /* o */
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM, /* f */
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RACK,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,    /* r */
	SIP_HDR_REFERRED_BY, /* b */
	SIP_HDR_REQUIRE,
	SIP_HDR_ROUTE,
	SIP_HDR_RSEQ,
	SIP_HDR_SERVER,
	SIP_HDR_SESSION_EXPIRES, /* x */
	SIP_HDR_SUBJECT,	 /* s */
	SIP_HDR_SUPPORTED,	 /* k */
	SIP_HDR_TO,		 /* t */
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA, /* v */
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_COUNT
};

/** Canonical long name of a known header ("Call-ID"), NULL for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);
/** Id from a header name, long or compact, any case. */
enum sip_hdr_id sip_hdr_id_from_name(struct strv name);
/** Compact form of a known header ('i' for Call-ID), or 0 if it has none. */
char sip_hdr_compact(enum sip_hdr_id id);
/** Whether the parser splits this header's value at top-level commas. */
bool sip_hdr_is_list(enum sip_hdr_id id);

/** One header entry: one line, or one element of a comma-separated list. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct strv name;  /**< as written (may be compact, any case) */
	struct strv value; /**< trimmed; may contain folded CRLF+WSP */
	uint16_t next;	   /**< index+1 of the next entry with the same id, 0 = last */
	uint16_t line;	   /**< index of the header line it came from (list elements share it) */
};

/** Limits; zero fields take the defaults. */
struct sip_limits {
	/** whole message; default 65535 (513 or 413 beyond, see above) */
	uint32_t max_msg_size;
	/** entries; default and hard cap SIP_MAX_HDRS (513 beyond) */
	uint16_t max_headers;
	/** one line with its folds; default 8192 (513; 414 for a start line) */
	uint16_t max_hdr_len;
};

#define SIP_MAX_HDRS		 128
#define SIP_DEFAULT_MAX_MSG_SIZE 65535
#define SIP_DEFAULT_MAX_HDR_LEN	 8192

/** Why a message was refused: the status to answer with and a static reason. */
struct sip_parse_error {
	uint16_t status;    /**< 400, 413, 414, 505 or 513; 0 if not answerable (a response, or no
			       start line) */
	const char *reason; /**< e.g. "Missing Call-ID header" */
	size_t offset;	    /**< where in the buffer */
};

struct sip_msg {
	const char *buf; /**< the start line (leading CRLFs of the input skipped) */
	size_t len;	 /**< bytes that belong to the message (start line to end of body) */
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
 * @param lim NULL for the defaults.
 * @param err may be NULL.
 * @return 0, or -EINVAL (malformed: 400), -EMSGSIZE (limits: 413, 414, 513) or
 *         -EPROTONOSUPPORT (505) with @p err filled. After a failure, the
 *         entries indexed before the failing point are valid (m->nhdrs,
 *         first[], next), so that a 400 can still copy Via, From, To, Call-ID
 *         and CSeq when they were read; the shortcuts are not.
 */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, const struct sip_limits *lim,
		  struct sip_parse_error *err);

/**
 * Stream framing (RFC 3261 §18.3): finds where the frame that starts at
 * @p buf ends. A frame is either one message (start line to the end of its
 * body, from the empty line and Content-Length, compact "l" too) or, when
 * @p buf starts with CR or LF, the run of CR/LF bytes there: keep-alives
 * (RFC 5626 §3.5.1 "\r\n\r\n" ping, "\r\n" pong) and the CRLFs RFC 3261
 * §7.5 says to ignore before a start line. The caller consumes every frame;
 * sip_msg_frame_is_keepalive() tells the two apart.
 * The header section is scanned again on every call (keep per-connection
 * state above this if peers may trickle large headers byte by byte).
 * @param max the largest message accepted (e.g. sip_limits.max_msg_size).
 * @return the frame length, 0 if more bytes are needed, or a negative errno
 *         (-EINVAL: no Content-Length on a stream, two that differ, or one
 *          that is not a number; -EMSGSIZE: larger than @p max).
 */
long sip_msg_frame(const char *buf, size_t len, size_t max);

/** Whether a frame returned by sip_msg_frame() is a run of keep-alive CR/LF bytes. */
static inline bool sip_msg_frame_is_keepalive(const char *buf, long framelen)
{
	return framelen > 0 && (buf[0] == '\r' || buf[0] == '\n');
}

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
