/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the sockets backend. Who owns what:
 *
 * - The control thread allocates a flow, binds its socket and hands it to a worker (CMD_ADD).
 *   It alone frees the flow and closes the socket, after the worker acknowledged CMD_DEL.
 * - The worker owns everything under "worker-owned": it changes them only from commands and
 *   packets. Linked flows share the worker, so `out` is read by the thread that owns it.
 * - Counters and the published latch are written by the worker only and read by the control
 *   thread with relaxed atomic loads (single writer: plain load + store, no read-modify-write).
 */
#ifndef SBC_DATAPLANE_SOCKETS_INT_H
#define SBC_DATAPLANE_SOCKETS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "dataplane/latch.h"
#include "pub_addr.h"
#include "ring.h"
#include "sockets.h"

struct sk_counters {
	_Atomic uint64_t packets;
	_Atomic uint64_t bytes;
	_Atomic uint64_t errors;
	_Atomic uint64_t refused;
	_Atomic uint64_t stun_answered;
	_Atomic uint64_t stun_refused;
	_Atomic uint64_t last_packet_ms;
	atomic_uint ssrc;
	struct pub_addr latched;
};

/* What signalling tells the worker about a flow (a copy travels in each command). */
struct sk_signalled {
	struct latch_params latch;
	char ice_ufrag[DP_ICE_UFRAG_MAX];
	char ice_pwd[DP_ICE_PWD_MAX];
	bool is_rtcp;
};

/* The xdp engine's state of a flow (worker-owned; zero under the other engines). */
struct sk_xflow {
	int ifindex;	     /* the netdev carrying the local address, 0: not on an XDP netdev */
	bool mapped;	     /* in the XDP program's map */
	int peer_ifindex;    /* where the latched peer's last frame came in */
	uint8_t peer_mac[6]; /* its source MAC: our next hop towards that peer */
	struct sa peer;	     /* the latched address that MAC was seen with */
};

/* The kinds of link of a flow (dp_flow_link, dp_flow_link_rtcp). */
enum sk_link_kind {
	SK_LINK_MEDIA = 0,
	SK_LINK_RTCP,
	SK_LINKS,
};

struct sk_flow;

/* A flow's link into @to; it sits in to->linked_from[kind] through prev/next. */
struct sk_link {
	struct sk_flow *to;
	struct sk_flow *prev, *next;
};

struct sk_flow {
	/* set once by control before CMD_ADD, then read-only */
	int fd;
	dp_flow_t id;
	unsigned worker;
	uint32_t group;
	struct sa local;

	/* worker-owned */
	struct sk_signalled sig;
	struct latch latch;
	/* where accepted packets leave: link[SK_LINK_MEDIA] for everything, link[SK_LINK_RTCP]
	 * for RTCP multiplexed on an RTP flow when set (RFC 5761 demux) */
	struct sk_link link[SK_LINKS];
	/* per kind, the flows whose link is this one (through their link prev/next): deleting it
	 * unlinks them without walking every flow of the worker */
	struct sk_flow *linked_from[SK_LINKS];
	struct sk_flow *prev, *next; /* the worker's list of its flows, then its detached list */
	bool detached;		     /* out of epoll, deletion not acknowledged yet */
	bool io_pending;	     /* io_uring: its multishot receive may still complete */
	int fidx;		     /* io_uring: its socket's registered-file slot, -1 none */
	struct sk_xflow xf;	     /* xdp engine */

	/* control-owned: set by the worker's acknowledgement of CMD_DEL */
	atomic_bool deleted;
	bool del_posted; /* control-only: CMD_DEL is queued, never post it twice */

	struct sk_counters ctr;
};

enum sk_cmd_op {
	SK_CMD_ADD,
	SK_CMD_UPDATE,
	SK_CMD_LINK,
	SK_CMD_DEL,
	SK_CMD_STOP,
};

struct sk_cmd {
	enum sk_cmd_op op;
	struct sk_flow *flow;
	struct sk_flow *out;	 /* SK_CMD_LINK */
	enum sk_link_kind kind;	 /* SK_CMD_LINK */
	struct sk_signalled sig; /* SK_CMD_ADD, SK_CMD_UPDATE */
};

#define SK_RING_SLOTS 256

/* A batch of datagrams for one sendmmsg: messages, their iovecs and destination addresses. */
struct sk_txq {
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *names;
	unsigned n;
};

struct sk_worker;

/* How a worker's loop watches a flow's socket: epoll (worker.c) or io_uring (uring.c). */
struct sk_engine {
	void (*attach)(struct sk_worker *w, struct sk_flow *f);
	void (*detach)(struct sk_worker *w, struct sk_flow *f);
};

/* Counters of one flow accumulated over a batch, published at once (sk_tally_publish). */
struct sk_tally {
	uint64_t packets, bytes, errors, refused, stun_answered, stun_refused;
	bool accepted;
};

/* What one datagram asks for: @len bytes at @buf sent to @dst from @via's socket. */
struct sk_send {
	struct sk_flow *via;
	const struct sa *dst;
	uint8_t *buf;
	size_t len;
	bool reply; /* a STUN answer (in the scratch buffer), sent back from the receiving flow */
};

struct sk_xdp;

struct sk_worker {
	pthread_t thread;
	enum dp_sockets_engine want; /* from the configuration */
	const struct sk_engine *engine;
	struct sk_uring *uring; /* the io_uring loop's state, NULL under epoll */
	struct sk_xdp *xdp;	/* the xdp engine's state (owned by the backend), else NULL */
	bool started;
	int epfd;
	int cmd_efd; /* control -> worker: commands are waiting */
	int ack_efd; /* worker -> control: a CMD_DEL was done */
	struct spsc_ring ring;
	struct sk_cmd *ring_slots;
	unsigned batch;
	struct sk_flow *flows;	  /* worker-owned list */
	struct sk_flow *detached; /* deleted in this wake-up, to acknowledge after its events */
	uint64_t now_ms;	  /* coarse monotonic, refreshed per wake-up */
	bool stopping;

	/* receive batch */
	struct mmsghdr *rx;
	struct iovec *rx_iov;
	struct sockaddr_storage *rx_names;
	uint8_t *rx_buf; /* batch * DP_SOCKETS_PKT_MAX */
	/* forwarded packets (point into rx_buf; RTCP demultiplexed in fwd_rtcp) and STUN answers
	 * (in reply_buf) */
	struct sk_txq fwd, fwd_rtcp, reply;
	uint8_t
	    *reply_buf; /* batch * DP_SOCKETS_PKT_MAX: STUN answers need request-sized scratch */
};

/** Allocates a worker's buffers and descriptors; does not start it. */
int sk_worker_init(struct sk_worker *w, unsigned batch, enum dp_sockets_engine engine);
/** Starts the thread. */
int sk_worker_start(struct sk_worker *w);
/** Control side: stops and joins the thread, if it was started. */
void sk_worker_stop(struct sk_worker *w);
/**
 * Control side: waits until the worker acknowledged deleting @p f, at most until @p deadline_ms
 * (sk_now_ms()). 0 or -ETIMEDOUT.
 */
int sk_worker_wait_deleted(struct sk_worker *w, struct sk_flow *f, uint64_t deadline_ms);
/** Releases what sk_worker_init() took (the thread must have been joined). */
void sk_worker_destroy(struct sk_worker *w);
/** Control side: queue a command and wake the worker. @return 0 or -EAGAIN (ring stays full). */
int sk_worker_post(struct sk_worker *w, const struct sk_cmd *cmd);

/** Worker side: forwards what @p f's socket has to offer (a few batches at most). */
void sk_forward_readable(struct sk_worker *w, struct sk_flow *f);

/**
 * Worker side, every engine: decides about one datagram received on @p f from @p src (STUN or
 * latch), tallies it in @p t, and says what to send in @p s. A STUN answer is written to
 * @p scratch (DP_SOCKETS_PKT_MAX bytes). @return true when @p s must be sent.
 */
bool sk_datagram(struct sk_worker *w, struct sk_flow *f, uint8_t *buf, size_t len,
		 const struct sa *src, uint8_t *scratch, struct sk_tally *t, struct sk_send *s);
void sk_tally_publish(struct sk_flow *f, const struct sk_tally *t, uint64_t now_ms);

/** Worker side: applies what the control thread posted (attach/detach through the engine). */
void sk_worker_apply_commands(struct sk_worker *w);
/** Worker side: acknowledges the detached flows nothing refers to any more. */
void sk_worker_ack_deleted(struct sk_worker *w);
void sk_efd_drain(int fd);

/**
 * Runs the worker's loop on io_uring until SK_CMD_STOP. @return 0 when stopped, or a negative
 * errno before any command was taken (no io_uring here: the caller runs the epoll loop).
 */
int sk_uring_run(struct sk_worker *w);

/** The epoll engine's attach/detach (the xdp engine adds to them). */
void sk_epoll_attach(struct sk_worker *w, struct sk_flow *f);
void sk_epoll_detach(struct sk_worker *w, struct sk_flow *f);
/** Worker side: one wake-up of the epoll loop's events (flows; NULL: commands). */
void sk_epoll_events(struct sk_worker *w, const struct epoll_event *ev, int n);

/**
 * The xdp engine (xdp_engine.c). Control side: sk_xdp_open attaches the XDP program to the
 * netdevs of @p addrs and opens their AF_XDP sockets (0 or -errno, nothing left attached on
 * error); sk_xdp_close undoes it once the worker is joined. Worker side: sk_xdp_run is its loop.
 */
int sk_xdp_open(struct sk_xdp **xp, const struct sa *addrs, unsigned n, unsigned frames);
void sk_xdp_close(struct sk_xdp *x);
void sk_xdp_run(struct sk_worker *w);
void sk_xdp_stats(const struct sk_xdp *x, struct dp_sockets_xdp_stats *st);

/** Monotonic milliseconds, coarse (no system call: vDSO). */
uint64_t sk_now_ms(void);

#endif
