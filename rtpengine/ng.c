/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bencode.h"
#include "common/log.h"
#include "common/loop.h"

#define NG_MAX_NODES	1024
#define NG_MAX_DATAGRAM 65536
#define NG_BURST	64

struct ng_server {
	struct loop *loop;
	int fd;
	struct sa addr;
	struct ng_stats stats;
	struct log_ratelimit rl;
	struct bencode_node nodes[NG_MAX_NODES];
	char req[NG_MAX_DATAGRAM];
	char reply[NG_MAX_DATAGRAM];
};

struct ng_request {
	struct bencode_doc doc;
	const struct bencode_node *dict;
	struct bencode_buf *out;
};

typedef int(ng_cmd_h)(struct ng_server *s, struct ng_request *r);

static int ng_ping(struct ng_server *s, struct ng_request *r)
{
	(void)s;
	bencode_put_cstr(r->out, "result");
	bencode_put_cstr(r->out, "pong");
	return 0;
}

static const struct {
	const char *name;
	ng_cmd_h *h;
} ng_commands[] = {
	{ "ping", ng_ping },
};

static void put_error(struct bencode_buf *out, const char *reason)
{
	bencode_put_cstr(out, "result");
	bencode_put_cstr(out, "error");
	bencode_put_cstr(out, "error-reason");
	bencode_put_cstr(out, reason);
}

/* Runs the command of a decoded request; writes the members of the reply dict. */
static const char *dispatch(struct ng_server *s, struct ng_request *r)
{
	struct strv cmd;

	if (!r->dict || r->dict->type != BENCODE_DICT)
		return "Could not decode dictionary";
	if (!bencode_dict_get_str(&r->doc, r->dict, STRV("command"), &cmd))
		return "No command given";
	for (size_t i = 0; i < sizeof(ng_commands) / sizeof(ng_commands[0]); i++) {
		if (strv_eq_cstr(cmd, ng_commands[i].name))
			return ng_commands[i].h(s, r) == 0 ? NULL : "Command failed";
	}
	return "Unrecognized command";
}

int ng_process(struct ng_server *s, const char *req, size_t len, char *reply, size_t reply_size)
{
	const char *sp = memchr(req, ' ', len);
	struct bencode_buf out;
	struct ng_request r;
	size_t cookie_len, consumed;
	const char *reason = NULL;
	int n;

	if (!sp || sp == req)
		return -1;
	cookie_len = (size_t)(sp - req);
	if (cookie_len + 1 >= reply_size)
		return -1;
	memcpy(reply, req, cookie_len + 1);
	bencode_buf_init(&out, reply + cookie_len + 1, reply_size - cookie_len - 1);
	r.out = &out;
	bencode_doc_init(&r.doc, s->nodes, NG_MAX_NODES);
	if (bencode_decode(&r.doc, sp + 1, len - cookie_len - 1, NULL, &consumed) < 0)
		r.dict = NULL;
	else
		r.dict = bencode_root(&r.doc);

	bencode_dict_begin(&out);
	reason = dispatch(s, &r);
	if (reason) {
		/* Start over: a failed command may have written part of its answer. */
		bencode_buf_init(&out, reply + cookie_len + 1, reply_size - cookie_len - 1);
		bencode_dict_begin(&out);
		put_error(&out, reason);
		s->stats.errors++;
	}
	bencode_end(&out);
	n = bencode_buf_finish(&out);
	if (n < 0)
		return -1;
	s->stats.commands++;
	return (int)(cookie_len + 1) + n;
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
		rlen = ng_process(s, s->req, (size_t)n, s->reply, sizeof(s->reply));
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

int ng_server_alloc(struct ng_server **sp, struct loop *l, const struct sa *addr)
{
	struct ng_server *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->addr = *addr;
	log_ratelimit_init(&s->rl, 10000);
	s->fd = socket(sa_family(addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, &addr->u.sa, addr->len) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = loop_fd_add(l, s->fd, EPOLLIN, ng_readable, s);
	if (rc)
		goto fail;
	*sp = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return rc;
}

void ng_server_free(struct ng_server *s)
{
	if (!s)
		return;
	loop_fd_remove(s->loop, s->fd);
	close(s->fd);
	free(s);
}

const struct ng_stats *ng_server_stats(const struct ng_server *s)
{
	return &s->stats;
}
