/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.c  The SIP message parser: one pass over the buffer builds the header index.
 *
 * Layout of the pass (see msg.h for what is accepted and refused):
 *
 *   skip CRLFs -> start line -> { header line }* -> empty line -> body
 *
 * Every read is bounded by `end`; the buffer is never assumed NUL-terminated.
 * Line ends are found sixteen bytes at a time (SSE2 compares), and so are the
 * commas, quotes and <> of list headers and From/To. A header line costs: its
 * name scanned byte by byte (token table) and looked up by length and first
 * letter, its value skipped to the CRLF, and for list headers and From/To one
 * more vector scan of the value. Nothing is allocated, nothing recurses.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- character classes ------------------------------------------------ */

enum {
	C_TOKEN = 1 << 0,  /* RFC 3261 token */
	C_WSP = 1 << 1,	   /* SP / HTAB */
	C_URIBAD = 1 << 2, /* may not appear in a Request-URI */
	C_SCHEME = 1 << 4, /* scheme characters after the first: alnum + - . */
	C_BLANK = 1 << 5,  /* SP HTAB CR LF: what trimming removes */
};

#define TOK  C_TOKEN
#define SCH  C_SCHEME
#define BAD  C_URIBAD
#define ALNU (TOK | SCH)

static const uint8_t cls[256] = {
	[0x00 ... 0x08] = BAD,
	['\t'] = C_WSP | C_BLANK | BAD,
	['\n'] = C_BLANK | BAD,
	[0x0b ... 0x0c] = BAD,
	['\r'] = C_BLANK | BAD,
	[0x0e ... 0x1f] = BAD,
	[' '] = C_WSP | C_BLANK | BAD,
	['!'] = TOK,
	['"'] = BAD,
	['%'] = TOK,
	['\''] = TOK,
	['*'] = TOK,
	['+'] = TOK | SCH,
	['-'] = TOK | SCH,
	['.'] = TOK | SCH,
	['0' ... '9'] = ALNU,
	['<'] = BAD,
	['>'] = BAD,
	['A' ... 'Z'] = ALNU,
	['\\'] = BAD,
	['^'] = BAD,
	['_'] = TOK,
	['`'] = TOK | BAD,
	['a' ... 'z'] = ALNU,
	['{'] = BAD,
	['|'] = BAD,
	['}'] = BAD,
	['~'] = TOK,
	[0x7f ... 0xff] = BAD,
};

static inline bool is_token(unsigned char c)
{
	return cls[c] & C_TOKEN;
}

static inline bool is_wsp(unsigned char c)
{
	return cls[c] & C_WSP;
}

static inline bool is_blank(unsigned char c)
{
	return cls[c] & C_BLANK;
}

static inline bool is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10u;
}

/* Trims SP, HTAB, CR and LF at both ends (a value's folds included). */
static inline struct strv trim_blank(const char *p, const char *e)
{
	while (p < e && is_blank((unsigned char)*p))
		p++;
	while (e > p && is_blank((unsigned char)e[-1]))
		e--;
	return strv_make(p, (size_t)(e - p));
}

/*
 * Byte search, sixteen bytes at a time with SSE2 (every x86-64 has it), or a
 * byte loop elsewhere. A search for bytes of [p, e) may load up to `lim`
 * (>= e, the end of the buffer) and masks off what lies beyond e: it never
 * reads past the caller's buffer, and values mostly end well before it, so
 * short values need no scalar tail.
 */
#if defined(__SSE2__)
#include <emmintrin.h>

static inline unsigned mask_lt(const char *p, const char *e)
{
	size_t n = (size_t)(e - p);

	return n >= 16 ? 0xffffu : (1u << n) - 1;
}

/* First CR or LF in [p, end), or end. */
static inline const char *find_crlf(const char *p, const char *end)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	return p;
}

/*
 * First byte of [p, e) that the list scanner must look at: , " < > \ outside
 * quotes, " \ inside; or e.
 */
static inline const char *find_special(const char *p, const char *e, const char *lim, bool quoted)
{
	const __m128i bs = _mm_set1_epi8('\\'), dq = _mm_set1_epi8('"');
	const __m128i cm = _mm_set1_epi8(','), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>');

	while (p < e && lim - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i x = _mm_or_si128(_mm_cmpeq_epi8(v, bs), _mm_cmpeq_epi8(v, dq));

		if (!quoted)
			x = _mm_or_si128(x, _mm_or_si128(_mm_cmpeq_epi8(v, cm),
							 _mm_or_si128(_mm_cmpeq_epi8(v, lt),
								      _mm_cmpeq_epi8(v, gt))));
		unsigned m = (unsigned)_mm_movemask_epi8(x) & mask_lt(p, e);

		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	for (; p < e; p++) {
		char c = *p;

		if (c == '"' || c == '\\' || (!quoted && (c == ',' || c == '<' || c == '>')))
			return p;
	}
	return e;
}
#else
static inline const char *find_crlf(const char *p, const char *end)
{
	while (p < end && *p != '\r' && *p != '\n')
		p++;
	return p;
}

static inline const char *find_special(const char *p, const char *e, const char *lim, bool quoted)
{
	(void)lim;
	for (; p < e; p++) {
		char c = *p;

		if (c == '"' || c == '\\' || (!quoted && (c == ',' || c == '<' || c == '>')))
			return p;
	}
	return e;
}
#endif

enum eol_status { EOL_OK, EOL_NONE, EOL_BARE };

/*
 * Finds the CRLF that ends the line starting at p. Sets *eol to its CR.
 * EOL_NONE: the buffer ends first; EOL_BARE: a CR or LF that is not a CRLF
 * (*eol points at it). Other controls are left to the value parsers (a
 * quoted-pair may escape any of them, RFC 4475 intmeth).
 */
static inline enum eol_status find_eol(const char *p, const char *end, const char **eol)
{
	p = find_crlf(p, end);
	if (unlikely(p >= end))
		return EOL_NONE;
	*eol = p;
	if (likely(*p == '\r')) {
		if (unlikely(p + 1 >= end))
			return EOL_NONE;
		return likely(p[1] == '\n') ? EOL_OK : EOL_BARE;
	}
	return EOL_BARE;
}

/* ---- methods ------------------------------------------------------------ */

static const char *const method_names[] = {
	[SIP_METHOD_OTHER] = "",
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))

const char *sip_method_name(enum sip_method m)
{
	return (unsigned)m < NMETHODS ? method_names[m] : "";
}

static inline bool is_method(struct strv n, enum sip_method m)
{
	return memcmp(n.p, method_names[m], n.len) == 0;
}

enum sip_method sip_method_from_name(struct strv n)
{
	if (!n.p)
		return SIP_METHOD_OTHER;
	switch (n.len) {
	case 3:
		if (is_method(n, SIP_METHOD_ACK))
			return SIP_METHOD_ACK;
		if (is_method(n, SIP_METHOD_BYE))
			return SIP_METHOD_BYE;
		break;
	case 4:
		if (is_method(n, SIP_METHOD_INFO))
			return SIP_METHOD_INFO;
		break;
	case 5:
		if (is_method(n, SIP_METHOD_PRACK))
			return SIP_METHOD_PRACK;
		if (is_method(n, SIP_METHOD_REFER))
			return SIP_METHOD_REFER;
		break;
	case 6:
		switch (n.p[0]) {
		case 'I':
			if (is_method(n, SIP_METHOD_INVITE))
				return SIP_METHOD_INVITE;
			break;
		case 'C':
			if (is_method(n, SIP_METHOD_CANCEL))
				return SIP_METHOD_CANCEL;
			break;
		case 'U':
			if (is_method(n, SIP_METHOD_UPDATE))
				return SIP_METHOD_UPDATE;
			break;
		case 'N':
			if (is_method(n, SIP_METHOD_NOTIFY))
				return SIP_METHOD_NOTIFY;
			break;
		}
		break;
	case 7:
		switch (n.p[0]) {
		case 'O':
			if (is_method(n, SIP_METHOD_OPTIONS))
				return SIP_METHOD_OPTIONS;
			break;
		case 'M':
			if (is_method(n, SIP_METHOD_MESSAGE))
				return SIP_METHOD_MESSAGE;
			break;
		case 'P':
			if (is_method(n, SIP_METHOD_PUBLISH))
				return SIP_METHOD_PUBLISH;
			break;
		}
		break;
	case 8:
		if (is_method(n, SIP_METHOD_REGISTER))
			return SIP_METHOD_REGISTER;
		break;
	case 9:
		if (is_method(n, SIP_METHOD_SUBSCRIBE))
			return SIP_METHOD_SUBSCRIBE;
		break;
	}
	return SIP_METHOD_OTHER;
}

/* ---- header names ---------------------------------------------------- */

enum {
	H_LIST = 1 << 0,   /* split at top-level commas */
	H_SINGLE = 1 << 1, /* a second, different instance is an error */
	H_QUOTES = 1 << 2, /* quotes and <> must balance (implied by H_LIST) */
};

struct hdr_def {
	const char *name;  /* canonical */
	const char *lower; /* for the case-insensitive compare */
	char compact;
	uint8_t flags;
	const char *dup_reason; /* H_SINGLE */
};

static const struct hdr_def hdr_defs[SIP_HDR_COUNT] = {
	[SIP_HDR_ACCEPT] = { "Accept", "accept", 0, H_LIST, NULL },
	[SIP_HDR_ALLOW] = { "Allow", "allow", 0, H_LIST, NULL },
	[SIP_HDR_AUTHORIZATION] = { "Authorization", "authorization", 0, 0, NULL },
	[SIP_HDR_CALL_ID] = { "Call-ID", "call-id", 'i', H_SINGLE, "Conflicting Call-ID headers" },
	[SIP_HDR_CONTACT] = { "Contact", "contact", 'm', H_LIST, NULL },
	[SIP_HDR_CONTENT_DISPOSITION] = { "Content-Disposition", "content-disposition", 0, 0,
					  NULL },
	[SIP_HDR_CONTENT_ENCODING] = { "Content-Encoding", "content-encoding", 'e', H_LIST, NULL },
	[SIP_HDR_CONTENT_LENGTH] = { "Content-Length", "content-length", 'l', H_SINGLE,
				     "Conflicting Content-Length headers" },
	[SIP_HDR_CONTENT_TYPE] = { "Content-Type", "content-type", 'c', H_SINGLE,
				   "Conflicting Content-Type headers" },
	[SIP_HDR_CSEQ] = { "CSeq", "cseq", 0, H_SINGLE, "Conflicting CSeq headers" },
	[SIP_HDR_EVENT] = { "Event", "event", 'o', 0, NULL },
	[SIP_HDR_EXPIRES] = { "Expires", "expires", 0, 0, NULL },
	[SIP_HDR_FROM] = { "From", "from", 'f', H_SINGLE | H_QUOTES, "Conflicting From headers" },
	[SIP_HDR_MAX_FORWARDS] = { "Max-Forwards", "max-forwards", 0, H_SINGLE,
				   "Conflicting Max-Forwards headers" },
	[SIP_HDR_MIN_EXPIRES] = { "Min-Expires", "min-expires", 0, 0, NULL },
	[SIP_HDR_PROXY_AUTHENTICATE] = { "Proxy-Authenticate", "proxy-authenticate", 0, 0, NULL },
	[SIP_HDR_PROXY_AUTHORIZATION] = { "Proxy-Authorization", "proxy-authorization", 0, 0,
					  NULL },
	[SIP_HDR_PROXY_REQUIRE] = { "Proxy-Require", "proxy-require", 0, H_LIST, NULL },
	[SIP_HDR_RACK] = { "RAck", "rack", 0, 0, NULL },
	[SIP_HDR_RECORD_ROUTE] = { "Record-Route", "record-route", 0, H_LIST, NULL },
	[SIP_HDR_REFER_TO] = { "Refer-To", "refer-to", 'r', 0, NULL },
	[SIP_HDR_REFERRED_BY] = { "Referred-By", "referred-by", 'b', 0, NULL },
	[SIP_HDR_REQUIRE] = { "Require", "require", 0, H_LIST, NULL },
	[SIP_HDR_ROUTE] = { "Route", "route", 0, H_LIST, NULL },
	[SIP_HDR_RSEQ] = { "RSeq", "rseq", 0, 0, NULL },
	[SIP_HDR_SERVER] = { "Server", "server", 0, 0, NULL },
	[SIP_HDR_SESSION_EXPIRES] = { "Session-Expires", "session-expires", 'x', 0, NULL },
	[SIP_HDR_SUBJECT] = { "Subject", "subject", 's', 0, NULL },
	[SIP_HDR_SUPPORTED] = { "Supported", "supported", 'k', H_LIST, NULL },
	[SIP_HDR_TO] = { "To", "to", 't', H_SINGLE | H_QUOTES, "Conflicting To headers" },
	[SIP_HDR_UNSUPPORTED] = { "Unsupported", "unsupported", 0, H_LIST, NULL },
	[SIP_HDR_USER_AGENT] = { "User-Agent", "user-agent", 0, 0, NULL },
	[SIP_HDR_VIA] = { "Via", "via", 'v', H_LIST, NULL },
	[SIP_HDR_WWW_AUTHENTICATE] = { "WWW-Authenticate", "www-authenticate", 0, 0, NULL },
};

/* Known long names by length (the longest is 19), at most 5 of one length. */
#define MAX_NAME_LEN 19
static const uint8_t names_by_len[MAX_NAME_LEN + 1][6] = {
	[2] = { SIP_HDR_TO },
	[3] = { SIP_HDR_VIA },
	[4] = { SIP_HDR_FROM, SIP_HDR_CSEQ, SIP_HDR_RACK, SIP_HDR_RSEQ },
	[5] = { SIP_HDR_ALLOW, SIP_HDR_EVENT, SIP_HDR_ROUTE },
	[6] = { SIP_HDR_ACCEPT, SIP_HDR_SERVER },
	[7] = { SIP_HDR_CALL_ID, SIP_HDR_CONTACT, SIP_HDR_EXPIRES, SIP_HDR_REQUIRE,
		SIP_HDR_SUBJECT },
	[8] = { SIP_HDR_REFER_TO },
	[9] = { SIP_HDR_SUPPORTED },
	[10] = { SIP_HDR_USER_AGENT },
	[11] = { SIP_HDR_REFERRED_BY, SIP_HDR_MIN_EXPIRES, SIP_HDR_UNSUPPORTED },
	[12] = { SIP_HDR_CONTENT_TYPE, SIP_HDR_MAX_FORWARDS, SIP_HDR_RECORD_ROUTE },
	[13] = { SIP_HDR_AUTHORIZATION, SIP_HDR_PROXY_REQUIRE },
	[14] = { SIP_HDR_CONTENT_LENGTH },
	[15] = { SIP_HDR_SESSION_EXPIRES },
	[16] = { SIP_HDR_WWW_AUTHENTICATE, SIP_HDR_CONTENT_ENCODING },
	[18] = { SIP_HDR_PROXY_AUTHENTICATE },
	[19] = { SIP_HDR_CONTENT_DISPOSITION, SIP_HDR_PROXY_AUTHORIZATION },
};

/*
 * ASCII case-insensitive compare against a lower-case name of letters and '-'.
 * c | 0x20 maps only 'A'-'Z' onto 'a'-'z', and onto '-' only '-' and CR
 * (which a token never holds), so no other byte can match.
 */
static inline bool name_eq(const char *p, const char *lower, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)(p[i] | 0x20) != (unsigned char)lower[i])
			return false;
	return true;
}

static enum sip_hdr_id compact_id(char c)
{
	switch (c | 0x20) {
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'o':
		return SIP_HDR_EVENT;
	case 'f':
		return SIP_HDR_FROM;
	case 'r':
		return SIP_HDR_REFER_TO;
	case 'b':
		return SIP_HDR_REFERRED_BY;
	case 'x':
		return SIP_HDR_SESSION_EXPIRES;
	case 's':
		return SIP_HDR_SUBJECT;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 't':
		return SIP_HDR_TO;
	case 'v':
		return SIP_HDR_VIA;
	}
	return SIP_HDR_OTHER;
}

static inline enum sip_hdr_id lookup_name(const char *p, size_t len)
{
	if (len == 1)
		return compact_id(p[0]);
	if (len > MAX_NAME_LEN)
		return SIP_HDR_OTHER;
	const uint8_t *c = names_by_len[len];
	unsigned char first = (unsigned char)(p[0] | 0x20);

	for (; *c; c++) {
		const char *lower = hdr_defs[*c].lower;

		if ((unsigned char)lower[0] == first && name_eq(p + 1, lower + 1, len - 1))
			return (enum sip_hdr_id) * c;
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? hdr_defs[id].name : NULL;
}

char sip_hdr_compact(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT ? hdr_defs[id].compact : 0;
}

bool sip_hdr_is_list(enum sip_hdr_id id)
{
	return (unsigned)id < SIP_HDR_COUNT && (hdr_defs[id].flags & H_LIST);
}

enum sip_hdr_id sip_hdr_id_from_name(struct strv name)
{
	if (!name.p || !name.len)
		return SIP_HDR_OTHER;
	return lookup_name(name.p, name.len);
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, struct strv name)
{
	enum sip_hdr_id id = sip_hdr_id_from_name(name);
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	if (id != SIP_HDR_OTHER)
		return h;
	for (; h; h = sip_msg_hdr_next(m, h))
		if (strv_caseeq(h->name, name))
			return h;
	return NULL;
}

unsigned sip_msg_hdr_count(const struct sip_msg *m, enum sip_hdr_id id)
{
	unsigned n = 0;

	if ((unsigned)id >= SIP_HDR_COUNT)
		return 0;
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h))
		n++;
	return n;
}

/* ---- the parser ---------------------------------------------------------- */

struct parser {
	struct sip_msg *m;
	const char *base; /* the caller's buffer, for error offsets */
	const char *end;
	struct sip_parse_error *err;
	uint16_t last[SIP_HDR_COUNT]; /* last entry per id; read only when first[id] != 0 */
	unsigned max_hdrs;
	size_t max_hdr_len;
};

static int fail(struct parser *ps, int rc, uint16_t status, const char *reason, const char *at)
{
	ps->err->status = status;
	ps->err->reason = reason;
	ps->err->offset = at ? (size_t)(at - ps->base) : 0;
	return rc;
}

#define BAD_REQ(ps, reason, at) fail((ps), -EINVAL, 400, (reason), (at))

/* "SIP/2.0", the "SIP" in any case (ABNF strings are case-insensitive). */
static inline bool is_sip20(const char *p, size_t len)
{
	return len == 7 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
	       p[3] == '/' && p[4] == '2' && p[5] == '.' && p[6] == '0';
}

static inline bool is_sip_slash(const char *p, const char *end)
{
	return end - p >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	       (p[2] | 0x20) == 'p' && p[3] == '/';
}

/* Request-Line = Method SP Request-URI SP SIP-Version, [s, e) without the CRLF. */
static int parse_request_line(struct parser *ps, const char *s, const char *e)
{
	struct sip_msg *m = ps->m;
	const char *q = s, *v, *ue;

	while (q < e && is_token((unsigned char)*q))
		q++;
	if (q == s || q == e || *q != ' ')
		return BAD_REQ(ps, "Malformed Request-Line", q);
	m->method_name = strv_make(s, (size_t)(q - s));
	m->method = sip_method_from_name(m->method_name);
	while (q < e && *q == ' ')
		q++;
	while (e > q && is_wsp((unsigned char)e[-1]))
		e--; /* tolerated: SP/HT before the CRLF (RFC 4475 §3.1.2.10) */
	v = e;
	while (v > q && v[-1] != ' ')
		v--;
	if (v == q)
		return BAD_REQ(ps, "Malformed Request-Line", e);
	m->version = strv_make(v, (size_t)(e - v));
	if (!is_sip20(v, (size_t)(e - v))) {
		if (is_sip_slash(v, e))
			return fail(ps, -EPROTONOSUPPORT, 505, "SIP Version Not Supported", v);
		return BAD_REQ(ps, "Malformed SIP-Version", v);
	}
	ue = v;
	while (ue > q && ue[-1] == ' ')
		ue--;
	/* the URI: "scheme:" then URI characters only, no blanks (RFC 4475 §3.1.2.7, §3.1.2.8) */
	const char *u = q;

	if (u == ue || !(cls[(unsigned char)*u] & C_SCHEME) || is_digit((unsigned char)*u) ||
	    *u == '+' || *u == '-' || *u == '.')
		return BAD_REQ(ps, "Malformed Request-URI", u);
	while (u < ue && (cls[(unsigned char)*u] & C_SCHEME))
		u++;
	if (u == ue || *u != ':')
		return BAD_REQ(ps, "Malformed Request-URI", u);
	for (; u < ue; u++)
		if (unlikely(cls[(unsigned char)*u] & C_URIBAD))
			return BAD_REQ(ps, "Malformed Request-URI", u);
	m->ruri = strv_make(q, (size_t)(ue - q));
	return 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase, [s, e) without the CRLF. */
static int parse_status_line(struct parser *ps, const char *s, const char *e)
{
	struct sip_msg *m = ps->m;
	const char *q = s;

	while (q < e && *q != ' ')
		q++;
	m->version = strv_make(s, (size_t)(q - s));
	if (!is_sip20(s, (size_t)(q - s)))
		return fail(ps, -EPROTONOSUPPORT, 0, "SIP Version Not Supported", s);
	while (q < e && *q == ' ')
		q++;
	if (e - q < 3 || !is_digit((unsigned char)q[0]) || !is_digit((unsigned char)q[1]) ||
	    !is_digit((unsigned char)q[2]) || (e - q > 3 && q[3] != ' '))
		return fail(ps, -EINVAL, 0, "Malformed Status-Code", q);
	m->status = (uint16_t)((q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0'));
	if (m->status < 100 || m->status > 699)
		return fail(ps, -EINVAL, 0, "Malformed Status-Code", q);
	q += 3;
	m->reason = trim_blank(q, e);
	if (!m->reason.len)
		m->reason.p = q; /* keep a non-NULL view inside the buffer */
	return 0;
}

/* Appends one entry to the index and to its id's chain. */
static inline int add_hdr(struct parser *ps, enum sip_hdr_id id, struct strv name,
			  struct strv value, uint16_t line)
{
	struct sip_msg *m = ps->m;
	uint16_t n = m->nhdrs;

	if (unlikely(n >= ps->max_hdrs))
		return fail(ps, -EMSGSIZE, 513, "Too many headers", name.p);
	struct sip_hdr *h = &m->hdrs[n];

	h->id = id;
	h->name = name;
	h->value = value;
	h->next = 0;
	h->line = line;
	n++;
	if (!m->first[id])
		m->first[id] = n;
	else
		m->hdrs[ps->last[id] - 1].next = n;
	ps->last[id] = n;
	m->nhdrs = n;
	return 0;
}

/*
 * Walks a list value (or a From/To value) from one of , " < > \ to the next:
 * commas outside quotes and <> separate elements (when split), a backslash in
 * quotes escapes the next byte, quotes and <> must balance.
 */
static int add_list(struct parser *ps, enum sip_hdr_id id, struct strv name, struct strv value,
		    uint16_t line, bool split)
{
	const char *p = value.p, *e = value.p + value.len, *elem = p;
	bool quoted = false, angle = false;
	int rc;

	for (;; p++) {
		p = find_special(p, e, ps->end, quoted);
		if (p >= e)
			break;
		if (quoted) {
			if (*p == '"') {
				quoted = false;
			} else if (++p == e) { /* a backslash escapes the next byte */
				break;
			}
			continue;
		}
		switch (*p) {
		case '"':
			if (!angle)
				quoted = true;
			break;
		case '\\':
			break;
		case '<':
			if (angle)
				return BAD_REQ(ps, "Unbalanced '<' in header value", p);
			angle = true;
			break;
		case '>':
			if (!angle)
				return BAD_REQ(ps, "Unbalanced '>' in header value", p);
			angle = false;
			break;
		case ',':
			if (angle || !split)
				break;
			struct strv el = trim_blank(elem, p);

			if (!el.len)
				return BAD_REQ(ps, "Empty element in header list", p);
			rc = add_hdr(ps, id, name, el, line);
			if (rc)
				return rc;
			elem = p + 1;
			break;
		}
	}
	if (quoted)
		return BAD_REQ(ps, "Unterminated quoted string in header value", e);
	if (angle)
		return BAD_REQ(ps, "Unbalanced '<' in header value", e);
	if (elem == value.p)
		return add_hdr(ps, id, name, value, line);
	struct strv el = trim_blank(elem, e);

	if (!el.len)
		return BAD_REQ(ps, "Empty element in header list", e);
	return add_hdr(ps, id, name, el, line);
}

/* One header line; *pp points at its name and is moved past its CRLF. */
static inline int parse_header(struct parser *ps, const char **pp, uint16_t line)
{
	const char *s = *pp, *p = s, *end = ps->end, *eol;
	enum sip_hdr_id id;
	struct strv name, value;
	enum eol_status st;

	while (p < end && is_token((unsigned char)*p))
		p++;
	if (unlikely(p == s)) {
		if (*s == '\n')
			return BAD_REQ(ps, "Bare CR or LF in header", s);
		return BAD_REQ(ps,
			       is_wsp((unsigned char)*s) ? "Folded line without a header"
							 : "Malformed header name",
			       s);
	}
	name = strv_make(s, (size_t)(p - s));
	while (p < end && is_wsp((unsigned char)*p))
		p++;
	if (unlikely(p >= end || *p != ':'))
		return BAD_REQ(ps, "Malformed header (no colon)", p);
	const char *vs = ++p;

	for (;;) {
		st = find_eol(p, end, &eol);
		if (unlikely(st != EOL_OK))
			return BAD_REQ(ps,
				       st == EOL_NONE ? "Message ends before the empty line"
						      : "Bare CR or LF in header",
				       st == EOL_NONE ? end : eol);
		if (eol + 2 < end && is_wsp((unsigned char)eol[2])) {
			p = eol + 3; /* folded: the value continues */
			continue;
		}
		break;
	}
	if (unlikely((size_t)(eol - s) > ps->max_hdr_len))
		return fail(ps, -EMSGSIZE, 513, "Header field too long", s);
	*pp = eol + 2;
	value = trim_blank(vs, eol);
	id = lookup_name(name.p, name.len);

	uint8_t flags = hdr_defs[id].flags;

	if (unlikely(flags & H_SINGLE) && ps->m->first[id]) {
		const struct sip_hdr *prev = &ps->m->hdrs[ps->m->first[id] - 1];

		if (!strv_eq(prev->value, value))
			return BAD_REQ(ps, hdr_defs[id].dup_reason, s);
		return 0; /* the same value again: keep the first */
	}
	if (flags & (H_LIST | H_QUOTES))
		return add_list(ps, id, name, value, line, flags & H_LIST);
	return add_hdr(ps, id, name, value, line);
}

/* 1*DIGIT no larger than max. */
static bool parse_uint(struct strv v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!v.len)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (!is_digit((unsigned char)v.p[i]))
			return false;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		if (n > max)
			return false;
	}
	*out = n;
	return true;
}

/* CSeq = 1*DIGIT LWS Method (the value is trimmed; folds inside count as LWS). */
static bool parse_cseq(struct strv v, uint32_t *seq, struct strv *method)
{
	const char *p = v.p, *e = v.p + v.len, *d = p, *ms;
	uint64_t n;

	while (p < e && is_digit((unsigned char)*p))
		p++;
	if (!parse_uint(strv_make(d, (size_t)(p - d)), UINT32_MAX, &n))
		return false;
	ms = p;
	while (p < e && is_blank((unsigned char)*p))
		p++;
	if (p == ms)
		return false;
	ms = p;
	while (p < e && is_token((unsigned char)*p))
		p++;
	if (p == ms || p != e)
		return false;
	*seq = (uint32_t)n;
	*method = strv_make(ms, (size_t)(e - ms));
	return true;
}

/* The checks that need the whole index: mandatory headers and the shortcuts. */
static int check_headers(struct parser *ps)
{
	struct sip_msg *m = ps->m;
	static const struct {
		enum sip_hdr_id id;
		const char *reason;
	} mandatory[] = {
		{ SIP_HDR_TO, "Missing To header" },
		{ SIP_HDR_FROM, "Missing From header" },
		{ SIP_HDR_CALL_ID, "Missing Call-ID header" },
		{ SIP_HDR_CSEQ, "Missing CSeq header" },
		{ SIP_HDR_VIA, "Missing Via header" },
	};
	const struct sip_hdr *h;
	uint64_t n;

	for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++)
		if (unlikely(!m->first[mandatory[i].id]))
			return BAD_REQ(ps, mandatory[i].reason, ps->end);

	h = sip_msg_hdr(m, SIP_HDR_CALL_ID);
	if (unlikely(!h->value.len))
		return BAD_REQ(ps, "Empty Call-ID", h->name.p);
	for (size_t i = 0; i < h->value.len; i++)
		if (unlikely(is_blank((unsigned char)h->value.p[i])))
			return BAD_REQ(ps, "Malformed Call-ID", h->value.p + i);
	m->call_id = h->value;

	h = sip_msg_hdr(m, SIP_HDR_CSEQ);
	if (unlikely(!parse_cseq(h->value, &m->cseq, &m->cseq_method_name)))
		return BAD_REQ(ps, "Malformed CSeq", h->value.p);
	m->cseq_method = sip_method_from_name(m->cseq_method_name);
	if (m->is_request) {
		if (unlikely(!strv_eq(m->cseq_method_name, m->method_name)))
			return BAD_REQ(ps, "CSeq method does not match the request method",
				       h->value.p);
		h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
		if (h && unlikely(!parse_uint(h->value, 255, &n)))
			return BAD_REQ(ps, "Malformed Max-Forwards", h->value.p);
	}
	return 0;
}

static void limits_init(struct parser *ps, const struct sip_limits *lim, size_t *max_msg)
{
	*max_msg = lim && lim->max_msg_size ? lim->max_msg_size : SIP_DEFAULT_MAX_MSG_SIZE;
	ps->max_hdrs = lim && lim->max_headers && lim->max_headers < SIP_MAX_HDRS ? lim->max_headers
										  : SIP_MAX_HDRS;
	ps->max_hdr_len = lim && lim->max_hdr_len ? lim->max_hdr_len : SIP_DEFAULT_MAX_HDR_LEN;
}

int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, const struct sip_limits *lim,
		  struct sip_parse_error *err)
{
	struct sip_parse_error dummy;
	struct parser ps;
	const char *p, *end, *eol;
	size_t max_msg;
	uint16_t line = 0;
	int rc;

	if (!buf) { /* NULL + 0 is undefined behaviour */
		buf = "";
		len = 0;
	}
	p = buf;
	end = buf + len;
	ps.m = m;
	ps.base = buf;
	ps.end = end;
	ps.err = err ? err : &dummy;
	ps.err->status = 0;
	ps.err->reason = NULL;
	ps.err->offset = 0;
	limits_init(&ps, lim, &max_msg);

	m->buf = buf;
	m->len = 0;
	m->is_request = false;
	m->method = SIP_METHOD_OTHER;
	m->method_name = m->ruri = m->reason = m->version = STRV_NULL;
	m->status = 0;
	m->nhdrs = 0;
	memset(m->first, 0, sizeof(m->first));
	m->call_id = m->cseq_method_name = m->body = STRV_NULL;
	m->cseq = 0;
	m->cseq_method = SIP_METHOD_OTHER;

	if (!buf)
		return fail(&ps, -EINVAL, 0, "Empty message", NULL);
	if (unlikely(len > max_msg)) {
		/* the limit is ours: 413 if only the body makes it too large */
		const char *hend = memmem(buf, max_msg, "\r\n\r\n", 4);

		if (hend && !is_sip_slash(buf, end))
			return fail(&ps, -EMSGSIZE, 413, "Request Entity Too Large", buf + max_msg);
		return fail(&ps, -EMSGSIZE, is_sip_slash(buf, end) ? 0 : 513, "Message Too Large",
			    buf + max_msg);
	}

	while (p < end && (*p == '\r' || *p == '\n'))
		p++; /* RFC 3261 §7.5 */
	if (p == end)
		return fail(&ps, -EINVAL, 0, "Empty message", p);
	m->buf = p;
	m->is_request = !is_sip_slash(p, end);

	enum eol_status st = find_eol(p, end, &eol);

	if (unlikely(st != EOL_OK))
		return BAD_REQ(&ps,
			       st == EOL_NONE ? "Message ends in the start line"
					      : "Bare CR or LF in the start line",
			       st == EOL_NONE ? end : eol);
	if (unlikely((size_t)(eol - p) > ps.max_hdr_len)) {
		rc = fail(&ps, -EMSGSIZE, 414, "Request-URI Too Long", p);
		goto out;
	}
	rc = m->is_request ? parse_request_line(&ps, p, eol) : parse_status_line(&ps, p, eol);
	if (rc)
		goto out;

	p = eol + 2;
	for (;;) {
		if (unlikely(p >= end)) {
			rc = BAD_REQ(&ps, "Message ends before the empty line", end);
			goto out;
		}
		if (*p == '\r') {
			if (p + 1 < end && p[1] == '\n')
				break;
			rc = BAD_REQ(&ps,
				     p + 1 < end ? "Bare CR or LF in header"
						 : "Message ends before the empty line",
				     p);
			goto out;
		}
		rc = parse_header(&ps, &p, line);
		if (rc)
			goto out;
		line++;
	}
	p += 2; /* the empty line */

	rc = check_headers(&ps);
	if (rc)
		goto out;

	const struct sip_hdr *cl = sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH);
	size_t avail = (size_t)(end - p);

	m->body = strv_make(p, avail);
	if (cl) {
		uint64_t n;

		if (unlikely(!parse_uint(cl->value, UINT32_MAX, &n))) {
			rc = BAD_REQ(&ps, "Malformed Content-Length", cl->value.p);
			goto out;
		}
		if (unlikely(n > avail)) {
			rc = BAD_REQ(&ps, "Content-Length exceeds the datagram", end);
			goto out;
		}
		m->body.len = (size_t)n; /* RFC 3261 §18.3: the rest is ignored */
	}
	m->len = (size_t)(p - m->buf) + m->body.len;
	return 0;
out:
	if (!m->is_request)
		ps.err->status = 0; /* responses are never answered */
	return rc;
}

/* ---- stream framing ---------------------------------------------------- */

/* The value of a Content-Length header line that starts at name (compact "l" too), or -1. */
static long frame_content_length(const char *p, const char *end, const char **next, bool *is_cl)
{
	const char *s = p, *eol;
	enum eol_status st;

	*is_cl = false;
	while (p < end && is_token((unsigned char)*p))
		p++;
	bool cl = (p - s == 1 && (s[0] | 0x20) == 'l') ||
		  (p - s == 14 && name_eq(s, "content-length", 14));
	const char *vs = p;

	/* the value, with folds */
	for (;;) {
		st = find_eol(p, end, &eol);
		if (st != EOL_OK) {
			*next = end;
			return -1;
		}
		if (eol + 2 < end && is_wsp((unsigned char)eol[2])) {
			p = eol + 3;
			continue;
		}
		break;
	}
	*next = eol + 2;
	if (!cl)
		return 0;
	while (vs < eol && is_wsp((unsigned char)*vs))
		vs++;
	if (vs == eol || *vs != ':')
		return 0; /* not a header after all; parse will say so */
	*is_cl = true;
	uint64_t n;

	if (!parse_uint(trim_blank(vs + 1, eol), UINT32_MAX, &n))
		return -1;
	return (long)n;
}

long sip_msg_frame(const char *buf, size_t len, size_t max)
{
	const char *p, *end, *hend, *q;
	long clen = -1;

	if (!buf || !len)
		return 0;
	p = buf;
	end = buf + len;
	if (*p == '\r' || *p == '\n') {
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		if (p == end && end[-1] == '\r')
			p--; /* maybe the CR of a CRLF whose LF is still to come */
		return (long)(p - buf);
	}
	if (!max || max > (size_t)LONG_MAX)
		max = (size_t)LONG_MAX;
	hend = memmem(buf, len < max ? len : max, "\r\n\r\n", 4);
	if (!hend)
		return len >= max ? -EMSGSIZE : 0;
	/* Content-Length in the header lines (the first line is the start line) */
	q = memchr(buf, '\n', (size_t)(hend - buf) + 2);
	for (q = q ? q + 1 : hend + 2; q < hend + 2;) {
		bool is_cl;
		long v = frame_content_length(q, hend + 2, &q, &is_cl);

		if (!is_cl)
			continue;
		if (v < 0 || (clen >= 0 && v != clen))
			return -EINVAL;
		clen = v;
	}
	if (clen < 0)
		return -EINVAL; /* RFC 3261 §18.3: mandatory on streams */
	size_t total = (size_t)(hend + 4 - buf) + (size_t)clen;

	if (total > max)
		return -EMSGSIZE;
	return total > len ? 0 : (long)total;
}
