/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SDP parsing: one pass over the lines, each line type handled by its own function. What the
 * relay does not need (s=, t=, b=, k=, unknown attributes, ...) is only checked to be a
 * "<letter>=" line and left for sdp_rewrite to copy verbatim.
 *
 * Strict where a mistake would misroute media (addresses, ports, a=rtcp), lenient elsewhere:
 * LF or CRLF, trailing blanks, empty lines, missing o=/s=/t=, unknown lines.
 */
#include "sdp.h"

#include <errno.h>

#include "sdp_int.h"

struct sdp_parser {
	struct sdp *s;
	struct sdp_media *m; /* current media section, NULL at session level */
	bool seen_v;
	const char *why;
};

static int refuse(struct sdp_parser *ps, const char *why)
{
	ps->why = why;
	return -EINVAL;
}

static int parse_u16(struct strv text, uint16_t *out)
{
	uint64_t v;

	if (strv_to_u64(text, UINT16_MAX, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/*
 * "IP4 192.0.2.1" / "IP6 2001:db8::1" (after "IN"): an IP address literal of that type. The
 * multicast "/ttl[/count]" suffix is ignored. Zones and brackets are not SDP, so they are
 * refused before sa_parse could look an interface up.
 */
static int parse_addr(struct strv addrtype, struct strv addr, struct sa *sa)
{
	const char *slash = memchr(addr.p, '/', addr.len);
	bool ip6 = strv_eq(addrtype, STRV("IP6"));

	if (!ip6 && !strv_eq(addrtype, STRV("IP4")))
		return -EINVAL;
	if (slash)
		addr.len = (size_t)(slash - addr.p);
	if (addr.len == 0 || memchr(addr.p, '%', addr.len) || memchr(addr.p, '[', addr.len))
		return -EINVAL;
	if (!ip6 && memchr(addr.p, ':', addr.len))
		return -EINVAL;
	if (sa_parse(sa, addr, 0) < 0)
		return -EINVAL;
	return sa_family(sa) == (ip6 ? AF_INET6 : AF_INET) ? 0 : -EINVAL;
}

/* "IN IP4 <addr>" as in c= and a=rtcp. Nothing may follow. */
static int parse_nettype_addr(struct strv rest, struct sa *sa)
{
	struct strv nettype, addrtype, addr, extra;

	if (!sdp_field_next(&rest, &nettype) || !sdp_field_next(&rest, &addrtype) ||
	    !sdp_field_next(&rest, &addr) || sdp_field_next(&rest, &extra))
		return -EINVAL;
	if (!strv_eq(nettype, STRV("IN")))
		return -EINVAL;
	return parse_addr(addrtype, addr, sa);
}

static void parse_version(struct sdp_parser *ps, struct strv value, int *err)
{
	if (ps->seen_v)
		*err = refuse(ps, "v= more than once");
	else if (!strv_eq(value, STRV("0")))
		*err = refuse(ps, "v= is not 0");
	ps->seen_v = true;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(struct sdp_parser *ps, struct strv value)
{
	struct strv f, rest = value;
	unsigned n = 0;

	if (ps->m)
		return refuse(ps, "o= inside a media section");
	while (sdp_field_next(&rest, &f)) {
		n++;
		ps->s->origin_addr = f;
	}
	if (n != 6)
		return refuse(ps, "o= does not have 6 fields");
	return 0;
}

static int parse_conn(struct sdp_parser *ps, struct strv value)
{
	struct sa sa;

	if (parse_nettype_addr(value, &sa) < 0)
		return refuse(ps, "c= is not IN IP4|IP6 <address>");
	if (ps->m) {
		ps->m->conn = sa;
		ps->m->conn_is_hold = sa_is_any(&sa);
	} else {
		ps->s->conn = sa;
	}
	return 0;
}

/* <port>[/<number of ports>] */
static int parse_media_port(struct sdp_media *m, struct strv text)
{
	const char *slash = memchr(text.p, '/', text.len);
	struct strv port = text, nports;

	m->nports = 1;
	if (!slash)
		return parse_u16(port, &m->port);
	port.len = (size_t)(slash - text.p);
	nports = strv_make(slash + 1, text.len - port.len - 1);
	if (parse_u16(port, &m->port) < 0 || parse_u16(nports, &m->nports) < 0 || m->nports == 0)
		return -EINVAL;
	return 0;
}

/* m=<media> <port>[/<n>] <proto> <fmt> ... */
static int parse_media(struct sdp_parser *ps, struct strv value, struct strv line, const char *end)
{
	struct strv rest = value, port;
	struct sdp_media *m;

	if (ps->s->nmedia == SDP_MAX_MEDIA)
		return refuse(ps, "too many m= lines");
	m = &ps->s->media[ps->s->nmedia++];
	memset(m, 0, sizeof(*m));
	sa_init(&m->conn);
	sa_init(&m->rtcp_addr);
	m->text = strv_make(line.p, (size_t)(end - line.p));
	if (ps->m)
		ps->m->text.len = (size_t)(line.p - ps->m->text.p);
	ps->m = m;

	if (!sdp_field_next(&rest, &m->type) || !sdp_field_next(&rest, &port))
		return refuse(ps, "m= has no port");
	if (parse_media_port(m, port) < 0)
		return refuse(ps, "m= port is not <0-65535>[/<1-65535>]");
	if (!sdp_field_next(&rest, &m->proto))
		return refuse(ps, "m= has no transport protocol");
	m->fmts = strv_trim(rest);
	return 0;
}

/* a=rtcp:<port> [IN IP4|IP6 <address>] (RFC 3605) */
static int parse_rtcp(struct sdp_parser *ps, struct strv value)
{
	struct strv rest = value, port;

	if (!sdp_field_next(&rest, &port) || parse_u16(port, &ps->m->rtcp_port) < 0 ||
	    ps->m->rtcp_port == 0)
		return refuse(ps, "a=rtcp port is not 1-65535");
	rest = strv_trim(rest);
	if (rest.len == 0) {
		sa_init(&ps->m->rtcp_addr);
		return 0;
	}
	if (parse_nettype_addr(rest, &ps->m->rtcp_addr) < 0)
		return refuse(ps, "a=rtcp address is not IN IP4|IP6 <address>");
	sa_set_port(&ps->m->rtcp_addr, ps->m->rtcp_port);
	return 0;
}

static enum sdp_direction direction_of(struct strv name)
{
	if (strv_caseeq(name, STRV("sendrecv")))
		return SDP_DIR_SENDRECV;
	if (strv_caseeq(name, STRV("sendonly")))
		return SDP_DIR_SENDONLY;
	if (strv_caseeq(name, STRV("recvonly")))
		return SDP_DIR_RECVONLY;
	if (strv_caseeq(name, STRV("inactive")))
		return SDP_DIR_INACTIVE;
	return SDP_DIR_UNSET;
}

static int parse_media_attr(struct sdp_parser *ps, struct strv name, struct strv value)
{
	struct sdp_media *m = ps->m;

	if (strv_caseeq(name, STRV("rtcp")))
		return parse_rtcp(ps, value);
	if (strv_caseeq(name, STRV("rtcp-mux")))
		m->rtcp_mux = true;
	else if (strv_caseeq(name, STRV("candidate")))
		m->ncandidates++;
	else if (strv_caseeq(name, STRV("ice-ufrag")))
		m->ice_ufrag = value;
	else if (strv_caseeq(name, STRV("ice-pwd")))
		m->ice_pwd = value;
	return 0;
}

/* Session-level ICE credentials go to *ufrag and *pwd, for the media that have none. */
static int parse_attr(struct sdp_parser *ps, struct strv value, struct strv *ufrag,
		      struct strv *pwd)
{
	struct strv attr_value;
	struct strv name = sdp_attr_name(value, &attr_value);
	enum sdp_direction dir = direction_of(name);

	if (name.len == 0)
		return refuse(ps, "a= has no attribute name");
	if (dir != SDP_DIR_UNSET) {
		*(ps->m ? &ps->m->dir : &ps->s->dir) = dir;
		return 0;
	}
	if (ps->m)
		return parse_media_attr(ps, name, attr_value);
	if (strv_caseeq(name, STRV("ice-ufrag")))
		*ufrag = attr_value;
	else if (strv_caseeq(name, STRV("ice-pwd")))
		*pwd = attr_value;
	return 0;
}

/*
 * What a media inherits from the session level (c=, direction, ICE credentials: RFC 8839
 * section 5.4), and what it must have.
 */
static int finish_media(struct sdp_parser *ps, struct sdp_media *m, struct strv ufrag,
			struct strv pwd)
{
	if (!sa_isset(&m->conn) && sa_isset(&ps->s->conn)) {
		m->conn = ps->s->conn;
		m->conn_is_hold = sa_is_any(&m->conn);
	}
	if (!sa_isset(&m->conn) && m->port != 0)
		return refuse(ps, "m= without c= at media or session level");
	sa_set_port(&m->conn, m->port);
	if (m->dir == SDP_DIR_UNSET)
		m->dir = ps->s->dir;
	if (m->ice_ufrag.len == 0)
		m->ice_ufrag = ufrag;
	if (m->ice_pwd.len == 0)
		m->ice_pwd = pwd;
	/* Port 9 with 0.0.0.0 is trickle ICE's "no candidate yet" (RFC 8840 section 4.3.1),
	 * which the relay's own address must replace: not hold. */
	if (m->ice_ufrag.len && m->port == 9)
		m->conn_is_hold = false;
	return 0;
}

static int parse_line(struct sdp_parser *ps, struct strv line, const char *end, struct strv *ufrag,
		      struct strv *pwd)
{
	struct strv value;
	char type;
	int err = 0;

	if (!sdp_line_split(line, &type, &value))
		return refuse(ps, "line is not <letter>=<value>");
	/* RFC 8866 byte-string excludes CR; one left here would move to the line end on output */
	if (memchr(line.p, '\r', line.len))
		return refuse(ps, "CR inside a line");
	if (!ps->seen_v && type != 'v')
		return refuse(ps, "missing v= (must be the first line)");
	switch (type) {
	case 'v':
		parse_version(ps, value, &err);
		return err;
	case 'o':
		return parse_origin(ps, value);
	case 'c':
		return parse_conn(ps, value);
	case 'm':
		return parse_media(ps, value, line, end);
	case 'a':
		return parse_attr(ps, value, ufrag, pwd);
	default:
		return 0; /* s= t= b= k= i= u= e= p= z= r= and unknown types: kept verbatim */
	}
}

static void sdp_init(struct sdp *s)
{
	s->origin_addr = STRV_NULL;
	sa_init(&s->conn);
	s->dir = SDP_DIR_UNSET;
	s->nmedia = 0;
}

int sdp_parse(struct sdp *s, const char *buf, size_t len, const char **why)
{
	struct sdp_parser ps = { .s = s };
	struct strv line, ufrag = STRV_NULL, pwd = STRV_NULL;
	struct sdp_cursor c;
	const char *dummy;
	int err;

	if (!why)
		why = &dummy;
	sdp_init(s);
	if (!buf || len == 0) {
		*why = "empty SDP";
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		*why = "NUL byte in SDP";
		return -EINVAL;
	}
	sdp_cursor_init(&c, buf, len);
	while (sdp_line_next(&c, &line)) {
		if (strv_trim(line).len == 0)
			continue;
		err = parse_line(&ps, line, buf + len, &ufrag, &pwd);
		if (err < 0)
			goto out;
	}
	err = ps.seen_v ? 0 : refuse(&ps, "missing v= (must be the first line)");
	for (unsigned i = 0; err == 0 && i < s->nmedia; i++)
		err = finish_media(&ps, &s->media[i], ufrag, pwd);
out:
	if (err < 0) {
		*why = ps.why;
		s->nmedia = 0;
	}
	return err;
}
