/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_LVL_INFO;

static enum log_target log_target_cur = LOG_TO_STDERR;
static const char *log_ident = "sbc";

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "err",	 [LOG_LVL_WARN] = "warn",   [LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
	[LOG_LVL_ERR] = LOG_ERR,   [LOG_LVL_WARN] = LOG_WARNING, [LOG_LVL_NOTICE] = LOG_NOTICE,
	[LOG_LVL_INFO] = LOG_INFO, [LOG_LVL_DEBUG] = LOG_DEBUG,
};

void log_init(const char *ident, enum log_level level, enum log_target target)
{
	log_ident = ident ? ident : "sbc";
	log_threshold = level;
	log_target_cur = target;
	if (target == LOG_TO_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_close(void)
{
	if (log_target_cur == LOG_TO_SYSLOG)
		closelog();
	log_target_cur = LOG_TO_STDERR;
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

static size_t format_prefix(char *buf, size_t size, enum log_level level)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, size - n, ".%03ldZ %s[%d] %s: ", ts.tv_nsec / 1000000,
			      log_ident, (int)getpid(), log_level_name(level));
	return n < size ? n : size - 1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[2048];
	size_t n = 0;
	va_list ap;
	int len;

	if (log_target_cur == LOG_TO_STDERR)
		n = format_prefix(buf, sizeof(buf), level);

	va_start(ap, fmt);
	len = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	n += (size_t)len;
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2; /* truncated: keep the line ending */

	if (log_target_cur == LOG_TO_SYSLOG) {
		buf[n] = '\0';
		syslog((unsigned)level < sizeof(syslog_prio) / sizeof(syslog_prio[0])
			   ? syslog_prio[level]
			   : LOG_DEBUG,
		       "%s", buf);
		return;
	}
	buf[n++] = '\n';
	/* One write per line: lines of concurrent threads never interleave. */
	ssize_t rc = write(STDERR_FILENO, buf, n);
	(void)rc;
}

void log_ratelimit_init(struct log_ratelimit *rl, uint32_t interval_ms)
{
	memset(rl, 0, sizeof(*rl));
	rl->interval_ms = interval_ms;
}

/* Sources are counted by address only: a sprayer that rotates its ports is one source. */
static uint64_t source_key(const struct sockaddr *src)
{
	uint64_t k = 0xcbf29ce484222325ULL; /* FNV-1a */
	const uint8_t *p;
	size_t len;

	if (src->sa_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)(const void *)src)->sin_addr;
		len = 4;
	} else if (src->sa_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)(const void *)src)->sin6_addr;
		len = 16;
	} else {
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		k = (k ^ p[i]) * 0x100000001b3ULL;
	return k ? k : 1; /* 0 marks a free slot */
}

bool log_ratelimit_allow(struct log_ratelimit *rl, const struct sockaddr *src, uint64_t now_ms,
			 uint32_t *suppressed)
{
	uint64_t key = source_key(src);
	struct log_ratelimit_slot *s = &rl->slot[key % LOG_RATELIMIT_SLOTS];

	*suppressed = 0;
	if (s->key != key) {
		s->key = key;
		s->last_ms = now_ms;
		s->suppressed = 0;
		return true;
	}
	if (now_ms - s->last_ms < rl->interval_ms) {
		s->suppressed++;
		return false;
	}
	*suppressed = s->suppressed;
	s->suppressed = 0;
	s->last_ms = now_ms;
	return true;
}
