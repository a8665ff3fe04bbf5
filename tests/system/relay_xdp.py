#!/usr/bin/env python3
"""relay_xdp.py NG_PORT CTL SBCCTL [v6]: one call through our rtpengine with dataplane "xdp", run
inside the network namespace test_relay_xdp.sh made (the XDP program on its lo).

Checks, in order: RTP both ways (the first packets before either side latched, then after);
the AF_XDP path carried them (`xdp: ... tx=` in status grows by at least the packets sent after
latching); a stranger's packets are refused on both ports (RTP Bleed) and it receives nothing;
a STUN binding request on a relay port is answered with the sender's address; after delete,
packets to the freed port are no longer redirected (the xdp rx counter stands still).
With v6 (a relay whose interfaces are ::1): RTP both ways over IPv6 through AF_XDP and STUN.
Prints "ok ..." / "not ok ..." lines; exit 0 when every check passed.
"""
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_tool import benc, bdec  # noqa: E402

# the relay's ng address and the endpoints' addresses: loopback unless the environment says
# (the veth set-up of test_relay_xdp.sh)
NG = (os.environ.get("XDP_NG_HOST", "127.0.0.1"), int(sys.argv[1]))
CTL, SBCCTL = sys.argv[2], sys.argv[3]
A_ADDR = (os.environ.get("XDP_A", "127.0.0.1"), 21000)
B_ADDR = (os.environ.get("XDP_B", "127.0.0.2"), 21002)
X_ADDR = (os.environ.get("XDP_X", "127.0.0.3"), 21004)
failed = 0


def check(ok, what):
    global failed
    print(("ok " if ok else "not ok ") + what, flush=True)
    failed += 0 if ok else 1


def ng(d):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    cookie = os.urandom(6).hex().encode()
    s.sendto(cookie + b" " + benc(d), NG)
    data = s.recv(65535)
    s.close()
    return bdec(data.partition(b" ")[2])[0]


def sdp(ip, port):
    v = "IP6" if ":" in ip else "IP4"
    return ("v=0\r\no=- 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
            % (v, ip, v, ip, port))


def media(r):
    body = r.get(b"sdp", b"").decode()
    c = re.search(r"^c=IN IP[46] (\S+)", body, re.M)
    m = re.search(r"^m=audio (\d+)", body, re.M)
    if r.get(b"result") != b"ok" or not c or not m:
        sys.exit("ng failed: %r" % r)
    return c.group(1), int(m.group(1))


def xdp_status():
    out = subprocess.run([SBCCTL, "-s", CTL, "status"], capture_output=True, text=True).stdout
    m = re.search(r"^xdp: sockets=(\d+) rx=(\d+) tx=(\d+) slow=(\d+) dropped=(\d+) kernel_dropped=(\d+)", out, re.M)
    if not m:
        sys.exit("no xdp line in status:\n" + out)
    return dict(zip(("sockets", "rx", "tx", "slow", "dropped", "kdrop"), map(int, m.groups())))


def rtp(ssrc, seq, tag):
    return struct.pack("!BBHII", 0x80, 8, seq, seq * 160, ssrc) + tag.ljust(160, b".")


SO_RCVBUFFORCE = 33


def sock(addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET, socket.SOCK_DGRAM)
    # frames sent by AF_XDP in copy mode are charged more truesize than the kernel's own
    # datagrams: room for a whole exchange read only after it was sent
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    s.bind(addr)
    s.settimeout(0.5)
    return s


def drain(s, secs=0.5):
    got = []
    end = time.time() + secs
    while time.time() < end:
        try:
            got.append(s.recvfrom(4096))
        except socket.timeout:
            break
    return got


def exchange(a, b, to_a, to_b, n, first):
    for i in range(n):
        a.sendto(rtp(0xA, first + i, b"from-a"), to_a)
        b.sendto(rtp(0xB, first + i, b"from-b"), to_b)
        time.sleep(0.002)
    ra, rb = drain(a), drain(b)
    ok_a = [p for p, src in ra if src[:2] == to_a and p[12:18] == b"from-b"]
    ok_b = [p for p, src in rb if src[:2] == to_b and p[12:18] == b"from-a"]
    return len(ok_a), len(ok_b)


def stun_request():
    tid = os.urandom(12)
    return tid, struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid


def stun_mapped(resp, tid):
    if len(resp) < 20 or struct.unpack("!H", resp[:2])[0] != 0x0101 or resp[8:20] != tid:
        return None
    i = 20
    while i + 4 <= len(resp):
        t, ln = struct.unpack("!HH", resp[i:i + 4])
        if t == 0x0020:
            port = struct.unpack("!H", resp[i + 6:i + 8])[0] ^ 0x2112
            ip = bytes(x ^ y for x, y in zip(resp[i + 8:i + 12], b"\x21\x12\xa4\x42"))
            return socket.inet_ntoa(ip), port
        i += 4 + (ln + 3) // 4 * 4
    return None


def main():
    a, b, x = sock(A_ADDR), sock(B_ADDR), sock(X_ADDR)
    common = {"call-id": "xdp-1", "from-tag": "ta", "replace": ["origin"], "ICE": "remove"}
    o = ng(dict(common, command="offer", direction=["access", "core"],
                **{"received-from": ["IP4", A_ADDR[0]], "sdp": sdp(*A_ADDR)}))
    to_b = media(o)  # where B sends
    r = ng(dict(common, command="answer", direction=["core", "access"],
                **{"to-tag": "tb", "received-from": ["IP4", B_ADDR[0]], "sdp": sdp(*B_ADDR)}))
    to_a = media(r)  # where A sends
    before = xdp_status()
    check(before["sockets"] >= 1, "xdp engine runs: %r" % before)

    na, nb = exchange(a, b, to_a, to_b, 20, 1)
    check(na == 20 and nb == 20, "RTP both ways before and while latching (%d, %d of 20)" % (na, nb))
    mid = xdp_status()
    na, nb = exchange(a, b, to_a, to_b, 100, 100)
    after = xdp_status()
    check(na == 100 and nb == 100, "RTP both ways once latched (%d, %d of 100)" % (na, nb))
    check(after["tx"] - mid["tx"] >= 200 and after["rx"] - mid["rx"] >= 200,
          "AF_XDP carried them: rx %d -> %d, tx %d -> %d" % (mid["rx"], after["rx"],
                                                             mid["tx"], after["tx"]))

    # longer than an AF_XDP chunk takes: the program passes it, the UDP socket forwards it
    big = rtp(0xA, 250, b"big-a!") + bytes(1900 - 172)
    a.sendto(big, to_a)
    got = [p for p, src in drain(b, 0.5) if src == to_b and p[12:18] == b"big-a!"]
    check(len(got) == 1 and len(got[0]) == len(big),
          "a %d-byte datagram is forwarded through the socket path" % len(big))

    for i in range(20):
        x.sendto(rtp(0xBAD, i, b"bleed!"), to_a)
        x.sendto(rtp(0xBAD, i, b"bleed!"), to_b)
    na, nb = exchange(a, b, to_a, to_b, 10, 300)
    leaked = [p for p, _ in drain(a, 0.2) + drain(b, 0.2) if p[12:18] == b"bleed!"]
    check(not drain(x, 0.3), "the stranger receives nothing")
    check(na == 10 and nb == 10 and not leaked,
          "stranger's packets refused, media unchanged (%d, %d of 10, %d leaked)"
          % (na, nb, len(leaked)))
    check(xdp_status()["dropped"] - after["dropped"] >= 40, "the stranger's frames were dropped")

    tid, req = stun_request()
    a.sendto(req, to_a)
    got = drain(a, 0.5)
    mapped = [stun_mapped(p, tid) for p, src in got if src == to_a]
    check(A_ADDR in mapped, "STUN binding request answered with the sender's address: %r" % mapped)

    d = ng({"command": "delete", "call-id": "xdp-1", "from-tag": "ta"})
    check(d.get(b"result") == b"ok", "delete: %r" % d.get(b"result"))
    gone = xdp_status()
    for i in range(20):
        a.sendto(rtp(0xA, 500 + i, b"from-a"), to_a)
    time.sleep(0.3)
    late = xdp_status()
    check(late["rx"] == gone["rx"], "freed port no longer redirected: rx %d -> %d"
          % (gone["rx"], late["rx"]))
    return 1 if failed else 0


def main_v6():
    a, b = sock(("::1", 21010)), sock(("::1", 21012))
    common = {"call-id": "xdp-6", "from-tag": "ta", "replace": ["origin"], "ICE": "remove"}
    o = ng(dict(common, command="offer", direction=["access", "core"],
                **{"received-from": ["IP6", "::1"], "sdp": sdp("::1", 21010)}))
    to_b = media(o)
    r = ng(dict(common, command="answer", direction=["core", "access"],
                **{"to-tag": "tb", "received-from": ["IP6", "::1"], "sdp": sdp("::1", 21012)}))
    to_a = media(r)
    na, nb = exchange(a, b, to_a, to_b, 10, 1)
    mid = xdp_status()
    na2, nb2 = exchange(a, b, to_a, to_b, 50, 100)
    after = xdp_status()
    check(na == 10 and nb == 10 and na2 == 50 and nb2 == 50,
          "IPv6: RTP both ways (%d, %d of 10; %d, %d of 50)" % (na, nb, na2, nb2))
    check(after["tx"] - mid["tx"] >= 100, "IPv6: AF_XDP carried them: tx %d -> %d"
          % (mid["tx"], after["tx"]))
    tid, req = stun_request()
    a.sendto(req, to_a)
    got = [p for p, src in drain(a, 0.5) if src[:2] == to_a]
    check(any(len(p) >= 20 and p[8:20] == tid and p[:2] == b"\x01\x01" for p in got),
          "IPv6: STUN binding request answered")
    ng({"command": "delete", "call-id": "xdp-6", "from-tag": "ta"})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_v6() if sys.argv[4:] == ["v6"] else main())
