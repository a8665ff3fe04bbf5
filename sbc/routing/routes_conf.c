/* SPDX-License-Identifier: BSD-2-Clause */
#include "routes_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const transports[] = { "udp", "tcp", "tls", NULL };

const struct conf_setting routes_conf_settings[] = {
	{ .path = "routing.trunks", .type = CONF_LIST, .def = "()" },
	{ .path = "routing.trunks.[].name", .type = CONF_STR },
	{ .path = "routing.trunks.[].address", .type = CONF_STR },
	{ .path = "routing.trunks.[].transport",
	  .type = CONF_STR,
	  .def = "\"udp\"",
	  .choices = transports },
	{ .path = "routing.trunks.[].weight",
	  .type = CONF_INT,
	  .def = "1",
	  .min = 1,
	  .max = 65535 },
	{ .path = "routing.trunks.[].ruri_host", .type = CONF_STR },
	{ .path = "routing.routes", .type = CONF_LIST, .def = "()" },
	{ .path = "routing.routes.[].name", .type = CONF_STR },
	{ .path = "routing.routes.[].domain", .type = CONF_STR },
	{ .path = "routing.routes.[].prefix", .type = CONF_STR },
	{ .path = "routing.routes.[].trunks", .type = CONF_STRS },
	{ .path = "routing.routes.[].balance", .type = CONF_BOOL, .def = "false" },
	{ .path = NULL },
};

/* Everything routes_build reads, allocated together and freed once it is built. */
struct routes_scratch {
	struct routes_trunk_conf *trunks;
	struct routes_route_conf *routes;
	struct routes_member_conf *members;
};

static void scratch_free(struct routes_scratch *sc)
{
	free(sc->trunks);
	free(sc->routes);
	free(sc->members);
}

static const char *path_of(char *buf, size_t size, const char *list, unsigned i, const char *m)
{
	snprintf(buf, size, "routing.%s.[%u].%s", list, i, m);
	return buf;
}

static int read_trunks(struct routes_scratch *sc, const struct conf *c, unsigned n, char *err,
		       size_t errlen)
{
	char p[80];

	for (unsigned i = 0; i < n; i++) {
		struct routes_trunk_conf *t = &sc->trunks[i];

		t->name = conf_str(c, path_of(p, sizeof(p), "trunks", i, "name"));
		t->address = conf_str(c, path_of(p, sizeof(p), "trunks", i, "address"));
		if (!t->name || !t->address)
			return conf_error(c, path_of(p, sizeof(p), "trunks", i, "name"), err,
					  errlen, "every trunk needs a name and an address");
		t->transport = conf_str(c, path_of(p, sizeof(p), "trunks", i, "transport"));
		t->weight = (unsigned)conf_int(c, path_of(p, sizeof(p), "trunks", i, "weight"));
		t->ruri_host = conf_str(c, path_of(p, sizeof(p), "trunks", i, "ruri_host"));
	}
	return 0;
}

/* Members in order of priority, or one weighted group with balance = true. */
static int read_routes(struct routes_scratch *sc, const struct conf *c, unsigned n, char *err,
		       size_t errlen)
{
	unsigned total = 0, used = 0;
	char p[80];

	for (unsigned i = 0; i < n; i++)
		total += conf_count(c, path_of(p, sizeof(p), "routes", i, "trunks"));
	sc->members = calloc(total ? total : 1, sizeof(*sc->members));
	if (!sc->members)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct routes_route_conf *r = &sc->routes[i];
		unsigned k = conf_count(c, path_of(p, sizeof(p), "routes", i, "trunks"));
		bool balance = conf_bool(c, path_of(p, sizeof(p), "routes", i, "balance"));

		if (k == 0)
			return conf_error(c, path_of(p, sizeof(p), "routes", i, "trunks"), err,
					  errlen, "a route needs at least one trunk");
		r->name = conf_str(c, path_of(p, sizeof(p), "routes", i, "name"));
		r->domain = conf_str(c, path_of(p, sizeof(p), "routes", i, "domain"));
		r->prefix = conf_str(c, path_of(p, sizeof(p), "routes", i, "prefix"));
		r->trunks = &sc->members[used];
		r->ntrunks = k;
		for (unsigned j = 0; j < k; j++) {
			struct routes_member_conf *m = &sc->members[used + j];

			m->trunk =
			    conf_strs_elem(c, path_of(p, sizeof(p), "routes", i, "trunks"), j);
			m->priority = balance ? 0 : j;
		}
		used += k;
	}
	return 0;
}

int routes_settings_read(struct routes **out, const struct conf *c, char *err, size_t errlen)
{
	unsigned ntrunks = conf_count(c, "routing.trunks");
	unsigned nroutes = conf_count(c, "routing.routes");
	struct routes_scratch sc = { 0 };
	struct routes_conf rc;
	char why[256];
	int rc_read;

	*out = NULL;
	if (nroutes == 0)
		return 0;
	sc.trunks = calloc(ntrunks ? ntrunks : 1, sizeof(*sc.trunks));
	sc.routes = calloc(nroutes, sizeof(*sc.routes));
	if (!sc.trunks || !sc.routes) {
		scratch_free(&sc);
		return -ENOMEM;
	}
	rc_read = read_trunks(&sc, c, ntrunks, err, errlen);
	if (!rc_read)
		rc_read = read_routes(&sc, c, nroutes, err, errlen);
	if (!rc_read) {
		rc = (struct routes_conf){ .trunks = sc.trunks,
					   .ntrunks = ntrunks,
					   .routes = sc.routes,
					   .nroutes = nroutes };
		if (routes_build(out, &rc, why, sizeof(why)) < 0)
			rc_read = conf_error(c, "routing.routes", err, errlen, "%s", why);
	}
	scratch_free(&sc);
	return rc_read;
}
