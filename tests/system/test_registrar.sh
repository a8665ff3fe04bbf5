#!/bin/bash
# The registrar through the whole stack, driven by sipp: the registration
# flows of RFC 3665 section 2 (401 challenge then 200, update, query,
# unregister) and a failed authentication, counted per source. Then a phone
# that registered over TCP, and listens nowhere, takes a call over its own
# connection (NAT traversal over TCP). Exit 0 pass.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
tmp=$(mktemp -d)
failures=0
sbc_pid=""

cleanup() {
	[ -n "$sbc_pid" ] && kill -KILL "$sbc_pid" 2>/dev/null
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

port=$((30000 + $$ % 20000))
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { transport = "udp"; address = "127.0.0.1"; port = $port; },
    { transport = "tcp"; address = "127.0.0.1"; port = $port; }
  );
};
registrar: {
  mode = "local";
  # Debian's sipp answers MD5 challenges only.
  algorithms = "MD5";
  users = (
    { username = "alice"; domain = "example.com"; password = "wonderland"; },
    { username = "bob"; domain = "example.com"; password = "builder"; }
  );
};
cdr: { file = "$tmp/cdr.json"; };
control: { socket = "$tmp/sbc.ctl"; };
CONF
"$SBC" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
sbc_pid=$!
for _ in $(seq 50); do ss -lntH "sport = :$port" | grep -q . && break; sleep 0.1; done

# run_sipp NAME SCENARIO USER PASSWORD CALLS: exit status of sipp, output kept.
run_sipp() {
	(cd "$tmp" && timeout 60 sipp -sf "$SOURCE_DIR/tests/sipp/$2" -s "$3" -au "$3" -ap "$4" \
		-m "$5" -l 1 -r 10 -timeout 45s -timeout_error -nostdin -trace_stat -stf "$1.csv" \
		-trace_msg -message_file "$1.msg" "127.0.0.1:$port" >"$1.out" 2>&1)
}

counts() { # CSV -> "successful failed"
	python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter=';'))
print(rows[-1]["SuccessfulCall(C)"], rows[-1]["FailedCall(C)"])
PY
}

run_sipp flows register_flows.xml alice wonderland 5
rc=$?
c=$(counts "$tmp/flows.csv" 2>/dev/null)
[ "$rc" -eq 0 ] && [ "$c" = "5 0" ] &&
	pass "register with 401 challenge, update, query, unregister: 5 of 5 runs" ||
	{ fail "registration flows: sipp exit $rc, successful/failed ${c:-?}"; tail -30 "$tmp/flows.out"; }
grep -q 'WWW-Authenticate: Digest realm="example.com"' "$tmp/flows.msg" &&
	pass "the challenge names the realm" || fail "no WWW-Authenticate with the realm"
grep -q ';rport=[0-9]*;received=127.0.0.1' "$tmp/flows.msg" &&
	pass "responses carry rport and received (RFC 3581)" || fail "no rport/received in the responses"

run_sipp bad register_bad_password.xml bob wrongpassword 3
rc=$?
c=$(counts "$tmp/bad.csv" 2>/dev/null)
[ "$rc" -eq 0 ] && [ "$c" = "3 0" ] && pass "a wrong password gets 401 again" ||
	{ fail "failed authentication: sipp exit $rc, successful/failed ${c:-?}"; tail -30 "$tmp/bad.out"; }

# A phone behind NAT registers over TCP; the call to it must come over that connection.
python3 "$SOURCE_DIR/tests/system/tcp_phone.py" 127.0.0.1 "$port" bob example.com builder \
	>"$tmp/phone.out" 2>&1 &
phone_pid=$!
for _ in $(seq 100); do grep -q registered "$tmp/phone.out" && break; sleep 0.1; done
if grep -q registered "$tmp/phone.out"; then
	pass "a phone registered over TCP"
	(cd "$tmp" && timeout 60 sipp -sf "$SOURCE_DIR/tests/sipp/call_registered_user.xml" -s bob \
		-m 1 -t u1 -timeout 30s -timeout_error -nostdin -trace_msg -message_file call.msg \
		"127.0.0.1:$port" >call.out 2>&1)
	rc=$?
	[ "$rc" -eq 0 ] && pass "the call to bob@example.com was answered" ||
		{ fail "call to the registered user: sipp exit $rc"; tail -20 "$tmp/call.out"; }
fi
wait "$phone_pid"
rc=$?
[ "$rc" -eq 0 ] && grep -q "call ok" "$tmp/phone.out" &&
	pass "the INVITE, ACK and BYE reached the phone over the connection it registered by" ||
	{ fail "TCP phone: exit $rc"; cat "$tmp/phone.out"; }

# The call's CDR: one JSON line with both legs, the times and who hung up.
python3 - "$tmp/cdr.json" <<'PY' && pass "one CDR line: answered, hung up by the caller, both legs" || fail "CDR"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
c = json.loads(lines[0])
assert c["disposition"] == "answered" and c["status"] == 200, c
assert c["hangup_by"] == "caller" and c["hangup_reason"] == "bye", c
assert c["callee"] == "sip:bob@example.com" and c["a_call_id"] and c["b_call_id"], c
assert c["a_call_id"] != c["b_call_id"], c
assert c["start"] <= c["ringing"] <= c["answer"] <= c["end"] and c["duration"] >= 0, c
assert c["a_src"].startswith("127.0.0.1:") and c["b_src"].startswith("127.0.0.1:"), c
PY

"$CTL" -s "$tmp/sbc.ctl" status >"$tmp/status.txt"
grep -q "^registrar: .*auth_failures=3" "$tmp/status.txt" &&
	pass "3 failed authentications counted" || { fail "auth failures not counted"; cat "$tmp/status.txt"; }
grep -q "^registrar: .*bindings=0" "$tmp/status.txt" &&
	pass "no binding left: alice unregistered, bob's went with his connection" ||
	{ fail "bindings left"; cat "$tmp/status.txt"; }

kill -TERM "$sbc_pid"
wait "$sbc_pid"
rc=$?
sbc_pid=""
[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM" || { fail "sbc exit $rc"; tail -20 "$tmp/sbc.log"; }
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
