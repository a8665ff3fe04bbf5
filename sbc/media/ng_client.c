/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ng client: requests, retransmission, failover and node health.
 *
 * A request's life: created (cookie assigned, in the cookie table) -> sent to
 * a node with its retransmission timer running -> either a reply with its
 * cookie arrives, or the timer fires `tries` times. A reply or the last
 * timeout either moves the request to another node (NG_NODE_ANY only: timeout
 * or "load limit"; a fresh cookie, a fresh try count) or completes it. A
 * request that no node can take is failed through a 0 ms timer, so that its
 * callback still runs from the loop. Completing unlinks and frees the request
 * after its callback returns; cancelling does the same without the callback.
 *
 * Every live request, sent or not, is in the cookie table (buckets by
 * sequence number), so that ng_client_free finds them all. Each request owns
 * exactly one timer; each node owns its probe timer.
 *
 * Node state: up (initially) -> down when a request's last try to it times
 * out; while down, a probe timer starts a pinned `ping` every
 * probe_interval_ms (at most one in flight); any matched reply from the node
 * marks it up and stops the probing.
 */
#include "ng_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"

#define NG_BUCKETS	  1024 /* power of two */
#define NG_RX_BURST	  64
#define NG_RX_MAX	  65536
#define NG_COOKIE_PREFIX  16 /* hex digits */
#define NG_COOKIE_MAX	  40 /* prefix '-' up to 20 digits, NUL */
#define NG_DEF_TIMEOUT_MS 500
#define NG_DEF_TRIES	  3
#define NG_DEF_PROBE_MS	  10000
#define NG_BODY_MAX	  (NG_CLIENT_MAX_DATAGRAM - NG_COOKIE_MAX)

struct ng_node {
	struct ng_client *c;
	struct sa addr;
	uint32_t weight;
	int64_t cw; /* smooth weighted round robin: current weight */
	int fd;	    /* the socket of the address family */
	int id;
	bool probing; /* a probe ping is in flight */
	struct timer probe;
	struct ng_node_stats st;
};

struct ng_req {
	struct ng_client *c;
	struct ng_req *next; /* cookie table chain */
	struct ng_req **pprev;
	uint64_t seq;
	ng_client_h *h;
	void *arg;
	struct timer tmr;
	int node;	/* current node, -1 before any */
	bool pinned;	/* never fails over */
	unsigned tries; /* datagrams sent to the current node */
	uint64_t tried; /* nodes tried, by bit */
	int fail_err;	/* != 0: to be failed with this from the timer */
	uint8_t cookie_len;
	char cookie[NG_COOKIE_MAX]; /* cookie and ' ' */
	size_t len;
	char body[]; /* the encoded dict */
};

struct ng_client {
	struct loop *loop;
	struct ng_client_opts o;
	char prefix[NG_COOKIE_PREFIX + 1];
	uint64_t seq;
	int fd4, fd6;
	int cb_node;
	unsigned nnodes;
	struct ng_node nodes[NG_CLIENT_MAX_NODES];
	struct ng_req *buckets[NG_BUCKETS];
	struct ng_client_stats st;
	ng_client_notify_h *notify_h;
	void *notify_arg;
	struct log_ratelimit rl;
	struct bencode_node dnodes[NG_CLIENT_MAX_REPLY_NODES];
	char enc[NG_BODY_MAX];
	char rx[NG_RX_MAX];
};

static const char *const cmd_names[] = {
	[NG_CMD_PING] = "ping",	    [NG_CMD_OFFER] = "offer", [NG_CMD_ANSWER] = "answer",
	[NG_CMD_DELETE] = "delete", [NG_CMD_QUERY] = "query",
};

static void req_timer_h(void *arg);
static void probe_timer_h(void *arg);

/* --- encoding ------------------------------------------------------------ */

static void put_opt_str(struct bencode_buf *b, const char *key, struct strv v)
{
	if (!strv_empty(v))
		bencode_dict_put_str(b, key, v);
}

static void put_opt_list(struct bencode_buf *b, const char *key, const struct strv *v, unsigned n)
{
	if (!v || !n)
		return;
	bencode_put_cstr(b, key);
	bencode_list_begin(b);
	for (unsigned i = 0; i < n; i++)
		bencode_put_str(b, v[i]);
	bencode_end(b);
}

int ng_cmd_encode(struct bencode_buf *b, const struct ng_cmd *cmd)
{
	if ((unsigned)cmd->command >= sizeof(cmd_names) / sizeof(cmd_names[0]))
		return -EINVAL;
	bencode_dict_begin(b);
	bencode_put_cstr(b, "command");
	bencode_put_cstr(b, cmd_names[cmd->command]);
	put_opt_str(b, "call-id", cmd->call_id);
	put_opt_str(b, "from-tag", cmd->from_tag);
	put_opt_str(b, "to-tag", cmd->to_tag);
	put_opt_str(b, "via-branch", cmd->via_branch);
	put_opt_str(b, "label", cmd->label);
	put_opt_str(b, "ICE", cmd->ice);
	put_opt_str(b, "transport-protocol", cmd->transport_protocol);
	if (cmd->received_from && sa_isset(cmd->received_from)) {
		char a[SA_STRLEN];

		bencode_put_cstr(b, "received-from");
		bencode_list_begin(b);
		bencode_put_cstr(b, sa_family(cmd->received_from) == AF_INET6 ? "IP6" : "IP4");
		bencode_put_cstr(b, sa_print_addr(cmd->received_from, a, sizeof(a)));
		bencode_end(b);
	}
	put_opt_list(b, "flags", cmd->flags, cmd->nflags);
	put_opt_list(b, "replace", cmd->replace, cmd->nreplace);
	put_opt_list(b, "direction", cmd->direction, cmd->ndirection);
	put_opt_list(b, "rtcp-mux", cmd->rtcp_mux, cmd->nrtcp_mux);
	if (!strv_empty(cmd->extra))
		bencode_put_raw(b, cmd->extra);
	/* the SDP last: the short keys stay at the front of a capture */
	put_opt_str(b, "sdp", cmd->sdp);
	bencode_end(b);
	return 0;
}

int ng_reply_parse(const struct bencode_doc *doc, const struct bencode_node *dict,
		   struct ng_reply *r)
{
	static const struct {
		const char *s;
		enum ng_result res;
	} results[] = {
		{ "ok", NG_RESULT_OK },
		{ "pong", NG_RESULT_PONG },
		{ "error", NG_RESULT_ERROR },
		{ "load limit", NG_RESULT_LOAD_LIMIT },
	};

	memset(r, 0, sizeof(*r));
	if (!dict || dict->type != BENCODE_DICT)
		return -EINVAL;
	if (bencode_dict_get_str(doc, dict, STRV("result"), &r->result_str)) {
		r->result = NG_RESULT_OTHER;
		for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
			if (strv_eq_cstr(r->result_str, results[i].s)) {
				r->result = results[i].res;
				break;
			}
		}
	}
	bencode_dict_get_str(doc, dict, STRV("error-reason"), &r->error_reason);
	bencode_dict_get_str(doc, dict, STRV("sdp"), &r->sdp);
	bencode_dict_get_str(doc, dict, STRV("warning"), &r->warning);
	return 0;
}

/* --- nodes --------------------------------------------------------------- */

static void node_arm_probe(struct ng_node *n)
{
	struct ng_client *c = n->c;

	if (n->st.up || n->probing || timer_pending(&n->probe))
		return;
	if (timer_start(loop_timers(c->loop), &n->probe, c->o.probe_interval_ms, probe_timer_h, n))
		log_err("ng: node %d: cannot arm its probe timer", n->id);
}

static void node_down(struct ng_node *n)
{
	char a[SA_STRLEN];

	if (n->st.up) {
		n->st.up = false;
		n->st.downs++;
		log_warn("ng: media node %s did not answer: marked down",
			 sa_print(&n->addr, a, sizeof(a)));
	}
	node_arm_probe(n);
}

static void node_up(struct ng_node *n)
{
	char a[SA_STRLEN];

	if (n->st.up)
		return;
	n->st.up = true;
	n->st.ups++;
	n->cw = 0;
	timer_cancel(loop_timers(n->c->loop), &n->probe);
	log_notice("ng: media node %s answers again: marked up", sa_print(&n->addr, a, sizeof(a)));
}

/*
 * Smooth weighted round robin over the nodes that are up and not in
 * @p exclude: each gains its weight, the richest is chosen and pays the total.
 * @return a node id, or -1 if none is eligible.
 */
static int node_pick(struct ng_client *c, uint64_t exclude)
{
	int64_t total = 0;
	int best = -1;

	for (unsigned i = 0; i < c->nnodes; i++) {
		struct ng_node *n = &c->nodes[i];

		if (!n->st.up || (exclude & (1ULL << i)))
			continue;
		n->cw += n->weight;
		total += n->weight;
		if (best < 0 || n->cw > c->nodes[best].cw)
			best = (int)i;
	}
	if (best >= 0)
		c->nodes[best].cw -= total;
	return best;
}

/* --- the cookie table ---------------------------------------------------- */

static struct ng_req **bucket(struct ng_client *c, uint64_t seq)
{
	return &c->buckets[seq & (NG_BUCKETS - 1)];
}

static void req_unlink(struct ng_req *r)
{
	if (!r->pprev)
		return;
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	r->next = NULL;
	r->pprev = NULL;
}

/* Gives @p r a fresh cookie and files it under that. */
static void req_new_cookie(struct ng_req *r)
{
	struct ng_client *c = r->c;
	struct ng_req **b;
	int n;

	req_unlink(r);
	r->seq = ++c->seq;
	n = snprintf(r->cookie, sizeof(r->cookie), "%s-%llu ", c->prefix,
		     (unsigned long long)r->seq);
	r->cookie_len = (uint8_t)n; /* at most 16 + 1 + 20 + 1 */
	b = bucket(c, r->seq);
	r->next = *b;
	if (r->next)
		r->next->pprev = &r->next;
	*b = r;
	r->pprev = b;
}

/* The pending request whose cookie is @p cookie, or NULL. */
static struct ng_req *req_find(struct ng_client *c, struct strv cookie)
{
	uint64_t seq;

	if (cookie.len <= NG_COOKIE_PREFIX + 1 || cookie.p[NG_COOKIE_PREFIX] != '-' ||
	    memcmp(cookie.p, c->prefix, NG_COOKIE_PREFIX) != 0)
		return NULL;
	if (strv_to_u64(
		strv_make(cookie.p + NG_COOKIE_PREFIX + 1, cookie.len - NG_COOKIE_PREFIX - 1),
		UINT64_MAX, &seq))
		return NULL;
	for (struct ng_req *r = *bucket(c, seq); r; r = r->next) {
		/* the cookie text too: "-007" must not match "-7" */
		if (r->seq == seq && r->cookie_len == cookie.len + 1 &&
		    memcmp(r->cookie, cookie.p, cookie.len) == 0)
			return r;
	}
	return NULL;
}

/* --- requests ------------------------------------------------------------ */

static void req_free(struct ng_req *r)
{
	req_unlink(r);
	timer_cancel(loop_timers(r->c->loop), &r->tmr);
	free(r);
}

/* Delivers the outcome and frees @p r; @p r is gone once this returns. */
static void req_complete(struct ng_req *r, int err, const struct bencode_doc *doc,
			 const struct bencode_node *dict)
{
	struct ng_client *c = r->c;
	ng_client_h *h = r->h;
	void *arg = r->arg;
	int prev = c->cb_node;

	c->cb_node = r->node;
	req_free(r);
	h(arg, err, doc, dict);
	c->cb_node = prev;
}

static void req_send(struct ng_req *r)
{
	struct ng_client *c = r->c;
	struct ng_node *n = &c->nodes[r->node];
	struct iovec iov[2] = {
		{ .iov_base = r->cookie, .iov_len = r->cookie_len },
		{ .iov_base = r->body, .iov_len = r->len },
	};
	struct msghdr mh = {
		.msg_name = &n->addr.u.sa,
		.msg_namelen = n->addr.len,
		.msg_iov = iov,
		.msg_iovlen = 2,
	};

	n->st.sent++;
	if (r->tries++) {
		n->st.retransmits++;
		c->st.retransmits++;
	} else {
		c->st.sent++;
	}
	/* A failed send is a lost datagram: the retransmission timer covers it. */
	if (sendmsg(n->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		char a[SA_STRLEN];

		c->st.errors++;
		log_ratelimited(&c->rl, &n->addr.u.sa, loop_now_ms(c->loop), LOG_LVL_WARN,
				"ng: send to %s failed: %s", sa_print(&n->addr, a, sizeof(a)),
				strerror(errno));
	}
}

/* Sends @p r to @p node as a new attempt (fresh cookie and try count). */
static int req_attempt(struct ng_req *r, int node)
{
	struct ng_client *c = r->c;
	int rc;

	r->node = node;
	r->tried |= 1ULL << node;
	r->tries = 0;
	req_new_cookie(r);
	rc = timer_start(loop_timers(c->loop), &r->tmr, c->o.timeout_ms, req_timer_h, r);
	if (rc)
		return rc;
	req_send(r);
	return 0;
}

/* Moves an unpinned request to its next node; completes it with @p err if none is left. */
static void req_failover(struct ng_req *r, int err, const struct bencode_doc *doc,
			 const struct bencode_node *dict)
{
	int next = r->pinned ? -1 : node_pick(r->c, r->tried);

	if (next >= 0) {
		int rc = req_attempt(r, next);

		if (rc == 0)
			return;
		err = rc;
		doc = NULL;
		dict = NULL;
	}
	req_complete(r, err, doc, dict);
}

static void req_timer_h(void *arg)
{
	struct ng_req *r = arg;
	struct ng_client *c = r->c;
	struct ng_node *n;

	if (r->fail_err) {
		req_complete(r, r->fail_err, NULL, NULL);
		return;
	}
	n = &c->nodes[r->node];
	if (r->tries < c->o.tries) {
		if (timer_start(loop_timers(c->loop), &r->tmr, c->o.timeout_ms, req_timer_h, r)) {
			req_complete(r, -ENOMEM, NULL, NULL);
			return;
		}
		req_send(r);
		return;
	}
	n->st.timeouts++;
	c->st.timeouts++;
	node_down(n);
	req_failover(r, -ETIMEDOUT, NULL, NULL);
}

static void req_reply(struct ng_req *r, const struct bencode_doc *doc,
		      const struct bencode_node *dict)
{
	struct ng_client *c = r->c;
	struct ng_node *n = &c->nodes[r->node];
	struct ng_reply rep;

	n->st.replies++;
	c->st.replies++;
	node_up(n);
	ng_reply_parse(doc, dict, &rep);
	switch (rep.result) {
	case NG_RESULT_LOAD_LIMIT:
		c->st.load_limit++;
		timer_cancel(loop_timers(c->loop), &r->tmr);
		req_failover(r, -EBUSY, doc, dict);
		return;
	case NG_RESULT_ERROR:
	case NG_RESULT_NONE:
		c->st.errors++;
		req_complete(r, -EPROTO, doc, dict);
		return;
	default:
		req_complete(r, 0, doc, dict);
		return;
	}
}

/* Allocates a request for @p cmd (encoded now) with a cookie. */
static int req_alloc(struct ng_client *c, struct ng_req **rp, const struct ng_cmd *cmd,
		     ng_client_h *h, void *arg)
{
	struct bencode_buf b;
	struct ng_req *r;
	int len;

	bencode_buf_init(&b, c->enc, sizeof(c->enc));
	if (ng_cmd_encode(&b, cmd))
		return -EINVAL;
	len = bencode_buf_finish(&b);
	if (len == -ENOBUFS)
		return -EMSGSIZE;
	if (len < 0)
		return len;
	r = calloc(1, sizeof(*r) + (size_t)len);
	if (!r)
		return -ENOMEM;
	r->c = c;
	r->h = h;
	r->arg = arg;
	r->node = -1;
	r->len = (size_t)len;
	memcpy(r->body, c->enc, (size_t)len);
	timer_init(&r->tmr);
	req_new_cookie(r);
	*rp = r;
	return 0;
}

int ng_client_request(struct ng_client *c, const struct ng_cmd *cmd, int node, ng_client_h *h,
		      void *arg, struct ng_req **reqp)
{
	struct ng_req *r;
	int rc;

	if (!h || (unsigned)cmd->command >= sizeof(cmd_names) / sizeof(cmd_names[0]))
		return -EINVAL;
	if (node != NG_NODE_ANY && (node < 0 || (unsigned)node >= c->nnodes))
		return -EINVAL;
	if (node == NG_NODE_ANY && cmd->command != NG_CMD_PING && cmd->command != NG_CMD_OFFER)
		return -EINVAL;
	rc = req_alloc(c, &r, cmd, h, arg);
	if (rc)
		return rc;
	r->pinned = node != NG_NODE_ANY;
	if (!r->pinned)
		node = node_pick(c, 0);
	if (node >= 0) {
		rc = req_attempt(r, node);
	} else {
		/* nobody to ask: fail from the loop, not from inside this call */
		r->fail_err = -EHOSTUNREACH;
		rc = timer_start(loop_timers(c->loop), &r->tmr, 0, req_timer_h, r);
		if (rc == 0)
			c->st.unreachable++;
	}
	if (rc) {
		req_free(r);
		return rc;
	}
	c->st.requests++;
	if (reqp)
		*reqp = r;
	return 0;
}

int ng_client_ping(struct ng_client *c, int node, ng_client_h *h, void *arg, struct ng_req **reqp)
{
	const struct ng_cmd cmd = { .command = NG_CMD_PING };

	return ng_client_request(c, &cmd, node, h, arg, reqp);
}

void ng_client_cancel(struct ng_client *c, struct ng_req *r)
{
	(void)c;
	if (r)
		req_free(r);
}

int ng_client_cb_node(const struct ng_client *c)
{
	return c->cb_node;
}

/* --- health probes ------------------------------------------------------- */

static void probe_done(void *arg, int err, const struct bencode_doc *doc,
		       const struct bencode_node *dict)
{
	struct ng_node *n = arg;

	(void)err;
	(void)doc;
	(void)dict;
	n->probing = false;
	node_arm_probe(n); /* still down: next round */
}

static void probe_timer_h(void *arg)
{
	struct ng_node *n = arg;

	if (n->st.up)
		return;
	if (ng_client_ping(n->c, n->id, probe_done, n, NULL) == 0)
		n->probing = true;
	else
		node_arm_probe(n);
}

/* --- receiving ----------------------------------------------------------- */

void ng_client_set_notify_h(struct ng_client *c, ng_client_notify_h *h, void *arg)
{
	c->notify_h = h;
	c->notify_arg = arg;
}

static int node_by_addr(const struct ng_client *c, const struct sa *from)
{
	for (unsigned i = 0; i < c->nnodes; i++)
		if (sa_equal(&c->nodes[i].addr, from))
			return (int)i;
	return -1;
}

/*
 * A command from a node (see ng_client.h): `result: ok` back with its cookie,
 * then the handler. Only configured nodes may tear our calls down.
 */
static void rx_notification(struct ng_client *c, struct strv cookie, struct strv command,
			    const struct bencode_doc *doc, const struct bencode_node *dict,
			    const struct sa *from)
{
	static const char ok[] = " d6:result2:oke";
	int node = node_by_addr(c, from);
	char a[SA_STRLEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)cookie.p, .iov_len = cookie.len },
		{ .iov_base = (void *)ok, .iov_len = sizeof(ok) - 1 },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (node < 0) {
		c->st.unsolicited++;
		log_ratelimited(&c->rl, &from->u.sa, loop_now_ms(c->loop), LOG_LVL_WARN,
				"ng: command from %s, which is no media node, ignored",
				sa_print(from, a, sizeof(a)));
		return;
	}
	c->st.notifications++;
	mh.msg_name = (void *)&c->nodes[node].addr.u.sa;
	mh.msg_namelen = c->nodes[node].addr.len;
	if (sendmsg(c->nodes[node].fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		c->st.errors++;
	if (c->notify_h)
		c->notify_h(c->notify_arg, node, command, doc, dict);
}

static void rx_datagram(struct ng_client *c, size_t len, const struct sa *from)
{
	const char *sp = memchr(c->rx, ' ', len);
	struct bencode_doc doc;
	const struct bencode_node *dict;
	struct strv command;
	struct ng_req *r;
	char a[SA_STRLEN];

	bencode_doc_init(&doc, c->dnodes, NG_CLIENT_MAX_REPLY_NODES);
	if (!sp || sp == c->rx ||
	    bencode_decode(&doc, sp + 1, len - (size_t)(sp - c->rx) - 1, NULL, NULL) < 0 ||
	    (dict = bencode_root(&doc))->type != BENCODE_DICT) {
		c->st.malformed++;
		log_ratelimited(&c->rl, &from->u.sa, loop_now_ms(c->loop), LOG_LVL_WARN,
				"ng: malformed reply from %s ignored",
				sa_print(from, a, sizeof(a)));
		return;
	}
	r = req_find(c, strv_make(c->rx, (size_t)(sp - c->rx)));
	if (!r && bencode_dict_get_str(&doc, dict, STRV("command"), &command)) {
		rx_notification(c, strv_make(c->rx, (size_t)(sp - c->rx)), command, &doc, dict,
				from);
		return;
	}
	if (!r || r->fail_err) {
		c->st.stale++;
		log_debug("ng: reply from %s with an unknown cookie ignored",
			  sa_print(from, a, sizeof(a)));
		return;
	}
	req_reply(r, &doc, dict);
}

static void rx_h(int fd, uint32_t events, void *arg)
{
	struct ng_client *c = arg;

	(void)events;
	for (unsigned i = 0; i < NG_RX_BURST; i++) {
		struct sa from;
		socklen_t fromlen = sizeof(from.u);
		ssize_t n = recvfrom(fd, c->rx, sizeof(c->rx), MSG_DONTWAIT | MSG_TRUNC, &from.u.sa,
				     &fromlen);

		if (n < 0)
			return;
		from.len = fromlen;
		if ((size_t)n > sizeof(c->rx)) {
			c->st.malformed++;
			continue;
		}
		rx_datagram(c, (size_t)n, &from);
	}
}

/* --- the client ---------------------------------------------------------- */

static int family_socket(struct ng_client *c, int family, int *fdp)
{
	int fd, rc;

	if (*fdp >= 0)
		return 0;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = loop_fd_add(c->loop, fd, EPOLLIN, rx_h, c);
	if (rc) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

int ng_client_alloc(struct ng_client **cp, struct loop *l, const struct ng_client_opts *opts)
{
	struct ng_client *c = calloc(1, sizeof(*c));
	uint64_t rnd;

	if (!c)
		return -ENOMEM;
	c->loop = l;
	if (opts)
		c->o = *opts;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = NG_DEF_TIMEOUT_MS;
	if (!c->o.tries)
		c->o.tries = NG_DEF_TRIES;
	if (!c->o.probe_interval_ms)
		c->o.probe_interval_ms = NG_DEF_PROBE_MS;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = 0x9E3779B97F4A7C15ULL ^ clock_monotonic_ms() ^ ((uint64_t)getpid() << 32);
	snprintf(c->prefix, sizeof(c->prefix), "%016llx", (unsigned long long)rnd);
	c->fd4 = -1;
	c->fd6 = -1;
	c->cb_node = -1;
	log_ratelimit_init(&c->rl, 10000);
	*cp = c;
	return 0;
}

void ng_client_free(struct ng_client *c)
{
	struct timers *ts;

	if (!c)
		return;
	ts = loop_timers(c->loop);
	for (unsigned i = 0; i < NG_BUCKETS; i++) {
		while (c->buckets[i])
			req_free(c->buckets[i]);
	}
	for (unsigned i = 0; i < c->nnodes; i++)
		timer_cancel(ts, &c->nodes[i].probe);
	if (c->fd4 >= 0) {
		loop_fd_remove(c->loop, c->fd4);
		close(c->fd4);
	}
	if (c->fd6 >= 0) {
		loop_fd_remove(c->loop, c->fd6);
		close(c->fd6);
	}
	free(c);
}

int ng_client_node_add(struct ng_client *c, const struct sa *addr, uint32_t weight, int *idp)
{
	int family = sa_family(addr);
	int *fdp = family == AF_INET6 ? &c->fd6 : &c->fd4;
	struct ng_node *n;
	int rc;

	if ((family != AF_INET && family != AF_INET6) || sa_port(addr) == 0)
		return -EINVAL;
	for (unsigned i = 0; i < c->nnodes; i++) {
		if (sa_equal(&c->nodes[i].addr, addr))
			return -EEXIST;
	}
	if (c->nnodes >= NG_CLIENT_MAX_NODES)
		return -ENOSPC;
	rc = family_socket(c, family, fdp);
	if (rc)
		return rc;
	n = &c->nodes[c->nnodes];
	memset(n, 0, sizeof(*n));
	n->c = c;
	n->addr = *addr;
	n->weight = weight ? weight : 1;
	n->fd = *fdp;
	n->id = (int)c->nnodes;
	n->st.up = true;
	timer_init(&n->probe);
	if (idp)
		*idp = n->id;
	c->nnodes++;
	return 0;
}

unsigned ng_client_node_count(const struct ng_client *c)
{
	return c->nnodes;
}

const struct sa *ng_client_node_addr(const struct ng_client *c, int node)
{
	return node >= 0 && (unsigned)node < c->nnodes ? &c->nodes[node].addr : NULL;
}

const struct ng_node_stats *ng_client_node_stats(const struct ng_client *c, int node)
{
	return node >= 0 && (unsigned)node < c->nnodes ? &c->nodes[node].st : NULL;
}

const struct ng_client_stats *ng_client_stats(const struct ng_client *c)
{
	return &c->st;
}
