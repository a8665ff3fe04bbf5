/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file digest.h  HTTP digest authentication for SIP (RFC 2617, RFC 7616, RFC 8760).
 *
 * Algorithms MD5 and SHA-256 (not the -sess variants), qop=auth (and the
 * RFC 2069 form without qop, see below), no userhash. The server side is a
 * `struct sip_digest`: it issues nonces and verifies credentials.
 *
 * Nonces are stateless: nonce = hex( time_ms[8] | seq[8] | mac[16] ), with
 * mac = HMAC-SHA256(secret, time_ms | seq | realm) truncated to 128 bits and
 * time_ms the caller's clock at issue. Any node that has the secret and the
 * same clock can check one; nothing is stored when a nonce is issued, so a
 * REGISTER flood that collects challenges costs no memory.
 *
 * Replay protection (RFC 7616 §5.8 nc): state is kept only for nonces that
 * were used with the right credentials, in a fixed set-associative table
 * (4 ways per bucket) keyed by (time_ms, seq). Each entry holds the highest nc
 * seen and a 64-bit window of the nc values below it (as the IPsec anti-replay
 * window), so requests that overtake each other still pass but no nonce+nc is
 * accepted twice. When an entry of a live nonce has to be evicted, the
 * table's watermark rises to that nonce's time: a nonce at or below the
 * watermark that has no entry may have been used before, so it is refused as
 * a replay (the client then gets a fresh challenge with stale=true). Memory
 * stays bounded by the table; under eviction pressure clients re-authenticate
 * once more, never accept a replay.
 *
 * A response without qop (RFC 2069) has no nc: it counts as nc=1, so such a
 * nonce can be used once.
 *
 * Responses are compared in constant time (CRYPTO_memcmp).
 * Not thread-safe: one `struct sip_digest` per thread (or a lock around it).
 */
#ifndef SBC_REGISTRAR_DIGEST_H
#define SBC_REGISTRAR_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"

struct sip_auth;

enum sip_digest_alg { SIP_DIGEST_MD5 = 0, SIP_DIGEST_SHA256, SIP_DIGEST_ALG_COUNT };

/** Longest hash in hex (SHA-256) plus the NUL. */
#define SIP_DIGEST_HEX_MAX 65
/** Length of a nonce issued here (hex, without NUL). */
#define SIP_DIGEST_NONCE_LEN 64

/** "MD5", "SHA-256". */
const char *sip_digest_alg_name(enum sip_digest_alg alg);
/**
 * The algorithm= value of credentials or a challenge (any case); an empty view
 * is MD5 (RFC 2617 §3.2.1). @return 0, or -ENOTSUP for another algorithm.
 */
int sip_digest_alg_parse(struct strv name, enum sip_digest_alg *alg);
/** Hex length of the algorithm's hash: 32 or 64. */
size_t sip_digest_hex_len(enum sip_digest_alg alg);

/**
 * HA1 = H(username ":" realm ":" password) in lowercase hex into @p out
 * (SIP_DIGEST_HEX_MAX bytes). @return 0, or -ENOTSUP (algorithm unavailable,
 * e.g. MD5 in FIPS mode) or -ENOMEM.
 */
int sip_digest_ha1(enum sip_digest_alg alg, struct strv username, struct strv realm,
		   struct strv password, char *out);

/**
 * The request-digest (RFC 7616 §3.4.1, qop=auth, HA2 = H(method ":" uri)):
 * H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2), or with an empty @p qop
 * (RFC 2069) H(HA1 ":" nonce ":" HA2). Lowercase hex into @p out.
 * @return 0, -ENOTSUP or -ENOMEM.
 */
int sip_digest_response(enum sip_digest_alg alg, struct strv ha1, struct strv method,
			struct strv uri, struct strv nonce, struct strv nc, struct strv cnonce,
			struct strv qop, char *out);

/** Server settings; zero fields take the defaults. */
struct sip_digest_conf {
	uint32_t nonce_ttl_ms; /**< how long a nonce is accepted; default 300000 */
	/** replay table entries, rounded up to a power of two (>= 4); default 4096 */
	uint32_t replay_slots;
	/** HMAC key shared by nodes that must accept each other's nonces; NULL: random */
	const uint8_t *secret;
	size_t secret_len;
};

/** What sip_digest_verify found. */
enum sip_digest_result {
	SIP_DIGEST_OK = 0,
	/** fields missing or malformed, realm not ours, algorithm or qop not offered: 400 */
	SIP_DIGEST_MALFORMED,
	/** the response does not match: wrong password or user (an authentication failure) */
	SIP_DIGEST_WRONG,
	/** the response matches but the nonce expired or is not ours: challenge with stale=true */
	SIP_DIGEST_STALE,
	/** the response matches but this nonce+nc was used before: challenge with stale=true */
	SIP_DIGEST_REPLAY,
};

struct sip_digest;

/** @return 0, -EINVAL (secret_len 0 with a secret) or -ENOMEM. */
int sip_digest_alloc(struct sip_digest **dp, const struct sip_digest_conf *conf);
void sip_digest_free(struct sip_digest *d);

/**
 * Issues a nonce for @p realm at @p now_ms into @p out (SIP_DIGEST_NONCE_LEN + 1
 * bytes, NUL-terminated). @return 0 or -ENOMEM.
 */
int sip_digest_nonce(struct sip_digest *d, uint64_t now_ms, struct strv realm, char *out);

/**
 * A WWW-Authenticate / Proxy-Authenticate value:
 * `Digest realm="..", nonce="..", algorithm=SHA-256, qop="auth"[, stale=true]`.
 * @return its length, -EINVAL (a realm or nonce that cannot be quoted: '"',
 *         '\\' or a control character) or -ENOBUFS (NUL-terminated when it fits).
 */
int sip_digest_challenge(char *out, size_t size, struct strv realm, struct strv nonce,
			 enum sip_digest_alg alg, bool stale);

/**
 * Verifies credentials @p a (parsed by sip_auth_parse) of a request with
 * @p method, against @p realm and the user's @p ha1 (hex, for the algorithm the
 * credentials name: see sip_digest_alg_parse on a->algorithm). The digest-uri
 * is not compared with the Request-URI here (the caller does). On SIP_DIGEST_OK
 * the nonce+nc is recorded as used.
 */
enum sip_digest_result sip_digest_verify(struct sip_digest *d, uint64_t now_ms,
					 const struct sip_auth *a, struct strv method,
					 struct strv realm, struct strv ha1);

#endif
