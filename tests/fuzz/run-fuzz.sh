#!/bin/sh
# run-fuzz.sh TARGET CORPUS_DIR fuzz|replay
# fuzz: libFuzzer for FUZZ_SECONDS (default 30) from the corpus; new inputs go to a
#       scratch directory, never into the source tree.
# replay: run each corpus file once.
set -eu
target=$1 corpus=$2 mode=$3
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "empty corpus: $corpus" >&2; exit 1; }
if [ "$mode" = replay ]; then
	exec "$target" "$corpus"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$target" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 "$scratch" "$corpus"
