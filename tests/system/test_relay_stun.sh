#!/bin/bash
# The relay's STUN port (stun.listen): a binding request gets a success response with
# XOR-MAPPED-ADDRESS equal to the sender's address and port (RFC 8489), from the STUN port
# itself; a request with a comprehension-required attribute the relay does not know gets 420;
# RTP-looking datagrams get nothing back; the control socket counts what was answered.
# A wildcard STUN address is refused at start-up with file:line.
#   BACKEND=sockets (default)  the relay and the asker on 127.0.0.1
#   BACKEND=dpdk               the relay on the DPDK backend in a namespace, the asker in
#                              another (relay_dpdk_ns.sh): DPDK answers
# Exit 0 pass, 1 fail, 77 skip (python3 missing; dpdk: not root, no DPDK).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD_DIR:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
RELAY_BIN=$BUILD_DIR/rtpengine/rtpengine
CTL=$BUILD_DIR/sbc/sbcctl
# shellcheck source=relay_lib.sh
. "$here/relay_lib.sh"
# shellcheck source=relay_dpdk_ns.sh
. "$here/relay_dpdk_ns.sh"
BACKEND=${BACKEND:-sockets}
relay_ip=127.0.0.1 peer_ip=127.0.0.1 dp_conf=""
in_relay=() in_client=()
case $BACKEND in
sockets) ;;
dpdk)
	dpdk_ns_require
	relay_ip=$DPDK_NS_RELAY_IP peer_ip=$DPDK_NS_PEER_IP dp_conf=$(dpdk_ns_conf)
	in_relay=(ip netns exec "$DPDK_NS_RELAY") in_client=(ip netns exec "$DPDK_NS_CLIENT")
	;;
*) echo "FAIL: BACKEND must be sockets or dpdk, not $BACKEND"; exit 1 ;;
esac

tmp=$(mktemp -d)
failures=0
relay_pid=""
cleanup()
{
	[[ -n $relay_pid ]] && relay_stop "$relay_pid" 2>/dev/null
	dpdk_ns_down
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
interfaces = ( { name = "default"; address = "$relay_ip"; port_min = $pmin; port_max = $((pmin + 99)); } );
stun: { listen = [ "$relay_ip:$stun_port" ]; };
control: { socket = "$tmp/rtpengine.ctl"; };
$dp_conf
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

if [[ $BACKEND == dpdk ]]; then
	dpdk_ns_up || { fail "namespaces for the DPDK relay"; exit 1; }
fi
"${in_relay[@]}" "$RELAY_BIN" -f "$tmp/rtpengine.conf" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
# the STUN port is a dataplane flow: bound (sockets) or in DPDK's table once status counts it
for _ in $(seq 200); do
	"$CTL" -s "$tmp/rtpengine.ctl" status 2>/dev/null | grep -q "^stun: ports=1" && break
	sleep 0.1
done
"$CTL" -s "$tmp/rtpengine.ctl" status 2>/dev/null | grep -q "^stun: ports=1" ||
	{ fail "STUN port $stun_port not open"; tail -20 "$tmp/relay.log"; exit 1; }

if "${in_client[@]}" python3 - "$stun_port" "$relay_ip" "$peer_ip" <<'PY'; then pass "binding request answered with the sender's address"; else fail "binding request"; fi
import os, socket, struct, sys
port, relay, me = int(sys.argv[1]), sys.argv[2], sys.argv[3]
MAGIC = 0x2112A442
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((me, 0))
s.settimeout(2)
def request(attrs=b""):
    tid = os.urandom(12)
    s.sendto(struct.pack("!HHI", 0x0001, len(attrs), MAGIC) + tid + attrs, (relay, port))
    data, src = s.recvfrom(2048)
    assert src == (relay, port), f"answer from {src}"
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
s.sendto(b"\x80\x00\x00\x01" + b"\x00" * 168, (relay, port))
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

# the relay must stop cleanly (SIGTERM; ASan stops it with an error on any fault or leak)
relay_stop "$relay_pid"
relay_rc=$?
relay_pid=""
if [[ $relay_rc -eq 0 ]]; then
	pass "the relay stopped cleanly"
else
	fail "the relay exited with status $relay_rc"
fi

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
