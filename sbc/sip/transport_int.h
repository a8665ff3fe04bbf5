/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the SIP transport layer: the structures shared by transport.c (layer,
 * connection table, send routing, bursts), udp.c, tcp.c (stream connections)
 * and tls.c (OpenSSL).
 *
 * Bursts. Every receive handler (UDP batch, stream read) runs between
 * tp_burst_begin() and tp_burst_end(). Inside a burst, UDP sends are copied
 * into the layer's TX batch and stream sends are appended to the connection's
 * output queue (the connection joins the flush list); tp_burst_end() sends the
 * UDP batch with one sendmmsg per socket and writes each listed connection
 * once. Outside a burst every send goes out at once.
 *
 * Connection life (state table):
 *
 *   state        events            timer                    leaves by
 *   CONNECTING   EPOLLOUT          connect_timeout          connected -> HANDSHAKE (TLS) / OPEN
 *   HANDSHAKE    IN | OUT if want  connect_timeout          handshake done -> OPEN
 *   OPEN         IN | OUT if queue idle_timeout (lazy)      EOF, error, idle, close
 *
 * Closing: conn_close() unregisters, closes the fd, unlinks the connection from
 * the tables and calls the close handler at once. From paths that a user call
 * can reach (sip_transport_send, sip_transport_flow_close), conn_close_later()
 * marks the connection closing (it is no longer found nor written to) and lets
 * its timer fire with delay 0, so that the close handler never runs inside the
 * caller's send. The memory is freed by conn_release() once nothing is using it:
 * not inside its own I/O handler (busy) and not on the flush list.
 */
#ifndef SBC_SIP_TRANSPORT_INT_H
#define SBC_SIP_TRANSPORT_INT_H

#include <netinet/in.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/sa.h"
#include "common/timer.h"
#include "transport.h"

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define TP_MAX_LISTENERS 64

#define UDP_BATCH     32	   /* datagrams per recvmmsg */
#define UDP_ROUNDS    4		   /* recvmmsg calls per readiness */
#define UDP_BUFSZ     65536	   /* a datagram never exceeds this */
#define UDP_TX_MAX    64	   /* datagrams per TX batch */
#define UDP_TX_ARENA  (256 * 1024) /* bytes per TX batch */
#define UDP_CTRL_SIZE 64	   /* >= CMSG_SPACE(sizeof(struct in6_pktinfo)) */

#define STREAM_READ_SIZE 65536 /* scratch buffer for stream reads */

enum conn_state {
	CONN_CONNECTING,
	CONN_HANDSHAKE,
	CONN_OPEN,
};

struct sip_listener {
	struct sip_transport *tp;
	uint16_t idx;
	enum sip_proto proto;
	int fd;
	bool wildcard;	     /* bound to 0.0.0.0 or ::, so flows carry the real local address */
	struct sa addr;	     /* as bound (with the port picked for port 0) */
	struct sa advertise; /* public address for Via/Contact, or unset (sent_by.c) */
	char name[32];
	struct sip_transport_stats st;
	SSL_CTX *srv_ctx;     /* TLS: accepted connections */
	SSL_CTX *cli_ctx;     /* TLS: connections we open */
	struct timer pause;   /* accept paused after EMFILE/ENFILE */
	uint32_t udp_pending; /* entries of this listener in the TX batch */
};

struct ip_count {
	struct ip_count *next;
	uint32_t count;
	struct sa addr; /* port 0 */
};

struct sip_conn {
	uint64_t id;
	struct sip_transport *tp;
	struct sip_listener *li;
	int fd;
	enum conn_state state;
	uint32_t events; /* epoll interest as last set */
	bool outgoing;
	bool busy;	   /* inside its own I/O handler */
	bool closed;	   /* unlinked and fd closed; freed by conn_release */
	bool closing;	   /* conn_close_later: waiting for its timer */
	bool flush_queued; /* on tp->flush_head */
	bool rd_want_wr;   /* TLS: SSL_read needs the socket writable */
	bool wr_want_rd;   /* TLS: SSL_write needs the socket readable */
	bool hs_want_wr;   /* TLS: handshake needs the socket writable */
	bool hdr_done;	   /* the partial input message has its blank line */
	bool ping_out;	   /* we sent a CRLFCRLF ping: a lone CRLF now is its pong */
	bool rd_eof;	   /* TLS: the socket read returned end of file */
	int close_reason;
	uint32_t hdr_scanned; /* bytes of the partial message searched for the blank line */
	uint64_t last_ms;     /* last byte read or written */
	struct timer timer;
	struct sip_flow flow;
	SSL *ssl;
	char *tls_name; /* client side: the name the server was verified for */
	/* input: a partial message (only while one is pending) */
	char *in;
	uint32_t in_len, in_cap;
	/* output queue: out[out_off .. out_off + out_len) */
	char *out;
	size_t out_off, out_len, out_cap;
	/* tables */
	struct sip_conn *id_next;
	struct sip_conn *addr_next;
	struct sip_conn *flush_next;
	struct ip_count *ipc; /* accepted connections: the per-source count */
};

struct udp_tx_ent {
	struct sip_listener *li;
	struct sa dst;
	struct sa src; /* set: send from this address (wildcard listeners) */
	uint32_t off, len;
};

struct sip_transport {
	struct loop *loop;
	struct sip_transport_opts o;
	sip_transport_recv_h *recv_h;
	sip_transport_close_h *close_h;
	sip_transport_keepalive_h *keepalive_h;
	void *arg;
	struct sip_listener *li[TP_MAX_LISTENERS];
	unsigned nli;
	struct log_ratelimit rl;

	/* connections */
	uint64_t next_id;
	uint32_t nconns;
	uint32_t mask; /* buckets - 1 */
	struct sip_conn **by_id;
	struct sip_conn **by_addr;
	struct ip_count **by_ip;

	/* bursts */
	unsigned burst;
	struct sip_conn *flush_head;
	char *scratch; /* STREAM_READ_SIZE */

	/* UDP receive: preallocated for one batch */
	char *rx_bufs; /* UDP_BATCH * UDP_BUFSZ */
	struct mmsghdr rx_msgs[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sip_flow rx_flow[UDP_BATCH];
	char rx_ctrl[UDP_BATCH][UDP_CTRL_SIZE];

	/* UDP transmit batch */
	char *tx_arena; /* UDP_TX_ARENA */
	uint32_t tx_n, tx_used;
	struct udp_tx_ent tx[UDP_TX_MAX];
	struct mmsghdr tx_msgs[UDP_TX_MAX];
	struct iovec tx_iov[UDP_TX_MAX];
	char tx_ctrl[UDP_TX_MAX][UDP_CTRL_SIZE];
};

/* transport.c */
void tp_burst_begin(struct sip_transport *tp);
void tp_burst_end(struct sip_transport *tp);
void tp_deliver(struct sip_transport *tp, const struct sip_flow *flow, const char *buf, size_t len);
/* Counts a keep-alive from the peer of @p flow and tells the keep-alive handler. */
void tp_keepalive(struct sip_transport *tp, const struct sip_flow *flow, bool pong);
void tp_conn_link(struct sip_transport *tp, struct sip_conn *c);
void tp_conn_unlink(struct sip_transport *tp, struct sip_conn *c);
struct sip_conn *tp_conn_by_id(const struct sip_transport *tp, uint64_t id);
struct sip_conn *tp_conn_by_addr(const struct sip_transport *tp, const struct sip_listener *li,
				 const struct sa *remote, const char *tls_name);
/* The per-source count of @p remote, created if needed; NULL if out of memory. */
struct ip_count *tp_ip_get(struct sip_transport *tp, const struct sa *remote);
void tp_ip_put(struct sip_transport *tp, struct ip_count *ipc);
static inline uint64_t tp_now(const struct sip_transport *tp)
{
	return loop_now_ms(tp->loop);
}

static inline char *conn_addr(const struct sip_conn *c, char *buf)
{
	return sa_print(&c->flow.remote, buf, SA_STRLEN);
}

/* Logs a peer-triggered event about @p c, at most once per source per interval. */
#define conn_log(c, lvl, fmt, ...)                                                              \
	do {                                                                                    \
		char conn_log_addr_[SA_STRLEN];                                                 \
		log_ratelimited(&(c)->tp->rl, &(c)->flow.remote.u.sa, tp_now((c)->tp), (lvl),   \
				"sip: %s %s %s: " fmt, (c)->li->name,                           \
				sip_proto_name((c)->li->proto), conn_addr((c), conn_log_addr_), \
				##__VA_ARGS__);                                                 \
	} while (0)

/* udp.c */
int udp_open(struct sip_listener *li);
int udp_send(struct sip_listener *li, const struct sa *dst, const struct sa *src, const void *buf,
	     size_t len);
void udp_flush(struct sip_transport *tp);

/* tcp.c */
int stream_open(struct sip_listener *li);
int stream_send(struct sip_conn *c, const void *buf, size_t len);
int stream_connect(struct sip_listener *li, const struct sa *dst, const char *tls_name,
		   struct sip_conn **cp);
void conn_flush_burst(struct sip_conn *c);
void conn_close_later(struct sip_conn *c, int reason);
/* Frees every connection without calling the close handler (sip_transport_free). */
void conn_destroy(struct sip_conn *c);

/* tls.c */
int tls_listener_init(struct sip_listener *li, const struct sip_tls_opts *o);
void tls_listener_free(struct sip_listener *li);
int tls_conn_init(struct sip_conn *c, bool server, const char *name);
/* 0 done, -EAGAIN (hs_want_wr says which way), or a negative errno (logged). */
int tls_handshake(struct sip_conn *c);
/* > 0 bytes, 0 on EOF, -EAGAIN, or a negative errno. */
ssize_t tls_read(struct sip_conn *c, void *buf, size_t len);
ssize_t tls_write(struct sip_conn *c, const void *buf, size_t len);
/* Whether OpenSSL holds decrypted bytes not yet read. */
bool tls_pending(const struct sip_conn *c);
/* Sends close_notify if the handshake is done (no waiting) and frees the SSL. */
void tls_conn_free(struct sip_conn *c);

#endif
