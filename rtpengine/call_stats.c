/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What calls report: the statistics of query and delete replies in Sipwise's layout
 * (created, last signal, tags -> medias -> streams, totals), list, statistics, and the
 * per-call and per-stream views of the control socket.
 */
#include "call_priv.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SSRC_MAX 32

struct totals {
	struct dp_flow_stats rtp, rtcp;
	unsigned nssrc;
	struct dp_flow_stats ssrc[SSRC_MAX]; /* per SSRC seen on a latched RTP flow */
};

static const char *family_name(const struct sa *a)
{
	return sa_family(a) == AF_INET6 ? "IPv6" : "IPv4";
}

static void put_endpoint(struct bencode_buf *out, const char *key, const struct sa *a)
{
	char addr[SA_STRLEN];

	bencode_put_cstr(out, key);
	bencode_dict_begin(out);
	if (sa_isset(a)) {
		bencode_dict_put_str(out, "family", strv_cstr(family_name(a)));
		bencode_dict_put_str(out, "address",
				     strv_cstr(sa_print_addr(a, addr, sizeof(addr))));
		bencode_dict_put_int(out, "port", sa_port(a));
	}
	bencode_end(out);
}

static void put_counts(struct bencode_buf *out, const char *key, const struct dp_flow_stats *st)
{
	bencode_put_cstr(out, key);
	bencode_dict_begin(out);
	bencode_dict_put_int(out, "packets", (int64_t)st->packets);
	bencode_dict_put_int(out, "bytes", (int64_t)st->bytes);
	bencode_dict_put_int(out, "errors", (int64_t)st->errors);
	bencode_end(out);
}

/* Monotonic ms of the dataplane to wall-clock seconds, as Sipwise reports times. */
static int64_t wall_s(uint64_t mono_ms, uint64_t now_ms)
{
	int64_t now = (int64_t)time(NULL);

	if (!mono_ms || mono_ms > now_ms)
		return mono_ms ? now : 0;
	return now - (int64_t)((now_ms - mono_ms) / 1000);
}

static void add_stats(struct dp_flow_stats *sum, const struct dp_flow_stats *st)
{
	sum->packets += st->packets;
	sum->bytes += st->bytes;
	sum->errors += st->errors;
	if (st->last_packet_ms > sum->last_packet_ms)
		sum->last_packet_ms = st->last_packet_ms;
}

static void add_ssrc(struct totals *tot, const struct dp_flow_stats *st)
{
	unsigned i;

	for (i = 0; i < tot->nssrc && tot->ssrc[i].ssrc != st->ssrc; i++)
		;
	if (i == SSRC_MAX)
		return;
	if (i == tot->nssrc) {
		memset(&tot->ssrc[i], 0, sizeof(tot->ssrc[i]));
		tot->ssrc[i].ssrc = st->ssrc;
		tot->nssrc++;
	}
	add_stats(&tot->ssrc[i], st);
}

/* "SSRC": { "<ssrc>": { packets, bytes, errors, last packet } }, as Sipwise keys it */
static void put_ssrcs(struct bencode_buf *out, const struct totals *tot, uint64_t now_ms)
{
	bencode_put_cstr(out, "SSRC");
	bencode_dict_begin(out);
	for (unsigned i = 0; i < tot->nssrc; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%u", tot->ssrc[i].ssrc);
		bencode_put_cstr(out, key);
		bencode_dict_begin(out);
		bencode_dict_put_int(out, "packets", (int64_t)tot->ssrc[i].packets);
		bencode_dict_put_int(out, "bytes", (int64_t)tot->ssrc[i].bytes);
		bencode_dict_put_int(out, "errors", (int64_t)tot->ssrc[i].errors);
		bencode_dict_put_int(out, "last packet",
				     wall_s(tot->ssrc[i].last_packet_ms, now_ms));
		bencode_end(out);
	}
	bencode_end(out);
}

/* "local address" and "family" of a stream: where it is bound, as Sipwise reports them */
static void put_local(struct bencode_buf *out, const struct iface *ifc)
{
	const struct sa *a = sa_is_any(&ifc->local) ? &ifc->advertised : &ifc->local;
	char addr[SA_STRLEN];

	bencode_dict_put_str(out, "local address", strv_cstr(sa_print_addr(a, addr, sizeof(addr))));
	bencode_dict_put_str(out, "family", strv_cstr(family_name(a)));
}

static void put_stream(struct calls *c, const struct iface *ifc, const struct stream *s,
		       bool is_rtcp, uint64_t now_ms, struct bencode_buf *out, struct totals *tot)
{
	struct dp_flow_stats st;

	memset(&st, 0, sizeof(st));
	if (s->flow)
		dp_flow_stats(c->conf.dp, s->flow, &st);
	add_stats(is_rtcp ? &tot->rtcp : &tot->rtp, &st);
	if (!is_rtcp && st.ssrc)
		add_ssrc(tot, &st);
	bencode_dict_begin(out);
	bencode_dict_put_int(out, "local port", s->port);
	put_local(out, ifc);
	if (st.ssrc)
		bencode_dict_put_int(out, "SSRC", st.ssrc);
	put_endpoint(out, "endpoint", sa_isset(&st.latched) ? &st.latched : &s->expected);
	put_endpoint(out, "advertised endpoint", &s->expected);
	bencode_dict_put_int(out, "last packet", wall_s(st.last_packet_ms, now_ms));
	bencode_put_cstr(out, "flags");
	bencode_list_begin(out);
	bencode_put_cstr(out, is_rtcp ? "RTCP" : "RTP");
	if (sa_isset(&st.latched))
		bencode_put_cstr(out, "confirmed");
	if (sa_isset(&s->expected))
		bencode_put_cstr(out, "filled");
	bencode_end(out);
	put_counts(out, "stats", &st);
	bencode_end(out);
}

static void put_media(struct calls *c, const struct iface *ifc, const struct media *md,
		      unsigned index, uint64_t now_ms, struct bencode_buf *out, struct totals *tot)
{
	bencode_dict_begin(out);
	bencode_dict_put_int(out, "index", index);
	bencode_dict_put_str(out, "type", strv_cstr(md->type));
	bencode_dict_put_str(out, "protocol", strv_cstr(md->proto));
	bencode_put_cstr(out, "streams");
	bencode_list_begin(out);
	if (md->rtp.port) {
		put_stream(c, ifc, &md->rtp, false, now_ms, out, tot);
		put_stream(c, ifc, &md->rtcp, true, now_ms, out, tot);
	}
	bencode_end(out);
	bencode_put_cstr(out, "flags");
	bencode_list_begin(out);
	if (md->rtcp_mux)
		bencode_put_cstr(out, "RTCP-mux");
	if (md->hold)
		bencode_put_cstr(out, "hold");
	bencode_end(out);
	bencode_end(out);
}

static void put_monologue(struct calls *c, const struct monologue *m, uint64_t now_ms,
			  struct bencode_buf *out, struct totals *tot)
{
	/* forks not answered yet have no tag: their via-branches keep the keys apart */
	bencode_put_cstr(out, m->tag ? m->tag : m->via_branch ? m->via_branch : "");
	bencode_dict_begin(out);
	bencode_dict_put_str(out, "tag", strv_cstr(m->tag ? m->tag : ""));
	if (m->via_branch)
		bencode_dict_put_str(out, "via-branch", strv_cstr(m->via_branch));
	if (m->label)
		bencode_dict_put_str(out, "label", strv_cstr(m->label));
	bencode_dict_put_int(out, "created", (int64_t)m->created_wall_s);
	if (m->peer && m->peer->tag)
		bencode_dict_put_str(out, "in dialogue with", strv_cstr(m->peer->tag));
	bencode_dict_put_str(out, "interface", strv_cstr(m->iface->name));
	bencode_put_cstr(out, "medias");
	bencode_list_begin(out);
	for (unsigned i = 0; i < m->nmedia; i++)
		put_media(c, m->iface, &m->media[i], i + 1, now_ms, out, tot);
	bencode_end(out);
	bencode_end(out);
}

void call_encode_stats(struct calls *c, struct call *call, uint64_t now_ms, struct bencode_buf *out)
{
	struct totals tot;

	memset(&tot, 0, sizeof(tot));
	bencode_dict_put_int(out, "created", (int64_t)call->created_wall_s);
	bencode_dict_put_int(out, "created_us", call->created_wall_us);
	bencode_dict_put_int(out, "last signal", wall_s(call->last_signal_ms, now_ms));
	bencode_put_cstr(out, "tags");
	bencode_dict_begin(out);
	for (unsigned i = 0; i < call->nmono; i++)
		put_monologue(c, call->mono[i], now_ms, out, &tot);
	bencode_end(out);
	put_ssrcs(out, &tot, now_ms);
	bencode_put_cstr(out, "totals");
	bencode_dict_begin(out);
	put_counts(out, "RTP", &tot.rtp);
	put_counts(out, "RTCP", &tot.rtcp);
	bencode_end(out);
}

void calls_list(struct calls *c, int64_t limit, struct bencode_buf *out)
{
	int64_t n = 0;

	bencode_put_cstr(out, "calls");
	bencode_list_begin(out);
	for (struct call *call = c->first; call && (limit < 0 || n < limit); call = call->next, n++)
		bencode_put_str(out, strv_make(call->id, call->id_len));
	bencode_end(out);
}

void calls_statistics(struct calls *c, uint64_t now_ms, struct bencode_buf *out)
{
	(void)now_ms;
	bencode_put_cstr(out, "statistics");
	bencode_dict_begin(out);
	bencode_put_cstr(out, "currentstatistics");
	bencode_dict_begin(out);
	bencode_dict_put_int(out, "sessionsown", (int64_t)c->counters.current);
	bencode_dict_put_int(out, "sessionsforeign", 0);
	bencode_dict_put_int(out, "sessionstotal", (int64_t)c->counters.current);
	bencode_end(out);
	bencode_put_cstr(out, "totalstatistics");
	bencode_dict_begin(out);
	bencode_dict_put_int(out, "managedsessions", (int64_t)c->counters.total);
	bencode_dict_put_int(out, "rejectedsessions", (int64_t)c->counters.rejected);
	bencode_dict_put_int(out, "timeoutsessions", (int64_t)c->counters.timeouts);
	bencode_end(out);
	bencode_end(out);
}

void calls_foreach(struct calls *c, uint64_t now_ms, call_info_h *h, void *arg)
{
	for (struct call *call = c->first; call; call = call->next) {
		struct call_info ci = {
			.call_id = strv_make(call->id, call->id_len),
			.age_ms = now_ms - call->created_ms,
		};

		for (unsigned i = 0; i < call->nmono && ci.ntags < 8; i++)
			ci.tags[ci.ntags++] =
			    strv_cstr(call->mono[i]->tag ? call->mono[i]->tag : "");
		h(&ci, arg);
	}
}

static void visit_stream(struct calls *c, const struct monologue *m, unsigned index,
			 const struct stream *s, int is_rtcp, stream_info_h *h, void *arg)
{
	struct dp_flow_stats st;
	struct stream_info si = {
		.tag = strv_cstr(m->tag ? m->tag : ""),
		.media_index = index,
		.iface = m->iface->name,
		.local_port = s->port,
		.is_rtcp = is_rtcp,
	};

	memset(&st, 0, sizeof(st));
	if (s->flow)
		dp_flow_stats(c->conf.dp, s->flow, &st);
	si.latched = st.latched;
	si.packets = st.packets;
	si.bytes = st.bytes;
	si.errors = st.errors;
	si.refused = st.refused;
	h(&si, arg);
}

int calls_foreach_stream(struct calls *c, struct strv call_id, stream_info_h *h, void *arg)
{
	struct call *call = calls_find(c, call_id);

	if (!call)
		return -ENOENT;
	for (unsigned i = 0; i < call->nmono; i++) {
		const struct monologue *m = call->mono[i];

		for (unsigned k = 0; k < m->nmedia; k++) {
			if (!m->media[k].rtp.port)
				continue;
			visit_stream(c, m, k + 1, &m->media[k].rtp, 0, h, arg);
			visit_stream(c, m, k + 1, &m->media[k].rtcp, 1, h, arg);
		}
	}
	return 0;
}

void calls_traffic_add(struct calls_traffic *t, const struct dp_flow_stats *st)
{
	t->packets += st->packets;
	t->bytes += st->bytes;
	t->errors += st->errors;
	t->refused += st->refused;
	t->stun_answered += st->stun_answered;
	t->stun_refused += st->stun_refused;
}

static void media_add_stream(struct calls *c, const struct stream *s, struct calls_traffic *t,
			     struct calls_media *out)
{
	struct dp_flow_stats st;

	if (!s->flow)
		return;
	out->streams++;
	if (dp_flow_stats(c->conf.dp, s->flow, &st) == 0)
		calls_traffic_add(t, &st);
}

void calls_media_totals(struct calls *c, struct calls_media *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->traffic, c->gone, sizeof(out->traffic));
	for (const struct call *call = c->first; call; call = call->next) {
		for (unsigned i = 0; i < call->nmono; i++) {
			const struct monologue *m = call->mono[i];
			struct calls_traffic *t = &out->traffic[m->iface - c->conf.ifaces];

			out->monologues++;
			for (unsigned k = 0; k < m->nmedia; k++) {
				media_add_stream(c, &m->media[k].rtp, t, out);
				media_add_stream(c, &m->media[k].rtcp, t, out);
			}
		}
	}
}
