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
 * a 32-bit word complements both of its 16-bit halves: the change of a 32-bit field costs two
 * additions into a 64-bit accumulator, folded once at the end by csum_update().
 */
/** Adds to @p acc the change of the 32-bit field @p old to @p new. */
static inline uint64_t csum_delta32(uint64_t acc, uint32_t old, uint32_t new)
{
	return acc + (uint32_t)~old + new;
}

/** The raw checksum @p ck after a change whose 64-bit accumulated sum is @p acc (< 2^63). */
static inline uint16_t csum_update(uint16_t ck, uint64_t acc)
{
	acc += (uint16_t)~ck;
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32); /* <= 2^32 */
	acc = (acc & 0xffff) + (acc >> 16);	/* <= 0x1fffe */
	acc += acc >> 16;			/* the end-around carry, in the low 16 bits */
	return (uint16_t)~acc;
}

/** @p acc folded to 16 bits (RFC 1071 2(C)): <= 0xffff, 0 only when @p acc is (< 2^63). */
static inline uint16_t csum_fold(uint64_t acc)
{
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32); /* <= 2^32 */
	acc = (acc & 0xffff) + (acc >> 16);	/* <= 0x1fffe */
	acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/**
 * The raw checksum @p ck after a change whose sum is @p sum (a csum_fold() result plus at most
 * two 16-bit words): the same result as csum_update() of the unfolded change.
 */
static inline uint16_t csum_update16(uint16_t ck, uint32_t sum)
{
	uint32_t s = sum + (uint16_t)~ck; /* < 2^18 */

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
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
