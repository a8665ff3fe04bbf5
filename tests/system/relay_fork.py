"""relay_fork.py NG_PORT TCP_PORT: forked calls against a relay (RTP from sockets whose
addresses the SDPs carry; addresses: relay_util.py).

  branches  the offer sent per branch (via-branch, as Kamailio forking before the relay): each
            fork gets its own port, the caller one; both forks' early media (after their 183)
            reach the caller; the caller's media go to the fork that answered last; a delete
            of the losing fork's to-tag frees its port, the winner's media go on both ways
  shared    one offer, two answers with different to-tags (forked after the relay): both forks
            were sent the same port; the caller's media go to the last answer, and to the
            other fork once the last one is deleted

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_util as ru  # noqa: E402
from relay_util import check, drain, got, port_of, rtp, sdp, udp  # noqa: E402

NG = int(sys.argv[1])
RF = ru.RF


def send(u, port, ssrc):
    ru.send(u, port, rtp(ssrc, 1))


def cmd(command, cid, **kw):
    d = {"command": command, "call-id": cid, "from-tag": "ta", "received-from": RF}
    d.update({k.replace("_", "-"): v for k, v in kw.items()})
    r = ru.ng(NG, d)
    if r.get(b"result") != b"ok":
        print("FAIL: %s %s: %r" % (command, cid, r))
        sys.exit(1)
    return r


def branches():
    cid = "fork-branches"
    A, F1, F2 = udp(), udp(), udp()
    p1 = port_of(cmd("offer", cid, sdp=sdp(A), via_branch="z9hG4bK.b1"))
    p2 = port_of(cmd("offer", cid, sdp=sdp(A), via_branch="z9hG4bK.b2"))
    check(p1 != p2, "each branch's offer has its own port (%d, %d)" % (p1, p2))
    # 183s with SDP: until its SDP is known a fork's port learns nobody (RTP Bleed)
    a1 = port_of(cmd("answer", cid, to_tag="t1", via_branch="z9hG4bK.b1", sdp=sdp(F1)))
    a2 = port_of(cmd("answer", cid, to_tag="t2", via_branch="z9hG4bK.b2", sdp=sdp(F2)))
    check(a1 == a2, "both answers give the caller the same port")
    send(F1, p1, 0x1111)
    check(got(A), "early media of fork 1 reach the caller")
    drain(A)
    send(F2, p2, 0x2222)
    check(got(A), "early media of fork 2 reach the caller")
    drain(A)
    send(A, a2, 0xAAAA)
    check(got(F2), "the caller's media reach the fork that answered last")
    check(not got(F1), "the other fork gets none")
    cmd("delete", cid, to_tag="t1", via_branch="z9hG4bK.b1")
    q = cmd("query", cid)
    check(sorted(q.get(b"tags", {}).keys()) == [b"t2", b"ta"], "the losing fork is gone")
    drain(A)
    send(F1, p1, 0x1111)
    check(not got(A), "the losing fork's port is closed")
    send(F2, p2, 0x2222)
    check(got(A), "the winner's media reach the caller")
    drain(F2)
    send(A, a2, 0xAAAA)
    check(got(F2), "the caller's media reach the winner")
    cmd("delete", cid)


def shared():
    cid = "fork-shared"
    A, F1, F2 = udp(), udp(), udp()
    pb = port_of(cmd("offer", cid, sdp=sdp(A)))
    a1 = port_of(cmd("answer", cid, to_tag="t1", sdp=sdp(F1)))
    a2 = port_of(cmd("answer", cid, to_tag="t2", sdp=sdp(F2)))
    check(a1 == a2, "shared offer: both answers give the caller the same port")
    send(A, a2, 0xAAAA)
    check(got(F2), "shared offer: the caller's media reach the last answer")
    check(not got(F1), "shared offer: the other fork gets none")
    q = cmd("query", cid)
    check(sorted(q.get(b"tags", {}).keys()) == [b"t1", b"t2", b"ta"],
          "shared offer: one monologue per to-tag")
    cmd("delete", cid, to_tag="t2")
    drain(F2)
    send(A, a2, 0xAAAA)
    check(got(F1), "shared offer: with the last answer deleted, the fork left gets the media")
    send(F1, pb, 0x1111)
    check(got(A), "shared offer: the fork left reaches the caller")
    cmd("delete", cid)


for t in (branches, shared):
    t()
sys.exit(1 if ru.failures else 0)
