#!/bin/bash
# Latching end to end (tests/system/relay_latch.py) against our relay with a 1 s latch window:
# a call ringing longer than the window still gets media both ways; a re-INVITE with a new
# NAT port moves the latch; without received-from a sprayer that hit the callee's port before
# the answer gets nothing; an answer with an unknown from-tag renames nobody.
# Exit 0 pass, 1 fail, 77 skip (python3 missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
RELAY=ours
relay_pick

tmp=$(mktemp -d)
relay_pid=""
rc=1
cleanup()
{
	if [[ -n $relay_pid ]]; then
		kill -TERM "$relay_pid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$relay_pid" 2>/dev/null
	fi
	[[ $rc -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT

ng_port=$((30000 + $$ % 20000))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 99))
RELAY_OURS_EXTRA_CONF='calls: { latch_window = 1; };'
relay_argv "$tmp" 127.0.0.1 127.0.0.1 127.0.0.1 "$ng_port" "$pmin" "$pmax"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "127.0.0.1:$ng_port" 5 || { echo "FAIL: relay does not answer ping"; tail -20 "$tmp/relay.log"; exit 1; }
timeout 60 python3 "$here/relay_latch.py" "$ng_port"
rc=$?
exit $rc
