/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writer state: fd is the file lines go to; the queue holds, oldest first, the lines that
 * could not be written, and every write goes through it so that the file keeps the order of
 * the calls. need_newline is set when a short write left a fragment in the file that could not
 * be truncated away: the next write to that same file first ends the fragment with '\n'.
 * Everything is under lock.
 */
#include "cdr.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"

/* ---- formatting ---- */

struct out {
	char *p;
	size_t len, size;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n > o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		o->overflow = true;
	else
		put(o, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence (RFC 3629) at @p p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* no overlong forms */
		else if (c == 0xf4)
			hi = 0x8f; /* at most U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/* A JSON string (see cdr.h for the rules), or null for a view without pointer. */
static void put_str(struct out *o, struct strv s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t field = 0;

	if (!s.p) {
		puts_(o, "null");
		return;
	}
	put(o, "\"", 1);
	for (size_t i = 0; i < s.len;) {
		char esc[8];
		const char *unit = esc;
		size_t ulen, adv = 1, seq;

		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			ulen = 2;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
			ulen = 6;
		} else if ((seq = utf8_len(p + i, s.len - i)) == 0) {
			unit = "\\ufffd";
			ulen = 6;
		} else if (seq == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
			   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			unit = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			ulen = 6;
			adv = 3;
		} else {
			unit = (const char *)p + i;
			ulen = adv = seq;
		}
		if (field + ulen > CDR_FIELD_MAX)
			break;
		put(o, unit, ulen);
		field += ulen;
		i += adv;
	}
	put(o, "\"", 1);
}

static void put_time(struct out *o, uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999) {
		puts_(o, "null");
		return;
	}
	putf(o, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
	     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void put_sa(struct out *o, const struct sa *sa)
{
	char buf[SA_STRLEN];

	if (!sa_isset(sa)) {
		puts_(o, "null");
		return;
	}
	put_str(o, strv_cstr(sa_print(sa, buf, sizeof(buf))));
}

static void put_cstr_or_null(struct out *o, const char *s)
{
	put_str(o, s ? strv_cstr(s) : STRV_NULL);
}

uint64_t cdr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *cdr_disposition_name(enum cdr_disposition d)
{
	static const char *const names[] = {
		[CDR_ANSWERED] = "answered",   [CDR_BUSY] = "busy",
		[CDR_NO_ANSWER] = "no-answer", [CDR_CANCELLED] = "cancelled",
		[CDR_FAILED] = "failed",
	};

	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "failed";
}

const char *cdr_party_name(enum cdr_party p)
{
	switch (p) {
	case CDR_PARTY_CALLER:
		return "caller";
	case CDR_PARTY_CALLEE:
		return "callee";
	case CDR_PARTY_SBC:
		return "sbc";
	default:
		return NULL;
	}
}

enum cdr_disposition cdr_disposition_from_status(int status, bool caller_cancelled)
{
	if (status >= 200 && status <= 299)
		return CDR_ANSWERED;
	if (caller_cancelled || status == 487)
		return CDR_CANCELLED;
	if (status == 486 || status == 600)
		return CDR_BUSY;
	if (status == 408 || status == 480)
		return CDR_NO_ANSWER;
	return CDR_FAILED;
}

int cdr_format(const struct cdr *c, char *buf, size_t size)
{
	struct out o = { .p = buf, .size = size ? size - 1 : 0, .overflow = size == 0 };
	uint64_t dur = 0;

	puts_(&o, "{\"a_call_id\":");
	put_str(&o, c->a_call_id);
	puts_(&o, ",\"b_call_id\":");
	put_str(&o, c->b_call_id);
	puts_(&o, ",\"caller\":");
	put_str(&o, c->caller);
	puts_(&o, ",\"caller_name\":");
	put_str(&o, c->caller_name);
	puts_(&o, ",\"callee\":");
	put_str(&o, c->callee);
	puts_(&o, ",\"trunk\":");
	put_str(&o, c->trunk);
	puts_(&o, ",\"a_src\":");
	put_sa(&o, &c->a_src);
	puts_(&o, ",\"b_src\":");
	put_sa(&o, &c->b_src);
	puts_(&o, ",\"start\":");
	put_time(&o, c->start_ms);
	puts_(&o, ",\"ringing\":");
	put_time(&o, c->ringing_ms);
	puts_(&o, ",\"answer\":");
	put_time(&o, c->answer_ms);
	puts_(&o, ",\"end\":");
	put_time(&o, c->end_ms);
	if (c->answer_ms && c->end_ms > c->answer_ms)
		dur = c->end_ms - c->answer_ms;
	putf(&o, ",\"duration\":%llu.%03u", (unsigned long long)(dur / 1000),
	     (unsigned)(dur % 1000));
	puts_(&o, ",\"disposition\":");
	put_cstr_or_null(&o, cdr_disposition_name(c->disposition));
	if (c->status)
		putf(&o, ",\"status\":%u", (unsigned)c->status);
	else
		puts_(&o, ",\"status\":null");
	puts_(&o, ",\"hangup_by\":");
	put_cstr_or_null(&o, cdr_party_name(c->hangup_by));
	puts_(&o, ",\"hangup_reason\":");
	put_str(&o, c->hangup_reason);
	puts_(&o, "}\n");
	if (o.overflow) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	buf[o.len] = '\0';
	return (int)o.len;
}

/* ---- writer ---- */

struct qline {
	struct qline *next;
	size_t len;
	char data[];
};

struct cdr_writer {
	pthread_mutex_t lock;
	int fd;
	char *path;
	struct qline *head, **tail;
	struct cdr_writer_stats st;
	bool need_newline;
	bool logged;
	uint64_t last_log_ms;
	uint64_t unreported; /* failures since the last log line */
	char buf[CDR_LINE_MAX + 1];
};

static int open_path(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	return fd < 0 ? -errno : fd;
}

int cdr_writer_open(struct cdr_writer **wp, const char *path)
{
	struct cdr_writer *w;
	int fd;

	*wp = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	if (!(w->path = strdup(path))) {
		free(w);
		return -ENOMEM;
	}
	fd = open_path(path);
	if (fd < 0) {
		log_err("cdr: cannot open %s: %s", path, strerror(-fd));
		free(w->path);
		free(w);
		return fd;
	}
	w->fd = fd;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	*wp = w;
	return 0;
}

static void report_failure(struct cdr_writer *w, int err)
{
	uint64_t now = clock_monotonic_ms();

	w->st.write_errors++;
	w->unreported++;
	if (w->logged && now - w->last_log_ms < CDR_LOG_INTERVAL_MS)
		return;
	log_err("cdr: cannot write to %s: %s (%llu failures since the last report, %llu records "
		"queued)",
		w->path, strerror(-err), (unsigned long long)w->unreported,
		(unsigned long long)w->st.queued);
	w->logged = true;
	w->last_log_ms = now;
	w->unreported = 0;
}

static ssize_t write_retry(int fd, const char *p, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, p, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * After a short write of @p n bytes: cut the fragment off if the file ends with it (nobody
 * appended since), else have the next write end it with a newline.
 */
static void undo_fragment(struct cdr_writer *w, size_t n)
{
	off_t end = lseek(w->fd, 0, SEEK_CUR);
	struct stat st;

	if (end >= (off_t)n && fstat(w->fd, &st) == 0 && st.st_size == end &&
	    ftruncate(w->fd, end - (off_t)n) == 0)
		return;
	w->need_newline = true;
}

/* One line, one write(2). @return 0 or a negative errno; never leaves a partial line. */
static int write_line(struct cdr_writer *w, const char *p, size_t len)
{
	ssize_t n;

	if (w->need_newline) {
		n = write_retry(w->fd, "\n", 1);
		if (n != 1)
			return n < 0 ? -errno : -EIO;
		w->need_newline = false;
	}
	n = write_retry(w->fd, p, len);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0)
		return -errno;
	if (n > 0)
		undo_fragment(w, (size_t)n);
	/* A short write means the file cannot grow (disk full, quota, size limit). */
	return -ENOSPC;
}

static int flush_locked(struct cdr_writer *w)
{
	while (w->head) {
		struct qline *q = w->head;
		int err = write_line(w, q->data, q->len);

		if (err) {
			report_failure(w, err);
			return err;
		}
		w->head = q->next;
		if (!w->head)
			w->tail = &w->head;
		w->st.written++;
		w->st.queued--;
		w->st.queued_bytes -= q->len;
		free(q);
	}
	return 0;
}

/* Log lines hold about 2 KiB: a long record goes out in numbered parts. */
#define LOG_CHUNK 1500

/* Puts a record that will not reach the file into the error log, where it can be recovered. */
static void log_lost(const struct cdr_writer *w, const char *why, const char *line, size_t len)
{
	size_t parts;

	if (len && line[len - 1] == '\n')
		len--;
	parts = len ? (len + LOG_CHUNK - 1) / LOG_CHUNK : 1;
	for (size_t i = 0; i < parts; i++) {
		size_t off = i * LOG_CHUNK, n = len - off < LOG_CHUNK ? len - off : LOG_CHUNK;

		if (parts == 1)
			log_err("cdr: %s, record not written to %s: %.*s", why, w->path, (int)n,
				line + off);
		else
			log_err("cdr: %s, record not written to %s (part %zu/%zu): %.*s", why,
				w->path, i + 1, parts, (int)n, line + off);
	}
}

static int enqueue(struct cdr_writer *w, const char *line, size_t len)
{
	struct qline *q = NULL;

	if (w->st.queued_bytes + len <= CDR_QUEUE_MAX_BYTES)
		q = malloc(sizeof(*q) + len);
	if (!q) {
		w->st.dropped++;
		log_lost(w, "queue full", line, len);
		return -ENOBUFS;
	}
	q->next = NULL;
	q->len = len;
	memcpy(q->data, line, len);
	*w->tail = q;
	w->tail = &q->next;
	w->st.queued++;
	w->st.queued_bytes += len;
	return -EAGAIN;
}

int cdr_write(struct cdr_writer *w, const struct cdr *c)
{
	int len, err, werr = 0;

	pthread_mutex_lock(&w->lock);
	len = cdr_format(c, w->buf, sizeof(w->buf));
	if (len < 0) {
		/* Cannot happen: every field is bounded so that a record fits CDR_LINE_MAX. */
		w->st.dropped++;
		log_err("cdr: record too long, not written");
		err = -EINVAL;
		goto out;
	}
	err = flush_locked(w); /* reports its own failure */
	if (!err) {
		werr = write_line(w, w->buf, (size_t)len);
		if (!werr) {
			w->st.written++;
			goto out;
		}
	}
	err = enqueue(w, w->buf, (size_t)len);
	if (werr)
		report_failure(w, werr); /* after the enqueue, so that the log counts this record */
out:
	pthread_mutex_unlock(&w->lock);
	return err;
}

int cdr_writer_flush(struct cdr_writer *w)
{
	int err;

	pthread_mutex_lock(&w->lock);
	err = flush_locked(w);
	pthread_mutex_unlock(&w->lock);
	return err;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cdr_writer_reopen(struct cdr_writer *w)
{
	int fd, err;

	pthread_mutex_lock(&w->lock);
	fd = open_path(w->path);
	if (fd < 0) {
		log_err("cdr: cannot reopen %s: %s (still writing to the old file)", w->path,
			strerror(-fd));
		err = fd;
		goto out;
	}
	/* A fragment left in the old file stays there; a new file starts clean. */
	if (!same_file(fd, w->fd))
		w->need_newline = false;
	close(w->fd);
	w->fd = fd;
	err = flush_locked(w);
out:
	pthread_mutex_unlock(&w->lock);
	return err;
}

void cdr_writer_stats(struct cdr_writer *w, struct cdr_writer_stats *st)
{
	pthread_mutex_lock(&w->lock);
	*st = w->st;
	pthread_mutex_unlock(&w->lock);
}

void cdr_writer_close(struct cdr_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	flush_locked(w);
	while (w->head) {
		struct qline *q = w->head;

		w->head = q->next;
		log_lost(w, "closing", q->data, q->len);
		free(q);
	}
	close(w->fd);
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}
