/* SPDX-License-Identifier: BSD-2-Clause */
/** @file routes_conf.h  Static routes in the sbc configuration ("routing" group). */
#ifndef SBC_ROUTES_CONF_H
#define SBC_ROUTES_CONF_H

#include <stddef.h>

#include "common/conf.h"
#include "routes.h"

/** Settings of the "routing" group, for the sbc schema. */
extern const struct conf_setting routes_conf_settings[];

/**
 * Builds the routing table of the "routing" group into @p out (NULL when no
 * route is configured). @return 0, -ENOMEM, or -EINVAL with "file:line: ..."
 * in @p err. Free the table with routes_free().
 */
int routes_settings_read(struct routes **out, const struct conf *c, char *err, size_t errlen);

#endif
