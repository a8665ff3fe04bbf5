/* SPDX-License-Identifier: BSD-2-Clause */
#include "registrar_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const registrar_modes[] = { "off", "local", "relay", NULL };
static const char *const digest_algorithms[] = { "both", "SHA-256", "MD5", NULL };
/* in the order of enum keepalive_method, after "off" */
static const char *const keepalive_methods[] = { "off", "options", "crlf", NULL };

const struct conf_setting registrar_conf_settings[] = {
	{ .path = "registrar.mode",
	  .type = CONF_STR,
	  .def = "\"off\"",
	  .choices = registrar_modes },
	{ .path = "registrar.realm", .type = CONF_STR },
	{ .path = "registrar.algorithms",
	  .type = CONF_STR,
	  .def = "\"both\"",
	  .choices = digest_algorithms },
	{ .path = "registrar.min_expires", .type = CONF_INT, .def = "60", .min = 1, .max = 86400 },
	{ .path = "registrar.max_expires",
	  .type = CONF_INT,
	  .def = "3600",
	  .min = 1,
	  .max = 604800 },
	{ .path = "registrar.default_expires",
	  .type = CONF_INT,
	  .def = "3600",
	  .min = 1,
	  .max = 604800 },
	{ .path = "registrar.nonce_ttl", .type = CONF_INT, .def = "300", .min = 10, .max = 86400 },
	{ .path = "registrar.nonce_secret", .type = CONF_STR },
	{ .path = "registrar.max_contacts_per_aor",
	  .type = CONF_INT,
	  .def = "10",
	  .min = 1,
	  .max = 64 },
	{ .path = "registrar.max_aors",
	  .type = CONF_INT,
	  .def = "100000",
	  .min = 1,
	  .max = 10000000 },
	{ .path = "registrar.upstream", .type = CONF_STR },
	{ .path = "registrar.relay.endpoint_expires",
	  .type = CONF_INT,
	  .def = "60",
	  .min = 10,
	  .max = 86400 },
	{ .path = "registrar.relay.upstream_expires",
	  .type = CONF_INT,
	  .def = "3600",
	  .min = 60,
	  .max = 604800 },
	{ .path = "registrar.relay.refresh_margin",
	  .type = CONF_INT,
	  .def = "120",
	  .min = 1,
	  .max = 86400 },
	{ .path = "registrar.relay.max_per_sec",
	  .type = CONF_INT,
	  .def = "100",
	  .min = 1,
	  .max = 1000000 },
	{ .path = "registrar.relay.max_per_source",
	  .type = CONF_INT,
	  .def = "20",
	  .min = 1,
	  .max = 1000000 },
	{ .path = "registrar.relay.contact_host", .type = CONF_STR },
	{ .path = "registrar.keepalive.method",
	  .type = CONF_STR,
	  .def = "\"options\"",
	  .choices = keepalive_methods },
	{ .path = "registrar.keepalive.interval",
	  .type = CONF_INT,
	  .def = "30",
	  .min = 5,
	  .max = 3600 },
	{ .path = "registrar.keepalive.max_failures",
	  .type = CONF_INT,
	  .def = "3",
	  .min = 1,
	  .max = 100 },
	{ .path = "registrar.keepalive.max_per_sec",
	  .type = CONF_INT,
	  .def = "20000",
	  .min = 1,
	  .max = 1000000 },
	{ .path = "registrar.users", .type = CONF_LIST, .def = "()" },
	{ .path = "registrar.users.[].username", .type = CONF_STR },
	{ .path = "registrar.users.[].domain", .type = CONF_STR },
	{ .path = "registrar.users.[].password", .type = CONF_STR },
	{ .path = "registrar.users.[].ha1_md5", .type = CONF_STR },
	{ .path = "registrar.users.[].ha1_sha256", .type = CONF_STR },
	{ .path = NULL },
};

static const char *user_path(char *buf, size_t size, unsigned i, const char *member)
{
	snprintf(buf, size, "registrar.users.[%u].%s", i, member);
	return buf;
}

static int read_user(struct registrar_user *u, const struct conf *c, unsigned i, char *err,
		     size_t errlen)
{
	char p[64];

	u->username = conf_str(c, user_path(p, sizeof(p), i, "username"));
	if (!u->username || !*u->username)
		return conf_error(c, user_path(p, sizeof(p), i, "username"), err, errlen,
				  "every user needs a username");
	u->domain = conf_str(c, user_path(p, sizeof(p), i, "domain"));
	u->password = conf_str(c, user_path(p, sizeof(p), i, "password"));
	u->ha1_md5 = conf_str(c, user_path(p, sizeof(p), i, "ha1_md5"));
	u->ha1_sha256 = conf_str(c, user_path(p, sizeof(p), i, "ha1_sha256"));
	if (!u->password && !u->ha1_md5 && !u->ha1_sha256)
		return conf_error(c, user_path(p, sizeof(p), i, "username"), err, errlen,
				  "user '%s' needs a password or ha1_md5/ha1_sha256", u->username);
	return 0;
}

static void read_keepalive(struct registrar_settings *out, const struct conf *c)
{
	int method = conf_choice(c, "registrar.keepalive.method");

	out->keepalive_enabled = method > 0;
	out->keepalive = (struct keepalive_conf){
		.method = method == 2 ? KEEPALIVE_CRLF : KEEPALIVE_OPTIONS,
		.interval_s = (uint32_t)conf_int(c, "registrar.keepalive.interval"),
		.max_failures = (uint8_t)conf_int(c, "registrar.keepalive.max_failures"),
		.max_per_sec = (uint32_t)conf_int(c, "registrar.keepalive.max_per_sec"),
	};
}

/* registrar.relay.*; the upstream address is parsed by the caller (sbc_conf.c). */
static int read_relay(struct registrar_settings *out, const struct conf *c, char *err,
		      size_t errlen)
{
	struct registrar_relay_conf *rc = &out->relay_conf;

	out->upstream = conf_str(c, "registrar.upstream");
	*rc = (struct registrar_relay_conf){
		.contact_host = conf_str(c, "registrar.relay.contact_host"),
		.endpoint_expires = (uint32_t)conf_int(c, "registrar.relay.endpoint_expires"),
		.upstream_expires = (uint32_t)conf_int(c, "registrar.relay.upstream_expires"),
		.refresh_margin = (uint32_t)conf_int(c, "registrar.relay.refresh_margin"),
		.max_per_sec = (uint32_t)conf_int(c, "registrar.relay.max_per_sec"),
		.max_per_source = (uint32_t)conf_int(c, "registrar.relay.max_per_source"),
	};
	if (!out->relay)
		return 0;
	if (!out->upstream || !*out->upstream)
		return conf_error(c, "registrar.mode", err, errlen,
				  "relay mode needs registrar.upstream");
	if (rc->endpoint_expires > rc->upstream_expires)
		return conf_error(c, "registrar.relay.endpoint_expires", err, errlen,
				  "must not exceed upstream_expires (%u)", rc->upstream_expires);
	return 0;
}

int registrar_settings_read(struct registrar_settings *out, const struct conf *c, char *err,
			    size_t errlen)
{
	unsigned n = conf_count(c, "registrar.users");
	struct registrar_conf *rc = &out->conf;
	int algorithms, rc_read;

	memset(out, 0, sizeof(*out));
	out->enabled = conf_choice(c, "registrar.mode") >= 1;
	out->relay = conf_choice(c, "registrar.mode") == 2;
	rc_read = read_relay(out, c, err, errlen);
	if (rc_read)
		return rc_read;
	if (n) {
		out->users = calloc(n, sizeof(*out->users));
		if (!out->users)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		rc_read = read_user(&out->users[i], c, i, err, errlen);
		if (rc_read) {
			registrar_settings_clear(out);
			return rc_read;
		}
	}
	rc->users = out->users;
	rc->nusers = n;
	rc->realm = conf_str(c, "registrar.realm");
	algorithms = conf_choice(c, "registrar.algorithms");
	rc->no_md5 = algorithms == 1;
	rc->no_sha256 = algorithms == 2;
	rc->min_expires = (uint32_t)conf_int(c, "registrar.min_expires");
	rc->max_expires = (uint32_t)conf_int(c, "registrar.max_expires");
	rc->default_expires = (uint32_t)conf_int(c, "registrar.default_expires");
	rc->nonce_ttl = (uint32_t)conf_int(c, "registrar.nonce_ttl");
	rc->nonce_secret = conf_str(c, "registrar.nonce_secret");
	rc->max_contacts_per_aor = (uint16_t)conf_int(c, "registrar.max_contacts_per_aor");
	rc->max_aors = (uint32_t)conf_int(c, "registrar.max_aors");
	read_keepalive(out, c);
	if (rc->min_expires > rc->max_expires) {
		registrar_settings_clear(out);
		return conf_error(c, "registrar.min_expires", err, errlen,
				  "must not exceed max_expires (%u)", rc->max_expires);
	}
	if (out->enabled && !out->relay && !rc->realm) {
		for (unsigned i = 0; i < n; i++) {
			if (!out->users[i].domain) {
				char p[64];

				registrar_settings_clear(out);
				return conf_error(c, user_path(p, sizeof(p), i, "username"), err,
						  errlen,
						  "a user without domain needs registrar.realm");
			}
		}
	}
	return 0;
}

void registrar_settings_clear(struct registrar_settings *s)
{
	free(s->users);
	s->users = NULL;
	s->conf.users = NULL;
	s->conf.nusers = 0;
}
