/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Calls: the call table, monologues and their ports, and the offer/answer/delete commands.
 * See call.h for the model; call_stats.c writes statistics, call_timeout.c deletes idle calls.
 */
#include "call_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/log.h"
#include "ports.h"
#include "sdp.h"

/* Wall-clock seconds and their microseconds, as Sipwise reports "created" and "created_us". */
static void call_wall_clock(uint64_t *s, uint32_t *us)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*s = (uint64_t)ts.tv_sec;
	*us = (uint32_t)(ts.tv_nsec / 1000);
}

#define INITIAL_BUCKETS 1024
#define BIND_TRIES	8 /* port pairs tried when another process holds a port */

/* --- the call table ------------------------------------------------------- */

/* FNV-1a from a secret start, then a final mix so every bit depends on the seed: whoever
 * picks call-ids cannot aim them at one bucket or one dataplane worker. */
static uint32_t hash_id(const struct calls *c, struct strv s)
{
	uint32_t h = 2166136261u ^ c->hash_seed;

	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (uint8_t)s.p[i]) * 16777619u;
	h ^= c->hash_seed;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

int calls_alloc(struct calls **cp, const struct calls_conf *conf)
{
	struct calls *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (conf->nifaces == 0 || !conf->dp) {
		free(c);
		return -EINVAL;
	}
	c->conf = *conf;
	c->nbuckets = INITIAL_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(c->buckets[0]));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	if (getrandom(&c->rand_state, sizeof(c->rand_state), GRND_NONBLOCK) !=
	    sizeof(c->rand_state))
		c->rand_state = (uint32_t)time(NULL);
	if (getrandom(&c->hash_seed, sizeof(c->hash_seed), GRND_NONBLOCK) != sizeof(c->hash_seed))
		c->hash_seed = c->rand_state * 2654435761u;
	*cp = c;
	return 0;
}

void calls_free(struct calls *c)
{
	if (!c)
		return;
	while (c->first)
		call_destroy(c, c->first, CALL_END_SHUTDOWN);
	calls_reap_zombies(c);
	while (c->zombies) {
		struct zombie *z = c->zombies;

		log_warn("port %u: flows not deleted at shutdown", z->port);
		c->zombies = z->next;
		free(z);
	}
	free(c->buckets);
	free(c);
}

void calls_set_teardown_h(struct calls *c, call_teardown_h *h, void *arg)
{
	c->teardown_h = h;
	c->teardown_arg = arg;
}

void calls_set_limits(struct calls *c, const struct calls_limits *l)
{
	c->conf.limits = *l;
}

const struct calls_counters *calls_counters(const struct calls *c)
{
	return &c->counters;
}

struct call *calls_find(struct calls *c, struct strv id)
{
	uint32_t h = hash_id(c, id);

	for (struct call *call = c->buckets[h & (c->nbuckets - 1)]; call; call = call->hnext) {
		if (call->hash == h && strv_eq(strv_make(call->id, call->id_len), id))
			return call;
	}
	return NULL;
}

/* Doubles the table once calls outnumber buckets; a failure only leaves chains longer. */
static void table_grow(struct calls *c)
{
	uint32_t n = c->nbuckets * 2;
	struct call **b;

	if (c->counters.current <= c->nbuckets || n == 0)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i < c->nbuckets; i++) {
		struct call *call, *next;

		for (call = c->buckets[i]; call; call = next) {
			next = call->hnext;
			call->hnext = b[call->hash & (n - 1)];
			b[call->hash & (n - 1)] = call;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static char *strv_dup(struct strv s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		if (s.len)
			memcpy(p, s.p, s.len);
		p[s.len] = '\0';
	}
	return p;
}

static struct call *call_create(struct calls *c, struct strv id, struct strv from_tag,
				uint64_t now_ms)
{
	struct call *call = calloc(1, sizeof(*call));
	struct call **bucket;

	if (!call)
		return NULL;
	call->id = strv_dup(id);
	if (!call->id) {
		free(call);
		return NULL;
	}
	call->id_len = id.len;
	call->hash = hash_id(c, id);
	if (!(call->from_tag = strv_dup(from_tag))) {
		free(call->id);
		free(call);
		return NULL;
	}
	call->created_ms = now_ms;
	call_wall_clock(&call->created_wall_s, &call->created_wall_us);
	bucket = &c->buckets[call->hash & (c->nbuckets - 1)];
	call->hnext = *bucket;
	*bucket = call;
	call->prev = c->last;
	if (c->last)
		c->last->next = call;
	else
		c->first = call;
	c->last = call;
	c->counters.current++;
	c->counters.total++;
	table_grow(c);
	return call;
}

/* --- streams and media: ports and flows ------------------------------------ */

/* A deleted flow's counters go to its interface's totals (metrics). */
static void stream_account(struct calls *c, const struct monologue *m, const struct stream *s)
{
	struct dp_flow_stats st;

	if (s->flow && dp_flow_stats(c->conf.dp, s->flow, &st) == 0)
		calls_traffic_add(&c->gone[m->iface - c->conf.ifaces], &st);
}

/*
 * Deletes a media's RTP and RTCP flows with one wait on the dataplane. @p left gets the flows
 * the dataplane could not delete (their ports are still bound), 0 for the others.
 */
static void streams_close(struct calls *c, const struct monologue *m, struct stream *rtp,
			  struct stream *rtcp, dp_flow_t left[2])
{
	dp_flow_t ids[2];
	unsigned n = 0;

	stream_account(c, m, rtp);
	stream_account(c, m, rtcp);
	if (rtp->flow)
		ids[n++] = rtp->flow;
	if (rtcp->flow)
		ids[n++] = rtcp->flow;
	left[0] = left[1] = 0;
	if (n && dp_flow_del_many(c->conf.dp, ids, n) < 0) {
		/* a flow that still answers was not deleted (-ENOENT: it is gone) */
		for (unsigned i = 0; i < n; i++) {
			struct dp_flow_stats st;

			if (dp_flow_stats(c->conf.dp, ids[i], &st) != -ENOENT)
				left[i] = ids[i];
		}
	}
	rtp->flow = rtcp->flow = 0;
	rtp->port = rtcp->port = 0;
}

static void zombie_add(struct calls *c, struct iface *ifc, uint16_t port, const dp_flow_t left[2])
{
	struct zombie *z = calloc(1, sizeof(*z));

	log_warn("port %u: flow delete failed, the pair is retried before reuse", port);
	if (!z)
		return; /* the pair is lost, never handed out while bound */
	z->iface = ifc;
	z->port = port;
	z->flow[0] = left[0];
	z->flow[1] = left[1];
	z->next = c->zombies;
	c->zombies = z;
}

void calls_reap_zombies(struct calls *c)
{
	struct zombie **zp = &c->zombies;

	while (*zp) {
		struct zombie *z = *zp;

		for (unsigned i = 0; i < 2; i++) {
			if (z->flow[i] && dp_flow_del(c->conf.dp, z->flow[i]) == 0)
				z->flow[i] = 0;
		}
		if (z->flow[0] || z->flow[1]) {
			zp = &z->next;
			continue;
		}
		ports_put(z->iface->ports, z->port);
		*zp = z->next;
		free(z);
	}
}

void media_close(struct calls *c, struct monologue *m, struct media *md)
{
	uint16_t port = md->rtp.port;
	dp_flow_t left[2];

	streams_close(c, m, &md->rtp, &md->rtcp, left);
	if (!port)
		return;
	/* a pair still bound must not be handed out again */
	if (left[0] || left[1])
		zombie_add(c, m->iface, port, left);
	else
		ports_put(m->iface->ports, port);
}

static void flow_params(const struct calls *c, const struct call *call, const struct monologue *m,
			const struct stream *s, bool is_rtcp, struct dp_flow_params *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->local = m->iface->local;
	sa_set_port(&fp->local, s->port);
	fp->group = call->hash;
	fp->latch.expected = s->expected;
	fp->latch.received_from = m->received_from;
	fp->latch.mode = m->mode;
	/* before its SDP, anyone spraying the port advertised to it would be learned */
	fp->latch.window_ms = m->sdp_known ? c->conf.limits.latch_window_ms : 0;
	if (m->ice) {
		memcpy(fp->ice_local_ufrag, m->ice_ufrag, sizeof(m->ice_ufrag));
		memcpy(fp->ice_local_pwd, m->ice_pwd, sizeof(m->ice_pwd));
	}
	fp->is_rtcp = is_rtcp;
}

static int stream_open(struct calls *c, const struct call *call, const struct monologue *m,
		       struct stream *s, uint16_t port, bool is_rtcp)
{
	struct dp_flow_params fp;

	s->port = port;
	flow_params(c, call, m, s, is_rtcp, &fp);
	return dp_flow_add(c->conf.dp, &fp, &s->flow);
}

/* Opens the media's port pair unless it is open: re-offers keep their ports. */
static int media_open(struct calls *c, const struct call *call, struct monologue *m,
		      struct media *md)
{
	if (md->rtp.port)
		return 0;
	for (unsigned tries = 0; tries < BIND_TRIES; tries++) {
		uint16_t port;
		int rc;

		if (ports_get(m->iface->ports, &port) < 0)
			return -ENOSPC;
		rc = stream_open(c, call, m, &md->rtp, port, false);
		if (rc == 0)
			rc = stream_open(c, call, m, &md->rtcp, (uint16_t)(port + 1), true);
		if (rc == 0)
			return 0;
		md->rtp.port = port; /* media_close gives the pair back */
		media_close(c, m, md);
		if (rc != -EADDRINUSE)
			return rc;
	}
	return -ENOSPC;
}

/* New signalling for an open stream: the flow restarts latching on the new parameters. */
static void stream_update(struct calls *c, const struct call *call, const struct monologue *m,
			  const struct stream *s, bool is_rtcp)
{
	struct dp_flow_params fp;

	if (!s->flow)
		return;
	flow_params(c, call, m, s, is_rtcp, &fp);
	if (dp_flow_update(c->conf.dp, s->flow, &fp) < 0)
		log_warn("call %s: flow update failed", call->id);
}

/* Gives the open flows of @p m its current parameters (e.g. new ICE credentials). */
void mono_refresh_flows(struct calls *c, const struct call *call, const struct monologue *m)
{
	for (unsigned i = 0; i < m->nmedia; i++) {
		stream_update(c, call, m, &m->media[i].rtp, false);
		stream_update(c, call, m, &m->media[i].rtcp, true);
	}
}

/* @p from's RTP flow sends its muxed RTCP through @p out (0: with the RTP). */
static void media_link_rtcp(struct calls *c, struct media *from, dp_flow_t out)
{
	int rc;

	if (!from->rtp.flow || (!out && !from->demuxing))
		return;
	rc = dp_flow_link_rtcp(c->conf.dp, from->rtp.flow, out);
	if (rc == -ENOTSUP)
		log_debug("rtcp-mux on one side only: the dataplane cannot demultiplex RTCP");
	from->demuxing = rc == 0 && out;
}

/*
 * Packets that @p from's endpoint sends leave through @p to's flows. RTCP multiplexing on one
 * side only (RFC 5761) is undone here: the mux side's RTCP goes to the other's RTCP port, the
 * other's RTCP to the mux side's RTP port.
 */
static void media_link(struct calls *c, struct media *from, const struct media *to)
{
	bool demux = from->rtcp_mux && !to->rtcp_mux, remux = !from->rtcp_mux && to->rtcp_mux;
	dp_flow_t rtcp_to = remux ? to->rtp.flow : to->rtcp.flow;

	if (from->rtp.flow && to->rtp.flow)
		dp_flow_link(c->conf.dp, from->rtp.flow, to->rtp.flow);
	media_link_rtcp(c, from, demux ? to->rtcp.flow : 0);
	if (from->rtcp.flow && rtcp_to)
		dp_flow_link(c->conf.dp, from->rtcp.flow, rtcp_to);
}

void mono_link(struct calls *c, struct monologue *from, const struct monologue *to)
{
	for (unsigned i = 0; i < from->nmedia && i < to->nmedia; i++)
		media_link(c, &from->media[i], &to->media[i]);
}

static void copy_strv(char *dst, size_t size, struct strv s)
{
	strv_copy(s, dst, size);
}

/* What the endpoint's SDP says about one media: where it receives, and whether it is on hold. */
static void media_take_sdp(struct media *md, const struct sdp_media *sm)
{
	copy_strv(md->type, sizeof(md->type), sm->type);
	copy_strv(md->proto, sizeof(md->proto), sm->proto);
	sa_init(&md->rtp.expected);
	sa_init(&md->rtcp.expected);
	sa_init(&md->rtcp_apart);
	if (sa_isset(&sm->conn) && !sm->conn_is_hold) {
		md->rtp.expected = sm->conn;
		sa_set_port(&md->rtp.expected, sm->port);
		md->rtcp.expected = sa_isset(&sm->rtcp_addr) ? sm->rtcp_addr : sm->conn;
		/* a=rtcp with a=rtcp-mux is the fallback should the answer refuse mux */
		sa_set_port(&md->rtcp.expected, sm->rtcp_port && sm->rtcp_port != sm->port
						    ? sm->rtcp_port
						    : (uint16_t)(sm->port + 1));
		md->rtcp_apart = md->rtcp.expected;
		if (sm->rtcp_mux)
			sa_set_port(&md->rtcp.expected, sm->port);
	}
	md->rtcp_mux = sm->rtcp_mux;
	md->hold = sm->conn_is_hold || sm->dir == SDP_DIR_SENDONLY || sm->dir == SDP_DIR_INACTIVE;
}

/* SIP-source-address: the SDP's IP is replaced by the SIP source's, the ports kept. */
static void sa_take_ip(struct sa *sa, const struct sa *ip)
{
	struct sa t = *ip;

	if (!sa_isset(sa) || sa_is_any(sa))
		return;
	sa_set_port(&t, sa_port(sa));
	*sa = t;
}

static void media_sip_source(struct media *md, const struct monologue *m, const struct ng_params *p)
{
	if (!(p->flags & NG_FLAG_SIP_SOURCE) || !sa_isset(&m->received_from))
		return;
	sa_take_ip(&md->rtp.expected, &m->received_from);
	sa_take_ip(&md->rtcp.expected, &m->received_from);
	sa_take_ip(&md->rtcp_apart, &m->received_from);
}

/* --- monologues ---------------------------------------------------------- */

struct monologue *call_find_tag(struct call *call, struct strv tag)
{
	for (unsigned i = 0; i < call->nmono; i++) {
		const char *t = call->mono[i]->tag;

		if (t && strv_eq_cstr(tag, t))
			return call->mono[i];
	}
	return NULL;
}

struct monologue *mono_create(struct call *call, struct strv tag, struct iface *ifc,
			      uint64_t now_ms)
{
	struct monologue *m;

	if (call->nmono == CALL_MAX_MONO)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (tag.len && !(m->tag = strv_dup(tag))) {
		free(m);
		return NULL;
	}
	m->iface = ifc;
	m->created_ms = now_ms;
	m->created_wall_s = (uint64_t)time(NULL);
	call->mono[call->nmono++] = m;
	return m;
}

void mono_destroy(struct calls *c, struct call *call, struct monologue *m)
{
	for (unsigned i = 0; i < m->nmedia; i++)
		media_close(c, m, &m->media[i]);
	for (unsigned i = 0; i < call->nmono; i++) {
		if (call->mono[i]->peer == m)
			call->mono[i]->peer = NULL;
		if (call->mono[i] == m) {
			call->mono[i] = call->mono[--call->nmono];
			i--;
		}
	}
	free(m->media);
	free(m->via_branch);
	free(m->tag);
	free(m->label);
	free(m);
}

static int mono_set_tag(struct monologue *m, struct strv tag)
{
	char *t;

	if (!tag.len || (m->tag && strv_eq_cstr(tag, m->tag)))
		return 0;
	t = strv_dup(tag);
	if (!t)
		return -ENOMEM;
	free(m->tag);
	m->tag = t;
	return 0;
}

int mono_reserve(struct monologue *m, unsigned n)
{
	struct media *md;

	if (n <= m->nmedia)
		return 0;
	md = realloc(m->media, n * sizeof(*md));
	if (!md)
		return -ENOMEM;
	memset(md + m->nmedia, 0, (n - m->nmedia) * sizeof(*md));
	m->media = md;
	m->nmedia = n;
	return 0;
}

static void random_token(struct calls *c, char *out, size_t len)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[ICE_PWD_LEN];

	if (len > sizeof(rnd))
		len = sizeof(rnd);
	if (getrandom(rnd, len, GRND_NONBLOCK) != (ssize_t)len) {
		for (size_t i = 0; i < len; i++) {
			c->rand_state ^= c->rand_state << 13;
			c->rand_state ^= c->rand_state >> 17;
			c->rand_state ^= c->rand_state << 5;
			rnd[i] = (uint8_t)c->rand_state;
		}
	}
	for (size_t i = 0; i < len; i++)
		out[i] = chars[rnd[i] % (sizeof(chars) - 1)];
	out[len] = '\0';
}

/* The relay's ICE credentials, made once per monologue: STUN checks must keep working
 * across re-offers. @return whether they are new. */
static bool mono_force_ice(struct calls *c, struct monologue *m)
{
	if (m->ice)
		return false;
	m->ice = true;
	random_token(c, m->ice_ufrag, ICE_UFRAG_LEN);
	random_token(c, m->ice_pwd, ICE_PWD_LEN);
	return true;
}

/* The signalling parameters of a command that apply to the monologue that sent it. */
static void mono_take_params(struct calls *c, struct monologue *m, const struct ng_params *p)
{
	/* kept with trust-address too: the SIP source is evidence against strangers (RTP Bleed);
	 * trusting the SDP address is what the destination does anyway */
	m->received_from = p->received_from;
	m->mode = (p->flags & NG_FLAG_ASYMMETRIC)	? LATCH_ASYMMETRIC
		  : (p->flags & NG_FLAG_STRICT_SOURCE)	? LATCH_STRICT
		  : (p->flags & NG_FLAG_MEDIA_HANDOVER) ? LATCH_HANDOVER
							: LATCH_DEFAULT;
	if (p->label.len) {
		free(m->label);
		m->label = strv_dup(p->label);
	}
	if (p->ice == NG_ICE_FORCE)
		mono_force_ice(c, m);
}

/* --- offer / answer -------------------------------------------------------- */

static bool use_rtcp_mux(const struct sdp_media *sm, unsigned opts, bool offer)
{
	if (opts & (NG_MUX_DEMUX | NG_MUX_REJECT))
		return false;
	return sm->rtcp_mux || (offer && (opts & NG_MUX_OFFER));
}

/* The rewrite of one media: @p to's relay address and ports, where the SDP's reader sends. */
static void rewrite_media(struct sdp_media_rewrite *rw, const struct monologue *to,
			  const struct media *md, bool mux)
{
	rw->addr = to->iface->advertised;
	sa_set_port(&rw->addr, md->rtp.port);
	rw->rtcp_mux = mux;
	rw->rtcp_port = mux ? md->rtp.port : md->rtcp.port;
}

static int finish_rewrite(const struct sdp *sdp, const struct ng_params *p,
			  const struct monologue *to, struct sdp_media_rewrite *media, char *out,
			  size_t outsize, struct call_result *res)
{
	struct sdp_rewrite rw = {
		.media = media,
		.nmedia = sdp->nmedia,
		.replace_origin = (p->flags & NG_FLAG_REPLACE_ORIGIN) != 0,
		.ice = to->ice ? SDP_ICE_FORCE : SDP_ICE_REMOVE,
		.ice_ufrag = strv_cstr(to->ice_ufrag),
		.ice_pwd = strv_cstr(to->ice_pwd),
	};
	int n = sdp_rewrite(sdp, p->sdp.p, p->sdp.len, &rw, out, outsize);

	if (n < 0) {
		res->why = n == -ENOSPC ? "SDP too large" : "Failed to rewrite SDP";
		return n;
	}
	res->sdp_len = (size_t)n;
	return 0;
}

static int parse_sdp(const struct ng_params *p, struct sdp *sdp, struct call_result *res)
{
	const char *why = NULL;

	if (!p->sdp.len) {
		res->why = "Missing SDP";
		return -EINVAL;
	}
	if (sdp_parse(sdp, p->sdp.p, p->sdp.len, &why) < 0) {
		res->why = "Failed to parse SDP";
		return -EINVAL;
	}
	if (sdp->nmedia == 0) {
		res->why = "Incomplete SDP";
		return -EINVAL;
	}
	return 0;
}

static int pick_ifaces(struct calls *c, const struct ng_params *p, struct iface **from,
		       struct iface **to, struct call_result *res)
{
	*from = *to = &c->conf.ifaces[0];
	if (p->ndirection >= 1)
		*from = iface_find(c->conf.ifaces, c->conf.nifaces, p->direction[0]);
	if (p->ndirection >= 2)
		*to = iface_find(c->conf.ifaces, c->conf.nifaces, p->direction[1]);
	if (!*from || !*to) {
		res->why = "Unknown interface in direction";
		return -EINVAL;
	}
	return 0;
}

static const char *open_error(int rc)
{
	return rc == -ENOSPC ? "Ran out of ports" : "Failed to open media port";
}

/* The offerer @p a and its peer @p b: both ends of each media open, @p a's side signalled. */
static int offer_media(struct calls *c, struct call *call, struct monologue *a, struct monologue *b,
		       const struct sdp *sdp, const struct ng_params *p,
		       struct sdp_media_rewrite *rw, struct call_result *res)
{
	int rc;

	if ((rc = mono_reserve(a, sdp->nmedia)) || (rc = mono_reserve(b, sdp->nmedia))) {
		res->why = "Out of memory";
		return rc;
	}
	a->sdp_known = true;
	for (unsigned i = 0; i < sdp->nmedia; i++) {
		const struct sdp_media *sm = &sdp->media[i];
		struct media *ma = &a->media[i], *mb = &b->media[i];
		bool mux = use_rtcp_mux(sm, p->rtcp_mux, true);

		if (sm->port == 0) {
			media_close(c, a, ma);
			media_close(c, b, mb);
			rewrite_media(&rw[i], b, mb, mux);
			continue;
		}
		if ((rc = media_open(c, call, a, ma)) || (rc = media_open(c, call, b, mb))) {
			res->why = open_error(rc);
			return rc;
		}
		if (p->transport_protocol.len && !strv_eq(p->transport_protocol, sm->proto))
			res->proto_ignored = true;
		media_take_sdp(ma, sm);
		/* only a dataplane that demultiplexes can keep the caller's mux on its own */
		ma->mux_keep = sm->rtcp_mux && (p->rtcp_mux & (NG_MUX_DEMUX | NG_MUX_ACCEPT)) &&
			       dp_can_link_rtcp(c->conf.dp);
		media_sip_source(ma, a, p);
		copy_strv(mb->type, sizeof(mb->type), sm->type);
		copy_strv(mb->proto, sizeof(mb->proto), sm->proto);
		stream_update(c, call, a, &ma->rtp, false);
		stream_update(c, call, a, &ma->rtcp, true);
		media_link(c, mb, ma);
		if (call->answered && a->peer == b)
			media_link(c, ma, mb);
		rewrite_media(&rw[i], b, mb, mux);
	}
	return 0;
}

static void note_signal(struct call *call, const struct call_origin *o, uint64_t now_ms)
{
	call->last_signal_ms = now_ms;
	if (o && sa_isset(&o->from))
		call->origin = *o;
}

/* Finds or creates the call of an offer, honouring the load limit. */
static int offer_call(struct calls *c, const struct ng_params *p, uint64_t now_ms,
		      struct call **callp, bool *created, struct call_result *res)
{
	struct call *call = calls_find(c, p->call_id);

	*created = false;
	if (!call) {
		if (c->conf.limits.max_sessions &&
		    c->counters.current >= c->conf.limits.max_sessions) {
			c->counters.rejected++;
			res->why = "Parallel session limit reached";
			return -EBUSY;
		}
		call = call_create(c, p->call_id, p->from_tag, now_ms);
		if (!call) {
			res->why = "Out of memory";
			return -ENOMEM;
		}
		*created = true;
	}
	*callp = call;
	return 0;
}

/*
 * The monologue an offer from @p a goes to, NULL for a new one: the one its to-tag names (a
 * re-INVITE; a stranger's tag only while @p a has no peer: the callee's first offer names the
 * caller), else the fork its via-branch names. An initial INVITE sent again with another
 * via-branch (the proxy forked it) is a new fork with its own ports; an untagged peer from an
 * offer without via-branch takes the first via-branch it is given.
 */
static struct monologue *offer_peer(struct call *call, struct monologue *a,
				    const struct ng_params *p)
{
	struct monologue *m = p->to_tag.len ? call_find_tag(call, p->to_tag) : NULL;

	if (m && m != a && (m->peer == a || !a->peer))
		return m;
	if (p->to_tag.len || !p->via_branch.len || !a->peer)
		return a->peer;
	if ((m = fork_by_branch(call, a, p->via_branch)))
		return m;
	if (!a->peer->via_branch && !a->peer->tag) {
		a->peer->via_branch = strv_dup(p->via_branch);
		return a->peer;
	}
	return NULL;
}

/* A new monologue an offer goes to: its own ports and offer. */
static struct monologue *offer_new_peer(struct calls *c, struct call *call,
					const struct ng_params *p, struct iface *ifc,
					uint64_t now_ms)
{
	struct monologue *b = mono_create(call, p->to_tag, ifc, now_ms);

	if (!b)
		return NULL;
	b->offer_id = ++call->offers;
	if (p->via_branch.len && !(b->via_branch = strv_dup(p->via_branch))) {
		mono_destroy(c, call, b);
		return NULL;
	}
	return b;
}

/* What an offer to an existing call created or changed, undone if it fails (offer_undo). */
struct offer_undo {
	unsigned offers; /* call->offers before: a fork it created has a later offer_id */
	/* the offerer, when a new from-tag created it; an existing monologue it took as its peer,
	 * and that one's peer before */
	struct monologue *a, *b, *b_peer;
};

/* The offerer's monologue and its peer, created as needed (recorded in @p u). */
static int offer_monologues(struct calls *c, struct call *call, const struct ng_params *p,
			    uint64_t now_ms, struct offer_undo *u, struct monologue **ap,
			    struct monologue **bp, struct call_result *res)
{
	struct iface *ifa, *ifb;
	struct monologue *a, *b;
	int rc = pick_ifaces(c, p, &ifa, &ifb, res);

	if (rc)
		return rc;
	/* a monologue as its own peer would link each flow to itself: media reflected */
	if (strv_eq(p->from_tag, p->to_tag)) {
		res->why = "from-tag and to-tag are the same";
		return -EINVAL;
	}
	a = call_find_tag(call, p->from_tag);
	if (!a) {
		if (!(a = mono_create(call, p->from_tag, ifa, now_ms)))
			goto full;
		u->a = a;
	}
	b = offer_peer(call, a, p);
	if (b && u->a) {
		u->b = b;
		u->b_peer = b->peer;
	}
	if (!b && !(b = offer_new_peer(c, call, p, ifb, now_ms)))
		goto full;
	/* monologues keep their ports, so a re-offer cannot move them: say so */
	if ((p->ndirection >= 1 && a->iface != ifa) || (p->ndirection >= 2 && b->iface != ifb))
		res->direction_ignored = true;
	/* a new fork of an answered call does not take the caller's media from the answerer */
	if (!a->peer || !call->answered || b->tag)
		a->peer = b;
	b->peer = a;
	/* either side may be a fork whose ports another fork of its offer holds (the offerer:
	 * its UPDATE in its early dialogue): it takes them back rather than open a pair */
	if ((a->ports_lent && fork_take_ports(c, call, a) < 0) ||
	    (b->ports_lent && fork_take_ports(c, call, b) < 0)) {
		res->why = "Out of memory";
		return -ENOMEM;
	}
	mono_take_params(c, a, p);
	/* the offer goes to b: its relay ports answer STUN with the credentials the SDP gives */
	if (p->ice == NG_ICE_FORCE && mono_force_ice(c, b))
		mono_refresh_flows(c, call, b);
	*ap = a;
	*bp = b;
	return 0;
full:
	res->why = "Too many tags in call";
	return -ENOSPC;
}

static int check_ids(const struct ng_params *p, struct call_result *res)
{
	if (!p->call_id.len)
		res->why = "No call-id in message";
	else if (!p->from_tag.len)
		res->why = "No from-tag in message";
	return res->why ? -EINVAL : 0;
}

/*
 * A failed offer leaves nothing behind: the fork it created (offer_id after u->offers), the
 * offerer of a new from-tag (its ports with it); a monologue that offerer took as its peer
 * goes back to its peer before, its media too.
 */
static void offer_undo(struct calls *c, struct call *call, const struct offer_undo *u)
{
	for (unsigned i = 0; i < call->nmono; i++) {
		if (call->mono[i]->offer_id > u->offers) {
			fork_delete(c, call, call->mono[i]);
			break;
		}
	}
	if (!u->a)
		return;
	mono_destroy(c, call, u->a);
	if (u->b && u->b_peer) {
		u->b->peer = u->b_peer;
		mono_link(c, u->b, u->b_peer);
	}
}

int calls_offer(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		uint64_t now_ms, char *sdp_out, size_t outsize, struct call_result *res)
{
	struct offer_undo undo = { 0 };
	struct sdp_media_rewrite rw[SDP_MAX_MEDIA];
	struct monologue *a, *b;
	struct call *call;
	struct sdp sdp;
	bool created;
	int rc;

	if ((rc = check_ids(p, res)) || (rc = parse_sdp(p, &sdp, res)) ||
	    (rc = offer_call(c, p, now_ms, &call, &created, res)))
		return rc;
	memset(rw, 0, sizeof(rw));
	undo.offers = call->offers;
	if ((rc = offer_monologues(c, call, p, now_ms, &undo, &a, &b, res)) ||
	    (rc = offer_media(c, call, a, b, &sdp, p, rw, res)) ||
	    (rc = finish_rewrite(&sdp, p, b, rw, sdp_out, outsize, res))) {
		/* a new call that could not be set up leaves nothing behind */
		if (created)
			call_destroy(c, call, CALL_END_FAILED);
		else
			offer_undo(c, call, &undo);
		return rc;
	}
	a->sdp_seq = ++call->sdps;
	if (!call->answered)
		call->offer_ms = now_ms;
	call->delete_at_ms = 0; /* signalled again: the call goes on (Sipwise does the same) */
	if (p->flags & NG_FLAG_TEARDOWN_NOTIFY)
		call->teardown_notify = true;
	note_signal(call, o, now_ms);
	return 0;
}

/* The answerer's side of each media signalled, and both directions linked. */
static int answer_media(struct calls *c, struct call *call, struct monologue *a,
			struct monologue *b, const struct sdp *sdp, const struct ng_params *p,
			struct sdp_media_rewrite *rw, struct call_result *res)
{
	int rc;

	if (sdp->nmedia > a->nmedia || sdp->nmedia > b->nmedia) {
		res->why = "Answer has more media than the offer";
		return -EINVAL;
	}
	b->sdp_known = true;
	for (unsigned i = 0; i < sdp->nmedia; i++) {
		const struct sdp_media *sm = &sdp->media[i];
		struct media *ma = &a->media[i], *mb = &b->media[i];
		/* RFC 5761 5.1.1: mux only in answer to an offer of mux; kept for the caller when
		 * its offer said demux or accept (the relay demultiplexes) */
		bool mux = (use_rtcp_mux(sm, p->rtcp_mux, false) || ma->mux_keep) && ma->rtcp_mux;

		if (sm->port == 0) {
			media_close(c, a, ma);
			media_close(c, b, mb);
			rewrite_media(&rw[i], a, ma, mux);
			continue;
		}
		if (ma->rtcp_mux && !mux) { /* refused: the caller's RTCP is on its own port */
			ma->rtcp_mux = false;
			if (sa_isset(&ma->rtcp_apart))
				ma->rtcp.expected = ma->rtcp_apart;
		}
		if ((rc = media_open(c, call, a, ma)) || (rc = media_open(c, call, b, mb))) {
			res->why = open_error(rc);
			return rc;
		}
		media_take_sdp(mb, sm);
		media_sip_source(mb, b, p);
		stream_update(c, call, b, &mb->rtp, false);
		stream_update(c, call, b, &mb->rtcp, true);
		/* the caller starts sending now: its window must not have run out while it rang */
		stream_update(c, call, a, &ma->rtp, false);
		stream_update(c, call, a, &ma->rtcp, true);
		media_link(c, ma, mb);
		media_link(c, mb, ma);
		rewrite_media(&rw[i], a, ma, mux);
	}
	return 0;
}

/*
 * The offerer (from-tag) and answerer of an answer (a fork: call_fork.c). A re-INVITE from the
 * callee comes with the tags swapped and finds the callee by its from-tag; an unknown from-tag
 * is an error (a to-tag alone must not pick the offerer: it renamed the caller to the callee's
 * tag). Checked before anything changes: a refused answer leaves the call as it was.
 */
static int answer_monologues(struct calls *c, struct call *call, const struct ng_params *p,
			     unsigned nmedia, uint64_t now_ms, struct monologue **ap,
			     struct monologue **bp, bool *created, struct call_result *res)
{
	struct monologue *a = call_find_tag(call, p->from_tag);

	*created = false;
	if (!a || !a->peer) {
		res->why = "Unknown tag";
		return -ENOENT;
	}
	*ap = a;
	return fork_answerer(c, call, a, p, nmedia, now_ms, bp, created, &res->why);
}

/* A failed answer: a fork it created goes, and A's media go where they went. */
static void answer_undo(struct calls *c, struct call *call, struct monologue *a,
			struct monologue *b, struct monologue *prev, bool created)
{
	if (!created)
		return;
	fork_delete(c, call, b);
	a->peer = prev;
	if (prev && call->answered)
		mono_link(c, a, prev);
}

int calls_answer(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		 uint64_t now_ms, char *sdp_out, size_t outsize, struct call_result *res)
{
	struct sdp_media_rewrite rw[SDP_MAX_MEDIA];
	struct monologue *a, *b, *prev;
	struct call *call;
	struct sdp sdp;
	bool created;
	int rc;

	if ((rc = check_ids(p, res)))
		return rc;
	call = calls_find(c, p->call_id);
	if (!call) {
		res->why = "Unknown call-id";
		return -ENOENT;
	}
	memset(rw, 0, sizeof(rw));
	if ((rc = parse_sdp(p, &sdp, res)) ||
	    (rc = answer_monologues(c, call, p, sdp.nmedia, now_ms, &a, &b, &created, res)))
		return rc;
	prev = a->peer;
	/* an untagged answerer takes the to-tag; a fork of a shared offer takes its ports (the
	 * offerer too: a callee's fork answering the caller's re-offer) */
	if (mono_set_tag(b, p->to_tag) < 0 || fork_take_ports(c, call, b) < 0 ||
	    (a->ports_lent && fork_take_ports(c, call, a) < 0)) {
		answer_undo(c, call, a, b, prev, created);
		res->why = "Out of memory";
		return -ENOMEM;
	}
	mono_take_params(c, b, p);
	/* the answer goes to a: its relay ports answer STUN with the credentials the SDP gives */
	if (p->ice == NG_ICE_FORCE && mono_force_ice(c, a))
		mono_refresh_flows(c, call, a);
	if ((rc = answer_media(c, call, a, b, &sdp, p, rw, res)) ||
	    (rc = finish_rewrite(&sdp, p, a, rw, sdp_out, outsize, res))) {
		answer_undo(c, call, a, b, prev, created);
		return rc;
	}
	/* the latest answer is the active fork: A's media go to it (answer_media linked them) */
	a->peer = b;
	b->peer = a;
	b->sdp_seq = ++call->sdps;
	call->answered = true;
	call->delete_at_ms = 0;
	note_signal(call, o, now_ms);
	return 0;
}

/* --- delete ------------------------------------------------------------------ */

const char *call_end_name(enum call_end e)
{
	static const char *const names[CALL_END_MAX] = {
		"delete", "timeout", "final-timeout", "offer-timeout", "failed", "shutdown",
	};

	return e < CALL_END_MAX ? names[e] : "?";
}

void call_destroy(struct calls *c, struct call *call, enum call_end why)
{
	struct call **pp = &c->buckets[call->hash & (c->nbuckets - 1)];

	while (call->nmono)
		mono_destroy(c, call, call->mono[0]);
	while (*pp && *pp != call)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = call->hnext;
	if (call->prev)
		call->prev->next = call->next;
	else
		c->first = call->next;
	if (call->next)
		call->next->prev = call->prev;
	else
		c->last = call->prev;
	c->counters.current--;
	c->counters.ended[why < CALL_END_MAX ? why : CALL_END_DELETE]++;
	free(call->id);
	free(call->from_tag);
	free(call);
}

/*
 * The monologue a delete names, as Sipwise: the to-tag, else the from-tag; a to-tag not known
 * (yet) still matches a from-tag whose peer is untagged. NULL: the tags match nothing.
 */
static struct monologue *delete_match(struct call *call, const struct ng_params *p)
{
	struct monologue *m;

	if (!p->to_tag.len)
		return call_find_tag(call, p->from_tag);
	if ((m = call_find_tag(call, p->to_tag)))
		return m;
	m = call_find_tag(call, p->from_tag);
	return m && m->peer && !m->peer->tag ? m : NULL;
}

int calls_delete(struct calls *c, const struct ng_params *p, uint64_t now_ms,
		 struct bencode_buf *out, struct call_result *res)
{
	struct call *call = p->call_id.len ? calls_find(c, p->call_id) : NULL;
	struct monologue *m = NULL, *a;
	uint64_t delay_ms;

	if (!call) {
		res->why = p->call_id.len ? "Unknown call-id" : "No call-id in message";
		return -ENOENT;
	}
	/* a via-branch names one branch of a forked offer (its 487 or CANCEL): that one ends */
	a = p->via_branch.len && p->from_tag.len ? call_find_tag(call, p->from_tag) : NULL;
	if (a && fork_by_branch(call, a, p->via_branch)) {
		call_encode_stats(c, call, now_ms, out);
		if (fork_end_via_branch(c, call, a, p->via_branch))
			return 0;
		goto whole;
	}
	/* tags that match nothing (a losing fork's to-tag) leave the call alone */
	if (p->from_tag.len && !(m = delete_match(call, p))) {
		res->why = "Call-ID not found or tags didn't match";
		return -ENOENT;
	}
	call_encode_stats(c, call, now_ms, out);
	/* a to-tag ends a fork, or a dialogue among others; anything else, the call */
	if (p->to_tag.len && m && m->tag && strv_eq_cstr(p->to_tag, m->tag) &&
	    fork_end_tag(c, call, m))
		return 0;
whole:
	delay_ms = p->delete_delay_s >= 0 ? (uint64_t)p->delete_delay_s * 1000u
					  : c->conf.limits.delete_delay_ms;
	if (!delay_ms) {
		call_destroy(c, call, CALL_END_DELETE);
		return 0;
	}
	/* a repeated delete (a retransmitted BYE) does not put the end off */
	if (!call->delete_at_ms || now_ms + delay_ms < call->delete_at_ms)
		call->delete_at_ms = now_ms + delay_ms;
	return 0;
}

int calls_query(struct calls *c, const struct ng_params *p, const struct call_origin *o,
		uint64_t now_ms, struct bencode_buf *out, struct call_result *res)
{
	struct call *call = p->call_id.len ? calls_find(c, p->call_id) : NULL;

	(void)o;
	if (!call) {
		res->why = p->call_id.len ? "Unknown call-id" : "No call-id in message";
		return -ENOENT;
	}
	call_encode_stats(c, call, now_ms, out);
	return 0;
}
