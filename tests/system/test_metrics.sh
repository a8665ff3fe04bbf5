#!/bin/bash
# Prometheus metrics of both daemons on loopback (metrics.listen): each is started with the
# endpoint on, scraped before and after a little traffic, and every scrape must be a valid text
# exposition (metrics_scrape.py: HELP and TYPE per family, samples "name{labels} value").
#   rtpengine: ng ping, offer, answer, RTP both ways through the relay, delete, an unknown
#              command; ng, call, port and per-interface traffic counters must move.
#   sbc:       sipp OPTIONS pings and an invalid message; SIP received/sent counters by
#              transport, method and class, and parse errors must move.
# Exit 0 pass, 1 fail, 77 skip (python3 or sipp missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
export RELAY=ours # metrics are ours; Sipwise rtpengine has its own
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
relay_pick
command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

tmp=$(mktemp -d)
failures=0
pids=()
cleanup()
{
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[[ $failures -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

base=$((30000 + $$ % 20000))
ng_port=$base
relay_metrics=$((base + 1))
sip_port=$((base + 2))
sbc_metrics=$((base + 4))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 99))

# scrape NAME PORT: validated samples in $tmp/NAME.prom (fails the test when invalid).
scrape()
{
	python3 "$here/metrics_scrape.py" "http://127.0.0.1:$2/metrics" >"$tmp/$1.prom" 2>"$tmp/$1.err" &&
		pass "$1: valid exposition ($(wc -l <"$tmp/$1.prom") samples)" ||
		fail "$1: $(cat "$tmp/$1.err")"
}
# value NAME SAMPLE: the value of one sample ("name" or "name{labels}") of a scrape, or 0.
value()
{
	awk -v k="$2" '$1 == k { v = $2 } END { print v == "" ? 0 : v }' "$tmp/$1.prom"
}
# grew BEFORE AFTER SAMPLE [MIN]: the sample went up by at least MIN (default 1).
grew()
{
	local a b
	a=$(value "$1" "$3")
	b=$(value "$2" "$3")
	if awk -v a="$a" -v b="$b" -v m="${4:-1}" 'BEGIN { exit !(b - a >= m) }'; then
		pass "$3: $a -> $b"
	else
		fail "$3: $a -> $b, expected +${4:-1}"
	fi
}
# is SCRAPE SAMPLE WANT
is()
{
	local v
	v=$(value "$1" "$2")
	[[ $v == "$3" ]] && pass "$2 = $3" || fail "$2 = $v, expected $3"
}
# stop PID NAME: SIGTERM and a clean exit.
stop()
{
	local rc
	kill -TERM "$1"
	wait "$1"
	rc=$?
	[[ $rc -eq 0 ]] && pass "$2 stopped cleanly" || fail "$2 exit $rc"
}

# --- rtpengine -------------------------------------------------------------------------
NGA=127.0.0.1:$ng_port
RELAY_OURS_EXTRA_CONF="metrics: { listen = \"127.0.0.1:$relay_metrics\"; };"
relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$pmin" "$pmax"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
pids+=("$relay_pid")
ng_wait_pong "$NGA" 5 || { fail "relay does not answer ping"; tail -20 "$tmp/relay.log"; exit 1; }
scrape relay0 "$relay_metrics"
ng "$NGA" '{"command":"ping"}' >/dev/null

# The caller's and callee's RTP sockets: their ports go into the SDP.
a_port=$((pmax + 2))
b_port=$((pmax + 4))
sdp()
{
	printf 'v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' "$1" "$1" "$2"
}
json() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
offer=$(ng "$NGA" "{\"command\":\"offer\",\"call-id\":\"m1\",\"from-tag\":\"ta\",\"direction\":[\"access\",\"core\"],\"sdp\":$(json "$(sdp 127.0.0.1 $a_port)")}")
answer=$(ng "$NGA" "{\"command\":\"answer\",\"call-id\":\"m1\",\"from-tag\":\"ta\",\"to-tag\":\"tb\",\"sdp\":$(json "$(sdp 127.0.0.2 $b_port)")}")
[[ $(ng_field "$offer" result) == ok && $(ng_field "$answer" result) == ok ]] &&
	pass "offer and answer" || fail "offer: $offer answer: $answer"
relay_b=$(sdp_media_port "$(ng_field "$offer" sdp)")  # where the callee sends
relay_a=$(sdp_media_port "$(ng_field "$answer" sdp)") # where the caller sends
ng "$NGA" '{"command":"bogus"}' >/dev/null

# 10 RTP packets each way, each side from the address its SDP signalled.
python3 - "$a_port" "$relay_a" "$b_port" "$relay_b" <<'PY'
import socket, struct, sys, time
a_port, relay_a, b_port, relay_b = map(int, sys.argv[1:])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", a_port))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.2", b_port))
for seq in range(10):
    a.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 1111) + b"\xff" * 160, ("127.0.0.1", relay_a))
    b.sendto(struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 2222) + b"\xff" * 160, ("127.0.0.2", relay_b))
    time.sleep(0.01)
time.sleep(0.3)
PY
scrape relay1 "$relay_metrics"
is relay1 rtpengine_calls 1
is relay1 rtpengine_monologues 2
is relay1 rtpengine_streams 4
grew relay0 relay1 'rtpengine_packets_total{interface="access"}' 10
grew relay0 relay1 'rtpengine_packets_total{interface="core"}' 10
grew relay0 relay1 'rtpengine_bytes_total{interface="access"}' 1720
free=$(value relay1 'rtpengine_ports_free{interface="access"}')
total=$(value relay1 'rtpengine_ports_total{interface="access"}')
[[ $free -lt $total ]] && pass "ports in use: $free of $total free" || fail "ports free $free of $total"

ng "$NGA" '{"command":"delete","call-id":"m1","from-tag":"ta"}' >/dev/null
scrape relay2 "$relay_metrics"
grew relay0 relay2 'rtpengine_ng_commands_total{command="ping",result="pong"}'
grew relay0 relay2 'rtpengine_ng_commands_total{command="offer",result="ok"}'
grew relay0 relay2 'rtpengine_ng_commands_total{command="answer",result="ok"}'
grew relay0 relay2 'rtpengine_ng_commands_total{command="delete",result="ok"}'
grew relay0 relay2 'rtpengine_ng_commands_total{command="other",result="error"}'
grew relay0 relay2 rtpengine_calls_created_total
grew relay0 relay2 'rtpengine_calls_deleted_total{reason="delete"}'
is relay2 rtpengine_calls 0
is relay2 rtpengine_streams 0
# deleted flows keep their counts
grew relay0 relay2 'rtpengine_packets_total{interface="access"}' 10
grep -q '^rtpengine_refused_total{interface="access"}' "$tmp/relay2.prom" &&
	pass "refused counted per interface" || fail "no rtpengine_refused_total"
stop "$relay_pid" rtpengine

# --- sbc -------------------------------------------------------------------------------
uas_port=$((base + 5))
uac_port=$((base + 6))
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $sip_port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: { default_route = "udp:127.0.0.1:$uas_port"; };
registrar: {
  mode = "local";
  algorithms = "MD5";
  users = ( { username = "alice"; domain = "example.com"; password = "wonderland"; } );
};
cdr: { file = "$tmp/cdr.json"; };
control: { socket = "$tmp/sbc.ctl"; };
metrics: { listen = "127.0.0.1:$sbc_metrics"; };
CONF
"$BUILD_DIR/sbc/sbc" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
sbc_pid=$!
pids+=("$sbc_pid")
for _ in $(seq 50); do
	ss -lntH "sport = :$sbc_metrics" | grep -q . && break
	sleep 0.1
done
scrape sbc0 "$sbc_metrics"

# sipp SCENARIO ARGS...: bounded, output in $tmp.
sipp_run()
{
	local sf=$1
	shift
	(cd "$tmp" && timeout 60 sipp -sf "$SOURCE_DIR/tests/sipp/$sf" -nostdin -timeout 30s \
		-timeout_error "$@" >>"$tmp/sipp.out" 2>&1)
}
sipp_run options_uac.xml -m 10 -r 50 -p "$uac_port" "127.0.0.1:$sip_port" &&
	pass "10 OPTIONS answered" || fail "sipp OPTIONS"
sipp_run register_bad_password.xml -s alice -au alice -ap wrong -m 1 -p "$uac_port" \
	"127.0.0.1:$sip_port" || true
# one call, answered by the callee and hung up by the caller
(cd "$tmp" && exec timeout 60 sipp -sf "$SOURCE_DIR/tests/sipp/b2b_uas_answer.xml" -p "$uas_port" \
	-m 1 -nostdin >"$tmp/uas.out" 2>&1) &
uas_pid=$!
pids+=("$uas_pid")
sleep 0.3
sipp_run b2b_uac_bye.xml -s bob -m 1 -p "$uac_port" "127.0.0.1:$sip_port" &&
	pass "one call through the sbc" || fail "sipp call"
wait "$uas_pid"
# not SIP at all: the parser refuses it (no Via: dropped, not answered)
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b"INVITE sip:x SIP/2.0\r\nbogus\r\n\r\n",("127.0.0.1",int(sys.argv[1])))' "$sip_port"
sleep 0.3
scrape sbc1 "$sbc_metrics"
udp="transport=\"udp\",listener=\"127.0.0.1:$sip_port\",interface=\"access\""
grew sbc0 sbc1 "sbc_sip_messages_received_total{$udp}" 15
grew sbc0 sbc1 "sbc_sip_messages_sent_total{$udp}" 15
grew sbc0 sbc1 'sbc_sip_requests_received_total{method="OPTIONS"}' 10
grew sbc0 sbc1 'sbc_sip_requests_received_total{method="INVITE"}' 1
grew sbc0 sbc1 'sbc_sip_requests_received_total{method="REGISTER"}' 1
grew sbc0 sbc1 'sbc_sip_responses_sent_total{class="2xx"}' 12
grew sbc0 sbc1 'sbc_sip_requests_sent_total{method="INVITE"}' 1
grew sbc0 sbc1 'sbc_sip_responses_received_total{class="2xx"}' 1
grew sbc0 sbc1 sbc_sip_parse_errors_total 1
grew sbc0 sbc1 sbc_calls_created_total 1
grew sbc0 sbc1 'sbc_calls_total{disposition="answered"}' 1
grew sbc0 sbc1 sbc_registrar_requests_total 1
grew sbc0 sbc1 sbc_cdrs_written_total 1
is sbc1 sbc_calls 0
grew sbc0 sbc1 sbc_transactions_server_total 12
grew sbc0 sbc1 'sbc_registrar_responses_total{result="challenged"}' 1
stop "$sbc_pid" sbc
pids=()
[[ $failures -eq 0 ]] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
