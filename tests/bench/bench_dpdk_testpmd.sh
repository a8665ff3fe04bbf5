#!/usr/bin/env bash
# tests/bench/bench_dpdk_testpmd.sh: the relay's lcore loop next to io forwarding, one harness,
# 4 KiB pages and 2 MiB hugepages. No NIC; run by hand (not a meson test).
#
#   bench_dpdk_loop: per flow count, on a net_ring port (the PMD moves pointers only), on
#       net_null (RX allocates mbufs, TX frees them, like a NIC driver) and on a memif pair (RX
#       and TX copy the packets, as a NIC's DMA moves them; a reflector on the other end, not
#       timed): testpmd's io forward loop (rx_burst + tx_burst) and our worker loop
#       (dp_dpdk_worker_poll: rx_burst, parse, bulk lookup, latching, rewrite, neighbour,
#       tx_burst) over the same packets, cycles/packet = TSC / packets, best window, and relay
#       rate / io rate.
#   dpdk-testpmd itself, io forward on two net_null ports, and on a memif pair in one process
#       (packets sent first, then forwarded in a circle), on the same pages, run before the
#       bench; each bench line of those vdevs ends with our rate as a fraction of testpmd's
#       (relay/testpmd; testpmd's loop costs more than the harness's io forward: relay/io is
#       the stricter figure).
#
# Hugepages: as root, when the kernel lets us, this reserves BENCH_HUGEPAGES (800) 2 MiB pages
# on a private hugetlbfs mount and gives them back afterwards.
#
# Usage: SBC_BUILD_DIR=build-rel tests/bench/bench_dpdk_testpmd.sh [flows ...]
# Settings: BENCH_TESTPMD_S (3, seconds of testpmd). Exit: 0 done, 77 skipped.
set -u
build=${SBC_BUILD_DIR:-build-rel}
secs=${BENCH_TESTPMD_S:-3}
pages=${BENCH_HUGEPAGES:-800}
bench=$build/tests/bench/bench_dpdk_loop
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

[ -x "$bench" ] || { echo "skip: $bench not built (meson setup $build --buildtype=release)"; exit 77; }

# dpdk-testpmd io forward, cycles/packet ("?" without it): $1 null|memif, then EAL memory options
testpmd_io() {
	local vdevs sock=/tmp/bench_testpmd_memif.$$.sock memif="socket-abstract=no,socket" out
	command -v dpdk-testpmd >/dev/null || { echo "?"; return; }
	local kind=$1
	shift
	if [[ $kind == null ]]; then
		vdevs=(--vdev=net_null0 --vdev=net_null1)
		set -- "$@" -- --forward-mode=io
	else
		# the client names the server's socket another way (one process may not be both
		# ends of one socket name); 64 packets a port sent first, then io forward
		vdevs=("--vdev=net_memif0,role=server,$memif=$sock"
			"--vdev=net_memif1,role=client,$memif=/tmp/.${sock#/tmp}")
		set -- "$@" -- --forward-mode=io --tx-first --burst=64 --txpkts=214
	fi
	# testpmd waits for a line on stdin before it stops and prints its statistics
	out=$( (sleep "$secs"; echo) | timeout -s INT $((secs + 30)) dpdk-testpmd -l 0-1 \
		--no-shconf --no-pci "${vdevs[@]}" --log-level='*:error' "$@" --auto-start \
		--record-core-cycles --total-num-mbufs=8192 2>&1)
	rm -f "$sock"
	out=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	echo "${out:-?}"
}

# The bench's lines, each with our rate as a fraction of dpdk-testpmd's on that vdev:
# $1, $2: testpmd's net_null and memif cycles/packet.
with_testpmd() {
	local line vdev relay tp
	while IFS= read -r line; do
		if [[ $line =~ flows\ (net_null|memif)\ *\|\ relay\ +([0-9.]+) ]]; then
			vdev=${BASH_REMATCH[1]} relay=${BASH_REMATCH[2]}
			[[ $vdev == net_null ]] && tp=$1 || tp=$2
			[[ $tp != "?" ]] && line+=$(printf ' | relay/testpmd %.2f' \
				"$(bc -l <<<"$tp / $relay")")
		fi
		echo "$line"
	done
}

run_pages() { # $1: label, $2..: testpmd's memory options; bench options in BENCH_OPTS
	local label=$1 null memif
	shift
	null=$(testpmd_io null "$@")
	memif=$(testpmd_io memif "$@")
	echo "dpdk-testpmd io forward ($label): net_null x2 $null, memif pair $memif cycles/packet"
	"$bench" "${BENCH_OPTS[@]}" "${FLOWS[@]}" | with_testpmd "$null" "$memif"
}

FLOWS=("$@")
BENCH_OPTS=()
run_pages "4 KiB pages" --no-huge -m 512

old=$(cat "$nr" 2>/dev/null) || { echo "no 2 MiB hugepages here"; exit 0; }
dir=$(mktemp -d /tmp/bench_dpdk_hp.XXXXXX)
cleanup() {
	umount "$dir" 2>/dev/null
	rmdir "$dir"
	echo "$old" >"$nr" 2>/dev/null
}
trap cleanup EXIT
if mount -t hugetlbfs -o pagesize=2M none "$dir" 2>/dev/null && echo "$pages" >"$nr" 2>/dev/null &&
	[ "$(cat "$nr")" -ge "$pages" ]; then
	BENCH_OPTS=(--huge "$dir")
	run_pages "2 MiB pages" --huge-dir "$dir" -m 512
else
	echo "could not reserve $pages hugepages (root and free memory needed): 4 KiB pages only"
fi
