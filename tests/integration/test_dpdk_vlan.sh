#!/usr/bin/env bash
# The DPDK backend's kernel path on a VLAN (issue 6): as test_dpdk_relay.sh, but the core side
# is 802.1Q VLAN 100 (the relay's core port with vlan = 100) while the core TAP stays untagged:
# the tag comes off toward the kernel and goes onto what the kernel sends. The callee is
# lib/vlan_peer.py on its eth0 (a packet socket, no VLAN device: kernels without 8021q).
#
# Checked: the callee's ARP request and ping of the relay's core address are answered by DPDK
# on VLAN 100; its UDP datagram to port 5060 of that address reaches a socket on the TAP, and
# the reply (after the kernel's ARP request for the callee, tagged on the way out, and the
# callee's tagged answer, untagged on the way in) comes back on VLAN 100; an untagged ARP
# request has no place on that TAP: not answered, dropped and counted (exc_vlan_drop).
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
[[ -n ${UDP_PROBE:-} && -x $UDP_PROBE ]] || fail "no udp_probe (set UDP_PROBE)"
NGA=127.0.0.1:2223
# shellcheck disable=SC2034 # read by dpdk_relay_conf
DPDK_CORE_VLAN=100

topo_up || fail "topology"
dpdk_takeover || fail "taking acc0/core0 from the kernel"
topo_cmd in_ns callee ip addr flush dev "$CALLEE_IF" || fail "the callee's eth0 for vlan_peer.py"
# shellcheck disable=SC2034 # read by relay_argv
RELAY_OURS_EXTRA_CONF=$(dpdk_relay_conf)
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 30000 30099
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
dpdk_taps_up 10 || fail "the kernel-path TAPs did not appear (see relay.log)"
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' 2>/dev/null |
		grep -q pong && break
	sleep 0.1
done
ctl() { in_ns sbc "$SBC_BUILD_DIR/sbc/sbcctl" -s "$TOPO_LOG_DIR/rtpengine.ctl" "$@"; }
worker() { ctl status | dpdk_worker_sum "$1"; }
ctl status >/dev/null || fail "the relay does not answer on its control socket"
pass "rtpengine with the dpdk backend, core port on VLAN 100, $DPDK_CORE_TAP untagged"

start_daemon echo sbc echo.log "$UDP_PROBE" echo "$SBC_CORE_IP" 5060 1
wait_listen sbc udp "$SBC_CORE_IP" 5060 5 || fail "the UDP echo on $SBC_CORE_IP:5060"
out=$(in_ns callee python3 "$here/lib/vlan_peer.py" "$CALLEE_IF" 100 "$CALLEE_IP" "$SBC_CORE_IP" 5060)
rc=$?
echo "$out"
grep -q "^arp-reply vlan=100 mac=$(in_ns sbc cat "/sys/class/net/$SBC_CORE_IF/address")" <<<"$out" ||
	fail "no ARP reply from the relay's MAC on VLAN 100"
grep -q '^echo-reply vlan=100$' <<<"$out" || fail "no echo reply on VLAN 100"
[[ $(worker icmp_echo) -ge 1 ]] || fail "DPDK did not answer the echo request"
pass "ARP and ping of $SBC_CORE_IP on VLAN 100 answered by DPDK"
grep -q "^udp-reply vlan=100 text=from $CALLEE_IP:40000" <<<"$out" ||
	fail "no UDP reply on VLAN 100 from the socket on $DPDK_CORE_TAP"
stop_daemon echo || fail "the UDP echo did not get its datagram"
pass "UDP 5060 from VLAN 100 to the socket on the untagged $DPDK_CORE_TAP and back"
grep -q '^untagged: no reply$' <<<"$out" || fail "an untagged ARP request was answered"
[[ $(worker exc_vlan_drop) -ge 1 ]] || fail "exc_vlan_drop is $(worker exc_vlan_drop)"
[[ $rc == 0 ]] || fail "vlan_peer.py exit $rc"
pass "untagged frames on the VLAN port are dropped (exc_vlan_drop=$(worker exc_vlan_drop))"

stop_daemon relay || fail "the relay did not exit cleanly"
pass "the relay exits 0"
