/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The xdp engine's XDP program: UDP to a relay port (a key of `flows`) that arrives on the
 * netdev carrying that address (the key's value), unicast to this host, untagged, goes to the
 * AF_XDP socket of the receiving queue; everything else (SIP, ng, ARP, fragments, IPv4
 * options, IPv6 extension headers, VLAN tags, broadcast and multicast frames, unknown ports,
 * relay addresses of another netdev) to the kernel, which applies its own policy to it.
 * Built with clang -target bpf; userspace loads one copy per netdev (each its own `xsks`),
 * all sharing one `flows` map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* keep in step with struct xdp_flow_key in xdp_prog.h */
struct flow_key {
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u16 port; /* network order */
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, __u32); /* ifindex of the netdev that carries the address */
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/*
 * The largest frame an AF_XDP socket takes: a 2 KiB chunk (XSK_FRAME_SIZE) minus the kernel's
 * headroom (XDP_PACKET_HEADROOM). Longer ones would be dropped there; the UDP socket gets them.
 */
#define FRAME_MAX (2048 - 256)

static __always_inline int redirect_udp(struct xdp_md *ctx, void *l4, void *end, struct flow_key *k)
{
	struct udphdr *udp = l4;
	__u32 *home;

	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	k->port = udp->dest;
	home = bpf_map_lookup_elem(&flows, k);
	/* another netdev's address (a VLAN device's, its tag stripped by the NIC): the kernel's */
	if (!home || *home != ctx->ingress_ifindex)
		return XDP_PASS;
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int sbc_relay(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct flow_key k = { 0 };
	void *l3;
	__u16 proto;

	/* packet + constant against the end: pointer - pointer would need CAP_PERFMON */
	if ((void *)(eth + 1) > end || data + FRAME_MAX < end)
		return XDP_PASS;
	if (eth->h_dest[0] & 1)
		return XDP_PASS; /* broadcast or multicast: never relay media */
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		/* options (source route, record route) are the kernel's to judge */
		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(0x3fff))
			return XDP_PASS; /* fragments: the kernel reassembles */
		k.family = 4;
		__builtin_memcpy(k.addr, &ip->daddr, 4);
		return redirect_udp(ctx, ip + 1, end, &k);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		k.family = 6;
		__builtin_memcpy(k.addr, &ip6->daddr, 16);
		return redirect_udp(ctx, ip6 + 1, end, &k);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
