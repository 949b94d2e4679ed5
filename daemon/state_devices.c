/* SPDX-License-Identifier: MIT */
/* Devices coming and going: an uplink or guest interface appearing,
 * taken over (filters, maps, shaping, what the owned map records for the
 * next gonad), losing carrier (its own or its PF's), going, and given
 * back; up and down delays; the resync after lost netlink events; what a
 * previous gonad left behind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/state_int.h"

const char *uplink_cause_name(enum uplink_cause c)
{
	static const char *const names[] = {
		[CAUSE_NONE] = "-",	     [CAUSE_DEVICE] = "device",
		[CAUSE_CARRIER] = "carrier", [CAUSE_ADMIN] = "admin",
		[CAUSE_PROBE] = "probe",     [CAUSE_LACP] = "lacp",
	};

	return c < sizeof(names) / sizeof(names[0]) && names[c] ? names[c]
								: "?";
}

static bool uplink_healthy(const struct uplink *u)
{
	return u->attached && u->carrier && u->admin_up && u->probe_ok &&
	       u->lacp_ok;
}

/* Arm the delays timer for the earliest pending change, or disarm it. */
static void arm_delays(struct gonad *g)
{
	struct itimerspec its = { 0 };
	uint64_t next = 0, now = now_ms(), d;

	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].pending &&
		    (!next || g->uplinks[i].pending_due_ms < next))
			next = g->uplinks[i].pending_due_ms;
	if (next) {
		d = next > now ? next - now : 1;
		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000;
	}
	if (g->delays.fd >= 0 &&
	    timerfd_settime(g->delays.fd, 0, &its, NULL) < 0)
		log_warnx("uplink delays: cannot arm the timer: %s",
			  strerror(errno));
}

/* Make the uplink carry traffic or not, now, for CAUSE. */
static void uplink_apply(struct gonad *g, struct uplink *u,
			 enum uplink_cause cause)
{
	bool up = uplink_healthy(u);
	uint64_t t0 = now_us();
	struct gona_uplink v;
	int r;

	u->pending = false;
	if (up == u->up)
		return;
	u->up = up;
	/* The map first: from the next packet on, the data path avoids a
	 * dead uplink, before any placement work is done. */
	v = uplink_value(u);
	r = dp_set_uplink(g->dp, u->slot, u->ifindex, &v);
	if (r)
		log_warnx("uplink %s (%s): cannot update the data path: %s "
			  "(trying again each sample)",
			  u->conf.name, u->conf.device, err_str(r));
	u->dp_stale = r != 0;
	u->switch_us = now_us() - t0;
	u->cause = cause;
	if (up && u->changed_ms)
		u->last_out_ms = now_ms() - u->changed_ms;
	u->changed_ms = now_ms();
	if (!up)
		u->n_down++;
	log_info("uplink %s (%s): %s (%s)", u->conf.name, u->conf.device,
		 up ? "up" : "down", uplink_cause_name(cause));
	push_globals(g);
	/* A resync places once, at its end, with every uplink known. */
	if (!g->resyncing)
		place_guests(g, up && g->conf->policy.failback ? POL_FULL
							       : POL_KEEP);
	u->place_us = now_us() - t0;
}

/*
 * Recompute whether the uplink carries traffic after CAUSE. A drain and a
 * device coming or going act at once; a failure or a recovery (carrier,
 * probes) waits policy.downdelay_ms / updelay_ms, and is forgotten if the
 * uplink is back to its state meanwhile.
 */
void uplink_update(struct gonad *g, struct uplink *u, enum uplink_cause cause)
{
	bool want;
	uint32_t delay;

	/* A member's LACP follows its carrier first: without carrier it is
	 * no longer aggregated, and a carrier back may take it up at once
	 * where a previous gonad left it. */
	lacp_carrier(g, u);
	want = uplink_healthy(u);
	delay = want ? g->conf->policy.updelay_ms
		     : g->conf->policy.downdelay_ms;

	if (want == u->up) {
		if (u->pending) {
			u->pending = false;
			log_info("uplink %s (%s): %s again before its %s "
				 "delay ran out",
				 u->conf.name, u->conf.device,
				 want ? "up" : "down", want ? "down" : "up");
			arm_delays(g);
		}
		return;
	}
	/* LACP has its own waits (the partner's timeout, the aggregate
	 * wait); once the partner stops collecting on a member, frames sent
	 * there are lost. */
	if (!delay || cause == CAUSE_ADMIN || cause == CAUSE_DEVICE ||
	    cause == CAUSE_LACP) {
		uplink_apply(g, u, cause);
		arm_delays(g);
		return;
	}
	if (u->pending)
		return;
	u->pending = true;
	u->pending_cause = cause;
	u->pending_due_ms = now_ms() + delay;
	log_info("uplink %s (%s): %s (%s) in %u ms unless it %s meanwhile",
		 u->conf.name, u->conf.device, want ? "up" : "down",
		 uplink_cause_name(cause), delay,
		 want ? "fails again" : "recovers");
	arm_delays(g);
}

void state_delays_due(struct gonad *g)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];

		if (u->pending && u->pending_due_ms <= now)
			uplink_apply(g, u, u->pending_cause);
	}
	arm_delays(g);
}

/* Give the device back: nothing of ours stays on it unless it is GONE
 * (with everything on it). Its guests are not moved yet. */
void uplink_detach(struct gonad *g, struct uplink *u, bool gone)
{
	struct gona_uplink v = { 0 };
	int old = u->ifindex, r;

	if (!u->attached)
		return;
	r = dp_set_uplink(g->dp, u->slot, old, &v);
	if (r)
		log_warnx("uplink %s (%s): cannot update the data path: %s",
			  u->conf.name, u->conf.device, err_str(r));
	monitor_stop(g, u);
	lacp_stop(g, u);
	sriov_uplink_release(g, u, gone);
	dp_set_owned(g->dp, old, 0);
	/* A device that still exists (renamed away) keeps nothing of ours. */
	qos_uplink_detach(g, u, gone);
	if (!gone) {
		dp_detach(g->dp, old, u->made_clsact);
		if (u->made_promisc)
			nl_set_promisc(g->nl, old, false);
	}
	u->attached = false;
	u->made_clsact = false;
	u->made_promisc = false;
	u->carrier = false;
	u->bcast = false;
	u->ifindex = 0;
}

static void uplink_vanish(struct gonad *g, struct uplink *u, bool gone)
{
	if (!u->attached)
		return;
	uplink_detach(g, u, gone);
	log_info("uplink %s (%s): device gone, waiting for it", u->conf.name,
		 u->conf.device);
	uplink_update(g, u, CAUSE_DEVICE);
}

/* Record in the owned map what is ours on U's device, for a gonad that
 * takes over after us. */
void own_uplink(struct gonad *g, const struct uplink *u)
{
	uint32_t f = GONA_OWN_FILTER;
	int r;

	if (!u->attached)
		return;
	f |= u->made_clsact ? GONA_OWN_CLSACT : 0;
	f |= u->made_promisc ? GONA_OWN_PROMISC : 0;
	f |= u->qos_made ? GONA_OWN_QOS : 0;
	f |= u->admin_up ? 0 : GONA_OWN_DRAINED;
	f |= u->probe_ok ? 0 : GONA_OWN_PROBE_DOWN;
	f |= u->lacp_ok ? 0 : GONA_OWN_LACP_DOWN;
	f |= u->vf_made_trust ? GONA_OWN_VF_TRUST : 0;
	f |= u->vf_made_nospoof ? GONA_OWN_VF_NOSPOOF : 0;
	r = dp_set_owned(g->dp, u->ifindex, f);
	if (r)
		log_warnx("uplink %s (%s): cannot record it in the data path: "
			  "%s",
			  u->conf.name, u->conf.device, err_str(r));
}

void own_guest(struct gonad *g, const struct guest *gu)
{
	uint32_t f = GONA_OWN_GUEST | GONA_OWN_FILTER;
	int r;

	if (!gu->attached)
		return;
	f |= gu->made_clsact ? GONA_OWN_CLSACT : 0;
	f |= gu->rx_shaped ? GONA_OWN_QOS : 0;
	r = dp_set_owned(g->dp, gu->ifindex, f);
	if (r)
		log_warnx("guest %s (%s): cannot record it in the data path: "
			  "%s",
			  gu->conf.name, gu->conf.device, err_str(r));
}

/* What the log says of a device attached: one whose filter the previous
 * gonad left is taken over when its data path is this one's; when that
 * data path was replaced (pins of another layout), its filter is. */
static const char *attach_word(const struct gonad *g, uint32_t was)
{
	if (!(was & GONA_OWN_FILTER))
		return "attached";
	return g->adopted ? "taken over"
			  : "attached in place of the replaced data path's "
			    "filter";
}

/* Take the device over: promiscuous mode, maps, filter, shaping. A device
 * a previous gonad served (after a restart or a crash) is taken over as it
 * is: what that gonad made becomes ours to undo, and it keeps carrying
 * traffic meanwhile. */
static int uplink_attach(struct gonad *g, struct uplink *u, int ifindex,
			 unsigned int flags)
{
	struct gona_uplink v;
	uint32_t was = 0;
	int r;

	u->ifindex = ifindex;
	dp_get_owned(g->dp, ifindex, &was);
	/* A guest interface before the restart: its receive shaper is no
	 * uplink tree to take over; its clsact stays ours to remove. */
	if (was & GONA_OWN_GUEST) {
		if (was & GONA_OWN_QOS)
			tc_root_del(g->tc, ifindex);
		was &= GONA_OWN_CLSACT;
	}
	u->made_promisc = was & GONA_OWN_PROMISC;
	/* Frames for the guests carry the guests' MACs; a NIC drops them
	 * in hardware unless it is promiscuous. */
	if (!(flags & IFF_PROMISC)) {
		r = nl_set_promisc(g->nl, ifindex, true);
		if (r)
			log_warnx("uplink %s (%s): cannot set promiscuous "
				  "mode: %s",
				  u->conf.name, u->conf.device, err_str(r));
		else
			u->made_promisc = true;
	}
	sriov_uplink_attach(g, u, was);
	if (was & GONA_OWN_DRAINED && u->admin_up) {
		u->admin_up = false;
		log_info("uplink %s (%s): stays drained, as the previous gonad "
			 "left it",
			 u->conf.name, u->conf.device);
	}
	v = uplink_value(u);
	/* Taken over, it carries traffic until the link state says
	 * otherwise: marking it down while its tree is rebuilt would send
	 * its guests elsewhere meanwhile. */
	if ((was & GONA_OWN_FILTER) && (flags & IFF_UP) &&
	    (flags & IFF_LOWER_UP) && u->admin_up &&
	    !(was & (GONA_OWN_PROBE_DOWN | GONA_OWN_LACP_DOWN))) {
		v.ifindex = (__u32)ifindex;
		v.flags |= GONA_UF_UP;
	}
	r = dp_set_uplink(g->dp, u->slot, 0, &v);
	if (r)
		goto err;
	r = dp_attach(g->dp, NULL, ifindex, DP_UPLINK, 0, &u->made_clsact);
	if (r)
		goto err;
	u->made_clsact |= (was & GONA_OWN_CLSACT) != 0;
	r = qos_uplink_attach(g, u);
	if (r) {
		dp_detach(g->dp, ifindex, u->made_clsact);
		goto err;
	}
	u->attached = true;
	own_uplink(g, u);
	if ((was & GONA_OWN_FILTER) && g->adopted)
		g->adopted_uplinks++;
	log_info("uplink %s (%s): %s, ifindex %d", u->conf.name, u->conf.device,
		 attach_word(g, was), ifindex);
	/* Without its monitor the uplink still serves on carrier alone; the
	 * warning says so. A member that cannot run LACP carries nothing
	 * (the switch would not collect its frames). */
	monitor_start(g, u);
	lacp_start(g, u);
	return 0;
err:
	log_warnx("uplink %s (%s): cannot attach: %s", u->conf.name,
		  u->conf.device, err_str(r));
	if (u->made_promisc)
		nl_set_promisc(g->nl, ifindex, false);
	u->made_promisc = false;
	u->made_clsact = false;
	u->ifindex = 0;
	v = uplink_value(u);
	dp_set_uplink(g->dp, u->slot, ifindex, &v);
	return r;
}

/* What carrier means for U: its own, and for a VF its PF's. */
static void carrier_eval(struct uplink *u)
{
	u->carrier = u->if_up && u->lower_up && !u->pf_down && !u->test_down;
}

void state_uplink_test_carrier(struct gonad *g, struct uplink *u, bool down)
{
	if (u->test_down == down)
		return;
	u->test_down = down;
	log_info("uplink %s (%s): carrier %s for the failover self-test",
		 u->conf.name, u->conf.device, down ? "lost" : "back");
	carrier_eval(u);
	uplink_update(g, u, CAUSE_CARRIER);
}

/* News of the PF of VF uplinks (IFINDEX): its carrier is theirs. CHANGES
 * orders the news (0: unknown); ON its carrier; RTNL: from rtnetlink
 * (else the tracer). */
static void pf_carrier(struct gonad *g, int ifindex, bool on, uint64_t changes,
		       bool rtnl)
{
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];
		bool was = u->carrier;

		if (!u->attached || !u->vf.is_vf || u->vf.pf_ifindex != ifindex)
			continue;
		if (changes && changes < u->pf_carrier_changes)
			continue;
		if (changes)
			u->pf_carrier_changes = changes;
		/* rtnetlink tells of the PF's VF settings (a port VLAN, trust)
		 * by the same news: read them again. */
		if (rtnl)
			sriov_uplink_report(g, u);
		u->pf_down = !on;
		carrier_eval(u);
		if (u->carrier != was)
			log_info("uplink %s (%s): its PF %s %s carrier",
				 u->conf.name, u->conf.device, u->vf.pf_name,
				 on ? "has" : "lost");
		uplink_update(g, u, CAUSE_CARRIER);
	}
}

static void uplink_appear(struct gonad *g, struct uplink *u,
			  const struct nl_link_info *li)
{
	bool fresh = false;

	if (u->attached && u->ifindex != li->ifindex)
		uplink_vanish(g, u, false);
	if (!u->attached) {
		if (uplink_attach(g, u, li->ifindex, li->flags))
			return;
		fresh = true;
	}
	u->if_up = li->flags & IFF_UP;
	/* A message older than the carrier change the tracing told of (the
	 * link watch runs late) says nothing new of the carrier. */
	if (fresh || !li->has_changes ||
	    li->carrier_changes >= u->carrier_changes) {
		u->lower_up = li->flags & IFF_LOWER_UP;
		u->carrier_changes = li->carrier_changes;
	}
	carrier_eval(u);
	uplink_update(g, u, fresh ? CAUSE_DEVICE : CAUSE_CARRIER);
}

void state_carrier(struct gonad *g, int ifindex, bool on, uint64_t changes,
		   uint64_t ns)
{
	struct timespec mono, wall;
	uint64_t mono_ns, wall_ns;
	struct gona_counters c;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	mono_ns =
		(uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	wall_ns =
		(uint64_t)wall.tv_sec * 1000000000ull + (uint64_t)wall.tv_nsec;
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];

		if (!u->attached || u->ifindex != ifindex)
			continue;
		if (changes <= u->carrier_changes)
			return;
		u->carrier_changes = changes;
		u->carrier_lag_us = mono_ns > ns ? (mono_ns - ns) / 1000 : 0;
		u->carrier_at_us = (wall_ns - (mono_ns - ns)) / 1000;
		if (!on && !dp_read_uplink_stats(g->dp, u->slot, &c))
			u->carrier_tx_packets = c.tx_packets;
		u->lower_up = on;
		carrier_eval(u);
		uplink_update(g, u, CAUSE_CARRIER);
		return;
	}
	pf_carrier(g, ifindex, on, changes, false);
}

/* Give the interface back; the guest stays known by its MAC. */
void guest_detach(struct gonad *g, struct guest *gu, bool gone)
{
	struct gona_port p = guest_port(gu, 0);
	int old = gu->ifindex;

	if (!gu->attached)
		return;
	dp_set_owned(g->dp, old, 0);
	qos_guest_detach(g, gu, gone);
	if (!gone)
		dp_detach(g->dp, old, gu->made_clsact);
	gu->attached = false;
	gu->made_clsact = false;
	gu->ifindex = 0;
	dp_set_mac(g->dp, gu->conf.mac, &p);
	push_flood(g, gu);
	dp_del_guest(g->dp, gu->id);
	gu->pushed_ifindex = 0;
}

static void guest_vanish(struct gonad *g, struct guest *gu, bool gone)
{
	if (!gu->attached)
		return;
	guest_detach(g, gu, gone);
	log_info("guest %s (%s): interface gone, waiting for it", gu->conf.name,
		 gu->conf.device);
}

static void guest_attach(struct gonad *g, struct guest *gu, int ifindex)
{
	struct gona_port p = guest_port(gu, ifindex);
	uint32_t was = 0;
	int r;

	if (gu->attached)
		guest_detach(g, gu, false);
	dp_get_owned(g->dp, ifindex, &was);
	/* An uplink before the restart: its tree is no receive shaper and
	 * it needs no promiscuous mode; its clsact stays ours to remove. */
	if (was && !(was & GONA_OWN_GUEST)) {
		if (was & GONA_OWN_QOS)
			tc_root_del(g->tc, ifindex);
		if (was & GONA_OWN_PROMISC)
			nl_set_promisc(g->nl, ifindex, false);
		was &= GONA_OWN_CLSACT;
	}
	/* Maps before the filter: its first frame must find the guest. */
	gu->ifindex = ifindex;
	tc_said_reset(g->tc);
	/* No filter without the entry it reads (it would drop every frame:
	 * the data path fails closed). */
	r = state_push_guest(g, gu);
	if (!r)
		r = dp_set_mac(g->dp, gu->conf.mac, &p);
	if (!r)
		r = dp_attach(g->dp, g->tc, ifindex, DP_GUEST, gu->id,
			      &gu->made_clsact);
	if (r) {
		/* Said once; state_retry tries again at each sample. */
		if (gu->retry_ifindex != ifindex)
			log_warnx("guest %s (%s): cannot attach: %s%s%s%s "
				  "(trying again each sample)",
				  gu->conf.name, gu->conf.device, err_str(r),
				  tc_said(g->tc)[0] ? " (the kernel: " : "",
				  tc_said(g->tc), tc_said(g->tc)[0] ? ")" : "");
		gu->retry_ifindex = ifindex;
		p.ifindex = 0;
		dp_set_mac(g->dp, gu->conf.mac, &p);
		dp_del_guest(g->dp, gu->id);
		gu->pushed_ifindex = 0;
		gu->ifindex = 0;
		return;
	}
	gu->retry_ifindex = 0;
	gu->made_clsact |= (was & GONA_OWN_CLSACT) != 0;
	/* A receive shaper the previous gonad made is changed in place. */
	gu->rx_shaped = (was & GONA_OWN_QOS) != 0;
	gu->attached = true;
	push_flood(g, gu);
	/* Without its receive shaper the guest is still served; the
	 * warning says what is missing. */
	qos_guest_rx(g, gu);
	own_guest(g, gu);
	if ((was & GONA_OWN_FILTER) && g->adopted)
		g->adopted_guests++;
	log_info("guest %s (%s): %s, ifindex %d", gu->conf.name,
		 gu->conf.device, attach_word(g, was), gu->ifindex);
}

static void guest_appear(struct gonad *g, struct guest *gu,
			 const struct nl_link_info *li)
{
	if (gu->attached && gu->ifindex == li->ifindex)
		return;
	/* During a resync, guests wait until every uplink is known and
	 * placement is done, so none is attached without its uplinks. */
	if (g->resyncing) {
		gu->pending_ifindex = li->ifindex;
		return;
	}
	guest_attach(g, gu, li->ifindex);
}

void state_link(struct gonad *g, const struct nl_link_info *li)
{
	if (!li->gone)
		pf_carrier(g, li->ifindex,
			   (li->flags & IFF_UP) && (li->flags & IFF_LOWER_UP),
			   li->has_changes ? li->carrier_changes : 0, true);
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];
		bool named = !strcmp(u->conf.device, li->name);

		if (u->attached && u->ifindex == li->ifindex &&
		    (li->gone || !named))
			uplink_vanish(g, u, li->gone);
		else if (named && !li->gone) {
			u->seen = true;
			uplink_appear(g, u, li);
		}
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		bool named = !strcmp(gu->conf.device, li->name);

		/* An interface it could not be attached to went or was
		 * renamed: nothing to try again. */
		if (gu->retry_ifindex == li->ifindex && (li->gone || !named))
			gu->retry_ifindex = 0;
		if (gu->attached && gu->ifindex == li->ifindex &&
		    (li->gone || !named))
			guest_vanish(g, gu, li->gone);
		else if (named && !li->gone) {
			gu->seen = true;
			guest_appear(g, gu, li);
		}
	}
}

void state_resync_begin(struct gonad *g)
{
	g->resyncing = true;
	for (size_t i = 0; i < g->n_uplinks; i++)
		g->uplinks[i].seen = false;
	for (size_t i = 0; i < g->n_guests; i++)
		g->guests[i]->seen = false;
}

/* What the dump did not show has gone while events were being lost. */
void state_resync_end(struct gonad *g)
{
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (!g->uplinks[i].seen)
			uplink_vanish(g, &g->uplinks[i], true);
	for (size_t i = 0; i < g->n_guests; i++)
		if (!g->guests[i]->seen) {
			guest_vanish(g, g->guests[i], true);
			/* Nothing to try again on an interface gone. */
			g->guests[i]->retry_ifindex = 0;
		}
	g->resyncing = false;
	place_guests(g, POL_KEEP);
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (gu->pending_ifindex)
			guest_attach(g, gu, gu->pending_ifindex);
		gu->pending_ifindex = 0;
	}
}

void state_detach_all(struct gonad *g)
{
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (!gu->attached)
			continue;
		qos_guest_detach(g, gu, false);
		dp_detach(g->dp, gu->ifindex, gu->made_clsact);
		gu->attached = false;
	}
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];

		if (!u->attached)
			continue;
		monitor_stop(g, u);
		sriov_uplink_release(g, u, false);
		qos_uplink_detach(g, u, false);
		dp_detach(g->dp, u->ifindex, u->made_clsact);
		if (u->made_promisc)
			nl_set_promisc(g->nl, u->ifindex, false);
		u->attached = false;
	}
}

void state_leave_all(struct gonad *g)
{
	for (size_t i = 0; i < g->n_uplinks; i++)
		monitor_stop(g, &g->uplinks[i]);
}

static bool serves_ifindex(const struct gonad *g, int ifindex)
{
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].attached && g->uplinks[i].ifindex == ifindex)
			return true;
	for (size_t i = 0; i < g->n_guests; i++)
		if (g->guests[i]->attached && g->guests[i]->ifindex == ifindex)
			return true;
	return false;
}

void state_release_leftovers(struct gonad *g)
{
	struct gona_port none = { 0 };
	struct dp_owned *own;
	uint32_t n_flood = 0;
	size_t n;

	/* Entries by id or MAC still name the interfaces the previous gonad
	 * served: a guest without one now, and an id nobody has, get none. */
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (gu->id >= n_flood)
			n_flood = gu->id + 1;
		if (gu->attached)
			continue;
		none.id = gu->id;
		dp_set_mac(g->dp, gu->conf.mac, &none);
		push_flood(g, gu);
	}
	for (uint32_t id = 0; id < n_flood; id++) {
		none.id = id;
		if (!id_taken(g, id))
			dp_set_flood(g->dp, id, &none);
	}
	if (dp_read_owned(g->dp, &own, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		char name[IF_NAMESIZE] = "?";
		int ifi = own[i].ifindex;
		uint32_t f = own[i].flags;
		int r = 0, e;

		if (serves_ifindex(g, ifi) ||
		    !if_indextoname((unsigned)ifi, name))
			continue;
		if (f & GONA_OWN_FILTER)
			r = dp_detach(g->dp, ifi, f & GONA_OWN_CLSACT);
		if ((f & GONA_OWN_QOS) && (e = tc_root_del(g->tc, ifi)) && !r)
			r = e;
		if ((f & GONA_OWN_PROMISC) &&
		    (e = nl_set_promisc(g->nl, ifi, false)) && !r)
			r = e;
		if (f & (GONA_OWN_VF_TRUST | GONA_OWN_VF_NOSPOOF))
			sriov_release_leftover(g, name, f);
		if (r)
			log_warnx("%s (ifindex %d): the previous gonad served "
				  "it, this configuration does not; cannot "
				  "release all of it: %s",
				  name, ifi, err_str(r));
		else
			log_info("%s (ifindex %d): the previous gonad served "
				 "it, this configuration does not; released",
				 name, ifi);
	}
	free(own);
}

void state_uplink_probe(struct gonad *g, struct uplink *u, bool ok)
{
	u->probe_ok = ok;
	own_uplink(g, u);
	uplink_update(g, u, CAUSE_PROBE);
}

void state_uplink_lacp(struct gonad *g, struct uplink *u, bool ok)
{
	u->lacp_ok = ok;
	own_uplink(g, u);
	uplink_update(g, u, CAUSE_LACP);
}

/*
 * What the kernel refused, tried again (at each sample): a guest's entry,
 * a guest's attaching, an uplink's up or down. Each is said once when
 * refused and once when it goes through; until then gonad's view and the
 * data path's differ, and this is what brings them together.
 */
void state_retry(struct gonad *g)
{
	if (g->resyncing)
		return;
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];
		struct gona_uplink v;

		if (!u->attached || !u->dp_stale)
			continue;
		v = uplink_value(u);
		if (!dp_set_uplink(g->dp, u->slot, u->ifindex, &v)) {
			u->dp_stale = false;
			log_info("uplink %s (%s): the data path has it %s now",
				 u->conf.name, u->conf.device,
				 u->up ? "up" : "down");
		}
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (!gu->attached && gu->retry_ifindex)
			guest_attach(g, gu, gu->retry_ifindex);
		else if (gu->attached && gu->pushed_ifindex != gu->ifindex)
			state_push_guest(g, gu);
	}
}
