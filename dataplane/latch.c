/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Latching against RTP Bleed: see latch.h for the rules. Everything here is a pure function of
 * the latch, the signalled parameters, the packet's source and the clock.
 */
#include "latch.h"

#include <string.h>

enum {
	RANK_STRANGER = 0,
	RANK_SAME_IP = 1,
	RANK_SIGNALLED = 2,
};

/* An address signalling really gave us: set, not 0.0.0.0 / :: (hold, or "unknown"). */
static bool addr_signalled(const struct sa *a)
{
	return sa_isset(a) && !sa_is_any(a);
}

static unsigned latch_rank(const struct latch_params *p, const struct sa *src)
{
	if (addr_signalled(&p->expected)) {
		if (sa_port(&p->expected) != 0 && sa_equal(src, &p->expected))
			return RANK_SIGNALLED;
		if (sa_equal_addr(src, &p->expected))
			return RANK_SAME_IP;
	}
	if (addr_signalled(&p->received_from) && sa_equal_addr(src, &p->received_from))
		return RANK_SAME_IP;
	return RANK_STRANGER;
}

/*
 * A stranger is acceptable only when nothing better can be expected: the SIP source is unknown
 * and the SDP address is private (the endpoint is behind a NAT we cannot predict) or unset.
 */
static bool stranger_allowed(const struct latch_params *p)
{
	if (addr_signalled(&p->received_from))
		return false;
	return !addr_signalled(&p->expected) || sa_is_private(&p->expected);
}

static bool rank_allowed(const struct latch_params *p, unsigned rank)
{
	return rank > RANK_STRANGER || stranger_allowed(p);
}

static bool in_window(const struct latch *l, uint64_t now_ms)
{
	return l->window_open && now_ms <= l->window_end_ms;
}

void latch_addr_from_sa(struct latch_addr *k, const struct sa *sa)
{
	memset(k, 0, sizeof(*k));
	switch (sa_family(sa)) {
	case AF_INET:
		k->addr[0] = sa->u.in.sin_addr.s_addr;
		k->port = sa->u.in.sin_port;
		k->family = AF_INET;
		break;
	case AF_INET6:
		memcpy(k->addr, &sa->u.in6.sin6_addr, sizeof(k->addr));
		k->scope = sa->u.in6.sin6_scope_id;
		k->port = sa->u.in6.sin6_port;
		k->family = AF_INET6;
		break;
	default:
		break;
	}
}

static void latch_learn(struct latch *l, const struct sa *src, unsigned rank, uint32_t ssrc,
			bool has_ssrc)
{
	l->learned = *src;
	latch_addr_from_sa(&l->learned_key, src);
	l->rank = (uint8_t)rank;
	l->relearn = false;
	l->ssrc = has_ssrc ? ssrc : 0;
	l->has_ssrc = has_ssrc;
}

static void latch_forget(struct latch *l)
{
	sa_init(&l->learned);
	memset(&l->learned_key, 0, sizeof(l->learned_key));
	l->rank = RANK_STRANGER;
	l->relearn = false;
	l->ssrc = 0;
	l->has_ssrc = false;
}

void latch_restart(struct latch *l, const struct latch_params *p, uint64_t now_ms)
{
	/* window_ms 0: no window (a side whose SDP is not known yet learns no stranger) */
	l->window_open = p->window_ms != 0;
	l->window_end_ms = now_ms + p->window_ms;
	if (!sa_isset(&l->learned))
		return;
	l->rank = (uint8_t)latch_rank(p, &l->learned);
	/* a stranger learned before this signalling is not vouched for by it (RTP Bleed) */
	if (l->rank == RANK_STRANGER) {
		latch_forget(l);
		return;
	}
	/* new signalling may come with a new NAT mapping: an equal rank may take over, once */
	l->relearn = true;
}

/* Evidence that a new source is the same endpoint: its RTP stream, or the signalled address. */
static bool handover_evidence(const struct latch *l, unsigned rank, uint32_t ssrc, bool has_ssrc)
{
	return rank == RANK_SIGNALLED || (has_ssrc && l->has_ssrc && ssrc == l->ssrc);
}

static enum latch_verdict check_unlatched(struct latch *l, const struct latch_params *p,
					  const struct sa *src, unsigned rank, uint32_t ssrc,
					  bool has_ssrc, uint64_t now_ms)
{
	if (!rank_allowed(p, rank))
		return LATCH_REFUSED;
	/* the window guards against strangers; a source signalling vouches for never expires */
	if (rank == RANK_STRANGER && !in_window(l, now_ms))
		return LATCH_REFUSED;
	latch_learn(l, src, rank, ssrc, has_ssrc);
	return LATCH_LEARNED;
}

static enum latch_verdict check_other_source(struct latch *l, const struct latch_params *p,
					     const struct sa *src, unsigned rank, uint32_t ssrc,
					     bool has_ssrc, uint64_t now_ms)
{
	if (rank > l->rank || (l->relearn && rank >= l->rank && in_window(l, now_ms))) {
		latch_learn(l, src, rank, ssrc, has_ssrc);
		return LATCH_LEARNED;
	}
	switch (p->mode) {
	case LATCH_STRICT:
		return LATCH_REFUSED;
	case LATCH_HANDOVER:
		if (handover_evidence(l, rank, ssrc, has_ssrc)) {
			latch_learn(l, src, rank, ssrc, has_ssrc);
			return LATCH_LEARNED;
		}
		return LATCH_FORWARD;
	case LATCH_DEFAULT:
	default:
		return LATCH_FORWARD;
	}
}

enum latch_verdict latch_check(struct latch *l, const struct latch_params *p, const struct sa *src,
			       uint32_t ssrc, bool has_ssrc, uint64_t now_ms)
{
	unsigned rank = latch_rank(p, src);

	/* it sends from elsewhere than it receives: accepted as learning would, never learned */
	if (p->mode == LATCH_ASYMMETRIC)
		return rank_allowed(p, rank) && (rank > RANK_STRANGER || in_window(l, now_ms))
			   ? LATCH_FORWARD
			   : LATCH_REFUSED;
	if (!sa_isset(&l->learned))
		return check_unlatched(l, p, src, rank, ssrc, has_ssrc, now_ms);
	if (sa_equal(src, &l->learned)) {
		/* a new stream from the same source: remember it for handover */
		if (has_ssrc) {
			l->ssrc = ssrc;
			l->has_ssrc = true;
		}
		return LATCH_FORWARD;
	}
	if (!rank_allowed(p, rank))
		return LATCH_REFUSED;
	return check_other_source(l, p, src, rank, ssrc, has_ssrc, now_ms);
}
