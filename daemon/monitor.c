/* SPDX-License-Identifier: MIT */
/* Probe monitors: for failures that keep carrier up (a dead switch port
 * behind a live link, a cable into the wrong VLAN). Every interval_ms an
 * uplink with a monitor sends an ARP probe (IPv4 target) or a neighbour
 * solicitation (IPv6 target) out of itself; when no answer has come for
 * `missed` intervals it is down (a deadline from the last answer, as BFD
 * detects, so the failure is found within missed x interval_ms of
 * happening), and the first answer brings it back. Only
 * a frame that answers the probe counts: a reply to the uplink's own MAC
 * from the target (ARP), or a solicited advertisement of the target (ND);
 * other hosts' traffic, gratuitous ARP and unsolicited advertisements do
 * not keep a dead uplink up. A monitor with a VLAN tags its probes and
 * counts only answers tagged with it: the kernel clears a tag no VLAN
 * device takes before it hands the frame to a socket of its protocol, so
 * that socket takes every frame, filtered in the kernel by tag and
 * protocol before it is queued. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/filter.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "daemon/gonad.h"

struct monitor {
	struct gonad *g;
	struct uplink *u;
	struct ev_source timer; /* periodic: send a probe */
	struct ev_source deadline; /* one-shot: missed intervals unanswered */
	struct ev_source sock; /* the probe protocol on the uplink only */
	uint8_t mac[ETH_ALEN]; /* the uplink's, the probes' source */
	struct in6_addr src6; /* NS: its link-local address, or :: */
	struct monitor_stats stats;
};

/* The uplink is down unless an answer comes within missed x interval. */
static void arm_deadline(struct monitor *m)
{
	const struct conf_monitor *c = &m->u->conf.monitor;
	uint64_t ms = (uint64_t)c->missed * c->interval_ms;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	if (timerfd_settime(m->deadline.fd, 0, &its, NULL) < 0)
		log_warnx("uplink %s: cannot arm its probe deadline: %s",
			  m->u->conf.name, strerror(errno));
}

/* The uplink's own MAC and, for ND, a link-local address to ask from. */
static int own_addresses(struct monitor *m, int fd)
{
	struct ifreq ifr = { 0 };
	struct ifaddrs *ifa, *i;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", m->u->conf.device);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(m->mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (m->u->conf.monitor.type != CONF_MON_NS || getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in6 *s6 = (void *)i->ifa_addr;

		if (s6 && s6->sin6_family == AF_INET6 &&
		    !strcmp(i->ifa_name, m->u->conf.device) &&
		    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) {
			m->src6 = s6->sin6_addr;
			break;
		}
	}
	freeifaddrs(ifa);
	return 0;
}

static void send_probe(struct monitor *m)
{
	const struct conf_monitor *c = &m->u->conf.monitor;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = m->u->ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint8_t f[FRAME_MAX];
	size_t len;

	len = c->type == CONF_MON_ARP
		      ? frame_arp_probe(f, m->mac, &c->target4)
		      : frame_ns_probe(f, m->mac, &m->src6, &c->target6);
	len = frame_tag(f, len, c->vlan);
	memcpy(sll.sll_addr, f, ETH_ALEN);
	/* A probe that cannot leave (no carrier) is simply not answered. */
	if (sendto(m->sock.fd, f, len, MSG_DONTWAIT, (struct sockaddr *)&sll,
		   sizeof(sll)) >= 0)
		m->stats.sent++;
}

static void on_timer(struct ev_source *src, uint32_t events)
{
	struct monitor *m = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0)
		return;
	send_probe(m);
}

/* Take every answer waiting on the socket; whether there was one. */
static bool take_answers(struct monitor *m)
{
	const struct conf_monitor *c = &m->u->conf.monitor;
	bool any = false;
	uint8_t f[256];
	ssize_t n;

	while ((n = recv(m->sock.fd, f, sizeof(f), MSG_DONTWAIT)) >= 0) {
		bool ok = c->type == CONF_MON_ARP
				  ? frame_is_arp_answer(f, (size_t)n, m->mac,
							&c->target4)
				  : frame_is_na_answer(f, (size_t)n, m->mac,
						       &m->src6, &c->target6);

		if (!ok)
			continue;
		any = true;
		arm_deadline(m);
		m->stats.answered++;
		m->stats.answer_ms = now_ms();
		if (!m->u->probe_ok) {
			log_info("uplink %s (%s): %s answers again",
				 m->u->conf.name, m->u->conf.device,
				 monitor_target(m->u));
			state_uplink_probe(m->g, m->u, true);
		}
	}
	return any;
}

/*
 * The deadline passed without an answer, as far as gonad has read. An
 * answer that came in time may still wait on the socket (gonad was not
 * scheduled, or the deadline's event came first in the same batch): a
 * busy driver domain must not take a live uplink down, so the socket is
 * read first.
 */
static void on_deadline(struct ev_source *src, uint32_t events)
{
	struct monitor *m = src->arg;
	const struct conf_monitor *c = &m->u->conf.monitor;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 ||
	    !m->u->probe_ok || take_answers(m))
		return;
	log_warnx("uplink %s (%s): no answer from %s for %u ms",
		  m->u->conf.name, m->u->conf.device, monitor_target(m->u),
		  c->missed * c->interval_ms);
	state_uplink_probe(m->g, m->u, false);
}

static void on_frame(struct ev_source *src, uint32_t events)
{
	(void)events;
	take_answers(src->arg);
}

void monitor_stats(const struct uplink *u, struct monitor_stats *out)
{
	if (u->mon)
		*out = u->mon->stats;
	else
		*out = (struct monitor_stats){ 0 };
}

const char *monitor_target(const struct uplink *u)
{
	static char buf[INET6_ADDRSTRLEN];
	const struct conf_monitor *c = &u->conf.monitor;

	if (c->type == CONF_MON_ARP)
		return inet_ntop(AF_INET, &c->target4, buf, sizeof(buf));
	return inet_ntop(AF_INET6, &c->target6, buf, sizeof(buf));
}

int monitor_sock_filter(int fd, uint16_t proto, uint32_t vid)
{
	/* Built in order; "reject" jumps are patched to the last
	 * instruction once its place is known. */
	struct sock_filter code[16];
	struct sock_fprog prog = { .filter = code };
	unsigned int n = 0, rejects[4], nr = 0;

	code[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		(uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE));
	rejects[nr++] = n;
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 PACKET_OUTGOING, 0, 0);
	code[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		(uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
	rejects[nr++] = n;
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 vid ? 0 : 1, 0, 0);
	if (vid) {
		code[n++] = (struct sock_filter)BPF_STMT(
			BPF_LD | BPF_W | BPF_ABS,
			(uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG));
		code[n++] = (struct sock_filter)BPF_STMT(
			BPF_ALU | BPF_AND | BPF_K, 0x0fff);
		/* Not VID: reject (patched as a false branch below). */
		rejects[nr++] = n | 0x8000;
		code[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, vid, 0, 0);
	}
	code[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		(uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL));
	rejects[nr++] = n | 0x8000;
	code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						 proto, 0, 0);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	/* A jump's offsets count from the instruction after it. The first
	 * two reject when they match, the others when they do not. */
	for (unsigned int i = 0; i < nr; i++) {
		unsigned int at = rejects[i] & 0x7fff;
		uint8_t off = (uint8_t)(n - 1 - (at + 1));

		if (rejects[i] & 0x8000)
			code[at].jf = off;
		else
			code[at].jt = off;
	}
	prog.len = (unsigned short)n;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) <
	    0)
		return -errno;
	return 0;
}

int monitor_start(struct gonad *g, struct uplink *u)
{
	const struct conf_monitor *c = &u->conf.monitor;
	uint16_t type = c->type == CONF_MON_ARP ? ETH_P_ARP : ETH_P_IPV6;
	uint16_t proto = htons(c->vlan ? ETH_P_ALL : type);
	struct itimerspec its = {
		.it_interval = { .tv_sec = c->interval_ms / 1000,
				 .tv_nsec = (long)(c->interval_ms % 1000) *
					    1000000 },
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = proto,
		.sll_ifindex = u->ifindex,
	};
	struct monitor *m;
	int r;

	if (c->type == CONF_MON_NONE)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->g = g;
	m->u = u;
	m->timer.fd = -1;
	m->deadline.fd = -1;
	/* Bound to no protocol until the filter is on: nothing unfiltered
	 * is queued meanwhile. */
	m->sock.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (m->sock.fd < 0)
		goto err_errno;
	if (c->vlan) {
		r = monitor_sock_filter(m->sock.fd, type, c->vlan);
		if (r)
			goto err;
	}
	if (bind(m->sock.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err_errno;
	r = own_addresses(m, m->sock.fd);
	if (r)
		goto err;
	m->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer.fd < 0)
		goto err_errno;
	its.it_value = its.it_interval;
	if (timerfd_settime(m->timer.fd, 0, &its, NULL) < 0)
		goto err_errno;
	m->deadline.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->deadline.fd < 0)
		goto err_errno;
	m->deadline.ready = on_deadline;
	m->deadline.arg = m;
	m->timer.ready = on_timer;
	m->timer.arg = m;
	m->sock.ready = on_frame;
	m->sock.arg = m;
	r = ev_add(g, &m->timer, EPOLLIN);
	if (!r)
		r = ev_add(g, &m->deadline, EPOLLIN);
	if (!r)
		r = ev_add(g, &m->sock, EPOLLIN);
	if (r)
		goto err;
	/* Trusted until probes go unanswered, as at any other time. */
	u->probe_ok = true;
	u->mon = m;
	arm_deadline(m);
	send_probe(m);
	return 0;
err_errno:
	r = -errno;
err:
	if (m->sock.fd >= 0)
		close(m->sock.fd);
	if (m->timer.fd >= 0)
		close(m->timer.fd);
	if (m->deadline.fd >= 0)
		close(m->deadline.fd);
	free(m);
	log_warnx("uplink %s (%s): cannot start its %s monitor (%s): "
		  "serving it on carrier alone",
		  u->conf.name, u->conf.device,
		  c->type == CONF_MON_ARP ? "ARP" : "ND", strerror(-r));
	return r;
}

void monitor_stop(struct gonad *g, struct uplink *u)
{
	struct monitor *m = u->mon;

	if (!m)
		return;
	ev_del(g, &m->sock);
	ev_del(g, &m->timer);
	ev_del(g, &m->deadline);
	close(m->sock.fd);
	close(m->timer.fd);
	close(m->deadline.fd);
	free(m);
	u->mon = NULL;
	u->probe_ok = true;
}
