#!/bin/bash
# Late offer through the sbc and our relay (RFC 3261 §13.2.1, RFC 3262 §5,
# RFC 6337): sipp caller -> sbc -> sipp callee, media.rtpengine = the built
# rtpengine with an access (127.0.0.1) and a core (127.0.0.2) interface.
#  - INVITE without SDP: the callee's 200 offers, the caller's ACK answers and
#    reaches the callee as its ACK's body; a re-INVITE without SDP the same way;
#  - 100rel: the callee's reliable 183 offers, the caller's PRACK answers and
#    crosses as the callee's PRACK body; an unreliable 183's offer toward a
#    100rel caller waits for the 200 (the caller's PRACK could not answer it);
#  - every SDP each side receives carries the relay's address of its side and
#    a relay port; the relay holds the call while it is up, none after BYE;
#    the sbc's media counters: one ng offer per offer, one answer per answer;
#  - an ACK without the answer: the call ends, BYE to both sides;
#  - a relay that refuses the 200's offer: the caller gets 503, the callee ACK
#    (no answer) and BYE; no call left.
# Exit 0 pass, 1 fail, 77 skip.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
# shellcheck source=relay_lib.sh
. "$SOURCE_DIR/tests/system/relay_lib.sh"
RELAY=ours
relay_pick
# shellcheck source=media_lib.sh
. "$SOURCE_DIR/tests/system/media_lib.sh"

live_check() {
	local n
	n=$(relay_calls)
	[ "$n" -gt 0 ] && pass "the relay holds $n call(s) while they are up" || fail "the relay holds no call during the calls"
}

start_relay

start_sbc "$ng_port"
# 200/ACK: per call 2 offers (the 200s) and 2 answers (the ACKs).
DURING=live_check run late_2xx lateoffer_uac.xml lateoffer_uas.xml 2000
check_sdp late_2xx "$tmp/late_2xx.uac.msg" caller "$uas_media" 127.0.0.1 $((CALLS * 2))
check_sdp late_2xx "$tmp/late_2xx.uas.msg" callee "$uac_media" 127.0.0.2 $((CALLS * 2))
relay_empty late_2xx
status >"$tmp/status1.txt"
grep -q "^media: calls=0 offers=$((CALLS * 2)) answers=$((CALLS * 2)) deletes=$CALLS ok=$((CALLS * 4)) failed=0" \
	"$tmp/status1.txt" && pass "late_2xx: media counters: $(grep ^media: "$tmp/status1.txt")" ||
	fail "late_2xx: media counters: $(grep ^media: "$tmp/status1.txt")"
# 100rel: the reliable 183 offers, the PRACK answers: 1 offer, 1 answer more per call.
run late_prack lateoffer_uac_100rel.xml lateoffer_uas_100rel.xml
check_sdp late_prack "$tmp/late_prack.uac.msg" caller "$uas_media" 127.0.0.1 "$CALLS"
check_sdp late_prack "$tmp/late_prack.uas.msg" callee "$uac_media" 127.0.0.2 "$CALLS"
relay_empty late_prack
status >"$tmp/status2.txt"
grep -q "^media: calls=0 offers=$((CALLS * 3)) answers=$((CALLS * 3)) deletes=$((CALLS * 2)) ok=$((CALLS * 6)) failed=0" \
	"$tmp/status2.txt" && pass "late_prack: media counters: $(grep ^media: "$tmp/status2.txt")" ||
	fail "late_prack: media counters: $(grep ^media: "$tmp/status2.txt")"
# A 100rel caller, a callee's unreliable 183 previewing its offer: the caller's reliable 183
# has no SDP (its PRACK could not answer the callee), the 200 offers, the ACK answers.
run late_preview lateoffer_uac_100rel_preview.xml lateoffer_uas_183.xml
check_sdp late_preview "$tmp/late_preview.uac.msg" caller "$uas_media" 127.0.0.1 "$CALLS"
check_sdp late_preview "$tmp/late_preview.uas.msg" callee "$uac_media" 127.0.0.2 "$CALLS"
relay_empty late_preview
status >"$tmp/status3.txt"
grep -q "^media: calls=0 offers=$((CALLS * 4)) answers=$((CALLS * 4)) deletes=$((CALLS * 3)) ok=$((CALLS * 8)) failed=0" \
	"$tmp/status3.txt" && pass "late_preview: media counters: $(grep ^media: "$tmp/status3.txt")" ||
	fail "late_preview: media counters: $(grep ^media: "$tmp/status3.txt")"
grep -q "^calls: active=0 " "$tmp/status3.txt" && pass "no call left" ||
	fail "calls left: $(grep ^calls: "$tmp/status3.txt")"
stop_sbc

# A caller whose ACK does not answer the 200's offer: ACK and BYE to the callee, BYE to it.
start_sbc "$ng_port"
run late_noanswer lateoffer_uac_noanswer.xml lateoffer_uas_refused.xml
relay_empty late_noanswer
status | grep -q "^calls: active=0 " && pass "late_noanswer: no call left" ||
	fail "late_noanswer: $(status | grep ^calls:)"
stop_sbc

# A node that refuses offers: the 200's late offer fails the call.
start_fake_ng offer
start_sbc "$fake_port"
run late_refused lateoffer_uac_503.xml lateoffer_uas_refused.xml
grep -q "^refused offer from-tag=b" "$tmp/fake-ng.log" &&
	pass "late_refused: the 200's offer went as ng offer from the callee (from-tag b), refused; caller 503, callee ACK+BYE" ||
	fail "late_refused: the fake node saw: $(cat "$tmp/fake-ng.log")"
grep -q "^answer " "$tmp/fake-ng.log" && fail "late_refused: an ng answer was sent: $(cat "$tmp/fake-ng.log")"
wait_no_call
status | grep -q "^calls: active=0 " && pass "late_refused: no call left" ||
	fail "late_refused: $(status | grep ^calls:)"
status | grep -q "^media: calls=0 " && pass "late_refused: no media record left" ||
	fail "late_refused: $(status | grep ^media:)"
stop_sbc

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
