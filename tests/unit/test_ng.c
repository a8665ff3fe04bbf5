/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ng control plane end to end through ng_process_from(): commands, keys and flags, the
 * reply cache, sessions (ports, flows, links) on a fake dataplane, timeouts on a fake clock and
 * their teardown notifications on a loopback socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/loop.h"
#include "fake_dp.h"
#include "rtpengine/call.h"
#include "rtpengine/iface.h"
#include "rtpengine/ng.h"
#include "rtpengine/ports.h"

#define SDP_A                                                                             \
	"v=0\r\no=- 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
	"m=audio 4000 RTP/AVP 0 8\r\na=sendrecv\r\n"
#define SDP_B                                                                       \
	"v=0\r\no=- 2 2 IN IP4 10.0.0.20\r\ns=-\r\nc=IN IP4 10.0.0.20\r\nt=0 0\r\n" \
	"m=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n"
#define SDP_A_HOLD                                                                        \
	"v=0\r\no=- 1 2 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\nt=0 0\r\n" \
	"m=audio 4000 RTP/AVP 0 8\r\na=sendonly\r\n"

struct env {
	struct loop *loop;
	struct fake_dp dp;
	struct iface ifaces[2];
	struct calls *calls;
	struct ng_server *ng;
	int client; /* where commands "come from"; receives teardown notifications */
	struct sa client_addr;
	char reply[65536];
	int reply_len;
	struct bencode_node nodes[4096];
	struct bencode_doc doc;
	const struct bencode_node *root;
	unsigned cookie;
};

static struct env *E;

static void env_open(struct calls_conf *cc)
{
	struct iface_conf ic[2] = {
		{ .name = "access", .port_min = 30000, .port_max = 30099 },
		{ .name = "core", .port_min = 40000, .port_max = 40099 },
	};
	struct sa ng_addr;
	socklen_t len;

	E = calloc(1, sizeof(*E));
	assert_non_null(E);
	assert_int_equal(loop_alloc(&E->loop), 0);
	fake_dp_init(&E->dp);
	sa_parse_cstr(&ic[0].local, "127.0.0.1", 0);
	sa_parse_cstr(&ic[0].advertised, "203.0.113.1", 0);
	sa_parse_cstr(&ic[1].local, "127.0.0.2", 0);
	if (cc->nifaces == 1) /* a test that wants a tiny range */
		ic[0].port_max = 30003;
	assert_int_equal(iface_init(&E->ifaces[0], &ic[0], 1), 0);
	assert_int_equal(iface_init(&E->ifaces[1], &ic[1], 2), 0);
	cc->dp = &E->dp.base;
	cc->ifaces = E->ifaces;
	cc->nifaces = 2;
	assert_int_equal(calls_alloc(&E->calls, cc), 0);
	sa_parse_cstr(&ng_addr, "127.0.0.1:0", 0);
	assert_int_equal(ng_server_alloc(&E->ng, E->loop, &ng_addr, E->calls), 0);
	E->client = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(E->client >= 0);
	assert_int_equal(bind(E->client, &ng_addr.u.sa, ng_addr.len), 0);
	len = sizeof(E->client_addr.u);
	assert_int_equal(getsockname(E->client, &E->client_addr.u.sa, &len), 0);
	E->client_addr.len = len;
}

static int setup(void **state)
{
	struct calls_conf cc = {
		.limits.timeout_ms = 60000,
		.limits.silent_timeout_ms = 3600000,
		.limits.offer_timeout_ms = 300000,
		.limits.latch_window_ms = 10000,
	};

	(void)state;
	env_open(&cc);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ng_server_free(E->ng);
	calls_free(E->calls);
	iface_clear(&E->ifaces[0]);
	iface_clear(&E->ifaces[1]);
	loop_free(E->loop);
	close(E->client);
	free(E);
	return 0;
}

/* --- requests -------------------------------------------------------------- */

/* A request member: a string (v), or a list of strings (l, NULL-terminated). */
struct kv {
	const char *k, *v;
	const char *l[6];
};

#define S(key, val)                \
	{                          \
		.k = key, .v = val \
	}
#define L(key, ...)                                  \
	{                                            \
		.k = key, .l = { __VA_ARGS__, NULL } \
	}

static void run_raw(const char *req, size_t len)
{
	E->reply_len =
	    ng_process_from(E->ng, req, len, &E->client_addr, E->reply, sizeof(E->reply));
	E->root = NULL;
	if (E->reply_len <= 0)
		return;
	const char *sp = memchr(E->reply, ' ', (size_t)E->reply_len);

	assert_non_null(sp);
	bencode_doc_init(&E->doc, E->nodes, 4096);
	assert_int_equal(
	    bencode_decode(&E->doc, sp + 1, (size_t)(E->reply + E->reply_len - sp - 1), NULL, NULL),
	    0);
	E->root = bencode_root(&E->doc);
}

/* Sends @p kvs under @p cookie (NULL: a fresh one). */
static void run_cookie(const char *cookie, const struct kv *kvs, size_t n)
{
	static char req[16384];
	struct bencode_buf b;
	int len = cookie ? snprintf(req, sizeof(req), "%s ", cookie)
			 : snprintf(req, sizeof(req), "c%u ", ++E->cookie);
	int m;

	bencode_buf_init(&b, req + len, sizeof(req) - (size_t)len);
	bencode_dict_begin(&b);
	for (size_t i = 0; i < n; i++) {
		bencode_put_cstr(&b, kvs[i].k);
		if (kvs[i].v) {
			bencode_put_cstr(&b, kvs[i].v);
			continue;
		}
		bencode_list_begin(&b);
		for (const char *const *e = kvs[i].l; *e; e++)
			bencode_put_cstr(&b, *e);
		bencode_end(&b);
	}
	bencode_end(&b);
	m = bencode_buf_finish(&b);
	assert_true(m > 0);
	run_raw(req, (size_t)(len + m));
}

#define RUN(...)                                                        \
	do {                                                            \
		const struct kv kvs_[] = { __VA_ARGS__ };               \
		run_cookie(NULL, kvs_, sizeof(kvs_) / sizeof(kvs_[0])); \
	} while (0)

static const struct bencode_node *get(const struct bencode_node *dict, const char *key)
{
	return bencode_dict_get(&E->doc, dict, strv_cstr(key));
}

static struct strv get_str(const struct bencode_node *dict, const char *key)
{
	const struct bencode_node *n = get(dict, key);

	if (!n || n->type != BENCODE_STR)
		return STRV("(none)");
	return n->v.s;
}

static int64_t get_int(const struct bencode_node *dict, const char *key)
{
	const struct bencode_node *n = get(dict, key);

	assert_non_null(n);
	assert_int_equal(n->type, BENCODE_INT);
	return n->v.i;
}

static void assert_result(const char *result)
{
	struct strv r;

	assert_non_null(E->root);
	r = get_str(E->root, "result");
	if (!strv_eq_cstr(r, result)) {
		struct strv why = get_str(E->root, "error-reason");

		fail_msg("result %.*s (%.*s), expected %s", (int)r.len, r.p, (int)why.len, why.p,
			 result);
	}
}

static void assert_error(const char *reason)
{
	struct strv why;

	assert_result("error");
	why = get_str(E->root, "error-reason");
	if (!strv_eq_cstr(why, reason))
		fail_msg("error-reason '%.*s', expected '%s'", (int)why.len, why.p, reason);
}

static bool reply_sdp_has(const char *needle)
{
	struct strv sdp = get_str(E->root, "sdp");
	char buf[8192];

	strv_copy(sdp, buf, sizeof(buf));
	return strstr(buf, needle) != NULL;
}

/* The audio port in the reply's SDP. */
static unsigned reply_sdp_port(void)
{
	struct strv sdp = get_str(E->root, "sdp");
	char buf[8192];
	const char *m;
	unsigned port = 0;

	strv_copy(sdp, buf, sizeof(buf));
	m = strstr(buf, "m=audio ");
	assert_non_null(m);
	assert_int_equal(sscanf(m, "m=audio %u", &port), 1);
	return port;
}

static void offer(const char *call_id, const char *from_tag)
{
	RUN(S("command", "offer"), S("call-id", call_id), S("from-tag", from_tag), S("sdp", SDP_A),
	    L("direction", "access", "core"), L("flags", "teardown-notify"));
}

static void answer(const char *call_id, const char *from_tag, const char *to_tag)
{
	RUN(S("command", "answer"), S("call-id", call_id), S("from-tag", from_tag),
	    S("to-tag", to_tag), S("sdp", SDP_B), L("direction", "core", "access"));
}

static unsigned free_ports(unsigned i)
{
	return ports_available(E->ifaces[i].ports);
}

/* --- tests -------------------------------------------------------------------- */

static void test_ping_and_errors(void **state)
{
	(void)state;
	RUN(S("command", "ping"));
	assert_result("pong");
	assert_null(get(E->root, "warning"));
	RUN(S("command", "frobnicate"));
	assert_error("Unrecognized command");
	RUN(S("call-id", "x"));
	assert_error("No command given");
	run_raw("k1 not-bencode", 14);
	assert_error("Could not decode dictionary");
	run_raw("nocookie", 8);
	assert_int_equal(E->reply_len, -1);
	run_raw(" d7:command4:pinge", 18);
	assert_int_equal(E->reply_len, -1);
	assert_int_equal(ng_server_stats(E->ng)->errors, 3);
	/* per command and result, for metrics: the undecodable ones count as "other" */
	assert_int_equal(ng_server_stats(E->ng)->results[NG_CMD_PING][NG_RESULT_PONG], 1);
	assert_int_equal(ng_server_stats(E->ng)->results[NG_CMD_OTHER][NG_RESULT_ERROR], 3);
	assert_string_equal(ng_cmd_name(NG_CMD_STATISTICS), "statistics");
	assert_string_equal(ng_result_name(NG_RESULT_LOAD_LIMIT), "load limit");
}

static void test_offer_answer_links(void **state)
{
	struct fake_flow *a_rtp, *b_rtp;
	unsigned a_port, b_port;

	(void)state;
	offer("call1", "tagA");
	assert_result("ok");
	/* the offer goes to the answerer: the core side's address and port */
	assert_true(reply_sdp_has("127.0.0.2"));
	b_port = reply_sdp_port();
	assert_true(b_port >= 40000 && b_port <= 40099 && b_port % 2 == 0);
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(free_ports(0), 49);
	assert_int_equal(free_ports(1), 49);
	b_rtp = fake_flow_on_port(&E->dp, (uint16_t)b_port);
	assert_non_null(b_rtp);
	assert_non_null(fake_flow_on_port(&E->dp, (uint16_t)(b_port + 1)));
	assert_true(fake_flow_on_port(&E->dp, (uint16_t)(b_port + 1))->p.is_rtcp);
	/* early media: the callee's packets reach the caller; nothing goes the other way yet */
	assert_true(b_rtp->out != 0);
	a_rtp = fake_flow_get(&E->dp.base, b_rtp->out);
	assert_non_null(a_rtp);
	assert_int_equal(a_rtp->out, 0);
	assert_int_equal(sa_port(&a_rtp->p.latch.expected), 4000);
	assert_true(sa_isset(&a_rtp->p.latch.expected));
	assert_int_equal(a_rtp->p.latch.window_ms, 10000);
	assert_int_equal(a_rtp->p.group, b_rtp->p.group);
	assert_int_equal(a_rtp->p.ice_local_ufrag[0], '\0');

	answer("call1", "tagA", "tagB");
	assert_result("ok");
	/* the answer goes to the caller: the access side's advertised address, the caller's port */
	assert_true(reply_sdp_has("203.0.113.1"));
	a_port = reply_sdp_port();
	assert_int_equal(a_port, sa_port(&a_rtp->p.local));
	assert_true(a_port >= 30000 && a_port <= 30099);
	assert_int_equal(a_rtp->out, fake_flow_on_port(&E->dp, (uint16_t)b_port) - E->dp.flows + 1);
	assert_int_equal(sa_port(&b_rtp->p.latch.expected), 5000);
	assert_int_equal(E->dp.live, 4);
}

/* Finding 1: the answer restarts the caller's learning window too (it may have rung long). */
static void test_answer_restarts_caller(void **state)
{
	struct fake_flow *a_rtp, *a_rtcp;
	unsigned before, before_rtcp;

	(void)state;
	offer("ring", "a");
	a_rtp =
	    fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	assert_non_null(a_rtp);
	a_rtcp = fake_flow_on_port(&E->dp, (uint16_t)(sa_port(&a_rtp->p.local) + 1));
	assert_non_null(a_rtcp);
	before = a_rtp->updates;
	before_rtcp = a_rtcp->updates;
	answer("ring", "a", "b");
	assert_result("ok");
	assert_true(a_rtp->updates > before);
	assert_true(a_rtcp->updates > before_rtcp);
	assert_int_equal(sa_port(&a_rtp->p.latch.expected), 4000);
}

/* Finding 4: the callee's ports learn no stranger before its SDP is known. */
static void test_no_window_before_sdp(void **state)
{
	struct fake_flow *b_rtp, *b_rtcp;
	unsigned b_port;

	(void)state;
	offer("bleed", "a");
	b_port = reply_sdp_port();
	b_rtp = fake_flow_on_port(&E->dp, (uint16_t)b_port);
	b_rtcp = fake_flow_on_port(&E->dp, (uint16_t)(b_port + 1));
	assert_int_equal(b_rtp->p.latch.window_ms, 0);
	assert_int_equal(b_rtcp->p.latch.window_ms, 0);
	assert_int_equal(fake_flow_get(&E->dp.base, b_rtp->out)->p.latch.window_ms, 10000);
	answer("bleed", "a", "b");
	assert_result("ok");
	assert_int_equal(b_rtp->p.latch.window_ms, 10000);
	assert_int_equal(b_rtcp->p.latch.window_ms, 10000);
}

/* Finding 6: an answer with an unknown from-tag and a known to-tag renames nobody. */
static void test_answer_unknown_from_tag(void **state)
{
	(void)state;
	offer("rn", "ta");
	answer("rn", "ta", "tb");
	assert_result("ok");
	answer("rn", "zz", "tb");
	assert_error("Unknown tag");
	RUN(S("command", "query"), S("call-id", "rn"));
	assert_result("ok");
	assert_non_null(get(get(E->root, "tags"), "ta"));
	assert_non_null(get(get(E->root, "tags"), "tb"));
	answer("rn", "ta", "tb");
	assert_result("ok");
}

static void test_query_delete_stats(void **state)
{
	const struct bencode_node *tags, *tag, *medias, *media, *streams, *stream, *totals;
	struct fake_flow *f;

	(void)state;
	offer("call1", "tagA");
	answer("call1", "tagA", "tagB");
	f = fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port());
	f->st.packets = 10;
	f->st.bytes = 1720;
	f->st.last_packet_ms = loop_now_ms(E->loop);
	f->st.ssrc = 0x12345678;
	RUN(S("command", "query"), S("call-id", "call1"));
	assert_result("ok");
	assert_true(get_int(E->root, "created") > 0);
	assert_true(get_int(E->root, "created_us") >= 0 &&
		    get_int(E->root, "created_us") < 1000000);
	tags = get(E->root, "tags");
	assert_non_null(tags);
	tag = get(tags, "tagA");
	assert_non_null(tag);
	assert_true(strv_eq_cstr(get_str(tag, "tag"), "tagA"));
	assert_true(strv_eq_cstr(get_str(tag, "in dialogue with"), "tagB"));
	medias = get(tag, "medias");
	assert_non_null(medias);
	media = bencode_first(&E->doc, medias);
	assert_int_equal(get_int(media, "index"), 1);
	assert_true(strv_eq_cstr(get_str(media, "type"), "audio"));
	assert_true(strv_eq_cstr(get_str(media, "protocol"), "RTP/AVP"));
	streams = get(media, "streams");
	stream = bencode_first(&E->doc, streams);
	assert_int_equal(get_int(stream, "local port"), sa_port(&f->p.local));
	/* where the relay is bound, not what it advertises (as Sipwise) */
	assert_true(strv_eq_cstr(get_str(stream, "local address"), "127.0.0.1"));
	assert_true(strv_eq_cstr(get_str(stream, "family"), "IPv4"));
	assert_true(strv_eq_cstr(get_str(get(stream, "endpoint"), "address"), "192.168.1.10"));
	assert_int_equal(get_int(get(stream, "endpoint"), "port"), 4000);
	assert_int_equal(get_int(get(stream, "stats"), "packets"), 10);
	assert_non_null(get(tags, "tagB"));
	totals = get(E->root, "totals");
	assert_int_equal(get_int(get(totals, "RTP"), "packets"), 10);
	assert_int_equal(get_int(get(totals, "RTP"), "bytes"), 1720);
	assert_int_equal(get_int(get(totals, "RTCP"), "packets"), 0);
	assert_int_equal(get_int(stream, "SSRC"), 0x12345678);
	assert_int_equal(get_int(get(get(E->root, "SSRC"), "305419896"), "packets"), 10);

	RUN(S("command", "list"));
	assert_result("ok");
	assert_int_equal(get(E->root, "calls")->count, 1);
	RUN(S("command", "statistics"));
	assert_int_equal(
	    get_int(get(get(E->root, "statistics"), "currentstatistics"), "sessionsown"), 1);

	RUN(S("command", "delete"), S("call-id", "call1"), S("from-tag", "tagA"));
	assert_result("ok");
	assert_int_equal(get_int(get(get(E->root, "totals"), "RTP"), "packets"), 10);
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
	RUN(S("command", "query"), S("call-id", "call1"));
	assert_error("Unknown call-id");
	/* deleting an unknown call: a warning, an error only with the flag fatal (as Sipwise) */
	RUN(S("command", "delete"), S("call-id", "call1"));
	assert_result("ok");
	assert_true(
	    strv_eq_cstr(get_str(E->root, "warning"), "Call-ID not found or tags didn't match"));
	RUN(S("command", "delete"), S("call-id", "call1"), L("flags", "fatal"));
	assert_error("Unknown call-id");
	RUN(S("command", "answer"), S("call-id", "nope"), S("from-tag", "a"), S("sdp", SDP_B));
	assert_error("Unknown call-id");
}

static void test_bad_sdp(void **state)
{
	(void)state;
	RUN(S("command", "offer"), S("call-id", "c"), S("from-tag", "a"));
	assert_error("Missing SDP");
	RUN(S("command", "offer"), S("call-id", "c"), S("from-tag", "a"), S("sdp", "garbage\r\n"));
	assert_error("Failed to parse SDP");
	RUN(S("command", "offer"), S("call-id", "c"), S("from-tag", "a"),
	    S("sdp", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"));
	assert_error("Incomplete SDP");
	RUN(S("command", "offer"), S("from-tag", "a"), S("sdp", SDP_A));
	assert_error("No call-id in message");
	RUN(S("command", "offer"), S("call-id", "c"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("direction", "access", "mars"));
	assert_error("Unknown interface in direction");
	/* nothing was left behind */
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(calls_counters(E->calls)->current, 0);
}

static void test_spellings_and_warnings(void **state)
{
	struct fake_flow *f;

	(void)state;
	RUN(S("command", "offer"), S("call id", "sp"), S("From_Tag", "a"), S("sdp", SDP_A),
	    L("flags", "strict source", "symmetric", "frobnicate"), S("bogus key", "1"),
	    L("replace", "origin", "session connection"), L("received from", "IP4", "198.51.100.7"),
	    L("rtcp-mux", "demux"), S("ICE", "remove"), S("via-branch", "z9hG4bK1"),
	    L("supports", "load limit"), S("record call", "no"));
	assert_result("ok");
	assert_true(strv_eq_cstr(get_str(E->root, "warning"),
				 "unknown flag 'frobnicate'; unknown key 'bogus key'"));
	f = fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	assert_int_equal(f->p.latch.mode, LATCH_STRICT);
	assert_true(sa_isset(&f->p.latch.received_from));

	RUN(S("command", "offer"), S("call-id", "sp2"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("flags", "media-handover", "trust_address"), L("received-from", "IP4", "1.2.3.4"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	f = fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	assert_int_equal(f->p.latch.mode, LATCH_HANDOVER);
	/* trust address: the SIP source still ranks sources (finding 4: not dropped) */
	assert_true(sa_isset(&f->p.latch.received_from));

	RUN(S("command", "delete"), S("call-id", "sp2"), S("delete-delay", "0"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	RUN(S("command", "delete"), S("call-id", "sp9"), S("delete-delay", "soon"));
	assert_true(
	    strv_eq_cstr(get_str(E->root, "warning"),
			 "invalid value of 'delete-delay'; Call-ID not found or tags didn't "
			 "match"));
}

static void test_ice_force(void **state)
{
	struct fake_flow *b;

	(void)state;
	RUN(S("command", "offer"), S("call-id", "ice"), S("from-tag", "a"), S("sdp", SDP_A),
	    S("ICE", "force"));
	assert_result("ok");
	b = fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port());
	assert_int_equal(strlen(b->p.ice_local_ufrag), 8);
	assert_int_equal(strlen(b->p.ice_local_pwd), 24);
	assert_true(reply_sdp_has(b->p.ice_local_ufrag));
	/* the caller's relay ports learn their credentials when the answer forces ICE */
	RUN(S("command", "answer"), S("call-id", "ice"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B), S("ICE", "force"));
	assert_result("ok");
	b = fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port());
	assert_int_equal(strlen(b->p.ice_local_ufrag), 8);
	assert_true(reply_sdp_has(b->p.ice_local_ufrag));
	assert_non_null(fake_flow_on_port(&E->dp, (uint16_t)(reply_sdp_port() + 1)));
	assert_string_equal(
	    fake_flow_on_port(&E->dp, (uint16_t)(reply_sdp_port() + 1))->p.ice_local_pwd,
	    b->p.ice_local_pwd);
}

static void test_unsupported_warnings(void **state)
{
	(void)state;
	RUN(S("command", "offer"), S("call-id", "tp"), S("from-tag", "a"), S("sdp", SDP_A),
	    S("transport-protocol", "RTP/AVP"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	RUN(S("command", "offer"), S("call-id", "tp"), S("from-tag", "a"), S("sdp", SDP_A),
	    S("transport protocol", "RTP/SAVP"), S("record call", "yes"));
	assert_result("ok");
	assert_true(strv_eq_cstr(get_str(E->root, "warning"),
				 "unsupported key 'record call'; unsupported transport-protocol "
				 "'RTP/SAVP'"));
	/* finding 7: known but without effect: named in the warning */
	RUN(S("command", "offer"), S("call-id", "tp"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("flags", "loop-protect", "symmetric"), S("media-address", "192.0.2.1"));
	assert_result("ok");
	assert_true(
	    strv_eq_cstr(get_str(E->root, "warning"),
			 "unsupported flag 'loop-protect'; unsupported key 'media-address'"));
}

/* Finding 7: asymmetric endpoints are never latched (media go to the SDP address). */
static void test_asymmetric(void **state)
{
	struct fake_flow *f;

	(void)state;
	RUN(S("command", "offer"), S("call-id", "as"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("flags", "asymmetric"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	f = fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	assert_int_equal(f->p.latch.mode, LATCH_ASYMMETRIC);
}

/* Finding 7: SIP-source-address sends to the SIP source's IP, at the SDP's ports. */
static void test_sip_source_address(void **state)
{
	struct fake_flow *f, *rtcp;

	(void)state;
	RUN(S("command", "offer"), S("call-id", "ss"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("flags", "SIP-source-address"), L("received-from", "IP4", "198.51.100.7"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	f = fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	rtcp = fake_flow_on_port(&E->dp, (uint16_t)(sa_port(&f->p.local) + 1));
	assert_true(sa_equal_addr(&f->p.latch.expected, &f->p.latch.received_from));
	assert_int_equal(sa_port(&f->p.latch.expected), 4000);
	assert_true(sa_equal_addr(&rtcp->p.latch.expected, &f->p.latch.received_from));
	assert_int_equal(sa_port(&rtcp->p.latch.expected), 4001);
}

static void test_reply_cache(void **state)
{
	static const struct kv req[] = { S("command", "offer"), S("call-id", "rc"),
					 S("from-tag", "a"), S("sdp", SDP_A) };
	char first[65536];
	int first_len;
	unsigned port;

	(void)state;
	run_cookie("same", req, 4);
	assert_result("ok");
	port = reply_sdp_port();
	memcpy(first, E->reply, (size_t)E->reply_len);
	first_len = E->reply_len;
	run_cookie("same", req, 4);
	assert_int_equal(E->reply_len, first_len);
	assert_memory_equal(E->reply, first, (size_t)first_len);
	assert_int_equal(E->dp.adds, 4); /* executed once */
	assert_int_equal(ng_server_stats(E->ng)->retransmits, 1);
	/* another cookie runs again: a re-offer, which keeps its ports */
	run_cookie("other", req, 4);
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), port);
	assert_int_equal(E->dp.adds, 4);
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(calls_counters(E->calls)->total, 1);
	/* the same cookie from another client is another command */
	sa_set_port(&E->client_addr, (uint16_t)(sa_port(&E->client_addr) + 1));
	run_cookie("same", (const struct kv[]){ S("command", "list") }, 1);
	assert_result("ok");
	assert_non_null(get(E->root, "calls"));
	assert_int_equal(ng_server_stats(E->ng)->retransmits, 1);
}

static void test_reoffer_keeps_ports(void **state)
{
	unsigned b_port, a_port;

	(void)state;
	offer("re", "a");
	b_port = reply_sdp_port();
	answer("re", "a", "b");
	a_port = reply_sdp_port();
	offer("re", "a");
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), b_port);
	/* a re-INVITE from the callee: its ports are the ones it had */
	RUN(S("command", "offer"), S("call-id", "re"), S("from-tag", "b"), S("to-tag", "a"),
	    S("sdp", SDP_B));
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), a_port);
	RUN(S("command", "answer"), S("call-id", "re"), S("from-tag", "b"), S("to-tag", "a"),
	    S("sdp", SDP_A));
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), b_port);
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(E->dp.adds, 4);
}

static void test_ports_exhausted(void **state)
{
	struct calls_conf cc = { .nifaces = 1, .limits.timeout_ms = 60000 };

	(void)state;
	teardown(NULL);
	env_open(&cc); /* access: 30000-30003, two pairs */
	RUN(S("command", "offer"), S("call-id", "p1"), S("from-tag", "a"), S("sdp", SDP_A));
	assert_result("ok");
	assert_int_equal(free_ports(0), 0);
	RUN(S("command", "offer"), S("call-id", "p2"), S("from-tag", "a"), S("sdp", SDP_A));
	assert_error("Ran out of ports");
	assert_int_equal(calls_counters(E->calls)->current, 1);
	RUN(S("command", "delete"), S("call-id", "p1"));
	assert_int_equal(free_ports(0), 2);
	/* a port taken by another process is skipped */
	E->dp.busy_port = 30000;
	RUN(S("command", "offer"), S("call-id", "p3"), S("from-tag", "a"), S("sdp", SDP_A));
	assert_error("Ran out of ports");
	E->dp.busy_port = 0;
	assert_int_equal(free_ports(0), 2);
	assert_int_equal(E->dp.live, 0);
}

static void test_load_limit(void **state)
{
	struct calls_conf cc = { .limits.max_sessions = 1, .limits.timeout_ms = 60000 };

	(void)state;
	teardown(NULL);
	env_open(&cc);
	offer("l1", "a");
	assert_result("ok");
	RUN(S("command", "offer"), S("call-id", "l2"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("supports", "load limit"));
	assert_result("load limit");
	assert_true(strv_eq_cstr(get_str(E->root, "message"), "Parallel session limit reached"));
	RUN(S("command", "offer"), S("call-id", "l2"), S("from-tag", "a"), S("sdp", SDP_A));
	assert_error("Parallel session limit reached");
	/* the existing call may still be re-offered */
	offer("l1", "a");
	assert_result("ok");
	assert_int_equal(calls_counters(E->calls)->rejected, 2);
	assert_int_equal(ng_server_stats(E->ng)->results[NG_CMD_OFFER][NG_RESULT_LOAD_LIMIT], 1);
	assert_int_equal(ng_server_stats(E->ng)->results[NG_CMD_OFFER][NG_RESULT_ERROR], 1);
	assert_int_equal(ng_server_stats(E->ng)->results[NG_CMD_OFFER][NG_RESULT_OK], 2);
}

/* Reads one teardown notification from the client socket, or returns false. */
static bool read_teardown(char *call_id, char *reason)
{
	char buf[2048];
	struct bencode_node nodes[32];
	struct bencode_doc doc;
	ssize_t n = recv(E->client, buf, sizeof(buf), 0);
	const char *sp;

	if (n <= 0)
		return false;
	sp = memchr(buf, ' ', (size_t)n);
	assert_non_null(sp);
	bencode_doc_init(&doc, nodes, 32);
	assert_int_equal(bencode_decode(&doc, sp + 1, (size_t)(buf + n - sp - 1), NULL, NULL), 0);
	struct strv v;

	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("command"), &v));
	assert_true(strv_eq_cstr(v, "teardown"));
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("call-id"), &v));
	strv_copy(v, call_id, 64);
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("from-tag"), &v));
	assert_true(strv_eq_cstr(v, "a"));
	assert_true(bencode_dict_get_str(&doc, bencode_root(&doc), STRV("reason"), &v));
	strv_copy(v, reason, 64);
	return true;
}

static void test_timeouts(void **state)
{
	uint64_t t0 = loop_now_ms(E->loop);
	char id[64], reason[64];
	struct fake_flow *f;

	(void)state;
	offer("t1", "a"); /* teardown-notify */
	answer("t1", "a", "b");
	RUN(S("command", "offer"), S("call-id", "t2"), S("from-tag", "a"), S("sdp", SDP_A));
	RUN(S("command", "answer"), S("call-id", "t2"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B));
	offer("t3", "a"); /* never answered */
	offer("t4", "a"); /* on hold: silent timeout */
	answer("t4", "a", "b");
	RUN(S("command", "offer"), S("call-id", "t4"), S("from-tag", "a"), S("sdp", SDP_A_HOLD),
	    L("flags", "teardown-notify"));
	assert_result("ok");
	/* t1 keeps sending RTP at 59 s */
	RUN(S("command", "query"), S("call-id", "t1"));
	{
		const struct bencode_node *tag = get(get(E->root, "tags"), "a");
		const struct bencode_node *st = bencode_first(
		    &E->doc, get(bencode_first(&E->doc, get(tag, "medias")), "streams"));

		f = fake_flow_on_port(&E->dp, (uint16_t)get_int(st, "local port"));
	}
	assert_non_null(f);
	f->st.last_packet_ms = t0 + 59000;

	calls_tick(E->calls, t0 + 30000);
	assert_int_equal(calls_counters(E->calls)->current, 4);
	assert_false(read_teardown(id, reason));

	calls_tick(E->calls, t0 + 61000);
	/* t2 timed out silently (no teardown-notify); t1 sends; t3 waits for its answer */
	assert_int_equal(calls_counters(E->calls)->current, 3);
	assert_false(read_teardown(id, reason));
	RUN(S("command", "query"), S("call-id", "t2"));
	assert_error("Unknown call-id");

	calls_tick(E->calls, t0 + 120000);
	assert_true(read_teardown(id, reason));
	assert_string_equal(id, "t1");
	assert_string_equal(reason, "timeout");
	assert_false(read_teardown(id, reason));

	calls_tick(E->calls, t0 + 300000);
	assert_true(read_teardown(id, reason));
	assert_string_equal(id, "t3");
	assert_string_equal(reason, "offer-timeout");

	calls_tick(E->calls, t0 + 3600000);
	assert_true(read_teardown(id, reason));
	assert_string_equal(id, "t4");
	assert_string_equal(reason, "timeout");
	assert_int_equal(calls_counters(E->calls)->current, 0);
	assert_int_equal(calls_counters(E->calls)->timeouts, 4);
	assert_int_equal(calls_counters(E->calls)->ended[CALL_END_TIMEOUT], 3);
	assert_int_equal(calls_counters(E->calls)->ended[CALL_END_OFFER_TIMEOUT], 1);
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

/* delete-delay as Sipwise: the call lives on, a new offer saves it, the key wins. */
static void test_delete_delay(void **state)
{
	struct calls_conf cc = { .limits.timeout_ms = 60000, .limits.delete_delay_ms = 30000 };
	char id[64], reason[64];
	uint64_t t0;

	(void)state;
	teardown(NULL);
	env_open(&cc);
	t0 = loop_now_ms(E->loop);
	offer("d1", "a");
	answer("d1", "a", "b");
	offer("d2", "a");
	answer("d2", "a", "b");
	offer("d3", "a");
	RUN(S("command", "delete"), S("call-id", "d1"), S("from-tag", "a"));
	assert_result("ok");
	assert_non_null(get(E->root, "totals"));
	RUN(S("command", "delete"), S("call-id", "d2"), S("from-tag", "a"));
	RUN(S("command", "delete"), S("call-id", "d3"), S("from-tag", "a"), S("delete-delay", "0"));
	assert_int_equal(calls_counters(E->calls)->current, 2);
	/* a deleted call still answers, media still flow, a repeated delete finds it */
	RUN(S("command", "query"), S("call-id", "d1"));
	assert_result("ok");
	assert_true(E->dp.live > 0);
	calls_tick(E->calls, t0 + 10000);
	RUN(S("command", "delete"), S("call-id", "d1"), S("from-tag", "a"));
	assert_result("ok");
	/* d2 signalled again: not deleted any more */
	offer("d2", "a");
	assert_result("ok");
	calls_tick(E->calls, t0 + 29000);
	assert_int_equal(calls_counters(E->calls)->current, 2);
	calls_tick(E->calls, t0 + 30000);
	assert_int_equal(calls_counters(E->calls)->current, 1);
	RUN(S("command", "query"), S("call-id", "d1"));
	assert_error("Unknown call-id");
	RUN(S("command", "query"), S("call-id", "d2"));
	assert_result("ok");
	/* deleted on command: no teardown notification, not a timeout */
	assert_false(read_teardown(id, reason));
	assert_int_equal(calls_counters(E->calls)->timeouts, 0);
}

static void test_final_timeout(void **state)
{
	struct calls_conf cc = { .limits.timeout_ms = 60000, .limits.final_timeout_ms = 7200000 };
	char id[64], reason[64];
	uint64_t t0;

	(void)state;
	teardown(NULL);
	env_open(&cc);
	t0 = loop_now_ms(E->loop);
	offer("f1", "a");
	answer("f1", "a", "b");
	fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->st.last_packet_ms = t0 + 7200000;
	calls_tick(E->calls, t0 + 7199000);
	assert_false(read_teardown(id, reason));
	calls_tick(E->calls, t0 + 7200000);
	assert_true(read_teardown(id, reason));
	assert_string_equal(reason, "final-timeout");
}

static void test_delete_branch(void **state)
{
	(void)state;
	offer("br", "a");
	answer("br", "a", "b");
	/* a second dialogue in the call (e.g. a transfer) */
	RUN(S("command", "offer"), S("call-id", "br"), S("from-tag", "c"), S("sdp", SDP_A));
	assert_result("ok");
	assert_int_equal(E->dp.live, 8);
	RUN(S("command", "delete"), S("call-id", "br"), S("from-tag", "a"), S("to-tag", "b"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 6);
	RUN(S("command", "query"), S("call-id", "br"));
	assert_result("ok");
	assert_null(get(get(E->root, "tags"), "b"));
	RUN(S("command", "delete"), S("call-id", "br"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

/* Finding 5: tags that match nothing (a losing fork's to-tag) do not delete the call. */
static void test_delete_unknown_tag(void **state)
{
	(void)state;
	offer("fk", "a");
	answer("fk", "a", "t1");
	RUN(S("command", "delete"), S("call-id", "fk"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_true(
	    strv_eq_cstr(get_str(E->root, "warning"), "Call-ID not found or tags didn't match"));
	assert_int_equal(E->dp.live, 4);
	RUN(S("command", "delete"), S("call-id", "fk"), S("from-tag", "zz"), S("delete-delay", "0"),
	    L("flags", "fatal"));
	assert_error("Call-ID not found or tags didn't match");
	assert_int_equal(E->dp.live, 4);
	/* the BYE of the callee: swapped tags */
	RUN(S("command", "delete"), S("call-id", "fk"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	assert_int_equal(E->dp.live, 0);
	/* before the answer, a to-tag not known yet ends the call (CANCEL, 4xx) */
	offer("fk2", "a");
	RUN(S("command", "delete"), S("call-id", "fk2"), S("from-tag", "a"), S("to-tag", "x"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	assert_int_equal(E->dp.live, 0);
}

/* Finding 10: a pair whose flows the dataplane did not delete is not handed out again until a
 * later tick deleted them. */
static void test_delete_failure_keeps_ports(void **state)
{
	(void)state;
	offer("zb", "a");
	answer("zb", "a", "b");
	E->dp.del_error = -ETIMEDOUT;
	RUN(S("command", "delete"), S("call-id", "zb"), S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(free_ports(0), 49);
	assert_int_equal(free_ports(1), 49);
	calls_tick(E->calls, loop_now_ms(E->loop));
	assert_int_equal(free_ports(0), 49);
	E->dp.del_error = 0;
	calls_tick(E->calls, loop_now_ms(E->loop));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

#define SDP_A_MUX SDP_A "a=rtcp-mux\r\n"
#define SDP_B_MUX SDP_B "a=rtcp-mux\r\n"

/* Finding 8: mux is never answered to a side that did not offer it, and a refused mux puts
 * the offerer's RTCP back on its own port. */
static void test_rtcp_mux_answer(void **state)
{
	struct fake_flow *a_rtp, *a_rtcp;

	(void)state;
	RUN(S("command", "offer"), S("call-id", "mx"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("rtcp-mux", "offer"));
	assert_true(reply_sdp_has("a=rtcp-mux"));
	RUN(S("command", "answer"), S("call-id", "mx"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B_MUX));
	assert_result("ok");
	assert_false(reply_sdp_has("a=rtcp-mux"));

	RUN(S("command", "offer"), S("call-id", "mx2"), S("from-tag", "a"), S("sdp", SDP_A_MUX));
	a_rtp =
	    fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	a_rtcp = fake_flow_on_port(&E->dp, (uint16_t)(sa_port(&a_rtp->p.local) + 1));
	assert_int_equal(sa_port(&a_rtcp->p.latch.expected), 4000);
	RUN(S("command", "answer"), S("call-id", "mx2"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B));
	assert_result("ok");
	assert_false(reply_sdp_has("a=rtcp-mux"));
	assert_int_equal(sa_port(&a_rtcp->p.latch.expected), 4001);
}

/* Finding 17: an offer with from-tag == to-tag is refused (it linked flows to themselves). */
static void test_offer_same_tags(void **state)
{
	(void)state;
	RUN(S("command", "offer"), S("call-id", "st"), S("from-tag", "a"), S("to-tag", "a"),
	    S("sdp", SDP_A));
	assert_error("from-tag and to-tag are the same");
	assert_int_equal(E->dp.live, 0);
	offer("st", "a");
	answer("st", "a", "b");
	RUN(S("command", "offer"), S("call-id", "st"), S("from-tag", "a"), S("to-tag", "a"),
	    S("sdp", SDP_A));
	assert_error("from-tag and to-tag are the same");
	assert_int_equal(E->dp.live, 4);
}

/* Finding 13: a retransmission after 10000 other commands (well within Kamailio's 5 s) still
 * gets the cached reply: the cache does not evict by count that soon. */
static void test_reply_cache_depth(void **state)
{
	static const char req[] = "d7:command4:pinge";
	const struct kv del[] = { S("command", "delete"), S("call-id", "gone"),
				  L("flags", "fatal") };
	char buf[64];
	int len;

	(void)state;
	run_cookie("dl", del, 3);
	assert_error("Unknown call-id");
	for (unsigned i = 0; i < 10000; i++) {
		len = snprintf(buf, sizeof(buf), "p%u %s", i, req);
		run_raw(buf, (size_t)len);
	}
	offer("gone", "a");
	assert_result("ok");
	/* the delete's retransmission: the first reply again, the call untouched */
	run_cookie("dl", del, 3);
	assert_error("Unknown call-id");
	assert_int_equal(E->dp.live, 4);
}

/* Finding 20: a re-offer naming other interfaces keeps the ports, with a warning. */
static void test_reoffer_direction_warns(void **state)
{
	(void)state;
	offer("dr", "a");
	answer("dr", "a", "b");
	RUN(S("command", "offer"), S("call-id", "dr"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_A), L("direction", "access", "core"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	RUN(S("command", "offer"), S("call-id", "dr"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_A), L("direction", "core", "access"));
	assert_result("ok");
	assert_true(strv_eq_cstr(get_str(E->root, "warning"), "ignored 'direction'"));
	assert_true(reply_sdp_has("127.0.0.2"));
}

#define SDP_B_TWO SDP_B "m=video 5002 RTP/AVP 96\r\n"

/* Finding 18: a refused answer (more media than the offer) changes nothing. */
static void test_refused_answer_changes_nothing(void **state)
{
	struct fake_flow *a_rtp;
	unsigned updates;

	(void)state;
	offer("rf", "a");
	a_rtp =
	    fake_flow_get(&E->dp.base, fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port())->out);
	updates = a_rtp->updates;
	RUN(S("command", "answer"), S("call-id", "rf"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B_TWO), S("ICE", "force"));
	assert_error("Answer has more media than the offer");
	assert_int_equal(a_rtp->updates, updates);
	assert_int_equal(a_rtp->p.ice_local_ufrag[0], '\0');
	RUN(S("command", "query"), S("call-id", "rf"));
	assert_null(get(get(E->root, "tags"), "b"));
}

/* Finding 19: the teardown names the first offer's from-tag, even after its monologue went. */
static void test_teardown_names_offerer(void **state)
{
	uint64_t t0 = loop_now_ms(E->loop);
	char id[64], reason[64];

	(void)state;
	offer("nt", "a"); /* teardown-notify */
	answer("nt", "a", "b");
	RUN(S("command", "offer"), S("call-id", "nt"), S("from-tag", "c"), S("sdp", SDP_A));
	RUN(S("command", "delete"), S("call-id", "nt"), S("from-tag", "c"), S("to-tag", "a"));
	assert_result("ok");
	calls_tick(E->calls, t0 + 3600000);
	assert_true(read_teardown(id, reason)); /* checks from-tag "a" */
	assert_string_equal(id, "nt");
	/* the client's answer to the notification is not answered */
	run_raw("td1-1 d6:result2:oke", 20);
	assert_int_equal(E->reply_len, 0);
	assert_int_equal(ng_server_stats(E->ng)->errors, 0);
}

/* Finding 14: the call-id hash (bucket and dataplane group) is seeded: not plain FNV-1a. */
static void test_hash_seeded(void **state)
{
	static const char id[] = "seeded-call";
	uint32_t fnv = 2166136261u;
	struct fake_flow *f;

	(void)state;
	for (size_t i = 0; i < sizeof(id) - 1; i++)
		fnv = (fnv ^ (uint8_t)id[i]) * 16777619u;
	offer(id, "a");
	assert_result("ok");
	f = fake_flow_on_port(&E->dp, (uint16_t)reply_sdp_port());
	assert_true(f->p.group != fnv);
	RUN(S("command", "query"), S("call-id", id));
	assert_result("ok");
}

static void test_list_limit(void **state)
{
	(void)state;
	offer("x1", "a");
	offer("x2", "a");
	offer("x3", "a");
	RUN(S("command", "list"), S("limit", "2"));
	assert_result("ok");
	assert_int_equal(get(E->root, "calls")->count, 2);
	for (unsigned i = 0; i < 40; i++) {
		char id[16];

		snprintf(id, sizeof(id), "y%u", i);
		offer(id, "a");
	}
	RUN(S("command", "list"));
	assert_int_equal(get(E->root, "calls")->count, 32); /* Sipwise's default limit */
	RUN(S("command", "list"), L("limit", "x"));
	assert_true(strv_eq_cstr(get_str(E->root, "warning"), "invalid value of 'limit'"));
}

/* --- forks ------------------------------------------------------------------------ */

#define SDP_B_SENDONLY                                                              \
	"v=0\r\no=- 4 4 IN IP4 10.0.0.40\r\ns=-\r\nc=IN IP4 10.0.0.40\r\nt=0 0\r\n" \
	"m=audio 7000 RTP/AVP 0\r\na=sendonly\r\n"
#define SDP_B2                                                                      \
	"v=0\r\no=- 3 3 IN IP4 10.0.0.30\r\ns=-\r\nc=IN IP4 10.0.0.30\r\nt=0 0\r\n" \
	"m=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n"

/* The offer of branch @p vb; @return the port it carries (the fork's RTP port). */
static unsigned fork_offer(const char *call_id, const char *vb)
{
	RUN(S("command", "offer"), S("call-id", call_id), S("from-tag", "a"), S("via-branch", vb),
	    S("sdp", SDP_A), L("direction", "access", "core"));
	assert_result("ok");
	return reply_sdp_port();
}

/* The answer of the fork @p to_tag (via-branch @p vb, none when NULL) with @p sdp; @return
 * the port the caller is told. */
static unsigned fork_answer(const char *call_id, const char *to_tag, const char *vb,
			    const char *sdp)
{
	if (vb)
		RUN(S("command", "answer"), S("call-id", call_id), S("from-tag", "a"),
		    S("to-tag", to_tag), S("via-branch", vb), S("sdp", sdp));
	else
		RUN(S("command", "answer"), S("call-id", call_id), S("from-tag", "a"),
		    S("to-tag", to_tag), S("sdp", sdp));
	assert_result("ok");
	return reply_sdp_port();
}

static struct fake_flow *flow_at(unsigned port)
{
	return fake_flow_on_port(&E->dp, (uint16_t)port);
}

static dp_flow_t flow_id(unsigned port)
{
	struct fake_flow *f = flow_at(port);

	assert_non_null(f);
	return (dp_flow_t)(f - E->dp.flows + 1);
}

static bool has_tag(const char *call_id, const char *tag)
{
	RUN(S("command", "query"), S("call-id", call_id));
	assert_result("ok");
	return get(get(E->root, "tags"), tag) != NULL;
}

/* Each via-branch is an offer of its own: its own ports toward its callee, the caller's the
 * same; the caller's media go to the fork that answered last, every fork's reach the caller. */
static void test_fork_via_branch(void **state)
{
	unsigned p1, p2, a_port;

	(void)state;
	p1 = fork_offer("fv", "z9hG4bK.1");
	p2 = fork_offer("fv", "z9hG4bK.2");
	assert_int_not_equal(p1, p2);
	assert_int_equal(E->dp.live, 6);
	assert_int_equal(flow_at(p1)->out, flow_at(p2)->out); /* early media: both to the caller */
	/* the branch's offer again (a retransmission by another cookie): the same ports */
	assert_int_equal(fork_offer("fv", "z9hG4bK.2"), p2);
	a_port = fork_answer("fv", "t1", "z9hG4bK.1", SDP_B);
	assert_int_equal(flow_at(p1)->out, flow_id(a_port));
	assert_int_equal(flow_at(a_port)->out, flow_id(p1));
	/* the second fork answers: the caller is told its same port, its media go there now */
	assert_int_equal(fork_answer("fv", "t2", "z9hG4bK.2", SDP_B2), a_port);
	assert_int_equal(flow_at(a_port)->out, flow_id(p2));
	assert_int_equal(sa_port(&flow_at(p2)->p.latch.expected), 6000);
	assert_int_equal(sa_port(&flow_at(p1)->p.latch.expected), 5000);
	assert_int_equal(flow_at(p1)->out, flow_id(a_port));
	assert_int_equal(flow_at(p2)->out, flow_id(a_port));
	assert_true(has_tag("fv", "t1") && has_tag("fv", "t2"));
	/* the losing fork ends: its ports are free, the call and the winner go on */
	RUN(S("command", "delete"), S("call-id", "fv"), S("from-tag", "a"), S("to-tag", "t1"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_null(flow_at(p1));
	assert_int_equal(free_ports(1), 49);
	assert_int_equal(flow_at(a_port)->out, flow_id(p2));
	assert_false(has_tag("fv", "t1"));
	/* a re-INVITE to the winner keeps its ports */
	RUN(S("command", "offer"), S("call-id", "fv"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("via-branch", "z9hG4bK.3"), S("sdp", SDP_A));
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), p2);
	assert_int_equal(E->dp.live, 4);
	RUN(S("command", "delete"), S("call-id", "fv"), S("from-tag", "t2"), S("to-tag", "a"),
	    S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

/* A branch that never answered ends by its via-branch (its 487, whatever its to-tag); the
 * last branch's end is the call's. */
static void test_fork_branch_cancelled(void **state)
{
	unsigned p1, p2, a_port;

	(void)state;
	p1 = fork_offer("fc", "z9hG4bK.1");
	p2 = fork_offer("fc", "z9hG4bK.2");
	a_port = fork_answer("fc", "t1", "z9hG4bK.1", SDP_B);
	RUN(S("command", "delete"), S("call-id", "fc"), S("from-tag", "a"), S("to-tag", "x487"),
	    S("via-branch", "z9hG4bK.2"), S("delete-delay", "0"));
	assert_result("ok");
	assert_null(get(E->root, "warning"));
	assert_int_equal(E->dp.live, 4);
	assert_null(flow_at(p2));
	assert_int_equal(flow_at(a_port)->out, flow_id(p1));
	RUN(S("command", "delete"), S("call-id", "fc"), S("from-tag", "a"),
	    S("via-branch", "z9hG4bK.1"), S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 0);
}

/* The active fork ends: the caller's media go back to the fork left. */
static void test_fork_winner_deleted(void **state)
{
	unsigned p1, p2, a_port;

	(void)state;
	p1 = fork_offer("fw", "z9hG4bK.1");
	p2 = fork_offer("fw", "z9hG4bK.2");
	a_port = fork_answer("fw", "t1", "z9hG4bK.1", SDP_B);
	fork_answer("fw", "t2", "z9hG4bK.2", SDP_B2);
	assert_int_equal(flow_at(a_port)->out, flow_id(p2));
	RUN(S("command", "delete"), S("call-id", "fw"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(flow_at(a_port)->out, flow_id(p1));
	/* a new fork offered after the answer does not take the caller's media */
	fork_offer("fw", "z9hG4bK.3");
	assert_int_equal(flow_at(a_port)->out, flow_id(p1));
	assert_int_equal(E->dp.live, 6);
	/* the callee's BYE names the caller: the call ends, every fork with it */
	RUN(S("command", "delete"), S("call-id", "fw"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(calls_counters(E->calls)->current, 0);
	assert_int_equal(free_ports(1), 50);
}

/* The active fork ends: the caller's media go to the fork that answered latest before it,
 * whatever the order the forks were offered in (or the monologue table is in). */
static void test_fork_pick_latest_answered(void **state)
{
	unsigned p1, p2, p3, a_port;

	(void)state;
	p1 = fork_offer("fp", "z9hG4bK.1");
	p2 = fork_offer("fp", "z9hG4bK.2");
	p3 = fork_offer("fp", "z9hG4bK.3");
	a_port = fork_answer("fp", "t2", "z9hG4bK.2", SDP_B2);
	fork_answer("fp", "t1", "z9hG4bK.1", SDP_B);
	fork_answer("fp", "t3", "z9hG4bK.3", SDP_B_SENDONLY);
	assert_int_equal(flow_at(a_port)->out, flow_id(p3));
	RUN(S("command", "delete"), S("call-id", "fp"), S("from-tag", "a"), S("to-tag", "t3"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(flow_at(a_port)->out, flow_id(p1));
	/* answers again (200 after 183) count: t2 then t1; t1 ends, t2 gets the media, not the
	 * fork offered since and never answered */
	fork_answer("fp", "t2", "z9hG4bK.2", SDP_B2);
	assert_int_equal(flow_at(a_port)->out, flow_id(p2));
	fork_answer("fp", "t1", "z9hG4bK.1", SDP_B);
	fork_offer("fp", "z9hG4bK.4");
	RUN(S("command", "delete"), S("call-id", "fp"), S("from-tag", "a"), S("to-tag", "t1"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(flow_at(a_port)->out, flow_id(p2));
	RUN(S("command", "delete"), S("call-id", "fp"), S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(1), 50);
}

/* One offer, two to-tags (forked after the relay): both forks were sent the same ports, so
 * they share them; the flows take the SDP of the fork that answered last, and each to-tag is
 * its own early dialogue that a delete ends alone. */
static void test_fork_shared_offer(void **state)
{
	unsigned pb, a_port;

	(void)state;
	offer("fs", "a");
	pb = reply_sdp_port();
	a_port = fork_answer("fs", "t1", NULL, SDP_B);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 5000);
	assert_int_equal(fork_answer("fs", "t2", NULL, SDP_B2), a_port);
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 6000);
	assert_int_equal(flow_at(pb)->out, flow_id(a_port));
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	assert_true(has_tag("fs", "t1") && has_tag("fs", "t2"));
	/* the first fork answers again (its 200 after the other's 183): the flows are its own */
	fork_answer("fs", "t1", NULL, SDP_B);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 5000);
	fork_answer("fs", "t2", NULL, SDP_B2);
	/* the active fork ends: the ports go on for the one left, with its SDP */
	RUN(S("command", "delete"), S("call-id", "fs"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 5000);
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	assert_false(has_tag("fs", "t2"));
	assert_true(has_tag("fs", "t1"));
	RUN(S("command", "delete"), S("call-id", "fs"), S("from-tag", "a"), S("to-tag", "t1"),
	    S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(1), 50);
}

/* A losing fork's ports are freed; the shared ones stay with the winner. */
static void test_fork_shared_loser_deleted(void **state)
{
	unsigned pb, a_port;

	(void)state;
	offer("fl", "a");
	pb = reply_sdp_port();
	fork_answer("fl", "t1", NULL, SDP_B);
	a_port = fork_answer("fl", "t2", NULL, SDP_B2);
	assert_true(has_tag("fl", "t1"));
	RUN(S("command", "delete"), S("call-id", "fl"), S("from-tag", "a"), S("to-tag", "t1"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 6000);
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	assert_false(has_tag("fl", "t1"));
}

/* A losing fork's sendonly early media do not put the call on hold (silent timeout). */
static void test_fork_loser_not_hold(void **state)
{
	uint64_t t0 = loop_now_ms(E->loop);

	(void)state;
	fork_offer("ft", "z9hG4bK.1");
	fork_offer("ft", "z9hG4bK.2");
	fork_answer("ft", "t1", "z9hG4bK.1", SDP_B_SENDONLY);
	fork_answer("ft", "t2", "z9hG4bK.2", SDP_B);
	calls_tick(E->calls, t0 + 30000);
	assert_int_equal(calls_counters(E->calls)->current, 1);
	calls_tick(E->calls, t0 + 61000);
	assert_int_equal(calls_counters(E->calls)->current, 0);
	assert_int_equal(calls_counters(E->calls)->ended[CALL_END_TIMEOUT], 1);
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(1), 50);
}

/* A fork whose ports are lent (one offer, the other fork answered last) sends its own offer (an
 * UPDATE in its early dialogue): it takes its offer's ports back, as an answer does, instead of
 * opening a pair that the other fork's end (or its next answer) would overwrite and leak. */
static void test_fork_lent_reoffer(void **state)
{
	unsigned pb, a_port;

	(void)state;
	offer("fr", "a");
	pb = reply_sdp_port();
	a_port = fork_answer("fr", "t1", NULL, SDP_B);
	assert_int_equal(fork_answer("fr", "t2", NULL, SDP_B2), a_port);
	assert_int_equal(E->dp.live, 4);
	/* t1's UPDATE: the caller is offered its same port */
	RUN(S("command", "offer"), S("call-id", "fr"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("sdp", SDP_B));
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), a_port);
	assert_int_equal(E->dp.live, 4);
	/* the caller's answer: t1 is told the ports it was offered, its flows are t1's */
	RUN(S("command", "answer"), S("call-id", "fr"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("sdp", SDP_A));
	assert_result("ok");
	assert_int_equal(reply_sdp_port(), pb);
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(sa_port(&flow_at(pb)->p.latch.expected), 5000);
	assert_int_equal(flow_at(pb)->out, flow_id(a_port));
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	/* t1 answers again (its 200), then t2 ends: t1's media keep reaching the caller */
	fork_answer("fr", "t1", NULL, SDP_B);
	RUN(S("command", "delete"), S("call-id", "fr"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(free_ports(1), 49);
	assert_int_equal(flow_at(pb)->out, flow_id(a_port));
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	RUN(S("command", "delete"), S("call-id", "fr"), S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

/* The review's sequence, checking only the accounting: with the pair t1's UPDATE opened
 * overwritten when t2 ends, 2 ports and 2 flows outlived the call. */
static void test_fork_lent_reoffer_leak(void **state)
{
	(void)state;
	offer("fh", "a");
	fork_answer("fh", "t1", NULL, SDP_B);
	fork_answer("fh", "t2", NULL, SDP_B2);
	RUN(S("command", "offer"), S("call-id", "fh"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("sdp", SDP_B));
	assert_result("ok");
	RUN(S("command", "answer"), S("call-id", "fh"), S("from-tag", "t1"), S("to-tag", "a"),
	    S("sdp", SDP_A));
	assert_result("ok");
	RUN(S("command", "delete"), S("call-id", "fh"), S("from-tag", "a"), S("to-tag", "t2"),
	    S("delete-delay", "0"));
	assert_result("ok");
	RUN(S("command", "delete"), S("call-id", "fh"), S("delete-delay", "0"));
	assert_result("ok");
	assert_int_equal(calls_counters(E->calls)->current, 0);
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 50);
	assert_int_equal(free_ports(1), 50);
}

/* RTCP multiplexed on one side only: the relay demultiplexes (dataplane RTCP links). */
static void test_rtcp_mux_one_side(void **state)
{
	struct fake_flow *a_rtp, *a_rtcp, *b_rtp, *b_rtcp;
	unsigned b_port, a_port;

	(void)state;
	/* the caller muxes, the callee is not offered mux (demux): the caller keeps it */
	RUN(S("command", "offer"), S("call-id", "dm"), S("from-tag", "a"), S("sdp", SDP_A_MUX),
	    L("rtcp-mux", "demux"));
	assert_false(reply_sdp_has("a=rtcp-mux"));
	b_port = reply_sdp_port();
	RUN(S("command", "answer"), S("call-id", "dm"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B));
	assert_result("ok");
	assert_true(reply_sdp_has("a=rtcp-mux"));
	a_port = reply_sdp_port();
	a_rtp = flow_at(a_port);
	a_rtcp = flow_at(a_port + 1);
	b_rtp = flow_at(b_port);
	b_rtcp = flow_at(b_port + 1);
	assert_int_equal(a_rtp->out, flow_id(b_port));
	assert_int_equal(a_rtp->out_rtcp, flow_id(b_port + 1)); /* A's RTCP to B's RTCP port */
	assert_int_equal(b_rtcp->out, flow_id(a_port));		/* B's RTCP to A's RTP port */
	assert_int_equal(b_rtp->out_rtcp, 0);
	assert_int_equal(sa_port(&a_rtcp->p.latch.expected), 4000);

	/* the other way: the callee is offered mux the caller did not offer, and takes it */
	RUN(S("command", "offer"), S("call-id", "om"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("rtcp-mux", "offer"));
	b_port = reply_sdp_port();
	RUN(S("command", "answer"), S("call-id", "om"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B_MUX));
	assert_false(reply_sdp_has("a=rtcp-mux"));
	a_port = reply_sdp_port();
	assert_int_equal(flow_at(b_port)->out_rtcp, flow_id(a_port + 1));
	assert_int_equal(flow_at(a_port + 1)->out, flow_id(b_port));
	assert_int_equal(flow_at(a_port)->out_rtcp, 0);

	/* both mux: RTCP goes with the RTP */
	RUN(S("command", "offer"), S("call-id", "bm"), S("from-tag", "a"), S("sdp", SDP_A_MUX));
	b_port = reply_sdp_port();
	RUN(S("command", "answer"), S("call-id", "bm"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B_MUX));
	assert_true(reply_sdp_has("a=rtcp-mux"));
	a_port = reply_sdp_port();
	assert_int_equal(flow_at(a_port)->out_rtcp, 0);
	assert_int_equal(flow_at(b_port)->out_rtcp, 0);
	assert_int_equal(flow_at(a_port)->out, flow_id(b_port));

	/* a dataplane that cannot demultiplex (no flow_link_rtcp): the caller is told no mux */
	{
		static struct dataplane_ops no_rtcp;

		no_rtcp = fake_dp_ops;
		no_rtcp.flow_link_rtcp = NULL;
		E->dp.base.ops = &no_rtcp;
	}
	RUN(S("command", "offer"), S("call-id", "nd"), S("from-tag", "a"), S("sdp", SDP_A_MUX),
	    L("rtcp-mux", "demux"));
	RUN(S("command", "answer"), S("call-id", "nd"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B));
	assert_result("ok");
	assert_false(reply_sdp_has("a=rtcp-mux"));
	E->dp.base.ops = &fake_dp_ops;
}

/* A fork the relay could not set up leaves nothing behind; the call and its first fork stay.
 * Forks not answered yet are listed by their via-branch. */
static void test_fork_failed_offer(void **state)
{
	struct calls_conf cc = { .nifaces = 1, .limits.timeout_ms = 60000 };

	(void)state;
	teardown(NULL);
	env_open(&cc); /* access: 30000-30003, two pairs */
	RUN(S("command", "offer"), S("call-id", "ff"), S("from-tag", "a"),
	    S("via-branch", "z9hG4bK.1"), S("sdp", SDP_A));
	assert_result("ok");
	RUN(S("command", "offer"), S("call-id", "ff"), S("from-tag", "a"),
	    S("via-branch", "z9hG4bK.2"), S("sdp", SDP_A));
	assert_error("Ran out of ports");
	assert_int_equal(E->dp.live, 4);
	RUN(S("command", "query"), S("call-id", "ff"));
	assert_result("ok");
	assert_int_equal(get(E->root, "tags")->count, 2);
	assert_non_null(get(get(E->root, "tags"), "z9hG4bK.1"));
	assert_null(get(get(E->root, "tags"), "z9hG4bK.2"));
	/* the answer of the fork that is there still works */
	RUN(S("command", "answer"), S("call-id", "ff"), S("from-tag", "a"), S("to-tag", "t1"),
	    S("via-branch", "z9hG4bK.1"), S("sdp", SDP_B));
	assert_result("ok");
	/* tags of no fork of this caller: errors, nothing changes */
	RUN(S("command", "answer"), S("call-id", "ff"), S("from-tag", "a"), S("to-tag", "a"),
	    S("sdp", SDP_B));
	assert_error("from-tag and to-tag are the same");
	RUN(S("command", "delete"), S("call-id", "ff"), S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 2);
}

/* An offer with a new from-tag that fails leaves no monologue for that tag behind: neither when
 * the call has no room for its peer, nor when the peer's ports could not be opened (the
 * offerer's were). */
static void test_failed_offer_new_from_tag(void **state)
{
	struct calls_conf cc = { .nifaces = 1, .limits.timeout_ms = 60000 };
	unsigned pb, a_port;
	char vb[16];

	(void)state;
	for (unsigned i = 1; i <= 6; i++) {
		snprintf(vb, sizeof(vb), "z9hG4bK.%u", i);
		fork_offer("fm", vb);
	}
	RUN(S("command", "offer"), S("call-id", "fm"), S("from-tag", "x"), S("sdp", SDP_A));
	assert_error("Too many tags in call");
	RUN(S("command", "query"), S("call-id", "fm"));
	assert_int_equal(get(E->root, "tags")->count, 7);
	assert_null(get(get(E->root, "tags"), "x"));
	/* the slot it took is free: one more branch fits */
	fork_offer("fm", "z9hG4bK.7");

	teardown(NULL);
	env_open(&cc); /* access: 30000-30003, two pairs */
	/* the caller on access, its fork on core */
	fork_offer("fo", "z9hG4bK.1");
	assert_int_equal(free_ports(0), 1);
	RUN(S("command", "offer"), S("call-id", "fo"), S("from-tag", "x"), S("sdp", SDP_A),
	    L("direction", "access", "access"));
	assert_error("Ran out of ports");
	assert_int_equal(E->dp.live, 4);
	assert_int_equal(free_ports(0), 1);
	assert_false(has_tag("fo", "x"));
	RUN(S("command", "delete"), S("call-id", "fo"), S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 2);

	/* a new from-tag naming b took b as its peer, and linked b's media to its own before
	 * b's third media found no port: b's media go back to the caller */
	RUN(S("command", "offer"), S("call-id", "fb"), S("from-tag", "a"), S("sdp", SDP_A),
	    L("direction", "core", "access"));
	pb = reply_sdp_port();
	RUN(S("command", "answer"), S("call-id", "fb"), S("from-tag", "a"), S("to-tag", "b"),
	    S("sdp", SDP_B));
	a_port = reply_sdp_port();
	assert_int_equal(flow_at(pb)->out, flow_id(a_port));
	RUN(S("command", "offer"), S("call-id", "fb"), S("from-tag", "x"), S("to-tag", "b"),
	    S("sdp", SDP_B_TWO "m=audio 5004 RTP/AVP 0\r\n"), L("direction", "core", "access"));
	assert_error("Ran out of ports");
	assert_false(has_tag("fb", "x"));
	assert_int_equal(flow_at(pb)->out, flow_id(a_port));
	assert_int_equal(flow_at(a_port)->out, flow_id(pb));
	RUN(S("command", "delete"), S("call-id", "fb"), S("delete-delay", "0"));
	assert_int_equal(E->dp.live, 0);
	assert_int_equal(free_ports(0), 2);
	assert_int_equal(free_ports(1), 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_answer_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_restarts_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_window_before_sdp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_unknown_from_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_delete_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sdp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spellings_and_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ice_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reoffer_keeps_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_unknown_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_failure_keeps_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_mux_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asymmetric, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sip_source_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_same_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_cache_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reoffer_direction_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_answer_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_teardown_names_offerer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_seeded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_via_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_branch_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_winner_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_pick_latest_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_shared_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_shared_loser_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_loser_not_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_lent_reoffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_lent_reoffer_leak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rtcp_mux_one_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_failed_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_offer_new_from_tag, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
