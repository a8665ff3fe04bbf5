/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file bencode.h  Bencode decoding and encoding: the wire format of the ng protocol.
 *
 * Decoding is zero-copy and allocation-free: the caller supplies an array of
 * nodes, and strings are views into the input buffer, which must outlive the
 * decoded tree. Nesting is handled with an explicit bounded stack, never with
 * recursion, so hostile input cannot exhaust the C stack; limits on depth,
 * node count and string length refuse it cheaply with a reason.
 *
 * Encoding appends to a caller-supplied fixed buffer; overflow is sticky and
 * reported once at the end, so a reply is built without checking every call.
 *
 * Decoder invariants: nodes[] is filled in document (pre-)order, so a
 * container's first child is the node right after it and a dict value is the
 * node right after its key. While a container is still open its `next` field
 * holds its parent's index; that chain is the decoder's stack, bounded by
 * doc->cap, and needs no C stack however deep the input nests. The decoder
 * reports an error as soon as the bytes seen cannot start any valid value, and
 * -ENODATA only when they can (every proper prefix of a valid value gives
 * -ENODATA), so a stream reader can tell "wait for more" from "reject".
 */
#ifndef SBC_BENCODE_H
#define SBC_BENCODE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "str.h"

enum bencode_type {
	BENCODE_INT = 1,
	BENCODE_STR,
	BENCODE_LIST,
	BENCODE_DICT,
};

/**
 * One decoded value. Nodes are stored in document order: a list's or dict's
 * children follow it; in a dict they alternate key, value. `next` is the index
 * of the next sibling (0 = none: the root is node 0 and nobody's sibling).
 */
struct bencode_node {
	enum bencode_type type;
	uint32_t next;	/**< next sibling, 0 if last */
	uint32_t count; /**< list: items; dict: key/value pairs */
	union {
		int64_t i;     /**< BENCODE_INT */
		struct strv s; /**< BENCODE_STR: view into the input */
	} v;
	struct strv raw; /**< the encoded bytes of this value, in the input */
};

#define BENCODE_DEFAULT_MAX_DEPTH   32
#define BENCODE_DEFAULT_MAX_STR_LEN (1u << 20)

/** Decoder limits; a field left 0 takes its default. */
struct bencode_limits {
	uint32_t max_depth;   /**< nesting of lists/dicts (a lone list is 1); default 32 */
	uint32_t max_str_len; /**< bytes in one string; default 1 MiB */
};

/** Decoded document; nodes[0] is the root. */
struct bencode_doc {
	struct bencode_node *nodes;
	uint32_t cap;	     /**< capacity of nodes[] (the node-count limit) */
	uint32_t count;	     /**< nodes used */
	const char *error;   /**< static reason after a failed decode, else NULL */
	size_t error_offset; /**< input offset of the failure */
};

static inline void bencode_doc_init(struct bencode_doc *doc, struct bencode_node *nodes,
				    uint32_t cap)
{
	doc->nodes = nodes;
	doc->cap = cap;
	doc->count = 0;
	doc->error = 0;
	doc->error_offset = 0;
}

/**
 * Decodes one value from the start of @p buf (NULL limits: the defaults).
 * Strict: integers without leading zeros, "-0" or int64 overflow; string
 * lengths without leading zeros; dict keys are strings, in any order (Kamailio
 * does not sort them), duplicates allowed (lookups find the first).
 * @param consumed set to the bytes used (trailing data is the caller's
 *        business), 0 on failure; may be NULL.
 * @return 0, or -EINVAL (malformed), -E2BIG (more nodes than doc->cap),
 *         -ELOOP (deeper than max_depth), -EMSGSIZE (string longer than
 *         max_str_len), -ENODATA (input ends inside a value). On failure
 *         doc->count is 0 and doc->error / doc->error_offset say why and where.
 */
int bencode_decode(struct bencode_doc *doc, const char *buf, size_t len,
		   const struct bencode_limits *limits, size_t *consumed);

static inline const struct bencode_node *bencode_root(const struct bencode_doc *doc)
{
	return doc->count ? &doc->nodes[0] : 0;
}

/** First child of a list or dict (for a dict: the first key), or NULL. */
const struct bencode_node *bencode_first(const struct bencode_doc *doc,
					 const struct bencode_node *parent);
/** Next sibling, or NULL. */
const struct bencode_node *bencode_next(const struct bencode_doc *doc,
					const struct bencode_node *node);

/** Value for @p key in @p dict (first match), or NULL if absent or not a dict. */
const struct bencode_node *bencode_dict_get(const struct bencode_doc *doc,
					    const struct bencode_node *dict, struct strv key);

/** String value for @p key, or false if absent or not a string. */
bool bencode_dict_get_str(const struct bencode_doc *doc, const struct bencode_node *dict,
			  struct strv key, struct strv *out);

/** Integer value for @p key, or false if absent or not an integer. */
bool bencode_dict_get_int(const struct bencode_doc *doc, const struct bencode_node *dict,
			  struct strv key, int64_t *out);

/**
 * Encoder over a fixed buffer. Each put either fits whole or writes nothing and
 * sets `overflow`, after which every put is a no-op, so the buffer never holds
 * a torn value. Nesting is only counted (bencode_end emits 'e'); an end without
 * a begin, or a begin without an end at finish, is reported by finish.
 */
struct bencode_buf {
	char *p;
	size_t len;
	size_t cap;
	uint32_t depth;	 /**< open lists/dicts */
	bool overflow;	 /**< sticky: set once anything did not fit */
	bool unbalanced; /**< sticky: bencode_end with nothing open */
};

static inline void bencode_buf_init(struct bencode_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->len = 0;
	b->cap = cap;
	b->depth = 0;
	b->overflow = false;
	b->unbalanced = false;
}

void bencode_put_int(struct bencode_buf *b, int64_t v);
void bencode_put_str(struct bencode_buf *b, struct strv s);
void bencode_put_cstr(struct bencode_buf *b, const char *s);
void bencode_list_begin(struct bencode_buf *b);
void bencode_dict_begin(struct bencode_buf *b);
/** Ends the innermost open list or dict. */
void bencode_end(struct bencode_buf *b);
/** Copies an already-encoded value (e.g. node->raw) verbatim; not checked. */
void bencode_put_raw(struct bencode_buf *b, struct strv raw);

/** Puts a string key and a string value (inside a dict). */
static inline void bencode_dict_put_str(struct bencode_buf *b, const char *key, struct strv val)
{
	bencode_put_cstr(b, key);
	bencode_put_str(b, val);
}

/** Puts a string key and an integer value (inside a dict). */
static inline void bencode_dict_put_int(struct bencode_buf *b, const char *key, int64_t val)
{
	bencode_put_cstr(b, key);
	bencode_put_int(b, val);
}

/**
 * @return the encoded length, or -ENOBUFS if anything overflowed (or the
 *         length exceeds INT_MAX), -EINVAL if lists/dicts are not balanced.
 */
static inline int bencode_buf_finish(const struct bencode_buf *b)
{
	if (b->overflow || b->len > INT_MAX)
		return -ENOBUFS;
	if (b->unbalanced || b->depth)
		return -EINVAL;
	return (int)b->len;
}

#endif
