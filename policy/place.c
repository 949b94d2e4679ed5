/* SPDX-License-Identifier: MIT */
/* Placement of guests on uplinks and of a guest's flows on its uplinks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

struct load {
	uint64_t weight; /* sum of the guests' shares placed (pol_weight) */
	uint64_t min; /* sum of their guarantees' shares */
	uint64_t guests;
};

uint64_t pol_weight(const struct pol_guest *g)
{
	return g->tx_min > g->demand ? g->tx_min : g->demand;
}

/* a/b < c/d for positive b and d, exactly. */
static int frac_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	unsigned __int128 l = (unsigned __int128)a * d;
	unsigned __int128 r = (unsigned __int128)c * b;

	return l < r ? -1 : l > r;
}

static unsigned int popcount32(uint32_t x)
{
	return (unsigned int)__builtin_popcount(x);
}

/* Whether uplink I shares a group with one in TAKEN. */
static bool group_taken(const struct pol_uplink *u, size_t nu, size_t i,
			uint32_t taken)
{
	if (!u[i].group)
		return false;
	for (size_t j = 0; j < nu; j++)
		if ((taken & (1u << j)) && u[j].group == u[i].group)
			return true;
	return false;
}

/* Whether uplink I has room for a guarantee's share MIN besides the
 * guarantees placed on it. */
static bool min_fits(const struct pol_uplink *u, const struct load *load,
		     size_t i, uint64_t min)
{
	return load[i].min + min <= u[i].capacity;
}

/* The uplink, neither in TAKEN nor BARRED, where adding SHARE keeps the
 * load lowest relative to capacity: first one with room for the guarantee's
 * share MIN, then one from a group TAKEN does not use; -1 if every uplink
 * is down, taken or barred. */
static int best_uplink(const struct pol_uplink *u, size_t nu,
		       const struct load *load, uint64_t share, uint64_t min,
		       uint32_t taken, uint32_t barred)
{
	int best = -1;
	bool best_fits = false, best_new_group = false;

	for (size_t i = 0; i < nu; i++) {
		bool fits, new_group;
		int c;

		if (!u[i].up || !u[i].capacity ||
		    ((taken | barred) & (1u << i)))
			continue;
		fits = min_fits(u, load, i, min);
		new_group = !group_taken(u, nu, i, taken);
		if (best < 0 || fits > best_fits ||
		    (fits == best_fits && new_group > best_new_group)) {
			best = (int)i;
			best_fits = fits;
			best_new_group = new_group;
			continue;
		}
		if (fits < best_fits || new_group < best_new_group)
			continue;
		c = frac_cmp(load[i].weight + share, u[i].capacity,
			     load[best].weight + share, u[best].capacity);
		if (!c)
			c = frac_cmp(load[i].guests + 1, u[i].capacity,
				     load[best].guests + 1, u[best].capacity);
		if (c < 0)
			best = (int)i;
	}
	return best;
}

/* Falling weight, then the caller's order, so placement is repeatable. */
static int by_weight(const void *a, const void *b, void *arg)
{
	const struct pol_guest *g = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	uint64_t ma = pol_weight(&g[ia]), mb = pol_weight(&g[ib]);

	if (ma != mb)
		return ma > mb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

static uint32_t up_mask(const struct pol_uplink *u, size_t nu)
{
	uint32_t m = 0;

	for (size_t i = 0; i < nu; i++)
		if (u[i].up && u[i].capacity)
			m |= 1u << i;
	return m;
}

static void add_load(struct load *load, uint32_t homes,
		     const struct pol_guest *g)
{
	unsigned int k = popcount32(homes);

	for (unsigned int i = 0; i < POL_MAX_UPLINKS; i++) {
		if (!(homes & (1u << i)))
			continue;
		load[i].weight += pol_weight(g) / k;
		load[i].min += g->tx_min / k;
		load[i].guests++;
	}
}

int pol_place(const struct pol_uplink *u, size_t nu, struct pol_guest *g,
	      size_t ng, enum pol_mode mode)
{
	struct load load[POL_MAX_UPLINKS] = { 0 };
	uint32_t up, *old;
	size_t *order, n = 0;
	int moved = 0;

	if (nu > POL_MAX_UPLINKS)
		return -EINVAL;
	up = up_mask(u, nu);
	order = calloc(ng ? ng : 1, sizeof(*order));
	old = calloc(ng ? ng : 1, sizeof(*old));
	if (!order || !old) {
		free(order);
		free(old);
		return -ENOMEM;
	}

	for (size_t i = 0; i < ng; i++) {
		unsigned int n_ok = popcount32(up & ~g[i].barred);
		unsigned int want = g[i].spread < n_ok ? g[i].spread : n_ok;
		bool keep = mode == POL_KEEP && g[i].homes &&
			    (g[i].homes & (~up | g[i].barred)) == 0 &&
			    popcount32(g[i].homes) == (want ? want : 1);

		old[i] = g[i].homes;
		if (keep)
			add_load(load, g[i].homes, &g[i]);
		else
			order[n++] = i;
	}

	qsort_r(order, n, sizeof(*order), by_weight, g);

	for (size_t k = 0; k < n; k++) {
		struct pol_guest *gi = &g[order[k]];
		unsigned int want = gi->spread ? gi->spread : 1;
		unsigned int n_ok = popcount32(up & ~gi->barred);
		uint32_t homes = 0;
		uint64_t share, min;

		if (want > n_ok)
			want = n_ok;
		share = want ? pol_weight(gi) / want : 0;
		min = want ? gi->tx_min / want : 0;
		for (unsigned int j = 0; j < want; j++) {
			uint32_t first =
				gi->primary & up & ~gi->barred & ~homes;
			int b = first ? __builtin_ctz(first)
				      : best_uplink(u, nu, load, share, min,
						    homes, gi->barred);

			if (b < 0)
				break;
			homes |= 1u << b;
			/* Charge as we go so a spread guest's next uplink
			 * sees its earlier shares. */
			load[b].weight += share;
			load[b].min += min;
			load[b].guests++;
		}
		gi->homes = homes;
	}

	for (size_t i = 0; i < ng; i++)
		if (g[i].homes != old[i])
			moved++;
	free(order);
	free(old);
	return moved;
}

void pol_fill_slots(const struct pol_uplink *u, size_t nu, uint32_t homes,
		    uint8_t slots[POL_SLOTS])
{
	int64_t current[POL_MAX_UPLINKS] = { 0 };
	int64_t weight[POL_MAX_UPLINKS] = { 0 };
	int64_t total = 0;

	if (!homes)
		return;
	/* One uplink takes every turn (most guests: no need to count). */
	if (!(homes & (homes - 1))) {
		unsigned int only = (unsigned int)__builtin_ctz(homes);

		if (only < nu && only < POL_MAX_UPLINKS)
			memset(slots, (int)only, POL_SLOTS);
		return;
	}
	/* Weights in Mbit/s (at least 1) keep the sums far from overflow. */
	for (size_t i = 0; i < nu && i < POL_MAX_UPLINKS; i++) {
		if (!(homes & (1u << i)))
			continue;
		weight[i] = (int64_t)(u[i].capacity / 1000000);
		if (weight[i] < 1)
			weight[i] = 1;
		total += weight[i];
	}
	if (!total)
		return;
	/* Smooth weighted round robin: each slot goes to the uplink furthest
	 * behind its share, which interleaves the uplinks evenly. */
	for (int s = 0; s < POL_SLOTS; s++) {
		int best = -1;

		for (size_t i = 0; i < nu && i < POL_MAX_UPLINKS; i++) {
			if (!weight[i])
				continue;
			current[i] += weight[i];
			if (best < 0 || current[i] > current[best])
				best = (int)i;
		}
		current[best] -= total;
		slots[s] = (uint8_t)best;
	}
}

int pol_admit(const struct pol_uplink *u, size_t nu, uint64_t guaranteed,
	      enum pol_admission admission, uint64_t *limit)
{
	uint64_t total = 0, largest = 0;

	for (size_t i = 0; i < nu; i++) {
		total += u[i].capacity;
		if (u[i].capacity > largest)
			largest = u[i].capacity;
	}
	switch (admission) {
	case POL_ADMIT_OFF:
		*limit = UINT64_MAX;
		return 0;
	case POL_ADMIT_N1:
		/* With a single uplink there is nothing to fail over to, so
		 * n-1 means n. */
		*limit = nu > 1 ? total - largest : total;
		break;
	case POL_ADMIT_N:
		*limit = total;
		break;
	}
	return guaranteed > *limit ? -ENOSPC : 0;
}
