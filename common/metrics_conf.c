/* SPDX-License-Identifier: BSD-2-Clause */
#include "metrics_conf.h"

int metrics_conf_read(const struct conf *c, const char *path, struct sa *out, char *err,
		      size_t errlen)
{
	const char *text = conf_str(c, path);

	sa_init(out);
	if (!text || !*text)
		return 0;
	/* a scrape target needs a fixed port: Prometheus must know where to look */
	if (sa_parse_cstr(out, text, 0) < 0 || sa_port(out) == 0) {
		sa_init(out);
		return conf_error(c, path, err, errlen, "expected address:port, got \"%s\"", text);
	}
	return 0;
}
