/* SPDX-License-Identifier: MIT */
/* Where the guests go: the uplinks and guests as policy/ sees them, which
 * uplinks can carry a guest's VLANs, degraded mode when the uplinks up
 * cannot keep every guarantee, and moving guests to the homes the policy
 * gives them (the data path first, then announcements). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/state_int.h"

void build_pol_uplinks(const struct gonad *g, struct pol_uplink *pu)
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

/*
 * Whether uplink U cannot carry tagged frames of its own guests: a VF
 * whose PF tags all its frames with a port VLAN of its own. Says why in
 * WHY.
 */
static bool cannot_tag(const struct uplink *u, char *why, size_t len)
{
	if (!u->vf.is_vf || !u->vf_state.vlan)
		return false;
	snprintf(why, len,
		 "uplink %s (%s): its PF %s puts VF %d in port VLAN %u, "
		 "which takes no tags of its own",
		 u->conf.name, u->conf.device, u->vf.pf_name, u->vf.index,
		 u->vf_state.vlan);
	return true;
}

/* The uplinks that cannot tag the VLANs of guest C, a bit each. */
static uint32_t untagging(const struct gonad *g, const struct conf_guest *c)
{
	uint32_t bits = 0;
	char why[160];

	if (!c->vlan && !conf_guest_is_trunk(c))
		return 0;
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (cannot_tag(&g->uplinks[i], why, sizeof(why)))
			bits |= 1u << i;
	return bits;
}

int state_vlans_carried(const struct gonad *g, const struct conf *c,
			const char *only, char *msg, size_t len)
{
	for (size_t i = 0; i < c->n_guests; i++) {
		const struct conf_guest *cg = &c->guests[i], *was;
		uint32_t present = 0, bad;
		char why[160] = "";

		if ((!cg->vlan && !conf_guest_is_trunk(cg)) ||
		    (only && strcmp(only, cg->name)))
			continue;
		/* A reload refuses new VLANs, not those a guest has. */
		was = only ? NULL : conf_guest_find(g->conf, cg->name);
		if (was && !vlans_differ(was, cg))
			continue;
		for (size_t j = 0; j < g->n_uplinks; j++)
			if (g->uplinks[j].attached)
				present |= 1u << j;
		bad = untagging(g, cg);
		if (!present || (present & ~bad))
			continue;
		for (size_t j = 0; j < g->n_uplinks && !why[0]; j++)
			cannot_tag(&g->uplinks[j], why, sizeof(why));
		snprintf(msg, len,
			 "guest %s: no uplink can carry its VLANs: %s",
			 cg->name, why);
		return -EINVAL;
	}
	return 0;
}

/* The guest's primary uplink as a slot bit (0: none). */
static uint32_t primary_of(const struct gonad *g, const struct guest *gu)
{
	for (size_t s = 0; gu->conf.primary[0] && s < g->n_uplinks; s++)
		if (!strcmp(g->uplinks[s].conf.name, gu->conf.primary))
			return 1u << s;
	return 0;
}

/* The guests as policy/ sees them: guarantee kept, demand, homes, the
 * uplinks that cannot serve them, their primary. */
void build_pol_guests(const struct gonad *g, struct pol_guest *pg)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		pg[i] = (struct pol_guest){
			.tx_min = gu->tx_min_kept,
			.demand = gu->rates.tx_bps,
			.spread = gu->conf.spread,
			/* To be placed afresh: as if it had none. */
			.homes = gu->replace ? 0 : gu->homes,
			.barred = gu->vf_refused | untagging(g, &gu->conf),
			.primary = primary_of(g, gu),
			/* On its primary, rebalancing leaves it there. */
			.held = gu->held_until_ms > now ||
				(gu->homes & primary_of(g, gu)),
		};
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
void move_guests(struct gonad *g, const struct pol_guest *pg, const char *what)
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
bool place_guests(struct gonad *g, enum pol_mode mode)
{
	struct pol_uplink pu[GONA_MAX_UPLINKS];
	struct pol_guest *pg;
	bool kept_changed;
	int moved, any = 0;

	if (!g->n_guests)
		return false;
	kept_changed = degrade(g);
	pg = calloc(g->n_guests, sizeof(*pg));
	if (!pg) {
		log_warnx("placement: out of memory");
		return false;
	}
	/* A VF that refuses a guest's MAC bars the guest from it: placed
	 * again, until every guest is where it is served (each round bars
	 * one more uplink to someone, so this ends). */
	for (int round = 0; round <= GONA_MAX_UPLINKS; round++) {
		g->vf_replace = false;
		build_pol_uplinks(g, pu);
		build_pol_guests(g, pg);
		moved = pol_place(pu, g->n_uplinks, pg, g->n_guests,
				  round ? POL_KEEP : mode);
		if (moved < 0) {
			log_warnx("placement failed: %s", err_str(moved));
			moved = 0;
		}
		if (moved)
			move_guests(g, pg, "placed on");
		any += moved;
		if (!g->vf_replace)
			break;
	}
	moved = any;
	free(pg);
	/* The data path already sends the guests where they belong; their
	 * shares of the uplinks follow. */
	if (!moved && !kept_changed)
		return false;
	qos_update(g);
	return true;
}

void state_vf_refusals(struct gonad *g)
{
	if (!g->vf_replace)
		return;
	place_guests(g, POL_KEEP);
	g->vf_replace = false;
}

/* After the changes: where everyone goes, and the shares that follow. */
void state_settle(struct gonad *g)
{
	push_globals(g);
	if (!place_guests(g, POL_KEEP))
		qos_update(g);
	for (size_t i = 0; i < g->n_guests; i++)
		g->guests[i]->replace = false;
	for (size_t i = 0; i < g->n_guests; i++)
		state_push_guest(g, g->guests[i]);
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
