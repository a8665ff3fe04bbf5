/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng.h  The ng control protocol server: "<cookie> <bencode dict>" over UDP.
 *
 * Speaks the protocol of Sipwise rtpengine so that Kamailio's and OpenSIPS's
 * rtpengine modules, and our sbc, drive this daemon. Every datagram that
 * carries a cookie gets an answer: the command's result, or
 * `result: error` with an `error-reason`. Datagrams without a cookie cannot be
 * answered and are dropped (and counted).
 */
#ifndef SBC_RTPENGINE_NG_H
#define SBC_RTPENGINE_NG_H

#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"

struct loop;
struct ng_server;

struct ng_stats {
	uint64_t commands; /**< datagrams answered */
	uint64_t errors;   /**< answered with result: error */
	uint64_t dropped;  /**< no cookie: nobody to answer */
};

/** Binds the ng socket on @p addr. @return 0 or a negative errno. */
int ng_server_alloc(struct ng_server **sp, struct loop *l, const struct sa *addr);
void ng_server_free(struct ng_server *s);
const struct ng_stats *ng_server_stats(const struct ng_server *s);

/**
 * Answers one request datagram (the whole "<cookie> <dict>") into @p reply.
 * Exposed for tests and fuzzing.
 * @return the reply length, or -1 when the request cannot be answered.
 */
int ng_process(struct ng_server *s, const char *req, size_t len, char *reply, size_t reply_size);

#endif
