/* SPDX-License-Identifier: MIT */
/* gonad's running state: uplinks and guests, how link events change them,
 * and how placement decisions reach the data path maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/gonad.h"
#include "policy/policy.h"

static const char *err_str(int r)
{
	return strerror(r < 0 ? -r : r);
}

static uint32_t alloc_id(struct gonad *g)
{
	for (uint32_t i = 0; i < GONA_MAX_GUESTS; i++) {
		if (!(g->id_used[i / 64] & (1ull << (i % 64)))) {
			g->id_used[i / 64] |= 1ull << (i % 64);
			return i;
		}
	}
	return GONA_MAX_GUESTS; /* conf_check keeps us below the limit */
}

static struct gona_uplink uplink_value(const struct uplink *u)
{
	struct gona_uplink v = {
		.ifindex = u->attached ? (__u32)u->ifindex : 0,
		.flags = u->up ? GONA_UF_UP : 0,
	};

	return v;
}

static void build_pol_uplinks(const struct gonad *g, struct pol_uplink *pu)
{
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const char *group = g->uplinks[i].conf.group;

		pu[i].capacity = g->uplinks[i].conf.capacity;
		pu[i].up = g->uplinks[i].up;
		/* A group is numbered by its first uplink, from 1. */
		pu[i].group = 0;
		for (size_t j = 0; group[0] && j <= i; j++)
			if (!strcmp(g->uplinks[j].conf.group, group)) {
				pu[i].group = (uint32_t)j + 1;
				break;
			}
	}
}

/* The guests as policy/ sees them: guarantee kept, demand, homes. */
static void build_pol_guests(const struct gonad *g, struct pol_guest *pg)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		pg[i] = (struct pol_guest){
			.tx_min = gu->tx_min_kept,
			.demand = gu->rates.tx_bps,
			.spread = gu->conf.spread,
			.homes = gu->homes,
			.held = gu->held_until_ms > now,
		};
	}
}

/*
 * The turns a spread guest's new flows take over its uplinks: as many on
 * each as it has room there, what the other guests leave of its capacity
 * (at least a percent), so new flows go where the load is least.
 */
static void fill_slots(const struct gonad *g, const struct guest *gu,
		       uint8_t slots[GONA_SPREAD_SLOTS])
{
	struct pol_uplink pu[GONA_MAX_UPLINKS];

	build_pol_uplinks(g, pu);
	for (unsigned int s = 0; s < g->n_uplinks; s++) {
		uint64_t cap = pu[s].capacity, others;

		if (!(gu->homes & (1u << s)))
			continue;
		others = state_uplink_load(g, &g->uplinks[s]) - gu->home_bps[s];
		pu[s].capacity =
			others < cap - cap / 100 ? cap - others : cap / 100;
	}
	pol_fill_slots(pu, g->n_uplinks, gu->homes, slots);
}

/* Write the guest's entry in `guests` (only while its interface exists). */
void state_push_guest(struct gonad *g, struct guest *gu)
{
	struct gona_guest v = { .id = gu->id };
	int r;

	if (!gu->ifindex)
		return;
	memcpy(v.mac, gu->conf.mac, 6);
	if (gu->homes) {
		v.flags |= GONA_GF_PLACED;
		v.homes = gu->homes;
		v.n_uplinks = (__u8)__builtin_popcount(gu->homes);
		fill_slots(g, gu, v.slots);
	}
	memcpy(gu->slots, v.slots, sizeof(gu->slots));
	qos_guest_entry(g, gu, &v);
	/* An entry as it is stays untouched: every write of it is a new
	 * element for the frames that read it meanwhile. */
	if (gu->pushed_ifindex == gu->ifindex &&
	    !memcmp(&gu->pushed, &v, sizeof(v)))
		return;
	r = dp_set_guest(g->dp, gu->ifindex, &v);
	if (r) {
		log_warnx("guest %s (%s): cannot update the data path: %s",
			  gu->conf.name, gu->conf.device, err_str(r));
		gu->pushed_ifindex = 0;
		return;
	}
	gu->pushed = v;
	gu->pushed_ifindex = gu->ifindex;
}

static void homes_str(const struct gonad *g, uint32_t homes, char *buf,
		      size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < g->n_uplinks && off < len; i++) {
		if (!(homes & (1u << i)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					off ? "," : "",
					g->uplinks[i].conf.name);
	}
}

/*
 * Degraded mode: the guarantees the uplinks up can carry (policy.degrade),
 * into each guest's tx_min_kept. Returns whether any changed.
 */
static bool degrade(struct gonad *g)
{
	struct pol_keep *k = calloc(g->n_guests + 1, sizeof(*k));
	uint64_t usable = 0, kept;
	bool changed = false, was = g->degraded;
	char a[32], b[32], c[32];

	if (!k) {
		log_warnx("degraded mode: out of memory; guarantees unchanged");
		return false;
	}
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].up)
			usable += qos_guest_capacity(g, &g->uplinks[i]);
	g->promised = 0;
	for (size_t i = 0; i < g->n_guests; i++) {
		k[i].min = g->guests[i]->conf.slice.tx_min;
		k[i].priority = g->guests[i]->conf.priority;
		g->promised += k[i].min;
	}
	kept = pol_degrade(usable, k, g->n_guests,
			   g->conf->policy.degrade == CONF_DEGRADE_PRIORITY
				   ? POL_DEGRADE_PRIORITY
				   : POL_DEGRADE_PROPORTIONAL);
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (gu->tx_min_kept == k[i].kept)
			continue;
		changed = true;
		gu->tx_min_kept = k[i].kept;
		if (g->degraded || kept < g->promised)
			log_info("guest %s: guarantee %s of %s", gu->conf.name,
				 conf_format_rate(k[i].kept, a, sizeof(a)),
				 conf_format_rate(k[i].min, b, sizeof(b)));
	}
	free(k);
	g->kept = kept;
	g->capacity_usable = usable;
	g->degraded = kept < g->promised;
	if (g->degraded && (changed || !was))
		log_warnx("degraded: the uplinks up carry %s for guests, the "
			  "guarantees add up to %s; %s of them kept (%s)",
			  conf_format_rate(usable, a, sizeof(a)),
			  conf_format_rate(g->promised, b, sizeof(b)),
			  conf_format_rate(kept, c, sizeof(c)),
			  conf_degrade_name(g->conf->policy.degrade));
	else if (was && !g->degraded)
		log_info("not degraded any more: every guarantee is kept");
	return changed;
}

/* Give the guests the homes in PG, where they differ: the data path, then
 * announcements so that the fabric follows. */
static void move_guests(struct gonad *g, const struct pol_guest *pg,
			const char *what)
{
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		char from[256], to[256];

		if (pg[i].homes == gu->homes)
			continue;
		homes_str(g, gu->homes, from, sizeof(from));
		gu->homes = pg[i].homes;
		state_push_guest(g, gu);
		/* The fabric still sends to where the guest was. */
		if (gu->homes && g->announcer)
			announce_moved(g->announcer, gu);
		homes_str(g, gu->homes, to, sizeof(to));
		log_info("guest %s: %s %s (was on %s)", gu->conf.name, what,
			 to[0] ? to : "no uplink (none is up)",
			 from[0] ? from : "none");
	}
}

/*
 * Re-place guests after uplinks or guarantees changed and push whatever
 * moved. The guarantees kept are settled first: guests are placed by them.
 * Returns whether the guests' shares of the uplinks were recomputed.
 */
static bool place(struct gonad *g, enum pol_mode mode)
{
	struct pol_uplink pu[GONA_MAX_UPLINKS];
	struct pol_guest *pg;
	bool kept_changed;
	int moved;

	if (!g->n_guests)
		return false;
	kept_changed = degrade(g);
	pg = calloc(g->n_guests, sizeof(*pg));
	if (!pg) {
		log_warnx("placement: out of memory");
		return false;
	}
	build_pol_uplinks(g, pu);
	build_pol_guests(g, pg);
	moved = pol_place(pu, g->n_uplinks, pg, g->n_guests, mode);
	if (moved < 0) {
		log_warnx("placement failed: %s", err_str(moved));
		moved = 0;
	}
	if (moved)
		move_guests(g, pg, "placed on");
	free(pg);
	/* The data path already sends the guests where they belong; their
	 * shares of the uplinks follow. */
	if (!moved && !kept_changed)
		return false;
	qos_update(g);
	return true;
}

/* The globals: the designated broadcast uplink (the first that is up) and
 * how much of the flood map is in use. */
static void push_globals(struct gonad *g)
{
	struct gona_globals gl = { .n_uplinks = (__u32)g->n_uplinks,
				   .netns_ino = g->netns_ino };
	unsigned int slot = GONA_MAX_UPLINKS;
	int r;

	/* The flood map is indexed by guest id: it must cover every id. */
	for (size_t i = 0; i < g->n_guests; i++)
		if (g->guests[i]->id >= gl.n_flood)
			gl.n_flood = g->guests[i]->id + 1;
	if (!g->conf->policy.flow_table)
		gl.flags |= GONA_GLF_HASH_FLOWS;
	if (!g->conf->policy.downdelay_ms)
		gl.flags |= GONA_GLF_FAST_DOWN;
	for (size_t i = 0; i < g->n_uplinks; i++) {
		if (g->uplinks[i].up) {
			slot = (unsigned int)i;
			gl.bcast_ifindex = (__u32)g->uplinks[i].ifindex;
			break;
		}
	}
	r = dp_set_globals(g->dp, &gl);
	if (r)
		log_warnx("cannot update the data path globals: %s",
			  err_str(r));
	if (slot != g->bcast_slot && slot < GONA_MAX_UPLINKS)
		log_info("uplink %s: takes broadcast and multicast",
			 g->uplinks[slot].conf.name);
	g->bcast_slot = slot;
}

/* The guest's entry in the flood map, indexed by guest id: its interface
 * while attached, 0 (skipped by the data path) otherwise. */
static void push_flood(struct gonad *g, const struct guest *gu)
{
	struct gona_port p = {
		.ifindex = gu->attached ? (__u32)gu->ifindex : 0,
		.id = gu->id,
	};
	int r = dp_set_flood(g->dp, gu->id, &p);

	if (r)
		log_warnx("guest %s: cannot update the flood list: %s",
			  gu->conf.name, err_str(r));
}

const char *uplink_cause_name(enum uplink_cause c)
{
	static const char *const names[] = {
		[CAUSE_NONE] = "-",	     [CAUSE_DEVICE] = "device",
		[CAUSE_CARRIER] = "carrier", [CAUSE_ADMIN] = "admin",
		[CAUSE_PROBE] = "probe",
	};

	return c < sizeof(names) / sizeof(names[0]) && names[c] ? names[c]
								: "?";
}

static bool uplink_healthy(const struct uplink *u)
{
	return u->attached && u->carrier && u->admin_up && u->probe_ok;
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
		log_warnx("uplink %s (%s): cannot update the data path: %s",
			  u->conf.name, u->conf.device, err_str(r));
	u->switch_us = now_us() - t0;
	u->cause = cause;
	u->changed_ms = now_ms();
	if (!up)
		u->n_down++;
	log_info("uplink %s (%s): %s (%s)", u->conf.name, u->conf.device,
		 up ? "up" : "down", uplink_cause_name(cause));
	push_globals(g);
	/* A resync places once, at its end, with every uplink known. */
	if (!g->resyncing)
		place(g, up && g->conf->policy.failback ? POL_FULL : POL_KEEP);
	u->place_us = now_us() - t0;
}

/*
 * Recompute whether the uplink carries traffic after CAUSE. A drain and a
 * device coming or going act at once; a failure or a recovery (carrier,
 * probes) waits policy.downdelay_ms / updelay_ms, and is forgotten if the
 * uplink is back to its state meanwhile.
 */
static void uplink_update(struct gonad *g, struct uplink *u,
			  enum uplink_cause cause)
{
	bool want = uplink_healthy(u);
	uint32_t delay = want ? g->conf->policy.updelay_ms
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
	if (!delay || cause == CAUSE_ADMIN || cause == CAUSE_DEVICE) {
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
static void uplink_detach(struct gonad *g, struct uplink *u, bool gone)
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
static void own_uplink(struct gonad *g, const struct uplink *u)
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
	r = dp_set_owned(g->dp, u->ifindex, f);
	if (r)
		log_warnx("uplink %s (%s): cannot record it in the data path: "
			  "%s",
			  u->conf.name, u->conf.device, err_str(r));
}

static void own_guest(struct gonad *g, const struct guest *gu)
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
	    !(was & GONA_OWN_PROBE_DOWN)) {
		v.ifindex = (__u32)ifindex;
		v.flags |= GONA_UF_UP;
	}
	r = dp_set_uplink(g->dp, u->slot, 0, &v);
	if (r)
		goto err;
	r = dp_attach(g->dp, ifindex, DP_UPLINK, &u->made_clsact);
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
	if (was & GONA_OWN_FILTER)
		g->adopted_uplinks++;
	log_info("uplink %s (%s): %s, ifindex %d", u->conf.name, u->conf.device,
		 was & GONA_OWN_FILTER ? "taken over" : "attached", ifindex);
	/* Without its monitor the uplink still serves on carrier alone; the
	 * warning says so. */
	monitor_start(g, u);
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
	u->carrier = u->if_up && u->lower_up;
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
		u->carrier = u->if_up && u->lower_up;
		uplink_update(g, u, CAUSE_CARRIER);
		return;
	}
}

/* Give the interface back; the guest stays known by its MAC. */
static void guest_detach(struct gonad *g, struct guest *gu, bool gone)
{
	struct gona_port p = { .ifindex = 0, .id = gu->id };
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
	dp_del_guest(g->dp, old);
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
	struct gona_port p = { .ifindex = (__u32)ifindex, .id = gu->id };
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
	state_push_guest(g, gu);
	r = dp_set_mac(g->dp, gu->conf.mac, &p);
	if (!r)
		r = dp_attach(g->dp, ifindex, DP_GUEST, &gu->made_clsact);
	if (r) {
		log_warnx("guest %s (%s): cannot attach: %s", gu->conf.name,
			  gu->conf.device, err_str(r));
		p.ifindex = 0;
		dp_set_mac(g->dp, gu->conf.mac, &p);
		dp_del_guest(g->dp, ifindex);
		gu->pushed_ifindex = 0;
		gu->ifindex = 0;
		return;
	}
	gu->made_clsact |= (was & GONA_OWN_CLSACT) != 0;
	/* A receive shaper the previous gonad made is changed in place. */
	gu->rx_shaped = (was & GONA_OWN_QOS) != 0;
	gu->attached = true;
	push_flood(g, gu);
	/* Without its receive shaper the guest is still served; the
	 * warning says what is missing. */
	qos_guest_rx(g, gu);
	own_guest(g, gu);
	if (was & GONA_OWN_FILTER)
		g->adopted_guests++;
	log_info(
		"guest %s (%s): %s, ifindex %d", gu->conf.name, gu->conf.device,
		was & GONA_OWN_FILTER ? "taken over" : "attached", gu->ifindex);
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
		if (!g->guests[i]->seen)
			guest_vanish(g, g->guests[i], true);
	g->resyncing = false;
	place(g, POL_KEEP);
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (gu->pending_ifindex)
			guest_attach(g, gu, gu->pending_ifindex);
		gu->pending_ifindex = 0;
	}
}

int state_admit(const struct conf *c, char *msg, size_t len)
{
	static const char *const why[] = {
		[POL_ADMIT_N1] = "left if the largest uplink fails",
		[POL_ADMIT_N] = "of all uplinks together",
		[POL_ADMIT_OFF] = "",
	};
	struct pol_uplink pu[GONA_MAX_UPLINKS];
	enum pol_admission mode;
	uint64_t sum = 0, limit;
	char a[32], b[32];

	for (size_t i = 0; i < c->n_uplinks && i < GONA_MAX_UPLINKS; i++)
		pu[i] = (struct pol_uplink){ .capacity = c->uplinks[i].capacity,
					     .up = true };
	for (size_t i = 0; i < c->n_guests; i++)
		sum += c->guests[i].slice.tx_min;
	mode = c->policy.admission == CONF_ADMIT_N     ? POL_ADMIT_N
	       : c->policy.admission == CONF_ADMIT_OFF ? POL_ADMIT_OFF
						       : POL_ADMIT_N1;
	if (!pol_admit(pu, c->n_uplinks, sum, mode, &limit))
		return 0;
	if (mode == POL_ADMIT_N1 && c->n_uplinks == 1)
		mode = POL_ADMIT_N;
	snprintf(msg, len, "guaranteed %s exceeds %s %s",
		 conf_format_rate(sum, a, sizeof(a)),
		 conf_format_rate(limit, b, sizeof(b)), why[mode]);
	return -ENOSPC;
}

bool state_last_uplink_up(const struct gonad *g, const struct uplink *u)
{
	if (!u->up)
		return false;
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].up && &g->uplinks[i] != u)
			return false;
	return true;
}

int state_uplink_set(struct gonad *g, struct uplink *u, size_t n,
		     const char *const *kv, char *err, size_t errlen)
{
	const char *name = u->conf.name;
	struct conf_uplink scratch;
	struct conf_err ce;
	int admin = -1;

	if (!n || n % 2) {
		snprintf(err, errlen, "uplink %s: set takes KEY VALUE pairs",
			 name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (strcmp(kv[i], "admin")) {
			scratch = u->conf;
			if (conf_uplink_set(&scratch, kv[i], kv[i + 1], &ce) ==
			    -ENOENT)
				snprintf(err, errlen, "%s", ce.msg);
			else
				snprintf(err, errlen,
					 "uplink %s: %s cannot be changed "
					 "while gonad runs",
					 name, kv[i]);
			return -EINVAL;
		}
		if (strcmp(kv[i + 1], "up") && strcmp(kv[i + 1], "down")) {
			snprintf(err, errlen,
				 "uplink %s: admin \"%s\" is neither up nor "
				 "down",
				 name, kv[i + 1]);
			return -EINVAL;
		}
		admin = !strcmp(kv[i + 1], "up");
	}
	/* Draining the last uplink would strand every guest. */
	if (!admin && state_last_uplink_up(g, u)) {
		snprintf(err, errlen,
			 "uplink %s: refused: it is the last uplink up; its "
			 "guests would have none",
			 name);
		return -EBUSY;
	}
	if (u->admin_up == (bool)admin)
		return 0;
	u->admin_up = admin;
	log_info("uplink %s: admin %s", name, admin ? "up" : "down");
	own_uplink(g, u);
	uplink_update(g, u, CAUSE_ADMIN);
	return 0;
}

/* The keys a running guest's slice can change by. */
static bool live_key(const char *key)
{
	static const char *const keys[] = { "tx.min",	"tx.max", "tx.weight",
					    "tx.burst", "rx.max", "spread",
					    "priority" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* NG (GU's configuration, changed) against the whole configuration:
 * unique addresses, admission. */
static int check_changed(const struct gonad *g, const struct conf_guest *ng,
			 char *err, size_t errlen)
{
	struct conf *dup = conf_dup(g->conf);
	struct conf_err ce;
	char msg[256];
	int r;

	if (!dup) {
		snprintf(err, errlen, "guest %s: out of memory", ng->name);
		return -ENOMEM;
	}
	*conf_guest_find(dup, ng->name) = *ng;
	r = conf_check(dup, NULL, &ce);
	if (r)
		snprintf(err, errlen, "%s", ce.msg);
	else if ((r = state_admit(dup, msg, sizeof(msg))))
		snprintf(err, errlen, "guest %s: refused: %s", ng->name, msg);
	conf_free(dup);
	return r;
}

int state_guest_set(struct gonad *g, struct guest *gu, size_t n,
		    const char *const *kv, char *err, size_t errlen)
{
	struct conf_guest ng = gu->conf, scratch;
	const char *name = gu->conf.name;
	struct conf_err ce;
	char done[256] = "";
	size_t off = 0;
	int r;

	if (!n || n % 2) {
		snprintf(err, errlen, "guest %s: set takes KEY VALUE pairs",
			 name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (!live_key(kv[i])) {
			/* Known but not changeable live, or unknown: the
			 * configuration says which, on a scratch copy. */
			scratch = ng;
			r = conf_guest_set(&scratch, kv[i], kv[i + 1], &ce);
			if (r == -ENOENT)
				snprintf(err, errlen, "%s", ce.msg);
			else
				snprintf(err, errlen,
					 "guest %s: %s cannot be changed "
					 "while the guest runs",
					 name, kv[i]);
			return -EINVAL;
		}
		r = conf_guest_set(&ng, kv[i], kv[i + 1], &ce);
		if (r) {
			snprintf(err, errlen, "%s", ce.msg);
			return r;
		}
		off += (size_t)snprintf(done + off, sizeof(done) - off,
					"%s%s %s", off ? ", " : "", kv[i],
					kv[i + 1]);
		if (off >= sizeof(done))
			off = sizeof(done) - 1;
	}
	r = conf_guest_check(&ng, &ce);
	if (r) {
		snprintf(err, errlen, "%s", ce.msg);
		return r;
	}
	r = check_changed(g, &ng, err, errlen);
	if (r)
		return r;

	/* Committed: the configuration, then the kernel. */
	*conf_guest_find(g->conf, name) = ng;
	gu->conf = ng;
	log_info("guest %s: %s", name, done);
	/* A new guarantee or priority may change what degraded mode keeps,
	 * a new spread where the guest goes. */
	if (!place(g, POL_KEEP))
		qos_update(g);
	qos_guest_rx(g, gu);
	own_guest(g, gu);
	state_push_guest(g, gu);
	return 0;
}

static bool id_taken(const struct gonad *g, uint32_t id)
{
	return g->id_used[id / 64] & (1ull << (id % 64));
}

static void id_free(struct gonad *g, uint32_t id)
{
	g->id_used[id / 64] &= ~(1ull << (id % 64));
}

/* Slot SLOT takes the uplink CU, not attached yet. */
static struct uplink *uplink_init(struct gonad *g, unsigned int slot,
				  const struct conf_uplink *cu)
{
	struct uplink *u = &g->uplinks[slot];

	memset(u, 0, sizeof(*u));
	u->conf = *cu;
	u->slot = slot;
	u->admin_up = true;
	u->probe_ok = true;
	if (slot >= g->n_uplinks)
		g->n_uplinks = slot + 1;
	return u;
}

/* A new guest's entries: known by MAC and in the flood list (without an
 * interface yet), its addresses, its counters from zero. */
static int guest_maps(struct gonad *g, struct guest *gu, bool fresh)
{
	struct gona_port p = { .ifindex = 0, .id = gu->id };
	int r = 0;

	if (fresh) {
		r = dp_set_mac(g->dp, gu->conf.mac, &p);
		if (!r)
			r = dp_set_flood(g->dp, gu->id, &p);
		if (!r)
			r = dp_zero_guest_stats(g->dp, gu->id);
		/* A clock left by a guest that had the id before. */
		if (!r)
			r = dp_set_pacing(g->dp, gu->id, 0, 0);
	}
	if (!r)
		r = dp_set_addrs(g->dp, gu->id, &gu->conf);
	return r;
}

/*
 * Taking over the maps a previous gonad pinned (dp_adopted), the data path
 * it fed keeps running: nothing is reset. A guest known by its MAC keeps
 * its id (and so its counters, its classes and its flows) and its uplinks;
 * the link dump that follows attaches the devices over what is there.
 */
int state_init(struct gonad *g, struct conf *c)
{
	uint64_t id_adopted[GONA_MAX_GUESTS / 64] = { 0 };
	uint32_t *homes = NULL, mask;
	int r = 0;

	g->conf = c;
	g->bcast_slot = GONA_MAX_UPLINKS;
	g->adopted = dp_adopted(g->dp);
	g->uplinks = calloc(GONA_MAX_UPLINKS, sizeof(*g->uplinks));
	g->guests = calloc(GONA_MAX_GUESTS, sizeof(*g->guests));
	if (g->adopted)
		homes = calloc(GONA_MAX_GUESTS, sizeof(*homes));
	if (!g->uplinks || !g->guests || (g->adopted && !homes)) {
		r = -ENOMEM;
		goto out;
	}
	/* An uplink whose device the data path knows keeps its slot there:
	 * the guests' homes, flows and counters refer to it. */
	mask = 0;
	for (size_t i = 0; g->adopted && i < c->n_uplinks; i++) {
		unsigned int ifi = if_nametoindex(c->uplinks[i].device);
		uint32_t slot;

		if (ifi && !dp_uplink_slot(g->dp, (int)ifi, &slot) &&
		    slot < GONA_MAX_UPLINKS && !(mask & (1u << slot))) {
			uplink_init(g, slot, &c->uplinks[i]);
			mask |= 1u << slot;
		}
	}
	for (size_t i = 0; i < c->n_uplinks; i++) {
		unsigned int slot = 0;

		if (state_uplink(g, c->uplinks[i].name))
			continue;
		while (mask & (1u << slot))
			slot++;
		uplink_init(g, slot, &c->uplinks[i]);
		mask |= 1u << slot;
		/* Taking over, the slot may have counted another uplink. */
		if (g->adopted && !r)
			r = dp_zero_uplink_stats(g->dp, slot);
	}
	for (unsigned int s = 0; s < GONA_MAX_UPLINKS && !r; s++) {
		struct gona_uplink v = { 0 };

		if (!g->adopted || !(mask & (1u << s)))
			r = dp_set_uplink(g->dp, s, 0, &v);
	}
	if (!r && g->adopted)
		r = dp_read_guest_homes(g->dp, homes);
	for (size_t i = 0; i < c->n_guests && !r; i++) {
		struct guest *gu = calloc(1, sizeof(*gu));
		uint32_t id;

		if (!gu) {
			r = -ENOMEM;
			break;
		}
		g->guests[g->n_guests++] = gu;
		gu->conf = c->guests[i];
		gu->id = GONA_MAX_GUESTS;
		if (g->adopted &&
		    !dp_guest_id_by_mac(g->dp, gu->conf.mac, &id) &&
		    id < GONA_MAX_GUESTS && !id_taken(g, id)) {
			g->id_used[id / 64] |= 1ull << (id % 64);
			id_adopted[id / 64] |= 1ull << (id % 64);
			gu->id = id;
			gu->homes = homes[id] & mask;
		}
	}
	for (size_t i = 0; i < g->n_guests; i++)
		if (g->guests[i]->id == GONA_MAX_GUESTS)
			g->guests[i]->id = alloc_id(g);
	/* The previous gonad's MACs and addresses this configuration does
	 * not have go first: a new guest given an old id must not inherit
	 * its addresses, nor a full map refuse the new entries. */
	if (!r && g->adopted)
		r = dp_prune_guests(g->dp, g);
	for (size_t i = 0; i < g->n_guests && !r; i++) {
		uint32_t id = g->guests[i]->id;

		r = guest_maps(g, g->guests[i],
			       !(id_adopted[id / 64] & (1ull << (id % 64))));
	}
	if (!r && !g->adopted) {
		push_globals(g);
		r = dp_zero_stats(g->dp);
	}
out:
	free(homes);
	return r;
}

/*
 * Live changes of the configuration. reload.c decides what changed and
 * that the whole of it is acceptable; these carry out one change each.
 * Devices are attached by the link dump that follows (state_relink).
 */
int state_guest_add(struct gonad *g, const struct conf_guest *cg)
{
	struct guest *gu;
	int r;

	if (g->n_guests >= GONA_MAX_GUESTS)
		return -ENOSPC;
	gu = calloc(1, sizeof(*gu));
	if (!gu)
		return -ENOMEM;
	gu->conf = *cg;
	gu->id = alloc_id(g);
	g->guests[g->n_guests++] = gu;
	r = guest_maps(g, gu, true);
	if (r)
		log_warnx("guest %s: cannot write its data path entries: %s",
			  gu->conf.name, err_str(r));
	push_globals(g);
	log_info("guest %s (%s): added", gu->conf.name, gu->conf.device);
	return 0;
}

void state_guest_del(struct gonad *g, struct guest *gu)
{
	struct gona_port p = { .ifindex = 0, .id = gu->id };
	size_t i;

	guest_detach(g, gu, false);
	dp_del_mac(g->dp, gu->conf.mac);
	dp_del_addrs(g->dp, gu->id, &gu->conf);
	dp_set_flood(g->dp, gu->id, &p);
	qos_guest_gone(g, gu);
	dp_zero_guest_stats(g->dp, gu->id);
	id_free(g, gu->id);
	for (i = 0; i < g->n_guests && g->guests[i] != gu; i++)
		;
	memmove(&g->guests[i], &g->guests[i + 1],
		(g->n_guests - i - 1) * sizeof(*g->guests));
	g->n_guests--;
	log_info("guest %s (%s): removed", gu->conf.name, gu->conf.device);
	free(gu);
}

/* Before the MACs change, so that guests may swap theirs: let go of an
 * interface that changes, then forget the MAC. */
void state_guest_unlink(struct gonad *g, struct guest *gu)
{
	guest_detach(g, gu, false);
}

void state_guest_unmac(struct gonad *g, struct guest *gu)
{
	dp_del_mac(g->dp, gu->conf.mac);
}

/* The addresses of A that B does not have, in OUT (only those set). */
static void addrs_minus(const struct conf_guest *a, const struct conf_guest *b,
			struct conf_guest *out)
{
	out->n_ipv4 = out->n_ipv6 = 0;
	for (size_t i = 0; i < a->n_ipv4; i++) {
		bool kept = false;

		for (size_t j = 0; j < b->n_ipv4; j++)
			kept |= a->ipv4[i].s_addr == b->ipv4[j].s_addr;
		if (!kept)
			out->ipv4[out->n_ipv4++] = a->ipv4[i];
	}
	for (size_t i = 0; i < a->n_ipv6; i++) {
		bool kept = false;

		for (size_t j = 0; j < b->n_ipv6; j++)
			kept |= !memcmp(&a->ipv6[i], &b->ipv6[j], 16);
		if (!kept)
			out->ipv6[out->n_ipv6++] = a->ipv6[i];
	}
}

bool state_guest_change(struct gonad *g, struct guest *gu,
			const struct conf_guest *ng)
{
	struct gona_port p = { .id = gu->id };
	bool relink = strcmp(gu->conf.device, ng->device) != 0;
	struct conf_guest *gone = malloc(sizeof(*gone));
	int r;

	/* An interface that changes was let go (state_guest_unlink). */
	/* New addresses before the old go: a frame from an address in both
	 * is never dropped. */
	r = dp_set_addrs(g->dp, gu->id, ng);
	if (!gone)
		r = -ENOMEM;
	else if (!r) {
		addrs_minus(&gu->conf, ng, gone);
		r = dp_del_addrs(g->dp, gu->id, gone);
	}
	free(gone);
	gu->conf = *ng;
	p.ifindex = gu->attached ? (__u32)gu->ifindex : 0;
	if (!r)
		r = dp_set_mac(g->dp, gu->conf.mac, &p);
	if (r)
		log_warnx("guest %s: cannot update its data path entries: %s",
			  gu->conf.name, err_str(r));
	if (gu->attached) {
		qos_guest_rx(g, gu);
		own_guest(g, gu);
		state_push_guest(g, gu);
	}
	log_info("guest %s (%s): changed", gu->conf.name, gu->conf.device);
	return relink;
}

int state_uplink_add(struct gonad *g, const struct conf_uplink *cu)
{
	unsigned int slot = 0;
	struct gona_uplink v = { 0 };
	int r;

	while (slot < g->n_uplinks && g->uplinks[slot].conf.name[0])
		slot++;
	if (slot >= GONA_MAX_UPLINKS)
		return -ENOSPC;
	uplink_init(g, slot, cu);
	for (size_t i = 0; i < g->n_guests; i++)
		memset(&g->guests[i]->htb[slot], 0,
		       sizeof(g->guests[i]->htb[slot]));
	r = dp_set_uplink(g->dp, slot, 0, &v);
	if (!r)
		r = dp_zero_uplink_stats(g->dp, slot);
	if (r)
		log_warnx("uplink %s: cannot write its data path entries: %s",
			  cu->name, err_str(r));
	push_globals(g);
	log_info("uplink %s (%s): added", cu->name, cu->device);
	return 0;
}

void state_uplink_del(struct gonad *g, struct uplink *u)
{
	unsigned int slot = u->slot;
	char name[CONF_NAME_MAX], dev[IFNAMSIZ];

	snprintf(name, sizeof(name), "%s", u->conf.name);
	snprintf(dev, sizeof(dev), "%s", u->conf.device);
	/* Drained first, as an operator would: its guests move to the
	 * others and are announced there before the device is let go. */
	if (u->up) {
		u->admin_up = false;
		uplink_update(g, u, CAUSE_ADMIN);
	}
	uplink_detach(g, u, false);
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		gu->homes &= ~(1u << slot);
		memset(&gu->htb[slot], 0, sizeof(gu->htb[slot]));
		gu->home_sampled &= ~(1u << slot);
	}
	memset(u, 0, sizeof(*u));
	u->slot = slot;
	while (g->n_uplinks && !g->uplinks[g->n_uplinks - 1].conf.name[0])
		g->n_uplinks--;
	push_globals(g);
	log_info("uplink %s (%s): removed", name, dev);
}

bool state_uplink_change(struct gonad *g, struct uplink *u,
			 const struct conf_uplink *nc)
{
	bool relink = strcmp(u->conf.device, nc->device) != 0;
	bool mon = memcmp(&u->conf.monitor, &nc->monitor,
			  sizeof(nc->monitor)) != 0;
	bool cap = u->conf.capacity != nc->capacity;

	if (relink) {
		uplink_detach(g, u, false);
		u->conf = *nc;
		uplink_update(g, u, CAUSE_DEVICE);
	} else {
		if (mon)
			monitor_stop(g, u);
		u->conf = *nc;
		/* The tree is rebuilt in place; one that cannot be is gone
		 * (qos_uplink_attach said why) and the uplink unshaped. */
		if (cap && u->qos_made && qos_uplink_attach(g, u)) {
			u->qos_made = false;
			own_uplink(g, u);
		}
		if (mon && u->attached) {
			monitor_start(g, u);
			state_uplink_probe(g, u, true);
		}
	}
	log_info("uplink %s (%s): changed", u->conf.name, u->conf.device);
	return relink;
}

/* Put the guests in the order of C, the configuration now in force. */
void state_guest_order(struct gonad *g, const struct conf *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n_guests; i++)
		for (size_t j = k; j < g->n_guests; j++)
			if (!strcmp(g->guests[j]->conf.name,
				    c->guests[i].name)) {
				struct guest *t = g->guests[k];

				g->guests[k++] = g->guests[j];
				g->guests[j] = t;
				break;
			}
}

/* After the changes: where everyone goes, and the shares that follow. */
void state_settle(struct gonad *g)
{
	push_globals(g);
	if (!place(g, POL_KEEP))
		qos_update(g);
	for (size_t i = 0; i < g->n_guests; i++)
		state_push_guest(g, g->guests[i]);
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

void state_fini(struct gonad *g)
{
	for (size_t i = 0; i < g->n_guests; i++)
		free(g->guests[i]);
	free(g->guests);
	free(g->uplinks);
	g->guests = NULL;
	g->uplinks = NULL;
	g->n_guests = g->n_uplinks = 0;
	flows_free(g);
}

static void rate(struct rates *rt, const struct gona_counters *now,
		 uint64_t dt_ms)
{
	if (dt_ms) {
		rt->tx_bps = (now->tx_bytes - rt->last.tx_bytes) * 8000 / dt_ms;
		rt->rx_bps = (now->rx_bytes - rt->last.rx_bytes) * 8000 / dt_ms;
	}
	rt->last = *now;
}

/* An uplink this loaded is full: its guests' demand may be more. */
#define FULL_PCT 95

/* Whether the busiest uplink up is loaded, relative to capacity, more
 * than twice the least busy. */
static bool lopsided(const struct gonad *g)
{
	double hi = -1, lo = -1;

	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];
		double x;

		if (!u->up || !u->conf.capacity)
			continue;
		x = (double)state_uplink_load(g, u) / (double)u->conf.capacity;
		if (hi < 0 || x > hi)
			hi = x;
		if (lo < 0 || x < lo)
			lo = x;
	}
	return lo >= 0 && hi > 2 * lo;
}

int state_rebalance(struct gonad *g, bool now_or_never, char *msg, size_t len)
{
	struct pol_uplink pu[GONA_MAX_UPLINKS];
	struct pol_guest *pg;
	uint64_t now = now_ms();
	char loads[512];
	size_t off;
	bool full;
	int moved;

	if (g->resyncing || !g->n_guests) {
		snprintf(msg, len, "nothing to rebalance");
		return 0;
	}
	pg = calloc(g->n_guests, sizeof(*pg));
	if (!pg) {
		snprintf(msg, len, "rebalancing: out of memory");
		return -ENOMEM;
	}
	build_pol_uplinks(g, pu);
	build_pol_guests(g, pg);
	moved = pol_rebalance(pu, g->n_uplinks, pg, g->n_guests,
			      g->conf->policy.rebalance_threshold);
	if (moved < 0) {
		snprintf(msg, len, "rebalancing failed: %s", err_str(moved));
		free(pg);
		return moved;
	}
	state_loads_str(g, loads, sizeof(loads));
	if (!moved) {
		char fl[512] = "";
		int r;

		g->rebalance_armed = false;
		free(pg);
		/* No guest to move: perhaps a spread guest's flow. */
		r = flows_rebalance(g, fl, sizeof(fl));
		if (r > 0) {
			snprintf(msg, len, "moved %s; loads were %s", fl,
				 loads);
			log_info("rebalancing: %s", msg);
			g->rebalance_rounds++;
			g->rebalance_moves += (uint32_t)r;
			g->rebalanced_ms = now;
			g->rebalance_settling = true;
			qos_update(g);
			return r;
		}
		if (r < 0)
			log_warnx("rebalancing flows: %s", err_str(r));
		snprintf(msg, len, "nothing to move: loads %s (threshold %u%%)",
			 loads, g->conf->policy.rebalance_threshold);
		return 0;
	}
	/* An interval's unevenness may be a transient (traffic starting
	 * mid-interval): the periodic round acts on the second in a row,
	 * unless the busiest uplink carries more than twice the least busy
	 * (a pile is no transient, and waiting costs an interval). */
	if (!now_or_never && !g->rebalance_armed && !lopsided(g)) {
		g->rebalance_armed = true;
		snprintf(msg, len,
			 "uneven (loads %s): moving at the next "
			 "interval if still so",
			 loads);
		free(pg);
		return 0;
	}
	g->rebalance_armed = false;
	/*
	 * On a full uplink the guests' rates are capped, not their demand:
	 * such a round is a first guess, and the guests it moves may move
	 * again once their demand shows. Otherwise a guest moved stays put
	 * for the hold-down time.
	 */
	full = false;
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].up &&
		    state_uplink_load(g, &g->uplinks[i]) >=
			    g->uplinks[i].conf.capacity / 100 * FULL_PCT)
			full = true;
	off = (size_t)snprintf(msg, len, "moved");
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		char to[256];

		if (pg[i].homes == gu->homes)
			continue;
		if (!full)
			gu->held_until_ms =
				now + g->conf->policy.rebalance_holddown_ms;
		gu->n_rebalanced++;
		homes_str(g, pg[i].homes, to, sizeof(to));
		if (off < len)
			off += (size_t)snprintf(
				msg + off, len - off, "%s %s to %s",
				off > 5 ? "," : "", gu->conf.name, to);
	}
	if (off < len)
		snprintf(msg + off, len - off, "; loads were %s%s", loads,
			 full ? " (one full: a first guess, no hold-down)"
			      : "");
	log_info("rebalancing: %s", msg);
	move_guests(g, pg, "rebalanced to");
	g->rebalance_rounds++;
	g->rebalance_moves += (uint32_t)moved;
	g->rebalanced_ms = now;
	g->rebalance_settling = true;
	qos_update(g);
	free(pg);
	return moved;
}

/* "up0 43%, up1 12%": each uplink's measured load against its capacity,
 * as rebalancing sees it (the guests' rates on it). */
void state_loads_str(const struct gonad *g, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < g->n_uplinks && off < len; i++) {
		const struct uplink *u = &g->uplinks[i];

		if (!u->conf.name[0]) /* a slot left by a removed uplink */
			continue;
		off += (size_t)snprintf(
			buf + off, len - off, "%s%s %llu%%%s", off ? ", " : "",
			u->conf.name,
			(unsigned long long)(state_uplink_load(g, u) * 100 /
					     u->conf.capacity),
			u->up ? "" : " (down)");
	}
}

uint64_t state_uplink_load(const struct gonad *g, const struct uplink *u)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		if (gu->homes & (1u << u->slot))
			sum += gu->home_bps[u->slot];
	}
	return sum;
}

/* What a guest sent out of each of its uplinks. One on a single uplink
 * sends all there; a spread one's is counted per uplink by the data path,
 * and a slot's first reading is only a baseline. */
static void home_rates(struct gonad *g, struct guest *gu, uint64_t dt_ms)
{
	uint32_t sampled = 0;

	memset(gu->home_bps, 0, sizeof(gu->home_bps));
	if (__builtin_popcount(gu->homes) == 1) {
		gu->home_bps[__builtin_ctz(gu->homes)] = gu->rates.tx_bps;
	} else {
		for (unsigned int s = 0; s < g->n_uplinks; s++) {
			uint64_t b;

			if (!(gu->homes & (1u << s)) ||
			    dp_read_guest_uplink_bytes(g->dp, gu->id, s, &b))
				continue;
			if ((gu->home_sampled & (1u << s)) && dt_ms &&
			    b >= gu->home_bytes[s])
				gu->home_bps[s] =
					(b - gu->home_bytes[s]) * 8000 / dt_ms;
			gu->home_bytes[s] = b;
			sampled |= 1u << s;
		}
	}
	gu->home_sampled = sampled;
}

void state_sample(struct gonad *g)
{
	uint64_t t = now_ms(), dt = g->sampled_ms ? t - g->sampled_ms : 0;
	struct gona_counters c;
	char msg[512];

	for (size_t i = 0; i < g->n_uplinks; i++)
		if (!dp_read_uplink_stats(g->dp, g->uplinks[i].slot, &c))
			rate(&g->uplinks[i].rates, &c, dt);
	for (size_t i = 0; i < g->n_guests; i++) {
		if (!dp_read_guest_stats(g->dp, g->guests[i]->id, &c))
			rate(&g->guests[i]->rates, &c, dt);
		home_rates(g, g->guests[i], dt);
	}
	g->sampled_ms = t;
	if (!dt)
		return;
	/* A spread guest's new flows follow where there is room. */
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		uint8_t slots[GONA_SPREAD_SLOTS];

		if (__builtin_popcount(gu->homes) < 2)
			continue;
		fill_slots(g, gu, slots);
		if (memcmp(slots, gu->slots, sizeof(slots)))
			state_push_guest(g, gu);
	}
	/* Where the demand went: guests first, then their shares. The
	 * interval after guests moved measured them moving: the next round
	 * waits for one that shows where they settled. */
	if (g->rebalance_settling) {
		g->rebalance_settling = false;
		qos_sample(g);
	} else if (state_rebalance(g, false, msg, sizeof(msg)) <= 0) {
		qos_sample(g);
	}
}

struct uplink *state_uplink(struct gonad *g, const char *name)
{
	/* An unused slot has no name, and no name finds nothing. */
	for (size_t i = 0; name[0] && i < g->n_uplinks; i++)
		if (!strcmp(g->uplinks[i].conf.name, name))
			return &g->uplinks[i];
	return NULL;
}

struct guest *state_guest(struct gonad *g, const char *name)
{
	for (size_t i = 0; i < g->n_guests; i++)
		if (!strcmp(g->guests[i]->conf.name, name))
			return g->guests[i];
	return NULL;
}

uint64_t state_uplink_guaranteed(const struct gonad *g, const struct uplink *u,
				 uint32_t *n_guests)
{
	uint64_t sum = 0;
	uint32_t n = 0;

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		if (!(gu->homes & (1u << u->slot)))
			continue;
		n++;
		sum += gu->tx_min_kept /
		       (uint64_t)__builtin_popcount(gu->homes);
	}
	if (n_guests)
		*n_guests = n;
	return sum;
}
