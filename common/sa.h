/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sa.h  Socket addresses: IPv4 and IPv6, parse, print, compare, classify.
 *
 * Text forms: "192.0.2.1", "192.0.2.1:5060", "2001:db8::1", "[2001:db8::1]",
 * "[2001:db8::1]:5060". Printing uses the same forms (brackets whenever a port
 * follows an IPv6 address).
 *
 * An IPv6 address may carry a zone ("fe80::1%eth0", "[fe80::1%2]:5060"): an
 * interface name (looked up with if_nametoindex) or a decimal index. It is
 * printed as the decimal index, which needs no system call and parses back to
 * the same address.
 *
 * An unbracketed IPv6 address never has a port: "::1:5060" is the address
 * ::1:5060. Address comparison is by family: 192.0.2.1 and ::ffff:192.0.2.1 differ.
 */
#ifndef SBC_SA_H
#define SBC_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "str.h"

/** Longest text form: "[" IPv6 "%" scope "]:" port, NUL. */
#define SA_STRLEN 72

struct sa {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len; /**< 0 when unset */
};

/** Makes @p sa unset (family AF_UNSPEC, len 0). */
void sa_init(struct sa *sa);

/** Whether @p sa holds an IPv4 or IPv6 address. */
static inline bool sa_isset(const struct sa *sa)
{
	return sa->len != 0;
}

/**
 * Parses an address with optional port. When the text has no port, the port is
 * @p default_port. Host names are not resolved here. Addresses follow
 * inet_pton(3) (no "1.2.3", no leading zeros in IPv4 octets); the port is
 * decimal, 0 to 65535; no blanks anywhere. @p sa is left untouched on error.
 * @return 0 or -EINVAL.
 */
int sa_parse(struct sa *sa, struct strv text, uint16_t default_port);

/** Like sa_parse on a C string. */
int sa_parse_cstr(struct sa *sa, const char *text, uint16_t default_port);

/** Sets the address from a sockaddr of known length (e.g. from recvfrom). @return 0 or -EINVAL. */
int sa_set_sockaddr(struct sa *sa, const struct sockaddr *addr, socklen_t len);

/**
 * "addr:port" or "[addr]:port" into @p buf, "(unset)" for an unset address;
 * truncated to fit, always NUL-terminated when @p size > 0 (SA_STRLEN bytes always
 * suffice). The result parses back to an equal address. @return @p buf.
 */
char *sa_print(const struct sa *sa, char *buf, size_t size);
/** Address only, no port and no brackets, with the zone if any. @return @p buf. */
char *sa_print_addr(const struct sa *sa, char *buf, size_t size);

/** AF_INET, AF_INET6 or AF_UNSPEC when unset. Inline: per packet on the relay's paths. */
static inline int sa_family(const struct sa *sa)
{
	return sa->len ? sa->u.sa.sa_family : AF_UNSPEC;
}
/** Port in host order; 0 when unset. */
uint16_t sa_port(const struct sa *sa);
/** Sets the port (host order); no effect on an unset address. */
void sa_set_port(struct sa *sa, uint16_t port);

/** Same family, address (with IPv6 zone) and port; two unset addresses are equal. */
bool sa_equal(const struct sa *a, const struct sa *b);
/** Same family and address (with IPv6 zone), any port. */
bool sa_equal_addr(const struct sa *a, const struct sa *b);

/** 0.0.0.0 or :: */
bool sa_is_any(const struct sa *sa);
/** 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool sa_is_loopback(const struct sa *sa);
/**
 * Addresses that are not reachable from the public Internet as such, the usual
 * sign of a NATed endpoint: RFC 1918, RFC 6598 (100.64/10), link-local,
 * loopback, IPv6 ULA (fc00::/7) and link-local (fe80::/10), and the
 * IPv4-mapped IPv6 forms (::ffff:a.b.c.d) of the IPv4 ones. False when unset.
 */
bool sa_is_private(const struct sa *sa);

#endif
