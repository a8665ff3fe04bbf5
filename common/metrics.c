/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Prometheus text format, as specified in prometheus/docs exposition_formats.md:
 *
 *   # HELP <name> <help, with \ and LF escaped>
 *   # TYPE <name> counter|gauge
 *   <name>{<label>="<value, with \ " and LF escaped>",...} <value>
 */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_writer_init(struct metrics_writer *w, size_t limit)
{
	memset(w, 0, sizeof(*w));
	w->limit = limit;
}

void metrics_writer_reset(struct metrics_writer *w)
{
	size_t limit = w->limit;

	free(w->buf);
	metrics_writer_init(w, limit);
}

int metrics_writer_error(const struct metrics_writer *w)
{
	return w->err;
}

static int fail(struct metrics_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

static int reserve(struct metrics_writer *w, size_t n)
{
	size_t cap;
	char *buf;

	if (w->limit && n > w->limit - w->len)
		return fail(w, -E2BIG);
	if (n <= w->cap - w->len)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap - w->len < n)
		cap *= 2;
	buf = realloc(w->buf, cap);
	if (!buf)
		return fail(w, -ENOMEM);
	w->buf = buf;
	w->cap = cap;
	return 0;
}

static void put(struct metrics_writer *w, const char *p, size_t n)
{
	if (w->err || reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_str(struct metrics_writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* @p quote: also escape '"' (label values; help texts keep theirs). */
static void put_escaped(struct metrics_writer *w, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put_str(w, "\\\\");
		else if (*s == '\n')
			put_str(w, "\\n");
		else if (*s == '"' && quote)
			put_str(w, "\\\"");
		else
			put(w, s, 1);
	}
}

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

static bool name_ok(const char *name, bool colon)
{
	size_t i;

	if (!name || !name[0])
		return false;
	for (i = 0; name[i]; i++) {
		if (i == METRICS_NAME_MAX - 1 || !name_char(name[i], i == 0, colon))
			return false;
	}
	return true;
}

static bool labels_ok(const struct metrics_label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(labels[i].name, false) || strncmp(labels[i].name, "__", 2) == 0 ||
		    !labels[i].value)
			return false;
	}
	return true;
}

/* FNV-1a: to remember the families already written without storing their names. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool family_done(const struct metrics_writer *w, uint64_t h)
{
	for (unsigned i = 0; i < w->ndone; i++) {
		if (w->done[i] == h)
			return true;
	}
	return false;
}

/* HELP and TYPE when @p name starts a family; refuses a family split by another one. */
static int start_family(struct metrics_writer *w, const char *name, const char *help,
			const char *type)
{
	uint64_t h = name_hash(name);

	if (strcmp(w->family, name) == 0)
		return strcmp(w->family_type, type) == 0 ? 0 : fail(w, -EINVAL);
	if (family_done(w, h))
		return fail(w, -EINVAL);
	if (w->family[0] && w->ndone < METRICS_MAX_FAMILIES)
		w->done[w->ndone++] = name_hash(w->family);
	strcpy(w->family, name); /* name_ok bounded it */
	w->family_type = type;
	if (help) {
		put_str(w, "# HELP ");
		put_str(w, name);
		put_str(w, " ");
		put_escaped(w, help, false);
		put_str(w, "\n");
	}
	put_str(w, "# TYPE ");
	put_str(w, name);
	put_str(w, " ");
	put_str(w, type);
	put_str(w, "\n");
	return w->err;
}

static int sample(struct metrics_writer *w, const char *name, const char *help, const char *type,
		  const struct metrics_label *labels, size_t nlabels, const char *value)
{
	if (w->err)
		return w->err;
	if (!name_ok(name, true) || !labels_ok(labels, nlabels))
		return fail(w, -EINVAL);
	if (start_family(w, name, help, type) < 0)
		return w->err;
	put_str(w, name);
	for (size_t i = 0; i < nlabels; i++) {
		put_str(w, i ? "," : "{");
		put_str(w, labels[i].name);
		put_str(w, "=\"");
		put_escaped(w, labels[i].value, true);
		put_str(w, "\"");
	}
	if (nlabels)
		put_str(w, "}");
	put_str(w, " ");
	put_str(w, value);
	put_str(w, "\n");
	return w->err;
}

int metrics_counter(struct metrics_writer *w, const char *name, const char *help,
		    const struct metrics_label *labels, size_t nlabels, uint64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	return sample(w, name, help, "counter", labels, nlabels, text);
}

int metrics_gauge(struct metrics_writer *w, const char *name, const char *help,
		  const struct metrics_label *labels, size_t nlabels, double value)
{
	char text[32];

	if (isnan(value))
		strcpy(text, "NaN");
	else if (isinf(value))
		strcpy(text, value > 0 ? "+Inf" : "-Inf");
	else if (snprintf(text, sizeof(text), "%.15g", value) > 0 && strtod(text, NULL) != value)
		snprintf(text, sizeof(text), "%.17g", value); /* shortest that reads back */
	return sample(w, name, help, "gauge", labels, nlabels, text);
}
