/* SPDX-License-Identifier: MIT */
/* gona's pure decisions: where guests are placed, how a guest's flows are
 * spread, what is admitted. Structs in, decisions out; no I/O. */
#ifndef GONA_POLICY_H
#define GONA_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_MAX_UPLINKS 32
#define POL_SLOTS 64 /* = GONA_SPREAD_SLOTS */

struct pol_uplink {
	uint64_t capacity; /* bit/s */
	bool up; /* may carry traffic */
	/* Uplinks of one group (PF, card, switch) fail together; 0: a group
	 * of its own. */
	uint32_t group;
};

struct pol_guest {
	uint64_t tx_min; /* guaranteed rate, bit/s; 0 = best effort */
	uint64_t demand; /* measured rate, bit/s; 0 = idle or unknown */
	uint32_t spread; /* wanted number of uplinks, >= 1 */
	uint32_t homes; /* in: current uplinks (bit per slot); out: new ones */
	/* Uplinks that cannot serve it (a VF that refused its MAC, an uplink
	 * that cannot tag its VLAN): never among its homes. */
	uint32_t barred;
	/* Its primary uplink (a bit, or 0): among its homes whenever it is
	 * up and not barred, whatever the loads. */
	uint32_t primary;
	bool held; /* moved lately: rebalancing leaves it where it is */
};

enum pol_mode {
	/* Guests whose uplinks are all still up (and enough of them) stay;
	 * only the others are placed. Used when an uplink fails, so a failure
	 * moves no guest that was not on it. */
	POL_KEEP,
	/* Every guest is placed afresh: start, configuration change, failback.
	 */
	POL_FULL,
};

/*
 * Give every guest min(spread, uplinks up) uplinks that are up. A guest
 * weighs its guarantee or its demand, whichever is higher. Guests are
 * taken by falling weight (then in the given order), each onto an uplink
 * with room for its guarantee's share beside the guarantees placed there
 * while there is one (a guest demanding much must not leave two
 * guarantees on one uplink they overfill), then where its share leaves the
 * lowest load relative to capacity, then the fewest guests relative to
 * capacity, then the lowest slot; a spread guest's uplinks come from
 * different groups while there are groups it does not use yet (room for
 * guarantees comes first); a guest's primary uplink comes first while it
 * is up.
 * A guest gets no uplink when none is up. Returns the number of guests
 * whose uplinks changed.
 */
int pol_place(const struct pol_uplink *u, size_t nu, struct pol_guest *g,
	      size_t ng, enum pol_mode mode);

/* What a guest weighs in placement: its guarantee or its demand. */
uint64_t pol_weight(const struct pol_guest *g);

/*
 * One rebalancing round over the guests' measured demand. When the
 * busiest uplink up is loaded, relative to its capacity, more than
 * THRESHOLD_PCT percent above the least busy one (and by more than 1% of
 * its capacity), the guests that may move (one uplink, not held) are
 * dealt again by falling demand: each stays where it is while its uplink
 * stays within the mean load, and otherwise goes to the least loaded
 * uplink with room for its guarantee beside the guarantees there (or
 * stays). The new homes are kept only if they make the loads more even
 * (a lower sum of load^2/capacity); else nothing moves. Returns the
 * number of guests moved.
 */
int pol_rebalance(const struct pol_uplink *u, size_t nu, struct pol_guest *g,
		  size_t ng, uint32_t threshold_pct);

/* Deal a guest's POL_SLOTS flow-hash slots over the uplinks in HOMES, in
 * proportion to their capacity and interleaved, so neighbouring hashes land
 * on different uplinks. HOMES == 0 fills nothing. */
void pol_fill_slots(const struct pol_uplink *u, size_t nu, uint32_t homes,
		    uint8_t slots[POL_SLOTS]);

/* One guest's claim on an uplink's capacity. */
struct pol_claim {
	uint64_t min; /* guaranteed, bit/s */
	uint64_t max; /* ceiling, bit/s; 0 = none */
	uint32_t weight; /* share of spare capacity, >= 1 */
	uint64_t demand; /* what it would use; POL_DEMAND_ANY: all it gets */
	uint64_t rate; /* out: its share */
};

#define POL_DEMAND_ANY UINT64_MAX

/*
 * Divide CAPACITY among the claims, weighted max-min: each first gets its
 * guarantee (or its demand, if that is lower, so an idle guarantee is not
 * kept from others); what is left goes to the claims that want more, in
 * proportion to their weights, none beyond its ceiling or demand. Should
 * the guarantees exceed CAPACITY (a placement that could not fit them),
 * they are shrunk in proportion: the rates never add up to more.
 */
void pol_alloc(uint64_t capacity, struct pol_claim *c, size_t n);

/*
 * pol_alloc, then what the demands left of CAPACITY goes to every claim
 * by weight, up to its ceiling, whatever its demand: so a claim that
 * showed no demand yet can grow at once into its part of what is spare.
 * The rates add up to CAPACITY unless every claim is at its ceiling.
 */
void pol_alloc_spare(uint64_t capacity, struct pol_claim *c, size_t n);

/*
 * A guest's demand from its measured rate and the rate it was allowed: one
 * using nearly all it was allowed may want more (POL_DEMAND_ANY); one using
 * less wants what it uses, with headroom to grow into next interval.
 */
uint64_t pol_demand(uint64_t measured, uint64_t allowed);

/* One guest's guarantee when capacity may be short. */
struct pol_keep {
	uint64_t min; /* promised, bit/s */
	uint32_t priority; /* higher is kept first (POL_DEGRADE_PRIORITY) */
	uint64_t kept; /* out: what is kept of it */
};

enum pol_degrade {
	POL_DEGRADE_PROPORTIONAL, /* every guarantee shrinks by one factor */
	POL_DEGRADE_PRIORITY, /* whole by falling priority; equal priorities
			       * share a shortfall in proportion */
};

/*
 * What of each guarantee CAPACITY can carry: all of them while their sum
 * fits; otherwise shrunk as MODE says, so that the kept ones add up to at
 * most CAPACITY. Returns the sum kept.
 */
uint64_t pol_degrade(uint64_t capacity, struct pol_keep *k, size_t n,
		     enum pol_degrade mode);

enum pol_admission {
	POL_ADMIT_N1, /* guarantees survive the loss of the largest uplink */
	POL_ADMIT_N, /* guarantees fit all uplinks together */
	POL_ADMIT_OFF,
};

/* Does GUARANTEED fit what ADMISSION allows on the configured uplinks (up
 * or not: admission is about promises, not the present state)? Returns 0,
 * or -ENOSPC with *limit set to the capacity it was measured against. */
int pol_admit(const struct pol_uplink *u, size_t nu, uint64_t guaranteed,
	      enum pol_admission admission, uint64_t *limit);

#endif
