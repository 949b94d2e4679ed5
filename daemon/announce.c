/* SPDX-License-Identifier: MIT */
/* Telling the fabric a guest moved: gratuitous ARP for each of its IPv4
 * addresses and unsolicited neighbour advertisements for each IPv6 one,
 * sent from the guest's MAC out of its new uplink, policy.notify_count
 * times policy.notify_interval_ms apart, so the switches relearn where the
 * MAC is at once instead of when the guest next sends. A guest without
 * addresses is announced by a RARP frame, as hypervisors do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "daemon/gonad.h"

#define ETH_P_RARP_ 0x8035
#define FRAME_MAX 128

struct announcer {
	struct gonad *g;
	int sock; /* AF_PACKET, sends only */
	struct ev_source timer;
	bool armed;
};

static size_t eth_header(uint8_t *f, const uint8_t *dst, const uint8_t *src,
			 uint16_t type)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return ETH_HLEN;
}

/* A gratuitous ARP request: sender and target are the address itself. */
static size_t garp(uint8_t *f, const uint8_t *mac, const struct in_addr *a)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff };
	struct ether_arp arp = { 0 };
	size_t n = eth_header(f, bcast, mac, ETH_P_ARP);

	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(ARPOP_REQUEST);
	memcpy(arp.arp_sha, mac, ETH_ALEN);
	memcpy(arp.arp_spa, a, 4);
	memcpy(arp.arp_tpa, a, 4);
	memcpy(f + n, &arp, sizeof(arp));
	return n + sizeof(arp);
}

/* A RARP request naming the MAC: for a guest with no address to announce. */
static size_t rarp(uint8_t *f, const uint8_t *mac)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff };
	struct ether_arp arp = { 0 };
	size_t n = eth_header(f, bcast, mac, ETH_P_RARP_);

	arp.arp_hrd = htons(ARPHRD_ETHER);
	arp.arp_pro = htons(ETH_P_IP);
	arp.arp_hln = ETH_ALEN;
	arp.arp_pln = 4;
	arp.arp_op = htons(3); /* reverse request */
	memcpy(arp.arp_sha, mac, ETH_ALEN);
	memcpy(arp.arp_tha, mac, ETH_ALEN);
	memcpy(f + n, &arp, sizeof(arp));
	return n + sizeof(arp);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

/* An unsolicited neighbour advertisement to all nodes: override set, the
 * MAC in a target link-layer address option (RFC 4861 7.2.6). */
static size_t unsolicited_na(uint8_t *f, const uint8_t *mac,
			     const struct in6_addr *a)
{
	static const uint8_t all_nodes_mac[ETH_ALEN] = {
		0x33, 0x33, 0, 0, 0, 1
	};
	struct in6_addr all_nodes = { .s6_addr = { 0xff, 0x02, [15] = 1 } };
	struct nd_neighbor_advert na = { 0 };
	uint8_t opt[8] = { ND_OPT_TARGET_LINKADDR, 1 };
	uint16_t plen = sizeof(na) + sizeof(opt);
	struct ip6_hdr ip = { 0 };
	size_t n = eth_header(f, all_nodes_mac, mac, ETH_P_IPV6);
	uint8_t pseudo[8] = { 0 };
	uint32_t sum;

	ip.ip6_flow = htonl(6u << 28);
	ip.ip6_plen = htons(plen);
	ip.ip6_nxt = IPPROTO_ICMPV6;
	ip.ip6_hlim = 255;
	ip.ip6_src = *a;
	ip.ip6_dst = all_nodes;
	na.nd_na_type = ND_NEIGHBOR_ADVERT;
	na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	na.nd_na_target = *a;
	memcpy(opt + 2, mac, ETH_ALEN);
	/* The checksum covers a pseudo-header of both addresses, the
	 * length and the next header. */
	pseudo[2] = (uint8_t)(plen >> 8);
	pseudo[3] = (uint8_t)plen;
	pseudo[7] = IPPROTO_ICMPV6;
	sum = csum_add(0, ip.ip6_src.s6_addr, 16);
	sum = csum_add(sum, ip.ip6_dst.s6_addr, 16);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	sum = csum_add(sum, (const uint8_t *)&na, sizeof(na));
	sum = csum_add(sum, opt, sizeof(opt));
	na.nd_na_cksum = htons(csum_fold(sum));
	memcpy(f + n, &ip, sizeof(ip));
	n += sizeof(ip);
	memcpy(f + n, &na, sizeof(na));
	n += sizeof(na);
	memcpy(f + n, opt, sizeof(opt));
	return n + sizeof(opt);
}

static int send_frame(struct announcer *an, int ifindex, const uint8_t *f,
		      size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
	};

	memcpy(sll.sll_addr, f, ETH_ALEN);
	if (sendto(an->sock, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) <
	    0)
		return -errno;
	return 0;
}

/* One round of announcements of GU out of the first uplink it is on. */
static void announce_round(struct announcer *an, const struct guest *gu)
{
	const struct conf_guest *c = &gu->conf;
	const struct uplink *u = NULL;
	uint8_t f[FRAME_MAX];
	int r = 0;

	for (size_t i = 0; i < an->g->n_uplinks && !u; i++)
		if ((gu->homes & (1u << i)) && an->g->uplinks[i].up)
			u = &an->g->uplinks[i];
	if (!u)
		return;
	for (size_t i = 0; i < c->n_ipv4 && !r; i++)
		r = send_frame(an, u->ifindex, f, garp(f, c->mac, &c->ipv4[i]));
	for (size_t i = 0; i < c->n_ipv6 && !r; i++)
		r = send_frame(an, u->ifindex, f,
			       unsolicited_na(f, c->mac, &c->ipv6[i]));
	if (!r && !c->n_ipv4 && !c->n_ipv6)
		r = send_frame(an, u->ifindex, f, rarp(f, c->mac));
	if (r)
		log_warnx("guest %s: cannot announce it on uplink %s: %s",
			  c->name, u->conf.name, strerror(-r));
}

static void arm(struct announcer *an)
{
	uint32_t ms = an->g->conf->policy.notify_interval_ms;
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	if (an->armed)
		return;
	if (timerfd_settime(an->timer.fd, 0, &its, NULL) < 0) {
		log_warnx("announce: cannot arm the timer: %s",
			  strerror(errno));
		return;
	}
	an->armed = true;
}

static void on_timer(struct ev_source *src, uint32_t events)
{
	struct announcer *an = src->arg;
	uint64_t expirations;
	bool more = false;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	an->armed = false;
	for (size_t i = 0; i < an->g->n_guests; i++) {
		struct guest *gu = an->g->guests[i];

		if (!gu->notify_left)
			continue;
		announce_round(an, gu);
		more |= --gu->notify_left > 0;
	}
	if (more)
		arm(an);
}

void announce_moved(struct announcer *an, struct guest *gu)
{
	uint32_t count = an->g->conf->policy.notify_count;

	if (!count || !gu->attached)
		return;
	announce_round(an, gu);
	gu->notify_left = count - 1;
	if (gu->notify_left)
		arm(an);
}

int announce_open(struct gonad *g, struct announcer **out)
{
	struct announcer *an = calloc(1, sizeof(*an));
	int r;

	if (!an)
		return -ENOMEM;
	an->g = g;
	an->timer.fd = -1;
	/* Protocol 0: it sends and receives nothing. */
	an->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (an->sock < 0) {
		r = -errno;
		goto err;
	}
	an->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (an->timer.fd < 0) {
		r = -errno;
		goto err;
	}
	an->timer.ready = on_timer;
	an->timer.arg = an;
	r = ev_add(g, &an->timer, EPOLLIN);
	if (r)
		goto err;
	*out = an;
	return 0;
err:
	if (an->sock >= 0)
		close(an->sock);
	if (an->timer.fd >= 0)
		close(an->timer.fd);
	free(an);
	return r;
}

void announce_close(struct announcer *an)
{
	if (!an)
		return;
	close(an->sock);
	close(an->timer.fd);
	free(an);
}
