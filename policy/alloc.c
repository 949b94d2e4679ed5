/* SPDX-License-Identifier: MIT */
/* Sharing an uplink's capacity among guests by guarantee, weight, ceiling
 * and demand: the HTB class rates and the EDT pacing rates. */
#include <stdbool.h>
#include <stdlib.h>

#include "policy/policy.h"

/* Headroom above a guest's measured rate, so that it can grow. */
#define DEMAND_HEADROOM_BPS 1000000ull

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The most a claim can use: its ceiling or its demand. */
static uint64_t cap_of(const struct pol_claim *c)
{
	return min64(c->max ? c->max : UINT64_MAX, c->demand);
}

void pol_alloc(uint64_t capacity, struct pol_claim *c, size_t n)
{
	uint64_t left = capacity, floor_sum = 0;
	bool *done;

	for (size_t i = 0; i < n; i++) {
		c[i].rate = min64(c[i].min, cap_of(&c[i]));
		floor_sum += c[i].rate;
	}
	for (size_t i = 0; i < n; i++) {
		if (floor_sum > capacity)
			c[i].rate = (uint64_t)((unsigned __int128)c[i].rate *
					       capacity / floor_sum);
		left -= min64(left, c[i].rate);
	}
	/* Without memory for the progressive fill, guarantees alone: less
	 * than could be given, never more. */
	done = calloc(n ? n : 1, sizeof(*done));
	if (!done)
		return;
	for (size_t i = 0; i < n; i++)
		done[i] = c[i].rate >= cap_of(&c[i]) || !c[i].weight;
	/*
	 * Progressive filling: offer what is left by weight; a claim its
	 * share would take past its cap gets only up to the cap and leaves
	 * the round, and the rest is offered again among the others.
	 */
	while (left) {
		unsigned __int128 w = 0;
		bool capped = false;
		uint64_t given = 0;

		for (size_t i = 0; i < n; i++)
			if (!done[i])
				w += c[i].weight;
		if (!w)
			break;
		for (size_t i = 0; i < n; i++) {
			uint64_t share, room;

			if (done[i])
				continue;
			share = (uint64_t)((unsigned __int128)left *
					   c[i].weight / w);
			room = cap_of(&c[i]) - c[i].rate;
			if (share >= room) {
				c[i].rate += room;
				given += room;
				done[i] = true;
				capped = true;
			}
		}
		if (capped) {
			left -= min64(left, given);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			given = (uint64_t)((unsigned __int128)left *
					   c[i].weight / w);
			c[i].rate += given;
		}
		break;
	}
	free(done);
}

void pol_alloc_spare(uint64_t capacity, struct pol_claim *c, size_t n)
{
	pol_alloc(capacity, c, n);
	/* A second round from where the first ended, demand set aside. */
	for (size_t i = 0; i < n; i++) {
		c[i].min = c[i].rate;
		c[i].demand = POL_DEMAND_ANY;
	}
	pol_alloc(capacity, c, n);
}

uint64_t pol_demand(uint64_t measured, uint64_t allowed)
{
	if (!allowed || measured >= allowed / 10 * 9)
		return POL_DEMAND_ANY;
	return measured + measured / 5 + DEMAND_HEADROOM_BPS;
}
