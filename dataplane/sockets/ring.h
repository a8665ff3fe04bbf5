/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A single-producer/single-consumer ring of fixed-size slots: the control thread pushes, one
 * worker pops. Lock-free: each side writes only its own index and reads the other's with
 * acquire, so a slot's content is visible before the index that publishes it.
 */
#ifndef SBC_DATAPLANE_SOCKETS_RING_H
#define SBC_DATAPLANE_SOCKETS_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct spsc_ring {
	alignas(64) atomic_size_t head; /* next slot to read, written by the consumer */
	alignas(64) atomic_size_t tail; /* next slot to write, written by the producer */
	size_t mask;			/* capacity - 1, capacity a power of two */
	size_t slot_size;
	unsigned char *slots;
};

/** @p capacity must be a power of two; @p slots holds capacity * slot_size bytes. */
static inline void spsc_ring_init(struct spsc_ring *r, void *slots, size_t capacity,
				  size_t slot_size)
{
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = capacity - 1;
	r->slot_size = slot_size;
	r->slots = slots;
}

/** Producer side. @return false when full. */
static inline bool spsc_ring_push(struct spsc_ring *r, const void *item)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head > r->mask)
		return false;
	memcpy(r->slots + (tail & r->mask) * r->slot_size, item, r->slot_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

/** Consumer side. @return false when empty. */
static inline bool spsc_ring_pop(struct spsc_ring *r, void *item)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head == tail)
		return false;
	memcpy(item, r->slots + (head & r->mask) * r->slot_size, r->slot_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return true;
}

#endif
