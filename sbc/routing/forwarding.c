/* SPDX-License-Identifier: BSD-2-Clause */
#include "forwarding.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc/sip/uri.h"

const struct conf_setting forwarding_conf_settings[] = {
	{ .path = "registrar.users.[].forward_unconditional", .type = CONF_STR },
	{ .path = "registrar.users.[].forward_busy", .type = CONF_STR },
	{ .path = "registrar.users.[].forward_no_answer", .type = CONF_STR },
	{ .path = "registrar.users.[].forward_no_answer_timeout",
	  .type = CONF_INT,
	  .def = "20",
	  .min = 1,
	  .max = 3600 },
	{ .path = NULL },
};

static const char *user_path(char *buf, size_t size, unsigned i, const char *member)
{
	snprintf(buf, size, "registrar.users.[%u].%s", i, member);
	return buf;
}

static bool is_sip_uri(const char *t)
{
	return strncasecmp(t, "sip:", 4) == 0 || strncasecmp(t, "sips:", 5) == 0;
}

/* A user or number alone: what a SIP URI's user part may hold, unescaped. */
static bool is_user(const char *t)
{
	if (!*t)
		return false;
	for (; *t; t++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "+-_.!~*'()&=$,;?/#",
			    *t))
			return false;
	return true;
}

/* A target must route: a SIP URI with a host and no headers, or a user alone. */
static int read_target(const char **out, const struct conf *c, unsigned i, const char *member,
		       char *err, size_t errlen)
{
	char p[80];
	const char *t = conf_str(c, user_path(p, sizeof(p), i, member));
	struct sip_uri u;

	*out = t && *t ? t : NULL;
	if (!*out)
		return 0;
	if (is_sip_uri(t) ? sip_uri_parse(&u, strv_cstr(t)) == 0 && u.host.len && !u.headers.len
			  : is_user(t))
		return 0;
	return conf_error(c, p, err, errlen,
			  "expected a SIP URI (\"sip:user@host\") or a user or number, got \"%s\"",
			  t);
}

static int read_rule(struct forwarding_rule *r, const struct conf *c, unsigned i, char *err,
		     size_t errlen)
{
	char p[80];
	int rc;

	r->user = conf_str(c, user_path(p, sizeof(p), i, "username"));
	r->domain = conf_str(c, user_path(p, sizeof(p), i, "domain"));
	r->no_answer_ms =
	    (uint32_t)conf_int(c, user_path(p, sizeof(p), i, "forward_no_answer_timeout")) * 1000;
	rc = read_target(&r->unconditional, c, i, "forward_unconditional", err, errlen);
	if (!rc)
		rc = read_target(&r->busy, c, i, "forward_busy", err, errlen);
	if (!rc)
		rc = read_target(&r->no_answer, c, i, "forward_no_answer", err, errlen);
	return rc;
}

int forwarding_settings_read(struct forwarding *out, const struct conf *c, char *err, size_t errlen)
{
	unsigned n = conf_count(c, "registrar.users");
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!n)
		return 0;
	out->rules = calloc(n, sizeof(*out->rules));
	if (!out->rules)
		return -ENOMEM;
	for (unsigned i = 0; i < n && !rc; i++) {
		struct forwarding_rule *r = &out->rules[out->n];

		rc = read_rule(r, c, i, err, errlen);
		if (!rc && r->user && (r->unconditional || r->busy || r->no_answer))
			out->n++;
	}
	if (rc)
		forwarding_clear(out);
	return rc;
}

void forwarding_clear(struct forwarding *f)
{
	free(f->rules);
	f->rules = NULL;
	f->n = 0;
}

const struct forwarding_rule *forwarding_lookup(const struct forwarding *f, struct strv user,
						struct strv host)
{
	for (unsigned i = 0; i < f->n; i++) {
		const struct forwarding_rule *r = &f->rules[i];

		if (strlen(r->user) != user.len || memcmp(r->user, user.p, user.len) != 0)
			continue;
		if (!r->domain ||
		    (strlen(r->domain) == host.len && !strncasecmp(r->domain, host.p, host.len)))
			return r;
	}
	return NULL;
}

int forwarding_target_uri(const char *target, struct strv host, char *out, size_t size)
{
	int n;

	if (is_sip_uri(target))
		n = snprintf(out, size, "%s", target);
	else /* an IPv6 host comes without its brackets */
		n = snprintf(out, size,
			     memchr(host.p, ':', host.len) ? "sip:%s@[%.*s]" : "sip:%s@%.*s",
			     target, (int)host.len, host.p);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
