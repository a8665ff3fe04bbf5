/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/log.h"
#include "common/loop.h"
#include "ng.h"
#include "ng_frame.h"

#define DEF_MAX_CONNS 64
#define DEF_MAX_MSG   65536
#define DEF_IDLE_MS   600000
#define REPLY_MAX     65536
/* replies queued beyond this stop reading: a client that never reads costs no more */
#define OUT_HIGH     (256u << 10)
#define FRAME_NODES  1024 /* as many as a datagram may have (ng.c) */
#define ACCEPT_BURST 16

struct ng_tcp_conn {
	struct ng_tcp *t;
	uint64_t id; /* never 0, never reused: a call's origin names its connection by it */
	unsigned slot;
	int fd;
	uint32_t events;
	struct sa peer;
	uint64_t last_ms;
	bool closing; /* flush the queued replies, then close */
	bool eof;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct ng_tcp {
	struct ng_notifier notifier; /* teardowns to the clients on their connections */
	uint64_t next_id;
	struct loop *loop;
	struct ng_server *ng;
	int fd;
	struct sa addr;
	struct ng_tcp_limits lim;
	struct ng_tcp_stats stats;
	struct timer sweep;
	struct log_ratelimit rl;
	unsigned nconns;
	struct ng_tcp_conn **conns;
	struct bencode_node nodes[FRAME_NODES];
	char reply[REPLY_MAX];
};

static void conn_close(struct ng_tcp_conn *c)
{
	struct ng_tcp *t = c->t;

	loop_fd_remove(t->loop, c->fd);
	close(c->fd);
	t->conns[c->slot] = NULL;
	t->nconns--;
	free(c->in);
	free(c->out);
	free(c);
}

static size_t out_pending(const struct ng_tcp_conn *c)
{
	return c->out_len - c->out_off;
}

static int out_append(struct ng_tcp_conn *c, const char *p, size_t len)
{
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_len + len + 4096;
		char *n = realloc(c->out, cap);

		if (!n)
			return -ENOMEM;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

/* The answer to bytes that are no command: "<cookie> d6:result5:error...e". */
static void put_garbage_error(struct ng_tcp_conn *c, const struct ng_frame *f, int rc)
{
	const char *cookie = c->in + f->skip;
	struct bencode_buf out;
	char buf[NG_FRAME_MAX_COOKIE + 128];
	int n;

	if (!f->cookie_len)
		return;
	memcpy(buf, cookie, f->cookie_len + 1);
	bencode_buf_init(&out, buf + f->cookie_len + 1, sizeof(buf) - f->cookie_len - 1);
	bencode_dict_begin(&out);
	bencode_dict_put_str(&out, "result", STRV("error"));
	bencode_dict_put_str(&out, "error-reason",
			     rc == -EMSGSIZE ? STRV("Message too large")
					     : STRV("Could not decode dictionary"));
	bencode_end(&out);
	n = bencode_buf_finish(&out);
	if (n > 0)
		(void)out_append(c, buf, f->cookie_len + 1 + (size_t)n);
}

static void garbage(struct ng_tcp_conn *c, const struct ng_frame *f, int rc)
{
	char a[SA_STRLEN];

	c->t->stats.garbage++;
	log_ratelimited(&c->t->rl, &c->peer.u.sa, loop_now_ms(c->t->loop), LOG_LVL_WARN,
			"ng tcp: %s from %s, closing",
			rc == -EMSGSIZE ? "command too large" : "garbage",
			sa_print(&c->peer, a, sizeof(a)));
	put_garbage_error(c, f, rc);
	c->closing = true;
}

/* Answers the complete commands buffered, while the replies queued stay under OUT_HIGH. */
static void process_input(struct ng_tcp_conn *c)
{
	struct ng_tcp *t = c->t;
	struct bencode_doc doc;
	size_t off = 0;

	bencode_doc_init(&doc, t->nodes, FRAME_NODES);
	while (!c->closing && out_pending(c) < OUT_HIGH) {
		struct ng_frame f;
		int rc = ng_frame_next(&f, c->in + off, c->in_len - off, t->lim.max_msg, &doc);
		int n;

		if (rc < 0) {
			c->in_len -= off; /* keep the cookie at the start for the reply */
			memmove(c->in, c->in + off, c->in_len);
			off = 0;
			garbage(c, &f, rc);
			break;
		}
		off += f.skip;
		if (rc == 0)
			break;
		n = ng_process_stream(t->ng, c->in + off, f.len, &c->peer, &t->notifier, c->id,
				      t->reply, sizeof(t->reply));
		off += f.len;
		t->stats.commands++;
		if (n > 0 && out_append(c, t->reply, (size_t)n) < 0)
			c->closing = true;
	}
	c->in_len -= off;
	memmove(c->in, c->in + off, c->in_len);
}

/* @return false when the connection failed. */
static bool read_input(struct ng_tcp_conn *c)
{
	while (c->in_len < c->t->lim.max_msg) {
		ssize_t n =
		    recv(c->fd, c->in + c->in_len, c->t->lim.max_msg - c->in_len, MSG_DONTWAIT);

		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_ms = loop_now_ms(c->t->loop);
			continue;
		}
		if (n == 0)
			c->eof = true;
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;
		break;
	}
	return true;
}

/* @return false when the connection failed. */
static bool flush_output(struct ng_tcp_conn *c)
{
	while (out_pending(c)) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, out_pending(c), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		c->out_off += (size_t)n;
		c->last_ms = loop_now_ms(c->t->loop);
	}
	return true;
}

/* Waits for what the connection can use next; closes it when it has nothing left to do. */
static void update_events(struct ng_tcp_conn *c)
{
	uint32_t want = 0;

	if (!c->closing && !c->eof && out_pending(c) < OUT_HIGH)
		want |= EPOLLIN;
	if (out_pending(c))
		want |= EPOLLOUT;
	if (!want) {
		conn_close(c);
		return;
	}
	if (want == c->events)
		return;
	if ((c->events & EPOLLIN) && out_pending(c) >= OUT_HIGH)
		c->t->stats.stalls++;
	if (loop_fd_modify(c->t->loop, c->fd, want) == 0)
		c->events = want;
}

static void on_conn(int fd, uint32_t events, void *arg)
{
	struct ng_tcp_conn *c = arg;

	(void)fd;
	/* flush first: replies drained make room for commands held back by OUT_HIGH */
	if ((events & EPOLLERR) || ((events & (EPOLLIN | EPOLLHUP)) && !read_input(c)) ||
	    !flush_output(c)) {
		conn_close(c);
		return;
	}
	process_input(c);
	if (!flush_output(c)) {
		conn_close(c);
		return;
	}
	update_events(c);
}

/* The connection @p id, else the newest one from @p to's IP (the client reconnected). */
static struct ng_tcp_conn *conn_for(struct ng_tcp *t, const struct sa *to, uint64_t id)
{
	struct ng_tcp_conn *best = NULL;

	for (unsigned i = 0; i < t->lim.max_conns; i++) {
		struct ng_tcp_conn *c = t->conns[i];

		if (!c || c->closing)
			continue;
		if (c->id == id)
			return c;
		if (sa_equal_addr(&c->peer, to) && (!best || c->id > best->id))
			best = c;
	}
	return best;
}

/* A notification is one more message queued on the connection (as a command). */
static int tcp_notify(struct ng_notifier *n, const struct sa *to, uint64_t conn, const char *msg,
		      size_t len)
{
	struct ng_tcp *t = (struct ng_tcp *)n; /* the first member */
	struct ng_tcp_conn *c = conn_for(t, to, conn);

	if (!c)
		return -ENOTCONN;
	if (out_pending(c) >= OUT_HIGH)
		return -ENOBUFS; /* a client that does not read gets no more */
	if (out_append(c, msg, len) < 0)
		return -ENOMEM;
	if (!flush_output(c)) {
		conn_close(c);
		return -EPIPE;
	}
	update_events(c);
	return 0;
}

static void conn_open(struct ng_tcp *t, int fd, const struct sa *peer)
{
	struct ng_tcp_conn *c = calloc(1, sizeof(*c));
	unsigned slot = 0;
	int one = 1;

	while (slot < t->lim.max_conns && t->conns[slot])
		slot++;
	if (!c || !(c->in = malloc(t->lim.max_msg)) || slot == t->lim.max_conns) {
		if (c)
			free(c->in);
		free(c);
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->t = t;
	c->id = ++t->next_id;
	c->slot = slot;
	c->fd = fd;
	c->peer = *peer;
	c->events = EPOLLIN;
	c->last_ms = loop_now_ms(t->loop);
	if (loop_fd_add(t->loop, fd, EPOLLIN, on_conn, c) < 0) {
		free(c->in);
		free(c);
		close(fd);
		return;
	}
	t->conns[slot] = c;
	t->nconns++;
	t->stats.accepted++;
}

static void on_accept(int fd, uint32_t events, void *arg)
{
	struct ng_tcp *t = arg;

	(void)events;
	for (unsigned i = 0; i < ACCEPT_BURST; i++) {
		struct sa peer;
		socklen_t len = sizeof(peer.u);
		int cfd = accept4(fd, &peer.u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return;
		peer.len = len;
		if (t->nconns >= t->lim.max_conns) {
			char a[SA_STRLEN];

			t->stats.refused++;
			log_ratelimited(&t->rl, &peer.u.sa, loop_now_ms(t->loop), LOG_LVL_WARN,
					"ng tcp: %u connections open, %s refused", t->nconns,
					sa_print(&peer, a, sizeof(a)));
			close(cfd);
			continue;
		}
		conn_open(t, cfd, &peer);
	}
}

static uint32_t sweep_interval(const struct ng_tcp *t)
{
	return t->lim.idle_ms < 4000 ? t->lim.idle_ms / 4 + 1 : 1000;
}

static void on_sweep(void *arg)
{
	struct ng_tcp *t = arg;
	uint64_t now = loop_now_ms(t->loop);

	for (unsigned i = 0; i < t->lim.max_conns; i++) {
		struct ng_tcp_conn *c = t->conns[i];

		if (c && now - c->last_ms >= t->lim.idle_ms) {
			t->stats.idle++;
			conn_close(c);
		}
	}
	if (timer_start(loop_timers(t->loop), &t->sweep, sweep_interval(t), on_sweep, t) < 0)
		log_err("ng tcp: cannot restart the idle timer");
}

static void set_limits(struct ng_tcp *t, const struct ng_tcp_limits *lim)
{
	if (lim)
		t->lim = *lim;
	if (!t->lim.max_conns)
		t->lim.max_conns = DEF_MAX_CONNS;
	if (!t->lim.max_msg)
		t->lim.max_msg = DEF_MAX_MSG;
	if (!t->lim.idle_ms)
		t->lim.idle_ms = DEF_IDLE_MS;
}

static int listen_on(struct ng_tcp *t, const struct sa *addr)
{
	socklen_t len = sizeof(t->addr.u);
	int one = 1;

	t->fd = socket(sa_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	(void)setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->fd, &addr->u.sa, addr->len) < 0 || listen(t->fd, 64) < 0 ||
	    getsockname(t->fd, &t->addr.u.sa, &len) < 0)
		return -errno;
	t->addr.len = len;
	return 0;
}

int ng_tcp_alloc(struct ng_tcp **tp, struct loop *l, const struct sa *addr, struct ng_server *ng,
		 const struct ng_tcp_limits *lim)
{
	struct ng_tcp *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->notifier.send = tcp_notify;
	t->notifier.server = ng;
	t->loop = l;
	t->ng = ng;
	t->fd = -1;
	set_limits(t, lim);
	log_ratelimit_init(&t->rl, 10000);
	t->conns = calloc(t->lim.max_conns, sizeof(*t->conns));
	rc = t->conns ? listen_on(t, addr) : -ENOMEM;
	if (!rc)
		rc = loop_fd_add(l, t->fd, EPOLLIN, on_accept, t);
	if (!rc)
		rc = timer_start(loop_timers(l), &t->sweep, sweep_interval(t), on_sweep, t);
	if (rc) {
		if (t->fd >= 0) {
			loop_fd_remove(l, t->fd);
			close(t->fd);
		}
		free(t->conns);
		free(t);
		return rc;
	}
	*tp = t;
	return 0;
}

void ng_tcp_free(struct ng_tcp *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->lim.max_conns; i++) {
		if (t->conns[i])
			conn_close(t->conns[i]);
	}
	timer_cancel(loop_timers(t->loop), &t->sweep);
	loop_fd_remove(t->loop, t->fd);
	close(t->fd);
	free(t->conns);
	free(t);
}

const struct sa *ng_tcp_addr(const struct ng_tcp *t)
{
	return &t->addr;
}

const struct ng_tcp_stats *ng_tcp_stats(const struct ng_tcp *t)
{
	return &t->stats;
}

unsigned ng_tcp_conns(const struct ng_tcp *t)
{
	return t->nconns;
}
