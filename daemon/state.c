/* SPDX-License-Identifier: MIT */
/* gonad's running state, its core: guest ids, the uplinks and guests by
 * name, start and end, and the entries through which the data path finds
 * them (a guest's entry, its MAC and flood entries, its VLANs, the
 * globals). Placement is in state_place.c, devices coming and going in
 * state_devices.c, live changes in state_live.c, sampling and rebalancing
 * in state_sample.c; state_int.h is what they share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/state_int.h"

const char *err_str(int r)
{
	return strerror(r < 0 ? -r : r);
}

uint32_t alloc_id(struct gonad *g)
{
	uint32_t max = dp_max_guests(g->dp);

	for (uint32_t i = 0; i < max; i++) {
		if (!(g->id_used[i / 64] & (1ull << (i % 64)))) {
			g->id_used[i / 64] |= 1ull << (i % 64);
			return i;
		}
	}
	return max; /* conf_check keeps us below daemon.max_guests */
}

struct gona_uplink uplink_value(const struct uplink *u)
{
	struct gona_uplink v = {
		.ifindex = u->attached ? (__u32)u->ifindex : 0,
		.flags = (u->up ? GONA_UF_UP : 0) |
			 (u->bcast ? GONA_UF_BCAST : 0),
	};

	return v;
}

/*
 * The turns a spread guest's new flows take over its uplinks: as many on
 * each as it has room there, what the other guests leave of its capacity
 * (at least a percent), so new flows go where the load is least.
 */
void fill_slots(const struct gonad *g, const struct guest *gu,
		uint8_t slots[GONA_SPREAD_SLOTS])
{
	struct pol_uplink pu[GONA_MAX_UPLINKS];

	build_pol_uplinks(g, pu);
	/* One uplink takes every turn, however loaded: no need to know. */
	for (unsigned int s = 0;
	     __builtin_popcount(gu->homes) > 1 && s < g->n_uplinks; s++) {
		uint64_t cap = pu[s].capacity, others;

		if (!(gu->homes & (1u << s)))
			continue;
		others = state_uplink_load(g, &g->uplinks[s]) - gu->home_bps[s];
		pu[s].capacity =
			others < cap - cap / 100 ? cap - others : cap / 100;
	}
	pol_fill_slots(pu, g->n_uplinks, gu->homes, slots);
}

/* The guest as the data path finds it by MAC and in the flood list:
 * IFINDEX (0 while it has no interface), id and VLANs. */
struct gona_port guest_port(const struct guest *gu, int ifindex)
{
	return (struct gona_port){
		.ifindex = (__u32)ifindex,
		.id = gu->id,
		.vlan = (__u16)gu->conf.vlan,
		.flags = conf_guest_is_trunk(&gu->conf) ? GONA_PORT_TRUNK : 0,
	};
}

/* Write the guest's entry in `guests` (only while its interface exists):
 * 0, or what the kernel refused it with. */
int state_push_guest(struct gonad *g, struct guest *gu)
{
	struct gona_guest v = { .id = gu->id, .ifindex = (__u32)gu->ifindex };
	int r;

	if (!gu->ifindex)
		return 0;
	memcpy(v.mac, gu->conf.mac, 6);
	if (gu->conf.n_ipv4)
		v.ip4 = gu->conf.ipv4[0].s_addr;
	v.vlan = (__u16)gu->conf.vlan;
	v.port_flags = guest_port(gu, 0).flags;
	if (gu->homes) {
		v.flags |= GONA_GF_PLACED;
		v.homes = gu->homes;
		v.n_uplinks = (__u8)__builtin_popcount(gu->homes);
		fill_slots(g, gu, v.slots);
	}
	memcpy(gu->slots, v.slots, sizeof(gu->slots));
	qos_guest_entry(g, gu, &v);
	/* Its MAC in its VF uplinks' filters before its frames go there;
	 * out of the others' after they stop. A refusal bars the uplink
	 * and has the guests placed again. */
	if (sriov_guest_add(g, gu))
		g->vf_replace = true;
	/* An entry as it is stays untouched: every write of it is a new
	 * element for the frames that read it meanwhile. */
	if (gu->pushed_ifindex == gu->ifindex &&
	    !memcmp(&gu->pushed, &v, sizeof(v)))
		return 0;
	r = dp_set_guest(g->dp, gu->id, &v);
	if (r) {
		/* Said once; state_retry writes it again at each sample. */
		if (!gu->push_failed)
			log_warnx("guest %s (%s): cannot update the data path: "
				  "%s (trying again each sample)",
				  gu->conf.name, gu->conf.device, err_str(r));
		gu->push_failed = true;
		gu->pushed_ifindex = 0;
		return r;
	}
	if (gu->push_failed)
		log_info("guest %s (%s): the data path has its entry now",
			 gu->conf.name, gu->conf.device);
	gu->push_failed = false;
	gu->pushed = v;
	gu->pushed_ifindex = gu->ifindex;
	sriov_guest_prune(g, gu);
	return 0;
}

void homes_str(const struct gonad *g, uint32_t homes, char *buf, size_t len)
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

/* Which uplinks take broadcast and multicast: the designated one SLOT,
 * and the members of its LACP group that are up (the switch sends a group
 * frame out of any one member of the bundle; a member it does not
 * aggregate is a link of its own to it, which gets a copy of its own). */
static void push_bcast(struct gonad *g, unsigned int slot)
{
	const char *lag =
		slot < GONA_MAX_UPLINKS ? g->uplinks[slot].conf.lacp.group : "";

	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];
		bool want = i == slot || (lag[0] && u->up &&
					  !strcmp(u->conf.lacp.group, lag));
		struct gona_uplink v;
		int r;

		if (want == u->bcast || !u->attached)
			continue;
		u->bcast = want;
		v = uplink_value(u);
		r = dp_set_uplink(g->dp, u->slot, u->ifindex, &v);
		if (r) {
			log_warnx("uplink %s (%s): cannot update the data "
				  "path: %s (trying again each sample)",
				  u->conf.name, u->conf.device, err_str(r));
			u->dp_stale = true;
		}
	}
}

/* The globals: the designated broadcast uplink (the first that is up) and
 * how much of the flood map is in use. */
void push_globals(struct gonad *g)
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
	gl.bcast_pps = g->conf->policy.broadcast_pps;
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
	push_bcast(g, slot);
	if (slot != g->bcast_slot && slot < GONA_MAX_UPLINKS)
		log_info("uplink %s: takes broadcast and multicast",
			 g->uplinks[slot].conf.name);
	g->bcast_slot = slot;
}

/* The guest's entry in the flood map, indexed by guest id: its interface
 * while attached, 0 (skipped by the data path) otherwise. */
void push_flood(struct gonad *g, const struct guest *gu)
{
	struct gona_port p = guest_port(gu, gu->attached ? gu->ifindex : 0);
	int r = dp_set_flood(g->dp, gu->id, &p);

	if (r)
		log_warnx("guest %s: cannot update the flood list: %s",
			  gu->conf.name, err_str(r));
}

/* A guest's VLANs changed: the fabric learns its MAC where it now is. */
void vlans_moved(struct gonad *g, struct guest *gu)
{
	sriov_vlans_changed(g);
	if (gu->homes && g->announcer)
		announce_moved(g->announcer, gu);
}

/* The guest's VLANs where the data path reads them for its frames to
 * it: its trunk bits, its entry by MAC and in the flood list. */
int push_vlans(struct gonad *g, struct guest *gu)
{
	struct gona_port p = guest_port(gu, gu->attached ? gu->ifindex : 0);
	int r = dp_set_trunk(g->dp, gu->id, gu->conf.vlans);

	if (!r)
		r = dp_set_mac(g->dp, gu->conf.mac, &p);
	push_flood(g, gu);
	return r;
}

bool id_taken(const struct gonad *g, uint32_t id)
{
	return g->id_used[id / 64] & (1ull << (id % 64));
}

void id_free(struct gonad *g, uint32_t id)
{
	g->id_used[id / 64] &= ~(1ull << (id % 64));
}

/* Slot SLOT takes the uplink CU, not attached yet. */
struct uplink *uplink_init(struct gonad *g, unsigned int slot,
			   const struct conf_uplink *cu)
{
	struct uplink *u = &g->uplinks[slot];

	memset(u, 0, sizeof(*u));
	u->conf = *cu;
	u->slot = slot;
	u->admin_up = true;
	u->probe_ok = true;
	/* A member carries guests once the switch aggregates it. */
	u->lacp_ok = !cu->lacp.group[0];
	if (slot >= g->n_uplinks)
		g->n_uplinks = slot + 1;
	return u;
}

/* A new guest's entries: known by MAC and in the flood list (without an
 * interface yet), its addresses, its counters from zero. */
int guest_maps(struct gonad *g, struct guest *gu, bool fresh)
{
	struct gona_port p = guest_port(gu, 0);
	int r;

	/* A trunk's bits before its entries name it a trunk. */
	r = dp_set_trunk(g->dp, gu->id, gu->conf.vlans);
	if (fresh && !r) {
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
	uint64_t id_adopted[GONA_GUESTS_LIMIT / 64] = { 0 };
	uint32_t max = dp_max_guests(g->dp);
	uint32_t *homes = NULL, mask;
	int r = 0;

	g->conf = c;
	g->bcast_slot = GONA_MAX_UPLINKS;
	g->adopted = dp_adopted(g->dp);
	g->uplinks = calloc(GONA_MAX_UPLINKS, sizeof(*g->uplinks));
	g->guests = calloc(max, sizeof(*g->guests));
	if (g->adopted)
		homes = calloc(max, sizeof(*homes));
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
		gu->id = max;
		if (g->adopted &&
		    !dp_guest_id_by_mac(g->dp, gu->conf.mac, &id) && id < max &&
		    !id_taken(g, id)) {
			g->id_used[id / 64] |= 1ull << (id % 64);
			id_adopted[id / 64] |= 1ull << (id % 64);
			gu->id = id;
			gu->homes = homes[id] & mask;
		}
	}
	for (size_t i = 0; i < g->n_guests; i++)
		if (g->guests[i]->id == max)
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
