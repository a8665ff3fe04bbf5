/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sa.h  Socket addresses: IPv4 and IPv6, parse, print, compare, classify.
 *
 * Text forms: "192.0.2.1", "192.0.2.1:5060", "2001:db8::1", "[2001:db8::1]",
 * "[2001:db8::1]:5060". Printing uses the same forms (brackets whenever a port
 * follows an IPv6 address).
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

void sa_init(struct sa *sa);

/**
 * Parses an address with optional port. When the text has no port, the port is
 * @p default_port. Host names are not resolved here.
 * @return 0 or -EINVAL.
 */
int sa_parse(struct sa *sa, struct strv text, uint16_t default_port);

/** Like sa_parse on a C string. */
int sa_parse_cstr(struct sa *sa, const char *text, uint16_t default_port);

/** Sets the address from a sockaddr of known length (e.g. from recvfrom). @return 0 or -EINVAL. */
int sa_set_sockaddr(struct sa *sa, const struct sockaddr *addr, socklen_t len);

/** "addr:port" into @p buf (at least SA_STRLEN bytes advised). @return @p buf. */
char *sa_print(const struct sa *sa, char *buf, size_t size);
/** Address only, no port and no brackets. @return @p buf. */
char *sa_print_addr(const struct sa *sa, char *buf, size_t size);

int sa_family(const struct sa *sa);
uint16_t sa_port(const struct sa *sa);
void sa_set_port(struct sa *sa, uint16_t port);

/** Same family, address and port. */
bool sa_equal(const struct sa *a, const struct sa *b);
/** Same family and address, any port. */
bool sa_equal_addr(const struct sa *a, const struct sa *b);

/** 0.0.0.0 or :: */
bool sa_is_any(const struct sa *sa);
bool sa_is_loopback(const struct sa *sa);
/**
 * Addresses that are not reachable from the public Internet as such, the usual
 * sign of a NATed endpoint: RFC 1918, RFC 6598 (100.64/10), link-local,
 * loopback, IPv6 ULA (fc00::/7) and link-local (fe80::/10).
 */
bool sa_is_private(const struct sa *sa);

#endif
