/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ports.h  The relay port allocator of one interface.
 *
 * Hands out pairs of ports (even RTP port, RTCP = RTP + 1) from a range, each pair to at most one
 * live stream. O(1) get and put: the free pairs sit in a ring, shuffled once at start so that
 * the ports a call gets cannot be predicted, and a freed pair goes to the back, so a port is
 * reused as late as possible (stray packets of an old call rarely reach a new one).
 */
#ifndef SBC_RTPENGINE_PORTS_H
#define SBC_RTPENGINE_PORTS_H

#include <stdint.h>

struct ports;

/**
 * The pairs (p, p + 1) with p even and @p min <= p, p + 1 <= @p max; @p seed shuffles them.
 * @return 0, -EINVAL when the range holds no pair, or -ENOMEM.
 */
int ports_alloc(struct ports **pp, uint16_t min, uint16_t max, uint32_t seed);
void ports_free(struct ports *p);

/** Takes a free pair. @return 0 with its even port in *@p port, or -ENOSPC. */
int ports_get(struct ports *p, uint16_t *port);
/** Gives a pair back (a port that is not taken from @p p is ignored). */
void ports_put(struct ports *p, uint16_t port);

unsigned ports_available(const struct ports *p);
unsigned ports_total(const struct ports *p);

#endif
