#!/usr/bin/env bash
# The relay in the sbc namespace, a caller behind the symmetric NAT, and an RTP Bleed attacker.
#
#   caller 192.168.71.2 -> nat (masquerade fully-random) -> sbc acc0 203.0.113.10 [relay access]
#   attacker 203.0.113.66 (its own namespace, a veth into the sbc namespace: a host of the
#   access network that can reach the relay's access address, and through it the core one)
#   callee 198.51.100.20 <- sbc core0 198.51.100.10 [relay core]
#
# The test is the B2BUA: it sends the relay offer and answer over ng itself, as the sbc does
# (replace origin and session-connection, ICE remove, direction, received-from): the caller's
# SDP has its private address 192.168.71.2 and the SIP source is the NAT's public address; the
# callee's SDP is its real core address. The attacker sprays every port of the relay's range,
# on both relay addresses, with RTP-looking packets from before the offer until after the
# media stops. The caller and then (0.3 s later) the callee send RTP_COUNT packets each
# (50 pps) through the relay. Pass: each side receives >= 95% of what the other sent (counted
# by the peer's SSRC), only from the relay address of its side, and the attacker receives
# nothing at all. Printed, not asserted: ng `query` per stream (latched endpoint, packets) and
# how many of the attacker's packets were forwarded into the call (injection).
# Sipwise rtpengine 10.5 fails here with its defaults, with --endpoint-learning=immediate or
# heuristic, and with the ng flags "strict source" / "media handover" (RELAY_EXTRA_ARGS,
# RELAY_NG_FLAGS): the attacker gets media.
#
# RELAY=ours (default; SBC_BUILD_DIR/rtpengine/rtpengine) or RELAY=sipwise (/usr/bin/rtpengine).
# BACKEND=sockets (default) or BACKEND=dpdk (ours only; lib/dpdk.sh: DPDK owns the sbc's veths,
# the kernel path TAPs carry its addresses): then the attacker is a macvlan of the nat's access
# veth, a host on the access segment like the NAT itself, since acc0 is no longer the kernel's.
# RTP_LOAD: the built rtp_load (tests/bench/rtp_load.c). Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"

# shellcheck source=lib/dpdk.sh
. "$here/lib/dpdk.sh"

BACKEND=${BACKEND:-sockets}
require_root_netns
command -v jq >/dev/null || topo_skip "jq is not installed"
relay_pick
case $BACKEND in
sockets) ;;
dpdk)
	[[ $RELAY == ours ]] || topo_skip "BACKEND=dpdk needs RELAY=ours"
	dpdk_require
	;;
*) fail "BACKEND must be sockets or dpdk, not $BACKEND" ;;
esac
[[ -n ${RTP_LOAD:-} && -x $RTP_LOAD ]] || {
	[[ -n ${SBC_BUILD_DIR:-} && -x $SBC_BUILD_DIR/tests/integration/rtp_load ]] &&
		RTP_LOAD=$SBC_BUILD_DIR/tests/integration/rtp_load
}
[[ -n ${RTP_LOAD:-} && -x $RTP_LOAD ]] || fail "no rtp_load (set RTP_LOAD or SBC_BUILD_DIR)"
COUNT=${RTP_COUNT:-250}
PPS=50
ATTACKER_IP=203.0.113.66
NS_ATTACKER=$TOPO_PREFIX-attacker
PMIN=30000 PMAX=30099
NGA=127.0.0.1:2223
CALLER_RTP=40000 CALLEE_RTP=40002

topo_up || fail "topology"

# The attacker: its own namespace, on the access network.
ip netns add "$NS_ATTACKER" || fail "attacker namespace"
TOPO_NAMESPACES+=("$NS_ATTACKER")
ip -n "$NS_ATTACKER" link set lo up >>"$TOPO_LOG_DIR/setup.log" 2>&1 || fail "attacker lo"
if [[ $BACKEND == dpdk ]]; then
	# DPDK owns acc0: the attacker shares the access segment through a macvlan of the nat's
	# veth (frames leave on wan0 without entering the nat's IP stack or its NAT rules).
	dpdk_takeover || fail "taking acc0/core0 from the kernel"
	{
		ip -n "$NS_NAT" link add att0 link "$NAT_OUT_IF" type macvlan mode bridge &&
			ip -n "$NS_NAT" link set att0 netns "$NS_ATTACKER" &&
			ip -n "$NS_ATTACKER" link set att0 name eth0 &&
			ip -n "$NS_ATTACKER" addr add "$ATTACKER_IP/24" dev eth0 &&
			ip netns exec "$NS_ATTACKER" ethtool -K eth0 tx off &&
			ip -n "$NS_ATTACKER" link set eth0 up &&
			ip -n "$NS_ATTACKER" route add "$CORE_NET" via "$SBC_ACCESS_IP" dev eth0
	} >>"$TOPO_LOG_DIR/setup.log" 2>&1 || fail "attacker macvlan (see setup.log)"
else
	# Linked only to the sbc namespace.
	{
		ip -n "$NS_SBC" link add att0 type veth peer name eth0 netns "$NS_ATTACKER" &&
			ip -n "$NS_ATTACKER" addr add "$ATTACKER_IP/24" dev eth0 &&
			ip -n "$NS_ATTACKER" link set eth0 up &&
			ip -n "$NS_SBC" link set att0 up &&
			ip -n "$NS_SBC" route add "$ATTACKER_IP/32" dev att0 src "$SBC_ACCESS_IP" &&
			ip -n "$NS_ATTACKER" route add "$CORE_NET" via "$SBC_ACCESS_IP" dev eth0 &&
			ip netns exec "$NS_SBC" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
				net.ipv4.conf.att0.rp_filter=0
	} >>"$TOPO_LOG_DIR/setup.log" 2>&1 || fail "attacker link (see setup.log)"
fi

[[ $BACKEND == dpdk ]] && RELAY_OURS_EXTRA_CONF="${RELAY_OURS_EXTRA_CONF:-}
$(dpdk_relay_conf)"
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 "$PMIN" "$PMAX"
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
if [[ $BACKEND == dpdk ]]; then
	dpdk_taps_up 10 || fail "the kernel-path TAPs did not appear (see relay.log)"
fi
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' 2>/dev/null |
		grep -q pong && break
	sleep 0.1
done
in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' | grep -q pong ||
	fail "$RELAY relay does not answer ping in the sbc namespace"
pass "$RELAY relay ($BACKEND): access $SBC_ACCESS_IP, core $SBC_CORE_IP, ports $PMIN-$PMAX"
# The attacker reaches both relay addresses (and gets answers): UDP echo on each, once.
in_ns sbc timeout 5 python3 -c '
import select, socket, sys
ss = []
for a in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((a, 29999)); ss.append(s)
n = 0
while n < len(ss):
    for s in select.select(ss, [], [], 5)[0]:
        d, peer = s.recvfrom(100); s.sendto(d, peer); n += 1
' "$SBC_ACCESS_IP" "$SBC_CORE_IP" &
echo_pid=$!
sleep 0.3
ip netns exec "$NS_ATTACKER" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
for a in sys.argv[1:]:
    s.sendto(b"x", (a, 29999)); s.recvfrom(100)
' "$SBC_ACCESS_IP" "$SBC_CORE_IP" || fail "the attacker cannot reach the relay's addresses"
wait "$echo_pid"
pass "attacker $ATTACKER_IP on the access network reaches $SBC_ACCESS_IP and $SBC_CORE_IP"
ngs() { in_ns sbc python3 "$NG_TOOL" "$NGA" "$1"; }

# The attacker starts before the offer and keeps going after the media: 2000 pps over the
# whole range on both addresses (10 packets per second per port).
spray_ms=$(( (COUNT * 1000 / PPS) + 4000 ))
start_daemon spray-access "$NS_ATTACKER" spray-access.log "$RTP_LOAD" spray "$ATTACKER_IP" \
	"$SBC_ACCESS_IP" "$PMIN" "$PMAX" 1000 "$spray_ms"
start_daemon spray-core "$NS_ATTACKER" spray-core.log "$RTP_LOAD" spray "$ATTACKER_IP" \
	"$SBC_CORE_IP" "$PMIN" "$PMAX" 1000 "$spray_ms"
sleep 0.5

cid=relay-nat-$$
common='"replace":["origin","session-connection"],"ICE":"remove"'
# RELAY_NG_FLAGS: ng flags for offer and answer, a JSON list (e.g. '["strict source"]').
[[ -n ${RELAY_NG_FLAGS:-} ]] && common+=",\"flags\":$RELAY_NG_FLAGS"
offer=$(ngs "{\"command\":\"offer\",\"call-id\":\"$cid\",\"from-tag\":\"caller\",$common,
	\"direction\":[\"access\",\"core\"],\"received-from\":[\"IP4\",\"$NAT_OUT_IP\"],
	\"sdp\":$(json_str "$(sdp_audio "$CALLER_IP" "$CALLER_RTP")")}")
[[ $(ng_field "$offer" result) == ok ]] || fail "offer: $offer"
osdp=$(ng_field "$offer" sdp)
core_ip=$(sdp_conn_ip "$osdp") core_port=$(sdp_media_port "$osdp")
[[ $core_ip == "$SBC_CORE_IP" && $core_port -ge $PMIN && $core_port -le $PMAX ]] ||
	fail "offer SDP: $core_ip:$core_port is not the relay's core side"
pass "offer: the callee is to send to $core_ip:$core_port"
sleep 0.5 # the attacker sprays the fresh ports before the answer
answer=$(ngs "{\"command\":\"answer\",\"call-id\":\"$cid\",\"from-tag\":\"caller\",\"to-tag\":\"callee\",
	$common,\"direction\":[\"core\",\"access\"],\"received-from\":[\"IP4\",\"$CALLEE_IP\"],
	\"sdp\":$(json_str "$(sdp_audio "$CALLEE_IP" "$CALLEE_RTP")")}")
[[ $(ng_field "$answer" result) == ok ]] || fail "answer: $answer"
asdp=$(ng_field "$answer" sdp)
acc_ip=$(sdp_conn_ip "$asdp") acc_port=$(sdp_media_port "$asdp")
[[ $acc_ip == "$SBC_ACCESS_IP" && $acc_port -ge $PMIN && $acc_port -le $PMAX ]] ||
	fail "answer SDP: $acc_ip:$acc_port is not the relay's access side"
pass "answer: the caller is to send to $acc_ip:$acc_port"
sleep 1 # the attacker has the ports to itself for a second before any media

# Both ends listen from the start; the caller sends first, as the relay cannot reach it through
# the symmetric NAT before its first packet, the callee 0.3 s later. Both meet ports the
# attacker has been spraying.
RTP_LOAD_DELAY_MS=500 start_daemon callee-rtp callee callee-rtp.log "$RTP_LOAD" stream \
	"$CALLEE_IP:$CALLEE_RTP" "$core_ip:$core_port" "$COUNT" "$PPS" 0x2222 1500 0x1111
wait_listen callee udp "$CALLEE_IP" "$CALLEE_RTP" 5 || fail "the callee's RTP socket"
RTP_LOAD_DELAY_MS=200 start_daemon caller-rtp caller caller-rtp.log "$RTP_LOAD" stream \
	"$CALLER_IP:$CALLER_RTP" "$acc_ip:$acc_port" "$COUNT" "$PPS" 0x1111 1500 0x2222
sleep $(( COUNT / PPS / 2 ))
query=$(ngs "{\"command\":\"query\",\"call-id\":\"$cid\"}")
echo "$query" >"$TOPO_LOG_DIR/query-mid.json"
stop_rc=0
for d in caller-rtp callee-rtp; do
	for _ in $(seq $(( COUNT * 10 / PPS + 60 ))); do
		topo_pid_ours "$(daemon_pid "$d")" || break
		sleep 0.1
	done
	stop_daemon "$d" || stop_rc=1
done
for d in spray-access spray-core; do
	for _ in $(seq 80); do
		topo_pid_ours "$(daemon_pid "$d")" || break
		sleep 0.1
	done
	stop_daemon "$d" || stop_rc=1
done
((stop_rc == 0)) || fail "a traffic tool failed"

summary() { grep -h '^sent=\|^sprayed=' "$TOPO_LOG_DIR/$1.log" | tail -1; }
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
caller_out=$(summary caller-rtp) callee_out=$(summary callee-rtp)
att_acc=$(summary spray-access) att_core=$(summary spray-core)
echo "caller: $caller_out"
echo "callee: $callee_out"
echo "attacker -> access: $att_acc"
echo "attacker -> core:   $att_core"
# What the relay says mid-call: per tag, each stream's local port, the endpoint it latched
# (or signalled) and the packets it received from there.
jq -r '.tags | to_entries[] | .key as $t | .value.medias[]?.streams[]? |
	"query: tag \($t) \(.["local address"]):\(.["local port"]) <> \(.endpoint.address // "-"):\(.endpoint.port // "-") packets=\(.stats.packets)"' \
	"$TOPO_LOG_DIR/query-mid.json" 2>/dev/null

final=$(ngs "{\"command\":\"delete\",\"call-id\":\"$cid\",\"from-tag\":\"caller\"}")
[[ $(ng_field "$final" result) == ok ]] || echo "note: delete: $final"

bad=0
caller_rx=$(kv "$caller_out" from_peer) callee_rx=$(kv "$callee_out" from_peer)
caller_inj=$(( $(kv "$caller_out" received) - caller_rx ))
callee_inj=$(( $(kv "$callee_out" received) - callee_rx ))
caller_tx=$(kv "$caller_out" sent) callee_tx=$(kv "$callee_out" sent)
att_rx=$(( $(kv "$att_acc" received) + $(kv "$att_core" received) ))
att_tx=$(( $(kv "$att_acc" sprayed) + $(kv "$att_core" sprayed) ))
check_ratio()
{
	local who=$1 rx=$2 tx=$3
	if [[ -n $rx && -n $tx && $tx -gt 0 && $((rx * 100)) -ge $((tx * 95)) ]]; then
		pass "the $who received $rx of $tx packets ($((rx * 100 / tx))%)"
	else
		echo "FAIL: the $who received ${rx:-?} of ${tx:-?} packets (< 95%)" >&2
		bad=1
	fi
}
check_ratio caller "$caller_rx" "$callee_tx"
check_ratio callee "$callee_rx" "$caller_tx"
srcs=$(kv "$caller_out" sources)
[[ $srcs == "$acc_ip:$acc_port" ]] && pass "the caller heard only the relay ($srcs)" ||
	{ echo "FAIL: the caller heard from '$srcs', not only $acc_ip:$acc_port" >&2; bad=1; }
srcs=$(kv "$callee_out" sources)
[[ $srcs == "$core_ip:$core_port" ]] && pass "the callee heard only the relay ($srcs)" ||
	{ echo "FAIL: the callee heard from '$srcs', not only $core_ip:$core_port" >&2; bad=1; }
# Not a failure (default latching forwards strangers' packets once latched, as Sipwise's
# does; "strict source" drops them): how many attacker packets reached the call's ends.
echo "note: attacker packets delivered into the call: $caller_inj to the caller, $callee_inj to the callee"
if [[ $att_tx -gt 0 && $att_rx -eq 0 ]]; then
	pass "the attacker sprayed $att_tx packets and received none (no RTP Bleed)"
else
	echo "FAIL: RTP Bleed: the attacker sprayed $att_tx packets and received $att_rx" >&2
	bad=1
fi
stop_daemon relay || { echo "FAIL: the relay did not exit cleanly" >&2; bad=1; }
((bad == 0)) || fail "against RELAY=$RELAY BACKEND=$BACKEND"
pass "RELAY=$RELAY BACKEND=$BACKEND: media both ways through the symmetric NAT, nothing for the attacker"
