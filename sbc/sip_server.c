/* SPDX-License-Identifier: BSD-2-Clause */
#include "sip_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/ctl.h"
#include "common/log.h"
#include "common/loop.h"
#include "b2bua/b2bua.h"
#include "cdr.h"
#include "media/media.h"
#include "media/ng_client.h"
#include "msg_counters.h"
#include "registrar/keepalive.h"
#include "registrar/location.h"
#include "registrar/registrar.h"
#include "registrar/relay.h"
#include "routing/forwarding.h"
#include "routing/routes.h"
#include "sbc_conf.h"
#include "sip/hdr.h"
#include "sip/msg.h"
#include "sip/print.h"
#include "sip/reply.h"
#include "sip/transport.h"
#include "sip/tsx.h"
#include "sip/uri.h"

#define SIP_OUT_MAX 65536

struct sip_server {
	struct loop *loop;
	const struct sbc_conf *cfg;
	struct sip_transport *tp;
	struct sip_tsx_layer *tsx;
	struct b2bua *b2b;
	struct registrar *reg;	/* NULL unless registrar.mode = "local" */
	struct keepalive *ka;	/* NAT keep-alives of the registered contacts */
	struct cdr_writer *cdr; /* NULL unless cdr.file is set */
	struct media *media;	/* NULL unless media.rtpengine lists nodes */
	struct timer cdr_flush; /* retries CDR lines a full disk held back */
	struct sip_limits limits;
	struct log_ratelimit rl;
	uint64_t rng;	       /* xorshift64* state for tags */
	uint64_t invalid;      /* messages the parser refused */
	uint64_t invalid_sent; /* ... of which answered statelessly */
	uint64_t answered[7];  /* final responses sent by the services, per class 1xx..6xx */
	struct msg_counters rx, tx;
	char out[SIP_OUT_MAX];
};

/* --- responses ----------------------------------------------------------- */

static uint64_t next_random(struct sip_server *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

typedef void(extra_h)(struct sip_pbuf *b);

/*
 * A response to @p req with what @p extra adds and no body.
 * @return the length in s->out, or a negative errno.
 */
static long build_response(struct sip_server *s, const struct sip_msg *req,
			   const struct sip_flow *flow, unsigned code, struct strv reason,
			   extra_h *extra)
{
	char tag[24];
	struct sip_pbuf b;

	snprintf(tag, sizeof(tag), "%016llx", (unsigned long long)next_random(s));
	sip_print_init(&b, s->out, sizeof(s->out));
	if (sip_reply_begin(&b, req, flow, code, reason, strv_cstr(tag)) < 0)
		return -EINVAL;
	if (extra)
		extra(&b);
	sip_print_hdrf(&b, SIP_HDR_SERVER, "sbc/%s", SBC_VERSION);
	sip_print_body(&b, STRV_NULL, STRV_NULL);
	return sip_print_finish(&b);
}

static void respond(struct sip_server *s, struct sip_tsx *st, const struct sip_msg *req,
		    unsigned code, extra_h *extra)
{
	long len = build_response(s, req, sip_tsx_dest(st), code, STRV_NULL, extra);

	if (len < 0 || sip_tsx_respond(st, s->out, (size_t)len) < 0) {
		log_warn("could not answer %u to %.*s", code, (int)req->method_name.len,
			 req->method_name.p);
		sip_tsx_terminate(st);
		return;
	}
	s->answered[code / 100]++;
}

/* --- services ------------------------------------------------------------ */

static void options_capabilities(struct sip_pbuf *b)
{
	sip_print_hdr(b, SIP_HDR_ALLOW, STRV("INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO"));
	sip_print_hdr(b, SIP_HDR_ACCEPT, STRV("application/sdp"));
}

static void on_cancel(struct sip_server *s, struct sip_tsx *st, const struct sip_msg *req)
{
	struct sip_tsx *invite = sip_tsx_cancel_target(s->tsx, req);

	if (!invite) {
		respond(s, st, req, 481, NULL);
		return;
	}
	/* An INVITE still pending here: none today (they are refused at once). */
	respond(s, st, req, 200, NULL);
}

static void on_request(void *arg, struct sip_tsx *st, const struct sip_msg *req)
{
	struct sip_server *s = arg;

	/* Calls: new INVITEs, everything in dialog, CANCELs of our INVITEs. */
	if (s->b2b && b2bua_request(s->b2b, st, req) == 0)
		return;
	switch (req->method) {
	case SIP_METHOD_REGISTER:
		if (s->reg)
			registrar_handle(s->reg, st, req);
		else
			respond(s, st, req, 501, options_capabilities);
		break;
	case SIP_METHOD_OPTIONS:
		respond(s, st, req, 200, options_capabilities);
		break;
	case SIP_METHOD_CANCEL:
		on_cancel(s, st, req);
		break;
	default:
		respond(s, st, req, 501, options_capabilities);
		break;
	}
}

/* --- receiving ----------------------------------------------------------- */

static void on_invalid(struct sip_server *s, const struct sip_flow *flow, const struct sip_msg *m,
		       const struct sip_parse_error *perr)
{
	char from[SIP_FLOW_STRLEN];
	long len = -EINVAL;

	s->invalid++;
	if (perr->status && m->is_request && m->method != SIP_METHOD_ACK)
		len = build_response(s, m, flow, perr->status, strv_cstr(perr->reason), NULL);
	if (len > 0 && sip_transport_send(s->tp, flow, s->out, (size_t)len) == 0) {
		s->invalid_sent++;
		msg_counters_tx(&s->tx, s->out, (size_t)len);
	}
	log_ratelimited(&s->rl, &flow->remote.u.sa, loop_now_ms(s->loop), LOG_LVL_NOTICE,
			"invalid SIP message from %s: %s (%s)",
			sip_flow_print(flow, from, sizeof(from)), perr->reason,
			len > 0 ? "answered" : "dropped");
}

static void on_message(const struct sip_flow *flow, const char *buf, size_t len, void *arg)
{
	struct sip_server *s = arg;
	struct sip_parse_error perr = { 0 };
	struct sip_msg m;
	int rc;

	if (sip_msg_parse(&m, buf, len, &s->limits, &perr) < 0) {
		on_invalid(s, flow, &m, &perr);
		return;
	}
	msg_counters_rx(&s->rx, &m);
	rc = sip_tsx_recv(s->tsx, &m, flow, sip_proto_is_stream(flow->proto));
	if (rc < 0 && rc != -ENOENT) {
		char from[SIP_FLOW_STRLEN];

		log_ratelimited(&s->rl, &flow->remote.u.sa, loop_now_ms(s->loop), LOG_LVL_NOTICE,
				"SIP message from %s refused by the transaction layer: %s",
				sip_flow_print(flow, from, sizeof(from)), strerror(-rc));
	}
}

/* Bindings that lived on a closed connection cannot be reached any more (RFC 5626). */
static void on_close(const struct sip_flow *flow, int reason, void *arg)
{
	struct sip_server *s = arg;

	(void)reason;
	if (s->reg && flow->conn_id)
		registrar_flow_closed(s->reg, flow->conn_id);
}

/* A pong or a UA's own keep-alive: its bindings are alive (keepalive.h). */
static void on_keepalive(const struct sip_flow *flow, bool pong, void *arg)
{
	struct sip_server *s = arg;

	keepalive_flow_alive(s->ka, flow, pong);
}

static void on_ack(void *arg, const struct sip_msg *ack, const void *dest, bool reliable)
{
	struct sip_server *s = arg;

	(void)reliable;
	if (s->b2b)
		b2bua_ack(s->b2b, ack, dest);
}

/*
 * Destinations are flows. A flow the B2BUA made toward a stream destination
 * has no connection yet (conn_id 0): it goes by address, reusing a
 * connection to that address through the listener or opening one.
 */
static int tsx_send(void *arg, const void *dest, const char *buf, size_t len)
{
	struct sip_server *s = arg;
	const struct sip_flow *f = dest;

	msg_counters_tx(&s->tx, buf, len);
	if (sip_proto_is_stream(f->proto) && f->conn_id == 0)
		return sip_transport_send_to(s->tp, f->listener, &f->remote, NULL, buf, len, NULL);
	return sip_transport_send(s->tp, dest, buf, len);
}

/* --- B2BUA hooks ---------------------------------------------------------- */

/*
 * A call to a registered user goes to its contacts, best q first, each over
 * the flow it registered by (NAT traversal: the same socket and port, or the
 * same TCP/TLS connection). @return targets filled, 0 if not registered here,
 * -ENOENT for a relay key whose phone is gone (registrar/relay.h).
 */
static int route_registered(struct sip_server *s, const struct sip_uri *ruri,
			    struct b2bua_target *out, unsigned max)
{
	const struct location_contact *contacts[8];
	unsigned n;

	if (!s->reg || !ruri->user.len)
		return 0;
	n = registrar_lookup(s->reg, ruri->user, ruri->host, contacts, 8);
	if (n == 0 && registrar_relay_is_key(s->reg, ruri->user))
		return -ENOENT; /* the phone is gone: nowhere else */
	if (n > max)
		n = max;
	for (unsigned i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].use_flow = true;
		out[i].flow = contacts[i]->flow;
		out[i].listener = contacts[i]->flow.listener;
		out[i].dst = contacts[i]->flow.remote;
		snprintf(out[i].ruri, sizeof(out[i].ruri), "%.*s", (int)contacts[i]->uri_len,
			 contacts[i]->uri);
	}
	return (int)n;
}

/*
 * A listener for @p proto toward @p addr's family, preferring one on the
 * "core" interface. @return its index, or -1.
 */
static int core_listener(struct sip_server *s, enum sip_proto proto, const struct sa *addr)
{
	int best = -1;

	for (unsigned i = 0; i < sip_transport_listener_count(s->tp); i++) {
		const char *name = sip_transport_listener_name(s->tp, i);
		struct sa la;

		if (sip_transport_listener_proto(s->tp, i) != (int)proto ||
		    sip_transport_listener_addr(s->tp, i, &la) < 0 ||
		    sa_family(&la) != sa_family(addr))
			continue;
		if (name && strcmp(name, "core") == 0)
			return (int)i;
		if (best < 0)
			best = (int)i;
	}
	return best;
}

/* A target toward @p dst (no registered flow): Request-URI @p user at @p host. */
static int hop_target(struct sip_server *s, struct b2bua_target *tg, uint8_t group,
		      enum sip_proto proto, const struct sa *dst, struct strv user,
		      const char *host)
{
	char h[SA_STRLEN];
	int li = core_listener(s, proto, dst);

	if (li < 0)
		return -ENOENT;
	if (!host)
		host = sa_print(dst, h, sizeof(h));
	memset(tg, 0, sizeof(*tg));
	tg->group = group;
	tg->listener = (unsigned)li;
	tg->dst = *dst;
	snprintf(tg->ruri, sizeof(tg->ruri), "sip:%.*s%s%s%s", (int)user.len, user.p,
		 user.len ? "@" : "", host,
		 proto == SIP_PROTO_TLS	  ? ";transport=tls"
		 : proto == SIP_PROTO_TCP ? ";transport=tcp"
					  : "");
	return 0;
}

/* Static routes (routing.*): the trunks of the best route, in failover order. */
static int route_static(struct sip_server *s, const struct sip_uri *ruri, struct b2bua_target *out,
			unsigned max)
{
	const struct routes_trunk *trunks[8];
	int n, filled = 0;

	if (!s->cfg->routes)
		return 0;
	n = routes_lookup(s->cfg->routes, ruri->user, ruri->host, trunks, 8, NULL, NULL, NULL);
	for (int i = 0; i < n && (unsigned)filled < max; i++) {
		const struct routes_trunk *t = trunks[i];

		/* a host name (no DNS yet) or no listener for it: skipped */
		if (sa_isset(&t->addr) && hop_target(s, &out[filled], (uint8_t)filled, t->proto,
						     &t->addr, ruri->user, t->ruri_host) == 0)
			out[filled++].trunk = t->name; /* one after another (failover) */
	}
	return filled;
}

/* Registered users first, then static routes, then b2bua.default_route. */
static int route_uri(struct sip_server *s, const struct sip_uri *ruri, struct b2bua_target *out,
		     unsigned max)
{
	const struct sbc_b2bua_conf *bc = &s->cfg->b2bua;
	int n = route_registered(s, ruri, out, max);

	if (n > 0 || n == -ENOENT)
		return n > 0 ? n : 0;
	n = route_static(s, ruri, out, max);
	if (n > 0 || !bc->has_default_route || !max)
		return n;
	return hop_target(s, out, 0, bc->route_proto, &bc->route_addr, ruri->user, NULL) == 0;
}

/* Routes forwarding @p target of a call to @p ruri (never forwarded again). */
static int route_forward(struct sip_server *s, const char *target, const struct sip_uri *ruri,
			 struct b2bua_target *out, unsigned max)
{
	char uri[B2BUA_RURI_MAX];
	struct sip_uri fu;

	if (forwarding_target_uri(target, ruri->host, uri, sizeof(uri)) < 0 ||
	    sip_uri_parse(&fu, strv_cstr(uri)) < 0)
		return 0;
	return route_uri(s, &fu, out, max);
}

/*
 * A new call: to the user's unconditional forwarding target, else routed;
 * with a no-answer target, its phones ring for the user's timeout only.
 */
static int route_call(void *arg, const struct sip_msg *invite, const struct sip_flow *from,
		      struct b2bua_target *out, unsigned max)
{
	struct sip_server *s = arg;
	const struct forwarding_rule *r;
	struct sip_uri ruri;
	int n;

	(void)from;
	if (sip_uri_parse(&ruri, invite->ruri) < 0)
		return 0;
	r = forwarding_lookup(&s->cfg->forwarding, ruri.user, ruri.host);
	if (r && r->unconditional) {
		log_info("call to %s forwarded unconditionally to %s", r->user, r->unconditional);
		return route_forward(s, r->unconditional, &ruri, out, max);
	}
	n = route_uri(s, &ruri, out, max);
	for (int i = 0; r && r->no_answer && i < n; i++)
		out[i].ring_timeout_ms = r->no_answer_ms;
	return n;
}

/* Forwarding on busy or no answer (registrar.users.[].forward_busy, _no_answer). */
static int forward_call(void *arg, const struct sip_msg *invite, enum b2bua_forward_reason why,
			struct b2bua_target *out, unsigned max)
{
	struct sip_server *s = arg;
	const struct forwarding_rule *r;
	const char *target;
	struct sip_uri ruri;

	if (sip_uri_parse(&ruri, invite->ruri) < 0 ||
	    !(r = forwarding_lookup(&s->cfg->forwarding, ruri.user, ruri.host)))
		return 0;
	target = why == B2BUA_FWD_BUSY ? r->busy : r->no_answer;
	return target ? route_forward(s, target, &ruri, out, max) : 0;
}

/*
 * Redirects (a 3xx's Contact URIs): only where routing would send a call
 * anyway, so that a callee cannot send our calls anywhere (toll fraud). A
 * user registered here goes to its best contact over its flow; else the
 * Contact's host must be an IP address (no DNS) whose address, port and
 * transport are those of a trunk of the static route for the Contact's
 * user@host, reached through a listener of that transport. The default
 * route accepts nothing. @return 1 with @p out filled, else 0.
 */
static int redirect_policy(void *arg, const struct sip_msg *invite, struct strv contact,
			   struct b2bua_target *out)
{
	struct sip_server *s = arg;
	const struct location_contact *lc[1];
	const struct routes_trunk *trunks[8];
	enum sip_proto proto = SIP_PROTO_UDP;
	char hp[SA_STRLEN + 8];
	struct sip_uri u;
	struct sa dst;
	int n;

	(void)invite;
	if (sip_uri_parse(&u, contact) < 0 ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || u.headers.len ||
	    contact.len >= sizeof(out->ruri))
		return 0;
	if (s->reg && u.user.len && registrar_lookup(s->reg, u.user, u.host, lc, 1) > 0) {
		out->use_flow = true;
		out->flow = lc[0]->flow;
		out->listener = lc[0]->flow.listener;
		out->dst = lc[0]->flow.remote;
		snprintf(out->ruri, sizeof(out->ruri), "%.*s", (int)lc[0]->uri_len, lc[0]->uri);
		return 1;
	}
	if (!s->cfg->routes)
		return 0;
	if (u.scheme == SIP_URI_SIPS ||
	    (u.transport.len == 3 && !strncasecmp(u.transport.p, "tls", 3)))
		proto = SIP_PROTO_TLS;
	else if (u.transport.len == 3 && !strncasecmp(u.transport.p, "tcp", 3))
		proto = SIP_PROTO_TCP;
	else if (u.transport.len && (u.transport.len != 3 || strncasecmp(u.transport.p, "udp", 3)))
		return 0;
	snprintf(hp, sizeof(hp), u.host_ipv6 ? "[%.*s]" : "%.*s", (int)u.host.len, u.host.p);
	if (sa_parse_cstr(&dst, hp, u.has_port ? u.port : proto == SIP_PROTO_TLS ? 5061 : 5060) < 0)
		return 0; /* a host name */
	n = routes_lookup(s->cfg->routes, u.user, u.host, trunks, 8, NULL, NULL, NULL);
	for (int i = 0; i < n; i++) {
		const struct routes_trunk *t = trunks[i];
		int li;

		if (t->proto != proto || !sa_isset(&t->addr) || !sa_equal(&t->addr, &dst) ||
		    (li = core_listener(s, t->proto, &t->addr)) < 0)
			continue;
		out->listener = (unsigned)li;
		out->dst = dst;
		snprintf(out->ruri, sizeof(out->ruri), "%.*s", (int)contact.len, contact.p);
		return 1;
	}
	return 0;
}

/* --- CDRs ---------------------------------------------------------------- */

static void cdr_end(enum b2bua_end end, struct cdr *out)
{
	static const struct {
		enum cdr_party by;
		const char *reason;
	} ends[] = {
		[B2BUA_END_CALLER_BYE] = { CDR_PARTY_CALLER, "bye" },
		[B2BUA_END_CALLEE_BYE] = { CDR_PARTY_CALLEE, "bye" },
		[B2BUA_END_CANCELLED] = { CDR_PARTY_CALLER, "cancel" },
		[B2BUA_END_REJECTED] = { CDR_PARTY_CALLEE, "rejected" },
		[B2BUA_END_NO_ANSWER] = { CDR_PARTY_SBC, "no-answer" },
		[B2BUA_END_FAILED] = { CDR_PARTY_SBC, "failed" },
		[B2BUA_END_SHUTDOWN] = { CDR_PARTY_SBC, "shutdown" },
		[B2BUA_END_MEDIA_TIMEOUT] = { CDR_PARTY_SBC, "media-timeout" },
	};

	if ((unsigned)end < sizeof(ends) / sizeof(ends[0])) {
		out->hangup_by = ends[end].by;
		out->hangup_reason = strv_cstr(ends[end].reason);
	}
}

/* Retries the CDR lines the disk refused; rests once the queue is empty. */
static void cdr_flush_tick(void *arg)
{
	struct sip_server *s = arg;

	if (cdr_writer_flush(s->cdr) != 0)
		timer_start(loop_timers(s->loop), &s->cdr_flush, 5000, cdr_flush_tick, s);
}

/* One JSON line per call (cdr.file); a line the disk refuses waits in memory. */
static void on_call_end(void *arg, const struct b2bua_cdr *bc)
{
	struct sip_server *s = arg;
	struct cdr c = {
		.a_call_id = bc->a_call_id,
		.b_call_id = bc->b_call_id,
		.caller = bc->from_uri,
		.callee = bc->to_uri,
		.a_src = bc->a_src,
		.b_src = bc->b_src,
		.start_ms = bc->start_ms,
		.ringing_ms = bc->ringing_ms,
		.answer_ms = bc->answer_ms,
		.end_ms = bc->end_ms,
		.status = (uint16_t)bc->status,
		.trunk = bc->trunk ? strv_cstr(bc->trunk) : (struct strv){ 0 },
	};

	c.disposition = bc->answer_ms ? CDR_ANSWERED
				      : cdr_disposition_from_status((int)bc->status,
								    bc->end == B2BUA_END_CANCELLED);
	cdr_end(bc->end, &c);
	if (cdr_write(s->cdr, &c) == -EAGAIN && !timer_pending(&s->cdr_flush))
		timer_start(loop_timers(s->loop), &s->cdr_flush, 5000, cdr_flush_tick, s);
}

void sip_server_reopen(struct sip_server *s)
{
	if (s->cdr && cdr_writer_reopen(s->cdr) < 0)
		log_err("cannot reopen the CDR file %s, still writing the old one",
			s->cfg->cdr_file);
}

static int b2bua_start(struct sip_server *s)
{
	const struct sbc_b2bua_conf *bc = &s->cfg->b2bua;
	struct b2bua_conf c = {
		.t1_ms = s->cfg->t1_ms,
		.t2_ms = s->cfg->t2_ms,
		.no_answer_timeout_ms = bc->no_answer_timeout_ms,
		.max_calls = bc->max_calls,
		.headers_allow = bc->headers_allow_set ? bc->headers_allow : NULL,
		.nheaders_allow = bc->nheaders_allow,
		.headers_deny = bc->headers_deny_set ? bc->headers_deny : NULL,
		.nheaders_deny = bc->nheaders_deny,
		.route_h = route_call,
		.route_arg = s,
		.forward_h = s->cfg->forwarding.n ? forward_call : NULL,
		.forward_arg = s,
		.redirect_h = redirect_policy,
		.redirect_arg = s,
		.cdr_h = s->cfg->cdr_file ? on_call_end : NULL,
		.cdr_arg = s,
	};

	if (s->media)
		media_b2bua_hooks(s->media, &c);
	return b2bua_alloc(&s->b2b, s->tsx, s->tp, loop_timers(s->loop), &c);
}

/* media.rtpengine: SDP anchored on rtpengine nodes (before the B2BUA, which takes its hooks). */
static int media_start(struct sip_server *s)
{
	int rc;

	if (!s->cfg->media.nnodes)
		return 0;
	rc = media_alloc(&s->media, s->loop, &s->cfg->media);
	if (rc) {
		log_err("cannot start media anchoring: %s", strerror(-rc));
		return rc;
	}
	log_notice("media: anchored on %u rtpengine node(s)", s->cfg->media.nnodes);
	return 0;
}

static void media_print_status(const struct sip_server *s, struct ctl_reply *r)
{
	const struct ng_client *ng = media_ng_client(s->media);
	const struct ng_client_stats *ns = ng_client_stats(ng);
	struct media_stats ms;

	media_stats(s->media, &ms);
	ctl_printf(r,
		   "media: calls=%u offers=%llu answers=%llu deletes=%llu ok=%llu failed=%llu "
		   "delete_failed=%llu ng_timeouts=%llu ng_retransmits=%llu ng_unreachable=%llu "
		   "teardowns=%llu\n",
		   ms.calls, (unsigned long long)ms.offers, (unsigned long long)ms.answers,
		   (unsigned long long)ms.deletes, (unsigned long long)ms.ok,
		   (unsigned long long)ms.failed, (unsigned long long)ms.delete_failed,
		   (unsigned long long)ns->timeouts, (unsigned long long)ns->retransmits,
		   (unsigned long long)ns->unreachable, (unsigned long long)ms.teardowns);
	for (unsigned i = 0; i < ng_client_node_count(ng); i++) {
		const struct ng_node_stats *st = ng_client_node_stats(ng, (int)i);
		char addr[SA_STRLEN];

		ctl_printf(r, "media-node: %s up=%d sent=%llu replies=%llu timeouts=%llu\n",
			   sa_print(ng_client_node_addr(ng, (int)i), addr, sizeof(addr)), st->up,
			   (unsigned long long)st->sent, (unsigned long long)st->replies,
			   (unsigned long long)st->timeouts);
	}
}

/* --- life cycle ---------------------------------------------------------- */

/* As in the configuration file: "udp", "tcp", "tls". */
static const char *proto_label(int proto)
{
	static const char *const labels[] = { "udp", "tcp", "tls" };

	return proto >= 0 && proto < 3 ? labels[proto] : "?";
}

static int open_listeners(struct sip_server *s)
{
	for (unsigned i = 0; i < s->cfg->nlisten; i++) {
		const struct sip_listen_opts *o = &s->cfg->listen[i].opts;
		char addr[SA_STRLEN];
		unsigned idx;
		int rc;

		sa_print(&o->addr, addr, sizeof(addr));
		rc = sip_transport_listen(s->tp, o, &idx);
		if (rc < 0) {
			log_err("cannot listen on %s:%s: %s", proto_label(o->proto), addr,
				strerror(-rc));
			return rc;
		}
		log_notice("SIP listening on %s:%s (interface %s)", proto_label(o->proto), addr,
			   o->interface);
	}
	return 0;
}

/* registrar.mode = "relay": REGISTERs go upstream (registrar/relay.h). */
static int relay_start(struct sip_server *s)
{
	const struct registrar_settings *rs = &s->cfg->registrar;
	int rc;

	if (!rs->relay) {
		log_notice("registrar: local, %u users", rs->conf.nusers);
		return 0;
	}
	rc = registrar_relay_start(s->reg, s->tsx, s->tp, &rs->relay_conf);
	if (rc)
		log_err("cannot start the registrar relay: %s", strerror(-rc));
	else
		log_notice("registrar: relay to %s", rs->upstream);
	return rc;
}

int sip_server_alloc(struct sip_server **sp, struct loop *l, const struct sbc_conf *cfg)
{
	struct sip_server *s = calloc(1, sizeof(*s));
	struct sip_tsx_conf tc;
	int rc;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->cfg = cfg;
	s->limits = (struct sip_limits){ .max_msg_size = cfg->max_msg_size };
	log_ratelimit_init(&s->rl, 10000);
	if (getrandom(&s->rng, sizeof(s->rng), 0) != sizeof(s->rng) || s->rng == 0)
		s->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)clock_monotonic_ms();

	tc = (struct sip_tsx_conf){
		.t1_ms = cfg->t1_ms,
		.t2_ms = cfg->t2_ms,
		.t4_ms = cfg->t4_ms,
		.dest_size = sizeof(struct sip_flow),
		.send_h = tsx_send,
		.send_arg = s,
		.request_h = on_request,
		.ack_h = on_ack,
		.tu_arg = s,
		.via_h = sip_reply_via,
	};
	rc = sip_tsx_layer_alloc(&s->tsx, loop_timers(l), &tc);
	if (rc)
		goto fail;
	rc = sip_transport_alloc(&s->tp, l, &cfg->transport);
	if (rc)
		goto fail;
	sip_transport_set_handlers(s->tp, on_message, on_close, s);
	sip_transport_set_keepalive_h(s->tp, on_keepalive);
	rc = open_listeners(s);
	if (rc)
		goto fail;
	timer_init(&s->cdr_flush);
	if (cfg->cdr_file) {
		rc = cdr_writer_open(&s->cdr, cfg->cdr_file);
		if (rc) {
			log_err("cannot open the CDR file %s: %s", cfg->cdr_file, strerror(-rc));
			goto fail;
		}
		log_notice("CDRs to %s", cfg->cdr_file);
	}
	rc = media_start(s);
	if (rc)
		goto fail;
	rc = b2bua_start(s);
	if (rc) {
		log_err("cannot start the B2BUA: %s", strerror(-rc));
		goto fail;
	}
	if (cfg->registrar.enabled) {
		rc = registrar_alloc(&s->reg, loop_timers(l), &cfg->registrar.conf);
		if (rc) {
			log_err("cannot start the registrar: %s", strerror(-rc));
			goto fail;
		}
		rc = relay_start(s);
		if (rc)
			goto fail;
		if (cfg->registrar.keepalive_enabled) {
			rc = keepalive_alloc(&s->ka, loop_timers(l), s->tsx, s->tp, s->reg,
					     &cfg->registrar.keepalive);
			if (rc) {
				log_err("cannot start keep-alives: %s", strerror(-rc));
				goto fail;
			}
		}
	}
	*sp = s;
	return 0;
fail:
	sip_server_free(s);
	return rc;
}

void sip_server_free(struct sip_server *s)
{
	if (!s)
		return;
	/* Calls, then transactions: freeing them sends nothing; the transport goes last. */
	b2bua_free(s->b2b);   /* calls still up get their CDR (hung up by the sbc: shutdown) */
	media_free(s->media); /* after the calls: nothing is sent, sessions time out on the relay */
	keepalive_free(s->ka);
	registrar_free(s->reg);
	timer_cancel(loop_timers(s->loop), &s->cdr_flush);
	cdr_writer_close(s->cdr);
	sip_tsx_layer_free(s->tsx);
	sip_transport_free(s->tp);
	free(s);
}

void sip_server_parts(const struct sip_server *s, struct sip_server_parts *out)
{
	*out = (struct sip_server_parts){
		.tp = s->tp,
		.tsx = s->tsx,
		.b2b = s->b2b,
		.reg = s->reg,
		.ka = s->ka,
		.cdr = s->cdr,
		.media = s->media,
		.rx = &s->rx,
		.tx = &s->tx,
		.invalid = s->invalid,
		.invalid_sent = s->invalid_sent,
	};
}

void sip_server_print_status(const struct sip_server *s, struct ctl_reply *r)
{
	struct sip_tsx_stats ts;

	for (unsigned i = 0; i < sip_transport_listener_count(s->tp); i++) {
		struct sip_transport_stats st;
		char addr[SA_STRLEN];
		struct sa sa;

		if (sip_transport_listener_addr(s->tp, i, &sa) < 0 ||
		    sip_transport_stats(s->tp, i, &st) < 0)
			continue;
		ctl_printf(r,
			   "listen: %s:%s interface=%s rx_msgs=%llu tx_msgs=%llu rx_errors=%llu "
			   "rx_rejected=%llu keepalives=%llu conns_open=%llu conns_refused=%llu\n",
			   proto_label(sip_transport_listener_proto(s->tp, i)),
			   sa_print(&sa, addr, sizeof(addr)), sip_transport_listener_name(s->tp, i),
			   (unsigned long long)st.rx_msgs, (unsigned long long)st.tx_msgs,
			   (unsigned long long)st.rx_errors, (unsigned long long)st.rx_rejected,
			   (unsigned long long)st.keepalives, (unsigned long long)st.conns_open,
			   (unsigned long long)st.conns_refused);
	}
	if (s->b2b) {
		struct b2bua_stats bs;

		b2bua_stats(s->b2b, &bs);
		ctl_printf(r,
			   "calls: active=%u created=%llu answered=%llu failed=%llu loops=%llu "
			   "dialogs=%u\n",
			   bs.calls_active, (unsigned long long)bs.calls_created,
			   (unsigned long long)bs.calls_answered,
			   (unsigned long long)bs.calls_failed, (unsigned long long)bs.loops,
			   bs.dialogs_active);
	}
	if (s->media)
		media_print_status(s, r);
	if (s->reg) {
		struct registrar_stats rs;

		registrar_stats(s->reg, &rs);
		ctl_printf(
		    r,
		    "registrar: aors=%u bindings=%u requests=%llu ok=%llu challenged=%llu "
		    "auth_failures=%llu stale=%llu replays=%llu rejected=%llu expired=%llu\n",
		    rs.aors, rs.bindings, (unsigned long long)rs.requests,
		    (unsigned long long)rs.ok, (unsigned long long)rs.challenged,
		    (unsigned long long)rs.auth_failures, (unsigned long long)rs.stale,
		    (unsigned long long)rs.replays, (unsigned long long)rs.rejected,
		    (unsigned long long)rs.expired);
	}
	if (s->reg && s->cfg->registrar.relay) {
		struct registrar_relay_stats rl;

		registrar_relay_stats(s->reg, &rl);
		ctl_printf(r,
			   "registrar-relay: aors=%u forwarded=%llu cached=%llu challenges=%llu "
			   "failures=%llu paced=%llu src_paced=%llu busy=%llu unregisters=%llu "
			   "unreg_failed=%llu\n",
			   rl.aors, (unsigned long long)rl.forwarded, (unsigned long long)rl.cached,
			   (unsigned long long)rl.challenges, (unsigned long long)rl.failures,
			   (unsigned long long)rl.paced, (unsigned long long)rl.src_paced,
			   (unsigned long long)rl.busy, (unsigned long long)rl.unregisters,
			   (unsigned long long)rl.unreg_failed);
	}
	if (s->ka) {
		struct keepalive_stats ks;

		keepalive_stats(s->ka, &ks);
		ctl_printf(r,
			   "keepalive: bindings=%u sent=%llu answered=%llu failed=%llu "
			   "dropped=%llu pongs=%llu\n",
			   ks.bindings, (unsigned long long)ks.sent,
			   (unsigned long long)ks.answered, (unsigned long long)ks.failed,
			   (unsigned long long)ks.dropped, (unsigned long long)ks.pongs);
	}
	sip_tsx_layer_stats(s->tsx, &ts);
	ctl_printf(r,
		   "transactions: active=%u client=%llu server=%llu retransmitted=%llu "
		   "absorbed=%llu timeouts=%llu\n",
		   ts.active, (unsigned long long)ts.client_created,
		   (unsigned long long)ts.server_created, (unsigned long long)ts.retransmitted,
		   (unsigned long long)ts.absorbed, (unsigned long long)ts.timeouts);
	ctl_printf(r, "invalid: received=%llu answered=%llu\n", (unsigned long long)s->invalid,
		   (unsigned long long)s->invalid_sent);
	ctl_printf(r, "answered: 2xx=%llu 4xx=%llu 5xx=%llu\n", (unsigned long long)s->answered[2],
		   (unsigned long long)s->answered[4], (unsigned long long)s->answered[5]);
}
