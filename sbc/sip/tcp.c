/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Stream connections (TCP and TLS): accept with limits, non-blocking connect,
 * framing (RFC 3261 §18.3), CRLF keep-alives (RFC 5626 §3.5.1), bounded input
 * and output, idle and half-open reaping. See transport_int.h for the state
 * table and the closing rules.
 *
 * Input. A connection owns an input buffer only while it holds a partial
 * message. Otherwise reads go to the layer's scratch buffer, complete
 * messages are delivered straight from it, and only a trailing partial message
 * is copied into the connection (at most max_msg_size bytes: a partial message
 * that reaches the limit is oversize). While the headers of a partial message
 * are incomplete, new bytes are searched for the blank line before the framer
 * runs again, so a peer that dribbles bytes costs a scan of the new bytes, not
 * of the whole message, per read.
 *
 * Output. A send on an idle open connection writes at once; what the kernel
 * does not take, and everything sent during a burst or before the connection
 * is up, goes to the output queue, bounded by max_outq: a peer that stops
 * reading is disconnected rather than buffered without limit.
 */
#include "transport_int.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "print.h"
#include "reply.h"

#define LISTEN_BACKLOG	1024
#define ACCEPT_BATCH	32
#define ACCEPT_PAUSE_MS 100
#define READ_ROUNDS	4
#define IN_MIN_CAP	2048
#define IN_KEEP_CAP	8192
#define OUT_MIN_CAP	4096
#define OUT_KEEP_CAP	16384

static void conn_io_h(int fd, uint32_t events, void *arg);
static void conn_timer_h(void *arg);
static void accept_h(int fd, uint32_t events, void *arg);

int stream_open(struct sip_listener *li)
{
	int one = 1, family = sa_family(&li->addr);
	socklen_t len = sizeof(li->addr.u);
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	li->fd = fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, &li->addr.u.sa, li->addr.len) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return -errno;
	if (getsockname(fd, &li->addr.u.sa, &len) < 0)
		return -errno;
	li->addr.len = len;
	return loop_fd_add(li->tp->loop, fd, EPOLLIN, accept_h, li);
}

/* ---- raw I/O ---- */

static ssize_t conn_recv(struct sip_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl)
		return tls_read(c, buf, len);
	do {
		n = recv(c->fd, buf, len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static ssize_t conn_send(struct sip_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->ssl)
		return tls_write(c, buf, len);
	do {
		n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

static void conn_update_events(struct sip_conn *c)
{
	uint32_t ev;

	if (c->closed)
		return;
	if (c->closing) {
		ev = 0;
	} else {
		switch (c->state) {
		case CONN_CONNECTING:
			ev = EPOLLOUT;
			break;
		case CONN_HANDSHAKE:
			ev = EPOLLIN | (c->hs_want_wr ? EPOLLOUT : 0);
			break;
		default:
			ev = EPOLLIN;
			if ((c->out_len && !c->wr_want_rd) || c->rd_want_wr)
				ev |= EPOLLOUT;
			break;
		}
	}
	if (ev != c->events) {
		c->events = ev;
		loop_fd_modify(c->tp->loop, c->fd, ev);
	}
}

/* ---- life cycle ---- */

static struct sip_conn *conn_new(struct sip_listener *li, int fd, const struct sa *remote,
				 enum conn_state state, bool outgoing)
{
	struct sip_transport *tp = li->tp;
	struct sip_conn *c = calloc(1, sizeof(*c));
	socklen_t len = sizeof(c->flow.local.u);

	if (!c)
		return NULL;
	c->id = tp->next_id++;
	c->tp = tp;
	c->li = li;
	c->fd = fd;
	c->state = state;
	c->outgoing = outgoing;
	c->last_ms = tp_now(tp);
	timer_init(&c->timer);
	c->flow.proto = (uint8_t)li->proto;
	c->flow.listener = li->idx;
	c->flow.conn_id = c->id;
	c->flow.remote = *remote;
	if (getsockname(fd, &c->flow.local.u.sa, &len) == 0)
		c->flow.local.len = len;
	else
		c->flow.local = li->addr;
	return c;
}

/* Registers a new connection with the loop, its timer and the tables. */
static int conn_start(struct sip_conn *c)
{
	struct sip_transport *tp = c->tp;
	uint32_t timeout = c->state == CONN_OPEN ? tp->o.idle_timeout_ms : tp->o.connect_timeout_ms;
	int err;

	c->events = c->state == CONN_CONNECTING			  ? EPOLLOUT
		    : c->state == CONN_HANDSHAKE && c->hs_want_wr ? EPOLLIN | EPOLLOUT
								  : EPOLLIN;
	err = loop_fd_add(tp->loop, c->fd, c->events, conn_io_h, c);
	if (err)
		return err;
	err = timer_start(loop_timers(tp->loop), &c->timer, timeout, conn_timer_h, c);
	if (err) {
		loop_fd_remove(tp->loop, c->fd);
		return err;
	}
	tp_conn_link(tp, c);
	c->li->st.conns_open++;
	return 0;
}

/* Frees what conn_new and tls_conn_init allocated; the fd is the caller's. */
static void conn_free(struct sip_conn *c)
{
	tls_conn_free(c);
	free(c->in);
	free(c->out);
	free(c->tls_name);
	free(c);
}

static void conn_release(struct sip_conn *c)
{
	if (c->closed && !c->busy && !c->flush_queued)
		conn_free(c);
}

static int out_write(struct sip_conn *c);

static void conn_close(struct sip_conn *c, int reason)
{
	struct sip_transport *tp = c->tp;

	if (c->closed)
		return;
	if (reason == 0 && c->state == CONN_OPEN && c->out_len)
		out_write(c); /* best effort: what the kernel takes now */
	c->closed = true;
	c->closing = true;
	timer_cancel(loop_timers(tp->loop), &c->timer);
	loop_fd_remove(tp->loop, c->fd);
	tls_conn_free(c); /* close_notify, if the handshake was done, while the fd is open */
	close(c->fd);
	c->fd = -1;
	tp_conn_unlink(tp, c);
	c->li->st.conns_open--;
	if (tp->close_h)
		tp->close_h(&c->flow, reason, tp->arg);
	conn_release(c);
}

void conn_destroy(struct sip_conn *c)
{
	conn_close(c, 0);
}

void conn_close_later(struct sip_conn *c, int reason)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_reason = reason;
	conn_update_events(c);
	/* pending already (connect or idle timer), so restarting it cannot fail */
	timer_start(loop_timers(c->tp->loop), &c->timer, 0, conn_timer_h, c);
}

static void conn_timer_h(void *arg)
{
	struct sip_conn *c = arg;
	struct sip_transport *tp = c->tp;
	uint64_t idle;

	if (c->closing) {
		conn_close(c, c->close_reason);
		return;
	}
	if (c->state != CONN_OPEN) {
		c->li->st.conns_reaped++;
		conn_log(c, LOG_LVL_NOTICE, "%s not finished in %u ms, closing",
			 c->state == CONN_CONNECTING ? "connect" : "TLS handshake",
			 tp->o.connect_timeout_ms);
		conn_close(c, -ETIMEDOUT);
		return;
	}
	idle = tp_now(tp) - c->last_ms;
	if (idle >= tp->o.idle_timeout_ms) {
		c->li->st.conns_reaped++;
		log_debug("sip: connection #%llu idle for %llu ms, closing",
			  (unsigned long long)c->id, (unsigned long long)idle);
		conn_close(c, -ETIMEDOUT);
		return;
	}
	timer_start(loop_timers(tp->loop), &c->timer, tp->o.idle_timeout_ms - idle, conn_timer_h,
		    c);
}

static void conn_opened(struct sip_conn *c)
{
	struct sip_transport *tp = c->tp;

	c->state = CONN_OPEN;
	c->last_ms = tp_now(tp);
	timer_start(loop_timers(tp->loop), &c->timer, tp->o.idle_timeout_ms, conn_timer_h, c);
}

/* ---- output ---- */

/* Writes the queue until it is empty (0) or the kernel is full (-EAGAIN), or fails. */
static int out_write(struct sip_conn *c)
{
	while (c->out_len) {
		ssize_t n = conn_send(c, c->out + c->out_off, c->out_len);

		if (n < 0)
			return (int)n;
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
		c->last_ms = tp_now(c->tp);
	}
	c->out_off = 0;
	if (c->out_cap > OUT_KEEP_CAP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 0;
}

static int out_append(struct sip_conn *c, const char *buf, size_t len)
{
	size_t need = c->out_len + len;

	if (need > c->tp->o.max_outq)
		return -ENOBUFS;
	if (c->out_off + need > c->out_cap) {
		/* moving queued bytes is allowed for TLS: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */
		if (c->out_off)
			memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
		if (need > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap : OUT_MIN_CAP;
			char *p;

			while (cap < need)
				cap *= 2;
			p = realloc(c->out, cap);
			if (!p)
				return -ENOMEM;
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_off + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

static int conn_write(struct sip_conn *c, const char *buf, size_t len, bool is_msg)
{
	struct sip_transport *tp = c->tp;
	struct sip_listener *li = c->li;
	size_t total = len;
	int err;

	if (c->closing)
		return -ENOTCONN;
	if (len > tp->o.max_outq)
		return -EMSGSIZE; /* could never be queued: refuse it, keep the connection */
	if (c->state == CONN_OPEN && !c->out_len && !tp->burst) {
		ssize_t n = conn_send(c, buf, len);

		if (n < 0 && n != -EAGAIN) {
			li->st.tx_errors++;
			conn_log(c, LOG_LVL_INFO, "send: %s, closing", strerror((int)-n));
			conn_close_later(c, (int)n);
			return (int)n;
		}
		if (n > 0) {
			c->last_ms = tp_now(tp);
			buf += n;
			len -= (size_t)n;
		}
	}
	if (len) {
		err = out_append(c, buf, len);
		if (err) {
			li->st.tx_errors++;
			conn_log(c, LOG_LVL_WARN, "output queue over %u bytes, disconnecting",
				 tp->o.max_outq);
			conn_close_later(c, err);
			return err;
		}
		if (c->state == CONN_OPEN && tp->burst && !c->flush_queued) {
			c->flush_queued = true;
			c->flush_next = tp->flush_head;
			tp->flush_head = c;
		}
		conn_update_events(c);
	}
	if (is_msg) {
		li->st.tx_msgs++;
		li->st.tx_bytes += total;
	}
	return 0;
}

int stream_send(struct sip_conn *c, const void *buf, size_t len)
{
	if (len == 4 && memcmp(buf, "\r\n\r\n", 4) == 0) {
		int err = conn_write(c, buf, len, false);

		c->ping_out = c->ping_out || err == 0; /* its pong is the next lone CRLF */
		return err;
	}
	return len ? conn_write(c, buf, len, true) : 0;
}

void conn_flush_burst(struct sip_conn *c)
{
	/* still flush_queued while closing, so that conn_close does not free it under us */
	if (!c->closing && c->state == CONN_OPEN && c->out_len) {
		int err = out_write(c);

		if (err && err != -EAGAIN) {
			c->li->st.tx_errors++;
			conn_log(c, LOG_LVL_INFO, "write: %s", strerror(-err));
			conn_close(c, err);
		} else {
			conn_update_events(c);
		}
	}
	c->flush_queued = false;
	conn_release(c);
}

/* ---- input ---- */

/* Whether p[from..len) (with 3 bytes of overlap before from) holds the blank line. */
static bool has_blank_line(const char *p, size_t from, size_t len)
{
	from = from > 3 ? from - 3 : 0;
	return memmem(p + from, len - from, "\r\n\r\n", 4) != NULL;
}

/*
 * CRLFs between messages (RFC 5626 §3.5.1): a double CRLF is a ping, answered
 * with one CRLF; after a ping of ours, a lone CRLF is its pong; other lone
 * CRLFs (padding before a message) and bare CRs and LFs are skipped. Pings
 * and pongs go to the keep-alive handler. @return bytes consumed, 0 to wait
 * for more (what is there may still become a ping).
 */
static size_t skip_crlf(struct sip_conn *c, const char *p, size_t rem)
{
	if (p[0] == '\n')
		return 1;
	if (rem < 2)
		return 0;
	if (p[1] != '\n')
		return 1; /* a bare CR */
	if (rem >= 4 && p[2] == '\r' && p[3] == '\n') {
		conn_write(c, "\r\n", 2, false);
		tp_keepalive(c->tp, &c->flow, false);
		return 4;
	}
	if (c->ping_out && (rem == 2 || p[2] != '\r')) {
		c->ping_out = false;
		tp_keepalive(c->tp, &c->flow, true);
		return 2;
	}
	if (rem == 2 || (rem == 3 && p[2] == '\r'))
		return 0;
	return 2;
}

/*
 * Delivers the complete messages at the start of @p buf.
 * @return the bytes consumed (the rest is a partial message), or -EMSGSIZE /
 *         -EINVAL (no Content-Length) when the stream cannot be framed, with
 *         @p bad the offset of the message that could not.
 */
static long frame_input(struct sip_conn *c, const char *buf, size_t len, size_t *bad)
{
	size_t max = c->tp->o.max_msg_size, off = 0;

	while (off < len && !c->closing) {
		const char *p = buf + off;
		size_t rem = len - off;
		long n;

		*bad = off;

		if (p[0] == '\r' || p[0] == '\n') {
			size_t k = skip_crlf(c, p, rem);

			if (!k)
				break;
			off += k;
			continue;
		}
		if (c->hdr_scanned && !c->hdr_done) {
			/* the headers were incomplete last time: look at the new bytes only */
			if (!has_blank_line(p, c->hdr_scanned, rem)) {
				c->hdr_scanned = (uint32_t)rem;
				if (rem >= max)
					return -EMSGSIZE;
				break;
			}
			c->hdr_done = true;
		}
		n = sip_msg_frame(p, rem, max);
		if (n < 0)
			return n;
		if (n == 0) {
			if (rem >= max)
				return -EMSGSIZE;
			if (!c->hdr_done) {
				if (has_blank_line(p, 0, rem))
					c->hdr_done = true;
				else
					c->hdr_scanned = (uint32_t)rem;
			}
			break;
		}
		if ((size_t)n > rem)
			return -EINVAL; /* a framer bug must not become an overread */
		c->hdr_scanned = 0;
		c->hdr_done = false;
		tp_deliver(c->tp, &c->flow, p, (size_t)n);
		off += (size_t)n;
	}
	return (long)off;
}

/*
 * A request that cannot be framed is answered before the connection goes, when
 * its header block is complete and has a Via to answer to (a failed parse
 * leaves the headers read so far indexed): 400 for a missing or bad
 * Content-Length, 513 for a message over max_msg_size. Nothing after it on the
 * stream can be trusted, so nothing more is read.
 */
static void reject_unframed(struct sip_conn *c, const char *p, size_t len, long err)
{
	const struct sip_limits lim = { .max_msg_size = c->tp->o.max_msg_size };
	const char *hend = len > 8 ? memmem(p, len, "\r\n\r\n", 4) : NULL;
	char out[4096];
	struct sip_pbuf pb;
	struct sip_msg m;
	long n;

	if (!hend || memcmp(p, "SIP/", 4) == 0)
		return; /* no message start, or a response: nobody to answer */
	memset(&m, 0, sizeof(m));
	(void)sip_msg_parse(&m, p, (size_t)(hend + 4 - p), &lim, NULL);
	if (!m.is_request || m.method == SIP_METHOD_ACK)
		return;
	sip_print_init(&pb, out, sizeof(out));
	if (sip_reply_begin(&pb, &m, &c->flow, err == -EMSGSIZE ? 513 : 400,
			    err == -EMSGSIZE ? STRV_NULL : STRV("Bad Content-Length"),
			    STRV_NULL) < 0)
		return;
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	n = sip_print_finish(&pb);
	if (n <= 0 || conn_write(c, out, (size_t)n, true) < 0)
		return;
	c->li->st.rx_rejected++;
	if (c->state == CONN_OPEN && c->out_len)
		out_write(c); /* best effort, like a clean close: the connection goes now */
}

/* Makes room for @p need input bytes (need <= max_msg_size). */
static int in_reserve(struct sip_conn *c, size_t need)
{
	size_t cap = c->in_cap ? c->in_cap : IN_MIN_CAP;
	char *q;

	if (need <= c->in_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > c->tp->o.max_msg_size)
		cap = c->tp->o.max_msg_size;
	q = realloc(c->in, cap);
	if (!q)
		return -ENOMEM;
	c->in = q;
	c->in_cap = (uint32_t)cap;
	return 0;
}

/* Keeps the partial message @p p (inside c->in if @p in_place, else in scratch) as the input. */
static int keep_partial(struct sip_conn *c, const char *p, size_t len, bool in_place)
{
	c->in_len = 0;
	if (!len) {
		if (c->in_cap > IN_KEEP_CAP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		return 0;
	}
	if (in_place) {
		memmove(c->in, p, len);
	} else {
		int err = in_reserve(c, len);

		if (err)
			return err;
		memcpy(c->in, p, len);
	}
	c->in_len = (uint32_t)len;
	return 0;
}

static void conn_read(struct sip_conn *c)
{
	struct sip_transport *tp = c->tp;
	struct sip_listener *li = c->li;

	for (int round = 0; round < READ_ROUNDS || (c->ssl && tls_pending(c)); round++) {
		size_t have = c->in_len, room;
		char *buf;
		ssize_t n;
		long used;
		size_t bad = 0;
		int err;

		if (!have) {
			buf = tp->scratch;
			room = STREAM_READ_SIZE;
		} else {
			/* in_len < max_msg_size, or framing would have failed */
			err = in_reserve(c, have + 1);
			if (err) {
				conn_close(c, err);
				return;
			}
			buf = c->in;
			room = c->in_cap - c->in_len;
		}
		n = conn_recv(c, buf + have, room);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			if (n < 0 && n != -ECONNRESET)
				conn_log(c, LOG_LVL_INFO, "read: %s", strerror((int)-n));
			conn_close(c, (int)n);
			return;
		}
		c->last_ms = tp_now(tp);
		li->st.rx_bytes += (uint64_t)n;
		used = frame_input(c, buf, have + (size_t)n, &bad);
		if (used < 0) {
			li->st.rx_errors++;
			reject_unframed(c, buf + bad, have + (size_t)n - bad, used);
			conn_log(c, LOG_LVL_NOTICE, "%s, closing",
				 used == -EMSGSIZE ? "message too large"
						   : "message without valid Content-Length");
			conn_close(c, used == -EMSGSIZE ? -EMSGSIZE : -EBADMSG);
			return;
		}
		if (c->closing)
			return; /* closed from the receive handler: the rest is dropped */
		err = keep_partial(c, buf + used, have + (size_t)n - (size_t)used, buf == c->in);
		if (err) {
			conn_close(c, err);
			return;
		}
	}
}

/* ---- events ---- */

static void conn_io(struct sip_conn *c, uint32_t events)
{
	int err;

	if (c->state == CONN_CONNECTING) {
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (!err && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNRESET;
		if (err) {
			conn_log(c, LOG_LVL_NOTICE, "connect: %s", strerror(err));
			conn_close(c, -err);
			return;
		}
		if (!c->ssl) {
			conn_opened(c);
		} else {
			c->state = CONN_HANDSHAKE;
			c->hs_want_wr = true;
		}
	}
	if (c->state == CONN_HANDSHAKE) {
		err = tls_handshake(c);
		if (err == -EAGAIN) {
			conn_update_events(c);
			return;
		}
		if (err) {
			c->li->st.tls_failures++;
			conn_close(c, -EPROTO);
			return;
		}
		conn_opened(c);
		events |= EPOLLIN; /* application data may have come with the last flight */
	}
	if (c->out_len) {
		err = out_write(c);
		if (err && err != -EAGAIN) {
			c->li->st.tx_errors++;
			conn_log(c, LOG_LVL_INFO, "write: %s", strerror(-err));
			conn_close(c, err);
			return;
		}
	}
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) || (c->rd_want_wr && (events & EPOLLOUT)))
		conn_read(c);
	conn_update_events(c);
}

static void conn_io_h(int fd, uint32_t events, void *arg)
{
	struct sip_conn *c = arg;
	struct sip_transport *tp = c->tp;

	(void)fd;
	if (c->closing)
		return;
	c->busy = true;
	tp_burst_begin(tp);
	conn_io(c, events);
	tp_burst_end(tp);
	c->busy = false;
	conn_release(c);
}

/* ---- accept and connect ---- */

static void set_nodelay(int fd)
{
	int one = 1;

	/* SIP messages are written whole: Nagle would only delay them (and pongs) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Closes an accepted fd at once (RST: no TIME_WAIT here); counted as refused or as an error. */
static void refuse(struct sip_listener *li, int fd, const struct sa *remote, const char *why,
		   bool limit)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char addr[SA_STRLEN];

	if (limit)
		li->st.conns_refused++;
	else
		li->st.rx_errors++;
	log_ratelimited(&li->tp->rl, &remote->u.sa, tp_now(li->tp), LOG_LVL_WARN,
			"sip: %s %s: refused connection from %s: %s", li->name,
			sip_proto_name(li->proto), sa_print(remote, addr, sizeof(addr)), why);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void accept_one(struct sip_listener *li, int fd, const struct sa *remote)
{
	struct sip_transport *tp = li->tp;
	struct ip_count *ipc;
	struct sip_conn *c;
	int err;

	if (tp->nconns >= tp->o.max_conns) {
		refuse(li, fd, remote, "connection limit reached", true);
		return;
	}
	ipc = tp_ip_get(tp, remote);
	if (!ipc) {
		refuse(li, fd, remote, "out of memory", false);
		return;
	}
	if (ipc->count >= tp->o.max_conns_per_ip) {
		refuse(li, fd, remote, "per-source connection limit reached", true);
		return;
	}
	c = conn_new(li, fd, remote, li->proto == SIP_PROTO_TLS ? CONN_HANDSHAKE : CONN_OPEN,
		     false);
	if (!c) {
		err = -ENOMEM;
		goto fail;
	}
	if (li->proto == SIP_PROTO_TLS) {
		err = tls_conn_init(c, true, NULL);
		if (err)
			goto fail;
	}
	set_nodelay(fd);
	err = conn_start(c);
	if (err)
		goto fail;
	ipc->count++;
	c->ipc = ipc;
	li->st.conns_accepted++;
	return;
fail:
	if (c)
		conn_free(c);
	if (ipc->count == 0)
		tp_ip_put(tp, ipc);
	refuse(li, fd, remote, strerror(-err), false);
}

static void accept_resume(void *arg)
{
	struct sip_listener *li = arg;

	loop_fd_modify(li->tp->loop, li->fd, EPOLLIN);
}

static void accept_h(int lfd, uint32_t events, void *arg)
{
	struct sip_listener *li = arg;

	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sa remote;
		socklen_t len = sizeof(remote.u);
		int fd = accept4(lfd, &remote.u.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* retrying at once would spin: pause this listener a little */
				li->st.rx_errors++;
				log_ratelimited(&li->tp->rl, &li->addr.u.sa, tp_now(li->tp),
						LOG_LVL_ERR, "sip: %s %s: accept: %s, pausing",
						li->name, sip_proto_name(li->proto),
						strerror(errno));
				loop_fd_modify(li->tp->loop, lfd, 0);
				timer_start(loop_timers(li->tp->loop), &li->pause, ACCEPT_PAUSE_MS,
					    accept_resume, li);
				return;
			default:
				continue; /* EINTR, ECONNABORTED, a network error of that one */
			}
		}
		remote.len = len;
		accept_one(li, fd, &remote);
	}
}

int stream_connect(struct sip_listener *li, const struct sa *dst, const char *tls_name,
		   struct sip_conn **cp)
{
	struct sip_transport *tp = li->tp;
	struct sip_conn *c = NULL;
	enum conn_state state;
	int fd, err;

	if (tp->nconns >= tp->o.max_conns) {
		li->st.tx_errors++;
		log_ratelimited(&tp->rl, &dst->u.sa, tp_now(tp), LOG_LVL_WARN,
				"sip: %s: connection limit reached, not connecting", li->name);
		return -EMFILE;
	}
	fd = socket(sa_family(dst), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_nodelay(fd);
	if (!li->wildcard) {
		struct sa src = li->addr;
		int one = 1;

		sa_set_port(&src, 0);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, &src.u.sa, src.len) < 0) {
			err = -errno;
			goto fail;
		}
	}
	if (connect(fd, &dst->u.sa, dst->len) == 0)
		state = li->proto == SIP_PROTO_TLS ? CONN_HANDSHAKE : CONN_OPEN;
	else if (errno == EINPROGRESS)
		state = CONN_CONNECTING;
	else {
		err = -errno;
		goto fail;
	}
	c = conn_new(li, fd, dst, state, true);
	if (!c) {
		err = -ENOMEM;
		goto fail;
	}
	if (li->proto == SIP_PROTO_TLS) {
		err = tls_conn_init(c, false, tls_name);
		if (err)
			goto fail;
	}
	err = conn_start(c);
	if (err)
		goto fail;
	li->st.conns_connected++;
	*cp = c;
	return 0;
fail:
	if (c)
		conn_free(c);
	close(fd);
	li->st.tx_errors++;
	return err;
}
