/* SPDX-License-Identifier: BSD-2-Clause */
/** @file sbc_conf.h  The settings of the sbc daemon (see conf/sbc.conf). */
#ifndef SBC_SBC_CONF_H
#define SBC_SBC_CONF_H

#include "common/conf.h"
#include "common/sa.h"
#include "sip/transport.h"

#define SBC_MAX_LISTENERS 16

struct sbc_listen_conf {
	char interface[32];
	struct sip_listen_opts opts; /* strings point into the struct conf */
};

struct sbc_conf {
	struct sbc_listen_conf listen[SBC_MAX_LISTENERS];
	unsigned nlisten;
	struct sip_transport_opts transport;
	uint32_t t1_ms, t2_ms, t4_ms;
	uint32_t max_msg_size;
	const char *control_socket;
};

extern const struct conf_schema sbc_conf_schema;

/**
 * Reads and checks the settings from @p c into @p out (strings stay owned by @p c).
 * @return 0, or -EINVAL with "file:line: ..." in @p err.
 */
int sbc_conf_read(struct sbc_conf *out, const struct conf *c, char *err, size_t errlen);

#endif
