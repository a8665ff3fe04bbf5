/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stun_answer on arbitrary datagrams, with and without ICE credentials (those of RFC 5769, so
 * the seeds authenticate), from an IPv4 and an IPv6 source. The response buffer is sized
 * exactly so ASan sees any write past it; every response must be a well-formed STUN message
 * with the request's transaction id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_stun: %s\n", what);
	abort();
}

static void check_response(const uint8_t *req, const uint8_t *out, size_t outlen)
{
	check(outlen >= STUN_HEADER_LEN && outlen <= STUN_RESPONSE_MAX, "response length");
	check(stun_is_stun(out, outlen), "response is not STUN");
	check((size_t)(out[2] << 8 | out[3]) + STUN_HEADER_LEN == outlen, "response length field");
	check((out[1] & 0x10) != 0 || (out[0] & 0x01) != 0, "response is not a response");
	check(memcmp(out + 8, req + 8, 12) == 0, "transaction id");
}

static void answer_once(const uint8_t *data, size_t size, const char *src,
			const struct stun_creds *creds)
{
	size_t outsize = size > STUN_RESPONSE_MAX ? size : STUN_RESPONSE_MAX;
	uint8_t *out = malloc(outsize);
	size_t outlen = 0;
	struct sa from;

	if (!out || sa_parse_cstr(&from, src, 0) != 0)
		abort();
	if (stun_answer(data, size, &from, creds, out, outsize, &outlen) != STUN_DROP)
		check_response(data, out, outlen);
	else
		check(outlen == 0, "length set on drop");
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct stun_creds ice = { "evtj", "VOkJxbRl1RmTxUk/WvJxBt" };
	static const struct stun_creds none = { "", "" };

	(void)stun_is_stun(data, size);
	answer_once(data, size, "192.0.2.1:32853", &ice);
	answer_once(data, size, "[2001:db8::1]:5000", &none);
	answer_once(data, size, "10.0.0.1:1", NULL);
	return 0;
}
