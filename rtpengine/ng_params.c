/* SPDX-License-Identifier: BSD-2-Clause */
#include "ng_params.h"

#include <stdio.h>
#include <string.h>

static char fold(char c)
{
	if (c == ' ' || c == '_')
		return '-';
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

bool ng_word_eq(struct strv s, const char *canon)
{
	size_t n = strlen(canon);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (fold(s.p[i]) != fold(canon[i]))
			return false;
	}
	return true;
}

void ng_params_warn(struct ng_params *p, const char *what, struct strv name)
{
	size_t room = sizeof(p->warning) - p->warning_len;
	int n;

	if (room < 2)
		return;
	if (!name.p)
		n = snprintf(p->warning + p->warning_len, room, "%s%s", p->warning_len ? "; " : "",
			     what);
	else
		n = snprintf(p->warning + p->warning_len, room, "%s%s '%.*s'",
			     p->warning_len ? "; " : "", what, (int)(name.len > 40 ? 40 : name.len),
			     name.p);
	if (n > 0)
		p->warning_len += (size_t)n < room ? (size_t)n : room - 1;
}

struct flag_name {
	const char *name;
	uint32_t bit; /* 0: known, accepted, no effect here */
};

static void warn(struct ng_params *p, const char *what, struct strv name)
{
	ng_params_warn(p, what, name);
}

static const struct flag_name flag_names[] = {
	{ "strict-source", NG_FLAG_STRICT_SOURCE },
	{ "media-handover", NG_FLAG_MEDIA_HANDOVER },
	{ "trust-address", NG_FLAG_TRUST_ADDRESS },
	{ "symmetric", NG_FLAG_SYMMETRIC },
	{ "asymmetric", NG_FLAG_ASYMMETRIC },
	{ "port-latching", NG_FLAG_PORT_LATCHING },
	{ "no-rtcp-attribute", NG_FLAG_NO_RTCP_ATTR },
	{ "full-rtcp-attribute", NG_FLAG_FULL_RTCP_ATTR },
	{ "loop-protect", NG_FLAG_LOOP_PROTECT },
	{ "record-call", NG_FLAG_RECORD_CALL },
	{ "teardown-notify", NG_FLAG_TEARDOWN_NOTIFY },
	{ "fatal", NG_FLAG_FATAL },
	{ "SIP-source-address", NG_FLAG_SIP_SOURCE },
	{ "replace-origin", NG_FLAG_REPLACE_ORIGIN },
	{ "replace-session-connection", NG_FLAG_REPLACE_SESS_CONN },
	{ "unidirectional", 0 },
	{ "reset", 0 },
	{ "all", 0 },
	{ "fragment", 0 },
	{ "original-sendrecv", 0 },
	{ "no-jitter-buffer", 0 },
	{ "generate-mid", 0 },
};

/* Known flags that change nothing here (symmetric is what the relay does anyway). */
#define NG_FLAGS_NO_EFFECT                                                    \
	(NG_FLAG_RECORD_CALL | NG_FLAG_PORT_LATCHING | NG_FLAG_NO_RTCP_ATTR | \
	 NG_FLAG_FULL_RTCP_ATTR | NG_FLAG_LOOP_PROTECT)

static void parse_flag(struct ng_params *p, struct strv f)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (ng_word_eq(f, flag_names[i].name)) {
			p->flags |= flag_names[i].bit;
			/* accepted, but nobody should believe they had an effect */
			if (flag_names[i].bit & NG_FLAGS_NO_EFFECT)
				warn(p, "unsupported flag", f);
			return;
		}
	}
	/* "RTP/AVP" & co. in flags mean the transport protocol (OpenSIPS writes them there) */
	if (f.len > 4 && (memcmp(f.p, "RTP/", 4) == 0 || memcmp(f.p, "UDP/", 4) == 0)) {
		p->transport_protocol = f;
		return;
	}
	warn(p, "unknown flag", f);
}

typedef void(key_h)(struct ng_params *p, const struct bencode_doc *doc,
		    const struct bencode_node *v, struct strv key);

static bool want_str(struct ng_params *p, const struct bencode_node *v, struct strv key,
		     struct strv *out)
{
	if (v->type != BENCODE_STR) {
		warn(p, "invalid value of", key);
		return false;
	}
	*out = v->v.s;
	return true;
}

/* Calls @p each on every string of list @p v; warns about the rest. */
static void each_str(struct ng_params *p, const struct bencode_doc *doc,
		     const struct bencode_node *v, struct strv key,
		     void (*each)(struct ng_params *, struct strv, unsigned))
{
	unsigned i = 0;

	if (v->type != BENCODE_LIST) {
		warn(p, "invalid value of", key);
		return;
	}
	for (const struct bencode_node *e = bencode_first(doc, v); e; e = bencode_next(doc, e)) {
		if (e->type == BENCODE_STR)
			each(p, e->v.s, i++);
		else
			warn(p, "invalid element of", key);
	}
}

#define STR_KEY(field)                                                              \
	static void key_##field(struct ng_params *p, const struct bencode_doc *doc, \
				const struct bencode_node *v, struct strv key)      \
	{                                                                           \
		(void)doc;                                                          \
		want_str(p, v, key, &p->field);                                     \
	}
STR_KEY(command)
STR_KEY(call_id)
STR_KEY(from_tag)
STR_KEY(to_tag)
STR_KEY(via_branch)
STR_KEY(sdp)
STR_KEY(label)
STR_KEY(transport_protocol)

static void flag_each(struct ng_params *p, struct strv s, unsigned i)
{
	(void)i;
	parse_flag(p, s);
}

static void key_flags(struct ng_params *p, const struct bencode_doc *doc,
		      const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, flag_each);
}

static void replace_each(struct ng_params *p, struct strv s, unsigned i)
{
	(void)i;
	if (ng_word_eq(s, "origin"))
		p->flags |= NG_FLAG_REPLACE_ORIGIN;
	else if (ng_word_eq(s, "session-connection"))
		p->flags |= NG_FLAG_REPLACE_SESS_CONN;
	else
		warn(p, "unknown replace", s);
}

static void key_replace(struct ng_params *p, const struct bencode_doc *doc,
			const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, replace_each);
}

static void direction_each(struct ng_params *p, struct strv s, unsigned i)
{
	if (i < 2) {
		p->direction[i] = s;
		p->ndirection = i + 1;
	}
}

static void key_direction(struct ng_params *p, const struct bencode_doc *doc,
			  const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, direction_each);
}

/* ["IP4", "1.2.3.4"]: the address is what counts; the family is implied by it. */
static void received_from_each(struct ng_params *p, struct strv s, unsigned i)
{
	if (i == 1 && sa_parse(&p->received_from, s, 0) < 0)
		warn(p, "invalid received-from address", s);
}

static void key_received_from(struct ng_params *p, const struct bencode_doc *doc,
			      const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, received_from_each);
}

static void key_ice(struct ng_params *p, const struct bencode_doc *doc,
		    const struct bencode_node *v, struct strv key)
{
	struct strv s;

	(void)doc;
	if (!want_str(p, v, key, &s))
		return;
	if (ng_word_eq(s, "force") || ng_word_eq(s, "force-relay"))
		p->ice = NG_ICE_FORCE;
	else if (ng_word_eq(s, "remove"))
		p->ice = NG_ICE_REMOVE;
	else if (!ng_word_eq(s, "default"))
		warn(p, "unknown ICE", s);
}

static void mux_each(struct ng_params *p, struct strv s, unsigned i)
{
	static const struct flag_name mux[] = {
		{ "offer", NG_MUX_OFFER },
		{ "demux", NG_MUX_DEMUX },
		{ "accept", NG_MUX_ACCEPT },
		{ "reject", NG_MUX_REJECT },
	};

	(void)i;
	for (size_t k = 0; k < sizeof(mux) / sizeof(mux[0]); k++) {
		if (ng_word_eq(s, mux[k].name)) {
			p->rtcp_mux |= mux[k].bit;
			return;
		}
	}
	warn(p, "unknown rtcp-mux", s);
}

static void key_rtcp_mux(struct ng_params *p, const struct bencode_doc *doc,
			 const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, mux_each);
}

static void supports_each(struct ng_params *p, struct strv s, unsigned i)
{
	(void)i;
	if (ng_word_eq(s, "load-limit"))
		p->supports_load_limit = true;
}

static void key_supports(struct ng_params *p, const struct bencode_doc *doc,
			 const struct bencode_node *v, struct strv key)
{
	each_str(p, doc, v, key, supports_each);
}

static void key_record_call(struct ng_params *p, const struct bencode_doc *doc,
			    const struct bencode_node *v, struct strv key)
{
	struct strv s;

	(void)doc;
	if (want_str(p, v, key, &s) && ng_word_eq(s, "yes")) {
		p->flags |= NG_FLAG_RECORD_CALL;
		warn(p, "unsupported key", key);
	}
}

/* Seconds, as an integer or a string of digits (Kamailio passes "delete-delay=N" through). */
static void key_delete_delay(struct ng_params *p, const struct bencode_doc *doc,
			     const struct bencode_node *v, struct strv key)
{
	uint64_t n;

	(void)doc;
	if (v->type == BENCODE_INT && v->v.i >= 0 && v->v.i <= NG_DELETE_DELAY_MAX)
		p->delete_delay_s = v->v.i;
	else if (v->type == BENCODE_STR && strv_to_u64(v->v.s, NG_DELETE_DELAY_MAX, &n) == 0)
		p->delete_delay_s = (int64_t)n;
	else
		warn(p, "invalid value of", key);
}

static void key_limit(struct ng_params *p, const struct bencode_doc *doc,
		      const struct bencode_node *v, struct strv key)
{
	uint64_t n;

	(void)doc;
	if (v->type == BENCODE_INT && v->v.i >= 0)
		p->limit = v->v.i;
	else if (v->type == BENCODE_STR && strv_to_u64(v->v.s, INT32_MAX, &n) == 0)
		p->limit = (int64_t)n;
	else
		warn(p, "invalid value of", key);
}

/* Keys understood and deliberately without effect (no warning: the relay does what they ask
 * or what they ask does not apply to a relay without transcoding). */
static void key_accepted(struct ng_params *p, const struct bencode_doc *doc,
			 const struct bencode_node *v, struct strv key)
{
	(void)p;
	(void)doc;
	(void)v;
	(void)key;
}

/* Known, but ignored: said in the warning, as the ng contract wants. */
static void key_unsupported(struct ng_params *p, const struct bencode_doc *doc,
			    const struct bencode_node *v, struct strv key)
{
	(void)doc;
	(void)v;
	warn(p, "unsupported key", key);
}

static const struct {
	const char *name;
	key_h *h;
} keys[] = {
	{ "command", key_command },
	{ "call-id", key_call_id },
	{ "from-tag", key_from_tag },
	{ "to-tag", key_to_tag },
	{ "via-branch", key_via_branch },
	{ "sdp", key_sdp },
	{ "label", key_label },
	{ "transport-protocol", key_transport_protocol },
	{ "flags", key_flags },
	{ "replace", key_replace },
	{ "direction", key_direction },
	{ "received-from", key_received_from },
	{ "ICE", key_ice },
	{ "rtcp-mux", key_rtcp_mux },
	{ "supports", key_supports },
	{ "record-call", key_record_call },
	{ "delete-delay", key_delete_delay },
	{ "limit", key_limit },
	{ "DTLS", key_accepted },
	{ "SDES", key_accepted },
	{ "address-family", key_accepted },
	{ "metadata", key_accepted },
	{ "TOS", key_accepted },
	{ "to-label", key_accepted },
	{ "interface", key_unsupported },
	{ "media-address", key_unsupported },
};

void ng_params_parse(struct ng_params *p, const struct bencode_doc *doc,
		     const struct bencode_node *dict)
{
	memset(p, 0, sizeof(*p));
	p->limit = NG_LIST_DEFAULT_LIMIT;
	p->delete_delay_s = -1;
	for (const struct bencode_node *k = bencode_first(doc, dict); k;) {
		const struct bencode_node *v = bencode_next(doc, k);
		size_t i;

		if (!v)
			break;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (ng_word_eq(k->v.s, keys[i].name)) {
				keys[i].h(p, doc, v, k->v.s);
				break;
			}
		}
		if (i == sizeof(keys) / sizeof(keys[0]))
			warn(p, "unknown key", k->v.s);
		k = bencode_next(doc, v);
	}
}
