/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The transport layer: listeners, the connection table, send routing, bursts.
 *
 * Connection table: three chained hash tables with a fixed bucket count (the
 * next power of two >= max_conns, so chains stay short at the limit): by id
 * (ids are sequential, the low bits are the bucket), by (listener, remote
 * address) for reuse, and the per-source-address counts of accepted
 * connections. Nothing here allocates except a count node for a new source.
 */
#include "transport_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEF_MAX_MSG_SIZE     65535
#define DEF_MAX_CONNS	     4096
#define DEF_MAX_CONNS_PER_IP 256
#define DEF_IDLE_TIMEOUT_MS  300000
#define DEF_CONNECT_TIMEOUT  10000
#define DEF_MAX_OUTQ	     (1024 * 1024)
#define DEF_LOG_INTERVAL_MS  10000

static const char *const proto_names[] = { "UDP", "TCP", "TLS" };

const char *sip_proto_name(enum sip_proto p)
{
	return (unsigned)p < sizeof(proto_names) / sizeof(proto_names[0]) ? proto_names[p] : "?";
}

int sip_proto_from_name(struct strv name, enum sip_proto *p)
{
	for (unsigned i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (strv_caseeq(name, strv_cstr(proto_names[i]))) {
			*p = (enum sip_proto)i;
			return 0;
		}
	}
	return -EINVAL;
}

char *sip_flow_print(const struct sip_flow *f, char *buf, size_t size)
{
	static const char *const lower[] = { "udp", "tcp", "tls" };
	char local[SA_STRLEN], remote[SA_STRLEN];

	snprintf(buf, size, "%s:%s->%s#%llu", f->proto < 3 ? lower[f->proto] : "?",
		 sa_print(&f->local, local, sizeof(local)),
		 sa_print(&f->remote, remote, sizeof(remote)), (unsigned long long)f->conn_id);
	return buf;
}

/* ---- the connection table ---- */

static uint32_t hash_bytes(uint32_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u; /* FNV-1a */
	return h;
}

static uint32_t hash_addr(const struct sa *a, bool with_port)
{
	uint32_t h = 2166136261u;

	if (sa_family(a) == AF_INET) {
		h = hash_bytes(h, &a->u.in.sin_addr, sizeof(a->u.in.sin_addr));
	} else {
		h = hash_bytes(h, &a->u.in6.sin6_addr, sizeof(a->u.in6.sin6_addr));
		h = hash_bytes(h, &a->u.in6.sin6_scope_id, sizeof(a->u.in6.sin6_scope_id));
	}
	if (with_port) {
		uint16_t port = sa_port(a);

		h = hash_bytes(h, &port, sizeof(port));
	}
	return h;
}

static inline uint32_t addr_bucket(const struct sip_transport *tp, unsigned li,
				   const struct sa *remote)
{
	return (hash_addr(remote, true) ^ li * 0x9e3779b1u) & tp->mask;
}

void tp_conn_link(struct sip_transport *tp, struct sip_conn *c)
{
	uint32_t b = (uint32_t)c->id & tp->mask;

	c->id_next = tp->by_id[b];
	tp->by_id[b] = c;
	b = addr_bucket(tp, c->li->idx, &c->flow.remote);
	c->addr_next = tp->by_addr[b];
	tp->by_addr[b] = c;
	tp->nconns++;
}

static void chain_unlink(struct sip_conn **pp, struct sip_conn *c, size_t next_off)
{
	while (*pp) {
		struct sip_conn **nextp = (struct sip_conn **)(void *)((char *)*pp + next_off);

		if (*pp == c) {
			*pp = *nextp;
			return;
		}
		pp = nextp;
	}
}

void tp_conn_unlink(struct sip_transport *tp, struct sip_conn *c)
{
	chain_unlink(&tp->by_id[(uint32_t)c->id & tp->mask], c, offsetof(struct sip_conn, id_next));
	chain_unlink(&tp->by_addr[addr_bucket(tp, c->li->idx, &c->flow.remote)], c,
		     offsetof(struct sip_conn, addr_next));
	tp->nconns--;
	if (c->ipc) {
		tp_ip_put(tp, c->ipc);
		c->ipc = NULL;
	}
}

struct sip_conn *tp_conn_by_id(const struct sip_transport *tp, uint64_t id)
{
	struct sip_conn *c = tp->by_id[(uint32_t)id & tp->mask];

	while (c && c->id != id)
		c = c->id_next;
	return c;
}

struct sip_conn *tp_conn_by_addr(const struct sip_transport *tp, const struct sip_listener *li,
				 const struct sa *remote, const char *tls_name)
{
	struct sip_conn *c = tp->by_addr[addr_bucket(tp, li->idx, remote)];

	for (; c; c = c->addr_next) {
		if (c->li != li || c->closing || !sa_equal(&c->flow.remote, remote))
			continue;
		if (tls_name && (!c->tls_name || strcasecmp(c->tls_name, tls_name) != 0))
			continue;
		return c;
	}
	return NULL;
}

struct ip_count *tp_ip_get(struct sip_transport *tp, const struct sa *remote)
{
	uint32_t b = hash_addr(remote, false) & tp->mask;
	struct ip_count *ipc;

	for (ipc = tp->by_ip[b]; ipc; ipc = ipc->next) {
		if (sa_equal_addr(&ipc->addr, remote))
			return ipc;
	}
	ipc = calloc(1, sizeof(*ipc));
	if (!ipc)
		return NULL;
	ipc->addr = *remote;
	sa_set_port(&ipc->addr, 0);
	ipc->next = tp->by_ip[b];
	tp->by_ip[b] = ipc;
	return ipc;
}

void tp_ip_put(struct sip_transport *tp, struct ip_count *ipc)
{
	struct ip_count **pp;

	if (ipc->count > 0)
		ipc->count--;
	if (ipc->count > 0)
		return;
	for (pp = &tp->by_ip[hash_addr(&ipc->addr, false) & tp->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == ipc) {
			*pp = ipc->next;
			free(ipc);
			return;
		}
	}
}

/* ---- bursts ---- */

void tp_burst_begin(struct sip_transport *tp)
{
	tp->burst++;
}

void tp_burst_end(struct sip_transport *tp)
{
	if (--tp->burst)
		return;
	if (tp->tx_n)
		udp_flush(tp);
	while (tp->flush_head) {
		struct sip_conn *c = tp->flush_head;

		tp->flush_head = c->flush_next;
		c->flush_next = NULL;
		conn_flush_burst(c);
	}
}

void tp_keepalive(struct sip_transport *tp, const struct sip_flow *flow, bool pong)
{
	tp->li[flow->listener]->st.keepalives++;
	if (tp->keepalive_h)
		tp->keepalive_h(flow, pong, tp->arg);
}

void tp_deliver(struct sip_transport *tp, const struct sip_flow *flow, const char *buf, size_t len)
{
	tp->li[flow->listener]->st.rx_msgs++;
	if (tp->recv_h)
		tp->recv_h(flow, buf, len, tp->arg);
}

/* ---- the layer ---- */

int sip_transport_alloc(struct sip_transport **tpp, struct loop *l,
			const struct sip_transport_opts *opts)
{
	struct sip_transport *tp;
	uint32_t buckets = 64;
	int err = -ENOMEM;

	if (!l)
		return -EINVAL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->loop = l;
	if (opts)
		tp->o = *opts;
	if (!tp->o.max_msg_size)
		tp->o.max_msg_size = DEF_MAX_MSG_SIZE;
	if (!tp->o.max_conns)
		tp->o.max_conns = DEF_MAX_CONNS;
	if (!tp->o.max_conns_per_ip)
		tp->o.max_conns_per_ip = DEF_MAX_CONNS_PER_IP;
	if (!tp->o.idle_timeout_ms)
		tp->o.idle_timeout_ms = DEF_IDLE_TIMEOUT_MS;
	if (!tp->o.connect_timeout_ms)
		tp->o.connect_timeout_ms = DEF_CONNECT_TIMEOUT;
	if (!tp->o.max_outq)
		tp->o.max_outq = DEF_MAX_OUTQ;
	if (!tp->o.log_interval_ms)
		tp->o.log_interval_ms = DEF_LOG_INTERVAL_MS;
	if (tp->o.max_msg_size > 16 * 1024 * 1024 || tp->o.max_conns > (1u << 24)) {
		err = -EINVAL;
		goto out;
	}
	while (buckets < tp->o.max_conns)
		buckets *= 2;
	tp->mask = buckets - 1;
	tp->next_id = 1;
	log_ratelimit_init(&tp->rl, tp->o.log_interval_ms);
	tp->by_id = calloc(buckets, sizeof(*tp->by_id));
	tp->by_addr = calloc(buckets, sizeof(*tp->by_addr));
	tp->by_ip = calloc(buckets, sizeof(*tp->by_ip));
	tp->scratch = malloc(STREAM_READ_SIZE);
	tp->rx_bufs = malloc((size_t)UDP_BATCH * UDP_BUFSZ);
	tp->tx_arena = malloc(UDP_TX_ARENA);
	if (!tp->by_id || !tp->by_addr || !tp->by_ip || !tp->scratch || !tp->rx_bufs ||
	    !tp->tx_arena)
		goto out;
	*tpp = tp;
	return 0;
out:
	sip_transport_free(tp);
	return err;
}

void sip_transport_free(struct sip_transport *tp)
{
	if (!tp)
		return;
	tp->close_h = NULL;
	tp->recv_h = NULL;
	if (tp->by_id) {
		for (uint32_t b = 0; b <= tp->mask; b++) {
			while (tp->by_id[b])
				conn_destroy(tp->by_id[b]);
		}
	}
	for (unsigned i = 0; i < tp->nli; i++) {
		struct sip_listener *li = tp->li[i];

		timer_cancel(loop_timers(tp->loop), &li->pause);
		if (li->fd >= 0) {
			loop_fd_remove(tp->loop, li->fd);
			close(li->fd);
		}
		tls_listener_free(li);
		free(li);
	}
	free(tp->by_id);
	free(tp->by_addr);
	free(tp->by_ip);
	free(tp->scratch);
	free(tp->rx_bufs);
	free(tp->tx_arena);
	free(tp);
}

void sip_transport_set_handlers(struct sip_transport *tp, sip_transport_recv_h *recv_h,
				sip_transport_close_h *close_h, void *arg)
{
	tp->recv_h = recv_h;
	tp->close_h = close_h;
	tp->arg = arg;
}

void sip_transport_set_keepalive_h(struct sip_transport *tp, sip_transport_keepalive_h *h)
{
	tp->keepalive_h = h;
}

int sip_transport_listen(struct sip_transport *tp, const struct sip_listen_opts *o, unsigned *idx)
{
	struct sip_listener *li;
	char addr[SA_STRLEN];
	int err;

	if (!o || (unsigned)o->proto > SIP_PROTO_TLS ||
	    (sa_family(&o->addr) != AF_INET && sa_family(&o->addr) != AF_INET6))
		return -EINVAL;
	if (tp->nli >= TP_MAX_LISTENERS)
		return -ENOSPC;
	li = calloc(1, sizeof(*li));
	if (!li)
		return -ENOMEM;
	li->tp = tp;
	li->idx = (uint16_t)tp->nli;
	li->proto = o->proto;
	li->fd = -1;
	li->addr = o->addr;
	li->advertise = o->advertise;
	li->wildcard = sa_is_any(&o->addr);
	timer_init(&li->pause);
	strv_copy(strv_cstr(o->interface ? o->interface : ""), li->name, sizeof(li->name));
	sa_print(&o->addr, addr, sizeof(addr));
	if (o->proto == SIP_PROTO_TLS) {
		err = tls_listener_init(li, &o->tls);
		if (err)
			goto out;
	}
	err = o->proto == SIP_PROTO_UDP ? udp_open(li) : stream_open(li);
	if (err) {
		log_err("sip: cannot listen on %s:%s: %s", sip_proto_name(o->proto), addr,
			strerror(-err));
		goto out;
	}
	tp->li[tp->nli++] = li;
	if (idx)
		*idx = li->idx;
	log_debug("sip: listening on %s:%s (interface %s)", sip_proto_name(o->proto),
		  sa_print(&li->addr, addr, sizeof(addr)), li->name[0] ? li->name : "-");
	return 0;
out:
	if (li->fd >= 0)
		close(li->fd);
	tls_listener_free(li);
	free(li);
	return err;
}

unsigned sip_transport_listener_count(const struct sip_transport *tp)
{
	return tp->nli;
}

int sip_transport_listener_addr(const struct sip_transport *tp, unsigned idx, struct sa *addr)
{
	if (idx >= tp->nli)
		return -ENOENT;
	*addr = tp->li[idx]->addr;
	return 0;
}

int sip_transport_listener_proto(const struct sip_transport *tp, unsigned idx)
{
	return idx < tp->nli ? (int)tp->li[idx]->proto : -ENOENT;
}

const char *sip_transport_listener_name(const struct sip_transport *tp, unsigned idx)
{
	return idx < tp->nli ? tp->li[idx]->name : NULL;
}

int sip_transport_stats(const struct sip_transport *tp, unsigned idx,
			struct sip_transport_stats *out)
{
	if (idx >= tp->nli)
		return -ENOENT;
	*out = tp->li[idx]->st;
	return 0;
}

/* ---- sending ---- */

static struct sip_listener *flow_listener(const struct sip_transport *tp,
					  const struct sip_flow *flow)
{
	struct sip_listener *li;

	if (!flow || flow->listener >= tp->nli)
		return NULL;
	li = tp->li[flow->listener];
	return li->proto == flow->proto ? li : NULL;
}

static struct sip_conn *flow_conn(const struct sip_transport *tp, const struct sip_flow *flow)
{
	struct sip_conn *c = tp_conn_by_id(tp, flow->conn_id);

	return c && !c->closing && c->li->idx == flow->listener ? c : NULL;
}

int sip_transport_send(struct sip_transport *tp, const struct sip_flow *flow, const void *buf,
		       size_t len)
{
	struct sip_listener *li = flow_listener(tp, flow);
	struct sip_conn *c;

	if (!li || (!buf && len))
		return -EINVAL;
	if (li->proto == SIP_PROTO_UDP)
		return udp_send(li, &flow->remote, &flow->local, buf, len);
	c = flow_conn(tp, flow);
	if (!c)
		return -ENOTCONN;
	return stream_send(c, buf, len);
}

int sip_transport_send_to(struct sip_transport *tp, unsigned listener, const struct sa *dst,
			  const char *tls_name, const void *buf, size_t len, struct sip_flow *flow)
{
	struct sip_listener *li;
	struct sip_conn *c;
	int err;

	if (listener >= tp->nli || !dst || (!buf && len))
		return -EINVAL;
	li = tp->li[listener];
	if (sa_family(dst) != sa_family(&li->addr) || sa_port(dst) == 0)
		return -EINVAL;
	if (li->proto == SIP_PROTO_UDP) {
		if (flow) {
			memset(flow, 0, sizeof(*flow));
			flow->proto = SIP_PROTO_UDP;
			flow->listener = li->idx;
			flow->remote = *dst;
			flow->local = li->addr;
		}
		return udp_send(li, dst, NULL, buf, len);
	}
	if (li->proto != SIP_PROTO_TLS)
		tls_name = NULL;
	c = tp_conn_by_addr(tp, li, dst, tls_name);
	if (!c) {
		err = stream_connect(li, dst, tls_name, &c);
		if (err)
			return err;
	}
	if (flow)
		*flow = c->flow;
	return stream_send(c, buf, len);
}

bool sip_transport_flow_alive(const struct sip_transport *tp, const struct sip_flow *flow)
{
	struct sip_listener *li = flow_listener(tp, flow);

	if (!li)
		return false;
	return li->proto == SIP_PROTO_UDP || flow_conn(tp, flow) != NULL;
}

int sip_transport_flow_close(struct sip_transport *tp, const struct sip_flow *flow)
{
	struct sip_listener *li = flow_listener(tp, flow);
	struct sip_conn *c;

	if (!li || li->proto == SIP_PROTO_UDP)
		return -EINVAL;
	c = flow_conn(tp, flow);
	if (!c)
		return -ENOTCONN;
	conn_close_later(c, 0);
	return 0;
}
