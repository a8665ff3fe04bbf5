/* SPDX-License-Identifier: BSD-2-Clause */
/** @file registrar_conf.h  The registrar's settings in the sbc configuration ("registrar" group).
 */
#ifndef SBC_REGISTRAR_CONF_H
#define SBC_REGISTRAR_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/conf.h"
#include "keepalive.h"
#include "registrar.h"
#include "relay.h"

/** Settings of the "registrar" group, for the sbc schema. */
extern const struct conf_setting registrar_conf_settings[];

struct registrar_settings {
	bool enabled;
	struct registrar_conf conf;   /* strings point into the struct conf */
	struct registrar_user *users; /* owned: conf.users */
	bool relay;		      /* mode "relay" (enabled too) */
	const char *upstream; /* "udp|tcp|tls:address[:port]", parsed into relay_conf by sbc_conf */
	struct registrar_relay_conf relay_conf;
	bool keepalive_enabled;
	struct keepalive_conf keepalive;
};

/**
 * Reads the "registrar" group. @return 0, -ENOMEM, or -EINVAL with
 * "file:line: ..." in @p err. Free with registrar_settings_clear().
 */
int registrar_settings_read(struct registrar_settings *out, const struct conf *c, char *err,
			    size_t errlen);
void registrar_settings_clear(struct registrar_settings *s);

#endif
