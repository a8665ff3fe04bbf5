/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file str.h  String views: pointer + length into a buffer owned by someone else.
 *
 * Parsers hand out views into their input instead of copies (zero-copy); a view
 * is valid exactly as long as the buffer it points into.
 */
#ifndef SBC_STR_H
#define SBC_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strv {
	const char *p;
	size_t len;
};

/** A view of a string literal, length computed at compile time. */
#define STRV(lit) ((struct strv){ .p = "" lit, .len = sizeof(lit) - 1 })
#define STRV_NULL ((struct strv){ .p = NULL, .len = 0 })

static inline struct strv strv_make(const char *p, size_t len)
{
	return (struct strv){ .p = p, .len = len };
}

static inline struct strv strv_cstr(const char *s)
{
	return (struct strv){ .p = s, .len = s ? strlen(s) : 0 };
}

static inline bool strv_empty(struct strv s)
{
	return s.len == 0;
}

static inline bool strv_eq(struct strv a, struct strv b)
{
	if (a.len != b.len)
		return false;
	/* Empty views may carry NULL, which memcmp must never see. */
	return a.len == 0 || a.p == b.p || memcmp(a.p, b.p, a.len) == 0;
}

static inline bool strv_eq_cstr(struct strv a, const char *s)
{
	return strv_eq(a, strv_cstr(s));
}

/** ASCII case-insensitive equality (SIP tokens, header names). */
bool strv_caseeq(struct strv a, struct strv b);

/** Strips leading and trailing spaces and tabs. */
struct strv strv_trim(struct strv s);

/**
 * Parses the whole view as a decimal unsigned integer no larger than @p max.
 * @return 0, or -EINVAL (empty, not a number, trailing garbage) or -ERANGE.
 */
int strv_to_u64(struct strv s, uint64_t max, uint64_t *out);

/**
 * Copies the view into @p buf as a NUL-terminated string, truncating to fit.
 * @return @p buf.
 */
char *strv_copy(struct strv s, char *buf, size_t size);

#endif
