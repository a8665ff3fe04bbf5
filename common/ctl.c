/* SPDX-License-Identifier: BSD-2-Clause */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "str.h"

#define CTL_MAX_CLIENTS	 16
#define CTL_LINE_MAX	 1024
#define CTL_MAX_ARGS	 16
#define CTL_REPLY_MAX	 (16u << 20)
#define CTL_IDLE_TIMEOUT 5000 /* ms a client may take to send its line */

struct ctl_reply {
	char *body;
	size_t len, cap;
	bool truncated;
	char error[256];
};

struct ctl_client {
	struct ctl *ctl;
	int fd;
	char line[CTL_LINE_MAX];
	size_t line_len;
	char *out; /* status line + body, once the command ran */
	size_t out_len, out_off;
	struct timer idle;
};

struct ctl {
	struct loop *loop;
	int fd;
	char *path;
	const struct ctl_command *cmds;
	size_t ncmds;
	void *arg;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
};

void ctl_printf(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->truncated)
		return;
	for (;;) {
		size_t room = r->cap - r->len;

		va_start(ap, fmt);
		n = vsnprintf(r->body ? r->body + r->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			r->len += (size_t)n;
			return;
		}
		size_t cap = r->cap ? r->cap * 2 : 4096;
		while (cap - r->len <= (size_t)n)
			cap *= 2;
		char *body = cap <= CTL_REPLY_MAX ? realloc(r->body, cap) : NULL;
		if (!body) {
			r->truncated = true;
			return;
		}
		r->body = body;
		r->cap = cap;
	}
}

int ctl_reply_error(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void client_close(struct ctl_client *cl)
{
	struct ctl *c = cl->ctl;

	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i] == cl)
			c->clients[i] = NULL;
	}
	timer_cancel(loop_timers(c->loop), &cl->idle);
	loop_fd_remove(c->loop, cl->fd);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static int builtin_help(struct ctl_reply *r, struct ctl *c)
{
	ctl_printf(r, "help\tlist the commands\nversion\tshow the version\n");
	for (size_t i = 0; i < c->ncmds; i++)
		ctl_printf(r, "%s\t%s\n", c->cmds[i].name, c->cmds[i].help);
	return 0;
}

static void run_command(struct ctl *c, char *line, struct ctl_reply *r)
{
	char *argv[CTL_MAX_ARGS];
	char *save = NULL;
	int argc = 0;

	for (char *tok = strtok_r(line, " \t", &save); tok && argc < CTL_MAX_ARGS;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	if (argc == 0) {
		ctl_reply_error(r, "empty command (try 'help')");
		return;
	}
	if (strcmp(argv[0], "help") == 0) {
		builtin_help(r, c);
		return;
	}
	if (strcmp(argv[0], "version") == 0) {
		ctl_printf(r, "%s\n", SBC_VERSION);
		return;
	}
	for (size_t i = 0; i < c->ncmds; i++) {
		if (strcmp(argv[0], c->cmds[i].name) == 0) {
			if (c->cmds[i].h(r, argc, argv, c->arg) < 0 && !r->error[0])
				ctl_reply_error(r, "%s failed", argv[0]);
			return;
		}
	}
	ctl_reply_error(r, "unknown command '%s' (try 'help')", argv[0]);
}

static void client_write(struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = write(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off);

		if (n < 0 && errno == EAGAIN)
			return; /* EPOLLOUT brings us back */
		if (n <= 0)
			break;
		cl->out_off += (size_t)n;
	}
	client_close(cl);
}

static void client_answer(struct ctl_client *cl, char *line)
{
	struct ctl_reply r = { 0 };
	char status[300];
	int slen;

	run_command(cl->ctl, line, &r);
	if (r.truncated && !r.error[0])
		snprintf(r.error, sizeof(r.error), "reply too large");
	slen = r.error[0] ? snprintf(status, sizeof(status), "error: %s\n", r.error)
			  : snprintf(status, sizeof(status), "ok\n");
	cl->out = malloc((size_t)slen + r.len + 1);
	if (!cl->out) {
		free(r.body);
		client_close(cl);
		return;
	}
	memcpy(cl->out, status, (size_t)slen);
	if (r.len && !r.error[0])
		memcpy(cl->out + slen, r.body, r.len);
	cl->out_len = (size_t)slen + (r.error[0] ? 0 : r.len);
	free(r.body);
	timer_cancel(loop_timers(cl->ctl->loop), &cl->idle);
	loop_fd_modify(cl->ctl->loop, cl->fd, EPOLLOUT);
	client_write(cl);
}

static void client_readable(struct ctl_client *cl)
{
	ssize_t n = read(cl->fd, cl->line + cl->line_len, sizeof(cl->line) - 1 - cl->line_len);
	char *nl;

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->line_len += (size_t)n;
	cl->line[cl->line_len] = '\0';
	nl = memchr(cl->line, '\n', cl->line_len);
	if (!nl) {
		if (cl->line_len == sizeof(cl->line) - 1)
			client_close(cl); /* a line this long is not a command */
		return;
	}
	*nl = '\0';
	if (nl > cl->line && nl[-1] == '\r')
		nl[-1] = '\0';
	client_answer(cl, cl->line);
}

static void client_event(int fd, uint32_t events, void *arg)
{
	struct ctl_client *cl = arg;

	(void)fd;
	if (cl->out)
		client_write(cl);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_readable(cl);
}

static void client_idle(void *arg)
{
	client_close(arg);
}

static void ctl_accept(int fd, uint32_t events, void *arg)
{
	struct ctl *c = arg;
	struct ctl_client *cl;
	size_t slot;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (slot = 0; slot < CTL_MAX_CLIENTS && c->clients[slot]; slot++)
		;
	cl = slot < CTL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (!cl) {
		close(cfd);
		return;
	}
	cl->ctl = c;
	cl->fd = cfd;
	timer_init(&cl->idle);
	if (loop_fd_add(c->loop, cfd, EPOLLIN, client_event, cl) < 0 ||
	    timer_start(loop_timers(c->loop), &cl->idle, CTL_IDLE_TIMEOUT, client_idle, cl) < 0) {
		loop_fd_remove(c->loop, cfd);
		close(cfd);
		free(cl);
		return;
	}
	c->clients[slot] = cl;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];

	strv_copy(strv_cstr(path), dir, sizeof(dir));
	if (mkdir(dirname(dir), 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctl_alloc(struct ctl **cp, struct loop *l, const char *path, const struct ctl_command *cmds,
	      size_t ncmds, void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl *c;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = l;
	c->cmds = cmds;
	c->ncmds = ncmds;
	c->arg = arg;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = make_parent_dir(path);
	if (rc)
		goto fail;
	unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0660) < 0 ||
	    listen(c->fd, CTL_MAX_CLIENTS) < 0) {
		rc = -errno;
		goto fail;
	}
	c->path = strdup(path);
	if (!c->path) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = loop_fd_add(l, c->fd, EPOLLIN, ctl_accept, c);
	if (rc)
		goto fail;
	*cp = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
	return rc;
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (c->clients[i])
			client_close(c->clients[i]);
	}
	loop_fd_remove(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
