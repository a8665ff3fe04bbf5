/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file log.h  Logging with levels, to stderr or syslog.
 *
 * The level check happens in the macro, before any argument is formatted, so a
 * disabled debug line costs one compare. Each message is formatted into one
 * buffer and written with one write(2), so lines of concurrent threads never
 * interleave. For messages that a remote peer can trigger at will (one per bad
 * packet), use log_ratelimit: at most one line per source per interval, with a
 * count of what was suppressed.
 */
#ifndef SBC_LOG_H
#define SBC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_target {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG,
};

/** Only messages at or below this level are formatted. Set by log_init. */
extern enum log_level log_threshold;

void log_init(const char *ident, enum log_level level, enum log_target target);
void log_close(void);

/** @return 0, or -EINVAL for a name other than err/warn/notice/info/debug. */
int log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(lvl, ...)                             \
	do {                                         \
		if ((lvl) <= log_threshold)          \
			log_msg((lvl), __VA_ARGS__); \
	} while (0)

#define log_err(...)	LOG_AT(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	LOG_AT(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) LOG_AT(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	LOG_AT(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	LOG_AT(LOG_LVL_DEBUG, __VA_ARGS__)

/**
 * Per-source rate limiting. A fixed table of slots hashed by source address:
 * no allocation, bounded memory whatever the number of sources (a collision
 * evicts the older source, which at worst lets one extra line through).
 * Not thread-safe: one table per thread.
 */
#define LOG_RATELIMIT_SLOTS 256

struct log_ratelimit_slot {
	uint64_t key;
	uint64_t last_ms;
	uint32_t suppressed;
};

struct log_ratelimit {
	uint32_t interval_ms;
	struct log_ratelimit_slot slot[LOG_RATELIMIT_SLOTS];
};

void log_ratelimit_init(struct log_ratelimit *rl, uint32_t interval_ms);

/**
 * Decides whether a message about @p src may be logged at @p now_ms.
 * @param suppressed set to the number of messages about this source that
 *        were refused since the last allowed one (to append to the line).
 */
bool log_ratelimit_allow(struct log_ratelimit *rl, const struct sockaddr *src, uint64_t now_ms,
			 uint32_t *suppressed);

/** Logs at @p level at most once per interval per source, noting suppressed lines. */
#define log_ratelimited(rl, src, now_ms, lvl, fmt, ...)                                       \
	do {                                                                                  \
		uint32_t log_rl_supp_;                                                        \
		if ((lvl) <= log_threshold &&                                                 \
		    log_ratelimit_allow((rl), (src), (now_ms), &log_rl_supp_)) {              \
			if (log_rl_supp_)                                                     \
				log_msg((lvl), fmt " (%u similar suppressed)", ##__VA_ARGS__, \
					log_rl_supp_);                                        \
			else                                                                  \
				log_msg((lvl), fmt, ##__VA_ARGS__);                           \
		}                                                                             \
	} while (0)

#endif
