/* SPDX-License-Identifier: BSD-2-Clause */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *const log_levels[] = { "err", "warn", "notice", "info", "debug", NULL };
static const char *const log_targets[] = { "auto", "stderr", "syslog", NULL };

const struct conf_setting daemon_conf_settings[] = {
	{ .path = "log.level", .type = CONF_STR, .def = "\"info\"", .choices = log_levels },
	{ .path = "log.target", .type = CONF_STR, .def = "\"auto\"", .choices = log_targets },
	{ .path = "daemon.pid_file", .type = CONF_STR, .def = NULL },
	{ .path = NULL },
};

static int ready_fd = -1; /* write end of the pipe a detaching parent waits on */
static int pid_fd = -1;
static char *pid_path;

static void usage(FILE *out, const char *name, const char *summary)
{
	fprintf(out,
		"Usage: %s [options]\n"
		"%s\n\n"
		"  -f, --config FILE      configuration file (default: built-in defaults)\n"
		"  -t, --check-config     check the configuration and exit\n"
		"  -d, --daemonize        detach from the terminal (logs go to syslog)\n"
		"  -p, --pid-file FILE    write the process id to FILE\n"
		"  -l, --log-level LEVEL  err, warn, notice, info or debug\n"
		"  -h, --help             show this help and exit\n"
		"  -V, --version          show the version and exit\n",
		name, summary);
}

void daemon_parse_args(struct daemon_opts *o, int argc, char **argv, const char *name,
		       const char *summary)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 't' },
		{ "daemonize", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_level level;
	int opt;

	memset(o, 0, sizeof(*o));
	o->name = name;
	while ((opt = getopt_long(argc, argv, "f:tdp:l:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			o->config_path = optarg;
			break;
		case 't':
			o->check_config = true;
			break;
		case 'd':
			o->daemonize = true;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'l':
			if (log_level_parse(optarg, &level) < 0) {
				fprintf(stderr, "%s: unknown log level '%s'\n", name, optarg);
				exit(2);
			}
			o->log_level = optarg;
			break;
		case 'h':
			usage(stdout, name, summary);
			exit(0);
		case 'V':
			printf("%s %s\n", name, SBC_VERSION);
			exit(0);
		default:
			usage(stderr, name, summary);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[optind]);
		usage(stderr, name, summary);
		exit(2);
	}
}

static void setup_logging(const struct daemon_opts *o, const struct conf *c)
{
	enum log_level level = LOG_LVL_INFO;
	enum log_target target;
	const char *target_name = conf_str(c, "log.target");

	log_level_parse(o->log_level ? o->log_level : conf_str(c, "log.level"), &level);
	if (strcmp(target_name, "syslog") == 0)
		target = LOG_TO_SYSLOG;
	else if (strcmp(target_name, "stderr") == 0)
		target = LOG_TO_STDERR;
	else
		target = o->daemonize ? LOG_TO_SYSLOG : LOG_TO_STDERR;
	log_init(o->name, level, target);
}

struct conf *daemon_load_config(const struct daemon_opts *o, const struct conf_schema *schema,
				daemon_check_h *check)
{
	char err[1024];
	struct conf *c;

	if (conf_load_file(&c, schema, o->config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (check && check(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		conf_free(c);
		exit(1);
	}
	if (o->check_config) {
		printf("%s: configuration %s OK\n", o->name,
		       o->config_path ? o->config_path : "(built-in defaults)");
		conf_free(c);
		exit(0);
	}
	setup_logging(o, c);
	return c;
}

struct conf *daemon_reload(const struct daemon_opts *o, const struct conf_schema *schema)
{
	enum log_level level;
	char err[1024];
	struct conf *c;

	if (conf_load_file(&c, schema, o->config_path, err, sizeof(err)) < 0) {
		log_err("reload refused, keeping the running configuration: %s", err);
		return NULL;
	}
	if (!o->log_level && log_level_parse(conf_str(c, "log.level"), &level) == 0)
		log_threshold = level;
	log_notice("configuration reloaded (log level %s)", log_level_name(log_threshold));
	return c;
}

/*
 * The parent stays until the child reports: exit status 0 once the child is
 * ready, 1 if it died or failed first. A service manager thus sees failures.
 */
static int detach(void)
{
	int pipefd[2];
	pid_t pid;
	char status = 1;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pipefd[1]);
		if (read(pipefd[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(pipefd[0]);
	ready_fd = pipefd[1];
	if (setsid() < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
	return 0;
}

static int write_pid_file(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -errno;
	}
	/* The lock lives as long as the process: a second instance is refused. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		log_err("pid file %s is locked: already running as pid %s", path,
			strtok(buf, "\n") ? buf : "?");
		close(fd);
		return -EEXIST;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		log_err("pid file %s: %s", path, strerror(errno));
		close(fd);
		return -EIO;
	}
	pid_fd = fd;
	pid_path = strdup(path);
	return 0;
}

/* Connections and media ports are file descriptors: take all the system allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open file limit: %s", strerror(errno));
	}
}

int daemon_start(const struct daemon_opts *o, const struct conf *c)
{
	const char *pid_file = o->pid_file ? o->pid_file : conf_str(c, "daemon.pid_file");
	int rc;

	raise_fd_limit();

	if (o->daemonize) {
		rc = detach();
		if (rc < 0) {
			log_err("cannot detach: %s", strerror(-rc));
			return rc;
		}
	}
	if (pid_file && *pid_file) {
		rc = write_pid_file(pid_file);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void daemon_ready(void)
{
	char ok = 0;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, &ok, 1) != 1)
		log_warn("could not release the waiting parent: %s", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

void daemon_stop(void)
{
	if (pid_path) {
		unlink(pid_path);
		free(pid_path);
		pid_path = NULL;
	}
	if (pid_fd >= 0) {
		close(pid_fd);
		pid_fd = -1;
	}
	log_close();
}
