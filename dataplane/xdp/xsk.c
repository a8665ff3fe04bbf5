/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AF_XDP sockets by hand (libbpf 1.x dropped xsk.h): UMEM registration, ring set-up through
 * XDP_MMAP_OFFSETS, bind, and the ring operations (free-running 32-bit indexes, acquire on the
 * other side's index, release on ours), see Documentation/networking/af_xdp.rst.
 */
#include "xsk.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef AF_XDP
#define AF_XDP 44
#endif

#define XSK_TX_KICKS_MAX 64

static inline uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int ring_map(struct xsk *x, struct xsk_ring *r, const struct xdp_ring_offset *off,
		    uint32_t n, size_t desc_size, off_t pgoff)
{
	r->map_len = off->desc + n * desc_size;
	r->map =
	    mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, x->fd, pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return -errno;
	}
	r->producer = (uint32_t *)((uint8_t *)r->map + off->producer);
	r->consumer = (uint32_t *)((uint8_t *)r->map + off->consumer);
	r->flags = (uint32_t *)((uint8_t *)r->map + off->flags);
	r->desc = (uint8_t *)r->map + off->desc;
	r->mask = n - 1;
	return 0;
}

static int set_int(int fd, int opt, int v)
{
	return setsockopt(fd, SOL_XDP, opt, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int umem_register(struct xsk *x)
{
	struct xdp_umem_reg reg = { 0 };

	x->umem_len = (size_t)x->nframes * XSK_FRAME_SIZE;
	x->umem =
	    mmap(NULL, x->umem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->umem == MAP_FAILED) {
		x->umem = NULL;
		return -errno;
	}
	reg.addr = (uint64_t)(uintptr_t)x->umem;
	reg.len = x->umem_len;
	reg.chunk_size = XSK_FRAME_SIZE;
	reg.headroom = 0;
	if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) < 0)
		return -errno;
	return 0;
}

static int rings_setup(struct xsk *x)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	int err;

	err = set_int(x->fd, XDP_UMEM_FILL_RING, (int)x->nframes);
	if (!err)
		err = set_int(x->fd, XDP_UMEM_COMPLETION_RING, (int)x->nframes);
	if (!err)
		err = set_int(x->fd, XDP_RX_RING, (int)(x->nframes / 2));
	if (!err)
		err = set_int(x->fd, XDP_TX_RING, (int)(x->nframes / 2));
	if (err)
		return err;
	if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) < 0)
		return -errno;
	err =
	    ring_map(x, &x->fill, &off.fr, x->nframes, sizeof(uint64_t), XDP_UMEM_PGOFF_FILL_RING);
	if (!err)
		err = ring_map(x, &x->comp, &off.cr, x->nframes, sizeof(uint64_t),
			       XDP_UMEM_PGOFF_COMPLETION_RING);
	if (!err)
		err = ring_map(x, &x->rx, &off.rx, x->nframes / 2, sizeof(struct xdp_desc),
			       XDP_PGOFF_RX_RING);
	if (!err)
		err = ring_map(x, &x->tx, &off.tx, x->nframes / 2, sizeof(struct xdp_desc),
			       XDP_PGOFF_TX_RING);
	return err;
}

static int xsk_bind(struct xsk *x, uint16_t flags)
{
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP,
				     .sxdp_flags = flags,
				     .sxdp_ifindex = (uint32_t)x->ifindex,
				     .sxdp_queue_id = x->queue };

	return bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0 ? -errno : 0;
}

static void fill_all(struct xsk *x)
{
	uint64_t *d = x->fill.desc;
	uint32_t prod = *x->fill.producer;

	for (uint32_t i = 0; i < x->nframes; i++)
		d[(prod + i) & x->fill.mask] = (uint64_t)i * XSK_FRAME_SIZE;
	store_release(x->fill.producer, prod + x->nframes);
}

/* A socket bound with @p flags, its FILL ring full. 0 or -errno (nothing left open). */
static int open_mode(struct xsk *x, int ifindex, unsigned queue, uint32_t frames, uint16_t flags)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->ifindex = ifindex;
	x->queue = queue;
	x->nframes = frames;
	x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (x->fd < 0)
		return -errno;
	err = umem_register(x);
	if (!err)
		err = rings_setup(x);
	if (!err) {
		fill_all(x); /* before bind: the first frames must find room */
		err = xsk_bind(x, flags);
	}
	if (err)
		xsk_close(x);
	return err;
}

/* The ring sizes must be powers of two. */
static uint32_t frames_valid(unsigned frames)
{
	uint32_t f = XSK_FRAMES_MIN;

	if (!frames)
		return XSK_FRAMES_DEFAULT;
	while (f * 2 <= frames && f * 2 <= XSK_FRAMES_MAX)
		f *= 2;
	return f;
}

int xsk_open(struct xsk *x, int ifindex, unsigned queue, int map_fd, unsigned frames)
{
	uint32_t key = queue, n = frames_valid(frames);
	int err;

	/* zero-copy where the driver has it, else copy mode (lo, veth, generic XDP); a fresh
	 * socket for the second try: a failed bind may have taken the rings with it */
	err = open_mode(x, ifindex, queue, n, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
	if (!err)
		x->zerocopy = true;
	else
		err = open_mode(x, ifindex, queue, n, XDP_COPY | XDP_USE_NEED_WAKEUP);
	if (err)
		return err;
	if (bpf_map_update_elem(map_fd, &key, &x->fd, BPF_ANY) < 0) {
		err = -errno;
		xsk_close(x);
	}
	return err;
}

static void ring_unmap(struct xsk_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

void xsk_close(struct xsk *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	ring_unmap(&x->fill);
	ring_unmap(&x->comp);
	ring_unmap(&x->rx);
	ring_unmap(&x->tx);
	if (x->umem)
		munmap(x->umem, x->umem_len);
	x->umem = NULL;
}

unsigned xsk_rx_burst(struct xsk *x, struct xdp_desc *out, unsigned max)
{
	const struct xdp_desc *d = x->rx.desc;
	uint32_t cons = *x->rx.consumer;
	uint32_t n = load_acquire(x->rx.producer) - cons;

	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		out[i] = d[(cons + i) & x->rx.mask];
	if (n)
		store_release(x->rx.consumer, cons + n);
	return n;
}

void xsk_fill_put(struct xsk *x, uint64_t addr)
{
	uint64_t *d = x->fill.desc;
	uint32_t prod = *x->fill.producer;

	/* every frame fits in FILL: no room check needed */
	d[prod & x->fill.mask] = addr - addr % XSK_FRAME_SIZE;
	store_release(x->fill.producer, prod + 1);
}

bool xsk_tx_put(struct xsk *x, uint64_t addr, uint32_t len)
{
	struct xdp_desc *d = x->tx.desc;
	uint32_t prod = *x->tx.producer;

	if (prod - load_acquire(x->tx.consumer) > x->tx.mask)
		return false;
	d[prod & x->tx.mask] = (struct xdp_desc){ .addr = addr, .len = len };
	store_release(x->tx.producer, prod + 1);
	x->tx_queued++;
	return true;
}

void xsk_tx_kick(struct xsk *x)
{
	for (int i = 0; x->tx_queued && i < XSK_TX_KICKS_MAX; i++) {
		/* zero-copy: the driver sends by itself unless it asked to be woken */
		if (x->zerocopy && !(load_acquire(x->tx.flags) & XDP_RING_NEED_WAKEUP))
			break;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS)
			break;
		if (load_acquire(x->tx.consumer) == *x->tx.producer)
			break; /* the kernel took everything */
	}
	/* what the kernel has not taken (a busy device queue) waits for xsk_wake() */
	x->tx_queued = *x->tx.producer - load_acquire(x->tx.consumer);
}

void xsk_wake(struct xsk *x)
{
	if (x->tx_queued)
		xsk_tx_kick(x);
	/* zero-copy: a driver that found FILL empty waits for a wake-up before it takes more */
	if (x->zerocopy && (load_acquire(x->fill.flags) & XDP_RING_NEED_WAKEUP))
		(void)recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

int xsk_kernel_stats(const struct xsk *x, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, st, &len) < 0 ? -errno : 0;
}

unsigned xsk_recycle(struct xsk *x)
{
	const uint64_t *c = x->comp.desc;
	uint32_t cons = *x->comp.consumer;
	uint32_t n = load_acquire(x->comp.producer) - cons;

	for (uint32_t i = 0; i < n; i++)
		xsk_fill_put(x, c[(cons + i) & x->comp.mask]);
	if (n)
		store_release(x->comp.consumer, cons + n);
	return n;
}
