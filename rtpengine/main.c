/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtpengine: the media relay, driven over the ng control protocol.
 *
 * Start-up: command line, configuration, ng sockets, control socket; then the
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
#include "common/log.h"
#include "common/loop.h"
#include "ng.h"
#include "rtpengine_conf.h"

struct relay {
	const struct daemon_opts *opts;
	struct loop *loop;
	struct conf *conf;
	struct rtpengine_conf cfg;
	struct ctl *ctl;
	struct ng_server *ng[RTPENGINE_MAX_NG];
	uint64_t started_ms;
};

static int cmd_status(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct relay *relay = arg;

	(void)argc;
	(void)argv;
	ctl_printf(r, "version: %s\nuptime_s: %llu\nconfig: %s\nlog_level: %s\n", SBC_VERSION,
		   (unsigned long long)((loop_now_ms(relay->loop) - relay->started_ms) / 1000),
		   conf_file(relay->conf) ? conf_file(relay->conf) : "(built-in defaults)",
		   log_level_name(log_threshold));
	for (unsigned i = 0; i < relay->cfg.nng; i++) {
		const struct ng_stats *st = ng_server_stats(relay->ng[i]);
		char a[SA_STRLEN];

		ctl_printf(r, "ng: udp:%s commands=%llu errors=%llu dropped=%llu\n",
			   sa_print(&relay->cfg.ng[i], a, sizeof(a)),
			   (unsigned long long)st->commands, (unsigned long long)st->errors,
			   (unsigned long long)st->dropped);
	}
	return 0;
}

static const struct ctl_command relay_commands[] = {
	{ "status", "version, uptime, configuration and ng counters", cmd_status },
};

static void on_stop(int signo, void *arg)
{
	struct relay *relay = arg;

	log_notice("%s received, stopping", strsignal(signo));
	loop_stop(relay->loop);
}

static void on_reload(int signo, void *arg)
{
	struct relay *relay = arg;

	(void)signo;
	conf_free(daemon_reload(relay->opts, &rtpengine_conf_schema));
}

static int relay_start(struct relay *relay)
{
	char err[1024];
	int rc;

	rc = rtpengine_conf_read(&relay->cfg, relay->conf, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return rc;
	}
	rc = loop_alloc(&relay->loop);
	if (rc)
		return rc;
	relay->started_ms = loop_now_ms(relay->loop);
	if ((rc = loop_signal_add(relay->loop, SIGTERM, on_stop, relay)) ||
	    (rc = loop_signal_add(relay->loop, SIGINT, on_stop, relay)) ||
	    (rc = loop_signal_add(relay->loop, SIGHUP, on_reload, relay)))
		return rc;
	for (unsigned i = 0; i < relay->cfg.nng; i++) {
		char a[SA_STRLEN];

		sa_print(&relay->cfg.ng[i], a, sizeof(a));
		rc = ng_server_alloc(&relay->ng[i], relay->loop, &relay->cfg.ng[i]);
		if (rc) {
			log_err("cannot listen for ng on udp:%s: %s", a, strerror(-rc));
			return rc;
		}
		log_notice("ng control listening on udp:%s", a);
	}
	rc = ctl_alloc(&relay->ctl, relay->loop, relay->cfg.control_socket, relay_commands,
		       sizeof(relay_commands) / sizeof(relay_commands[0]), relay);
	if (rc) {
		log_err("control socket %s: %s", relay->cfg.control_socket, strerror(-rc));
		return rc;
	}
	log_notice("control socket %s", relay->cfg.control_socket);
	return 0;
}

static void relay_stop(struct relay *relay)
{
	ctl_free(relay->ctl);
	for (unsigned i = 0; i < RTPENGINE_MAX_NG; i++)
		ng_server_free(relay->ng[i]);
	if (relay->loop)
		loop_free(relay->loop);
	conf_free(relay->conf);
}

static int relay_conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct rtpengine_conf cfg;

	return rtpengine_conf_read(&cfg, c, err, errlen);
}

int main(int argc, char **argv)
{
	struct daemon_opts opts;
	struct relay relay = { .opts = &opts };
	int rc;

	daemon_parse_args(&opts, argc, argv, "rtpengine", "Media relay driven by the ng protocol.");
	relay.conf = daemon_load_config(&opts, &rtpengine_conf_schema, relay_conf_check);
	rc = daemon_start(&opts, relay.conf);
	if (rc == 0)
		rc = relay_start(&relay);
	if (rc == 0) {
		log_notice("rtpengine %s running, pid %d; stop with SIGTERM (kill %d) or Ctrl-C",
			   SBC_VERSION, (int)getpid(), (int)getpid());
		daemon_ready();
		rc = loop_run(relay.loop);
	}
	relay_stop(&relay);
	log_notice("rtpengine stopped");
	daemon_stop();
	return rc ? 1 : 0;
}
