#!/bin/bash
# test_relay_scenario.sh SCRIPT [CONF]: runs the scenario tests/system/SCRIPT (python3) against
# our relay on 127.0.0.1 (both interfaces), ng on UDP and TCP; CONF (libconfig text) is added
# to the relay's file. SCRIPT gets the UDP and the TCP ng port and prints "ok: ..." /
# "FAIL: ..." per check. Exit: the script's (0 pass, 1 fail), 77 skip (python3 missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
script=${1:?usage: test_relay_scenario.sh SCRIPT [CONF]}
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
RELAY_NG_TCP_PORT=$((ng_port + 1))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 99))
RELAY_OURS_EXTRA_CONF=${2:-}
relay_argv "$tmp" 127.0.0.1 127.0.0.1 127.0.0.1 "$ng_port" "$pmin" "$pmax"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "127.0.0.1:$ng_port" 5 || { echo "FAIL: relay does not answer ping"; tail -20 "$tmp/relay.log"; exit 1; }
timeout 60 python3 "$here/$script" "$ng_port" "$RELAY_NG_TCP_PORT"
rc=$?
exit $rc
