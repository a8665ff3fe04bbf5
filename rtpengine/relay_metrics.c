/* SPDX-License-Identifier: BSD-2-Clause */
#include "relay_metrics.h"

#include "dataplane/sockets/sockets.h"

#include <stddef.h>
#include <string.h>

#include "call.h"
#include "ng.h"
#include "ports.h"

#define NLABELS(a) (sizeof(a) / sizeof((a)[0]))

static void ng_metrics(struct metrics_writer *w, const struct relay_metrics_src *src)
{
	struct ng_stats sum;

	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < src->nng; i++) {
		const struct ng_stats *st = ng_server_stats(src->ng[i]);

		sum.retransmits += st->retransmits;
		sum.dropped += st->dropped;
		sum.teardowns += st->teardowns;
		for (unsigned c = 0; c < NG_CMD_MAX; c++)
			for (unsigned r = 0; r < NG_RESULT_MAX; r++)
				sum.results[c][r] += st->results[c][r];
	}
	for (unsigned c = 0; c < NG_CMD_MAX; c++) {
		for (unsigned r = 0; r < NG_RESULT_MAX; r++) {
			const struct metrics_label l[] = {
				{ "command", ng_cmd_name((enum ng_cmd)c) },
				{ "result", ng_result_name((enum ng_result)r) },
			};

			/* pong only answers ping, and ping nothing else: skip the impossible */
			if ((r == NG_RESULT_PONG) != (c == NG_CMD_PING) && r != NG_RESULT_ERROR)
				continue;
			metrics_counter(w, "rtpengine_ng_commands_total",
					"ng commands answered, by command and result.", l,
					NLABELS(l), sum.results[c][r]);
		}
	}
	metrics_counter(w, "rtpengine_ng_reply_cache_hits_total",
			"ng retransmissions answered from the reply cache.", NULL, 0,
			sum.retransmits);
	metrics_counter(w, "rtpengine_ng_dropped_total",
			"ng datagrams dropped: no cookie to answer to.", NULL, 0, sum.dropped);
	metrics_counter(w, "rtpengine_ng_teardowns_total",
			"Teardown notifications sent for calls deleted by a timeout.", NULL, 0,
			sum.teardowns);
}

static void call_metrics(struct metrics_writer *w, const struct relay_metrics_src *src,
			 const struct calls_media *cm)
{
	const struct calls_counters *cc = calls_counters(src->calls);

	metrics_gauge(w, "rtpengine_calls", "Calls now.", NULL, 0, (double)cc->current);
	metrics_gauge(w, "rtpengine_monologues", "Call parties (monologues) now.", NULL, 0,
		      (double)cm->monologues);
	metrics_gauge(w, "rtpengine_streams", "Open relay ports (RTP and RTCP flows) now.", NULL, 0,
		      (double)cm->streams);
	metrics_counter(w, "rtpengine_calls_created_total", "Calls created.", NULL, 0, cc->total);
	for (unsigned e = 0; e < CALL_END_MAX; e++) {
		const struct metrics_label l[] = { { "reason", call_end_name((enum call_end)e) } };

		metrics_counter(w, "rtpengine_calls_deleted_total", "Calls deleted, by reason.", l,
				NLABELS(l), cc->ended[e]);
	}
	metrics_counter(w, "rtpengine_calls_rejected_total",
			"New calls refused by calls.max_sessions (load limit).", NULL, 0,
			cc->rejected);
}

static void port_metrics(struct metrics_writer *w, const struct relay_metrics_src *src)
{
	for (unsigned i = 0; i < src->nifaces; i++) {
		const struct metrics_label l[] = { { "interface", src->ifaces[i].name } };

		metrics_gauge(w, "rtpengine_ports_free", "Free relay port pairs.", l, NLABELS(l),
			      ports_available(src->ifaces[i].ports));
	}
	for (unsigned i = 0; i < src->nifaces; i++) {
		const struct metrics_label l[] = { { "interface", src->ifaces[i].name } };

		metrics_gauge(w, "rtpengine_ports_total", "Relay port pairs configured.", l,
			      NLABELS(l), ports_total(src->ifaces[i].ports));
	}
}

/* One family per traffic counter, a sample per interface. */
static void traffic_family(struct metrics_writer *w, const struct relay_metrics_src *src,
			   const struct calls_media *cm, const char *name, const char *help,
			   size_t offset)
{
	for (unsigned i = 0; i < src->nifaces; i++) {
		const struct metrics_label l[] = { { "interface", src->ifaces[i].name } };
		const char *t = (const char *)&cm->traffic[i];
		uint64_t v;

		memcpy(&v, t + offset, sizeof(v));
		metrics_counter(w, name, help, l, NLABELS(l), v);
	}
}

static void traffic_metrics(struct metrics_writer *w, const struct relay_metrics_src *src,
			    const struct calls_media *cm)
{
	static const struct {
		const char *name, *help;
		size_t offset;
	} fam[] = {
		{ "rtpengine_packets_total", "Packets relayed.",
		  offsetof(struct calls_traffic, packets) },
		{ "rtpengine_bytes_total", "Payload bytes relayed.",
		  offsetof(struct calls_traffic, bytes) },
		{ "rtpengine_errors_total", "Packets that could not be forwarded.",
		  offsetof(struct calls_traffic, errors) },
		{ "rtpengine_refused_total",
		  "Packets dropped by the latching rules (RTP Bleed attempts among them).",
		  offsetof(struct calls_traffic, refused) },
		{ "rtpengine_stun_answered_total", "STUN binding requests answered.",
		  offsetof(struct calls_traffic, stun_answered) },
		{ "rtpengine_stun_refused_total",
		  "STUN messages dropped or answered with an error.",
		  offsetof(struct calls_traffic, stun_refused) },
	};

	for (size_t i = 0; i < NLABELS(fam); i++)
		traffic_family(w, src, cm, fam[i].name, fam[i].help, fam[i].offset);
}

/* The xdp engine's frames: what took the AF_XDP fast path. */
static void xdp_metrics(struct metrics_writer *w, const struct dp_sockets_xdp_stats *x)
{
	if (!x)
		return;
	metrics_counter(w, "rtpengine_xdp_rx_packets_total",
			"Frames received on the xdp engine's AF_XDP sockets.", NULL, 0, x->rx);
	metrics_counter(w, "rtpengine_xdp_tx_packets_total",
			"Frames sent on the xdp engine's AF_XDP sockets.", NULL, 0, x->tx);
	metrics_counter(w, "rtpengine_xdp_slow_packets_total",
			"Frames received on AF_XDP sockets but sent through the UDP socket.", NULL,
			0, x->slow);
	metrics_counter(w, "rtpengine_xdp_dropped_packets_total",
			"Frames received on AF_XDP sockets and dropped.", NULL, 0, x->dropped);
	metrics_counter(w, "rtpengine_xdp_kernel_dropped_packets_total",
			"Frames the kernel dropped on the AF_XDP sockets (rings full or empty).",
			NULL, 0, x->kernel_dropped);
	metrics_gauge(w, "rtpengine_xdp_sockets", "AF_XDP sockets of the xdp engine.", NULL, 0,
		      x->sockets);
}

void relay_metrics_write(struct metrics_writer *w, const struct relay_metrics_src *src)
{
	const struct metrics_label be[] = { { "backend", src->backend } };
	struct calls_media cm;

	calls_media_totals(src->calls, &cm);
	metrics_gauge(w, "rtpengine_uptime_seconds", "Seconds since start.", NULL, 0,
		      (double)src->uptime_s);
	metrics_gauge(w, "rtpengine_dataplane_workers", "Dataplane worker threads.", be,
		      NLABELS(be), src->workers);
	ng_metrics(w, src);
	call_metrics(w, src, &cm);
	port_metrics(w, src);
	traffic_metrics(w, src, &cm);
	xdp_metrics(w, src->xdp);
}
