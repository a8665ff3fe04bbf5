#!/usr/bin/env python3
"""relay_xfamily.py NG_PORT TCP_PORT: calls between an IPv4 and an IPv6 endpoint, against a relay
whose "access" interface has an IPv4 and whose "core" interface an IPv6 address
(test_relay_scenario.sh with CORE_IPV6=1; addresses: relay_util.py, the IPv6 ones from
RELAY_MEDIA_IP6 and RELAY_PEER_IP6).

  v4-v6  the caller A on IPv4, the callee B on IPv6 (direction access, core): B is offered
         `c=IN IP6` and the relay's IPv6 address, A answered `c=IN IP4` and its IPv4 address;
         A's RTP and RTCP reach B from the relay's IPv6 address and B's port on it, B's reach A
         from the relay's IPv4 address and A's port, the packets unchanged
  v6-v4  the same with the caller on IPv6 and the callee on IPv4 (direction core, access)

On the xdp backend (RELAY_CTL set, test_relay_scenario.sh with BACKEND=xdp) the xdp engine's
counters (relay_util.xdp_status) must show, for each run of 50 RTP and for each call as a
whole, every packet sent to the relay taken in by AF_XDP (rx) and sent on through the out
flow's UDP socket (slow: the frame cannot be rewritten in place into the other family), none
sent by AF_XDP (tx), none dropped (dropped, kernel_dropped).

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_util as ru  # noqa: E402
from relay_util import check, drain, port_of, recv, rtcp, rtp  # noqa: E402

NG = int(sys.argv[1])
RELAY_IP6 = os.environ.get("RELAY_MEDIA_IP6", "::1")
PEER_IP6 = os.environ.get("RELAY_PEER_IP6", "::1")
XDP = bool(os.environ.get("RELAY_CTL"))


class Side:
    """One endpoint: its family's addresses (its own, the relay's), RTP and RTCP sockets."""

    def __init__(self, v6):
        self.v6 = v6
        self.ip = PEER_IP6 if v6 else ru.PEER_IP
        self.relay = RELAY_IP6 if v6 else ru.RELAY_IP
        self.rtp, self.rtcp = self.port_pair()

    def sock(self, port):
        u = socket.socket(socket.AF_INET6 if self.v6 else socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((self.ip, port))
        u.settimeout(0.5)
        return u

    def port_pair(self):
        """Two sockets on consecutive ports (RTP, RTCP), as the SDP implies."""
        for p in range(40000 + os.getpid() % 1000 * 16, 60000, 2):
            try:
                a = self.sock(p)
            except OSError:
                continue
            try:
                return a, self.sock(p + 1)
            except OSError:
                a.close()
        raise RuntimeError("no free port pair")

    def sdp(self):
        fam = "IP6" if self.v6 else "IP4"
        return ("v=0\r\no=- 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
                "m=audio %d RTP/AVP 0\r\na=sendrecv\r\n"
                % (fam, self.ip, fam, self.ip, self.rtp.getsockname()[1]))

    def rf(self):
        return ["IP6" if self.v6 else "IP4", self.ip]

    def stream(self, port, ssrc, n=5):
        """@n RTP packets 20 ms apart to the relay's @port; the packets."""
        sent = [rtp(ssrc, seq) for seq in range(1, n + 1)]
        for pkt in sent:
            self.rtp.sendto(pkt, (self.relay, port))
            time.sleep(0.02)
        return sent

    def close(self):
        self.rtp.close()
        self.rtcp.close()


def check_conn(reply, to, what):
    """Checks that the SDP of @reply (for @to) has the c= line of the relay's address of @to's
    family."""
    c = ""
    for line in reply.get(b"sdp", b"").decode().split("\r\n"):
        if line.startswith("c="):
            c = line
            break
    fam = "IP6" if to.v6 else "IP4"
    good = c.startswith("c=IN %s " % fam) and same_ip(c.split()[-1], to.relay)
    check(good, "%s c=IN %s %s%s" % (what, fam, to.relay, "" if good else " (got %r)" % c))


def same_ip(a, b):
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    try:
        return socket.inet_pton(fam, a) == socket.inet_pton(fam, b)
    except OSError:
        return False


def relayed(to, rtcp_too, sent, src_ip, src_port, what):
    """Checks that one of @sent arrives on @to's RTP socket (or RTCP socket) from
    src_ip:src_port."""
    pkt, src = recv(to.rtcp if rtcp_too else to.rtp)
    check(pkt in sent, what + " arrives unchanged")
    good = src is not None and same_ip(src[0], src_ip) and src[1] == src_port
    check(good, "... from the relay's %s [%s]:%d%s" % ("IPv6" if ":" in src_ip else "IPv4",
                                                       src_ip, src_port,
                                                       "" if good else " (got %s)" % (src,)))


def xdp_took(before, n, what):
    """On the xdp backend: the @n packets sent to the relay since the counters were @before
    (xdp_status) came in through AF_XDP and left through the UDP sockets, none dropped."""
    if not XDP:
        return
    after = ru.xdp_status()
    if before is None or after is None:
        check(False, "%s: the xdp engine's counters in the relay's status" % what)
        return
    d = {k: after[k] - before[k] for k in after}
    good = (d["rx"] == n and d["slow"] == n and d["tx"] == 0 and d["dropped"] == 0
            and d["kernel_dropped"] == 0)
    check(good, "%s: xdp took %d in, sent them through the UDP sockets, dropped none "
          "(rx +%d slow +%d tx +%d dropped +%d kernel_dropped +%d)"
          % (what, n, d["rx"], d["slow"], d["tx"], d["dropped"], d["kernel_dropped"]))


def call(name, a_v6):
    """A (IPv6 when @a_v6) calls B (the other family); media both ways."""
    A, B = Side(a_v6), Side(not a_v6)
    fa, fb = ("IPv6", "IPv4") if a_v6 else ("IPv4", "IPv6")
    direction = ["core", "access"] if a_v6 else ["access", "core"]
    cid = "xfamily-" + name
    o = ru.ng(NG, {"command": "offer", "call-id": cid, "from-tag": "ta", "received-from": A.rf(),
                   "direction": direction, "sdp": A.sdp()})
    check(o.get(b"result") == b"ok", "%s: offer from the %s caller: %s"
          % (name, fa, o.get(b"error-reason", o.get(b"result"))))
    check_conn(o, B, "%s: the %s callee is offered" % (name, fb))
    pb = port_of(o) if o.get(b"sdp") else 0
    a = ru.ng(NG, {"command": "answer", "call-id": cid, "from-tag": "ta", "to-tag": "tb",
                   "received-from": B.rf(), "sdp": B.sdp()})
    check(a.get(b"result") == b"ok", "%s: answer from the %s callee: %s"
          % (name, fb, a.get(b"error-reason", a.get(b"result"))))
    check_conn(a, A, "%s: the %s caller is answered" % (name, fa))
    pa = port_of(a) if a.get(b"sdp") else 0
    if not (pa and pb):
        check(False, "%s: relay ports in both SDPs (%d, %d)" % (name, pa, pb))
        return
    x_call = ru.xdp_status() if XDP else None

    # a stream, not one packet: the DPDK backend drops what it sends to a next hop it has
    # not resolved yet (ARP / neighbour solicitation first, dataplane/dpdk/neigh.c)
    relayed(B, False, A.stream(pa, 0xA), B.relay, pb, "%s: the %s caller's RTP" % (name, fa))
    drain(B.rtp)
    relayed(A, False, B.stream(pb, 0xB), A.relay, pa, "%s: the %s callee's RTP" % (name, fb))
    drain(A.rtp)
    p = rtcp(0xA)
    A.rtcp.sendto(p, (A.relay, pa + 1))
    relayed(B, True, [p], B.relay, pb + 1, "%s: the caller's RTCP" % name)
    p = rtcp(0xB)
    B.rtcp.sendto(p, (B.relay, pb + 1))
    relayed(A, True, [p], A.relay, pa + 1, "%s: the callee's RTCP" % name)
    # a longer run each way: none lost on loopback or the veth
    for side, other, port, ssrc in ((A, B, pa, 0xA), (B, A, pb, 0xB)):
        drain(other.rtp)
        x_run = ru.xdp_status() if XDP else None
        for seq in range(2, 52):
            side.rtp.sendto(rtp(ssrc, seq), (side.relay, port))
        n = 0
        while recv(other.rtp)[0] is not None:
            n += 1
        check(n == 50, "%s: 50 RTP from the %s side, %d arrive"
              % (name, "IPv6" if side.v6 else "IPv4", n))
        xdp_took(x_run, 50, "%s: the %s side's 50 RTP" % (name, "IPv6" if side.v6 else "IPv4"))
    # 5 RTP and 1 RTCP each way, then the two runs of 50
    xdp_took(x_call, 2 * (5 + 1 + 50), "%s: the call's RTP and RTCP" % name)
    d = ru.ng(NG, {"command": "delete", "call-id": cid, "from-tag": "ta"})
    check(d.get(b"result") == b"ok", "%s: delete" % name)
    A.close()
    B.close()


call("v4-v6", False)
call("v6-v4", True)
sys.exit(1 if ru.failures else 0)
