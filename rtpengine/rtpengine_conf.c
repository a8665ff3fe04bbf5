/* SPDX-License-Identifier: BSD-2-Clause */
#include "rtpengine_conf.h"

#include <stdio.h>
#include <string.h>

#include "common/daemon.h"
#include "common/metrics_conf.h"

static const char *const backends[] = { "sockets", "dpdk", "xdp", NULL };

/* Defaults follow Sipwise rtpengine's, so existing Kamailio set-ups just work. */
static const struct conf_setting rtpengine_settings[] = {
	{ .path = "ng.listen", .type = CONF_STRS, .def = "[ \"127.0.0.1:2223\" ]" },
	/* no default: ng over TCP is off unless asked for, as in Sipwise rtpengine */
	{ .path = "ng.listen_tcp", .type = CONF_STRS },
	{ .path = "ng.tcp_idle_timeout", .type = CONF_INT, .def = "600", .min = 1, .max = 86400 },
	{ .path = "control.socket", .type = CONF_STR, .def = "\"/run/sbc/rtpengine.ctl\"" },
	{ .path = "interfaces",
	  .type = CONF_LIST,
	  .def = "( { name = \"default\"; address = \"127.0.0.1\"; port_min = 30000;"
		 " port_max = 40000; } )" },
	{ .path = "interfaces.[].name", .type = CONF_STR, .def = "\"default\"" },
	{ .path = "interfaces.[].address", .type = CONF_STR, .def = "\"127.0.0.1\"" },
	/* no default: the address itself */
	{ .path = "interfaces.[].advertised", .type = CONF_STR },
	{ .path = "interfaces.[].port_min",
	  .type = CONF_INT,
	  .def = "30000",
	  .min = 1,
	  .max = 65535 },
	{ .path = "interfaces.[].port_max",
	  .type = CONF_INT,
	  .def = "40000",
	  .min = 1,
	  .max = 65535 },
	{ .path = "calls.max_sessions", .type = CONF_INT, .def = "0", .min = 0, .max = 10000000 },
	{ .path = "calls.timeout", .type = CONF_INT, .def = "60", .min = 0, .max = 86400 },
	{ .path = "calls.silent_timeout", .type = CONF_INT, .def = "3600", .min = 0, .max = 86400 },
	{ .path = "calls.final_timeout", .type = CONF_INT, .def = "0", .min = 0, .max = 604800 },
	{ .path = "calls.offer_timeout", .type = CONF_INT, .def = "300", .min = 0, .max = 86400 },
	{ .path = "calls.latch_window", .type = CONF_INT, .def = "10", .min = 1, .max = 3600 },
	/* 0, not Sipwise's 30: see conf/rtpengine.conf */
	{ .path = "calls.delete_delay", .type = CONF_INT, .def = "0", .min = 0, .max = 86400 },
	{ .path = "dataplane.backend",
	  .type = CONF_STR,
	  .def = "\"sockets\"",
	  .choices = backends },
	{ .path = "dataplane.workers", .type = CONF_INT, .def = "1", .min = 1, .max = 64 },
	{ .path = "dataplane.xdp_frames",
	  .type = CONF_INT,
	  .def = "65536",
	  .min = 4096,
	  .max = 262144 },
	/* no default: no metrics endpoint */
	{ .path = "metrics.listen", .type = CONF_STR },
	{ .path = NULL },
};

static const struct conf_setting *const rtpengine_tables[] = { daemon_conf_settings,
							       rtpengine_settings,
							       stun_server_settings,
							       rtpengine_dpdk_settings, NULL };

const struct conf_schema rtpengine_conf_schema = { .tables = rtpengine_tables };

static int read_ng(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "ng.listen");

	if (n == 0 || n > RTPENGINE_MAX_NG)
		return conf_error(c, "ng.listen", err, errlen, "expected 1 to %d addresses, got %u",
				  RTPENGINE_MAX_NG, n);
	for (unsigned i = 0; i < n; i++) {
		const char *text = conf_strs_elem(c, "ng.listen", i);

		if (sa_parse_cstr(&out->ng[i], text, 2223) < 0)
			return conf_error(c, "ng.listen", err, errlen,
					  "element %u: expected address[:port], got \"%s\"", i,
					  text);
	}
	out->nng = n;
	return 0;
}

static int read_ng_tcp(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "ng.listen_tcp");

	if (n > RTPENGINE_MAX_NG)
		return conf_error(c, "ng.listen_tcp", err, errlen,
				  "expected at most %d addresses, got %u", RTPENGINE_MAX_NG, n);
	for (unsigned i = 0; i < n; i++) {
		const char *text = conf_strs_elem(c, "ng.listen_tcp", i);

		if (sa_parse_cstr(&out->ng_tcp[i], text, 2223) < 0)
			return conf_error(c, "ng.listen_tcp", err, errlen,
					  "element %u: expected address[:port], got \"%s\"", i,
					  text);
	}
	out->nng_tcp = n;
	out->ng_tcp_idle_ms = (uint32_t)conf_int(c, "ng.tcp_idle_timeout") * 1000u;
	return 0;
}

/* "interfaces.[i].<member>" */
static const char *member(char *buf, size_t size, unsigned i, const char *name)
{
	snprintf(buf, size, "interfaces.[%u].%s", i, name);
	return buf;
}

static int read_address(const struct conf *c, unsigned i, const char *name, struct sa *out,
			char *err, size_t errlen)
{
	char path[64];
	const char *text = conf_str(c, member(path, sizeof(path), i, name));

	sa_init(out);
	if (!text)
		return 0;
	if (sa_parse_cstr(out, text, 0) < 0 || sa_port(out) != 0)
		return conf_error(c, path, err, errlen,
				  "expected an IPv4 or IPv6 address without port, got \"%s\"",
				  text);
	return 0;
}

static int read_iface(struct rtpengine_conf *out, const struct conf *c, unsigned i, char *err,
		      size_t errlen)
{
	struct iface_conf *ic = &out->ifaces[i];
	char path[64];
	int rc;

	ic->name = conf_str(c, member(path, sizeof(path), i, "name"));
	if (!ic->name || !*ic->name || strlen(ic->name) >= IFACE_NAME_MAX)
		return conf_error(c, path, err, errlen, "expected a name of 1 to %d characters",
				  IFACE_NAME_MAX - 1);
	for (unsigned k = 0; k < i; k++) {
		if (strcmp(out->ifaces[k].name, ic->name) == 0)
			return conf_error(c, path, err, errlen, "interface %u has the same name",
					  k);
	}
	if ((rc = read_address(c, i, "address", &ic->local, err, errlen)) ||
	    (rc = read_address(c, i, "advertised", &ic->advertised, err, errlen)))
		return rc;
	/* SDP must name an address the endpoint can send to */
	if (sa_is_any(&ic->local) && !sa_isset(&ic->advertised)) {
		member(path, sizeof(path), i, "address");
		return conf_error(c, path, err, errlen, "%s needs an advertised address",
				  conf_str(c, path));
	}
	if (sa_isset(&ic->advertised) && sa_is_any(&ic->advertised)) {
		member(path, sizeof(path), i, "advertised");
		return conf_error(c, path, err, errlen, "cannot advertise %s", conf_str(c, path));
	}
	ic->port_min = (uint16_t)conf_int(c, member(path, sizeof(path), i, "port_min"));
	ic->port_max = (uint16_t)conf_int(c, member(path, sizeof(path), i, "port_max"));
	if (ic->port_max < ic->port_min + 1u + (ic->port_min & 1u))
		return conf_error(c, path, err, errlen,
				  "the range %u-%u holds no even/odd port pair", ic->port_min,
				  ic->port_max);
	return 0;
}

static int read_ifaces(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "interfaces");
	int rc;

	if (n == 0 || n > IFACE_MAX)
		return conf_error(c, "interfaces", err, errlen,
				  "expected 1 to %d interfaces, got %u", IFACE_MAX, n);
	for (unsigned i = 0; i < n; i++) {
		if ((rc = read_iface(out, c, i, err, errlen)))
			return rc;
	}
	out->nifaces = n;
	return 0;
}

static void read_calls(struct rtpengine_conf *out, const struct conf *c)
{
	out->max_sessions = (uint32_t)conf_int(c, "calls.max_sessions");
	out->timeout_ms = (uint32_t)conf_int(c, "calls.timeout") * 1000u;
	out->silent_timeout_ms = (uint32_t)conf_int(c, "calls.silent_timeout") * 1000u;
	out->final_timeout_ms = (uint32_t)conf_int(c, "calls.final_timeout") * 1000u;
	out->offer_timeout_ms = (uint32_t)conf_int(c, "calls.offer_timeout") * 1000u;
	out->latch_window_ms = (uint32_t)conf_int(c, "calls.latch_window") * 1000u;
	out->delete_delay_ms = (uint32_t)conf_int(c, "calls.delete_delay") * 1000u;
}

int rtpengine_conf_read(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_ng(out, c, err, errlen)) || (rc = read_ng_tcp(out, c, err, errlen)) ||
	    (rc = read_ifaces(out, c, err, errlen)))
		return rc;
	read_calls(out, c);
	if ((rc = metrics_conf_read(c, "metrics.listen", &out->metrics, err, errlen)) ||
	    (rc = stun_server_conf_read(&out->stun, c, err, errlen)))
		return rc;
	out->control_socket = conf_str(c, "control.socket");
	out->backend = (enum rtpengine_backend)conf_choice(c, "dataplane.backend");
	out->workers = (unsigned)conf_int(c, "dataplane.workers");
	out->xdp_frames = (unsigned)conf_int(c, "dataplane.xdp_frames");
	return rtpengine_conf_dpdk_read(&out->dpdk, c, out->backend == RTPENGINE_BACKEND_DPDK, err,
					errlen);
}
