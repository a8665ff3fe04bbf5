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
#include <sys/socket.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/loop.h"
#include "sbc_conf.h"

#define RX_BATCH 32
#define RX_BUFSZ 65536

struct sbc_listener {
	int fd;
	const struct sbc_listen_conf *conf;
	uint64_t rx_datagrams;
};

struct sbc {
	const struct daemon_opts *opts;
	struct loop *loop;
	struct conf *conf;
	struct sbc_conf cfg;
	struct ctl *ctl;
	struct sbc_listener listeners[SBC_MAX_LISTENERS];
	unsigned nlisteners;
	uint64_t started_ms;
};

/*
 * Until the SIP stack lands (transport, parser, transactions), what arrives is
 * read in batches and counted, so the sockets never fill up.
 */
static void listener_readable(int fd, uint32_t events, void *arg)
{
	static char bufs[RX_BATCH][RX_BUFSZ];
	struct sbc_listener *li = arg;
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	int n;

	(void)events;
	for (unsigned i = 0; i < RX_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = RX_BUFSZ };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
	if (n > 0)
		li->rx_datagrams += (uint64_t)n;
}

static int listener_open(struct sbc *sbc, const struct sbc_listen_conf *lc)
{
	struct sbc_listener *li = &sbc->listeners[sbc->nlisteners];
	char addr[SA_STRLEN];
	int one = 1, rc;

	sa_print(&lc->addr, addr, sizeof(addr));
	li->conf = lc;
	li->fd = socket(sa_family(&lc->addr), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (li->fd < 0)
		goto fail;
	if (sa_family(&lc->addr) == AF_INET6)
		setsockopt(li->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(li->fd, &lc->addr.u.sa, lc->addr.len) < 0)
		goto fail;
	rc = loop_fd_add(sbc->loop, li->fd, EPOLLIN, listener_readable, li);
	if (rc) {
		errno = -rc;
		goto fail;
	}
	sbc->nlisteners++;
	log_notice("SIP listening on udp:%s (interface %s)", addr, lc->interface);
	return 0;
fail:
	rc = -errno;
	log_err("cannot listen on udp:%s: %s", addr, strerror(errno));
	if (li->fd >= 0)
		close(li->fd);
	return rc;
}

static void listeners_close(struct sbc *sbc)
{
	for (unsigned i = 0; i < sbc->nlisteners; i++) {
		loop_fd_remove(sbc->loop, sbc->listeners[i].fd);
		close(sbc->listeners[i].fd);
	}
	sbc->nlisteners = 0;
}

static int cmd_status(struct ctl_reply *r, int argc, char **argv, void *arg)
{
	struct sbc *sbc = arg;

	(void)argc;
	(void)argv;
	ctl_printf(r, "version: %s\nuptime_s: %llu\nconfig: %s\nlog_level: %s\n", SBC_VERSION,
		   (unsigned long long)((loop_now_ms(sbc->loop) - sbc->started_ms) / 1000),
		   conf_file(sbc->conf) ? conf_file(sbc->conf) : "(built-in defaults)",
		   log_level_name(log_threshold));
	for (unsigned i = 0; i < sbc->nlisteners; i++) {
		char addr[SA_STRLEN];

		ctl_printf(r, "listen: udp:%s interface=%s rx_datagrams=%llu\n",
			   sa_print(&sbc->listeners[i].conf->addr, addr, sizeof(addr)),
			   sbc->listeners[i].conf->interface,
			   (unsigned long long)sbc->listeners[i].rx_datagrams);
	}
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
	for (unsigned i = 0; i < sbc->cfg.nlisten; i++) {
		rc = listener_open(sbc, &sbc->cfg.listen[i]);
		if (rc)
			return rc;
	}
	rc = ctl_alloc(&sbc->ctl, sbc->loop, sbc->cfg.control_socket, sbc_commands,
		       sizeof(sbc_commands) / sizeof(sbc_commands[0]), sbc);
	if (rc) {
		log_err("control socket %s: %s", sbc->cfg.control_socket, strerror(-rc));
		return rc;
	}
	log_notice("control socket %s", sbc->cfg.control_socket);
	return 0;
}

static void sbc_stop(struct sbc *sbc)
{
	ctl_free(sbc->ctl);
	if (sbc->loop) {
		listeners_close(sbc);
		loop_free(sbc->loop);
	}
	conf_free(sbc->conf);
}

int main(int argc, char **argv)
{
	struct daemon_opts opts;
	struct sbc sbc = { .opts = &opts };
	int rc;

	daemon_parse_args(&opts, argc, argv, "sbc", "SIP session border controller (B2BUA).");
	sbc.conf = daemon_load_config(&opts, &sbc_conf_schema);
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
