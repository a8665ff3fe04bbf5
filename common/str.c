/* SPDX-License-Identifier: BSD-2-Clause */
#include "str.h"

#include <errno.h>

static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

bool strv_caseeq(struct strv a, struct strv b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
			return false;
	}
	return true;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

struct strv strv_trim(struct strv s)
{
	while (s.len && is_blank(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_blank(s.p[s.len - 1]))
		s.len--;
	return s;
}

int strv_to_u64(struct strv s, uint64_t max, uint64_t *out)
{
	bool range = false;
	uint64_t v = 0;

	if (s.len == 0)
		return -EINVAL;
	/* Scan to the end even past an overflow: "99999999999999999999x" is not a number. */
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (range || d > max || v > (max - d) / 10)
			range = true;
		else
			v = v * 10 + d;
	}
	if (range)
		return -ERANGE;
	*out = v;
	return 0;
}

char *strv_copy(struct strv s, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return buf;
	n = s.len < size - 1 ? s.len : size - 1;
	if (n)
		memcpy(buf, s.p, n);
	buf[n] = '\0';
	return buf;
}
