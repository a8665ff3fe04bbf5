# Shared by the system tests that run the sbc between sipp callers and
# callees on loopback: sourced after the test's own header comment.
#   needs BUILD_DIR, SOURCE_DIR; sets SBC, CTL, SIPP_DIR, CALLS, tmp, port, uac_port
#   pass MSG / fail MSG    count results (fail does not exit)
#   launch_sbc NAME CONF   start sbc on a config file, wait for its sockets
#   stop_sbc NAME          wait until no call is left, SIGTERM, expect exit 0
#   status, field PREFIX NAME   `sbcctl status` and one counter of it
# Processes are stopped by PID on exit; logs are kept when something failed.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
CTL=$BUILD_DIR/sbc/sbcctl
SIPP_DIR=$SOURCE_DIR/tests/sipp
CALLS=${SIPP_CALLS:-5}
tmp=$(mktemp -d)
failures=0
sbc_pid=""
uas_pids=()

cleanup() {
	for p in "${uas_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$sbc_pid" ] && kill -KILL "$sbc_pid" 2>/dev/null
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

command -v sipp >/dev/null || { echo "SKIP: sipp (sip-tester) is not installed"; exit 77; }

port=$((30000 + $$ % 20000))
uac_port=$((port + 1))

status() { "$CTL" -s "$tmp/sbc.ctl" status; }
field() { # LINE-PREFIX NAME -> value
	status | sed -n "s/^$1:.* $2=\([0-9]*\).*/\1/p;s/^$1: $2=\([0-9]*\).*/\1/p" | head -1
}

launch_sbc() {
	local name=$1 conf=$2
	rm -f "$tmp/sbc.ctl"
	"$SBC" -f "$conf" >"$tmp/$name.sbc.log" 2>&1 &
	sbc_pid=$!
	for _ in $(seq 50); do
		ss -lnuH "sport = :$port" | grep -q . && [ -S "$tmp/sbc.ctl" ] && break
		sleep 0.1
	done
	[ -S "$tmp/sbc.ctl" ] || { fail "$name: sbc did not start"; cat "$tmp/$name.sbc.log"; exit 1; }
}

stop_sbc() {
	local name=$1 active rc
	for _ in $(seq 50); do
		active=$(field calls active)
		[ "$active" = "0" ] && break
		sleep 0.2
	done
	[ "$active" = "0" ] && pass "$name: no call left" || fail "$name: calls active=$active"
	status >"$tmp/$name.status"
	kill -TERM "$sbc_pid"
	wait "$sbc_pid"
	rc=$?
	sbc_pid=""
	[ "$rc" -eq 0 ] || { fail "$name: sbc exit $rc"; tail -20 "$tmp/$name.sbc.log"; }
}
