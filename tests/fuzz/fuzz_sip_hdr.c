/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The header value parsers on arbitrary bytes. The first byte selects the
 * parser (Via, name-addr, CSeq, RAck, number, credentials, option tag, the
 * tolerant parameter lookup); the rest is the value. Whatever parses must lie
 * within the input, and what the strict parsers extract must agree with what
 * sip_param_get finds in the same parameter list.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_sip_hdr: %s\n", what);
	abort();
}

static struct strv input;

static void in(struct strv v)
{
	check(v.len == 0 || (v.p >= input.p && v.p + v.len <= input.p + input.len),
	      "view outside the input");
}

/* A header parameter the strict parser took must be what the lookup finds. */
static void same_param(struct strv params, const char *name, struct strv got)
{
	struct strv v;

	if (got.len == 0)
		return;
	check(sip_param_get(params, strv_cstr(name), &v) && strv_eq(v, got),
	      "sip_param_get disagrees with the parser");
}

static void check_uri(const struct sip_uri *u)
{
	in(u->user);
	in(u->password);
	in(u->host);
	in(u->params);
	in(u->headers);
	in(u->transport);
	in(u->maddr);
	in(u->user_param);
	if (u->scheme != SIP_URI_OTHER)
		check(sip_uri_equal(u, u), "URI differs from itself");
}

static void fuzz_via(struct strv s)
{
	struct sip_via v;

	if (sip_via_parse(&v, s) != 0)
		return;
	in(v.transport);
	in(v.host);
	in(v.params);
	in(v.branch);
	in(v.received);
	in(v.maddr);
	check(v.transport.len && v.host.len, "via without transport or host");
	check(v.params.len == 0 || v.params.p[0] == ';', "via params must start with ';'");
	same_param(v.params, "branch", v.branch);
	same_param(v.params, "received", v.received);
	same_param(v.params, "maddr", v.maddr);
}

static void fuzz_addr(struct strv s)
{
	struct sip_addr a;
	struct sip_uri again;

	if (sip_addr_parse(&a, s) != 0)
		return;
	in(a.display);
	in(a.uri_text);
	in(a.params);
	in(a.tag);
	in(a.expires);
	in(a.q);
	check_uri(&a.uri);
	if (a.star) {
		check(a.uri_text.len == 0 && a.params.len == 0, "star with more");
		return;
	}
	check(a.params.len == 0 || a.params.p[0] == ';', "addr params must start with ';'");
	if (a.uri.scheme != SIP_URI_OTHER)
		check(sip_uri_parse(&again, a.uri_text) == 0 && sip_uri_equal(&again, &a.uri),
		      "uri_text parses differently");
	same_param(a.params, "tag", a.tag);
	same_param(a.params, "expires", a.expires);
	same_param(a.params, "q", a.q);
}

static void fuzz_cseq(struct strv s)
{
	struct sip_cseq c;

	if (sip_cseq_parse(&c, s) == 0) {
		in(c.method_name);
		check(c.method_name.len > 0, "cseq without method");
	}
}

static void fuzz_rack(struct strv s)
{
	struct sip_rack r;

	if (sip_rack_parse(&r, s) == 0) {
		in(r.method_name);
		check(r.method_name.len > 0, "rack without method");
	}
}

static void fuzz_uint(struct strv s)
{
	uint32_t v;
	int err = sip_uint_parse(s, 65535, &v);

	check(err == 0 || err == -EINVAL || err == -ERANGE, "uint error code");
	check(err != 0 || v <= 65535, "uint above max");
}

static void fuzz_auth(struct strv s)
{
	struct sip_auth a;

	if (sip_auth_parse(&a, s) != 0)
		return;
	in(a.scheme);
	in(a.username);
	in(a.realm);
	in(a.nonce);
	in(a.uri);
	in(a.response);
	in(a.algorithm);
	in(a.cnonce);
	in(a.opaque);
	in(a.qop);
	in(a.nc);
	in(a.stale);
	in(a.domain);
	in(a.token68);
	check(a.scheme.len > 0, "auth without scheme");
}

/* value '\n' tag */
static void fuzz_option_tag(struct strv s)
{
	const char *nl = s.len ? memchr(s.p, '\n', s.len) : NULL;
	struct strv value = s, tag = STRV("100rel");

	if (nl) {
		value = strv_make(s.p, (size_t)(nl - s.p));
		tag = strv_make(nl + 1, s.len - value.len - 1);
	}
	(void)sip_option_tag_eq(value, tag);
}

static void fuzz_param_get(struct strv s)
{
	static const char *const names[] = { "tag", "branch", "lr", "q", "" };
	struct strv v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (sip_param_get(s, strv_cstr(names[i]), &v))
			in(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(struct strv) = {
		fuzz_via,  fuzz_addr, fuzz_cseq,       fuzz_rack,
		fuzz_uint, fuzz_auth, fuzz_option_tag, fuzz_param_get,
	};
	struct strv s;

	if (size == 0)
		return 0;
	s = strv_make((const char *)data + 1, size - 1);
	input = s;
	parsers[data[0] % (sizeof(parsers) / sizeof(parsers[0]))](s);
	return 0;
}
