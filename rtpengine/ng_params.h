/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng_params.h  The keys and flags of an ng command, as Kamailio, OpenSIPS and sbc send them.
 *
 * Multi-word keys and flags are matched in any of their spellings: "strict source",
 * "strict-source", "strict_source", any case. Keys and flags that the relay does not know are
 * ignored and named in @ref ng_params.warning, which the reply carries as `warning`; a known key
 * with a value of the wrong type is ignored the same way. Every string is a view into the
 * request datagram.
 */
#ifndef SBC_RTPENGINE_NG_PARAMS_H
#define SBC_RTPENGINE_NG_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bencode.h"
#include "common/sa.h"
#include "common/str.h"

enum ng_ice {
	NG_ICE_DEFAULT = 0, /**< no ICE key: candidates removed */
	NG_ICE_REMOVE,
	NG_ICE_FORCE, /**< relay credentials and candidate: STUN answered on relay ports */
};

/** `rtcp-mux` list members. */
enum {
	NG_MUX_OFFER = 1u << 0,
	NG_MUX_DEMUX = 1u << 1,
	NG_MUX_ACCEPT = 1u << 2,
	NG_MUX_REJECT = 1u << 3,
};

/** `flags` list members the relay acts on (others it knows are accepted silently). */
enum {
	NG_FLAG_STRICT_SOURCE = 1u << 0,
	NG_FLAG_MEDIA_HANDOVER = 1u << 1,
	NG_FLAG_TRUST_ADDRESS = 1u << 2,
	NG_FLAG_SYMMETRIC = 1u << 3,
	NG_FLAG_ASYMMETRIC = 1u << 4,
	NG_FLAG_PORT_LATCHING = 1u << 5,
	NG_FLAG_NO_RTCP_ATTR = 1u << 6,
	NG_FLAG_FULL_RTCP_ATTR = 1u << 7,
	NG_FLAG_LOOP_PROTECT = 1u << 8,
	NG_FLAG_RECORD_CALL = 1u << 9,
	NG_FLAG_TEARDOWN_NOTIFY = 1u << 10, /**< our extension, see ng.h */
	NG_FLAG_SIP_SOURCE = 1u << 11,
	NG_FLAG_REPLACE_ORIGIN = 1u << 12,
	NG_FLAG_REPLACE_SESS_CONN = 1u << 13,
	NG_FLAG_FATAL = 1u << 14, /**< delete: an unknown call is an error, not a warning */
};

#define NG_WARNING_MAX 400
/** Call-ids a `list` without `limit` returns (Sipwise's default). */
#define NG_LIST_DEFAULT_LIMIT 32
/** Largest `delete-delay` in seconds (a day: a call kept longer is a leak). */
#define NG_DELETE_DELAY_MAX 86400

struct ng_params {
	struct strv command, call_id, from_tag, to_tag, via_branch, sdp, label;
	struct strv transport_protocol;
	struct strv direction[2];
	unsigned ndirection;
	struct sa received_from; /**< unset when absent or unparsable */
	enum ng_ice ice;
	unsigned rtcp_mux; /**< NG_MUX_* */
	uint32_t flags;	   /**< NG_FLAG_* */
	bool supports_load_limit;
	int64_t delete_delay_s; /**< `delete-delay` of `delete`; -1 when absent */
	int64_t limit;		/**< `limit` of `list`; NG_LIST_DEFAULT_LIMIT when absent */
	char warning[NG_WARNING_MAX];
	size_t warning_len;
};

/** Spelling-tolerant comparison: case, and ' ', '-', '_' as one. */
bool ng_word_eq(struct strv s, const char *canon);

/** Appends "@p what '@p name'" (just @p what when name.p is NULL) to the warning (the name cut to
 * 40 bytes; the whole warning to NG_WARNING_MAX). */
void ng_params_warn(struct ng_params *p, const char *what, struct strv name);

/** Reads the dict @p dict of @p doc into @p p. Never fails: what it cannot use is a warning. */
void ng_params_parse(struct ng_params *p, const struct bencode_doc *doc,
		     const struct bencode_node *dict);

#endif
