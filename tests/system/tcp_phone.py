#!/usr/bin/env python3
"""A phone behind NAT that registers over TCP and then takes one call over the
same connection (it never listens: a call can only reach it on the connection
it opened, RFC 5626 style).

tcp_phone.py HOST PORT USER DOMAIN PASSWORD
Prints "registered" once the REGISTER got its 200, "call ok" after answering
an INVITE and receiving its ACK and BYE on that connection. Exit 0 on success.
"""
import hashlib
import random
import re
import socket
import sys

host, port, user, domain, password = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
sock = socket.create_connection((host, port), timeout=20)
local_ip, local_port = sock.getsockname()[:2]
buf = b""


def read_msg():
    global buf
    while True:
        while buf.startswith(b"\r\n"):
            buf = buf[2:]
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            clen = int(m.group(1)) if m else 0
            if len(buf) >= end + 4 + clen:
                body = buf[end + 4:end + 4 + clen].decode()
                buf = buf[end + 4 + clen:]
                return head, body
        data = sock.recv(65536)
        if not data:
            sys.exit("connection closed by the sbc")
        buf += data


def header(head, name):
    m = re.search(r"(?im)^" + re.escape(name) + r"\s*:\s*(.*)$", head)
    return m.group(1).strip() if m else None


def headers(head, name):
    return [v.strip() for v in re.findall(r"(?im)^" + re.escape(name) + r"\s*:\s*(.*)$", head)]


def register(cseq, auth=None):
    branch = "z9hG4bK" + str(random.getrandbits(48))
    msg = (f"REGISTER sip:{domain} SIP/2.0\r\n"
           f"Via: SIP/2.0/TCP {local_ip}:{local_port};branch={branch};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{user}@{domain}>;tag=tcpphone\r\n"
           f"To: <sip:{user}@{domain}>\r\nCall-ID: tcpphone-{local_port}\r\n"
           f"CSeq: {cseq} REGISTER\r\n"
           f"Contact: <sip:{user}@{local_ip}:{local_port};transport=tcp>;expires=300\r\n")
    if auth:
        msg += f"Authorization: {auth}\r\n"
    sock.sendall((msg + "Content-Length: 0\r\n\r\n").encode())
    while True:
        head, _ = read_msg()
        if not head.startswith("SIP/2.0 1"):
            return head


def digest(challenge):
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    alg = params.get("algorithm", "MD5")
    h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg == "SHA-256" else \
        (lambda s: hashlib.md5(s.encode()).hexdigest())
    uri, cnonce, nc = f"sip:{domain}", "0a4f113b", "00000001"
    ha1 = h(f"{user}:{params['realm']}:{password}")
    ha2 = h(f"REGISTER:{uri}")
    resp = h(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    return (f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{resp}", algorithm={alg}, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"')


head = register(1)
if not head.startswith("SIP/2.0 401"):
    sys.exit("expected 401, got: " + head.splitlines()[0])
head = register(2, digest(header(head, "WWW-Authenticate")))
if not head.startswith("SIP/2.0 200"):
    sys.exit("expected 200, got: " + head.splitlines()[0])
print("registered", flush=True)


def respond(req, code, reason, tag, body=""):
    lines = [f"SIP/2.0 {code} {reason}"]
    lines += [f"Via: {v}" for v in headers(req, "Via")]
    lines += [f"From: {header(req, 'From')}", f"To: {header(req, 'To')};tag={tag}",
              f"Call-ID: {header(req, 'Call-ID')}", f"CSeq: {header(req, 'CSeq')}",
              f"Contact: <sip:{user}@{local_ip}:{local_port};transport=tcp>"]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n" + body).encode())


head, _ = read_msg()
if not head.startswith("INVITE "):
    sys.exit("expected INVITE, got: " + head.splitlines()[0])
if f"{user}@{domain}" not in header(head, "To"):
    sys.exit("the To of the INVITE is not our address of record: " + header(head, "To"))
sdp = (f"v=0\r\no=phone 1 1 IN IP4 {local_ip}\r\ns=-\r\nc=IN IP4 {local_ip}\r\nt=0 0\r\n"
       f"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
respond(head, 180, "Ringing", "phone1")
respond(head, 200, "OK", "phone1", sdp)
head, _ = read_msg()
if not head.startswith("ACK "):
    sys.exit("expected ACK, got: " + head.splitlines()[0])
head, _ = read_msg()
if not head.startswith("BYE "):
    sys.exit("expected BYE, got: " + head.splitlines()[0])
respond(head, 200, "OK", "phone1")
print("call ok", flush=True)
