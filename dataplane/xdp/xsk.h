/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file xsk.h  One AF_XDP socket with its own UMEM and four rings (no libxdp).
 *
 * Single-threaded: the worker that owns the socket is the only one to touch its rings. Frames
 * go around: FILL -> (kernel) RX -> TX -> (kernel) COMPLETION -> FILL; a frame that is not sent
 * goes straight back to FILL. The FILL and COMPLETION rings hold every frame, so returning a
 * frame to FILL never fails.
 */
#ifndef SBC_DATAPLANE_XDP_XSK_H
#define SBC_DATAPLANE_XDP_XSK_H

#include <linux/if_xdp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSK_FRAME_SIZE 2048u
/* frames of a socket's UMEM (FILL/COMPLETION hold them all, RX/TX half): a power of two */
#define XSK_FRAMES_DEFAULT 65536u
#define XSK_FRAMES_MIN	   4096u
#define XSK_FRAMES_MAX	   262144u

struct xsk_ring {
	uint32_t *producer, *consumer, *flags;
	void *desc; /* struct xdp_desc[] (RX, TX) or __u64[] (FILL, COMPLETION) */
	uint32_t mask;
	void *map;
	size_t map_len;
};

struct xsk {
	int fd;
	int ifindex;
	unsigned queue;
	bool zerocopy;
	uint8_t *umem;
	size_t umem_len;
	struct xsk_ring fill, comp, rx, tx;
	uint32_t tx_queued; /* produced on TX since the last kick */
	uint32_t nframes;   /* UMEM frames; FILL/COMPLETION size, RX/TX have half */
};

/**
 * Creates the socket for queue @p queue of netdev @p ifindex (zero-copy when the driver has it,
 * else copy mode) with @p frames UMEM frames (0: XSK_FRAMES_DEFAULT; clamped to
 * XSK_FRAMES_MIN..XSK_FRAMES_MAX and rounded down to a power of two), fills FILL with every
 * frame and enters the socket in the XSKMAP @p map_fd at @p queue. 0 or -errno; on error
 * nothing is left open.
 */
int xsk_open(struct xsk *x, int ifindex, unsigned queue, int map_fd, unsigned frames);
void xsk_close(struct xsk *x);

/** Takes up to @p max received descriptors (copied out, RX released). @return how many. */
unsigned xsk_rx_burst(struct xsk *x, struct xdp_desc *out, unsigned max);
/** Gives a frame (any address inside it) back to FILL. */
void xsk_fill_put(struct xsk *x, uint64_t addr);
/** Queues @p len bytes at UMEM offset @p addr on TX. @return false when TX is full. */
bool xsk_tx_put(struct xsk *x, uint64_t addr, uint32_t len);
/** Makes the kernel send what TX holds (copy mode sends at most 32 frames a call: loops). */
void xsk_tx_kick(struct xsk *x);
/** After a wake-up's frames: kicks TX again for frames a busy device left on the ring, and
 * wakes a zero-copy driver that asked for it (FILL ring's need_wakeup). */
void xsk_wake(struct xsk *x);
/** The kernel's counters of this socket (XDP_STATISTICS). Any thread. @return 0 or -errno. */
int xsk_kernel_stats(const struct xsk *x, struct xdp_statistics *st);
/** Moves completed TX frames back to FILL. @return how many. */
unsigned xsk_recycle(struct xsk *x);

static inline uint8_t *xsk_frame(const struct xsk *x, uint64_t addr)
{
	return x->umem + addr;
}

#endif
