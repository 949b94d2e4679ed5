/* SPDX-License-Identifier: MIT */
/* Spread guests' flows: their rates, read from the data path's flow table,
 * and moving one when the uplinks a guest spreads over drift apart. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/gonad.h"

/* The flow table at the last round, sorted by key, for the rates. */
struct flows {
	struct dp_flow *last;
	size_t n_last;
	uint64_t at_ms;
};

static int key_cmp(const void *a, const void *b)
{
	const struct dp_flow *x = a, *y = b;

	if (x->key.id != y->key.id)
		return x->key.id < y->key.id ? -1 : 1;
	if (x->key.hash != y->key.hash)
		return x->key.hash < y->key.hash ? -1 : 1;
	return 0;
}

void flows_free(struct gonad *g)
{
	if (!g->flows)
		return;
	free(g->flows->last);
	free(g->flows);
	g->flows = NULL;
}

static double util(uint64_t load, uint64_t capacity)
{
	return (double)load / (double)capacity;
}

/* The flow of GU (not yet moved) whose move from uplink B to L leaves the
 * two most even, if that is more even than now; -1 if none. RATE[i] is
 * flow i's rate. */
static long best_flow(const struct gonad *g, const struct guest *gu,
		      const struct dp_flow *f, const uint64_t *rate, size_t n,
		      unsigned int b, unsigned int l)
{
	uint64_t lb = state_uplink_load(g, &g->uplinks[b]);
	uint64_t ll = state_uplink_load(g, &g->uplinks[l]);
	uint64_t cb = g->uplinks[b].conf.capacity;
	uint64_t cl = g->uplinks[l].conf.capacity;
	double best = util(lb, cb);
	long pick = -1;

	for (size_t i = 0; i < n; i++) {
		double worst;

		if (f[i].key.id != gu->id || f[i].slot != b || !rate[i] ||
		    rate[i] > lb)
			continue;
		worst = util(lb - rate[i], cb);
		if (util(ll + rate[i], cl) > worst)
			worst = util(ll + rate[i], cl);
		if (worst < best * 0.99) {
			best = worst;
			pick = (long)i;
		}
	}
	return pick;
}

/* GU's busiest and least busy uplinks up; false unless they are apart by
 * more than the threshold (and 1% of capacity). */
static bool uneven_homes(const struct gonad *g, const struct guest *gu,
			 unsigned int *b, unsigned int *l)
{
	double hi = -1, lo = -1;

	for (unsigned int s = 0; s < g->n_uplinks; s++) {
		const struct uplink *u = &g->uplinks[s];
		double x;

		if (!(gu->homes & (1u << s)) || !u->up)
			continue;
		x = util(state_uplink_load(g, u), u->conf.capacity);
		if (hi < 0 || x > hi) {
			hi = x;
			*b = s;
		}
		if (lo < 0 || x < lo) {
			lo = x;
			*l = s;
		}
	}
	return lo >= 0 && hi - lo > 0.01 &&
	       hi > lo * (1.0 + g->conf->policy.rebalance_threshold / 100.0);
}

int flows_rebalance(struct gonad *g, char *msg, size_t len)
{
	uint64_t now = now_ms(), *rate = NULL, dt;
	struct dp_flow *f;
	size_t n, off = strlen(msg);
	int r, moved = 0;
	bool spread = false;

	for (size_t i = 0; i < g->n_guests; i++)
		if (__builtin_popcount(g->guests[i]->homes) > 1)
			spread = true;
	if (!spread)
		return 0;
	if (!g->flows) {
		g->flows = calloc(1, sizeof(*g->flows));
		if (!g->flows)
			return -ENOMEM;
	}
	r = dp_read_flows(g->dp, &f, &n);
	if (r)
		return r;
	/* An empty table may come as NULL, which qsort must not be given. */
	if (n)
		qsort(f, n, sizeof(*f), key_cmp);
	dt = g->flows->at_ms ? now - g->flows->at_ms : 0;
	rate = calloc(n ? n : 1, sizeof(*rate));
	if (!rate) {
		free(f);
		return -ENOMEM;
	}
	/* A flow's rate: its bytes since the last round, if it was there. */
	for (size_t i = 0, j = 0; dt && i < n; i++) {
		while (j < g->flows->n_last &&
		       key_cmp(&g->flows->last[j], &f[i]) < 0)
			j++;
		if (j < g->flows->n_last &&
		    !key_cmp(&g->flows->last[j], &f[i]) &&
		    f[i].bytes >= g->flows->last[j].bytes)
			rate[i] = (f[i].bytes - g->flows->last[j].bytes) *
				  8000 / dt;
	}
	for (size_t i = 0; dt && i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		unsigned int b = 0, l = 0;
		long k;

		if (__builtin_popcount(gu->homes) < 2 ||
		    gu->held_until_ms > now || !uneven_homes(g, gu, &b, &l))
			continue;
		k = best_flow(g, gu, f, rate, n, b, l);
		/* At its next pause, or within half an interval: the next
		 * round measures it where it went. */
		if (k < 0 ||
		    dp_move_flow(g->dp, &f[k].key, l,
				 g->conf->policy.rebalance_interval_ms / 2))
			continue;
		/* Counted where it goes from now on. */
		gu->home_bps[b] -=
			rate[k] < gu->home_bps[b] ? rate[k] : gu->home_bps[b];
		gu->home_bps[l] += rate[k];
		gu->held_until_ms = now + g->conf->policy.rebalance_holddown_ms;
		f[k].slot = l;
		moved++;
		if (off < len)
			off += (size_t)snprintf(
				msg + off, len - off,
				"%sa flow of %s (%.1f Mbit/s) from %s to %s",
				off ? "; " : "", gu->conf.name,
				(double)rate[k] / 1e6, g->uplinks[b].conf.name,
				g->uplinks[l].conf.name);
	}
	free(rate);
	free(g->flows->last);
	g->flows->last = f;
	g->flows->n_last = n;
	g->flows->at_ms = now;
	return moved;
}
