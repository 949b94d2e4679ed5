/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Anti-spoofing: a guest's frames must carry its own MAC and addresses. */
#ifndef GONA_SPOOF_H
#define GONA_SPOOF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/maps.h"
#include "ebpf/parse.h"

#define GONA_IP4_OFFSET 0x1fff /* fragment offset bits of frag_off */

static __always_inline bool gona_ip4_is_guest(const struct gona_guest *g,
					      __be32 addr)
{
	struct gona_ip4_key key = { .id = g->id, .addr = addr };

	if (g->ip4 && addr == g->ip4)
		return true;
	return bpf_map_lookup_elem(&guest_ip4, &key) != NULL;
}

/*
 * The guest's EUI-64 link-local address, fe80::(m0^2)m1:m2ff:fem3:m4m5,
 * which it uses before (and besides) any configured address. Compared in
 * place word by word; the prefix test fails first for global addresses.
 */
static __always_inline bool gona_ip6_is_eui64(const struct in6_addr *a,
					      const __u8 *mac)
{
	union {
		__u8 b[4];
		__u32 w;
	} w2 = { .b = { mac[0] ^ 2, mac[1], mac[2], 0xff } },
	  w3 = { .b = { 0xfe, mac[3], mac[4], mac[5] } };

	if (a->in6_u.u6_addr32[0] != bpf_htonl(0xfe800000) ||
	    a->in6_u.u6_addr32[1] != 0)
		return false;
	return a->in6_u.u6_addr32[2] == w2.w && a->in6_u.u6_addr32[3] == w3.w;
}

static __always_inline bool gona_ip6_is_any(const struct in6_addr *a)
{
	return (a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1] |
		a->in6_u.u6_addr32[2] | a->in6_u.u6_addr32[3]) == 0;
}

static __always_inline bool gona_ip6_is_guest(const struct gona_guest *g,
					      const struct in6_addr *a)
{
	struct gona_ip6_key key = { .id = g->id };

	if (gona_ip6_is_eui64(a, g->mac))
		return true;
	__builtin_memcpy(key.addr, a, sizeof(key.addr));
	return bpf_map_lookup_elem(&guest_ip6, &key) != NULL;
}

/*
 * IPv4: the source must be one of the guest's addresses, except a DHCP
 * client, which has none yet (0.0.0.0, UDP 68 -> 67, first fragment).
 */
static __always_inline int gona_check_ip4(void *data, void *data_end,
					  const struct gona_guest *g)
{
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp;
	__u32 off;

	if ((void *)(ip + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return -GONA_DROP_MALFORMED;
	off = ETH_HLEN + ip->ihl * 4;
	if (data + off > data_end)
		return -GONA_DROP_MALFORMED;
	if (ip->saddr != 0) {
		if (gona_ip4_is_guest(g, ip->saddr))
			return 0;
		return -GONA_DROP_SRC_IP4;
	}
	if (ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(GONA_IP4_OFFSET)))
		return -GONA_DROP_SRC_IP4;
	udp = data + off;
	if ((void *)(udp + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (udp->source != bpf_htons(GONA_DHCP_CLIENT) ||
	    udp->dest != bpf_htons(GONA_DHCP_SERVER))
		return -GONA_DROP_SRC_IP4;
	return 0;
}

/*
 * IPv6: the source must be one of the guest's addresses or its EUI-64
 * link-local address; :: only for ICMPv6 (duplicate address detection,
 * MLD reports before an address is ready). A neighbour advertisement may
 * only announce the same addresses, so a guest cannot claim another's.
 */
static __always_inline int gona_check_ip6(void *data, void *data_end,
					  const struct gona_guest *g)
{
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct icmp6hdr *icmp;
	struct in6_addr *target;
	__u32 off;
	__u8 proto;
	int ret;

	ret = gona_ip6_l4(data, data_end, &off, &proto);
	if (ret < 0)
		return ret;
	if ((void *)(ip6 + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (!gona_ip6_is_guest(g, &ip6->saddr) &&
	    !(proto == IPPROTO_ICMPV6 && gona_ip6_is_any(&ip6->saddr)))
		return -GONA_DROP_SRC_IP6;
	if (proto != IPPROTO_ICMPV6)
		return 0;
	icmp = data + off;
	if ((void *)(icmp + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (icmp->icmp6_type != GONA_ICMP6_NA)
		return 0;
	target = (void *)(icmp + 1);
	if ((void *)(target + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (!gona_ip6_is_guest(g, target))
		return -GONA_DROP_ND_SPOOF;
	return 0;
}

/*
 * ARP: the sender hardware address must be the guest's MAC and the sender
 * IP one of its addresses, or 0.0.0.0 for an address probe (RFC 5227).
 */
static __always_inline int gona_check_arp(void *data, void *data_end,
					  const struct gona_guest *g)
{
	struct gona_arp *arp = data + ETH_HLEN;
	__be32 sip;

	if ((void *)(arp + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (arp->hrd != bpf_htons(GONA_ARPHRD_ETHER) ||
	    arp->pro != bpf_htons(ETH_P_IP) || arp->hln != ETH_ALEN ||
	    arp->pln != 4)
		return -GONA_DROP_MALFORMED;
	if (!gona_mac_eq(arp->sha, g->mac))
		return -GONA_DROP_ARP_SPOOF;
	__builtin_memcpy(&sip, arp->sip, sizeof(sip));
	if (sip != 0 && !gona_ip4_is_guest(g, sip))
		return -GONA_DROP_ARP_SPOOF;
	return 0;
}

#endif
