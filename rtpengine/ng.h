/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng.h  The ng control protocol server: "<cookie> <bencode dict>" over UDP.
 * (Over TCP, ng_tcp.h cuts commands out of the stream and has them answered here.)
 *
 * Speaks the protocol of Sipwise rtpengine so that Kamailio's and OpenSIPS's
 * rtpengine modules, and our sbc, drive this daemon. Every datagram that
 * carries a cookie gets an answer: the command's result, or
 * `result: error` with an `error-reason`. Datagrams without a cookie cannot be
 * answered and are dropped (and counted).
 *
 * Commands: ping, offer, answer, delete, query, list, statistics (see call.h for what they do
 * to sessions, ng_params.h for the keys and flags understood). Unknown keys and flags are
 * ignored and named in a `warning` string of the reply. When `max_sessions` is reached, an
 * offer for a new call gets `result: load limit` (with `message`) if the command said
 * `supports: ["load limit"]`, else `result: error`. A `delete` of an unknown call answers
 * `result: ok` with the warning "Call-ID not found or tags didn't match" (as Sipwise), an
 * error only with the flag `fatal`.
 *
 * Retransmissions: replies are cached by sender address and cookie for 30 s (ng_cache.h); a
 * command whose cookie is cached for its sender is answered with the same bytes and not run
 * again.
 *
 * Extension, teardown notifications: an offer with the flag `teardown-notify` asks to be told
 * when the relay deletes the call on its own (a timeout). The relay then sends, from the ng
 * socket that received the call's last command, to the address that sent it, a datagram
 *   "<fresh cookie> d7:command8:teardown7:call-id<..>8:from-tag<..>6:reason<..>e"
 * with reason "timeout" (no RTP for `timeout`, or `silent_timeout` on hold), "final-timeout"
 * or "offer-timeout". It expects no answer and never retransmits. Over TCP (ng_tcp.h) the
 * notification goes as a command on the connection the call's last command came on, or, if
 * that one closed, on the newest connection from the same IP (a client that reconnected);
 * with none open it is lost. A client's answer to a notification (a dict with `result` and
 * no `command`) is not answered, on either transport. Sipwise rtpengine ignores the unknown
 * flag, and Kamailio never sends it, so their set-ups see nothing new.
 */
#ifndef SBC_RTPENGINE_NG_H
#define SBC_RTPENGINE_NG_H

#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"

/**
 * What carries teardown notifications back to where a call's last command came from: the
 * UDP socket (ng.c) or a TCP connection (ng_tcp.c). @p conn: the connection the command came
 * on (0 for a datagram). @return 0 or a negative errno (the notification is lost).
 */
struct ng_notifier {
	int (*send)(struct ng_notifier *n, const struct sa *to, uint64_t conn, const char *msg,
		    size_t len);
	struct ng_server *server; /**< counts the notification, numbers its cookie */
};

struct loop;
struct calls;
struct ng_server;

/** Commands as counted in ng_stats.results (the order of the protocol's list above). */
enum ng_cmd {
	NG_CMD_PING = 0,
	NG_CMD_OFFER,
	NG_CMD_ANSWER,
	NG_CMD_DELETE,
	NG_CMD_QUERY,
	NG_CMD_LIST,
	NG_CMD_STATISTICS,
	NG_CMD_OTHER, /**< unknown, missing, or not even a dictionary */
	NG_CMD_MAX,
};

/** The `result` of a reply. */
enum ng_result {
	NG_RESULT_OK = 0,
	NG_RESULT_PONG,
	NG_RESULT_ERROR,
	NG_RESULT_LOAD_LIMIT,
	NG_RESULT_MAX,
};

/** "ping", ..., "statistics", "other". */
const char *ng_cmd_name(enum ng_cmd c);
/** "ok", "pong", "error", "load limit". */
const char *ng_result_name(enum ng_result r);

struct ng_stats {
	uint64_t commands;			     /**< datagrams answered */
	uint64_t errors;			     /**< answered with result: error */
	uint64_t dropped;			     /**< no cookie: nobody to answer */
	uint64_t retransmits;			     /**< answered from the reply cache */
	uint64_t teardowns;			     /**< teardown notifications sent */
	uint64_t results[NG_CMD_MAX][NG_RESULT_MAX]; /**< commands answered (cache hits not) */
};

/**
 * Binds the ng socket on @p addr; commands act on @p calls (shared by every ng server of the
 * daemon). @return 0 or a negative errno.
 */
int ng_server_alloc(struct ng_server **sp, struct loop *l, const struct sa *addr,
		    struct calls *calls);
void ng_server_free(struct ng_server *s);
const struct ng_stats *ng_server_stats(const struct ng_server *s);
/** The bound address (with the port the kernel chose when @p addr had port 0). */
const struct sa *ng_server_addr(const struct ng_server *s);

/**
 * Answers one request datagram (the whole "<cookie> <dict>") from @p from (NULL: unknown) into
 * @p reply. Exposed for tests and fuzzing.
 * @return the reply length, 0 when there is nothing to answer (a client's reply to a
 * notification), or -1 when the request cannot be answered.
 */
int ng_process_from(struct ng_server *s, const char *req, size_t len, const struct sa *from,
		    char *reply, size_t reply_size);
/**
 * ng_process_from() for a command read from stream connection @p conn (ng_tcp.h) of @p peer:
 * the reply cache is keyed on the peer's address without its port; teardown notifications of
 * the call go through @p via (NULL: none) on that connection.
 */
int ng_process_stream(struct ng_server *s, const char *req, size_t len, const struct sa *peer,
		      struct ng_notifier *via, uint64_t conn, char *reply, size_t reply_size);
/** ng_process_from() with an unknown sender. */
int ng_process(struct ng_server *s, const char *req, size_t len, char *reply, size_t reply_size);

#endif
