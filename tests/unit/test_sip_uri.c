/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sip_uri_parse, sip_uri_equal, sip_param_get: RFC 3261 §19.1 examples and
 * the §19.1.4 equality list, RFC 4475 and RFC 5118 URIs, RFC 3966 tel URIs,
 * hostile inputs. Every parse runs on an exact-size heap copy so that ASan
 * catches a read past the view.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/uri.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* An exact-size heap copy; the caller frees it. */
static char *copy_exact(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	if (len)
		memcpy(copy, text, len);
	return copy;
}

static bool view_inside(struct strv v, const char *buf, size_t len)
{
	return v.len == 0 || (v.p >= buf && v.p + v.len <= buf + len);
}

static void assert_views_inside(const struct sip_uri *u, const char *buf, size_t len)
{
	const struct strv views[] = { u->user,	  u->password,	u->host,  u->params,
				      u->headers, u->transport, u->maddr, u->user_param };

	for (size_t i = 0; i < ARRAY_SIZE(views); i++)
		assert_true(view_inside(views[i], buf, len));
}

/* Parses a copy of @p text; the copy stays alive in *@p keep for the views. */
static int parse_len(struct sip_uri *u, const char *text, size_t len, char **keep)
{
	char *copy = copy_exact(text, len);
	int err = sip_uri_parse(u, strv_make(copy, len));

	assert_views_inside(u, copy, len);
	*keep = copy;
	return err;
}

static int parse(struct sip_uri *u, const char *text, char **keep)
{
	return parse_len(u, text, strlen(text), keep);
}

static void assert_view(struct strv v, const char *want, const char *in)
{
	if (!want) {
		if (v.len != 0)
			fail_msg("%s: expected empty, got \"%.*s\"", in, (int)v.len, v.p);
		return;
	}
	if (!strv_eq(v, strv_cstr(want)))
		fail_msg("%s: expected \"%s\", got \"%.*s\"", in, want, (int)v.len, v.p);
}

/* ---- accepted ---- */

struct accept_case {
	const char *in;
	enum sip_uri_scheme scheme;
	const char *user;
	const char *password; /* NULL: none */
	const char *host;
	bool ipv6;
	int port; /* -1: none */
	const char *params;
	const char *headers;
	const char *transport;
	const char *maddr;
	const char *user_param;
	bool lr;
};

static const struct accept_case accept_cases[] = {
	/* RFC 3261 §19.1.3 examples */
	{ .in = "sip:alice@atlanta.com",
	  .scheme = SIP_URI_SIP,
	  .user = "alice",
	  .host = "atlanta.com",
	  .port = -1 },
	{ .in = "sip:alice:secretword@atlanta.com;transport=tcp",
	  .scheme = SIP_URI_SIP,
	  .user = "alice",
	  .password = "secretword",
	  .host = "atlanta.com",
	  .port = -1,
	  .params = ";transport=tcp",
	  .transport = "tcp" },
	{ .in = "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
	  .scheme = SIP_URI_SIPS,
	  .user = "alice",
	  .host = "atlanta.com",
	  .port = -1,
	  .headers = "?subject=project%20x&priority=urgent" },
	{ .in = "sip:+1-212-555-1212:1234@gateway.com;user=phone",
	  .scheme = SIP_URI_SIP,
	  .user = "+1-212-555-1212",
	  .password = "1234",
	  .host = "gateway.com",
	  .port = -1,
	  .params = ";user=phone",
	  .user_param = "phone" },
	{ .in = "sips:1212@gateway.com",
	  .scheme = SIP_URI_SIPS,
	  .user = "1212",
	  .host = "gateway.com",
	  .port = -1 },
	{ .in = "sip:alice@192.0.2.4",
	  .scheme = SIP_URI_SIP,
	  .user = "alice",
	  .host = "192.0.2.4",
	  .port = -1 },
	{ .in = "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
	  .scheme = SIP_URI_SIP,
	  .host = "atlanta.com",
	  .port = -1,
	  .params = ";method=REGISTER",
	  .headers = "?to=alice%40atlanta.com" },
	{ .in = "sip:alice;day=tuesday@atlanta.com",
	  .scheme = SIP_URI_SIP,
	  .user = "alice;day=tuesday",
	  .host = "atlanta.com",
	  .port = -1 },
	/* scheme and host in any case */
	{ .in = "SIP:ALICE@AtLanTa.CoM;Transport=udp",
	  .scheme = SIP_URI_SIP,
	  .user = "ALICE",
	  .host = "AtLanTa.CoM",
	  .port = -1,
	  .params = ";Transport=udp",
	  .transport = "udp" },
	{ .in = "SiPs:b@h", .scheme = SIP_URI_SIPS, .user = "b", .host = "h", .port = -1 },
	/* ports */
	{ .in = "sip:bob@biloxi.com:5060",
	  .scheme = SIP_URI_SIP,
	  .user = "bob",
	  .host = "biloxi.com",
	  .port = 5060 },
	{ .in = "sip:h:0", .scheme = SIP_URI_SIP, .host = "h", .port = 0 },
	{ .in = "sip:h:65535", .scheme = SIP_URI_SIP, .host = "h", .port = 65535 },
	{ .in = "sip:h:000005060", .scheme = SIP_URI_SIP, .host = "h", .port = 5060 },
	{ .in = "sip:1.2.3.4:5060;transport=tcp;lr",
	  .scheme = SIP_URI_SIP,
	  .host = "1.2.3.4",
	  .port = 5060,
	  .params = ";transport=tcp;lr",
	  .transport = "tcp",
	  .lr = true },
	/* an empty password is a password */
	{ .in = "sip:a:@h",
	  .scheme = SIP_URI_SIP,
	  .user = "a",
	  .password = "",
	  .host = "h",
	  .port = -1 },
	/* fully qualified name */
	{ .in = "sip:example.com.", .scheme = SIP_URI_SIP, .host = "example.com.", .port = -1 },
	{ .in = "sip:a-b.c-d.e9", .scheme = SIP_URI_SIP, .host = "a-b.c-d.e9", .port = -1 },
	{ .in = "sip:user@host;maddr=239.255.255.1;ttl=15",
	  .scheme = SIP_URI_SIP,
	  .user = "user",
	  .host = "host",
	  .port = -1,
	  .params = ";maddr=239.255.255.1;ttl=15",
	  .maddr = "239.255.255.1" },
	{ .in = "sip:x@y;lr=on",
	  .scheme = SIP_URI_SIP,
	  .user = "x",
	  .host = "y",
	  .port = -1,
	  .params = ";lr=on",
	  .lr = true },
	{ .in = "sip:x@y;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
	  .scheme = SIP_URI_SIP,
	  .user = "x",
	  .host = "y",
	  .port = -1,
	  .params = ";gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6" },
	{ .in = "sip:x@y;maddr=[2001:db8::1]",
	  .scheme = SIP_URI_SIP,
	  .user = "x",
	  .host = "y",
	  .port = -1,
	  .params = ";maddr=[2001:db8::1]",
	  .maddr = "[2001:db8::1]" },
	/* '#' from telephone-subscriber */
	{ .in = "sip:*97#@pbx.example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "*97#",
	  .host = "pbx.example.com",
	  .port = -1 },
	/* RFC 5118 IPv6 */
	{ .in = "sip:[2001:db8::10]",
	  .scheme = SIP_URI_SIP,
	  .host = "2001:db8::10",
	  .ipv6 = true,
	  .port = -1 },
	{ .in = "sip:[2001:db8::10]:5070",
	  .scheme = SIP_URI_SIP,
	  .host = "2001:db8::10",
	  .ipv6 = true,
	  .port = 5070 },
	{ .in = "sip:user@[2001:db8::10:5070]",
	  .scheme = SIP_URI_SIP,
	  .user = "user",
	  .host = "2001:db8::10:5070",
	  .ipv6 = true,
	  .port = -1 },
	{ .in = "sip:user@[::ffff:192.0.2.10]:5061;transport=tls",
	  .scheme = SIP_URI_SIP,
	  .user = "user",
	  .host = "::ffff:192.0.2.10",
	  .ipv6 = true,
	  .port = 5061,
	  .params = ";transport=tls",
	  .transport = "tls" },
	{ .in = "sip:[::1]", .scheme = SIP_URI_SIP, .host = "::1", .ipv6 = true, .port = -1 },
	{ .in = "sip:[::]", .scheme = SIP_URI_SIP, .host = "::", .ipv6 = true, .port = -1 },
	{ .in = "sip:[1:2:3:4:5:6:7::]",
	  .scheme = SIP_URI_SIP,
	  .host = "1:2:3:4:5:6:7::",
	  .ipv6 = true,
	  .port = -1 },
	{ .in = "sip:[1:2:3:4:5:6:7:8]",
	  .scheme = SIP_URI_SIP,
	  .host = "1:2:3:4:5:6:7:8",
	  .ipv6 = true,
	  .port = -1 },
	{ .in = "sip:[1:2:3:4:5:6:1.2.3.4]",
	  .scheme = SIP_URI_SIP,
	  .host = "1:2:3:4:5:6:1.2.3.4",
	  .ipv6 = true,
	  .port = -1 },
	{ .in = "sip:caller@[2001:DB8::1]",
	  .scheme = SIP_URI_SIP,
	  .user = "caller",
	  .host = "2001:DB8::1",
	  .ipv6 = true,
	  .port = -1 },
	/* RFC 4475 §3.1.1.1 wsinv */
	{ .in = "sip:vivekg@chair-dnrc.example.com;unknownparam",
	  .scheme = SIP_URI_SIP,
	  .user = "vivekg",
	  .host = "chair-dnrc.example.com",
	  .port = -1,
	  .params = ";unknownparam" },
	{ .in = "sip:services.example.com;lr;unknownwith=value;unknown-no-value",
	  .scheme = SIP_URI_SIP,
	  .host = "services.example.com",
	  .port = -1,
	  .params = ";lr;unknownwith=value;unknown-no-value",
	  .lr = true },
	/* §3.1.1.2 intmeth */
	{ .in =
	      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
	      "(doesn't-it)@example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
	  .password = "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
	  .host = "example.com",
	  .port = -1 },
	/* §3.1.1.3 esc01 */
	{ .in = "sip:sips%3Auser%40example.com@example.net",
	  .scheme = SIP_URI_SIP,
	  .user = "sips%3Auser%40example.com",
	  .host = "example.net",
	  .port = -1 },
	{ .in = "sip:%75se%72@example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "%75se%72",
	  .host = "example.com",
	  .port = -1 },
	{ .in = "sip:I%20have%20spaces@example.net",
	  .scheme = SIP_URI_SIP,
	  .user = "I%20have%20spaces",
	  .host = "example.net",
	  .port = -1 },
	{ .in = "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	  .scheme = SIP_URI_SIP,
	  .user = "cal%6Cer",
	  .host = "host5.example.net",
	  .port = -1,
	  .params = ";%6C%72;n%61me=v%61lue%25%34%31",
	  .lr = true },
	/* §3.1.1.4 escnull */
	{ .in = "sip:null-%00-null@example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "null-%00-null",
	  .host = "example.com",
	  .port = -1 },
	{ .in = "sip:%00%00@host5.example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "%00%00",
	  .host = "host5.example.com",
	  .port = -1 },
	/* §3.1.1.9 semiuri */
	{ .in = "sip:user;par=u%40example.net@example.com",
	  .scheme = SIP_URI_SIP,
	  .user = "user;par=u%40example.net",
	  .host = "example.com",
	  .port = -1 },
	/* §3.1.2.9 escruri: the URI is well-formed, headers are the message's problem */
	{ .in = "sip:user@example.com?Route=%3Csip:example.com%3E",
	  .scheme = SIP_URI_SIP,
	  .user = "user",
	  .host = "example.com",
	  .port = -1,
	  .headers = "?Route=%3Csip:example.com%3E" },
	{ .in = "sip:h?a=&b=1",
	  .scheme = SIP_URI_SIP,
	  .host = "h",
	  .port = -1,
	  .headers = "?a=&b=1" },
	/* RFC 3966 tel */
	{ .in = "tel:+1-201-555-0123",
	  .scheme = SIP_URI_TEL,
	  .user = "+1-201-555-0123",
	  .port = -1 },
	{ .in = "tel:7042;phone-context=example.com",
	  .scheme = SIP_URI_TEL,
	  .user = "7042",
	  .port = -1,
	  .params = ";phone-context=example.com" },
	{ .in = "tel:863-1234;phone-context=+1-914-555",
	  .scheme = SIP_URI_TEL,
	  .user = "863-1234",
	  .port = -1,
	  .params = ";phone-context=+1-914-555" },
	{ .in = "TEL:+358-555-1234567;postd=pp22",
	  .scheme = SIP_URI_TEL,
	  .user = "+358-555-1234567",
	  .port = -1,
	  .params = ";postd=pp22" },
	{ .in = "tel:+1-201-555-0123;ext=1234;isub=1411",
	  .scheme = SIP_URI_TEL,
	  .user = "+1-201-555-0123",
	  .port = -1,
	  .params = ";ext=1234;isub=1411" },
	{ .in = "tel:*21#;phone-context=+49",
	  .scheme = SIP_URI_TEL,
	  .user = "*21#",
	  .port = -1,
	  .params = ";phone-context=+49" },
	{ .in = "tel:+(1)201.555", .scheme = SIP_URI_TEL, .user = "+(1)201.555", .port = -1 },
	{ .in = "tel:+1;x-flag;y=%41",
	  .scheme = SIP_URI_TEL,
	  .user = "+1",
	  .port = -1,
	  .params = ";x-flag;y=%41" },
};

static void test_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accept_cases); i++) {
		const struct accept_case *c = &accept_cases[i];
		struct sip_uri u;
		char *keep;
		int err = parse(&u, c->in, &keep);

		if (err)
			fail_msg("%s: %d", c->in, err);
		assert_int_equal(u.scheme, c->scheme);
		assert_view(u.user, c->user, c->in);
		assert_int_equal(u.has_password, c->password != NULL);
		assert_view(u.password, c->password, c->in);
		assert_view(u.host, c->host, c->in);
		assert_int_equal(u.host_ipv6, c->ipv6);
		assert_int_equal(u.has_port, c->port >= 0);
		assert_int_equal(u.port, c->port >= 0 ? c->port : 0);
		assert_view(u.params, c->params, c->in);
		assert_view(u.headers, c->headers, c->in);
		assert_view(u.transport, c->transport, c->in);
		assert_view(u.maddr, c->maddr, c->in);
		assert_view(u.user_param, c->user_param, c->in);
		assert_int_equal(u.lr, c->lr);
		/* a URI equals itself */
		assert_true(sip_uri_equal(&u, &u));
		free(keep);
	}
}

/* Well-formed absoluteURIs of other schemes (RFC 4475 §3.3.2, §3.3.3, §3.1.1.? unksm2). */
static void test_other_scheme(void **state)
{
	static const char *const other[] = {
		"nobodyKnowsThisScheme:totallyopaquecontent",
		"soap.beep://192.0.2.103:3002",
		"http://www.example.com",
		"isbn:2983792873",
		"name:John_Smith",
		"mailto:bob@example.com",
		"urn:service:sos",
		"example.com:5060",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		struct sip_uri u;
		char *keep;

		if (parse(&u, other[i], &keep) != -EPROTONOSUPPORT)
			fail_msg("%s: not EPROTONOSUPPORT", other[i]);
		assert_int_equal(u.scheme, SIP_URI_OTHER);
		assert_int_equal(u.host.len, 0);
		assert_false(sip_uri_equal(&u, &u));
		free(keep);
	}
}

/* ---- refused ---- */

static const char *const reject_cases[] = {
	"",
	"sip",
	"sip:",
	"sips:",
	":x",
	"1sip:x",
	"sip:@host",
	"sip:user@",
	"sip:user@:5060",
	"sip:user:pass@",
	"sip:user:pass:word@host",
	"sip::@host",
	/* ports */
	"sip:user@host:65536",
	"sip:user@host:99999",
	"sip:user@host:99999999999999999999999999",
	"sip:user@host:",
	"sip:user@host:12a",
	"sip:user@host:-1",
	"sip:user@host:+5060",
	/* RFC 4475 §3.1.2.5 ltgtruri, §3.1.2.6 lwsruri */
	"<sip:user@example.com>",
	"sip:user@example.com; lr",
	"sip:user@example.com ",
	" sip:user@example.com",
	"sip:user name@host",
	"sip:user@host\r\n",
	/* parameters and headers */
	"sip:user@example.com;",
	"sip:user@example.com;;lr",
	"sip:user@example.com;=x",
	"sip:user@example.com;a=",
	"sip:user@example.com;a=b=c",
	"sip:user@example.com;a=\"b\"",
	"sip:user@host;lr;LR",
	"sip:user@host;lr;%6cr",
	"sip:user@host;Transport=tcp;transport=udp",
	"sip:user@example.com?",
	"sip:user@example.com?a",
	"sip:user@example.com?=b",
	"sip:user@example.com?a=b&",
	"sip:user@example.com?a=b?c=d&",
	"sip:user@example.com?a=b;c",
	"sip:user@example.com?a=<b>",
	/* IPv6 */
	"sip:[2001:db8::10",
	"sip:2001:db8::10",
	"sip:user@2001:db8::10",
	"sip:[2001:db8::10]]",
	"sip:[2001:db8::10]:",
	"sip:[2001:db8::10]x",
	"sip:[]",
	"sip:[:]",
	"sip:[:::]",
	"sip:[1:2:3:4:5:6:7:8:9]",
	"sip:[1:2:3:4:5:6:7]",
	"sip:[1:2:3:4:5:6:7:8::]",
	"sip:[::1:2:3:4:5:6:7:8]",
	"sip:[::1::2]",
	"sip:[12345::1]",
	"sip:[1:]",
	"sip:[:1]",
	"sip:[fe80::1%25eth0]",
	"sip:[1.2.3.4]",
	"sip:[::1.2.3]",
	"sip:[::1.2.3.4.5]",
	"sip:[1:2:3:4:5:6:7:1.2.3.4]",
	"sip:[::1.2.3.256]",
	"sip:[g::1]",
	/* IPv4 and hostnames */
	"sip:user@256.1.1.1",
	"sip:user@1.2.3",
	"sip:user@1.2.3.4.5",
	"sip:user@1.2.3.0004",
	"sip:user@-host.com",
	"sip:user@host-.com",
	"sip:user@ho..st",
	"sip:user@.host",
	"sip:user@ho_st.com",
	"sip:user@host.123",
	"sip:user@123",
	"sip:user@host..",
	/* escapes */
	"sip:a%zz@host",
	"sip:a%2@host",
	"sip:a%@host",
	"sip:user@host;a=%4",
	"sip:user@host?a=%",
	/* characters outside the sets */
	"sip:us\"er@host",
	"sip:us<er@host",
	"sip:user@host;a=b c",
	"sip:user@host;a=\x80",
	"sip:user\x80@host",
	"sip:user@ho\x01st",
	/* tel */
	"tel:",
	"tel:1234",
	"tel:+",
	"tel:+-",
	"tel:+1a",
	"tel:++1",
	"tel:-;phone-context=+1",
	"tel:12 34;phone-context=+1",
	"tel:+123;ext=",
	"tel:+123;ext",
	"tel:+123;ext=12a",
	"tel:123;phone-context=",
	"tel:123;phone-context=-bad.com",
	"tel:123;phone-context=+",
	"tel:123;phone-context=%41.com",
	"tel:+1;a=1;A=2",
	"tel:+1;",
	"tel:+1;=1",
	"tel:+1;a_b=1",
	"tel:+1?x=y",
	"tel:+1@host",
	"tel:+1;isub",
	/* other schemes */
	"foo:",
	"foo:<bar>",
	"foo:a b",
	"foo",
};

static void test_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		struct sip_uri u;
		char *keep;
		int err = parse(&u, reject_cases[i], &keep);

		if (err != -EINVAL)
			fail_msg("\"%s\": expected -EINVAL, got %d", reject_cases[i], err);
		/* the struct is left zeroed */
		assert_int_equal(u.scheme, 0);
		assert_int_equal(u.host.len, 0);
		assert_int_equal(u.params.len, 0);
		free(keep);
	}
}

static void test_reject_binary(void **state)
{
	static const char nul_user[] = "sip:us\0er@host";
	static const char nul_end[] = "sip:user@host\0";
	struct sip_uri u;
	char *keep;

	(void)state;
	assert_int_equal(parse_len(&u, nul_user, sizeof(nul_user) - 1, &keep), -EINVAL);
	free(keep);
	assert_int_equal(parse_len(&u, nul_end, sizeof(nul_end) - 1, &keep), -EINVAL);
	free(keep);
	/* an empty view that carries NULL */
	assert_int_equal(sip_uri_parse(&u, STRV_NULL), -EINVAL);
	/* a view that stops before the rest of the buffer: only the view counts */
	assert_int_equal(sip_uri_parse(&u, strv_make("sip:a@b:5060", 7)), 0);
	assert_true(strv_eq(u.host, STRV("b")));
	assert_false(u.has_port);
}

/* LEX_MAX_PARAMS parameters are fine, one more is refused; the same for headers. */
static void test_limits(void **state)
{
	char buf[2048];
	size_t len = 0;
	struct sip_uri u;
	char *keep;

	(void)state;
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "sip:h");
	for (int i = 0; i < 64; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";p%d", i);
	assert_int_equal(parse(&u, buf, &keep), 0);
	free(keep);
	snprintf(buf + len, sizeof(buf) - len, ";p64");
	assert_int_equal(parse(&u, buf, &keep), -EINVAL);
	free(keep);

	len = (size_t)snprintf(buf, sizeof(buf), "sip:h?h0=");
	for (int i = 1; i < 64; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "&h%d=", i);
	assert_int_equal(parse(&u, buf, &keep), 0);
	free(keep);
	snprintf(buf + len, sizeof(buf) - len, "&x=");
	assert_int_equal(parse(&u, buf, &keep), -EINVAL);
	free(keep);
}

/* A long user, host and parameter value. */
static void test_long(void **state)
{
	static char buf[70000];
	struct sip_uri u;
	char *keep;
	size_t len;

	(void)state;
	memcpy(buf, "sip:", 4);
	memset(buf + 4, 'a', 30000);
	buf[30004] = '@';
	memset(buf + 30005, 'b', 30000);
	memcpy(buf + 60005, ";x=", 3);
	memset(buf + 60008, 'c', 5000);
	len = 65008;
	assert_int_equal(parse_len(&u, buf, len, &keep), 0);
	assert_int_equal(u.user.len, 30000);
	assert_int_equal(u.host.len, 30000);
	assert_int_equal(u.params.len, 5003);
	free(keep);
}

/* ---- equality ---- */

struct eq_case {
	const char *a, *b;
	bool equal;
};

static const struct eq_case eq_cases[] = {
	/* RFC 3261 §19.1.4: equivalent */
	{ "sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true },
	{ "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true },
	{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
	  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true },
	{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	  "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true },
	/* RFC 3261 §19.1.4: not equivalent */
	{ "SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false },
	{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false },
	{ "sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false },
	{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false },
	/* the scheme */
	{ "sip:alice@atlanta.com", "sips:alice@atlanta.com", false },
	{ "SIP:alice@atlanta.com", "sip:alice@atlanta.com", true },
	{ "sip:alice@atlanta.com", "tel:+1", false },
	/* userinfo: case-sensitive, escapes of unreserved characters are equal */
	{ "sip:%41@h", "sip:A@h", true },
	{ "sip:%61@h", "sip:A@h", false },
	{ "sip:%7e@h", "sip:~@h", true },
	{ "sip:%75se%72@example.com", "sip:user@example.com", true },
	{ "sip:user@example.com", "sip:example.com", false },
	/* an escaped reserved character is not the character */
	{ "sip:a%3Bb@h", "sip:a;b@h", false },
	{ "sip:a%3bb@h", "sip:a%3Bb@h", true },
	{ "sip:sips%3Auser%40example.com@example.net", "sip:sips:user%40example.com@example.net",
	  false },
	/* password */
	{ "sip:u:p@h", "sip:u@h", false },
	{ "sip:u:@h", "sip:u@h", false },
	{ "sip:u:P@h", "sip:u:p@h", false },
	{ "sip:u:%70@h", "sip:u:p@h", true },
	/* host */
	{ "sip:u@H.COM:5060", "sip:u@h.com:5060", true },
	{ "sip:[2001:db8::1]", "sip:[2001:DB8:0:0::1]", true },
	{ "sip:[::ffff:192.0.2.1]", "sip:[::FFFF:c000:201]", true },
	{ "sip:[2001:db8::1]", "sip:[2001:db8::2]", false },
	{ "sip:[::1]:5060", "sip:[::1]", false },
	{ "sip:[::1]", "sip:localhost", false },
	{ "sip:[::7f00:1]", "sip:127.0.0.1", false },
	{ "sip:010.0.0.1", "sip:10.0.0.1", true },
	{ "sip:example.com", "sip:example.com.", false },
	/* port */
	{ "sip:h:0", "sip:h", false },
	{ "sip:h:05060", "sip:h:5060", true },
	/* parameters compared when in either */
	{ "sip:h;maddr=x", "sip:h", false },
	{ "sip:h;ttl=1", "sip:h", false },
	{ "sip:h;user=phone", "sip:h", false },
	{ "sip:h", "sip:h;method=INVITE", false },
	{ "sip:h;%6dethod=INVITE", "sip:h", false },
	{ "sip:h;method=INVITE", "sip:h;method=invite", true },
	/* parameters compared when in both */
	{ "sip:h;lr", "sip:h", true },
	{ "sip:h;lr", "sip:h;lr=on", false },
	{ "sip:h;x=1", "sip:h;X=%31", true },
	{ "sip:h;x=1", "sip:h;x=2", false },
	{ "sip:h;transport=TCP", "sip:h;TRANSPORT=tcp", true },
	{ "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	  "sip:caller@host5.example.net;lr;name=value%25%34%31", true },
	{ "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	  "sip:caller@host5.example.net;lr;name=value%2541", true },
	/* headers: a multiset, names in any case, values exact */
	{ "sip:h?A=1", "sip:h?a=1", true },
	{ "sip:h?a=X", "sip:h?a=x", false },
	{ "sip:h?a=1&a=1", "sip:h?a=1&a=2", false },
	{ "sip:h?a=1&a=1&b=2", "sip:h?a=1&b=2&a=1", true },
	{ "sip:h?a=1", "sip:h?a=1&a=1", false },
	{ "sip:h?a=%20", "sip:h?a=%20&b=", false },
	/* tel (RFC 3966 §4) */
	{ "tel:+1-201-555-0123", "tel:+12015550123", true },
	{ "tel:+1-201-555-0123", "tel:+1(201)555.0123", true },
	{ "tel:+1201", "tel:1201;phone-context=+1", false },
	{ "tel:7042;phone-context=Example.com", "tel:7042;phone-context=example.com", true },
	{ "tel:7042;phone-context=+1-914", "tel:7042;phone-context=+1914", true },
	{ "tel:7042;phone-context=a-b.com", "tel:7042;phone-context=ab.com", false },
	{ "tel:+1;ext=1-2", "tel:+1;ext=12", true },
	{ "tel:+1;a=1", "tel:+1", false },
	{ "tel:+1", "tel:+1;a=1", false },
	{ "tel:+1;A=x;b", "tel:+1;b;a=X", true },
	{ "tel:*21#;phone-context=+49", "tel:*21#;phone-context=+49", true },
	{ "tel:abc;phone-context=+49", "tel:ABC;phone-context=+49", true },
	{ "tel:+1;b", "tel:+1;b=1", false },
};

static void test_equal(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(eq_cases); i++) {
		const struct eq_case *c = &eq_cases[i];
		struct sip_uri a, b;
		char *ka, *kb;
		int ea = parse(&a, c->a, &ka), eb = parse(&b, c->b, &kb);

		if (ea || eb)
			fail_msg("%s / %s: does not parse", c->a, c->b);
		if (sip_uri_equal(&a, &b) != c->equal || sip_uri_equal(&b, &a) != c->equal)
			fail_msg("%s %s %s", c->a, c->equal ? "should equal" : "should differ from",
				 c->b);
		free(ka);
		free(kb);
	}
}

/* ---- sip_param_get ---- */

static void test_param_get(void **state)
{
	struct sip_uri u;
	struct strv v;
	char *keep;

	(void)state;
	assert_int_equal(parse(&u, "sip:h;transport=tcp;lr;maddr=[::1];X=%41", &keep), 0);
	assert_true(sip_param_get(u.params, STRV("lr"), &v));
	assert_int_equal(v.len, 0);
	assert_true(sip_param_get(u.params, STRV("TRANSPORT"), &v));
	assert_true(strv_eq(v, STRV("tcp")));
	assert_true(sip_param_get(u.params, STRV("maddr"), &v));
	assert_true(strv_eq(v, STRV("[::1]")));
	assert_true(sip_param_get(u.params, STRV("x"), NULL));
	assert_false(sip_param_get(u.params, STRV("l"), &v));
	assert_false(sip_param_get(u.params, STRV("tcp"), &v));
	free(keep);

	/* header parameters: blanks, folding, quoted values */
	const struct strv hp = STRV(" ; tag = 98asjd8 ;x=\"a;b\" ;\r\n\ty ;z=\"\"");
	assert_true(sip_param_get(hp, STRV("tag"), &v));
	assert_true(strv_eq(v, STRV("98asjd8")));
	assert_true(sip_param_get(hp, STRV("x"), &v));
	assert_true(strv_eq(v, STRV("\"a;b\"")));
	assert_true(sip_param_get(hp, STRV("y"), &v));
	assert_int_equal(v.len, 0);
	assert_true(sip_param_get(hp, STRV("z"), &v));
	assert_true(strv_eq(v, STRV("\"\"")));
	assert_false(sip_param_get(hp, STRV("b\""), &v));

	/* malformed lists stop the search; nothing is read past the view */
	assert_false(sip_param_get(STRV_NULL, STRV("a"), &v));
	assert_false(sip_param_get(STRV("a=1"), STRV("a"), &v));
	assert_false(sip_param_get(STRV(";x=\"unterminated;a=1"), STRV("a"), &v));
	assert_true(sip_param_get(STRV(";;a=1"), STRV("a"), &v));
	assert_false(sip_param_get(strv_make(";a=1", 1), STRV("a"), &v));
	assert_true(sip_param_get(strv_make(";a=1", 2), STRV("a"), &v));
	assert_int_equal(v.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept), cmocka_unit_test(test_other_scheme),
		cmocka_unit_test(test_reject), cmocka_unit_test(test_reject_binary),
		cmocka_unit_test(test_limits), cmocka_unit_test(test_long),
		cmocka_unit_test(test_equal),  cmocka_unit_test(test_param_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
