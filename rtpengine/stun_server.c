/* SPDX-License-Identifier: BSD-2-Clause */
#include "stun_server.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

#define STUN_DEFAULT_PORT 3478

const struct conf_setting stun_server_settings[] = {
	/* no default: no STUN port */
	{ .path = "stun.listen", .type = CONF_STRS },
	{ .path = NULL },
};

int stun_server_conf_read(struct stun_server_conf *out, const struct conf *c, char *err,
			  size_t errlen)
{
	unsigned n = conf_count(c, "stun.listen");

	memset(out, 0, sizeof(*out));
	if (n > STUN_SERVER_MAX)
		return conf_error(c, "stun.listen", err, errlen, "at most %d addresses, got %u",
				  STUN_SERVER_MAX, n);
	for (unsigned i = 0; i < n; i++) {
		const char *text = conf_strs_elem(c, "stun.listen", i);

		if (sa_parse_cstr(&out->listen[i], text, STUN_DEFAULT_PORT) < 0 ||
		    sa_is_any(&out->listen[i]))
			return conf_error(c, "stun.listen", err, errlen,
					  "element %u: expected a local address[:port] (not a "
					  "wildcard), got \"%s\"",
					  i, text);
	}
	out->n = n;
	return 0;
}

int stun_server_start(struct stun_server *s, struct dataplane *dp,
		      const struct stun_server_conf *conf)
{
	memset(s, 0, sizeof(*s));
	s->dp = dp;
	for (unsigned i = 0; i < conf->n; i++) {
		/* no latch expectation, no ICE credentials: plain binding requests only */
		struct dp_flow_params p = { .local = conf->listen[i], .group = i };
		char a[SA_STRLEN];
		int rc = dp_flow_add(dp, &p, &s->flows[i]);

		sa_print(&conf->listen[i], a, sizeof(a));
		if (rc) {
			log_err("STUN on udp:%s: %s", a, strerror(-rc));
			stun_server_stop(s);
			return rc;
		}
		s->n = i + 1;
		log_notice("STUN listening on udp:%s", a);
	}
	return 0;
}

void stun_server_stats(const struct stun_server *s, struct dp_flow_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < s->n; i++) {
		struct dp_flow_stats st;

		if (dp_flow_stats(s->dp, s->flows[i], &st))
			continue;
		sum->stun_answered += st.stun_answered;
		sum->stun_refused += st.stun_refused;
		sum->refused += st.refused;
		sum->errors += st.errors;
	}
}

void stun_server_stop(struct stun_server *s)
{
	for (unsigned i = 0; i < s->n; i++)
		dp_flow_del(s->dp, s->flows[i]);
	s->n = 0;
}
