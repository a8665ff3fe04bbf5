#!/bin/bash
# Life cycle of sbc and rtpengine as an operator sees it. Exit 0 pass, 1 fail.
set -u
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
SBC=$BUILD_DIR/sbc/sbc
RTP=$BUILD_DIR/rtpengine/rtpengine
CTL=$BUILD_DIR/sbc/sbcctl
tmp=$(mktemp -d)
pids=()
failures=0

cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ "$failures" -eq 0 ] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# expect_exit CODE DESCRIPTION CMD... : runs CMD, output in $tmp/out
expect_exit() {
	local want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	local got=$?
	if [ "$got" -eq "$want" ]; then pass "$what"; else fail "$what: exit $got, wanted $want"; cat "$tmp/out"; fi
}

expect_output() {
	local what=$1 pattern=$2
	if grep -qE -- "$pattern" "$tmp/out"; then pass "$what"; else fail "$what: no '$pattern' in:"; cat "$tmp/out"; fi
}

wait_udp() { # wait_udp PORT: until something listens on 127.0.0.1:PORT (5 s)
	for _ in $(seq 50); do
		ss -lnuH "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

wait_exit() { # wait_exit PID: exit code of our child, SIGKILL after 10 s
	local pid=$1
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; echo "killed $pid" >&2; }
	wait "$pid"
}

ng() { # ng PORT DATA: one ng datagram, prints the reply
	python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(65535).decode())
except socket.timeout:
    print("TIMEOUT")
PY
}

# --- command line -----------------------------------------------------------
for d in "$SBC" "$RTP"; do
	n=$(basename "$d")
	expect_exit 0 "$n --version" "$d" --version
	expect_output "$n --version prints the version" "^$n [0-9]+\.[0-9]+\.[0-9]+"
	expect_exit 0 "$n --help" "$d" --help
	expect_output "$n --help lists -f" "-f, --config FILE"
	expect_exit 2 "$n refuses an unknown option" "$d" --bogus
	expect_exit 0 "$n -t on built-in defaults" "$d" -t
	expect_output "$n -t says OK" "configuration \(built-in defaults\) OK"
done
expect_exit 0 "sbc -t accepts conf/sbc.conf" "$SBC" -t -f "$SOURCE_DIR/conf/sbc.conf"
expect_exit 0 "rtpengine -t accepts conf/rtpengine.conf" "$RTP" -t -f "$SOURCE_DIR/conf/rtpengine.conf"

# --- configuration errors: file:line, setting, what was expected -------------
printf 'log: {\n  level = "info";\n};\nsip: {\n  listen = ( { port = "5060"; } );\n};\n' >"$tmp/type.conf"
expect_exit 1 "sbc refuses a type error" "$SBC" -f "$tmp/type.conf"
expect_output "type error names file:line and setting" \
	"^$tmp/type.conf:5: setting 'sip.listen.\[0\].port': expected an integer$"
printf 'log: {\n  levl = "debug";\n};\n' >"$tmp/unknown.conf"
expect_exit 1 "sbc refuses an unknown setting" "$SBC" -f "$tmp/unknown.conf"
expect_output "unknown setting names file:line" "^$tmp/unknown.conf:2: unknown setting 'log.levl'$"
printf 'ng: { listen = [ "127.0.0.1:2223" ]; };\ncontrol: { socket = 5; };\n' >"$tmp/rtype.conf"
expect_exit 1 "rtpengine refuses a type error" "$RTP" -f "$tmp/rtype.conf"
expect_output "rtpengine error names file:line" \
	"^$tmp/rtype.conf:2: setting 'control.socket': expected a string in double quotes$"
printf 'log: { level = "loud"; };\n' >"$tmp/choice.conf"
expect_exit 1 "a value outside its choices is refused" "$RTP" -f "$tmp/choice.conf"
expect_output "choices are listed" "expected one of \"err\", \"warn\", \"notice\", \"info\", \"debug\", got \"loud\""
expect_exit 1 "a missing file is refused" "$SBC" -f "$tmp/nonexistent.conf"
expect_output "missing file is named" "nonexistent.conf: cannot read: No such file or directory"

# --- start, status, ng ping, reload, stop ----------------------------------
port=$((20000 + $$ % 20000))
ngport=$((port + 1))
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: { listen = ( { address = "127.0.0.1"; port = $port; } ); };
control: { socket = "$tmp/run/sbc.ctl"; };
CONF
cat >"$tmp/rtp.conf" <<CONF
ng: { listen = [ "127.0.0.1:$ngport" ]; };
control: { socket = "$tmp/run/rtp.ctl"; };
CONF
"$RTP" -f "$tmp/rtp.conf" >"$tmp/rtp.log" 2>&1 &
rtp_pid=$!
pids+=("$rtp_pid")
"$SBC" -f "$tmp/sbc.conf" >"$tmp/sbc.log" 2>&1 &
sbc_pid=$!
pids+=("$sbc_pid")

if wait_udp "$port" && wait_udp "$ngport"; then pass "both daemons listen"; else fail "daemons do not listen"; cat "$tmp"/*.log; fi
grep -q "SIP listening on udp:127.0.0.1:$port" "$tmp/sbc.log" && pass "sbc says where it listens" || fail "sbc log lacks its address"
grep -q "ng control listening on udp:127.0.0.1:$ngport" "$tmp/rtp.log" && pass "rtpengine says where it listens" || fail "rtpengine log lacks its address"

expect_exit 0 "sbcctl status" "$CTL" -s "$tmp/run/sbc.ctl" status
expect_output "status shows the listener" "^listen: udp:127.0.0.1:$port interface=access"
expect_exit 0 "sbcctl status on rtpengine" "$CTL" -s "$tmp/run/rtp.ctl" status
expect_output "rtpengine status shows ng" "^ng: udp:127.0.0.1:$ngport"
expect_exit 1 "sbcctl reports an unknown command" "$CTL" -s "$tmp/run/sbc.ctl" frobnicate
expect_output "unknown command is named" "unknown command 'frobnicate'"
expect_exit 2 "sbcctl reports an unreachable socket" "$CTL" -s "$tmp/run/none.ctl" status

[ "$(ng "$ngport" 'c00kie d7:command4:pinge')" = "c00kie d6:result4:ponge" ] &&
	pass "ng ping gets pong" || fail "ng ping"
reply=$(ng "$ngport" 'k1 d7:command4:pi')
case "$reply" in "k1 d6:result5:error12:error-reason"*) pass "malformed ng gets result: error" ;;
*) fail "malformed ng: $reply" ;; esac
reply=$(ng "$ngport" 'k2 d7:command5:fancye')
case "$reply" in "k2 d6:result5:error12:error-reason20:Unrecognized commande") pass "unknown ng command named" ;;
*) fail "unknown ng command: $reply" ;; esac

# SIGHUP: a broken file is refused and the daemon keeps running; a good one applies.
cp "$tmp/sbc.conf" "$tmp/sbc.conf.good"
echo 'bogus = 1;' >>"$tmp/sbc.conf"
kill -HUP "$sbc_pid"
sleep 0.3
kill -0 "$sbc_pid" && grep -q "reload refused, keeping the running configuration: $tmp/sbc.conf:4: unknown setting 'bogus'" "$tmp/sbc.log" &&
	pass "bad reload refused, sbc still running" || { fail "bad reload"; cat "$tmp/sbc.log"; }
sed 's/level = "info"/level = "debug"/' "$tmp/sbc.conf.good" >"$tmp/sbc.conf"
kill -HUP "$sbc_pid"
sleep 0.3
"$CTL" -s "$tmp/run/sbc.ctl" status >"$tmp/out" 2>&1
expect_output "reload applied the log level" "^log_level: debug"

kill -TERM "$sbc_pid"
wait_exit "$sbc_pid"
rc=$?
[ "$rc" -eq 0 ] && pass "sbc exits 0 on SIGTERM (no leak under ASan)" || { fail "sbc exit $rc"; cat "$tmp/sbc.log"; }
[ ! -e "$tmp/run/sbc.ctl" ] && pass "control socket removed" || fail "control socket left behind"
kill -INT "$rtp_pid"
wait_exit "$rtp_pid"
rc=$?
[ "$rc" -eq 0 ] && pass "rtpengine exits 0 on SIGINT" || { fail "rtpengine exit $rc"; cat "$tmp/rtp.log"; }

# --- detach with a pid file --------------------------------------------------
expect_exit 0 "rtpengine -d returns once ready" "$RTP" -d -f "$tmp/rtp.conf" -p "$tmp/rtp.pid"
dpid=$(cat "$tmp/rtp.pid" 2>/dev/null)
if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
	pids+=("$dpid")
	pass "pid file names the running daemon"
	expect_exit 1 "a second instance with the same pid file is refused" "$RTP" -d -f "$tmp/rtp.conf" -p "$tmp/rtp.pid"
	kill -TERM "$dpid"
	for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$dpid" 2>/dev/null && fail "detached daemon did not stop" || pass "detached daemon stops on SIGTERM"
	[ ! -e "$tmp/rtp.pid" ] && pass "pid file removed" || fail "pid file left behind"
else
	fail "no running daemon behind the pid file"
fi

# --- no configuration file at all: embedded defaults ------------------------
# In a private network and mount namespace, so 127.0.0.1:5060 and /run/sbc are ours.
if [ "$(id -u)" -eq 0 ] && ns="sbcsys$$" && ip netns add "$ns" 2>/dev/null; then
	ip -n "$ns" link set lo up
	ip netns exec "$ns" unshare --mount --propagation private sh -c \
		"mount -t tmpfs tmpfs /run && exec '$SBC'" >"$tmp/sbcdef.log" 2>&1 &
	def_pid=$!
	pids+=("$def_pid")
	ok=""
	for _ in $(seq 50); do
		ip netns exec "$ns" ss -lnuH "sport = :5060" | grep -q 127.0.0.1:5060 && { ok=1; break; }
		sleep 0.1
	done
	[ -n "$ok" ] && pass "sbc with no file listens on 127.0.0.1:5060" || { fail "sbc defaults"; cat "$tmp/sbcdef.log"; }
	grep -q "control socket /run/sbc/sbc.ctl" "$tmp/sbcdef.log" && pass "default control socket" || fail "default control socket"
	kill -TERM "$def_pid"
	wait_exit "$def_pid" && pass "sbc on defaults exits 0" || fail "sbc on defaults: bad exit"
	ip netns del "$ns"
else
	echo "skip: embedded-defaults run needs root and network namespaces"
fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
