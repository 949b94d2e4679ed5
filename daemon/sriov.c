/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV VFs as uplinks. A VF's NIC drops the frames it sends from a
 * source MAC that is not one of the VF's (spoof checking, on by default)
 * and delivers to it only frames for the MACs in its filter; gona's
 * guests send and receive with MACs of their own. So, for an uplink that
 * is a VF (a PCI device with a physfn):
 *
 * - where its PF is in this domain too, gonad turns the VF's trust on and
 *   its spoof checking off through the PF, records what it changed in the
 *   owned map (for the gonad after a restart) and puts it back on a clean
 *   stop;
 * - either way, each guest placed on it has its MAC in the VF's unicast
 *   filter ("bridge fdb add MAC dev VF self", which the VF's driver passes
 *   on to the PF; the PF also lets the VF send from the MACs it filters),
 *   added before the guest's frames go there and removed after they stop.
 *
 * The kernel accepts a filter entry whatever the VF and its PF then do
 * with it (the driver's filter table full, the PF refusing an untrusted
 * VF), so gonad checks each one: on a VF uplink with an ARP monitor, it
 * sends an ARP probe from the guest's MAC to the monitor's target, whose
 * answer comes back to that MAC only if the VF takes it (and, on a NIC
 * that checks sources, only if the VF may send from it). No answer after
 * VF_CHECK_TRIES probes is a refusal: the guest is barred from that
 * uplink and placed elsewhere, and the refusal is said by name in the
 * log, uplink show and status. Without an ARP target the entries stay
 * unchecked, and uplink show says so.
 *
 * A VF also takes tagged frames only of the VLANs it asked its PF for: for
 * each VLAN of a guest placed on it gonad creates an 802.1Q device on it
 * ("gonaSLOT.VID", left down: the data path takes the guests' frames before
 * it would see them), which asks the PF; without 8021q that guest is
 * barred from the VF.
 *
 * What a VF is comes from sysfs (/sys/bus/pci is not per network
 * namespace) and the driver's bus address (ethtool), which are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>

#include "daemon/gonad.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
/* Under software emulation a VF's filter follows the mailbox seconds
 * late, more so while its PF resets; on hardware the first probe is
 * answered. Halfway, the entry is made again (a VF driver that missed
 * the PF's answer during a reset sends it again). */
#define VF_CHECK_TRIES 10
#define VF_CHECK_MS 300 /* between probes */

/* The checks of one VF uplink's filter entries. */
struct vf_check {
	struct gonad *g;
	struct uplink *u;
	struct ev_source sock; /* ARP answers, before the data path */
	struct ev_source timer; /* periodic while entries are unchecked */
	bool armed;
};
#define PATH_MAX_VF 512

/* The bus address of device NAME in this namespace ("0000:01:10.0"),
 * "" when it has none (a veth, a bridge). */
static void bus_info(int fd, const char *name, char *out, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };

	out[0] = '\0';
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&di;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return;
	snprintf(out, len, "%.*s", (int)sizeof(di.bus_info), di.bus_info);
}

/* The last part of the symbolic link PATH ("../0000:01:00.0"). */
static int link_base(const char *path, char *out, size_t len)
{
	char buf[256];
	const char *base;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	memcpy(out, base, strlen(base) + 1);
	return 0;
}

int sriov_identify(const char *dev, struct vf_id *id)
{
	char path[PATH_MAX_VF], other[sizeof(id->bus)];
	struct if_nameindex *names, *n;
	int fd, r;

	memset(id, 0, sizeof(*id));
	id->index = -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	bus_info(fd, dev, id->bus, sizeof(id->bus));
	if (!id->bus[0] || strchr(id->bus, '/')) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/physfn", id->bus);
	if (link_base(path, id->pf_bus, sizeof(id->pf_bus)) < 0) {
		close(fd);
		return 0;
	}
	id->is_vf = true;
	for (int i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/virtfn%d",
			 id->pf_bus, i);
		r = link_base(path, other, sizeof(other));
		if (r == -ENOENT)
			break;
		if (!r && !strcmp(other, id->bus)) {
			id->index = i;
			break;
		}
	}
	/* The PF's netdev, if it is in this namespace. */
	names = if_nameindex();
	for (n = names; n && n->if_index; n++) {
		if (!strcmp(n->if_name, dev))
			continue;
		bus_info(fd, n->if_name, other, sizeof(other));
		if (!strcmp(other, id->pf_bus)) {
			id->pf_ifindex = (int)n->if_index;
			snprintf(id->pf_name, sizeof(id->pf_name), "%s",
				 n->if_name);
			break;
		}
	}
	if (names)
		if_freenameindex(names);
	close(fd);
	return 0;
}

static const char *mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

/* The VF as its PF reports it now, into U (PF here only). */
static void refresh(struct gonad *g, struct uplink *u)
{
	uint32_t vlan = u->vf_state.vlan;
	int r;

	if (!u->vf.pf_ifindex || u->vf.index < 0)
		return;
	r = nl_vf_get(g->nl, u->vf.pf_ifindex, u->vf.index, &u->vf_state);
	if (r) {
		log_warnx("uplink %s (%s): its PF %s does not report VF %d: %s",
			  u->conf.name, u->conf.device, u->vf.pf_name,
			  u->vf.index, strerror(-r));
		return;
	}
	/* A port VLAN set or lifted: who may be placed there changed. */
	if (u->vf_state.vlan == vlan)
		return;
	if (u->vf_state.vlan)
		log_info("uplink %s (%s): its PF puts VF %d in port VLAN %u",
			 u->conf.name, u->conf.device, u->vf.index,
			 u->vf_state.vlan);
	else
		log_info("uplink %s (%s): its PF puts VF %d in no port VLAN",
			 u->conf.name, u->conf.device, u->vf.index);
	g->vf_replace = true;
}

/* Turn ATTR of U's VF to ON through its PF; true if it changed. */
static bool vf_set(struct gonad *g, struct uplink *u, int attr, bool on,
		   const char *what)
{
	int r = nl_vf_set(g->nl, u->vf.pf_ifindex, u->vf.index, attr, on);

	if (r) {
		log_warnx("uplink %s (%s): cannot turn VF %d's %s %s through "
			  "its PF %s: %s",
			  u->conf.name, u->conf.device, u->vf.index, what,
			  on ? "on" : "off", u->vf.pf_name, strerror(-r));
		snprintf(u->vf_error, sizeof(u->vf_error),
			 "its PF %s refused to turn its %s %s: %s",
			 u->vf.pf_name, what, on ? "on" : "off", strerror(-r));
		return false;
	}
	log_info("uplink %s (%s): VF %d's %s turned %s through its PF %s",
		 u->conf.name, u->conf.device, u->vf.index, what,
		 on ? "on" : "off", u->vf.pf_name);
	return true;
}

/* Remove GU's MAC from the filter of the VF uplink in SLOT. */
static void filter_del(struct gonad *g, struct guest *gu, unsigned int slot)
{
	struct uplink *u = &g->uplinks[slot];
	char m[18];
	int r = 0;

	if (u->attached)
		r = nl_fdb_self(g->nl, u->ifindex, gu->conf.mac, false);
	if (r && r != -ENOENT)
		log_warnx("uplink %s (%s): cannot remove guest %s's MAC %s "
			  "from the VF's filter: %s",
			  u->conf.name, u->conf.device, gu->conf.name,
			  mac_str(gu->conf.mac, m, sizeof(m)), strerror(-r));
	u->vf_vlans_stale = true;
	gu->vf_filtered &= ~(1u << slot);
	gu->vf_pending &= ~(1u << slot);
	gu->vf_checked &= ~(1u << slot);
	if (u->vf_filters)
		u->vf_filters--;
}

static void check_arm(struct vf_check *c, bool on)
{
	struct itimerspec its = { 0 };

	if (c->armed == on)
		return;
	if (on) {
		its.it_interval.tv_nsec = VF_CHECK_MS * 1000000L;
		its.it_value.tv_nsec = 1000000L;
	}
	if (timerfd_settime(c->timer.fd, 0, &its, NULL) == 0)
		c->armed = on;
}

/* GU's new entry in U's filter, to be checked (if U can check). */
static void check_start(struct uplink *u, struct guest *gu)
{
	uint32_t bit = 1u << u->slot;

	if (!u->vfc)
		return;
	gu->vf_pending |= bit;
	gu->vf_checked &= ~bit;
	gu->vf_tries[u->slot] = 0;
	check_arm(u->vfc, true);
}

static void refuse(struct gonad *g, struct uplink *u, struct guest *gu,
		   const char *why)
{
	char m[18];

	snprintf(u->vf_error, sizeof(u->vf_error),
		 "VF refused guest %s's MAC %s: %s", gu->conf.name,
		 mac_str(gu->conf.mac, m, sizeof(m)), why);
	log_warnx("uplink %s (%s): %s; the guest is not placed there",
		  u->conf.name, u->conf.device, u->vf_error);
	snprintf(g->vf_error, sizeof(g->vf_error), "uplink %s (%s): %.200s",
		 u->conf.name, u->conf.device, u->vf_error);
	gu->vf_refused |= 1u << u->slot;
	g->vf_replace = true;
}

/* Every VF_CHECK_MS: a probe from each unchecked guest MAC; one that had
 * VF_CHECK_TRIES unanswered is refused. Nothing counts while the uplink
 * is down. */
static void on_check_timer(struct ev_source *src, uint32_t events)
{
	struct vf_check *c = src->arg;
	struct uplink *u = c->u;
	const struct conf_monitor *mon = &u->conf.monitor;
	uint32_t bit = 1u << u->slot;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = u->ifindex,
				   .sll_halen = ETH_ALEN };
	uint8_t f[FRAME_MAX];
	uint64_t n;
	bool more = false;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) < 0)
		return;
	for (size_t i = 0; i < c->g->n_guests; i++) {
		struct guest *gu = c->g->guests[i];
		size_t len;

		if (!(gu->vf_pending & bit))
			continue;
		if (mon->type != CONF_MON_ARP) {
			gu->vf_pending &= ~bit;
			continue;
		}
		more = true;
		if (!u->up)
			continue;
		if (gu->vf_tries[u->slot] >= VF_CHECK_TRIES) {
			char why[96];

			snprintf(why, sizeof(why),
				 "no answer from %s to it in %d probes",
				 monitor_target(u), VF_CHECK_TRIES);
			filter_del(c->g, gu, u->slot);
			refuse(c->g, u, gu, why);
			continue;
		}
		if (gu->vf_tries[u->slot] == VF_CHECK_TRIES / 2) {
			nl_fdb_self(c->g->nl, u->ifindex, gu->conf.mac, false);
			nl_fdb_self(c->g->nl, u->ifindex, gu->conf.mac, true);
		}
		gu->vf_tries[u->slot]++;
		len = frame_tag(f,
				frame_arp_probe(f, gu->conf.mac, &mon->target4),
				mon->vlan);
		memcpy(sll.sll_addr, f, ETH_ALEN);
		sendto(c->sock.fd, f, len, MSG_DONTWAIT,
		       (struct sockaddr *)&sll, sizeof(sll));
	}
	if (!more)
		check_arm(c, false);
}

static void on_check_answer(struct ev_source *src, uint32_t events)
{
	struct vf_check *c = src->arg;
	struct uplink *u = c->u;
	uint32_t bit = 1u << u->slot;
	uint8_t f[256];
	ssize_t n;

	(void)events;
	while ((n = recv(src->fd, f, sizeof(f), MSG_DONTWAIT)) >= 0) {
		for (size_t i = 0; i < c->g->n_guests; i++) {
			struct guest *gu = c->g->guests[i];
			char m[18];

			if (!(gu->vf_pending & bit) ||
			    !frame_is_arp_answer(f, (size_t)n, gu->conf.mac,
						 &u->conf.monitor.target4))
				continue;
			gu->vf_pending &= ~bit;
			gu->vf_checked |= bit;
			log_info("uplink %s (%s): VF takes guest %s's MAC %s "
				 "(%s answered it)",
				 u->conf.name, u->conf.device, gu->conf.name,
				 mac_str(gu->conf.mac, m, sizeof(m)),
				 monitor_target(u));
		}
	}
}

static void check_close(struct gonad *g, struct uplink *u)
{
	struct vf_check *c = u->vfc;

	if (!c)
		return;
	ev_del(g, &c->sock);
	ev_del(g, &c->timer);
	close(c->sock.fd);
	close(c->timer.fd);
	free(c);
	u->vfc = NULL;
	for (size_t i = 0; i < g->n_guests; i++)
		g->guests[i]->vf_pending &= ~(1u << u->slot);
}

/* U's checker: an ARP socket on the VF that sees answers before the data
 * path takes them to the guests, and a timer. Only with an ARP monitor. */
static void check_open(struct gonad *g, struct uplink *u)
{
	const struct conf_monitor *mon = &u->conf.monitor;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = u->ifindex };
	struct vf_check *c;
	int r;

	if (mon->type != CONF_MON_ARP)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->g = g;
	c->u = u;
	c->timer.fd = -1;
	c->sock.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	r = c->sock.fd < 0 ? -errno : 0;
	if (!r)
		r = monitor_sock_filter(c->sock.fd, ETH_P_ARP, mon->vlan);
	if (!r && bind(c->sock.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = -errno;
	if (!r) {
		c->timer.fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		r = c->timer.fd < 0 ? -errno : 0;
	}
	c->sock.ready = on_check_answer;
	c->sock.arg = c;
	c->timer.ready = on_check_timer;
	c->timer.arg = c;
	if (!r)
		r = ev_add(g, &c->sock, EPOLLIN);
	if (!r && (r = ev_add(g, &c->timer, EPOLLIN)))
		ev_del(g, &c->sock);
	if (r) {
		log_warnx("uplink %s (%s): cannot check the VF's filter: %s",
			  u->conf.name, u->conf.device, strerror(-r));
		if (c->sock.fd >= 0)
			close(c->sock.fd);
		if (c->timer.fd >= 0)
			close(c->timer.fd);
		free(c);
		return;
	}
	u->vfc = c;
}

uint32_t sriov_pf_slots(const struct gonad *g, int pf_ifindex)
{
	uint32_t bits = 0;

	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].attached && g->uplinks[i].vf.is_vf &&
		    g->uplinks[i].vf.pf_ifindex == pf_ifindex)
			bits |= 1u << i;
	return bits;
}

/* The tracer follows PF_IFINDEX's carrier for its VF uplinks, EXTRA (a
 * slot being attached) included. */
static void pf_follow(struct gonad *g, int pf_ifindex, uint32_t extra,
		      uint32_t gone)
{
	int r;

	if (!pf_ifindex)
		return;
	r = dp_set_vf_pf(g->dp, pf_ifindex,
			 (sriov_pf_slots(g, pf_ifindex) | extra) & ~gone);
	if (r)
		log_warnx("PF ifindex %d: cannot follow its carrier in the "
			  "data path: %s",
			  pf_ifindex, strerror(-r));
}

/* Whether PF NAME is up and running now (its carrier). */
static bool pf_running(const char *name)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool on = true;

	if (fd < 0)
		return true;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		on = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return on;
}

void sriov_uplink_attach(struct gonad *g, struct uplink *u, uint32_t was)
{
	int r = sriov_identify(u->conf.device, &u->vf);

	u->vf_error[0] = '\0';
	u->vf_made_trust = was & GONA_OWN_VF_TRUST;
	u->vf_made_nospoof = was & GONA_OWN_VF_NOSPOOF;
	if (r)
		log_warnx("uplink %s (%s): cannot tell whether it is a VF: %s",
			  u->conf.name, u->conf.device, strerror(-r));
	if (!u->vf.is_vf)
		return;
	check_open(g, u);
	if (!u->vf.pf_ifindex || u->vf.index < 0) {
		log_info("uplink %s (%s): VF %d of PF %s, which is not in this "
			 "domain: guests' MACs go to its filter, its trust and "
			 "spoof checking stay as the PF has them",
			 u->conf.name, u->conf.device, u->vf.index,
			 u->vf.pf_bus);
		return;
	}
	log_info("uplink %s (%s): VF %d of PF %s (%s)", u->conf.name,
		 u->conf.device, u->vf.index, u->vf.pf_name, u->vf.pf_bus);
	/* Its carrier is its PF's too: not every VF hears of the PF's. */
	u->pf_down = !pf_running(u->vf.pf_name);
	u->pf_carrier_changes = 0;
	pf_follow(g, u->vf.pf_ifindex, 1u << u->slot, 0);
	refresh(g, u);
	if (u->vf_state.trust == 0 &&
	    vf_set(g, u, IFLA_VF_TRUST, true, "trust"))
		u->vf_made_trust = true;
	if (u->vf_state.spoofchk == 1 &&
	    vf_set(g, u, IFLA_VF_SPOOFCHK, false, "spoof checking"))
		u->vf_made_nospoof = true;
	refresh(g, u);
}

static bool has_vid(const uint64_t *set, uint32_t vid)
{
	return set[vid / 64] & (1ull << (vid % 64));
}

static void vlan_name(const struct uplink *u, uint32_t vid, char *buf,
		      size_t len)
{
	snprintf(buf, len, "gona%u.%u", u->slot, vid);
}

/* The VLANs of GU on VF uplink U, asked for from the PF where they are
 * not yet; 0, or the error of the first that could not be. */
static int vlans_add(struct gonad *g, struct uplink *u, struct guest *gu,
		     char *why, size_t len)
{
	if (!gu->conf.vlan && !conf_guest_is_trunk(&gu->conf))
		return 0;
	for (uint32_t v = 1; v <= CONF_VLAN_MAX; v++) {
		char name[IFNAMSIZ];
		int r;

		if ((v != gu->conf.vlan && !conf_vlan_has(gu->conf.vlans, v)) ||
		    has_vid(u->vf_vlans, v))
			continue;
		vlan_name(u, v, name, sizeof(name));
		r = nl_vlan_dev(g->nl, u->ifindex, name, (uint16_t)v, true);
		if (r == -EEXIST)
			r = 0;
		if (r) {
			snprintf(why, len,
				 "cannot have the VF take VLAN %u (a VLAN "
				 "device on it): %s",
				 v, strerror(-r));
			return r;
		}
		u->vf_vlans[v / 64] |= 1ull << (v % 64);
	}
	return 0;
}

void sriov_settle(struct gonad *g)
{
	for (size_t s = 0; s < g->n_uplinks; s++) {
		struct uplink *u = &g->uplinks[s];
		uint64_t want[64] = { 0 };

		if (!u->vf_vlans_stale)
			continue;
		u->vf_vlans_stale = false;
		for (size_t i = 0; i < g->n_guests; i++) {
			const struct guest *gu = g->guests[i];

			if (!(gu->homes & (1u << s)))
				continue;
			for (int w = 0; w < 64; w++)
				want[w] |= gu->conf.vlans[w];
			if (gu->conf.vlan)
				want[gu->conf.vlan / 64] |=
					1ull << (gu->conf.vlan % 64);
		}
		for (uint32_t v = 1; v <= CONF_VLAN_MAX; v++) {
			char name[IFNAMSIZ];
			int r;

			if (!has_vid(u->vf_vlans, v) || has_vid(want, v))
				continue;
			vlan_name(u, v, name, sizeof(name));
			r = u->attached ? nl_vlan_dev(g->nl, 0, name, 0, false)
					: 0;
			if (r && r != -ENODEV)
				log_warnx(
					"uplink %s (%s): cannot remove %s: %s",
					u->conf.name, u->conf.device, name,
					strerror(-r));
			u->vf_vlans[v / 64] &= ~(1ull << (v % 64));
		}
	}
}

bool sriov_guest_add(struct gonad *g, struct guest *gu)
{
	bool refused = false;

	for (unsigned int s = 0; s < g->n_uplinks; s++) {
		struct uplink *u = &g->uplinks[s];
		uint32_t bit = 1u << s;
		char why[160];

		if (!(gu->homes & bit) || !u->attached || !u->vf.is_vf)
			continue;
		if (!(gu->vf_filtered & bit)) {
			int r = nl_fdb_self(g->nl, u->ifindex, gu->conf.mac,
					    true);

			if (r && r != -EEXIST) {
				refuse(g, u, gu, strerror(-r));
				refused = true;
				continue;
			}
			gu->vf_filtered |= bit;
			u->vf_filters++;
			check_start(u, gu);
		}
		/* Its VLANs, new or changed since. */
		if (!vlans_add(g, u, gu, why, sizeof(why)))
			continue;
		filter_del(g, gu, s);
		refuse(g, u, gu, why);
		refused = true;
	}
	return refused;
}

void sriov_guest_prune(struct gonad *g, struct guest *gu)
{
	for (unsigned int s = 0; s < g->n_uplinks; s++)
		if ((gu->vf_filtered & (1u << s)) && !(gu->homes & (1u << s)))
			filter_del(g, gu, s);
}

void sriov_vlans_changed(struct gonad *g)
{
	for (size_t s = 0; s < g->n_uplinks; s++)
		if (g->uplinks[s].vf.is_vf)
			g->uplinks[s].vf_vlans_stale = true;
}

void sriov_guest_forget(struct gonad *g, struct guest *gu)
{
	for (unsigned int s = 0; s < g->n_uplinks; s++)
		if (gu->vf_filtered & (1u << s))
			filter_del(g, gu, s);
	gu->vf_refused = 0;
}

void sriov_uplink_release(struct gonad *g, struct uplink *u, bool gone)
{
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		uint32_t bit = 1u << u->slot;

		/* A device that is gone took its filter with it. */
		if ((gu->vf_filtered & bit) && !gone)
			filter_del(g, gu, u->slot);
		gu->vf_filtered &= ~bit;
		gu->vf_refused &= ~bit;
	}
	check_close(g, u);
	pf_follow(g, u->vf.pf_ifindex, 0, 1u << u->slot);
	u->pf_down = false;
	/* Its VLAN devices: gone with a device that is gone. */
	for (uint32_t v = 1; v <= CONF_VLAN_MAX; v++) {
		char name[IFNAMSIZ];

		if (!has_vid(u->vf_vlans, v) || gone)
			continue;
		vlan_name(u, v, name, sizeof(name));
		nl_vlan_dev(g->nl, 0, name, 0, false);
	}
	memset(u->vf_vlans, 0, sizeof(u->vf_vlans));
	u->vf_vlans_stale = false;
	if (u->vf.pf_ifindex && u->vf_made_trust &&
	    vf_set(g, u, IFLA_VF_TRUST, false, "trust"))
		u->vf_made_trust = false;
	if (u->vf.pf_ifindex && u->vf_made_nospoof &&
	    vf_set(g, u, IFLA_VF_SPOOFCHK, true, "spoof checking"))
		u->vf_made_nospoof = false;
	memset(&u->vf, 0, sizeof(u->vf));
	u->vf_filters = 0;
}

void sriov_uplink_report(struct gonad *g, struct uplink *u)
{
	if (u->vf.is_vf)
		refresh(g, u);
}

void sriov_release_leftover(struct gonad *g, const char *dev, uint32_t own)
{
	struct uplink u = { 0 };

	snprintf(u.conf.name, sizeof(u.conf.name), "(former)");
	snprintf(u.conf.device, sizeof(u.conf.device), "%s", dev);
	if (sriov_identify(dev, &u.vf) || !u.vf.pf_ifindex || u.vf.index < 0)
		return;
	u.vf_made_trust = own & GONA_OWN_VF_TRUST;
	u.vf_made_nospoof = own & GONA_OWN_VF_NOSPOOF;
	sriov_uplink_release(g, &u, false);
}
