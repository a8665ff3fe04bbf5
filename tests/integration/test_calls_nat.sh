#!/usr/bin/env bash
# Calls from a phone behind the symmetric NAT to a callee on the core side,
# through the sbc's two interfaces, and topology hiding proved on the wire.
#
# caller (sipp, 192.168.71.2) -> nat (masquerade fully-random) -> sbc access
# 203.0.113.10 | sbc core 198.51.100.10 -> callee (sipp, 198.51.100.20), routed
# by a static route (+1 -> trunk "callee"). Two flows: the caller hangs up,
# and the callee hangs up (its BYE must reach the caller through the NAT).
# tshark captures SIP on both sbc interfaces: the core side must show none of
# the access side's addresses, Call-IDs or tags, and the reverse. SDP bodies
# are left out here (no relay: they cross unchanged); test_media_nat.sh checks
# SDP and RTP with the media anchored by the relay.
# Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"

require_root_netns
: "${SBC_BUILD_DIR:?}"
SIPP_DIR=$here/../sipp
command -v sipp >/dev/null || { echo "SKIP: sipp is not installed"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
CALLS=${NAT_CALLS:-10}

topo_up || fail "topology"
conf=$TOPO_LOG_DIR/sbc.conf
cat >"$conf" <<CONF
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
};
routing: {
  trunks = ( { name = "callee"; address = "$CALLEE_IP:5060"; } );
  routes = ( { prefix = "+1"; trunks = [ "callee" ]; } );
};
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF

start_daemon sbc sbc sbc.log "$SBC_BUILD_DIR/sbc/sbc" -f "$conf"
wait_listen sbc udp "$SBC_CORE_IP" 5060 10 || fail "sbc does not listen"
for side in access core; do
	ifc=$SBC_ACCESS_IF
	[[ $side == core ]] && ifc=$SBC_CORE_IF
	start_daemon "tshark-$side" sbc "tshark-$side.log" \
		tshark -Q -i "$ifc" -f "udp port 5060" -w "$TOPO_LOG_DIR/$side.pcap"
done
sleep 1.5 # tshark needs a moment before it captures

# call_flow NAME UAC UAS: CALLS calls, both sipp sides must succeed.
call_flow()
{
	local name=$1 uac=$2 uas=$3 rc_uas
	start_daemon "uas-$name" callee "uas-$name.log" sipp -sf "$SIPP_DIR/$uas" \
		-i "$CALLEE_IP" -p 5060 -m "$CALLS" -nostdin -trace_msg \
		-message_file "$TOPO_LOG_DIR/uas-$name.msg"
	wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "callee sipp does not listen"
	in_ns caller timeout 90 sipp -sf "$SIPP_DIR/$uac" -s +15551234 -i "$CALLER_IP" -p 5070 \
		-m "$CALLS" -r 10 -nostdin -trace_msg -message_file "$TOPO_LOG_DIR/uac-$name.msg" \
		"$SBC_ACCESS_IP:5060" >"$TOPO_LOG_DIR/uac-$name.log" 2>&1 ||
		fail "$name: the caller's calls failed (see uac-$name.log)"
	stop_daemon "uas-$name"
	rc_uas=$?
	# sipp exits 0 once its -m calls are done; a SIGTERM (143) means it was still waiting
	[[ $rc_uas -eq 0 ]] || fail "$name: the callee's sipp did not complete ($rc_uas)"
	pass "$name: $CALLS calls from behind the symmetric NAT completed on both sides"
}

call_flow caller-hangs-up b2b_uac_bye.xml b2b_uas_answer.xml
call_flow callee-hangs-up b2b_uac_wait_bye.xml b2b_uas_bye.xml

sleep 1
stop_daemon tshark-access
stop_daemon tshark-core

# The header sections of every SIP message captured on one side.
headers()
{
	# sip.msg_hdr runs on into the body: cut at the empty line
	tshark -r "$TOPO_LOG_DIR/$1.pcap" -Y sip -T fields -e sip.msg_hdr 2>/dev/null |
		sed 's/\\r\\n\\r\\n.*$//'
}

# Call-IDs and tags one side's sipp used (its own, as it wrote them).
identifiers()
{
	grep -ohE '(Call-ID: *[^ ]+|tag=[A-Za-z0-9._-]+)' "$@" | sed -E 's/^(Call-ID: *|tag=)//' |
		sort -u
}

headers core >"$TOPO_LOG_DIR/core.hdr"
headers access >"$TOPO_LOG_DIR/access.hdr"
[[ -s $TOPO_LOG_DIR/core.hdr && -s $TOPO_LOG_DIR/access.hdr ]] || fail "tshark captured no SIP"
pass "captured $(wc -l <"$TOPO_LOG_DIR/access.hdr") SIP messages on access, $(wc -l <"$TOPO_LOG_DIR/core.hdr") on core"

# hidden FILE WHAT PATTERNS...: none of the fixed strings may appear in FILE.
hidden()
{
	local file=$1 what=$2 p
	shift 2
	for p in "$@"; do
		if grep -qF -- "$p" "$TOPO_LOG_DIR/$file"; then
			fail "$what '$p' appears in $file"
		fi
	done
	pass "no $what in $file ($# checked)"
}

hidden core.hdr "access-side address" "$CALLER_IP" "$NAT_OUT_IP" "$SBC_ACCESS_IP" "192.168.71." "203.0.113."
hidden access.hdr "core-side address" "$CALLEE_IP" "$SBC_CORE_IP" "198.51.100."
mapfile -t caller_ids < <(identifiers "$TOPO_LOG_DIR"/uac-*.msg)
mapfile -t callee_ids < <(identifiers "$TOPO_LOG_DIR"/uas-*.msg)
(( ${#caller_ids[@]} > 0 && ${#callee_ids[@]} > 0 )) || fail "no identifiers read from the sipp traces"
# Each side's own identifiers: the caller's Call-IDs and From tags must not reach the core, etc.
caller_own=()
for id in "${caller_ids[@]}"; do grep -qF -- "$id" "$TOPO_LOG_DIR"/uas-*.msg || caller_own+=("$id"); done
callee_own=()
for id in "${callee_ids[@]}"; do grep -qF -- "$id" "$TOPO_LOG_DIR"/uac-*.msg || callee_own+=("$id"); done
(( ${#caller_own[@]} >= CALLS )) || fail "the caller's identifiers leaked into the callee's trace"
hidden core.hdr "caller Call-ID or tag" "${caller_own[@]}"
hidden access.hdr "callee Call-ID or tag" "${callee_own[@]}"

stop_daemon sbc || fail "sbc did not exit cleanly"
pass "sbc exits 0"
