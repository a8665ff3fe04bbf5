#!/bin/bash
# Media anchoring on loopback: sipp caller (UAC) -> sbc -> sipp callee (UAS),
# the sbc's media.rtpengine pointing at the relay (RELAY=ours, the default:
# the built rtpengine; RELAY=sipwise: Debian's rtpengine, userspace only), with
# two interfaces, access 127.0.0.1 and core 127.0.0.2. Checks: the SDP each side
# receives carries the relay's address of its own side and a port of the relay's
# range, never the other side's; CALLS calls (plain and hold/resume re-INVITEs)
# succeed; afterwards the relay holds no session (ng `list`); with the ng node
# down (a port nobody listens on) calls get 503 within a few seconds and nothing
# stays behind; a node that refuses answers makes the caller get 503.
# Exit 0 pass, 1 fail, 77 skip.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
# shellcheck source=relay_lib.sh
. "$SOURCE_DIR/tests/system/relay_lib.sh"
relay_pick
# shellcheck source=media_lib.sh
. "$SOURCE_DIR/tests/system/media_lib.sh"
CALLS=${SIPP_CALLS:-10}
dead_port=$((port + 4))

# Two relay interfaces, as on an SBC with an access and a core side: each
# side of a call must get the relay address of its own side (media.direction).
start_relay

start_sbc "$ng_port"
run caller_bye b2b_uac_bye.xml b2b_uas_answer.xml
check_sdp caller_bye "$tmp/caller_bye.uas.msg" callee "$uac_media" 127.0.0.2
check_sdp caller_bye "$tmp/caller_bye.uac.msg" caller "$uas_media" 127.0.0.1
run hold_resume b2b_uac_hold.xml b2b_uas_hold.xml
check_sdp hold_resume "$tmp/hold_resume.uas.msg" callee "$uac_media" 127.0.0.2
check_sdp hold_resume "$tmp/hold_resume.uac.msg" caller "$uas_media" 127.0.0.1
grep -q "^a=recvonly" "$tmp/hold_resume.uac.msg" && pass "hold_resume: the hold answer reached the caller" ||
	fail "hold_resume: no a=recvonly answer in the caller's trace"

relay_empty "after the calls"
status >"$tmp/status1.txt"
grep -q "^media: calls=0 offers=$((CALLS * 4)) answers=$((CALLS * 4)) deletes=$((CALLS * 2)) " \
	"$tmp/status1.txt" && pass "media counters: $(grep ^media: "$tmp/status1.txt")" ||
	fail "media counters: $(grep ^media: "$tmp/status1.txt")"
grep -q "^calls: active=0 " "$tmp/status1.txt" && pass "no call left" ||
	fail "calls left: $(grep ^calls: "$tmp/status1.txt")"
stop_sbc

# The ng node down: every call is refused with 503, quickly.
start_sbc "$dead_port"
t0=$(date +%s%N)
run node_down media_uac_503.xml
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 15000 ] && pass "node_down: $CALLS calls refused with 503 in $ms ms" ||
	fail "node_down: $CALLS refusals took $ms ms"
wait_no_call
status >"$tmp/status2.txt"
grep -q "^calls: active=0 " "$tmp/status2.txt" && pass "node_down: no call left" ||
	fail "node_down: calls left: $(grep ^calls: "$tmp/status2.txt")"
grep -q "^media: calls=0 " "$tmp/status2.txt" && pass "node_down: no media record left" ||
	fail "node_down: $(grep ^media: "$tmp/status2.txt")"
stop_sbc

# A node that anchors offers but refuses answers: the callee has answered, yet
# the caller must get 503 (never a 200 whose media goes nowhere), and the
# callee gets ACK and BYE.
start_fake_ng answer
start_sbc "$fake_port"
run answer_fails media_uac_503.xml b2b_uas_answer.xml
stop_pid "$fake_pid"
fake_pid=""
grep -q "^refused answer" "$tmp/fake-ng.log" &&
	pass "answer_fails: the node refused the answers, the caller got 503 after the callee's 200" ||
	fail "answer_fails: the fake node saw no answer: $(cat "$tmp/fake-ng.log")"
status | grep -q "^calls: active=0 " && pass "answer_fails: no call left" ||
	fail "answer_fails: $(status | grep ^calls:)"
stop_sbc

# The relay stops cleanly (ours under ASan: no leak of the calls it deleted).
stop_relay

cat "$tmp/status1.txt" "$tmp/status2.txt"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
