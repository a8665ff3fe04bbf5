#!/usr/bin/env bash
# The DPDK backend's kernel path over IPv6 (issue 6): rtpengine on net_af_packet with net_tap
# kernel paths as in test_dpdk_relay.sh, the ports and TAPs with IPv6 addresses too, and the
# core TAP with one more address the relay does not know ($DPDK_CORE_K6, the kernel's own).
#
# Checked: the callee pings the relay's IPv6 address (DPDK answers its neighbour solicitation
# and the echo), the kernel's own address and the TAP's link-local address (their solicitations
# go to solicited-node multicast groups, the TAP must get them, and the kernel's
# advertisements leave through DPDK; the link-local address is the port MAC's EUI-64); the kernel pings the callee (its solicitation out, the
# advertisement back); UDP to port 5060 of the kernel's address and of the relay address
# (no flow: an exception) from the callee, and from the caller through the NAT66, is answered
# by a socket in the sbc namespace, i.e. SIP over IPv6 works on the TAPs.
# Exit 0 pass, 1 fail, 77 skip (not root, no DPDK build, no TUN, no IPv6).
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
[[ $TOPO_IPV6 == 1 ]] || topo_skip "the kernel has no IPv6"
[[ -n ${UDP_PROBE:-} && -x $UDP_PROBE ]] || fail "no udp_probe (set UDP_PROBE)"
PROBE=$here/lib/dpdk_probe.py
NGA=127.0.0.1:2223
# shellcheck disable=SC2034 # read by dpdk.sh
DPDK_IPV6=1

topo_up || fail "topology"
dpdk_takeover || fail "taking acc0/core0 from the kernel"
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
ctl status >/dev/null || fail "the relay does not answer on its control socket"
pass "rtpengine with the dpdk backend, IPv6 on $DPDK_ACC_TAP/$DPDK_CORE_TAP"

in_ns callee python3 "$PROBE" ping "$SBC_CORE_IP6" 3 || fail "ping of the relay's $SBC_CORE_IP6"
echo_n=$(ctl status | dpdk_worker_sum icmp_echo)
[[ ${echo_n:-0} -ge 3 ]] || fail "DPDK answered ${echo_n:-0} echo requests, not 3"
pass "ping of the relay address $SBC_CORE_IP6 answered by DPDK"
in_ns callee python3 "$PROBE" ping "$DPDK_CORE_K6" 3 ||
	fail "ping of the kernel's $DPDK_CORE_K6 through $DPDK_CORE_TAP"
ll=$(in_ns sbc ip -6 -o addr show dev "$DPDK_CORE_TAP" scope link | awk '{ sub("/.*", "", $4); print $4 }')
[[ -n $ll ]] || fail "$DPDK_CORE_TAP has no link-local address"
# its interface id is the port's MAC (EUI-64): the TAP got that MAC before it came up
mac=$(in_ns sbc cat "/sys/class/net/$SBC_CORE_IF/address")
eui=$(python3 -c 'import sys, ipaddress
m = bytes.fromhex(sys.argv[1].replace(":", ""))
print(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:]))' "$mac")
[[ $ll == "$eui" ]] || fail "$DPDK_CORE_TAP's link-local $ll is not the EUI-64 $eui of $mac"
in_ns callee python3 "$PROBE" ping "$ll%$CALLEE_IF" 3 || fail "ping of the kernel's $ll"
pass "the kernel's own $DPDK_CORE_K6 and $ll answer through the TAP (ND by multicast)"
in_ns sbc python3 "$PROBE" ping "$CALLEE_IP6" 2 || fail "ping from the sbc's kernel to $CALLEE_IP6"
pass "the kernel on $DPDK_CORE_TAP reaches $CALLEE_IP6 through DPDK"

# SIP's port on the TAP addresses: the kernel's own and the relay's (no flow there).
start_daemon echo-k6 sbc echo-k6.log "$UDP_PROBE" echo :: 5060 3
wait_listen sbc udp :: 5060 5 || fail "the UDP echo on [::]:5060 did not start"
for dst in "$DPDK_CORE_K6" "$SBC_CORE_IP6"; do
	out=$(in_ns callee "$UDP_PROBE" send 40000 "$dst" 5060) || fail "UDP to [$dst]:5060: no answer"
	[[ $out == *"from [$CALLEE_IP6]:40000"* ]] || fail "UDP to [$dst]:5060: $out"
done
out=$(in_ns caller "$UDP_PROBE" send 40000 "$SBC_ACCESS_IP6" 5060) ||
	fail "UDP from the caller to [$SBC_ACCESS_IP6]:5060: no answer"
[[ $out == *"from [$NAT_OUT_IP6]:"* ]] || fail "UDP from the caller: $out"
stop_daemon echo-k6 || fail "the UDP echo did not get its 3 datagrams"
pass "UDP 5060 over IPv6 to the TAPs: callee to both core addresses, caller through the NAT"

stop_daemon relay || fail "the relay did not exit cleanly"
pass "the relay exits 0"
