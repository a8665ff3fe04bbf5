/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Structured header values: Via, name-addr/addr-spec, CSeq, RAck, numbers,
 * option tags, credentials and challenges. Table-driven accept/reject with
 * read-back; RFC 3261, RFC 4475 and RFC 5118 values and ones seen from common
 * phones. Every parse runs on an exact-size heap copy so that ASan catches a
 * read past the view, and every view must lie within that copy.
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

#include "sbc/sip/hdr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A test value with its length, so that values may hold NUL bytes. */
struct val {
	const char *p;
	size_t len;
};
#define V(lit)                          \
	{                               \
		"" lit, sizeof(lit) - 1 \
	}

struct copy {
	char *p;
	size_t len;
};

static struct copy copy_exact(struct val v)
{
	struct copy c = { malloc(v.len ? v.len : 1), v.len };

	assert_non_null(c.p);
	if (v.len)
		memcpy(c.p, v.p, v.len);
	return c;
}

static struct strv cv(struct copy c)
{
	return strv_make(c.p, c.len);
}

static void assert_inside(struct strv v, struct copy c)
{
	assert_true(v.len == 0 || (v.p >= c.p && v.p + v.len <= c.p + c.len));
}

static void assert_view(struct strv v, const char *want, struct val in)
{
	if (!want) {
		if (v.len != 0)
			fail_msg("%.*s: expected empty, got \"%.*s\"", (int)in.len, in.p,
				 (int)v.len, v.p);
		return;
	}
	if (!strv_eq(v, strv_cstr(want)))
		fail_msg("%.*s: expected \"%s\", got \"%.*s\"", (int)in.len, in.p, want, (int)v.len,
			 v.p);
}

/* ---- Via ---- */

struct via_case {
	struct val in;
	const char *transport, *host;
	bool ipv6;
	int port; /* -1: none */
	const char *params, *branch, *received;
	int rport; /* -1: none, 0: without value */
	const char *maddr;
};

static const struct via_case via_ok[] = {
	{ .in = V("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds"),
	  .transport = "UDP",
	  .host = "192.0.2.1",
	  .port = 5060,
	  .params = ";branch=z9hG4bK776asdhds",
	  .branch = "z9hG4bK776asdhds",
	  .rport = -1 },
	/* RFC 4475 §3.1.1.1 wsinv */
	{ .in = V("SIP  /   2.0 / UDP  192.0.2.2;branch=390skdjuw"),
	  .transport = "UDP",
	  .host = "192.0.2.2",
	  .port = -1,
	  .params = ";branch=390skdjuw",
	  .branch = "390skdjuw",
	  .rport = -1 },
	{ .in = V("SIP  / 2.0 / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  "),
	  .transport = "TCP",
	  .host = "spindle.example.com",
	  .port = -1,
	  .params = ";\r\n  branch  =   z9hG4bK9ikj8",
	  .branch = "z9hG4bK9ikj8",
	  .rport = -1 },
	{ .in = V("SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239"),
	  .transport = "UDP",
	  .host = "192.168.255.111",
	  .port = -1,
	  .params = "; branch=\r\n z9hG4bK30239",
	  .branch = "z9hG4bK30239",
	  .rport = -1 },
	{ .in = V("SIP\r\n /\r\n\t2.0\t/\tUDP\r\n 192.0.2.2"),
	  .transport = "UDP",
	  .host = "192.0.2.2",
	  .port = -1,
	  .rport = -1 },
	/* RFC 4475 §3.1.1.2 intmeth, §3.1.1.10 transports */
	{ .in = V("SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~"),
	  .transport = "TCP",
	  .host = "host1.example.com",
	  .port = -1,
	  .params = ";branch=z9hG4bK-.!%66*_+`'~",
	  .branch = "z9hG4bK-.!%66*_+`'~",
	  .rport = -1 },
	{ .in = V("SIP/2.0/SCTP t3.example.com;branch=z9hG4bKkdjuw3"),
	  .transport = "SCTP",
	  .host = "t3.example.com",
	  .port = -1,
	  .params = ";branch=z9hG4bKkdjuw3",
	  .branch = "z9hG4bKkdjuw3",
	  .rport = -1 },
	{ .in = V("SIP/2.0/UNKNOWN t5.example.com;branch=z9hG4bKkdjuw5"),
	  .transport = "UNKNOWN",
	  .host = "t5.example.com",
	  .port = -1,
	  .params = ";branch=z9hG4bKkdjuw5",
	  .branch = "z9hG4bKkdjuw5",
	  .rport = -1 },
	/* RFC 2543 style, no branch */
	{ .in = V("SIP/2.0/UDP 192.0.2.15"),
	  .transport = "UDP",
	  .host = "192.0.2.15",
	  .port = -1,
	  .rport = -1 },
	/* RFC 5118 */
	{ .in = V(
	      "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111;received=[2001:db8::9:255]"),
	  .transport = "UDP",
	  .host = "2001:db8::9:1",
	  .ipv6 = true,
	  .port = 6050,
	  .params = ";branch=z9hG4bKas3-111;received=[2001:db8::9:255]",
	  .branch = "z9hG4bKas3-111",
	  .received = "[2001:db8::9:255]",
	  .rport = -1 },
	{ .in = V("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3"),
	  .transport = "UDP",
	  .host = "2001:db8::9:1",
	  .ipv6 = true,
	  .port = -1,
	  .params = ";received=2001:db8::9:255;branch=z9hG4bKas3",
	  .branch = "z9hG4bKas3",
	  .received = "2001:db8::9:255",
	  .rport = -1 },
	{ .in = V("SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3;received=192.0.2.1"),
	  .transport = "UDP",
	  .host = "2001:db8::9:1",
	  .ipv6 = true,
	  .port = 6050,
	  .params = ";branch=z9hG4bKas3;received=192.0.2.1",
	  .branch = "z9hG4bKas3",
	  .received = "192.0.2.1",
	  .rport = -1 },
	/* RFC 3581 */
	{ .in = V("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKa"),
	  .transport = "UDP",
	  .host = "10.0.0.1",
	  .port = -1,
	  .params = ";rport;branch=z9hG4bKa",
	  .branch = "z9hG4bKa",
	  .rport = 0 },
	{ .in = V("SIP/2.0/UDP 10.0.0.1:5060;received=192.0.2.7;rport=5061;branch=z9hG4bKb"),
	  .transport = "UDP",
	  .host = "10.0.0.1",
	  .port = 5060,
	  .params = ";received=192.0.2.7;rport=5061;branch=z9hG4bKb",
	  .branch = "z9hG4bKb",
	  .received = "192.0.2.7",
	  .rport = 5061 },
	{ .in = V("SIP/2.0/UDP h;rport=65535"),
	  .transport = "UDP",
	  .host = "h",
	  .port = -1,
	  .params = ";rport=65535",
	  .rport = 65535 },
	/* any case, blanks around the colon, maddr and ttl */
	{ .in = V("sip/2.0/tcp host : 5070 ;maddr=239.1.1.1;ttl=16"),
	  .transport = "tcp",
	  .host = "host",
	  .port = 5070,
	  .params = ";maddr=239.1.1.1;ttl=16",
	  .rport = -1,
	  .maddr = "239.1.1.1" },
	{ .in = V("SIP/2.0/UDP h;maddr=[2001:db8::1];ttl=0"),
	  .transport = "UDP",
	  .host = "h",
	  .port = -1,
	  .params = ";maddr=[2001:db8::1];ttl=0",
	  .rport = -1,
	  .maddr = "[2001:db8::1]" },
	{ .in = V("SIP/2.0/UDP h;MADDR=example.com"),
	  .transport = "UDP",
	  .host = "h",
	  .port = -1,
	  .params = ";MADDR=example.com",
	  .rport = -1,
	  .maddr = "example.com" },
	/* WebSocket (RFC 7118) */
	{ .in = V("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport"),
	  .transport = "WSS",
	  .host = "df7jal23ls0d.invalid",
	  .port = -1,
	  .params = ";branch=z9hG4bKasudf;rport",
	  .branch = "z9hG4bKasudf",
	  .rport = 0 },
	/* extensions: quoted, valueless, host values */
	{ .in = V("SIP/2.0/UDP h;x=\"quoted;value\";y;alias;comp=sigcomp"),
	  .transport = "UDP",
	  .host = "h",
	  .port = -1,
	  .params = ";x=\"quoted;value\";y;alias;comp=sigcomp",
	  .rport = -1 },
	{ .in = V("  SIP/2.0/UDP h  "), .transport = "UDP", .host = "h", .port = -1, .rport = -1 },
	{ .in = V("SIP/2.0/UDP h:0"), .transport = "UDP", .host = "h", .port = 0, .rport = -1 },
	{ .in = V("SIP/2.0/TLS pc33.atlanta.com.;branch=z9hG4bK776asdhds"),
	  .transport = "TLS",
	  .host = "pc33.atlanta.com.",
	  .port = -1,
	  .params = ";branch=z9hG4bK776asdhds",
	  .branch = "z9hG4bK776asdhds",
	  .rport = -1 },
	/* seen from phones */
	{ .in = V("SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-524287-1---9c1a0f3b7b4f6d3e;rport"),
	  .transport = "UDP",
	  .host = "192.168.1.20",
	  .port = 5060,
	  .params = ";branch=z9hG4bK-524287-1---9c1a0f3b7b4f6d3e;rport",
	  .branch = "z9hG4bK-524287-1---9c1a0f3b7b4f6d3e",
	  .rport = 0 },
};

static void test_via_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(via_ok); i++) {
		const struct via_case *c = &via_ok[i];
		struct copy cp = copy_exact(c->in);
		struct sip_via v;
		int err = sip_via_parse(&v, cv(cp));

		if (err)
			fail_msg("%.*s: %d", (int)c->in.len, c->in.p, err);
		assert_view(v.transport, c->transport, c->in);
		assert_view(v.host, c->host, c->in);
		assert_int_equal(v.host_ipv6, c->ipv6);
		assert_int_equal(v.has_port, c->port >= 0);
		assert_int_equal(v.port, c->port >= 0 ? c->port : 0);
		assert_view(v.params, c->params, c->in);
		assert_view(v.branch, c->branch, c->in);
		assert_view(v.received, c->received, c->in);
		assert_int_equal(v.rport, c->rport >= 0);
		assert_int_equal(v.rport_value, c->rport > 0 ? c->rport : 0);
		assert_view(v.maddr, c->maddr, c->in);
		assert_inside(v.transport, cp);
		assert_inside(v.host, cp);
		assert_inside(v.params, cp);
		free(cp.p);
	}
}

static const struct val via_bad[] = {
	V(""),
	V("   "),
	V("SIP/2.0/UDP"),
	V("SIP/2.0/UDP "),
	V("SIP/2.0 UDP h"),
	V("SIP/2.0/UDPh"),
	V("SIP/2.0/UDP192.0.2.1"),
	V("SIP/7.0/UDP h"), /* RFC 4475 §3.1.2.14 badvers */
	V("SIP/2.00/UDP h"),
	V("SIPS/2.0/UDP h"),
	V("SIP/2.0/ h"),
	V("SIP//UDP h"),
	V("/2.0/UDP h"),
	V("SIP/2.0/UDP/X h"),
	V("SIP/2.0/UDP 192.0.2.15;;,;,,"), /* RFC 4475 §3.1.2.1 badinv01 */
	V("SIP/2.0/UDP h;"),
	V("SIP/2.0/UDP h;;branch=z"),
	V("SIP/2.0/UDP h;=z"),
	V("SIP/2.0/UDP h;branch"),
	V("SIP/2.0/UDP h;branch="),
	V("SIP/2.0/UDP h;branch=\"z9hG4bK\""),
	V("SIP/2.0/UDP h;branch=a:b"),
	V("SIP/2.0/UDP h;branch=a;branch=b"),
	V("SIP/2.0/UDP h;BRANCH=a;branch=a"),
	V("SIP/2.0/UDP h;branch=a b"),
	V("SIP/2.0/UDP h:65536"),
	V("SIP/2.0/UDP h:99999999999999999999"),
	V("SIP/2.0/UDP h:"),
	V("SIP/2.0/UDP h:x"),
	V("SIP/2.0/UDP [::1"),
	V("SIP/2.0/UDP ::1"),
	V("SIP/2.0/UDP [::1]:"),
	V("SIP/2.0/UDP [1::2::3]"),
	V("SIP/2.0/UDP ho_st"),
	V("SIP/2.0/UDP 1.2.3"),
	V("SIP/2.0/UDP h;rport="),
	V("SIP/2.0/UDP h;rport=70000"),
	V("SIP/2.0/UDP h;rport=x"),
	V("SIP/2.0/UDP h;rport=\"1\""),
	V("SIP/2.0/UDP h;received=host.com"),
	V("SIP/2.0/UDP h;received="),
	V("SIP/2.0/UDP h;received"),
	V("SIP/2.0/UDP h;received=1.2.3.256"),
	V("SIP/2.0/UDP h;received=[1.2.3.4]"),
	V("SIP/2.0/UDP h;ttl=256"),
	V("SIP/2.0/UDP h;ttl=0001"),
	V("SIP/2.0/UDP h;ttl"),
	V("SIP/2.0/UDP h;maddr=bad_host"),
	V("SIP/2.0/UDP h;maddr"),
	V("SIP/2.0/UDP h;x=\"unterminated"),
	V("SIP/2.0/UDP h;x=a:b"),
	V("SIP/2.0/UDP h;x=[::1"),
	V("SIP/2.0/UDP h, SIP/2.0/UDP g"),
	V("SIP/2.0/UDP h\r\nX: y"),
	V("SIP/2.0/UDP h;\r\n"),
	V("SIP/2.0/UDP h\r\n"),
	V("SIP/2.0/UDP h\0"),
	V("SIP/2.0/UDP h;x=\"a\0\""),
	V("SIP/2.0/UDP h (comment)"),
};

static void test_via_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(via_bad); i++) {
		struct copy cp = copy_exact(via_bad[i]);
		struct sip_via v;

		if (sip_via_parse(&v, cv(cp)) != -EINVAL)
			fail_msg("accepted: %.*s", (int)via_bad[i].len, via_bad[i].p);
		assert_int_equal(v.host.len, 0);
		assert_int_equal(v.transport.len, 0);
		free(cp.p);
	}
}

/* ---- name-addr / addr-spec ---- */

struct addr_case {
	struct val in;
	bool star;
	const char *display, *uri_text;
	enum sip_uri_scheme scheme;
	const char *host, *params, *tag, *expires, *q;
};

static const struct addr_case addr_ok[] = {
	/* RFC 4475 §3.1.1.1 wsinv */
	{ .in = V("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; tag = 98asjd8"),
	  .display = "J Rosenberg \\\\\\\"",
	  .uri_text = "sip:jdrosen@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com",
	  .params = "; tag = 98asjd8",
	  .tag = "98asjd8" },
	{ .in = V("sip:vivekg@chair-dnrc.example.com ; tag = 1918181833n"),
	  .uri_text = "sip:vivekg@chair-dnrc.example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "chair-dnrc.example.com",
	  .params = "; tag = 1918181833n",
	  .tag = "1918181833n" },
	{ .in = V("<sip:vivekg@chair-dnrc.example.com;unknownparam>"),
	  .uri_text = "sip:vivekg@chair-dnrc.example.com;unknownparam",
	  .scheme = SIP_URI_SIP,
	  .host = "chair-dnrc.example.com" },
	{ .in = V("<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"),
	  .uri_text = "sip:services.example.com;lr;unknownwith=value;unknown-no-value",
	  .scheme = SIP_URI_SIP,
	  .host = "services.example.com" },
	/* §3.1.1.2 intmeth: control characters as quoted-pairs (NUL: test_addr_control_chars) */
	{ .in = V("\"BEL:\\\x07 DEL:\\\x7f\" "
		  "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>"),
	  .display = "BEL:\\\x07 DEL:\\\x7f",
	  .uri_text = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com" },
	{ .in = V("<sip:mundane@example.com>;tag=f232jadfj23"),
	  .uri_text = "sip:mundane@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com",
	  .params = ";tag=f232jadfj23",
	  .tag = "f232jadfj23" },
	/* §3.1.1.3 esc01, §3.1.1.5 esc02 */
	{ .in = V("sip:%75se%72@example.com"),
	  .uri_text = "sip:%75se%72@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com" },
	{ .in = V("<sip:I%20have%20spaces@example.net>;tag=938"),
	  .uri_text = "sip:I%20have%20spaces@example.net",
	  .scheme = SIP_URI_SIP,
	  .host = "example.net",
	  .params = ";tag=938",
	  .tag = "938" },
	{ .in = V("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>"),
	  .uri_text = "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
	  .scheme = SIP_URI_SIP,
	  .host = "host5.example.net" },
	{ .in = V("\"%Z%45\" <sip:resource@example.com>"),
	  .display = "%Z%45",
	  .uri_text = "sip:resource@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com" },
	/* §3.1.1.4 escnull */
	{ .in = V("sip:null-%00-null@example.com;tag=839923423"),
	  .uri_text = "sip:null-%00-null@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com",
	  .params = ";tag=839923423",
	  .tag = "839923423" },
	{ .in = V("<sip:%00@host5.example.com>"),
	  .uri_text = "sip:%00@host5.example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "host5.example.com" },
	/* §3.1.1.6 lwsdisp */
	{ .in = V("caller<sip:caller@example.com>;tag=323"),
	  .display = "caller",
	  .uri_text = "sip:caller@example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "example.com",
	  .params = ";tag=323",
	  .tag = "323" },
	/* §3.1.1.7 longreq-style header parameters */
	{ .in = V("sip:amazinglylongcallername@example.net;tag=12982982;unknownheaderparamname="
		  "unknowheaderparamvalue;unknownValuelessparamname"),
	  .uri_text = "sip:amazinglylongcallername@example.net",
	  .scheme = SIP_URI_SIP,
	  .host = "example.net",
	  .params = ";tag=12982982;unknownheaderparamname=unknowheaderparamvalue;"
		    "unknownValuelessparamname",
	  .tag = "12982982" },
	/* "*" is a token too: a display name, not a Contact star */
	{ .in = V("*<sip:a@b>"),
	  .display = "*",
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b" },
	/* Contact star */
	{ .in = V("*"), .star = true },
	{ .in = V(" *\t"), .star = true },
	/* other schemes (RFC 4475 §3.3.? unksm2) */
	{ .in = V("isbn:2983792873"), .uri_text = "isbn:2983792873", .scheme = SIP_URI_OTHER },
	{ .in = V("<http://www.example.com>;tag=3234233"),
	  .uri_text = "http://www.example.com",
	  .scheme = SIP_URI_OTHER,
	  .params = ";tag=3234233",
	  .tag = "3234233" },
	{ .in = V("<name:John_Smith>"), .uri_text = "name:John_Smith", .scheme = SIP_URI_OTHER },
	{ .in = V("\"Mr. Watson\" <mailto:watson@bell-telephone.com>;q=0.1"),
	  .display = "Mr. Watson",
	  .uri_text = "mailto:watson@bell-telephone.com",
	  .scheme = SIP_URI_OTHER,
	  .params = ";q=0.1",
	  .q = "0.1" },
	/* RFC 3261 examples and phones */
	{ .in = V("Bob <sip:bob@biloxi.com>;tag=a6c85cf"),
	  .display = "Bob",
	  .uri_text = "sip:bob@biloxi.com",
	  .scheme = SIP_URI_SIP,
	  .host = "biloxi.com",
	  .params = ";tag=a6c85cf",
	  .tag = "a6c85cf" },
	{ .in = V("Bob  Smith\t<sip:bob@biloxi.com>"),
	  .display = "Bob  Smith",
	  .uri_text = "sip:bob@biloxi.com",
	  .scheme = SIP_URI_SIP,
	  .host = "biloxi.com" },
	{ .in = V("A\r\n B <sip:a@b>"),
	  .display = "A\r\n B",
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b" },
	{ .in = V("Anonymous <sip:anonymous@anonymous.invalid>;tag=1928301774"),
	  .display = "Anonymous",
	  .uri_text = "sip:anonymous@anonymous.invalid",
	  .scheme = SIP_URI_SIP,
	  .host = "anonymous.invalid",
	  .params = ";tag=1928301774",
	  .tag = "1928301774" },
	{ .in = V("<sip:alice@pc33.atlanta.com>;q=0.7; expires=3600"),
	  .uri_text = "sip:alice@pc33.atlanta.com",
	  .scheme = SIP_URI_SIP,
	  .host = "pc33.atlanta.com",
	  .params = ";q=0.7; expires=3600",
	  .expires = "3600",
	  .q = "0.7" },
	{ .in = V("<sip:user@host129.example.com>;expires=280297596632815"),
	  .uri_text = "sip:user@host129.example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "host129.example.com",
	  .params = ";expires=280297596632815",
	  .expires = "280297596632815" },
	{ .in = V("<sip:a@b>;q=1.000;expires=0"),
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b",
	  .params = ";q=1.000;expires=0",
	  .expires = "0",
	  .q = "1.000" },
	{ .in = V("<sip:a@b>;q=0"),
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b",
	  .params = ";q=0",
	  .q = "0" },
	{ .in = V("<sip:a@b>;q=1."),
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b",
	  .params = ";q=1.",
	  .q = "1." },
	{ .in = V("<sip:a@b>;Q=0.123"),
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b",
	  .params = ";Q=0.123",
	  .q = "0.123" },
	/* RFC 4475 cparam01 / cparam02 */
	{ .in = V("sip:+19725552222@gw1.example.net;unknownparam"),
	  .uri_text = "sip:+19725552222@gw1.example.net",
	  .scheme = SIP_URI_SIP,
	  .host = "gw1.example.net",
	  .params = ";unknownparam" },
	{ .in = V("<sip:+19725552222@gw1.example.net;unknownparam>"),
	  .uri_text = "sip:+19725552222@gw1.example.net;unknownparam",
	  .scheme = SIP_URI_SIP,
	  .host = "gw1.example.net" },
	/* registrations from phones and WebRTC */
	{ .in = V("<sip:alice@[2001:db8::1]:5060;transport=tcp>;+sip.instance="
		  "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1"),
	  .uri_text = "sip:alice@[2001:db8::1]:5060;transport=tcp",
	  .scheme = SIP_URI_SIP,
	  .host = "2001:db8::1",
	  .params = ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1" },
	{ .in =
	      V("<sip:1001@192.168.1.20:5060;transport=udp;ob>;+g.3gpp.icsi-ref="
		"\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";audio;video;methods=\"INVITE,BYE\""),
	  .uri_text = "sip:1001@192.168.1.20:5060;transport=udp;ob",
	  .scheme = SIP_URI_SIP,
	  .host = "192.168.1.20",
	  .params =
	      ";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\";audio;video;methods="
	      "\"INVITE,BYE\"" },
	{ .in = V("<sip:df7jal23ls0d.invalid;transport=ws>;expires=600"),
	  .uri_text = "sip:df7jal23ls0d.invalid;transport=ws",
	  .scheme = SIP_URI_SIP,
	  .host = "df7jal23ls0d.invalid",
	  .params = ";expires=600",
	  .expires = "600" },
	{ .in = V("\"1001\" <sip:1001@pbx.example.com>;tag=as5f3e2a1b"),
	  .display = "1001",
	  .uri_text = "sip:1001@pbx.example.com",
	  .scheme = SIP_URI_SIP,
	  .host = "pbx.example.com",
	  .params = ";tag=as5f3e2a1b",
	  .tag = "as5f3e2a1b" },
	/* tel */
	{ .in = V("tel:+1-201-555-0123;tag=x"),
	  .uri_text = "tel:+1-201-555-0123",
	  .scheme = SIP_URI_TEL,
	  .params = ";tag=x",
	  .tag = "x" },
	{ .in = V("<tel:+1-201-555-0123;ext=22>"),
	  .uri_text = "tel:+1-201-555-0123;ext=22",
	  .scheme = SIP_URI_TEL },
	/* display names */
	{ .in = V("\"\" <sip:a@b>"),
	  .display = "",
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b" },
	{ .in = V("\"Folded\r\n name\" <sip:a@b>"),
	  .display = "Folded\r\n name",
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b" },
	{ .in = V("\"Alic\xc3\xa9\" <sip:alice@atlanta.com>"),
	  .display = "Alic\xc3\xa9",
	  .uri_text = "sip:alice@atlanta.com",
	  .scheme = SIP_URI_SIP,
	  .host = "atlanta.com" },
	{ .in = V("\"a\\\\\"<sip:a@b>"),
	  .display = "a\\\\",
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b" },
	{ .in = V(" \t<sip:a@b> \t"), .uri_text = "sip:a@b", .scheme = SIP_URI_SIP, .host = "b" },
	{ .in = V("<sip:a@b>;received=2001:db8::1;x=[::1]"),
	  .uri_text = "sip:a@b",
	  .scheme = SIP_URI_SIP,
	  .host = "b",
	  .params = ";received=2001:db8::1;x=[::1]" },
	{ .in = V("<sip:ss2.biloxi.example.com;lr>"),
	  .uri_text = "sip:ss2.biloxi.example.com;lr",
	  .scheme = SIP_URI_SIP,
	  .host = "ss2.biloxi.example.com" },
};

static void test_addr_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(addr_ok); i++) {
		const struct addr_case *c = &addr_ok[i];
		struct copy cp = copy_exact(c->in);
		struct sip_addr a;
		int err = sip_addr_parse(&a, cv(cp));

		if (err)
			fail_msg("%.*s: %d", (int)c->in.len, c->in.p, err);
		assert_int_equal(a.star, c->star);
		assert_view(a.display, c->display, c->in);
		assert_view(a.uri_text, c->uri_text, c->in);
		if (!c->star)
			assert_int_equal(a.uri.scheme, c->scheme);
		assert_view(a.uri.host, c->host, c->in);
		assert_view(a.params, c->params, c->in);
		assert_view(a.tag, c->tag, c->in);
		assert_view(a.expires, c->expires, c->in);
		assert_view(a.q, c->q, c->in);
		assert_inside(a.display, cp);
		assert_inside(a.uri_text, cp);
		assert_inside(a.params, cp);
		assert_inside(a.uri.user, cp);
		free(cp.p);
	}
}

/* The intmeth display name, byte for byte. */
static void test_addr_control_chars(void **state)
{
	static const char in[] = "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <sip:a@example.com>";
	static const char want[] = "BEL:\\\x07 NUL:\\\0 DEL:\\\x7f";
	struct copy cp = copy_exact((struct val){ in, sizeof(in) - 1 });
	struct sip_addr a;

	(void)state;
	assert_int_equal(sip_addr_parse(&a, cv(cp)), 0);
	assert_int_equal(a.display.len, sizeof(want) - 1);
	assert_memory_equal(a.display.p, want, sizeof(want) - 1);
	assert_true(strv_eq(a.uri.user, STRV("a")));
	free(cp.p);
}

static const struct val addr_bad[] = {
	V(""),
	V("   "),
	V("\"Mr. J. User <sip:j.user@example.com>"),	   /* RFC 4475 §3.1.2.4 quotbal */
	V("\"Watson, Thomas\" < sip:t.watson@ieee.org >"), /* §3.1.2.12 badaspec */
	V("<sip:t.watson@ieee.org >"),
	V("Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43"),   /* §3.1.2.13 baddn */
	V("sip:user@example.com?Route=%3Csip:sip.example.com%3E"), /* §3.1.2.11 regbadct */
	V("sip:caller@example.net;;tag=134161461246"),		   /* §3.1.2.1 badinv01 */
	V("sip:a,b@host"),
	V("sip:user;par=u%40example.net@example.com"),
	V("<sip:a@b"),
	V("sip:a@b>"),
	V("<sip:a@b>>"),
	V("<<sip:a@b>"),
	V("<>"),
	V("<sip:>"),
	V("<foo:>"),
	V("<sip:a@b;lr;lr>"),
	V("\"x\" sip:a@b"),
	V("x y sip:a@b"),
	V("<sip:a@b> junk"),
	V("<sip:a@b>;"),
	V("<sip:a@b>;;"),
	V("<sip:a@b>;=1"),
	V("<sip:a@b>;tag=a;tag=b"),
	V("<sip:a@b>;tag=a;TAG=a"),
	V("<sip:a@b>;tag=\"x\""),
	V("<sip:a@b>;tag"),
	V("<sip:a@b>;tag="),
	V("<sip:a@b>;tag=[::1]"),
	V("<sip:a@b>;expires=abc"),
	V("<sip:a@b>;expires=-1"),
	V("<sip:a@b>;expires"),
	V("<sip:a@b>;q=2"),
	V("<sip:a@b>;q=0.1234"),
	V("<sip:a@b>;q=1.1"),
	V("<sip:a@b>;q=.5"),
	V("<sip:a@b>;q="),
	V("<sip:a@b>;x=\"unterminated"),
	V("<sip:a@b>;x=a b"),
	V("<sip:a@b>,<sip:c@d>"),
	V("<sip:a@b>\r\n"),
	V("<sip:a@b>\r\nX: y"),
	V("*;expires=0"),
	V("* *"),
	V("**"),
	V("\"bad \\\r\n\" <sip:a@b>"),
	V("\"a\x01\" <sip:a@b>"),
	V("\"a\x7f\" <sip:a@b>"),
	V("\"a\"\"b\" <sip:a@b>"),
	V("\"a\" \"b\" <sip:a@b>"),
	V("\"a\"\r\n<sip:a@b>"),
	V("Al\xc3\xa9 <sip:a@b>"),
	V("\"a\\"),
	V("<sip:a@b>\0"),
	V("sip:a@b\0"),
	V("a\0b <sip:a@b>"),
};

static void test_addr_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(addr_bad); i++) {
		struct copy cp = copy_exact(addr_bad[i]);
		struct sip_addr a;

		if (sip_addr_parse(&a, cv(cp)) != -EINVAL)
			fail_msg("accepted: %.*s", (int)addr_bad[i].len, addr_bad[i].p);
		assert_false(a.star);
		assert_int_equal(a.uri_text.len, 0);
		free(cp.p);
	}
}

/* 64 header parameters are fine, 65 are refused. */
static void test_addr_limits(void **state)
{
	char buf[1024];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "<sip:a@b>");
	struct sip_addr a;
	struct copy cp;

	(void)state;
	for (int i = 0; i < 64; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";p%d", i);
	cp = copy_exact((struct val){ buf, len });
	assert_int_equal(sip_addr_parse(&a, cv(cp)), 0);
	free(cp.p);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";p64");
	cp = copy_exact((struct val){ buf, len });
	assert_int_equal(sip_addr_parse(&a, cv(cp)), -EINVAL);
	free(cp.p);
}

/* ---- CSeq, RAck, numbers, option tags ---- */

struct cseq_case {
	struct val in;
	uint32_t seq;
	enum sip_method method;
	const char *name;
};

static const struct cseq_case cseq_ok[] = {
	{ V("4711 INVITE"), 4711, SIP_METHOD_INVITE, "INVITE" },
	{ V("  1   ACK  "), 1, SIP_METHOD_ACK, "ACK" },
	{ V("0 REGISTER"), 0, SIP_METHOD_REGISTER, "REGISTER" },
	{ V("4294967295 BYE"), 4294967295u, SIP_METHOD_BYE, "BYE" },
	{ V("00001 OPTIONS"), 1, SIP_METHOD_OPTIONS, "OPTIONS" },
	{ V("1\r\n INVITE"), 1, SIP_METHOD_INVITE, "INVITE" },
	{ V("1\tPRACK"), 1, SIP_METHOD_PRACK, "PRACK" },
	{ V("2 CANCEL"), 2, SIP_METHOD_CANCEL, "CANCEL" },
	{ V("3 UPDATE"), 3, SIP_METHOD_UPDATE, "UPDATE" },
	{ V("101 SUBSCRIBE"), 101, SIP_METHOD_SUBSCRIBE, "SUBSCRIBE" },
	{ V("102 NOTIFY"), 102, SIP_METHOD_NOTIFY, "NOTIFY" },
	{ V("5 REFER"), 5, SIP_METHOD_REFER, "REFER" },
	{ V("6 MESSAGE"), 6, SIP_METHOD_MESSAGE, "MESSAGE" },
	{ V("7 PUBLISH"), 7, SIP_METHOD_PUBLISH, "PUBLISH" },
	{ V("8 INFO"), 8, SIP_METHOD_INFO, "INFO" },
	/* RFC 4475 §3.1.1.2 intmeth, §3.1.1.5 esc02, mismatch02 */
	{ V("139122385 !interesting-Method0123456789_*+`.%indeed'~"), 139122385, SIP_METHOD_OTHER,
	  "!interesting-Method0123456789_*+`.%indeed'~" },
	{ V("29344 RE%47IST%45R"), 29344, SIP_METHOD_OTHER, "RE%47IST%45R" },
	{ V("3923239 NEWMETHOD"), 3923239, SIP_METHOD_OTHER, "NEWMETHOD" },
	/* methods are case-sensitive */
	{ V("1 invite"), 1, SIP_METHOD_OTHER, "invite" },
};

static void test_cseq_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cseq_ok); i++) {
		const struct cseq_case *c = &cseq_ok[i];
		struct copy cp = copy_exact(c->in);
		struct sip_cseq cs;

		if (sip_cseq_parse(&cs, cv(cp)))
			fail_msg("%.*s refused", (int)c->in.len, c->in.p);
		assert_int_equal(cs.seq, c->seq);
		assert_int_equal(cs.method, c->method);
		assert_view(cs.method_name, c->name, c->in);
		assert_inside(cs.method_name, cp);
		free(cp.p);
	}
}

static const struct val cseq_bad[] = {
	V(""),
	V(" "),
	V("INVITE"),
	V("1"),
	V("1 "),
	V("1INVITE"),
	V("4294967296 INVITE"),
	V("36893488147419103232 REGISTER"), /* RFC 4475 §3.1.2.3 scalar01 */
	V("-1 INVITE"),
	V("+1 INVITE"),
	V("1 INVITE x"),
	V("1 INVITE;x"),
	V("1 INV<ITE"),
	V("1 INVITE\r\n"),
	V("1\r\nINVITE"),
	V("1,INVITE"),
	V("1 2 INVITE"),
	V("1 INVITE\0"),
	V("0x10 INVITE"),
};

static void test_cseq_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cseq_bad); i++) {
		struct copy cp = copy_exact(cseq_bad[i]);
		struct sip_cseq cs;

		if (sip_cseq_parse(&cs, cv(cp)) != -EINVAL)
			fail_msg("accepted: %.*s", (int)cseq_bad[i].len, cseq_bad[i].p);
		assert_int_equal(cs.method_name.len, 0);
		free(cp.p);
	}
}

static void test_rack(void **state)
{
	static const struct val bad[] = {
		V(""),
		V("1 INVITE"),
		V("1 2"),
		V("1 2 "),
		V("1 2 INVITE x"),
		V("4294967296 1 INVITE"),
		V("1 4294967296 INVITE"),
		V("1  2INVITE"),
		V("1,2 INVITE"),
	};
	struct copy cp = copy_exact((struct val)V(" 776656 \r\n 1  INVITE "));
	struct sip_rack r;

	(void)state;
	assert_int_equal(sip_rack_parse(&r, cv(cp)), 0);
	assert_int_equal(r.rseq, 776656);
	assert_int_equal(r.cseq, 1);
	assert_int_equal(r.method, SIP_METHOD_INVITE);
	assert_true(strv_eq(r.method_name, STRV("INVITE")));
	assert_inside(r.method_name, cp);
	free(cp.p);

	cp = copy_exact((struct val)V("4294967295 4294967295 FOO"));
	assert_int_equal(sip_rack_parse(&r, cv(cp)), 0);
	assert_int_equal(r.rseq, 4294967295u);
	assert_int_equal(r.cseq, 4294967295u);
	assert_int_equal(r.method, SIP_METHOD_OTHER);
	free(cp.p);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cp = copy_exact(bad[i]);
		if (sip_rack_parse(&r, cv(cp)) != -EINVAL)
			fail_msg("accepted: %.*s", (int)bad[i].len, bad[i].p);
		free(cp.p);
	}
}

static void test_uint(void **state)
{
	static const struct {
		struct val in;
		uint32_t max;
		int err;
		uint32_t v;
	} cases[] = {
		{ V("0"), 10, 0, 0 },
		{ V(" 70 "), 255, 0, 70 },
		{ V("\r\n 5\r\n\t"), 255, 0, 5 },
		{ V("255"), 255, 0, 255 },
		{ V("00255"), 255, 0, 255 },
		{ V("256"), 255, -ERANGE, 0 },
		{ V("300"), 255, -ERANGE, 0 }, /* RFC 4475 scalar01 Max-Forwards */
		{ V("1844674407370955161600"), UINT32_MAX, -ERANGE, 0 },
		{ V("4294967295"), UINT32_MAX, 0, 4294967295u },
		{ V("4294967296"), UINT32_MAX, -ERANGE, 0 },
		{ V(""), 10, -EINVAL, 0 },
		{ V("  "), 10, -EINVAL, 0 },
		{ V("-1"), 10, -EINVAL, 0 },
		{ V("+1"), 10, -EINVAL, 0 },
		{ V("1 2"), 10, -EINVAL, 0 },
		{ V("0x10"), 100, -EINVAL, 0 },
		{ V("1.5"), 10, -EINVAL, 0 },
		{ V("1\r\n"), 10, -EINVAL, 0 },
		{ V("999999999999999999999 x"), 10, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct copy cp = copy_exact(cases[i].in);
		uint32_t v = 12345;
		int err = sip_uint_parse(cv(cp), cases[i].max, &v);

		if (err != cases[i].err)
			fail_msg("%.*s: %d", (int)cases[i].in.len, cases[i].in.p, err);
		assert_int_equal(v, err ? 12345 : cases[i].v);
		free(cp.p);
	}
}

static void test_option_tag(void **state)
{
	static const struct {
		struct val value;
		const char *tag;
		bool eq;
	} cases[] = {
		{ V("100rel"), "100rel", true },
		{ V(" 100rel "), "100rel", true },
		{ V("timer, 100rel"), "100rel", true },
		{ V("timer,100rel,replaces"), "replaces", true },
		{ V("100REL"), "100rel", true },
		{ V("replaces,\r\n norefersub"), "norefersub", true },
		{ V("100rel2"), "100rel", false },
		{ V("100re"), "100rel", false },
		{ V(""), "100rel", false },
		{ V("100rel x"), "100rel", false },
		{ V(",100rel"), "100rel", false },
		{ V("timer,,100rel"), "100rel", false },
		{ V("100rel"), "", false },
		{ V("nothingSupportedHere"), "100rel", false }, /* RFC 4475 bext01 */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct copy cp = copy_exact(cases[i].value);

		if (sip_option_tag_eq(cv(cp), strv_cstr(cases[i].tag)) != cases[i].eq)
			fail_msg("%.*s / %s", (int)cases[i].value.len, cases[i].value.p,
				 cases[i].tag);
		free(cp.p);
	}
}

/* ---- credentials and challenges ---- */

struct auth_case {
	struct val in;
	const char *scheme, *username, *realm, *nonce, *uri, *response, *algorithm, *cnonce,
	    *opaque, *qop, *nc, *stale, *domain;
	bool userhash;
	const char *token68;
};

static const struct auth_case auth_ok[] = {
	/* RFC 3261 §22.4 style credentials */
	{ .in = V("Digest username=\"bob\", realm=\"biloxi.com\", "
		  "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:bob@biloxi.com\", "
		  "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
		  "response=\"6629fae49393a05397450978507c4ef1\", "
		  "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
	  .scheme = "Digest",
	  .username = "bob",
	  .realm = "biloxi.com",
	  .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
	  .uri = "sip:bob@biloxi.com",
	  .response = "6629fae49393a05397450978507c4ef1",
	  .cnonce = "0a4f113b",
	  .opaque = "5ccc069c403ebaf9f0171e9517f40e41",
	  .qop = "auth",
	  .nc = "00000001" },
	/* a challenge */
	{ .in = V("Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", "
		  "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, "
		  "algorithm=MD5"),
	  .scheme = "Digest",
	  .realm = "atlanta.com",
	  .nonce = "f84f1cec41e6cbe5aea9c8e88d359",
	  .algorithm = "MD5",
	  .opaque = "",
	  .qop = "auth",
	  .stale = "FALSE",
	  .domain = "sip:ss1.carrier.com" },
	/* RFC 7616 §3.9.1 */
	{ .in = V("Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n "
		  "algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\","
		  "\r\n opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""),
	  .scheme = "Digest",
	  .realm = "http-auth@example.org",
	  .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
	  .algorithm = "SHA-256",
	  .opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
	  .qop = "auth, auth-int" },
	/* RFC 7616 §3.9.2 userhash */
	{ .in = V("Digest username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dce"
		  "a254ec\", realm=\"api@example.org\", uri=\"/doe.json\", "
		  "algorithm=SHA-512-256, nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
		  "nc=00000001, cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
		  "response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\", "
		  "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true"),
	  .scheme = "Digest",
	  .username = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec",
	  .realm = "api@example.org",
	  .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
	  .uri = "/doe.json",
	  .response = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd",
	  .algorithm = "SHA-512-256",
	  .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
	  .opaque = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
	  .qop = "auth",
	  .nc = "00000001",
	  .userhash = true },
	/* escapes stay, names in any case, unknown parameters skipped */
	{ .in = V("digest USERNAME=\"user\\\"name\", Realm=\"a\\\\b\", foo=bar, baz=\"q,x\""),
	  .scheme = "digest",
	  .username = "user\\\"name",
	  .realm = "a\\\\b" },
	{ .in = V("Digest userhash=FALSE, algorithm=\"SHA-256\""),
	  .scheme = "Digest",
	  .algorithm = "SHA-256" },
	{ .in = V("Digest realm=\"r\xc3\xa9\" , nonce = \"\""),
	  .scheme = "Digest",
	  .realm = "r\xc3\xa9",
	  .nonce = "" },
	{ .in = V("Digest"), .scheme = "Digest" },
	{ .in = V("  Digest  "), .scheme = "Digest" },
	/* other schemes: auth-params, or one token68 */
	{ .in = V("NoOneKnowsThisScheme opaque-data=here"), .scheme = "NoOneKnowsThisScheme" },
	{ .in = V("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_~+/=="),
	  .scheme = "Bearer",
	  .token68 = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_~+/==" },
	{ .in = V("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== "),
	  .scheme = "Basic",
	  .token68 = "QWxhZGRpbjpvcGVuIHNlc2FtZQ==" },
	{ .in = V("Bearer realm=\"x\""), .scheme = "Bearer", .realm = "x" },
};

static void test_auth_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(auth_ok); i++) {
		const struct auth_case *c = &auth_ok[i];
		struct copy cp = copy_exact(c->in);
		struct sip_auth a;
		int err = sip_auth_parse(&a, cv(cp));
		const struct strv views[] = { a.scheme,	  a.username,  a.realm,	 a.nonce,  a.uri,
					      a.response, a.algorithm, a.cnonce, a.opaque, a.qop,
					      a.nc,	  a.stale,     a.domain, a.token68 };

		if (err)
			fail_msg("%.*s: %d", (int)c->in.len, c->in.p, err);
		assert_view(a.scheme, c->scheme, c->in);
		assert_view(a.username, c->username, c->in);
		assert_view(a.realm, c->realm, c->in);
		assert_view(a.nonce, c->nonce, c->in);
		assert_view(a.uri, c->uri, c->in);
		assert_view(a.response, c->response, c->in);
		assert_view(a.algorithm, c->algorithm, c->in);
		assert_view(a.cnonce, c->cnonce, c->in);
		assert_view(a.opaque, c->opaque, c->in);
		assert_view(a.qop, c->qop, c->in);
		assert_view(a.nc, c->nc, c->in);
		assert_view(a.stale, c->stale, c->in);
		assert_view(a.domain, c->domain, c->in);
		assert_int_equal(a.userhash, c->userhash);
		assert_view(a.token68, c->token68, c->in);
		for (size_t j = 0; j < ARRAY_SIZE(views); j++)
			assert_inside(views[j], cp);
		free(cp.p);
	}
}

static const struct val auth_bad[] = {
	V(""),
	V("   "),
	V("\"Digest\" a=b"),
	V("Digest username="),
	V("Digest username"),
	V("Digest =x"),
	V("Digest username=\"x"),
	V("Digest username=\"a\", username=\"b\""),
	V("Digest USERNAME=\"a\", username=\"a\""),
	V("Digest foo=1, foo=2"),
	V("Digest a=b,"),
	V("Digest ,a=b"),
	V("Digest a=b,,c=d"),
	V("Digest a=b c=d"),
	V("Digest a=b;c=d"),
	V("Digest username=\"x\"junk"),
	V("Digest username=<x>"),
	V("Digest abc=="),
	V("Digest abc"),
	V("Digest\r\nusername=\"x\""),
	V("Digest username=\"x\"\r\n"),
	V("Digest username=\"a\x01\""),
	V("Digest username=\"a\\\r\n\""),
	V("Digest a=b\0"),
	V("Bearer a b"),
	V("Bearer =abc"),
	V("Bearer a=b=c"),
	V("Bearer ab=c="),
	V("Digest,a=b"),
};

static void test_auth_reject(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(auth_bad); i++) {
		struct copy cp = copy_exact(auth_bad[i]);
		struct sip_auth a;

		if (sip_auth_parse(&a, cv(cp)) != -EINVAL)
			fail_msg("accepted: %.*s", (int)auth_bad[i].len, auth_bad[i].p);
		assert_int_equal(a.scheme.len, 0);
		assert_int_equal(a.realm.len, 0);
		free(cp.p);
	}
}

static void test_auth_limits(void **state)
{
	char buf[1024];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "Digest p0=0");
	struct sip_auth a;
	struct copy cp;

	(void)state;
	for (int i = 1; i < 64; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ", p%d=%d", i, i);
	cp = copy_exact((struct val){ buf, len });
	assert_int_equal(sip_auth_parse(&a, cv(cp)), 0);
	free(cp.p);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, ", p64=64");
	cp = copy_exact((struct val){ buf, len });
	assert_int_equal(sip_auth_parse(&a, cv(cp)), -EINVAL);
	free(cp.p);
}

/* Every parser on an empty view that carries NULL. */
static void test_null_views(void **state)
{
	struct sip_via v;
	struct sip_addr a;
	struct sip_cseq c;
	struct sip_rack r;
	struct sip_auth au;
	uint32_t n;

	(void)state;
	assert_int_equal(sip_via_parse(&v, STRV_NULL), -EINVAL);
	assert_int_equal(sip_addr_parse(&a, STRV_NULL), -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STRV_NULL), -EINVAL);
	assert_int_equal(sip_rack_parse(&r, STRV_NULL), -EINVAL);
	assert_int_equal(sip_uint_parse(STRV_NULL, 1, &n), -EINVAL);
	assert_int_equal(sip_auth_parse(&au, STRV_NULL), -EINVAL);
	assert_false(sip_option_tag_eq(STRV_NULL, STRV("x")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_via_accept),  cmocka_unit_test(test_via_reject),
		cmocka_unit_test(test_addr_accept), cmocka_unit_test(test_addr_control_chars),
		cmocka_unit_test(test_addr_reject), cmocka_unit_test(test_addr_limits),
		cmocka_unit_test(test_cseq_accept), cmocka_unit_test(test_cseq_reject),
		cmocka_unit_test(test_rack),	    cmocka_unit_test(test_uint),
		cmocka_unit_test(test_option_tag),  cmocka_unit_test(test_auth_accept),
		cmocka_unit_test(test_auth_reject), cmocka_unit_test(test_auth_limits),
		cmocka_unit_test(test_null_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
