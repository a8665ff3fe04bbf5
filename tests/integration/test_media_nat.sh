#!/usr/bin/env bash
# Media anchored by our relay, end to end: calls from a phone behind the symmetric NAT to a
# callee on the core side through the sbc, whose media.rtpengine is the relay in the sbc
# namespace (interfaces access = SBC_ACCESS_IP and core = SBC_CORE_IP, media.direction).
#
#   caller (sipp + rtp_load, 192.168.71.2) -> nat (masquerade fully-random) -> sbc access
#   203.0.113.10 [sbc + relay] sbc core 198.51.100.10 -> callee (sipp + rtp_load, 198.51.100.20)
#
# MEDIA_CALLS calls one after the other, then one more that first holds and resumes both
# ways (caller sendonly, callee c=0.0.0.0, sipp checks every SDP): once the callee has answered (ng `query` shows the
# callee's signalled endpoint), rtp_load endpoints on the SDP ports of both phones send RTP to
# the relay ports the relay handed out (read from ng `query`: the tag whose party is the
# caller, by its SDP or NAT address, gives the caller's port; the callee's tag the callee's), the caller first, as the relay cannot reach it
# through the NAT before its first packet. Pass: each side receives >= 95% of what the other
# sent, only from the relay address of its side; the relay latched the caller at the NAT's
# public address (not the private one of its SDP); tshark on the core side sees in SIP, SDP
# and RTP only the sbc's core address and the callee (nothing of 192.168.71.x / 203.0.113.x),
# on the access side nothing of the core network (198.51.100.x); after the BYEs the relay
# lists no call and the sbc has no call nor media record left.
#
# RELAY=ours (default; SBC_BUILD_DIR/rtpengine/rtpengine) or RELAY=sipwise. RTP_LOAD: the
# built rtp_load. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"
TOPO_DEADLINE_S=85

require_root_netns
: "${SBC_BUILD_DIR:?}"
SIPP_DIR=$here/../sipp
SBCCTL=$SBC_BUILD_DIR/sbc/sbcctl
command -v sipp >/dev/null || topo_skip "sipp is not installed"
command -v tshark >/dev/null || topo_skip "tshark is not installed"
command -v jq >/dev/null || topo_skip "jq is not installed"
relay_pick
[[ -n ${RTP_LOAD:-} && -x $RTP_LOAD ]] || RTP_LOAD=$SBC_BUILD_DIR/tests/integration/rtp_load
[[ -x $RTP_LOAD ]] || fail "no rtp_load (set RTP_LOAD or SBC_BUILD_DIR)"
CALLS=${MEDIA_CALLS:-2}
COUNT=${RTP_COUNT:-150}
PPS=50
PMIN=30000 PMAX=30099
NGA=127.0.0.1:2223
CALLER_RTP=40000 CALLEE_RTP=40002
TALK_MS=$((COUNT * 1000 / PPS + 5000)) # the caller's BYE comes after the media

topo_up || fail "topology"
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 "$PMIN" "$PMAX"
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
ngs() { in_ns sbc python3 "$NG_TOOL" "$NGA" "$1"; }
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 ngs '{"command":"ping"}' 2>/dev/null | grep -q pong && break
	sleep 0.1
done
ngs '{"command":"ping"}' | grep -q pong || fail "$RELAY relay does not answer ping"
pass "$RELAY relay: access $SBC_ACCESS_IP, core $SBC_CORE_IP, ports $PMIN-$PMAX"

conf=$TOPO_LOG_DIR/sbc.conf
cat >"$conf" <<CONF
log: { level = "info"; };
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
routing: {
  trunks = ( { name = "callee"; address = "$CALLEE_IP:5060"; } );
  routes = ( { prefix = "+1"; trunks = [ "callee" ]; } );
};
media: {
  rtpengine = [ "$NGA" ];
  direction = [ "access", "core" ];
};
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF
start_daemon sbc sbc sbc.log "$SBC_BUILD_DIR/sbc/sbc" -f "$conf"
wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || fail "sbc does not listen"
for side in access core; do
	ifc=$SBC_ACCESS_IF
	[[ $side == core ]] && ifc=$SBC_CORE_IF
	start_daemon "tshark-$side" sbc "tshark-$side.log" \
		tshark -Q -i "$ifc" -f udp -w "$TOPO_LOG_DIR/$side.pcap"
done
sleep 1.5 # tshark needs a moment before it captures

kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
# wait_gone NAME SECS: until that daemon ended by itself; then its exit status.
wait_gone() { wait_daemon "$1" "$2"; }

# stream_of IP...: from an ng `query` reply on stdin, the RTP stream (first of its tag) whose
# party is at one of the IPs (signalled or latched): which tag is which, whichever the relay.
stream_of()
{
	jq -c --args '[.tags[] | .medias[0]?.streams[0]? // empty |
		select((.endpoint.address as $a | $ARGS.positional | index($a)) or
		       ((.["advertised endpoint"].address // "") as $a | $ARGS.positional | index($a)))][0] // empty' "$@"
}

# media_call I UAC UAS ACKS: one call with RTP both ways once the caller's trace has ACKS
# ACK requests (sent and received: the re-INVITEs are done); fails the test on any missed check.
media_call()
{
	local i=$1 uac=$2 uas=$3 acks=$4 cid query acc_port core_port out_caller out_callee rx tx latched
	start_daemon "uas$i" callee "uas$i.log" timeout 40 sipp -sf "$SIPP_DIR/$uas" \
		-i "$CALLEE_IP" -p 5060 -mp 46000 -set rtp "$CALLEE_RTP" -m 1 -nostdin -trace_msg \
		-message_file "$TOPO_LOG_DIR/uas$i.msg"
	wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "callee sipp does not listen"
	start_daemon "uac$i" caller "uac$i.log" timeout 40 sipp -sf "$SIPP_DIR/$uac" \
		-s +15551234 -key caller alice -i "$CALLER_IP" -p 5070 -mp 46000 \
		-set rtp "$CALLER_RTP" -d "$TALK_MS" -m 1 -timeout 30s -timeout_error -nostdin \
		-trace_msg -message_file "$TOPO_LOG_DIR/uac$i.msg" "$SBC_ACCESS_IP:5060"
	for _ in $(seq 100); do
		(($(grep -c '^ACK ' "$TOPO_LOG_DIR/uac$i.msg" 2>/dev/null) >= acks)) && break
		sleep 0.1
	done
	(($(grep -c '^ACK ' "$TOPO_LOG_DIR/uac$i.msg" 2>/dev/null) >= acks)) ||
		fail "call $i: the caller's trace has not $acks ACKs (uac$i.msg)"
	# Answered: the relay knows the callee's endpoint from the answer SDP.
	cid="" query=""
	for _ in $(seq 100); do
		cid=$(ngs '{"command":"list"}' 2>/dev/null | jq -r '.calls[0] // empty')
		if [[ -n $cid ]]; then
			query=$(ngs "{\"command\":\"query\",\"call-id\":$(json_str "$cid")}" 2>/dev/null)
			jq -e --arg ip "$CALLEE_IP" '[.tags[] | .medias[]?.streams[]? |
				select(.endpoint.address == $ip)] | length > 0' \
				<<<"$query" >/dev/null 2>&1 && break
		fi
		sleep 0.1
	done
	acc_port=$(stream_of "$CALLER_IP" "$NAT_OUT_IP" <<<"$query" | jq -r '.["local port"]')
	core_port=$(stream_of "$CALLEE_IP" <<<"$query" | jq -r '.["local port"]')
	[[ -n $acc_port && -n $core_port ]] || fail "call $i: no answered call on the relay: $query"
	pass "call $i ($cid): the caller sends to $SBC_ACCESS_IP:$acc_port, the callee to $SBC_CORE_IP:$core_port"
	RTP_LOAD_DELAY_MS=500 start_daemon "callee-rtp$i" callee "callee-rtp$i.log" "$RTP_LOAD" \
		stream "$CALLEE_IP:$CALLEE_RTP" "$SBC_CORE_IP:$core_port" "$COUNT" "$PPS" 0x2222 1500 0x1111
	wait_listen callee udp "$CALLEE_IP" "$CALLEE_RTP" 5 || fail "the callee's RTP socket"
	RTP_LOAD_DELAY_MS=200 start_daemon "caller-rtp$i" caller "caller-rtp$i.log" "$RTP_LOAD" \
		stream "$CALLER_IP:$CALLER_RTP" "$SBC_ACCESS_IP:$acc_port" "$COUNT" "$PPS" 0x1111 1500 0x2222
	sleep $((COUNT / PPS / 2))
	ngs "{\"command\":\"query\",\"call-id\":$(json_str "$cid")}" >"$TOPO_LOG_DIR/query$i.json"
	wait_gone "caller-rtp$i" $((COUNT / PPS + 5)) || fail "call $i: the caller's rtp_load failed"
	wait_gone "callee-rtp$i" $((COUNT / PPS + 5)) || fail "call $i: the callee's rtp_load failed"
	wait_gone "uac$i" 15 || fail "call $i: the caller's sipp failed (uac$i.log)"
	wait_gone "uas$i" 5 || fail "call $i: the callee's sipp failed (uas$i.log)"
	pass "call $i: answered and hung up by the caller, both sipps complete"

	out_caller=$(grep -h '^sent=' "$TOPO_LOG_DIR/caller-rtp$i.log" | tail -1)
	out_callee=$(grep -h '^sent=' "$TOPO_LOG_DIR/callee-rtp$i.log" | tail -1)
	echo "caller: $out_caller"
	echo "callee: $out_callee"
	rx=$(kv "$out_caller" from_peer) tx=$(kv "$out_callee" sent)
	[[ -n $rx && -n $tx && $tx -gt 0 && $((rx * 100)) -ge $((tx * 95)) ]] ||
		fail "call $i: the caller received ${rx:-?} of the callee's ${tx:-?} packets"
	pass "call $i: the caller received $rx of the callee's $tx packets"
	rx=$(kv "$out_callee" from_peer) tx=$(kv "$out_caller" sent)
	[[ -n $rx && -n $tx && $tx -gt 0 && $((rx * 100)) -ge $((tx * 95)) ]] ||
		fail "call $i: the callee received ${rx:-?} of the caller's ${tx:-?} packets"
	pass "call $i: the callee received $rx of the caller's $tx packets"
	[[ $(kv "$out_caller" sources) == "$SBC_ACCESS_IP:$acc_port" ]] ||
		fail "call $i: the caller heard from $(kv "$out_caller" sources)"
	[[ $(kv "$out_callee" sources) == "$SBC_CORE_IP:$core_port" ]] ||
		fail "call $i: the callee heard from $(kv "$out_callee" sources)"
	pass "call $i: each side heard only the relay on its side"
	latched=$(stream_of "$CALLER_IP" "$NAT_OUT_IP" <"$TOPO_LOG_DIR/query$i.json" |
		jq -r '"\(.endpoint.address):\(.endpoint.port)"')
	[[ $latched == "$NAT_OUT_IP":* ]] ||
		fail "call $i: the relay's caller endpoint is $latched, not the NAT's $NAT_OUT_IP"
	pass "call $i: the relay latched the caller at the NAT's mapping $latched (SDP: $CALLER_IP:$CALLER_RTP)"
}

for ((c = 1; c <= CALLS; c++)); do
	media_call "$c" media_uac_talk.xml media_uas_talk.xml 1
done
# Hold and resume both ways first (the caller with sendonly, the callee with c=0.0.0.0),
# then the media: the relay must send to each side's real address again.
CALLS=$((CALLS + 1))
media_call "$CALLS" media_uac_hold.xml media_uas_hold.xml 5
pass "call $CALLS: media both ways after hold and resume by both sides"

# After the BYEs: nothing on the relay, nothing in the sbc.
left=""
for _ in $(seq 30); do
	left=$(ngs '{"command":"list"}' | jq -r '.calls | length')
	[[ $left == 0 ]] && break
	sleep 0.1
done
[[ $left == 0 ]] || fail "calls left on the relay: $(ngs '{"command":"list"}')"
pass "the relay lists no call after the BYEs"
st=$("$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status)
grep -q "^calls: active=0 " <<<"$st" || fail "calls left in the sbc: $(grep ^calls: <<<"$st")"
offers=$((CALLS - 1 + 5)) # the last call: INVITE and 4 re-INVITEs
grep -q "^media: calls=0 offers=$offers answers=$offers deletes=$CALLS .*failed=0" <<<"$st" ||
	fail "sbc media counters: $(grep ^media: <<<"$st")"
pass "sbc: $(grep ^media: <<<"$st")"

sleep 0.5
stop_daemon tshark-access
stop_daemon tshark-core

# What crossed each sbc interface: SIP messages whole (headers and SDP), and the IP
# addresses of every packet (SIP and RTP).
sip_text() { tshark -r "$TOPO_LOG_DIR/$1.pcap" -Y sip -T fields -e sip.msg_hdr -e sip.msg_body 2>/dev/null; }
ips() { tshark -r "$TOPO_LOG_DIR/$1.pcap" -Y udp -T fields -e ip.src -e ip.dst 2>/dev/null | tr '\t' '\n' | sort -u; }
sip_text core >"$TOPO_LOG_DIR/core.sip"
sip_text access >"$TOPO_LOG_DIR/access.sip"
grep -q "c=IN IP4 $SBC_CORE_IP" "$TOPO_LOG_DIR/core.sip" || fail "no relay SDP captured on the core side"
grep -q "c=IN IP4 $SBC_ACCESS_IP" "$TOPO_LOG_DIR/access.sip" || fail "no relay SDP captured on the access side"
for p in 192.168.71. 203.0.113.; do
	grep -qF "$p" "$TOPO_LOG_DIR/core.sip" && fail "core side SIP/SDP mentions $p: $(grep -oF "$p" "$TOPO_LOG_DIR/core.sip" | head -1)"
done
grep -qF 198.51.100. "$TOPO_LOG_DIR/access.sip" && fail "access side SIP/SDP mentions 198.51.100."
pass "SIP and SDP: no access address on the core side, no core address on the access side"
core_ips=$(ips core | tr '\n' ' ') acc_ips=$(ips access | tr '\n' ' ')
want() { printf '%s\n' "$@" | sort -u | tr '\n' ' '; }
[[ $core_ips == "$(want "$CALLEE_IP" "$SBC_CORE_IP")" ]] || fail "packets on the core side between: $core_ips"
[[ $acc_ips == "$(want "$NAT_OUT_IP" "$SBC_ACCESS_IP")" ]] || fail "packets on the access side between: $acc_ips"
rtp_core=$(tshark -r "$TOPO_LOG_DIR/core.pcap" -Y "udp.port == $CALLEE_RTP" 2>/dev/null | wc -l)
rtp_acc=$(tshark -r "$TOPO_LOG_DIR/access.pcap" -Y "udp.port >= $PMIN && udp.port <= $PMAX" 2>/dev/null | wc -l)
((rtp_core > 0 && rtp_acc > 0)) || fail "no RTP captured (core $rtp_core, access $rtp_acc)"
pass "on the wire: core side only $core_ips($rtp_core RTP), access side only $acc_ips($rtp_acc RTP)"

stop_daemon sbc || fail "sbc did not exit cleanly"
stop_daemon relay || fail "the relay did not exit cleanly"
pass "sbc and relay exit 0"
