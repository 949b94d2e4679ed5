/* SPDX-License-Identifier: MIT */
/* The periodic sampling of the data path's counters (rates of uplinks,
 * guests and each guest's homes), the rebalancing it may lead to, and the
 * tidying of the data path's filter of guest MACs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/state_int.h"

static void rate(struct rates *rt, const struct gona_counters *now,
		 uint64_t dt_ms)
{
	if (dt_ms) {
		rt->prev_tx_bps = rt->tx_bps;
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

/* A guest's rate rose in the last interval by over a quarter, and by more
 * than 1% of its uplinks' capacity: traffic that started or grew during
 * the interval, whose demand it measured only in part. */
static bool rising(const struct gonad *g)
{
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];
		uint64_t prev = gu->rates.prev_tx_bps, cap = 0;

		for (size_t s = 0; s < g->n_uplinks; s++)
			if (gu->homes & (1u << g->uplinks[s].slot))
				cap += g->uplinks[s].conf.capacity;
		if (gu->rates.tx_bps > prev + prev / 4 + cap / 100)
			return true;
	}
	return false;
}

/* How many rounds in a row the periodic one waits for rising rates: a
 * bound, for traffic that rises and falls at every interval. */
#define RISING_WAITS 2

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
		g->rebalance_waits = 0;
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
	/*
	 * Guests whose rates are rising were measured in part: moved on that,
	 * they would be placed by a guess and held there. The periodic round
	 * waits for their rates to settle (a run here moved five guests on
	 * loads of 6%, 0% and 0%, the traffic a few milliseconds old).
	 */
	if (!now_or_never && g->rebalance_waits < RISING_WAITS && rising(g)) {
		g->rebalance_waits++;
		g->rebalance_armed = true;
		snprintf(msg, len,
			 "uneven (loads %s), but guests' rates are rising: "
			 "moving when they settle",
			 loads);
		free(pg);
		return 0;
	}
	g->rebalance_waits = 0;
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
	dp_mac_filter_tidy(g->dp);
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
