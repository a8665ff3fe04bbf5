/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file rtcp_mux.h  RTCP multiplexed on an RTP port (RFC 5761), told apart from RTP.
 *
 * RFC 5761 4: RTP payload types 64..95 are not used where RTCP is multiplexed, so a second
 * byte whose low seven bits are 64..95 is RTCP (packet types 192..223 with the top bit that
 * RTP calls the marker). Every backend demultiplexes by this one rule (dp_flow_link_rtcp()).
 */
#ifndef SBC_DATAPLANE_RTCP_MUX_H
#define SBC_DATAPLANE_RTCP_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Whether the @p len bytes at @p p (a UDP payload) are RTCP muxed on an RTP port. */
static inline bool rtcp_mux_is_rtcp(const uint8_t *p, size_t len)
{
	uint8_t pt;

	if (len < 8 || (p[0] >> 6) != 2)
		return false;
	pt = p[1] & 0x7f;
	return pt >= 64 && pt <= 95;
}

#endif
