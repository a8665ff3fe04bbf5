/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * STUN binding requests on relay ports (RFC 8489, short-term credentials as ICE uses them,
 * RFC 8445 section 7.3). Order of the checks, from RFC 8489 section 6.3 and 9.1.3:
 *
 *   not a request, or a FINGERPRINT that does not match  -> drop (it is not STUN for us)
 *   malformed attributes, unknown method                 -> 400
 *   credentials known: USERNAME or MESSAGE-INTEGRITY missing -> 400,
 *                      USERNAME not ours or integrity wrong  -> 401
 *   unknown comprehension-required attributes            -> 420 + UNKNOWN-ATTRIBUTES
 *   otherwise                                            -> success + XOR-MAPPED-ADDRESS
 *
 * Responses carry MESSAGE-INTEGRITY when the request was authenticated, FINGERPRINT when it was
 * authenticated or carried one. Every length is checked against the datagram before use.
 */
#include "stun.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

enum {
	STUN_BINDING = 0x0001,
	STUN_CLASS_MASK = 0x0110,
	STUN_CLASS_REQUEST = 0x0000,
	STUN_CLASS_SUCCESS = 0x0100,
	STUN_CLASS_ERROR = 0x0110,

	ATTR_MAPPED_ADDRESS = 0x0001,
	ATTR_USERNAME = 0x0006,
	ATTR_MESSAGE_INTEGRITY = 0x0008,
	ATTR_ERROR_CODE = 0x0009,
	ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	ATTR_REALM = 0x0014,
	ATTR_NONCE = 0x0015,
	ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
	ATTR_PASSWORD_ALGORITHM = 0x001D,
	ATTR_USERHASH = 0x001E,
	ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	ATTR_PRIORITY = 0x0024,
	ATTR_USE_CANDIDATE = 0x0025,
	ATTR_FINGERPRINT = 0x8028,
	/* 0x8000 and above: comprehension-optional, ignored when unknown */
	ATTR_OPTIONAL_MIN = 0x8000,

	HMAC_SHA1_LEN = 20,
	USERNAME_MAX = 513,
	UNKNOWN_MAX = 16,
};

#define FINGERPRINT_XOR 0x5354554eu

/* What one pass over a request's attributes found. Offsets are of the attribute header. */
struct stun_req {
	uint16_t type;
	const uint8_t *username;
	size_t username_len;
	size_t mi_off; /* 0: absent */
	size_t fp_off; /* 0: absent */
	uint16_t unknown[UNKNOWN_MAX];
	unsigned n_unknown;
	bool malformed;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* CRC-32 (ISO-HDLC, as zlib), a nibble at a time: a 16-entry table is small and fast enough. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	static const uint32_t tab[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
		0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ tab[crc & 15];
		crc = (crc >> 4) ^ tab[crc & 15];
	}
	return ~crc;
}

static uint32_t stun_fingerprint(const uint8_t *msg, size_t len)
{
	return crc32_update(0, msg, len) ^ FINGERPRINT_XOR;
}

/*
 * One HMAC-SHA1 context per thread (per worker), made on its first use and freed when the
 * thread ends: OpenSSL 3's one-shot HMAC() fetches the algorithm and allocates a context on
 * every call, which the packet path must not do.
 */
static EVP_MAC *hmac_alg;
static pthread_key_t hmac_key;
static bool hmac_ready;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_ctx_free(void *ctx)
{
	EVP_MAC_CTX_free(ctx);
}

static void hmac_init_once(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	hmac_ready = hmac_alg && pthread_key_create(&hmac_key, hmac_ctx_free) == 0;
}

static EVP_MAC_CTX *hmac_ctx(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx;

	pthread_once(&hmac_once, hmac_init_once);
	if (!hmac_ready)
		return NULL;
	ctx = pthread_getspecific(hmac_key);
	if (ctx)
		return ctx;
	ctx = EVP_MAC_CTX_new(hmac_alg);
	if (ctx && (!EVP_MAC_CTX_set_params(ctx, params) || pthread_setspecific(hmac_key, ctx))) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

static bool hmac_sha1(const char *key, const uint8_t *data, size_t len, uint8_t mac[HMAC_SHA1_LEN])
{
	EVP_MAC_CTX *ctx = hmac_ctx();
	unsigned int maclen = 0;
	size_t outlen = 0;

	if (!ctx) { /* the slow one-shot: correct all the same */
		if (!HMAC(EVP_sha1(), key, (int)strlen(key), data, len, mac, &maclen))
			return false;
		return maclen == HMAC_SHA1_LEN;
	}
	if (!EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), NULL) ||
	    !EVP_MAC_update(ctx, data, len) || !EVP_MAC_final(ctx, mac, &outlen, HMAC_SHA1_LEN))
		return false;
	return outlen == HMAC_SHA1_LEN;
}

bool stun_is_stun(const uint8_t *buf, size_t len)
{
	/* RFC 7983: STUN's first byte is 0..3 (DTLS starts at 20, RTP/RTCP at 128) */
	return len >= STUN_HEADER_LEN && buf[0] <= 3 && get32(buf + 4) == STUN_MAGIC_COOKIE;
}

static bool attr_understood(uint16_t type)
{
	switch (type) {
	case ATTR_MAPPED_ADDRESS:
	case ATTR_USERNAME:
	case ATTR_MESSAGE_INTEGRITY:
	case ATTR_ERROR_CODE:
	case ATTR_UNKNOWN_ATTRIBUTES:
	case ATTR_REALM:
	case ATTR_NONCE:
	case ATTR_MESSAGE_INTEGRITY_SHA256:
	case ATTR_PASSWORD_ALGORITHM:
	case ATTR_USERHASH:
	case ATTR_XOR_MAPPED_ADDRESS:
	case ATTR_PRIORITY:
	case ATTR_USE_CANDIDATE:
		return true;
	default:
		return type >= ATTR_OPTIONAL_MIN;
	}
}

/* One attribute at @p off (value of @p alen bytes): record what the answer depends on. */
static void req_note_attr(struct stun_req *r, const uint8_t *msg, size_t off, uint16_t type,
			  uint16_t alen)
{
	if (r->fp_off) {
		r->malformed = true; /* FINGERPRINT must be last */
		return;
	}
	if (type == ATTR_FINGERPRINT) {
		if (alen != 4)
			r->malformed = true;
		r->fp_off = off;
		return;
	}
	if (r->mi_off)
		return; /* after MESSAGE-INTEGRITY only FINGERPRINT counts */
	switch (type) {
	case ATTR_USERNAME:
		if (alen > USERNAME_MAX)
			r->malformed = true;
		r->username = msg + off + 4;
		r->username_len = alen;
		break;
	case ATTR_MESSAGE_INTEGRITY:
		if (alen != HMAC_SHA1_LEN)
			r->malformed = true;
		r->mi_off = off;
		break;
	default:
		if (!attr_understood(type) && r->n_unknown < UNKNOWN_MAX)
			r->unknown[r->n_unknown++] = type;
		break;
	}
}

/* Walks the attributes of a message whose header passed stun_is_stun(). */
static void req_parse(struct stun_req *r, const uint8_t *msg, size_t len)
{
	size_t end = STUN_HEADER_LEN + get16(msg + 2);
	size_t off = STUN_HEADER_LEN;

	memset(r, 0, sizeof(*r));
	r->type = get16(msg);
	if (end != len || (end & 3) != 0) {
		r->malformed = true;
		return;
	}
	while (off < end && !r->malformed) {
		uint16_t type, alen;
		size_t padded;

		if (end - off < 4) {
			r->malformed = true;
			return;
		}
		type = get16(msg + off);
		alen = get16(msg + off + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > end - off - 4) {
			r->malformed = true;
			return;
		}
		req_note_attr(r, msg, off, type, alen);
		off += 4 + padded;
	}
}

/* FINGERPRINT covers everything before it; it is last, so the header length is already right. */
static bool req_fingerprint_ok(const struct stun_req *r, const uint8_t *msg)
{
	return get32(msg + r->fp_off + 4) == stun_fingerprint(msg, r->fp_off);
}

/*
 * MESSAGE-INTEGRITY covers the message up to itself, with the header length set as if it were
 * the last attribute. Hashes a patched copy in @p scratch: the request stays read-only.
 */
static bool req_integrity_ok(const struct stun_req *r, const uint8_t *msg, const char *pwd,
			     uint8_t *scratch, size_t scratch_size)
{
	uint8_t mac[HMAC_SHA1_LEN];

	if (r->mi_off > scratch_size)
		return false;
	memcpy(scratch, msg, r->mi_off);
	put16(scratch + 2, (uint16_t)(r->mi_off - STUN_HEADER_LEN + 4 + HMAC_SHA1_LEN));
	if (!hmac_sha1(pwd, scratch, r->mi_off, mac))
		return false;
	return CRYPTO_memcmp(mac, msg + r->mi_off + 4, HMAC_SHA1_LEN) == 0;
}

/* ICE: USERNAME is "<our ufrag>:<their ufrag>" (RFC 8445 section 7.2.2). */
static bool req_username_ok(const struct stun_req *r, const char *ufrag)
{
	size_t n = strlen(ufrag);

	return r->username_len > n && memcmp(r->username, ufrag, n) == 0 && r->username[n] == ':';
}

/* Builds a response in the caller's buffer; any overflow makes the whole response fail. */
struct stun_writer {
	uint8_t *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static uint8_t *writer_attr(struct stun_writer *w, uint16_t type, size_t alen)
{
	size_t padded = (alen + 3) & ~(size_t)3;
	uint8_t *p;

	if (w->overflow || w->size - w->len < 4 + padded) {
		w->overflow = true;
		return NULL;
	}
	p = w->buf + w->len;
	put16(p, type);
	put16(p + 2, (uint16_t)alen);
	memset(p + 4, 0, padded);
	w->len += 4 + padded;
	return p + 4;
}

static void writer_start(struct stun_writer *w, uint16_t type, const uint8_t *req)
{
	if (w->size < STUN_HEADER_LEN) {
		w->overflow = true;
		return;
	}
	put16(w->buf, type);
	put16(w->buf + 2, 0);
	memcpy(w->buf + 4, req + 4, 16); /* magic cookie and transaction id */
	w->len = STUN_HEADER_LEN;
}

static void writer_set_length(struct stun_writer *w, size_t extra)
{
	put16(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_LEN + extra));
}

static void writer_xor_mapped_address(struct stun_writer *w, const struct sa *src)
{
	bool v6 = sa_family(src) == AF_INET6;
	uint8_t *v = writer_attr(w, ATTR_XOR_MAPPED_ADDRESS, v6 ? 20 : 8);
	const uint8_t *key = w->buf + 4; /* cookie, then transaction id for IPv6 */

	if (!v)
		return;
	v[1] = v6 ? 0x02 : 0x01;
	put16(v + 2, (uint16_t)(sa_port(src) ^ (STUN_MAGIC_COOKIE >> 16)));
	if (v6) {
		const uint8_t *a = src->u.in6.sin6_addr.s6_addr;

		for (int i = 0; i < 16; i++)
			v[4 + i] = a[i] ^ key[i];
	} else {
		const uint8_t *a = (const uint8_t *)&src->u.in.sin_addr.s_addr;

		for (int i = 0; i < 4; i++)
			v[4 + i] = a[i] ^ key[i];
	}
}

static void writer_error_code(struct stun_writer *w, unsigned code, const char *reason)
{
	size_t rlen = strlen(reason);
	uint8_t *v = writer_attr(w, ATTR_ERROR_CODE, 4 + rlen);

	if (!v)
		return;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
}

static void writer_unknown_attributes(struct stun_writer *w, const struct stun_req *r)
{
	uint8_t *v = writer_attr(w, ATTR_UNKNOWN_ATTRIBUTES, 2 * (size_t)r->n_unknown);

	if (!v)
		return;
	for (unsigned i = 0; i < r->n_unknown; i++)
		put16(v + 2 * i, r->unknown[i]);
}

static void writer_integrity(struct stun_writer *w, const char *pwd)
{
	uint8_t mac[HMAC_SHA1_LEN];
	uint8_t *v;

	if (w->overflow)
		return;
	writer_set_length(w, 4 + HMAC_SHA1_LEN);
	if (!hmac_sha1(pwd, w->buf, w->len, mac)) {
		w->overflow = true;
		return;
	}
	v = writer_attr(w, ATTR_MESSAGE_INTEGRITY, HMAC_SHA1_LEN);
	if (v)
		memcpy(v, mac, HMAC_SHA1_LEN);
}

static void writer_fingerprint(struct stun_writer *w)
{
	uint32_t crc;
	uint8_t *v;

	if (w->overflow)
		return;
	writer_set_length(w, 8);
	crc = stun_fingerprint(w->buf, w->len);
	v = writer_attr(w, ATTR_FINGERPRINT, 4);
	if (v)
		put32(v, crc);
}

/* How the response is sealed: integrity with this password (NULL: none), fingerprint or not. */
struct stun_seal {
	const char *pwd;
	bool fingerprint;
};

static bool writer_finish(struct stun_writer *w, const struct stun_seal *seal, size_t *outlen)
{
	if (seal->pwd)
		writer_integrity(w, seal->pwd);
	if (seal->fingerprint)
		writer_fingerprint(w);
	if (w->overflow)
		return false;
	writer_set_length(w, 0);
	*outlen = w->len;
	return true;
}

static uint16_t response_type(uint16_t req_type, uint16_t klass)
{
	return (uint16_t)((req_type & ~STUN_CLASS_MASK) | klass);
}

static enum stun_outcome answer_error(const struct stun_req *r, const uint8_t *req, unsigned code,
				      const struct stun_seal *seal, uint8_t *out, size_t outsize,
				      size_t *outlen)
{
	struct stun_writer w = { out, outsize, 0, false };
	const char *reason = code == 401   ? "Unauthorized"
			     : code == 420 ? "Unknown Attribute"
					   : "Bad Request";

	writer_start(&w, response_type(r->type, STUN_CLASS_ERROR), req);
	writer_error_code(&w, code, reason);
	if (code == 420)
		writer_unknown_attributes(&w, r);
	return writer_finish(&w, seal, outlen) ? STUN_ERROR_ANSWER : STUN_DROP;
}

static enum stun_outcome answer_success(const struct stun_req *r, const uint8_t *req,
					const struct sa *src, const struct stun_seal *seal,
					uint8_t *out, size_t outsize, size_t *outlen)
{
	struct stun_writer w = { out, outsize, 0, false };

	writer_start(&w, response_type(r->type, STUN_CLASS_SUCCESS), req);
	writer_xor_mapped_address(&w, src);
	return writer_finish(&w, seal, outlen) ? STUN_ANSWERED : STUN_DROP;
}

static bool creds_known(const struct stun_creds *c)
{
	return c && c->local_ufrag && c->local_ufrag[0] && c->local_pwd;
}

enum stun_outcome stun_answer(const uint8_t *req, size_t len, const struct sa *src,
			      const struct stun_creds *creds, uint8_t *out, size_t outsize,
			      size_t *outlen)
{
	struct stun_seal seal = { NULL, false };
	struct stun_req r;

	*outlen = 0;
	if (!stun_is_stun(req, len) || (get16(req) & STUN_CLASS_MASK) != STUN_CLASS_REQUEST)
		return STUN_DROP; /* indications and responses are never answered */
	if (sa_family(src) != AF_INET && sa_family(src) != AF_INET6)
		return STUN_DROP;
	req_parse(&r, req, len);
	if (r.fp_off && !r.malformed && !req_fingerprint_ok(&r, req))
		return STUN_DROP;
	seal.fingerprint = r.fp_off != 0 && !r.malformed;
	if (r.malformed || (r.type & ~STUN_CLASS_MASK) != STUN_BINDING)
		return answer_error(&r, req, 400, &seal, out, outsize, outlen);
	if (creds_known(creds)) {
		if (!r.username || !r.mi_off)
			return answer_error(&r, req, 400, &seal, out, outsize, outlen);
		if (!req_username_ok(&r, creds->local_ufrag))
			return answer_error(&r, req, 401, &seal, out, outsize, outlen);
		if (!req_integrity_ok(&r, req, creds->local_pwd, out, outsize))
			return r.mi_off > outsize
				   ? STUN_DROP
				   : answer_error(&r, req, 401, &seal, out, outsize, outlen);
		seal.pwd = creds->local_pwd;
		seal.fingerprint = true;
	}
	if (r.n_unknown)
		return answer_error(&r, req, 420, &seal, out, outsize, outlen);
	return answer_success(&r, req, src, &seal, out, outsize, outlen);
}
