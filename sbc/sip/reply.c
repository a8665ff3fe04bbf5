/* SPDX-License-Identifier: BSD-2-Clause */
#include "reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hdr.h"

/*
 * The top Via of a response, RFC 3581: received= with the source address
 * whenever the request asked for rport or came from elsewhere than its sent-by,
 * rport=<source port> when asked. Other parameters pass unchanged.
 */
long sip_reply_via(const void *dest, struct strv value, char *line, size_t size)
{
	const struct sip_flow *flow = dest;
	struct strv head, params;
	char ip[SA_STRLEN], sent_by_ip[SA_STRLEN];
	struct sip_via via;
	struct sip_pbuf lb;
	bool need_received;

	if (sip_via_parse(&via, value) < 0 || !via.params.p)
		return -EINVAL;
	sa_print_addr(&flow->remote, ip, sizeof(ip));
	strv_copy(via.host, sent_by_ip, sizeof(sent_by_ip));
	need_received = via.rport || strcmp(ip, sent_by_ip) != 0;
	head = strv_make(value.p, (size_t)(via.params.p - value.p));
	params = via.params;

	/* One header line: the sent-protocol and sent-by, then the parameters. */
	sip_print_init(&lb, line, size);
	sip_print_raw(&lb, head);
	while (params.len) {
		const char *semi = memchr(params.p + 1, ';', params.len - 1);
		struct strv p = strv_make(params.p, semi ? (size_t)(semi - params.p) : params.len);
		struct strv name = strv_trim(strv_make(p.p + 1, p.len - 1));
		const char *eq = memchr(name.p, '=', name.len);

		if (eq)
			name = strv_trim(strv_make(name.p, (size_t)(eq - name.p)));
		if (strv_caseeq(name, STRV("received"))) {
			/* replaced below */
		} else if (strv_caseeq(name, STRV("rport"))) {
			char rport[16];

			snprintf(rport, sizeof(rport), ";rport=%u", sa_port(&flow->remote));
			sip_print_raw(&lb, strv_cstr(rport));
		} else {
			sip_print_raw(&lb, p);
		}
		params.p += p.len;
		params.len -= p.len;
	}
	if (need_received) {
		sip_print_raw(&lb, STRV(";received="));
		sip_print_raw(&lb, strv_cstr(ip));
	}
	return lb.overflow ? -ENAMETOOLONG : (long)lb.len;
}

static void print_top_via(struct sip_pbuf *b, const struct sip_hdr *h, const struct sip_flow *flow)
{
	char line[1024];
	long n = sip_reply_via(flow, h->value, line, sizeof(line));

	if (n < 0)
		sip_print_copy(b, h, SIP_PRINT_NAME_CANONICAL);
	else
		sip_print_hdr(b, SIP_HDR_VIA, strv_make(line, (size_t)n));
}

/* To with @p tag appended when the request had none (RFC 3261 §8.2.6.2). */
static void print_to(struct sip_pbuf *b, const struct sip_hdr *to, unsigned code, struct strv tag)
{
	struct sip_addr a;

	if (code == 100 || !tag.len || sip_addr_parse(&a, to->value) < 0 || a.tag.len) {
		sip_print_copy(b, to, SIP_PRINT_NAME_CANONICAL);
		return;
	}
	sip_print_hdrf(b, SIP_HDR_TO, "%.*s;tag=%.*s", (int)to->value.len, to->value.p,
		       (int)tag.len, tag.p);
}

/* Copies the first entry of @p id, if the request has one. */
static void copy_first(struct sip_pbuf *b, const struct sip_msg *req, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(req, id);

	if (h)
		sip_print_copy(b, h, SIP_PRINT_NAME_CANONICAL);
}

int sip_reply_begin(struct sip_pbuf *b, const struct sip_msg *req, const struct sip_flow *flow,
		    unsigned code, struct strv reason, struct strv to_tag)
{
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);

	if (!via)
		return -EINVAL;
	sip_print_status_line(b, code, reason);
	print_top_via(b, via, flow);
	for (via = sip_msg_hdr_next(req, via); via; via = sip_msg_hdr_next(req, via))
		sip_print_copy(b, via, SIP_PRINT_NAME_CANONICAL);
	copy_first(b, req, SIP_HDR_FROM);
	if (to)
		print_to(b, to, code, to_tag);
	copy_first(b, req, SIP_HDR_CALL_ID);
	copy_first(b, req, SIP_HDR_CSEQ);
	return 0;
}
