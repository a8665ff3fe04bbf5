/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sa_parse on arbitrary bytes. Whatever parses must print, parse back to an
 * equal address and print identically again; the address-only form must parse
 * back to the same address. The classifiers run on every parsed address.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what, const char *text)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_sa: %s (\"%s\")\n", what, text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SA_STRLEN], buf2[SA_STRLEN];
	struct sa sa, back;
	volatile bool sink;

	if (sa_parse(&sa, strv_make((const char *)data, size), 5060) != 0)
		return 0;

	check(sa_family(&sa) == AF_INET || sa_family(&sa) == AF_INET6, "family", "");
	sa_print(&sa, buf, sizeof(buf));
	check(strlen(buf) < sizeof(buf) - 1, "print may have truncated", buf);
	check(sa_parse_cstr(&back, buf, 1) == 0, "printed form does not parse", buf);
	check(sa_equal(&sa, &back), "printed form parses to another address", buf);
	sa_print(&back, buf2, sizeof(buf2));
	check(strcmp(buf, buf2) == 0, "printing is not stable", buf2);

	sa_print_addr(&sa, buf, sizeof(buf));
	check(sa_parse_cstr(&back, buf, sa_port(&sa)) == 0, "address form does not parse", buf);
	check(sa_equal(&sa, &back), "address form parses to another address", buf);

	sink = sa_is_any(&sa);
	sink = sa_is_loopback(&sa) && !sa_is_private(&sa);
	check(!sink, "loopback but not private", buf);
	(void)sink;
	return 0;
}
