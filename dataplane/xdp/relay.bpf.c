/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The xdp engine's XDP program: UDP to a relay port (a key of `flows`) goes to the AF_XDP
 * socket of the receiving queue; everything else (SIP, ng, ARP, fragments, IPv6 extension
 * headers, unknown ports) to the kernel. Built with clang -target bpf; userspace loads one copy
 * per netdev (each its own `xsks`), all sharing one `flows` map.
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
	__type(value, __u8);
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

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

static __always_inline int redirect_udp(struct xdp_md *ctx, void *l4, void *end, struct flow_key *k)
{
	struct udphdr *udp = l4;

	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	k->port = udp->dest;
	if (!bpf_map_lookup_elem(&flows, k))
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

	if ((void *)(eth + 1) > end || end - data > FRAME_MAX)
		return XDP_PASS;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_hdr_ *v = l3;

		if ((void *)(v + 1) > end)
			return XDP_PASS;
		proto = v->proto;
		l3 = v + 1;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(0x3fff))
			return XDP_PASS; /* fragments: the kernel reassembles */
		k.family = 4;
		__builtin_memcpy(k.addr, &ip->daddr, 4);
		return redirect_udp(ctx, (void *)ip + ip->ihl * 4, end, &k);
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
