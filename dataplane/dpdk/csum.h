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

/** Applies the accumulated change @p acc to the raw checksum @p ck. */
static inline uint16_t csum_apply(uint16_t ck, uint32_t acc)
{
	uint32_t s = (uint16_t)~ck + acc;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
