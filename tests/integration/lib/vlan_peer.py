#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""An 802.1Q host in user space, for kernels without VLAN devices (no 8021q module).

  vlan_peer.py IFACE VLAN MY_IP PEER_IP UDP_PORT
      On IFACE (the kernel takes tags off received frames and says so in PACKET_AUXDATA), as
      MY_IP on VLAN: ARP for
      PEER_IP, an ICMP echo to it, a UDP datagram from MY_IP:40000 to PEER_IP:UDP_PORT,
      answering the ARP requests for MY_IP that come meanwhile (tagged too); then one untagged
      ARP request for PEER_IP, which must get no answer. Prints one line per step:
      "arp-reply vlan=V mac=M", "echo-reply vlan=V", "udp-reply vlan=V text=T",
      "untagged: no reply"; exit 0 when every answer came tagged with VLAN, 1 otherwise.
Each step waits at most 2 s.
"""
import socket
import struct
import sys
import time

ETH_P_ALL, ETH_P_ARP, ETH_P_IP, ETH_P_8021Q = 0x0003, 0x0806, 0x0800, 0x8100
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 0x10
BCAST = b"\xff" * 6


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Peer:
    def __init__(self, ifname, vlan, ip, peer_ip):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((ifname, 0))
        self.s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.s.settimeout(0.1)
        self.mac = self.s.getsockname()[4]
        self.vlan, self.ip, self.peer_ip = vlan, socket.inet_aton(ip), socket.inet_aton(peer_ip)
        self.peer_mac = BCAST

    def send(self, dst, etype, payload, tagged=True):
        tag = struct.pack("!HH", ETH_P_8021Q, self.vlan) if tagged else b""
        self.s.send(dst + self.mac + tag + struct.pack("!H", etype) + payload)

    def arp(self, op, tha, tip):
        return struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, op, self.mac, self.ip, tha, tip)

    def ipv4(self, proto, payload):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                          self.ip, self.peer_ip)
        return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload

    def recv(self):
        """The next frame as (vlan or None, ethertype, payload, src mac), or None."""
        try:
            f, anc, _, _ = self.s.recvmsg(2048, socket.CMSG_SPACE(32))
        except socket.timeout:
            return None
        if f[6:12] == self.mac:
            return None  # our own, seen on the way out
        etype, off, vlan = struct.unpack("!H", f[12:14])[0], 14, None
        for level, typ, data in anc:  # struct tpacket_auxdata
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(data) >= 20:
                status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", data[:20])
                if status & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0xFFF
        if etype == ETH_P_8021Q:
            vlan = struct.unpack("!H", f[14:16])[0] & 0xFFF
            etype, off = struct.unpack("!H", f[16:18])[0], 18
        return vlan, etype, f[off:], f[6:12]

    def answer_arp(self, vlan, body):
        """Answers an ARP request for our address on our VLAN; True when it was one."""
        op, sha, spa, tpa = struct.unpack("!6xH6s4s6x4s", body[:28])
        if op != 1 or tpa != self.ip:
            return False
        self.send(sha, ETH_P_ARP, self.arp(2, sha, spa), tagged=vlan is not None)
        return True

    def wait(self, want):
        """Frames until want(vlan, etype, payload, src) returns a result, or None after 2 s."""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            r = self.recv()
            if r is None:
                continue
            vlan, etype, body, src = r
            if etype == ETH_P_ARP and self.answer_arp(vlan, body):
                continue
            got = want(vlan, etype, body, src)
            if got is not None:
                return got
        return None


def arp_reply(p, vlan, etype, body, src):
    if etype == ETH_P_ARP and struct.unpack("!H", body[6:8])[0] == 2 and body[14:18] == p.peer_ip:
        return vlan, body[8:14]
    return None


def ip_from_peer(proto):
    def want(p, vlan, etype, body, src):
        if etype == ETH_P_IP and body[9] == proto and body[12:16] == p.peer_ip:
            return vlan, body[(body[0] & 0xF) * 4:]
        return None
    return want


def main(ifname, vlan, ip, peer_ip, port):
    p = Peer(ifname, int(vlan), ip, peer_ip)
    ok = True
    p.send(BCAST, ETH_P_ARP, p.arp(1, b"\0" * 6, p.peer_ip))
    r = p.wait(lambda *a: arp_reply(p, *a))
    if r is None:
        print("arp: no reply")
        return 1
    p.peer_mac = r[1]
    print("arp-reply vlan=%s mac=%s" % (r[0], r[1].hex(":")))
    ok &= r[0] == p.vlan

    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5662, 1) + b"vlan-peer"
    p.send(p.peer_mac, ETH_P_IP, p.ipv4(1, icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]))
    r = p.wait(lambda *a: ip_from_peer(1)(p, *a))
    print("echo-reply vlan=%s" % (r[0] if r else "none"))
    ok &= r is not None and r[0] == p.vlan and r[1][0] == 0

    data = b"vlan-peer udp"
    udp = struct.pack("!HHHH", 40000, int(port), 8 + len(data), 0) + data
    p.send(p.peer_mac, ETH_P_IP, p.ipv4(17, udp))  # UDP checksum 0: none (IPv4)
    r = p.wait(lambda *a: ip_from_peer(17)(p, *a))
    print("udp-reply vlan=%s text=%s" % (r[0] if r else "none",
                                          r[1][8:].decode(errors="replace") if r else ""))
    ok &= r is not None and r[0] == p.vlan

    p.send(BCAST, ETH_P_ARP, p.arp(1, b"\0" * 6, p.peer_ip), tagged=False)
    r = p.wait(lambda *a: arp_reply(p, *a))
    print("untagged: %s" % ("no reply" if r is None else "reply on vlan %s" % r[0]))
    ok &= r is None
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
