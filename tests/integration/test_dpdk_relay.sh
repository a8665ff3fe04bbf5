#!/usr/bin/env bash
# rtpengine on the DPDK backend in the sbc namespace, end to end (issue 6).
#
#   caller 192.168.71.2 -> nat (symmetric) -> acc0 [net_af_packet0 | kernel path dtap0 203.0.113.10]
#   callee 198.51.100.20 <- core0 [net_af_packet1 | kernel path dtap1 198.51.100.10]
#
# DPDK owns the sbc's veths (lib/dpdk.sh); the kernel has the sbc's addresses only on the TAPs.
# Checked: ping of both relay addresses is answered by DPDK (icmp_echo counter) and the
# neighbours learned the relay's MAC by ARP; the sbc, an ordinary process on the TAP
# addresses, completes SIP calls from behind the NAT to the callee (every SIP packet crosses
# the exception path both ways); after an ng offer/answer a STUN binding request from the
# caller gets the NAT's public address back; RTP flows both ways (>= 95%, from the relay's
# addresses only); `status` shows links up and port counters; the Prometheus endpoint shows
# the ports (link up, packet counters) and the workers' counters; the relay exits cleanly. The
# core port runs at MTU 1400 (dataplane.dpdk.ports.[].mtu): core0 and its TAP have it.
# Exit 0 pass, 1 fail, 77 skip (not root, no DPDK build, no TUN).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"
# shellcheck source=lib/dpdk.sh
. "$here/lib/dpdk.sh"

require_root_netns
relay_pick
dpdk_require
command -v sipp >/dev/null || topo_skip "sipp is not installed"
[[ -n ${RTP_LOAD:-} && -x $RTP_LOAD ]] || fail "no rtp_load (set RTP_LOAD)"
PROBE=$here/lib/dpdk_probe.py
SIPP_DIR=$here/../sipp
COUNT=${RTP_COUNT:-150}
PPS=50
PMIN=30000 PMAX=30099
NGA=127.0.0.1:2223
METRICS=127.0.0.1:9101
CALLER_RTP=40000 CALLEE_RTP=40002

DPDK_CORE_MTU=1400 # below the veths' 1500: the relay sets it (net_af_packet, net_tap)

topo_up || fail "topology"
dpdk_takeover || fail "taking acc0/core0 from the kernel"
# shellcheck disable=SC2034 # read by relay_argv
RELAY_OURS_EXTRA_CONF="$(dpdk_relay_conf)
metrics: { listen = \"$METRICS\"; };"
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 "$PMIN" "$PMAX"
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
dpdk_taps_up 10 || fail "the kernel-path TAPs did not appear (see relay.log)"
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' 2>/dev/null |
		grep -q pong && break
	sleep 0.1
done
in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' | grep -q pong ||
	fail "the relay does not answer ng ping"
pass "rtpengine with the dpdk backend: acc0/core0 on net_af_packet, kernel path on $DPDK_ACC_TAP/$DPDK_CORE_TAP"
for ifc in "$SBC_CORE_IF" "$DPDK_CORE_TAP"; do
	mtu=$(in_ns sbc cat "/sys/class/net/$ifc/mtu")
	[[ $mtu == "$DPDK_CORE_MTU" ]] || fail "$ifc has MTU $mtu, not the core port's $DPDK_CORE_MTU"
done
pass "the core port's MTU $DPDK_CORE_MTU on $SBC_CORE_IF and its kernel path $DPDK_CORE_TAP"
ctl() { in_ns sbc "$SBC_BUILD_DIR/sbc/sbcctl" -s "$TOPO_LOG_DIR/rtpengine.ctl" "$@"; }

# ping and ARP: DPDK answers both; the kernel never sees them.
in_ns caller python3 "$PROBE" ping "$SBC_ACCESS_IP" 3 || fail "ping of $SBC_ACCESS_IP from behind the NAT"
in_ns callee python3 "$PROBE" ping "$SBC_CORE_IP" 3 || fail "ping of $SBC_CORE_IP from the callee"
echo_n=$(ctl status | dpdk_worker_sum icmp_echo)
[[ ${echo_n:-0} -ge 6 ]] || fail "DPDK answered ${echo_n:-0} echo requests, not 6"
mac_acc=$(in_ns sbc cat "/sys/class/net/$SBC_ACCESS_IF/address")
in_ns nat ip neigh show "$SBC_ACCESS_IP" dev "$NAT_OUT_IF" | grep -qi "lladdr $mac_acc" ||
	fail "the nat did not learn $SBC_ACCESS_IP at $mac_acc by ARP"
pass "ping of both relay addresses answered by DPDK ($echo_n echo replies), ARP learned $mac_acc"
# The kernel's own traffic leaves through DPDK too (its ARP replies come back as exceptions).
in_ns sbc python3 "$PROBE" ping "$CALLEE_IP" 2 || fail "ping from the sbc's kernel to the callee"
pass "the kernel on $DPDK_CORE_TAP reaches the callee through DPDK"

# SIP through the exception path: the sbc is an ordinary process on the TAP addresses.
cat >"$TOPO_LOG_DIR/sbc.conf" <<CONF
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
};
routing: {
  trunks = ( { name = "callee"; address = "$CALLEE_IP:5060"; } );
  routes = ( { prefix = "+1"; trunks = [ "callee" ]; } );
};
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF
start_daemon sbc sbc sbc.log "$SBC_BUILD_DIR/sbc/sbc" -f "$TOPO_LOG_DIR/sbc.conf"
wait_listen sbc udp "$SBC_ACCESS_IP" 5060 10 || fail "the sbc does not listen on $SBC_ACCESS_IP"
start_daemon uas callee uas.log sipp -sf "$SIPP_DIR/b2b_uas_answer.xml" -i "$CALLEE_IP" \
	-p 5060 -m 2 -nostdin
wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "the callee's sipp does not listen"
in_ns caller timeout 40 sipp -sf "$SIPP_DIR/b2b_uac_bye.xml" -s +15551234 -i "$CALLER_IP" \
	-p 5070 -m 2 -r 5 -nostdin "$SBC_ACCESS_IP:5060" >"$TOPO_LOG_DIR/uac.log" 2>&1 ||
	fail "SIP calls through the sbc on $DPDK_ACC_TAP failed (see uac.log)"
stop_daemon uas || fail "the callee's sipp did not complete its calls"
pass "2 SIP calls from behind the NAT through the sbc on the kernel path"

# A call's media through the DPDK fast path, STUN first.
ngs() { in_ns sbc python3 "$NG_TOOL" "$NGA" "$1"; }
cid=dpdk-relay-$$
common='"replace":["origin","session-connection"],"ICE":"remove"'
offer=$(ngs "{\"command\":\"offer\",\"call-id\":\"$cid\",\"from-tag\":\"caller\",$common,
	\"direction\":[\"access\",\"core\"],\"received-from\":[\"IP4\",\"$NAT_OUT_IP\"],
	\"sdp\":$(json_str "$(sdp_audio "$CALLER_IP" "$CALLER_RTP")")}")
[[ $(ng_field "$offer" result) == ok ]] || fail "offer: $offer"
osdp=$(ng_field "$offer" sdp)
core_ip=$(sdp_conn_ip "$osdp") core_port=$(sdp_media_port "$osdp")
answer=$(ngs "{\"command\":\"answer\",\"call-id\":\"$cid\",\"from-tag\":\"caller\",\"to-tag\":\"callee\",
	$common,\"direction\":[\"core\",\"access\"],\"received-from\":[\"IP4\",\"$CALLEE_IP\"],
	\"sdp\":$(json_str "$(sdp_audio "$CALLEE_IP" "$CALLEE_RTP")")}")
[[ $(ng_field "$answer" result) == ok ]] || fail "answer: $answer"
asdp=$(ng_field "$answer" sdp)
acc_ip=$(sdp_conn_ip "$asdp") acc_port=$(sdp_media_port "$asdp")
[[ $acc_ip == "$SBC_ACCESS_IP" && $core_ip == "$SBC_CORE_IP" ]] ||
	fail "SDP addresses $acc_ip / $core_ip are not the relay's"
pass "offer/answer: caller -> $acc_ip:$acc_port, callee -> $core_ip:$core_port"

mapped=$(in_ns caller python3 "$PROBE" stun "$CALLER_IP" 40010 "$acc_ip" "$acc_port") ||
	fail "STUN binding request to $acc_ip:$acc_port: $mapped"
[[ $mapped == mapped=$NAT_OUT_IP:* ]] || fail "STUN: $mapped, not the NAT's $NAT_OUT_IP"
pass "STUN binding request answered: $mapped (the NAT's public side)"

RTP_LOAD_DELAY_MS=500 start_daemon callee-rtp callee callee-rtp.log "$RTP_LOAD" stream \
	"$CALLEE_IP:$CALLEE_RTP" "$core_ip:$core_port" "$COUNT" "$PPS" 0x2222 1500 0x1111
wait_listen callee udp "$CALLEE_IP" "$CALLEE_RTP" 5 || fail "the callee's RTP socket"
RTP_LOAD_DELAY_MS=200 start_daemon caller-rtp caller caller-rtp.log "$RTP_LOAD" stream \
	"$CALLER_IP:$CALLER_RTP" "$acc_ip:$acc_port" "$COUNT" "$PPS" 0x1111 1500 0x2222
for d in caller-rtp callee-rtp; do
	for _ in $(seq $((COUNT * 10 / PPS + 60))); do
		topo_pid_ours "$(daemon_pid "$d")" || break
		sleep 0.1
	done
	stop_daemon "$d" || fail "$d failed"
done
summary() { grep -h '^sent=' "$TOPO_LOG_DIR/$1.log" | tail -1; }
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
caller_out=$(summary caller-rtp) callee_out=$(summary callee-rtp)
echo "caller: $caller_out"
echo "callee: $callee_out"
for side in caller callee; do
	out=$caller_out peer_out=$callee_out relay=$acc_ip:$acc_port
	[[ $side == callee ]] && out=$callee_out peer_out=$caller_out relay=$core_ip:$core_port
	rx=$(kv "$out" from_peer) tx=$(kv "$peer_out" sent)
	[[ -n $rx && -n $tx && $tx -gt 0 && $((rx * 100)) -ge $((tx * 95)) ]] ||
		fail "the $side received ${rx:-?} of ${tx:-?} packets (< 95%)"
	[[ $(kv "$out" sources) == "$relay" ]] ||
		fail "the $side heard from '$(kv "$out" sources)', not only $relay"
	pass "the $side received $rx of $tx packets, only from $relay"
done
ctl status | grep '^dpdk-' | tee "$TOPO_LOG_DIR/status.txt"
grep -q '^dpdk-port: net_af_packet0 link=up' "$TOPO_LOG_DIR/status.txt" ||
	fail "status does not show net_af_packet0 up"
grep -q "^dpdk-port: net_af_packet1 link=up speed_mbps=[0-9]* mtu=$DPDK_CORE_MTU " \
	"$TOPO_LOG_DIR/status.txt" || fail "status does not show the core port at MTU $DPDK_CORE_MTU"

# The same in Prometheus: ports by name and kind, workers by number.
in_ns sbc python3 "$here/../system/metrics_scrape.py" "http://$METRICS/metrics" \
	>"$TOPO_LOG_DIR/metrics.prom" || fail "the metrics scrape is not a valid exposition"
sample() { awk -v k="$1" '$1 == k { print $2 }' "$TOPO_LOG_DIR/metrics.prom"; }
# workers NAME: a worker counter family summed over its worker="N" samples
workers() { awk -v k="$1{" 'index($1, k) == 1 { s += $2 } END { print s + 0 }' "$TOPO_LOG_DIR/metrics.prom"; }
acc='{port="net_af_packet0",kind="relay"}' tap='{port="net_tap0",kind="kernel"}'
[[ $(sample "rtpengine_dpdk_port_link_up$acc") == 1 ]] || fail "metrics: net_af_packet0 not up"
core='{port="net_af_packet1",kind="relay"}'
[[ $(sample "rtpengine_dpdk_port_mtu_bytes$core") == "$DPDK_CORE_MTU" ]] ||
	fail "metrics: the core port's MTU is '$(sample "rtpengine_dpdk_port_mtu_bytes$core")'"
for k in "rtpengine_dpdk_port_rx_packets_total$acc" "rtpengine_dpdk_port_tx_bytes_total$acc" \
	"rtpengine_dpdk_port_rx_packets_total$tap"; do
	[[ $(sample "$k") -gt 0 ]] || fail "metrics: $k is '$(sample "$k")'"
done
[[ $(workers rtpengine_dpdk_worker_icmp_echo_total) -ge 6 ]] ||
	fail "metrics: the workers' icmp_echo_total is not >= 6"
[[ $(workers rtpengine_dpdk_worker_exceptions_total) -gt 0 ]] ||
	fail "metrics: no exceptions counted"
[[ -n $(sample 'rtpengine_dpdk_worker_no_neigh_total{worker="0"}') ]] ||
	fail "metrics: no rtpengine_dpdk_worker_no_neigh_total"
pass "metrics: ports up with packet counters, the workers' echo and exception counters"
ngs "{\"command\":\"delete\",\"call-id\":\"$cid\",\"from-tag\":\"caller\"}" >/dev/null
stop_daemon sbc || fail "the sbc did not exit cleanly"
stop_daemon relay || fail "the relay did not exit cleanly"
in_ns sbc ip link show "$DPDK_ACC_TAP" >/dev/null 2>&1 && fail "$DPDK_ACC_TAP is left after the relay stopped"
pass "the relay exits 0 and removes its TAPs"
