/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parses the input as a datagram. On failure: a known errno, a reason, an
 * offset inside the input, a status of the documented set. On success:
 *  - every view lies inside the input, values are trimmed, names are tokens
 *    whose id is what sip_hdr_id_from_name says;
 *  - first[] is the first entry of each id and the next chains visit exactly
 *    the entries of their id, in increasing order;
 *  - the body ends the message, and parsing just the message's bytes again
 *    gives the same index;
 *  - printing the message back (every entry on its own line) and parsing that
 *    gives the same entries, shortcuts and body (this fuzzes the printer too).
 * Then sip_msg_frame runs on the input, and its frame (if any) must lie inside.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static struct sip_msg m, m2;
static char out[3 * 65536];

static const char *lo, *hi;

static void check_view(struct strv v)
{
	if (!v.len) {
		CHECK(!v.p || (v.p >= lo && v.p <= hi));
		return;
	}
	CHECK(v.p >= lo && v.p + v.len <= hi && v.p + v.len > v.p);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_index(const struct sip_msg *msg)
{
	unsigned counts[SIP_HDR_COUNT] = { 0 };

	CHECK(msg->nhdrs <= SIP_MAX_HDRS);
	for (uint16_t i = 0; i < msg->nhdrs; i++) {
		const struct sip_hdr *h = &msg->hdrs[i];

		CHECK((unsigned)h->id < SIP_HDR_COUNT);
		check_view(h->name);
		check_view(h->value);
		CHECK(h->name.len > 0);
		CHECK(sip_hdr_id_from_name(h->name) == h->id);
		if (h->value.len)
			CHECK(!is_blank(h->value.p[0]) && !is_blank(h->value.p[h->value.len - 1]));
		if (!counts[h->id])
			CHECK(msg->first[h->id] == i + 1);
		counts[h->id]++;
		if (i)
			CHECK(h->line >= msg->hdrs[i - 1].line);
	}
	for (unsigned id = 0; id < SIP_HDR_COUNT; id++) {
		unsigned n = 0, prev = 0;

		CHECK(!counts[id] == !msg->first[id]);
		for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h;
		     h = sip_msg_hdr_next(msg, h)) {
			unsigned idx = (unsigned)(h - msg->hdrs) + 1;

			CHECK(h->id == id && idx > prev && idx <= msg->nhdrs);
			prev = idx;
			n++;
		}
		CHECK(n == counts[id]);
		CHECK(sip_msg_hdr_count(msg, id) == n);
	}
}

static void check_msg(const struct sip_msg *msg)
{
	check_view(msg->method_name);
	check_view(msg->ruri);
	check_view(msg->reason);
	check_view(msg->version);
	check_view(msg->call_id);
	check_view(msg->cseq_method_name);
	check_view(msg->body);
	CHECK(msg->buf >= lo && msg->buf + msg->len <= hi && msg->len > 0);
	CHECK(msg->body.p + msg->body.len == msg->buf + msg->len);
	CHECK(msg->call_id.len > 0);
	if (msg->is_request) {
		CHECK(msg->method_name.len && msg->ruri.len);
		CHECK(msg->method == sip_method_from_name(msg->method_name));
		CHECK(strv_eq(msg->method_name, msg->cseq_method_name));
	} else {
		CHECK(msg->status >= 100 && msg->status <= 699);
	}
	CHECK(sip_msg_hdr(msg, SIP_HDR_VIA) && sip_msg_hdr(msg, SIP_HDR_TO) &&
	      sip_msg_hdr(msg, SIP_HDR_FROM) && sip_msg_hdr(msg, SIP_HDR_CSEQ));
	check_index(msg);
}

static void check_same(const struct sip_msg *a, const struct sip_msg *b, bool skip_cl)
{
	uint16_t j = 0;

	CHECK(a->is_request == b->is_request && a->method == b->method && a->status == b->status);
	CHECK(strv_eq(a->method_name, b->method_name) && strv_eq(a->ruri, b->ruri));
	CHECK(strv_eq(a->call_id, b->call_id) && a->cseq == b->cseq);
	CHECK(strv_eq(a->cseq_method_name, b->cseq_method_name));
	CHECK(strv_eq(a->body, b->body));
	for (uint16_t i = 0; i < a->nhdrs; i++) {
		if (skip_cl && a->hdrs[i].id == SIP_HDR_CONTENT_LENGTH)
			continue;
		CHECK(j < b->nhdrs);
		CHECK(a->hdrs[i].id == b->hdrs[j].id);
		CHECK(strv_eq(a->hdrs[i].name, b->hdrs[j].name));
		CHECK(strv_eq(a->hdrs[i].value, b->hdrs[j].value));
		j++;
	}
	if (skip_cl) {
		CHECK(j + 1 == b->nhdrs && b->hdrs[j].id == SIP_HDR_CONTENT_LENGTH);
	} else {
		CHECK(j == b->nhdrs);
	}
}

static void reprint(void)
{
	struct sip_pbuf b;
	long n;

	sip_print_init(&b, out, sizeof(out));
	if (m.is_request)
		sip_print_request_line(&b, m.method_name, m.ruri);
	else
		sip_print_status_line(&b, m.status, m.reason.len ? m.reason : STRV(" "));
	for (uint16_t i = 0; i < m.nhdrs; i++)
		if (m.hdrs[i].id != SIP_HDR_CONTENT_LENGTH)
			sip_print_copy(&b, &m.hdrs[i], SIP_PRINT_NAME_ASIS);
	sip_print_body(&b, STRV(""), m.body);
	n = sip_print_finish(&b);
	CHECK(n > 0);
	/* the printed Content-Length is one entry more than a message without one had */
	if (!sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH) && m.nhdrs == SIP_MAX_HDRS)
		return;
	/* one list element per line can make the message longer than the input */
	struct sip_limits lim = { .max_msg_size = sizeof(out) };

	CHECK(sip_msg_parse(&m2, out, (size_t)n, &lim, NULL) == 0);
	lo = out;
	hi = out + n;
	check_msg(&m2);
	CHECK(m2.len == (size_t)n);
	check_same(&m, &m2, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct sip_parse_error err;
	int rc;
	long f;

	lo = in;
	hi = in + size;
	rc = sip_msg_parse(&m, in, size, NULL, &err);
	if (rc) {
		CHECK(rc == -EINVAL || rc == -EMSGSIZE || rc == -EPROTONOSUPPORT);
		CHECK(err.reason && err.offset <= size);
		CHECK(err.status == 0 || err.status == 400 || err.status == 413 ||
		      err.status == 414 || err.status == 505 || err.status == 513);
		CHECK(rc != -EPROTONOSUPPORT || err.status == 505 || err.status == 0);
		CHECK(m.nhdrs <= SIP_MAX_HDRS);
	} else {
		CHECK(!err.reason && err.status == 0);
		check_msg(&m);
		/* the message's own bytes parse to the same index */
		CHECK(sip_msg_parse(&m2, m.buf, m.len, NULL, NULL) == 0);
		check_same(&m, &m2, false);
		reprint();
	}

	f = sip_msg_frame(in, size, 65535);
	CHECK(f == 0 || f == -EINVAL || f == -EMSGSIZE || (f > 0 && (size_t)f <= size));
	if (f > 0 && !sip_msg_frame_is_keepalive(in, f)) {
		/* a frame ends with its declared body: at least the empty line is in it */
		CHECK(f >= 4 && memmem(in, (size_t)f, "\r\n\r\n", 4));
	}
	return 0;
}
