/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file daemon.h  What every daemon does at start and stop: command line,
 * configuration file, logging set-up, optional detaching with a pid file.
 */
#ifndef SBC_DAEMON_H
#define SBC_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "log.h"

struct daemon_opts {
	const char *name;	 /**< program name for --help, --version and logs */
	const char *config_path; /**< -f FILE, NULL for embedded defaults */
	const char *pid_file;	 /**< -p FILE (overrides daemon.pid_file) */
	bool daemonize;		 /**< -d */
	bool check_config;	 /**< -t: load and check the configuration, then exit */
	bool foreground_log;	 /**< set unless detached: logs go to stderr */
	const char *log_level;	 /**< -l LEVEL (overrides log.level) */
};

/**
 * Settings every daemon has (log.*, daemon.*). Put it in the daemon's schema
 * next to its own table.
 */
extern const struct conf_setting daemon_conf_settings[];

/**
 * Parses the command line. Prints --help/--version and exits 0; prints usage
 * and exits 2 on a bad option.
 */
void daemon_parse_args(struct daemon_opts *o, int argc, char **argv, const char *name,
		       const char *summary);

/**
 * Loads the configuration, runs @p check on it (may be NULL) and sets up
 * logging from it (command line wins). On error prints "file:line: ..." to
 * stderr and exits 1. With -t, prints "configuration OK" and exits 0.
 */
/** The daemon's own checks beyond the schema: @return 0, or -EINVAL with "file:line: ..." in @p
 * err. */
typedef int(daemon_check_h)(const struct conf *c, char *err, size_t errlen);

struct conf *daemon_load_config(const struct daemon_opts *o, const struct conf_schema *schema,
				daemon_check_h *check);

/**
 * Detaches when asked (-d) and writes the pid file. The parent process exits
 * only once the child calls daemon_ready() (status 0) or fails (status 1), so
 * a service manager sees start-up errors.
 */
int daemon_start(const struct daemon_opts *o, const struct conf *c);

/**
 * SIGHUP: re-reads and checks the configuration file. A bad file is refused
 * with its error logged and the running configuration kept. What can change
 * without a restart is applied: the log level (unless -l fixed it).
 * @return the new configuration for the daemon to take what else it can, or
 *         NULL if it was refused. The caller frees it.
 */
struct conf *daemon_reload(const struct daemon_opts *o, const struct conf_schema *schema);

/** Start-up succeeded: release a waiting parent. */
void daemon_ready(void);

/** Removes the pid file; call on the way out. */
void daemon_stop(void);

#endif
