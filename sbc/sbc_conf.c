/* SPDX-License-Identifier: BSD-2-Clause */
#include "sbc_conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/daemon.h"

/* In the order of enum sip_proto. */
static const char *const sbc_transports[] = { "udp", "tcp", "tls", NULL };

static const struct conf_setting sbc_settings[] = {
	{ .path = "sip.listen",
	  .type = CONF_LIST,
	  .def = "( { interface = \"access\"; transport = \"udp\"; address = \"127.0.0.1\";"
		 " port = 5060; } )" },
	{ .path = "sip.listen.[].interface", .type = CONF_STR, .def = "\"access\"" },
	{ .path = "sip.listen.[].transport",
	  .type = CONF_STR,
	  .def = "\"udp\"",
	  .choices = sbc_transports },
	{ .path = "sip.listen.[].address", .type = CONF_STR, .def = "\"127.0.0.1\"" },
	/* no default: Via and Contact carry the address messages leave from */
	{ .path = "sip.listen.[].advertise", .type = CONF_STR },
	/* no default: 5060, or 5061 for TLS */
	{ .path = "sip.listen.[].port", .type = CONF_INT, .min = 1, .max = 65535 },
	{ .path = "sip.listen.[].tls_certificate", .type = CONF_STR },
	{ .path = "sip.listen.[].tls_private_key", .type = CONF_STR },
	{ .path = "sip.listen.[].tls_ca_file", .type = CONF_STR },
	{ .path = "sip.listen.[].tls_verify_client", .type = CONF_BOOL, .def = "false" },
	{ .path = "sip.max_message_size",
	  .type = CONF_INT,
	  .def = "65535",
	  .min = 1024,
	  .max = 1048576 },
	{ .path = "sip.timers.t1", .type = CONF_INT, .def = "500", .min = 50, .max = 10000 },
	{ .path = "sip.timers.t2", .type = CONF_INT, .def = "4000", .min = 500, .max = 60000 },
	{ .path = "sip.timers.t4", .type = CONF_INT, .def = "5000", .min = 500, .max = 60000 },
	{ .path = "sip.tcp.max_connections",
	  .type = CONF_INT,
	  .def = "4096",
	  .min = 1,
	  .max = 1000000 },
	{ .path = "sip.tcp.max_connections_per_ip",
	  .type = CONF_INT,
	  .def = "256",
	  .min = 1,
	  .max = 1000000 },
	{ .path = "sip.tcp.idle_timeout", .type = CONF_INT, .def = "300", .min = 1, .max = 86400 },
	{ .path = "sip.tcp.connect_timeout", .type = CONF_INT, .def = "10", .min = 1, .max = 300 },
	/* no default: calls get 404 without a route */
	{ .path = "b2bua.default_route", .type = CONF_STR },
	{ .path = "b2bua.no_answer_timeout",
	  .type = CONF_INT,
	  .def = "120",
	  .min = 0,
	  .max = 86400 },
	{ .path = "b2bua.max_calls", .type = CONF_INT, .def = "0", .min = 0, .max = 10000000 },
	/* no default: the built-in lists */
	{ .path = "b2bua.headers_allow", .type = CONF_STRS },
	{ .path = "b2bua.headers_deny", .type = CONF_STRS },
	/* no default: no media anchoring, SDP crosses unchanged */
	{ .path = "media.rtpengine", .type = CONF_STRS },
	{ .path = "media.rtpengine_timeout",
	  .type = CONF_INT,
	  .def = "500",
	  .min = 10,
	  .max = 60000 },
	{ .path = "media.rtpengine_tries", .type = CONF_INT, .def = "3", .min = 1, .max = 10 },
	{ .path = "media.rtpengine_probe_interval",
	  .type = CONF_INT,
	  .def = "10000",
	  .min = 100,
	  .max = 3600000 },
	/* no default: none */
	{ .path = "media.flags", .type = CONF_STRS },
	{ .path = "media.replace",
	  .type = CONF_STRS,
	  .def = "[ \"origin\", \"session-connection\" ]" },
	/* no default: rtpengine's default interface for both sides */
	{ .path = "media.direction", .type = CONF_STRS },
	{ .path = "media.ice", .type = CONF_STR, .def = "\"remove\"" },
	{ .path = "media.received_from", .type = CONF_BOOL, .def = "true" },
	{ .path = "cdr.file", .type = CONF_STR },
	{ .path = "control.socket", .type = CONF_STR, .def = "\"/run/sbc/sbc.ctl\"" },
	{ .path = NULL },
};

static const struct conf_setting *const sbc_tables[] = {
	daemon_conf_settings,	  sbc_settings,		registrar_conf_settings,
	forwarding_conf_settings, routes_conf_settings, NULL
};

const struct conf_schema sbc_conf_schema = { .tables = sbc_tables };

/* conf_str etc. on "sip.listen.[i].<member>" */
static const char *listen_path(char *buf, size_t size, unsigned i, const char *member)
{
	snprintf(buf, size, "sip.listen.[%u].%s", i, member);
	return buf;
}

static int read_tls(struct sbc_listen_conf *l, const struct conf *c, unsigned i, char *err,
		    size_t errlen)
{
	struct sip_tls_opts *tls = &l->opts.tls;
	char p[64];

	tls->cert_file = conf_str(c, listen_path(p, sizeof(p), i, "tls_certificate"));
	tls->key_file = conf_str(c, listen_path(p, sizeof(p), i, "tls_private_key"));
	tls->ca_file = conf_str(c, listen_path(p, sizeof(p), i, "tls_ca_file"));
	tls->verify_client = conf_bool(c, listen_path(p, sizeof(p), i, "tls_verify_client"));
	if (l->opts.proto != SIP_PROTO_TLS) {
		if (tls->cert_file || tls->key_file || tls->ca_file || tls->verify_client)
			return conf_error(c, listen_path(p, sizeof(p), i, "transport"), err, errlen,
					  "TLS settings on a listener that is not \"tls\"");
		return 0;
	}
	if (!tls->cert_file || !tls->key_file)
		return conf_error(c, listen_path(p, sizeof(p), i, "transport"), err, errlen,
				  "a \"tls\" listener needs tls_certificate and tls_private_key");
	if (tls->verify_client && !tls->ca_file)
		return conf_error(c, listen_path(p, sizeof(p), i, "tls_verify_client"), err, errlen,
				  "verifying clients needs tls_ca_file");
	return 0;
}

static int read_listener(struct sbc_listen_conf *l, const struct conf *c, unsigned i, char *err,
			 size_t errlen)
{
	char p[64];
	const char *addr;
	int64_t port;

	strv_copy(strv_cstr(conf_str(c, listen_path(p, sizeof(p), i, "interface"))), l->interface,
		  sizeof(l->interface));
	l->opts.interface = l->interface;
	l->opts.proto = (enum sip_proto)conf_choice(c, listen_path(p, sizeof(p), i, "transport"));
	addr = conf_str(c, listen_path(p, sizeof(p), i, "address"));
	if (sa_parse_cstr(&l->opts.addr, addr, 0) < 0 || sa_port(&l->opts.addr) != 0)
		return conf_error(c, p, err, errlen,
				  "expected an IPv4 or IPv6 address without port, got \"%s\"",
				  addr);
	port = conf_int(c, listen_path(p, sizeof(p), i, "port"));
	if (port == 0)
		port = l->opts.proto == SIP_PROTO_TLS ? 5061 : 5060;
	sa_set_port(&l->opts.addr, (uint16_t)port);
	addr = conf_str(c, listen_path(p, sizeof(p), i, "advertise"));
	if (addr &&
	    (sa_parse_cstr(&l->opts.advertise, addr, 0) < 0 || sa_is_any(&l->opts.advertise) ||
	     sa_family(&l->opts.advertise) != sa_family(&l->opts.addr)))
		return conf_error(c, p, err, errlen,
				  "expected an address[:port] of the listener's family, not a "
				  "wildcard, got \"%s\"",
				  addr);
	return read_tls(l, c, i, err, errlen);
}

static int read_listeners(struct sbc_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "sip.listen");
	int rc;

	if (n == 0 || n > SBC_MAX_LISTENERS)
		return conf_error(c, "sip.listen", err, errlen,
				  "expected 1 to %d listeners, got %u", SBC_MAX_LISTENERS, n);
	for (unsigned i = 0; i < n; i++) {
		const struct sip_listen_opts *li = &out->listen[i].opts;

		rc = read_listener(&out->listen[i], c, i, err, errlen);
		if (rc)
			return rc;
		for (unsigned j = 0; j < i; j++) {
			const struct sip_listen_opts *lj = &out->listen[j].opts;
			char p[64];

			/* TCP and TLS share the kernel's TCP port space. */
			if (sa_equal(&lj->addr, &li->addr) &&
			    sip_proto_is_stream(lj->proto) == sip_proto_is_stream(li->proto))
				return conf_error(c, listen_path(p, sizeof(p), i, "port"), err,
						  errlen,
						  "listener %u uses the same address and port", j);
		}
	}
	out->nlisten = n;
	return 0;
}

/* "udp:127.0.0.1:5070", "tcp:[2001:db8::1]:5060" */
static int parse_hop(struct sbc_hop *h, const char *r)
{
	const char *colon = strchr(r, ':');
	int p;

	for (p = 0; colon && sbc_transports[p]; p++)
		if ((size_t)(colon - r) == strlen(sbc_transports[p]) &&
		    strncmp(r, sbc_transports[p], (size_t)(colon - r)) == 0)
			break;
	if (!colon || !sbc_transports[p] || sa_parse_cstr(&h->addr, colon + 1, 5060) < 0)
		return -EINVAL;
	h->proto = (enum sip_proto)p;
	return 0;
}

static int read_hop(struct sbc_hop *h, const struct conf *c, const char *path, const char *r,
		    char *err, size_t errlen)
{
	if (parse_hop(h, r) < 0)
		return conf_error(c, path, err, errlen,
				  "expected \"udp|tcp|tls:address[:port]\", got \"%s\"", r);
	return 0;
}

/* registrar.upstream, in relay mode: a hop, or the name of a trunk with an IP address. */
static int read_relay_upstream(struct registrar_settings *rs, const struct routes *routes,
			       const struct conf *c, char *err, size_t errlen)
{
	const struct routes_trunk *t;
	struct sbc_hop h;

	if (!rs->relay)
		return 0;
	t = routes ? routes_trunk_find(routes, strv_cstr(rs->upstream)) : NULL;
	if (t && sa_isset(&t->addr)) {
		h = (struct sbc_hop){ .proto = t->proto, .addr = t->addr };
	} else if (parse_hop(&h, rs->upstream) < 0) {
		return conf_error(c, "registrar.upstream", err, errlen,
				  "expected \"udp|tcp|tls:address[:port]\" or a trunk with an IP "
				  "address, got \"%s\"",
				  rs->upstream);
	}
	rs->relay_conf.upstream = h.addr;
	rs->relay_conf.proto = h.proto;
	return 0;
}

static int read_route(struct sbc_b2bua_conf *b, const struct conf *c, char *err, size_t errlen)
{
	const char *r = conf_str(c, "b2bua.default_route");
	struct sbc_hop h;
	int rc;

	if (!r)
		return 0;
	rc = read_hop(&h, c, "b2bua.default_route", r, err, errlen);
	if (rc)
		return rc;
	b->route_proto = h.proto;
	b->route_addr = h.addr;
	b->has_default_route = true;
	return 0;
}

static int read_names(const struct conf *c, const char *path, const char **out, unsigned *n,
		      bool *set, char *err, size_t errlen)
{
	*n = conf_count(c, path);
	*set = *n > 0;
	if (*n > SBC_MAX_HDR_NAMES)
		return conf_error(c, path, err, errlen, "at most %d names", SBC_MAX_HDR_NAMES);
	for (unsigned i = 0; i < *n; i++)
		out[i] = conf_strs_elem(c, path, i);
	return 0;
}

static int read_b2bua(struct sbc_b2bua_conf *b, const struct conf *c, char *err, size_t errlen)
{
	int rc = read_route(b, c, err, errlen);

	if (rc)
		return rc;
	b->no_answer_timeout_ms = (uint32_t)conf_int(c, "b2bua.no_answer_timeout") * 1000;
	b->max_calls = (uint32_t)conf_int(c, "b2bua.max_calls");
	rc = read_names(c, "b2bua.headers_allow", b->headers_allow, &b->nheaders_allow,
			&b->headers_allow_set, err, errlen);
	if (rc)
		return rc;
	return read_names(c, "b2bua.headers_deny", b->headers_deny, &b->nheaders_deny,
			  &b->headers_deny_set, err, errlen);
}

/* media.*: rtpengine ng nodes "address:port" and what offers carry. */
static int read_media(struct media_conf *m, const struct conf *c, char *err, size_t errlen)
{
	const char *ice = conf_str(c, "media.ice");
	unsigned n = conf_count(c, "media.rtpengine");

	if (n > MEDIA_MAX_NODES)
		return conf_error(c, "media.rtpengine", err, errlen, "at most %d nodes",
				  MEDIA_MAX_NODES);
	for (unsigned i = 0; i < n; i++) {
		const char *a = conf_strs_elem(c, "media.rtpengine", i);

		if (sa_parse_cstr(&m->nodes[i], a, 0) < 0 || !sa_port(&m->nodes[i]))
			return conf_error(c, "media.rtpengine", err, errlen,
					  "expected \"address:port\", got \"%s\"", a);
		for (unsigned j = 0; j < i; j++)
			if (sa_equal(&m->nodes[i], &m->nodes[j]))
				return conf_error(c, "media.rtpengine", err, errlen,
						  "node \"%s\" is listed twice", a);
	}
	m->nnodes = n;
	m->timeout_ms = (uint32_t)conf_int(c, "media.rtpengine_timeout");
	m->tries = (uint32_t)conf_int(c, "media.rtpengine_tries");
	m->probe_interval_ms = (uint32_t)conf_int(c, "media.rtpengine_probe_interval");
	m->nflags = conf_count(c, "media.flags");
	m->nreplace = conf_count(c, "media.replace");
	if (m->nflags > MEDIA_MAX_FLAGS || m->nreplace > MEDIA_MAX_FLAGS)
		return conf_error(c, m->nflags > MEDIA_MAX_FLAGS ? "media.flags" : "media.replace",
				  err, errlen, "at most %d values", MEDIA_MAX_FLAGS);
	for (unsigned i = 0; i < m->nflags; i++)
		m->flags[i] = conf_strs_elem(c, "media.flags", i);
	for (unsigned i = 0; i < m->nreplace; i++)
		m->replace[i] = conf_strs_elem(c, "media.replace", i);
	n = conf_count(c, "media.direction");
	if (n != 0 && n != 2)
		return conf_error(c, "media.direction", err, errlen,
				  "expected two interface names (caller's side, callee's side)");
	for (unsigned i = 0; i < n; i++)
		m->direction[i] = conf_strs_elem(c, "media.direction", i);
	m->ice = ice && *ice ? ice : NULL;
	m->received_from = conf_bool(c, "media.received_from");
	return 0;
}

int sbc_conf_read(struct sbc_conf *out, const struct conf *c, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_listeners(out, c, err, errlen);
	if (rc)
		return rc;
	out->max_msg_size = (uint32_t)conf_int(c, "sip.max_message_size");
	out->t1_ms = (uint32_t)conf_int(c, "sip.timers.t1");
	out->t2_ms = (uint32_t)conf_int(c, "sip.timers.t2");
	out->t4_ms = (uint32_t)conf_int(c, "sip.timers.t4");
	if (out->t2_ms < out->t1_ms)
		return conf_error(c, "sip.timers.t2", err, errlen,
				  "T2 must not be below T1 (%u ms)", out->t1_ms);
	out->transport = (struct sip_transport_opts){
		.max_msg_size = out->max_msg_size,
		.max_conns = (uint32_t)conf_int(c, "sip.tcp.max_connections"),
		.max_conns_per_ip = (uint32_t)conf_int(c, "sip.tcp.max_connections_per_ip"),
		.idle_timeout_ms = (uint32_t)conf_int(c, "sip.tcp.idle_timeout") * 1000,
		.connect_timeout_ms = (uint32_t)conf_int(c, "sip.tcp.connect_timeout") * 1000,
	};
	out->control_socket = conf_str(c, "control.socket");
	out->cdr_file = conf_str(c, "cdr.file");
	if (out->cdr_file && !*out->cdr_file)
		out->cdr_file = NULL;
	rc = read_b2bua(&out->b2bua, c, err, errlen);
	if (rc)
		return rc;
	rc = read_media(&out->media, c, err, errlen);
	if (rc)
		return rc;
	/* last: the only part that allocates */
	rc = routes_settings_read(&out->routes, c, err, errlen);
	if (rc)
		return rc;
	rc = registrar_settings_read(&out->registrar, c, err, errlen);
	if (!rc)
		rc = read_relay_upstream(&out->registrar, out->routes, c, err, errlen);
	if (!rc)
		rc = forwarding_settings_read(&out->forwarding, c, err, errlen);
	if (rc)
		sbc_conf_clear(out);
	return rc;
}

void sbc_conf_clear(struct sbc_conf *cfg)
{
	forwarding_clear(&cfg->forwarding);
	registrar_settings_clear(&cfg->registrar);
	routes_free(cfg->routes);
	cfg->routes = NULL;
}
