/* SPDX-License-Identifier: MIT */
/* Degraded mode: which guarantees are kept, and how much of each, when the
 * uplinks that are up cannot carry all of them. */
#include "policy/policy.h"

static uint64_t scaled(uint64_t v, uint64_t num, uint64_t den)
{
	return den ? (uint64_t)((unsigned __int128)v * num / den) : 0;
}

static uint64_t proportional(uint64_t capacity, struct pol_keep *k, size_t n,
			     uint64_t promised)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		k[i].kept = scaled(k[i].min, capacity, promised);
		sum += k[i].kept;
	}
	return sum;
}

/* Level by level, highest priority first: a level that fits is kept whole;
 * the first that does not shares what is left in proportion; the levels
 * below keep nothing. */
static uint64_t by_priority(uint64_t capacity, struct pol_keep *k, size_t n)
{
	uint64_t left = capacity, sum = 0;
	int64_t level = INT64_MAX; /* levels above it are done */

	for (;;) {
		int64_t top = -1;
		uint64_t need = 0;

		for (size_t i = 0; i < n; i++)
			if ((int64_t)k[i].priority < level &&
			    (int64_t)k[i].priority > top)
				top = k[i].priority;
		if (top < 0)
			break;
		for (size_t i = 0; i < n; i++)
			if ((int64_t)k[i].priority == top)
				need += k[i].min;
		for (size_t i = 0; i < n; i++) {
			if ((int64_t)k[i].priority != top)
				continue;
			k[i].kept = need <= left ? k[i].min
						 : scaled(k[i].min, left, need);
			sum += k[i].kept;
		}
		left -= need <= left ? need : left;
		level = top;
	}
	return sum;
}

uint64_t pol_degrade(uint64_t capacity, struct pol_keep *k, size_t n,
		     enum pol_degrade mode)
{
	uint64_t promised = 0;

	for (size_t i = 0; i < n; i++)
		promised += k[i].min;
	if (promised <= capacity) {
		for (size_t i = 0; i < n; i++)
			k[i].kept = k[i].min;
		return promised;
	}
	return mode == POL_DEGRADE_PRIORITY
		       ? by_priority(capacity, k, n)
		       : proportional(capacity, k, n, promised);
}
