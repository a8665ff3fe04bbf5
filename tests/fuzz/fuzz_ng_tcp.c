/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ng over TCP framing (ng_frame.h): the input is a byte stream; its first byte picks the
 * size of the segments it arrives in. Cutting the stream as it arrives, keeping what is
 * incomplete as a connection does, must find the same commands as cutting it whole, and
 * every command found must be "<cookie> <bencode value>" within the size limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bencode.h"
#include "rtpengine/ng_frame.h"

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

#define MAX_MSG	 4096
#define MAX_CMDS 256
#define NODES	 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bencode_node nodes[NODES], check_nodes[NODES];

struct cut {
	size_t off[MAX_CMDS], len[MAX_CMDS];
	unsigned n;
	int end; /* 0: waiting for more, < 0: the error that closed the stream */
};

/* Cuts buf[0..len) from @p pos on; @return the new position. */
static size_t cut_some(struct cut *c, const char *buf, size_t base, size_t pos, size_t len)
{
	struct bencode_doc doc;

	bencode_doc_init(&doc, nodes, NODES);
	while (c->n < MAX_CMDS && !c->end) {
		struct ng_frame f;
		int rc = ng_frame_next(&f, buf + pos, len - pos, MAX_MSG, &doc);

		if (rc < 0) {
			c->end = rc;
			break;
		}
		pos += f.skip;
		if (rc == 0)
			break;
		CHECK(f.len <= MAX_MSG && f.cookie_len > 0 && buf[pos + f.cookie_len] == ' ');
		c->off[c->n] = base + pos;
		c->len[c->n++] = f.len;
		pos += f.len;
	}
	return pos;
}

static void check_command(const char *p, size_t len)
{
	const char *sp = memchr(p, ' ', len);
	struct bencode_doc doc;
	size_t consumed;

	CHECK(sp && sp > p);
	bencode_doc_init(&doc, check_nodes, NODES);
	CHECK(bencode_decode(&doc, sp + 1, (size_t)(p + len - sp - 1), NULL, &consumed) == 0);
	CHECK(consumed == (size_t)(p + len - sp - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[MAX_MSG];
	struct cut whole = { 0 }, parts = { 0 };
	size_t seg, in_len = 0, base = 0;
	const char *s;

	if (!size)
		return 0;
	seg = (size_t)data[0] % 64 + 1;
	s = (const char *)data + 1;
	size--;
	cut_some(&whole, s, 0, 0, size);
	/* as a connection: a bounded buffer, filled a segment at a time */
	for (size_t got = 0; got < size && !parts.end && parts.n < MAX_CMDS;) {
		size_t n = size - got < seg ? size - got : seg, used;

		if (n > MAX_MSG - in_len)
			n = MAX_MSG - in_len;
		CHECK(n > 0); /* a full buffer always yields a command or an error */
		memcpy(in + in_len, s + got, n);
		got += n;
		in_len += n;
		used = cut_some(&parts, in, base, 0, in_len);
		memmove(in, in + used, in_len - used);
		in_len -= used;
		base += used;
	}
	CHECK(parts.n == whole.n || whole.n == MAX_CMDS || parts.n == MAX_CMDS);
	if (whole.n < MAX_CMDS && parts.n < MAX_CMDS)
		CHECK(parts.end == whole.end);
	for (unsigned i = 0; i < parts.n && i < whole.n; i++) {
		CHECK(parts.off[i] == whole.off[i] && parts.len[i] == whole.len[i]);
		check_command(s + whole.off[i], whole.len[i]);
	}
	return 0;
}
