/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing: MAC addresses, IPv6 extension headers, header lengths. */
#ifndef GONA_PARSE_H
#define GONA_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"

/*
 * Headers are read in place, in the linear area. Only a frame whose checks
 * ran out of linear bytes while the frame has more (a tap or Xen backend
 * may hand over a short head) is pulled, this far, and checked again:
 * enough for Ethernet, IPv4 with options and UDP, or IPv6, a few extension
 * headers and a neighbour advertisement. Pulling every frame would copy
 * the head of each TCP segment a guest sends (they are clones), which
 * costs more than all of gona's checks together.
 */
#define GONA_PULL_LEN 128

/* Extension headers walked to find what an IPv6 packet carries. */
#define GONA_IP6_EXT_MAX 4

/* ARP for Ethernet and IPv4, the only kind a guest may send. */
struct gona_arp {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u8 sip[4];
	__u8 tha[ETH_ALEN];
	__u8 tip[4];
};

#define GONA_ARPHRD_ETHER 1
#define GONA_ICMP6_NA 136 /* neighbour advertisement */
#define GONA_DHCP_CLIENT 68
#define GONA_DHCP_SERVER 67

/*
 * MAC addresses are compared as a 32-bit and a 16-bit word. Both sides are
 * at least 2-byte aligned (Ethernet header, map values), and the targets
 * BPF runs on here load unaligned words.
 */
static __always_inline bool gona_mac_eq(const __u8 *a, const __u8 *b)
{
	return ((*(const __u32 *)a ^ *(const __u32 *)b) |
		(*(const __u16 *)(a + 4) ^ *(const __u16 *)(b + 4))) == 0;
}

/* Broadcast is a multicast address too: the group bit of the first octet. */
static __always_inline bool gona_mac_is_group(const __u8 *a)
{
	return a[0] & 1;
}

/*
 * The IEEE 802.1D reserved group addresses, 01:80:c2:00:00:00 to :0f
 * (STP, LACP and markers, 802.1X, LLDP): a bridge never forwards a frame
 * to them, as they are the link's own protocols.
 */
static __always_inline bool gona_mac_is_link_local(const __u8 *a)
{
	return *(const __u32 *)a == bpf_htonl(0x0180c200) &&
	       (*(const __u16 *)(a + 4) & bpf_htons(0xfff0)) == 0;
}

static __always_inline void gona_mac_key_set(struct gona_mac_key *k,
					     const __u8 *mac)
{
	*(__u32 *)k->addr = *(const __u32 *)mac;
	*(__u16 *)(k->addr + 4) = *(const __u16 *)(mac + 4);
	*(__u16 *)k->pad = 0;
}

/* Bring up to GONA_PULL_LEN bytes into the linear area; false if they
 * were there already (or the frame is no longer), so nothing changed. */
static __always_inline bool gona_pull_more(struct __sk_buff *skb)
{
	__u32 want = skb->len < GONA_PULL_LEN ? skb->len : GONA_PULL_LEN;

	if ((void *)(long)skb->data + want <= (void *)(long)skb->data_end)
		return false;
	return bpf_skb_pull_data(skb, want) == 0;
}

static __always_inline bool gona_ip6_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_DSTOPTS;
}

/*
 * Find the upper-layer header of the IPv6 packet at ETH_HLEN: its offset
 * from the start of the frame in *off and its protocol in *proto. A
 * fragment header ends the walk (*proto is then IPPROTO_FRAGMENT): the
 * kernel ignores fragmented neighbour discovery anyway. Returns 0, or
 * -GONA_DROP_MALFORMED when the chain is cut short or longer than we walk.
 */
static __always_inline int gona_ip6_l4(void *data, void *data_end, __u32 *off,
				       __u8 *proto)
{
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	__u32 o = ETH_HLEN + sizeof(*ip6);
	__u8 nh;

	if ((void *)(ip6 + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	nh = ip6->nexthdr;
#pragma unroll
	for (int i = 0; i < GONA_IP6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *ext;

		if (!gona_ip6_ext(nh))
			break;
		ext = data + o;
		if ((void *)(ext + 1) > data_end)
			return -GONA_DROP_MALFORMED;
		nh = ext->nexthdr;
		o += ((__u32)ext->hdrlen + 1) * 8;
	}
	if (gona_ip6_ext(nh) || data + o > data_end)
		return -GONA_DROP_MALFORMED;
	*off = o;
	*proto = nh;
	return 0;
}

/*
 * Length of the frame's headers up to the end of the L4 header at OFF
 * (TCP with its options, UDP), as the kernel counts it for each segment of
 * a GSO packet. Other protocols, or an L4 header we cannot see, count up
 * to OFF only.
 */
static __always_inline __u32 gona_l4_hdr_end(void *data, void *data_end,
					     __u32 off, __u8 proto)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end)
			return off;
		return off + th->doff * 4;
	}
	if (proto == IPPROTO_UDP)
		return off + sizeof(struct udphdr);
	return off;
}

/* The same for any frame, parsed from scratch: the receive side's GSO.
 * GRO builds those with their headers linear, so nothing is pulled. */
static __always_inline __u32 gona_hdr_len(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 off;
	__u8 proto;

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return 0;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return ETH_HLEN;
		off = ETH_HLEN + ip->ihl * 4;
		proto = ip->protocol;
		break;
	case bpf_htons(ETH_P_IPV6):
		if (gona_ip6_l4(data, data_end, &off, &proto) < 0)
			return ETH_HLEN + sizeof(struct ipv6hdr);
		break;
	default:
		return ETH_HLEN;
	}
	return gona_l4_hdr_end(data, data_end, off, proto);
}

#endif
