#!/usr/bin/env bash
# A real softphone (baresip) behind the symmetric NAT: it registers to the
# sbc's access interface with digest authentication (registrar mode "local"),
# calls a number the sbc routes (static route +1 -> trunk "callee") to a sipp
# UAS on the core side, and hangs up; then a sipp UAC on the core side calls
# alice@example.com at the sbc's core address and the call must reach baresip
# through the NAT over the flow it registered by (baresip answers it itself,
# answermode=auto), and be hung up by the core side.
#
# caller (baresip, 192.168.71.2) -> nat (masquerade fully-random) -> sbc
# access 203.0.113.10 | sbc core 198.51.100.10 <-> callee (sipp, 198.51.100.20)
# baresip is driven through its ctrl_tcp module (netstring JSON) on the caller
# namespace's loopback. Media is not anchored (no rtpengine); RTP is not checked.
# Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source-path=SCRIPTDIR source=lib/baresip.sh
. "$here/lib/baresip.sh"

require_root_netns
: "${SBC_BUILD_DIR:?}"
SIPP_DIR=$here/../sipp
SBCCTL=$SBC_BUILD_DIR/sbc/sbcctl
baresip_require

topo_up || fail "topology"
conf=$TOPO_LOG_DIR/sbc.conf
cat >"$conf" <<CONF
log: { level = "debug"; target = "stderr"; };
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
};
registrar: {
  mode = "local";
  # Debian bookworm's baresip 1.0 (libre 2.0) answers only the first challenge and
  # fails on a SHA-256 one ("Function not implemented") instead of taking the MD5 one.
  algorithms = "MD5";
  users = ( { username = "alice"; domain = "example.com"; password = "$BARESIP_PASSWORD"; } );
};
routing: {
  trunks = ( { name = "callee"; address = "$CALLEE_IP:5060"; } );
  routes = ( { prefix = "+1"; trunks = [ "callee" ]; } );
};
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF

bdir=$TOPO_LOG_DIR/baresip
baresip_config "$bdir" PCMU

# baresip's SIP trace (-s) as one line per message: "FROM -> TO | START-LINE | CSEQ-METHOD".
trace()
{
	# baresip writes a trace header, then its message, in separate writes, and its audio
	# thread's one line (aubridge: thread start: ...) may land anywhere among them, even
	# inside the header line ("UDP aubridge: ...", seen in CI): that line, newline
	# included, is taken out of the byte stream before the lines are read.
	perl -0pe 's/aubridge: thread start: [^\n]*\n//g; s/\r//g' "$TOPO_LOG_DIR/baresip.log" |
		sed 's/\x1b\[[0-9;]*m//g' | awk '
		# the header is what matches up to its second port, and only a SIP start line
		# starts the message
		match($0, /^UDP [0-9.]+:[0-9]+ -> [0-9.]+:[0-9]+/) {
			if (m) print m " | " cseq
			split(substr($0, 5, RLENGTH - 4), ends, " -> ")
			m = ends[1] " -> " ends[2]; cseq = ""; s = 1; next
		}
		s == 1 && /^(SIP\/2\.0 [0-9][0-9][0-9] |[A-Z]+ [^ ]+ SIP\/2\.0$)/ { m = m " | " $0; s = 2; next }
		s == 2 && /^CSeq:/ { cseq = $NF }
		END { if (m) print m " | " cseq }' >"$TOPO_LOG_DIR/baresip-trace.txt"
}

# wait_trace LINE SECS: until baresip's trace has a message line containing LINE.
wait_trace()
{
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		trace
		grep -qF -- "$1" "$TOPO_LOG_DIR/baresip-trace.txt" && return 0
		sleep 0.1
	done
	return 1
}

status()
{
	"$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status >"$TOPO_LOG_DIR/status-$1.txt" 2>&1
}

start_daemon sbc sbc sbc.log "$SBC_BUILD_DIR/sbc/sbc" -f "$conf"
wait_listen sbc udp "$SBC_ACCESS_IP" 5060 10 || fail "sbc does not listen on access"
wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || fail "sbc does not listen on core"

# 1. baresip registers through the NAT with digest authentication.
baresip_start "$bdir"
registered=0
for ((i = 0; i < 100; i++)); do
	status reg
	if grep -q '^registrar: .*bindings=1' "$TOPO_LOG_DIR/status-reg.txt"; then
		registered=1
		break
	fi
	sleep 0.1
done
[[ $registered == 1 ]] || fail "no registrar binding after 10s (see baresip.log, status-reg.txt)"
grep -q 'challenged=[1-9]' "$TOPO_LOG_DIR/status-reg.txt" ||
	fail "baresip registered without a digest challenge"
wait_log "$TOPO_LOG_DIR/baresip.log" '200 OK' 5 ||
	fail "baresip did not see its registration accepted"
pass "baresip registered alice@example.com through the symmetric NAT (digest, bindings=1)"

# 2. baresip calls +15551234: routed to the sipp UAS, answered, hung up by baresip.
start_daemon uas callee uas.log sipp -sf "$SIPP_DIR/b2b_uas_answer.xml" \
	-i "$CALLEE_IP" -p 5060 -m 1 -timeout 30s -timeout_error -nostdin -trace_msg \
	-message_file "$TOPO_LOG_DIR/uas.msg"
wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "callee sipp does not listen"
bctl dial "sip:+15551234@example.com" >"$TOPO_LOG_DIR/bctl-dial.txt" 2>&1 ||
	fail "baresip refused the dial command (see bctl-dial.txt)"
wait_log "$TOPO_LOG_DIR/uas.msg" 'ACK sip:' 15 || fail "the callee never got the ACK of its 200"
sleep 1
bctl hangup >"$TOPO_LOG_DIR/bctl-hangup.txt" 2>&1 || fail "baresip refused the hangup command"
for ((i = 0; i < 100; i++)); do
	topo_pid_ours "$(daemon_pid uas)" || break
	sleep 0.1
done
stop_daemon uas
rc=$?
[[ $rc == 0 ]] || fail "outbound call: the callee's sipp did not complete ($rc, see uas.log)"
grep -q '^INVITE sip:+15551234@' "$TOPO_LOG_DIR/uas.msg" ||
	fail "the callee's INVITE has not the dialled number in its Request-URI"
grep -q 'Call established: sip:+15551234@' "$TOPO_LOG_DIR/baresip.log" ||
	fail "baresip did not see its call established"
wait_trace "$SBC_ACCESS_IP:5060 -> $CALLER_IP:5060 | SIP/2.0 200 OK | BYE" 5 ||
	fail "baresip's BYE got no 200 from the sbc"
pass "baresip's call to +15551234 reached the core callee, was answered and hung up"

# 3. The core side calls alice@example.com: the INVITE must reach baresip over its flow.
in_ns callee timeout 40 sipp -sf "$SIPP_DIR/call_registered_user.xml" -s alice \
	-i "$CALLEE_IP" -p 5070 -m 1 -timeout 30s -timeout_error -nostdin -trace_msg \
	-message_file "$TOPO_LOG_DIR/uac.msg" "$SBC_CORE_IP:5060" >"$TOPO_LOG_DIR/uac.log" 2>&1 ||
	fail "inbound call: the core caller's sipp failed (see uac.log, baresip.log)"
# baresip's SIP trace: the INVITE, ACK and BYE came from the sbc's access address to
# the phone's private address, i.e. in through the NAT, which lets nothing in but
# replies on an existing mapping: the registration's flow. baresip answered both.
in_flow="$SBC_ACCESS_IP:5060 -> $CALLER_IP:5060"
out_flow="$CALLER_IP:5060 -> $SBC_ACCESS_IP:5060"
for want in "$in_flow | INVITE sip:alice-" "$out_flow | SIP/2.0 200 Answering | INVITE" \
	"$in_flow | ACK sip:alice-" "$in_flow | BYE sip:alice-" "$out_flow | SIP/2.0 200 OK | BYE"; do
	wait_trace "$want" 15 ||
		fail "baresip's SIP trace lacks '$want' (see baresip-trace.txt)"
done
grep -q 'Call established: sip:alice@' "$TOPO_LOG_DIR/baresip.log" ||
	fail "baresip did not see the incoming call established"
pass "the core side's call to alice@example.com reached baresip through the NAT, answered, hung up"

status end
grep -q '^registrar: .*bindings=1' "$TOPO_LOG_DIR/status-end.txt" ||
	fail "alice's binding is gone after the calls"
stop_daemon baresip
stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"
