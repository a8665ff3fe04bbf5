#!/usr/bin/env python3
"""relay_ng_tcp_notify.py NG_PORT TCP_PORT: teardown notifications over ng TCP, against a relay
(addresses: relay_util.py) whose offer timeout is 1 s.

  an offer with the flag teardown-notify over a TCP connection, never answered: the relay
  sends "<cookie> d7:command8:teardown...e" on that connection (reason offer-timeout); the
  client's answer to it gets no answer

Prints "ok: ..." / "FAIL: ..." per check; exit 0 when all pass, 1 otherwise.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay_util as ru  # noqa: E402
from ng_tool import bdec, benc  # noqa: E402
from relay_util import check, sdp, udp  # noqa: E402

TCP = int(sys.argv[2])


def read_frame(s, buf, timeout):
    """The next "<cookie> <dict>" on @s: (cookie, dict, rest of buf), or None on timeout."""
    end = time.monotonic() + timeout
    while True:
        sp = buf.find(b" ")
        if sp > 0:
            try:
                d, n = bdec(buf, sp + 1)
                return buf[:sp], d, buf[n:]
            except (ValueError, IndexError):
                pass
        left = end - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return None
        if not chunk:
            return None
        buf += chunk


def main():
    s = socket.create_connection((ru.NG_HOST, TCP), timeout=2)
    A = udp()
    s.sendall(b"o1 " + benc({"command": "offer", "call-id": "tcp-td", "from-tag": "ta",
                             "flags": ["teardown-notify"], "sdp": sdp(A)}))
    f = read_frame(s, b"", 2)
    check(f is not None and f[0] == b"o1" and f[1].get(b"result") == b"ok", "offer over TCP")
    f = read_frame(s, f[2] if f else b"", 5)
    check(f is not None and f[1].get(b"command") == b"teardown", "teardown on the connection")
    if f is None:
        return
    check(f[1].get(b"call-id") == b"tcp-td" and f[1].get(b"from-tag") == b"ta",
          "... naming the call and its from-tag")
    check(f[1].get(b"reason") == b"offer-timeout", "... with reason offer-timeout")
    s.sendall(f[0] + b" " + benc({"result": "ok"}))
    check(read_frame(s, f[2], 0.5) is None, "the client's answer to it gets no answer")
    s.close()


main()
sys.exit(1 if ru.failures else 0)
