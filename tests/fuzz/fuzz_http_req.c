/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * http_req_parse on arbitrary bytes. A parsed head lies inside the input, parses to the same
 * length on its own (what follows cannot change where it ends), and its views lie inside it;
 * every shorter prefix of it is incomplete or refused, never a different request.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/http_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_http_req: %s\n", what);
	abort();
}

static bool inside(struct strv v, const char *buf, size_t len)
{
	return v.p >= buf && v.p + v.len <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_req r, again;
	int n = http_req_parse(&r, buf, size), m;

	check(n == -EINVAL || (n >= 0 && (size_t)n <= size), "result out of range");
	if (n <= 0)
		return 0;
	check(inside(r.method, buf, (size_t)n) && inside(r.target, buf, (size_t)n),
	      "view outside the head");
	check(r.path.p == r.target.p && r.path.len <= r.target.len, "path is not in the target");
	check(r.minor <= 1, "version");
	check(http_req_parse(&again, buf, (size_t)n) == n, "head alone parses differently");
	m = http_req_parse(&again, buf, (size_t)n - 1);
	check(m == 0 || m == -EINVAL, "a prefix of the head is a request");
	return 0;
}
