/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SDP rewrite: the parsed description printed again, line by line, with the relay's address
 * and ports in place of the endpoint's. The rules, per level:
 *
 * Session level
 *   o=  the address (last three fields) becomes the first active media's relay address when
 *       replace_origin is asked; otherwise verbatim.
 *   c=  becomes the first active media's relay address, unless it is a hold address (0.0.0.0
 *       or ::), which stays. Every active media gets its own c= anyway, so the session line
 *       only matters to readers that ignore media-level c= and to rejected media.
 *   a=  ICE attributes dropped for SDP_ICE_REMOVE and SDP_ICE_FORCE; FORCE adds a=ice-lite,
 *       because the relay only answers connectivity checks, it never sends any (RFC 8445 2.5).
 * Active media (port != 0)
 *   m=  the port becomes the relay's ("/<n>" and the rest of the line are kept).
 *   c=  one c= with the relay address, where the first c=, b=, k= or a= line was (RFC 8866
 *       order); or 0.0.0.0 / :: when the media was on hold that way. Old c= lines go.
 *   a=rtcp      dropped, then written at the end of the section with the relay's RTCP port
 *               (rtcp_port, else the RTP port when rtcp_mux, else RTP port + 1) and address.
 *   a=rtcp-mux  dropped, then written when the rewrite says rtcp_mux.
 *   ICE         as at session level; FORCE writes the relay's ufrag/pwd and one host candidate
 *               per component (RTP, and RTCP unless rtcp_mux) at the end of the section.
 *   Direction attributes and everything else: verbatim.
 * Rejected media (port 0): verbatim, line for line.
 *
 * Lines end as the v= line ended (CRLF or LF); empty lines are dropped. Writing stops at the
 * end of the output buffer (-ENOSPC), never past it. Rewriting the output again with the same
 * rewrite gives the same output.
 */
#include "sdp.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "sdp_int.h"

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void out_put(struct out *o, const char *p, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void out_strv(struct out *o, struct strv s)
{
	out_put(o, s.p, s.len);
}

static void out_cstr(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static void out_uint(struct out *o, unsigned long v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lu", v);

	out_put(o, buf, (size_t)n);
}

struct rewriter {
	const struct sdp *s;
	const struct sdp_rewrite *rw;
	struct out o;
	struct strv eol;
	int idx;	/* media section being printed, -1 at session level */
	bool conn_done; /* the current media's c= is written */
	int first_active;
	/* the relay address of the current media as text, and "IP4"/"IP6" */
	char addr[SA_STRLEN];
	const char *ip;
};

static void out_eol(struct rewriter *r)
{
	out_strv(&r->o, r->eol);
}

static void out_line(struct rewriter *r, struct strv line)
{
	out_strv(&r->o, line);
	out_eol(r);
}

static const char *ip_of(const struct sa *sa)
{
	return sa_family(sa) == AF_INET6 ? "IP6" : "IP4";
}

/* "IN IP4 192.0.2.1": the connection address of the current media, or its hold address. */
static void out_conn_addr(struct rewriter *r)
{
	const struct sdp_media *m = &r->s->media[r->idx];

	out_cstr(&r->o, "IN ");
	if (m->conn_is_hold) {
		out_cstr(&r->o, sa_family(&m->conn) == AF_INET6 ? "IP6 ::" : "IP4 0.0.0.0");
		return;
	}
	out_cstr(&r->o, r->ip);
	out_cstr(&r->o, " ");
	out_cstr(&r->o, r->addr);
}

static void out_media_conn(struct rewriter *r)
{
	if (r->conn_done)
		return;
	out_cstr(&r->o, "c=");
	out_conn_addr(r);
	out_eol(r);
	r->conn_done = true;
}

static uint16_t rtcp_port_of(const struct sdp_media_rewrite *mr)
{
	if (mr->rtcp_port)
		return mr->rtcp_port;
	return mr->rtcp_mux ? sa_port(&mr->addr) : (uint16_t)(sa_port(&mr->addr) + 1);
}

/* RFC 8445 section 5.1.2.1 with type preference 126 (host) and local preference 65535. */
static uint32_t ice_host_priority(unsigned component)
{
	return (126u << 24) | (65535u << 8) | (256u - component);
}

static void out_candidate(struct rewriter *r, unsigned component, uint16_t port)
{
	out_cstr(&r->o, "a=candidate:1 ");
	out_uint(&r->o, component);
	out_cstr(&r->o, " UDP ");
	out_uint(&r->o, ice_host_priority(component));
	out_cstr(&r->o, " ");
	out_cstr(&r->o, r->addr);
	out_cstr(&r->o, " ");
	out_uint(&r->o, port);
	out_cstr(&r->o, " typ host");
	out_eol(r);
}

static void out_ice(struct rewriter *r, const struct sdp_media_rewrite *mr)
{
	out_cstr(&r->o, "a=ice-ufrag:");
	out_line(r, r->rw->ice_ufrag);
	out_cstr(&r->o, "a=ice-pwd:");
	out_line(r, r->rw->ice_pwd);
	out_candidate(r, 1, sa_port(&mr->addr));
	if (!mr->rtcp_mux)
		out_candidate(r, 2, rtcp_port_of(mr));
}

static bool media_active(const struct rewriter *r, int idx)
{
	return idx >= 0 && r->s->media[idx].port != 0;
}

/* What the end of a section adds: relay attributes of an active media, ice-lite at session. */
static void finish_section(struct rewriter *r)
{
	const struct sdp_media_rewrite *mr;

	if (r->idx < 0) {
		if (r->rw->ice == SDP_ICE_FORCE)
			out_line(r, STRV("a=ice-lite"));
		return;
	}
	if (!media_active(r, r->idx))
		return;
	mr = &r->rw->media[r->idx];
	out_media_conn(r);
	out_cstr(&r->o, "a=rtcp:");
	out_uint(&r->o, rtcp_port_of(mr));
	out_cstr(&r->o, " ");
	out_conn_addr(r);
	out_eol(r);
	if (mr->rtcp_mux)
		out_line(r, STRV("a=rtcp-mux"));
	if (r->rw->ice == SDP_ICE_FORCE)
		out_ice(r, mr);
}

static void set_relay_addr(struct rewriter *r, int idx)
{
	const struct sa *addr = &r->rw->media[idx].addr;

	sa_print_addr(addr, r->addr, sizeof(r->addr));
	r->ip = ip_of(addr);
}

/* o=<username> <sess-id> <sess-version> IN IP4 <relay address> */
static void out_origin(struct rewriter *r, struct strv line, struct strv value)
{
	struct strv rest = value, f;

	if (!r->rw->replace_origin || r->first_active < 0) {
		out_line(r, line);
		return;
	}
	for (int i = 0; i < 3; i++)
		sdp_field_next(&rest, &f);
	set_relay_addr(r, r->first_active);
	out_cstr(&r->o, "o=");
	out_put(&r->o, value.p, (size_t)(f.p + f.len - value.p));
	out_cstr(&r->o, " IN ");
	out_cstr(&r->o, r->ip);
	out_cstr(&r->o, " ");
	out_cstr(&r->o, r->addr);
	out_eol(r);
}

static void out_session_conn(struct rewriter *r, struct strv line)
{
	if (r->first_active < 0 || sa_is_any(&r->s->conn)) {
		out_line(r, line);
		return;
	}
	set_relay_addr(r, r->first_active);
	out_cstr(&r->o, "c=IN ");
	out_cstr(&r->o, r->ip);
	out_cstr(&r->o, " ");
	out_cstr(&r->o, r->addr);
	out_eol(r);
}

/* m=<media> <relay port>[/<n>] <proto> <fmt>... */
static void out_media_line(struct rewriter *r, struct strv line, struct strv value)
{
	struct strv rest = value, type, port;
	const char *slash;

	if (!media_active(r, r->idx)) {
		out_line(r, line);
		return;
	}
	sdp_field_next(&rest, &type);
	sdp_field_next(&rest, &port);
	slash = memchr(port.p, '/', port.len);
	out_cstr(&r->o, "m=");
	out_strv(&r->o, type);
	out_cstr(&r->o, " ");
	out_uint(&r->o, sa_port(&r->rw->media[r->idx].addr));
	if (slash)
		out_put(&r->o, slash, (size_t)(port.p + port.len - slash));
	out_line(r, rest);
}

static bool drops_attr(const struct rewriter *r, struct strv value)
{
	struct strv attr_value, name = sdp_attr_name(value, &attr_value);

	if (r->rw->ice != SDP_ICE_KEEP && sdp_attr_is_ice(name))
		return true;
	if (r->idx < 0)
		return false;
	return strv_caseeq(name, STRV("rtcp")) || strv_caseeq(name, STRV("rtcp-mux"));
}

static int out_any_line(struct rewriter *r, struct strv line)
{
	struct strv value;
	char type;

	if (!sdp_line_split(line, &type, &value))
		return -EINVAL;
	if (type == 'm') {
		finish_section(r);
		if (++r->idx >= (int)r->s->nmedia)
			return -EINVAL;
		r->conn_done = false;
		if (media_active(r, r->idx))
			set_relay_addr(r, r->idx);
		out_media_line(r, line, value);
		return 0;
	}
	if (r->idx < 0) {
		if (type == 'o')
			out_origin(r, line, value);
		else if (type == 'c')
			out_session_conn(r, line);
		else if (type != 'a' || !drops_attr(r, value))
			out_line(r, line);
		return 0;
	}
	if (!media_active(r, r->idx)) {
		out_line(r, line);
		return 0;
	}
	if (type == 'c' || type == 'b' || type == 'k' || type == 'a')
		out_media_conn(r);
	if (type != 'c' && (type != 'a' || !drops_attr(r, value)))
		out_line(r, line);
	return 0;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839): nothing that could break a line. */
static bool ice_chars_ok(struct strv s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

static bool relay_addr_ok(const struct sdp_media_rewrite *mr)
{
	if (!sa_isset(&mr->addr) || sa_is_any(&mr->addr) || sa_port(&mr->addr) == 0 ||
	    rtcp_port_of(mr) == 0)
		return false;
	/* a zone has no SDP form */
	return sa_family(&mr->addr) != AF_INET6 || mr->addr.u.in6.sin6_scope_id == 0;
}

static int check_rewrite(const struct sdp *s, const struct sdp_rewrite *rw, int *first_active)
{
	*first_active = -1;
	if (rw->nmedia != s->nmedia || (s->nmedia && !rw->media))
		return -EINVAL;
	if (rw->ice == SDP_ICE_FORCE &&
	    (!ice_chars_ok(rw->ice_ufrag) || !ice_chars_ok(rw->ice_pwd)))
		return -EINVAL;
	for (unsigned i = 0; i < s->nmedia; i++) {
		if (s->media[i].port == 0)
			continue;
		if (!relay_addr_ok(&rw->media[i]))
			return -EINVAL;
		if (*first_active < 0)
			*first_active = (int)i;
	}
	return 0;
}

static struct strv eol_of(const char *buf, size_t len)
{
	const char *lf = memchr(buf, '\n', len);

	return lf && lf > buf && lf[-1] == '\r' ? STRV("\r\n") : STRV("\n");
}

int sdp_rewrite(const struct sdp *s, const char *buf, size_t len, const struct sdp_rewrite *rw,
		char *out, size_t outsize)
{
	struct rewriter r = { .s = s, .rw = rw, .idx = -1 };
	struct sdp_cursor c;
	struct strv line;
	int err;

	if (!s || !buf || !rw || (!out && outsize))
		return -EINVAL;
	err = check_rewrite(s, rw, &r.first_active);
	if (err < 0)
		return err;
	r.o = (struct out){ .p = out, .cap = outsize < INT_MAX ? outsize : INT_MAX };
	r.eol = eol_of(buf, len);
	sdp_cursor_init(&c, buf, len);
	while (sdp_line_next(&c, &line)) {
		if (strv_trim(line).len == 0)
			continue;
		err = out_any_line(&r, line);
		if (err < 0)
			return err;
	}
	finish_section(&r);
	if (r.idx + 1 != (int)s->nmedia)
		return -EINVAL;
	return r.o.full ? -ENOSPC : (int)r.o.len;
}
