#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Probes of a relay address without extra tools (iputils-ping, stun clients).

  dpdk_probe.py ping DST COUNT
      ICMP echo over a raw socket (root); prints "replies=N of COUNT"; exit 0 if all came back.
      DST may be IPv6 (ICMPv6 echo), link-local with its interface: fe80::1%eth0.
  dpdk_probe.py stun LOCAL_IP LOCAL_PORT DST_IP DST_PORT
      one STUN binding request (RFC 5389, no credentials) from LOCAL; prints
      "mapped=IP:PORT" from the XOR-MAPPED-ADDRESS of the success response; exit 1 otherwise.
Each waits at most 2 s per packet.
"""
import os
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_socket(dst):
    """A raw ICMP or ICMPv6 socket, the address to send to, the echo request/reply types."""
    if ":" not in dst:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        return s, (dst, 0), 8, 0
    addr, _, ifname = dst.partition("%")
    scope = socket.if_nametoindex(ifname) if ifname else 0
    # the kernel fills in the ICMPv6 checksum (it covers the pseudo-header)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    return s, (addr, 0, 0, scope), 128, 129


def ping(dst, count):
    s, to, req, rep = echo_socket(dst)
    s.settimeout(2)
    ident = os.getpid() & 0xFFFF
    got = 0
    for seq in range(count):
        payload = b"sbc-dpdk-probe" + bytes([seq])
        hdr = struct.pack("!BBHHH", req, 0, 0, ident, seq)
        ck = csum(hdr + payload) if s.family == socket.AF_INET else 0
        pkt = struct.pack("!BBHHH", req, 0, ck, ident, seq) + payload
        s.sendto(pkt, to)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                data, peer = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0F) * 4 if s.family == socket.AF_INET else 0
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if peer[0].split("%")[0] == to[0] and typ == rep and rid == ident and rseq == seq:
                got += 1
                break
        time.sleep(0.05)
    print("replies=%d of %d" % (got, count))
    return 0 if got == count else 1


def stun(lip, lport, dip, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((lip, lport))
    s.settimeout(2)
    tid = os.urandom(12)
    s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + tid, (dip, dport))
    try:
        data, _ = s.recvfrom(2048)
    except socket.timeout:
        print("no answer")
        return 1
    typ, length, cookie = struct.unpack("!HHI", data[:8])
    if typ != 0x0101 or cookie != 0x2112A442 or data[8:20] != tid:
        print("not a binding success: type 0x%04x" % typ)
        return 1
    off = 20
    while off + 4 <= 20 + length:
        atype, alen = struct.unpack("!HH", data[off:off + 4])
        val = data[off + 4:off + 4 + alen]
        if atype == 0x0020 and val[1] == 1:  # XOR-MAPPED-ADDRESS, IPv4
            port = struct.unpack("!H", val[2:4])[0] ^ 0x2112
            addr = struct.unpack("!I", val[4:8])[0] ^ 0x2112A442
            print("mapped=%s:%d" % (socket.inet_ntoa(struct.pack("!I", addr)), port))
            return 0
        off += 4 + ((alen + 3) & ~3)
    print("no XOR-MAPPED-ADDRESS")
    return 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "ping":
        sys.exit(ping(a[1], int(a[2])))
    if len(a) == 5 and a[0] == "stun":
        sys.exit(stun(a[1], int(a[2]), a[3], int(a[4])))
    sys.exit(__doc__)
