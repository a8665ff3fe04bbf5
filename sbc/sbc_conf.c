/* SPDX-License-Identifier: BSD-2-Clause */
#include "sbc_conf.h"

#include <stdio.h>
#include <string.h>

#include "common/daemon.h"

/* Transports that exist today; TCP and TLS come with the SIP transport layer. */
static const char *const sbc_transports[] = { "udp", NULL };

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
	{ .path = "sip.listen.[].port", .type = CONF_INT, .def = "5060", .min = 1, .max = 65535 },
	{ .path = "control.socket", .type = CONF_STR, .def = "\"/run/sbc/sbc.ctl\"" },
	{ .path = NULL },
};

static const struct conf_setting *const sbc_tables[] = { daemon_conf_settings, sbc_settings, NULL };

const struct conf_schema sbc_conf_schema = { .tables = sbc_tables };

static int read_listener(struct sbc_listen_conf *l, const struct conf *c, unsigned i, char *err,
			 size_t errlen)
{
	char path[64];
	const char *addr;

	snprintf(path, sizeof(path), "sip.listen.[%u].interface", i);
	strv_copy(strv_cstr(conf_str(c, path)), l->interface, sizeof(l->interface));
	snprintf(path, sizeof(path), "sip.listen.[%u].transport", i);
	l->transport = conf_choice(c, path);
	snprintf(path, sizeof(path), "sip.listen.[%u].address", i);
	addr = conf_str(c, path);
	if (sa_parse_cstr(&l->addr, addr, 0) < 0 || sa_port(&l->addr) != 0)
		return conf_error(c, path, err, errlen,
				  "expected an IPv4 or IPv6 address without port, got \"%s\"",
				  addr);
	snprintf(path, sizeof(path), "sip.listen.[%u].port", i);
	sa_set_port(&l->addr, (uint16_t)conf_int(c, path));
	return 0;
}

int sbc_conf_read(struct sbc_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "sip.listen");
	int rc;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > SBC_MAX_LISTENERS)
		return conf_error(c, "sip.listen", err, errlen,
				  "expected 1 to %d listeners, got %u", SBC_MAX_LISTENERS, n);
	for (unsigned i = 0; i < n; i++) {
		rc = read_listener(&out->listen[i], c, i, err, errlen);
		if (rc)
			return rc;
		for (unsigned j = 0; j < i; j++) {
			if (sa_equal(&out->listen[j].addr, &out->listen[i].addr) &&
			    out->listen[j].transport == out->listen[i].transport) {
				char path[64];

				snprintf(path, sizeof(path), "sip.listen.[%u].port", i);
				return conf_error(c, path, err, errlen,
						  "listener %u uses the same address and port", j);
			}
		}
	}
	out->nlisten = n;
	out->control_socket = conf_str(c, "control.socket");
	return 0;
}
