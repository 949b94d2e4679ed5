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
};

struct pol_guest {
	uint64_t tx_min; /* guaranteed rate, bit/s; 0 = best effort */
	uint32_t spread; /* wanted number of uplinks, >= 1 */
	uint32_t homes; /* in: current uplinks (bit per slot); out: new ones */
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
 * Give every guest min(spread, uplinks up) uplinks that are up. Guests are
 * taken by falling guarantee (then in the given order), each onto the
 * uplinks where its guaranteed share leaves the lowest guaranteed load
 * relative to capacity, then the fewest guests relative to capacity, then
 * the lowest slot. A guest gets no uplink when none is up. Returns the
 * number of guests whose uplinks changed.
 */
int pol_place(const struct pol_uplink *u, size_t nu, struct pol_guest *g,
	      size_t ng, enum pol_mode mode);

/* Deal a guest's POL_SLOTS flow-hash slots over the uplinks in HOMES, in
 * proportion to their capacity and interleaved, so neighbouring hashes land
 * on different uplinks. HOMES == 0 fills nothing. */
void pol_fill_slots(const struct pol_uplink *u, size_t nu, uint32_t homes,
		    uint8_t slots[POL_SLOTS]);

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
