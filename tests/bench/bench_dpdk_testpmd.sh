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
#       (packets sent first, then forwarded in a circle), as cross-checks of the io figures.
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

if command -v dpdk-testpmd >/dev/null; then
	# testpmd waits for a line on stdin before it stops and prints its statistics
	out=$( (sleep "$secs"; echo) | timeout -s INT $((secs + 30)) dpdk-testpmd -l 0-1 --no-huge \
		--no-shconf --no-pci -m 512 --vdev=net_null0 --vdev=net_null1 --log-level='*:error' -- \
		--forward-mode=io --auto-start --record-core-cycles --total-num-mbufs=8192 2>&1)
	tp=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	echo "dpdk-testpmd io forward (net_null x2, 4 KiB pages): ${tp:-?} cycles/packet"
	# the memif pair: the client names the server's socket another way (one process may not
	# be both ends of one socket name); 64 packets a port sent first, then io forward
	sock=/tmp/bench_testpmd_memif.$$.sock
	memif="socket-abstract=no,socket"
	out=$( (sleep "$secs"; echo) | timeout -s INT $((secs + 30)) dpdk-testpmd -l 0-1 --no-huge \
		--no-shconf --no-pci -m 512 --vdev=net_memif0,role=server,$memif=$sock \
		--vdev=net_memif1,role=client,$memif=/tmp/.${sock#/tmp} --log-level='*:error' -- \
		--forward-mode=io --auto-start --tx-first --burst=64 --txpkts=214 \
		--record-core-cycles --total-num-mbufs=8192 2>&1)
	rm -f "$sock"
	tp=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
	echo "dpdk-testpmd io forward (memif pair, 4 KiB pages): ${tp:-?} cycles/packet"
fi

"$bench" "$@"

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
	"$bench" --huge "$dir" "$@"
else
	echo "could not reserve $pages hugepages (root and free memory needed): 4 KiB pages only"
fi
