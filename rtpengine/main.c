/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtpengine: the media relay, driven over the ng control protocol.
 *
 * Start-up: command line, configuration, dataplane, interfaces, sessions, ng
 * sockets, control socket, the timeout tick; then the event loop until SIGTERM
 * or SIGINT. SIGHUP re-reads the configuration and applies what can change
 * without dropping calls: the log level and the calls.* settings.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "common/ctl.h"
#include "common/daemon.h"
#include "common/http_metrics.h"
#include "common/log.h"
#include "common/loop.h"
#include "dataplane/dataplane.h"
#include "dataplane/sockets/sockets.h"
#include "iface.h"
#include "ng.h"
#include "ng_tcp.h"
#include "ports.h"
#include "relay_metrics.h"
#include "stun_server.h"
#include "rtpengine_conf.h"
#ifdef SBC_HAVE_DPDK
#include "relay_dpdk.h"
#include "relay_dpdk_metrics.h"
#endif

#define TICK_MS 1000

struct relay {
	const struct daemon_opts *opts;
	struct loop *loop;
	struct conf *conf;
	struct rtpengine_conf cfg;
	struct ctl *ctl;
	struct http_metrics *metrics; /* NULL unless metrics.listen is set */
	struct stun_server stun;
	struct ng_server *ng[RTPENGINE_MAX_NG];
	struct ng_tcp *ng_tcp[RTPENGINE_MAX_NG];
	struct dataplane *dp;
	struct iface ifaces[IFACE_MAX];
	unsigned nifaces;
	struct calls *calls;
	struct timer tick;
	uint64_t started_ms;
};

/* The xdp engine's frames, when it runs (dataplane "xdp"). */
static void status_xdp(struct ctl_reply *r, const struct relay *relay)
{
	struct dp_sockets_xdp_stats x;

	if (relay->cfg.backend != RTPENGINE_BACKEND_XDP ||
	    dp_sockets_xdp_stats(relay->dp, &x) != 0 || !x.active)
		return;
	ctl_printf(r,
		   "xdp: sockets=%u rx=%llu tx=%llu slow=%llu dropped=%llu kernel_dropped=%llu"
		   " rx_ring_full=%llu fill_empty=%llu\n",
		   x.sockets, (unsigned long long)x.rx, (unsigned long long)x.tx,
		   (unsigned long long)x.slow, (unsigned long long)x.dropped,
		   (unsigned long long)x.kernel_dropped, (unsigned long long)x.rx_ring_full,
		   (unsigned long long)x.fill_empty);
}

static void status_sessions(struct ctl_reply *r, const struct relay *relay)
{
	const struct calls_counters *cc = calls_counters(relay->calls);

	ctl_printf(r, "dataplane: %s\n", relay->dp->ops->name);
#ifdef SBC_HAVE_DPDK
	if (relay->cfg.backend == RTPENGINE_BACKEND_DPDK)
		relay_dpdk_status(r, relay->dp);
#endif
	status_xdp(r, relay);
	ctl_printf(r, "calls: current=%llu total=%llu timeouts=%llu rejected=%llu\n",
		   (unsigned long long)cc->current, (unsigned long long)cc->total,
		   (unsigned long long)cc->timeouts, (unsigned long long)cc->rejected);
	for (unsigned i = 0; i < relay->nifaces; i++) {
		const struct iface *ifc = &relay->ifaces[i];
		char a[SA_STRLEN], b[SA_STRLEN];

		ctl_printf(r, "interface: %s address=%s advertised=%s ports_free=%u/%u\n",
			   ifc->name, sa_print_addr(&ifc->local, a, sizeof(a)),
			   sa_print_addr(&ifc->advertised, b, sizeof(b)),
			   ports_available(ifc->ports), ports_total(ifc->ports));
	}
}

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
	status_sessions(r, relay);
	if (relay->stun.n) {
		struct dp_flow_stats st;

		stun_server_stats(&relay->stun, &st);
		ctl_printf(r, "stun: ports=%u answered=%llu refused=%llu\n", relay->stun.n,
			   (unsigned long long)st.stun_answered,
			   (unsigned long long)st.stun_refused);
	}
	return 0;
}

static void print_call(const struct call_info *ci, void *arg)
{
	struct ctl_reply *r = arg;

	ctl_printf(r, "%.*s age_s=%llu tags=", (int)ci->call_id.len, ci->call_id.p,
		   (unsigned long long)(ci->age_ms / 1000));
	for (unsigned i = 0; i < ci->ntags; i++)
		ctl_printf(r, "%s%.*s", i ? "," : "", (int)ci->tags[i].len, ci->tags[i].p);
	ctl_printf(r, "\n");
}

static int cmd_calls(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct relay *relay = arg;

	(void)argc;
	(void)argv;
	calls_foreach(relay->calls, loop_now_ms(relay->loop), print_call, r);
	return 0;
}

static void print_stream(const struct stream_info *si, void *arg)
{
	struct ctl_reply *r = arg;
	char a[SA_STRLEN];

	ctl_printf(r,
		   "tag=%.*s media=%u %s iface=%s port=%u latched=%s packets=%llu bytes=%llu "
		   "errors=%llu refused=%llu\n",
		   (int)si->tag.len, si->tag.p, si->media_index, si->is_rtcp ? "rtcp" : "rtp",
		   si->iface, si->local_port, sa_print(&si->latched, a, sizeof(a)),
		   (unsigned long long)si->packets, (unsigned long long)si->bytes,
		   (unsigned long long)si->errors, (unsigned long long)si->refused);
}

static int cmd_streams(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct relay *relay = arg;

	if (argc != 2)
		return ctl_reply_error(r, "usage: streams <call-id>");
	if (calls_foreach_stream(relay->calls, strv_cstr(argv[1]), print_stream, r) < 0)
		return ctl_reply_error(r, "unknown call-id %s", argv[1]);
	return 0;
}

static const struct ctl_command relay_commands[] = {
	{ "status", "version, uptime, configuration, ng and session counters", cmd_status },
	{ "calls", "one line per call: call-id, age, tags", cmd_calls },
	{ "streams", "streams <call-id>: each relay port of the call and its counters",
	  cmd_streams },
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

	struct conf *c = daemon_reload(relay->opts, &rtpengine_conf_schema);
	struct rtpengine_conf cfg;
	char err[1024];

	(void)signo;
	if (!c)
		return;
	if (rtpengine_conf_read(&cfg, c, err, sizeof(err)) == 0) {
		/* interfaces, ng sockets and the dataplane stay as they started */
		calls_set_limits(relay->calls, &(struct calls_limits){
						   .max_sessions = cfg.max_sessions,
						   .timeout_ms = cfg.timeout_ms,
						   .silent_timeout_ms = cfg.silent_timeout_ms,
						   .final_timeout_ms = cfg.final_timeout_ms,
						   .offer_timeout_ms = cfg.offer_timeout_ms,
						   .latch_window_ms = cfg.latch_window_ms,
						   .delete_delay_ms = cfg.delete_delay_ms,
					       });
		log_notice("calls.* settings reloaded");
	} else {
		log_err("%s", err);
	}
	conf_free(c);
}

static void on_tick(void *arg)
{
	struct relay *relay = arg;

	calls_tick(relay->calls, loop_now_ms(relay->loop));
	if (timer_start(loop_timers(relay->loop), &relay->tick, TICK_MS, on_tick, relay) < 0)
		log_err("cannot restart the call timeout timer");
}

static int dataplane_start(struct relay *relay)
{
	struct dp_sockets_conf dc = { .workers = relay->cfg.workers };
	struct sa addrs[IFACE_MAX];
	int rc;

	if (relay->cfg.backend == RTPENGINE_BACKEND_DPDK) {
#ifdef SBC_HAVE_DPDK
		return relay_dpdk_alloc(&relay->dp, &relay->cfg);
#else
		log_err("dataplane backend \"dpdk\": this rtpengine was built without DPDK");
		return -ENOTSUP;
#endif
	}
	if (relay->cfg.backend == RTPENGINE_BACKEND_XDP) {
		/* the XDP program goes on the netdevs of the relay addresses */
		for (unsigned i = 0; i < relay->cfg.nifaces; i++)
			addrs[i] = relay->cfg.ifaces[i].local;
		dc.engine = DP_SOCKETS_ENGINE_XDP;
		dc.xdp_addrs = addrs;
		dc.n_xdp_addrs = relay->cfg.nifaces;
		dc.xdp_frames = relay->cfg.xdp_frames;
	}
	rc = dp_sockets_alloc(&relay->dp, &dc);
	if (rc)
		log_err("sockets dataplane: %s", strerror(-rc));
	return rc;
}

static int sessions_start(struct relay *relay)
{
	struct calls_conf cc = {
		.ifaces = relay->ifaces,
		.limits = {
			.max_sessions = relay->cfg.max_sessions,
			.timeout_ms = relay->cfg.timeout_ms,
			.silent_timeout_ms = relay->cfg.silent_timeout_ms,
			.final_timeout_ms = relay->cfg.final_timeout_ms,
			.offer_timeout_ms = relay->cfg.offer_timeout_ms,
			.latch_window_ms = relay->cfg.latch_window_ms,
			.delete_delay_ms = relay->cfg.delete_delay_ms,
		},
	};
	int rc = dataplane_start(relay);

	if (rc)
		return rc;
	for (unsigned i = 0; i < relay->cfg.nifaces; i++) {
		rc = iface_init(&relay->ifaces[i], &relay->cfg.ifaces[i],
				(uint32_t)clock_monotonic_ms() ^ ((uint32_t)getpid() << 16) ^ i);
		if (rc) {
			log_err("interface %s: %s", relay->cfg.ifaces[i].name, strerror(-rc));
			return rc;
		}
		relay->nifaces = i + 1;
	}
	rc = stun_server_start(&relay->stun, relay->dp, &relay->cfg.stun);
	if (rc)
		return rc;
	cc.dp = relay->dp;
	cc.nifaces = relay->nifaces;
	rc = calls_alloc(&relay->calls, &cc);
	if (rc)
		return rc;
	return timer_start(loop_timers(relay->loop), &relay->tick, TICK_MS, on_tick, relay);
}

static void write_metrics(struct metrics_writer *w, void *arg)
{
	const struct relay *relay = arg;
	struct dp_sockets_xdp_stats xdp;
	bool xdp_on = relay->cfg.backend == RTPENGINE_BACKEND_XDP &&
		      dp_sockets_xdp_stats(relay->dp, &xdp) == 0 && xdp.active;
	const struct relay_metrics_src src = {
		.calls = relay->calls,
		.ng = relay->ng,
		.nng = relay->cfg.nng,
		.ifaces = relay->ifaces,
		.nifaces = relay->nifaces,
		.backend = relay->dp->ops->name,
		.workers = xdp_on ? 1 : relay->cfg.workers,
		.uptime_s = (loop_now_ms(relay->loop) - relay->started_ms) / 1000,
		.xdp = xdp_on ? &xdp : NULL,
	};

	relay_metrics_write(w, &src);
#ifdef SBC_HAVE_DPDK
	if (relay->cfg.backend == RTPENGINE_BACKEND_DPDK)
		relay_dpdk_metrics_write(w, relay->dp);
#endif
}

static int metrics_start(struct relay *relay)
{
	char a[SA_STRLEN];
	int rc;

	if (!sa_isset(&relay->cfg.metrics))
		return 0;
	sa_print(&relay->cfg.metrics, a, sizeof(a));
	rc = http_metrics_alloc(&relay->metrics, relay->loop, &relay->cfg.metrics, NULL,
				write_metrics, relay);
	if (rc) {
		log_err("cannot serve metrics on http://%s/metrics: %s", a, strerror(-rc));
		return rc;
	}
	log_notice("metrics on http://%s/metrics", a);
	return 0;
}

/* ng over TCP: answered by the first UDP server, so both share sessions and reply cache */
static int ng_tcp_start(struct relay *relay)
{
	for (unsigned i = 0; i < relay->cfg.nng_tcp; i++) {
		char a[SA_STRLEN];
		struct ng_tcp_limits lim = { .idle_ms = relay->cfg.ng_tcp_idle_ms };
		int rc = ng_tcp_alloc(&relay->ng_tcp[i], relay->loop, &relay->cfg.ng_tcp[i],
				      relay->ng[0], &lim);

		sa_print(&relay->cfg.ng_tcp[i], a, sizeof(a));
		if (rc) {
			log_err("cannot listen for ng on tcp:%s: %s", a, strerror(-rc));
			return rc;
		}
		log_notice("ng control listening on tcp:%s", a);
	}
	return 0;
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
	rc = sessions_start(relay);
	if (rc)
		return rc;
	for (unsigned i = 0; i < relay->cfg.nng; i++) {
		char a[SA_STRLEN];

		sa_print(&relay->cfg.ng[i], a, sizeof(a));
		rc = ng_server_alloc(&relay->ng[i], relay->loop, &relay->cfg.ng[i], relay->calls);
		if (rc) {
			log_err("cannot listen for ng on udp:%s: %s", a, strerror(-rc));
			return rc;
		}
		log_notice("ng control listening on udp:%s", a);
	}
	rc = ng_tcp_start(relay);
	if (rc)
		return rc;
	rc = ctl_alloc(&relay->ctl, relay->loop, relay->cfg.control_socket, relay_commands,
		       sizeof(relay_commands) / sizeof(relay_commands[0]), relay);
	if (rc) {
		log_err("control socket %s: %s", relay->cfg.control_socket, strerror(-rc));
		return rc;
	}
	log_notice("control socket %s", relay->cfg.control_socket);
	return metrics_start(relay);
}

static void relay_stop(struct relay *relay)
{
	http_metrics_free(relay->metrics);
	ctl_free(relay->ctl);
	for (unsigned i = 0; i < RTPENGINE_MAX_NG; i++)
		ng_tcp_free(relay->ng_tcp[i]); /* before the servers that answer for them */
	for (unsigned i = 0; i < RTPENGINE_MAX_NG; i++)
		ng_server_free(relay->ng[i]);
	if (relay->loop)
		timer_cancel(loop_timers(relay->loop), &relay->tick);
	/* calls first: deleting them deletes their flows in the dataplane */
	calls_free(relay->calls);
	if (relay->dp)
		stun_server_stop(&relay->stun);
	for (unsigned i = 0; i < relay->nifaces; i++)
		iface_clear(&relay->ifaces[i]);
	dataplane_free(relay->dp);
#ifdef SBC_HAVE_DPDK
	relay_dpdk_cleanup();
#endif
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
