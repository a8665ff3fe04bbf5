#!/usr/bin/env python3
"""One command to baresip's ctrl_tcp module (netstring-framed JSON) on 127.0.0.1.

baresip_ctl.py PORT COMMAND [PARAMS]
Prints the response's data; exit 0 when baresip says ok, 1 when not, 2 when the
connection closed before the response.
"""
import json
import socket
import sys

port, cmd = int(sys.argv[1]), sys.argv[2]
msg = {"command": cmd, "token": "t"}
if len(sys.argv) > 3:
    msg["params"] = sys.argv[3]
data = json.dumps(msg).encode()
s = socket.create_connection(("127.0.0.1", port), timeout=8)
s.sendall(b"%d:%s," % (len(data), data))
buf = b""
while True:
    while b":" in buf:
        n, _, rest = buf.partition(b":")
        n = int(n)
        if len(rest) < n + 1:
            break
        obj = json.loads(rest[:n])
        buf = rest[n + 1:]
        if obj.get("response"):
            print(obj.get("data", ""))
            sys.exit(0 if obj.get("ok") else 1)
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(2)
    buf += chunk
