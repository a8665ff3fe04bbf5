#!/usr/bin/env python3
"""ng_tool.py: one ng (bencode over UDP) request to a media relay, the reply as JSON.

  ng_tool.py HOST:PORT '{"command": "offer", ...}'   JSON object -> bencoded dictionary
  ng_tool.py --raw HOST:PORT 'BYTES'                  BYTES sent as they are, after a cookie
  ng_tool.py --raw-whole HOST:PORT 'BYTES'            BYTES sent as they are, no cookie added

Prints the reply's dictionary as one JSON line (bencode strings decoded as UTF-8 with
replacement, integers as numbers); an undecodable reply prints {"undecodable": "..."}.
Exit 0 on any reply, 1 on timeout (NG_TOOL_TIMEOUT_S, default 2 s) or socket error, 2 on usage.
Used by the relay tests (tests/system/test_relay_*.sh, tests/integration/test_relay_nat.sh,
tests/bench/bench_relay.sh) against either relay implementation.
"""
import json
import os
import socket
import sys


def benc(v):
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        out = b"d"
        for k in sorted(v):
            out += benc(k) + benc(v[k])
        return out + b"e"
    raise TypeError(type(v))


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while b[i:i + 1] != b"e":
            if i >= len(b):
                raise ValueError("truncated")
            v, i = bdec(b, i)
            items.append(v)
        if c == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2])), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    if j + 1 + n > len(b):
        raise ValueError("truncated string")
    return b[j + 1:j + 1 + n], j + 1 + n


def tojson(v):
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, list):
        return [tojson(x) for x in v]
    if isinstance(v, dict):
        return {tojson(k): tojson(x) for k, x in v.items()}
    return v


def main():
    args = sys.argv[1:]
    mode = "json"
    if args and args[0] in ("--raw", "--raw-whole"):
        mode = args.pop(0)
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    host, _, port = args[0].rpartition(":")
    cookie = os.urandom(6).hex().encode()
    if mode == "json":
        payload = cookie + b" " + benc(json.loads(args[1]))
    elif mode == "--raw":
        payload = cookie + b" " + args[1].encode()
    else:
        payload = args[1].encode()
    s = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.settimeout(float(os.environ.get("NG_TOOL_TIMEOUT_S", "2")))
    try:
        s.sendto(payload, (host.strip("[]"), int(port)))
        data = s.recv(65535)
    except OSError as e:
        print("ng_tool: %s" % e, file=sys.stderr)
        return 1
    _, _, body = data.partition(b" ")
    try:
        reply, _ = bdec(body)
        print(json.dumps(tojson(reply)))
    except (ValueError, IndexError):
        print(json.dumps({"undecodable": data.decode(errors="replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
