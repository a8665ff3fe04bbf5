#!/bin/bash
# NAT keep-alives end to end (RFC 5626 CRLF ping/pong): three phones register,
# bob over TCP and alice over UDP answer the SBC's keep-alives for a while and
# then go silent without closing anything; carol (TCP) keeps answering. With
# registrar.keepalive interval 5 s and max_failures 2, bob's and alice's
# bindings must be gone within a few intervals of their silence (sbcctl shows
# the drops and the pongs), a call to bob then fails (404/480), and carol
# stays registered. Exit 0 pass, 1 fail, 77 skip.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3"; exit 77; }
phone_pids=()
cat >"$tmp/sbc.conf" <<CONF
log: { level = "info"; target = "stderr"; };
sip: {
  listen = (
    { transport = "udp"; address = "127.0.0.1"; port = $port; },
    { transport = "tcp"; address = "127.0.0.1"; port = $port; }
  );
};
registrar: {
  mode = "local";
  algorithms = "MD5";
  keepalive: { method = "crlf"; interval = 5; max_failures = 2; };
  users = (
    { username = "alice"; domain = "example.com"; password = "wonderland"; },
    { username = "bob"; domain = "example.com"; password = "builder"; },
    { username = "carol"; domain = "example.com"; password = "singer"; }
  );
};
control: { socket = "$tmp/sbc.ctl"; };
CONF
launch_sbc keepalive "$tmp/sbc.conf"

phone() { # NAME PROTO PASSWORD PONG_SECONDS
	python3 "$SOURCE_DIR/tests/system/ka_phone.py" 127.0.0.1 "$port" "$2" "$1" example.com \
		"$3" "$4" 30 >"$tmp/$1.out" 2>&1 &
	phone_pids+=($!)
	uas_pids+=($!) # lib.sh kills them on exit
}
phone bob tcp builder 8
phone alice udp wonderland 8
phone carol tcp singer 100
for _ in $(seq 50); do
	[ "$(grep -l registered "$tmp"/{bob,alice,carol}.out 2>/dev/null | wc -l)" -eq 3 ] && break
	sleep 0.1
done
[ "$(field registrar bindings)" = "3" ] && pass "three phones registered" ||
	fail "bindings=$(field registrar bindings) after the REGISTERs"
start=$(date +%s)

# silent at 8 s; a round every 4..5 s, 2 failures: gone by ~8 + 5 + 2*5 s
for _ in $(seq 300); do
	[ "$(field registrar bindings)" = "1" ] && break
	sleep 0.1
done
took=$(($(date +%s) - start))
[ "$(field registrar bindings)" = "1" ] && [ "$took" -le 26 ] &&
	pass "the silent phones' bindings are gone after ${took}s" ||
	fail "bindings=$(field registrar bindings) after ${took}s"
grep -q "pongs [1-9][0-9]* silent" "$tmp/bob.out" && pass "bob (TCP) answered pings, then stopped" ||
	fail "bob: $(cat "$tmp/bob.out")"
grep -q "pongs [1-9][0-9]* silent" "$tmp/alice.out" && pass "alice (UDP) answered pings, then stopped" ||
	fail "alice: $(cat "$tmp/alice.out")"
dropped=$(field keepalive dropped)
pongs=$(field keepalive pongs)
[ "$dropped" = "2" ] && [ "${pongs:-0}" -ge 3 ] && pass "keepalive: dropped=2 pongs=$pongs" ||
	fail "keepalive: dropped=$dropped pongs=$pongs"

# A call to bob now: nobody to ring.
code=$(python3 - 127.0.0.1 "$port" <<'PY'
import re, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], int(sys.argv[2])))
ip, p = s.getsockname()
sdp = f"v=0\r\no=a 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
s.send((f"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {ip}:{p};branch=z9hG4bKka1;rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:x@example.org>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
        f"Call-ID: ka-call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{ip}:{p}>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}").encode())
while True:
    m = re.match(r"SIP/2.0 (\d+)", s.recv(65536).decode())
    if m and int(m.group(1)) >= 200:
        print(m.group(1))
        break
PY
)
case "$code" in 404 | 480) pass "a call to bob gets $code" ;; *) fail "a call to bob gets '$code'" ;; esac

[ "$(field registrar bindings)" = "1" ] && pass "carol, who answers, is still registered" ||
	fail "bindings=$(field registrar bindings) before the phones quit"
for p in "${phone_pids[@]}"; do wait "$p" || fail "a phone exited $?"; done
grep -q "silent" "$tmp/carol.out" && fail "carol stopped answering" || pass "carol answered throughout"
# carol's connection closed as she quit: her binding goes with it
for _ in $(seq 30); do [ "$(field registrar bindings)" = "0" ] && break; sleep 0.1; done
[ "$(field registrar bindings)" = "0" ] && pass "the closed connection took carol's binding" ||
	fail "bindings=$(field registrar bindings) at the end"
stop_sbc keepalive
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
