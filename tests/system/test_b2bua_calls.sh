#!/bin/bash
# B2BUA calls on loopback: sipp caller (UAC) -> sbc -> sipp callee (UAS), the
# sbc's b2bua.default_route pointing at the callee. Scenarios (tests/sipp/):
# answered and hung up by the caller, answered and hung up by the callee,
# busy (486), cancelled while ringing (487), never answered (408 after
# b2bua.no_answer_timeout), hold and resume with re-INVITEs (once with the
# callee's UPDATE offer crossing the hold: 491), two branches of a
# forking callee answering (the second one gets ACK and BYE), a re-INVITE the
# callee refuses (491; the CDR keeps status 200). Each runs CALLS
# calls that must all succeed on both sipp sides; afterwards `sbcctl status`
# must show no active call, and at the end no dialog or transaction. Topology
# hiding: the callee's traces must never contain the caller's Call-ID, tags,
# Via sent-by or User-Agent. Exit 0 pass, 1 fail, 77 skip.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
SIPP_DIR=$SOURCE_DIR/tests/sipp
CALLS=${SIPP_CALLS:-20}
tmp=$(mktemp -d)
failures=0
sbc_pid=""
uas_pid=""

cleanup() {
	[ -n "$uas_pid" ] && kill -KILL "$uas_pid" 2>/dev/null
	[ -n "$sbc_pid" ] && kill -KILL "$sbc_pid" 2>/dev/null
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

port=$((30000 + $$ % 20000))
uas_port=$((port + 1))
uac_port=$((port + 2))
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: {
  default_route = "udp:127.0.0.1:$uas_port";
  no_answer_timeout = 2;
};
control: { socket = "$tmp/sbc.ctl"; };
cdr: { file = "$tmp/cdr.json"; };
CONF
"$SBC" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
sbc_pid=$!
for _ in $(seq 50); do
	ss -lnuH "sport = :$port" | grep -q . && [ -S "$tmp/sbc.ctl" ] && break
	sleep 0.1
done
[ -S "$tmp/sbc.ctl" ] || { fail "sbc did not start"; cat "$tmp/sbc.log"; exit 1; }

status() { "$CTL" -s "$tmp/sbc.ctl" status; }
field() { # LINE-PREFIX NAME -> value
	status | sed -n "s/^$1:.* $2=\([0-9]*\).*/\1/p;s/^$1: $2=\([0-9]*\).*/\1/p" | head -1
}

# run NAME UAC-XML UAS-XML: CALLS calls, both sides must succeed.
run() {
	local name=$1 uac=$2 uas=$3 rc_uac rc_uas
	(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$uas" -p "$uas_port" -m "$CALLS" \
		-nostdin -trace_msg -message_file "$name.uas.msg" -trace_err \
		-error_file "$name.uas.err" >"$name.uas.out" 2>&1) &
	uas_pid=$!
	sleep 0.3
	(cd "$tmp" && timeout 120 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 10 \
		-l 10 -s bob -timeout 60s -timeout_error -nostdin -trace_msg \
		-message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1)
	rc_uac=$?
	wait "$uas_pid"
	rc_uas=$?
	uas_pid=""
	if [ "$rc_uac" -eq 0 ] && [ "$rc_uas" -eq 0 ]; then
		pass "$name: $CALLS calls, caller and callee scenarios complete"
	else
		fail "$name: sipp exit caller $rc_uac, callee $rc_uas"
		tail -n 5 "$tmp/$name.uac.out" "$tmp/$name.uas.out"
	fi
	# Nothing of the caller's side may reach the callee.
	local leaks
	leaks=$(grep -c -e "127.0.0.1:$uac_port" -e "SIPpTag00" -e "sipp-uac-secret" \
		"$tmp/$name.uas.msg" 2>/dev/null)
	[ "${leaks:-0}" -eq 0 ] && pass "$name: the callee saw no Via, tag or User-Agent of the caller" ||
		fail "$name: $leaks lines of the callee's trace show the caller's identifiers"
	leaks=$(grep -c -e "127.0.0.1:$uas_port" -e "SIPpTag01" -e "sipp-uas-secret" \
		"$tmp/$name.uac.msg" 2>/dev/null)
	[ "${leaks:-0}" -eq 0 ] && pass "$name: the caller saw no address, tag or Server of the callee" ||
		fail "$name: $leaks lines of the caller's trace show the callee's identifiers"
	local uac_callid
	uac_callid=$(sed -n 's/^Call-ID: *\(.*\)\r\?$/\1/p' "$tmp/$name.uac.msg" | head -1 | tr -d '\r')
	if [ -n "$uac_callid" ] && grep -qF "$uac_callid" "$tmp/$name.uas.msg"; then
		fail "$name: the callee saw the caller's Call-ID $uac_callid"
	fi
	local active
	for _ in $(seq 30); do
		active=$(field calls active)
		[ "$active" = "0" ] && break
		sleep 0.2
	done
	[ "$active" = "0" ] && pass "$name: no call left" || fail "$name: calls active=$active"
}

run caller_bye b2b_uac_bye.xml b2b_uas_answer.xml
run callee_bye b2b_uac_wait_bye.xml b2b_uas_bye.xml
run busy b2b_uac_486.xml b2b_uas_486.xml
run cancel b2b_uac_cancel.xml b2b_uas_cancel.xml
run no_answer b2b_uac_408.xml b2b_uas_cancel.xml
run hold_resume b2b_uac_hold.xml b2b_uas_hold.xml
# The callee's UPDATE offer crosses the caller's re-INVITE offer: 491 from the sbc.
run update_glare b2b_uac_hold.xml b2b_uas_hold_update_glare.xml
# Two branches of a forking proxy answer: the second gets ACK and BYE.
run fork_2xx b2b_uac_bye.xml b2b_uas_fork_2xx.xml
# The callee refuses a re-INVITE (491): the CDR keeps the answer (checked last).
run reinvite_491 b2b_uac_reinvite_491.xml b2b_uas_reinvite_491.xml

# Transactions end by their own timers (Timer D 32 s for the non-2xx ones).
for _ in $(seq 90); do
	[ "$(field transactions active)" = "0" ] && [ "$(field calls dialogs)" = "0" ] && break
	sleep 0.5
done
status >"$tmp/status.txt"
grep -q "^calls: active=0 .* dialogs=0" "$tmp/status.txt" && pass "no call or dialog left" ||
	fail "calls or dialogs left: $(grep ^calls: "$tmp/status.txt")"
grep -q "^transactions: active=0 " "$tmp/status.txt" && pass "no transaction left" ||
	fail "transactions left: $(grep ^transactions: "$tmp/status.txt")"
expected=$((CALLS * 9))
created=$(sed -n 's/^calls:.* created=\([0-9]*\).*/\1/p' "$tmp/status.txt")
answered=$(sed -n 's/^calls:.* answered=\([0-9]*\).*/\1/p' "$tmp/status.txt")
[ "$created" = "$expected" ] && [ "$answered" = "$((CALLS * 6))" ] &&
	pass "counters: $created calls created, $answered answered" ||
	fail "counters: created=$created (want $expected) answered=$answered (want $((CALLS * 6)))"

kill -TERM "$sbc_pid"
wait "$sbc_pid"
rc=$?
sbc_pid=""
[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM" || { fail "sbc exit $rc"; tail -20 "$tmp/sbc.log"; }
tail -n "$CALLS" "$tmp/cdr.json" | python3 -c '
import json, sys
for line in sys.stdin:
    c = json.loads(line)
    assert c["disposition"] == "answered" and c["status"] == 200, c
' && pass "reinvite_491: CDRs keep status 200" || fail "reinvite_491 CDRs: $(tail -n 1 "$tmp/cdr.json")"
cat "$tmp/status.txt"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
