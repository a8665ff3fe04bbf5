#!/bin/bash
# B2BUA redirects on loopback: a callee answers 302 and the sbc follows the
# Contact when the static routes accept it (the Contact's address is a trunk
# of the route for its user), up to 3 redirects per call, never a target
# twice. A sipp caller calls through the sbc; sipp callees stand for the
# trunks; each case runs CALLS calls and every sipp side must complete:
#  redirect   trunk 1 answers 302 (Contacts: a host name, then trunk 2): trunk 2
#             answers; the caller never sees either Contact
#  loop       trunk 1 answers 302 to itself: 480 at once
#  refused    trunk 1 answers 302 to an address that is no trunk: 480
#  max_hops   trunks 1..4 each redirect to the next, 4 to 5: the 4th 302 is one
#             too many (5 is never called): 480
# Afterwards no call may be left. Exit 0 pass, 1 fail, 77 skip.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

p1=$((port + 2)) p2=$((port + 4)) p3=$((port + 6)) p4=$((port + 8)) p5=$((port + 10))

# start_sbc NAME PORT...: one trunk per port, one route (any user) over them in order.
start_sbc() {
	local name=$1 trunks="" members="" i=1
	shift
	for p in "$@"; do
		trunks+="${trunks:+, }{ name = \"t$i\"; address = \"127.0.0.1:$p\"; }"
		members+="${members:+, }\"t$i\""
		i=$((i + 1))
	done
	cat >"$tmp/$name.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = ( { transport = "udp"; address = "127.0.0.1"; port = $port; } );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
routing: {
  trunks = ( $trunks );
  routes = ( { name = "all"; trunks = [ $members ]; } );
};
control: { socket = "$tmp/sbc.ctl"; };
CONF
	launch_sbc "$name" "$tmp/$name.conf"
}

# run NAME UAC-XML PORT:UAS-XML[:REDIRECT-PORT]...: CALLS calls; every sipp side must complete.
run() {
	local name=$1 uac=$2 rc_uac rc i=0 ok=1
	shift 2
	uas_pids=()
	for spec in "$@"; do
		local p=${spec%%:*} rest=${spec#*:} xml to
		xml=${rest%%:*}
		to=${rest#"$xml"}
		to=${to#:}
		(cd "$tmp" && exec timeout 120 sipp -sf "$SIPP_DIR/$xml" -p "$p" -m "$CALLS" \
			${to:+-key redirect_to 127.0.0.1:$to} -nostdin -trace_msg \
			-message_file "$name.uas$i.msg" -trace_err -error_file "$name.uas$i.err" \
			>"$name.uas$i.out" 2>&1) &
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
	# Topology hiding: no callee address, Contact or header reaches the caller.
	if grep -qE ":($p1|$p2|$p3|$p4|$p5)\b|uas-secret|callee-secret" "$tmp/$name.uac.msg"; then
		fail "$name: the caller saw a callee's address or header"
		grep -nE ":($p1|$p2|$p3|$p4|$p5)\b|uas-secret|callee-secret" "$tmp/$name.uac.msg" | head -5
	else
		pass "$name: nothing of the callees in the caller's trace"
	fi
}

start_sbc redirect "$p1" "$p2"
run redirect b2b_uac_bye.xml "$p1:b2b_redirect_uas_302.xml:$p2" "$p2:b2b_uas_answer.xml"
grep -q "2 redirect target" "$tmp/redirect.sbc.log" && fail "redirect: the host name was accepted"
stop_sbc redirect

start_sbc loop "$p1"
run loop b2b_redirect_uac_480.xml "$p1:b2b_redirect_uas_302.xml:$p1"
stop_sbc loop

start_sbc refused "$p1"
run refused b2b_redirect_uac_480.xml "$p1:b2b_redirect_uas_302.xml:$p2"
stop_sbc refused

start_sbc max_hops "$p1" "$p2" "$p3" "$p4" "$p5"
run max_hops b2b_redirect_uac_480.xml "$p1:b2b_redirect_uas_302.xml:$p2" \
	"$p2:b2b_redirect_uas_302.xml:$p3" "$p3:b2b_redirect_uas_302.xml:$p4" \
	"$p4:b2b_redirect_uas_302.xml:$p5"
grep -q "too many redirects" "$tmp/max_hops.sbc.log" && pass "max_hops: the 4th redirect refused" ||
	fail "max_hops: no 'too many redirects' in the log"
stop_sbc max_hops

grep -h "^calls:" "$tmp"/*.status
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
