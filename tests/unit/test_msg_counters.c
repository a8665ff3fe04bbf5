/* SPDX-License-Identifier: BSD-2-Clause */
/* SIP messages counted by method and class: parsed ones received, start lines sent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sbc/msg_counters.h"

static void tx(struct msg_counters *c, const char *s)
{
	msg_counters_tx(c, s, strlen(s));
}

static void test_tx_start_lines(void **state)
{
	struct msg_counters c;

	(void)state;
	memset(&c, 0, sizeof(c));
	tx(&c, "INVITE sip:bob@example.com SIP/2.0\r\n");
	tx(&c, "BYE sip:bob@example.com SIP/2.0\r\n");
	tx(&c, "FROB sip:x SIP/2.0\r\n");
	tx(&c, "SIP/2.0 200 OK\r\n");
	tx(&c, "SIP/2.0 486 Busy Here\r\n");
	tx(&c, "SIP/2.0 100 Trying\r\n");
	tx(&c, "SIP/2.0 999 What\r\n");
	tx(&c, "\r\n\r\n"); /* no start line: counted as an extension, never read past */
	assert_int_equal(c.requests[SIP_METHOD_INVITE], 1);
	assert_int_equal(c.requests[SIP_METHOD_BYE], 1);
	assert_int_equal(c.requests[SIP_METHOD_OTHER], 2);
	assert_int_equal(c.responses[1], 1);
	assert_int_equal(c.responses[2], 1);
	assert_int_equal(c.responses[4], 1);
	assert_int_equal(c.responses[0], 1);
	assert_string_equal(msg_counters_method(SIP_METHOD_OTHER), "other");
	assert_string_equal(msg_counters_method(SIP_METHOD_REGISTER), "REGISTER");
}

static void test_rx_parsed(void **state)
{
	static const char req[] =
	    "OPTIONS sip:sbc SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
	    "From: <sip:a@x>;tag=1\r\nTo: <sip:sbc>\r\nCall-ID: c1\r\n"
	    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
	static const char resp[] = "SIP/2.0 503 Unavailable\r\n"
				   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
				   "From: <sip:a@x>;tag=1\r\nTo: <sip:sbc>;tag=2\r\nCall-ID: c1\r\n"
				   "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_limits lim = { 0 };
	struct sip_parse_error perr;
	struct msg_counters c;
	struct sip_msg m;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sip_msg_parse(&m, req, sizeof(req) - 1, &lim, &perr), 0);
	msg_counters_rx(&c, &m);
	assert_int_equal(sip_msg_parse(&m, resp, sizeof(resp) - 1, &lim, &perr), 0);
	msg_counters_rx(&c, &m);
	assert_int_equal(c.requests[SIP_METHOD_OPTIONS], 1);
	assert_int_equal(c.responses[5], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_start_lines),
		cmocka_unit_test(test_rx_parsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
