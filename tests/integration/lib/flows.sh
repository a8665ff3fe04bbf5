# shellcheck shell=bash
# tests/integration/lib/flows.sh: call flows between sipp phones across the topology, shared
# by test_flows_*.sh. Source after lib/topology.sh and topo_up.
#   flows_sbc_start EXTRA-CONFIG    the sbc on both interfaces; "+1..." routes to the callee's
#                                   port 5060, "+2..." to its port 5062 (the voicemail)
#   phone NAME NS PORT XML ARGS...  a sipp in the background (caller ns: -i CALLER_IP; callee
#                                   ns: -i CALLEE_IP), tracing to NAME.msg
#   dial NAME PORT XML ARGS...      a sipp caller behind the NAT toward the sbc's access side,
#                                   calling DIAL (default: the user, USER_NUMBER)
#   done_ok NAME WHAT               that sipp must have ended by itself with status 0
#   sbc_idle NAME                   no call nor dialog left in the sbc (`sbcctl status`)
: "${SBC_BUILD_DIR:?}"
SIPP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../sipp" && pwd)
SBCCTL=$SBC_BUILD_DIR/sbc/sbcctl
USER_NUMBER=+15551234 # the user on the core side
FLOWS_SBC=0

flows_sbc_start()
{
	local conf=$TOPO_LOG_DIR/sbc$FLOWS_SBC.conf
	cat >"$conf" <<CONF
log: { level = "info"; };
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
  timers: { t1 = 100; t2 = 500; t4 = 500; };
};
routing: {
  trunks = ( { name = "phone"; address = "$CALLEE_IP:5060"; },
             { name = "voicemail"; address = "$CALLEE_IP:5062"; } );
  routes = ( { prefix = "+1"; trunks = [ "phone" ]; },
             { prefix = "+2"; trunks = [ "voicemail" ]; } );
};
$1
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF
	start_daemon sbc sbc "sbc$FLOWS_SBC.log" "$SBC_BUILD_DIR/sbc/sbc" -f "$conf"
	FLOWS_SBC=$((FLOWS_SBC + 1))
	wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || fail "sbc does not listen"
}

phone()
{
	local name=$1 ns=$2 port=$3 xml=$4 ip=$CALLEE_IP
	shift 4
	[[ $ns == caller ]] && ip=$CALLER_IP
	start_daemon "$name" "$ns" "$name.log" timeout 50 sipp -sf "$SIPP_DIR/$xml" -i "$ip" \
		-p "$port" -nostdin -trace_msg -message_file "$TOPO_LOG_DIR/$name.msg" -trace_err \
		-error_file "$TOPO_LOG_DIR/$name.err" "$@"
	[[ $ns == callee ]] && { wait_listen callee udp "$CALLEE_IP" "$port" 10 || fail "$name does not listen"; }
	return 0
}

dial()
{
	local name=$1 port=$2 xml=$3
	shift 3
	phone "$name" caller "$port" "$xml" -s "${DIAL:-$USER_NUMBER}" -timeout 30s -timeout_error "$@" \
		"$SBC_ACCESS_IP:5060"
}

done_ok()
{
	wait_daemon "$1" 40 || fail "$2: sipp $1 failed (see $1.log, $1.err)"
	pass "$2"
}

sbc_idle()
{
	local i st
	for ((i = 0; i < 50; i++)); do
		st=$("$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status 2>/dev/null | grep '^calls:')
		[[ $st == *"active=0 "*"dialogs=0"* ]] && break
		sleep 0.1
	done
	[[ $st == *"active=0 "*"dialogs=0"* ]] || fail "$1: calls left in the sbc: $st"
	pass "$1: no call nor dialog left ($st)"
}
