/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_uri_parse on arbitrary bytes. Whatever parses must lie within the input,
 * equal itself, parse again to an equal URI, and keep its structure (params
 * start with ';', headers with '?', SIP URIs have a host). When the input holds
 * a '\n', the two sides are parsed as well and sip_uri_equal must be symmetric.
 * sip_param_get also runs on the raw input, which it must survive.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_sip_uri: %s\n", what);
	abort();
}

static bool inside(struct strv v, struct strv in)
{
	return v.len == 0 || (v.p >= in.p && v.p + v.len <= in.p + in.len);
}

static void check_views(const struct sip_uri *u, struct strv in)
{
	const struct strv views[] = { u->user,	  u->password,	u->host,  u->params,
				      u->headers, u->transport, u->maddr, u->user_param };

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		check(inside(views[i], in), "view outside the input");
}

/* Parses @p in; on success checks everything that must hold of the result. */
static int parse_checked(struct sip_uri *u, struct strv in)
{
	struct sip_uri again;
	struct strv v;
	int err = sip_uri_parse(u, in);

	if (err == -EPROTONOSUPPORT) {
		check(u->scheme == SIP_URI_OTHER && u->host.len == 0, "other scheme not empty");
		return err;
	}
	if (err) {
		check(err == -EINVAL, "unexpected error code");
		check(u->scheme == SIP_URI_OTHER && u->params.len == 0, "not zeroed on error");
		return err;
	}
	check_views(u, in);
	check(u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS || u->scheme == SIP_URI_TEL,
	      "scheme");
	check(u->scheme == SIP_URI_TEL || u->host.len > 0, "SIP URI without host");
	check(u->params.len == 0 || u->params.p[0] == ';', "params must start with ';'");
	check(u->headers.len == 0 || u->headers.p[0] == '?', "headers must start with '?'");
	check(u->has_port || u->port == 0, "port without has_port");
	check(sip_uri_equal(u, u), "URI differs from itself");
	check(sip_uri_parse(&again, in) == 0 && sip_uri_equal(u, &again) &&
		  sip_uri_equal(&again, u),
	      "second parse differs");
	if (sip_param_get(u->params, STRV("transport"), &v))
		check(inside(v, u->params), "parameter value outside the parameters");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strv in = strv_make((const char *)data, size);
	const char *nl = size ? memchr(data, '\n', size) : NULL;
	struct sip_uri u, a, b;
	struct strv v;

	parse_checked(&u, in);
	if (sip_param_get(in, STRV("lr"), &v))
		check(inside(v, in), "sip_param_get value outside the input");

	if (nl) {
		struct strv left = strv_make(in.p, (size_t)(nl - in.p));
		struct strv right = strv_make(nl + 1, size - left.len - 1);

		if (parse_checked(&a, left) == 0 && parse_checked(&b, right) == 0)
			check(sip_uri_equal(&a, &b) == sip_uri_equal(&b, &a),
			      "sip_uri_equal is not symmetric");
	}
	return 0;
}
