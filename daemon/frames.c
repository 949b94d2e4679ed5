/* SPDX-License-Identifier: MIT */
/* The few frames gonad writes itself: ARP requests and replies (gratuitous
 * announcements, probes), RARP, and IPv6 neighbour solicitations and
 * advertisements with their ICMPv6 checksum, and the 802.1Q tag they
 * carry into a VLAN. Each builder fills a buffer of at least FRAME_MAX
 * bytes and returns the frame's length. */
#include <string.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>

#include "daemon/gonad.h"

#define ETH_P_RARP_ 0x8035
#define ARPOP_RREQUEST_ 3

static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src,
			 uint16_t type)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return ETH_HLEN;
}

static size_t arp(uint8_t *f, uint16_t type, uint16_t op, const uint8_t *src,
		  const struct in_addr *spa, const uint8_t *tha,
		  const struct in_addr *tpa)
{
	struct ether_arp a = { 0 };
	size_t n = eth_header(f, bcast, src, type);

	a.arp_hrd = htons(ARPHRD_ETHER);
	a.arp_pro = htons(ETH_P_IP);
	a.arp_hln = ETH_ALEN;
	a.arp_pln = 4;
	a.arp_op = htons(op);
	memcpy(a.arp_sha, src, ETH_ALEN);
	if (spa)
		memcpy(a.arp_spa, spa, 4);
	if (tha)
		memcpy(a.arp_tha, tha, ETH_ALEN);
	if (tpa)
		memcpy(a.arp_tpa, tpa, 4);
	memcpy(f + n, &a, sizeof(a));
	return n + sizeof(a);
}

size_t frame_garp(uint8_t *f, const uint8_t *mac, const struct in_addr *a)
{
	return arp(f, ETH_P_ARP, ARPOP_REQUEST, mac, a, NULL, a);
}

size_t frame_rarp(uint8_t *f, const uint8_t *mac)
{
	return arp(f, ETH_P_RARP_, ARPOP_RREQUEST_, mac, NULL, mac, NULL);
}

size_t frame_tag(uint8_t *f, size_t len, uint32_t vid)
{
	if (!vid || len < 2 * ETH_ALEN || len + 4 > FRAME_MAX)
		return len;
	memmove(f + 2 * ETH_ALEN + 4, f + 2 * ETH_ALEN, len - 2 * ETH_ALEN);
	f[12] = ETH_P_8021Q >> 8;
	f[13] = ETH_P_8021Q & 0xff;
	f[14] = (uint8_t)(vid >> 8);
	f[15] = (uint8_t)vid;
	return len + 4;
}

size_t frame_arp_probe(uint8_t *f, const uint8_t *mac,
		       const struct in_addr *target)
{
	/* Sender address 0.0.0.0 (RFC 5227): the uplink has none of its
	 * own, and hosts answer such a probe by unicast to its MAC. */
	return arp(f, ETH_P_ARP, ARPOP_REQUEST, mac, NULL, NULL, target);
}

bool frame_is_arp_answer(const uint8_t *f, size_t len, const uint8_t *mac,
			 const struct in_addr *target)
{
	struct ether_arp a;

	if (len < ETH_HLEN + sizeof(a) || f[12] != 0x08 || f[13] != 0x06 ||
	    memcmp(f, mac, ETH_ALEN))
		return false;
	memcpy(&a, f + ETH_HLEN, sizeof(a));
	return a.arp_op == htons(ARPOP_REPLY) &&
	       !memcmp(a.arp_spa, target, 4) &&
	       !memcmp(a.arp_tha, mac, ETH_ALEN);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

/* An ICMPv6 neighbour discovery message (BODY of BLEN bytes, then an
 * 8-byte link-layer address option of TYPE carrying MAC, unless TYPE is
 * 0) from SRC to DST, with its checksum over the pseudo-header. */
static size_t nd(uint8_t *f, const uint8_t *eth_dst, const uint8_t *mac,
		 const struct in6_addr *src, const struct in6_addr *dst,
		 void *body, size_t blen, uint8_t opt_type)
{
	uint8_t opt[8] = { opt_type, 1 }, pseudo[8] = { 0 };
	uint16_t plen = (uint16_t)(blen + (opt_type ? sizeof(opt) : 0));
	struct icmp6_hdr *icmp = body;
	struct ip6_hdr ip = { 0 };
	size_t n = eth_header(f, eth_dst, mac, ETH_P_IPV6);
	uint32_t sum;

	ip.ip6_flow = htonl(6u << 28);
	ip.ip6_plen = htons(plen);
	ip.ip6_nxt = IPPROTO_ICMPV6;
	ip.ip6_hlim = 255;
	ip.ip6_src = *src;
	ip.ip6_dst = *dst;
	memcpy(opt + 2, mac, ETH_ALEN);
	pseudo[2] = (uint8_t)(plen >> 8);
	pseudo[3] = (uint8_t)plen;
	pseudo[7] = IPPROTO_ICMPV6;
	icmp->icmp6_cksum = 0;
	sum = csum_add(0, src->s6_addr, 16);
	sum = csum_add(sum, dst->s6_addr, 16);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	sum = csum_add(sum, body, blen);
	if (opt_type)
		sum = csum_add(sum, opt, sizeof(opt));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp->icmp6_cksum = htons((uint16_t)~sum);
	memcpy(f + n, &ip, sizeof(ip));
	n += sizeof(ip);
	memcpy(f + n, body, blen);
	n += blen;
	if (opt_type) {
		memcpy(f + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

size_t frame_unsolicited_na(uint8_t *f, const uint8_t *mac,
			    const struct in6_addr *a)
{
	static const uint8_t all_nodes_mac[ETH_ALEN] = {
		0x33, 0x33, 0, 0, 0, 1
	};
	const struct in6_addr all_nodes = { .s6_addr = { 0xff,
							 0x02, [15] = 1 } };
	struct nd_neighbor_advert na = { 0 };

	/* Override set, solicited not (RFC 4861 7.2.6). */
	na.nd_na_type = ND_NEIGHBOR_ADVERT;
	na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	na.nd_na_target = *a;
	return nd(f, all_nodes_mac, mac, a, &all_nodes, &na, sizeof(na),
		  ND_OPT_TARGET_LINKADDR);
}

size_t frame_ns_probe(uint8_t *f, const uint8_t *mac,
		      const struct in6_addr *src, const struct in6_addr *target)
{
	/* To the target's solicited-node group ff02::1:ffXX:XXXX. */
	struct in6_addr group = { .s6_addr = { 0xff,
					       0x02, [11] = 1, [12] = 0xff } };
	uint8_t eth_dst[ETH_ALEN] = { 0x33, 0x33, 0xff };
	struct nd_neighbor_solicit ns = { 0 };

	memcpy(&group.s6_addr[13], &target->s6_addr[13], 3);
	memcpy(&eth_dst[3], &target->s6_addr[13], 3);
	ns.nd_ns_type = ND_NEIGHBOR_SOLICIT;
	ns.nd_ns_target = *target;
	/* From :: (no address of its own) a solicitation carries no
	 * source link-layer option (RFC 4861 4.3). */
	return nd(f, eth_dst, mac, src, &group, &ns, sizeof(ns),
		  IN6_IS_ADDR_UNSPECIFIED(src) ? 0 : ND_OPT_SOURCE_LINKADDR);
}

bool frame_is_na_answer(const uint8_t *f, size_t len, const uint8_t *mac,
			const struct in6_addr *src,
			const struct in6_addr *target)
{
	struct nd_neighbor_advert na;
	struct ip6_hdr ip;

	if (len < ETH_HLEN + sizeof(ip) + sizeof(na) || f[12] != 0x86 ||
	    f[13] != 0xdd)
		return false;
	memcpy(&ip, f + ETH_HLEN, sizeof(ip));
	memcpy(&na, f + ETH_HLEN + sizeof(ip), sizeof(na));
	if (ip.ip6_nxt != IPPROTO_ICMPV6 || ip.ip6_hlim != 255 ||
	    na.nd_na_type != ND_NEIGHBOR_ADVERT || na.nd_na_code ||
	    memcmp(&na.nd_na_target, target, sizeof(*target)))
		return false;
	/* Asked from an address: a solicited answer to our MAC. Asked from
	 * :: the answer goes to all nodes; only the target can send it. */
	if (!IN6_IS_ADDR_UNSPECIFIED(src))
		return !memcmp(f, mac, ETH_ALEN) &&
		       (na.nd_na_flags_reserved & ND_NA_FLAG_SOLICITED);
	return !memcmp(&ip.ip6_src, target, sizeof(*target));
}
