#!/bin/sh
# test.sh: installs what is missing, builds, and runs every test suite: unit
# (cmocka), fuzz (libFuzzer, FUZZ_SECONDS per target, default 30) and
# integration (network namespaces; needs root, skipped otherwise), all under
# ASan+UBSan. Ends with the line "N passed, N failed".
#   scripts/test.sh [meson test args...]   e.g. --suite unit, or a test name
set -u
cd "$(dirname "$0")/.."

summary_fail() {
	echo "$1" >&2
	echo "0 passed, 1 failed"
	exit 1
}

scripts/deps.sh test || summary_fail "installing dependencies failed"

# The release build is what scripts/run.sh starts: it must build warning-free with gcc.
[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release >/dev/null ||
	summary_fail "meson setup (release) failed"
ninja -C build-release >/dev/null || summary_fail "release build failed"

# The test build: clang, sanitizers, libFuzzer-linked fuzz targets.
if [ ! -f build-test/build.ninja ]; then
	CC=clang meson setup build-test --buildtype=debug -Db_sanitize=address,undefined \
		-Dfuzzer=true >/dev/null || summary_fail "meson setup (test) failed"
fi
ninja -C build-test >/dev/null || summary_fail "test build failed"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
meson test -C build-test --print-errorlogs "$@"
rc=$?

python3 - build-test/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $rc
