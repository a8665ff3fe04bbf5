/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file print.h  Builds an outgoing SIP message into one caller-supplied buffer.
 *
 * The caller prints the start line, then headers in the order they should
 * appear, then the body (which adds Content-Length and the empty line), then
 * calls sip_print_finish(). Like the bencode encoder, every put either fits
 * whole or writes nothing and sets the sticky `overflow` flag, after which
 * every put is a no-op: a message is built without checking each call, and
 * the buffer never holds a torn line.
 *
 * The printer is also the last line of defence against header injection:
 * a header name must be a token and a value may contain CR or LF only as a
 * fold (CRLF followed by SP or HT), a request method must be a token and a
 * Request-URI or reason phrase may hold no CR, LF or (URI) blank. Anything
 * else sets the sticky `invalid` flag and writes nothing; finish then fails.
 * Values copied from a parsed message (struct sip_hdr) pass unchanged.
 *
 * Nothing is allocated. Not thread-safe per buffer (one builder per message).
 */
#ifndef SBC_SIP_PRINT_H
#define SBC_SIP_PRINT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"
#include "msg.h"

struct sip_pbuf {
	char *p;
	size_t len;
	size_t cap;
	bool overflow; /**< sticky: something did not fit */
	bool invalid;  /**< sticky: a put was refused (injection, bad status, misuse) */
	bool ended;    /**< the body (and so the empty line) was printed */
};

static inline void sip_print_init(struct sip_pbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
	b->invalid = false;
	b->ended = false;
}

/** "METHOD Request-URI SIP/2.0" CRLF. */
void sip_print_request_line(struct sip_pbuf *b, struct strv method, struct strv ruri);
/** The same with a known method (SIP_METHOD_OTHER is refused: use the strv form). */
void sip_print_request_line_m(struct sip_pbuf *b, enum sip_method method, struct strv ruri);
/**
 * "SIP/2.0 code reason" CRLF; an empty @p reason takes sip_status_reason().
 * @p code must be 100..699.
 */
void sip_print_status_line(struct sip_pbuf *b, unsigned code, struct strv reason);

/** Default reason phrase of a status code (RFC 3261 §21 and extensions), "" if unknown. */
const char *sip_status_reason(unsigned code);

/** "Name: value" CRLF with the canonical name of a known header (not SIP_HDR_OTHER). */
void sip_print_hdr(struct sip_pbuf *b, enum sip_hdr_id id, struct strv value);
/** "Name: value" CRLF with any token as name. */
void sip_print_hdr_name(struct sip_pbuf *b, struct strv name, struct strv value);
/** "Name: <decimal>" CRLF (Max-Forwards, Expires, RSeq, ...). */
void sip_print_hdr_uint(struct sip_pbuf *b, enum sip_hdr_id id, uint64_t value);
/** printf-style value for a known header. */
void sip_print_hdrf(struct sip_pbuf *b, enum sip_hdr_id id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** printf-style value for any header name (a NUL-terminated token). */
void sip_print_hdrf_name(struct sip_pbuf *b, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** How a copied header entry's name is written. */
enum sip_print_name {
	SIP_PRINT_NAME_ASIS = 0,  /**< as the sender wrote it (compact or not, its case) */
	SIP_PRINT_NAME_CANONICAL, /**< the long canonical name for known headers */
	SIP_PRINT_NAME_COMPACT,	  /**< the compact form where one exists, else canonical */
};

/**
 * Copies one entry of a parsed message verbatim: "Name: value" CRLF with the
 * entry's value (one list element is one line). Unknown headers always keep
 * their name as written.
 */
void sip_print_copy(struct sip_pbuf *b, const struct sip_hdr *h, enum sip_print_name mode);
/** Copies every entry with @p id, in message order, one line each. */
void sip_print_copy_all(struct sip_pbuf *b, const struct sip_msg *m, enum sip_hdr_id id,
			enum sip_print_name mode);

/** Appends bytes as they are (already formatted header lines); not checked. */
void sip_print_raw(struct sip_pbuf *b, struct strv raw);

/**
 * Ends the header section: "Content-Type: @p content_type" CRLF when the body
 * is not empty and @p content_type is, "Content-Length: n" CRLF, the empty
 * line, then the body. Every message ends with exactly one call of this.
 */
void sip_print_body(struct sip_pbuf *b, struct strv content_type, struct strv body);

/**
 * @return the message length, or -ENOBUFS if anything overflowed, -EINVAL if
 *         a put was refused or sip_print_body() was not called exactly once.
 */
static inline long sip_print_finish(const struct sip_pbuf *b)
{
	if (b->overflow)
		return -ENOBUFS;
	if (b->invalid || !b->ended)
		return -EINVAL;
	return (long)b->len;
}

#endif
