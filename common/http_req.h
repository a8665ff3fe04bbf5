/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file http_req.h  The head of an HTTP/1.x request (RFC 9112), as a small server needs it.
 *
 * Zero-copy: the views point into the caller's buffer. Strict where it matters for framing
 * (request line, header syntax, Content-Length), so that a request is never mistaken for
 * another; bodies are not parsed, only announced (has_body).
 */
#ifndef SBC_HTTP_REQ_H
#define SBC_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "str.h"

struct http_req {
	struct strv method; /**< "GET", "POST", ... (case-sensitive, RFC 9110 9.1) */
	struct strv target; /**< "/metrics?x=1": origin-form, starts with '/' */
	struct strv path;   /**< target without the query */
	unsigned minor;	    /**< HTTP/1.<minor>: 0 or 1 */
	bool conn_close;    /**< "Connection: close", or HTTP/1.0 */
	bool has_body;	    /**< Content-Length other than 0, or Transfer-Encoding */
};

/**
 * Parses the request head at the start of @p buf (empty lines before it are skipped).
 * @return the length of the head including its empty line, 0 when it is not complete yet,
 *         or -EINVAL when the bytes cannot be an HTTP/1.0 or 1.1 request.
 */
int http_req_parse(struct http_req *r, const char *buf, size_t len);

#endif
