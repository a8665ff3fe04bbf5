/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An address one thread publishes and another reads without a lock: a sequence lock over
 * atomic words. The writer (the worker, when a latch moves: rare) makes the sequence odd,
 * stores the words, makes it even; the reader retries while it saw an odd or changed sequence.
 * Every access is atomic, so there is no data race even when a read overlaps a write.
 */
#ifndef SBC_DATAPLANE_SOCKETS_PUB_ADDR_H
#define SBC_DATAPLANE_SOCKETS_PUB_ADDR_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "common/sa.h"

/* sockaddr_in6 (the larger of the two families) and the length, as 64-bit words */
#define PUB_ADDR_WORDS ((sizeof(struct sockaddr_in6) + sizeof(socklen_t) + 7) / 8)

struct pub_addr {
	atomic_uint seq;
	_Atomic uint64_t w[PUB_ADDR_WORDS];
};

static inline void pub_addr_init(struct pub_addr *p)
{
	atomic_init(&p->seq, 0);
	for (size_t i = 0; i < PUB_ADDR_WORDS; i++)
		atomic_init(&p->w[i], 0);
}

/** Writer side: only one thread ever writes a given pub_addr. */
static inline void pub_addr_store(struct pub_addr *p, const struct sa *sa)
{
	uint64_t w[PUB_ADDR_WORDS] = { 0 };
	unsigned seq = atomic_load_explicit(&p->seq, memory_order_relaxed);

	memcpy(w, &sa->u.in6, sizeof(sa->u.in6));
	memcpy((unsigned char *)w + sizeof(sa->u.in6), &sa->len, sizeof(sa->len));
	atomic_store_explicit(&p->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < PUB_ADDR_WORDS; i++)
		atomic_store_explicit(&p->w[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&p->seq, seq + 2, memory_order_release);
}

/** Reader side. @return false (and @p sa unset) if the writer kept it busy: practically never. */
static inline bool pub_addr_load(struct pub_addr *p, struct sa *sa)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t w[PUB_ADDR_WORDS];
		unsigned s1 = atomic_load_explicit(&p->seq, memory_order_acquire), s2;

		for (size_t i = 0; i < PUB_ADDR_WORDS; i++)
			w[i] = atomic_load_explicit(&p->w[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&p->seq, memory_order_relaxed);
		if (s1 != s2 || (s1 & 1))
			continue;
		sa_init(sa);
		memcpy(&sa->u.in6, w, sizeof(sa->u.in6));
		memcpy(&sa->len, (unsigned char *)w + sizeof(sa->u.in6), sizeof(sa->len));
		if (sa->len > sizeof(sa->u.in6))
			sa_init(sa);
		return true;
	}
	sa_init(sa);
	return false;
}

#endif
