/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow table: one slot per (relay address, port of its range), found by computing its index
 * (dpdk_priv.h); the control thread is the only writer. Deleting a flow clears its id at once
 * (packets to the port go to the kernel) but keeps the slot and the cfg until every worker has
 * been quiescent since: they go to an RCU QSBR defer queue. A flow added on that port before
 * then waits for the grace period (the ports allocator hands a freed port out last, so this is
 * rare).
 *
 * A dp_flow_t is (slot generation << 24) | (slot index + 1), so a stale id never reaches the
 * flow that reuses its slot (up to 256 reuses; the control plane unlinks before it deletes).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "dpdk_priv.h"

#define ID_IDX_BITS DPDK_ID_IDX_BITS
#define ID_IDX_MASK DPDK_ID_IDX_MASK

/* what waits in the defer queue; slot UINT32_MAX: only a replaced cfg */
struct dq_elem {
	struct dpdk_flow_cfg *cfg;
	uint32_t slot;
};

int dpdk_key_from_sa(struct dpdk_flow_key *k, const struct sa *sa)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)sa_family(sa);
	if (k->family == AF_INET) {
		k->port_be = sa->u.in.sin_port;
		memcpy(k->addr, &sa->u.in.sin_addr, 4);
	} else if (k->family == AF_INET6) {
		k->port_be = sa->u.in6.sin6_port;
		memcpy(k->addr, &sa->u.in6.sin6_addr, 16);
	} else {
		return -EINVAL;
	}
	return k->port_be ? 0 : -EINVAL;
}

static void dq_free(void *p, void *e, unsigned int n)
{
	struct dp_dpdk *d = p;
	struct dq_elem *el = e;

	for (unsigned int i = 0; i < n; i++) {
		rte_free(el[i].cfg);
		if (el[i].slot != UINT32_MAX)
			d->cold[el[i].slot].deferred = false;
	}
}

/* Hands @p el to the defer queue; when it is full, waits for a grace period instead. */
static void defer(struct dp_dpdk *d, struct dq_elem *el)
{
	if (rte_rcu_qsbr_dq_enqueue(d->dq, el) == 0)
		return;
	rte_rcu_qsbr_synchronize(d->rcu, RTE_QSBR_THRID_INVALID);
	dq_free(d, el, 1);
}

unsigned int dp_dpdk_reclaim(struct dataplane *dp, unsigned int *pending)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	unsigned int freed = 0, pend = 0, avail = 0;

	rte_rcu_qsbr_dq_reclaim(d->dq, d->n_slots, &freed, &pend, &avail);
	if (pending)
		*pending = pend;
	return freed;
}

/*
 * Slot @p idx's last flow was deleted and its grace period may not be over: a worker may still
 * be on it. Waits for every worker's next quiescent state (a burst each) when it is not.
 */
static void slot_wait(struct dp_dpdk *d, uint32_t idx)
{
	if (!d->cold[idx].deferred)
		return;
	dp_dpdk_reclaim(&d->dp, NULL);
	if (!d->cold[idx].deferred)
		return;
	rte_rcu_qsbr_synchronize(d->rcu, RTE_QSBR_THRID_INVALID);
	dp_dpdk_reclaim(&d->dp, NULL);
}

/* The ports of relay address @p a that carry flows: its slots. */
static uint32_t addr_slots(const struct dp_dpdk_addr *a, uint16_t *first)
{
	if (a->port_min == 0 && a->port_max == 0) {
		*first = 1;
		return UINT16_MAX;
	}
	*first = a->port_min;
	return a->port_min <= a->port_max ? (uint32_t)a->port_max - a->port_min + 1 : 0;
}

/* The address map: every interface's relay addresses, each once, with its first slot. */
static int amap_init(struct dp_dpdk *d)
{
	for (unsigned int i = 0; i < d->n_ifaces; i++) {
		const struct dp_dpdk_iface_conf *c = &d->ifaces[i].conf;

		for (unsigned int j = 0; j < c->n_addrs; j++) {
			struct sa a = c->addrs[j].addr;
			struct dpdk_flow_key k;
			uint16_t first;
			uint32_t n = addr_slots(&c->addrs[j], &first);

			sa_set_port(&a, 1); /* the key wants a port */
			if (dpdk_key_from_sa(&k, &a) != 0)
				return -EINVAL;
			uint32_t h = dpdk_amap_hash(k.family, k.addr);
			struct dpdk_amap *e = NULL;

			for (unsigned int x = 0; x < DPDK_AMAP_SIZE; x++) {
				e = &d->amap[(h + x) & (DPDK_AMAP_SIZE - 1)];
				if (e->family == 0 || dpdk_amap_eq(e, k.family, k.addr))
					break;
			}
			if (e->family != 0)
				continue; /* on two interfaces: the first carries it */
			e->family = k.family;
			memcpy(e->addr, k.addr, sizeof(e->addr));
			e->port_min = first;
			e->n_ports = n;
		}
	}
	d->n_slots = 0;
	for (unsigned int i = 0; i < DPDK_AMAP_SIZE; i++) {
		d->amap[i].base = d->n_slots;
		d->n_slots += d->amap[i].n_ports;
	}
	return 0;
}

/* The slot of @p k; UINT32_MAX when its address is not a relay address or its port not in range. */
static uint32_t key_slot(const struct dp_dpdk *d, const struct dpdk_flow_key *k)
{
	const struct dpdk_amap *e = dpdk_amap_find(d, k->family, k->addr);

	return e ? dpdk_amap_slot(e, rte_be_to_cpu_16(k->port_be)) : UINT32_MAX;
}

int dpdk_flows_init(struct dp_dpdk *d)
{
	static unsigned int seq;
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];
	size_t rcu_size = rte_rcu_qsbr_get_memsize(d->n_workers);
	unsigned int n = seq++;

	int err = amap_init(d);

	if (err != 0)
		return err;
	if (d->n_slots >= ID_IDX_MASK || d->n_workers > UINT16_MAX)
		return -EINVAL; /* slot index + 1 must fit the id */
	/* a zero-sized table still gets its (unused) arrays: no NULL checks anywhere */
	uint32_t slots = RTE_MAX(d->n_slots, 1u);

	d->flows = rte_zmalloc("dp_dpdk_flows", sizeof(*d->flows) * slots, sizeof(*d->flows));
	d->cold = rte_zmalloc("dp_dpdk_cold", sizeof(*d->cold) * slots, RTE_CACHE_LINE_SIZE);
	d->rcu = rte_zmalloc("dp_dpdk_rcu", rcu_size, RTE_CACHE_LINE_SIZE);
	if (!d->flows || !d->cold || !d->rcu)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(d->rcu, d->n_workers) != 0)
		return -rte_errno;

	snprintf(name, sizeof(name), "dpq%u", n);
	struct rte_rcu_qsbr_dq_parameters qp = {
		.name = name,
		.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE,
		.size = slots,
		.esize = sizeof(struct dq_elem),
		.trigger_reclaim_limit = 64,
		.max_reclaim_size = 256,
		.free_fn = dq_free,
		.p = d,
		.v = d->rcu,
	};
	d->dq = rte_rcu_qsbr_dq_create(&qp);
	return d->dq ? 0 : -ENOMEM;
}

void dpdk_flows_fini(struct dp_dpdk *d)
{
	if (d->dq)
		rte_rcu_qsbr_dq_delete(d->dq); /* workers are stopped: frees what waits */
	if (d->flows) {
		for (uint32_t i = 0; i < d->n_slots; i++)
			if (atomic_load_explicit(&d->flows[i].id, memory_order_relaxed))
				rte_free(d->cold[i].cfg);
	}
	rte_free(d->flows);
	rte_free(d->cold);
	rte_free(d->rcu);
}

/* A signalled address we can send to: a port, and not 0.0.0.0 / :: (hold, or unknown). */
static bool sa_sendable(const struct sa *sa)
{
	return sa_isset(sa) && sa_port(sa) != 0 && !sa_is_any(sa);
}

static struct dpdk_flow_cfg *cfg_new(const struct dp_flow_params *p, uint32_t gen)
{
	bool has_ice = p->ice_local_ufrag[0] || p->ice_local_pwd[0];
	struct dpdk_flow_cfg *c;

	c = rte_zmalloc("dp_dpdk_cfg", sizeof(*c) + (has_ice ? sizeof(struct dpdk_ice) : 0), 0);
	if (!c)
		return NULL;
	c->latch = p->latch;
	if (sa_sendable(&p->latch.expected))
		latch_addr_from_sa(&c->dest, &p->latch.expected);
	c->restart_ms = dp_dpdk_now_ms();
	c->gen = gen;
	c->is_rtcp = p->is_rtcp;
	if (has_ice) {
		struct dpdk_ice *ice = (struct dpdk_ice *)(c + 1);

		snprintf(ice->ufrag, sizeof(ice->ufrag), "%s", p->ice_local_ufrag);
		snprintf(ice->pwd, sizeof(ice->pwd), "%s", p->ice_local_pwd);
		c->ice = ice;
	}
	return c;
}

/*
 * The copy of a linked flow's template in @p f's line 1 is void (struct dpdk_flow): stored after
 * what changed, so that a worker that makes a copy after this sees the change.
 */
static void link_gen_bump(struct dpdk_flow *f)
{
	atomic_fetch_add_explicit(&f->link_gen, 1, memory_order_release);
}

/* @p o changed (settings, deleted): the copy of its template the flow it links to may hold. */
static void link_gen_bump_at(struct dp_dpdk *d, const struct dpdk_flow *o)
{
	struct dpdk_flow *f = dpdk_flow_get(d, atomic_load_explicit(&o->out, memory_order_relaxed));

	if (f)
		link_gen_bump(f);
}

/*
 * Sets up slot @p idx for a new flow: its id is 0 and its last flow's grace period is over
 * (slot_wait()), so a worker that reads it takes none of its packets before the id is stored.
 */
static dp_flow_t slot_init(struct dp_dpdk *d, uint32_t idx, const struct dpdk_flow_key *k,
			   int iface, uint32_t group, struct dpdk_flow_cfg *c)
{
	struct dpdk_flow *f = &d->flows[idx];
	struct dpdk_flow_cold *fc = &d->cold[idx];

	fc->gen++;
	fc->key = *k;
	f->iface = (uint8_t)iface;
	fc->group = group;
	f->owner = (uint16_t)(group % d->n_workers);
	dpdk_flow_seen_gen(f, c->gen);
	memset(&fc->latch, 0, sizeof(fc->latch));
	memset(&f->ctr, 0, sizeof(f->ctr));
	memset(&fc->rare, 0, sizeof(fc->rare));
	atomic_store_explicit(&fc->latch_seq, 0, memory_order_relaxed);
	latch_restart(&fc->latch, &c->latch, c->restart_ms);
	dpdk_latched_set(f, &fc->latch);
	f->sums.serial = 0;
	fc->tx.neigh_gen = 0;
	f->copy.neigh_gen = 0;
	f->is_rtcp = c->is_rtcp;
	atomic_store_explicit(&f->out, 0, memory_order_relaxed);
	atomic_store_explicit(&fc->rtcp_out, 0, memory_order_relaxed);
	atomic_store_explicit(&fc->cfg, c, memory_order_relaxed);
	atomic_store_explicit(&f->cfg_gen, c->gen, memory_order_relaxed);
	dp_flow_t id = ((uint32_t)fc->gen << ID_IDX_BITS) | (idx + 1);
	atomic_store_explicit(&f->id, id, memory_order_release);
	return id;
}

int dpdk_flow_add(struct dp_dpdk *d, const struct dp_flow_params *p, dp_flow_t *out)
{
	struct dpdk_flow_key k;
	struct dpdk_flow_cfg *c;
	uint32_t idx;
	int iface;

	if (dpdk_key_from_sa(&k, &p->local) != 0)
		return -EINVAL;
	iface = dpdk_iface_of_addr(d, k.family, k.addr);
	if (iface < 0)
		return -EADDRNOTAVAIL;
	idx = key_slot(d, &k);
	if (idx == UINT32_MAX)
		return -EADDRNOTAVAIL; /* a port outside the address's range */
	if (atomic_load_explicit(&d->flows[idx].id, memory_order_relaxed) != 0)
		return -EADDRINUSE;
	c = cfg_new(p, 1);
	if (!c)
		return -ENOMEM;
	slot_wait(d, idx);
	*out = slot_init(d, idx, &k, iface, p->group, c); /* its id's store publishes it */
	return 0;
}

/* What cfg_gen says for settings generation @p gen of the flow whose cold part is @p fc. */
static uint32_t cfg_gen_word(const struct dpdk_flow_cold *fc, uint32_t gen)
{
	return gen |
	       (atomic_load_explicit(&fc->rtcp_out, memory_order_relaxed) ? DPDK_CFG_DEMUX : 0);
}

int dpdk_flow_update(struct dp_dpdk *d, dp_flow_t id, const struct dp_flow_params *p)
{
	struct dpdk_flow *f = dpdk_flow_get(d, id);
	struct dpdk_flow_key k;
	struct dpdk_flow_cfg *old, *c;

	if (!f)
		return -ENOENT;
	struct dpdk_flow_cold *fc = dpdk_flow_cold(d, f);

	if (dpdk_key_from_sa(&k, &p->local) != 0 || memcmp(&k, &fc->key, DPDK_FLOW_KEY_LEN) != 0)
		return -EINVAL;
	old = atomic_load_explicit(&fc->cfg, memory_order_relaxed);
	c = cfg_new(p, (old->gen + 1) & DPDK_CFG_GEN_MASK);
	if (!c)
		return -ENOMEM;
	atomic_store_explicit(&fc->cfg, c, memory_order_release);
	atomic_store_explicit(&f->cfg_gen, cfg_gen_word(fc, c->gen), memory_order_release);
	link_gen_bump_at(d, f);
	defer(d, &(struct dq_elem){ .cfg = old, .slot = UINT32_MAX });
	return 0;
}

/* *@p f: flow @p in, when it and @p out (0: none) exist and may be linked. */
static int link_check(struct dp_dpdk *d, dp_flow_t in, dp_flow_t out, struct dpdk_flow **f)
{
	struct dpdk_flow *o = out ? dpdk_flow_get(d, out) : NULL;

	*f = dpdk_flow_get(d, in);
	if (!*f || (out && !o))
		return -ENOENT;
	/* the worker of @p in writes @p out's latch: a pair must share its group (and worker) */
	if (o && dpdk_flow_cold(d, o)->group != dpdk_flow_cold(d, *f)->group)
		return -EXDEV;
	return 0;
}

int dpdk_flow_link(struct dp_dpdk *d, dp_flow_t in, dp_flow_t out)
{
	struct dpdk_flow *f;
	int err = link_check(d, in, out, &f);

	if (err)
		return err;
	struct dpdk_flow *old =
	    dpdk_flow_get(d, atomic_load_explicit(&f->out, memory_order_relaxed));

	atomic_store_explicit(&f->out, out, memory_order_release);
	link_gen_bump(f);
	if (old) /* it may hold a copy of f's template, which f's changes no longer find */
		link_gen_bump(old);
	return 0;
}

/*
 * The RTCP link goes in the cold part, and DPDK_CFG_DEMUX in cfg_gen while it is set: the fast
 * lane then declines the flow's packets and the full way picks the link. rtcp_out is stored
 * first, so a worker that sees the bit sees the link. In flight, a packet may still take the way
 * it had before: as with the sockets backend, whose links reach the worker by message.
 */
int dpdk_flow_link_rtcp(struct dp_dpdk *d, dp_flow_t in, dp_flow_t out)
{
	struct dpdk_flow *f;
	int err = link_check(d, in, out, &f);

	if (err)
		return err;
	struct dpdk_flow_cold *fc = dpdk_flow_cold(d, f);
	uint32_t gen = atomic_load_explicit(&fc->cfg, memory_order_relaxed)->gen;

	atomic_store_explicit(&fc->rtcp_out, out, memory_order_release);
	atomic_store_explicit(&f->cfg_gen, cfg_gen_word(fc, gen), memory_order_release);
	return 0;
}

int dpdk_flow_del(struct dp_dpdk *d, dp_flow_t id)
{
	struct dpdk_flow *f = dpdk_flow_get(d, id);

	if (!f)
		return -ENOENT;
	dpdk_flow_cold(d, f)->deferred = true;
	atomic_store_explicit(&f->id, 0, memory_order_release);
	link_gen_bump_at(d, f);
	defer(d, &(struct dq_elem){
		     .cfg = atomic_load_explicit(&dpdk_flow_cold(d, f)->cfg, memory_order_relaxed),
		     .slot = (uint32_t)(f - d->flows) });
	return 0;
}

/* The latch as the worker last left it: retried while the worker is changing it. */
static void latch_read(struct dpdk_flow_cold *fc, struct latch *l)
{
	uint32_t s1, s2;

	do {
		s1 = atomic_load_explicit(&fc->latch_seq, memory_order_acquire);
		memcpy(l, &fc->latch, sizeof(*l));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&fc->latch_seq, memory_order_relaxed);
	} while ((s1 & 1) || s1 != s2);
}

int dpdk_flow_stats(struct dp_dpdk *d, dp_flow_t id, struct dp_flow_stats *out)
{
	struct dpdk_flow *f = dpdk_flow_get(d, id);
	struct latch l;

	if (!f)
		return -ENOENT;
	out->packets = dpdk_ctr_get(&f->ctr.packets);
	out->bytes = dpdk_ctr_get(&f->ctr.bytes);
	struct dpdk_flow_cold *fc = dpdk_flow_cold(d, f);

	out->errors = dpdk_ctr_get(&fc->rare.errors);
	out->refused = dpdk_ctr_get(&fc->rare.refused);
	out->stun_answered = dpdk_ctr_get(&fc->rare.stun_answered);
	out->stun_refused = dpdk_ctr_get(&fc->rare.stun_refused);
	out->last_packet_ms = dpdk_ctr_get(&f->ctr.last_ms);
	latch_read(fc, &l);
	out->latched = l.learned;
	out->ssrc = l.has_ssrc ? l.ssrc : 0;
	return 0;
}
