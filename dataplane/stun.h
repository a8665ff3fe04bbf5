/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file stun.h  STUN (RFC 5389 / RFC 8489) as a relay needs it: recognise, check and answer
 * binding requests.
 *
 * A relay port receives RTP, RTCP and, from ICE endpoints, STUN. stun_is_stun() tells them
 * apart from the first bytes (RFC 7983). Binding requests get a success response with
 * XOR-MAPPED-ADDRESS; with MESSAGE-INTEGRITY (HMAC-SHA1 over the local ICE password) and
 * FINGERPRINT when the request carried them and the credentials are known. Bad requests get
 * 400, wrong credentials 401, unknown comprehension-required attributes 420 (with
 * UNKNOWN-ATTRIBUTES), or are dropped when no answer is possible. No allocation; the caller
 * owns every buffer. Shared by both dataplane backends.
 */
#ifndef SBC_DATAPLANE_STUN_H
#define SBC_DATAPLANE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"

#define STUN_HEADER_LEN	  20
#define STUN_MAGIC_COOKIE 0x2112A442u

/** Whether @p buf looks like STUN: first byte 0..3 (RFC 7983) and the magic cookie. */
bool stun_is_stun(const uint8_t *buf, size_t len);

enum stun_outcome {
	STUN_DROP = 0,	   /**< no answer (not a request, or unanswerable) */
	STUN_ANSWERED,	   /**< success response written */
	STUN_ERROR_ANSWER, /**< error response written (400, 401, 420) */
};

/** What the relay knows of the flow a request arrived on. */
struct stun_creds {
	const char *local_ufrag; /**< "" or NULL when unknown: no integrity check possible */
	const char *local_pwd;
};

/** The longest response stun_answer() writes (a 420 with every extra attribute). */
#define STUN_RESPONSE_MAX 160

/**
 * Answers the request in @p req (from @p src) into @p out.
 *
 * @p out doubles as scratch for checking MESSAGE-INTEGRITY (the check hashes a copy of the
 * request with its length field adjusted): give it max(@p len, STUN_RESPONSE_MAX) bytes, or
 * requests that do not fit are dropped. @p req and @p out must not overlap.
 * @return the outcome; *@p outlen is the response length when one was written.
 */
enum stun_outcome stun_answer(const uint8_t *req, size_t len, const struct sa *src,
			      const struct stun_creds *creds, uint8_t *out, size_t outsize,
			      size_t *outlen);

#endif
