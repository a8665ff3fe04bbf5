/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file metrics.h  Prometheus text exposition format (version 0.0.4), written into a buffer.
 *
 * A daemon's metrics callback writes one sample per call:
 *
 *     const struct metrics_label dir[] = { { "dir", "in" } };
 *     metrics_counter(w, "rtpengine_packets_total", "Packets relayed.", dir, 1, n_in);
 *
 * The "# HELP" and "# TYPE" lines are written before the first sample of a family; the
 * samples of one family must be written one after the other (the format requires it), so a
 * family whose name was already written with other samples in between is refused (-EINVAL).
 * Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* without a
 * leading "__" for labels); label values and help texts are escaped as the format says
 * (backslash, double quote in label values, line feed).
 *
 * The buffer grows as needed (this is the scrape path, not the data path). After the first
 * failure every call returns the same error, so a callback need not check each one: look at
 * metrics_writer_error() at the end.
 */
#ifndef SBC_METRICS_H
#define SBC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest metric name accepted. */
#define METRICS_NAME_MAX 128

struct metrics_label {
	const char *name;
	const char *value;
};

/** Families remembered to refuse a split one (beyond that, not checked). */
#define METRICS_MAX_FAMILIES 256

/** Internals are the module's; use the functions. */
struct metrics_writer {
	char *buf; /**< malloc'd, not NUL-terminated; metrics_writer_reset frees it */
	size_t len, cap;
	size_t limit;			     /**< most bytes the text may take; 0: no limit */
	int err;			     /**< first error, sticky */
	char family[METRICS_NAME_MAX];	     /**< the family being written, "" before any */
	const char *family_type;	     /**< "counter" or "gauge" */
	uint64_t done[METRICS_MAX_FAMILIES]; /**< hashes of the families written before */
	unsigned ndone;
};

/** An empty writer; @p limit bounds the text (0: unbounded). */
void metrics_writer_init(struct metrics_writer *w, size_t limit);
/** Frees the text and makes the writer empty again (same limit). */
void metrics_writer_reset(struct metrics_writer *w);
/** 0, or the first error: -EINVAL (bad name, family split), -ENOMEM, -E2BIG (limit). */
int metrics_writer_error(const struct metrics_writer *w);

/** A counter sample ("# TYPE name counter"). @return 0 or the writer's error. */
int metrics_counter(struct metrics_writer *w, const char *name, const char *help,
		    const struct metrics_label *labels, size_t nlabels, uint64_t value);

/** A gauge sample ("# TYPE name gauge"); NaN and infinities are written as the format says. */
int metrics_gauge(struct metrics_writer *w, const char *name, const char *help,
		  const struct metrics_label *labels, size_t nlabels, double value);

#endif
