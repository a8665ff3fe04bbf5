/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forks: one offer, several early dialogues behind it (SIP forking behind the relay).
 *
 * The caller A keeps one set of ports whatever happens behind it: its SDP answer always carries
 * them. Its callee side is one monologue per fork (per to-tag), each with A as its peer, and A's
 * peer is the active fork: the one A's media go to (the latest answered, until it is deleted).
 * Every fork's media reach A.
 *
 * Which ports a fork has depends on what it was sent:
 *  - an offer per branch (the proxy forked before asking the relay, Sipwise's `via-branch`):
 *    each via-branch is its own offer, its own monologue and ports, written into that branch's
 *    SDP; the answer with the same via-branch (or the to-tag the branch got) finds it;
 *  - one offer, several answers with different to-tags (forked after the relay): every fork was
 *    sent the same ports, so the monologues of that offer (same offer_id) share them. Exactly
 *    one holds the flows; the others have `ports_lent`. The flows go to the fork that signalled
 *    last (its answer, or its own offer: an UPDATE in its early dialogue): they take its SDP
 *    (latching, expected address) and come back when it is deleted. A lent fork never opens
 *    ports of its own: the endpoint behind it was sent its offer's.
 *
 * A delete naming a fork (its to-tag, or the via-branch of its offer: a branch's 487) frees
 * that fork's ports (shared ones go to the fork of the same offer that is left) and leaves the
 * call alone; if it was the active fork, another one (the latest answered) becomes it. As
 * Sipwise does, the call ends with a delete by from-tag alone, with one naming the offerer
 * (the callee's BYE: tags swapped), or with the end of its last fork: a caller's BYE naming
 * the winner while losing forks were never deleted leaves them until their timeout. Sipwise
 * does the same: its offer associates every branch's monologue (tagged or not) with the
 * caller's, and a delete naming one ends the call only when no association is left
 * (call_delete_branch, monologue_delete_iter).
 */
#include "call_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* How many monologues have @p a as their peer: 2 or more are forks. */
static unsigned fork_count(const struct call *call, const struct monologue *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < call->nmono; i++)
		n += call->mono[i]->peer == a;
	return n;
}

/* Whether @p m is one of several forks behind its peer. */
static bool fork_is(const struct call *call, const struct monologue *m)
{
	return m->peer && m->offer_id && fork_count(call, m->peer) >= 2;
}

static bool same_branch(const struct monologue *m, struct strv vb)
{
	return m->via_branch && strv_eq_cstr(vb, m->via_branch);
}

/* The fork of @p a offered with via-branch @p vb: the one holding that offer's ports. */
struct monologue *fork_by_branch(struct call *call, const struct monologue *a, struct strv vb)
{
	struct monologue *found = NULL;

	for (unsigned i = 0; i < call->nmono; i++) {
		struct monologue *m = call->mono[i];

		if (m->peer != a || !same_branch(m, vb))
			continue;
		if (!m->ports_lent)
			return m;
		found = m;
	}
	return found;
}

static bool same_offer(const struct monologue *x, const struct monologue *m)
{
	return x != m && m->offer_id && x->offer_id == m->offer_id;
}

/* The monologue holding the ports of @p m's offer (@p m itself unless they are lent). */
static struct monologue *fork_holder(struct call *call, const struct monologue *m)
{
	for (unsigned i = 0; m->ports_lent && i < call->nmono; i++) {
		if (same_offer(call->mono[i], m) && !call->mono[i]->ports_lent)
			return call->mono[i];
	}
	return (struct monologue *)m;
}

/* Moves the ports (and their flows) of @p from to @p to, which then holds them. */
static int ports_move(struct calls *c, const struct call *call, struct monologue *from,
		      struct monologue *to)
{
	int rc = mono_reserve(to, from->nmedia);

	if (rc)
		return rc;
	/* one monologue of an offer holds its flows: any @p to has would be lost, never closed */
	for (unsigned i = 0; i < to->nmedia; i++) {
		struct media *t = &to->media[i];

		if (!t->rtp.port && !t->rtp.flow && !t->rtcp.flow)
			continue;
		log_warn("call %s: fork %s held port %u while lent: closed", call->id,
			 to->tag ? to->tag : "-", t->rtp.port);
		media_close(c, to, t);
	}
	for (unsigned i = 0; i < from->nmedia; i++) {
		struct media *f = &from->media[i], *t = &to->media[i];

		memcpy(t->type, f->type, sizeof(t->type));
		memcpy(t->proto, f->proto, sizeof(t->proto));
		t->rtp.port = f->rtp.port;
		t->rtp.flow = f->rtp.flow;
		t->rtcp.port = f->rtcp.port;
		t->rtcp.flow = f->rtcp.flow;
		t->demuxing = f->demuxing;
		f->rtp.port = f->rtcp.port = 0;
		f->rtp.flow = f->rtcp.flow = 0;
		f->demuxing = false;
	}
	from->ports_lent = true;
	to->ports_lent = false;
	/* the flows now latch and answer STUN for @p to's endpoint */
	mono_refresh_flows(c, call, to);
	return 0;
}

/* Gives @p m the ports of its offer if another fork of that offer holds them. */
int fork_take_ports(struct calls *c, struct call *call, struct monologue *m)
{
	struct monologue *h = fork_holder(call, m);

	if (h == m) {
		m->ports_lent = false;
		return 0;
	}
	return ports_move(c, call, h, m);
}

/* A new early dialogue (@p tag) behind the offer of @p base: it shares base's ports and saw
 * base's ICE credentials in that offer. */
static struct monologue *fork_create(struct calls *c, struct call *call, struct monologue *a,
				     const struct monologue *base, struct strv tag, uint64_t now_ms)
{
	struct monologue *m = mono_create(call, tag, base->iface, now_ms);

	if (!m)
		return NULL;
	if (base->via_branch && !(m->via_branch = strdup(base->via_branch))) {
		mono_destroy(c, call, m);
		return NULL;
	}
	m->offer_id = base->offer_id;
	m->ports_lent = true;
	m->ice = base->ice;
	memcpy(m->ice_ufrag, base->ice_ufrag, sizeof(m->ice_ufrag));
	memcpy(m->ice_pwd, base->ice_pwd, sizeof(m->ice_pwd));
	m->peer = a;
	return m;
}

/*
 * The fork an answer to @p a comes from: the one its to-tag names, else the one its
 * via-branch names, else A's peer. One that is tagged already with another to-tag means a new
 * early dialogue behind that offer: NULL with *@p basep set.
 */
static struct monologue *answer_find(struct call *call, struct monologue *a,
				     const struct ng_params *p, struct monologue **basep)
{
	struct monologue *m = p->to_tag.len ? call_find_tag(call, p->to_tag) : NULL;

	*basep = NULL;
	if (m)
		return m;
	m = p->via_branch.len ? fork_by_branch(call, a, p->via_branch) : NULL;
	if (!m)
		m = a->peer;
	if (!m->tag || !p->to_tag.len)
		return m;
	*basep = m;
	return NULL;
}

/*
 * The answerer of an answer to @p a, checked against the answer's @p nmedia before anything
 * changes; a new early dialogue is created (@p created) only once the answer is acceptable.
 */
int fork_answerer(struct calls *c, struct call *call, struct monologue *a,
		  const struct ng_params *p, unsigned nmedia, uint64_t now_ms,
		  struct monologue **bp, bool *created, const char **why)
{
	struct monologue *base, *b = answer_find(call, a, p, &base);
	const struct monologue *ports;

	*created = false;
	if (b == a) {
		*why = "from-tag and to-tag are the same";
		return -EINVAL;
	}
	if (b && b->peer != a && a->peer != b) {
		*why = "Unknown tag";
		return -ENOENT;
	}
	ports = fork_holder(call, b ? b : base);
	if (nmedia > a->nmedia || nmedia > ports->nmedia) {
		*why = "Answer has more media than the offer";
		return -EINVAL;
	}
	if (!b) {
		if (!(b = fork_create(c, call, a, base, p->to_tag, now_ms))) {
			*why = "Too many tags in call";
			return -ENOSPC;
		}
		*created = true;
	}
	*bp = b;
	return 0;
}

/* Whether fork @p m signalled after @p best: its answer (or offer) was taken later, else,
 * neither having answered, it was offered later. */
static bool fork_later(const struct monologue *m, const struct monologue *best)
{
	if (m->sdp_seq != best->sdp_seq)
		return m->sdp_seq > best->sdp_seq;
	return m->offer_id > best->offer_id;
}

/* The fork that becomes @p a's peer when its peer went: the latest that answered, else the
 * latest offered (not the table's order: mono_destroy moves monologues). */
static struct monologue *fork_pick(struct call *call, const struct monologue *a)
{
	struct monologue *best = NULL;

	for (unsigned i = 0; i < call->nmono; i++) {
		struct monologue *m = call->mono[i];

		if (m->peer == a && (!best || fork_later(m, best)))
			best = m;
	}
	return best;
}

/* A fork of its offer that lacks ports, to inherit @p m's. */
static struct monologue *fork_heir(struct call *call, const struct monologue *m)
{
	for (unsigned i = 0; !m->ports_lent && i < call->nmono; i++) {
		if (same_offer(call->mono[i], m) && call->mono[i]->ports_lent)
			return call->mono[i];
	}
	return NULL;
}

/* @p a lost its peer: the fork @p next (else the best left) gets A's media. */
static void fork_repeer(struct calls *c, struct call *call, struct monologue *a,
			struct monologue *next)
{
	if (!next)
		next = fork_pick(call, a);
	a->peer = next;
	if (!next || (next->ports_lent && fork_take_ports(c, call, next) < 0))
		return;
	if (call->answered)
		mono_link(c, a, next);
}

void fork_delete(struct calls *c, struct call *call, struct monologue *m)
{
	struct monologue *a = m->peer, *heir = fork_heir(call, m);
	bool active = a && a->peer == m;

	/* shared ports stay with the fork that was sent them too (else they are freed) */
	if (heir && ports_move(c, call, m, heir) < 0)
		heir = NULL;
	if (heir && a)
		mono_link(c, heir, a); /* as its SDP has it (rtcp-mux) */
	mono_destroy(c, call, m);
	if (active)
		fork_repeer(c, call, a, heir);
}

/* Destroys every monologue whose peer is @p a and, when @p vb is given, whose via-branch it
 * is. */
static void forks_destroy(struct calls *c, struct call *call, const struct monologue *a,
			  struct strv vb)
{
	for (unsigned i = 0; i < call->nmono;) {
		struct monologue *m = call->mono[i];

		if (m->peer == a && (!vb.len || same_branch(m, vb)))
			mono_destroy(c, call, m); /* moves the last monologue to i */
		else
			i++;
	}
}

bool fork_end_via_branch(struct calls *c, struct call *call, struct monologue *a, struct strv vb)
{
	unsigned others = 0;
	bool active;

	if (!fork_by_branch(call, a, vb))
		return false;
	for (unsigned i = 0; i < call->nmono; i++)
		others += call->mono[i]->peer == a && !same_branch(call->mono[i], vb);
	if (!others)
		return false; /* the last branch: the call ends */
	active = a->peer && same_branch(a->peer, vb);
	forks_destroy(c, call, a, vb);
	if (active)
		fork_repeer(c, call, a, NULL);
	return true;
}

bool fork_end_tag(struct calls *c, struct call *call, struct monologue *m)
{
	unsigned forks;

	if (fork_is(call, m)) {
		fork_delete(c, call, m);
		return true;
	}
	/* m's dialogue ends: with its forks if it is an offerer with several */
	forks = fork_count(call, m);
	if (forks < 2)
		forks = 0;
	if (call->nmono <= 2 || 1 + forks >= call->nmono)
		return false;
	if (forks)
		forks_destroy(c, call, m, strv_make(NULL, 0));
	mono_destroy(c, call, m);
	return true;
}
