#!/usr/bin/env bash
# The seed's registration flows (注册, 注销) with the sbc as the local registrar and a sipp
# phone behind the symmetric NAT, then a call from the core side to the registered user.
#  register   REGISTER -> 401 (digest challenge) -> REGISTER with credentials -> 200, then a
#             refresh with a changed expiry (600 -> 300), a second contact added and removed
#             (expires=0), a query (no Contact: the current binding), and 423 with
#             Min-Expires for a too-short expiry (flow_reg_phone.xml).
#  bad auth   another phone with a wrong password gets 401 again each time; the failures are
#             counted (`sbcctl status` auth_failures) and logged against the source address
#             the sbc saw, the NAT's public one.
#  call       a sipp on the core side calls alice@example.com: the INVITE goes to the NAT's
#             public port the phone registered from (its flow) and reaches the phone started
#             on the registering port; media anchored by the relay, so that the phone's
#             private address appears nowhere on the core side (tshark: SIP headers and SDP).
#  unregister "Contact: *" with Expires: 0 -> 200, a query then lists no binding, and
#             `sbcctl status` shows bindings=0 (flow_reg_unregister.xml).
# RELAY=ours (default) or sipwise. Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"
TOPO_DEADLINE_S=58
require_root_netns
command -v sipp >/dev/null || topo_skip "sipp is not installed"
command -v tshark >/dev/null || topo_skip "tshark is not installed"
relay_pick
NGA=127.0.0.1:2223
USER=alice PASSWORD=wonderland PHONE_PORT=5070

topo_up || fail "topology"
# shellcheck source-path=SCRIPTDIR source=lib/flows.sh
. "$here/lib/flows.sh"
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 30000 30099
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 in_ns sbc python3 "$NG_TOOL" "$NGA" '{"command":"ping"}' 2>/dev/null |
		grep -q pong && break
	sleep 0.1
done

# Debian's sipp answers MD5 challenges only. No keep-alive OPTIONS: they would reach the
# sipp phones in the middle of their scenarios (the conntrack entry lasts 120 s anyway).
flows_sbc_start "registrar: {
  mode = \"local\"; algorithms = \"MD5\"; min_expires = 60;
  keepalive: { method = \"off\"; };
  users = ( { username = \"$USER\"; domain = \"example.com\"; password = \"$PASSWORD\"; },
            { username = \"bob\"; domain = \"example.com\"; password = \"builder\"; } );
};
media: { rtpengine = [ \"$NGA\" ]; direction = [ \"access\", \"core\" ]; };"
status() { "$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status; }
for side in access core; do
	ifc=$SBC_ACCESS_IF
	[[ $side == core ]] && ifc=$SBC_CORE_IF
	start_daemon "tshark-$side" sbc "tshark-$side.log" \
		tshark -Q -i "$ifc" -f udp -w "$TOPO_LOG_DIR/$side.pcap"
done
sleep 1.5 # tshark needs a moment before it captures

# 1. Registration flows, one sipp on the phone's port.
phone reg caller "$PHONE_PORT" flow_reg_phone.xml -s "$USER" -au "$USER" -ap "$PASSWORD" \
	-m 1 -timeout 20s -timeout_error "$SBC_ACCESS_IP:5060"
done_ok reg "register: 401 then 200, refresh 600 -> 300, contact added and removed, query, 423"
st=$(status | grep '^registrar:')
[[ $st == *"aors=1 bindings=1 "* ]] || fail "register: not one binding left: $st"
pass "register: one binding ($st)"

# 2. Failed authentication from another phone (another NAT mapping, same public address).
phone bad caller 5072 register_bad_password.xml -s bob -au bob -ap wrongpassword \
	-m 3 -l 1 -timeout 20s -timeout_error "$SBC_ACCESS_IP:5060"
done_ok bad "bad auth: a wrong password gets 401 again (3 times)"
st=$(status | grep '^registrar:')
[[ $st == *" auth_failures=3 "* ]] || fail "bad auth: not 3 failures counted: $st"
grep -qE "REGISTER of bob@example.com from udp:.*$NAT_OUT_IP:[0-9]+.*authentication failed \(wrong password, user \"bob\", 1 failures from this address\)" \
	"$TOPO_LOG_DIR/sbc0.log" || fail "bad auth: no failure logged against the NAT's address"
grep -q "authentication failed.*$CALLER_IP" "$TOPO_LOG_DIR/sbc0.log" &&
	fail "bad auth: the private address in the failure log"
pass "bad auth: counted (auth_failures=3) and logged against the source $NAT_OUT_IP"
[[ $st == *"bindings=1 "* ]] || fail "bad auth: the bindings changed: $st"

# 3. The core calls the user: the phone, started on the port it registered from, answers.
phone phone caller "$PHONE_PORT" b2b_uas_answer.xml -m 1
wait_listen caller udp "$CALLER_IP" "$PHONE_PORT" 10 || fail "the phone does not listen"
phone core callee 5060 call_registered_user.xml -s "$USER" -m 1 -timeout 20s -timeout_error \
	"$SBC_CORE_IP:5060"
done_ok core "call: the core's call to $USER@example.com was answered, hung up by the core"
done_ok phone "call: the phone behind the NAT took the INVITE and the BYE"
sbc_idle call

# 4. Unregistration.
phone unreg caller "$PHONE_PORT" flow_reg_unregister.xml -s "$USER" -au "$USER" -ap "$PASSWORD" \
	-m 1 -timeout 20s -timeout_error "$SBC_ACCESS_IP:5060"
done_ok unreg "unregister: Contact: * with Expires: 0 -> 200, a query then lists none"
st=$(status | grep '^registrar:')
[[ $st == *"bindings=0 "* ]] || fail "unregister: bindings left: $st"
pass "unregister: no binding left ($st)"

sleep 0.5
stop_daemon tshark-access
stop_daemon tshark-core

# The phone's registering flow as the sbc saw it, and where the INVITE to the user went.
fields() { tshark -r "$TOPO_LOG_DIR/$1.pcap" -Y "$2" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null; }
reg_src=$(fields access "sip.Method == \"REGISTER\" && sip.from.user == \"$USER\"" | awk '{print $1 ":" $2}' | sort -u)
inv_dst=$(fields access 'sip.Method == "INVITE"' | awk '{print $3 ":" $4}' | sort -u)
[[ $reg_src == "$NAT_OUT_IP":* && $(wc -l <<<"$reg_src") == 1 ]] ||
	fail "call: the phone's REGISTERs did not come from one NAT mapping: $reg_src"
[[ $inv_dst == "$reg_src" ]] ||
	fail "call: the INVITE went to '$inv_dst', not to the registration flow $reg_src"
pass "call: the INVITE went to the NAT mapping the phone registered by ($reg_src)"

# Nothing of the access side on the core wire: SIP headers and SDP bodies.
tshark -r "$TOPO_LOG_DIR/core.pcap" -Y sip -T fields -e sip.msg_hdr -e sdp.connection_info \
	-e sdp.owner >"$TOPO_LOG_DIR/core.txt" 2>/dev/null
grep -q INVITE "$TOPO_LOG_DIR/core.txt" || fail "tshark captured no INVITE on the core side"
grep -q "IN IP4 $SBC_CORE_IP" "$TOPO_LOG_DIR/core.txt" ||
	fail "call: the phone's answer on the core side has no relay (core) address in its SDP"
for p in "$CALLER_IP" "192.168.71." "$NAT_OUT_IP" "$SBC_ACCESS_IP"; do
	grep -qF -- "$p" "$TOPO_LOG_DIR/core.txt" && fail "call: '$p' appears on the core side"
done
pass "call: no private, NAT or access address on the core side (SIP and SDP)"

stop_daemon sbc || fail "sbc did not exit cleanly"
stop_daemon relay || fail "relay did not exit cleanly"
pass "sbc and relay exit 0"
