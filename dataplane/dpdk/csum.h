/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Incremental Internet checksum update (RFC 1624, eqn. 3): HC' = ~(~HC + ~m + m').
 *
 * The one's complement sum does not depend on byte order (RFC 1071 2(B)), so words are taken
 * as they sit in the packet and the checksum field is read and written raw.
 */
#ifndef SBC_DATAPLANE_DPDK_CSUM_H
#define SBC_DATAPLANE_DPDK_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Adds to @p acc the change of @p len bytes (even) from @p old to @p new. */
static inline uint32_t csum_delta(uint32_t acc, const void *old, const void *new, size_t len)
{
	const uint8_t *o = old, *n = new;
	uint16_t wo, wn;

	for (size_t i = 0; i < len; i += 2) {
		memcpy(&wo, o + i, 2);
		memcpy(&wn, n + i, 2);
		acc += (uint16_t)~wo;
		acc += wn;
	}
	return acc;
}

/*
 * The sum is the same over 32-bit words with their carries folded in (RFC 1071 2(C)), and ~ of
 * a 32-bit word complements both of its 16-bit halves: a change of 32-bit fields costs two
 * additions.
 */
/** Adds to @p acc the change of the 32-bit field @p old to @p new. */
static inline uint64_t csum_delta32(uint64_t acc, uint32_t old, uint32_t new)
{
	return acc + (uint32_t)~old + new;
}

/** Folds the 64-bit accumulator of csum_delta32() to the 17 bits csum_apply() takes. */
static inline uint32_t csum_fold64(uint64_t acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32); /* <= 2^32 */
	return (uint32_t)((acc & 0xffff) + (acc >> 16));
}

/** Applies the accumulated change @p acc to the raw checksum @p ck. */
static inline uint16_t csum_apply(uint16_t ck, uint32_t acc)
{
	uint32_t s = (uint16_t)~ck + acc;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
