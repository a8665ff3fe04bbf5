#!/bin/bash
# Forked calls end to end (tests/system/relay_fork.py) against our relay: an offer per branch
# (via-branch) gives each fork its own port and the caller one; the caller's media go to the
# fork that answered last; a losing fork's delete closes its port; forks of one offer share
# its port. Exit 0 pass, 1 fail, 77 skip (python3 missing).
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
relay_argv "$tmp" 127.0.0.1 127.0.0.1 127.0.0.1 "$ng_port" "$pmin" "$pmax"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "127.0.0.1:$ng_port" 5 || { echo "FAIL: relay does not answer ping"; tail -20 "$tmp/relay.log"; exit 1; }
timeout 60 python3 "$here/relay_fork.py" "$ng_port"
rc=$?
exit $rc
