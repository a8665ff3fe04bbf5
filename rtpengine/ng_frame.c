/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng_frame.h"

#include <errno.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of the cookie at @p p (bytes before the first space), 0 if not found yet. */
static int find_cookie(const char *p, size_t len, size_t *cookie_len)
{
	size_t n = len < NG_FRAME_MAX_COOKIE + 1 ? len : NG_FRAME_MAX_COOKIE + 1;
	const char *sp = memchr(p, ' ', n);

	*cookie_len = 0;
	if (!sp)
		return n > NG_FRAME_MAX_COOKIE ? -EINVAL : 0;
	*cookie_len = (size_t)(sp - p);
	return 1;
}

int ng_frame_next(struct ng_frame *f, const char *buf, size_t len, size_t max_len,
		  struct bencode_doc *doc)
{
	size_t cookie_len, avail, consumed;
	const char *p;
	int rc;

	memset(f, 0, sizeof(*f));
	while (f->skip < len && is_space(buf[f->skip]))
		f->skip++;
	p = buf + f->skip;
	avail = len - f->skip;
	rc = find_cookie(p, avail, &cookie_len);
	if (rc <= 0)
		return rc;
	f->cookie_len = cookie_len;
	if (avail > max_len)
		avail = max_len;
	if (cookie_len + 1 >= avail)
		return cookie_len + 1 >= max_len ? -EMSGSIZE : 0;
	bencode_doc_init(doc, doc->nodes, doc->cap);
	rc = bencode_decode(doc, p + cookie_len + 1, avail - cookie_len - 1, NULL, &consumed);
	if (rc == -ENODATA)
		/* a command that reaches max_len and still is not complete never will be */
		return len - f->skip >= max_len ? -EMSGSIZE : 0;
	if (rc == -E2BIG)
		return -EMSGSIZE;
	if (rc < 0)
		return -EINVAL;
	f->len = cookie_len + 1 + consumed;
	return 1;
}
