#!/usr/bin/env bash
# tests/bench/bench_cps.sh: calls-per-second benchmark of the sbc in front of our rtpengine
# against Debian's Kamailio in front of Debian's Sipwise rtpengine, in the network-namespace
# topology of the integration tests (tests/integration/lib/topology.sh). Run by hand, as root;
# not a meson test. BENCH_SBC_RELAY=sipwise puts the sbc in front of Sipwise's relay instead.
#
#   caller (sipp, behind the symmetric NAT) -> sbc ns: access 203.0.113.10 | core 198.51.100.10
#   -> callee (sipp, 198.51.100.20). Each call: INVITE with SDP, 180, 200, ACK, hold, BYE, 200.
#
# The SIP server under test (sbc, or kamailio with nathelper, rtpengine and topoh) and rtpengine
# (--table=-1, userspace, interfaces access/core on the two sbc addresses) run pinned to CPU 0,
# both sipps to CPU 1. For each side the rate ramps through BENCH_STEPS; a step sends
# rate*BENCH_STEP_S calls and is clean when at most 0.5% of them fail (did not complete on the
# caller), the retransmissions of both sipps stay at most 1% of the calls and sipp kept the rate
# (it had created all calls within BENCH_STEP_S + 2 s, by its 1 s statistics). The ramp of a side stops at its first
# unclean step. CPU: utime+stime from /proc/PID/stat of the server's processes (kamailio: the
# main process and all its children) and of rtpengine, before and after each step.
#
# Usage (root):
#   SBC_BUILD_DIR=build-bench tests/bench/bench_cps.sh             # full ramp, ~5-8 minutes
#   BENCH_QUICK=1 SBC_BUILD_DIR=build-bench tests/bench/bench_cps.sh   # 2-step smoke run
# Settings (environment): BENCH_STEPS ("100 200 400 800 1200 1600 2000"), BENCH_STEP_S (10),
# BENCH_HOLD_MS (1000), BENCH_SIDES ("sbc kamailio"), BENCH_KAM_CHILDREN (4),
# BENCH_RESULTS (results directory; default $SBC_BUILD_DIR/bench-cps/<date>),
# BENCH_DEADLINE_S (1200, the watchdog of the whole run), BENCH_TRACE_MSG=1 (sipp -trace_msg,
# to check the call flow at a low rate; it costs the generators CPU).
# The results directory keeps, per side and step, the sipp statistics (CSV), screens and
# error logs, the daemons' logs and configurations, and summary.txt (the printed tables).
# Exit: 0 done (whatever the numbers), 1 setup failure, 77 skipped (not root, no sipp, ...).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${SBC_BUILD_DIR:=$root/build-bench}"
SBC_BUILD_DIR=$(cd "$SBC_BUILD_DIR" 2>/dev/null && pwd) || {
	echo "SBC_BUILD_DIR does not exist; build it: meson setup build-bench --buildtype=release && ninja -C build-bench" >&2
	exit 1
}
TOPO_TEST_NAME=bench_cps
TOPO_DEADLINE_S=${BENCH_DEADLINE_S:-1200}
TOPO_IPV6=0
# shellcheck source=../integration/lib/topology.sh
. "$root/tests/integration/lib/topology.sh"

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	: "${BENCH_STEPS:=100 200}" "${BENCH_STEP_S:=5}"
fi
: "${BENCH_STEPS:=100 200 400 800 1200 1600 2000}"
: "${BENCH_STEP_S:=10}"
: "${BENCH_HOLD_MS:=1000}"
: "${BENCH_SIDES:=sbc kamailio}"
: "${BENCH_KAM_CHILDREN:=4}"
: "${BENCH_RESULTS:=$SBC_BUILD_DIR/bench-cps/$(date +%Y%m%d-%H%M%S)}"
FAIL_PPM=5000  # 0.5% of the calls may fail
RETRANS_PPM=10000  # retransmissions up to 1% of the calls
RTPE_NG=127.0.0.1:2223
SERVER_CPU=0
GEN_CPU=1

require_root_netns
for cmd in sipp taskset rtpengine; do
	command -v "$cmd" >/dev/null || topo_skip "$cmd is not installed"
done
[[ -x $SBC_BUILD_DIR/sbc/sbc ]] || fail "no $SBC_BUILD_DIR/sbc/sbc"
(($(nproc) >= 2)) || topo_skip "needs 2 CPUs (server on CPU $SERVER_CPU, generators on CPU $GEN_CPU)"
mkdir -p "$BENCH_RESULTS" || fail "cannot create $BENCH_RESULTS"
RES=$(cd "$BENCH_RESULTS" && pwd)
TICKS=$(getconf CLK_TCK)

# The namespaces' logs go to the results directory too, kept whatever the exit status.
TOPO_LOG_BASE=$RES TOPO_KEEP_LOGS=1
topo_up || fail "topology"

# ---------------------------------------------------------------------------------------------
# CPU accounting

# ticks PID...: utime+stime of the processes (all threads), in clock ticks.
ticks()
{
	local pid line sum=0
	local -a f
	for pid in "$@"; do
		read -r line 2>/dev/null <"/proc/$pid/stat" || continue
		read -ra f <<<"${line##*) }"
		sum=$((sum + f[11] + f[12])) # fields 14 and 15: utime, stime
	done
	echo "$sum"
}

# family PID: PID and its children (kamailio's workers are direct children of the main one).
family()
{
	local f line
	local -a fields
	echo "$1"
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		read -ra fields <<<"${line##*) }"
		[[ ${fields[1]} == "$1" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
}

# busy CPU: "busy total" jiffies of one CPU from /proc/stat (busy = all but idle and iowait).
busy()
{
	awk -v cpu="cpu$1" '$1 == cpu { t = 0; for (i = 2; i <= NF; i++) t += $i
		print t - $5 - $6, t }' /proc/stat
}

# pct B0 T0 B1 T1: the busy share between two busy() samples, in percent.
pct()
{
	awk -v b0="$1" -v t0="$2" -v b1="$3" -v t1="$4" 'BEGIN {
		printf "%d", (t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0) }'
}

# ---------------------------------------------------------------------------------------------
# Daemons

ng_ping()
{
	in_ns sbc python3 - "$RTPE_NG" <<'PY'
import os, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
c = os.urandom(6).hex().encode()
s.sendto(c + b" d7:command4:pinge", (host, int(port)))
try:
    sys.exit(0 if b"pong" in s.recv(4096) else 1)
except OSError:
    sys.exit(1)
PY
}

# Our relay, with the same interfaces and port range as Sipwise's below.
start_our_rtpengine()
{
	local side=$1
	cat >"$RES/$side/rtpengine.conf" <<-CONF
		log: { level = "warn"; target = "stderr"; };
		ng: { listen = [ "$RTPE_NG" ]; };
		interfaces = (
		  { name = "access"; address = "$SBC_ACCESS_IP"; port_min = 20000; port_max = 59999; },
		  { name = "core"; address = "$SBC_CORE_IP"; port_min = 20000; port_max = 59999; }
		);
		control: { socket = "$RES/$side/rtpengine.ctl"; };
	CONF
	start_daemon rtpengine sbc "$RES/$side/rtpengine.log" taskset -c "$SERVER_CPU" \
		"$SBC_BUILD_DIR/rtpengine/rtpengine" -f "$RES/$side/rtpengine.conf"
}

# The sbc side runs our relay (BENCH_SBC_RELAY=ours, the default) or Sipwise's (=sipwise);
# Kamailio always runs in front of Sipwise's, the anchor.
start_rtpengine()
{
	local side=$1 i
	if [[ $side == sbc && ${BENCH_SBC_RELAY:-ours} == ours ]]; then
		start_our_rtpengine "$side"
	else
		start_daemon rtpengine sbc "$RES/$side/rtpengine.log" taskset -c "$SERVER_CPU" \
			rtpengine --config-file=none --table=-1 --interface="access/$SBC_ACCESS_IP" \
			--interface="core/$SBC_CORE_IP" --listen-ng="$RTPE_NG" --port-min=20000 \
			--port-max=59999 --delete-delay=0 --foreground --log-stderr --log-level=4
	fi
	for ((i = 0; i < 50; i++)); do
		ng_ping && return 0
		sleep 0.1
	done
	fail "rtpengine does not answer ng ping on $RTPE_NG (see $RES/$side/rtpengine.log)"
}

start_sbc()
{
	cat >"$RES/sbc/sbc.conf" <<-CONF
		log: { level = "warn"; target = "stderr"; };
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
		media: {
		  rtpengine = [ "$RTPE_NG" ];
		  direction = [ "access", "core" ];
		};
		control: { socket = "$RES/sbc/sbc.ctl"; };
	CONF
	start_daemon server sbc "$RES/sbc/sbc.log" taskset -c "$SERVER_CPU" "$SBC_BUILD_DIR/sbc/sbc" \
		-f "$RES/sbc/sbc.conf"
	wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || fail "sbc does not listen (see $RES/sbc/sbc.log)"
}

start_kamailio()
{
	command -v kamailio >/dev/null || return 1
	sed -e "s/@ACCESS_IP@/$SBC_ACCESS_IP/g" -e "s/@CORE_IP@/$SBC_CORE_IP/g" \
		-e "s/@CALLEE_IP@/$CALLEE_IP/g" -e "s/@RTPE_NG@/$RTPE_NG/g" \
		-e "s/@CHILDREN@/$BENCH_KAM_CHILDREN/g" "$here/cps/kamailio.cfg" >"$RES/kamailio/kamailio.cfg"
	mkdir -p "$RES/kamailio/run"
	kamailio -c -f "$RES/kamailio/kamailio.cfg" >"$RES/kamailio/check.log" 2>&1 || {
		echo "kamailio rejects its configuration (see $RES/kamailio/check.log)" >&2
		return 1
	}
	# -DD: the main process stays in the foreground (start_daemon's pid), workers are its children
	start_daemon server sbc "$RES/kamailio/kamailio.log" taskset -c "$SERVER_CPU" kamailio -DD -E \
		-f "$RES/kamailio/kamailio.cfg" -m 512 -M 16 -Y "$RES/kamailio/run" -w "$RES/kamailio/run" \
		${BENCH_KAM_ARGS:-}
	wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || {
		echo "kamailio does not listen (see $RES/kamailio/kamailio.log)" >&2
		return 1
	}
	sleep 1 # workers and the rtpengine module's sockets
}

# ---------------------------------------------------------------------------------------------
# One step: rate*BENCH_STEP_S calls at rate CPS.

# stat_col CSV NAME: the value of the column NAME in the last line of a sipp -trace_stat file.
stat_col()
{
	[[ -s $1 ]] || { echo 0; return; }
	awk -F';' -v want="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next }
		{ last = $c } END { print (c && last != "" ? last + 0 : 0) }' "$1"
}

# gen_s CSV CALLS: seconds (sipp -fd 1 resolution) until the caller had created CALLS calls,
# 999 if it never did: more than BENCH_STEP_S means sipp could not keep the rate.
gen_s()
{
	[[ -s $1 ]] || { echo 999; return; }
	awk -F';' -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "ElapsedTime(C)") e = i
			if ($i == "TotalCallCreated") c = i }; next }
		$c + 0 >= n { split($e, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3]; found = 1; exit }
		END { if (!found) print 999 }' "$1"
}

# Per side: a line per step "rate calls ok failed retrans wall_ms server_ticks rtpe_ticks clean".
declare -A ROWS=() BEST=() TOTAL_CALLS=() TOTAL_TICKS=()

run_step()
{
	local side=$1 rate=$2 calls dir uas_csv uac_csv t0 t1 s0 s1 r0 r1 i ok failed retrans
	local clean=1 wall_ms gen drops ns limit sb0 st0 sb1 st1 gb0 gt0 gb1 gt1 cpu0 cpu1
	local -a spids
	calls=$((rate * BENCH_STEP_S))
	dir=$RES/$side/step-$rate
	mkdir -p "$dir"
	uac_csv=$dir/uac-stats.csv uas_csv=$dir/uas-stats.csv
	start_daemon uas callee "$dir/uas.log" taskset -c "$GEN_CPU" sipp -sf "$here/cps/uas.xml" \
		-i "$CALLEE_IP" -p 5060 -m "$calls" -nostdin -trace_stat -stf "$uas_csv" -fd 1 \
		-trace_err -error_file "$dir/uas-errors.log" -trace_screen -screen_file "$dir/uas-screen.log" \
		${BENCH_TRACE_MSG:+-trace_msg -message_file "$dir/uas-messages.log"}
	wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "the callee's sipp does not listen"

	mapfile -t spids < <(if [[ $side == kamailio ]]; then family "$(daemon_pid server)"; else
		daemon_pid server; fi)
	for ns in caller sbc callee; do in_ns "$ns" cat /proc/net/snmp >"$dir/snmp-$ns-before.txt"; done
	s0=$(ticks "${spids[@]}") r0=$(ticks "$(daemon_pid rtpengine)")
	read -r sb0 st0 < <(busy "$SERVER_CPU")
	read -r gb0 gt0 < <(busy "$GEN_CPU")
	t0=$(date +%s%N)
	limit=$((rate * (BENCH_HOLD_MS / 1000 + 3) + 100))
	in_ns caller timeout $((BENCH_STEP_S + 60)) taskset -c "$GEN_CPU" sipp -sf "$here/cps/uac.xml" \
		-s +15551234 -i "$CALLER_IP" -p 5070 -m "$calls" -r "$rate" -l "$limit" \
		-d "$BENCH_HOLD_MS" -recv_timeout 8000 -timeout $((BENCH_STEP_S + 40))s -nostdin \
		-trace_stat -stf "$uac_csv" -fd 1 -trace_err -error_file "$dir/uac-errors.log" \
		-trace_screen -screen_file "$dir/uac-screen.log" \
		${BENCH_TRACE_MSG:+-trace_msg -message_file "$dir/uac-messages.log"} "$SBC_ACCESS_IP:5060" \
		>"$dir/uac.log" 2>&1
	echo "+ exit status $?" >>"$dir/uac.log"
	t1=$(date +%s%N)
	# the callee ends by itself after its last BYE; give it a moment, then stop it
	for ((i = 0; i < 30; i++)); do
		topo_pid_ours "$(daemon_pid uas)" || break
		sleep 0.1
	done
	s1=$(ticks "${spids[@]}") r1=$(ticks "$(daemon_pid rtpengine)")
	read -r sb1 st1 < <(busy "$SERVER_CPU")
	read -r gb1 gt1 < <(busy "$GEN_CPU")
	cpu0=$(pct "$sb0" "$st0" "$sb1" "$st1") cpu1=$(pct "$gb0" "$gt0" "$gb1" "$gt1")
	for ns in caller sbc callee; do in_ns "$ns" cat /proc/net/snmp >"$dir/snmp-$ns-after.txt"; done
	drops=$(cat "$dir"/snmp-*-after.txt | awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { s += $4 + $6 } END { print s + 0 }')
	drops=$((drops - $(cat "$dir"/snmp-*-before.txt | awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { s += $4 + $6 } END { print s + 0 }')))
	stop_daemon uas >/dev/null 2>&1

	ok=$(stat_col "$uac_csv" "SuccessfulCall(C)")
	failed=$((calls - ok))
	retrans=$(($(stat_col "$uac_csv" "Retransmissions(C)") + $(stat_col "$uas_csv" "Retransmissions(C)")))
	wall_ms=$(((t1 - t0) / 1000000))
	((failed * 1000000 > calls * FAIL_PPM)) && clean=0
	((retrans * 1000000 > calls * RETRANS_PPM)) && clean=0
	gen=$(gen_s "$uac_csv" "$calls")
	((gen > BENCH_STEP_S + 2)) && clean=0
	ROWS[$side]+="$rate $calls $ok $failed $retrans $wall_ms $gen $((s1 - s0)) $((r1 - r0)) $cpu0 $cpu1 $clean"$'\n'
	TOTAL_CALLS[$side]=$((${TOTAL_CALLS[$side]:-0} + ok))
	TOTAL_TICKS[$side]=$((${TOTAL_TICKS[$side]:-0} + s1 - s0 + r1 - r0))
	printf '  %-8s %5d cps: %6d ok %5d failed %5d retrans %6.1f s  cpu%d %3d%% cpu%d %3d%%  udp drops %d  %s\n' \
		"$side" "$rate" "$ok" "$failed" "$retrans" "$(echo "$wall_ms" | awk '{ print $1 / 1000 }')" \
		"$SERVER_CPU" "$cpu0" "$GEN_CPU" "$cpu1" "$drops" \
		"$([[ $clean == 1 ]] && echo clean || echo NOT CLEAN)"
	[[ $clean == 1 ]] && BEST[$side]=$rate
	sleep 2 # let the relay and the conntrack settle
	return $((!clean))
}

run_side()
{
	local side=$1 rate
	mkdir -p "$RES/$side"
	start_rtpengine "$side"
	case $side in
	sbc) start_sbc ;;
	kamailio) start_kamailio || {
		stop_daemon server >/dev/null 2>&1
		stop_daemon rtpengine >/dev/null 2>&1
		return 1
	} ;;
	esac
	echo "$side (server pid $(daemon_pid server), rtpengine pid $(daemon_pid rtpengine)," \
		"CPU $SERVER_CPU; sipp on CPU $GEN_CPU)"
	for rate in $BENCH_STEPS; do
		run_step "$side" "$rate" || break
	done
	stop_daemon server >/dev/null 2>&1
	stop_daemon rtpengine >/dev/null 2>&1
	return 0
}

# ---------------------------------------------------------------------------------------------
# Report

cpu_per_k()
{ # ticks calls -> CPU seconds per 1000 calls
	awk -v t="$1" -v c="$2" -v hz="$TICKS" 'BEGIN { if (c > 0) printf "%.3f", t / hz / c * 1000; else printf "-" }'
}

report()
{
	local side rate calls ok failed retrans wall gen st rt c0 c1 clean
	for side in $BENCH_SIDES; do
		[[ -n ${ROWS[$side]:-} ]] || { echo "== $side: no results"; continue; }
		echo "== $side (+ rtpengine): $BENCH_STEP_S s per step, hold $BENCH_HOLD_MS ms" \
			"(gen_s: seconds sipp took to create the calls; cpuN: busy share of that CPU, all processes)"
		printf '%6s %7s %7s %6s %7s %6s %5s %9s %9s %9s %5s %5s %s\n' CPS calls ok failed retrans wall_s gen_s \
			srv_s/1k rtpe_s/1k total/1k "cpu$SERVER_CPU" "cpu$GEN_CPU" result
		while read -r rate calls ok failed retrans wall gen st rt c0 c1 clean; do
			[[ -n $rate ]] || continue
			printf '%6d %7d %7d %6d %7d %6.1f %5d %9s %9s %9s %4d%% %4d%% %s\n' "$rate" "$calls" "$ok" \
				"$failed" "$retrans" "$(awk -v w="$wall" 'BEGIN { print w / 1000 }')" "$gen" \
				"$(cpu_per_k "$st" "$ok")" "$(cpu_per_k "$rt" "$ok")" \
				"$(cpu_per_k $((st + rt)) "$ok")" "$c0" "$c1" \
				"$([[ $clean == 1 ]] && echo clean || echo FAIL)"
		done <<<"${ROWS[$side]}"
	done
	echo
	echo "== summary (CPU-s per 1000 calls: server + rtpengine, over all steps)"
	for side in $BENCH_SIDES; do
		printf '%-9s highest clean CPS: %5s   CPU-s/1000 calls: %s\n' "$side" "${BEST[$side]:-none}" \
			"$(cpu_per_k "${TOTAL_TICKS[$side]:-0}" "${TOTAL_CALLS[$side]:-0}")"
	done
	if [[ -n ${BEST[sbc]:-} && -n ${BEST[kamailio]:-} ]]; then
		awk -v a="${BEST[sbc]}" -v b="${BEST[kamailio]}" \
			'BEGIN { printf "ratio sbc/kamailio: highest clean CPS %.2f", a / b }'
		awk -v ta="${TOTAL_TICKS[sbc]}" -v ca="${TOTAL_CALLS[sbc]}" -v tb="${TOTAL_TICKS[kamailio]}" \
			-v cb="${TOTAL_CALLS[kamailio]}" 'BEGIN {
				if (ca > 0 && cb > 0 && tb > 0) printf ", CPU per call %.2f\n", (ta / ca) / (tb / cb)
				else print "" }'
		local last_ok_common=
		for rate in $BENCH_STEPS; do
			[[ $rate -le ${BEST[sbc]} && $rate -le ${BEST[kamailio]} ]] && last_ok_common=$rate
		done
		[[ -n $last_ok_common ]] && echo "(both clean up to $last_ok_common CPS; the top step of the ramp is $(echo "$BENCH_STEPS" | awk '{ print $NF }') CPS)"
	else
		echo "no ratio: a side has no clean step${KAM_MISSING:+ ($KAM_MISSING)}"
	fi
	echo "raw sipp statistics and logs: $RES"
}

echo "bench_cps: steps [$BENCH_STEPS] CPS, $BENCH_STEP_S s each, hold $BENCH_HOLD_MS ms; results in $RES"
KAM_MISSING=
for side in $BENCH_SIDES; do
	if [[ $side == kamailio ]] && ! command -v kamailio >/dev/null; then
		KAM_MISSING="kamailio is not installed: apt-get install kamailio kamailio-extra-modules"
		echo "$KAM_MISSING; the anchor is MISSING" >&2
		continue
	fi
	run_side "$side" || {
		KAM_MISSING="$side did not start"
		echo "$side did not start; its results are MISSING" >&2
	}
done
report | tee "$RES/summary.txt"
exit 0
