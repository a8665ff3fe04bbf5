#!/bin/bash
# The relay's STUN port (stun.listen) on loopback: a binding request gets a success response
# with XOR-MAPPED-ADDRESS equal to the sender's address and port (RFC 8489), from the STUN
# port itself; a request with a comprehension-required attribute the relay does not know gets
# 420; RTP-looking datagrams get nothing back; the control socket counts what was answered.
# A wildcard STUN address is refused at start-up with file:line.
# Exit 0 pass, 1 fail, 77 skip (python3 missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD_DIR:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
RELAY_BIN=$BUILD_DIR/rtpengine/rtpengine
CTL=$BUILD_DIR/sbc/sbcctl

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
stun_port=$((ng_port + 1))
pmin=$((20000 + ($$ % 50) * 200))
cat >"$tmp/rtpengine.conf" <<CONF
log: { level = "info"; target = "stderr"; };
ng: { listen = [ "127.0.0.1:$ng_port" ]; };
interfaces = ( { name = "default"; address = "127.0.0.1"; port_min = $pmin; port_max = $((pmin + 99)); } );
stun: { listen = [ "127.0.0.1:$stun_port" ]; };
control: { socket = "$tmp/rtpengine.ctl"; };
CONF

# a wildcard is refused with the file and line
cat >"$tmp/bad.conf" <<CONF
stun: {
  listen = [ "0.0.0.0:3478" ];
};
CONF
if out=$("$RELAY_BIN" -t -f "$tmp/bad.conf" 2>&1); then
	fail "stun.listen with a wildcard accepted"
elif grep -q "bad.conf:2: setting 'stun.listen'" <<<"$out"; then
	pass "wildcard STUN address refused: $out"
else
	fail "wildcard STUN address: unexpected message: $out"
fi

"$RELAY_BIN" -f "$tmp/rtpengine.conf" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 50); do
	ss -lnuH "sport = :$stun_port" | grep -q . && break
	sleep 0.1
done
ss -lnuH "sport = :$stun_port" | grep -q . || { fail "STUN port $stun_port not bound"; exit 1; }

if python3 - "$stun_port" <<'PY'; then pass "binding request answered with the sender's address"; else fail "binding request"; fi
import os, socket, struct, sys
port = int(sys.argv[1])
MAGIC = 0x2112A442
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2)
def request(attrs=b""):
    tid = os.urandom(12)
    s.sendto(struct.pack("!HHI", 0x0001, len(attrs), MAGIC) + tid + attrs, ("127.0.0.1", port))
    data, src = s.recvfrom(2048)
    assert src == ("127.0.0.1", port), f"answer from {src}"
    mtype, mlen, magic = struct.unpack("!HHI", data[:8])
    assert magic == MAGIC and data[8:20] == tid, "cookie or transaction id"
    return mtype, data[20:20 + mlen]
def attrs_of(body):
    out = {}
    while len(body) >= 4:
        t, l = struct.unpack("!HH", body[:4])
        out[t] = body[4:4 + l]
        body = body[4 + ((l + 3) & ~3):]
    return out
mtype, body = request()
assert mtype == 0x0101, f"type {mtype:#x}"
xma = attrs_of(body)[0x0020]
family, xport = struct.unpack("!xBH", xma[:4])
ip = struct.unpack("!I", xma[4:8])[0] ^ MAGIC
addr = (socket.inet_ntoa(struct.pack("!I", ip)), xport ^ (MAGIC >> 16))
assert family == 1 and addr == s.getsockname(), f"mapped {addr} != {s.getsockname()}"
# 0x7fff: comprehension-required, unknown -> 420 with UNKNOWN-ATTRIBUTES
mtype, body = request(struct.pack("!HH4s", 0x7FFF, 4, b"abcd"))
assert mtype == 0x0111, f"unknown attribute: type {mtype:#x}"
code = attrs_of(body)[0x0009]
assert code[2] == 4 and code[3] == 20, f"error code {code[2]}{code[3]:02d}"
assert 0x000A in attrs_of(body), "no UNKNOWN-ATTRIBUTES"
# an RTP packet gets nothing back
s.sendto(b"\x80\x00\x00\x01" + b"\x00" * 168, ("127.0.0.1", port))
s.settimeout(0.5)
try:
    s.recvfrom(2048)
    sys.exit("an RTP packet was answered")
except socket.timeout:
    pass
PY

status=$("$CTL" -s "$tmp/rtpengine.ctl" status 2>&1)
if grep -Eq "^stun: ports=1 answered=1 refused=1" <<<"$status"; then
	pass "control socket counts: $(grep '^stun:' <<<"$status")"
else
	fail "status: $(grep '^stun:' <<<"$status" || echo "$status")"
fi

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
