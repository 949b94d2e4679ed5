/* SPDX-License-Identifier: MIT */
/* Live rebalancing: when the uplinks' loads drift apart, which guests move
 * where. */
#include <errno.h>
#include <stdlib.h>

#include "policy/policy.h"

/* Loads are compared relative to capacity, in doubles: rates up to 10T
 * squared overflow integers, and the decision needs no exactness. */
static double util(uint64_t load, uint64_t capacity)
{
	return (double)load / (double)capacity;
}

static bool usable(const struct pol_uplink *u)
{
	return u->up && u->capacity;
}

/* Sum of load^2 / capacity over the uplinks up: lower is more even. */
static double unevenness(const struct pol_uplink *u, size_t nu,
			 const uint64_t *load)
{
	double s = 0;

	for (size_t i = 0; i < nu; i++)
		if (usable(&u[i]))
			s += (double)load[i] * util(load[i], u[i].capacity);
	return s;
}

static bool movable(const struct pol_uplink *u, const struct pol_guest *g)
{
	int slot;

	if (g->held || !g->demand || __builtin_popcount(g->homes) != 1)
		return false;
	slot = __builtin_ctz(g->homes);
	return (size_t)slot < POL_MAX_UPLINKS && usable(&u[slot]);
}

/* Falling demand, then the caller's order. */
static int by_demand(const void *a, const void *b, void *arg)
{
	const struct pol_guest *g = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	if (g[ia].demand != g[ib].demand)
		return g[ia].demand > g[ib].demand ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Whether the busiest uplink up is loaded more than THRESHOLD_PCT percent
 * above the least busy, and by more than 1% of capacity. */
static bool uneven(const struct pol_uplink *u, size_t nu, const uint64_t *load,
		   uint32_t threshold_pct)
{
	double hi = -1, lo = -1;

	for (size_t i = 0; i < nu; i++) {
		double x;

		if (!usable(&u[i]))
			continue;
		x = util(load[i], u[i].capacity);
		if (hi < 0 || x > hi)
			hi = x;
		if (lo < 0 || x < lo)
			lo = x;
	}
	return lo >= 0 && hi - lo > 0.01 &&
	       hi > lo * (1.0 + threshold_pct / 100.0);
}

int pol_rebalance(const struct pol_uplink *u, size_t nu, struct pol_guest *g,
		  size_t ng, uint32_t threshold_pct)
{
	uint64_t load[POL_MAX_UPLINKS] = { 0 }, next[POL_MAX_UPLINKS] = { 0 };
	uint64_t mins[POL_MAX_UPLINKS] = { 0 };
	uint64_t total = 0, capacity = 0;
	uint32_t *to;
	size_t *order, n = 0;
	int moved = 0;

	if (nu > POL_MAX_UPLINKS)
		return -EINVAL;
	for (size_t i = 0; i < ng; i++) {
		unsigned int k = (unsigned int)__builtin_popcount(g[i].homes);

		for (size_t j = 0; k && j < nu; j++)
			if (g[i].homes & (1u << j)) {
				load[j] += g[i].demand / k;
				mins[j] += g[i].tx_min / k;
			}
	}
	if (!uneven(u, nu, load, threshold_pct))
		return 0;
	order = calloc(ng ? ng : 1, sizeof(*order));
	to = calloc(ng ? ng : 1, sizeof(*to));
	if (!order || !to) {
		free(order);
		free(to);
		return -ENOMEM;
	}
	for (size_t j = 0; j < nu; j++) {
		if (!usable(&u[j]))
			continue;
		total += load[j];
		capacity += u[j].capacity;
	}
	/* What stays where it is whatever happens: spread, held and idle
	 * guests. */
	for (size_t i = 0; i < ng; i++) {
		unsigned int k = (unsigned int)__builtin_popcount(g[i].homes);

		to[i] = g[i].homes;
		if (movable(u, &g[i])) {
			order[n++] = i;
			continue;
		}
		for (size_t j = 0; k && j < nu; j++)
			if (g[i].homes & (1u << j))
				next[j] += g[i].demand / k;
	}
	qsort_r(order, n, sizeof(*order), by_demand, g);
	for (size_t m = 0; m < n; m++) {
		const struct pol_guest *gi = &g[order[m]];
		size_t cur = (size_t)__builtin_ctz(gi->homes), best = cur;
		double mean = (double)total / (double)capacity;

		/* It stays while its uplink stays within the mean load. */
		if ((double)(next[cur] + gi->demand) >
		    mean * (double)u[cur].capacity) {
			for (size_t j = 0; j < nu; j++)
				if (usable(&u[j]) &&
				    !(gi->barred & (1u << j)) &&
				    mins[j] + gi->tx_min <= u[j].capacity &&
				    util(next[j] + gi->demand, u[j].capacity) <
					    util(next[best] + gi->demand,
						 u[best].capacity))
					best = j;
		}
		/* Its guarantee goes with it (only where there was room). */
		mins[cur] -= gi->tx_min;
		mins[best] += gi->tx_min;
		next[best] += gi->demand;
		to[order[m]] = 1u << best;
	}
	/* Only what makes the loads more even, by more than noise. */
	if (unevenness(u, nu, next) < 0.99 * unevenness(u, nu, load)) {
		for (size_t i = 0; i < ng; i++) {
			if (to[i] == g[i].homes)
				continue;
			g[i].homes = to[i];
			moved++;
		}
	}
	free(order);
	free(to);
	return moved;
}
