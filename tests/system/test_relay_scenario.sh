#!/bin/bash
# test_relay_scenario.sh SCRIPT [CONF]: runs the scenario tests/system/SCRIPT (python3) against
# our relay, ng on UDP and TCP; CONF (libconfig text) is added to the relay's file. SCRIPT gets
# the UDP and the TCP ng port and prints "ok: ..." / "FAIL: ..." per check.
#   BACKEND=sockets (default)  the relay on 127.0.0.1 (both interfaces), the endpoints too
#   BACKEND=dpdk               the relay on the DPDK backend in a namespace, the endpoints in
#                              another, linked by a veth (relay_dpdk_ns.sh); addresses reach
#                              SCRIPT as RELAY_NG_HOST, RELAY_MEDIA_IP, RELAY_PEER_IP
#                              (relay_util.py)
#   BACKEND=xdp                the relay with dataplane.backend "xdp" in a namespace of its own
#                              (the XDP program on that namespace's lo), the endpoints there too;
#                              the relay must have run as "xdp" and taken frames through AF_XDP;
#                              SCRIPT gets RELAY_CTL and RELAY_SBCCTL to read its counters
#                              (relay_util.xdp_status)
#   XDP_EXPECT=fast (default)  xdp: some frames left through AF_XDP again (tx > 0)
#   XDP_EXPECT=slow            xdp: none did (tx = 0), every frame taken went out through the UDP
#                              sockets (slow = rx > 0), none dropped (dropped, kernel_dropped 0):
#                              IPv4 <-> IPv6, which the engine cannot rewrite in place
#   CORE_IPV6=1                the relay's "core" interface on an IPv6 address ("access" stays
#                              IPv4): ::1 (sockets), DPDK_NS_RELAY_IP6 on the same DPDK port
#                              (dpdk; the endpoints' veth gets DPDK_NS_PEER_IP6); they reach
#                              SCRIPT as RELAY_MEDIA_IP6, RELAY_PEER_IP6; xdp: ::1 in the
#                              relay's namespace, on the same lo as 127.0.0.1
# Exit: the script's (0 pass, 1 fail), 77 skip (python3 missing; dpdk: not root, no DPDK; xdp:
# not root, built without XDP; CORE_IPV6=1: no IPv6).
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=${1:?usage: test_relay_scenario.sh SCRIPT [CONF]}
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
# shellcheck source=relay_dpdk_ns.sh
. "$here/relay_dpdk_ns.sh"
RELAY=ours
relay_pick
BACKEND=${BACKEND:-sockets}
case $BACKEND in
sockets) ;;
dpdk) dpdk_ns_require ;;
xdp) [[ $(id -u) == 0 ]] || { echo "SKIP: the xdp scenarios need root (XDP)"; exit 77; } ;;
*) echo "FAIL: BACKEND must be sockets, dpdk or xdp, not $BACKEND"; exit 1 ;;
esac
CORE_IPV6=${CORE_IPV6:-0}
XDP_EXPECT=${XDP_EXPECT:-fast}
[[ $XDP_EXPECT == fast || $XDP_EXPECT == slow ]] ||
	{ echo "FAIL: XDP_EXPECT must be fast or slow, not $XDP_EXPECT"; exit 1; }
[[ $CORE_IPV6 == 1 && ! -d /proc/sys/net/ipv6 ]] && { echo "SKIP: the kernel has no IPv6"; exit 77; }
xdp_ns=sbcxdps-$$

tmp=$(mktemp -d)
relay_pid=""
rc=1
cleanup()
{
	[[ -n $relay_pid ]] && relay_stop "$relay_pid" 2>/dev/null
	dpdk_ns_down
	[[ $BACKEND == xdp ]] && ip netns del "$xdp_ns" 2>/dev/null
	[[ $rc -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT

ng_port=$((30000 + $$ % 20000))
RELAY_NG_TCP_PORT=$((ng_port + 1))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 99))
RELAY_OURS_EXTRA_CONF=${2:-}
relay_ip=127.0.0.1 peer_ip=127.0.0.1 ng_ip=127.0.0.1 relay_ip6=::1 peer_ip6=::1
in_relay=() in_client=() script_env=()
if [[ $BACKEND == dpdk ]]; then
	# shellcheck disable=SC2034 # read by dpdk_ns_up and dpdk_ns_conf (relay_dpdk_ns.sh)
	DPDK_NS_IPV6=$CORE_IPV6
	dpdk_ns_up || { echo "FAIL: namespaces for the DPDK relay"; exit 1; }
	relay_ip=$DPDK_NS_RELAY_IP peer_ip=$DPDK_NS_PEER_IP ng_ip=$DPDK_NS_NG_IP
	relay_ip6=$DPDK_NS_RELAY_IP6 peer_ip6=$DPDK_NS_PEER_IP6
	in_relay=(ip netns exec "$DPDK_NS_RELAY") in_client=(ip netns exec "$DPDK_NS_CLIENT")
	# shellcheck disable=SC2034 # read by ng (relay_lib.sh)
	RELAY_NG_NETNS=$DPDK_NS_CLIENT
	RELAY_OURS_EXTRA_CONF+=$'\n'$(dpdk_ns_conf)
elif [[ $BACKEND == xdp ]]; then
	ip netns add "$xdp_ns" || { echo "FAIL: network namespace for the xdp relay"; exit 1; }
	ip -n "$xdp_ns" link set lo up
	# frames sent by AF_XDP on lo re-enter it as received: 127/8 must not be martians there
	ip netns exec "$xdp_ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 \
		net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.all.accept_local=1 \
		net.ipv4.conf.lo.accept_local=1
	in_relay=(ip netns exec "$xdp_ns") in_client=(ip netns exec "$xdp_ns")
	RELAY_NG_NETNS=$xdp_ns
	RELAY_OURS_EXTRA_CONF+=$'\n''dataplane: { backend = "xdp"; };'
	script_env=(RELAY_CTL="$tmp/rtpengine.ctl" RELAY_SBCCTL="$(dirname "$RELAY_BIN")/../sbc/sbcctl")
fi
core_ip=$relay_ip
[[ $CORE_IPV6 == 1 ]] && core_ip=$relay_ip6
relay_argv "$tmp" "$relay_ip" "$core_ip" "$ng_ip" "$ng_port" "$pmin" "$pmax"
"${in_relay[@]}" "${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "$ng_ip:$ng_port" 20 ||
	{ echo "FAIL: relay does not answer ping"; tail -20 "$tmp/relay.log"; exit 1; }
"${in_client[@]}" env RELAY_NG_HOST="$ng_ip" RELAY_MEDIA_IP="$relay_ip" RELAY_PEER_IP="$peer_ip" \
	RELAY_MEDIA_IP6="$relay_ip6" RELAY_PEER_IP6="$peer_ip6" "${script_env[@]}" \
	timeout 60 python3 "$here/$script" "$ng_port" "$RELAY_NG_TCP_PORT"
rc=$?
if [[ $BACKEND == xdp ]]; then
	st=$("$(dirname "$RELAY_BIN")/../sbc/sbcctl" -s "$tmp/rtpengine.ctl" status 2>&1)
	if grep -q 'built without libbpf' "$tmp/relay.log"; then
		echo "SKIP: rtpengine built without XDP (libbpf, clang)"
		rc=77
	elif ! grep -q '^dataplane: xdp' <<<"$st"; then
		echo "FAIL: the relay did not run as xdp: $(grep -E '^(dataplane|xdp):' <<<"$st")"
		rc=1
	elif [[ $XDP_EXPECT == fast ]] && grep -qE '^xdp: .* tx=[1-9]' <<<"$st"; then
		echo "ok: the relay ran as xdp: $(grep '^xdp:' <<<"$st")"
	elif [[ $XDP_EXPECT == slow ]] &&
		grep -qE '^xdp: .* rx=([1-9][0-9]*) tx=0 slow=\1 dropped=0 kernel_dropped=0 ' <<<"$st"; then
		echo "ok: the relay ran as xdp, every frame out through the UDP sockets: $(grep '^xdp:' <<<"$st")"
	else
		echo "FAIL: the relay's AF_XDP counters (XDP_EXPECT=$XDP_EXPECT): $(grep '^xdp:' <<<"$st")"
		rc=1
	fi
fi
# the relay must stop cleanly (SIGTERM; ASan stops it with an error on any fault or leak)
relay_stop "$relay_pid"
relay_rc=$?
relay_pid=""
if [[ $relay_rc -ne 0 ]]; then
	echo "FAIL: the relay exited with status $relay_rc"
	tail -20 "$tmp/relay.log"
	rc=1
fi
exit $rc
