/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ctl.h  The control socket of a daemon, spoken by sbcctl.
 *
 * A Unix stream socket. A client connects, writes one line ("command args\n"),
 * reads the reply text until the daemon closes the connection. The first line
 * of a reply is "ok" or "error: reason"; the rest is the command's output.
 * Commands run on the daemon's event loop thread, so they may read its state
 * without locks; they should be quick.
 */
#ifndef SBC_CTL_H
#define SBC_CTL_H

#include <stddef.h>

struct loop;
struct ctl;
struct ctl_reply;

/** @return 0 for "ok", or a negative errno after ctl_reply_error(). */
typedef int(ctl_cmd_h)(struct ctl_reply *r, int argc, char **argv, void *arg);

struct ctl_command {
	const char *name;
	const char *help;
	ctl_cmd_h *h;
};

/**
 * Listens on @p path (an existing socket file is replaced; its directory is
 * created with mode 0750). The commands "help" and "version" are built in.
 */
int ctl_alloc(struct ctl **cp, struct loop *l, const char *path, const struct ctl_command *cmds,
	      size_t ncmds, void *arg);
/** Stops listening, closes client connections and removes the socket file. */
void ctl_free(struct ctl *c);

void ctl_printf(struct ctl_reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Marks the reply as failed with @p fmt as reason. @return -EINVAL. */
int ctl_reply_error(struct ctl_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
