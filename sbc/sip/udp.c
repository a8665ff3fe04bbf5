/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP: batched receive (recvmmsg into the layer's preallocated buffers, the
 * source address written straight into the flow), batched transmit during
 * receive bursts (sendmmsg per socket at the end of the burst), immediate
 * transmit otherwise.
 *
 * Wildcard listeners ask for IP_PKTINFO / IPV6_RECVPKTINFO, so the flow carries
 * the address the datagram was sent to, and send with the same option, so the
 * reply leaves from that address (a multihomed host would otherwise answer from
 * whatever address the route prefers, which a NAT or a firewall drops).
 *
 * Keep-alives: datagrams of CR and LF only are dropped; STUN Binding requests
 * (RFC 5626 §4.4.2 keep-alives toward the SIP port) get a Binding success
 * response with XOR-MAPPED-ADDRESS (RFC 5389 §15.2), no authentication.
 */
#include "transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UDP_MAX_PAYLOAD 65535
#define UDP_SOCKBUF	(4 * 1024 * 1024)

#define STUN_HDR_LEN	 20
#define STUN_COOKIE	 0x2112A442u
#define STUN_BINDING_REQ 0x0001
#define STUN_BINDING_OK	 0x0101
#define STUN_XOR_MAPPED	 0x0020

static void udp_readable(int fd, uint32_t events, void *arg);

int udp_open(struct sip_listener *li)
{
	int one = 1, size = UDP_SOCKBUF, family = sa_family(&li->addr);
	socklen_t len = sizeof(li->addr.u);
	int fd, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	li->fd = fd;
	/* Larger buffers absorb bursts; the kernel caps them at rmem_max/wmem_max. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (li->wildcard) {
		if (family == AF_INET)
			err = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		else
			err = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		if (err < 0)
			return -errno;
	}
	if (bind(fd, &li->addr.u.sa, li->addr.len) < 0)
		return -errno;
	if (getsockname(fd, &li->addr.u.sa, &len) < 0)
		return -errno;
	li->addr.len = len;
	return loop_fd_add(li->tp->loop, fd, EPOLLIN, udp_readable, li);
}

/* ---- receive ---- */

/* The destination address of a datagram on a wildcard socket, from its pktinfo. */
static void local_from_pktinfo(struct sip_listener *li, struct msghdr *mh, struct sa *local)
{
	*local = li->addr;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			local->u.in.sin_addr = pi.ipi_addr;
			return;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			local->u.in6.sin6_addr = pi.ipi6_addr;
			local->u.in6.sin6_scope_id =
			    IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ? pi.ipi6_ifindex : 0;
			return;
		}
	}
}

static bool is_crlf_only(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	}
	return true;
}

static inline uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A STUN message: first two bits zero, the magic cookie, length a multiple of 4 that fits. */
static bool is_stun(const unsigned char *p, size_t len)
{
	return len >= STUN_HDR_LEN && (p[0] & 0xc0) == 0 && get32(p + 4) == STUN_COOKIE &&
	       (get16(p + 2) & 3) == 0 && (size_t)get16(p + 2) + STUN_HDR_LEN == len;
}

static void stun_answer(struct sip_listener *li, const struct sip_flow *flow,
			const unsigned char *req)
{
	unsigned char rsp[STUN_HDR_LEN + 4 + 20];
	const struct sa *r = &flow->remote;
	uint16_t port = sa_port(r) ^ (STUN_COOKIE >> 16);
	size_t alen;

	memcpy(rsp, req, STUN_HDR_LEN); /* cookie and transaction id */
	rsp[0] = STUN_BINDING_OK >> 8;
	rsp[1] = STUN_BINDING_OK & 0xff;
	rsp[STUN_HDR_LEN + 0] = STUN_XOR_MAPPED >> 8;
	rsp[STUN_HDR_LEN + 1] = STUN_XOR_MAPPED & 0xff;
	rsp[STUN_HDR_LEN + 4] = 0;
	rsp[STUN_HDR_LEN + 6] = (unsigned char)(port >> 8);
	rsp[STUN_HDR_LEN + 7] = (unsigned char)port;
	if (sa_family(r) == AF_INET) {
		const unsigned char *a = (const unsigned char *)&r->u.in.sin_addr;

		rsp[STUN_HDR_LEN + 5] = 0x01;
		for (int i = 0; i < 4; i++)
			rsp[STUN_HDR_LEN + 8 + i] = a[i] ^ req[4 + i];
		alen = 8;
	} else {
		const unsigned char *a = (const unsigned char *)&r->u.in6.sin6_addr;

		rsp[STUN_HDR_LEN + 5] = 0x02;
		for (int i = 0; i < 16; i++) /* XOR with cookie then transaction id */
			rsp[STUN_HDR_LEN + 8 + i] = a[i] ^ req[4 + i];
		alen = 20;
	}
	rsp[STUN_HDR_LEN + 2] = 0;
	rsp[STUN_HDR_LEN + 3] = (unsigned char)alen;
	rsp[2] = 0;
	rsp[3] = (unsigned char)(4 + alen);
	udp_send(li, &flow->remote, &flow->local, rsp, STUN_HDR_LEN + 4 + alen);
}

static void udp_one(struct sip_listener *li, unsigned i)
{
	struct sip_transport *tp = li->tp;
	struct mmsghdr *m = &tp->rx_msgs[i];
	struct sip_flow *flow = &tp->rx_flow[i];
	const char *buf = tp->rx_bufs + (size_t)i * UDP_BUFSZ;
	size_t len = m->msg_len;

	li->st.rx_bytes += len;
	if (unlikely(m->msg_hdr.msg_flags & MSG_TRUNC) ||
	    unlikely(flow->remote.u.sa.sa_family != sa_family(&li->addr))) {
		li->st.rx_errors++;
		return;
	}
	flow->remote.len = m->msg_hdr.msg_namelen;
	flow->conn_id = 0;
	flow->listener = li->idx;
	flow->proto = SIP_PROTO_UDP;
	if (li->wildcard)
		local_from_pktinfo(li, &m->msg_hdr, &flow->local);
	else
		flow->local = li->addr;
	if (unlikely(len == 0 || buf[0] == '\r' || buf[0] == '\n') && is_crlf_only(buf, len)) {
		tp_keepalive(tp, flow, true);
		return;
	}
	if (unlikely((buf[0] & 0xc0) == 0 && is_stun((const unsigned char *)buf, len))) {
		tp_keepalive(tp, flow, false);
		if (get16((const unsigned char *)buf) == STUN_BINDING_REQ)
			stun_answer(li, flow, (const unsigned char *)buf);
		return;
	}
	tp_deliver(tp, flow, buf, len);
}

static void udp_readable(int fd, uint32_t events, void *arg)
{
	struct sip_listener *li = arg;
	struct sip_transport *tp = li->tp;

	(void)events;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		int n;

		for (unsigned i = 0; i < UDP_BATCH; i++) {
			struct msghdr *mh = &tp->rx_msgs[i].msg_hdr;

			tp->rx_iov[i].iov_base = tp->rx_bufs + (size_t)i * UDP_BUFSZ;
			tp->rx_iov[i].iov_len = UDP_BUFSZ;
			mh->msg_name = &tp->rx_flow[i].remote.u;
			mh->msg_namelen = sizeof(tp->rx_flow[i].remote.u);
			mh->msg_iov = &tp->rx_iov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = li->wildcard ? tp->rx_ctrl[i] : NULL;
			mh->msg_controllen = li->wildcard ? UDP_CTRL_SIZE : 0;
			mh->msg_flags = 0;
		}
		n = recvmmsg(fd, tp->rx_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				li->st.rx_errors++;
				log_debug("sip: recvmmsg on %s: %s", li->name, strerror(errno));
			}
			return;
		}
		tp_burst_begin(tp);
		for (int i = 0; i < n; i++)
			udp_one(li, (unsigned)i);
		tp_burst_end(tp);
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- transmit ---- */

/* Fills the pktinfo that makes the datagram leave from @p src; returns the control length. */
static size_t set_pktinfo(char *ctrl, const struct sa *src)
{
	struct msghdr mh = { .msg_control = ctrl, .msg_controllen = UDP_CTRL_SIZE };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(ctrl, 0, UDP_CTRL_SIZE);
	if (sa_family(src) == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = src->u.in.sin_addr };

		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	struct in6_pktinfo pi6 = { .ipi6_addr = src->u.in6.sin6_addr,
				   .ipi6_ifindex = src->u.in6.sin6_scope_id };

	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
	return CMSG_SPACE(sizeof(pi6));
}

/* A source address to pin: only on wildcard sockets, and only a concrete one. */
static inline bool want_src(const struct sip_listener *li, const struct sa *src)
{
	return li->wildcard && src && sa_family(src) == sa_family(&li->addr) && !sa_is_any(src);
}

static void fill_msg(struct msghdr *mh, struct iovec *iov, const struct sa *dst, char *ctrl,
		     const struct sip_listener *li, const struct sa *src)
{
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = (void *)&dst->u;
	mh->msg_namelen = dst->len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	if (want_src(li, src)) {
		mh->msg_control = ctrl;
		mh->msg_controllen = set_pktinfo(ctrl, src);
	}
}

static void log_tx_error(struct sip_listener *li, const struct sa *dst, int err)
{
	char addr[SA_STRLEN];

	li->st.tx_errors++;
	log_ratelimited(&li->tp->rl, &dst->u.sa, tp_now(li->tp), LOG_LVL_WARN,
			"sip: udp send %s -> %s: %s", li->name, sa_print(dst, addr, sizeof(addr)),
			strerror(err));
}

int udp_send(struct sip_listener *li, const struct sa *dst, const struct sa *src, const void *buf,
	     size_t len)
{
	struct sip_transport *tp = li->tp;
	struct udp_tx_ent *e;
	char ctrl[UDP_CTRL_SIZE];
	struct msghdr mh;
	struct iovec iov;

	if (sa_family(dst) != sa_family(&li->addr))
		return -EINVAL;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (!tp->burst) {
		ssize_t r;

		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		fill_msg(&mh, &iov, dst, ctrl, li, src);
		do {
			r = sendmsg(li->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		} while (r < 0 && errno == EINTR);
		if (r < 0) {
			int err = errno;

			log_tx_error(li, dst, err);
			return -err;
		}
		li->st.tx_msgs++;
		li->st.tx_bytes += len;
		return 0;
	}
	if (tp->tx_n == UDP_TX_MAX || UDP_TX_ARENA - tp->tx_used < len)
		udp_flush(tp);
	e = &tp->tx[tp->tx_n++];
	e->li = li;
	e->dst = *dst;
	if (want_src(li, src))
		e->src = *src;
	else
		sa_init(&e->src);
	e->off = tp->tx_used;
	e->len = (uint32_t)len;
	memcpy(tp->tx_arena + tp->tx_used, buf, len);
	tp->tx_used += (uint32_t)len;
	li->udp_pending++;
	return 0;
}

/* Sends the batch entries of one listener, in order, with as few sendmmsg calls as the kernel
 * allows. */
static void flush_listener(struct sip_transport *tp, struct sip_listener *li)
{
	unsigned n = 0, off = 0;
	struct udp_tx_ent *ent[UDP_TX_MAX];

	for (unsigned i = 0; i < tp->tx_n; i++) {
		struct udp_tx_ent *e = &tp->tx[i];

		if (e->li != li)
			continue;
		tp->tx_iov[n].iov_base = tp->tx_arena + e->off;
		tp->tx_iov[n].iov_len = e->len;
		fill_msg(&tp->tx_msgs[n].msg_hdr, &tp->tx_iov[n], &e->dst, tp->tx_ctrl[n], li,
			 sa_isset(&e->src) ? &e->src : NULL);
		ent[n++] = e;
	}
	li->udp_pending = 0;
	while (off < n) {
		int r = sendmmsg(li->fd, tp->tx_msgs + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			log_tx_error(li, &ent[off]->dst, err);
			if (err == EAGAIN || err == ENOBUFS) {
				/* the socket buffer is full: the rest would fail the same way */
				li->st.tx_errors += n - off - 1;
				break;
			}
			off++; /* this one failed (e.g. no route): go on with the rest */
			continue;
		}
		for (int i = 0; i < r; i++) {
			li->st.tx_msgs++;
			li->st.tx_bytes += ent[off + (unsigned)i]->len;
		}
		off += (unsigned)r;
	}
}

void udp_flush(struct sip_transport *tp)
{
	for (unsigned i = 0; i < tp->nli && tp->tx_n; i++) {
		if (tp->li[i]->udp_pending)
			flush_listener(tp, tp->li[i]);
	}
	tp->tx_n = 0;
	tp->tx_used = 0;
}
