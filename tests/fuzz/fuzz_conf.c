/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration loader on hostile text: libconfig's parser plus our schema
 * check and error formatting. Uses the sbc daemon's real schema; on success
 * every getter is read back, as the daemon does at start-up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "sbc/sbc_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sbc_conf cfg;
	char err[1024];
	struct conf *c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* @include reads files (a fuzzer could name /dev/zero): not input we model. */
	if (strstr(text, "@include")) {
		free(text);
		return 0;
	}
	if (conf_load_string(&c, &sbc_conf_schema, "fuzz.conf", text, err, sizeof(err)) == 0) {
		if (sbc_conf_read(&cfg, c, err, sizeof(err)) == 0) {
			if (cfg.nlisten == 0)
				abort(); /* a checked configuration always has a listener */
			sbc_conf_clear(&cfg);
		}
		conf_free(c);
	} else if (strncmp(err, "fuzz.conf:", 10) != 0) {
		abort(); /* every refusal names file:line */
	}
	free(text);
	return 0;
}
