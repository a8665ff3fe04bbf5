/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Neighbours (next hop IP -> MAC), per worker: only the worker writes its table, so it needs
 * no lock. Open addressing with linear probing. Filled by ARP (arp.c), neighbour discovery
 * (ndp.c) and static entries (dp_dpdk_neigh_add(), which never age). The table has
 * dp_dpdk_conf.neigh_size entries (a power of two, 56 bytes each; rtpengine's
 * dataplane.dpdk.neighbours), the same in every worker: a next hop's home slot, and so which
 * worker asks first for it (neigh_asks_first()), is the same in all. A full table gives a new
 * next hop no entry: its packets drop (no_neigh) until ageing frees one.
 *
 * Ageing (dp_dpdk_neigh_age(), a few entries per worker loop), after Linux's NUD in short: a
 * neighbour heard from (its ARP or ND: a reply, a request, an advertisement) is good for
 * NEIGH_REACHABLE_MS; after that it is asked again, once a second, on the interface it was last
 * needed on (its MAC still used); NEIGH_PROBES requests unanswered and it is unresolved (the
 * templates built on it drop: the next packet asks again, as for a new next hop). So a next hop
 * that changed its MAC without telling (no gratuitous ARP) is followed within about half a minute.
 *
 * What is removed: an entry only learned (a host that asked for a relay address, never needed
 * on a way out) once it is not fresh; an unresolved one no packet needed for NEIGH_UNUSED_MS;
 * and a resolved one not needed over a whole round of voided templates. Packets leave by tx
 * templates that never look at the table, so what is in use shows only when they are rebuilt:
 * while the table is more than half full, the worker voids its templates every
 * NEIGH_REACHABLE_MS (each flow's next packet takes the full way, dpdk_neigh_resolve(), and
 * notes its neighbour as used). An entry not used since the voiding before the last backs no
 * template (any built on it before the last voiding is void, any built since would have noted
 * it). Voiding costs every flow a full-way packet and a template copy (~1000 cycles a packet at
 * 1M flows), so it is kept for a crowded table: below half full, entries that still answer stay
 * (a request each every 30 s), and the templates live on. Static entries (dp_dpdk_neigh_add())
 * never age.
 *
 * Unresolved next hop: the packet is dropped and counted (no_neigh, and the flow's errors), and
 * its mbuf becomes the ARP request or neighbour solicitation, at most one per neighbour per
 * second. Holding packets would need a queue per neighbour; RTP resends every 20 ms and
 * resolution takes one round trip, so dropping costs a packet or two per new next hop.
 *
 * Several workers: the answer to a worker's request reaches whichever worker RSS (or the PMD's
 * fanout; ARP has no ports to hash) gives it to, often not the one that asked. So whatever a
 * worker learns it also posts to every other worker's neighbour ring, and each applies what it
 * finds there at the start of its loop (dpdk_neigh_sync()) as if it had seen the frame itself.
 * ARP and ND are rare next to media: a ring of small messages per worker, no shared table.
 * Since every worker's entry is confirmed by the same answers, all would ask again at the same
 * moment: one worker per neighbour (neigh_asks_first()) asks first, the others a retry interval
 * later, when its request has gone unanswered (or it does not need the neighbour).
 */
#include <errno.h>

#include <stdio.h>

#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_ring_elem.h>

#include "fastpath.h"

#define SOLICIT_RETRY_MS   1000
#define NEIGH_REACHABLE_MS 30000
#define NEIGH_PROBES	   3
#define NEIGH_UNUSED_MS	   (2 * NEIGH_REACHABLE_MS)
#define NEIGH_PROBE_MAX	   64 /* slots an entry may sit past its home */

static size_t fam_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static inline bool addr_eq(const uint8_t *a, const uint8_t *b, int family)
{
	uint64_t x[2], y[2];

	if (family == AF_INET) {
		uint32_t u, v;

		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		return u == v;
	}
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Where (@p family, @p addr)'s probe sequence starts in @p w's table. */
static uint32_t neigh_home(const struct dp_dpdk_worker *w, int family, const uint8_t *addr)
{
	uint32_t a[4] = { 0 };

	/* packets align to 2; per packet: CRC32 instructions, unrolled for IPv4 */
	memcpy(a, addr, fam_len(family));
	return (family == AF_INET ? rte_hash_crc_4byte(a[0], AF_INET)
				  : rte_hash_crc(a, 16, (uint32_t)family)) &
	       w->neigh_mask;
}

/*
 * The entry for (@p family, @p addr); with @p create a free one when there is none. An entry
 * sits at most NEIGH_PROBE_MAX slots past its home (it is only put there, and removal moves
 * entries only nearer home), so the search stops there: a packet to a new next hop on a full
 * table of a million entries must not cost a million compares.
 */
static struct dpdk_neigh *neigh_find(struct dp_dpdk_worker *w, int family, const uint8_t *addr,
				     bool create)
{
	uint32_t h = neigh_home(w, family, addr);

	for (uint32_t i = 0; i < w->neigh_size && i < NEIGH_PROBE_MAX; i++) {
		struct dpdk_neigh *n = &w->neigh[(h + i) & w->neigh_mask];

		if (n->family == 0) {
			if (!create)
				return NULL;
			n->family = (uint8_t)family;
			n->iface = DPDK_NEIGH_IFACE_NONE;
			w->neigh_count++;
			memcpy(n->addr, addr, fam_len(family));
			return n;
		}
		if (n->family == family && addr_eq(n->addr, addr, family))
			return n;
	}
	return NULL;
}

/* The flows' tx templates built from a neighbour that changed are void (dpdk_priv.h). */
static void neigh_changed(struct dp_dpdk_worker *w)
{
	if (++w->neigh_gen == 0)
		w->neigh_gen = 1;
}

/* @p n was heard from with @p mac: confirmed, and a new MAC voids the templates. */
static void neigh_set(struct dp_dpdk_worker *w, struct dpdk_neigh *n,
		      const struct rte_ether_addr *mac)
{
	n->confirmed_ms = w->loop_ms;
	n->probes = 0;
	if (n->resolved && rte_is_same_ether_addr(&n->mac, mac))
		return;
	n->mac = *mac;
	n->resolved = 1;
	neigh_changed(w);
}

/*
 * Removes @p n. Linear probing has no holes in a sequence: the entries after it that probed
 * past it move back (Knuth's algorithm R), so every lookup still finds them. Bounded: on a full
 * table the scan comes round to the hole.
 */
static void neigh_remove(struct dp_dpdk_worker *w, struct dpdk_neigh *n)
{
	uint32_t hole = (uint32_t)(n - w->neigh), j = hole;

	n->family = 0;
	for (uint32_t k = 1; k < w->neigh_size; k++) {
		j = (j + 1) & w->neigh_mask;
		struct dpdk_neigh *e = &w->neigh[j];

		if (e->family == 0)
			break;
		uint32_t home = neigh_home(w, e->family, e->addr);

		/* the hole lies on e's way from its home to where it sits: e moves there */
		if (((hole - home) & w->neigh_mask) < ((j - home) & w->neigh_mask)) {
			w->neigh[hole] = *e;
			e->family = 0;
			hole = j;
		}
	}
	memset(&w->neigh[hole], 0, sizeof(w->neigh[hole]));
	w->neigh_count--;
	dpdk_ctr_add(&w->st.neigh_removed, 1);
}

/* Whether @p w is the worker that asks first when @p n is due for a refresh (above). */
static bool neigh_asks_first(const struct dp_dpdk_worker *w, const struct dpdk_neigh *n)
{
	return neigh_home(w, n->family, n->addr) % w->dp->n_workers == w->id;
}

/* An ARP request or neighbour solicitation for @p n on its interface, in an mbuf of @p mp. */
static struct rte_mbuf *neigh_probe(struct dp_dpdk_worker *w, const struct dpdk_neigh *n,
				    struct rte_mempool *mp)
{
	const struct dpdk_iface *ifc = &w->dp->ifaces[n->iface];
	struct rte_mbuf *m = mp ? rte_pktmbuf_alloc(mp) : NULL; /* no pool: not started */

	if (m && (n->family == AF_INET ? dpdk_arp_request(m, ifc, n->addr)
				       : dpdk_ndp_solicit(m, ifc, n->addr)) != 0) {
		rte_pktmbuf_free(m);
		m = NULL;
	}
	return m;
}

/*
 * One entry's turn in dp_dpdk_neigh_age(); *@p probe: a request to send, or NULL. @return true
 * when @p n was removed: its slot may now hold an entry moved back from further on, whose turn
 * it is next.
 */
static bool neigh_age_one(struct dp_dpdk_worker *w, struct dpdk_neigh *n, uint64_t now_ms,
			  struct rte_mempool *mp, struct rte_mbuf **probe)
{
	*probe = NULL;
	if (n->family == 0 || n->is_static)
		return false;
	bool fresh = n->resolved && now_ms - n->confirmed_ms < NEIGH_REACHABLE_MS;
	bool unused = n->resolved ? w->neigh_voided_prev_ms && n->used_ms < w->neigh_voided_prev_ms
				  : now_ms - n->used_ms >= NEIGH_UNUSED_MS;

	if (!fresh && (n->iface == DPDK_NEIGH_IFACE_NONE || unused)) {
		neigh_remove(w, n); /* backs no template (above) */
		return true;
	}
	if (fresh || !n->resolved || now_ms - n->req_ms < SOLICIT_RETRY_MS)
		return false;
	if (n->probes == 0 && !neigh_asks_first(w, n) &&
	    now_ms - n->confirmed_ms < NEIGH_REACHABLE_MS + SOLICIT_RETRY_MS)
		return false;		 /* the first worker's request may be answered for us too */
	if (n->probes >= NEIGH_PROBES) { /* gone: the next packet for it asks again */
		n->resolved = 0;
		n->probes = 0;
		neigh_changed(w);
		dpdk_ctr_add(&w->st.neigh_lost, 1);
		return false;
	}
	*probe = neigh_probe(w, n, mp);
	n->probes++; /* a request that could not be built counts too: no retry loop */
	n->req_ms = now_ms;
	if (*probe)
		dpdk_ctr_add(&w->st.neigh_requests, 1);
	return false;
}

unsigned int dp_dpdk_neigh_age(struct dp_dpdk_worker *w, uint64_t now_ms, struct rte_mempool *mp,
			       struct rte_mbuf **probes, unsigned int max)
{
	unsigned int n = 0;

	w->loop_ms = now_ms;
	if (w->neigh_count > w->neigh_size / 2 && /* crowded: see what is in use (above) */
	    (!w->neigh_voided_ms || now_ms - w->neigh_voided_ms >= NEIGH_REACHABLE_MS)) {
		w->neigh_voided_prev_ms = w->neigh_voided_ms;
		w->neigh_voided_ms = now_ms;
		neigh_changed(w);
	}
	for (unsigned int i = 0; i < DPDK_NEIGH_AGE_STEP && n < max; i++) {
		struct dpdk_neigh *e = &w->neigh[w->neigh_cursor & w->neigh_mask];

		if (!neigh_age_one(w, e, now_ms, mp, &probes[n]))
			w->neigh_cursor++;
		if (probes[n])
			n++;
	}
	return n;
}

int dp_dpdk_neigh_add(struct dp_dpdk_worker *w, const struct sa *ip,
		      const struct rte_ether_addr *mac)
{
	struct sa a = *ip;
	struct dpdk_flow_key k;
	struct dpdk_neigh *n;

	sa_set_port(&a, 1); /* the key wants a port; neighbours have none */
	if (dpdk_key_from_sa(&k, &a) != 0)
		return -EINVAL;
	n = neigh_find(w, k.family, k.addr, true);
	if (!n)
		return -ENOSPC;
	neigh_set(w, n, mac);
	n->is_static = 1;
	return 0;
}

/* What one worker learned, for the others (a ring element: a multiple of 4 bytes). */
struct neigh_msg {
	uint8_t family;
	uint8_t create;
	struct rte_ether_addr mac;
	uint8_t addr[16];
};

#define NEIGH_RING_SIZE 1024
#define NEIGH_SYNC_MAX	32 /* messages applied per loop: bounded work */

/* Records @p mac for @p addr in @p w's table: always when @p create, else only if known. */
static void neigh_record(struct dp_dpdk_worker *w, int family, const uint8_t *addr,
			 const struct rte_ether_addr *mac, bool create)
{
	struct dpdk_neigh *n = neigh_find(w, family, addr, create);

	if (n)
		neigh_set(w, n, mac);
}

/** Records @p mac for @p addr: always when @p create, else only for a known neighbour. */
void dpdk_neigh_learn(struct dp_dpdk_worker *w, int family, const uint8_t *addr,
		      const struct rte_ether_addr *mac, bool create)
{
	struct dp_dpdk *d = w->dp;
	struct neigh_msg msg = { .family = (uint8_t)family, .create = create, .mac = *mac };

	if (!rte_is_unicast_ether_addr(mac))
		return;
	neigh_record(w, family, addr, mac, create);
	memcpy(msg.addr, addr, fam_len(family));
	for (unsigned int i = 0; i < d->n_workers; i++) /* a full ring loses the message */
		if (i != w->id && d->workers[i].neigh_ring)
			rte_ring_enqueue_elem(d->workers[i].neigh_ring, &msg, sizeof(msg));
}

/** Applies what the other workers learned (dpdk_neigh_learn()) to @p w's table. */
void dpdk_neigh_sync(struct dp_dpdk_worker *w)
{
	struct neigh_msg msg[NEIGH_SYNC_MAX];
	unsigned int n;

	if (!w->neigh_ring)
		return;
	n = rte_ring_dequeue_burst_elem(w->neigh_ring, msg, sizeof(msg[0]), NEIGH_SYNC_MAX, NULL);
	for (unsigned int i = 0; i < n; i++)
		neigh_record(w, msg[i].family, msg[i].addr, &msg[i].mac, msg[i].create);
}

/** The ring that dpdk_neigh_sync() reads (any worker writes it). @return 0 or -ENOMEM. */
int dpdk_neigh_ring_create(struct dp_dpdk_worker *w)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "dpn%p_%u", (void *)w->dp, w->id);
	w->neigh_ring = rte_ring_create_elem(name, sizeof(struct neigh_msg), NEIGH_RING_SIZE,
					     (int)rte_socket_id(), RING_F_SC_DEQ);
	return w->neigh_ring ? 0 : -ENOMEM;
}

int dpdk_neigh_resolve(struct dp_dpdk_worker *w, struct rte_mbuf *m, const struct dpdk_iface *ifc,
		       int family, const uint8_t *nh, uint64_t now_ms, struct rte_ether_addr *mac)
{
	struct dpdk_neigh *n = neigh_find(w, family, nh, true);
	int err;

	if (likely(n)) { /* in use; refresh probes go where it is needed */
		n->iface = (uint8_t)(ifc - w->dp->ifaces);
		n->used_ms = now_ms;
	}
	if (likely(n && n->resolved)) {
		*mac = n->mac;
		return 0;
	}
	dpdk_ctr_add(&w->st.no_neigh, 1);
	if (!n || (n->req_ms && now_ms - n->req_ms < SOLICIT_RETRY_MS))
		return -1;
	err = family == AF_INET ? dpdk_arp_request(m, ifc, nh) : dpdk_ndp_solicit(m, ifc, nh);
	if (err != 0)
		return -1;
	n->req_ms = now_ms ? now_ms : 1;
	dpdk_ctr_add(&w->st.neigh_requests, 1);
	return 1;
}
