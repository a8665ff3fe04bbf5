#!/usr/bin/env bash
# Proves the topology of lib/topology.sh before any daemon relies on it: the nat is a
# symmetric NAT (random mapped port per destination, replies come back only from that
# destination), the sbc and callee cannot reach the caller's private LAN, and no namespace has
# a way out of the topology. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"

require_root_netns
: "${UDP_PROBE:=${SBC_BUILD_DIR:-.}/tests/integration/udp_probe}"
[[ -x $UDP_PROBE ]] || fail "udp_probe not found at $UDP_PROBE (set UDP_PROBE or SBC_BUILD_DIR)"

# probe NS LOCAL_PORT ADDR PORT [PORT2]: one socket sends to each port; MAPPED gets the
# "ip:port" source each echo saw, in the order the replies arrived.
probe()
{
	local ns=$1 out line
	shift
	MAPPED=()
	out=$(in_ns "$ns" "$UDP_PROBE" send "$@") || return 1
	echo "$out"
	while read -r line; do
		[[ $line =~ ^local\ [0-9]+\ reply\ from\ (.+)$ ]] || return 1
		MAPPED+=("${BASH_REMATCH[1]}")
	done <<<"$out"
}

# unreachable NS LOCAL_PORT ADDR PORT: the datagram or its reply must not get through.
unreachable()
{
	local ns=$1 out
	shift
	if out=$(in_ns "$ns" env UDP_PROBE_TIMEOUT_MS=1000 "$UDP_PROBE" send "$@" 2>&1); then
		fail "$ns reached $2:$3 from port $1, it must not: $out"
	fi
	echo "as expected, $ns -> $2:$3: $out"
}

topo_up || fail "topo_up"

start_daemon echo-a sbc echo-a.log "$UDP_PROBE" echo "$SBC_ACCESS_IP" 5060 100
start_daemon echo-b sbc echo-b.log "$UDP_PROBE" echo "$SBC_ACCESS_IP" 5062 100
start_daemon lan-echo caller lan-echo.log "$UDP_PROBE" echo 0.0.0.0 7000 1
wait_listen sbc udp "$SBC_ACCESS_IP" 5060 5 || fail "echo-a did not start"
wait_listen sbc udp "$SBC_ACCESS_IP" 5062 5 || fail "echo-b did not start"
wait_listen caller udp "$CALLER_IP" 7000 5 || fail "lan-echo did not start"
comm=$(cat "/proc/$(daemon_pid echo-a)/comm")
[[ $comm == udp_probe ]] || fail "start_daemon recorded the pid of '$comm', not of the daemon"
pass "start_daemon records the daemon's own pid"

# 1. Through the NAT and back, with a mapped port that is not the caller's (fully random:
#    equal only by a 1 in ~64k chance, so one retry from another port).
for lport in 40000 40001; do
	probe caller "$lport" "$SBC_ACCESS_IP" 5060 || fail "caller:$lport got no reply from sbc"
	m=${MAPPED[0]}
	[[ ${m%:*} == "$NAT_OUT_IP" ]] || fail "sbc saw the caller as $m, not as $NAT_OUT_IP"
	[[ ${m##*:} != "$lport" ]] && break
	[[ $lport == 40001 ]] && fail "the NAT kept the caller's source port twice"
	echo "mapped port equals the caller's port $lport by chance; retrying"
done
pass "caller $CALLER_IP:$lport reached sbc as $m and the reply came back"

# 2. Symmetric: one caller socket, two sbc ports, two different mappings.
for lport in 40010 40011; do
	probe caller "$lport" "$SBC_ACCESS_IP" 5060 5062 || fail "caller:$lport: missing replies"
	[[ ${#MAPPED[@]} == 2 && ${MAPPED[0]%:*} == "$NAT_OUT_IP" &&
		${MAPPED[1]%:*} == "$NAT_OUT_IP" ]] || fail "unexpected mappings: ${MAPPED[*]}"
	[[ ${MAPPED[0]##*:} != "${MAPPED[1]##*:}" ]] && break
	[[ $lport == 40011 ]] && fail "two destinations shared one mapping twice: not symmetric"
	echo "both destinations got port ${MAPPED[0]##*:} by chance; retrying"
done
pass "one caller socket, two destinations, two mappings: ${MAPPED[*]}"

# 3. Filtering: the mapping of caller:40040 -> sbc:5060 admits only sbc:5060.
probe caller 40040 "$SBC_ACCESS_IP" 5060 || fail "caller:40040 got no reply from sbc"
hole=${MAPPED[0]##*:}
start_daemon hole-echo caller hole-echo.log "$UDP_PROBE" echo 0.0.0.0 40040 1
wait_listen caller udp "$CALLER_IP" 40040 5 || fail "hole-echo did not start"
unreachable sbc 5070 "$NAT_OUT_IP" "$hole"
stop_daemon echo-a || fail "echo-a did not exit cleanly on SIGTERM"
probe sbc 5060 "$NAT_OUT_IP" "$hole" || fail "sbc:5060 could not use the mapping $hole"
[[ ${MAPPED[0]} == "$SBC_ACCESS_IP:5060" ]] || fail "caller saw sbc as ${MAPPED[0]}"
stop_daemon hole-echo || fail "hole-echo did not exit 0 after its one datagram"
pass "mapping $NAT_OUT_IP:$hole admits sbc:5060 only"

# 4. IPv6 through the same NAT rule.
if [[ $TOPO_IPV6 == 1 ]]; then
	start_daemon echo-6 sbc echo-6.log "$UDP_PROBE" echo "$SBC_ACCESS_IP6" 5060 100
	wait_listen sbc udp "$SBC_ACCESS_IP6" 5060 5 || fail "echo-6 did not start"
	probe caller 40020 "$SBC_ACCESS_IP6" 5060 || fail "caller got no IPv6 reply from sbc"
	[[ ${MAPPED[0]%:*} == "[$NAT_OUT_IP6]" ]] || fail "sbc saw the caller as ${MAPPED[0]}"
	stop_daemon echo-6 || fail "echo-6 did not exit cleanly"
	pass "IPv6 caller reached sbc as ${MAPPED[0]}"
fi

# 5. Isolation: the private LAN is unreachable from sbc and callee, even with a route,
#    because the sbc does not forward and the NAT drops what nobody inside asked for.
unreachable callee 40030 "$CALLER_IP" 7000
unreachable sbc 40031 "$CALLER_IP" 7000
in_ns callee ip route add "$CALLER_NET" via "$SBC_CORE_IP" || fail "route add in callee"
unreachable callee 40032 "$CALLER_IP" 7000
in_ns callee ip route del "$CALLER_NET" via "$SBC_CORE_IP"
in_ns sbc ip route add "$CALLER_NET" via "$NAT_OUT_IP" || fail "route add in sbc"
unreachable sbc 40033 "$CALLER_IP" 7000
in_ns sbc ip route del "$CALLER_NET" via "$NAT_OUT_IP"
unreachable callee 40034 "$NAT_OUT_IP" 7000
stop_daemon lan-echo || fail "lan-echo did not exit cleanly"
! grep -q '^echo from' "$TOPO_LOG_DIR/lan-echo.log" || fail "a datagram reached the caller's LAN"
pass "caller's LAN and access net unreachable from sbc and callee"

# 6. No way out: every link is a veth into another topology namespace, only the caller has a
#    default route (to the nat), only the nat forwards.
ours=" $NS_CALLER $NS_NAT $NS_SBC $NS_CALLEE "
for ns in $ours; do
	while read -r line; do
		[[ $line =~ ^[0-9]+:\ ([^:@]+) ]] || fail "cannot parse link in $ns: $line"
		ifname=${BASH_REMATCH[1]}
		[[ $ifname == lo ]] && continue
		[[ $line == *" veth "* && $line =~ link-netns\ ([^ ]+) && $ours == *" ${BASH_REMATCH[1]} "* ]] ||
			fail "$ns has link $ifname that is not a veth into the topology: $line"
	done < <(ip -n "$ns" -o -d link show)
	defaults=$({
		ip -n "$ns" -4 route show table all
		ip -n "$ns" -6 route show table all
	} | grep '^default' | sed 's/ proto [a-z]*//; s/ metric [0-9]*//; s/ pref [a-z]*//; s/ *$//')
	expected=
	if [[ $ns == "$NS_CALLER" ]]; then
		expected="default via $NAT_IN_IP dev $CALLER_IF"
		[[ $TOPO_IPV6 == 1 ]] && expected+=$'\n'"default via $NAT_IN_IP6 dev $CALLER_IF"
	fi
	[[ $defaults == "$expected" ]] || fail "$ns default routes: '$defaults', expected '$expected'"
	fwd=$(in_ns "$ns" sysctl -n net.ipv4.ip_forward)
	[[ $fwd == $([[ $ns == "$NS_NAT" ]] && echo 1 || echo 0) ]] || fail "$ns ip_forward=$fwd"
done
pass "no namespace has a link or a route out of the topology"

stop_daemon echo-b || fail "echo-b did not exit cleanly"
pass "topology"
exit 0
