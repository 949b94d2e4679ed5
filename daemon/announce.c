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
#include <net/ethernet.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "daemon/gonad.h"

struct announcer {
	struct gonad *g;
	int sock; /* AF_PACKET, sends only */
	struct ev_source timer;
	bool armed;
};

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

/*
 * One round of announcements of GU out of the first uplink it is on: its
 * addresses in its own VLAN (or untagged), and for a trunk guest a RARP of
 * its MAC in each VLAN it tags itself (whose addresses gona does not
 * know), so the fabric learns the MAC in every VLAN it may be reached in.
 */
static void announce_round(struct announcer *an, const struct guest *gu)
{
	const struct conf_guest *c = &gu->conf;
	const struct uplink *u = NULL;
	uint8_t f[FRAME_MAX];
	uint32_t v = c->vlan;
	int r = 0;

	for (size_t i = 0; i < an->g->n_uplinks && !u; i++)
		if ((gu->homes & (1u << i)) && an->g->uplinks[i].up)
			u = &an->g->uplinks[i];
	if (!u)
		return;
	for (size_t i = 0; i < c->n_ipv4 && !r; i++)
		r = send_frame(
			an, u->ifindex, f,
			frame_tag(f, frame_garp(f, c->mac, &c->ipv4[i]), v));
	for (size_t i = 0; i < c->n_ipv6 && !r; i++)
		r = send_frame(
			an, u->ifindex, f,
			frame_tag(f,
				  frame_unsolicited_na(f, c->mac, &c->ipv6[i]),
				  v));
	if (!r && !c->n_ipv4 && !c->n_ipv6)
		r = send_frame(an, u->ifindex, f,
			       frame_tag(f, frame_rarp(f, c->mac), v));
	for (v = 1; v <= CONF_VLAN_MAX && !r; v++)
		if (conf_vlan_has(c->vlans, v))
			r = send_frame(an, u->ifindex, f,
				       frame_tag(f, frame_rarp(f, c->mac), v));
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
