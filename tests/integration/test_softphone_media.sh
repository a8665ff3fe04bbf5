#!/usr/bin/env bash
# A real softphone (baresip) behind the symmetric NAT calls through the sbc with the media
# anchored by the relay (RELAY=ours, default, or sipwise; in the sbc namespace, interfaces
# access and core):
#
#   baresip 192.168.71.2 -> nat (masquerade fully-random) -> sbc access 203.0.113.10
#   [sbc + relay] sbc core 198.51.100.10 -> sipp UAS + rtp_load 198.51.100.20
#
# baresip (registered as alice@example.com, G.711 A-law, no audio device: it plays a tone
# file, aufile) dials +15551234, routed
# to the sipp callee, whose SDP names an rtp_load endpoint; once answered, rtp_load sends
# RTP_COUNT packets to the relay's core port and counts what comes back; baresip hangs up.
# Pass: baresip's SDP reached the callee rewritten to the relay's core address (and the
# callee's to baresip as the relay's access address, in baresip's SIP trace); the relay
# latched baresip at the NAT's public address and received RTP from both ends; the callee
# received baresip's RTP only from the relay; the callee's RTP reached baresip's ports
# (an nftables counter in its namespace: through the NAT, from the relay's access address);
# nothing left on the relay nor in the sbc afterwards. Then the other way: a sipp caller
# on the core side calls alice@example.com, baresip answers (answermode=auto): the core
# caller's SDP must name the relay's core address, baresip's the access one, whichever leg
# of the call is the caller, and RTP must flow both ways again.
# Exit 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/topology.sh
. "$here/lib/topology.sh"
# shellcheck source-path=SCRIPTDIR source=lib/baresip.sh
. "$here/lib/baresip.sh"
# shellcheck source=../system/relay_lib.sh
. "$here/../system/relay_lib.sh"
TOPO_DEADLINE_S=80

require_root_netns
: "${SBC_BUILD_DIR:?}"
SIPP_DIR=$here/../sipp
SBCCTL=$SBC_BUILD_DIR/sbc/sbcctl
baresip_require
command -v jq >/dev/null || topo_skip "jq is not installed"
relay_pick
[[ -n ${RTP_LOAD:-} && -x $RTP_LOAD ]] || RTP_LOAD=$SBC_BUILD_DIR/tests/integration/rtp_load
[[ -x $RTP_LOAD ]] || fail "no rtp_load (set RTP_LOAD or SBC_BUILD_DIR)"
COUNT=${RTP_COUNT:-150}
PPS=50
PMIN=30000 PMAX=30099
NGA=127.0.0.1:2223
CALLEE_RTP=40002

topo_up || fail "topology"
relay_argv "$TOPO_LOG_DIR" "$SBC_ACCESS_IP" "$SBC_CORE_IP" 127.0.0.1 2223 "$PMIN" "$PMAX"
start_daemon relay sbc relay.log "${RELAY_ARGV[@]}"
ngs() { in_ns sbc python3 "$NG_TOOL" "$NGA" "$1"; }
for _ in $(seq 50); do
	NG_TOOL_TIMEOUT_S=0.3 ngs '{"command":"ping"}' 2>/dev/null | grep -q pong && break
	sleep 0.1
done
ngs '{"command":"ping"}' | grep -q pong || fail "$RELAY relay does not answer ping"

conf=$TOPO_LOG_DIR/sbc.conf
cat >"$conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { interface = "access"; transport = "udp"; address = "$SBC_ACCESS_IP"; port = 5060; },
    { interface = "core"; transport = "udp"; address = "$SBC_CORE_IP"; port = 5060; }
  );
};
registrar: {
  mode = "local";
  # Debian bookworm's baresip 1.0 answers only the first challenge (see test_softphone.sh).
  algorithms = "MD5";
  users = ( { username = "alice"; domain = "example.com"; password = "$BARESIP_PASSWORD"; } );
};
routing: {
  trunks = ( { name = "callee"; address = "$CALLEE_IP:5060"; } );
  routes = ( { prefix = "+1"; trunks = [ "callee" ]; } );
};
media: {
  rtpengine = [ "$NGA" ];
  direction = [ "access", "core" ];
};
control: { socket = "$TOPO_LOG_DIR/sbc.ctl"; };
CONF
start_daemon sbc sbc sbc.log "$SBC_BUILD_DIR/sbc/sbc" -f "$conf"
wait_listen sbc udp "$SBC_ACCESS_IP" 5060 10 || fail "sbc does not listen on access"

bdir=$TOPO_LOG_DIR/baresip
baresip_config "$bdir" PCMA "$bdir/tone.wav" 40000-40010
# What baresip sends: 20 s of a 440 Hz tone, 8 kHz mono (aufile plays it once).
python3 - "$bdir/tone.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                       for i in range(8000 * 20)))
w.close()
PY

# RTP that reaches baresip's ports (through the NAT) from the relay, counted in its namespace.
in_ns caller nft -f - <<NFT || fail "nft counter in the caller namespace"
table inet rtpcount {
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr $SBC_ACCESS_IP udp dport 40000-40010 counter
	}
}
NFT

start_daemon uas callee uas.log timeout 40 sipp -sf "$SIPP_DIR/media_uas_talk.xml" \
	-i "$CALLEE_IP" -p 5060 -mp 46000 -set rtp "$CALLEE_RTP" -m 1 -nostdin -trace_msg \
	-message_file "$TOPO_LOG_DIR/uas.msg"
wait_listen callee udp "$CALLEE_IP" 5060 10 || fail "callee sipp does not listen"
baresip_start "$bdir"
for ((i = 0; i < 100; i++)); do
	"$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status | grep -q '^registrar: .*bindings=1' && break
	sleep 0.1
done
"$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status | grep -q '^registrar: .*bindings=1' ||
	fail "baresip did not register"
bctl dial "sip:+15551234@example.com" >"$TOPO_LOG_DIR/bctl-dial.txt" 2>&1 ||
	fail "baresip refused the dial command (see bctl-dial.txt)"
wait_log "$TOPO_LOG_DIR/uas.msg" 'ACK sip:' 15 || fail "the callee never got the ACK of its 200"
grep -q "c=IN IP4 $SBC_CORE_IP" "$TOPO_LOG_DIR/uas.msg" ||
	fail "baresip's SDP reached the callee without the relay's core address"
grep -qF "$CALLER_IP" <(sed -n '/message received/,/message sent/p' "$TOPO_LOG_DIR/uas.msg" | grep -a '^[cmo]=') &&
	fail "baresip's private address reached the callee's SDP"
wait_log "$TOPO_LOG_DIR/baresip.log" 'Call established' 10 || fail "baresip did not see its call established"
grep -q "c=IN IP4 $SBC_ACCESS_IP" "$TOPO_LOG_DIR/baresip.log" ||
	fail "the callee's SDP reached baresip without the relay's access address"
pass "baresip's call is up, each side's SDP names the relay on its side"

# stream_of IP...: from an ng `query` reply on stdin, the RTP stream (first of its tag) whose
# party is at one of the IPs (signalled or latched): which tag is which, whichever the relay.
stream_of()
{
	jq -c --args '[.tags[] | .medias[0]?.streams[0]? // empty |
		select((.endpoint.address as $a | $ARGS.positional | index($a)) or
		       ((.["advertised endpoint"].address // "") as $a | $ARGS.positional | index($a)))][0] // empty' "$@"
}
query() { ngs "{\"command\":\"query\",\"call-id\":$(json_str "$cid")}"; }
cid=$(ngs '{"command":"list"}' | jq -r '.calls[0] // empty')
[[ -n $cid ]] || fail "the relay lists no call"
core_port=$(query | stream_of "$CALLEE_IP" | jq -r '.["local port"] // empty')
[[ -n $core_port ]] || fail "no core port in the relay's query: $(query)"
start_daemon callee-rtp callee callee-rtp.log "$RTP_LOAD" stream "$CALLEE_IP:$CALLEE_RTP" \
	"$SBC_CORE_IP:$core_port" "$COUNT" "$PPS" 0x2222 1000
wait_gone() { wait_daemon "$1" "$2"; }
sleep $((COUNT / PPS / 2))
query >"$TOPO_LOG_DIR/query-mid.json"
wait_gone callee-rtp $((COUNT / PPS + 5)) || fail "the callee's rtp_load failed"
query >"$TOPO_LOG_DIR/query-end.json"
bctl hangup >"$TOPO_LOG_DIR/bctl-hangup.txt" 2>&1 || fail "baresip refused the hangup command"
wait_gone uas 10 || fail "the callee's sipp did not complete (see uas.log)"
pass "baresip hung up, the callee's sipp completed"

out=$(grep -h '^sent=' "$TOPO_LOG_DIR/callee-rtp.log" | tail -1)
echo "callee rtp_load: $out"
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }
rx=$(kv "$out" received)
[[ -n $rx && $rx -ge $((COUNT / 2)) ]] || fail "the callee received ${rx:-?} RTP packets from baresip"
[[ $(kv "$out" sources) == "$SBC_CORE_IP:$core_port" ]] ||
	fail "the callee heard from $(kv "$out" sources), not only the relay"
pass "the callee received $rx RTP packets from baresip, only from the relay $SBC_CORE_IP:$core_port"
jq -r '.tags[] | (.interface // .tag) as $i | .medias[0]?.streams[0]? // empty |
	"relay: \($i) port \(.["local port"]) <> \(.endpoint.address):\(.endpoint.port) packets=\(.stats.packets)"' \
	"$TOPO_LOG_DIR/query-end.json"
latched=$(stream_of "$CALLER_IP" "$NAT_OUT_IP" <"$TOPO_LOG_DIR/query-end.json" |
	jq -r '"\(.endpoint.address):\(.endpoint.port)"')
[[ $latched == "$NAT_OUT_IP":* ]] || fail "the relay's baresip endpoint is $latched, not the NAT's $NAT_OUT_IP"
for side in "$CALLER_IP $NAT_OUT_IP" "$CALLEE_IP"; do
	# shellcheck disable=SC2086 # the addresses of one party
	n=$(stream_of $side <"$TOPO_LOG_DIR/query-end.json" | jq -r '.stats.packets // 0')
	[[ $n -gt 0 ]] || fail "the relay received no RTP from $side"
done
pass "the relay latched baresip at the NAT's mapping $latched and relayed RTP both ways"
brx=$(in_ns caller nft list table inet rtpcount | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
[[ -n $brx && $brx -ge $((COUNT * 95 / 100)) ]] ||
	fail "baresip's RTP ports got ${brx:-?} packets from the relay, the callee sent $COUNT"
pass "baresip's RTP ports got $brx packets from the relay (the callee sent $COUNT)"

relay_empty()
{
	local left=""
	for _ in $(seq 30); do
		left=$(ngs '{"command":"list"}' | jq -r '.calls | length')
		[[ $left == 0 ]] && break
		sleep 0.1
	done
	[[ $left == 0 ]] || fail "$1: calls left on the relay: $(ngs '{"command":"list"}')"
}
relay_empty "outbound call"

# The other way: the core side calls alice, registered behind the NAT.
rtp_in() { in_ns caller nft list table inet rtpcount | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
brx0=$(rtp_in)
start_daemon uac callee uac.log timeout 40 sipp -sf "$SIPP_DIR/media_uac_user.xml" -s alice \
	-key caller bob -i "$CALLEE_IP" -p 5070 -mp 46000 -set rtp "$CALLEE_RTP" \
	-d $((COUNT * 1000 / PPS + 3000)) -m 1 -timeout 30s -timeout_error -nostdin -trace_msg \
	-message_file "$TOPO_LOG_DIR/uac.msg" "$SBC_CORE_IP:5060"
wait_log "$TOPO_LOG_DIR/baresip.log" 'Call established: sip:bob@' 15 ||
	fail "inbound call: baresip did not see the core caller's call established"
wait_log "$TOPO_LOG_DIR/uac.msg" 'ACK sip:' 5 || fail "inbound call: the core caller sent no ACK"
# Who sends where, from the relay: the tag whose signalled endpoint is the core caller.
cid=$(ngs '{"command":"list"}' | jq -r '.calls[0] // empty')
[[ -n $cid ]] || fail "inbound call: the relay lists no call"
query >"$TOPO_LOG_DIR/query-in.json"
jq -r '.tags[] | (.interface // .tag) as $i | .medias[0]?.streams[0]? // empty |
	"relay: \($i) port \(.["local port"]) <> \(.["advertised endpoint"].address):\(.["advertised endpoint"].port)"' \
	"$TOPO_LOG_DIR/query-in.json"
core_port=$(stream_of "$CALLEE_IP" <"$TOPO_LOG_DIR/query-in.json" | jq -r '.["local port"] // empty')
# ours names each tag's relay interface in `query`
core_if=$(jq -r --arg ip "$CALLEE_IP" '[.tags[] | select(.medias[0]?.streams[0]?.endpoint.address == $ip) | .interface][0] // empty' "$TOPO_LOG_DIR/query-in.json")
[[ -z $core_if || $core_if == core ]] || fail "inbound call: the relay serves the core caller on its '$core_if' interface, not core"
c_uac=$(sed -n '/message received/,/message sent/p' "$TOPO_LOG_DIR/uac.msg" | tr -d '\r' | sed -n 's/^c=IN IP4 //p' | sort -u | tr '\n' ' ')
[[ $c_uac == "$SBC_CORE_IP " ]] || fail "inbound call: the core caller's SDP names $c_uac, not the relay's core address $SBC_CORE_IP"
c_bs=$(tr -d '\r' <"$TOPO_LOG_DIR/baresip.log" | sed 's/\x1b\[[0-9;]*m//g' | awk '/^INVITE sip:alice/ { inv = 1 } inv && /^c=IN IP4 / { print $3; exit }')
[[ $c_bs == "$SBC_ACCESS_IP" ]] || fail "inbound call: baresip's offer names $c_bs, not the relay's access address $SBC_ACCESS_IP"
pass "inbound call: the core caller got the relay's core address, baresip the access one"
start_daemon uac-rtp callee uac-rtp.log "$RTP_LOAD" stream "$CALLEE_IP:$CALLEE_RTP" \
	"$SBC_CORE_IP:$core_port" "$COUNT" "$PPS" 0x3333 1000
wait_gone uac-rtp $((COUNT / PPS + 5)) || fail "inbound call: the core caller's rtp_load failed"
wait_gone uac 15 || fail "inbound call: the core caller's sipp did not complete (see uac.log)"
out=$(grep -h '^sent=' "$TOPO_LOG_DIR/uac-rtp.log" | tail -1)
echo "core caller rtp_load: $out"
rx=$(kv "$out" received)
[[ -n $rx && $rx -ge $((COUNT / 2)) && $(kv "$out" sources) == "$SBC_CORE_IP:$core_port" ]] ||
	fail "inbound call: the core caller received ${rx:-?} packets from $(kv "$out" sources)"
brx=$(($(rtp_in) - brx0))
[[ -n $brx && $brx -ge $((COUNT * 95 / 100)) ]] ||
	fail "inbound call: baresip's RTP ports got ${brx:-?} packets from the relay, the core caller sent $COUNT"
pass "inbound call: RTP both ways ($rx packets to the core caller, $brx to baresip), only through the relay"
relay_empty "inbound call"
st=$("$SBCCTL" -s "$TOPO_LOG_DIR/sbc.ctl" status)
grep -q "^calls: active=0 " <<<"$st" || fail "calls left in the sbc: $(grep ^calls: <<<"$st")"
grep -q "^media: calls=0 offers=2 answers=2 deletes=2 " <<<"$st" || fail "sbc: $(grep ^media: <<<"$st")"
pass "nothing left on the relay nor in the sbc ($(grep ^media: <<<"$st"))"
stop_daemon baresip
stop_daemon sbc || fail "sbc did not exit cleanly"
stop_daemon relay || fail "the relay did not exit cleanly"
pass "sbc and relay exit 0"
