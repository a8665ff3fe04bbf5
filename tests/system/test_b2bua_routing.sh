#!/bin/bash
# B2BUA routing on loopback: several targets per call, from real settings:
# static routes (routing.*), a registered user with two contacts, per-user
# forwarding (registrar.users.[].forward_*). A sipp caller calls through the
# sbc; sipp callees listen on their own ports; each scenario runs CALLS calls
# and every sipp side must complete:
#  failover_503      trunk 1 answers 503, trunk 2 answers: the caller talks to 2
#  failover_timeout  trunk 1 is silent (Timer B), trunk 2 answers
#  fork              bob registered from 1 and 2, both ring in parallel; 1
#                    answers, 2 gets CANCEL (200, 487)
#  fork_race         as fork, but 2's 200 crosses the CANCEL and arrives after
#                    the caller hung up: 2 still gets ACK and BYE
#  fork_cancel       both ring, the caller cancels: both get CANCEL, the caller 487
#  forward_busy      1001 answers 486, forward_busy (2002) answers
#  forward_noanswer  1001 rings past forward_no_answer_timeout: CANCEL, the
#                    forward_no_answer target answers
#  forward_unconditional  the call goes to 2002 at once, 1001 never rings
# Afterwards no call may be left. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

p1=$((port + 2)) # callee 1
p2=$((port + 4)) # callee 2
p3=$((port + 6)) # forward target
callee=bob
silent=$((port + 8)) # nobody listens here

# start_sbc NAME SETTINGS...: the sbc on loopback with these top-level groups.
start_sbc() {
	local name=$1
	shift
	cat >"$tmp/$name.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
$*
control: { socket = "$tmp/sbc.ctl"; };
CONF
	launch_sbc "$name" "$tmp/$name.conf"
}

# trunks PORT...: one trunk per port, one route for every call over them in order.
trunks() {
	local t="" m="" i=1
	for p in "$@"; do
		t+="${t:+, }{ name = \"t$i\"; address = \"127.0.0.1:$p\"; }"
		m+="${m:+, }\"t$i\""
		i=$((i + 1))
	done
	echo "routing: { trunks = ( $t ); routes = ( { name = \"all\"; trunks = [ $m ]; } ); };"
}

# Numbers: 1001 is the callee (trunk 1), 2002 the forward target (trunk 3).
numbers="routing: {
  trunks = ( { name = \"t1\"; address = \"127.0.0.1:$p1\"; },
             { name = \"t3\"; address = \"127.0.0.1:$p3\"; } );
  routes = ( { prefix = \"1\"; trunks = [ \"t1\" ]; }, { prefix = \"2\"; trunks = [ \"t3\" ]; } );
};"

# forwarding MEMBERS: user 1001 with these forward_* settings.
forwarding() {
	echo "registrar: { users = ( { username = \"1001\"; password = \"x\"; $* } ); };"
}

# A registrar where bob registers once from each port given: his calls fork to them.
registered() {
	echo "registrar: { mode = \"local\"; realm = \"example.com\"; algorithms = \"MD5\";
  keepalive: { method = \"off\"; };
  users = ( { username = \"bob\"; password = \"builder\"; } ); };"
}
register_from() {
	local name=$1 p
	shift
	for p in "$@"; do
		(cd "$tmp" && timeout 20 sipp -sf "$SIPP_DIR/register_contact.xml" -p "$p" -m 1 \
			-s bob -au bob -ap builder -nostdin "127.0.0.1:$port" \
			>"$name.reg$p.out" 2>&1) || { fail "$name: registration from $p"; tail -5 "$tmp/$name.reg$p.out"; }
	done
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
		-l 10 -s "$callee" -timeout 60s -timeout_error -nostdin -trace_msg \
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

start_sbc failover_503 "$(trunks "$p1" "$p2")"
run failover_503 b2b_uac_bye.xml "$p1:b2b_route_uas_503.xml" "$p2:b2b_uas_answer.xml"
stop_sbc failover_503

start_sbc failover_timeout "$(trunks "$silent" "$p2")" "b2bua: { no_answer_timeout = 30; };"
run failover_timeout b2b_uac_bye.xml "$p2:b2b_uas_answer.xml"
stop_sbc failover_timeout

start_sbc fork "$(registered)"
register_from fork "$p1" "$p2"
run fork b2b_uac_bye.xml "$p1:b2b_route_uas_answer_late.xml" "$p2:b2b_uas_cancel.xml"
stop_sbc fork

start_sbc fork_race "$(registered)"
register_from fork_race "$p1" "$p2"
run fork_race b2b_uac_bye.xml "$p1:b2b_route_uas_answer_late.xml" \
	"$p2:b2b_route_uas_answer_racing.xml"
stop_sbc fork_race

start_sbc fork_cancel "$(registered)"
register_from fork_cancel "$p1" "$p2"
run fork_cancel b2b_route_uac_cancel.xml "$p1:b2b_uas_cancel.xml" "$p2:b2b_uas_cancel.xml"
stop_sbc fork_cancel

callee=1001
start_sbc forward_busy "$numbers" "$(forwarding 'forward_busy = "2002";')"
run forward_busy b2b_uac_bye.xml "$p1:b2b_uas_486.xml" "$p3:b2b_uas_answer.xml"
stop_sbc forward_busy

start_sbc forward_noanswer "$numbers" "$(forwarding "forward_no_answer = \"sip:2002@127.0.0.1\"; forward_no_answer_timeout = 2;")"
run forward_noanswer b2b_uac_bye.xml "$p1:b2b_uas_cancel.xml" "$p3:b2b_uas_answer.xml"
stop_sbc forward_noanswer

# Trunk 1 never hears of the call: nobody listens there, the target answers.
start_sbc forward_unconditional "$numbers" "$(forwarding 'forward_unconditional = "2002";')"
run forward_unconditional b2b_uac_bye.xml "$p3:b2b_uas_answer.xml"
grep -q "forwarded unconditionally to 2002" "$tmp/forward_unconditional.sbc.log" &&
	pass "forward_unconditional: logged" || fail "forward_unconditional: not in the log"
stop_sbc forward_unconditional

grep -h "^calls:" "$tmp"/*.status
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
