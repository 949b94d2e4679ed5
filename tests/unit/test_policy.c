/* SPDX-License-Identifier: MIT */
/* Unit tests of policy/: placement, rebalancing, flow-slot tables,
 * admission, sharing and degraded mode. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "policy/policy.h"

#define G 1000000000ull
#define M 1000000ull

static struct pol_uplink ups(uint64_t cap, bool up)
{
	return (struct pol_uplink){ .capacity = cap, .up = up };
}

static struct pol_guest guest(uint64_t min, uint32_t spread)
{
	return (struct pol_guest){ .tx_min = min, .spread = spread };
}

static uint64_t load_on(const struct pol_guest *g, size_t n, int slot)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		if (g[i].homes & (1u << slot))
			sum += g[i].tx_min /
			       (uint64_t)__builtin_popcount(g[i].homes);
	return sum;
}

START_TEST(best_effort_guests_alternate)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true) };
	struct pol_guest g[] = { guest(0, 1), guest(0, 1), guest(0, 1) };

	ck_assert_int_eq(pol_place(u, 2, g, 3, POL_FULL), 3);
	ck_assert_uint_eq(g[0].homes, 1);
	ck_assert_uint_eq(g[1].homes, 2);
	ck_assert_uint_eq(g[2].homes, 1);
}
END_TEST

START_TEST(barred_uplinks_never_homes)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(10 * G, true) };
	struct pol_guest g[] = { guest(0, 1), guest(0, 2), guest(0, 1) };

	/* g0 may not be on 0, g1 (spread 2) not on 1, g2 on none. */
	g[0].barred = 1;
	g[1].barred = 2;
	g[2].barred = 7;
	pol_place(u, 3, g, 3, POL_FULL);
	ck_assert_uint_eq(g[0].homes & 1, 0);
	ck_assert_uint_eq(g[1].homes, 5);
	ck_assert_uint_eq(g[2].homes, 0);
	/* Kept in place unless barred there since. */
	g[0].homes = 2;
	g[0].barred = 2;
	g[1].barred = 0;
	ck_assert_int_eq(pol_place(u, 3, g, 2, POL_KEEP), 1);
	ck_assert_uint_ne(g[0].homes, 2);
	ck_assert_uint_eq(g[0].homes & 2, 0);
	ck_assert_uint_eq(g[1].homes, 5);
}
END_TEST

START_TEST(primary_first_while_up)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(10 * G, true) };
	struct pol_guest g[] = { guest(0, 1), guest(5 * G, 1), guest(0, 2) };

	/* g0's primary is 1, already loaded by g1's guarantee; spread g2's
	 * primary is 2: one of its two homes. */
	g[1].primary = 2;
	g[0].primary = 2;
	g[2].primary = 4;
	pol_place(u, 3, g, 3, POL_FULL);
	ck_assert_uint_eq(g[0].homes, 2);
	ck_assert_uint_eq(g[1].homes, 2);
	ck_assert_uint_eq(g[2].homes & 4, 4);
	ck_assert_uint_eq(__builtin_popcount(g[2].homes), 2);
	/* Its primary fails: off it; a failure keeps the others. */
	u[1].up = false;
	ck_assert_int_eq(pol_place(u, 3, g, 3, POL_KEEP), 2);
	ck_assert_uint_eq(g[0].homes & 2, 0);
	ck_assert_uint_ne(g[0].homes, 0);
	/* Back: a KEEP placement leaves it where it is, the failback
	 * (FULL) takes it home. */
	u[1].up = true;
	ck_assert_int_eq(pol_place(u, 3, g, 3, POL_KEEP), 0);
	pol_place(u, 3, g, 3, POL_FULL);
	ck_assert_uint_eq(g[0].homes, 2);
	/* A primary barred to it is not taken. */
	g[0].barred = 2;
	pol_place(u, 3, g, 3, POL_FULL);
	ck_assert_uint_eq(g[0].homes & 2, 0);
}
END_TEST

START_TEST(guarantees_balance_first)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true) };
	/* The largest guarantee first: 6G alone on one uplink, the two 3G
	 * together on the other, and 2G where the load is lowest. */
	struct pol_guest g[] = { guest(3 * G, 1), guest(6 * G, 1),
				 guest(3 * G, 1), guest(2 * G, 1) };

	pol_place(u, 2, g, 4, POL_FULL);
	ck_assert_uint_eq(g[1].homes, 1);
	ck_assert_uint_eq(g[0].homes, 2);
	ck_assert_uint_eq(g[2].homes, 2);
	ck_assert_uint_eq(g[3].homes, 1);
	ck_assert_uint_eq(load_on(g, 4, 0), 8 * G);
	ck_assert_uint_eq(load_on(g, 4, 1), 6 * G);
}
END_TEST

START_TEST(capacity_weighs_guest_counts)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(1 * G, true) };
	struct pol_guest g[11];
	int on_small = 0;

	for (int i = 0; i < 11; i++)
		g[i] = guest(0, 1);
	pol_place(u, 2, g, 11, POL_FULL);
	for (int i = 0; i < 11; i++)
		on_small += g[i].homes == 2;
	ck_assert_int_eq(on_small, 1);
}
END_TEST

START_TEST(guarantees_relative_to_capacity)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(1 * G, true) };
	struct pol_guest g[] = { guest(500000000, 1), guest(500000000, 1) };

	/* Both fit better on the 10G uplink: 1G of 10G beats 0.5G of 1G. */
	pol_place(u, 2, g, 2, POL_FULL);
	ck_assert_uint_eq(g[0].homes, 1);
	ck_assert_uint_eq(g[1].homes, 1);
}
END_TEST

START_TEST(down_uplinks_get_nothing)
{
	struct pol_uplink u[] = { ups(10 * G, false), ups(10 * G, true),
				  ups(10 * G, false) };
	struct pol_guest g[] = { guest(G, 1), guest(0, 1), guest(0, 2) };

	pol_place(u, 3, g, 3, POL_FULL);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(g[i].homes, 2);
	u[1].up = false;
	ck_assert_int_eq(pol_place(u, 3, g, 3, POL_KEEP), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(g[i].homes, 0);
}
END_TEST

START_TEST(keep_moves_only_the_orphans)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(10 * G, true) };
	struct pol_guest g[6], before[6];
	int moved = 0;

	for (int i = 0; i < 6; i++)
		g[i] = guest((uint64_t)(i + 1) * 100000000, 1);
	pol_place(u, 3, g, 6, POL_FULL);
	for (int i = 0; i < 6; i++)
		before[i] = g[i];
	u[1].up = false;
	ck_assert_int_eq(pol_place(u, 3, g, 6, POL_KEEP), 2);
	for (int i = 0; i < 6; i++) {
		ck_assert_uint_ne(g[i].homes, 2);
		if (before[i].homes != 2)
			ck_assert_uint_eq(g[i].homes, before[i].homes);
		else
			moved++;
	}
	ck_assert_int_eq(moved, 2);

	/* Failback: a full placement restores what was there before. */
	u[1].up = true;
	pol_place(u, 3, g, 6, POL_FULL);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(g[i].homes, before[i].homes);
}
END_TEST

START_TEST(spread_takes_distinct_uplinks)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(10 * G, true) };
	struct pol_guest g[] = { guest(3 * G, 2), guest(0, 4) };

	pol_place(u, 3, g, 2, POL_FULL);
	ck_assert_int_eq(__builtin_popcount(g[0].homes), 2);
	ck_assert_uint_eq(g[1].homes, 7);
	/* Its guarantee is split over its uplinks. */
	ck_assert_uint_eq(load_on(g, 2, __builtin_ctz(g[0].homes)), 3 * G / 2);

	/* Losing one of them, the spread guest gets a replacement. */
	u[__builtin_ctz(g[0].homes)].up = false;
	pol_place(u, 3, g, 2, POL_KEEP);
	ck_assert_int_eq(__builtin_popcount(g[0].homes), 2);
	ck_assert_int_eq(__builtin_popcount(g[1].homes), 2);
	for (int i = 0; i < 3; i++)
		if (!u[i].up)
			ck_assert_uint_eq(g[0].homes & (1u << i), 0);
}
END_TEST

START_TEST(spread_prefers_other_groups)
{
	/* Two cards of two ports each: a guest spread over two uplinks gets
	 * one port of each card, whatever the loads; over three, a card
	 * twice (there is no third). */
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(10 * G, true), ups(10 * G, true) };
	struct pol_guest g[] = { guest(0, 2), guest(0, 3) };

	u[0].group = u[1].group = 1;
	u[2].group = u[3].group = 2;
	pol_place(u, 4, g, 2, POL_FULL);
	ck_assert_uint_eq(g[0].homes, 0x5);
	ck_assert_int_eq(__builtin_popcount(g[1].homes), 3);
	ck_assert_uint_ne(g[1].homes & 0x3, 0);
	ck_assert_uint_ne(g[1].homes & 0xc, 0);
	/* A card down: both ports of the other. */
	u[2].up = u[3].up = false;
	pol_place(u, 4, g, 2, POL_KEEP);
	ck_assert_uint_eq(g[0].homes, 0x3);
}
END_TEST

START_TEST(placement_weighs_demand)
{
	/* No guarantees; g0 sends 6G: the 3G and 2G senders go together
	 * on the other uplink, and the idle guest where the load is lower
	 * (5G against 6G). */
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true) };
	struct pol_guest g[] = { guest(0, 1), guest(0, 1), guest(0, 1),
				 guest(0, 1) };

	g[0].demand = 6 * G;
	g[1].demand = 3 * G;
	g[2].demand = 2 * G;
	pol_place(u, 2, g, 4, POL_FULL);
	ck_assert_uint_eq(g[0].homes, 1);
	ck_assert_uint_eq(g[1].homes, 2);
	ck_assert_uint_eq(g[2].homes, 2);
	ck_assert_uint_eq(g[3].homes, 2);
}
END_TEST

static uint64_t demand_on(const struct pol_guest *g, size_t n, int slot)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		if (g[i].homes & (1u << slot))
			sum += g[i].demand;
	return sum;
}

START_TEST(rebalance_spreads_a_pile)
{
	/* Six guests all on up0 of three 300M uplinks, 630M of demand:
	 * dealt 210M each. */
	struct pol_uplink u[] = { ups(300 * M, true), ups(300 * M, true),
				  ups(300 * M, true) };
	uint64_t d[] = { 180, 150, 120, 90, 60, 30 };
	struct pol_guest g[6];

	for (int i = 0; i < 6; i++) {
		g[i] = guest(0, 1);
		g[i].homes = 1;
		g[i].demand = d[i] * M;
	}
	ck_assert_int_eq(pol_rebalance(u, 3, g, 6, 20), 4);
	for (int s = 0; s < 3; s++)
		ck_assert_uint_eq(demand_on(g, 6, s), 210 * M);
	/* The biggest stayed: moving it would not help more. */
	ck_assert_uint_eq(g[0].homes, 1);
	/* Balanced: a second round moves nothing. */
	ck_assert_int_eq(pol_rebalance(u, 3, g, 6, 20), 0);
}
END_TEST

START_TEST(rebalance_threshold_and_noise)
{
	struct pol_uplink u[] = { ups(1000 * M, true), ups(1000 * M, true) };
	struct pol_guest g[] = { guest(0, 1), guest(0, 1), guest(0, 1) };

	g[0].homes = 1, g[0].demand = 300 * M;
	g[1].homes = 1, g[1].demand = 100 * M;
	g[2].homes = 2, g[2].demand = 350 * M;
	/* 400 against 350: 14% apart, under the 20% threshold. */
	ck_assert_int_eq(pol_rebalance(u, 2, g, 3, 20), 0);
	/* ... over a 10% one, but no move makes it more even. */
	ck_assert_int_eq(pol_rebalance(u, 2, g, 3, 10), 0);
	/* Next to nothing, however uneven: 5M against 0 is noise. */
	g[0].demand = 4 * M, g[1].demand = M, g[2].demand = 0;
	ck_assert_int_eq(pol_rebalance(u, 2, g, 3, 20), 0);
}
END_TEST

START_TEST(rebalance_leaves_held_spread_and_down)
{
	struct pol_uplink u[] = { ups(1000 * M, true), ups(1000 * M, true),
				  ups(1000 * M, false) };
	struct pol_guest g[] = { guest(0, 1), guest(0, 2), guest(0, 1),
				 guest(0, 1) };

	g[0].homes = 1, g[0].demand = 500 * M, g[0].held = true;
	g[1].homes = 3, g[1].demand = 400 * M;
	g[2].homes = 1, g[2].demand = 300 * M;
	g[3].homes = 1, g[3].demand = 0;
	/* up0 900M, up1 200M: only g2 may move (g0 is held, g1 spread, g3
	 * idle), and nothing goes to the uplink that is down. */
	ck_assert_int_eq(pol_rebalance(u, 3, g, 4, 20), 1);
	ck_assert_uint_eq(g[2].homes, 2);
	ck_assert_uint_eq(g[0].homes, 1);
	ck_assert_uint_eq(g[1].homes, 3);
	ck_assert_uint_eq(g[3].homes, 1);
}
END_TEST

START_TEST(demand_leaves_guarantees_room)
{
	/* What CI saw on failback: two 500M uplinks, guarantees of 400M and
	 * 200M, and a best-effort guest whose last measured rate (500M, alone
	 * at the end of a contention) outweighs both. By weight alone it
	 * goes first, the 400M onto the other uplink, and the 200M after it,
	 * overfilling that uplink with 600M of guarantees. */
	struct pol_uplink u[] = { ups(500 * M, true), ups(500 * M, true) };
	struct pol_guest g[] = { guest(400 * M, 1), guest(200 * M, 1),
				 guest(0, 1) };

	g[2].demand = 500 * M;
	pol_place(u, 2, g, 3, POL_FULL);
	ck_assert_uint_ne(g[0].homes, g[1].homes);
	ck_assert_uint_le(load_on(g, 3, 0), 500 * M);
	ck_assert_uint_le(load_on(g, 3, 1), 500 * M);
	/* Where nothing has room, the loads decide as before. */
	g[0].tx_min = g[1].tx_min = 600 * M;
	pol_place(u, 2, g, 3, POL_FULL);
	ck_assert_uint_ne(g[0].homes, g[1].homes);
}
END_TEST

START_TEST(rebalance_keeps_guarantees_room)
{
	/* up0 carries a 300M guarantee and a busy best-effort guest, up1 a
	 * 400M guarantee alone: the loads are uneven, but the guaranteed
	 * guest may not go where 700M of guarantees would meet 500M; the
	 * best-effort one may. */
	struct pol_uplink u[] = { ups(500 * M, true), ups(500 * M, true) };
	struct pol_guest g[] = { guest(300 * M, 1), guest(0, 1),
				 guest(400 * M, 1) };

	g[0].homes = 1, g[0].demand = 300 * M;
	g[1].homes = 1, g[1].demand = 190 * M;
	g[2].homes = 2, g[2].demand = 50 * M;
	ck_assert_int_eq(pol_rebalance(u, 2, g, 3, 20), 1);
	ck_assert_uint_eq(g[0].homes, 1);
	ck_assert_uint_eq(g[1].homes, 2);
	/* With nothing movable but guaranteed guests without room, nothing
	 * moves. */
	g[1].homes = 1, g[1].held = true;
	ck_assert_int_eq(pol_rebalance(u, 2, g, 3, 20), 0);
	ck_assert_uint_eq(g[0].homes, 1);
}
END_TEST

START_TEST(slots_proportional_and_interleaved)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, true),
				  ups(5 * G, true) };
	uint8_t s[POL_SLOTS];
	int n[3] = { 0 };

	pol_fill_slots(u, 3, 3, s);
	for (int i = 0; i < POL_SLOTS; i++) {
		ck_assert_uint_lt(s[i], 2);
		n[s[i]]++;
		if (i)
			ck_assert_uint_ne(s[i], s[i - 1]);
	}
	ck_assert_int_eq(n[0], 32);
	ck_assert_int_eq(n[1], 32);

	n[0] = n[1] = n[2] = 0;
	pol_fill_slots(u, 3, 5, s); /* 10G and 5G: two thirds and one third */
	for (int i = 0; i < POL_SLOTS; i++)
		n[s[i]]++;
	ck_assert_int_eq(n[1], 0);
	ck_assert_int_ge(n[0], 42);
	ck_assert_int_le(n[0], 43);
	ck_assert_int_eq(n[0] + n[2], POL_SLOTS);

	pol_fill_slots(u, 3, 4, s);
	for (int i = 0; i < POL_SLOTS; i++)
		ck_assert_uint_eq(s[i], 2);
}
END_TEST

START_TEST(admission_modes)
{
	struct pol_uplink u[] = { ups(10 * G, true), ups(10 * G, false) };
	uint64_t limit;

	ck_assert_int_eq(pol_admit(u, 2, 11 * G, POL_ADMIT_N1, &limit),
			 -ENOSPC);
	ck_assert_uint_eq(limit, 10 * G);
	ck_assert_int_eq(pol_admit(u, 2, 10 * G, POL_ADMIT_N1, &limit), 0);
	ck_assert_int_eq(pol_admit(u, 2, 11 * G, POL_ADMIT_N, &limit), 0);
	ck_assert_uint_eq(limit, 20 * G);
	ck_assert_int_eq(pol_admit(u, 2, 21 * G, POL_ADMIT_N, &limit), -ENOSPC);
	ck_assert_int_eq(pol_admit(u, 2, 100 * G, POL_ADMIT_OFF, &limit), 0);
	/* One uplink: nothing to fail over to, n-1 is n. */
	ck_assert_int_eq(pol_admit(u, 1, 10 * G, POL_ADMIT_N1, &limit), 0);
	ck_assert_uint_eq(limit, 10 * G);
}
END_TEST

static struct pol_claim claim(uint64_t min, uint64_t max, uint32_t w,
			      uint64_t demand)
{
	return (struct pol_claim){
		.min = min, .max = max, .weight = w, .demand = demand
	};
}

static uint64_t total(const struct pol_claim *c, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += c[i].rate;
	return s;
}

START_TEST(alloc_guarantees_then_spare)
{
	/* 1G: 500/300/100 guaranteed, the spare 100M split evenly. */
	struct pol_claim c[] = { claim(500 * M, 0, 1, POL_DEMAND_ANY),
				 claim(300 * M, 0, 1, POL_DEMAND_ANY),
				 claim(100 * M, 0, 1, POL_DEMAND_ANY) };

	pol_alloc(1000 * M, c, 3);
	ck_assert_uint_eq(c[0].rate, 500 * M + 33333333);
	ck_assert_uint_eq(c[1].rate, 300 * M + 33333333);
	ck_assert_uint_eq(c[2].rate, 100 * M + 33333333);
	ck_assert_uint_le(total(c, 3), 1000 * M);
	ck_assert_uint_ge(total(c, 3), 1000 * M - 2);
}
END_TEST

START_TEST(alloc_spare_by_weight)
{
	struct pol_claim c[] = { claim(100 * M, 0, 1, POL_DEMAND_ANY),
				 claim(100 * M, 0, 3, POL_DEMAND_ANY) };

	pol_alloc(1000 * M, c, 2);
	ck_assert_uint_eq(c[0].rate, 300 * M);
	ck_assert_uint_eq(c[1].rate, 700 * M);
}
END_TEST

START_TEST(alloc_ceilings_and_demand)
{
	/* A ceiling of 200M, a guest using 50M of its 400M guarantee: what
	 * they leave goes to the third, by weight among those who want it. */
	struct pol_claim c[] = { claim(0, 200 * M, 10, POL_DEMAND_ANY),
				 claim(400 * M, 0, 1, 50 * M),
				 claim(0, 0, 1, POL_DEMAND_ANY) };

	pol_alloc(1000 * M, c, 3);
	ck_assert_uint_eq(c[0].rate, 200 * M);
	ck_assert_uint_eq(c[1].rate, 50 * M);
	ck_assert_uint_eq(c[2].rate, 750 * M);

	/* Nobody wants much: everyone gets their demand, capacity idles. */
	c[0].demand = 10 * M;
	c[2].demand = 20 * M;
	pol_alloc(1000 * M, c, 3);
	ck_assert_uint_eq(total(c, 3), 80 * M);
}
END_TEST

START_TEST(alloc_overcommitted_guarantees_shrink)
{
	/* Guarantees a placement could not fit: shrunk in proportion, the
	 * rates never add up to more than the capacity. */
	struct pol_claim c[] = { claim(750 * M, 0, 1, POL_DEMAND_ANY),
				 claim(500 * M, 0, 1, POL_DEMAND_ANY),
				 claim(0, 0, 1, POL_DEMAND_ANY) };

	pol_alloc(1000 * M, c, 3);
	ck_assert_uint_eq(c[0].rate, 600 * M);
	ck_assert_uint_eq(c[1].rate, 400 * M);
	ck_assert_uint_eq(c[2].rate, 0);
}
END_TEST

START_TEST(alloc_spare_goes_to_every_claim)
{
	/* 300M: a guarantee of 90M idle (demand 2M), a ceiling of 50M idle,
	 * one busy guest. The busy one takes what the demands leave; what
	 * is spare beyond it (none here) and the idle ones' parts of it go
	 * by weight, so the idle can grow at once. */
	struct pol_claim c[] = { claim(90 * M, 0, 1, 2 * M),
				 claim(0, 50 * M, 1, 0),
				 claim(0, 0, 1, POL_DEMAND_ANY) };

	pol_alloc_spare(300 * M, c, 3);
	ck_assert_uint_eq(c[0].rate, 2 * M);
	ck_assert_uint_eq(c[1].rate, 0);
	ck_assert_uint_eq(c[2].rate, 298 * M);

	/* Every one capped by its demand: the capacity they leave is
	 * spread by weight 1:1:3, the ceiling held. */
	c[0] = claim(90 * M, 0, 1, 2 * M);
	c[1] = claim(0, 50 * M, 1, 0);
	c[2] = claim(0, 0, 3, 10 * M);
	pol_alloc_spare(462 * M, c, 3);
	ck_assert_uint_eq(c[1].rate, 50 * M);
	ck_assert_uint_eq(c[0].rate, 2 * M + 100 * M);
	ck_assert_uint_eq(c[2].rate, 10 * M + 300 * M);
	ck_assert_uint_eq(total(c, 3), 462 * M);
}
END_TEST

static struct pol_keep keep(uint64_t min, uint32_t priority)
{
	return (struct pol_keep){ .min = min, .priority = priority };
}

START_TEST(degrade_all_fit)
{
	struct pol_keep k[] = { keep(300 * M, 0), keep(200 * M, 5) };

	ck_assert_uint_eq(pol_degrade(500 * M, k, 2, POL_DEGRADE_PRIORITY),
			  500 * M);
	ck_assert_uint_eq(k[0].kept, 300 * M);
	ck_assert_uint_eq(k[1].kept, 200 * M);
	ck_assert_uint_eq(pol_degrade(0, k, 0, POL_DEGRADE_PROPORTIONAL), 0);
}
END_TEST

START_TEST(degrade_proportional)
{
	struct pol_keep k[] = { keep(400 * M, 9), keep(200 * M, 0),
				keep(0, 3) };

	/* 450 of 600: every guarantee at 0.75. */
	ck_assert_uint_eq(pol_degrade(450 * M, k, 3, POL_DEGRADE_PROPORTIONAL),
			  450 * M);
	ck_assert_uint_eq(k[0].kept, 300 * M);
	ck_assert_uint_eq(k[1].kept, 150 * M);
	ck_assert_uint_eq(k[2].kept, 0);
	/* Nothing up: nothing kept. */
	ck_assert_uint_eq(pol_degrade(0, k, 3, POL_DEGRADE_PROPORTIONAL), 0);
	ck_assert_uint_eq(k[0].kept, 0);
}
END_TEST

START_TEST(degrade_by_priority)
{
	/* Priority 9 whole, then the two at 5 share what is left in
	 * proportion, and priority 1 keeps nothing. */
	struct pol_keep k[] = { keep(100 * M, 1), keep(300 * M, 5),
				keep(400 * M, 9), keep(100 * M, 5) };

	ck_assert_uint_eq(pol_degrade(600 * M, k, 4, POL_DEGRADE_PRIORITY),
			  600 * M);
	ck_assert_uint_eq(k[2].kept, 400 * M);
	ck_assert_uint_eq(k[1].kept, 150 * M);
	ck_assert_uint_eq(k[3].kept, 50 * M);
	ck_assert_uint_eq(k[0].kept, 0);
	/* Room for the top two levels exactly. */
	ck_assert_uint_eq(pol_degrade(800 * M, k, 4, POL_DEGRADE_PRIORITY),
			  800 * M);
	ck_assert_uint_eq(k[1].kept, 300 * M);
	ck_assert_uint_eq(k[3].kept, 100 * M);
	ck_assert_uint_eq(k[0].kept, 0);
	/* Priority 0 counts as a level like the others. */
	k[2].priority = 0;
	ck_assert_uint_eq(pol_degrade(500 * M, k, 4, POL_DEGRADE_PRIORITY),
			  500 * M);
	ck_assert_uint_eq(k[1].kept, 300 * M);
	ck_assert_uint_eq(k[3].kept, 100 * M);
	ck_assert_uint_eq(k[0].kept, 100 * M);
	ck_assert_uint_eq(k[2].kept, 0);
}
END_TEST

START_TEST(demand_estimate)
{
	ck_assert_uint_eq(pol_demand(95 * M, 100 * M), POL_DEMAND_ANY);
	ck_assert_uint_eq(pol_demand(90 * M, 100 * M), POL_DEMAND_ANY);
	ck_assert_uint_eq(pol_demand(50 * M, 100 * M), 61 * M);
	ck_assert_uint_eq(pol_demand(0, 100 * M), M);
	ck_assert_uint_eq(pol_demand(0, 0), POL_DEMAND_ANY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("placement");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, best_effort_guests_alternate);
	tcase_add_test(tc, guarantees_balance_first);
	tcase_add_test(tc, barred_uplinks_never_homes);
	tcase_add_test(tc, primary_first_while_up);
	tcase_add_test(tc, capacity_weighs_guest_counts);
	tcase_add_test(tc, guarantees_relative_to_capacity);
	tcase_add_test(tc, down_uplinks_get_nothing);
	tcase_add_test(tc, keep_moves_only_the_orphans);
	tcase_add_test(tc, spread_takes_distinct_uplinks);
	tcase_add_test(tc, spread_prefers_other_groups);
	tcase_add_test(tc, placement_weighs_demand);
	tcase_add_test(tc, rebalance_spreads_a_pile);
	tcase_add_test(tc, rebalance_threshold_and_noise);
	tcase_add_test(tc, rebalance_leaves_held_spread_and_down);
	tcase_add_test(tc, demand_leaves_guarantees_room);
	tcase_add_test(tc, rebalance_keeps_guarantees_room);
	tcase_add_test(tc, slots_proportional_and_interleaved);
	tcase_add_test(tc, admission_modes);
	tcase_add_test(tc, alloc_guarantees_then_spare);
	tcase_add_test(tc, alloc_spare_by_weight);
	tcase_add_test(tc, alloc_ceilings_and_demand);
	tcase_add_test(tc, alloc_overcommitted_guarantees_shrink);
	tcase_add_test(tc, alloc_spare_goes_to_every_claim);
	tcase_add_test(tc, degrade_all_fit);
	tcase_add_test(tc, degrade_proportional);
	tcase_add_test(tc, degrade_by_priority);
	tcase_add_test(tc, demand_estimate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
