/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sdp.h  SDP (RFC 4566 / RFC 8866) as a media relay reads and rewrites it.
 *
 * sdp_parse() indexes a session description in one pass without copying: every string is a view
 * into the caller's buffer. sdp_rewrite() prints the description again with each media's
 * address and ports replaced by the relay's, everything else as it was, except what the rewrite
 * asks to change (origin address, ICE attributes, rtcp-mux). Offer/answer semantics (RFC 3264)
 * are the caller's: the relay keeps ports stable across re-offers because it passes the same
 * ports again.
 *
 * Hold survives a rewrite: direction attributes are kept, and a connection address of 0.0.0.0
 * (RFC 2543 hold) stays 0.0.0.0. A media with port 0 (rejected) stays port 0.
 *
 * Malformed input is refused with a reason; nothing here can crash on any input (fuzz_sdp).
 */
#ifndef SBC_RTPENGINE_SDP_H
#define SBC_RTPENGINE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"

#define SDP_MAX_MEDIA 16

enum sdp_direction {
	SDP_DIR_UNSET = 0, /**< no attribute: sendrecv, or the session level's */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

struct sdp_media {
	struct strv type;	/**< "audio", "video", "image", ... */
	uint16_t port;		/**< 0: rejected / disabled */
	uint16_t nports;	/**< "m=audio 4000/2": 2; else 1 */
	struct strv proto;	/**< "RTP/AVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVPF", "udptl", ... */
	struct strv fmts;	/**< the format list, as written */
	struct sa conn;		/**< c= of this media, else the session's; port = @ref port */
	bool conn_is_hold;	/**< c= was 0.0.0.0 (or ::), except ICE's port 9 (RFC 8840) */
	uint16_t rtcp_port;	/**< a=rtcp port, else 0 (meaning port + 1) */
	struct sa rtcp_addr;	/**< a=rtcp address when given */
	bool rtcp_mux;		/**< a=rtcp-mux */
	enum sdp_direction dir; /**< this media's direction attribute, or the session's */
	struct strv ice_ufrag, ice_pwd; /**< a=ice-ufrag / a=ice-pwd (media, else session) */
	unsigned ncandidates;		/**< a=candidate lines */
	struct strv text;		/**< the whole section, "m=" to the next "m=" or end */
};

struct sdp {
	struct strv origin_addr; /**< address in o= (the last field) */
	struct sa conn;		 /**< session-level c=, unset when absent */
	enum sdp_direction dir;	 /**< session-level direction attribute */
	unsigned nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/**
 * Parses @p len bytes at @p buf. Lines end in CRLF or LF.
 * @return 0, or -EINVAL with a static reason in *@p why (e.g. "m= line 2: bad port").
 */
int sdp_parse(struct sdp *s, const char *buf, size_t len, const char **why);

enum sdp_ice {
	SDP_ICE_KEEP = 0, /**< leave ICE attributes as they are */
	SDP_ICE_REMOVE,	  /**< drop ice-ufrag/pwd/options/candidate/remote-candidates */
	SDP_ICE_FORCE,	  /**< replace them with the relay's credentials and one host candidate */
};

/** Where one media of the rewritten SDP points: the relay's advertised address and ports. */
struct sdp_media_rewrite {
	struct sa addr;	    /**< advertised relay address; port = RTP port */
	uint16_t rtcp_port; /**< written as a=rtcp when it is not addr's port + 1, or always */
	bool rtcp_mux;	    /**< the relay offers/accepts rtcp-mux on this media */
};

struct sdp_rewrite {
	const struct sdp_media_rewrite *media; /**< one per media of the parsed SDP */
	unsigned nmedia;
	bool replace_origin; /**< o= address -> the first media's relay address */
	enum sdp_ice ice;
	struct strv ice_ufrag, ice_pwd; /**< the relay's, for SDP_ICE_FORCE */
};

/**
 * Prints @p s (parsed from @p buf) with @p rw applied into @p out.
 *
 * Decisions (the full rules head sdp_rewrite.c): each active media gets its own c= with its
 * relay address; a session-level c= becomes the first active media's relay address (kept when
 * it is a hold address); a=rtcp is always written, with rtcp_port, else the RTP port under
 * rtcp_mux, else RTP port + 1; SDP_ICE_FORCE also declares a=ice-lite (the relay answers
 * checks, it never sends any). Rejected media (port 0) are copied verbatim. The output is
 * stable: rewriting it again with the same @p rw gives the same bytes. Not NUL-terminated.
 * An active media's relay address must be set, not 0.0.0.0/::, with a port, and without an
 * IPv6 zone; FORCE credentials must be ice-chars (RFC 8839).
 *
 * @return the length written, -ENOSPC when @p outsize is too small, -EINVAL when @p rw does not
 * match @p s.
 */
int sdp_rewrite(const struct sdp *s, const char *buf, size_t len, const struct sdp_rewrite *rw,
		char *out, size_t outsize);

#endif
