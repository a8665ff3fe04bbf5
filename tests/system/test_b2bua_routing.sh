#!/bin/bash
# B2BUA routing on loopback: several targets per call, through the lab
# settings b2bua.test_routes / test_routes_parallel / test_forward_route
# (conf/sbc.conf). A sipp caller calls through the sbc; sipp callees listen on
# their own ports; each scenario runs CALLS calls and every sipp side must
# complete:
#  failover_503      callee 1 answers 503, callee 2 answers: the caller talks to 2
#  failover_timeout  callee 1 is silent (Timer B), callee 2 answers
#  fork              both callees ring in parallel; 1 answers, 2 gets CANCEL (200, 487)
#  fork_cancel       both ring, the caller cancels: both get CANCEL, the caller 487
#  forward_busy      callee 486, the forward target answers
#  forward_noanswer  callee rings past no_answer_timeout: CANCEL, the forward target answers
# Afterwards no call may be left. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

p1=$((port + 2)) # callee 1
p2=$((port + 4)) # callee 2
p3=$((port + 6)) # forward target
silent=$((port + 8)) # nobody listens here

# start_sbc NAME B2BUA-SETTINGS...
start_sbc() {
	local name=$1
	shift
	cat >"$tmp/$name.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
b2bua: {
  $*
};
control: { socket = "$tmp/sbc.ctl"; };
CONF
	launch_sbc "$name" "$tmp/$name.conf"
}

# run NAME UAC-XML PORT:UAS-XML...: CALLS calls; the caller and every callee must complete.
run() {
	local name=$1 uac=$2 rc_uac rc i=0 ok=1
	shift 2
	uas_pids=()
	for spec in "$@"; do
		local p=${spec%%:*} xml=${spec#*:}
		(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$xml" -p "$p" -m "$CALLS" \
			-nostdin -trace_msg -message_file "$name.uas$i.msg" -trace_err \
			-error_file "$name.uas$i.err" >"$name.uas$i.out" 2>&1) &
		uas_pids+=($!)
		i=$((i + 1))
	done
	sleep 0.3
	(cd "$tmp" && timeout 120 sipp -sf "$SIPP_DIR/$uac" -p "$uac_port" -m "$CALLS" -r 10 \
		-l 10 -s bob -timeout 60s -timeout_error -nostdin -trace_msg \
		-message_file "$name.uac.msg" -trace_err -error_file "$name.uac.err" \
		"127.0.0.1:$port" >"$name.uac.out" 2>&1)
	rc_uac=$?
	[ "$rc_uac" -eq 0 ] || { ok=0; fail "$name: caller sipp exit $rc_uac"; tail -n 5 "$tmp/$name.uac.out"; }
	i=0
	for p in "${uas_pids[@]}"; do
		wait "$p"
		rc=$?
		[ "$rc" -eq 0 ] || { ok=0; fail "$name: callee $i sipp exit $rc"; tail -n 5 "$tmp/$name.uas$i.out"; }
		i=$((i + 1))
	done
	uas_pids=()
	[ "$ok" -eq 1 ] && pass "$name: $CALLS calls, caller and $# callee scenario(s) complete"
}

start_sbc failover_503 "test_routes = [ \"udp:127.0.0.1:$p1\", \"udp:127.0.0.1:$p2\" ];"
run failover_503 b2b_uac_bye.xml "$p1:b2b_route_uas_503.xml" "$p2:b2b_uas_answer.xml"
stop_sbc failover_503

start_sbc failover_timeout "test_routes = [ \"udp:127.0.0.1:$silent\", \"udp:127.0.0.1:$p2\" ]; no_answer_timeout = 30;"
run failover_timeout b2b_uac_bye.xml "$p2:b2b_uas_answer.xml"
stop_sbc failover_timeout

start_sbc fork "test_routes = [ \"udp:127.0.0.1:$p1\", \"udp:127.0.0.1:$p2\" ]; test_routes_parallel = true;"
run fork b2b_uac_bye.xml "$p1:b2b_route_uas_answer_late.xml" "$p2:b2b_uas_cancel.xml"
stop_sbc fork

start_sbc fork_cancel "test_routes = [ \"udp:127.0.0.1:$p1\", \"udp:127.0.0.1:$p2\" ]; test_routes_parallel = true;"
run fork_cancel b2b_route_uac_cancel.xml "$p1:b2b_uas_cancel.xml" "$p2:b2b_uas_cancel.xml"
stop_sbc fork_cancel

start_sbc forward_busy "default_route = \"udp:127.0.0.1:$p1\"; test_forward_route = \"udp:127.0.0.1:$p3\";"
run forward_busy b2b_uac_bye.xml "$p1:b2b_uas_486.xml" "$p3:b2b_uas_answer.xml"
stop_sbc forward_busy

start_sbc forward_noanswer "default_route = \"udp:127.0.0.1:$p1\"; test_forward_route = \"udp:127.0.0.1:$p3\"; no_answer_timeout = 2;"
run forward_noanswer b2b_uac_bye.xml "$p1:b2b_uas_cancel.xml" "$p3:b2b_uas_answer.xml"
stop_sbc forward_noanswer

grep -h "^calls:" "$tmp"/*.status
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
