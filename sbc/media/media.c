/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A record's life (see media.h):
 *
 *   hook (first SDP) --> IDLE <--reply-- BUSY (req != NULL, op != NULL)
 *                         |                 | cancel_h: op = NULL (detached, req kept)
 *                         | end_h           | end_h:    call = NULL, waits for the reply
 *                         v                 v
 *                 delete if pinned, freed  reply: delete if pinned, freed
 *
 * Invariants: a record is in `calls` while its call lives (call != NULL), in
 * `ops` while a B2BUA operation waits on it (op != NULL), and on `all` until
 * freed. b2bua_media_done() may end the call and re-enter the hooks (end_h,
 * or media_h for the next queued SDP of the same call), so the reply handler
 * clears the record's request and operation first and never touches the
 * record after it.
 */
#include "media.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "../b2bua/b2bua.h"
#include "ng_client.h"

#define MEDIA_CALLID_MAX 128

struct media_call {
	struct media_call *next_call, *next_op; /* hash chains */
	struct media_call *next_id;		/* chain of `ids`, while the call lives */
	struct media_call *all_next, **all_pprev;
	struct media *m;
	struct b2bua_call *call;   /* NULL once the call ended */
	struct b2bua_media_op *op; /* the operation waiting, NULL when detached or idle */
	struct ng_req *req;	   /* in flight, or NULL */
	enum ng_command cmd;
	int node; /* NG_NODE_ANY until an offer is taken */
	char call_id[MEDIA_CALLID_MAX];
};

/* Chained hash by pointer; `by_op` picks the key and the chain link. */
struct ptab {
	struct media_call **b;
	size_t mask, n;
	bool by_op;
};

/* Live calls by call-id, for the node's teardown notifications. */
struct idtab {
	struct media_call **b;
	size_t mask, n;
};

struct media {
	struct media_conf conf;
	struct ng_client *ng;
	/* the configured flags, then "teardown-notify" (offers only) */
	struct strv flags[MEDIA_MAX_FLAGS + 1], replace[MEDIA_MAX_FLAGS];
	struct ptab calls, ops;
	struct idtab ids;
	struct media_call *all;
	struct media_stats stats;
};

/* --- pointer tables ------------------------------------------------------ */

static struct media_call **ptab_link(const struct ptab *t, struct media_call *r)
{
	return t->by_op ? &r->next_op : &r->next_call;
}

static const void *ptab_key(const struct ptab *t, const struct media_call *r)
{
	return t->by_op ? (const void *)r->op : (const void *)r->call;
}

static size_t ptab_slot(const struct ptab *t, const void *key)
{
	uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 32) & t->mask;
}

static int ptab_init(struct ptab *t, bool by_op)
{
	t->b = calloc(64, sizeof(*t->b));
	t->mask = 63;
	t->n = 0;
	t->by_op = by_op;
	return t->b ? 0 : -ENOMEM;
}

/* Doubles the buckets once the load passes 1; a failed growth keeps the old table. */
static void ptab_grow(struct ptab *t)
{
	size_t size = (t->mask + 1) * 2;
	struct media_call **nb = calloc(size, sizeof(*nb));
	struct ptab nt = { .b = nb, .mask = size - 1, .by_op = t->by_op };

	if (!nb)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct media_call *r = t->b[i], *next;

		for (; r; r = next) {
			size_t s = ptab_slot(&nt, ptab_key(t, r));

			next = *ptab_link(t, r);
			*ptab_link(t, r) = nb[s];
			nb[s] = r;
		}
	}
	free(t->b);
	t->b = nb;
	t->mask = size - 1;
}

static void ptab_insert(struct ptab *t, struct media_call *r)
{
	size_t s;

	if (t->n > t->mask)
		ptab_grow(t);
	s = ptab_slot(t, ptab_key(t, r));
	*ptab_link(t, r) = t->b[s];
	t->b[s] = r;
	t->n++;
}

static struct media_call *ptab_find(const struct ptab *t, const void *key)
{
	struct media_call *r = t->b[ptab_slot(t, key)];

	while (r && ptab_key(t, r) != key)
		r = *ptab_link(t, r);
	return r;
}

static void ptab_remove(struct ptab *t, struct media_call *r)
{
	struct media_call **pp = &t->b[ptab_slot(t, ptab_key(t, r))];

	while (*pp && *pp != r)
		pp = ptab_link(t, *pp);
	if (*pp) {
		*pp = *ptab_link(t, r);
		t->n--;
	}
}

/* --- the call-id table ---------------------------------------------------- */

static size_t idtab_slot(const struct idtab *t, struct strv id)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < id.len; i++)
		h = (h ^ (unsigned char)id.p[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ h >> 32) & t->mask;
}

/* Doubles the buckets once the load passes 1; a failed growth keeps the old table. */
static void idtab_insert(struct idtab *t, struct media_call *r)
{
	size_t s;

	if (t->n > t->mask) {
		size_t size = (t->mask + 1) * 2;
		struct media_call **nb = calloc(size, sizeof(*nb));

		if (nb) {
			struct idtab nt = { .b = nb, .mask = size - 1 };

			for (size_t i = 0; i <= t->mask; i++) {
				struct media_call *x = t->b[i], *next;

				for (; x; x = next) {
					next = x->next_id;
					s = idtab_slot(&nt, strv_cstr(x->call_id));
					x->next_id = nb[s];
					nb[s] = x;
				}
			}
			free(t->b);
			t->b = nb;
			t->mask = size - 1;
		}
	}
	s = idtab_slot(t, strv_cstr(r->call_id));
	r->next_id = t->b[s];
	t->b[s] = r;
	t->n++;
}

static struct media_call *idtab_find(const struct idtab *t, struct strv id)
{
	struct media_call *r = t->b[idtab_slot(t, id)];

	while (r && !strv_eq(strv_cstr(r->call_id), id))
		r = r->next_id;
	return r;
}

static void idtab_remove(struct idtab *t, struct media_call *r)
{
	struct media_call **pp = &t->b[idtab_slot(t, strv_cstr(r->call_id))];

	while (*pp && *pp != r)
		pp = &(*pp)->next_id;
	if (*pp) {
		*pp = r->next_id;
		t->n--;
	}
}

/* --- records ------------------------------------------------------------- */

static struct media_call *record_new(struct media *m, struct b2bua_call *call)
{
	struct strv id = b2bua_call_callid(call, B2BUA_SIDE_B);
	struct media_call *r;

	if (!id.len || id.len >= MEDIA_CALLID_MAX || !(r = calloc(1, sizeof(*r))))
		return NULL;
	memcpy(r->call_id, id.p, id.len);
	r->m = m;
	r->call = call;
	r->node = NG_NODE_ANY;
	r->all_next = m->all;
	if (m->all)
		m->all->all_pprev = &r->all_next;
	r->all_pprev = &m->all;
	m->all = r;
	ptab_insert(&m->calls, r);
	idtab_insert(&m->ids, r);
	m->stats.calls++;
	return r;
}

static void record_free(struct media_call *r)
{
	struct media *m = r->m;

	if (r->call) {
		ptab_remove(&m->calls, r);
		idtab_remove(&m->ids, r);
	}
	if (r->op)
		ptab_remove(&m->ops, r);
	if (r->req)
		ng_client_cancel(m->ng, r->req);
	if (r->all_next)
		r->all_next->all_pprev = r->all_pprev;
	*r->all_pprev = r->all_next;
	m->stats.calls--;
	free(r);
}

static void on_delete(void *arg, int err, const struct bencode_doc *reply,
		      const struct bencode_node *dict)
{
	struct media *m = arg;
	struct ng_reply nr;

	if (err == 0)
		return;
	m->stats.delete_failed++;
	if (err == -EPROTO && reply && ng_reply_parse(reply, dict, &nr) == 0)
		log_info("media: delete refused: %.*s", (int)nr.error_reason.len,
			 nr.error_reason.p);
	else
		log_notice("media: delete failed: %s", strerror(-err));
}

/* The call is over: its session goes, on the node that holds it; the record too. */
static void record_finish(struct media_call *r)
{
	struct media *m = r->m;

	if (r->node >= 0) {
		struct ng_cmd cmd = {
			.command = NG_CMD_DELETE,
			.call_id = strv_cstr(r->call_id),
		};
		int rc = ng_client_request(m->ng, &cmd, r->node, on_delete, m, NULL);

		m->stats.deletes++;
		if (rc < 0) {
			m->stats.delete_failed++;
			log_warn("media: cannot delete call %s: %s", r->call_id, strerror(-rc));
		}
	}
	record_free(r);
}

/* --- the B2BUA's hooks ---------------------------------------------------- */

static const char *const side_tag[2] = { "a", "b" };

static void on_reply(void *arg, int err, const struct bencode_doc *reply,
		     const struct bencode_node *dict)
{
	struct media_call *r = arg;
	struct media *m = r->m;
	struct b2bua_media_op *op = r->op;
	struct ng_reply nr = { 0 };
	int node = ng_client_cb_node(m->ng);

	r->req = NULL;
	if (reply && ng_reply_parse(reply, dict, &nr) < 0)
		memset(&nr, 0, sizeof(nr));
	if (err == 0 && !nr.sdp.len)
		err = -EPROTO;
	if (err == 0 && r->cmd == NG_CMD_OFFER && r->node < 0)
		r->node = node; /* affinity: the rest of the call goes there */
	if (op) {
		ptab_remove(&m->ops, r);
		r->op = NULL;
	}
	if (!r->call) { /* ended while this was in flight */
		record_finish(r);
		return;
	}
	if (!op)
		return; /* detached: the B2BUA no longer waits */
	if (err == 0) {
		m->stats.ok++;
		b2bua_media_done(op, 0, nr.sdp);
		return; /* r may be gone */
	}
	m->stats.failed++;
	if (nr.error_reason.len)
		log_notice("media: call %s: %s refused by node %d: %.*s", r->call_id,
			   r->cmd == NG_CMD_OFFER ? "offer" : "answer", node,
			   (int)nr.error_reason.len, nr.error_reason.p);
	else
		log_notice("media: call %s: %s failed on node %d: %s", r->call_id,
			   r->cmd == NG_CMD_OFFER ? "offer" : "answer", node, strerror(-err));
	b2bua_call_set_fail_status(r->call, 503);
	b2bua_media_done(op, err, STRV_NULL);
}

static int hook_media(void *arg, struct b2bua_call *call, enum b2bua_side from,
		      enum b2bua_sdp_kind kind, struct strv sdp, struct b2bua_media_op *op)
{
	struct media *m = arg;
	struct media_call *r = ptab_find(&m->calls, call);
	enum b2bua_side offerer = kind == B2BUA_SDP_OFFER ? from : (enum b2bua_side) !from;
	struct strv dir[2];
	struct ng_cmd cmd = {
		.sdp = sdp,
		.ice = strv_cstr(m->conf.ice),
		.flags = m->flags,
		.nflags = m->conf.nflags,
		.replace = m->replace,
		.nreplace = m->conf.nreplace,
	};
	int rc;

	if (!r && !(r = record_new(m, call)))
		rc = -ENOMEM;
	else if (r->req)
		rc = -EBUSY; /* the B2BUA sends one SDP of a call at a time */
	else if (kind == B2BUA_SDP_ANSWER && r->node < 0)
		rc = -EPROTO; /* an answer to no offer we anchored */
	else
		rc = 0;
	if (rc < 0)
		goto out;
	cmd.command = kind == B2BUA_SDP_OFFER ? NG_CMD_OFFER : NG_CMD_ANSWER;
	if (kind == B2BUA_SDP_OFFER)
		cmd.nflags++; /* teardown-notify: the node tells us when it times the call out */
	cmd.call_id = strv_cstr(r->call_id);
	cmd.from_tag = strv_cstr(side_tag[offerer]);
	/* The first offer has no other party yet; re-offers and answers name it. */
	if (kind == B2BUA_SDP_ANSWER || r->node >= 0)
		cmd.to_tag = strv_cstr(side_tag[!offerer]);
	/* rtpengine reads direction in the order this SDP travels: its sender's side first */
	if (m->conf.direction[0]) {
		dir[0] = strv_cstr(m->conf.direction[from]);
		dir[1] = strv_cstr(m->conf.direction[!from]);
		cmd.direction = dir;
		cmd.ndirection = 2;
	}
	if (m->conf.received_from)
		cmd.received_from = b2bua_call_peer(call, from);
	r->cmd = cmd.command;
	rc = ng_client_request(m->ng, &cmd, r->node, on_reply, r, &r->req);
	if (rc < 0) {
		r->req = NULL;
		goto out;
	}
	if (kind == B2BUA_SDP_OFFER)
		m->stats.offers++;
	else
		m->stats.answers++;
	r->op = op;
	ptab_insert(&m->ops, r);
	return 0;
out:
	m->stats.failed++;
	log_notice("media: call %.*s: cannot send the %s: %s",
		   (int)b2bua_call_callid(call, B2BUA_SIDE_B).len,
		   b2bua_call_callid(call, B2BUA_SIDE_B).p,
		   kind == B2BUA_SDP_OFFER ? "offer" : "answer", strerror(-rc));
	b2bua_call_set_fail_status(call, 503);
	return rc;
}

/* The B2BUA drops @p op: its request stays in flight, detached (see media.h). */
static void hook_cancel(void *arg, struct b2bua_media_op *op)
{
	struct media *m = arg;
	struct media_call *r = ptab_find(&m->ops, op);

	if (!r)
		return;
	ptab_remove(&m->ops, r);
	r->op = NULL;
}

static void hook_end(void *arg, struct b2bua_call *call)
{
	struct media *m = arg;
	struct media_call *r = ptab_find(&m->calls, call);

	if (!r)
		return; /* no SDP crossed */
	ptab_remove(&m->calls, r);
	idtab_remove(&m->ids, r);
	r->call = NULL;
	if (r->op) { /* not cancelled first: the B2BUA no longer waits either way */
		ptab_remove(&m->ops, r);
		r->op = NULL;
	}
	if (!r->req)
		record_finish(r);
}

/*
 * A command from a node: `teardown` of a call it timed out (no media), which
 * it sends only because our offers ask with `teardown-notify`. Only the node
 * that holds the call's session may end it; the call ends on both legs.
 */
static void on_notify(void *arg, int node, struct strv command, const struct bencode_doc *doc,
		      const struct bencode_node *dict)
{
	struct media *m = arg;
	struct strv call_id = STRV_NULL, reason = STRV_NULL;
	struct media_call *r;

	if (!strv_eq_cstr(command, "teardown") ||
	    !bencode_dict_get_str(doc, dict, STRV("call-id"), &call_id)) {
		log_info("media: node %d sent an unknown command %.*s", node, (int)command.len,
			 command.p);
		return;
	}
	bencode_dict_get_str(doc, dict, STRV("reason"), &reason);
	r = idtab_find(&m->ids, call_id);
	if (!r || !r->call || r->node != node) {
		m->stats.teardown_ignored++;
		log_info("media: teardown of %.*s from node %d: no such call there",
			 (int)call_id.len, call_id.p, node);
		return;
	}
	m->stats.teardowns++;
	log_notice("media: call %s: torn down by node %d (%.*s)", r->call_id, node, (int)reason.len,
		   reason.p);
	b2bua_call_end(r->call, B2BUA_END_MEDIA_TIMEOUT);
}

/* --- life cycle ---------------------------------------------------------- */

int media_alloc(struct media **mp, struct loop *l, const struct media_conf *conf)
{
	struct ng_client_opts o = {
		.timeout_ms = conf->timeout_ms,
		.tries = conf->tries,
		.probe_interval_ms = conf->probe_interval_ms,
	};
	struct media *m;
	int rc;

	if (!conf->nnodes || conf->nnodes > MEDIA_MAX_NODES || conf->nflags > MEDIA_MAX_FLAGS ||
	    conf->nreplace > MEDIA_MAX_FLAGS || !conf->direction[0] != !conf->direction[1])
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->conf = *conf;
	for (unsigned i = 0; i < conf->nflags; i++)
		m->flags[i] = strv_cstr(conf->flags[i]);
	m->flags[conf->nflags] = STRV("teardown-notify");
	for (unsigned i = 0; i < conf->nreplace; i++)
		m->replace[i] = strv_cstr(conf->replace[i]);
	rc = ptab_init(&m->calls, false);
	if (!rc)
		rc = ptab_init(&m->ops, true);
	if (!rc) {
		m->ids.b = calloc(64, sizeof(*m->ids.b));
		m->ids.mask = 63;
		rc = m->ids.b ? 0 : -ENOMEM;
	}
	if (!rc)
		rc = ng_client_alloc(&m->ng, l, &o);
	for (unsigned i = 0; !rc && i < conf->nnodes; i++)
		rc = ng_client_node_add(m->ng, &conf->nodes[i], 1, NULL);
	if (!rc)
		ng_client_set_notify_h(m->ng, on_notify, m);
	if (rc) {
		media_free(m);
		return rc;
	}
	*mp = m;
	return 0;
}

void media_free(struct media *m)
{
	if (!m)
		return;
	/* Requests first, without callbacks: records then go without sending. */
	ng_client_free(m->ng);
	while (m->all) {
		m->all->req = NULL;
		record_free(m->all);
	}
	free(m->calls.b);
	free(m->ops.b);
	free(m->ids.b);
	free(m);
}

void media_b2bua_hooks(struct media *m, struct b2bua_conf *bc)
{
	bc->media_h = hook_media;
	bc->media_cancel_h = hook_cancel;
	bc->media_end_h = hook_end;
	bc->media_arg = m;
}

void media_stats(const struct media *m, struct media_stats *st)
{
	*st = m->stats;
}

const struct ng_client *media_ng_client(const struct media *m)
{
	return m->ng;
}
