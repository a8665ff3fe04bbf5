#!/bin/sh
# run-fuzz.sh TARGET CORPUS_DIR fuzz|replay
# fuzz: libFuzzer for FUZZ_SECONDS (default 30) from the corpus; new inputs go
#       to a scratch directory, never into the source tree; a crashing input is
#       kept in fuzz-artifacts/ under the current (build) directory.
# replay: run each corpus file once.
set -eu
target=$1 corpus=$2 mode=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "empty corpus: $corpus" >&2; exit 1; }
# Leaks inside system libraries we cannot fix (see the file) are not our findings.
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
if [ "$mode" = replay ]; then
	exec "$target" "$corpus"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz-artifacts
# -error_exitcode: libFuzzer's default (77) is meson's "skipped"; a finding must fail.
"$target" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -timeout=10 \
	-error_exitcode=1 -artifact_prefix="fuzz-artifacts/$(basename "$target")-" \
	-print_final_stats=1 "$scratch" "$corpus"
