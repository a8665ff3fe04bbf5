# shellcheck shell=bash
# tests/system/media_lib.sh: what the system tests of the sbc with a media relay share
# (test_media.sh, test_b2bua_late_offer.sh): sipp caller -> sbc -> sipp callee on loopback,
# the sbc's media.rtpengine pointing at a relay with two interfaces, access 127.0.0.1 and
# core 127.0.0.2. Sourced after relay_lib.sh and relay_pick; needs BUILD_DIR, SOURCE_DIR.
#   sets SBC CTL SIPP_DIR CALLS tmp, ports: port uas_port uac_port ng_port fake_port
#        rtp_min rtp_max uac_media uas_media, NGA (the relay's ng address)
#   pass MSG / fail MSG           count results (fail does not exit)
#   start_relay                   the relay on NGA, answering ping
#   stop_relay                    SIGTERM, expect exit 0 (ours under ASan: no leak)
#   start_fake_ng REFUSE          tests/system/fake_ng.py on fake_port, refusing REFUSE
#                                 (offer|answer); its log is $tmp/fake-ng.log
#   start_sbc NG-PORT / stop_sbc  an sbc whose media goes to that ng port; SIGTERM, exit 0
#   status                        `sbcctl status`
#   run NAME UAC-XML [UAS-XML [CALL-MS]]   CALLS calls, both sides must complete; with
#                                 DURING=command, runs it a second into the calls
#   check_sdp NAME FILE WHO OTHER-MEDIA-PORT RELAY-IP [MIN]   every SDP WHO received (at
#                                 least MIN m= lines) is the relay's, on its side's address
#   relay_calls / relay_empty NAME    calls the relay lists / waits until it lists none
#   wait_no_call                  waits until the sbc has no active call
# Processes are stopped by PID on exit; logs are kept when something failed.
set -u
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
media_lib_cleanup() {
	[ -n "$uas_pid" ] && kill -KILL "$uas_pid" 2>/dev/null
	stop_pid "$sbc_pid"
	stop_pid "$relay_pid"
	stop_pid "$fake_pid"
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap media_lib_cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

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

start_relay() {
	relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$rtp_min" "$rtp_max"
	"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
	relay_pid=$!
	ng_wait_pong "$NGA" 5 ||
		{ fail "the $RELAY relay does not answer ping on $NGA"; tail -20 "$tmp/relay.log"; exit 1; }
	pass "the $RELAY relay answers ng ping on $NGA (RTP ports $rtp_min-$rtp_max)"
}

stop_relay() {
	local rc
	kill -TERM "$relay_pid"
	wait "$relay_pid"
	rc=$?
	relay_pid=""
	[ "$rc" -eq 0 ] && pass "the $RELAY relay exits 0 on SIGTERM" ||
		{ fail "the $RELAY relay exit $rc"; tail -20 "$tmp/relay.log"; }
}

start_fake_ng() {
	python3 "$SOURCE_DIR/tests/system/fake_ng.py" "$fake_port" 3600 "$1" >"$tmp/fake-ng.log" 2>&1 &
	fake_pid=$!
	ng_wait_pong "127.0.0.1:$fake_port" 5 || { fail "fake_ng.py does not answer ping"; exit 1; }
}

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

run() {
	local name=$1 uac=$2 uas=${3:-} ms=${4:-100} rc_uac rc_uas=0 uac_pid
	if [ -n "$uas" ]; then
		(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$uas" -p "$uas_port" -m "$CALLS" \
			-mp "$uas_media" -nostdin -trace_msg -message_file "$name.uas.msg" \
			-trace_err -error_file "$name.uas.err" >"$name.uas.out" 2>&1) &
		uas_pid=$!
		sleep 0.3
	fi
	(cd "$tmp" && exec timeout 60 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 10 \
		-l 10 -s bob -d "$ms" -mp "$uac_media" -timeout 30s -timeout_error -nostdin \
		-trace_msg -message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1) &
	uac_pid=$!
	[ -n "${DURING:-}" ] && sleep 1 && $DURING
	wait "$uac_pid"
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
		tail -n 5 "$tmp/$name.uac.out" "$tmp/$name.uac.err" \
			${uas:+"$tmp/$name.uas.out" "$tmp/$name.uas.err"} 2>/dev/null
	fi
}

# received TRACE: the messages sipp received (its -trace_msg file has both ways).
received() {
	awk '/message received/ { rx = 1; next } /message sent/ { rx = 0; next } rx' "$1"
}

check_sdp() {
	local name=$1 file=$2 who=$3 other=$4 relay=$5 min=${6:-1} ports bad n
	received "$file" | tr -d '\r' >"$file.rx"
	file=$file.rx
	ports=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$file")
	n=$(echo "$ports" | grep -c .)
	bad=$(echo "$ports" | awk -v lo="$rtp_min" -v hi="$rtp_max" 'NF && ($1 < lo || $1 > hi)' | wc -l)
	if [ "$n" -ge "$min" ] && [ "$bad" -eq 0 ]; then
		pass "$name: all $n SDPs the $who received have a relay port ($rtp_min-$rtp_max)"
	else
		fail "$name: the $who received $n SDPs (at least $min expected), $bad outside the relay's ports"
	fi
	grep -q "^m=audio $other " "$file" && fail "$name: the $who saw the other side's media port $other"
	n=$(grep -c "^c=IN IP4" "$file")
	bad=$(grep "^c=IN IP4" "$file" | grep -vc "^c=IN IP4 $relay$")
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] &&
		pass "$name: the $who's SDPs connect to the relay on its side ($relay)" ||
		fail "$name: $bad of $n c= lines the $who received are not the relay's $relay"
}

relay_calls() {
	ng "$NGA" '{"command":"list"}' |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("calls", [])))'
}

relay_empty() {
	local n
	for _ in $(seq 30); do
		n=$(relay_calls)
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	[ "$n" = 0 ] && pass "$1: the relay has no call left" || fail "$1: $n calls left on the relay"
}

wait_no_call() {
	for _ in $(seq 30); do
		status | grep -q "^calls: active=0 " && return 0
		sleep 0.2
	done
	return 1
}
