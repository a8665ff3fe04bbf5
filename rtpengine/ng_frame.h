/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng_frame.h  Cutting ng commands out of a byte stream (ng over TCP).
 *
 * On a stream, as in Sipwise rtpengine's TCP ng listener, a command is "<cookie> <value>"
 * with nothing around it: the cookie ends at the first space and the bencode value that
 * follows delimits itself (its own length). Several commands may follow each other in one
 * segment, and one command may be split over several. We also skip whitespace between
 * commands (a client that ends each with a newline still works).
 */
#ifndef SBC_RTPENGINE_NG_FRAME_H
#define SBC_RTPENGINE_NG_FRAME_H

#include <stddef.h>

#include "common/bencode.h"

/** Longest cookie accepted: clients send a few dozen bytes. */
#define NG_FRAME_MAX_COOKIE 256

struct ng_frame {
	size_t skip;	   /**< whitespace before the command, to be dropped */
	size_t len;	   /**< the command after @ref skip, cookie to the value's end */
	size_t cookie_len; /**< the cookie's length, 0 if none was found */
};

/**
 * Finds the first command in @p buf. @p doc is scratch for the decoder; its capacity
 * limits the nodes of a command, as for a datagram.
 * @return 1 (a command: @p f has skip and len), 0 (incomplete: read more; f->skip
 *         bytes may be dropped), -EINVAL (no command can start here: no cookie, or not
 *         bencode), or -EMSGSIZE (longer than @p max_len or too many nodes). On failure
 *         f->cookie_len says whether an error reply can be addressed.
 */
int ng_frame_next(struct ng_frame *f, const char *buf, size_t len, size_t max_len,
		  struct bencode_doc *doc);

#endif
