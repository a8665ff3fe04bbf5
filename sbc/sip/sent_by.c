/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The address the SBC writes as its own (Via sent-by, Contact, its URIs) for
 * a message over a flow: a listener behind a 1:1 NAT advertises its public
 * address; a wildcard listener (0.0.0.0, ::) must name the address the
 * message really leaves from, never the wildcard.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport_int.h"

/* The source the kernel picks toward @p dst: a connected UDP socket sends nothing. */
static int route_source(const struct sa *dst, struct sa *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(sa_family(dst), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, &dst->u.sa, dst->len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		rc = -errno;
	else
		rc = sa_set_sockaddr(out, (struct sockaddr *)&ss, len);
	close(fd);
	return rc;
}

int sip_transport_sent_by(const struct sip_transport *tp, const struct sip_flow *flow,
			  struct sa *out)
{
	const struct sip_listener *li;
	int rc;

	if (flow->listener >= tp->nli)
		return -EINVAL;
	li = tp->li[flow->listener];
	if (sa_isset(&li->advertise)) {
		*out = li->advertise;
		if (!sa_port(out))
			sa_set_port(out, sa_port(&li->addr));
		return 0;
	}
	*out = sa_isset(&flow->local) ? flow->local : li->addr;
	if (!sa_is_any(out))
		return 0;
	rc = route_source(&flow->remote, out);
	if (rc < 0)
		return rc;
	sa_set_port(out, sa_port(&li->addr));
	return 0;
}
