/* SPDX-License-Identifier: BSD-2-Clause */
/* rtpengine's settings: defaults as Sipwise's, interfaces and their checks with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rtpengine/rtpengine_conf.h"

static int read_text(struct rtpengine_conf *cfg, const char *text, char *err, size_t errlen)
{
	struct conf *c;
	int rc;

	assert_int_equal(conf_load_string(&c, &rtpengine_conf_schema, "r.conf", text, err, errlen),
			 0);
	rc = rtpengine_conf_read(cfg, c, err, errlen);
	/* the strings of cfg die with c: the tests only look at numbers and addresses */
	conf_free(c);
	return rc;
}

/* The schema check's error for @p text (conf_load_string() refuses it). */
static int load_error(const char *text, char *err, size_t errlen)
{
	struct conf *c = NULL;
	int rc = conf_load_string(&c, &rtpengine_conf_schema, "r.conf", text, err, errlen);

	assert_null(c);
	return rc;
}

static void test_defaults(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.nifaces, 1);
	assert_int_equal(cfg.ifaces[0].port_min, 30000);
	assert_int_equal(cfg.ifaces[0].port_max, 40000);
	assert_false(sa_isset(&cfg.ifaces[0].advertised));
	assert_int_equal(cfg.timeout_ms, 60000);
	assert_int_equal(cfg.silent_timeout_ms, 3600000);
	assert_int_equal(cfg.final_timeout_ms, 0);
	assert_int_equal(cfg.offer_timeout_ms, 300000);
	assert_int_equal(cfg.latch_window_ms, 10000);
	assert_int_equal(cfg.max_sessions, 0);
	assert_int_equal(cfg.backend, RTPENGINE_BACKEND_SOCKETS);
	assert_int_equal(cfg.workers, 1);
	assert_false(sa_isset(&cfg.metrics)); /* off unless asked for */
	assert_int_equal(cfg.nng, 1);
	assert_int_equal(cfg.nng_tcp, 0); /* ng over TCP only when asked for */
	assert_int_equal(cfg.delete_delay_ms, 0);
	assert_int_equal(cfg.ng_tcp_idle_ms, 600000);
}

/* backend "xdp": the sockets backend's AF_XDP engine; anything else unknown is refused. */
static void test_backend_xdp(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(
	    read_text(&cfg, "dataplane = { backend = \"xdp\"; workers = 2; };\n", err, sizeof(err)),
	    0);
	assert_int_equal(cfg.backend, RTPENGINE_BACKEND_XDP);
	assert_int_equal(cfg.workers, 2); /* the backend forces 1, with a notice */
	assert_int_equal(cfg.xdp_frames, 65536);
	assert_int_equal(read_text(&cfg, "dataplane = { backend = \"xdp\"; xdp_frames = 8192; };\n",
				   err, sizeof(err)),
			 0);
	assert_int_equal(cfg.xdp_frames, 8192);
}

static void test_ng_tcp(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg,
				   "ng = { listen_tcp = [ \"127.0.0.1\", \"[::1]:2224\" ]; };\n",
				   err, sizeof(err)),
			 0);
	assert_int_equal(cfg.nng_tcp, 2);
	assert_int_equal(sa_port(&cfg.ng_tcp[0]), 2223);
	assert_int_equal(sa_family(&cfg.ng_tcp[1]), AF_INET6);
	assert_int_equal(sa_port(&cfg.ng_tcp[1]), 2224);
	assert_int_equal(
	    read_text(&cfg, "ng = {\n listen_tcp = [ \"nowhere\" ];\n};\n", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "r.conf:2: setting 'ng.listen_tcp': element 0: expected "
				 "address[:port], got \"nowhere\"");
}

static void test_two_interfaces(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg,
				   "interfaces = (\n"
				   " { name = \"access\"; address = \"10.0.0.1\";"
				   " advertised = \"203.0.113.1\"; },\n"
				   " { name = \"core\"; address = \"::1\"; port_min = 50000;"
				   " port_max = 50999; }\n);\n",
				   err, sizeof(err)),
			 0);
	assert_int_equal(cfg.nifaces, 2);
	assert_int_equal(sa_family(&cfg.ifaces[1].local), AF_INET6);
	assert_true(sa_isset(&cfg.ifaces[0].advertised));
	assert_int_equal(cfg.ifaces[1].port_min, 50000);
}

static void test_errors(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg, "interfaces = (\n { address = \"10.0.0.300\"; }\n);\n",
				   err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "r.conf:2: setting 'interfaces.[0].address': expected an IPv4 "
				 "or IPv6 address without port, got \"10.0.0.300\"");
	assert_int_equal(read_text(&cfg,
				   "interfaces = (\n { name = \"a\"; },\n { name = \"a\"; }\n);\n",
				   err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
	    err, "r.conf:3: setting 'interfaces.[1].name': interface 0 has the same name");
	assert_int_equal(read_text(&cfg,
				   "interfaces = (\n { port_min = 30001; port_max = 30002; }\n);\n",
				   err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "holds no even/odd port pair"));
	assert_int_equal(
	    read_text(&cfg, "metrics = { listen = \"127.0.0.1\"; };\n", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "r.conf:1: setting 'metrics.listen': expected address:port, got "
				 "\"127.0.0.1\"");
	assert_int_equal(
	    read_text(&cfg, "metrics = { listen = \"[::1]:9101\"; };\n", err, sizeof(err)), 0);
	assert_int_equal(sa_port(&cfg.metrics), 9101);
	assert_int_equal(read_text(&cfg, "interfaces = (\n { advertised = \"1.2.3.4:5\"; }\n);\n",
				   err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "interfaces.[0].advertised"));
	assert_int_equal(
	    read_text(&cfg, "interfaces = (\n { address = \"0.0.0.0\"; }\n);\n", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "r.conf:2: setting 'interfaces.[0].address': 0.0.0.0 needs an "
				 "advertised address");
	assert_int_equal(
	    read_text(&cfg, "interfaces = ({ address = \"::\"; advertised = \"2001:db8::1\"; });",
		      err, sizeof(err)),
	    0);
}

/* dataplane.dpdk.*: ports with prefixed addresses; required only with backend "dpdk". */
static void test_dpdk(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.dpdk.n_ports, 0);
	assert_int_equal(cfg.dpdk.n_eal_args, 3);
	assert_int_equal(cfg.dpdk.rx_desc, 1024);
	assert_int_equal(read_text(&cfg, "dataplane: { backend = \"dpdk\"; };", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "the dpdk backend needs 1 to 4 ports, got 0"));
	assert_int_equal(read_text(&cfg,
				   "dataplane: { backend = \"dpdk\"; dpdk: { ports = (\n"
				   " { device = \"net_null0\"; vlan = 7; addresses = ["
				   " \"192.0.2.10/24\", \"2001:db8::10\" ];"
				   " gateway = \"192.0.2.1\"; gateway6 = \"2001:db8::1\"; }\n"
				   "); }; };",
				   err, sizeof(err)),
			 0);
	assert_int_equal(cfg.backend, RTPENGINE_BACKEND_DPDK);
	assert_int_equal(cfg.dpdk.n_ports, 1);
	assert_int_equal(cfg.dpdk.ports[0].vlan, 7);
	assert_int_equal(cfg.dpdk.ports[0].n_addrs, 2);
	assert_int_equal(cfg.dpdk.ports[0].prefix_len[0], 24);
	assert_int_equal(cfg.dpdk.ports[0].prefix_len[1], 128);
	assert_int_equal(sa_family(&cfg.dpdk.ports[0].addrs[1]), AF_INET6);
	assert_true(sa_isset(&cfg.dpdk.ports[0].gateway4));
	assert_int_equal(read_text(&cfg,
				   "dataplane: { dpdk: { ports = (\n"
				   " { device = \"x\"; addresses = [ \"192.0.2.10/33\" ]; }\n"
				   "); }; };",
				   err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "expected address/prefix-length, got \"192.0.2.10/33\""));
	assert_int_equal(read_text(&cfg,
				   "dataplane: { dpdk: { ports = (\n"
				   " { device = \"x\"; addresses = [ \"192.0.2.10/24\" ];"
				   " gateway = \"2001:db8::1\"; }\n); }; };",
				   err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "expected an IPv4 address"));
}

/* dataplane.dpdk.neighbours: 4096 when left out, a power of two from 256 to 1048576. */
static void test_dpdk_neighbours(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(read_text(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.dpdk.neighbours, 4096);
	assert_int_equal(
	    read_text(&cfg, "dataplane: { dpdk: { neighbours = 65536; }; };", err, sizeof(err)), 0);
	assert_int_equal(cfg.dpdk.neighbours, 65536);
	assert_int_equal(
	    read_text(&cfg, "dataplane: { dpdk: { neighbours = 256; }; };", err, sizeof(err)), 0);
	assert_int_equal(cfg.dpdk.neighbours, 256);
	assert_int_equal(
	    read_text(&cfg, "dataplane: { dpdk: {\n neighbours = 1048576; }; };", err, sizeof(err)),
	    0);
	assert_int_equal(cfg.dpdk.neighbours, 1048576);

	assert_int_equal(
	    read_text(&cfg, "dataplane: { dpdk: {\n neighbours = 5000; }; };", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "r.conf:2: setting 'dataplane.dpdk.neighbours': expected a power "
				 "of two, got 5000 (4096 or 8192?)");
	assert_int_equal(
	    load_error("dataplane: { dpdk: { neighbours = 128; }; };", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected an integer from 256 to 1048576, got 128"));
	assert_int_equal(
	    load_error("dataplane: { dpdk: { neighbours = 2097152; }; };", err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "expected an integer from 256 to 1048576, got 2097152"));
}

/* dataplane.dpdk.ports.[].mtu: 1500 when left out, 1280 to 9702, the same on one device. */
static void test_dpdk_mtu(void **state)
{
	struct rtpengine_conf cfg;
	char err[256];

	(void)state;
	assert_int_equal(
	    read_text(&cfg,
		      "dataplane: { dpdk: { ports = (\n"
		      " { device = \"a\"; addresses = [ \"192.0.2.10/24\" ]; },\n"
		      " { device = \"b\"; mtu = 9000; addresses = [ \"198.51.100.10/24\" ]; }"
		      "\n); }; };",
		      err, sizeof(err)),
	    0);
	assert_int_equal(cfg.dpdk.ports[0].mtu, 1500);
	assert_int_equal(cfg.dpdk.ports[1].mtu, 9000);
	assert_int_equal(
	    read_text(&cfg,
		      "dataplane: { dpdk: { ports = (\n"
		      " { device = \"a\"; mtu = 1280; addresses = [ \"192.0.2.10/24\" ]; },\n"
		      " { device = \"b\"; mtu = 9702; addresses = [ \"198.51.100.10/24\" ]; }"
		      "\n); }; };",
		      err, sizeof(err)),
	    0);
	assert_int_equal(cfg.dpdk.ports[0].mtu, 1280);
	assert_int_equal(cfg.dpdk.ports[1].mtu, 9702);

	assert_int_equal(load_error("dataplane: { dpdk: { ports = (\n"
				    " { device = \"a\"; addresses = [ \"192.0.2.10/24\" ];\n"
				    "   mtu = 9703; }\n); }; };",
				    err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "r.conf:3: setting 'dataplane.dpdk.ports.[0].mtu': expected an "
				 "integer from 1280 to 9702, got 9703");
	assert_int_equal(load_error("dataplane: { dpdk: { ports = (\n"
				    " { device = \"a\"; addresses = [ \"192.0.2.10/24\" ];"
				    " mtu = 1279; }\n); }; };",
				    err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "expected an integer from 1280 to 9702, got 1279"));

	/* two VLANs of one device are one port: one MTU */
	assert_int_equal(
	    read_text(&cfg,
		      "dataplane: { dpdk: { ports = (\n"
		      " { device = \"a\"; mtu = 9000; addresses = [ \"192.0.2.10/24\" ]; },\n"
		      " { device = \"a\"; vlan = 7;\n"
		      "   addresses = [ \"198.51.100.10/24\" ]; }\n); }; };",
		      err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err,
			    "r.conf:3: setting 'dataplane.dpdk.ports.[1].device': entry 0 is "
			    "this device with mtu 9000, this one has 1500: a port has one MTU");
	assert_int_equal(
	    read_text(&cfg,
		      "dataplane: { dpdk: { ports = (\n"
		      " { device = \"a\"; mtu = 9000; addresses = [ \"192.0.2.10/24\" ]; },\n"
		      " { device = \"a\"; vlan = 7; mtu = 9000;\n"
		      "   addresses = [ \"198.51.100.10/24\" ]; }\n); }; };",
		      err, sizeof(err)),
	    0);
	assert_int_equal(cfg.dpdk.ports[1].mtu, 9000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	cmocka_unit_test(test_two_interfaces),
		cmocka_unit_test(test_errors),		cmocka_unit_test(test_dpdk),
		cmocka_unit_test(test_ng_tcp),		cmocka_unit_test(test_backend_xdp),
		cmocka_unit_test(test_dpdk_neighbours), cmocka_unit_test(test_dpdk_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
