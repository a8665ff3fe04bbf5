/* SPDX-License-Identifier: BSD-2-Clause */
#include "hdr_policy.h"

#include <errno.h>
#include <string.h>

#include "sip/hdr.h"

enum { ACT_DROP = 0, ACT_PASS, ACT_FILTER, ACT_NEVER };

const char *const b2b_hdr_allow_default[] = {
	"Accept",
	"Accept-Encoding",
	"Accept-Language",
	"Allow",
	"Allow-Events",
	"Authorization",
	"Content-Disposition",
	"Content-Encoding",
	"Content-Language",
	"Date",
	"Event",
	"Expires",
	"Info-Package",
	"Min-Expires",
	"Min-SE",
	"Priority",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Reason",
	"Recv-Info",
	"Require",
	"Retry-After",
	"Session-Expires",
	"Subject",
	"Supported",
	"Unsupported",
	"WWW-Authenticate",
	NULL,
};

const char *const b2b_hdr_deny_default[] = {
	"User-Agent",
	"Server",
	"Organization",
	"Warning",
	"Call-Info",
	"Alert-Info",
	"Error-Info",
	"Reply-To",
	"In-Reply-To",
	"Refer-To",
	"Referred-By",
	"Path",
	"Service-Route",
	"P-Asserted-Identity",
	"P-Preferred-Identity",
	"Remote-Party-ID",
	"Diversion",
	"History-Info",
	"P-Charging-Vector",
	NULL,
};

static const enum sip_hdr_id never[] = {
	SIP_HDR_VIA,	      SIP_HDR_FROM,	      SIP_HDR_TO,	    SIP_HDR_CALL_ID,
	SIP_HDR_CSEQ,	      SIP_HDR_CONTACT,	      SIP_HDR_ROUTE,	    SIP_HDR_RECORD_ROUTE,
	SIP_HDR_MAX_FORWARDS, SIP_HDR_CONTENT_LENGTH, SIP_HDR_CONTENT_TYPE, SIP_HDR_RSEQ,
	SIP_HDR_RACK,
};

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("-.!%*_+`'~", *s) &&
		    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static int set_action(struct b2b_hdr_policy *p, const char *name, uint8_t act, size_t *used)
{
	struct strv n = strv_cstr(name);
	enum sip_hdr_id id;
	size_t len;

	if (act == ACT_PASS && strcmp(name, "*") == 0) {
		p->allow_all = true;
		return 0;
	}
	if (!is_token(name))
		return -EINVAL;
	id = sip_hdr_id_from_name(n);
	if (id != SIP_HDR_OTHER) {
		if (p->known[id] == ACT_NEVER)
			return 0;
		if (act == ACT_PASS &&
		    (id == SIP_HDR_SUPPORTED || id == SIP_HDR_REQUIRE || id == SIP_HDR_UNSUPPORTED))
			act = ACT_FILTER;
		p->known[id] = act;
		return 0;
	}
	for (unsigned i = 0; i < p->nnames; i++) {
		if (strv_caseeq(p->names[i], n)) {
			p->actions[i] = act;
			return 0;
		}
	}
	len = n.len;
	if (p->nnames == B2B_POLICY_MAX_NAMES || *used + len > sizeof(p->store))
		return -EINVAL;
	memcpy(p->store + *used, name, len);
	p->names[p->nnames] = strv_make(p->store + *used, len);
	p->actions[p->nnames++] = act;
	*used += len;
	return 0;
}

static unsigned count(const char *const *list)
{
	unsigned n = 0;

	while (list[n])
		n++;
	return n;
}

int b2b_hdr_policy_init(struct b2b_hdr_policy *p, const char *const *allow, unsigned nallow,
			const char *const *deny, unsigned ndeny)
{
	size_t used = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		p->known[never[i]] = ACT_NEVER;
	if (!allow) {
		allow = b2b_hdr_allow_default;
		nallow = count(allow);
	}
	if (!deny) {
		deny = b2b_hdr_deny_default;
		ndeny = count(deny);
	}
	for (unsigned i = 0; i < nallow; i++)
		if ((rc = set_action(p, allow[i], ACT_PASS, &used)) < 0)
			return rc;
	/* Deny after allow: a name on both lists is denied. */
	for (unsigned i = 0; i < ndeny; i++)
		if ((rc = set_action(p, deny[i], ACT_NEVER, &used)) < 0)
			return rc;
	return 0;
}

static uint8_t action(const struct b2b_hdr_policy *p, const struct sip_hdr *h)
{
	uint8_t act = ACT_DROP;

	if (h->id != SIP_HDR_OTHER) {
		act = p->known[h->id];
	} else {
		for (unsigned i = 0; i < p->nnames; i++)
			if (strv_caseeq(p->names[i], h->name)) {
				act = p->actions[i];
				break;
			}
	}
	if (act == ACT_DROP && p->allow_all)
		act = (h->id == SIP_HDR_SUPPORTED || h->id == SIP_HDR_REQUIRE) ? ACT_FILTER
									       : ACT_PASS;
	return act;
}

/* Option tags bridged end to end. */
static bool tag_ok(struct strv v)
{
	return sip_option_tag_eq(v, STRV("timer"));
}

bool b2b_hdr_policy_pass(const struct b2b_hdr_policy *p, const struct sip_hdr *h)
{
	uint8_t act = action(p, h);

	return act == ACT_PASS || (act == ACT_FILTER && tag_ok(h->value));
}

void b2b_hdr_policy_copy(const struct b2b_hdr_policy *p, struct sip_pbuf *b,
			 const struct sip_msg *m)
{
	for (uint16_t i = 0; i < m->nhdrs; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		uint8_t act = action(p, h);

		if (act == ACT_PASS)
			sip_print_copy(b, h, SIP_PRINT_NAME_CANONICAL);
		else if (act == ACT_FILTER && tag_ok(h->value))
			sip_print_hdr(b, h->id, STRV("timer"));
	}
}
