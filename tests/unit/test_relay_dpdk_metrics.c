/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rtpengine_dpdk_* metrics (rtpengine/relay_dpdk_metrics.c) from made-up port and worker
 * counters: names, types, labels and values as Prometheus reads them, every family in one piece.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtpengine/relay_dpdk_metrics.h"

static char *render(const struct relay_dpdk_metrics *m)
{
	struct metrics_writer w;
	char *text;

	metrics_writer_init(&w, 0);
	relay_dpdk_metrics_render(&w, m);
	assert_int_equal(metrics_writer_error(&w), 0);
	text = malloc(w.len + 1);
	assert_non_null(text);
	if (w.len)
		memcpy(text, w.buf, w.len);
	text[w.len] = '\0';
	metrics_writer_reset(&w);
	return text;
}

/* @p line is one whole line of @p text. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static unsigned count(const char *text, const char *s)
{
	unsigned n = 0;

	for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

static void test_ports_and_workers(void **state)
{
	struct dp_dpdk_port_info ports[2] = {
		{ .name = "net_af_packet0",
		  .link_up = true,
		  .speed_mbps = 10000,
		  .mtu = 9000,
		  .ipackets = 12,
		  .opackets = 34,
		  .ibytes = 1200,
		  .obytes = 3400,
		  .imissed = 5,
		  .ierrors = 6,
		  .oerrors = 7,
		  .rx_nombuf = 8 },
		{ .name = "net_tap0", .is_exc = true, .ipackets = 3 },
	};
	struct dp_dpdk_worker_stats workers[2] = {
		{ .rx = 100,
		  .tx = 90,
		  .exceptions = 4,
		  .no_neigh = 2,
		  .handoffs = 1,
		  .neigh_lost = 3,
		  .fragmented = 13 },
		{ .rx = 50,
		  .malformed = 3,
		  .exc_ring_full = 9,
		  .exc_vlan_drop = 1,
		  .handoff_full = 11,
		  .neigh_removed = 12,
		  .frag_failed = 14 },
	};
	struct relay_dpdk_metrics m = { ports, 2, workers, 2 };
	char *t = render(&m);

	assert_line(t, "# TYPE rtpengine_dpdk_port_link_up gauge");
	assert_line(t, "rtpengine_dpdk_port_link_up{port=\"net_af_packet0\",kind=\"relay\"} 1");
	assert_line(t, "rtpengine_dpdk_port_link_up{port=\"net_tap0\",kind=\"kernel\"} 0");
	assert_line(t, "# TYPE rtpengine_dpdk_port_speed_bytes gauge");
	assert_line(t, "rtpengine_dpdk_port_speed_bytes{port=\"net_af_packet0\",kind=\"relay\"} "
		       "1250000000");
	assert_line(t, "# TYPE rtpengine_dpdk_port_mtu_bytes gauge");
	assert_line(t,
		    "rtpengine_dpdk_port_mtu_bytes{port=\"net_af_packet0\",kind=\"relay\"} 9000");
	assert_line(t, "rtpengine_dpdk_port_mtu_bytes{port=\"net_tap0\",kind=\"kernel\"} 0");
	assert_line(t, "# TYPE rtpengine_dpdk_port_rx_packets_total counter");
	assert_line(
	    t, "rtpengine_dpdk_port_rx_packets_total{port=\"net_af_packet0\",kind=\"relay\"} 12");
	assert_line(t, "rtpengine_dpdk_port_rx_packets_total{port=\"net_tap0\",kind=\"kernel\"} 3");
	assert_line(
	    t, "rtpengine_dpdk_port_tx_packets_total{port=\"net_af_packet0\",kind=\"relay\"} 34");
	assert_line(
	    t, "rtpengine_dpdk_port_rx_bytes_total{port=\"net_af_packet0\",kind=\"relay\"} 1200");
	assert_line(
	    t, "rtpengine_dpdk_port_tx_bytes_total{port=\"net_af_packet0\",kind=\"relay\"} 3400");
	assert_line(
	    t, "rtpengine_dpdk_port_rx_missed_total{port=\"net_af_packet0\",kind=\"relay\"} 5");
	assert_line(
	    t, "rtpengine_dpdk_port_rx_errors_total{port=\"net_af_packet0\",kind=\"relay\"} 6");
	assert_line(
	    t, "rtpengine_dpdk_port_tx_errors_total{port=\"net_af_packet0\",kind=\"relay\"} 7");
	assert_line(
	    t, "rtpengine_dpdk_port_rx_nombuf_total{port=\"net_af_packet0\",kind=\"relay\"} 8");

	assert_line(t, "# TYPE rtpengine_dpdk_worker_rx_packets_total counter");
	assert_line(t, "rtpengine_dpdk_worker_rx_packets_total{worker=\"0\"} 100");
	assert_line(t, "rtpengine_dpdk_worker_rx_packets_total{worker=\"1\"} 50");
	assert_line(t, "rtpengine_dpdk_worker_tx_packets_total{worker=\"0\"} 90");
	assert_line(t, "rtpengine_dpdk_worker_exceptions_total{worker=\"0\"} 4");
	assert_line(t, "rtpengine_dpdk_worker_malformed_total{worker=\"1\"} 3");
	assert_line(t, "rtpengine_dpdk_worker_no_neigh_total{worker=\"0\"} 2");
	assert_line(t, "rtpengine_dpdk_worker_exc_dropped_total{worker=\"1\"} 9");
	assert_line(t, "rtpengine_dpdk_worker_exc_vlan_drop_total{worker=\"1\"} 1");
	assert_line(t, "rtpengine_dpdk_worker_handoffs_total{worker=\"0\"} 1");
	assert_line(t, "rtpengine_dpdk_worker_handoff_dropped_total{worker=\"1\"} 11");
	assert_line(t, "rtpengine_dpdk_worker_neigh_lost_total{worker=\"0\"} 3");
	assert_line(t, "rtpengine_dpdk_worker_neigh_removed_total{worker=\"1\"} 12");
	assert_line(t, "# TYPE rtpengine_dpdk_worker_fragmented_total counter");
	assert_line(t, "rtpengine_dpdk_worker_fragmented_total{worker=\"0\"} 13");
	assert_line(t, "rtpengine_dpdk_worker_frag_failed_total{worker=\"1\"} 14");
	/* each family once, and every counter family's name ends in _total */
	assert_int_equal(count(t, "# TYPE rtpengine_dpdk_port_rx_packets_total "), 1);
	assert_int_equal(count(t, "# TYPE "), 3 + 8 + 20);
	assert_int_equal(count(t, "_total counter\n"), 8 + 20);
	free(t);
}

static void test_nothing_to_show(void **state)
{
	struct relay_dpdk_metrics m = { 0 };
	char *t = render(&m);

	assert_string_equal(t, "");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_and_workers),
		cmocka_unit_test(test_nothing_to_show),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
