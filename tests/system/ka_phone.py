#!/usr/bin/env python3
"""A phone behind NAT that registers (TCP or UDP), answers the SBC's CRLF
keep-alives (RFC 5626: a CRLF pong to each CRLFCRLF ping) for a while, then
goes silent without closing anything, as a phone whose NAT mapping or process
died would look from the SBC.

ka_phone.py HOST PORT tcp|udp USER DOMAIN PASSWORD PONG_SECONDS TOTAL_SECONDS
Prints "registered", then "pongs N silent" when it stops answering; exits 0
after TOTAL_SECONDS (the socket stays open until then).
"""
import hashlib
import random
import re
import select
import socket
import sys
import time

host, port, proto, user, domain, password = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
pong_s, total_s = float(sys.argv[7]), float(sys.argv[8])
if proto == "tcp":
    sock = socket.create_connection((host, port), timeout=10)
else:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((host, port))
local_ip, local_port = sock.getsockname()[:2]
buf = b""
pings = 0


def recv_some(timeout):
    """More bytes (TCP) or one datagram (UDP); b"" on timeout."""
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return b""
    data = sock.recv(65536)
    if not data and proto == "tcp":
        sys.exit("connection closed by the sbc")
    return data


def read_response(deadline):
    """The next SIP message, skipping keep-alives; None at the deadline."""
    global buf
    while time.time() < deadline:
        while buf.startswith(b"\r\n"):
            buf = buf[2:]
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            clen = int(m.group(1)) if m else 0
            if len(buf) >= end + 4 + clen:
                buf = buf[end + 4 + clen:]
                return head
        buf += recv_some(0.2)
    return None


def register(cseq, auth=None):
    branch = "z9hG4bK" + str(random.getrandbits(48))
    msg = (f"REGISTER sip:{domain} SIP/2.0\r\n"
           f"Via: SIP/2.0/{proto.upper()} {local_ip}:{local_port};branch={branch};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{user}@{domain}>;tag=kaphone\r\n"
           f"To: <sip:{user}@{domain}>\r\nCall-ID: kaphone-{user}-{local_port}\r\n"
           f"CSeq: {cseq} REGISTER\r\n"
           f"Contact: <sip:{user}@{local_ip}:{local_port};transport={proto}>;expires=300\r\n")
    if auth:
        msg += f"Authorization: {auth}\r\n"
    sock.sendall((msg + "Content-Length: 0\r\n\r\n").encode())
    while True:
        head = read_response(time.time() + 5)
        if head is None:
            sys.exit("no response to REGISTER")
        if not head.startswith("SIP/2.0 1"):
            return head


def digest(challenge):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    uri, cnonce, nc = f"sip:{domain}", "0a4f113b", "00000001"
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    ha1 = h(f"{user}:{params['realm']}:{password}")
    resp = h(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{h(f'REGISTER:{uri}')}")
    return (f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{resp}", algorithm=MD5, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"')


head = register(1)
m = re.search(r"(?im)^WWW-Authenticate\s*:\s*(.*)$", head)
if head.startswith("SIP/2.0 401") and m:
    head = register(2, digest(m.group(1)))
if not head.startswith("SIP/2.0 200"):
    sys.exit("REGISTER: " + head.splitlines()[0])
print("registered", flush=True)

start = time.time()
silent = False
while time.time() - start < total_s:
    data = recv_some(0.2)
    if proto == "udp":
        is_ping = data.startswith(b"\r\n\r\n") and not data.strip(b"\r\n")
    else:
        buf += data
        is_ping = False
        while b"\r\n\r\n" in buf and not buf[:buf.find(b"\r\n\r\n")].strip(b"\r\n"):
            buf = buf[buf.find(b"\r\n\r\n") + 4:]
            is_ping = True
    if not is_ping:
        continue
    pings += 1
    if time.time() - start < pong_s:
        sock.sendall(b"\r\n")
    elif not silent:
        silent = True
        print(f"pongs {pings - 1} silent", flush=True)
