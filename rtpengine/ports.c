/* SPDX-License-Identifier: BSD-2-Clause */
#include "ports.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct ports {
	uint16_t base;	 /* even port of pair 0 */
	uint32_t npairs; /* pairs in the range */
	uint32_t head;	 /* ring position of the next pair to hand out */
	uint32_t nfree;	 /* pairs in the ring */
	uint8_t *taken;	 /* per pair: handed out, so a double put cannot duplicate it */
	uint32_t ring[]; /* pair indexes; nfree of them from head, wrapping */
};

/* xorshift32: enough to make port numbers unpredictable to a sprayer, not a CSPRNG. */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

int ports_alloc(struct ports **pp, uint16_t min, uint16_t max, uint32_t seed)
{
	uint32_t first = (uint32_t)min + (min & 1u), npairs;
	struct ports *p;

	if (first + 1 > max)
		return -EINVAL;
	npairs = ((uint32_t)max - first + 1) / 2;
	p = calloc(1, sizeof(*p) + npairs * sizeof(p->ring[0]));
	if (!p)
		return -ENOMEM;
	p->taken = calloc(npairs, 1);
	if (!p->taken) {
		free(p);
		return -ENOMEM;
	}
	p->base = (uint16_t)first;
	p->npairs = npairs;
	p->nfree = npairs;
	for (uint32_t i = 0; i < npairs; i++)
		p->ring[i] = i;
	for (uint32_t i = npairs - 1; i > 0; i--) {
		uint32_t j = next_random(&seed) % (i + 1), t = p->ring[i];

		p->ring[i] = p->ring[j];
		p->ring[j] = t;
	}
	*pp = p;
	return 0;
}

void ports_free(struct ports *p)
{
	if (!p)
		return;
	free(p->taken);
	free(p);
}

int ports_get(struct ports *p, uint16_t *port)
{
	uint32_t pair;

	if (p->nfree == 0)
		return -ENOSPC;
	pair = p->ring[p->head];
	p->head = (p->head + 1) % p->npairs;
	p->nfree--;
	p->taken[pair] = 1;
	*port = (uint16_t)(p->base + 2 * pair);
	return 0;
}

void ports_put(struct ports *p, uint16_t port)
{
	uint32_t pair;

	if (port < p->base || ((port - p->base) & 1u))
		return;
	pair = (uint32_t)(port - p->base) / 2;
	if (pair >= p->npairs || !p->taken[pair])
		return;
	p->taken[pair] = 0;
	p->ring[(p->head + p->nfree) % p->npairs] = pair;
	p->nfree++;
}

unsigned ports_available(const struct ports *p)
{
	return p->nfree;
}

unsigned ports_total(const struct ports *p)
{
	return p->npairs;
}
