/* SPDX-License-Identifier: BSD-2-Clause */
#include "relay_dpdk_metrics.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define NELEM(a)      (sizeof(a) / sizeof((a)[0]))
#define PORTS_MAX     (2 * DP_DPDK_IFACES_MAX) /* each relay port and its kernel path */
#define WORKERS_MAX   64
#define MBPS_TO_BYTES 125000.0

/* A uint64_t counter of a struct, by offset: one table entry per family. */
struct family {
	const char *name, *help;
	size_t offset;
};

static uint64_t field(const void *s, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)s + offset, sizeof(v));
	return v;
}

static void port_labels(struct metrics_label l[2], const struct dp_dpdk_port_info *p)
{
	l[0] = (struct metrics_label){ "port", p->name };
	l[1] = (struct metrics_label){ "kind", p->is_exc ? "kernel" : "relay" };
}

static void port_gauges(struct metrics_writer *w, const struct relay_dpdk_metrics *m)
{
	struct metrics_label l[2];

	for (unsigned i = 0; i < m->nports; i++) {
		port_labels(l, &m->ports[i]);
		metrics_gauge(w, "rtpengine_dpdk_port_link_up", "1 when the port's link is up.", l,
			      NELEM(l), m->ports[i].link_up ? 1 : 0);
	}
	for (unsigned i = 0; i < m->nports; i++) {
		port_labels(l, &m->ports[i]);
		metrics_gauge(w, "rtpengine_dpdk_port_speed_bytes",
			      "Link speed in bytes per second (0: unknown or down).", l, NELEM(l),
			      m->ports[i].speed_mbps * MBPS_TO_BYTES);
	}
	for (unsigned i = 0; i < m->nports; i++) {
		port_labels(l, &m->ports[i]);
		metrics_gauge(w, "rtpengine_dpdk_port_mtu_bytes",
			      "The port's MTU: the longest IP datagram it sends (0: unknown).", l,
			      NELEM(l), m->ports[i].mtu);
	}
}

static void port_counters(struct metrics_writer *w, const struct relay_dpdk_metrics *m)
{
#define PORT(n, h, f)                                                                       \
	{                                                                                   \
		"rtpengine_dpdk_port_" n "_total", h, offsetof(struct dp_dpdk_port_info, f) \
	}
	static const struct family fam[] = {
		PORT("rx_packets", "Frames received.", ipackets),
		PORT("tx_packets", "Frames sent.", opackets),
		PORT("rx_bytes", "Bytes received.", ibytes),
		PORT("tx_bytes", "Bytes sent.", obytes),
		PORT("rx_missed", "Frames the NIC dropped: no free RX descriptor.", imissed),
		PORT("rx_errors", "Erroneous frames received.", ierrors),
		PORT("tx_errors", "Frames that failed to go out.", oerrors),
		PORT("rx_nombuf", "RX mbuf allocation failures.", rx_nombuf),
	};
#undef PORT
	struct metrics_label l[2];

	for (size_t f = 0; f < NELEM(fam); f++) {
		for (unsigned i = 0; i < m->nports; i++) {
			port_labels(l, &m->ports[i]);
			metrics_counter(w, fam[f].name, fam[f].help, l, NELEM(l),
					field(&m->ports[i], fam[f].offset));
		}
	}
}

static void worker_counters(struct metrics_writer *w, const struct relay_dpdk_metrics *m)
{
#define WK(n, h, f)                                                                              \
	{                                                                                        \
		"rtpengine_dpdk_worker_" n "_total", h, offsetof(struct dp_dpdk_worker_stats, f) \
	}
	static const struct family fam[] = {
		WK("rx_packets", "Frames a worker took in.", rx),
		WK("tx_packets", "Frames a worker sent on (relayed and answered).", tx),
		WK("exceptions", "Frames for the kernel path (SIP, unknown traffic).", exceptions),
		WK("malformed", "Truncated or inconsistent frames dropped.", malformed),
		WK("no_flow", "UDP to a relay address without a flow (sent to the kernel path).",
		   no_flow),
		WK("refused", "Packets refused by the latching rules.", refused),
		WK("no_dest", "Packets without a destination, route or matching family: dropped.",
		   no_dest),
		WK("no_neigh", "Packets dropped for a next hop without a known MAC.", no_neigh),
		WK("neigh_requests", "ARP requests and neighbour solicitations sent.",
		   neigh_requests),
		WK("neigh_replies", "ARP replies and neighbour advertisements for relay addresses.",
		   neigh_replies),
		WK("neigh_lost", "Neighbours given up: their refresh requests went unanswered.",
		   neigh_lost),
		WK("neigh_removed",
		   "Neighbour entries aged out (not needed, or unresolved and idle).",
		   neigh_removed),
		WK("icmp_echo", "Echo requests to relay addresses answered.", icmp_echo),
		WK("stun", "STUN answers sent.", stun),
		WK("exc_dropped", "Exceptions dropped: the kernel path was full.", exc_ring_full),
		WK("exc_vlan_drop", "Frames dropped between wire and kernel path for their VLAN.",
		   exc_vlan_drop),
		WK("handoffs", "Packets passed to the worker that owns their flow.", handoffs),
		WK("handoff_dropped", "Packets dropped: the owning worker's ring was full.",
		   handoff_full),
		WK("fragmented", "Packets longer than their port's MTU, sent in fragments.",
		   fragmented),
		WK("frag_failed",
		   "Packets longer than their port's MTU dropped: no mbufs to fragment.",
		   frag_failed),
	};
#undef WK
	char id[16];

	for (size_t f = 0; f < NELEM(fam); f++) {
		for (unsigned i = 0; i < m->nworkers; i++) {
			const struct metrics_label l[] = { { "worker", id } };

			snprintf(id, sizeof(id), "%u", i);
			metrics_counter(w, fam[f].name, fam[f].help, l, NELEM(l),
					field(&m->workers[i], fam[f].offset));
		}
	}
}

void relay_dpdk_metrics_render(struct metrics_writer *w, const struct relay_dpdk_metrics *m)
{
	port_gauges(w, m);
	port_counters(w, m);
	worker_counters(w, m);
}

void relay_dpdk_metrics_write(struct metrics_writer *w, struct dataplane *dp)
{
	struct dp_dpdk_port_info ports[PORTS_MAX];
	struct dp_dpdk_worker_stats workers[WORKERS_MAX];
	struct relay_dpdk_metrics m = { .ports = ports, .workers = workers };
	struct dp_dpdk_worker *wk;
	int rc;

	/* a port the driver cannot read (rc < 0, not -ENOENT) is left out of this scrape */
	for (unsigned i = 0; m.nports < PORTS_MAX; i++) {
		rc = dp_dpdk_port_info(dp, i, &ports[m.nports]);
		if (rc == -ENOENT)
			break;
		if (rc == 0)
			m.nports++;
	}
	while (m.nworkers < WORKERS_MAX && (wk = dp_dpdk_worker_get(dp, m.nworkers)))
		dp_dpdk_worker_stats(wk, &workers[m.nworkers++]);
	relay_dpdk_metrics_render(w, &m);
}
