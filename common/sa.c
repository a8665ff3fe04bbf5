/* SPDX-License-Identifier: BSD-2-Clause */
#include "sa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/*
 * Grammar accepted by sa_parse (no blanks, no NUL bytes anywhere):
 *
 *   text  = "[" ip6 [ "%" zone ] "]" [ ":" port ]
 *         / ip6 [ "%" zone ]           ; two or more colons: never a port
 *         / ip4 [ ":" port ]           ; at most one colon
 *
 * ip4 and ip6 are whatever inet_pton(3) accepts. Every component is copied into
 * a bounded stack buffer before a libc call sees it, so the view is never read
 * past its length and never needs a terminator.
 */

void sa_init(struct sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->u.sa.sa_family = AF_UNSPEC;
}

static int parse_port(struct strv s, uint16_t *port)
{
	uint64_t v;

	if (strv_to_u64(s, UINT16_MAX, &v) < 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Characters Linux refuses in interface names, plus our own delimiters. */
static bool zone_char_ok(char c)
{
	return c > ' ' && c < 0x7f && c != '/' && c != ':' && c != '%' && c != '[' && c != ']';
}

/* A decimal interface index, or an interface name that exists on this host. */
static int parse_zone(struct strv s, uint32_t *scope_id)
{
	char name[IF_NAMESIZE];
	unsigned idx;
	uint64_t v;
	int err;

	if (s.len == 0 || s.len >= sizeof(name))
		return -EINVAL;
	err = strv_to_u64(s, UINT32_MAX, &v);
	if (err == 0) {
		*scope_id = (uint32_t)v;
		return 0;
	}
	if (err == -ERANGE)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		if (!zone_char_ok(s.p[i]))
			return -EINVAL;
	}
	idx = if_nametoindex(strv_copy(s, name, sizeof(name)));
	if (idx == 0)
		return -EINVAL;
	*scope_id = idx;
	return 0;
}

static int parse_ip4(struct strv s, struct in_addr *addr)
{
	char buf[INET_ADDRSTRLEN];

	if (s.len == 0 || s.len >= sizeof(buf))
		return -EINVAL;
	if (inet_pton(AF_INET, strv_copy(s, buf, sizeof(buf)), addr) != 1)
		return -EINVAL;
	return 0;
}

static int parse_ip6(struct strv s, struct sockaddr_in6 *in6)
{
	char buf[INET6_ADDRSTRLEN];
	const char *pct = memchr(s.p, '%', s.len);
	struct strv host = strv_make(s.p, pct ? (size_t)(pct - s.p) : s.len);

	if (host.len == 0 || host.len >= sizeof(buf))
		return -EINVAL;
	if (inet_pton(AF_INET6, strv_copy(host, buf, sizeof(buf)), &in6->sin6_addr) != 1)
		return -EINVAL;
	if (pct)
		return parse_zone(strv_make(pct + 1, s.len - host.len - 1), &in6->sin6_scope_id);
	return 0;
}

static size_t count_char(struct strv s, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len; i++)
		n += s.p[i] == c;
	return n;
}

int sa_parse(struct sa *sa, struct strv text, uint16_t default_port)
{
	struct strv host = text, port_text = STRV_NULL;
	bool has_port = false, ip6;
	uint16_t port = default_port;
	struct sa tmp;
	int err;

	if (text.len == 0 || memchr(text.p, '\0', text.len))
		return -EINVAL;

	if (text.p[0] == '[') {
		const char *end = memchr(text.p, ']', text.len);
		size_t used;

		if (!end)
			return -EINVAL;
		used = (size_t)(end - text.p) + 1;
		host = strv_make(text.p + 1, used - 2);
		if (used < text.len) {
			if (text.p[used] != ':')
				return -EINVAL;
			port_text = strv_make(text.p + used + 1, text.len - used - 1);
			has_port = true;
		}
		ip6 = true;
	} else {
		size_t colons = count_char(text, ':');

		ip6 = colons >= 2;
		if (colons == 1) {
			const char *colon = memchr(text.p, ':', text.len);

			host.len = (size_t)(colon - text.p);
			port_text = strv_make(colon + 1, text.len - host.len - 1);
			has_port = true;
		}
	}

	if (has_port) {
		err = parse_port(port_text, &port);
		if (err)
			return err;
	}

	sa_init(&tmp);
	if (ip6) {
		err = parse_ip6(host, &tmp.u.in6);
		if (err)
			return err;
		tmp.u.in6.sin6_family = AF_INET6;
		tmp.u.in6.sin6_port = htons(port);
		tmp.len = sizeof(tmp.u.in6);
	} else {
		err = parse_ip4(host, &tmp.u.in.sin_addr);
		if (err)
			return err;
		tmp.u.in.sin_family = AF_INET;
		tmp.u.in.sin_port = htons(port);
		tmp.len = sizeof(tmp.u.in);
	}
	*sa = tmp;
	return 0;
}

int sa_parse_cstr(struct sa *sa, const char *text, uint16_t default_port)
{
	if (!text)
		return -EINVAL;
	return sa_parse(sa, strv_cstr(text), default_port);
}

int sa_set_sockaddr(struct sa *sa, const struct sockaddr *addr, socklen_t len)
{
	struct sa tmp;

	if (!addr || len < sizeof(sa_family_t))
		return -EINVAL;
	sa_init(&tmp);
	/* Copy field by field: padding and sin_zero stay zero, whatever the caller had. */
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;

		tmp.u.in.sin_family = AF_INET;
		tmp.u.in.sin_port = in->sin_port;
		tmp.u.in.sin_addr = in->sin_addr;
		tmp.len = sizeof(tmp.u.in);
	} else if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;

		tmp.u.in6.sin6_family = AF_INET6;
		tmp.u.in6.sin6_port = in6->sin6_port;
		tmp.u.in6.sin6_flowinfo = in6->sin6_flowinfo;
		tmp.u.in6.sin6_addr = in6->sin6_addr;
		tmp.u.in6.sin6_scope_id = in6->sin6_scope_id;
		tmp.len = sizeof(tmp.u.in6);
	} else {
		return -EINVAL;
	}
	*sa = tmp;
	return 0;
}

/* Address text with zone into @p out, which holds SA_STRLEN bytes. */
static void format_addr(const struct sa *sa, char *out)
{
	switch (sa_family(sa)) {
	case AF_INET:
		inet_ntop(AF_INET, &sa->u.in.sin_addr, out, SA_STRLEN);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sa->u.in6.sin6_addr, out, SA_STRLEN);
		if (sa->u.in6.sin6_scope_id) {
			size_t n = strlen(out);

			snprintf(out + n, SA_STRLEN - n, "%%%u", (unsigned)sa->u.in6.sin6_scope_id);
		}
		break;
	default:
		snprintf(out, SA_STRLEN, "(unset)");
		break;
	}
}

char *sa_print(const struct sa *sa, char *buf, size_t size)
{
	char addr[SA_STRLEN];

	if (size == 0)
		return buf;
	format_addr(sa, addr);
	switch (sa_family(sa)) {
	case AF_INET:
		snprintf(buf, size, "%s:%u", addr, (unsigned)sa_port(sa));
		break;
	case AF_INET6:
		snprintf(buf, size, "[%s]:%u", addr, (unsigned)sa_port(sa));
		break;
	default:
		snprintf(buf, size, "%s", addr);
		break;
	}
	return buf;
}

char *sa_print_addr(const struct sa *sa, char *buf, size_t size)
{
	char addr[SA_STRLEN];

	if (size == 0)
		return buf;
	format_addr(sa, addr);
	snprintf(buf, size, "%s", addr);
	return buf;
}

uint16_t sa_port(const struct sa *sa)
{
	switch (sa_family(sa)) {
	case AF_INET:
		return ntohs(sa->u.in.sin_port);
	case AF_INET6:
		return ntohs(sa->u.in6.sin6_port);
	default:
		return 0;
	}
}

void sa_set_port(struct sa *sa, uint16_t port)
{
	switch (sa_family(sa)) {
	case AF_INET:
		sa->u.in.sin_port = htons(port);
		break;
	case AF_INET6:
		sa->u.in6.sin6_port = htons(port);
		break;
	default:
		break;
	}
}

bool sa_equal_addr(const struct sa *a, const struct sa *b)
{
	if (sa_family(a) != sa_family(b))
		return false;
	switch (sa_family(a)) {
	case AF_INET:
		return a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	case AF_INET6:
		return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
			      sizeof(a->u.in6.sin6_addr)) == 0 &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
	default:
		return true;
	}
}

bool sa_equal(const struct sa *a, const struct sa *b)
{
	return sa_equal_addr(a, b) && sa_port(a) == sa_port(b);
}

/* The IPv4 address, host order, of an IPv4 or IPv4-mapped IPv6 address. */
static bool sa_ip4(const struct sa *sa, uint32_t *ip4)
{
	const struct in6_addr *a6 = &sa->u.in6.sin6_addr;

	switch (sa_family(sa)) {
	case AF_INET:
		*ip4 = ntohl(sa->u.in.sin_addr.s_addr);
		return true;
	case AF_INET6:
		if (!IN6_IS_ADDR_V4MAPPED(a6))
			return false;
		*ip4 = (uint32_t)a6->s6_addr[12] << 24 | (uint32_t)a6->s6_addr[13] << 16 |
		       (uint32_t)a6->s6_addr[14] << 8 | a6->s6_addr[15];
		return true;
	default:
		return false;
	}
}

bool sa_is_any(const struct sa *sa)
{
	switch (sa_family(sa)) {
	case AF_INET:
		return sa->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		return IN6_IS_ADDR_UNSPECIFIED(&sa->u.in6.sin6_addr);
	default:
		return false;
	}
}

static bool ip4_is_loopback(uint32_t ip4)
{
	return (ip4 >> 24) == 127;
}

bool sa_is_loopback(const struct sa *sa)
{
	uint32_t ip4;

	if (sa_ip4(sa, &ip4))
		return ip4_is_loopback(ip4);
	return sa_family(sa) == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&sa->u.in6.sin6_addr);
}

static const struct {
	uint32_t net, mask;
} ip4_private[] = {
	{ 0x0a000000, 0xff000000 }, /* 10.0.0.0/8, RFC 1918 */
	{ 0xac100000, 0xfff00000 }, /* 172.16.0.0/12, RFC 1918 */
	{ 0xc0a80000, 0xffff0000 }, /* 192.168.0.0/16, RFC 1918 */
	{ 0x64400000, 0xffc00000 }, /* 100.64.0.0/10, RFC 6598 shared (CGN) */
	{ 0xa9fe0000, 0xffff0000 }, /* 169.254.0.0/16, link-local */
	{ 0x7f000000, 0xff000000 }, /* 127.0.0.0/8, loopback */
};

bool sa_is_private(const struct sa *sa)
{
	const struct in6_addr *a6 = &sa->u.in6.sin6_addr;
	uint32_t ip4;

	if (sa_ip4(sa, &ip4)) {
		for (size_t i = 0; i < sizeof(ip4_private) / sizeof(ip4_private[0]); i++) {
			if ((ip4 & ip4_private[i].mask) == ip4_private[i].net)
				return true;
		}
		return false;
	}
	if (sa_family(sa) != AF_INET6)
		return false;
	return (a6->s6_addr[0] & 0xfe) == 0xfc /* fc00::/7, ULA */
	       || IN6_IS_ADDR_LINKLOCAL(a6)    /* fe80::/10 */
	       || IN6_IS_ADDR_LOOPBACK(a6);
}
