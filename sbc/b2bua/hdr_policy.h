/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file hdr_policy.h  Which headers of one leg's message cross to the other leg.
 *
 * Decision per header entry, first match wins:
 *  1. Headers the B2BUA writes itself never cross: Via, From, To, Call-ID,
 *     CSeq, Contact, Route, Record-Route, Max-Forwards, Content-Length,
 *     Content-Type (the body and its type are bridged separately), RSeq, RAck.
 *  2. A header on the deny list is dropped.
 *  3. A header on the allow list crosses ("*" on the allow list: every header
 *     not denied). Supported and Require cross filtered to the option tags the
 *     B2BUA can bridge end to end (timer); an entry left empty is dropped.
 *  4. Everything else is dropped.
 * Names compare in any case; compact forms count as their long names.
 */
#ifndef SBC_B2BUA_HDR_POLICY_H
#define SBC_B2BUA_HDR_POLICY_H

#include <stdbool.h>

#include "../sip/msg.h"
#include "../sip/print.h"

#define B2B_POLICY_MAX_NAMES 64

struct b2b_hdr_policy {
	uint8_t known[SIP_HDR_COUNT]; /**< action per known header id */
	bool allow_all;
	unsigned nnames;
	struct strv names[B2B_POLICY_MAX_NAMES]; /**< other headers, into store */
	uint8_t actions[B2B_POLICY_MAX_NAMES];
	char store[4096];
};

/** The default allow and deny lists (NULL-terminated). */
extern const char *const b2b_hdr_allow_default[];
extern const char *const b2b_hdr_deny_default[];

/**
 * Builds a policy. NULL lists take the defaults; empty lists (n = 0, not NULL) are empty.
 * @return 0, or -EINVAL (a name that is not a token, too many names).
 */
int b2b_hdr_policy_init(struct b2b_hdr_policy *p, const char *const *allow, unsigned nallow,
			const char *const *deny, unsigned ndeny);

/** Whether entry @p h crosses as it is (Supported/Require: after filtering, see copy). */
bool b2b_hdr_policy_pass(const struct b2b_hdr_policy *p, const struct sip_hdr *h);

/** Prints every entry of @p m that crosses, in message order, with canonical names. */
void b2b_hdr_policy_copy(const struct b2b_hdr_policy *p, struct sip_pbuf *b,
			 const struct sip_msg *m);

#endif
