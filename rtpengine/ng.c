/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "call.h"
#include "common/bencode.h"
#include "common/log.h"
#include "common/loop.h"
#include "ng_cache.h"
#include "ng_params.h"

#define NG_MAX_NODES	1024
#define NG_MAX_DATAGRAM 65536
#define NG_BURST	64
/* Enough for Kamailio's 5 x 1 s retransmissions at ~13k commands/s: evicting by count
 * sooner ran a retransmitted delete twice; memory is bounded by NG_CACHE_BYTES anyway. */
#define NG_CACHE_ENTRIES 65536
#define NG_CACHE_TTL_MS	 30000
#define NG_CACHE_BYTES	 (32u << 20)

struct ng_server {
	struct ng_notifier notifier; /* teardowns to UDP clients, from fd */
	struct loop *loop;
	struct calls *calls;
	int fd;
	struct sa addr;
	struct ng_stats stats;
	struct log_ratelimit rl;
	struct ng_cache *cache;
	uint64_t teardown_seq;
	char cache_key[sizeof(struct sockaddr_storage) + NG_MAX_DATAGRAM];
	struct bencode_node nodes[NG_MAX_NODES];
	char req[NG_MAX_DATAGRAM];
	char reply[NG_MAX_DATAGRAM];
	char sdp[NG_MAX_DATAGRAM];
};

/* One command being answered. */
struct ng_request {
	struct bencode_doc doc;
	const struct bencode_node *dict;
	struct bencode_buf *out;
	struct ng_params params;
	struct call_origin origin;
	uint64_t now_ms;
	const char *why; /* error-reason when the handler fails */
	bool load_limit; /* answer `result: load limit` instead of an error */
	enum ng_cmd cmd;
	enum ng_result result;
};

typedef int(ng_cmd_h)(struct ng_server *s, struct ng_request *r);

static void put_result(struct ng_request *r, const char *result)
{
	bencode_put_cstr(r->out, "result");
	bencode_put_cstr(r->out, result);
	if (r->params.warning_len)
		bencode_dict_put_str(r->out, "warning",
				     strv_make(r->params.warning, r->params.warning_len));
}

static int ng_ping(struct ng_server *s, struct ng_request *r)
{
	(void)s;
	r->result = NG_RESULT_PONG;
	put_result(r, "pong");
	return 0;
}

/* offer and answer: the same reply, a different session operation. */
static int offer_answer(struct ng_server *s, struct ng_request *r, bool offer)
{
	struct call_result res = { 0 };
	int rc;

	rc = offer ? calls_offer(s->calls, &r->params, &r->origin, r->now_ms, s->sdp,
				 sizeof(s->sdp), &res)
		   : calls_answer(s->calls, &r->params, &r->origin, r->now_ms, s->sdp,
				  sizeof(s->sdp), &res);
	if (rc) {
		r->why = res.why ? res.why : "Command failed";
		r->load_limit = rc == -EBUSY && r->params.supports_load_limit;
		return rc;
	}
	if (res.proto_ignored)
		ng_params_warn(&r->params, "unsupported transport-protocol",
			       r->params.transport_protocol);
	if (res.direction_ignored)
		ng_params_warn(&r->params, "ignored", STRV("direction"));
	put_result(r, "ok");
	bencode_dict_put_str(r->out, "sdp", strv_make(s->sdp, res.sdp_len));
	return 0;
}

static int ng_offer(struct ng_server *s, struct ng_request *r)
{
	return offer_answer(s, r, true);
}

static int ng_answer(struct ng_server *s, struct ng_request *r)
{
	return offer_answer(s, r, false);
}

/*
 * An unknown call is no error unless the flag `fatal` says so, as Sipwise: a retransmitted
 * BYE, or a BYE after a timeout, is not worth an error in the proxy's log.
 */
static int ng_delete(struct ng_server *s, struct ng_request *r)
{
	struct call_result res = { 0 };
	int rc;

	rc = calls_delete(s->calls, &r->params, r->now_ms, r->out, &res);
	if (rc == -ENOENT && r->params.call_id.len && !(r->params.flags & NG_FLAG_FATAL)) {
		ng_params_warn(&r->params, "Call-ID not found or tags didn't match",
			       strv_make(0, 0));
		rc = 0;
	}
	if (rc) {
		r->why = res.why;
		return rc;
	}
	put_result(r, "ok");
	return 0;
}

static int ng_query(struct ng_server *s, struct ng_request *r)
{
	struct call_result res = { 0 };
	int rc;

	put_result(r, "ok");
	rc = calls_query(s->calls, &r->params, &r->origin, r->now_ms, r->out, &res);
	r->why = res.why;
	return rc;
}

static int ng_list(struct ng_server *s, struct ng_request *r)
{
	put_result(r, "ok");
	calls_list(s->calls, r->params.limit, r->out);
	return 0;
}

static int ng_statistics(struct ng_server *s, struct ng_request *r)
{
	put_result(r, "ok");
	calls_statistics(s->calls, r->now_ms, r->out);
	return 0;
}

/* Indexed by enum ng_cmd. */
static const struct {
	const char *name;
	ng_cmd_h *h;
} ng_commands[NG_CMD_OTHER] = {
	{ "ping", ng_ping },
	{ "offer", ng_offer },
	{ "answer", ng_answer },
	{ "delete", ng_delete },
	{ "query", ng_query },
	{ "list", ng_list },
	{ "statistics", ng_statistics },
};

const char *ng_cmd_name(enum ng_cmd c)
{
	return c < NG_CMD_OTHER ? ng_commands[c].name : "other";
}

const char *ng_result_name(enum ng_result r)
{
	static const char *const names[NG_RESULT_MAX] = { "ok", "pong", "error", "load limit" };

	return r < NG_RESULT_MAX ? names[r] : "?";
}

/* Runs the command of a decoded request; writes the members of the reply dict. */
static int dispatch(struct ng_server *s, struct ng_request *r)
{
	if (!r->dict || r->dict->type != BENCODE_DICT) {
		r->why = "Could not decode dictionary";
		return -EINVAL;
	}
	ng_params_parse(&r->params, &r->doc, r->dict);
	if (!r->params.command.len) {
		r->why = "No command given";
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(ng_commands) / sizeof(ng_commands[0]); i++) {
		if (ng_word_eq(r->params.command, ng_commands[i].name)) {
			int rc;

			r->cmd = (enum ng_cmd)i;
			rc = ng_commands[i].h(s, r);

			if (rc && !r->why)
				r->why = "Command failed";
			return rc;
		}
	}
	r->why = "Unrecognized command";
	return -EINVAL;
}

/* Replaces whatever a failed command wrote with the error answer. */
static void put_failure(struct ng_request *r)
{
	bencode_buf_init(r->out, r->out->p, r->out->cap);
	bencode_dict_begin(r->out);
	r->result = r->load_limit ? NG_RESULT_LOAD_LIMIT : NG_RESULT_ERROR;
	if (r->load_limit) {
		put_result(r, "load limit");
		bencode_dict_put_str(r->out, "message", strv_cstr(r->why));
	} else {
		put_result(r, "error");
		bencode_dict_put_str(r->out, "error-reason", strv_cstr(r->why));
	}
}

/* A client's answer to a teardown notification: no command, a result. Answering it would
 * make a ping-pong of errors. */
static bool is_notify_reply(const struct ng_request *r)
{
	return r->dict && r->dict->type == BENCODE_DICT &&
	       !bencode_dict_get(&r->doc, r->dict, STRV("command")) &&
	       bencode_dict_get(&r->doc, r->dict, STRV("result"));
}

/* Encodes the reply to a request (0: none); the caller has written "<cookie> " already. */
static int answer(struct ng_server *s, struct ng_request *r, const char *dict, size_t len)
{
	size_t consumed;
	int n;

	bencode_doc_init(&r->doc, s->nodes, NG_MAX_NODES);
	r->dict =
	    bencode_decode(&r->doc, dict, len, NULL, &consumed) < 0 ? NULL : bencode_root(&r->doc);
	if (is_notify_reply(r))
		return 0;
	memset(&r->params, 0, sizeof(r->params));
	r->cmd = NG_CMD_OTHER;
	r->result = NG_RESULT_OK;
	bencode_dict_begin(r->out);
	if (dispatch(s, r)) {
		put_failure(r);
		s->stats.errors++;
	}
	bencode_end(r->out);
	n = bencode_buf_finish(r->out);
	if (n < 0) {
		r->why = "Reply too large";
		r->load_limit = false;
		put_failure(r);
		bencode_end(r->out);
		n = bencode_buf_finish(r->out);
	}
	return n;
}

/*
 * The reply cache key: the sender's address, then the cookie. A retransmission comes from
 * where the original came from, and two clients that happen to use the same cookies (two
 * Kamailios, each pid 1 in its container: "1_1", "1_2", ...) must not get each other's replies.
 */
static struct strv cache_key(struct ng_server *s, const struct sa *from, struct strv cookie)
{
	size_t alen = from ? from->len : 0;

	if (alen)
		memcpy(s->cache_key, &from->u, alen);
	memcpy(s->cache_key + alen, cookie.p, cookie.len);
	return strv_make(s->cache_key, alen + cookie.len);
}

/*
 * Answers one request. @p from keys the reply cache; @p origin says where timeouts are
 * reported (origin->from unset: nowhere).
 */
static int process(struct ng_server *s, const char *req, size_t len, const struct sa *from,
		   const struct call_origin *origin, char *reply, size_t reply_size)
{
	const char *sp = memchr(req, ' ', len);
	struct bencode_buf out;
	struct ng_request r = { 0 };
	struct strv key, cached;
	size_t cookie_len;
	int n;

	if (!sp || sp == req)
		return -1;
	cookie_len = (size_t)(sp - req);
	if (cookie_len + 1 >= reply_size)
		return -1;
	key = cache_key(s, from, strv_make(req, cookie_len));
	r.now_ms = loop_now_ms(s->loop);
	cached = ng_cache_get(s->cache, key, r.now_ms);
	if (cached.len && cached.len <= reply_size) {
		memcpy(reply, cached.p, cached.len);
		s->stats.retransmits++;
		return (int)cached.len;
	}
	memcpy(reply, req, cookie_len + 1);
	bencode_buf_init(&out, reply + cookie_len + 1, reply_size - cookie_len - 1);
	r.out = &out;
	r.origin = *origin;
	n = answer(s, &r, sp + 1, len - cookie_len - 1);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	n += (int)cookie_len + 1;
	if (ng_cache_put(s->cache, key, strv_make(reply, (size_t)n), r.now_ms) < 0)
		log_warn("ng: reply cache full of memory, retransmissions will run again");
	s->stats.commands++;
	s->stats.results[r.cmd][r.result]++;
	return n;
}

int ng_process_from(struct ng_server *s, const char *req, size_t len, const struct sa *from,
		    char *reply, size_t reply_size)
{
	struct call_origin o = { .via = &s->notifier };

	if (from)
		o.from = *from;
	else
		sa_init(&o.from);
	return process(s, req, len, from, &o, reply, reply_size);
}

int ng_process_stream(struct ng_server *s, const char *req, size_t len, const struct sa *peer,
		      struct ng_notifier *via, uint64_t conn, char *reply, size_t reply_size)
{
	struct call_origin o = { .from = *peer, .via = via, .conn = conn };
	struct sa key = *peer;

	if (!via)
		sa_init(&o.from);
	/* a client that reconnects retransmits from a new port: key on its address only */
	sa_set_port(&key, 0);
	return process(s, req, len, &key, &o, reply, reply_size);
}

int ng_process(struct ng_server *s, const char *req, size_t len, char *reply, size_t reply_size)
{
	return ng_process_from(s, req, len, NULL, reply, reply_size);
}

static int udp_notify(struct ng_notifier *n, const struct sa *to, uint64_t conn, const char *msg,
		      size_t len)
{
	struct ng_server *s = (struct ng_server *)n; /* the first member */

	(void)conn;
	if (sendto(s->fd, msg, len, MSG_DONTWAIT, &to->u.sa, to->len) < 0)
		return -errno;
	return 0;
}

/* Tells the origin of a call's last command that the relay deleted the call (see ng.h). */
static void ng_teardown(const struct call_teardown *t, void *arg)
{
	struct ng_notifier *via = t->via;
	struct ng_server *s = via ? via->server : NULL;
	struct bencode_buf out;
	char buf[2048];
	int cookie_len, n, rc;

	(void)arg;
	if (!s)
		return;
	cookie_len = snprintf(buf, sizeof(buf), "td%llx-%llu ", (unsigned long long)getpid(),
			      (unsigned long long)++s->teardown_seq);
	bencode_buf_init(&out, buf + cookie_len, sizeof(buf) - (size_t)cookie_len);
	bencode_dict_begin(&out);
	bencode_dict_put_str(&out, "command", STRV("teardown"));
	bencode_dict_put_str(&out, "call-id", t->call_id);
	bencode_dict_put_str(&out, "from-tag", t->from_tag);
	bencode_dict_put_str(&out, "reason", strv_cstr(t->reason));
	bencode_end(&out);
	n = bencode_buf_finish(&out);
	if (n < 0)
		return;
	rc = via->send(via, t->to, t->conn, buf, (size_t)(cookie_len + n));
	if (rc < 0)
		log_debug("ng: teardown notification lost: %s", strerror(-rc));
	else
		s->stats.teardowns++;
}

static void ng_readable(int fd, uint32_t events, void *arg)
{
	struct ng_server *s = arg;

	(void)events;
	for (unsigned i = 0; i < NG_BURST; i++) {
		struct sa from;
		socklen_t fromlen = sizeof(from.u);
		ssize_t n =
		    recvfrom(fd, s->req, sizeof(s->req), MSG_DONTWAIT, &from.u.sa, &fromlen);
		int rlen;

		if (n < 0)
			return;
		from.len = fromlen;
		rlen = ng_process_from(s, s->req, (size_t)n, &from, s->reply, sizeof(s->reply));
		if (rlen == 0)
			continue;
		if (rlen < 0) {
			char a[SA_STRLEN];

			s->stats.dropped++;
			log_ratelimited(&s->rl, &from.u.sa, loop_now_ms(s->loop), LOG_LVL_WARN,
					"ng: unanswerable datagram from %s dropped",
					sa_print(&from, a, sizeof(a)));
			continue;
		}
		if (sendto(fd, s->reply, (size_t)rlen, MSG_DONTWAIT, &from.u.sa, from.len) < 0)
			log_debug("ng: reply lost: %s", strerror(errno));
	}
}

int ng_server_alloc(struct ng_server **sp, struct loop *l, const struct sa *addr,
		    struct calls *calls)
{
	struct ng_server *s = calloc(1, sizeof(*s));
	socklen_t len;
	int rc;

	if (!s)
		return -ENOMEM;
	s->notifier.send = udp_notify;
	s->notifier.server = s;
	s->loop = l;
	s->calls = calls;
	s->addr = *addr;
	s->fd = -1;
	log_ratelimit_init(&s->rl, 10000);
	rc = ng_cache_alloc(&s->cache, NG_CACHE_ENTRIES, NG_CACHE_BYTES, NG_CACHE_TTL_MS);
	if (rc)
		goto fail;
	s->fd = socket(sa_family(addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	len = sizeof(s->addr.u);
	if (s->fd < 0 || bind(s->fd, &addr->u.sa, addr->len) < 0 ||
	    getsockname(s->fd, &s->addr.u.sa, &len) < 0) {
		rc = -errno;
		goto fail;
	}
	s->addr.len = len;
	rc = loop_fd_add(l, s->fd, EPOLLIN, ng_readable, s);
	if (rc)
		goto fail;
	calls_set_teardown_h(calls, ng_teardown, NULL);
	*sp = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	ng_cache_free(s->cache);
	free(s);
	return rc;
}

void ng_server_free(struct ng_server *s)
{
	if (!s)
		return;
	loop_fd_remove(s->loop, s->fd);
	close(s->fd);
	ng_cache_free(s->cache);
	free(s);
}

const struct ng_stats *ng_server_stats(const struct ng_server *s)
{
	return &s->stats;
}

const struct sa *ng_server_addr(const struct ng_server *s)
{
	return &s->addr;
}
