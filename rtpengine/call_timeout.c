/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Call timeouts. Once a second the control thread walks the calls (O(calls); at 1 Hz and a few
 * flows per call this costs little next to the packets those calls carry) and deletes those
 * that:
 *   - carried no RTP for `timeout` (or `silent_timeout` while one side holds the call: a
 *     party whose media are all sendonly, inactive or 0.0.0.0 sends nothing and expects
 *     nothing), counting from the last signalling if that is later;
 *   - exist longer than `final_timeout`;
 *   - were offered and never answered within `offer_timeout`.
 * Calls offered with the flag teardown-notify are reported through the teardown handler.
 * Calls deleted with a delete-delay go here too, when it is over (not reported).
 */
#include "call_priv.h"

#include <string.h>

#include "common/log.h"

/* Whether one party holds the call: all its media on hold. A fork that lost (its peer talks to
 * another) is no party: its sendonly early media must not make the call silent. */
static bool call_on_hold(const struct call *call)
{
	for (unsigned i = 0; i < call->nmono; i++) {
		const struct monologue *m = call->mono[i];
		unsigned held = 0, live = 0;

		if (m->peer && m->peer->peer != m)
			continue;

		for (unsigned k = 0; k < m->nmedia; k++) {
			if (!m->media[k].rtp.port)
				continue;
			live++;
			held += m->media[k].hold;
		}
		if (live && held == live)
			return true;
	}
	return false;
}

/* Latest RTP packet on any of the call's RTP flows (RTCP is no evidence: it flows on hold). */
static uint64_t last_rtp_ms(struct calls *c, const struct call *call)
{
	uint64_t last = 0;

	for (unsigned i = 0; i < call->nmono; i++) {
		const struct monologue *m = call->mono[i];

		for (unsigned k = 0; k < m->nmedia; k++) {
			struct dp_flow_stats st;

			if (!m->media[k].rtp.flow)
				continue;
			memset(&st, 0, sizeof(st));
			if (dp_flow_stats(c->conf.dp, m->media[k].rtp.flow, &st) == 0 &&
			    st.last_packet_ms > last)
				last = st.last_packet_ms;
		}
	}
	return last;
}

/* Why @p call must go now, or CALL_END_MAX. */
static enum call_end expired(struct calls *c, const struct call *call, uint64_t now_ms)
{
	const struct calls_limits *cf = &c->conf.limits;
	uint64_t active, idle_limit;

	if (cf->final_timeout_ms && now_ms - call->created_ms >= cf->final_timeout_ms)
		return CALL_END_FINAL_TIMEOUT;
	if (!call->answered)
		return cf->offer_timeout_ms && now_ms - call->offer_ms >= cf->offer_timeout_ms
			   ? CALL_END_OFFER_TIMEOUT
			   : CALL_END_MAX;
	active = last_rtp_ms(c, call);
	if (active < call->last_signal_ms)
		active = call->last_signal_ms;
	idle_limit = call_on_hold(call) ? cf->silent_timeout_ms : cf->timeout_ms;
	if (idle_limit && now_ms > active && now_ms - active >= idle_limit)
		return CALL_END_TIMEOUT;
	return CALL_END_MAX;
}

static void report(struct calls *c, const struct call *call, const char *reason)
{
	struct call_teardown t = {
		.call_id = strv_make(call->id, call->id_len),
		.reason = reason,
		.to = &call->origin.from,
		.via = call->origin.via,
		.conn = call->origin.conn,
	};

	/* the first offer's from-tag, as the sbc knows the call (mono[0] moves on deletes) */
	t.from_tag = strv_cstr(call->from_tag);
	if (call->teardown_notify && sa_isset(&call->origin.from) && c->teardown_h)
		c->teardown_h(&t, c->teardown_arg);
}

void calls_tick(struct calls *c, uint64_t now_ms)
{
	struct call *call, *next;

	if (c->zombies)
		calls_reap_zombies(c);
	for (call = c->first; call; call = next) {
		enum call_end why = expired(c, call, now_ms);

		next = call->next;
		if (call->delete_at_ms) {
			/* deleted by command, only later: no timeout, nothing to report */
			if (now_ms >= call->delete_at_ms) {
				log_info("call %s deleted: delete-delay over", call->id);
				call_destroy(c, call, CALL_END_DELETE);
			}
			continue;
		}
		if (why == CALL_END_MAX)
			continue;
		c->counters.timeouts++;
		log_info("call %s deleted: %s", call->id, call_end_name(why));
		report(c, call, call_end_name(why));
		call_destroy(c, call, why);
	}
}
