/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_sip_parse [corpus-dir]: SIP message parse throughput, ours against
 * libosip2 and sofia-sip, in the same run, on one core.
 *
 * Cases: (a) a typical ~900-byte INVITE with SDP, (b) a REGISTER with digest
 * credentials, (c) every message of tests/corpus (RFC 4475 and real-world)
 * that all three parsers accept.
 *
 * Fairness: lazy parsing must not win by doing nothing, so every parser
 * parses the whole message and then hands out the same four fields: Call-ID,
 * CSeq number, the top Via's branch and the From tag.
 *  - ours: sip_msg_parse() (header index, start line, Call-ID/CSeq/
 *    Content-Length checked), then sip_via_parse() on the top Via and
 *    sip_addr_parse() (with its URI) on From - the work a B2BUA does first.
 *  - libosip2: osip_message_init + osip_message_parse (copies the buffer,
 *    allocates and fully parses Via/From/To/CSeq/Call-ID/Contact/... into
 *    structs, keeps others as strings, copies the body) + the same four
 *    fields (the CSeq string converted to a number) + osip_message_free.
 *  - sofia-sip: msg_create + msg_recv_iovec/commit (copies the datagram into
 *    the message buffer, as its transports do) + msg_extract (parses every
 *    known header into structs) + the same four fields + msg_destroy.
 * Allocation is part of both libraries' parse path by design; ours has none.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"

#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>

/* sofia-sip declares a sip_method_name() of its own: keep it out of our namespace */
#define sip_method_name sofia_sip_method_name
#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#undef sip_method_name

#ifndef SBC_CORPUS_DIR
#define SBC_CORPUS_DIR "tests/corpus"
#endif

/* (a) A typical INVITE from a desk phone, with SDP: 900 bytes or so. */
static const char invite[] =
    "INVITE sip:+4930123456@pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.34:5060;branch=z9hG4bK1439412374;rport\r\n"
    "From: \"Alice Office\" <sip:201@pbx.example.com>;tag=3402785839\r\n"
    "To: <sip:+4930123456@pbx.example.com>\r\n"
    "Call-ID: 2803931542@192.168.1.34\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:201@192.168.1.34:5060>\r\n"
    "Content-Type: application/sdp\r\n"
    "Allow: INVITE, INFO, PRACK, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER, SUBSCRIBE, REFER, "
    "PUBLISH, UPDATE, MESSAGE\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: Yealink SIP-T46S 66.85.0.5\r\n"
    "Supported: replaces, timer\r\n"
    "Session-Expires: 1800\r\n"
    "Allow-Events: talk,hold,conference,refer,check-sync\r\n"
    "Content-Length: 306\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 20013 20013 IN IP4 192.168.1.34\r\n"
    "s=SDP data\r\n"
    "c=IN IP4 192.168.1.34\r\n"
    "t=0 0\r\n"
    "m=audio 11796 RTP/AVP 0 8 18 9 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=fmtp:18 annexb=no\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

/* (b) A REGISTER with digest credentials. */
static const char reg[] =
    "REGISTER sip:pbx.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.21:5062;branch=z9hG4bK-524287-1---5a9b2e3c1d0f4a6b;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:1001@10.0.0.21:5062;rinstance=7c1e2f3a4b5c6d7e;transport=UDP>;expires=3600\r\n"
    "To: \"1001\" <sip:1001@pbx.example.com>\r\n"
    "From: \"1001\" <sip:1001@pbx.example.com>;tag=9f2e7a1b\r\n"
    "Call-ID: ZDk2MjQ4ZTljNGUyYjE0NzE2ZmQ4ZjQ4M2M3ZDc2NWE\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Expires: 3600\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
    "Supported: replaces, norefersub, extended-refer, timer, outbound, path\r\n"
    "User-Agent: Zoiper v2.10.8.2\r\n"
    "Authorization: Digest username=\"1001\",realm=\"pbx.example.com\","
    "nonce=\"YbF2dGGxdaQ0n9mB8rDFi1c8k3yXkP0q\",uri=\"sip:pbx.example.com\","
    "response=\"1b4c8e5b3f1a2d9c7e6f5a4b3c2d1e0f\",cnonce=\"a8b7c6d5e4f3\",nc=00000001,"
    "qop=auth,algorithm=MD5\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

struct msgbuf {
	char *p;
	size_t len;
	char name[256];
};

static volatile uint64_t sink;

typedef int(parse_fn)(const char *s, size_t n);

static int parse_ours(const char *s, size_t n)
{
	static struct sip_msg m;
	struct sip_via v;
	struct sip_addr a;

	if (sip_msg_parse(&m, s, n, NULL, NULL))
		return -1;
	if (sip_via_parse(&v, sip_msg_hdr(&m, SIP_HDR_VIA)->value))
		return -1;
	if (sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_FROM)->value))
		return -1;
	sink += m.call_id.len + m.cseq + v.branch.len + a.tag.len;
	return 0;
}

/* Only the message index, for the breakdown line: what the four fields add. */
static int parse_ours_index(const char *s, size_t n)
{
	static struct sip_msg m;

	if (sip_msg_parse(&m, s, n, NULL, NULL))
		return -1;
	sink += m.call_id.len + m.cseq;
	return 0;
}

static int parse_osip(const char *s, size_t n)
{
	osip_message_t *sip;
	osip_generic_param_t *br = NULL, *tag = NULL;
	osip_via_t *via;
	int rc = -1;

	if (osip_message_init(&sip))
		return -1;
	if (osip_message_parse(sip, s, n) != 0)
		goto out;
	via = osip_list_get(&sip->vias, 0);
	if (!sip->call_id || !sip->cseq || !via || !sip->from)
		goto out;
	osip_via_param_get_byname(via, "branch", &br);
	osip_from_get_tag(sip->from, &tag);
	sink += strlen(sip->call_id->number) + strtoul(sip->cseq->number, NULL, 10) +
		(br && br->gvalue ? strlen(br->gvalue) : 0) +
		(tag && tag->gvalue ? strlen(tag->gvalue) : 0);
	rc = 0;
out:
	osip_message_free(sip);
	return rc;
}

static int parse_sofia(const char *s, size_t n)
{
	msg_t *msg = msg_create(sip_default_mclass(), 0);
	msg_iovec_t iov[2];
	sip_t const *sip;
	issize_t nv;
	size_t off = 0;
	int rc = -1;

	if (!msg)
		return -1;
	nv = msg_recv_iovec(msg, iov, 2, n, 1);
	if (nv < 0)
		goto out;
	for (issize_t i = 0; i < nv && off < n; i++) {
		size_t k = iov[i].mv_len < n - off ? iov[i].mv_len : n - off;

		memcpy(iov[i].mv_base, s + off, k);
		off += k;
	}
	msg_recv_commit(msg, n, 1);
	if (msg_extract(msg) <= 0)
		goto out;
	sip = sip_object(msg);
	if (!sip || !sip->sip_call_id || !sip->sip_cseq || !sip->sip_via || !sip->sip_from ||
	    (sip->sip_error && !sip->sip_request && !sip->sip_status))
		goto out;
	sink += strlen(sip->sip_call_id->i_id) + sip->sip_cseq->cs_seq +
		(sip->sip_via->v_branch ? strlen(sip->sip_via->v_branch) : 0) +
		(sip->sip_from->a_tag ? strlen(sip->sip_from->a_tag) : 0);
	rc = 0;
out:
	msg_destroy(msg);
	return rc;
}

static void osip_quiet(const char *fi, int li, osip_trace_level_t level, const char *fmt,
		       va_list ap)
{
	(void)fi, (void)li, (void)level, (void)fmt, (void)ap;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ns per message over whole rounds of the set, for at least min_s seconds. */
static double measure(parse_fn *fn, const struct msgbuf *set, size_t nset, double min_s)
{
	uint64_t count = 0;
	unsigned rounds = 1;
	double t0, t;

	for (size_t i = 0; i < nset; i++) /* warm up caches and allocators */
		fn(set[i].p, set[i].len);
	for (;;) {
		t0 = now();
		for (unsigned r = 0; r < rounds; r++)
			for (size_t i = 0; i < nset; i++)
				fn(set[i].p, set[i].len);
		t = now() - t0;
		count = (uint64_t)rounds * nset;
		if (t >= min_s)
			break;
		rounds = t > 0.01 ? (unsigned)(rounds * (min_s / t) * 1.1) + 1 : rounds * 10;
	}
	return t * 1e9 / (double)count;
}

static struct msgbuf *load_dir(const char *dir, struct msgbuf *set, size_t *n, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "bench_sip_parse: %s: %s\n", dir, strerror(errno));
		return set;
	}
	while ((e = readdir(d)) && *n < cap) {
		char path[1024];
		FILE *f;
		long len;

		if (!strstr(e->d_name, ".sip"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		set[*n].p = malloc(len > 0 ? (size_t)len : 1);
		set[*n].len = fread(set[*n].p, 1, (size_t)(len > 0 ? len : 0), f);
		snprintf(set[*n].name, sizeof(set[*n].name), "%s", e->d_name);
		fclose(f);
		(*n)++;
	}
	closedir(d);
	return set;
}

struct result {
	const char *name;
	double ns[3];
	double index_ns; /* ours, sip_msg_parse alone */
	size_t bytes;
};

static void report(const struct result *r)
{
	printf("%-28s %6zu B | %9.0f ns %9.0f ns %9.0f ns | %8.2f M/s %6.2f M/s %6.2f M/s | %5.1fx "
	       "%5.1fx\n",
	       r->name, r->bytes, r->ns[0], r->ns[1], r->ns[2], 1e3 / r->ns[0], 1e3 / r->ns[1],
	       1e3 / r->ns[2], r->ns[1] / r->ns[0], r->ns[2] / r->ns[0]);
	printf("%-28s %8s |   of which sip_msg_parse %.0f ns (%.2f ns/byte), Via+From %.0f ns\n",
	       "", "", r->index_ns, r->index_ns / (double)r->bytes, r->ns[0] - r->index_ns);
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : SBC_CORPUS_DIR;
	double min_s = getenv("BENCH_SECONDS") ? atof(getenv("BENCH_SECONDS")) : 1.0;
	parse_fn *fns[3] = { parse_ours, parse_osip, parse_sofia };
	static struct msgbuf all[256], ok[256];
	struct msgbuf one;
	struct result res;
	size_t nall = 0, nok = 0, bytes = 0;
	char path[1024];

	osip_trace_initialize_func(OSIP_FATAL, osip_quiet); /* its refusals are not news here */
	if (parser_init() != 0) {
		fprintf(stderr, "osip parser_init failed\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/rfc4475", corpus);
	load_dir(path, all, &nall, 256);
	snprintf(path, sizeof(path), "%s/real", corpus);
	load_dir(path, all, &nall, 256);

	/* the corpus case: only what every parser accepts, so none wins by refusing early */
	for (size_t i = 0; i < nall; i++) {
		int a = parse_ours(all[i].p, all[i].len), b = parse_osip(all[i].p, all[i].len),
		    c = parse_sofia(all[i].p, all[i].len);

		if (!a && !b && !c) {
			ok[nok++] = all[i];
			bytes += all[i].len;
		} else if (getenv("BENCH_VERBOSE")) {
			printf("# corpus %s: ours %d osip %d sofia %d\n", all[i].name, a, b, c);
		}
	}

	printf("SIP parse: ours vs libosip2 %s vs sofia-sip, %.1f s per cell, one core\n", "5.x",
	       min_s);
	printf("%-28s %8s | %12s %12s %12s | %12s %10s %10s | %6s %6s\n", "case", "size", "ours",
	       "osip", "sofia", "ours", "osip", "sofia", "osip/", "sofia/");
	printf("%-28s %8s | %12s %12s %12s | %12s %10s %10s | %6s %6s\n", "", "", "ns/msg",
	       "ns/msg", "ns/msg", "msg/s", "msg/s", "msg/s", "ours", "ours");

	one.p = (char *)invite;
	one.len = sizeof(invite) - 1;
	for (int k = 0; k < 3; k++)
		if (fns[k](one.p, one.len)) {
			fprintf(stderr, "parser %d refuses the INVITE\n", k);
			return 1;
		}
	res.name = "(a) INVITE with SDP";
	res.bytes = one.len;
	for (int k = 0; k < 3; k++)
		res.ns[k] = measure(fns[k], &one, 1, min_s);
	res.index_ns = measure(parse_ours_index, &one, 1, min_s);
	report(&res);

	one.p = (char *)reg;
	one.len = sizeof(reg) - 1;
	for (int k = 0; k < 3; k++)
		if (fns[k](one.p, one.len)) {
			fprintf(stderr, "parser %d refuses the REGISTER\n", k);
			return 1;
		}
	res.name = "(b) REGISTER with digest";
	res.bytes = one.len;
	for (int k = 0; k < 3; k++)
		res.ns[k] = measure(fns[k], &one, 1, min_s);
	res.index_ns = measure(parse_ours_index, &one, 1, min_s);
	report(&res);

	if (nok) {
		static char label[64];

		snprintf(label, sizeof(label), "(c) corpus, %zu of %zu msgs", nok, nall);
		res.name = label;
		res.bytes = bytes / nok;
		for (int k = 0; k < 3; k++)
			res.ns[k] = measure(fns[k], ok, nok, min_s);
		res.index_ns = measure(parse_ours_index, ok, nok, min_s);
		report(&res);
	}
	printf("(size: bytes per message, mean for the corpus; osip/ours and sofia/ours: how many "
	       "times faster ours is)\n");
	printf("(sink %llu)\n", (unsigned long long)sink);
	for (size_t i = 0; i < nall; i++)
		free(all[i].p);
	return 0;
}
