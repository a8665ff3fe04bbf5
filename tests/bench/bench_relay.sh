#!/usr/bin/env bash
# tests/bench/bench_relay.sh: RTP forwarding benchmark of our rtpengine (sockets backend, and
# backend "xdp": AF_XDP) against Sipwise's (userspace, --table=-1), measured in the same run on
# loopback. Run by hand, as root; not a meson test.
#
# Each side (relay + generator) runs in a private network namespace the script creates and
# deletes, with only lo up: the sides do not share a loopback (the xdp side's XDP program on its
# lo would otherwise run for the other sides' packets too) and the host's lo stays untouched.
# Every namespace gets the same lo settings (route_localnet and accept_local, which frames sent
# by AF_XDP on lo need: they re-enter lo as received, where 127/8 are martians otherwise).
#
# Each relay has two interfaces, access 127.0.0.1 and core 127.0.0.2, and runs pinned to CPU 1
# (taskset); the generator (rtp_load bench, sendmmsg/recvmmsg) runs pinned to CPU 0. A step
# sets up CALLS calls over ng (offer access->core with the caller's SDP 127.0.0.1:PA+k,
# answer core->access with the callee's SDP 127.0.0.2:PB+k, k = call % BENCH_SOCKETS),
# sends BENCH_PPS packets per second in each direction of each call (172-byte RTP: 12-byte
# header + 160 bytes of G.711) for BENCH_STEP_S seconds, counts what comes back, and deletes
# the calls. The relay's CPU time is utime+stime from /proc/PID/stat (all threads) around the
# traffic (cpu% is of that wall time, generator start-up and final drain included). All
# relays run at once (each in its namespace, all pinned to CPU 1; an idle relay costs nothing)
# and their steps alternate, in BENCH_SIDES order at each load, so that the ratios compare like
# with like on a shared host. Per relay the steps ramp through BENCH_CALLS and stop after the first step whose loss reaches 0.1%, or
# whose rate the generator could not offer (tx_pps < 80% of it: on a busy 2-core host the
# generator's core is the limit; steps under 90% are marked generator-bound, and a clean rate
# reached only so is a lower bound; the relay's CPU-s per million packets stays meaningful).
# The highest clean rate (rx_pps with loss < 0.1%) is the relay's capacity on one core.
# ksirq_s: CPU-s of the ksoftirqd threads (both CPUs) during the step: network softirq work
# that the kernel deferred there is charged to no relay and no generator (it should stay small
# next to cpu_s for the comparison to hold).
# rcvbuf_err: UDP receive-buffer drops in the side's namespace during the step (relay or
# generator); the xdp side's own drops (AF_XDP rings) are in raw.txt (its `xdp:` status line);
# gen_cpu%: the generator's CPU time over the step's wall time (from /usr/bin/time): well
# under 100% while generator-bound means the generator's core is taken by someone else.
# kpkt/cpu_s: forwarded packets per relay CPU-second (1000 / cpu_s/Mpkt). On loopback the
# sender's CPU time includes the softirq that delivers into the receiving socket, so each
# relay pays for delivering what it forwards, and the generator for what it offers (the xdp
# side: the generator also pays the XDP redirect into the AF_XDP socket, and the relay for its
# frames re-entering lo's generic XDP hook).
# At the end: for each of ours and xdp, the steps it and Sipwise forwarded cleanly side by
# side, with the ratio of packets per CPU-second (it/Sipwise), and the highest clean rate of
# each.
# SBC_DP_SOCKETS_ENGINE=epoll|uring picks our sockets dataplane's loop (default: io_uring if
# the kernel has it), for A/B runs.
#
# Usage: SBC_BUILD_DIR=build-rel tests/bench/bench_relay.sh      (release build recommended)
# Settings (environment): BENCH_CALLS ("250 500 1000 2000 3000"), BENCH_PPS (50),
# BENCH_STEP_S (3), BENCH_SOCKETS (8 per side), BENCH_SIDES ("ours xdp sipwise"),
# RTPENGINE_BIN (ours), RTP_LOAD (default $SBC_BUILD_DIR/tests/integration/rtp_load).
# Prints a table and the ratios ours/sipwise and xdp/sipwise; results also in $BENCH_RESULTS (default
# $SBC_BUILD_DIR/bench-relay/<date>). Exit 0 done, 1 setup failure, 77 skip (no taskset, < 2 CPUs,
# not root or no ip(8): the namespaces).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${SBC_BUILD_DIR:=$root/build}"
SBC_BUILD_DIR=$(cd "$SBC_BUILD_DIR" 2>/dev/null && pwd) || { echo "no SBC_BUILD_DIR" >&2; exit 1; }
# shellcheck source=../system/relay_lib.sh
. "$root/tests/system/relay_lib.sh"
: "${BENCH_CALLS:=250 500 1000 2000 3000}"
: "${BENCH_PPS:=50}"
: "${BENCH_STEP_S:=3}"
: "${BENCH_SOCKETS:=8}"
: "${BENCH_SIDES:=ours xdp sipwise}"
: "${RTP_LOAD:=$SBC_BUILD_DIR/tests/integration/rtp_load}"
: "${BENCH_RESULTS:=$SBC_BUILD_DIR/bench-relay/$(date +%Y%m%d-%H%M%S)}"
RELAY_CPU=1 GEN_CPU=0
PMIN=50000 PMAX=59999 # the first relay's media ports, the second's 10000 lower
NG_PORT=$((30000 + $$ % 20000)) # and the next one: each relay has its own
NGA=127.0.0.1:$NG_PORT
# the generator's sockets: below the ephemeral range and the relays' ranges of the tests
export RTP_LOAD_PORT_A=$((10000 + $$ % 500 * 20)) RTP_LOAD_PORT_B=$((10010 + $$ % 500 * 20))
command -v taskset >/dev/null || { echo "SKIP: taskset is not installed"; exit 77; }
(($(nproc) >= 2)) || { echo "SKIP: needs 2 CPUs"; exit 77; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip(8) is not installed"; exit 77; }
[[ -x $RTP_LOAD ]] || { echo "no rtp_load at $RTP_LOAD (ninja -C $SBC_BUILD_DIR)" >&2; exit 1; }
mkdir -p "$BENCH_RESULTS" || exit 1
RES=$(cd "$BENCH_RESULTS" && pwd)
TICKS=$(getconf CLK_TCK)
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "gen_cpu_s=%U+%S")
NS_PREFIX=sbcbench-$$
declare -A netns=()
trap 'for p in "${relay_pid[@]}"; do kill -KILL "$p" 2>/dev/null; done
for n in "${netns[@]}"; do ip netns del "$n" 2>/dev/null; done' EXIT

# ns_make SIDE: the side's namespace, lo up with the same settings for every side.
ns_make()
{
	local n=$NS_PREFIX-$1
	ip netns add "$n" || return 1
	netns[$1]=$n
	ip -n "$n" link set lo up &&
		ip netns exec "$n" sysctl -qw net.ipv4.conf.all.route_localnet=1 \
			net.ipv4.conf.lo.route_localnet=1 net.ipv4.conf.all.accept_local=1 \
			net.ipv4.conf.lo.accept_local=1
}
NS= # the namespace of the side being measured: every command of a step runs in it
inns() { ip netns exec "$NS" "$@"; }
deadline=$((SECONDS + 290)) # the whole bench stays under 5 minutes

# rcvbuf_errors: UDP receive-buffer drops of this network namespace so far (/proc/net/snmp),
# the relay's and the generator's alike (and anyone else's on this host).
rcvbuf_errors()
{
	inns awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

ksirq_ticks() # utime+stime of every ksoftirqd thread, in clock ticks
{
	local p n=0
	for p in $(pgrep '^ksoftirqd/'); do n=$((n + $(ticks "$p"))); done
	echo "$n"
}

ticks() # PID: utime+stime of all its threads, in clock ticks
{
	local line
	local -a f
	read -r line <"/proc/$1/stat" || { echo 0; return; }
	read -ra f <<<"${line##*) }"
	echo $((f[11] + f[12]))
}

# calls_up N STREAMS-FILE: N calls over ng, one line per call in STREAMS-FILE; 0 if all set up.
calls_up()
{
	inns python3 - "$NGA" "$1" "$2" "$BENCH_SOCKETS" "$RTP_LOAD_PORT_A" "$RTP_LOAD_PORT_B" <<'PY'
import os, re, socket, sys
sys.path.insert(0, os.environ["NG_DIR"])
from ng_tool import benc, bdec
host, port = sys.argv[1].rsplit(":", 1)
n, out, nsock, pa, pb = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
def ng(d):
    cookie = os.urandom(6).hex().encode()
    s.sendto(cookie + b" " + benc(d), (host, int(port)))
    while True:
        data = s.recv(65535)
        c, _, body = data.partition(b" ")
        if c == cookie:
            return bdec(body)[0]
def sdp(ip, p):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n" % (ip, ip, p))
def media(r):
    body = r.get(b"sdp", b"").decode()
    c = re.search(r"^c=IN IP4 (\S+)", body, re.M)
    m = re.search(r"^m=audio (\d+)", body, re.M)
    if r.get(b"result") != b"ok" or not c or not m:
        sys.exit("ng failed: %r" % r)
    return c.group(1), int(m.group(1))
common = {"replace": ["origin", "session-connection"], "ICE": "remove"}
with open(out, "w") as f:
    for i in range(n):
        cid = "bench-%d" % i
        k = i % nsock
        o = ng(dict(common, command="offer", **{"call-id": cid, "from-tag": "a%d" % i,
                "direction": ["access", "core"], "received-from": ["IP4", "127.0.0.1"],
                "sdp": sdp("127.0.0.1", pa + k)}))
        bip, bport = media(o)  # where side B (the callee) sends
        a = ng(dict(common, command="answer", **{"call-id": cid, "from-tag": "a%d" % i,
                "to-tag": "b%d" % i, "direction": ["core", "access"],
                "received-from": ["IP4", "127.0.0.2"], "sdp": sdp("127.0.0.2", pb + k)}))
        aip, aport = media(a)  # where side A (the caller) sends
        f.write("%s %d %s %d\n" % (aip, aport, bip, bport))
PY
}

calls_down() # N
{
	inns python3 - "$NGA" "$1" <<'PY'
import os, socket, sys
sys.path.insert(0, os.environ["NG_DIR"])
from ng_tool import benc
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(int(sys.argv[2])):
    s.sendto(b"d%d " % i + benc({"command": "delete", "call-id": "bench-%d" % i,
                                 "from-tag": "a%d" % i}), (host, int(port)))
    try:
        s.recv(65535)
    except OSError:
        pass
PY
}
export NG_DIR=$root/tests/system

declare -A best_pps=() best_calls=() cpu_per_m=() perm_at=() rx_at=() gen_bound=()
# per step: offered = what the step asks for, tx_pps = what the generator sent, rx_pps = what
# came back through the relay (forwarded), kpkt/cpu_s = forwarded packets per relay CPU-second
fmt='%-8s %6s %9s %9s %9s %8s %7s %6s %10s %10s %8s %10s %8s%s\n'
printf "$fmt" relay calls offered tx_pps rx_pps loss% cpu_s cpu% cpu_s/Mpkt kpkt/cpu_s ksirq_s rcvbuf_err gen_cpu% "" |
	tee "$RES/summary.txt"
# relay_start SIDE INDEX: starts that relay pinned (its own ng port and media ports), sets
# relay_pid[SIDE] and nga[SIDE]; 1 if it is not there or does not answer.
relay_start()
{
	local side=$1 i=$2 pmin=$((PMIN - $2 * 10000)) pmax=$((PMAX - $2 * 10000)) impl=$1
	local extra=""
	# "xdp" is ours with the AF_XDP engine
	[[ $side == xdp ]] && impl=ours extra='dataplane: { backend = "xdp"; };'
	export RELAY=$impl
	if [[ $impl == ours && -z ${RTPENGINE_BIN:-} ]]; then
		RTPENGINE_BIN=$SBC_BUILD_DIR/rtpengine/rtpengine
	fi
	(relay_pick) >/dev/null || { echo "$side: relay not available, skipped" | tee -a "$RES/summary.txt"; return 1; }
	relay_pick >/dev/null
	ns_make "$side" || { echo "$side: no network namespace, skipped" | tee -a "$RES/summary.txt"; return 1; }
	NS=${netns[$side]}
	nga[$side]=127.0.0.1:$((NG_PORT + i))
	mkdir -p "$RES/$side"
	RELAY_LOG_LEVEL=4 RELAY_OURS_LOG_LEVEL=warn RELAY_OURS_EXTRA_CONF=$extra \
		relay_argv "$RES/$side" 127.0.0.1 127.0.0.2 127.0.0.1 "$((NG_PORT + i))" "$pmin" "$pmax"
	[[ $side == ours ]] && echo "ours: sockets engine ${SBC_DP_SOCKETS_ENGINE:-auto (io_uring if available)}" |
		tee -a "$RES/summary.txt"
	# not through inns (a function: & would fork a subshell); ip netns exec execs the
	# command, so $! is the relay's PID
	ip netns exec "$NS" taskset -c "$RELAY_CPU" "${RELAY_ARGV[@]}" >"$RES/$side.log" 2>&1 &
	relay_pid[$side]=$!
	if ! inns bash -c ". '$root/tests/system/relay_lib.sh'; ng_wait_pong ${nga[$side]} 5"; then
		echo "$side: no pong, skipped" | tee -a "$RES/summary.txt"
		kill -KILL "${relay_pid[$side]}"; wait "${relay_pid[$side]}" 2>/dev/null; unset "relay_pid[$side]"
		return 1
	fi
}

# bench_step SIDE CALLS: one step against that relay, one line of the table; 1 when this
# relay's ramp ends here (loss, the generator could not go on, set-up failure).
bench_step()
{
	local side=$1 calls=$2 pid=${relay_pid[$1]} out w0 w1 t0 t1 e0 e1 k0 k1
	local rx loss rxpps off txpps gencpu genok genstop cpu cpupct perm kpc
	NGA=${nga[$side]} NS=${netns[$side]}
	if ! calls_up "$calls" "$RES/$side-$calls.streams" 2>"$RES/$side-$calls.setup.err"; then
		echo "$side: $calls calls could not be set up: $(tail -1 "$RES/$side-$calls.setup.err")" |
			tee -a "$RES/summary.txt"
		calls_down "$calls"
		return 1
	fi
	w0=$EPOCHREALTIME t0=$(ticks "$pid") e0=$(rcvbuf_errors) k0=$(ksirq_ticks)
	out=$(inns taskset -c "$GEN_CPU" "${timer[@]}" "$RTP_LOAD" bench "$RES/$side-$calls.streams" \
		"$BENCH_PPS" $((BENCH_STEP_S * 1000)) "$BENCH_SOCKETS" 2>&1)
	t1=$(ticks "$pid") w1=$EPOCHREALTIME e1=$(rcvbuf_errors) k1=$(ksirq_ticks)
	calls_down "$calls"
	if [[ $out != *loss_pct=* ]]; then
		echo "$side $calls: the generator failed" | tee -a "$RES/summary.txt"
		return 1
	fi
	echo "$side $calls: $out" >>"$RES/raw.txt"
	# ours: the dataplane's own view (the xdp engine's frames and kernel drops)
	[[ -S $RES/$side/rtpengine.ctl ]] && "$SBC_BUILD_DIR/sbc/sbcctl" -s "$RES/$side/rtpengine.ctl" \
		status 2>/dev/null | grep -E '^(dataplane|xdp):' | sed "s/^/$side $calls: /" >>"$RES/raw.txt"
	kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$out"; }
	rx=$(kv received) loss=$(kv loss_pct) rxpps=$(kv rx_pps) off=$(kv pps_offered)
	txpps=$(kv tx_pps)
	gencpu=$(kv gen_cpu_s)
	gencpu=$(awk -v g="${gencpu:-0+0}" -v t="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" \
		'BEGIN { split(g, x, "+"); printf "%.0f", (t > 0 ? 100 * (x[1] + x[2]) / t : 0) }')
	# the generator kept the offered rate within 10%; below 80% the ramp cannot go on
	genok=$(awk -v t="$txpps" -v o="$off" 'BEGIN { print (t >= 0.9 * o) ? 1 : 0 }')
	genstop=$(awk -v t="$txpps" -v o="$off" 'BEGIN { print (t < 0.8 * o) ? 1 : 0 }')
	cpu=$(awk -v a="$t0" -v b="$t1" -v t="$TICKS" 'BEGIN { printf "%.2f", (b - a) / t }')
	cpupct=$(awk -v c="$cpu" -v e="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" 'BEGIN { printf "%.0f", (e > 0 ? 100 * c / e : 0) }')
	perm=$(awk -v c="$cpu" -v r="$rx" 'BEGIN { printf "%.2f", (r > 0 ? c / (r / 1e6) : 0) }')
	kpc=$(awk -v p="$perm" 'BEGIN { printf "%.0f", (p > 0 ? 1000 / p : 0) }')
	printf "$fmt" "$side" "$calls" "$off" "$txpps" "$rxpps" "$loss" "$cpu" "$cpupct" "$perm" \
		"$kpc" "$(awk -v k=$((k1 - k0)) -v t="$TICKS" 'BEGIN { printf "%.2f", k / t }')" \
		"$((e1 - e0))" "$gencpu" "$( ((genok)) || echo "  generator-bound")" |
		tee -a "$RES/summary.txt"
	((genok)) || gen_bound[$side]=$off
	if awk -v l="$loss" 'BEGIN { exit !(l < 0.1) }'; then
		if awk -v a="$rxpps" -v b="${best_pps[$side]:-0}" 'BEGIN { exit !(a > b) }'; then
			best_pps[$side]=$rxpps best_calls[$side]=$calls cpu_per_m[$side]=$perm
		fi
		perm_at[$side:$calls]=$perm rx_at[$side:$calls]=$rxpps
		((genstop)) && return 1
		return 0
	fi
	unset "gen_bound[$side]"
	return 1
}

# Both relays run side by side (idle costs nothing) and the steps alternate between them, so
# that each step of one is measured next to the same step of the other under the same
# conditions on a shared host.
declare -A relay_pid=() nga=() ramping=()
i=0
for side in $BENCH_SIDES; do
	relay_start "$side" "$i" && ramping[$side]=1
	i=$((i + 1))
done
for calls in $BENCH_CALLS; do
	((${#ramping[@]})) || break
	((SECONDS + 2 * BENCH_STEP_S + 20 < deadline)) || { echo "time budget spent, ramp stopped"; break; }
	for side in $BENCH_SIDES; do
		[[ -n ${ramping[$side]:-} ]] || continue
		bench_step "$side" "$calls" || unset "ramping[$side]"
	done
done
for side in "${!relay_pid[@]}"; do
	kill -TERM "${relay_pid[$side]}"
	wait "${relay_pid[$side]}" 2>/dev/null
done
relay_pid=()

{
	echo
	for side in $BENCH_SIDES; do
		echo "$side: highest clean rate (loss < 0.1%): ${best_pps[$side]:-none} pps (${best_calls[$side]:-0} calls), ${cpu_per_m[$side]:-?} CPU-s per Mpkt there${gen_bound[$side]:+ (a lower bound: the generator could not offer ${gen_bound[$side]} pps)}"
	done
	# the same steps side by side: packets per CPU-second of each of ours (sockets, xdp) /
	# Sipwise's (= their CPU-s per Mpkt / ours), at every step both forwarded cleanly
	for side in $BENCH_SIDES; do
		[[ $side == sipwise ]] && continue
		common=""
		for calls in $BENCH_CALLS; do
			[[ -n ${perm_at[$side:$calls]:-} && -n ${perm_at[sipwise:$calls]:-} ]] || continue
			if [[ -z $common ]]; then
				echo
				printf '%-7s %6s %10s %10s %12s %12s %14s\n' side calls rx sw_rx s/Mpkt \
					sw_s/Mpkt pkt/cpu_s_ratio
			fi
			common=$calls
			awk -v d="$side" -v c="$calls" -v ro="${rx_at[$side:$calls]}" \
				-v rs="${rx_at[sipwise:$calls]}" -v o="${perm_at[$side:$calls]}" \
				-v s="${perm_at[sipwise:$calls]}" \
				'BEGIN { printf "%-7s %6s %10s %10s %12s %12s %13.2fx\n", d, c, ro, rs, o, s, (o > 0 ? s / o : 0) }'
		done
		if [[ -n ${best_pps[$side]:-} && -n ${best_pps[sipwise]:-} ]]; then
			awk -v d="$side" -v o="${best_pps[$side]}" -v s="${best_pps[sipwise]}" -v n="$common" \
				-v co="${perm_at[$side:$common]:-0}" -v cs="${perm_at[sipwise:$common]:-0}" 'BEGIN {
				printf "ratio %s/sipwise: highest clean rate %.2fx", d, o / s
				if (n != "" && co > 0)
					printf "; packets per CPU-second %.2fx (at %d calls, the highest step both forwarded cleanly)", cs / co, n
				printf "\n" }'
		fi
	done
	echo "results: $RES"
} | tee -a "$RES/summary.txt"
