#!/bin/bash
# B2BUA in-dialog requests and reliable provisionals (RFC 3262, 3311, 6086) on
# loopback: sipp caller -> sbc -> sipp callee.
#  - 100rel: the caller supports 100rel, the callee sends a reliable 183 with
#    SDP; each leg PRACKs its own (the callee must be offered 100rel and get a
#    PRACK; the caller gets the 183 with the SBC's RSeq); an UPDATE with SDP in
#    the early dialog from either side, and after the answer INFO (application/dtmf-relay),
#    UPDATE (SDP) and OPTIONS cross with their bodies and are answered.
#  - 100rel_required: the caller requires 100rel, the callee knows nothing of
#    it: the call still works, the callee's plain 180 reaches the caller
#    reliably and the callee never sees Require: 100rel.
#  - 100rel_cancel: a caller with 100rel cancels before its PRACK: 487, and
#    the reliable 180 is not retransmitted after it.
#  - 100rel_no_prack: a caller that never PRACKs gets the 180 again and again
#    (T1 doubling), then 500 after 64*T1; the callee is cancelled.
# Every call must succeed on both sides; no call, dialog or transaction left.
# Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
CALLS=${SIPP_CALLS:-5}
uas_port=$((port + 2))

cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: {
  default_route = "udp:127.0.0.1:$uas_port";
  no_answer_timeout = 10; # over 64*T1: the PRACK timeout comes first
};
control: { socket = "$tmp/sbc.ctl"; };
CONF

# run NAME UAC-XML UAS-XML: CALLS calls, one at a time; both sides must succeed.
run() {
	local name=$1 uac=$2 uas=$3 rc_uac rc_uas pid
	(cd "$tmp" && exec timeout 60 sipp -sf "$SIPP_DIR/$uas" -p "$uas_port" -m "$CALLS" \
		-nostdin -trace_msg -message_file "$name.uas.msg" -trace_err \
		-error_file "$name.uas.err" >"$name.uas.out" 2>&1) &
	pid=$!
	uas_pids+=("$pid")
	sleep 0.3
	(cd "$tmp" && timeout 60 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 5 \
		-l 1 -s bob -timeout 30s -timeout_error -nostdin -trace_msg \
		-message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1)
	rc_uac=$?
	wait "$pid"
	rc_uas=$?
	if [ "$rc_uac" -eq 0 ] && [ "$rc_uas" -eq 0 ]; then
		pass "$name: $CALLS calls, caller and callee scenarios complete"
	else
		fail "$name: sipp exit caller $rc_uac, callee $rc_uas"
		tail -n 5 "$tmp/$name.uac.out" "$tmp/$name.uas.out"
	fi
}

# received FILE PATTERN: how many lines of the messages sipp received (its
# -trace_msg file) match PATTERN
received() {
	awk -v pat="$2" '/message (sent|received)/ { rx = /received/; next }
		rx && $0 ~ pat { n++ } END { print n + 0 }' "$tmp/$1" 2>/dev/null
}
# expect NAME FILE PATTERN MIN: at least MIN lines that FILE's sipp received match
expect() {
	local n
	n=$(received "$2" "$3")
	[ "${n:-0}" -ge "$4" ] && pass "$1 ($n)" || fail "$1: ${n:-0} lines match '$3' in $2"
}
# never NAME FILE PATTERN: no line that FILE's sipp received matches
never() {
	local n
	n=$(received "$2" "$3")
	[ "${n:-0}" -eq 0 ] && pass "$1" || fail "$1: $n lines match '$3' in $2"
}

launch_sbc dialog "$tmp/sbc.conf"

run 100rel b2b_uac_100rel.xml b2b_uas_100rel.xml
expect "100rel: the callee is offered 100rel" 100rel.uas.msg '^Supported: 100rel' "$CALLS"
expect "100rel: the callee gets PRACKs with RAck" 100rel.uas.msg '^RAck: 1 1 INVITE' "$CALLS"
expect "100rel: the caller's 183 carries the SBC's RSeq" 100rel.uac.msg '^RSeq: 1' "$CALLS"
expect "100rel: the callee's SDP reaches the caller (183, UPDATEs, 200)" 100rel.uac.msg '^o=user2' "$CALLS"
expect "100rel: INFO body reaches the callee" 100rel.uas.msg '^Signal=5' "$CALLS"
expect "100rel: INFO keeps its Content-Type" 100rel.uas.msg '^Content-Type: application/dtmf-relay' "$CALLS"
expect "100rel: UPDATEs reach the callee (early and confirmed)" 100rel.uas.msg '^UPDATE ' $((CALLS * 2))
expect "100rel: the UPDATEs' SDP reaches the callee" 100rel.uas.msg '^a=sendonly' "$CALLS"
expect "100rel: OPTIONS in dialog reaches the callee" 100rel.uas.msg '^OPTIONS ' "$CALLS"
expect "100rel: the callee's early UPDATE reaches the caller" 100rel.uac.msg '^UPDATE ' "$CALLS"
expect "100rel: ... with its SDP" 100rel.uac.msg '^a=recvonly' "$CALLS"
never "100rel: the callee's PRACK does not cross" 100rel.uas.msg '^RAck: .* 2 INVITE'

run 100rel_required b2b_uac_100rel_require.xml b2b_uas_ring_pause.xml
expect "100rel_required: the caller's 180 is reliable" 100rel_required.uac.msg '^RSeq: 1' "$CALLS"
never "100rel_required: Require: 100rel does not reach the callee" 100rel_required.uas.msg '^Require:.*100rel'

# CANCEL while the reliable 180 waits for its PRACK: its retransmissions stop.
run 100rel_cancel b2b_uac_100rel_cancel.xml b2b_uas_cancel.xml

# No PRACK ever: the reliable 180 goes out again and again, then 500 and CANCEL.
CALLS=2 run 100rel_no_prack b2b_uac_100rel_noprack.xml b2b_uas_cancel.xml
n=$(received 100rel_no_prack.uac.msg '^SIP/2.0 180 ')
[ "$n" -ge 8 ] && pass "100rel_no_prack: the 180 was retransmitted ($n for 2 calls)" ||
	fail "100rel_no_prack: $n 180s received"

for name in 100rel 100rel_required; do
	leaks=$(grep -c -e "127.0.0.1:$uac_port" -e "SIPpTag00" -e "sipp-uac-secret" "$tmp/$name.uas.msg")
	[ "${leaks:-0}" -eq 0 ] && pass "$name: the callee saw nothing of the caller" ||
		fail "$name: $leaks lines of the callee's trace show the caller's identifiers"
	leaks=$(grep -c -e "127.0.0.1:$uas_port" -e "SIPpTag01" -e "sipp-uas-secret" "$tmp/$name.uac.msg")
	[ "${leaks:-0}" -eq 0 ] && pass "$name: the caller saw nothing of the callee" ||
		fail "$name: $leaks lines of the caller's trace show the callee's identifiers"
done

for _ in $(seq 90); do
	[ "$(field transactions active)" = "0" ] && [ "$(field calls dialogs)" = "0" ] && break
	sleep 0.5
done
status >"$tmp/status.txt"
grep -q "^calls: active=0 .* dialogs=0" "$tmp/status.txt" && pass "no call or dialog left" ||
	fail "calls or dialogs left: $(grep ^calls: "$tmp/status.txt")"
grep -q "^transactions: active=0 " "$tmp/status.txt" && pass "no transaction left" ||
	fail "transactions left: $(grep ^transactions: "$tmp/status.txt")"
stop_sbc dialog
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
