/* SPDX-License-Identifier: BSD-2-Clause */
#include "rtpengine_conf.h"

#include <stdio.h>
#include <string.h>

#include "common/daemon.h"

/* Defaults follow Sipwise rtpengine's, so existing Kamailio set-ups just work. */
static const struct conf_setting rtpengine_settings[] = {
	{ .path = "ng.listen", .type = CONF_STRS, .def = "[ \"127.0.0.1:2223\" ]" },
	{ .path = "control.socket", .type = CONF_STR, .def = "\"/run/sbc/rtpengine.ctl\"" },
	{ .path = NULL },
};

static const struct conf_setting *const rtpengine_tables[] = { daemon_conf_settings,
							       rtpengine_settings, NULL };

const struct conf_schema rtpengine_conf_schema = { .tables = rtpengine_tables };

int rtpengine_conf_read(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "ng.listen");

	memset(out, 0, sizeof(*out));
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
	out->control_socket = conf_str(c, "control.socket");
	return 0;
}
