/* SPDX-License-Identifier: BSD-2-Clause */
#include "msg_counters.h"

#include <string.h>

static void count_response(struct msg_counters *c, unsigned status)
{
	unsigned cls = status / 100;

	c->responses[cls < 7 ? cls : 0]++;
}

static void count_request(struct msg_counters *c, enum sip_method m)
{
	c->requests[(unsigned)m < MSG_COUNTERS_METHODS ? m : SIP_METHOD_OTHER]++;
}

void msg_counters_rx(struct msg_counters *c, const struct sip_msg *m)
{
	if (m->is_request)
		count_request(c, m->method);
	else
		count_response(c, m->status);
}

void msg_counters_tx(struct msg_counters *c, const char *buf, size_t len)
{
	const char *sp;

	if (len > 12 && memcmp(buf, "SIP/2.0 ", 8) == 0) {
		/* class digit only: the status was written by us, three digits */
		count_response(c,
			       buf[8] >= '1' && buf[8] <= '6' ? (unsigned)(buf[8] - '0') * 100 : 0);
		return;
	}
	sp = memchr(buf, ' ', len < 32 ? len : 32);
	count_request(c, sp ? sip_method_from_name(strv_make(buf, (size_t)(sp - buf)))
			    : SIP_METHOD_OTHER);
}

const char *msg_counters_method(unsigned i)
{
	return i == SIP_METHOD_OTHER ? "other" : sip_method_name((enum sip_method)i);
}
