# shellcheck shell=bash
# tests/integration/lib/dpdk.sh: rtpengine on the DPDK backend in the sbc namespace.
#
# net_af_packet ports take over the sbc's veths acc0 and core0 (the topology already turned TX
# checksum offload off on every veth), and a net_tap port per veth is the kernel path: the
# TAPs dtap0 / dtap1 carry the sbc's addresses, so the sbc's SIP sockets and the kernel's
# ICMP work on them while DPDK answers ARP, ping and STUN and relays the media.
#
#   dpdk_require                # exit 77 unless rtpengine links DPDK and the kernel has TUN
#   dpdk_takeover               # the sbc's addresses off acc0/core0 (before the relay starts)
#   RELAY_OURS_EXTRA_CONF=$(dpdk_relay_conf)   # for relay_argv (relay_lib.sh)
#   dpdk_taps_up 10             # once the relay runs: addresses on the TAPs (waits for them)
#   ctl status | dpdk_worker_sum icmp_echo     # a worker counter summed over the workers
#
# With DPDK_IPV6=1 the ports and the TAPs also get the sbc's IPv6 addresses, and the core TAP
# one more the relay does not know (DPDK_CORE_K6): the kernel's own, reached through the TAP.
# DPDK_CORE_VLAN=N puts the core port's addresses on 802.1Q VLAN N (the TAP stays untagged).
# DPDK_CORE_MTU=N: the core port's MTU (net_af_packet sets it on core0, net_tap on its TAP).
# DPDK_WORKERS=N: N workers (lcores over the first two CPUs), a queue pair each on every port.
DPDK_ACC_TAP=dtap0 DPDK_CORE_TAP=dtap1 DPDK_CORE_K6=2001:db8:100::11

dpdk_require()
{
	[[ -c /dev/net/tun ]] || topo_skip "/dev/net/tun is missing (net_tap)"
	ldd "$RELAY_BIN" 2>/dev/null | grep -q librte_eal ||
		topo_skip "rtpengine is built without DPDK ($RELAY_BIN)"
	command -v ethtool >/dev/null || topo_skip "ethtool is not installed"
}

# The relay's veths carry no kernel address and the kernel takes nothing in from them: DPDK
# answers for them (the packet sockets of net_af_packet see frames before the netdev ingress
# hook drops them; without it the kernel would answer ARP and take IPv4 on the veths for the
# addresses it has on the TAPs too).
dpdk_takeover()
{
	local ifc
	for ifc in "$SBC_ACCESS_IF" "$SBC_CORE_IF"; do
		topo_cmd in_ns sbc ip addr flush dev "$ifc" || return 1
		topo_cmd in_ns sbc sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1" || return 1
	done
	topo_cmd in_ns sbc nft -f - <<-NFT
		table netdev dpdk_takeover {
		  chain acc { type filter hook ingress device "$SBC_ACCESS_IF" priority 0; policy drop; }
		  chain core { type filter hook ingress device "$SBC_CORE_IF" priority 0; policy drop; }
		}
	NFT
}

# dpdk_addr6 ADDR: ', "ADDR/64"' with DPDK_IPV6=1 (a second relay address of a port).
dpdk_addr6()
{
	[[ ${DPDK_IPV6:-0} == 1 ]] && printf ', "%s/64"' "$1"
	return 0
}

# libconfig text: dataplane.* for the DPDK backend (conf/rtpengine.conf documents it).
dpdk_relay_conf()
{
	local w=${DPDK_WORKERS:-1}
	cat <<-CONF
		dataplane: {
		  backend = "dpdk";
		  workers = $w;
		  dpdk: {
		    eal_args = [ "--lcores", "(0-$w)@(0-1)", "--no-huge", "--no-shconf", "--no-pci", "-m", "256",
		      "--no-telemetry", "--log-level=${DPDK_LOG_LEVEL:-notice}",
		      "--vdev=net_af_packet0,iface=$SBC_ACCESS_IF,qpairs=$w",
		      "--vdev=net_af_packet1,iface=$SBC_CORE_IF,qpairs=$w",
		      "--vdev=net_tap0,iface=$DPDK_ACC_TAP", "--vdev=net_tap1,iface=$DPDK_CORE_TAP" ];
		    rx_desc = 256;
		    tx_desc = 256;
		    ports = (
		      { device = "net_af_packet0"; exception = "net_tap0";
		        addresses = [ "$SBC_ACCESS_IP/24"$(dpdk_addr6 "$SBC_ACCESS_IP6") ]; },
		      { device = "net_af_packet1"; exception = "net_tap1"; vlan = ${DPDK_CORE_VLAN:-0};
		        mtu = ${DPDK_CORE_MTU:-1500};
		        addresses = [ "$SBC_CORE_IP/24"$(dpdk_addr6 "$SBC_CORE_IP6") ]; }
		    );
		  };
		};
	CONF
}

# dpdk_taps_up TIMEOUT_S: the sbc's addresses on the TAPs the relay created.
dpdk_taps_up()
{
	local i v6=${DPDK_IPV6:-0}
	for ((i = 0; i < $1 * 10; i++)); do
		in_ns sbc ip link show "$DPDK_CORE_TAP" >/dev/null 2>&1 && break
		sleep 0.1
	done
	for i in "$DPDK_ACC_TAP" "$DPDK_CORE_TAP"; do
		in_ns sbc sysctl -qw "net.ipv6.conf.$i.disable_ipv6=$((1 - v6))" 2>/dev/null
	done
	topo_cmd in_ns sbc ip addr add "$SBC_ACCESS_IP/24" dev "$DPDK_ACC_TAP" &&
		topo_cmd in_ns sbc ip addr add "$SBC_CORE_IP/24" dev "$DPDK_CORE_TAP" || return 1
	if [[ $v6 == 1 ]]; then
		topo_cmd in_ns sbc ip -6 addr add "$SBC_ACCESS_IP6/64" dev "$DPDK_ACC_TAP" nodad &&
			topo_cmd in_ns sbc ip -6 addr add "$SBC_CORE_IP6/64" dev "$DPDK_CORE_TAP" nodad &&
			topo_cmd in_ns sbc ip -6 addr add "$DPDK_CORE_K6/64" dev "$DPDK_CORE_TAP" nodad ||
			return 1
	fi
	topo_cmd in_ns sbc ip link set "$DPDK_ACC_TAP" up &&
		topo_cmd in_ns sbc ip link set "$DPDK_CORE_TAP" up
}

# ctl status | dpdk_worker_sum FIELD: FIELD of the dpdk-worker lines, summed over the workers.
dpdk_worker_sum()
{
	awk -v k="$1=" '/^dpdk-worker:/ {
		for (i = 1; i <= NF; i++) if (index($i, k) == 1) s += substr($i, length(k) + 1)
	} END { print s + 0 }'
}
