/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file http_metrics.h  The Prometheus scrape endpoint: a minimal HTTP/1.1 server on the loop.
 *
 * Answers "GET /metrics" (and HEAD) with 200 and the text that the daemon's callback writes
 * through a metrics writer (metrics.h), "Content-Type: text/plain; version=0.0.4". Any other
 * path is 404, any other method 405, anything that is not an HTTP/1.0 or 1.1 request 400, a
 * request head longer than HTTP_METRICS_MAX_REQUEST 431. Requests with a body are answered and
 * the connection closed (a scrape has no body, so none is read).
 *
 * Keep-alive and pipelining: requests are answered in order, one response in flight per
 * connection; "Connection: close" or HTTP/1.0 closes after the response. Sockets are
 * non-blocking; nothing blocks the loop except the callback itself. A connection that does not
 * complete a request (or take its response) within the idle timeout is closed, so a slow
 * client holds a slot for a bounded time; at most max_conns connections are open, beyond that
 * new ones get a 503 and are closed. No threads: everything runs on the loop's thread, so the
 * callback may read the daemon's state without locks.
 */
#ifndef SBC_HTTP_METRICS_H
#define SBC_HTTP_METRICS_H

#include <stdint.h>

#include "metrics.h"
#include "sa.h"

struct loop;
struct http_metrics;

/** Longest request head (request line and headers) accepted. */
#define HTTP_METRICS_MAX_REQUEST 4096

/** Writes the current metrics; errors are left in @p w (metrics_writer_error). */
typedef void(http_metrics_h)(struct metrics_writer *w, void *arg);

struct http_metrics_opts {
	unsigned max_conns;  /**< 0: 16 */
	unsigned idle_ms;    /**< 0: 10000 */
	size_t max_response; /**< most bytes of metrics text; 0: 16 MiB (else 500) */
};

/**
 * Listens on @p addr (TCP; port 0 picks a free one, see http_metrics_port) and answers
 * scrapes with @p h. @p opts may be NULL for the defaults.
 * @return 0 or a negative errno (socket, bind, listen, loop registration).
 */
int http_metrics_alloc(struct http_metrics **hp, struct loop *l, const struct sa *addr,
		       const struct http_metrics_opts *opts, http_metrics_h *h, void *arg);

/** Closes the listener and every connection (responses in flight are dropped). NULL is fine. */
void http_metrics_free(struct http_metrics *hm);

/** The address actually bound (with the chosen port when 0 was asked). */
const struct sa *http_metrics_addr(const struct http_metrics *hm);

/** Connections open now (for tests and the daemon's own metrics). */
unsigned http_metrics_conns(const struct http_metrics *hm);

#endif
