/* SPDX-License-Identifier: BSD-2-Clause */
#include "sbc_metrics.h"

#include <stddef.h>
#include <stdio.h>

#include "b2bua/b2bua.h"
#include "cdr.h"
#include "media/media.h"
#include "media/ng_client.h"
#include "msg_counters.h"
#include "registrar/keepalive.h"
#include "registrar/registrar.h"
#include "sip/transport.h"
#include "sip/tsx.h"
#include "sip_server.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Labels of one listener: transport, address, interface. */
struct listener_labels {
	char addr[SA_STRLEN];
	struct metrics_label l[3];
};

static bool listener_labels(struct sip_transport *tp, unsigned i, struct listener_labels *ll)
{
	static const char *const protos[] = { "udp", "tcp", "tls" };
	int proto = sip_transport_listener_proto(tp, i);
	struct sa sa;

	if (sip_transport_listener_addr(tp, i, &sa) < 0)
		return false;
	sa_print(&sa, ll->addr, sizeof(ll->addr));
	ll->l[0] =
	    (struct metrics_label){ "transport", proto >= 0 && proto < 3 ? protos[proto] : "?" };
	ll->l[1] = (struct metrics_label){ "listener", ll->addr };
	ll->l[2] = (struct metrics_label){ "interface", sip_transport_listener_name(tp, i) };
	return true;
}

#define FAM_GAUGE  1u /* else a counter */
#define FAM_STREAM 2u /* TCP and TLS listeners only (connections) */

/* One family per transport counter, a sample per listener. */
static void transport_family(struct metrics_writer *w, struct sip_transport *tp, const char *name,
			     const char *help, size_t offset, unsigned flags)
{
	for (unsigned i = 0; i < sip_transport_listener_count(tp); i++) {
		struct sip_transport_stats st;
		struct listener_labels ll;
		uint64_t v;

		if ((flags & FAM_STREAM) && sip_transport_listener_proto(tp, i) == SIP_PROTO_UDP)
			continue;
		if (!listener_labels(tp, i, &ll) || sip_transport_stats(tp, i, &st) < 0)
			continue;
		v = *(const uint64_t *)((const char *)&st + offset);
		if (flags & FAM_GAUGE)
			metrics_gauge(w, name, help, ll.l, N(ll.l), (double)v);
		else
			metrics_counter(w, name, help, ll.l, N(ll.l), v);
	}
}

#define TP(field) offsetof(struct sip_transport_stats, field)

static void transport_metrics(struct metrics_writer *w, struct sip_transport *tp)
{
	static const struct {
		const char *name, *help;
		size_t offset;
		unsigned flags;
	} fam[] = {
		{ "sbc_sip_messages_received_total", "SIP messages received.", TP(rx_msgs), 0 },
		{ "sbc_sip_messages_sent_total", "SIP messages sent.", TP(tx_msgs), 0 },
		{ "sbc_sip_received_bytes_total", "SIP bytes received.", TP(rx_bytes), 0 },
		{ "sbc_sip_sent_bytes_total", "SIP bytes sent.", TP(tx_bytes), 0 },
		{ "sbc_sip_receive_errors_total", "Framing errors, bad datagrams, read errors.",
		  TP(rx_errors), 0 },
		{ "sbc_sip_send_errors_total", "Sends that failed, output queues that overflowed.",
		  TP(tx_errors), 0 },
		{ "sbc_sip_keepalives_received_total", "CRLF and STUN keep-alives received.",
		  TP(keepalives), 0 },
		{ "sbc_connections", "TCP/TLS connections open now.", TP(conns_open),
		  FAM_GAUGE | FAM_STREAM },
		{ "sbc_connections_accepted_total", "TCP/TLS connections accepted.",
		  TP(conns_accepted), FAM_STREAM },
		{ "sbc_connections_connected_total", "TCP/TLS connections opened by the sbc.",
		  TP(conns_connected), FAM_STREAM },
		{ "sbc_connections_refused_total", "Connections refused by the connection limits.",
		  TP(conns_refused), FAM_STREAM },
		{ "sbc_connections_reaped_total", "Connections closed for idleness or a timeout.",
		  TP(conns_reaped), FAM_STREAM },
		{ "sbc_tls_handshake_failures_total", "TLS handshakes that failed.",
		  TP(tls_failures), FAM_STREAM },
	};

	for (size_t i = 0; i < N(fam); i++)
		transport_family(w, tp, fam[i].name, fam[i].help, fam[i].offset, fam[i].flags);
}

static void msg_metrics(struct metrics_writer *w, const struct sip_server_parts *p)
{
	static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx" };
	const struct {
		const char *req, *resp, *what;
		const struct msg_counters *c;
	} dir[] = {
		{ "sbc_sip_requests_received_total", "sbc_sip_responses_received_total",
		  "received (parsed)", p->rx },
		{ "sbc_sip_requests_sent_total", "sbc_sip_responses_sent_total",
		  "sent through transactions, and stateless answers", p->tx },
	};

	for (size_t d = 0; d < N(dir); d++) {
		char help[128];

		snprintf(help, sizeof(help), "SIP requests %s, by method.", dir[d].what);
		for (unsigned m = 0; m < MSG_COUNTERS_METHODS; m++) {
			const struct metrics_label l[] = { { "method", msg_counters_method(m) } };

			metrics_counter(w, dir[d].req, help, l, N(l), dir[d].c->requests[m]);
		}
		snprintf(help, sizeof(help), "SIP responses %s, by class.", dir[d].what);
		for (unsigned k = 0; k < N(classes); k++) {
			const struct metrics_label l[] = { { "class", classes[k] } };

			metrics_counter(w, dir[d].resp, help, l, N(l), dir[d].c->responses[k]);
		}
	}
	metrics_counter(w, "sbc_sip_parse_errors_total", "SIP messages the parser refused.", NULL,
			0, p->invalid);
	metrics_counter(w, "sbc_sip_parse_errors_answered_total",
			"Refused messages answered statelessly (400, 413, 505, 513).", NULL, 0,
			p->invalid_sent);
}

static void tsx_metrics(struct metrics_writer *w, const struct sip_tsx_layer *tsx)
{
	struct sip_tsx_stats ts;

	sip_tsx_layer_stats(tsx, &ts);
	metrics_gauge(w, "sbc_transactions", "SIP transactions not yet terminated.", NULL, 0,
		      ts.active);
	metrics_counter(w, "sbc_transactions_client_total", "Client transactions created.", NULL, 0,
			ts.client_created);
	metrics_counter(w, "sbc_transactions_server_total", "Server transactions created.", NULL, 0,
			ts.server_created);
	metrics_counter(w, "sbc_transaction_timeouts_total", "Transactions ended by a timer.", NULL,
			0, ts.timeouts);
	metrics_counter(w, "sbc_transaction_retransmissions_total",
			"Messages re-sent by timers and for absorbed retransmissions.", NULL, 0,
			ts.retransmitted);
}

static void call_metrics(struct metrics_writer *w, const struct b2bua *b2b)
{
	struct b2bua_stats bs;
	const struct metrics_label ans[] = { { "disposition", "answered" } };
	const struct metrics_label fail[] = { { "disposition", "failed" } };

	b2bua_stats(b2b, &bs);
	metrics_gauge(w, "sbc_calls", "Calls now.", NULL, 0, bs.calls_active);
	metrics_gauge(w, "sbc_dialogs", "Call legs in the dialog table.", NULL, 0,
		      bs.dialogs_active);
	metrics_counter(w, "sbc_calls_created_total", "Call attempts (INVITEs taken).", NULL, 0,
			bs.calls_created);
	/* answered counts when answered, failed when ended unanswered */
	metrics_counter(w, "sbc_calls_total", "Calls answered, or ended without an answer.", ans,
			N(ans), bs.calls_answered);
	metrics_counter(w, "sbc_calls_total", "Calls answered, or ended without an answer.", fail,
			N(fail), bs.calls_failed);
	metrics_counter(w, "sbc_calls_loops_total", "INVITEs refused with 482 (loop).", NULL, 0,
			bs.loops);
}

static void registrar_results(struct metrics_writer *w, const struct registrar_stats *rs)
{
	const struct {
		const char *result;
		uint64_t v;
	} res[] = {
		{ "ok", rs->ok },
		{ "challenged", rs->challenged },
		{ "auth_failed", rs->auth_failures },
		{ "stale", rs->stale },
		{ "replay", rs->replays },
		{ "rejected", rs->rejected },
	};

	for (size_t i = 0; i < N(res); i++) {
		const struct metrics_label l[] = { { "result", res[i].result } };

		metrics_counter(w, "sbc_registrar_responses_total",
				"REGISTER answers: ok (200), challenged (401), auth_failed (wrong "
				"password or user, 401), stale and replay (401 stale), rejected "
				"(other 4xx/5xx: 400, 403, 423, ...).",
				l, N(l), res[i].v);
	}
}

static void registrar_metrics(struct metrics_writer *w, const struct registrar *reg)
{
	struct registrar_stats rs;

	registrar_stats(reg, &rs);
	metrics_gauge(w, "sbc_registrar_aors", "Addresses of record with bindings.", NULL, 0,
		      rs.aors);
	metrics_gauge(w, "sbc_registrar_bindings", "Registered contacts now.", NULL, 0,
		      rs.bindings);
	metrics_counter(w, "sbc_registrar_requests_total", "REGISTER requests handled.", NULL, 0,
			rs.requests);
	registrar_results(w, &rs);
	metrics_counter(w, "sbc_registrar_expired_total", "Bindings removed by their timer.", NULL,
			0, rs.expired);
}

static void keepalive_metrics(struct metrics_writer *w, const struct keepalive *ka)
{
	struct keepalive_stats ks;

	keepalive_stats(ka, &ks);
	metrics_counter(w, "sbc_keepalives_sent_total", "NAT keep-alives sent (OPTIONS, CRLF).",
			NULL, 0, ks.sent);
	metrics_counter(w, "sbc_keepalive_failures_total",
			"Keep-alive OPTIONS that timed out, sends that failed.", NULL, 0,
			ks.failed);
	metrics_counter(w, "sbc_keepalive_dropped_total",
			"Bindings removed after keep-alive failures.", NULL, 0, ks.dropped);
}

static void ng_metrics(struct metrics_writer *w, const struct media *media)
{
	const struct ng_client *ng = media_ng_client(media);
	const struct ng_client_stats *ns = ng_client_stats(ng);
	unsigned n = ng_client_node_count(ng);
	char addr[16][SA_STRLEN];

	metrics_counter(w, "sbc_ng_requests_total", "ng requests to rtpengine (probes included).",
			NULL, 0, ns->requests);
	metrics_counter(w, "sbc_ng_timeouts_total", "ng requests whose last try got no reply.",
			NULL, 0, ns->timeouts);
	metrics_counter(w, "sbc_ng_retransmits_total", "ng datagrams retransmitted.", NULL, 0,
			ns->retransmits);
	metrics_counter(w, "sbc_ng_failovers_total",
			"ng requests sent on to another node (first sends beyond one per request).",
			NULL, 0, ns->sent > ns->requests ? ns->sent - ns->requests : 0);
	metrics_counter(w, "sbc_ng_errors_total", "ng replies with result: error.", NULL, 0,
			ns->errors);
	metrics_counter(w, "sbc_ng_unreachable_total", "ng requests failed at once: no node up.",
			NULL, 0, ns->unreachable);
	if (n > 16)
		n = 16;
	for (unsigned i = 0; i < n; i++) {
		const struct metrics_label l[] = { { "node",
						     sa_print(ng_client_node_addr(ng, (int)i),
							      addr[i], sizeof(addr[i])) } };

		metrics_gauge(w, "sbc_ng_node_up", "1 while the rtpengine node answers.", l, N(l),
			      ng_client_node_stats(ng, (int)i)->up ? 1 : 0);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct metrics_label l[] = { { "node", addr[i] } };

		metrics_counter(w, "sbc_ng_node_timeouts_total", "ng timeouts per node.", l, N(l),
				ng_client_node_stats(ng, (int)i)->timeouts);
	}
}

static void cdr_metrics(struct metrics_writer *w, struct cdr_writer *cdr)
{
	struct cdr_writer_stats cs;

	cdr_writer_stats(cdr, &cs);
	metrics_counter(w, "sbc_cdrs_written_total", "CDR lines written.", NULL, 0, cs.written);
	metrics_counter(w, "sbc_cdr_write_errors_total", "Failed or short CDR writes.", NULL, 0,
			cs.write_errors);
	metrics_counter(w, "sbc_cdrs_dropped_total", "CDR lines that did not fit in the queue.",
			NULL, 0, cs.dropped);
	metrics_gauge(w, "sbc_cdrs_queued", "CDR lines waiting in memory.", NULL, 0, cs.queued);
}

void sbc_metrics_write(struct metrics_writer *w, const struct sip_server *s, uint64_t uptime_s)
{
	struct sip_server_parts p;

	sip_server_parts(s, &p);
	metrics_gauge(w, "sbc_uptime_seconds", "Seconds since start.", NULL, 0, (double)uptime_s);
	transport_metrics(w, p.tp);
	msg_metrics(w, &p);
	tsx_metrics(w, p.tsx);
	if (p.b2b)
		call_metrics(w, p.b2b);
	if (p.reg)
		registrar_metrics(w, p.reg);
	if (p.ka)
		keepalive_metrics(w, p.ka);
	if (p.media)
		ng_metrics(w, p.media);
	if (p.cdr)
		cdr_metrics(w, p.cdr);
}
