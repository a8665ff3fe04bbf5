/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sbc: the SIP back-to-back user agent at the network edge.
 *
 * Start-up: command line, configuration, sockets, control socket; then the
 * event loop until SIGTERM or SIGINT. SIGHUP re-reads the configuration and
 * applies what can change without dropping calls (today: the log level).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/daemon.h"
#include "common/http_metrics.h"
#include "common/log.h"
#include "common/loop.h"
#include "sbc_conf.h"
#include "sbc_metrics.h"
#include "sip_server.h"

struct sbc {
	const struct daemon_opts *opts;
	struct loop *loop;
	struct conf *conf;
	struct sbc_conf cfg;
	struct ctl *ctl;
	struct sip_server *sip;
	struct http_metrics *metrics; /* NULL unless metrics.listen is set */
	uint64_t started_ms;
};

static int cmd_status(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct sbc *sbc = arg;

	(void)argc;
	(void)argv;
	ctl_printf(r, "version: %s\nuptime_s: %llu\nconfig: %s\nlog_level: %s\n", SBC_VERSION,
		   (unsigned long long)((loop_now_ms(sbc->loop) - sbc->started_ms) / 1000),
		   conf_file(sbc->conf) ? conf_file(sbc->conf) : "(built-in defaults)",
		   log_level_name(log_threshold));
	sip_server_print_status(sbc->sip, r);
	return 0;
}

static const struct ctl_command sbc_commands[] = {
	{ "status", "version, uptime, configuration and listeners", cmd_status },
};

static void on_stop(int signo, void *arg)
{
	struct sbc *sbc = arg;

	log_notice("%s received, stopping", strsignal(signo));
	loop_stop(sbc->loop);
}

/* What a reload may change: today the log level. Sockets stay as they are. */
static void on_reload(int signo, void *arg)
{
	struct sbc *sbc = arg;

	(void)signo;
	conf_free(daemon_reload(sbc->opts, &sbc_conf_schema));
	sip_server_reopen(sbc->sip);
}

static void write_metrics(struct metrics_writer *w, void *arg)
{
	const struct sbc *sbc = arg;

	sbc_metrics_write(w, sbc->sip, (loop_now_ms(sbc->loop) - sbc->started_ms) / 1000);
}

static int metrics_start(struct sbc *sbc)
{
	char a[SA_STRLEN];
	int rc;

	if (!sa_isset(&sbc->cfg.metrics))
		return 0;
	sa_print(&sbc->cfg.metrics, a, sizeof(a));
	rc = http_metrics_alloc(&sbc->metrics, sbc->loop, &sbc->cfg.metrics, NULL, write_metrics,
				sbc);
	if (rc) {
		log_err("cannot serve metrics on http://%s/metrics: %s", a, strerror(-rc));
		return rc;
	}
	log_notice("metrics on http://%s/metrics", a);
	return 0;
}

static int sbc_start(struct sbc *sbc)
{
	char err[1024];
	int rc;

	rc = sbc_conf_read(&sbc->cfg, sbc->conf, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return rc;
	}
	rc = loop_alloc(&sbc->loop);
	if (rc)
		return rc;
	sbc->started_ms = loop_now_ms(sbc->loop);
	if ((rc = loop_signal_add(sbc->loop, SIGTERM, on_stop, sbc)) ||
	    (rc = loop_signal_add(sbc->loop, SIGINT, on_stop, sbc)) ||
	    (rc = loop_signal_add(sbc->loop, SIGHUP, on_reload, sbc)))
		return rc;
	rc = sip_server_alloc(&sbc->sip, sbc->loop, &sbc->cfg);
	if (rc)
		return rc;
	rc = ctl_alloc(&sbc->ctl, sbc->loop, sbc->cfg.control_socket, sbc_commands,
		       sizeof(sbc_commands) / sizeof(sbc_commands[0]), sbc);
	if (rc) {
		log_err("control socket %s: %s", sbc->cfg.control_socket, strerror(-rc));
		return rc;
	}
	log_notice("control socket %s", sbc->cfg.control_socket);
	return metrics_start(sbc);
}

static void sbc_stop(struct sbc *sbc)
{
	http_metrics_free(sbc->metrics);
	ctl_free(sbc->ctl);
	sip_server_free(sbc->sip);
	if (sbc->loop)
		loop_free(sbc->loop);
	sbc_conf_clear(&sbc->cfg);
	conf_free(sbc->conf);
}

/* sbc -t checks everything start-up checks: listeners, routes, users. */
static int sbc_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct sbc_conf cfg;
	int rc = sbc_conf_read(&cfg, c, err, errlen);

	if (rc == 0)
		sbc_conf_clear(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct daemon_opts opts;
	struct sbc sbc = { .opts = &opts };
	int rc;

	daemon_parse_args(&opts, argc, argv, "sbc", "SIP session border controller (B2BUA).");
	sbc.conf = daemon_load_config(&opts, &sbc_conf_schema, sbc_conf_check);
	rc = daemon_start(&opts, sbc.conf);
	if (rc == 0)
		rc = sbc_start(&sbc);
	if (rc == 0) {
		log_notice("sbc %s running, pid %d; stop with SIGTERM (kill %d) or Ctrl-C",
			   SBC_VERSION, (int)getpid(), (int)getpid());
		daemon_ready();
		rc = loop_run(sbc.loop);
	}
	sbc_stop(&sbc);
	log_notice("sbc stopped");
	daemon_stop();
	return rc ? 1 : 0;
}
