#!/bin/bash
# The xdp dataplane engine end to end, as root, in a network namespace of its own (the XDP
# program goes on that namespace's lo, never the host's): tests/system/relay_xdp.py drives one
# call (RTP both ways through AF_XDP, RTP Bleed refused, STUN answered, delete frees the port
# in the XDP map, a datagram too long for AF_XDP takes the socket path), then one over IPv6
# (::1), then the same call over a veth pair (native XDP, endpoints in a second namespace, the
# next hop's MAC learned from the latched peers); a second relay finding the program in place warns and runs as "sockets";
# SIGTERM detaches the program (`ip link` shows no xdp on lo afterwards), and so does SIGKILL
# (a BPF link); a relay with only CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW and CAP_IPC_LOCK attaches.
# lo needs route_localnet and accept_local: a frame sent by AF_XDP re-enters lo as received,
# and 127/8 sources and destinations are martians there otherwise.
# Exit 0 pass, 1 fail, 77 skip (not root, no ip(8) or python3, built without XDP).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
RELAY=ours
relay_pick
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespace, XDP)"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip(8) is not installed"; exit 77; }
CTL=$(dirname "$RELAY_BIN")/../sbc/sbcctl
[[ -x $CTL ]] || { echo "FAIL: no sbcctl at $CTL"; exit 1; }

tmp=$(mktemp -d)
ns=sbcxdp-$$
pids=()
RELAY_WRAP=()
rc=1
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }
stop_relay() # PID: SIGTERM, then KILL after 3 s
{
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup()
{
	for p in "${pids[@]}"; do stop_relay "$p"; done
	ip netns del "$ns" 2>/dev/null
	ip netns del "sbcxdpc-$$" 2>/dev/null
	[[ $rc -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT

ip netns add "$ns" || { echo "FAIL: cannot create network namespace $ns"; exit 1; }
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 \
	net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.all.accept_local=1 \
	net.ipv4.conf.lo.accept_local=1

# start_relay DIR NG_PORT PMIN [ADDRESS [NG_ADDRESS]]: our relay with backend "xdp" in the
# namespace, interfaces access and core on ADDRESS (default 127.0.0.1 and 127.0.0.2); run
# through the command in the array RELAY_WRAP when set
start_relay()
{
	local ngaddr=${5:-127.0.0.1}
	mkdir -p "$1"
	RELAY_OURS_EXTRA_CONF="dataplane: { backend = \"xdp\"; }; ${EXTRA_CONF:-}"
	relay_argv "$1" "${4:-127.0.0.1}" "${4:-127.0.0.2}" "$ngaddr" "$2" "$3" $(($3 + 99))
	ip netns exec "$ns" "${RELAY_WRAP[@]}" "${RELAY_ARGV[@]}" >"$1/relay.log" 2>&1 &
	pids+=($!)
	ip netns exec "$ns" bash -c ". '$here/relay_lib.sh'; ng_wait_pong $ngaddr:$2 5" ||
		{ echo "FAIL: relay does not answer ping"; tail -20 "$1/relay.log"; exit 1; }
}

EXTRA_CONF='metrics: { listen = "127.0.0.1:2224"; };' start_relay "$tmp/r1" 2223 40000
status=$("$CTL" -s "$tmp/r1/rtpengine.ctl" status 2>&1)
if ! grep -q '^dataplane: xdp' <<<"$status"; then
	if grep -q 'built without libbpf' "$tmp/r1/relay.log"; then
		echo "SKIP: rtpengine built without XDP (libbpf, clang)"
		rc=0
		exit 77
	fi
	fail "dataplane is not xdp: $(grep -E 'dataplane|xdp' <<<"$status"; tail -5 "$tmp/r1/relay.log")"
fi
ip -n "$ns" link show lo | grep -q 'prog/xdp' && pass "XDP program on the namespace's lo" ||
	fail "no XDP program on lo: $(ip -n "$ns" link show lo)"

ip netns exec "$ns" timeout 60 python3 "$here/relay_xdp.py" 2223 "$tmp/r1/rtpengine.ctl" "$CTL" ||
	fails=$((fails + 1))

# the same counters for Prometheus
m=$(ip netns exec "$ns" python3 -c 'import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:2224/metrics", timeout=2).read().decode())' 2>&1)
tx=$(sed -n 's/^rtpengine_xdp_tx_packets_total \([0-9]*\)$/\1/p' <<<"$m")
if [[ ${tx:-0} -ge 200 ]] && grep -q '^rtpengine_xdp_rx_packets_total [1-9]' <<<"$m" &&
	grep -q '^rtpengine_xdp_sockets 1$' <<<"$m"; then
	pass "metrics: rtpengine_xdp_tx_packets_total $tx"
else
	fail "metrics: $(grep xdp <<<"$m" || echo "$m" | tail -3)"
fi

# a second relay: lo's XDP hook is taken, so it warns and runs as plain "sockets"
start_relay "$tmp/r2" 2225 40200
status=$("$CTL" -s "$tmp/r2/rtpengine.ctl" status 2>&1)
if grep -q '^dataplane: sockets' <<<"$status" &&
	grep -q 'cannot attach XDP.*running as plain "sockets"' "$tmp/r2/relay.log"; then
	pass "XDP hook taken: $(grep -o 'cannot attach XDP.*' "$tmp/r2/relay.log")"
else
	fail "second relay: $(grep dataplane <<<"$status"; tail -3 "$tmp/r2/relay.log")"
fi
stop_relay "${pids[1]}"
ip -n "$ns" link show lo | grep -q 'prog/xdp' && pass "the second relay left the first one's program" ||
	fail "the second relay detached the first one's program"

stop_relay "${pids[0]}"
pids=()
if ip -n "$ns" link show lo | grep -q xdp; then
	fail "XDP program still attached after shutdown: $(ip -n "$ns" link show lo)"
else
	pass "shutdown detached the XDP program"
fi
# IPv6: a relay on ::1 (the program attaches again after the first one detached), with only
# the capabilities a service unit would give it: the verifier takes the program without
# CAP_PERFMON or CAP_SYS_ADMIN (no pointer arithmetic between packet pointers)
RELAY_WRAP=(setpriv --bounding-set=-all,+net_admin,+bpf,+net_raw,+ipc_lock)
start_relay "$tmp/r6" 2227 40400 ::1
RELAY_WRAP=()
status=$("$CTL" -s "$tmp/r6/rtpengine.ctl" status 2>&1)
grep -q '^dataplane: xdp' <<<"$status" &&
	pass "IPv6 relay with CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW, CAP_IPC_LOCK only: dataplane xdp" ||
	fail "IPv6 relay with bounded capabilities: $(grep dataplane <<<"$status"; grep -E 'xdp|libbpf' "$tmp/r6/relay.log" | tail -3)"
ip netns exec "$ns" timeout 60 python3 "$here/relay_xdp.py" 2227 "$tmp/r6/rtpengine.ctl" "$CTL" v6 ||
	fails=$((fails + 1))
stop_relay "${pids[0]}"
pids=()
ip -n "$ns" link show lo | grep -q xdp && fail "IPv6 relay: XDP program still attached" ||
	pass "IPv6 relay: shutdown detached the XDP program"
# a relay killed (no shutdown of its own) leaves no program: the BPF link goes with it
start_relay "$tmp/rk" 2231 40800
ip -n "$ns" link show lo | grep -q 'prog/xdp' || fail "killed relay: no XDP program while it ran"
kill -KILL "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
pids=()
for _ in $(seq 30); do ip -n "$ns" link show lo | grep -q xdp || break; sleep 0.1; done
ip -n "$ns" link show lo | grep -q xdp && fail "SIGKILL left the XDP program on lo" ||
	pass "SIGKILL: the XDP program went with the relay"
# veth: native XDP, real MACs. The endpoints live in a second namespace behind a veth pair;
# the relay learns the next hop (their MAC) from the latched peer's frames.
nsc=sbcxdpc-$$
ip netns add "$nsc" || { echo "FAIL: cannot create network namespace $nsc"; exit 1; }
ip -n "$ns" link add xr0 type veth peer name xc0 netns "$nsc"
ip -n "$ns" addr add 10.199.0.1/24 dev xr0
ip -n "$ns" link set xr0 up
for a in 10.199.0.2 10.199.0.3 10.199.0.4; do ip -n "$nsc" addr add $a/24 dev xc0; done
ip -n "$nsc" link set xc0 up
ip -n "$nsc" link set lo up
start_relay "$tmp/rv" 2229 40600 10.199.0.1 10.199.0.1
ip -n "$ns" link show xr0 | grep -q 'prog/xdp' && pass "veth: XDP program on xr0: $(ip -n "$ns" link show xr0 | grep -oE ' xdp(generic|offload)? ' | head -1)" ||
	fail "veth: no XDP program on xr0"
XDP_NG_HOST=10.199.0.1 XDP_A=10.199.0.2 XDP_B=10.199.0.3 XDP_X=10.199.0.4 \
	ip netns exec "$nsc" timeout 60 python3 "$here/relay_xdp.py" 2229 "$tmp/rv/rtpengine.ctl" "$CTL" ||
	fails=$((fails + 1))
stop_relay "${pids[0]}"
pids=()
ip -n "$ns" link show xr0 | grep -q "prog/xdp" && fail "veth: XDP program still attached" ||
	pass "veth: shutdown detached the XDP program"
ip netns del "$nsc"

[[ $fails -eq 0 ]] && rc=0
exit $rc
