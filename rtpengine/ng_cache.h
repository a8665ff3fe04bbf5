/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng_cache.h  The ng reply cache: a retransmitted command gets the same reply bytes.
 *
 * ng clients retransmit a command under the same cookie when the reply is late or lost; running
 * an offer twice would allocate ports twice. So every reply is kept, keyed by cookie, for a
 * while (Sipwise keeps them 30 s), and a command whose cookie is cached is answered from here
 * without running it. Bounded: at most @p cap entries and @p max_bytes of cookies and replies;
 * when full, the oldest go first.
 */
#ifndef SBC_RTPENGINE_NG_CACHE_H
#define SBC_RTPENGINE_NG_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

struct ng_cache;

int ng_cache_alloc(struct ng_cache **cp, uint32_t cap, size_t max_bytes, uint64_t ttl_ms);
void ng_cache_free(struct ng_cache *c);

/** The cached reply to @p cookie if one younger than the TTL exists, else an empty view. */
struct strv ng_cache_get(struct ng_cache *c, struct strv cookie, uint64_t now_ms);

/** Keeps @p reply for @p cookie (a copy of both). @return 0 or -ENOMEM. */
int ng_cache_put(struct ng_cache *c, struct strv cookie, struct strv reply, uint64_t now_ms);

#endif
