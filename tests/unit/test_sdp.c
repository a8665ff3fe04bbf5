/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtpengine/sdp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* sipp's built-in uac scenario */
static const char sdp_sipp[] = "v=0\r\n"
			       "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
			       "s=-\r\n"
			       "c=IN IP4 127.0.0.1\r\n"
			       "t=0 0\r\n"
			       "m=audio 6000 RTP/AVP 0\r\n"
			       "a=rtpmap:0 PCMU/8000\r\n";

static const char sdp_baresip[] = "v=0\r\n"
				  "o=- 1263817390 2386295398 IN IP4 192.168.1.10\r\n"
				  "s=-\r\n"
				  "c=IN IP4 192.168.1.10\r\n"
				  "t=0 0\r\n"
				  "m=audio 10450 RTP/AVP 96 9 0 8 101\r\n"
				  "b=AS:101\r\n"
				  "a=rtpmap:96 opus/48000/2\r\n"
				  "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
				  "a=rtpmap:9 G722/8000\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-15\r\n"
				  "a=ptime:20\r\n"
				  "a=sendrecv\r\n"
				  "a=label:1\r\n"
				  "a=rtcp-rsize\r\n";

/* linphone: session-level attribute, a=rtcp, audio and video */
static const char sdp_linphone[] = "v=0\r\n"
				   "o=bob 2386 1284 IN IP4 192.168.0.20\r\n"
				   "s=Talk\r\n"
				   "c=IN IP4 192.168.0.20\r\n"
				   "t=0 0\r\n"
				   "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL\r\n"
				   "m=audio 7078 RTP/AVP 96 0 8 101\r\n"
				   "a=rtpmap:96 opus/48000/2\r\n"
				   "a=fmtp:96 useinbandfec=1\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n"
				   "a=rtcp:7079\r\n"
				   "a=rtcp-fb:* trr-int 1000\r\n"
				   "m=video 9078 RTP/AVP 96 97\r\n"
				   "a=rtpmap:96 VP8/90000\r\n"
				   "a=rtpmap:97 H264/90000\r\n"
				   "a=fmtp:97 profile-level-id=42801F\r\n"
				   "a=rtcp:9079 IN IP4 192.168.0.20\r\n"
				   "a=rtcp-fb:* ccm fir\r\n";

/* Chrome, complete gathering: ICE, DTLS, rtcp-mux, BUNDLE */
static const char sdp_webrtc[] =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS stream\r\n"
    "m=audio 54400 UDP/TLS/RTP/SAVPF 111 0 8\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:842163049 1 udp 2122260223 192.168.1.5 54400 typ host generation 0\r\n"
    "a=candidate:1467250027 1 udp 1686052607 203.0.113.5 54400 typ srflx raddr "
    "192.168.1.5 rport 54400 generation 0\r\n"
    "a=end-of-candidates\r\n"
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:"
    "CE:E6:0F\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "m=video 54400 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 203.0.113.5\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:842163049 1 udp 2122260223 192.168.1.5 54400 typ host generation 0\r\n"
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "a=mid:1\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n";

static const char sdp_t38[] = "v=0\r\n"
			      "o=- 1 2 IN IP4 10.0.0.5\r\n"
			      "s=-\r\n"
			      "c=IN IP4 10.0.0.5\r\n"
			      "t=0 0\r\n"
			      "m=image 40000 udptl t38\r\n"
			      "a=T38FaxVersion:0\r\n"
			      "a=T38MaxBitRate:14400\r\n"
			      "a=T38FaxRateManagement:transferredTCF\r\n"
			      "a=T38FaxMaxDatagram:400\r\n"
			      "a=T38FaxUdpEC:t38UDPRedundancy\r\n";

/* LF only, IPv6, trailing blanks */
static const char sdp_ipv6[] = "v=0\n"
			       "o=alice 2890844526 2890842807 IN IP6 2001:db8::1 \n"
			       "s=-\n"
			       "c=IN IP6 2001:db8::1\n"
			       "t=0 0\n"
			       "m=audio 49170 RTP/AVP 0\t\n"
			       "a=rtpmap:0 PCMU/8000\n";

/* RFC 2543 hold at session level, RFC 3264 hold with a direction on the media */
static const char sdp_hold_zero[] = "v=0\r\n"
				    "o=- 1 3 IN IP4 192.0.2.10\r\n"
				    "s=-\r\n"
				    "c=IN IP4 0.0.0.0\r\n"
				    "t=0 0\r\n"
				    "m=audio 4000 RTP/AVP 0\r\n"
				    "a=sendonly\r\n";

static const char sdp_hold_inactive[] = "v=0\r\n"
					"o=- 1 3 IN IP4 192.0.2.10\r\n"
					"s=-\r\n"
					"c=IN IP4 192.0.2.10\r\n"
					"t=0 0\r\n"
					"a=inactive\r\n"
					"m=audio 4000 RTP/AVP 0\r\n"
					"m=video 0 RTP/AVP 96\r\n"
					"a=rtpmap:96 H264/90000\r\n";

/* media-level c= only, one on hold, one rejected media without c= */
static const char sdp_media_conn[] = "v=0\r\n"
				     "o=- 7 7 IN IP4 198.51.100.7\r\n"
				     "s=-\r\n"
				     "t=0 0\r\n"
				     "m=audio 5000 RTP/AVP 8\r\n"
				     "i=voice\r\n"
				     "c=IN IP4 198.51.100.7\r\n"
				     "b=AS:64\r\n"
				     "a=recvonly\r\n"
				     "m=video 5002 RTP/AVP 96\r\n"
				     "c=IN IP4 0.0.0.0\r\n"
				     "m=text 0 RTP/AVP 98\r\n";

static struct sdp parse_ok(const char *text)
{
	struct sdp s;
	const char *why = NULL;
	int err = sdp_parse(&s, text, strlen(text), &why);

	if (err != 0)
		fail_msg("parse failed: %s", why ? why : "(no reason)");
	return s;
}

static char *addr_str(const struct sa *sa)
{
	static char buf[SA_STRLEN];

	return sa_print(sa, buf, sizeof(buf));
}

static void test_parse_sipp(void **state)
{
	struct sdp s = parse_ok(sdp_sipp);

	(void)state;
	assert_true(strv_eq_cstr(s.origin_addr, "127.0.0.1"));
	assert_string_equal(addr_str(&s.conn), "127.0.0.1:0");
	assert_int_equal(s.nmedia, 1);
	assert_true(strv_eq_cstr(s.media[0].type, "audio"));
	assert_int_equal(s.media[0].port, 6000);
	assert_int_equal(s.media[0].nports, 1);
	assert_true(strv_eq_cstr(s.media[0].proto, "RTP/AVP"));
	assert_true(strv_eq_cstr(s.media[0].fmts, "0"));
	assert_string_equal(addr_str(&s.media[0].conn), "127.0.0.1:6000");
	assert_false(s.media[0].conn_is_hold);
	assert_int_equal(s.media[0].rtcp_port, 0);
	assert_false(s.media[0].rtcp_mux);
	assert_int_equal(s.media[0].dir, SDP_DIR_UNSET);
	assert_int_equal(s.media[0].ncandidates, 0);
	assert_ptr_equal(s.media[0].text.p, strstr(sdp_sipp, "m=audio"));
	assert_int_equal(s.media[0].text.len, strlen(strstr(sdp_sipp, "m=audio")));
}

static void test_parse_baresip_linphone(void **state)
{
	struct sdp s = parse_ok(sdp_baresip);

	(void)state;
	assert_int_equal(s.media[0].port, 10450);
	assert_int_equal(s.media[0].dir, SDP_DIR_SENDRECV);
	assert_true(strv_eq_cstr(s.media[0].fmts, "96 9 0 8 101"));

	s = parse_ok(sdp_linphone);
	assert_int_equal(s.nmedia, 2);
	assert_int_equal(s.media[0].rtcp_port, 7079);
	assert_false(sa_isset(&s.media[0].rtcp_addr));
	assert_int_equal(s.media[1].rtcp_port, 9079);
	assert_string_equal(addr_str(&s.media[1].rtcp_addr), "192.168.0.20:9079");
	assert_string_equal(addr_str(&s.media[1].conn), "192.168.0.20:9078");
	/* the first section ends where the second starts */
	assert_ptr_equal(s.media[0].text.p + s.media[0].text.len, s.media[1].text.p);
}

static void test_parse_webrtc(void **state)
{
	struct sdp s = parse_ok(sdp_webrtc);

	(void)state;
	assert_int_equal(s.nmedia, 2);
	assert_false(sa_isset(&s.conn));
	assert_true(strv_eq_cstr(s.media[0].proto, "UDP/TLS/RTP/SAVPF"));
	assert_true(s.media[0].rtcp_mux);
	assert_int_equal(s.media[0].rtcp_port, 9);
	assert_true(sa_is_any(&s.media[0].rtcp_addr));
	assert_int_equal(s.media[0].ncandidates, 2);
	assert_int_equal(s.media[1].ncandidates, 1);
	assert_true(strv_eq_cstr(s.media[0].ice_ufrag, "EsAw"));
	assert_true(strv_eq_cstr(s.media[0].ice_pwd, "P2uYro0UCOQ4zxjKXaWCBui1"));
	assert_int_equal(s.media[0].dir, SDP_DIR_SENDRECV);
	assert_int_equal(s.media[1].dir, SDP_DIR_UNSET);
}

static void test_parse_t38_ipv6(void **state)
{
	struct sdp s = parse_ok(sdp_t38);

	(void)state;
	assert_true(strv_eq_cstr(s.media[0].type, "image"));
	assert_true(strv_eq_cstr(s.media[0].proto, "udptl"));
	assert_true(strv_eq_cstr(s.media[0].fmts, "t38"));

	s = parse_ok(sdp_ipv6);
	assert_true(strv_eq_cstr(s.origin_addr, "2001:db8::1"));
	assert_int_equal(sa_family(&s.media[0].conn), AF_INET6);
	assert_string_equal(addr_str(&s.media[0].conn), "[2001:db8::1]:49170");
	assert_true(strv_eq_cstr(s.media[0].fmts, "0"));
}

static void test_parse_hold(void **state)
{
	struct sdp s = parse_ok(sdp_hold_zero);

	(void)state;
	assert_true(s.media[0].conn_is_hold);
	assert_int_equal(s.media[0].dir, SDP_DIR_SENDONLY);

	s = parse_ok(sdp_hold_inactive);
	assert_int_equal(s.dir, SDP_DIR_INACTIVE);
	assert_int_equal(s.media[0].dir, SDP_DIR_INACTIVE);
	assert_false(s.media[0].conn_is_hold);
	assert_int_equal(s.media[1].port, 0);

	s = parse_ok(sdp_media_conn);
	assert_int_equal(s.nmedia, 3);
	assert_false(sa_isset(&s.conn));
	assert_int_equal(s.media[0].dir, SDP_DIR_RECVONLY);
	assert_false(s.media[0].conn_is_hold);
	assert_true(s.media[1].conn_is_hold);
	assert_false(sa_isset(&s.media[2].conn));
}

static void test_parse_misc_accept(void **state)
{
	static const char *const ok[] = {
		"v=0\n",
		"v=0\r\n\r\nm=audio 0 RTP/AVP 0\r\n",
		"v=0\nc=IN IP4 224.2.1.1/127/3\nm=audio 4000/2 RTP/AVP 0\n",
		"v=0\nc=IN IP6 ::ffff:192.0.2.1\nm=audio 65535 RTP/AVP\n",
		"v=0\nx=whatever\nc=IN IP4 192.0.2.1\nm=audio 1 RTP/AVP 0\na=foo\na=bar:baz\n",
		"v=0\nc=IN IP4 192.0.2.1\nm=audio 1 RTP/AVP 0", /* no final end of line */
		/* trickle ICE placeholder is not hold */
		"v=0\nc=IN IP4 0.0.0.0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=ice-ufrag:abcd\n",
		"v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\na=ice-ufrag:abcd\n",
	};
	struct sdp s;
	const char *why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		why = NULL;
		if (sdp_parse(&s, ok[i], strlen(ok[i]), &why) != 0)
			fail_msg("refused \"%s\": %s", ok[i], why);
	}
	s = parse_ok(ok[2]);
	assert_int_equal(s.media[0].nports, 2);
	assert_string_equal(addr_str(&s.media[0].conn), "224.2.1.1:4000");
	s = parse_ok(ok[6]);
	assert_false(s.media[0].conn_is_hold);
	s = parse_ok(ok[7]);
	assert_true(s.media[0].conn_is_hold);
}

struct reject_case {
	const char *sdp;
	const char *why;
};

static void test_parse_reject(void **state)
{
	static const struct reject_case bad[] = {
		{ "", "empty SDP" },
		{ "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n", "missing v= (must be the first line)" },
		{ "\r\n\r\n", "missing v= (must be the first line)" },
		{ "v=1\r\n", "v= is not 0" },
		{ "v=0\r\nv=0\r\n", "v= more than once" },
		{ "v=0\r\nhello world\r\n", "line is not <letter>=<value>" },
		{ "v=0\r\n=x\r\n", "line is not <letter>=<value>" },
		{ "v=0\r\nA=x\r\n", "line is not <letter>=<value>" },
		{ "v=0\r\n c=IN IP4 192.0.2.1\r\n", "line is not <letter>=<value>" },
		{ "v=0\r\no=- 1 1 IN IP4\r\n", "o= does not have 6 fields" },
		{ "v=0\r\nc=IN IP4 192.0.2.300\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP4 2001:db8::1\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP6 192.0.2.1\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP6 fe80::1%eth0\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP4 192.0.2.1:5\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP4 host.example.com\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=ATM NSAP 47.0005\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP4\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nc=IN IP4 192.0.2.1 x\r\n", "c= is not IN IP4|IP6 <address>" },
		{ "v=0\r\nm=audio\r\n", "m= has no port" },
		{ "v=0\r\nm=audio 65536 RTP/AVP 0\r\n", "m= port is not <0-65535>[/<1-65535>]" },
		{ "v=0\r\nm=audio -1 RTP/AVP 0\r\n", "m= port is not <0-65535>[/<1-65535>]" },
		{ "v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n", "m= port is not <0-65535>[/<1-65535>]" },
		{ "v=0\r\nm=audio 4000/ RTP/AVP 0\r\n", "m= port is not <0-65535>[/<1-65535>]" },
		{ "v=0\r\nm=audio 4000\r\n", "m= has no transport protocol" },
		{ "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "m= without c= at media or session level" },
		{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:0\r\n",
		  "a=rtcp port is not 1-65535" },
		{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp\r\n",
		  "a=rtcp port is not 1-65535" },
		{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:x\r\n",
		  "a=rtcp port is not 1-65535" },
		{ "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP4 x\r\n",
		  "a=rtcp address is not IN IP4|IP6 <address>" },
		{ "v=0\r\na=\r\n", "a= has no attribute name" },
		{ "v=0\r\ns=a\rb\r\n", "CR inside a line" },
		{ "v=0\r\ns=-\r\r\n", "CR inside a line" },
		{ "v=0\r\nm=audio 0 RTP/AVP 0\r\no=- 1 1 IN IP4 192.0.2.1\r\n",
		  "o= inside a media section" },
	};
	static const char nul[] = "v=0\r\ns=a\0b\r\n";
	struct sdp s;
	const char *why;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why = NULL;
		if (sdp_parse(&s, bad[i].sdp, strlen(bad[i].sdp), &why) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i].sdp);
		if (!why || strcmp(why, bad[i].why) != 0)
			fail_msg("\"%s\": reason \"%s\", want \"%s\"", bad[i].sdp, why, bad[i].why);
		assert_int_equal(s.nmedia, 0);
	}
	assert_int_equal(sdp_parse(&s, nul, sizeof(nul) - 1, &why), -EINVAL);
	assert_string_equal(why, "NUL byte in SDP");
	assert_int_equal(sdp_parse(&s, NULL, 0, NULL), -EINVAL);
}

static void test_parse_too_many_media(void **state)
{
	char buf[2048];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "v=0\r\nc=IN IP4 192.0.2.1\r\n");
	struct sdp s;
	const char *why = NULL;

	(void)state;
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "m=audio %u RTP/AVP 0\r\n",
				      1000 + i);
	assert_int_equal(sdp_parse(&s, buf, n, &why), 0);
	assert_int_equal(s.nmedia, SDP_MAX_MEDIA);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "m=audio 9 RTP/AVP 0\r\n");
	assert_int_equal(sdp_parse(&s, buf, n, &why), -EINVAL);
	assert_string_equal(why, "too many m= lines");
}

/* The relay's side of a rewrite: media i at 203.0.113.1:30000 + 2i, RTCP on the next port. */
struct relay {
	struct sdp_media_rewrite media[SDP_MAX_MEDIA];
	struct sdp_rewrite rw;
};

static void relay_init(struct relay *r, const struct sdp *s, const char *addr, bool mux,
		       enum sdp_ice ice)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < s->nmedia; i++) {
		assert_int_equal(sa_parse_cstr(&r->media[i].addr, addr, (uint16_t)(30000 + 2 * i)),
				 0);
		r->media[i].rtcp_mux = mux;
	}
	r->rw = (struct sdp_rewrite){
		.media = r->media,
		.nmedia = s->nmedia,
		.replace_origin = true,
		.ice = ice,
		.ice_ufrag = STRV("RlYu"),
		.ice_pwd = STRV("relaypassword0123456789"),
	};
}

/* Rewrites @p text, checks that the output parses and that a second rewrite changes nothing. */
static int rewrite(const char *text, struct relay *r, const char *addr, bool mux, enum sdp_ice ice,
		   char *out, size_t outsize)
{
	struct sdp s = parse_ok(text), again;
	char *out2 = malloc(outsize);
	int n, n2;

	relay_init(r, &s, addr, mux, ice);
	n = sdp_rewrite(&s, text, strlen(text), &r->rw, out, outsize);
	assert_true(n > 0);
	assert_true((size_t)n < outsize);
	out[n] = '\0';
	again = parse_ok(out);
	assert_int_equal(again.nmedia, s.nmedia);
	n2 = sdp_rewrite(&again, out, (size_t)n, &r->rw, out2, outsize);
	assert_int_equal(n2, n);
	assert_memory_equal(out, out2, (size_t)n);
	free(out2);
	return n;
}

static void test_rewrite_sipp(void **state)
{
	static const char want[] = "v=0\r\n"
				   "o=user1 53655765 2353687637 IN IP4 203.0.113.1\r\n"
				   "s=-\r\n"
				   "c=IN IP4 203.0.113.1\r\n"
				   "t=0 0\r\n"
				   "m=audio 30000 RTP/AVP 0\r\n"
				   "c=IN IP4 203.0.113.1\r\n"
				   "a=rtpmap:0 PCMU/8000\r\n"
				   "a=rtcp:30001 IN IP4 203.0.113.1\r\n";
	char out[1024];
	struct relay r;

	(void)state;
	rewrite(sdp_sipp, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_rewrite_keeps_origin(void **state)
{
	struct sdp s = parse_ok(sdp_sipp);
	char out[1024];
	struct relay r;
	int n;

	(void)state;
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_KEEP);
	r.rw.replace_origin = false;
	r.media[0].rtcp_port = 40001;
	n = sdp_rewrite(&s, sdp_sipp, strlen(sdp_sipp), &r.rw, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"));
	assert_non_null(strstr(out, "a=rtcp:40001 IN IP4 203.0.113.1\r\n"));
}

static void test_rewrite_linphone(void **state)
{
	char out[2048];
	struct relay r;
	struct sdp s;

	(void)state;
	rewrite(sdp_linphone, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	s = parse_ok(out);
	assert_int_equal(s.media[0].port, 30000);
	assert_int_equal(s.media[0].rtcp_port, 30001);
	assert_int_equal(s.media[1].port, 30002);
	assert_int_equal(s.media[1].rtcp_port, 30003);
	assert_string_equal(addr_str(&s.media[1].rtcp_addr), "203.0.113.1:30003");
	assert_null(strstr(out, "7079"));
	assert_null(strstr(out, "192.168.0.20"));
	/* what the relay does not own is still there, in order */
	assert_non_null(strstr(out,
			       "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL\r\n"
			       "m=audio 30000 RTP/AVP 96 0 8 101\r\n"
			       "c=IN IP4 203.0.113.1\r\n"
			       "a=rtpmap:96 opus/48000/2\r\n"));
	assert_non_null(strstr(out, "a=rtcp-fb:* trr-int 1000\r\n"
				    "a=rtcp:30001 IN IP4 203.0.113.1\r\n"
				    "m=video 30002 RTP/AVP 96 97\r\n"));
}

static void test_rewrite_webrtc_remove_ice(void **state)
{
	char out[4096];
	struct relay r;
	struct sdp s;

	(void)state;
	rewrite(sdp_webrtc, &r, "203.0.113.1", true, SDP_ICE_REMOVE, out, sizeof(out));
	s = parse_ok(out);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(s.media[i].rtcp_mux);
		assert_int_equal(s.media[i].ncandidates, 0);
		assert_int_equal(s.media[i].ice_ufrag.len, 0);
		assert_int_equal(s.media[i].rtcp_port, s.media[i].port);
	}
	assert_null(strstr(out, "ice-"));
	assert_null(strstr(out, "candidate"));
	assert_null(strstr(out, "203.0.113.5"));
	assert_non_null(strstr(out, "a=group:BUNDLE 0 1\r\n"));
	assert_non_null(strstr(out, "a=setup:actpass\r\n"));
	assert_non_null(strstr(out, "a=rtcp:30000 IN IP4 203.0.113.1\r\na=rtcp-mux\r\n"));
}

static void test_rewrite_force_ice(void **state)
{
	static const char want_audio[] = "m=audio 30000 UDP/TLS/RTP/SAVPF 111 0 8\r\n"
					 "c=IN IP4 203.0.113.1\r\n"
					 "a=fingerprint:";
	static const char want_tail[] =
	    "a=rtpmap:111 opus/48000/2\r\n"
	    "a=rtcp:30000 IN IP4 203.0.113.1\r\n"
	    "a=rtcp-mux\r\n"
	    "a=ice-ufrag:RlYu\r\n"
	    "a=ice-pwd:relaypassword0123456789\r\n"
	    "a=candidate:1 1 UDP 2130706431 203.0.113.1 30000 typ host\r\n"
	    "m=video";
	char out[4096];
	struct relay r;
	struct sdp s;

	(void)state;
	rewrite(sdp_webrtc, &r, "203.0.113.1", true, SDP_ICE_FORCE, out, sizeof(out));
	s = parse_ok(out);
	assert_int_equal(s.media[0].ncandidates, 1);
	assert_int_equal(s.media[1].ncandidates, 1);
	assert_true(strv_eq_cstr(s.media[1].ice_ufrag, "RlYu"));
	assert_non_null(strstr(out, "a=msid-semantic: WMS stream\r\na=ice-lite\r\nm=audio"));
	assert_non_null(strstr(out, want_audio));
	assert_non_null(strstr(out, want_tail));
	assert_null(strstr(out, "EsAw"));
	assert_null(strstr(out, "end-of-candidates"));

	/* without rtcp-mux: a second candidate for RTCP, RFC 8445 priority of component 2 */
	rewrite(sdp_sipp, &r, "2001:db8::5", false, SDP_ICE_FORCE, out, sizeof(out));
	assert_non_null(strstr(out, "c=IN IP6 2001:db8::5\r\n"));
	assert_non_null(strstr(out,
			       "a=candidate:1 1 UDP 2130706431 2001:db8::5 30000 typ host\r\n"
			       "a=candidate:1 2 UDP 2130706430 2001:db8::5 30001 typ host\r\n"));
}

static void test_rewrite_t38_ipv6(void **state)
{
	char out[2048];
	struct relay r;
	struct sdp s;

	(void)state;
	rewrite(sdp_t38, &r, "203.0.113.1", false, SDP_ICE_REMOVE, out, sizeof(out));
	assert_non_null(strstr(out, "m=image 30000 udptl t38\r\nc=IN IP4 203.0.113.1\r\n"));
	assert_non_null(strstr(out, "a=T38FaxUdpEC:t38UDPRedundancy\r\n"));

	/* IPv6 in, IPv4 out; LF stays LF; the origin follows the relay's family */
	rewrite(sdp_ipv6, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_null(strchr(out, '\r'));
	assert_non_null(strstr(out, "o=alice 2890844526 2890842807 IN IP4 203.0.113.1\n"));
	assert_non_null(strstr(out, "c=IN IP4 203.0.113.1\nt=0 0\nm=audio 30000 RTP/AVP 0\n"));
	s = parse_ok(out);
	assert_int_equal(sa_family(&s.media[0].conn), AF_INET);

	/* IPv4 in, IPv6 out */
	rewrite(sdp_sipp, &r, "2001:db8::5", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_non_null(strstr(out, "IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP6 2001:db8::5\r\n"));
	assert_non_null(strstr(out, "a=rtcp:30001 IN IP6 2001:db8::5\r\n"));
}

static void test_rewrite_hold(void **state)
{
	static const char want_zero[] = "v=0\r\n"
					"o=- 1 3 IN IP4 203.0.113.1\r\n"
					"s=-\r\n"
					"c=IN IP4 0.0.0.0\r\n"
					"t=0 0\r\n"
					"m=audio 30000 RTP/AVP 0\r\n"
					"c=IN IP4 0.0.0.0\r\n"
					"a=sendonly\r\n"
					"a=rtcp:30001 IN IP4 0.0.0.0\r\n";
	char out[2048];
	struct relay r;
	struct sdp s;

	(void)state;
	rewrite(sdp_hold_zero, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_string_equal(out, want_zero);
	s = parse_ok(out);
	assert_true(s.media[0].conn_is_hold);
	assert_int_equal(s.media[0].dir, SDP_DIR_SENDONLY);

	/* session-level inactive stays; the rejected video is copied as it was */
	rewrite(sdp_hold_inactive, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_non_null(strstr(out, "t=0 0\r\na=inactive\r\nm=audio 30000 RTP/AVP 0\r\n"
				    "c=IN IP4 203.0.113.1\r\n"
				    "a=rtcp:30001 IN IP4 203.0.113.1\r\n"
				    "m=video 0 RTP/AVP 96\r\n"
				    "a=rtpmap:96 H264/90000\r\n"));

	/* media-level c=: each replaced where it was, hold kept, rejected text untouched */
	rewrite(sdp_media_conn, &r, "203.0.113.1", false, SDP_ICE_KEEP, out, sizeof(out));
	assert_non_null(strstr(out, "m=audio 30000 RTP/AVP 8\r\ni=voice\r\nc=IN IP4 203.0.113.1\r\n"
				    "b=AS:64\r\na=recvonly\r\n"));
	assert_non_null(strstr(out, "m=video 30002 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\n"
				    "a=rtcp:30003 IN IP4 0.0.0.0\r\nm=text 0 RTP/AVP 98\r\n"));
	assert_null(strstr(out, "198.51.100.7"));
}

static void test_rewrite_enospc(void **state)
{
	char out[4096], small[4096];
	struct relay r;
	struct sdp s;
	int n;

	(void)state;
	n = rewrite(sdp_webrtc, &r, "2001:db8::5", false, SDP_ICE_FORCE, out, sizeof(out));
	s = parse_ok(sdp_webrtc);
	for (int size = 0; size <= n; size++) {
		memset(small, 0x5a, sizeof(small));
		int got =
		    sdp_rewrite(&s, sdp_webrtc, strlen(sdp_webrtc), &r.rw, small, (size_t)size);

		if (size < n)
			assert_int_equal(got, -ENOSPC);
		else
			assert_int_equal(got, n);
		/* nothing past the end */
		for (size_t i = (size_t)size; i < sizeof(small); i++)
			assert_int_equal((unsigned char)small[i], 0x5a);
	}
}

static void test_rewrite_invalid(void **state)
{
	struct sdp s = parse_ok(sdp_linphone);
	char out[2048];
	struct relay r;

	(void)state;
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_KEEP);
	r.rw.nmedia = 1;
	assert_int_equal(
	    sdp_rewrite(&s, sdp_linphone, strlen(sdp_linphone), &r.rw, out, sizeof(out)), -EINVAL);
	/* an active media needs an address */
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_KEEP);
	sa_init(&r.media[1].addr);
	assert_int_equal(
	    sdp_rewrite(&s, sdp_linphone, strlen(sdp_linphone), &r.rw, out, sizeof(out)), -EINVAL);
	/* 0.0.0.0 is not an address to advertise */
	relay_init(&r, &s, "0.0.0.0", false, SDP_ICE_KEEP);
	assert_int_equal(
	    sdp_rewrite(&s, sdp_linphone, strlen(sdp_linphone), &r.rw, out, sizeof(out)), -EINVAL);
	/* credentials that would break the line */
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_FORCE);
	r.rw.ice_pwd = STRV("abc\r\na=evil");
	assert_int_equal(
	    sdp_rewrite(&s, sdp_linphone, strlen(sdp_linphone), &r.rw, out, sizeof(out)), -EINVAL);
	/* a buffer with more m= lines than the parse */
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_KEEP);
	s.nmedia = 1;
	r.rw.nmedia = 1;
	assert_int_equal(
	    sdp_rewrite(&s, sdp_linphone, strlen(sdp_linphone), &r.rw, out, sizeof(out)), -EINVAL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Not a benchmark: a guard against an accidental quadratic or allocating path. */
static void test_speed(void **state)
{
	const unsigned rounds = 20000;
	char out[1024];
	struct relay r;
	struct sdp s = parse_ok(sdp_baresip);
	uint64_t t0, ns;

	(void)state;
	relay_init(&r, &s, "203.0.113.1", false, SDP_ICE_REMOVE);
	t0 = now_ns();
	for (unsigned i = 0; i < rounds; i++) {
		assert_int_equal(sdp_parse(&s, sdp_baresip, sizeof(sdp_baresip) - 1, NULL), 0);
		assert_true(sdp_rewrite(&s, sdp_baresip, sizeof(sdp_baresip) - 1, &r.rw, out,
					sizeof(out)) > 0);
	}
	ns = (now_ns() - t0) / rounds;
	printf("# parse+rewrite of a %zu-byte SDP: %llu ns\n", sizeof(sdp_baresip) - 1,
	       (unsigned long long)ns);
	assert_true(ns < 100000); /* generous: sanitizers, 8 engineers on 2 cores */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sipp),
		cmocka_unit_test(test_parse_baresip_linphone),
		cmocka_unit_test(test_parse_webrtc),
		cmocka_unit_test(test_parse_t38_ipv6),
		cmocka_unit_test(test_parse_hold),
		cmocka_unit_test(test_parse_misc_accept),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_parse_too_many_media),
		cmocka_unit_test(test_rewrite_sipp),
		cmocka_unit_test(test_rewrite_keeps_origin),
		cmocka_unit_test(test_rewrite_linphone),
		cmocka_unit_test(test_rewrite_webrtc_remove_ice),
		cmocka_unit_test(test_rewrite_force_ice),
		cmocka_unit_test(test_rewrite_t38_ipv6),
		cmocka_unit_test(test_rewrite_hold),
		cmocka_unit_test(test_rewrite_enospc),
		cmocka_unit_test(test_rewrite_invalid),
		cmocka_unit_test(test_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
