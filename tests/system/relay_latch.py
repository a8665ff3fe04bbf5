#!/usr/bin/env python3
"""relay_latch.py NG_PORT: latching scenarios against a relay whose latch window is 1 s (RTP
from the endpoints' sockets; the SDP addresses are private, so only latching delivers;
addresses: relay_util.py).

  ring     the callee answers 2 s after the offer (longer than the window): media both ways
  reinvite the caller re-offers with a new SDP port and sends from a new socket (new NAT
           mapping): the callee's media reach the new socket
  bleed    no received-from: a sprayer hits the callee's port before the answer; after it the
           callee gets the caller's media, the sprayer nothing
  tags     an answer with an unknown from-tag is an error and renames nobody

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_util as ru  # noqa: E402
from relay_util import check, drain, got, port_of, rtp, sdp_at, udp  # noqa: E402

NG = int(sys.argv[1])
RF = ru.RF


def ng(d):
    return ru.ng(NG, d)


def send(u, port, ssrc, n=3):
    for i in range(n):
        ru.send(u, port, rtp(ssrc, i), n=1)


def call(cid, a_sdp, b_sock, delay=0.0, rf=True):
    extra = {"received-from": RF} if rf else {}
    o = ng(dict(command="offer", **{"call-id": cid, "from-tag": "ta", "sdp": a_sdp}, **extra))
    time.sleep(delay)
    a = ng(dict(command="answer", **{"call-id": cid, "from-tag": "ta", "to-tag": "tb",
                                     "sdp": sdp_at(ru.PEER_IP, b_sock.getsockname()[1])},
                **extra))
    return port_of(o), port_of(a)


def ring():
    A, B = udp(), udp()
    bport, aport = call("latch-ring", sdp_at("192.168.1.10", 5000), B, delay=2.0)
    send(A, aport, 0xAAAA)
    check(got(B), "ring > window: callee gets the caller's media")
    send(B, bport, 0xBBBB)
    check(got(A), "ring > window: caller gets the callee's media")


def reinvite():
    A, A2, B = udp(), udp(), udp()
    bport, aport = call("latch-reinvite", sdp_at("192.168.1.10", 5000), B)
    send(A, aport, 0xAAAA)
    send(B, bport, 0xBBBB)
    drain(A)
    drain(B)
    ng({"command": "offer", "call-id": "latch-reinvite", "from-tag": "ta", "to-tag": "tb",
        "sdp": sdp_at("192.168.1.10", 5002), "received-from": RF})
    ng({"command": "answer", "call-id": "latch-reinvite", "from-tag": "ta", "to-tag": "tb",
        "sdp": sdp_at(ru.PEER_IP, B.getsockname()[1]), "received-from": RF})
    send(A2, aport, 0xCCCC)
    drain(B)
    send(B, bport, 0xBBBB)
    check(got(A2), "re-INVITE, new NAT port: the new socket gets the callee's media")


def bleed():
    A, B, X = udp(), udp(), udp()
    o = ng({"command": "offer", "call-id": "latch-bleed", "from-tag": "ta",
            "sdp": sdp_at("192.168.1.10", 5000)})
    bport = port_of(o)
    send(X, bport, 0x666)
    a = ng({"command": "answer", "call-id": "latch-bleed", "from-tag": "ta", "to-tag": "tb",
            "sdp": sdp_at("192.168.2.20", 6000)})
    aport = port_of(a)
    send(B, bport, 0xBBBB)
    send(A, aport, 0xAAAA)
    check(not got(X), "no received-from: the sprayer gets nothing")
    check(got(B), "no received-from: the callee gets the caller's media")


def tags():
    B = udp()
    call("latch-tags", sdp_at("192.168.1.10", 5000), B)
    x = ng({"command": "answer", "call-id": "latch-tags", "from-tag": "zz", "to-tag": "tb",
            "sdp": sdp_at(ru.PEER_IP, 7000)})
    check(x.get(b"result") == b"error", "answer with an unknown from-tag: error")
    q = ng({"command": "query", "call-id": "latch-tags"})
    check(sorted(q.get(b"tags", {}).keys()) == [b"ta", b"tb"], "tags unchanged")


for t in (ring, reinvite, bleed, tags):
    t()
sys.exit(1 if ru.failures else 0)
