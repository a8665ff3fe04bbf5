/* SPDX-License-Identifier: BSD-2-Clause */
/** @file metrics_conf.h  The `metrics.listen` setting both daemons share. */
#ifndef SBC_METRICS_CONF_H
#define SBC_METRICS_CONF_H

#include <stddef.h>

#include "conf.h"
#include "sa.h"

/**
 * Reads "address:port" (IPv6 as "[addr]:port") at @p path into @p out. Absent or "" leaves
 * @p out unset: no metrics endpoint (off by default, so no daemon opens a port it did not
 * open before).
 * @return 0, or -EINVAL with "file:line: ..." in @p err (no port, bad address).
 */
int metrics_conf_read(const struct conf *c, const char *path, struct sa *out, char *err,
		      size_t errlen);

#endif
