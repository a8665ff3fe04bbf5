# shellcheck shell=bash
# tests/system/relay_dpdk_ns.sh: the relay scenarios (test_relay_scenario.sh, test_relay_stun.sh)
# against the DPDK backend, in two network namespaces the test makes for itself:
#
#   client namespace (the scenario: every endpoint)        relay namespace (rtpengine)
#     cl0  192.0.2.2/24   <-- veth -->  dp0: net_af_packet0, DPDK's relay address 192.0.2.1
#     ctl0 10.255.0.2/30  <-- veth -->  ctl0 10.255.0.1, the kernel's: ng
#
# The relay namespace's kernel has no address on dp0 (DPDK answers ARP and ping for 192.0.2.1);
# there is no kernel path (exception port): what is not relay media or STUN is dropped. Both
# veths send full checksums (TX offload off), as a NIC's wire would carry. IPv6 is off on both
# veths, unless DPDK_NS_IPV6=1: then DPDK's port has a second relay address 2001:db8:2::1/64
# (DPDK answers its neighbour solicitations) and cl0 has 2001:db8:2::2/64 (no DAD); dp0's
# kernel still has no IPv6.
#
#   dpdk_ns_require          exit 77 unless root, ip netns, ethtool and rtpengine linked with DPDK
#   dpdk_ns_up               the namespaces (their names carry the test's PID) and links
#   dpdk_ns_down             removes them (the relay must be stopped first)
#   dpdk_ns_conf             libconfig text: dataplane.* (conf/rtpengine.conf documents it)
#   DPDK_NS_RELAY / DPDK_NS_CLIENT  the namespaces, for ip netns exec
#   DPDK_NS_RELAY_IP / DPDK_NS_PEER_IP / DPDK_NS_NG_IP  the addresses above
#   DPDK_NS_RELAY_IP6 / DPDK_NS_PEER_IP6  the IPv6 ones (used with DPDK_NS_IPV6=1)
DPDK_NS_RELAY=relay-dp$$ DPDK_NS_CLIENT=client-dp$$
DPDK_NS_RELAY_IP=192.0.2.1 DPDK_NS_PEER_IP=192.0.2.2 DPDK_NS_NG_IP=10.255.0.1
DPDK_NS_RELAY_IP6=2001:db8:2::1 DPDK_NS_PEER_IP6=2001:db8:2::2
dpdk_ns_made=()

dpdk_ns_require()
{
	[[ $(id -u) == 0 ]] || { echo "SKIP: the DPDK scenarios need root (network namespaces)"; exit 77; }
	ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns does not work here"; exit 77; }
	command -v ethtool >/dev/null || { echo "SKIP: ethtool is not installed"; exit 77; }
	ldd "$RELAY_BIN" 2>/dev/null | grep -q librte_eal ||
		{ echo "SKIP: rtpengine is built without DPDK ($RELAY_BIN)"; exit 77; }
}

dpdk_ns_up()
{
	local ns
	for ns in "$DPDK_NS_RELAY" "$DPDK_NS_CLIENT"; do
		ip netns add "$ns" || return 1
		dpdk_ns_made+=("$ns")
		ip -n "$ns" link set lo up || return 1
	done
	ip link add dp0 netns "$DPDK_NS_RELAY" type veth peer name cl0 netns "$DPDK_NS_CLIENT" &&
		ip link add ctl0 netns "$DPDK_NS_RELAY" type veth peer name ctl0 netns "$DPDK_NS_CLIENT" ||
		return 1
	ip netns exec "$DPDK_NS_RELAY" sysctl -qw net.ipv6.conf.dp0.disable_ipv6=1 &&
		ip netns exec "$DPDK_NS_CLIENT" sysctl -qw net.ipv6.conf.cl0.disable_ipv6=1 &&
		ip netns exec "$DPDK_NS_RELAY" ethtool -K dp0 tx off >/dev/null &&
		ip netns exec "$DPDK_NS_CLIENT" ethtool -K cl0 tx off >/dev/null &&
		ip -n "$DPDK_NS_CLIENT" addr add "$DPDK_NS_PEER_IP/24" dev cl0 &&
		ip -n "$DPDK_NS_RELAY" addr add "$DPDK_NS_NG_IP/30" dev ctl0 &&
		ip -n "$DPDK_NS_CLIENT" addr add 10.255.0.2/30 dev ctl0 || return 1
	if [[ ${DPDK_NS_IPV6:-0} == 1 ]]; then
		ip netns exec "$DPDK_NS_CLIENT" sysctl -qw net.ipv6.conf.cl0.accept_dad=0 \
			net.ipv6.conf.cl0.disable_ipv6=0 &&
			ip -n "$DPDK_NS_CLIENT" -6 addr add "$DPDK_NS_PEER_IP6/64" dev cl0 nodad || return 1
	fi
	for ns in "$DPDK_NS_RELAY" "$DPDK_NS_CLIENT"; do
		ip -n "$ns" link set ctl0 up || return 1
	done
	ip -n "$DPDK_NS_RELAY" link set dp0 up && ip -n "$DPDK_NS_CLIENT" link set cl0 up || return 1
	[[ ${DPDK_NS_IPV6:-0} == 1 ]] || return 0
	# IPv6 on cl0 works once the kernel saw the link come up (its link-local address then;
	# that event may come a second late): before, it ignores the relay's neighbour
	# solicitations, and the relay drops what it has for 2001:db8:2::2 (no neighbour)
	for _ in $(seq 50); do
		[[ -n $(ip -n "$DPDK_NS_CLIENT" -6 addr show dev cl0 scope link -tentative) ]] && return 0
		sleep 0.1
	done
	return 1
}

dpdk_ns_down()
{
	local ns
	for ns in "${dpdk_ns_made[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	dpdk_ns_made=()
}

dpdk_ns_conf()
{
	local addrs="\"$DPDK_NS_RELAY_IP/24\""
	[[ ${DPDK_NS_IPV6:-0} == 1 ]] && addrs+=", \"$DPDK_NS_RELAY_IP6/64\""
	cat <<-CONF
		dataplane: {
		  backend = "dpdk";
		  workers = 1;
		  dpdk: {
		    eal_args = [ "--lcores", "(0-1)@(0-1)", "--no-huge", "--no-shconf", "--no-pci",
		      "-m", "256", "--no-telemetry", "--log-level=${DPDK_LOG_LEVEL:-notice}",
		      "--vdev=net_af_packet0,iface=dp0" ];
		    rx_desc = 256;
		    tx_desc = 256;
		    ports = ( { device = "net_af_packet0"; addresses = [ $addrs ]; } );
		  };
		};
	CONF
}
