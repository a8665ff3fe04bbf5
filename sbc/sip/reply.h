/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file reply.h  Responses to received requests (RFC 3261 §8.2.6, RFC 3581).
 */
#ifndef SBC_SIP_REPLY_H
#define SBC_SIP_REPLY_H

#include "common/str.h"
#include "msg.h"
#include "print.h"
#include "transport.h"

/**
 * Starts the response to @p req in @p b: the status line, every Via (the top
 * one with received= and rport= for @p flow, RFC 3581), From, To (with
 * @p to_tag appended when the request's To has no tag and @p code is not
 * 100), Call-ID and CSeq. The caller adds its headers and ends with
 * sip_print_body().
 *
 * Works on the partial index a failed parse leaves: only a Via is needed to
 * address a response (clients match on the Via branch and the CSeq method,
 * RFC 3261 §17.1.3), so "400 Missing Call-ID header" goes out without one.
 * @param reason empty for the standard phrase.
 * @return 0, or -EINVAL when the request has no Via.
 */
int sip_reply_begin(struct sip_pbuf *b, const struct sip_msg *req, const struct sip_flow *flow,
		    unsigned code, struct strv reason, struct strv to_tag);

/**
 * The top Via value of a response to a request received over @p dest (a
 * struct sip_flow): @p via with received= and rport= set as above, into
 * @p buf (not NUL-terminated). Fits sip_tsx_via_h (the 100 Trying).
 * @return its length, or -EINVAL (unparsable: copy it) / -ENAMETOOLONG.
 */
long sip_reply_via(const void *dest, struct strv via, char *buf, size_t size);

#endif
