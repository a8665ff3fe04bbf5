/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bencode codec.
 *
 * The decoder is one loop over the input with no recursion. Its state is
 * `cur`, the innermost open list/dict (NONE at top level), and `last`, the
 * most recent child started in it (NONE if none yet). An open container's
 * `next` field stores its parent's index; closing it restores the parent from
 * there, and its `next` becomes 0 until a later sibling links it. During
 * decoding `count` holds the number of children, so in a dict an even count
 * means "a key comes next"; a dict's count is halved to pairs when it closes.
 *
 * Errors are reported at the first byte that no valid encoding could have:
 * running out of input before that point is -ENODATA, never -EINVAL.
 */
#include "bencode.h"

#define NONE UINT32_MAX

struct dec {
	struct bencode_doc *doc;
	const char *buf;
	size_t len;
	size_t pos;
	uint32_t max_depth;
	uint32_t max_str_len;
};

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int dec_fail(struct dec *d, int err, const char *why)
{
	d->doc->error = why;
	d->doc->error_offset = d->pos;
	return err;
}

static int dec_short(struct dec *d)
{
	d->pos = d->len;
	return dec_fail(d, -ENODATA, "input ends inside a value");
}

/* i<digits>e: d->pos at 'i'. */
static int dec_int(struct dec *d, int64_t *out)
{
	uint64_t limit = INT64_MAX, v = 0;
	bool neg = false;

	d->pos++;
	if (d->pos < d->len && d->buf[d->pos] == '-') {
		neg = true;
		limit = (uint64_t)INT64_MAX + 1;
		d->pos++;
	}
	if (d->pos >= d->len)
		return dec_short(d);
	if (!is_digit(d->buf[d->pos]))
		return dec_fail(d, -EINVAL, "integer without digits");
	if (d->buf[d->pos] == '0') {
		if (neg)
			return dec_fail(d, -EINVAL, "negative zero or leading zero in integer");
		d->pos++;
	} else {
		while (d->pos < d->len && is_digit(d->buf[d->pos])) {
			uint64_t digit = (uint64_t)(d->buf[d->pos] - '0');

			if (v > (limit - digit) / 10)
				return dec_fail(d, -EINVAL, "integer out of range");
			v = v * 10 + digit;
			d->pos++;
		}
	}
	if (d->pos >= d->len)
		return dec_short(d);
	if (d->buf[d->pos] != 'e')
		return dec_fail(d, -EINVAL,
				is_digit(d->buf[d->pos]) ? "leading zero in integer"
							 : "bad byte in integer");
	d->pos++;
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return 0;
}

/* <len>:<bytes>: d->pos at the first digit. */
static int dec_str(struct dec *d, struct strv *out)
{
	uint64_t n = 0;

	if (d->buf[d->pos] == '0') {
		d->pos++;
		if (d->pos >= d->len)
			return dec_short(d);
		if (d->buf[d->pos] != ':')
			return dec_fail(d, -EINVAL, "leading zero in string length");
	} else {
		while (d->pos < d->len && is_digit(d->buf[d->pos])) {
			n = n * 10 + (uint64_t)(d->buf[d->pos] - '0');
			if (n > d->max_str_len)
				return dec_fail(d, -EMSGSIZE, "string too long");
			d->pos++;
		}
		if (d->pos >= d->len)
			return dec_short(d);
		if (d->buf[d->pos] != ':')
			return dec_fail(d, -EINVAL, "bad byte in string length");
	}
	d->pos++;
	if (n > d->len - d->pos)
		return dec_short(d);
	*out = strv_make(d->buf + d->pos, (size_t)n);
	d->pos += (size_t)n;
	return 0;
}

/* 'e' at d->pos closes container `*cur`; returns 0 or -EINVAL. */
static int dec_close(struct dec *d, uint32_t *cur, uint32_t *last)
{
	struct bencode_node *c = &d->doc->nodes[*cur];
	uint32_t parent = c->next;

	if (c->type == BENCODE_DICT) {
		if (c->count & 1)
			return dec_fail(d, -EINVAL, "dict key without value");
		c->count /= 2;
	}
	d->pos++;
	c->raw.len = (size_t)(d->buf + d->pos - c->raw.p);
	c->next = 0;
	*last = *cur;
	*cur = parent;
	return 0;
}

static int dec_run(struct dec *d)
{
	struct bencode_doc *doc = d->doc;
	uint32_t cur = NONE, last = NONE, depth = 0;
	struct bencode_node *node;
	uint32_t k;
	int err;

	for (;;) {
		char c;

		if (d->pos >= d->len)
			return dec_short(d);
		c = d->buf[d->pos];
		if (c == 'e') {
			if (cur == NONE)
				return dec_fail(d, -EINVAL, "'e' outside a list or dict");
			err = dec_close(d, &cur, &last);
			if (err)
				return err;
			depth--;
			if (cur == NONE)
				return 0;
			continue;
		}
		if (cur != NONE && doc->nodes[cur].type == BENCODE_DICT &&
		    !(doc->nodes[cur].count & 1) && !is_digit(c))
			return dec_fail(d, -EINVAL, "dict key is not a string");
		if (c == 'l' || c == 'd') {
			if (depth >= d->max_depth)
				return dec_fail(d, -ELOOP, "nested too deep");
		} else if (c != 'i' && !is_digit(c)) {
			return dec_fail(d, -EINVAL, "unexpected byte where a value starts");
		}
		if (doc->count >= doc->cap)
			return dec_fail(d, -E2BIG, "too many nodes");

		k = doc->count++;
		node = &doc->nodes[k];
		if (last != NONE)
			doc->nodes[last].next = k;
		if (cur != NONE)
			doc->nodes[cur].count++;
		node->next = 0;
		node->count = 0;
		node->raw = strv_make(d->buf + d->pos, 0);

		if (c == 'l' || c == 'd') {
			node->type = c == 'l' ? BENCODE_LIST : BENCODE_DICT;
			node->v.i = 0;
			node->next = cur; /* parent, until closed */
			cur = k;
			last = NONE;
			depth++;
			d->pos++;
			continue;
		}
		if (c == 'i') {
			node->type = BENCODE_INT;
			err = dec_int(d, &node->v.i);
		} else {
			node->type = BENCODE_STR;
			err = dec_str(d, &node->v.s);
		}
		if (err)
			return err;
		node->raw.len = (size_t)(d->buf + d->pos - node->raw.p);
		last = k;
		if (cur == NONE)
			return 0;
	}
}

int bencode_decode(struct bencode_doc *doc, const char *buf, size_t len,
		   const struct bencode_limits *limits, size_t *consumed)
{
	struct dec d = {
		.doc = doc,
		.buf = buf,
		.len = buf ? len : 0,
		.pos = 0,
		.max_depth = BENCODE_DEFAULT_MAX_DEPTH,
		.max_str_len = BENCODE_DEFAULT_MAX_STR_LEN,
	};
	int err;

	if (limits && limits->max_depth)
		d.max_depth = limits->max_depth;
	if (limits && limits->max_str_len)
		d.max_str_len = limits->max_str_len;
	doc->count = 0;
	doc->error = NULL;
	doc->error_offset = 0;

	err = dec_run(&d);
	if (err)
		doc->count = 0;
	if (consumed)
		*consumed = err ? 0 : d.pos;
	return err;
}

const struct bencode_node *bencode_first(const struct bencode_doc *doc,
					 const struct bencode_node *parent)
{
	if (!parent || (parent->type != BENCODE_LIST && parent->type != BENCODE_DICT) ||
	    !parent->count)
		return NULL;
	return parent + 1;
}

const struct bencode_node *bencode_next(const struct bencode_doc *doc,
					const struct bencode_node *node)
{
	return node && node->next ? &doc->nodes[node->next] : NULL;
}

const struct bencode_node *bencode_dict_get(const struct bencode_doc *doc,
					    const struct bencode_node *dict, struct strv key)
{
	const struct bencode_node *k;

	if (!dict || dict->type != BENCODE_DICT)
		return NULL;
	/* Keys are strings (one node each), so a key's value is the next node. */
	for (k = bencode_first(doc, dict); k; k = bencode_next(doc, k + 1)) {
		if (strv_eq(k->v.s, key))
			return k + 1;
	}
	return NULL;
}

bool bencode_dict_get_str(const struct bencode_doc *doc, const struct bencode_node *dict,
			  struct strv key, struct strv *out)
{
	const struct bencode_node *v = bencode_dict_get(doc, dict, key);

	if (!v || v->type != BENCODE_STR)
		return false;
	*out = v->v.s;
	return true;
}

bool bencode_dict_get_int(const struct bencode_doc *doc, const struct bencode_node *dict,
			  struct strv key, int64_t *out)
{
	const struct bencode_node *v = bencode_dict_get(doc, dict, key);

	if (!v || v->type != BENCODE_INT)
		return false;
	*out = v->v.i;
	return true;
}

/* Appends the pieces whole, or nothing and marks overflow. */
static void buf_put2(struct bencode_buf *b, const char *p1, size_t n1, const char *p2, size_t n2)
{
	size_t room;

	if (b->overflow)
		return;
	room = b->cap - b->len;
	if (n1 > room || n2 > room - n1) {
		b->overflow = true;
		return;
	}
	if (n1)
		memcpy(b->p + b->len, p1, n1);
	if (n2)
		memcpy(b->p + b->len + n1, p2, n2);
	b->len += n1 + n2;
}

/* Writes the decimal digits of @p v ending at @p end; returns the start. */
static char *fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void bencode_put_int(struct bencode_buf *b, int64_t v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	*--p = 'e';
	p = fmt_u64(p, mag);
	if (v < 0)
		*--p = '-';
	*--p = 'i';
	buf_put2(b, p, (size_t)(tmp + sizeof(tmp) - p), NULL, 0);
}

void bencode_put_str(struct bencode_buf *b, struct strv s)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);

	*--p = ':';
	p = fmt_u64(p, s.len);
	buf_put2(b, p, (size_t)(tmp + sizeof(tmp) - p), s.p, s.len);
}

void bencode_put_cstr(struct bencode_buf *b, const char *s)
{
	bencode_put_str(b, strv_cstr(s));
}

static void buf_begin(struct bencode_buf *b, const char *c)
{
	buf_put2(b, c, 1, NULL, 0);
	b->depth++;
}

void bencode_list_begin(struct bencode_buf *b)
{
	buf_begin(b, "l");
}

void bencode_dict_begin(struct bencode_buf *b)
{
	buf_begin(b, "d");
}

void bencode_end(struct bencode_buf *b)
{
	if (!b->depth) {
		b->unbalanced = true;
		return;
	}
	b->depth--;
	buf_put2(b, "e", 1, NULL, 0);
}

void bencode_put_raw(struct bencode_buf *b, struct strv raw)
{
	buf_put2(b, raw.p, raw.len, NULL, 0);
}
