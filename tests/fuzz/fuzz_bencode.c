/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decodes the input; on success re-encodes the tree by walking it (iteratively,
 * through bencode_first/next only, never through raw) and requires the result
 * to equal the consumed bytes exactly. Also checks the structural invariants
 * (count, raw, sibling chain, dict_get), that the encoder refuses one byte less,
 * and that every failure carries a reason and a known errno, and that a
 * truncated valid input is "incomplete" (-ENODATA), never "malformed".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bencode.h"

#define MAX_NODES 512
#define OUT_SIZE  (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct bencode_node nodes[MAX_NODES];
static struct bencode_node nodes2[MAX_NODES];
static char out[OUT_SIZE];

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static void check_dict_get(const struct bencode_doc *doc, const struct bencode_node *dict,
			   const struct bencode_node *key)
{
	const struct bencode_node *v = bencode_dict_get(doc, dict, key->v.s);

	/* the first pair with this key, which is this one or an earlier one */
	CHECK(v && v <= key + 1 && v[-1].type == BENCODE_STR && strv_eq(v[-1].v.s, key->v.s));
}

/*
 * Walks the tree in document order with an explicit stack and re-encodes it.
 * Returns the number of nodes visited.
 */
static uint32_t reencode(const struct bencode_doc *doc, struct bencode_buf *b)
{
	const struct bencode_node *stack[BENCODE_DEFAULT_MAX_DEPTH + 1];
	uint32_t children[BENCODE_DEFAULT_MAX_DEPTH + 1];
	const struct bencode_node *n = bencode_root(doc);
	uint32_t depth = 0, visited = 0;

	while (n) {
		/* document order: node i is visited i-th */
		CHECK(n == &doc->nodes[visited]);
		visited++;
		if (depth) {
			const struct bencode_node *parent = stack[depth - 1];

			if (parent->type == BENCODE_DICT && children[depth - 1] % 2 == 0) {
				CHECK(n->type == BENCODE_STR);
				check_dict_get(doc, parent, n);
			}
			children[depth - 1]++;
		}
		CHECK(n->raw.p >= doc->nodes[0].raw.p);
		switch (n->type) {
		case BENCODE_INT:
			bencode_put_int(b, n->v.i);
			break;
		case BENCODE_STR:
			CHECK(n->v.s.p + n->v.s.len == n->raw.p + n->raw.len);
			bencode_put_str(b, n->v.s);
			break;
		case BENCODE_LIST:
		case BENCODE_DICT:
			n->type == BENCODE_LIST ? bencode_list_begin(b) : bencode_dict_begin(b);
			CHECK(depth < BENCODE_DEFAULT_MAX_DEPTH);
			stack[depth] = n;
			children[depth] = 0;
			depth++;
			n = bencode_first(doc, n);
			if (n)
				continue;
			n = stack[--depth];
			break;
		default:
			abort();
		}
		/* n is complete: close every container it completes */
		for (;;) {
			const struct bencode_node *next = bencode_next(doc, n);

			if (n->type == BENCODE_LIST || n->type == BENCODE_DICT) {
				uint32_t kids = children[depth];

				bencode_end(b);
				CHECK(n->count == (n->type == BENCODE_DICT ? kids / 2 : kids));
				CHECK(n->type != BENCODE_DICT || kids % 2 == 0);
				CHECK(n->raw.p[0] == (n->type == BENCODE_LIST ? 'l' : 'd'));
				CHECK(n->raw.p[n->raw.len - 1] == 'e');
			}
			if (next || !depth) {
				CHECK(depth || !next); /* the root has no sibling */
				n = next;
				break;
			}
			n = stack[--depth];
		}
	}
	CHECK(depth == 0);
	return visited;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct bencode_doc doc, doc2;
	struct bencode_buf b;
	size_t consumed = 0;
	int rc, len;

	bencode_doc_init(&doc, nodes, MAX_NODES);
	rc = bencode_decode(&doc, in, size, NULL, &consumed);
	if (rc) {
		CHECK(rc == -EINVAL || rc == -E2BIG || rc == -ELOOP || rc == -EMSGSIZE ||
		      rc == -ENODATA);
		CHECK(doc.error && doc.error_offset <= size && doc.count == 0 && consumed == 0);
		CHECK(rc != -ENODATA || doc.error_offset == size);
		return 0;
	}
	CHECK(!doc.error && doc.count >= 1 && doc.count <= MAX_NODES);
	CHECK(consumed >= 2 && consumed <= size);
	CHECK(doc.nodes[0].raw.p == in && doc.nodes[0].raw.len == consumed);

	bencode_buf_init(&b, out, sizeof(out));
	CHECK(reencode(&doc, &b) == doc.count);
	len = bencode_buf_finish(&b);
	CHECK(len >= 0 && (size_t)len == consumed);
	CHECK(memcmp(out, in, consumed) == 0);

	/* one byte less does not fit, and nothing torn is left behind */
	bencode_buf_init(&b, out, consumed - 1);
	reencode(&doc, &b);
	CHECK(bencode_buf_finish(&b) == -ENOBUFS && b.len < consumed);

	/* truncations of a valid value are incomplete, not malformed */
	bencode_doc_init(&doc2, nodes2, MAX_NODES);
	CHECK(bencode_decode(&doc2, in, consumed - 1, NULL, NULL) == -ENODATA);
	CHECK(bencode_decode(&doc2, in, consumed / 2, NULL, NULL) == -ENODATA);
	/* and decoding exactly the consumed bytes gives the same tree */
	CHECK(bencode_decode(&doc2, in, consumed, NULL, &consumed) == 0);
	CHECK(doc2.count == doc.count);
	return 0;
}
