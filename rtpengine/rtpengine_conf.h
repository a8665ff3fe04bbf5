/* SPDX-License-Identifier: BSD-2-Clause */
/** @file rtpengine_conf.h  The settings of the rtpengine daemon (see conf/rtpengine.conf). */
#ifndef SBC_RTPENGINE_CONF_H
#define SBC_RTPENGINE_CONF_H

#include "common/conf.h"
#include "common/sa.h"

#define RTPENGINE_MAX_NG 8

struct rtpengine_conf {
	struct sa ng[RTPENGINE_MAX_NG];
	unsigned nng;
	const char *control_socket;
};

extern const struct conf_schema rtpengine_conf_schema;

/** @return 0, or -EINVAL with "file:line: ..." in @p err. */
int rtpengine_conf_read(struct rtpengine_conf *out, const struct conf *c, char *err, size_t errlen);

#endif
