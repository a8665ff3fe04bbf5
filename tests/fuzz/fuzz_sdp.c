/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sdp_parse on arbitrary bytes. A refusal must come with a reason. Whatever parses is
 * rewritten with each media's own address and ports (and with an IPv6 relay, under each ICE
 * mode); the output must parse again with the same media, ports and hold state, a second
 * rewrite must give the same bytes, and a buffer one byte too small must give -ENOSPC.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtpengine/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More than any rewrite adds: a few lines per media and per session. */
#define OUT_SIZE(len) ((len) + 1024 + SDP_MAX_MEDIA * 512)

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_sdp: %s\n", what);
	abort();
}

/* The relay at the media's own address (or @p relay when given) and port. */
static void rewrite_init(struct sdp_rewrite *rw, struct sdp_media_rewrite *mr, const struct sdp *s,
			 const struct sa *relay, enum sdp_ice ice)
{
	for (unsigned i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];

		memset(&mr[i], 0, sizeof(mr[i]));
		mr[i].addr = relay ? *relay : m->conn;
		if (sa_is_any(&mr[i].addr)) /* a relay never advertises that */
			sa_parse_cstr(&mr[i].addr, "192.0.2.1", 0);
		/* 9 with 0.0.0.0 and ICE means "no candidate yet"; a relay never uses port 9 */
		sa_set_port(&mr[i].addr, m->port == 9 ? 10009 : m->port);
		mr[i].rtcp_port = m->rtcp_port;
		mr[i].rtcp_mux = m->rtcp_mux || m->port == UINT16_MAX;
	}
	*rw = (struct sdp_rewrite){
		.media = mr,
		.nmedia = s->nmedia,
		.replace_origin = true,
		.ice = ice,
		.ice_ufrag = STRV("fzUf"),
		.ice_pwd = STRV("fuzzpassword+/0123456789"),
	};
}

static void check_rewrite(const struct sdp *s, const char *in, size_t len, const struct sa *relay,
			  enum sdp_ice ice)
{
	struct sdp_media_rewrite mr[SDP_MAX_MEDIA];
	struct sdp_rewrite rw;
	size_t cap = OUT_SIZE(len);
	char *out = malloc(cap), *out2 = malloc(cap);
	const char *why;
	struct sdp back;
	int n, n2;

	check(out && out2, "malloc");
	rewrite_init(&rw, mr, s, relay, ice);
	n = sdp_rewrite(s, in, len, &rw, out, cap);
	check(n > 0, "rewrite of a parsed SDP fails");
	check(sdp_parse(&back, out, (size_t)n, &why) == 0, "rewritten SDP does not parse");
	check(back.nmedia == s->nmedia, "rewrite changed the number of media");
	for (unsigned i = 0; i < s->nmedia; i++) {
		if (s->media[i].port == 0) {
			check(back.media[i].port == 0, "rewrite enabled a rejected media");
			continue;
		}
		check(back.media[i].port == sa_port(&mr[i].addr),
		      "rewritten port is not the relay's");
		check(back.media[i].conn_is_hold == s->media[i].conn_is_hold,
		      "rewrite changed hold");
		check(back.media[i].dir == s->media[i].dir, "rewrite changed the direction");
		check(back.media[i].conn_is_hold || sa_equal_addr(&back.media[i].conn, &mr[i].addr),
		      "rewritten c= is not the relay's");
	}
	n2 = sdp_rewrite(&back, out, (size_t)n, &rw, out2, cap);
	check(n2 == n && memcmp(out, out2, (size_t)n) == 0, "second rewrite differs");
	check(sdp_rewrite(s, in, len, &rw, out2, (size_t)n - 1) == -ENOSPC,
	      "short buffer is not -ENOSPC");
	free(out);
	free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *why = NULL;
	struct sa relay6;
	struct sdp s;

	if (sdp_parse(&s, in, size, &why) != 0) {
		check(why != NULL && why[0] != '\0', "refused without a reason");
		check(s.nmedia == 0, "refused but media left");
		return 0;
	}
	check(s.nmedia <= SDP_MAX_MEDIA, "too many media");
	for (unsigned i = 0; i < s.nmedia; i++) {
		const struct sdp_media *m = &s.media[i];

		check(m->text.p >= in && m->text.p + m->text.len <= in + size,
		      "view out of bounds");
		check(m->port == 0 || sa_isset(&m->conn), "active media without address");
	}
	check_rewrite(&s, in, size, NULL, SDP_ICE_KEEP);
	sa_parse_cstr(&relay6, "2001:db8::7", 0);
	check_rewrite(&s, in, size, &relay6, SDP_ICE_REMOVE);
	check_rewrite(&s, in, size, &relay6, SDP_ICE_FORCE);
	return 0;
}
