/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sip_server.h  The SIP stack of the sbc daemon, assembled.
 *
 * transport (UDP/TCP/TLS listeners) -> parser -> transaction layer -> the
 * services that answer requests. Messages that cannot be parsed are answered
 * statelessly with the parser's status and reason (400, 413, 505, 513) when
 * they carry enough to address a response, and dropped otherwise; both are
 * counted. Services: OPTIONS to the SBC itself (keep-alive pings of
 * phones and trunks) is answered 200 with what the SBC supports; INVITEs,
 * in-dialog requests, CANCELs and 2xx ACKs go to the B2BUA (b2bua/b2bua.h),
 * which sends calls to b2bua.default_route; other methods get 501.
 *
 * Responses follow RFC 3581: they go back over the flow the request came by
 * (same socket, same connection), and the top Via gets received= and rport=.
 */
#ifndef SBC_SIP_SERVER_H
#define SBC_SIP_SERVER_H

#include <stdint.h>

struct loop;
struct sbc_conf;
struct ctl_reply;
struct sip_server;
struct sip_transport;
struct sip_tsx_layer;
struct b2bua;
struct registrar;
struct keepalive;
struct cdr_writer;
struct media;
struct msg_counters;

/** Opens the listeners of @p cfg (logged); @p cfg must outlive the server. */
int sip_server_alloc(struct sip_server **sp, struct loop *l, const struct sbc_conf *cfg);
void sip_server_free(struct sip_server *s);

/** SIGHUP: reopens the CDR file (after logrotate moved it). */
void sip_server_reopen(struct sip_server *s);

/** The server's parts and counters, for metrics (sbc_metrics.h); NULL: not running. */
struct sip_server_parts {
	struct sip_transport *tp;
	struct sip_tsx_layer *tsx;
	struct b2bua *b2b;
	struct registrar *reg;
	struct keepalive *ka;
	struct cdr_writer *cdr;
	struct media *media;
	const struct msg_counters *rx; /**< parsed messages received */
	const struct msg_counters *tx; /**< sent through transactions, and stateless answers */
	uint64_t invalid;	       /**< messages the parser refused */
	uint64_t invalid_sent;	       /**< ... of which answered (400 and friends) */
};
void sip_server_parts(const struct sip_server *s, struct sip_server_parts *out);

/** Listeners and counters, for `sbcctl status`. */
void sip_server_print_status(const struct sip_server *s, struct ctl_reply *r);

#endif
