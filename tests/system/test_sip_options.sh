#!/bin/bash
# The SIP stack end to end on loopback: sbc answers OPTIONS over UDP, TCP and
# TLS. sipp drives UDP with 10% simulated loss (-lost 10): every transaction
# must still complete, through sipp's retransmissions (Timer E) and the server
# transactions re-sending their last response. TCP is reliable: sipp does not
# retransmit there, so it runs without simulated loss. TLS is driven by
# openssl s_client (Debian's sipp is built without TLS). Malformed messages get
# 400 with the parser's reason. Exit 0 pass, 1 fail.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
SCENARIO=$SOURCE_DIR/tests/sipp/options_uac.xml
CALLS=${SIPP_CALLS:-500}
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
tlsport=$((port + 1))
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	-days 2 -subj "/CN=sbc.test" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
	{ fail "cannot make a test certificate"; exit 1; }
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { transport = "udp"; address = "127.0.0.1"; port = $port; },
    { transport = "tcp"; address = "127.0.0.1"; port = $port; },
    { transport = "tls"; address = "127.0.0.1"; port = $tlsport;
      tls_certificate = "$tmp/cert.pem"; tls_private_key = "$tmp/key.pem"; }
  );
};
control: { socket = "$tmp/sbc.ctl"; };
CONF
"$SBC" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
sbc_pid=$!
for _ in $(seq 50); do
	ss -lntH "sport = :$tlsport" | grep -q . && ss -lnuH "sport = :$port" | grep -q . && break
	sleep 0.1
done

# run_sipp NAME TRANSPORT [extra args]: CALLS OPTIONS transactions, bounded in time.
run_sipp() {
	local name=$1 t=$2
	shift 2
	(cd "$tmp" && timeout 120 sipp -sf "$SCENARIO" -t "$t" -m "$CALLS" -r 200 -l 100 \
		-timeout 90s -timeout_error -nostdin -trace_stat -stf "$name.csv" "$@" \
		"127.0.0.1:$port" >"$name.out" 2>&1)
}

# The last line of sipp's statistics file: successful and failed call counts.
sipp_counts() { # FILE -> "successful failed"
	python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter=';'))
last = rows[-1]
print(last["SuccessfulCall(C)"], last["FailedCall(C)"])
PY
}

check_sipp() { # NAME DESCRIPTION
	local rc=$? counts
	counts=$(sipp_counts "$tmp/$1.csv" 2>/dev/null)
	if [ "$rc" -eq 0 ] && [ "$counts" = "$CALLS 0" ]; then
		pass "$2: $CALLS of $CALLS OPTIONS answered"
	else
		fail "$2: sipp exit $rc, successful/failed: ${counts:-?}"
		tail -20 "$tmp/$1.out"
	fi
}

run_sipp udp u1 -lost 10
check_sipp udp "UDP with 10% loss"
absorbed=$("$CTL" -s "$tmp/sbc.ctl" status | sed -n 's/.* absorbed=\([0-9]*\).*/\1/p')
[ "${absorbed:-0}" -gt 0 ] && pass "retransmitted requests were absorbed ($absorbed), last responses re-sent" ||
	fail "no retransmission was absorbed: the loss did not happen or was not handled"

run_sipp tcp t1
check_sipp tcp "TCP"

reply=$(printf 'OPTIONS sip:127.0.0.1:%s;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtls1\r\nMax-Forwards: 70\r\nFrom: <sip:probe@test>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: tls-1@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' "$tlsport" |
	timeout 10 openssl s_client -quiet -connect "127.0.0.1:$tlsport" -CAfile "$tmp/cert.pem" \
		-verify_return_error -ign_eof 2>/dev/null | head -1 | tr -d '\r')
[ "$reply" = "SIP/2.0 200 OK" ] && pass "TLS: OPTIONS answered 200 over a verified connection" ||
	fail "TLS: got '$reply'"

# A request without Call-ID: 400 with the reason, and the Via gets rport/received.
reply=$(python3 - "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.bind(("127.0.0.1", 0))
msg = ("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbad1;rport\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:a@test>;tag=9\r\nTo: <sip:x@test>\r\n"
       "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[1])))
try:
    data = s.recv(65535).decode()
    port = s.getsockname()[1]
    lines = data.split("\r\n")
    via = [l for l in lines if l.startswith("Via:")][0]
    ok_via = f";rport={port}" in via and ";received=127.0.0.1" in via
    print(lines[0] + (" VIA-OK" if ok_via else " VIA-BAD " + via))
except socket.timeout:
    print("TIMEOUT")
PY
)
case "$reply" in
"SIP/2.0 400 "*"Call-ID"*" VIA-OK") pass "a request without Call-ID gets '${reply% VIA-OK}', rport and received set" ;;
*) fail "malformed request: $reply" ;;
esac

"$CTL" -s "$tmp/sbc.ctl" status >"$tmp/status.txt"
kill -TERM "$sbc_pid"
wait "$sbc_pid"
rc=$?
sbc_pid=""
[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM" || { fail "sbc exit $rc"; tail -20 "$tmp/sbc.log"; }
cat "$tmp/status.txt"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
