#!/usr/bin/env python3
"""relay_latch.py NG_PORT: latching scenarios against a relay on 127.0.0.1 whose latch window
is 1 s (RTP from loopback sockets; the SDP addresses are private, so only latching delivers).

  ring     the callee answers 2 s after the offer (longer than the window): media both ways
  reinvite the caller re-offers with a new SDP port and sends from a new socket (new NAT
           mapping): the callee's media reach the new socket
  bleed    no received-from: a sprayer hits the callee's port before the answer; after it the
           callee gets the caller's media, the sprayer nothing
  tags     an answer with an unknown from-tag is an error and renames nobody

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_tool import benc, bdec  # noqa: E402

NG = ("127.0.0.1", int(sys.argv[1]))
RF = ["IP4", "127.0.0.1"]
failures = 0


def ng(d):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    cookie = b"c%d " % random.randrange(1 << 30)
    s.sendto(cookie + benc(d), NG)
    r = s.recv(65536)
    s.close()
    return bdec(r[r.index(b" ") + 1:])[0]


def sdp(ip, port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n" % (ip, ip, port))


def port_of(s):
    for line in s.decode().split("\r\n"):
        if line.startswith("m="):
            return int(line.split()[1])
    return 0


def rtp(ssrc, seq):
    return bytes([0x80, 0, seq >> 8, seq & 255, 0, 0, 0, 0]) + ssrc.to_bytes(4, "big") + b"x" * 160


def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(0.5)
    return u


def got(u):
    try:
        u.recvfrom(4096)
        return True
    except socket.timeout:
        return False


def drain(u):
    u.settimeout(0.05)
    while got(u):
        pass
    u.settimeout(0.5)


def send(u, port, ssrc, n=3):
    for i in range(n):
        u.sendto(rtp(ssrc, i), ("127.0.0.1", port))
        time.sleep(0.02)


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1


def call(cid, a_sdp, b_sock, delay=0.0, rf=True):
    extra = {"received-from": RF} if rf else {}
    o = ng(dict(command="offer", **{"call-id": cid, "from-tag": "ta", "sdp": a_sdp}, **extra))
    time.sleep(delay)
    a = ng(dict(command="answer", **{"call-id": cid, "from-tag": "ta", "to-tag": "tb",
                                     "sdp": sdp("127.0.0.1", b_sock.getsockname()[1])}, **extra))
    return port_of(o[b"sdp"]), port_of(a[b"sdp"])


def ring():
    A, B = udp(), udp()
    bport, aport = call("latch-ring", sdp("192.168.1.10", 5000), B, delay=2.0)
    send(A, aport, 0xAAAA)
    check(got(B), "ring > window: callee gets the caller's media")
    send(B, bport, 0xBBBB)
    check(got(A), "ring > window: caller gets the callee's media")


def reinvite():
    A, A2, B = udp(), udp(), udp()
    bport, aport = call("latch-reinvite", sdp("192.168.1.10", 5000), B)
    send(A, aport, 0xAAAA)
    send(B, bport, 0xBBBB)
    drain(A)
    drain(B)
    ng({"command": "offer", "call-id": "latch-reinvite", "from-tag": "ta", "to-tag": "tb",
        "sdp": sdp("192.168.1.10", 5002), "received-from": RF})
    ng({"command": "answer", "call-id": "latch-reinvite", "from-tag": "ta", "to-tag": "tb",
        "sdp": sdp("127.0.0.1", B.getsockname()[1]), "received-from": RF})
    send(A2, aport, 0xCCCC)
    drain(B)
    send(B, bport, 0xBBBB)
    check(got(A2), "re-INVITE, new NAT port: the new socket gets the callee's media")


def bleed():
    A, B, X = udp(), udp(), udp()
    o = ng({"command": "offer", "call-id": "latch-bleed", "from-tag": "ta",
            "sdp": sdp("192.168.1.10", 5000)})
    bport = port_of(o[b"sdp"])
    send(X, bport, 0x666)
    a = ng({"command": "answer", "call-id": "latch-bleed", "from-tag": "ta", "to-tag": "tb",
            "sdp": sdp("192.168.2.20", 6000)})
    aport = port_of(a[b"sdp"])
    send(B, bport, 0xBBBB)
    send(A, aport, 0xAAAA)
    check(not got(X), "no received-from: the sprayer gets nothing")
    check(got(B), "no received-from: the callee gets the caller's media")


def tags():
    B = udp()
    call("latch-tags", sdp("192.168.1.10", 5000), B)
    x = ng({"command": "answer", "call-id": "latch-tags", "from-tag": "zz", "to-tag": "tb",
            "sdp": sdp("127.0.0.1", 7000)})
    check(x.get(b"result") == b"error", "answer with an unknown from-tag: error")
    q = ng({"command": "query", "call-id": "latch-tags"})
    check(sorted(q.get(b"tags", {}).keys()) == [b"ta", b"tb"], "tags unchanged")


for t in (ring, reinvite, bleed, tags):
    t()
sys.exit(1 if failures else 0)
