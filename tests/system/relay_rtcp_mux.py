#!/usr/bin/env python3
"""relay_rtcp_mux.py NG_PORT TCP_PORT: RTCP multiplexed on one side only, against a relay
(addresses: relay_util.py). The caller A multiplexes RTCP on its RTP port (a=rtcp-mux) and the
offer says `rtcp-mux: demux`: the callee B is offered no mux and sends RTCP on its own port
(RTP + 1).

  the answer to A keeps a=rtcp-mux; A's RTP reaches B's RTP port, A's RTCP B's RTCP port (not
  its RTP port); B's RTCP and RTP both reach A's one port, from A's relay port

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import random
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_util as ru  # noqa: E402
from relay_util import check, drain, port_of, recv, rtcp, rtp, sdp, udp  # noqa: E402

NG = int(sys.argv[1])
RF = ru.RF


def port_pair():
    """Two sockets on consecutive ports: B's RTP and RTCP."""
    for _ in range(100):
        p = random.randrange(40000, 60000, 2)
        try:
            a = udp(p)
        except OSError:
            continue
        try:
            return a, udp(p + 1)
        except OSError:
            a.close()
    raise RuntimeError("no free port pair")


def main():
    cid = "rtcp-demux"
    A = udp()
    B, Bc = port_pair()
    o = ru.ng(NG, {"command": "offer", "call-id": cid, "from-tag": "ta", "received-from": RF,
                   "rtcp-mux": ["demux"], "sdp": sdp(A, "a=rtcp-mux\r\n")})
    check(o.get(b"result") == b"ok" and b"a=rtcp-mux" not in o[b"sdp"],
          "the callee is offered no rtcp-mux")
    pb = port_of(o)
    a = ru.ng(NG, {"command": "answer", "call-id": cid, "from-tag": "ta", "to-tag": "tb",
                   "received-from": RF, "sdp": sdp(B)})
    check(a.get(b"result") == b"ok" and b"a=rtcp-mux" in a[b"sdp"],
          "the caller keeps rtcp-mux")
    pa = port_of(a)

    ru.send(A, pa, rtp(0xA, 1))
    pkt, _ = recv(B)
    check(pkt is not None and pkt[1] == 0, "the caller's RTP reaches the callee's RTP port")
    drain(B)
    ru.send(A, pa, rtcp(0xA))
    pkt, src = recv(Bc)
    check(pkt is not None and pkt[1] == 201, "the caller's muxed RTCP reaches the callee's RTCP port")
    check(src is not None and src[1] == pb + 1, "... from the relay's RTCP port")
    check(recv(B)[0] is None, "... and not its RTP port")

    ru.send(Bc, pb + 1, rtcp(0xB))
    pkt, src = recv(A)
    check(pkt is not None and pkt[1] == 201, "the callee's RTCP reaches the caller's one port")
    check(src is not None and src[1] == pa, "... from the caller's relay port")
    drain(A)
    ru.send(B, pb, rtp(0xB, 1))
    pkt, src = recv(A)
    check(pkt is not None and pkt[1] == 0 and src[1] == pa, "the callee's RTP reaches the caller")
    ru.ng(NG, {"command": "delete", "call-id": cid, "from-tag": "ta"})
    for s in (A, B, Bc):
        s.close()


main()
sys.exit(1 if ru.failures else 0)
