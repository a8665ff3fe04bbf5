/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control side of the sockets backend: the flow table (ids are slots + 1), socket
 * binding, and the commands that hand flows to their workers. Called from the control thread
 * only (dataplane.h), so the table needs no lock; workers never look at it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "sockets_int.h"

#define SK_WORKERS_MAX	  64
#define SK_BATCH_DEFAULT  32
#define SK_BATCH_MAX	  1024
#define SK_FLOWS_MAX	  (1u << 24)
#define SK_DEL_TIMEOUT_MS 5000

struct sk_dataplane {
	struct dataplane base;
	unsigned nworkers;
	struct sk_worker *workers;
	struct sk_flow **slots; /* flow id - 1 */
	uint32_t nslots;
	uint32_t *free_ids; /* the free slots, a stack: taking one never scans (nslots long) */
	uint32_t nfree;
	struct sk_xdp *xdp; /* the xdp engine's program and AF_XDP sockets, NULL: none */
};

static struct sk_dataplane *sk_of(struct dataplane *dp)
{
	return (struct sk_dataplane *)dp;
}

static struct sk_flow *flow_lookup(struct sk_dataplane *sk, dp_flow_t id)
{
	if (id == 0 || id > sk->nslots)
		return NULL;
	return sk->slots[id - 1];
}

/* Doubles the table; its new slots go on the stack, the lowest on top. */
static int slot_grow(struct sk_dataplane *sk)
{
	uint32_t n = sk->nslots ? sk->nslots * 2 : 64;
	struct sk_flow **s;
	uint32_t *ids;

	if (sk->nslots >= SK_FLOWS_MAX)
		return -ENOSPC;
	s = realloc(sk->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	sk->slots = s;
	ids = realloc(sk->free_ids, n * sizeof(*ids));
	if (!ids)
		return -ENOMEM; /* the bigger table is kept, unused */
	sk->free_ids = ids;
	memset(s + sk->nslots, 0, (n - sk->nslots) * sizeof(*s));
	for (uint32_t i = n; i > sk->nslots; i--)
		sk->free_ids[sk->nfree++] = i - 1;
	sk->nslots = n;
	return 0;
}

static int slot_take(struct sk_dataplane *sk, struct sk_flow *f, dp_flow_t *id)
{
	uint32_t i;

	if (!sk->nfree) {
		int err = slot_grow(sk);

		if (err)
			return err;
	}
	i = sk->free_ids[--sk->nfree];
	sk->slots[i] = f;
	*id = i + 1;
	return 0;
}

static void slot_release(struct sk_dataplane *sk, dp_flow_t id)
{
	sk->slots[id - 1] = NULL;
	sk->free_ids[sk->nfree++] = id - 1;
}

/* The ICE strings may fill their arrays: copy them terminated. */
static void signalled_from_params(struct sk_signalled *sig, const struct dp_flow_params *p)
{
	memset(sig, 0, sizeof(*sig));
	sig->latch = p->latch;
	memcpy(sig->ice_ufrag, p->ice_local_ufrag, sizeof(sig->ice_ufrag) - 1);
	memcpy(sig->ice_pwd, p->ice_local_pwd, sizeof(sig->ice_pwd) - 1);
	sig->is_rtcp = p->is_rtcp;
}

/* A UDP socket bound to @p local, no SO_REUSEADDR: a port taken is -EADDRINUSE. */
static int socket_bind(const struct sa *local, int *fdp)
{
	int family = sa_family(local);
	int fd, one = 1;

	if ((family != AF_INET && family != AF_INET6) || sa_port(local) == 0)
		return -EINVAL;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* [::]:port must not also take 0.0.0.0:port from an IPv4 flow */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, &local->u.sa, local->len) < 0)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	one = -errno;
	close(fd);
	return one;
}

static void counters_init(struct sk_counters *c)
{
	atomic_init(&c->packets, 0);
	atomic_init(&c->bytes, 0);
	atomic_init(&c->errors, 0);
	atomic_init(&c->refused, 0);
	atomic_init(&c->stun_answered, 0);
	atomic_init(&c->stun_refused, 0);
	atomic_init(&c->last_packet_ms, 0);
	atomic_init(&c->ssrc, 0);
	pub_addr_init(&c->latched);
}

static int sk_flow_add(struct dataplane *dp, const struct dp_flow_params *p, dp_flow_t *out)
{
	struct sk_dataplane *sk = sk_of(dp);
	struct sk_cmd cmd = { .op = SK_CMD_ADD };
	struct sk_flow *f;
	int err, fd = -1;

	err = socket_bind(&p->local, &fd);
	if (err)
		return err;
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->group = p->group;
	f->worker = p->group % sk->nworkers;
	f->local = p->local;
	atomic_init(&f->deleted, false);
	counters_init(&f->ctr);
	err = slot_take(sk, f, &f->id);
	if (err)
		goto fail;
	cmd.flow = f;
	signalled_from_params(&cmd.sig, p);
	err = sk_worker_post(&sk->workers[f->worker], &cmd);
	if (err) {
		slot_release(sk, f->id);
		goto fail;
	}
	*out = f->id;
	return 0;
fail:
	close(fd);
	free(f);
	return err;
}

static int sk_flow_update(struct dataplane *dp, dp_flow_t id, const struct dp_flow_params *p)
{
	struct sk_dataplane *sk = sk_of(dp);
	struct sk_flow *f = flow_lookup(sk, id);
	struct sk_cmd cmd = { .op = SK_CMD_UPDATE };

	if (!f)
		return -ENOENT;
	if (!sa_equal(&p->local, &f->local))
		return -EINVAL;
	cmd.flow = f;
	signalled_from_params(&cmd.sig, p);
	return sk_worker_post(&sk->workers[f->worker], &cmd);
}

static int link_post(struct dataplane *dp, dp_flow_t in, dp_flow_t out, enum sk_link_kind kind)
{
	struct sk_dataplane *sk = sk_of(dp);
	struct sk_flow *f = flow_lookup(sk, in);
	struct sk_flow *o = out ? flow_lookup(sk, out) : NULL;
	struct sk_cmd cmd = { .op = SK_CMD_LINK, .flow = f, .out = o, .kind = kind };

	if (!f || (out && !o))
		return -ENOENT;
	/*
	 * Across workers a link would race on the output flow's latch. Checked by group, not by
	 * worker, so that a mistake shows whatever the number of workers.
	 */
	if (o && o->group != f->group)
		return -EXDEV;
	return sk_worker_post(&sk->workers[f->worker], &cmd);
}

static int sk_flow_link(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return link_post(dp, in, out, SK_LINK_MEDIA);
}

static int sk_flow_link_rtcp(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return link_post(dp, in, out, SK_LINK_RTCP);
}

/* Queues @p f's deletion once: a flow whose earlier deletion timed out is only waited for. */
static int del_post(struct sk_dataplane *sk, struct sk_flow *f)
{
	struct sk_cmd cmd = { .op = SK_CMD_DEL, .flow = f };
	int err;

	if (f->del_posted)
		return 0;
	err = sk_worker_post(&sk->workers[f->worker], &cmd);
	if (!err)
		f->del_posted = true;
	return err;
}

/* After the worker's acknowledgement: nothing refers to @p f any more. */
static int del_finish(struct sk_dataplane *sk, struct sk_flow *f, uint64_t deadline_ms)
{
	int err = sk_worker_wait_deleted(&sk->workers[f->worker], f, deadline_ms);

	if (err)
		return err; /* the worker may still use it: keep the flow */
	slot_release(sk, f->id);
	close(f->fd);
	free(f);
	return 0;
}

/*
 * Every delete is posted before the first wait, so a worker takes them in one wake-up and one
 * acknowledgement covers them all: one round trip per call instead of one per flow.
 */
static int sk_flow_del_many(struct dataplane *dp, const dp_flow_t *ids, unsigned n)
{
	struct sk_dataplane *sk = sk_of(dp);
	uint64_t deadline_ms = sk_now_ms() + SK_DEL_TIMEOUT_MS;
	int first = 0;

	for (unsigned i = 0; i < n; i++) {
		struct sk_flow *f = flow_lookup(sk, ids[i]);
		int err = f ? del_post(sk, f) : -ENOENT;

		if (err && !first)
			first = err;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sk_flow *f = flow_lookup(sk, ids[i]); /* NULL for a repeated id */
		int err;

		if (!f || !f->del_posted)
			continue;
		err = del_finish(sk, f, deadline_ms);
		if (err && !first)
			first = err;
	}
	return first;
}

static int sk_flow_del(struct dataplane *dp, dp_flow_t id)
{
	return sk_flow_del_many(dp, &id, 1);
}

static uint64_t ctr_load(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static int sk_flow_stats(struct dataplane *dp, dp_flow_t id, struct dp_flow_stats *st)
{
	struct sk_flow *f = flow_lookup(sk_of(dp), id);

	if (!f)
		return -ENOENT;
	st->packets = ctr_load(&f->ctr.packets);
	st->bytes = ctr_load(&f->ctr.bytes);
	st->errors = ctr_load(&f->ctr.errors);
	st->refused = ctr_load(&f->ctr.refused);
	st->stun_answered = ctr_load(&f->ctr.stun_answered);
	st->stun_refused = ctr_load(&f->ctr.stun_refused);
	st->last_packet_ms = ctr_load(&f->ctr.last_packet_ms);
	st->ssrc = atomic_load_explicit(&f->ctr.ssrc, memory_order_relaxed);
	pub_addr_load(&f->ctr.latched, &st->latched);
	return 0;
}

static void sk_free(struct dataplane *dp)
{
	struct sk_dataplane *sk = sk_of(dp);

	for (unsigned i = 0; i < sk->nworkers; i++)
		sk_worker_stop(&sk->workers[i]);
#ifdef SBC_HAVE_XDP
	/* the program leaves the netdevs before the sockets it redirects to close */
	sk_xdp_close(sk->xdp);
#endif
	for (uint32_t i = 0; i < sk->nslots; i++) {
		if (sk->slots[i]) {
			close(sk->slots[i]->fd);
			free(sk->slots[i]);
		}
	}
	for (unsigned i = 0; i < sk->nworkers; i++)
		sk_worker_destroy(&sk->workers[i]);
	free(sk->workers);
	free(sk->slots);
	free(sk->free_ids);
	free(sk);
}

/* Every engine's operations: the xdp engine's table differs in its name only (one list, so
 * that an operation added to the backend cannot miss one of them, as flow_link_rtcp once did). */
#define SK_OPS                                                                             \
	.flow_add = sk_flow_add, .flow_update = sk_flow_update, .flow_link = sk_flow_link, \
	.flow_link_rtcp = sk_flow_link_rtcp, .flow_del = sk_flow_del,                      \
	.flow_del_many = sk_flow_del_many, .flow_stats = sk_flow_stats, .free = sk_free

static const struct dataplane_ops sk_ops = { .name = "sockets", SK_OPS };

/* The same backend, named after its engine in status and metrics. */
static const struct dataplane_ops sk_xdp_ops = { .name = "xdp", SK_OPS };

int dp_sockets_xdp_stats(struct dataplane *dp, struct dp_sockets_xdp_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (dp->ops != &sk_ops && dp->ops != &sk_xdp_ops)
		return -EINVAL;
#ifdef SBC_HAVE_XDP
	sk_xdp_stats(sk_of(dp)->xdp, st);
#endif
	return 0;
}

/*
 * The xdp engine, or a warning and the default engine: XDP needs root (CAP_NET_ADMIN,
 * CAP_BPF), a netdev without another XDP program, and a build with libbpf and clang.
 */
static void xdp_start(struct sk_dataplane *sk, struct dp_sockets_conf *c)
{
#ifdef SBC_HAVE_XDP
	int err;

	if (c->workers > 1)
		log_notice("dataplane engine xdp: one worker (not %u) owns the AF_XDP sockets",
			   c->workers);
	c->workers = 1;
	err = sk_xdp_open(&sk->xdp, c->xdp_addrs, c->n_xdp_addrs, c->xdp_frames);
	if (!err) {
		sk->base.ops = &sk_xdp_ops;
		return;
	}
	sk->xdp = NULL;
	log_warn("dataplane engine xdp: cannot attach XDP (%s%s): running as plain \"sockets\"",
		 strerror(-err),
		 err == -EBUSY ? ", another XDP program is attached"
			       : "; log level debug shows libbpf's reason");
#else
	log_warn("dataplane engine xdp: built without libbpf/clang: running as plain \"sockets\"");
#endif
	c->engine = DP_SOCKETS_ENGINE_AUTO;
}

static void conf_defaults(struct dp_sockets_conf *c, const struct dp_sockets_conf *in)
{
	const char *env;

	*c = in ? *in : (struct dp_sockets_conf){ 0 };
	if (c->workers == 0)
		c->workers = 1;
	if (c->workers > SK_WORKERS_MAX)
		c->workers = SK_WORKERS_MAX;
	if (c->batch == 0)
		c->batch = SK_BATCH_DEFAULT;
	if (c->batch > SK_BATCH_MAX)
		c->batch = SK_BATCH_MAX;
	if (c->engine == DP_SOCKETS_ENGINE_AUTO && (env = getenv("SBC_DP_SOCKETS_ENGINE"))) {
		if (!strcmp(env, "epoll"))
			c->engine = DP_SOCKETS_ENGINE_EPOLL;
		else if (!strcmp(env, "uring"))
			c->engine = DP_SOCKETS_ENGINE_URING;
	}
}

int dp_sockets_alloc(struct dataplane **dpp, const struct dp_sockets_conf *conf)
{
	struct dp_sockets_conf c;
	struct sk_dataplane *sk;
	int err = -ENOMEM;

	conf_defaults(&c, conf);
	sk = calloc(1, sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	sk->base.ops = &sk_ops;
	if (c.engine == DP_SOCKETS_ENGINE_XDP)
		xdp_start(sk, &c);
	sk->workers = calloc(c.workers, sizeof(*sk->workers));
	if (!sk->workers)
		goto out;
	for (unsigned i = 0; i < c.workers; i++) {
		sk->nworkers = i + 1; /* what sk_free must undo */
		err = sk_worker_init(&sk->workers[i], c.batch, c.engine);
		sk->workers[i].xdp = sk->xdp;
		if (!err)
			err = sk_worker_start(&sk->workers[i]);
		if (err)
			goto out;
	}
	*dpp = &sk->base;
	return 0;
out:
	sk_free(&sk->base);
	return err;
}
