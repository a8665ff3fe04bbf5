/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One connection at a time goes through: read what fits in its request buffer -> answer every
 * complete request in it, in order, one response in flight (EPOLLIN is off while a response
 * waits for EPOLLOUT, which bounds what a client can make us buffer) -> close when asked, on
 * end of input, on an error, or when the idle timer fires. The idle timer runs from the accept
 * and from the end of each response, not from each read, so trickling bytes does not keep a
 * connection open.
 */
#include "http_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_req.h"
#include "log.h"
#include "loop.h"
#include "timer.h"

#define DEFAULT_MAX_CONNS    16
#define DEFAULT_IDLE_MS	     10000
#define DEFAULT_MAX_RESPONSE (16u << 20)
#define ACCEPTS_PER_EVENT    16	 /* bounded work per loop iteration */
#define ACCEPT_PAUSE_MS	     100 /* after EMFILE & co, which level-triggered epoll would repeat */

static const char content_type_metrics[] = "text/plain; version=0.0.4";

struct hm_conn {
	struct http_metrics *hm;
	int fd;
	unsigned slot;
	struct timer idle;
	char in[HTTP_METRICS_MAX_REQUEST];
	size_t in_len;
	char *out; /* the response being sent, NULL when none */
	size_t out_len, out_off;
	bool close_after; /* close once the response is sent */
	bool rd_eof;	  /* the client sent everything it will */
};

struct http_metrics {
	struct loop *loop;
	int fd;
	struct sa addr;
	struct http_metrics_opts opts;
	http_metrics_h *h;
	void *arg;
	struct hm_conn **conns; /* opts.max_conns slots */
	unsigned nconns;
	struct timer accept_pause; /* out of descriptors: stop accepting for a while */
};

static void conn_close(struct hm_conn *c)
{
	struct http_metrics *hm = c->hm;

	loop_fd_remove(hm->loop, c->fd);
	close(c->fd);
	timer_cancel(loop_timers(hm->loop), &c->idle);
	hm->conns[c->slot] = NULL;
	hm->nconns--;
	free(c->out);
	free(c);
}

static void conn_idle(void *arg)
{
	conn_close(arg);
}

static void conn_restart_idle(struct hm_conn *c)
{
	/* -ENOMEM leaves the previous deadline, which is still a deadline */
	timer_start(loop_timers(c->hm->loop), &c->idle, c->hm->opts.idle_ms, conn_idle, c);
}

struct response {
	const char *status;
	const char *headers; /* more header lines, each ending in CRLF */
	const char *type;
	const char *body;
	size_t blen;
};

/* Queues @p r, without its body for HEAD. @return 0 or -ENOMEM. */
static int conn_respond(struct hm_conn *c, const struct response *r, bool head_only)
{
	char head[256];
	int hlen = snprintf(head, sizeof(head),
			    "HTTP/1.1 %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
			    r->status, r->headers ? r->headers : "", r->type, r->blen,
			    c->close_after ? "Connection: close\r\n" : "");
	const char *body = r->body;
	size_t blen = r->blen;
	size_t total = (size_t)hlen + (head_only ? 0 : blen);

	c->out = malloc(total);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, head, (size_t)hlen);
	if (!head_only && blen)
		memcpy(c->out + hlen, body, blen);
	c->out_len = total;
	c->out_off = 0;
	return 0;
}

static int conn_respond_text(struct hm_conn *c, const char *status, const char *text, bool head)
{
	struct response r = { status, NULL, "text/plain", text, strlen(text) };

	return conn_respond(c, &r, head);
}

static int respond_metrics(struct hm_conn *c, bool head_only)
{
	struct metrics_writer w;
	int err;

	metrics_writer_init(&w, c->hm->opts.max_response);
	c->hm->h(&w, c->hm->arg);
	if (metrics_writer_error(&w) < 0) {
		log_warn("http_metrics: metrics not written: %s",
			 strerror(-metrics_writer_error(&w)));
		err = conn_respond_text(c, "500 Internal Server Error", "metrics unavailable\n",
					head_only);
	} else {
		struct response r = { "200 OK", NULL, content_type_metrics, w.buf, w.len };

		err = conn_respond(c, &r, head_only);
	}
	metrics_writer_reset(&w);
	return err;
}

/* The response to one complete request head; @p req NULL: it did not parse. */
static int conn_answer(struct hm_conn *c, const struct http_req *req)
{
	bool get, head;

	if (!req) {
		c->close_after = true;
		return conn_respond_text(c, "400 Bad Request", "bad request\n", false);
	}
	/* a body is never read, so the connection cannot go on after it */
	c->close_after |= req->conn_close || req->has_body;
	get = strv_eq(req->method, STRV("GET"));
	head = strv_eq(req->method, STRV("HEAD"));
	if (!get && !head) {
		static const struct response not_allowed = { "405 Method Not Allowed",
							     "Allow: GET, HEAD\r\n", "text/plain",
							     "method not allowed\n", 19 };

		return conn_respond(c, &not_allowed, false);
	}
	if (!strv_eq(req->path, STRV("/metrics")))
		return conn_respond_text(c, "404 Not Found", "not found\n", head);
	return respond_metrics(c, head);
}

static void conn_consume(struct hm_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* The next buffered request, answered. @return 1 answered, 0 none complete, <0 error. */
static int conn_next_request(struct hm_conn *c)
{
	struct http_req req;
	int n = http_req_parse(&req, c->in, c->in_len), err;

	if (n == 0 && c->in_len < sizeof(c->in))
		return 0;
	if (n == 0) {
		c->close_after = true;
		err = conn_respond_text(c, "431 Request Header Fields Too Large", "too large\n",
					false);
		c->in_len = 0;
		return err < 0 ? err : 1;
	}
	err = conn_answer(c, n > 0 ? &req : NULL);
	conn_consume(c, n > 0 ? (size_t)n : c->in_len); /* after garbage, nothing is trusted */
	return err < 0 ? err : 1;
}

/* Sends what it can. @return 0 (sent or would block) or -1 (the connection is broken). */
static int conn_flush(struct hm_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	return 0;
}

/* Answers, sends, closes as far as it can without blocking. Afterwards @p c may be gone. */
static void conn_run(struct hm_conn *c)
{
	int r;

	for (;;) {
		if (c->out) {
			if (conn_flush(c) < 0)
				goto close;
			if (c->out) {
				loop_fd_modify(c->hm->loop, c->fd, EPOLLOUT);
				return;
			}
			if (c->close_after)
				goto close;
			conn_restart_idle(c);
		}
		r = conn_next_request(c);
		if (r < 0)
			goto close;
		if (r == 0)
			break;
	}
	if (c->rd_eof)
		goto close;
	loop_fd_modify(c->hm->loop, c->fd, EPOLLIN);
	return;
close:
	conn_close(c);
}

static void conn_read(struct hm_conn *c)
{
	ssize_t n;

	if (c->in_len == sizeof(c->in))
		return;
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n > 0)
		c->in_len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		c->rd_eof = true; /* a reset: whatever is left cannot be answered anyway */
}

static void conn_event(int fd, uint32_t events, void *arg)
{
	struct hm_conn *c = arg;

	(void)fd;
	if (!c->out && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(c);
	conn_run(c);
}

/* Beyond max_conns: a best-effort 503 on the fresh socket, then close. */
static void refuse_busy(int fd)
{
	static const char busy[] =
	    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n";
	ssize_t n = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);

	(void)n;
	close(fd);
}

static int conn_add(struct http_metrics *hm, int fd)
{
	struct hm_conn *c;
	unsigned slot;
	int err;

	for (slot = 0; hm->conns[slot]; slot++)
		;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->hm = hm;
	c->fd = fd;
	c->slot = slot;
	timer_init(&c->idle);
	err = timer_start(loop_timers(hm->loop), &c->idle, hm->opts.idle_ms, conn_idle, c);
	if (err == 0)
		err = loop_fd_add(hm->loop, fd, EPOLLIN, conn_event, c);
	if (err < 0) {
		timer_cancel(loop_timers(hm->loop), &c->idle);
		free(c);
		return err;
	}
	hm->conns[slot] = c;
	hm->nconns++;
	return 0;
}

static void accept_resume(void *arg)
{
	struct http_metrics *hm = arg;

	loop_fd_modify(hm->loop, hm->fd, EPOLLIN);
}

/* The pending connection stays queued; without a pause the loop would spin on it. */
static void accept_pause(struct http_metrics *hm)
{
	log_warn("http_metrics: accept: %s; pausing %d ms", strerror(errno), ACCEPT_PAUSE_MS);
	loop_fd_modify(hm->loop, hm->fd, 0);
	if (timer_start(loop_timers(hm->loop), &hm->accept_pause, ACCEPT_PAUSE_MS, accept_resume,
			hm) < 0)
		loop_fd_modify(hm->loop, hm->fd, EPOLLIN);
}

static void hm_accept(int fd, uint32_t events, void *arg)
{
	struct http_metrics *hm = arg;

	(void)events;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED))
			return;
		if (cfd < 0) {
			accept_pause(hm);
			return;
		}
		if (hm->nconns == hm->opts.max_conns)
			refuse_busy(cfd);
		else if (conn_add(hm, cfd) < 0)
			close(cfd);
	}
}

static int listen_on(struct http_metrics *hm, const struct sa *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	hm->fd = socket(sa_family(addr), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (hm->fd < 0)
		return -errno;
	if (setsockopt(hm->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(hm->fd, &addr->u.sa, addr->len) < 0 || listen(hm->fd, 64) < 0 ||
	    getsockname(hm->fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	return sa_set_sockaddr(&hm->addr, (struct sockaddr *)&ss, len);
}

static void opts_apply(struct http_metrics_opts *o, const struct http_metrics_opts *given)
{
	if (given)
		*o = *given;
	if (!o->max_conns)
		o->max_conns = DEFAULT_MAX_CONNS;
	if (!o->idle_ms)
		o->idle_ms = DEFAULT_IDLE_MS;
	if (!o->max_response)
		o->max_response = DEFAULT_MAX_RESPONSE;
}

int http_metrics_alloc(struct http_metrics **hp, struct loop *l, const struct sa *addr,
		       const struct http_metrics_opts *opts, http_metrics_h *h, void *arg)
{
	struct http_metrics *hm;
	int err;

	if (!hp || !l || !addr || !sa_isset(addr) || !h)
		return -EINVAL;
	hm = calloc(1, sizeof(*hm));
	if (!hm)
		return -ENOMEM;
	hm->loop = l;
	hm->fd = -1;
	timer_init(&hm->accept_pause);
	hm->h = h;
	hm->arg = arg;
	opts_apply(&hm->opts, opts);
	hm->conns = calloc(hm->opts.max_conns, sizeof(*hm->conns));
	err = hm->conns ? listen_on(hm, addr) : -ENOMEM;
	if (err == 0)
		err = loop_fd_add(l, hm->fd, EPOLLIN, hm_accept, hm);
	if (err < 0)
		goto out;
	*hp = hm;
	return 0;
out:
	if (hm->fd >= 0)
		close(hm->fd);
	free(hm->conns);
	free(hm);
	return err;
}

void http_metrics_free(struct http_metrics *hm)
{
	if (!hm)
		return;
	for (unsigned i = 0; i < hm->opts.max_conns; i++) {
		if (hm->conns[i])
			conn_close(hm->conns[i]);
	}
	timer_cancel(loop_timers(hm->loop), &hm->accept_pause);
	loop_fd_remove(hm->loop, hm->fd);
	close(hm->fd);
	free(hm->conns);
	free(hm);
}

const struct sa *http_metrics_addr(const struct http_metrics *hm)
{
	return &hm->addr;
}

unsigned http_metrics_conns(const struct http_metrics *hm)
{
	return hm->nconns;
}
