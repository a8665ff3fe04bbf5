/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file stun_server.h  The relay's STUN port (usually 3478): binding requests answered with the
 * sender's reflexive address, so a phone learns its NAT mapping from the same host that relays
 * its media.
 *
 * Each `stun.listen` address is a dataplane flow that is never linked: the backend answers STUN
 * on it like on any relay port (dataplane/stun.h) and forwards nothing else. So the STUN port
 * costs no code path of its own in either backend, and its counters are a flow's counters.
 */
#ifndef SBC_RTPENGINE_STUN_SERVER_H
#define SBC_RTPENGINE_STUN_SERVER_H

#include "common/conf.h"
#include "common/sa.h"
#include "dataplane/dataplane.h"

#define STUN_SERVER_MAX 8

extern const struct conf_setting stun_server_settings[];

struct stun_server_conf {
	struct sa listen[STUN_SERVER_MAX];
	unsigned n;
};

/** Reads `stun.listen`. @return 0, or -EINVAL with "file:line: ..." in @p err. */
int stun_server_conf_read(struct stun_server_conf *out, const struct conf *c, char *err,
			  size_t errlen);

struct stun_server {
	struct dataplane *dp;
	dp_flow_t flows[STUN_SERVER_MAX];
	unsigned n;
};

/** Opens every configured STUN address on @p dp. @return 0 or a negative errno. */
int stun_server_start(struct stun_server *s, struct dataplane *dp,
		      const struct stun_server_conf *conf);

/** Counters summed over the STUN addresses. */
void stun_server_stats(const struct stun_server *s, struct dp_flow_stats *sum);

void stun_server_stop(struct stun_server *s);

#endif
