#!/usr/bin/env bash
# Hold and resume by re-INVITE across the sbc, the caller behind the symmetric NAT, the
# callee on the core side (seed flows "会话更改" and "呼叫保持"). Each call: the caller
# holds with a=sendonly (the callee must see sendonly, the caller the callee's recvonly),
# resumes (sendrecv both ways); then the callee holds the RFC 2543 way, c=0.0.0.0, and
# resumes, by its own re-INVITEs, which must reach the caller through the NAT with that
# SDP. The sipp scenarios check every SDP they get. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"
TOPO_DEADLINE_S=80
require_root_netns
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
CALLS=${FLOW_CALLS:-3}
: "${FLOW_RELAY:=1}"
[[ $FLOW_RELAY == 1 ]] && { command -v jq >/dev/null || topo_skip "jq is not installed"; relay_pick; }

topo_up || fail "topology"
# shellcheck source-path=SCRIPTDIR source=lib/flows.sh
. "$here/lib/flows.sh"
flows_sbc_start ""

phone callee callee 5060 flow_uas_hold.xml -m "$CALLS"
dial caller 5070 flow_uac_hold.xml -m "$CALLS" -r 5
done_ok caller "$CALLS calls: caller hold (sendonly) and resume seen by the callee"
done_ok callee "$CALLS calls: callee hold (c=0.0.0.0) and resume seen by the caller"
if ! grep -q "a=sendonly" "$TOPO_LOG_DIR/callee.msg" ||
	! grep -q "c=IN IP4 0.0.0.0" "$TOPO_LOG_DIR/caller.msg"; then
	fail "the hold SDP is missing from the traces"
fi
sbc_idle hold
stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"

[[ $FLOW_RELAY == 1 ]] || exit 0

# The same flow through the relay.
PMIN=30000 PMAX=30099 NGA=127.0.0.1:2223
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 "$PMIN" "$PMAX"
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
ngs() { in_ns sbc python3 "$NG_TOOL" "$NGA" "$1"; }
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 ngs '{"command":"ping"}' 2>/dev/null | grep -q pong && break
	sleep 0.1
done
ngs '{"command":"ping"}' | grep -q pong || fail "$RELAY relay does not answer ping"
flows_sbc_start "media: { rtpengine = [ \"$NGA\" ]; direction = [ \"access\", \"core\" ]; };"
phone callee-relay callee 5060 flow_uas_hold.xml -m "$CALLS"
dial caller-relay 5070 flow_uac_hold.xml -m "$CALLS" -r 5
done_ok caller-relay "relay: $CALLS calls: caller hold (sendonly) and resume seen by the callee"
done_ok callee-relay "relay: $CALLS calls: callee hold (c=0.0.0.0) and resume seen by the caller"

# sdp_seen TRACE: "Call-ID c ADDRESS" and "Call-ID m PORT" for each SDP line the phone received.
sdp_seen()
{
	tr -d '\r' <"$TOPO_LOG_DIR/$1" | awk '
		/message received/ { rx = 1; next }
		/message sent/ { rx = 0; next }
		rx && tolower($1) ~ /^(call-id|i):$/ { cid = $2 }
		rx && /^c=IN IP4 / { print cid, "c", $3 }
		rx && /^m=audio / { print cid, "m", $2 }'
}
# check_relay_sdp WHO TRACE RELAY-IP: the c= lines name the relay (or 0.0.0.0), the ports
# are the relay's, one per call.
check_relay_sdp()
{
	local who=$1 seen bad n
	seen=$(sdp_seen "$2")
	n=$(awk '$2 == "m"' <<<"$seen" | wc -l)
	bad=$(awk -v r="$3" '$2 == "c" && $3 != r && $3 != "0.0.0.0"' <<<"$seen")
	[[ -z $bad ]] || fail "relay: the $who got SDP addresses that are not the relay's $3: $bad"
	bad=$(awk -v lo="$PMIN" -v hi="$PMAX" '$2 == "m" && ($3 < lo || $3 > hi)' <<<"$seen")
	[[ $n -ge $((CALLS * 3)) && -z $bad ]] || fail "relay: the $who got $n SDPs, ports outside $PMIN-$PMAX: $bad"
	bad=$(awk '$2 == "m" { p[$1][$3] = 1 } END { for (c in p) if (length(p[c]) != 1) print c }' <<<"$seen")
	[[ -z $bad ]] || fail "relay: the relay port the $who got changed within a call: $(grep -F "$bad" <<<"$seen" | tr '\n' ' ')"
	pass "relay: the $who got $n SDPs, all from the relay ($3), one port per call through the re-INVITEs"
}
check_relay_sdp callee callee-relay.msg "$SBC_CORE_IP"
check_relay_sdp caller caller-relay.msg "$SBC_ACCESS_IP"
if ! grep -q "a=sendonly" "$TOPO_LOG_DIR/callee-relay.msg" ||
	! grep -q "c=IN IP4 0.0.0.0" "$TOPO_LOG_DIR/caller-relay.msg"; then
	fail "relay: the hold SDP is missing from the traces"
fi
pass "relay: sendonly reached the callee and c=0.0.0.0 the caller through the relay"
sbc_idle hold-relay
left=""
for _ in $(seq 30); do
	left=$(ngs '{"command":"list"}' | jq -r '.calls | length')
	[[ $left == 0 ]] && break
	sleep 0.1
done
[[ $left == 0 ]] || fail "relay: calls left on the relay: $(ngs '{"command":"list"}')"
pass "relay: no call left on the relay"
stop_daemon sbc || fail "sbc did not exit cleanly"
stop_daemon relay || fail "the relay did not exit cleanly"
pass "sbc and relay exit 0"
