#!/bin/bash
# The relay's ng control protocol, driven by Sipwise's own client (rtpengine-ng-client, from
# rtpengine-utils) on loopback: ping -> pong; offer and answer return SDP whose c= is the
# relay's address on the right side (access 127.0.0.1 / core 127.0.0.2, ng `direction`) and
# whose m= port lies in the configured range; query shows the call with both tags; list
# names it; delete ends it; query after delete fails with "Unknown call-id". Malformed
# requests (not bencode, no command, unknown command, offer without SDP) get
# `result: error` with an `error-reason`, and the relay still answers ping afterwards. ng over
# TCP answers pipelined and split commands in order.
#
# RELAY=ours (default; the built rtpengine, BUILD_DIR) or RELAY=sipwise (/usr/bin/rtpengine).
# Exit 0 pass, 1 fail, 77 skip (rtpengine-ng-client, python3 or Sipwise rtpengine missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
command -v rtpengine-ng-client >/dev/null ||
	{ echo "SKIP: rtpengine-ng-client (rtpengine-utils) is not installed"; exit 77; }
relay_pick

tmp=$(mktemp -d)
failures=0
relay_pid=""
cleanup()
{
	if [[ -n $relay_pid ]]; then
		kill -TERM "$relay_pid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$relay_pid" 2>/dev/null
	fi
	[[ $failures -eq 0 ]] && rm -rf "$tmp" || echo "logs kept in $tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

ng_port=$((30000 + $$ % 20000))
pmin=$((20000 + ($$ % 50) * 200))
pmax=$((pmin + 99))
NGA=127.0.0.1:$ng_port
RELAY_NG_TCP_PORT=$((ng_port + 1))
relay_argv "$tmp" 127.0.0.1 127.0.0.2 127.0.0.1 "$ng_port" "$pmin" "$pmax"
echo "relay: ${RELAY_ARGV[*]}"
"${RELAY_ARGV[@]}" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
ng_wait_pong "$NGA" 5 || { fail "$RELAY relay does not answer ping on $NGA"; tail -20 "$tmp/relay.log"; exit 1; }

# client CMD ARGS...: rtpengine-ng-client against the relay; output in $out, status in $rc.
client()
{
	out=$(timeout 10 rtpengine-ng-client --proxy-address=127.0.0.1 --proxy-port="$ng_port" "$@" 2>&1)
	rc=$?
	printf '%s\n' "== $*" "$out" >>"$tmp/client.log"
}

# new_sdp: the SDP between the client's 8<...>8 markers after "New SDP:".
new_sdp()
{
	printf '%s\n' "$out" | awk '/^New SDP:/ { s = 1; next } s && /8<-----/ { in_ = 1; next }
		in_ && />8-----/ { exit } in_' | tr -d '\r'
}

# check_sdp WHAT SDP RELAY-IP ORIG-PORT: relay address and a port of the range.
check_sdp()
{
	local what=$1 sdp=$2 want=$3 orig=$4 ip port
	ip=$(sdp_conn_ip "$sdp")
	port=$(sdp_media_port "$sdp")
	[[ $ip == "$want" ]] && pass "$what: c= is the relay's $want" || fail "$what: c= is '$ip', not $want"
	if [[ -n $port && $port -ge $pmin && $port -le $pmax && $port != "$orig" ]]; then
		pass "$what: m=audio port $port is in the relay's range $pmin-$pmax"
	else
		fail "$what: m=audio port '$port' is not in $pmin-$pmax"
	fi
}

client ping
[[ $rc -eq 0 && $out == *pong* ]] && pass "ping: pong" || fail "ping: rc=$rc $out"

cid=relay-ng-$$-$RANDOM
offer_sdp=$(sdp_audio 192.168.1.90 5000)
client offer --call-id="$cid" --from-tag=tag-caller --direction=access,core \
	--received-from=IP4 --received-from=127.0.0.1 --flags=SIP-source-address --replace-origin \
	--sdp="$offer_sdp"
sdp=$(new_sdp)
[[ $rc -eq 0 && -n $sdp ]] && pass "offer: accepted, SDP returned" || fail "offer: rc=$rc $out"
check_sdp "offer (towards the callee, core side)" "$sdp" 127.0.0.2 5000
offer_port=$(sdp_media_port "$sdp")
grep -q "^a=rtpmap:8 PCMA/8000" <<<"$sdp" && pass "offer: codecs kept" || fail "offer: PCMA lost: $sdp"
grep -q "192.168.1.90" <<<"$sdp" && fail "offer: the caller's address leaked into the SDP: $sdp"

answer_sdp=$(sdp_audio 192.168.2.20 6000)
client answer --call-id="$cid" --from-tag=tag-caller --to-tag=tag-callee --direction=core,access \
	--received-from=IP4 --received-from=127.0.0.2 --replace-origin --sdp="$answer_sdp"
sdp=$(new_sdp)
[[ $rc -eq 0 && -n $sdp ]] && pass "answer: accepted, SDP returned" || fail "answer: rc=$rc $out"
check_sdp "answer (towards the caller, access side)" "$sdp" 127.0.0.1 6000
answer_port=$(sdp_media_port "$sdp")
grep -q "192.168.2.20" <<<"$sdp" && fail "answer: the callee's address leaked into the SDP: $sdp"

# Ports a relay hands out are bound: the relay listens on both.
for p in "$offer_port" "$answer_port"; do
	[[ -n $p ]] && ss -Hlnu "sport = :$p" | grep -q . && pass "relay port $p is bound" ||
		fail "relay port $p is not bound"
done

client query --call-id="$cid"
if [[ $rc -eq 0 && $out == *tag-caller* && $out == *tag-callee* ]]; then
	pass "query: the call is there with both tags"
else
	fail "query: rc=$rc $out"
fi
[[ $out == *totals* ]] && pass "query: has totals" || fail "query: no totals"
reply=$(ng "$NGA" '{"command":"list"}')
[[ $reply == *"$cid"* ]] && pass "list: names the call" || fail "list: $reply"
# The fields Kamailio's $rtpstat / rtpengine_query and OpenSIPS's $rtpstat read, with the
# names and types of Sipwise's reply: totals -> RTP/RTCP -> packets/bytes/errors (integers);
# per stream "local port" (int), "local address" and "family" (where the relay receives that
# tag's media: the caller's side is access, the callee's core), "endpoint", "stats".
q=$(ng "$NGA" "{\"command\":\"query\",\"call-id\":\"$cid\"}")
problems=$(python3 -c 'import json, sys
q = json.loads(sys.argv[1])
bad = []
def want(ok, what):
    if not ok:
        bad.append(what)
want(isinstance(q.get("created"), int), "created")
for k in ("RTP", "RTCP"):
    t = q.get("totals", {}).get(k, {})
    want(all(isinstance(t.get(f), int) for f in ("packets", "bytes", "errors")), "totals." + k)
for tag, local in (("tag-caller", "127.0.0.1"), ("tag-callee", "127.0.0.2")):
    st = [s for m in q.get("tags", {}).get(tag, {}).get("medias", []) for s in m.get("streams", [])]
    want(st, tag + ": streams")
    for s in st:
        want(isinstance(s.get("local port"), int), tag + ": local port")
        want(s.get("local address") == local, tag + ": local address %r" % s.get("local address"))
        want(s.get("family") == "IPv4", tag + ": family")
        want(isinstance(s.get("endpoint"), dict) and isinstance(s.get("stats"), dict),
             tag + ": endpoint/stats")
print(" ".join(sorted(set(bad))))' "$q")
[[ -z $problems ]] && pass "query: totals and streams' local address/port, family, endpoint, stats as Sipwise" ||
	fail "query: $problems"

client delete --call-id="$cid" --from-tag=tag-caller
[[ $rc -eq 0 && $out != *"Error reason"* ]] && pass "delete: accepted" || fail "delete: rc=$rc $out"
client query --call-id="$cid"
[[ $rc -ne 0 && $out == *"Unknown call-id"* ]] && pass "query after delete: Unknown call-id" ||
	fail "query after delete: rc=$rc $out"
reply=$(ng "$NGA" '{"command":"list"}')
[[ $reply != *"$cid"* ]] && pass "list: the call is gone" || fail "list after delete: $reply"
# a repeated delete (retransmitted BYE): ok with a warning; an error only with the flag fatal
reply=$(ng "$NGA" "{\"command\":\"delete\",\"call-id\":\"$cid\",\"from-tag\":\"tag-caller\"}")
[[ $(ng_field "$reply" result) == ok && $(ng_field "$reply" warning) == *"Call-ID not found"* ]] &&
	pass "delete again: ok with a warning" || fail "delete again: $reply"
reply=$(ng "$NGA" "{\"command\":\"delete\",\"call-id\":\"$cid\",\"flags\":[\"fatal\"]}")
[[ $(ng_field "$reply" result) == error ]] && pass "delete again, fatal: error" ||
	fail "delete again, fatal: $reply"
for p in "$offer_port" "$answer_port"; do
	ss -Hlnu "sport = :$p" | grep -q . && fail "relay port $p still bound after delete"
done
reply=$(ng "$NGA" '{"command":"statistics"}')
[[ $(ng_field "$reply" result) == ok ]] && pass "statistics: ok" || fail "statistics: $reply"

# Malformed requests: each must get result=error with a reason, never silence or a crash.
malformed()
{
	local what=$1 mode=$2 payload=$3 reply res reason
	reply=$(ng "$mode" "$NGA" "$payload")
	res=$(ng_field "$reply" result)
	reason=$(ng_field "$reply" error-reason)
	if [[ $res == error && -n $reason ]]; then
		pass "malformed ($what): error \"$reason\""
	else
		fail "malformed ($what): reply '$reply'"
	fi
}
malformed "not bencode" --raw 'this is not bencode'
malformed "truncated dictionary" --raw 'd7:command5:offe'
malformed "a list, not a dictionary" --raw 'l4:pinge'
malformed "no command" --raw 'd7:call-id3:abce'
malformed "unknown command" --raw 'd7:command10:frobnicatee'
malformed "offer without SDP" --raw 'd7:command5:offer7:call-id3:abc8:from-tag1:xe'
malformed "answer for an unknown call" --raw 'd7:command6:answer7:call-id7:nocall18:from-tag1:x6:to-tag1:y3:sdp2:v=e'
client ping
[[ $rc -eq 0 && $out == *pong* ]] && pass "still answers ping after the malformed requests" ||
	fail "no pong after the malformed requests: $out"
kill -0 "$relay_pid" 2>/dev/null || fail "the relay died"

# ng over TCP (Sipwise's listen-tcp-ng): commands back to back in one segment and one split
# over two are answered in order on the connection, with the sessions of the UDP socket.
tcp_reply=$(python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
q = b"d7:command5:query7:call-id%d:%se" % (len(sys.argv[2]), sys.argv[2].encode())
s.sendall(b"t1 d7:command4:pinge" + b"t2 " + q + b"t3 d7:comm")
time.sleep(0.2)
s.sendall(b"and4:pinge")
got, want = b"", b"t3 d6:result4:ponge"
deadline = time.time() + 3
while not got.endswith(want) and time.time() < deadline:
    d = s.recv(65536)
    if not d:
        break
    got += d
print(got.decode(errors="replace"))' "$RELAY_NG_TCP_PORT" "$cid" 2>&1)
if [[ $tcp_reply == "t1 d6:result4:ponget2 d"*"Unknown call-id"*"t3 d6:result4:ponge" ]]; then
	pass "ng over TCP: pipelined and split commands answered in order"
else
	fail "ng over TCP: '$tcp_reply'"
fi

echo "$failures failure(s) against RELAY=$RELAY"
[[ $failures -eq 0 ]]
