"""relay_util.py: what the relay scenarios (relay_*.py, run by test_relay_scenario.sh) share:
ng over UDP, the endpoints' sockets, RTP/RTCP packets, and the ok/FAIL report.

Addresses come from the environment, all 127.0.0.1 by default (the relay on loopback):
RELAY_NG_HOST the relay's ng address, RELAY_MEDIA_IP its media (interface) address,
RELAY_PEER_IP the address every endpoint of the scenario binds and puts in its SDP (the relay
on DPDK: test_relay_scenario.sh with BACKEND=dpdk, the endpoints in a namespace of their own).
With BACKEND=xdp, RELAY_CTL (the relay's control socket) and RELAY_SBCCTL (sbcctl) let
xdp_status() read the xdp engine's counters."""
import os
import random
import re
import socket
import subprocess
import time

from ng_tool import benc, bdec

failures = 0
NG_HOST = os.environ.get("RELAY_NG_HOST", "127.0.0.1")
RELAY_IP = os.environ.get("RELAY_MEDIA_IP", "127.0.0.1")
PEER_IP = os.environ.get("RELAY_PEER_IP", "127.0.0.1")
RF = ["IP4", PEER_IP]  # received-from: where the signalling came from


def ng(port, d):
    """One ng command over UDP to NG_HOST:port; the reply dict (bytes keys)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    cookie = b"c%d " % random.randrange(1 << 30)
    s.sendto(cookie + benc(d), (NG_HOST, port))
    r = s.recv(65536)
    s.close()
    return bdec(r[r.index(b" ") + 1:])[0]


def udp(port=0):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((PEER_IP, port))
    u.settimeout(0.5)
    return u


def sdp_at(ip, port, extra=""):
    """An audio SDP on @ip and @port, plus @extra attribute lines."""
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=sendrecv\r\n%s" % (ip, ip, port, extra))


def sdp(sock, extra=""):
    """An audio SDP on @sock's address and port, plus @extra attribute lines."""
    return sdp_at(PEER_IP, sock.getsockname()[1], extra)


def port_of(reply):
    for line in reply[b"sdp"].decode().split("\r\n"):
        if line.startswith("m="):
            return int(line.split()[1])
    return 0


def rtp(ssrc, seq):
    return bytes([0x80, 0, seq >> 8, seq & 255, 0, 0, 0, 0]) + ssrc.to_bytes(4, "big") + b"x" * 160


def rtcp(ssrc):
    """An RTCP receiver report (PT 201)."""
    return bytes([0x80, 201, 0, 1]) + ssrc.to_bytes(4, "big")


def recv(u):
    """The next datagram on @u (0.5 s at most) as (bytes, source), or (None, None)."""
    try:
        return u.recvfrom(4096)
    except socket.timeout:
        return None, None


def got(u):
    return recv(u)[0] is not None


def drain(u):
    u.settimeout(0.05)
    while got(u):
        pass
    u.settimeout(0.5)


def send(u, port, pkt, n=3):
    for _ in range(n):
        u.sendto(pkt, (RELAY_IP, port))
        time.sleep(0.02)


def xdp_status():
    """The xdp engine's counters from the relay's status (rx, tx, slow, dropped, kernel_dropped),
    or None when the relay is not on the xdp backend (no RELAY_CTL) or status has no xdp line."""
    ctl, sbcctl = os.environ.get("RELAY_CTL"), os.environ.get("RELAY_SBCCTL")
    if not ctl or not sbcctl:
        return None
    out = subprocess.run([sbcctl, "-s", ctl, "status"], capture_output=True, text=True).stdout
    m = re.search(r"^xdp: sockets=\d+ rx=(\d+) tx=(\d+) slow=(\d+) dropped=(\d+) "
                  r"kernel_dropped=(\d+)", out, re.M)
    if not m:
        return None
    return dict(zip(("rx", "tx", "slow", "dropped", "kernel_dropped"), map(int, m.groups())))


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1
