/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ng client against fake ng servers: UDP sockets on loopback, served from
 * the test's own event loop. Timeouts are short; only order and occurrence are
 * asserted, never timing, and a watchdog turns a hang into a failure.
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
#include <sys/socket.h>
#include <unistd.h>

#include "common/loop.h"
#include "sbc/media/ng_client.h"

#define WATCHDOG_MS 10000
#define TIMEOUT_MS  50
#define TRIES	    3
#define MAX_COOKIES 64

/* --- a fake ng server ---------------------------------------------------- */

enum fake_mode {
	FAKE_OK = 0,	 /* pong to ping, `result: ok` with the request's SDP to the rest */
	FAKE_ERROR,	 /* result: error */
	FAKE_LOAD_LIMIT, /* result: load limit */
};

struct fake {
	struct loop *l;
	int fd;
	struct sa addr;
	enum fake_mode mode;
	bool mute;	    /* never answers */
	unsigned ignore;    /* datagrams dropped before answering */
	unsigned malformed; /* datagrams answered with junk (with the right cookie) only */
	bool stale_first;   /* replies with unknown cookies before the real reply */
	unsigned received;  /* datagrams */
	unsigned executed;  /* distinct cookies: what rtpengine would execute */
	unsigned pings;	    /* ping commands among them */
	char cookies[MAX_COOKIES][64];
	char req[4096]; /* the last request's dict */
	size_t req_len;
	struct sa client; /* where the last request came from */
	unsigned acks;	  /* replies to our own commands (notifications) */
	char ack[128];	  /* the last one, cookie included */
};

static bool fake_seen(struct fake *f, const char *cookie)
{
	for (unsigned i = 0; i < f->executed && i < MAX_COOKIES; i++) {
		if (strcmp(f->cookies[i], cookie) == 0)
			return true;
	}
	return false;
}

static void fake_send(struct fake *f, const struct sa *to, const char *cookie, const char *body,
		      size_t len)
{
	char out[8192];
	int n = snprintf(out, sizeof(out), "%s ", cookie);

	assert_true(n > 0 && (size_t)n + len <= sizeof(out));
	memcpy(out + n, body, len);
	assert_int_equal(sendto(f->fd, out, (size_t)n + len, 0, &to->u.sa, to->len),
			 (ssize_t)((size_t)n + len));
}

static void fake_h(int fd, uint32_t events, void *arg)
{
	struct fake *f = arg;
	struct bencode_node nodes[256];
	struct bencode_doc doc;
	char buf[8192], cookie[64], reply[4096];
	struct strv cmd = STRV_NULL, sdp = STRV_NULL;
	struct bencode_buf b;
	struct sa from;
	socklen_t fromlen = sizeof(from.u);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &from.u.sa, &fromlen);
	const char *sp;

	(void)events;
	if (n <= 0)
		return;
	from.len = fromlen;
	f->client = from;
	f->received++;
	sp = memchr(buf, ' ', (size_t)n);
	assert_non_null(sp);
	assert_true(sp - buf < (ptrdiff_t)sizeof(cookie));
	memcpy(cookie, buf, (size_t)(sp - buf));
	cookie[sp - buf] = 0;
	f->req_len = (size_t)n - (size_t)(sp - buf) - 1;
	assert_true(f->req_len <= sizeof(f->req));
	memcpy(f->req, sp + 1, f->req_len);
	bencode_doc_init(&doc, nodes, 256);
	assert_int_equal(bencode_decode(&doc, f->req, f->req_len, NULL, NULL), 0);
	if (!bencode_dict_get_str(&doc, bencode_root(&doc), STRV("command"), &cmd)) {
		/* the client's answer to a notification of ours */
		assert_true((size_t)n < sizeof(f->ack));
		memcpy(f->ack, buf, (size_t)n);
		f->ack[n] = 0;
		f->acks++;
		return;
	}
	bencode_dict_get_str(&doc, bencode_root(&doc), STRV("sdp"), &sdp);
	if (!fake_seen(f, cookie)) {
		/* rtpengine executes a cookie once and answers retransmissions from its cache */
		if (f->executed < MAX_COOKIES)
			strcpy(f->cookies[f->executed], cookie);
		f->executed++;
		if (strv_eq_cstr(cmd, "ping"))
			f->pings++;
	}
	if (f->mute)
		return;
	if (f->ignore) {
		f->ignore--;
		return;
	}
	if (f->malformed) {
		static const char junk[] = "d6:result2:ok"; /* unterminated */

		f->malformed--;
		fake_send(f, &from, cookie, junk, sizeof(junk) - 1);
		assert_int_equal(sendto(f->fd, "nospace", 7, 0, &from.u.sa, from.len), 7);
		return;
	}
	if (f->stale_first) {
		static const char ok[] = "d6:result2:oke";
		char wrong[64];

		/* a foreign prefix, and ours with a sequence number never used */
		f->stale_first = false;
		fake_send(f, &from, "0123456789abcdef-1", ok, sizeof(ok) - 1);
		snprintf(wrong, sizeof(wrong), "%.16s-999999", cookie);
		fake_send(f, &from, wrong, ok, sizeof(ok) - 1);
	}
	bencode_buf_init(&b, reply, sizeof(reply));
	bencode_dict_begin(&b);
	switch (f->mode) {
	case FAKE_OK:
		if (strv_eq_cstr(cmd, "ping")) {
			bencode_dict_put_str(&b, "result", STRV("pong"));
			break;
		}
		bencode_dict_put_str(&b, "result", STRV("ok"));
		if (!strv_empty(sdp))
			bencode_dict_put_str(&b, "sdp", sdp);
		bencode_dict_put_str(&b, "warning", STRV("Unknown flag ignored"));
		break;
	case FAKE_ERROR:
		bencode_dict_put_str(&b, "result", STRV("error"));
		bencode_dict_put_str(&b, "error-reason", STRV("Unknown call-id"));
		break;
	case FAKE_LOAD_LIMIT:
		bencode_dict_put_str(&b, "result", STRV("load limit"));
		break;
	}
	bencode_end(&b);
	assert_true(bencode_buf_finish(&b) > 0);
	fake_send(f, &from, cookie, reply, b.len);
}

static void fake_open(struct fake *f, struct loop *l)
{
	socklen_t len;

	memset(f, 0, sizeof(*f));
	f->l = l;
	assert_int_equal(sa_parse_cstr(&f->addr, "127.0.0.1:0", 0), 0);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, &f->addr.u.sa, f->addr.len), 0);
	len = sizeof(f->addr.u);
	assert_int_equal(getsockname(f->fd, &f->addr.u.sa, &len), 0);
	f->addr.len = len;
	assert_int_equal(loop_fd_add(l, f->fd, EPOLLIN, fake_h, f), 0);
}

static void fake_close(struct fake *f)
{
	loop_fd_remove(f->l, f->fd);
	close(f->fd);
}

/* --- fixture ------------------------------------------------------------- */

struct fixture {
	struct loop *l;
	struct timer watchdog;
	struct ng_client *c;
	struct fake fk[2];
};

static void watchdog_h(void *arg)
{
	(void)arg;
	fail_msg("watchdog: the test did not finish within %d ms", WATCHDOG_MS);
}

static int setup_opts(void **state, uint32_t probe_ms)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ng_client_opts o = {
		.timeout_ms = TIMEOUT_MS,
		.tries = TRIES,
		.probe_interval_ms = probe_ms,
	};

	if (!f || loop_alloc(&f->l))
		return -1;
	timer_init(&f->watchdog);
	if (timer_start(loop_timers(f->l), &f->watchdog, WATCHDOG_MS, watchdog_h, NULL))
		return -1;
	if (ng_client_alloc(&f->c, f->l, &o))
		return -1;
	for (int i = 0; i < 2; i++) {
		int id = -1;

		fake_open(&f->fk[i], f->l);
		if (ng_client_node_add(f->c, &f->fk[i].addr, 0, &id) || id != i)
			return -1;
	}
	*state = f;
	return 0;
}

/* probes slower than any test: nodes stay down once down */
static int setup(void **state)
{
	return setup_opts(state, 60000);
}

static int setup_fast_probe(void **state)
{
	return setup_opts(state, 50);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ng_client_free(f->c);
	fake_close(&f->fk[0]);
	fake_close(&f->fk[1]);
	timer_cancel(loop_timers(f->l), &f->watchdog);
	loop_free(f->l);
	free(f);
	return 0;
}

/* --- completion recorder ------------------------------------------------- */

struct result {
	struct fixture *f;
	unsigned calls;
	int err;
	int node;
	struct ng_reply rep;
	char sdp[1024];
	char reason[128];
	char warning[128];
	bool stop;
};

static void result_h(void *arg, int err, const struct bencode_doc *reply,
		     const struct bencode_node *dict)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	r->node = ng_client_cb_node(r->f->c);
	memset(&r->rep, 0, sizeof(r->rep));
	r->sdp[0] = r->reason[0] = r->warning[0] = 0;
	if (reply) {
		assert_non_null(dict);
		assert_int_equal(ng_reply_parse(reply, dict, &r->rep), 0);
		strv_copy(r->rep.sdp, r->sdp, sizeof(r->sdp));
		strv_copy(r->rep.error_reason, r->reason, sizeof(r->reason));
		strv_copy(r->rep.warning, r->warning, sizeof(r->warning));
		/* the views die with the callback */
		r->rep.sdp = r->rep.error_reason = r->rep.warning = r->rep.result_str = STRV_NULL;
	} else {
		assert_null(dict);
	}
	if (r->stop)
		loop_stop(r->f->l);
}

static void run_until_done(struct fixture *f, struct result *r)
{
	while (r->calls == 0)
		assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r->calls, 1);
}

/* Runs the loop until @p pred holds, checking every few milliseconds. */
struct waiter {
	struct fixture *f;
	struct timer t;
	bool (*pred)(struct fixture *f);
};

static void waiter_h(void *arg)
{
	struct waiter *w = arg;

	if (w->pred(w->f))
		loop_stop(w->f->l);
	else
		assert_int_equal(timer_start(loop_timers(w->f->l), &w->t, 5, waiter_h, w), 0);
}

static void run_until(struct fixture *f, bool (*pred)(struct fixture *f))
{
	struct waiter w = { .f = f, .pred = pred };

	timer_init(&w.t);
	assert_int_equal(timer_start(loop_timers(f->l), &w.t, 0, waiter_h, &w), 0);
	assert_int_equal(loop_run(f->l), 0);
	timer_cancel(loop_timers(f->l), &w.t);
}

static struct result result_new(struct fixture *f)
{
	return (struct result){ .f = f, .stop = true, .node = -2 };
}

#define OFFER_SDP                         \
	"v=0\r\n"                         \
	"o=- 1 1 IN IP4 192.168.1.10\r\n" \
	"s=-\r\n"                         \
	"c=IN IP4 192.168.1.10\r\n"       \
	"t=0 0\r\n"                       \
	"m=audio 4000 RTP/AVP 0 8\r\n"
static const char offer_sdp[] = OFFER_SDP;

static struct ng_cmd offer_cmd(void)
{
	return (struct ng_cmd){
		.command = NG_CMD_OFFER,
		.call_id = STRV("call-1@example.org"),
		.from_tag = STRV("ftag"),
		.via_branch = STRV("z9hG4bK.1"),
		.sdp = STRV(OFFER_SDP),
	};
}

/* --- tests --------------------------------------------------------------- */

static void test_ping_pong(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);

	assert_int_equal(ng_client_ping(f->c, NG_NODE_ANY, result_h, &r, NULL), 0);
	assert_int_equal(r.calls, 0); /* never from inside the request */
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rep.result, NG_RESULT_PONG);
	assert_int_equal(r.node, 0);
	assert_int_equal(ng_client_cb_node(f->c), -1);
	/* counts of cookies, not datagrams: a loaded machine may retransmit */
	assert_int_equal(f->fk[0].executed, 1);
	assert_int_equal(f->fk[0].pings, 1);
	assert_int_equal(ng_client_stats(f->c)->sent, 1);
	assert_int_equal(ng_client_stats(f->c)->replies, 1);
	assert_int_equal(ng_client_node_stats(f->c, 0)->replies, 1);
	assert_true(ng_client_node_stats(f->c, 0)->up);
}

static void test_offer_sdp_round_trip(void **state)
{
	static const struct strv flags[] = { STRV("trust-address"), STRV("symmetric") };
	static const struct strv replace[] = { STRV("origin"), STRV("session-connection") };
	static const struct strv dir[] = { STRV("access"), STRV("core") };
	static const struct strv mux[] = { STRV("demux") };
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();
	struct bencode_node nodes[128];
	struct bencode_doc doc;
	const struct bencode_node *d, *v, *it;
	struct strv s;
	struct sa src;
	int node;

	assert_int_equal(sa_parse_cstr(&src, "203.0.113.7:5060", 0), 0);
	cmd.flags = flags;
	cmd.nflags = 2;
	cmd.replace = replace;
	cmd.nreplace = 2;
	cmd.direction = dir;
	cmd.ndirection = 2;
	cmd.rtcp_mux = mux;
	cmd.nrtcp_mux = 1;
	cmd.received_from = &src;
	cmd.ice = STRV("remove");
	cmd.transport_protocol = STRV("RTP/AVP");
	cmd.label = STRV("caller");
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rep.result, NG_RESULT_OK);
	assert_string_equal(r.sdp, offer_sdp);
	assert_string_equal(r.warning, "Unknown flag ignored");
	node = r.node;
	assert_int_equal(node, 0);

	/* what the server got */
	bencode_doc_init(&doc, nodes, 128);
	assert_int_equal(bencode_decode(&doc, f->fk[0].req, f->fk[0].req_len, NULL, NULL), 0);
	d = bencode_root(&doc);
	assert_true(bencode_dict_get_str(&doc, d, STRV("command"), &s) && strv_eq_cstr(s, "offer"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("call-id"), &s) &&
		    strv_eq_cstr(s, "call-1@example.org"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("from-tag"), &s) && strv_eq_cstr(s, "ftag"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("via-branch"), &s) &&
		    strv_eq_cstr(s, "z9hG4bK.1"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("ICE"), &s) && strv_eq_cstr(s, "remove"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("transport-protocol"), &s) &&
		    strv_eq_cstr(s, "RTP/AVP"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("label"), &s) && strv_eq_cstr(s, "caller"));
	assert_true(bencode_dict_get_str(&doc, d, STRV("sdp"), &s) && strv_eq_cstr(s, offer_sdp));
	assert_null(bencode_dict_get(&doc, d, STRV("to-tag")));
	v = bencode_dict_get(&doc, d, STRV("received-from"));
	assert_non_null(v);
	assert_int_equal(v->type, BENCODE_LIST);
	it = bencode_first(&doc, v);
	assert_true(strv_eq_cstr(it->v.s, "IP4"));
	it = bencode_next(&doc, it);
	assert_true(strv_eq_cstr(it->v.s, "203.0.113.7"));
	v = bencode_dict_get(&doc, d, STRV("flags"));
	assert_int_equal(v->count, 2);
	assert_true(strv_eq_cstr(bencode_first(&doc, v)->v.s, "trust-address"));
	v = bencode_dict_get(&doc, d, STRV("replace"));
	assert_int_equal(v->count, 2);
	assert_true(
	    strv_eq_cstr(bencode_next(&doc, bencode_first(&doc, v))->v.s, "session-connection"));
	v = bencode_dict_get(&doc, d, STRV("direction"));
	assert_int_equal(v->count, 2);
	assert_true(strv_eq_cstr(bencode_first(&doc, v)->v.s, "access"));
	v = bencode_dict_get(&doc, d, STRV("rtcp-mux"));
	assert_int_equal(v->count, 1);

	/* the answer goes where the offer went, whatever round robin would pick */
	r = result_new(f);
	cmd = offer_cmd();
	cmd.command = NG_CMD_ANSWER;
	cmd.to_tag = STRV("ttag");
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), -EINVAL);
	assert_int_equal(ng_client_request(f->c, &cmd, node, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.node, node);
	assert_string_equal(r.sdp, offer_sdp);
	assert_int_equal(f->fk[0].executed, 2);
	assert_int_equal(f->fk[1].received, 0);
}

static void test_retransmit_same_cookie(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	f->fk[0].ignore = 2; /* the first two datagrams are lost */
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_string_equal(r.sdp, offer_sdp);
	assert_true(f->fk[0].received >= 3);
	assert_int_equal(f->fk[0].executed, 1); /* one cookie for all datagrams */
	assert_int_equal(ng_client_stats(f->c)->sent, 1);
	assert_int_equal(ng_client_stats(f->c)->retransmits, f->fk[0].received - 1);
	assert_int_equal(ng_client_stats(f->c)->timeouts, 0);
	assert_int_equal(ng_client_node_stats(f->c, 0)->sent, f->fk[0].received);
	assert_int_equal(ng_client_node_stats(f->c, 0)->retransmits, f->fk[0].received - 1);
	assert_true(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(f->fk[1].received, 0);
}

static void test_failover(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	f->fk[0].mute = true;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.node, 1);
	assert_string_equal(r.sdp, offer_sdp);
	assert_int_equal(f->fk[0].received, TRIES);
	assert_int_equal(f->fk[0].executed, 1);
	assert_int_equal(f->fk[1].executed, 1);
	/* a fresh cookie on the new node: a late reply of the first one is stale */
	assert_string_not_equal(f->fk[0].cookies[0], f->fk[1].cookies[0]);
	assert_false(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(ng_client_node_stats(f->c, 0)->downs, 1);
	assert_int_equal(ng_client_node_stats(f->c, 0)->timeouts, 1);
	assert_true(ng_client_node_stats(f->c, 1)->up);
	assert_int_equal(ng_client_stats(f->c)->timeouts, 1);
	assert_int_equal(ng_client_stats(f->c)->sent, 2);

	/* the next ones skip the down node */
	for (int i = 0; i < 3; i++) {
		r = result_new(f);
		assert_int_equal(ng_client_ping(f->c, NG_NODE_ANY, result_h, &r, NULL), 0);
		run_until_done(f, &r);
		assert_int_equal(r.err, 0);
		assert_int_equal(r.node, 1);
	}
	assert_int_equal(f->fk[0].received, TRIES);
}

static void test_pinned_no_failover(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	/* a call's delete never moves to another node; it times out where the call is */
	f->fk[0].mute = true;
	cmd.command = NG_CMD_DELETE;
	cmd.sdp = STRV_NULL;
	assert_int_equal(ng_client_request(f->c, &cmd, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.node, 0);
	assert_int_equal(f->fk[0].received, TRIES);
	assert_int_equal(f->fk[1].received, 0);
	assert_false(ng_client_node_stats(f->c, 0)->up);

	/* pinned to a node marked down: still sent, and its answer brings it back */
	f->fk[0].mute = false;
	r = result_new(f);
	assert_int_equal(ng_client_request(f->c, &cmd, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.node, 0);
	assert_true(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(ng_client_node_stats(f->c, 0)->ups, 1);

	assert_int_equal(ng_client_request(f->c, &cmd, 2, result_h, &r, NULL), -EINVAL);
	assert_int_equal(ng_client_request(f->c, &cmd, -5, result_h, &r, NULL), -EINVAL);
}

static bool node0_up(struct fixture *f)
{
	return ng_client_node_stats(f->c, 0)->up;
}

static bool node0_two_more_probes(struct fixture *f)
{
	return f->fk[0].pings >= 2;
}

static void test_probe_back_up(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	unsigned pings_before;

	f->fk[0].mute = true;
	assert_int_equal(ng_client_ping(f->c, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_false(ng_client_node_stats(f->c, 0)->up);
	pings_before = f->fk[0].pings;

	/* the node recovers; the client notices by its own probes, with no request */
	f->fk[0].mute = false;
	run_until(f, node0_up);
	assert_true(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(ng_client_node_stats(f->c, 0)->ups, 1);
	assert_true(f->fk[0].pings > pings_before);

	r = result_new(f);
	assert_int_equal(ng_client_ping(f->c, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
}

static void test_probe_while_dead(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	/* a dead node keeps being probed, one ping at a time, and stays down */
	f->fk[0].mute = true;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.node, 1);
	assert_int_equal(f->fk[0].executed, 1);
	assert_int_equal(f->fk[0].pings, 0);
	run_until(f, node0_two_more_probes);
	assert_false(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(ng_client_node_stats(f->c, 0)->downs, 1);
	/* one probe at a time: the second starts after all the tries of the first */
	assert_true(f->fk[0].received >= TRIES + TRIES + 1);
	assert_int_equal(f->fk[0].executed, 1 + f->fk[0].pings);
	assert_int_equal(f->fk[1].pings, 0);
}

static void test_all_down_unreachable(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();
	unsigned rx0, rx1;

	f->fk[0].mute = true;
	f->fk[1].mute = true;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.node, 1);
	assert_false(ng_client_node_stats(f->c, 0)->up);
	assert_false(ng_client_node_stats(f->c, 1)->up);

	/* now nobody is up: refused without a datagram and without waiting */
	rx0 = f->fk[0].received;
	rx1 = f->fk[1].received;
	r = result_new(f);
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(loop_run(f->l), 0); /* one iteration: the 0 ms timer */
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -EHOSTUNREACH);
	assert_int_equal(r.node, -1);
	assert_int_equal(f->fk[0].received, rx0);
	assert_int_equal(f->fk[1].received, rx1);
	assert_int_equal(ng_client_stats(f->c)->unreachable, 1);
}

static void test_result_error(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	f->fk[0].mode = FAKE_ERROR;
	cmd.command = NG_CMD_QUERY;
	assert_int_equal(ng_client_request(f->c, &cmd, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, -EPROTO);
	assert_int_equal(r.rep.result, NG_RESULT_ERROR);
	assert_string_equal(r.reason, "Unknown call-id");
	assert_int_equal(ng_client_stats(f->c)->errors, 1);
	/* an error is an answer: the node is fine, and nothing moves elsewhere */
	assert_true(ng_client_node_stats(f->c, 0)->up);
	assert_int_equal(f->fk[1].received, 0);
}

static void test_load_limit_failover(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();

	f->fk[0].mode = FAKE_LOAD_LIMIT;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.node, 1);
	assert_true(ng_client_node_stats(f->c, 0)->up); /* busy is not down */
	assert_int_equal(ng_client_stats(f->c)->load_limit, 1);

	/* both busy: the last node's reply is delivered */
	f->fk[1].mode = FAKE_LOAD_LIMIT;
	r = result_new(f);
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, -EBUSY);
	assert_int_equal(r.rep.result, NG_RESULT_LOAD_LIMIT);
}

static void test_malformed_ignored(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);

	/* the first datagram gets junk only; the retransmission a good reply */
	f->fk[0].malformed = 1;
	assert_int_equal(ng_client_ping(f->c, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rep.result, NG_RESULT_PONG);
	assert_int_equal(ng_client_stats(f->c)->malformed, 2);
	assert_true(ng_client_stats(f->c)->retransmits >= 1);
	assert_int_equal(ng_client_stats(f->c)->replies, 1);
	assert_int_equal(f->fk[0].executed, 1);
}

static void test_stale_ignored(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);

	f->fk[0].stale_first = true;
	assert_int_equal(ng_client_ping(f->c, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.rep.result, NG_RESULT_PONG);
	assert_true(ng_client_stats(f->c)->stale >= 2);
	assert_int_equal(ng_client_stats(f->c)->replies, 1);
}

static uint64_t stale_before;

static bool one_more_stale(struct fixture *f)
{
	return ng_client_stats(f->c)->stale > stale_before;
}

static void test_late_reply_is_stale(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);

	/* a late second reply (to a retransmission) finds nobody waiting */
	assert_int_equal(ng_client_ping(f->c, 0, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	stale_before = ng_client_stats(f->c)->stale;
	fake_send(&f->fk[0], &f->fk[0].client, f->fk[0].cookies[0], "d6:result4:ponge", 16);
	run_until(f, one_more_stale);
	assert_int_equal(r.calls, 1);
	assert_int_equal(ng_client_stats(f->c)->replies, 1);
	assert_int_equal(ng_client_stats(f->c)->malformed, 0);
}

static void cancel_h(void *arg, int err, const struct bencode_doc *reply,
		     const struct bencode_node *dict)
{
	(void)arg;
	(void)err;
	(void)reply;
	(void)dict;
	fail_msg("a cancelled request's callback ran");
}

static void test_cancel_and_free(void **state)
{
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct ng_cmd cmd = offer_cmd();
	struct ng_req *req = NULL;

	f->fk[0].ignore = 1;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, cancel_h, NULL, &req), 0);
	assert_non_null(req);
	ng_client_cancel(f->c, req);
	/* runs past the cancelled request's timeout */
	f->fk[1].ignore = 1;
	assert_int_equal(ng_client_ping(f->c, 1, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	assert_int_equal(r.err, 0);

	/* pending at free: dropped without callbacks (ASan sees any leak) */
	f->fk[0].mute = true;
	assert_int_equal(ng_client_ping(f->c, 0, cancel_h, NULL, NULL), 0);
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, cancel_h, NULL, NULL), 0);
}

struct notice {
	unsigned calls;
	int node;
	char command[32], call_id[64], reason[32];
};

static void notify_h(void *arg, int node, struct strv command, const struct bencode_doc *doc,
		     const struct bencode_node *dict)
{
	struct notice *nt = arg;
	struct strv v;

	nt->calls++;
	nt->node = node;
	strv_copy(command, nt->command, sizeof(nt->command));
	if (bencode_dict_get_str(doc, dict, STRV("call-id"), &v))
		strv_copy(v, nt->call_id, sizeof(nt->call_id));
	if (bencode_dict_get_str(doc, dict, STRV("reason"), &v))
		strv_copy(v, nt->reason, sizeof(nt->reason));
}

static struct notice *notice_seen;

static bool notified(struct fixture *f)
{
	return notice_seen->calls > 0 && f->fk[1].acks > 0;
}

static bool unsolicited_counted(struct fixture *f)
{
	return ng_client_stats(f->c)->unsolicited > 0;
}

/*
 * Our rtpengine's teardown after a media timeout: a command from the node's
 * ng socket to ours, answered `result: ok` with its cookie and handed to the
 * notify handler; the same from an address that is no node is dropped.
 */
static void test_teardown_notification(void **state)
{
	static const char td[] = "d7:command8:teardown7:call-id6:call-a8:from-tag1:a"
				 "6:reason7:timeoute";
	struct fixture *f = *state;
	struct result r = result_new(f);
	struct notice nt = { 0 };
	struct fake stranger;

	ng_client_set_notify_h(f->c, notify_h, &nt);
	notice_seen = &nt;
	/* a ping first, so that the fake nodes know the client's address */
	assert_int_equal(ng_client_ping(f->c, 1, result_h, &r, NULL), 0);
	run_until_done(f, &r);
	fake_send(&f->fk[1], &f->fk[1].client, "td-1", td, sizeof(td) - 1);
	run_until(f, notified);
	assert_int_equal(nt.calls, 1);
	assert_int_equal(nt.node, 1);
	assert_string_equal(nt.command, "teardown");
	assert_string_equal(nt.call_id, "call-a");
	assert_string_equal(nt.reason, "timeout");
	assert_string_equal(f->fk[1].ack, "td-1 d6:result2:oke");
	assert_int_equal(ng_client_stats(f->c)->notifications, 1);
	assert_int_equal(ng_client_stats(f->c)->stale, 0);

	/* the same from a socket that is no node */
	fake_open(&stranger, f->l);
	fake_send(&stranger, &f->fk[1].client, "td-2", td, sizeof(td) - 1);
	run_until(f, unsolicited_counted);
	assert_int_equal(nt.calls, 1);
	assert_int_equal(ng_client_stats(f->c)->notifications, 1);
	fake_close(&stranger);
	assert_int_equal(stranger.acks, 0);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	struct ng_cmd cmd = offer_cmd();
	char *big = malloc(70000);
	struct sa a;

	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, NULL, NULL, NULL), -EINVAL);
	cmd.command = (enum ng_command)42;
	assert_int_equal(ng_client_request(f->c, &cmd, 0, cancel_h, NULL, NULL), -EINVAL);
	cmd = offer_cmd();
	cmd.command = NG_CMD_DELETE;
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, cancel_h, NULL, NULL), -EINVAL);
	cmd = offer_cmd();
	assert_non_null(big);
	memset(big, 'a', 70000);
	cmd.sdp = strv_make(big, 70000);
	assert_int_equal(ng_client_request(f->c, &cmd, NG_NODE_ANY, cancel_h, NULL, NULL),
			 -EMSGSIZE);
	free(big);

	assert_int_equal(ng_client_node_add(f->c, &f->fk[0].addr, 1, NULL), -EEXIST);
	assert_int_equal(sa_parse_cstr(&a, "127.0.0.1", 0), 0);
	assert_int_equal(ng_client_node_add(f->c, &a, 1, NULL), -EINVAL);
	sa_init(&a);
	assert_int_equal(ng_client_node_add(f->c, &a, 1, NULL), -EINVAL);
	assert_int_equal(ng_client_node_count(f->c), 2);
	assert_null(ng_client_node_stats(f->c, 2));
	assert_null(ng_client_node_addr(f->c, -1));
	assert_true(sa_equal(ng_client_node_addr(f->c, 1), &f->fk[1].addr));
	assert_int_equal(ng_client_stats(f->c)->requests, 0);
}

static void test_weights(void **state)
{
	struct fixture *f = *state;
	struct ng_client *c;
	struct ng_client_opts o = { .timeout_ms = TIMEOUT_MS };
	unsigned per_node[2] = { 0, 0 };
	int id;

	/* node 0 weighs 3, node 1 weighs 1: 3 of every 4 pings go to node 0 */
	assert_int_equal(ng_client_alloc(&c, f->l, &o), 0);
	assert_int_equal(ng_client_node_add(c, &f->fk[0].addr, 3, &id), 0);
	assert_int_equal(ng_client_node_add(c, &f->fk[1].addr, 1, &id), 0);
	assert_int_equal(id, 1);
	for (int i = 0; i < 8; i++) {
		struct result r = { .f = f, .stop = true };
		struct ng_client *saved = f->c;

		f->c = c; /* result_h asks f->c for the node */
		assert_int_equal(ng_client_ping(c, NG_NODE_ANY, result_h, &r, NULL), 0);
		run_until_done(f, &r);
		f->c = saved;
		assert_int_equal(r.err, 0);
		per_node[r.node]++;
	}
	assert_int_equal(per_node[0], 6);
	assert_int_equal(per_node[1], 2);
	ng_client_free(c);
}

static void test_encode(void **state)
{
	static const struct strv flags[] = { STRV("trust-address") };
	struct ng_cmd cmd = {
		.command = NG_CMD_DELETE,
		.call_id = STRV("c1"),
		.from_tag = STRV("f1"),
		.flags = flags,
		.nflags = 1,
		.extra = STRV("12:delete-delayi0e"),
	};
	char buf[256];
	struct bencode_buf b;
	struct sa a6;

	(void)state;
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(ng_cmd_encode(&b, &cmd), 0);
	assert_int_equal(bencode_buf_finish(&b), (int)b.len);
	assert_memory_equal(buf,
			    "d7:command6:delete7:call-id2:c18:from-tag2:f1"
			    "5:flagsl13:trust-addresse12:delete-delayi0ee",
			    b.len);

	assert_int_equal(sa_parse_cstr(&a6, "[2001:db8::1]:5060", 0), 0);
	cmd = (struct ng_cmd){ .command = NG_CMD_PING, .received_from = &a6 };
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(ng_cmd_encode(&b, &cmd), 0);
	assert_int_equal(bencode_buf_finish(&b), (int)b.len);
	assert_memory_equal(buf, "d7:command4:ping13:received-froml3:IP611:2001:db8::1ee", b.len);
}

static void test_reply_parse(void **state)
{
	static const char in[] = "d6:result5:error12:error-reason3:bad7:warning1:we";
	struct bencode_node nodes[16];
	struct bencode_doc doc;
	struct ng_reply rep;

	(void)state;
	bencode_doc_init(&doc, nodes, 16);
	assert_int_equal(bencode_decode(&doc, in, sizeof(in) - 1, NULL, NULL), 0);
	assert_int_equal(ng_reply_parse(&doc, bencode_root(&doc), &rep), 0);
	assert_int_equal(rep.result, NG_RESULT_ERROR);
	assert_true(strv_eq_cstr(rep.error_reason, "bad"));
	assert_true(strv_eq_cstr(rep.warning, "w"));
	assert_true(strv_empty(rep.sdp));

	bencode_doc_init(&doc, nodes, 16);
	assert_int_equal(bencode_decode(&doc, "d6:result3:fooe", 15, NULL, NULL), 0);
	assert_int_equal(ng_reply_parse(&doc, bencode_root(&doc), &rep), 0);
	assert_int_equal(rep.result, NG_RESULT_OTHER);
	bencode_doc_init(&doc, nodes, 16);
	assert_int_equal(bencode_decode(&doc, "li1ee", 5, NULL, NULL), 0);
	assert_int_equal(ng_reply_parse(&doc, bencode_root(&doc), &rep), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test_setup_teardown(test_ping_pong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_sdp_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit_same_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_no_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_back_up, setup_fast_probe, teardown),
		cmocka_unit_test_setup_teardown(test_probe_while_dead, setup_fast_probe, teardown),
		cmocka_unit_test_setup_teardown(test_all_down_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_limit_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_reply_is_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_notification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weights, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
