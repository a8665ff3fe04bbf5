#!/bin/bash
# The relay behind Debian's Kamailio and its rtpengine module, on loopback:
#   sipp caller (UAC, plays G.711 A-law from sipp's g711a.pcap) -> kamailio (tm, record-route,
#   rtpengine_offer / rtpengine_answer with direction=access/core, rtpengine_delete on BYE)
#   -> sipp callee (UAS with -rtp_echo: it sends every packet back to where it came from).
# The relay has two interfaces, access 127.0.0.1 and core 127.0.0.2. Checks: all CALLS calls
# complete on both sipps (exit 0); the SDP each side received names the relay (callee: core
# 127.0.0.2, caller: access 127.0.0.1) and a port of the relay's range; while the calls are up,
# ng `query` of each call shows packets received from both the caller and the callee (media
# went through the relay both ways); afterwards ng `list` is empty (Kamailio's delete ended
# every call) and Kamailio logged no rtpengine failure.
#
# RELAY=ours (default; the built rtpengine, BUILD_DIR) or RELAY=sipwise (/usr/bin/rtpengine).
# Exit 0 pass, 1 fail, 77 skip (kamailio, its rtpengine module, sipp, its g711a.pcap or
# Sipwise rtpengine missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
SIPP_DIR=$here/../sipp
KAMAILIO=$(command -v kamailio || ls /usr/sbin/kamailio 2>/dev/null)
KAM_MODULES=${KAM_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
PCAP=${RELAY_PCAP:-/usr/share/sip-tester/g711a.pcap}
[[ -n $KAMAILIO ]] || { echo "SKIP: kamailio is not installed"; exit 77; }
[[ -f $KAM_MODULES/rtpengine.so ]] || { echo "SKIP: kamailio's rtpengine module is not installed"; exit 77; }
command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
[[ -f $PCAP ]] || { echo "SKIP: no $PCAP (sip-tester)"; exit 77; }
relay_pick
CALLS=${SIPP_CALLS:-3}
HOLD_MS=${RELAY_HOLD_MS:-5000}

tmp=$(mktemp -d)
failures=0
relay_pid="" kam_pid="" uas_pid=""
stop_pid()
{
	[[ -n $1 ]] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup()
{
	stop_pid "$uas_pid"
	stop_pid "$kam_pid"
	stop_pid "$relay_pid"
	[[ $failures -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

base=$((30000 + $$ % 20000))
sip_port=$base uas_port=$((base + 1)) uac_port=$((base + 2)) ng_port=$((base + 3))
uac_media=$((base + 10)) uas_media=$((base + 20))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 199))
NGA=127.0.0.1:$ng_port

relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$pmin" "$pmax"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "$NGA" 5 || { fail "$RELAY relay does not answer ping on $NGA"; tail -20 "$tmp/relay.log"; exit 1; }
pass "$RELAY relay answers ping on $NGA (media ports $pmin-$pmax)"

sed -e "s/@SIP_PORT@/$sip_port/g" -e "s/@UAS_PORT@/$uas_port/g" -e "s/@NG@/$NGA/g" \
	"$here/kamailio/relay.cfg" >"$tmp/kamailio.cfg"
"$KAMAILIO" -f "$tmp/kamailio.cfg" -L "$KAM_MODULES" -DD -E -m 64 -M 8 -Y "$tmp" \
	>"$tmp/kamailio.log" 2>&1 &
kam_pid=$!
for _ in $(seq 50); do
	ss -Hlnu "sport = :$sip_port" | grep -q . && break
	kill -0 "$kam_pid" 2>/dev/null || break
	sleep 0.1
done
ss -Hlnu "sport = :$sip_port" | grep -q . || { fail "kamailio did not start"; tail -20 "$tmp/kamailio.log"; exit 1; }
pass "kamailio listens on 127.0.0.1:$sip_port"

ln -s "$PCAP" "$tmp/g711a.pcap"
(cd "$tmp" && exec timeout 60 sipp -sf "$SIPP_DIR/relay_uas_echo.xml" -i 127.0.0.1 -p "$uas_port" \
	-mp "$uas_media" -rtp_echo -m "$CALLS" -nostdin -trace_msg -message_file uas.msg \
	-trace_err -error_file uas.err >uas.out 2>&1) &
uas_pid=$!
sleep 0.3
(cd "$tmp" && exec timeout 60 sipp -sf "$SIPP_DIR/relay_uac_media.xml" -i 127.0.0.1 -p "$uac_port" \
	-mp "$uac_media" -m "$CALLS" -r 10 -l "$CALLS" -d "$HOLD_MS" -s 1000 -timeout 40s \
	-timeout_error -nostdin -trace_msg -message_file uac.msg -trace_err -error_file uac.err \
	"127.0.0.1:$sip_port" >uac.out 2>&1) &
uac_pid=$!

# While the calls are up (they last HOLD_MS): every call must show packets from both sides.
# Polled (sipp may start a call's audio late on a busy host) until each call has proved it or
# the calls are about to end.
# proved CALL-ID: 0 when the relay's query shows RTP from the caller and from the callee.
proved()
{
	local q total t from_caller=0 from_callee=0
	local -a per_tag
	q=$(ng "$NGA" "{\"command\":\"query\",\"call-id\":$(json_str "$1")}")
	echo "$q" >>"$tmp/query.json"
	total=$(jq -r '.totals.RTP.packets // 0 | tonumber' <<<"$q" 2>/dev/null)
	# per tag: packets received from that tag's endpoint (the tags are the two sipps')
	mapfile -t per_tag < <(jq -r '.tags | to_entries[] | select(.key | test("SIPpTag")) |
		"\(.key) \([.value.medias[]?.streams[]? | select((.flags // ["RTP"]) | index("RTP")) | .stats.packets | tonumber] | add // 0)"' <<<"$q" 2>/dev/null)
	for t in "${per_tag[@]}"; do
		case $t in
		*SIPpTag00*) from_caller=${t##* } ;;
		*SIPpTag01*) from_callee=${t##* } ;;
		esac
	done
	result="RTP total ${total:-?}, from caller $from_caller, from callee $from_callee"
	[[ ${total:-0} -gt 0 && $from_caller -gt 0 && $from_callee -gt 0 ]]
}
sleep 1
declare -A done_calls=()
cids=()
t_end=$((SECONDS + HOLD_MS / 1000))
while ((SECONDS < t_end)); do
	if [[ ${#cids[@]} -lt $CALLS ]]; then
		mapfile -t cids < <(ng "$NGA" '{"command":"list"}' | jq -r '.calls[]?')
	fi
	for cid in "${cids[@]}"; do
		[[ -n ${done_calls[$cid]:-} ]] && continue
		proved "$cid" && done_calls[$cid]=$result
	done
	[[ ${#cids[@]} -eq $CALLS && ${#done_calls[@]} -eq $CALLS ]] && break
	sleep 0.3
done
[[ ${#cids[@]} -eq $CALLS ]] && pass "list: $CALLS calls on the relay" || fail "list: ${#cids[@]} calls, not $CALLS"
for cid in "${cids[@]}"; do
	if [[ -n ${done_calls[$cid]:-} ]]; then
		pass "call $cid: media through the relay both ways (${done_calls[$cid]})"
	else
		proved "$cid"
		fail "call $cid: no media both ways while the call was up ($result)"
	fi
done

wait "$uac_pid"
rc_uac=$?
wait "$uas_pid"
rc_uas=$?
uas_pid=""
if [[ $rc_uac -eq 0 && $rc_uas -eq 0 ]]; then
	pass "$CALLS calls complete on both sipps"
else
	fail "sipp exit caller $rc_uac, callee $rc_uas"
	tail -n 5 "$tmp/uac.out" "$tmp/uas.out"
fi

# received FILE: the messages a sipp received (its -trace_msg file has both ways).
received() { awk '/message received/ { rx = 1; next } /message sent/ { rx = 0; next } rx' "$1" | tr -d '\r'; }
check_sdp()
{
	local who=$1 file=$2 want=$3 ports n bad
	ports=$(received "$file" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
	n=$(grep -c . <<<"$ports")
	bad=$(awk -v lo="$pmin" -v hi="$pmax" 'NF && ($1 < lo || $1 > hi)' <<<"$ports" | wc -l)
	[[ $n -ge $CALLS && $bad -eq 0 ]] && pass "the $who got $n SDPs with relay ports ($pmin-$pmax)" ||
		fail "the $who got $n SDPs, $bad with a port outside $pmin-$pmax"
	bad=$(received "$file" | grep '^c=IN IP4' | grep -vc "^c=IN IP4 $want$")
	[[ $bad -eq 0 ]] && pass "the $who's SDPs connect to the relay's $want" ||
		fail "$bad c= lines the $who received are not $want"
}
check_sdp callee "$tmp/uas.msg" 127.0.0.2
check_sdp caller "$tmp/uac.msg" 127.0.0.1

for _ in $(seq 20); do
	[[ $(ng "$NGA" '{"command":"list"}' | jq '.calls | length') == 0 ]] && break
	sleep 0.2
done
list=$(ng "$NGA" '{"command":"list"}')
[[ $(jq '.calls | length' <<<"$list") == 0 ]] && pass "no call left on the relay" || fail "calls left: $list"
grep -q "rtpengine_.* failed\|ERROR.*rtpengine" "$tmp/kamailio.log" &&
	fail "kamailio: $(grep -m3 "rtpengine_.* failed\|ERROR.*rtpengine" "$tmp/kamailio.log")"
kill -0 "$relay_pid" 2>/dev/null || fail "the relay died"

echo "$failures failure(s) against RELAY=$RELAY"
[[ $failures -eq 0 ]]
