#!/usr/bin/env bash
# tests/bench/bench_dpdk_testpmd.sh: the DPDK relay fast path next to dpdk-testpmd's io forwarding,
# measured in the same run, no NIC and no root needed (--no-huge). Run by hand; not a meson test.
#
#   testpmd: io forward between two net_null ports (rx + tx through the PMDs, packets untouched),
#            CPU cycles/packet from --record-core-cycles.
#   relay:   bench_dpdk_fastpath, cycles/packet inside dp_dpdk_process_burst() (parse, bulk flow
#            lookup, latch_check, rewrite + incremental checksums, ARP table), no PMD.
#
# So the ratio says what the relay logic costs per packet on top of what moving a packet through
# DPDK costs at all; a full relay loop costs roughly the sum of both.
#
# Usage: SBC_BUILD_DIR=build-rel tests/bench/bench_dpdk_testpmd.sh [flows ...]
# Settings: BENCH_TESTPMD_S (4, seconds of io forwarding). Exit: 0 done, 77 skipped.
set -u
build=${SBC_BUILD_DIR:-build-rel}
secs=${BENCH_TESTPMD_S:-4}
bench=$build/tests/bench/bench_dpdk_fastpath

command -v dpdk-testpmd >/dev/null || { echo "skip: no dpdk-testpmd"; exit 77; }
[ -x "$bench" ] || { echo "skip: $bench not built (meson setup $build --buildtype=release)"; exit 77; }

# testpmd waits for a line on stdin before it stops and prints its statistics
out=$( (sleep "$secs"; echo) | timeout -s INT $((secs + 30)) dpdk-testpmd -l 0-1 --no-huge \
	--no-shconf --no-pci -m 512 --vdev=net_null0 --vdev=net_null1 --log-level='*:error' -- \
	--forward-mode=io --auto-start --record-core-cycles --total-num-mbufs=8192 2>&1)
tp=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
[ -n "$tp" ] || { echo "testpmd gave no cycles/packet:"; echo "$out" | tail -20; exit 1; }
echo "dpdk-testpmd io forward (net_null x2): $tp cycles/packet"

"$bench" "$@" | while IFS= read -r line; do
	cyc=$(sed -n 's/.*best window *\([0-9.]*\)).*/\1/p' <<<"$line")
	ratio=$(awk -v a="$cyc" -v b="$tp" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
	echo "$line | x$ratio testpmd io"
done
