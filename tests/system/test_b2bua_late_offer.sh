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
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }
RELAY=ours
relay_pick
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
SIPP_DIR=$SOURCE_DIR/tests/sipp
CALLS=${SIPP_CALLS:-5}
tmp=$(mktemp -d)
failures=0
sbc_pid=""
uas_pid=""
relay_pid=""
fake_pid=""

stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}
cleanup() {
	[ -n "$uas_pid" ] && kill -KILL "$uas_pid" 2>/dev/null
	stop_pid "$sbc_pid"
	stop_pid "$relay_pid"
	stop_pid "$fake_pid"
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

port=$((30000 + $$ % 20000))
uas_port=$((port + 1))
uac_port=$((port + 2))
ng_port=$((port + 3))
fake_port=$((port + 5))
rtp_min=$((20000 + ($$ % 50) * 200))
rtp_max=$((rtp_min + 199))
uac_media=$((port + 10))
uas_media=$((port + 20))
NGA=127.0.0.1:$ng_port

relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$rtp_min" "$rtp_max"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "$NGA" 5 || { fail "the relay does not answer ping on $NGA"; tail -20 "$tmp/relay.log"; exit 1; }
pass "our relay answers ng ping on $NGA (RTP ports $rtp_min-$rtp_max)"

# start_sbc NG-PORT: an sbc whose media goes to that ng port.
start_sbc() {
	cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: {
  default_route = "udp:127.0.0.1:$uas_port";
  no_answer_timeout = 5;
};
media: {
  rtpengine = [ "127.0.0.1:$1" ];
  rtpengine_timeout = 200;
  rtpengine_tries = 2;
  direction = [ "access", "core" ];
};
control: { socket = "$tmp/sbc.ctl"; };
CONF
	rm -f "$tmp/sbc.ctl"
	"$SBC" -f "$tmp/sbc.conf" >>"$tmp/sbc.log" 2>&1 &
	sbc_pid=$!
	for _ in $(seq 50); do
		ss -lnuH "sport = :$port" | grep -q . && [ -S "$tmp/sbc.ctl" ] && break
		sleep 0.1
	done
	[ -S "$tmp/sbc.ctl" ] || { fail "sbc did not start"; cat "$tmp/sbc.log"; exit 1; }
}

stop_sbc() {
	local rc
	kill -TERM "$sbc_pid"
	wait "$sbc_pid"
	rc=$?
	sbc_pid=""
	[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM" || { fail "sbc exit $rc"; tail -20 "$tmp/sbc.log"; }
}

status() { "$CTL" -s "$tmp/sbc.ctl" status; }

# run NAME UAC-XML UAS-XML [CALL-MS]: CALLS calls, both sides must complete.
run() {
	local name=$1 uac=$2 uas=$3 ms=${4:-100} rc_uac rc_uas
	(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$uas" -p "$uas_port" -m "$CALLS" \
		-mp "$uas_media" -nostdin -trace_msg -message_file "$name.uas.msg" \
		-trace_err -error_file "$name.uas.err" >"$name.uas.out" 2>&1) &
	uas_pid=$!
	sleep 0.3
	(cd "$tmp" && timeout 60 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 10 \
		-l 10 -s bob -d "$ms" -mp "$uac_media" -timeout 30s -timeout_error -nostdin \
		-trace_msg -message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1) &
	rc_uac=$!
	[ -n "${DURING:-}" ] && sleep 1 && $DURING
	wait "$rc_uac"
	rc_uac=$?
	wait "$uas_pid"
	rc_uas=$?
	uas_pid=""
	if [ "$rc_uac" -eq 0 ] && [ "$rc_uas" -eq 0 ]; then
		pass "$name: $CALLS calls, caller and callee scenarios complete"
	else
		fail "$name: sipp exit caller $rc_uac, callee $rc_uas"
		tail -n 5 "$tmp/$name.uac.out" "$tmp/$name.uas.out" "$tmp/$name.uac.err" \
			"$tmp/$name.uas.err" 2>/dev/null
	fi
}

received() {
	awk '/message received/ { rx = 1; next } /message sent/ { rx = 0; next } rx' "$1"
}

# check_sdp NAME FILE WHO OTHER-MEDIA-PORT RELAY-IP MIN: every SDP that WHO received (at least
# MIN m= lines) is the relay's, on the relay address of WHO's side.
check_sdp() {
	local name=$1 file=$2 who=$3 other=$4 relay=$5 min=$6 ports bad n
	received "$file" | tr -d '\r' >"$file.rx"
	file=$file.rx
	ports=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$file")
	n=$(echo "$ports" | grep -c .)
	bad=$(echo "$ports" | awk -v lo="$rtp_min" -v hi="$rtp_max" 'NF && ($1 < lo || $1 > hi)' | wc -l)
	if [ "$n" -ge "$min" ] && [ "$bad" -eq 0 ]; then
		pass "$name: all $n SDPs the $who received have a relay port"
	else
		fail "$name: the $who received $n SDPs (at least $min expected), $bad outside the relay's ports"
	fi
	grep -q "^m=audio $other " "$file" && fail "$name: the $who saw the other side's media port $other"
	bad=$(grep "^c=IN IP4" "$file" | grep -vc "^c=IN IP4 $relay$")
	[ "$bad" -eq 0 ] && pass "$name: the $who's SDPs connect to the relay on its side ($relay)" ||
		fail "$name: $bad c= lines the $who received are not the relay's $relay"
}

relay_calls() { ng "$NGA" '{"command":"list"}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("calls", [])))'; }
live_check() {
	local n
	n=$(relay_calls)
	[ "$n" -gt 0 ] && pass "the relay holds $n call(s) while they are up" || fail "the relay holds no call during the calls"
}
relay_empty() {
	local n
	for _ in $(seq 30); do
		n=$(relay_calls)
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	[ "$n" = 0 ] && pass "$1: the relay has no call left after BYE" || fail "$1: $n calls left on the relay"
}

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
python3 - "$fake_port" >"$tmp/fake-ng.log" 2>&1 <<'PY' &
import socket, sys

def decode(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while b[i:i + 1] != b"e":
            v, i = decode(b, i)
            items.append(v)
        if c == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2])), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n

def enc(d):
    out = b"d"
    for k, v in d.items():
        out += b"%d:%s%d:%s" % (len(k), k, len(v), v)
    return out + b"e"

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
while True:
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        break
    cookie, _, body = data.partition(b" ")
    cmd = decode(body)[0]
    name = cmd.get(b"command", b"")
    if name == b"ping":
        reply = {b"result": b"pong"}
    elif name == b"offer":
        reply = {b"result": b"error", b"error-reason": b"no ports left"}
    else:
        reply = {b"result": b"ok"}
    print(name.decode(), cmd.get(b"from-tag", b"").decode(), reply[b"result"].decode(), flush=True)
    s.sendto(cookie + b" " + enc(reply), peer)
PY
fake_pid=$!
start_sbc "$fake_port"
run late_refused lateoffer_uac_503.xml lateoffer_uas_refused.xml
grep -q "^offer b error" "$tmp/fake-ng.log" &&
	pass "late_refused: the 200's offer went as ng offer from the callee (from-tag b), refused; caller 503, callee ACK+BYE" ||
	fail "late_refused: the fake node saw: $(cat "$tmp/fake-ng.log")"
grep -q "^answer" "$tmp/fake-ng.log" && fail "late_refused: an ng answer was sent: $(cat "$tmp/fake-ng.log")"
for _ in $(seq 30); do
	status | grep -q "^calls: active=0 " && break
	sleep 0.2
done
status | grep -q "^calls: active=0 " && pass "late_refused: no call left" ||
	fail "late_refused: $(status | grep ^calls:)"
status | grep -q "^media: calls=0 " && pass "late_refused: no media record left" ||
	fail "late_refused: $(status | grep ^media:)"
stop_sbc

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
