#!/usr/bin/env python3
"""A stand-in for our rtpengine's ng socket: answers ping, offer, answer and
delete (`result: ok`, the SDP unchanged), and, like our rtpengine does for
calls whose offer carried the flag `teardown-notify`, sends
`<cookie> d7:command8:teardown7:call-id...8:from-tag...6:reason7:timeoute`
to the sbc's ng socket TIMEOUT seconds after a call's answer. Logs one line
per event to stdout: "offer CALLID flags=...", "answer CALLID",
"teardown CALLID", "ack COOKIE RESULT", "delete CALLID". With REFUSE (offer or
answer) that command gets `result: error` ("no ports left") and logs
"refused COMMAND from-tag=TAG".

fake_ng.py PORT TIMEOUT_SECONDS [REFUSE]
"""
import socket
import sys
import time


def bdecode(b, i=0):
    c = b[i:i + 1]
    if c == b"d":
        i, d = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdecode(b, i)
            d[k], i = bdecode(b, i)
        return d, i + 1
    if c == b"l":
        i, lst = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdecode(b, i)
            lst.append(v)
        return lst, i + 1
    if c == b"i":
        e = b.index(b"e", i)
        return int(b[i + 1:e]), e + 1
    colon = b.index(b":", i)
    n = int(b[i:colon])
    return b[colon + 1:colon + 1 + n], colon + 1 + n


def bencode(v):
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in v.items()) + b"e"
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    raise TypeError(v)


port, timeout = int(sys.argv[1]), float(sys.argv[2])
refuse = sys.argv[3].encode() if len(sys.argv) > 3 else None
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(0.05)
due = {}  # call-id -> (time, address)
seen_flags = {}  # call-id -> the flags of its offer
seq = 0
while True:
    now = time.time()
    for cid, (t, addr) in list(due.items()):
        if now >= t:
            del due[cid]
            seq += 1
            msg = {b"command": b"teardown", b"call-id": cid, b"from-tag": b"a",
                   b"reason": b"timeout"}
            s.sendto(b"td-%d " % seq + bencode(msg), addr)
            print("teardown", cid.decode(), flush=True)
    try:
        data, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    cookie, _, body = data.partition(b" ")
    d, _ = bdecode(body)
    cmd = d.get(b"command")
    if cmd is None:
        print("ack", cookie.decode(), d.get(b"result", b"").decode(), flush=True)
        continue
    cid = d.get(b"call-id", b"")
    if cmd == refuse:
        print("refused", cmd.decode(), "from-tag=" + d.get(b"from-tag", b"").decode(), flush=True)
        s.sendto(cookie + b" " + bencode({b"result": b"error",
                                          b"error-reason": b"no ports left"}), addr)
        continue
    reply = {b"result": b"pong" if cmd == b"ping" else b"ok"}
    if b"sdp" in d:
        reply[b"sdp"] = d[b"sdp"]
    if cmd == b"offer":
        flags = b",".join(d.get(b"flags", []))
        print("offer", cid.decode(), "flags=" + flags.decode(), flush=True)
    elif cmd == b"answer":
        print("answer", cid.decode(), flush=True)
        if b"teardown-notify" in seen_flags.get(cid, []):
            due[cid] = (time.time() + timeout, addr)
    elif cmd == b"delete":
        print("delete", cid.decode(), flush=True)
        due.pop(cid, None)
    if cmd == b"offer":
        seen_flags[cid] = d.get(b"flags", [])
    s.sendto(cookie + b" " + bencode(reply), addr)
