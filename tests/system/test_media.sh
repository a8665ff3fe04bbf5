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
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
SIPP_DIR=$SOURCE_DIR/tests/sipp
CALLS=${SIPP_CALLS:-10}
tmp=$(mktemp -d)
failures=0
sbc_pid=""
uas_pid=""
rtpe_pid=""

cleanup() {
	[ -n "$uas_pid" ] && kill -KILL "$uas_pid" 2>/dev/null
	[ -n "$sbc_pid" ] && kill -KILL "$sbc_pid" 2>/dev/null
	[ -n "$rtpe_pid" ] && kill -KILL "$rtpe_pid" 2>/dev/null
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }
relay_pick

port=$((30000 + $$ % 20000))
uas_port=$((port + 1))
uac_port=$((port + 2))
ng_port=$((port + 3))
dead_port=$((port + 4))
fake_port=$((port + 5))
rtp_min=$((20000 + ($$ % 50) * 200))
rtp_max=$((rtp_min + 199))
uac_media=$((port + 10))
uas_media=$((port + 20))

NGA=127.0.0.1:$ng_port
# ng_list: the relay's `list` reply (JSON); ng_empty: true when it lists no call.
ng_list() { ng "$NGA" '{"command":"list"}'; }
ng_empty() { ng_list 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("result")!="ok" or len(d.get("calls",[]))!=0)'; }

# Two relay interfaces, as on an SBC with an access and a core side: each
# side of a call must get the relay address of its own side (media.direction).
relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$rtp_min" "$rtp_max"
"${RELAY_ARGV[@]}" >"$tmp/rtpengine.log" 2>&1 &
rtpe_pid=$!
if ! ng_wait_pong "$NGA" 5; then
	fail "$RELAY relay does not answer ng ping:"
	tail -5 "$tmp/rtpengine.log"
	exit 1
fi
pass "$RELAY relay answers ng ping on $NGA (RTP ports $rtp_min-$rtp_max)"

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

# run NAME UAC-XML [UAS-XML]: CALLS calls, both sides must succeed; @return sipp's seconds.
run() {
	local name=$1 uac=$2 uas=${3:-} rc_uac rc_uas=0
	if [ -n "$uas" ]; then
		(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$uas" -p "$uas_port" -m "$CALLS" \
			-mp "$uas_media" -nostdin -trace_msg -message_file "$name.uas.msg" \
			-trace_err -error_file "$name.uas.err" >"$name.uas.out" 2>&1) &
		uas_pid=$!
		sleep 0.3
	fi
	(cd "$tmp" && timeout 60 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 10 \
		-l 10 -s bob -mp "$uac_media" -timeout 30s -timeout_error -nostdin -trace_msg \
		-message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1)
	rc_uac=$?
	if [ -n "$uas" ]; then
		wait "$uas_pid"
		rc_uas=$?
		uas_pid=""
	fi
	if [ "$rc_uac" -eq 0 ] && [ "$rc_uas" -eq 0 ]; then
		pass "$name: $CALLS calls, caller and callee scenarios complete"
	else
		fail "$name: sipp exit caller $rc_uac, callee $rc_uas"
		tail -n 5 "$tmp/$name.uac.out" ${uas:+"$tmp/$name.uas.out"}
	fi
}

# received TRACE: the messages sipp received (its -trace_msg file has both ways).
received() {
	awk '/message received/ { rx = 1; next } /message sent/ { rx = 0; next } rx' "$1"
}

# check_sdp NAME FILE WHO OTHER-MEDIA-PORT RELAY-IP: every m=audio in FILE is the relay's,
# on the relay address of WHO's side.
check_sdp() {
	local name=$1 file=$2 who=$3 other=$4 relay=$5 ports bad n
	received "$file" >"$file.rx"
	file=$file.rx
	ports=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$file" | tr -d '\r')
	n=$(echo "$ports" | grep -c .)
	bad=$(echo "$ports" | awk -v lo="$rtp_min" -v hi="$rtp_max" 'NF && ($1 < lo || $1 > hi)' | wc -l)
	if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]; then
		pass "$name: all $n SDPs the $who received have a relay port ($rtp_min-$rtp_max)"
	else
		fail "$name: the $who received $bad of $n SDPs with a port outside the relay's range"
	fi
	grep -q "^m=audio $other " "$file" && fail "$name: the $who saw the other side's media port $other"
	n=$(grep -c "^c=IN IP4" "$file")
	bad=$(grep "^c=IN IP4" "$file" | tr -d '\r' | grep -vc "^c=IN IP4 $relay$")
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] &&
		pass "$name: the $who's SDPs connect to the relay on its side ($relay)" ||
		fail "$name: $bad of $n c= lines the $who received are not the relay's $relay"
}

start_sbc "$ng_port"
run caller_bye b2b_uac_bye.xml b2b_uas_answer.xml
check_sdp caller_bye "$tmp/caller_bye.uas.msg" callee "$uac_media" 127.0.0.2
check_sdp caller_bye "$tmp/caller_bye.uac.msg" caller "$uas_media" 127.0.0.1
run hold_resume b2b_uac_hold.xml b2b_uas_hold.xml
check_sdp hold_resume "$tmp/hold_resume.uas.msg" callee "$uac_media" 127.0.0.2
check_sdp hold_resume "$tmp/hold_resume.uac.msg" caller "$uas_media" 127.0.0.1
grep -q "^a=recvonly" "$tmp/hold_resume.uac.msg" && pass "hold_resume: the hold answer reached the caller" ||
	fail "hold_resume: no a=recvonly answer in the caller's trace"

for _ in $(seq 30); do
	ng_empty && break
	sleep 0.2
done
ng_empty && pass "the relay has no session left after the calls" ||
	fail "sessions left on the relay: $(ng_list)"
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
for _ in $(seq 30); do
	status | grep -q "^calls: active=0 " && break
	sleep 0.2
done
status >"$tmp/status2.txt"
grep -q "^calls: active=0 " "$tmp/status2.txt" && pass "node_down: no call left" ||
	fail "node_down: calls left: $(grep ^calls: "$tmp/status2.txt")"
grep -q "^media: calls=0 " "$tmp/status2.txt" && pass "node_down: no media record left" ||
	fail "node_down: $(grep ^media: "$tmp/status2.txt")"
stop_sbc

# A node that anchors offers but refuses answers: the callee has answered, yet
# the caller must get 503 (never a 200 whose media goes nowhere), and the
# callee gets ACK and BYE.
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
        reply = {b"result": b"ok", b"sdp": cmd.get(b"sdp", b"")}
    elif name == b"answer":
        reply = {b"result": b"error", b"error-reason": b"no ports left"}
    else:
        reply = {b"result": b"ok"}
    print(name.decode(), reply[b"result"].decode(), flush=True)
    s.sendto(cookie + b" " + enc(reply), peer)
PY
fake_pid=$!
start_sbc "$fake_port"
run answer_fails media_uac_503.xml b2b_uas_answer.xml
kill "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null
grep -q "^answer error" "$tmp/fake-ng.log" &&
	pass "answer_fails: the node refused the answers, the caller got 503 after the callee's 200" ||
	fail "answer_fails: the fake node saw no answer: $(cat "$tmp/fake-ng.log")"
status | grep -q "^calls: active=0 " && pass "answer_fails: no call left" ||
	fail "answer_fails: $(status | grep ^calls:)"
stop_sbc

# The relay stops cleanly (ours under ASan: no leak of the calls it deleted).
kill -TERM "$rtpe_pid"
wait "$rtpe_pid"
rc=$?
rtpe_pid=""
[ "$rc" -eq 0 ] && pass "the $RELAY relay exits 0 on SIGTERM" ||
	{ fail "the $RELAY relay exit $rc"; tail -20 "$tmp/rtpengine.log"; }

cat "$tmp/status1.txt" "$tmp/status2.txt"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
