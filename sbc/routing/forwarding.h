/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file forwarding.h  Call forwarding per user, set next to the user's
 * credentials (registrar.users.[].forward_*, see conf/sbc.conf).
 *
 * A call whose Request-URI names a user with rules goes:
 *  - unconditional: straight to the target (the user's phones never ring);
 *  - busy: to the target when every callee answered 486 or 600;
 *  - no answer: to the target when the user's phones rang for the user's
 *    timeout (they get CANCEL first).
 * A target is a SIP URI, or a user or number written alone, which stands for
 * that user at the host the call was addressed to. Targets are routed like
 * any call (registered contacts, static routes, default route) but never
 * forwarded again: one hop, so rules cannot loop.
 */
#ifndef SBC_ROUTING_FORWARDING_H
#define SBC_ROUTING_FORWARDING_H

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/str.h"

/** Settings of the rules, members of registrar.users, for the sbc schema. */
extern const struct conf_setting forwarding_conf_settings[];

struct forwarding_rule {
	const char *user;	   /**< strings point into the struct conf */
	const char *domain;	   /**< NULL: any host */
	const char *unconditional; /**< targets; NULL: none */
	const char *busy;
	const char *no_answer;
	uint32_t no_answer_ms; /**< ringing time before no_answer applies */
};

/** The rules of the users that have any (a short list: lookups scan it). */
struct forwarding {
	struct forwarding_rule *rules; /**< owned */
	unsigned n;
};

/**
 * Reads the forward_* members of registrar.users. @return 0, -ENOMEM, or
 * -EINVAL with "file:line: ..." in @p err. Free with forwarding_clear().
 */
int forwarding_settings_read(struct forwarding *out, const struct conf *c, char *err,
			     size_t errlen);
void forwarding_clear(struct forwarding *f);

/** The rules for calls to @p user@@p host (host case-insensitive), or NULL. */
const struct forwarding_rule *forwarding_lookup(const struct forwarding *f, struct strv user,
						struct strv host);

/**
 * @p target as a Request-URI: a SIP URI as it is, a user or number at @p host.
 * @return 0, or -ENOSPC.
 */
int forwarding_target_uri(const char *target, struct strv host, char *out, size_t size);

#endif
