/* SPDX-License-Identifier: MIT */
/* The EDT backend: fq on every uplink (on each of its queues, under mq,
 * where it has several) releases frames at the departure time the data
 * path stamps from each guest's pacing rate; gonad sets the rates from
 * guarantees, ceilings, weights and the demand it measures every tick. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "daemon/gonad.h"

/* A placed guest is always paced: rate 0 would mean unpaced. */
#define RATE_FLOOR 10000
/*
 * A pacing rate is all a guest may send, so its demand is measured, and
 * the rates follow it, this often: a guest that starts sending has its
 * guarantee at once and its part of what is spare within a tick.
 */
#define TICK_MS 100
/* The longest a frame may wait for its departure: HTB's queue (50 ms at
 * the rate, 256 KiB at least), at most half a second. */
#define HORIZON_MAX_NS 500000000ull
/* The handle majors of the fq under each queue of an mq root. */
#define FQ_CHILD_MAJOR 0x3000
#define MTU_FRAME_BYTES 1514

static uint64_t horizon_ns(uint64_t rate)
{
	uint64_t ns = (uint64_t)((unsigned __int128)qos_queue(rate) * 8 *
				 1000000000ull / rate);

	return ns < HORIZON_MAX_NS ? ns : HORIZON_MAX_NS;
}

/*
 * fq's room, in packets: what the guests' horizons let wait at once,
 * 50 ms of the uplink's capacity in frames of 256 bytes, at least fq's
 * default of 10000. A flow may take all of it: the horizon, not fq,
 * bounds a guest's queue (fq's default of 100 packets per flow would
 * drop a paced UDP stream long before its horizon).
 */
static uint32_t fq_limit(uint64_t cap)
{
	uint64_t n = cap / 8 / 20 / 256;

	if (n < 10000)
		n = 10000;
	return n > 1000000 ? 1000000 : (uint32_t)n;
}

/*
 * fq as the root, or mq with an fq under each transmit queue where the
 * device has several (no lock shared by all CPUs). One guest's frames may
 * cross several queues: its clock, not the queue, spaces them. An mq root
 * of gona's handle (a previous gonad's) stays (mq cannot be changed in
 * place); each fq is set again, its queue kept.
 */
static int edt_uplink_attach(struct gonad *g, struct uplink *u)
{
	const uint32_t root = TC_H_MAKE(GONA_QOS_MAJOR << 16, 0);
	uint32_t limit = fq_limit(u->conf.capacity);
	int ntx = tc_tx_queues(g->tc, u->ifindex), r;

	if (ntx < 0) {
		r = ntx;
	} else if (ntx == 1) {
		r = tc_fq(g->tc, u->ifindex, TC_H_ROOT, root, limit, limit);
	} else {
		r = tc_root_is(g->tc, u->ifindex, root, "mq")
			    ? 0
			    : tc_root_qdisc(g->tc, u->ifindex, root, "mq",
					    false);
		for (int q = 0; q < ntx && !r; q++)
			r = tc_fq(
				g->tc, u->ifindex,
				TC_H_MAKE(root, (uint32_t)q + 1),
				TC_H_MAKE((FQ_CHILD_MAJOR + (uint32_t)q) << 16,
					  0),
				limit, limit);
		if (r)
			tc_root_del(g->tc, u->ifindex);
	}
	if (r)
		log_warnx("uplink %s (%s): cannot set fq%s: %s", u->conf.name,
			  u->conf.device, ntx > 1 ? " under mq" : "",
			  strerror(-r));
	return r;
}

/* fq paces guests only; the driver domain's own traffic is not shaped. */
static uint64_t guest_capacity(uint64_t cap)
{
	return cap;
}

static bool near(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= b / 200;
}

/*
 * Every guest's pacing rate: the sum of its shares of the uplinks up,
 * each with what the demands leave spread by weight (QOS_SPARE), and
 * never below its guarantee, which is there the moment it sends.
 */
static void allocate(struct gonad *g)
{
	uint64_t *allowed = calloc(g->n_guests + 1, sizeof(*allowed));
	uint64_t *measured = calloc(g->n_guests + 1, sizeof(*measured));
	uint64_t *share = calloc(g->n_guests + 1, sizeof(*share));
	uint64_t *rate = calloc(g->n_guests + 1, sizeof(*rate));

	if (!allowed || !measured || !share || !rate)
		goto oom;
	for (size_t i = 0; i < g->n_guests; i++) {
		allowed[i] = g->guests[i]->paced_bps;
		measured[i] = g->guests[i]->edt.demand_bps;
	}
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];

		if (!u->up)
			continue;
		if (qos_shares(g, u, u->conf.capacity, measured, allowed,
			       QOS_SPARE, share))
			goto oom;
		for (size_t j = 0; j < g->n_guests; j++)
			rate[j] += share[j];
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		uint64_t r = rate[i];
		int e;

		if (!gu->homes)
			r = 0;
		else if (r < gu->tx_min_kept)
			r = gu->tx_min_kept;
		if (gu->homes && r < RATE_FLOOR)
			r = RATE_FLOOR;
		/* Demand measured twice is never quite the same: a change
		 * of half a percent is not worth a map write. A ceiling
		 * is exact, so it is always met exactly. */
		if (r == gu->paced_bps ||
		    (r && gu->paced_bps && near(r, gu->paced_bps) &&
		     r != gu->conf.slice.tx_max))
			continue;
		e = dp_set_pacing(g->dp, gu->id, r, r ? horizon_ns(r) : 0);
		if (e) {
			log_warnx("guest %s: cannot set its pacing rate: %s",
				  gu->conf.name, strerror(-e));
			continue;
		}
		gu->paced_bps = r;
	}
	goto out;
oom:
	log_warnx("QoS: out of memory; pacing rates unchanged");
out:
	free(allowed);
	free(measured);
	free(share);
	free(rate);
}

/*
 * What each guest wants: what it sent since the last tick and what the
 * horizon dropped of it (a guest being dropped wants more than it is
 * let send, not less), then the rates that follow.
 */
static void edt_tick(struct gonad *g)
{
	uint64_t t = now_ms(), dt = g->qos_ticked_ms ? t - g->qos_ticked_ms : 0;
	struct gona_counters c;

	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		struct edt_meter *m = &gu->edt;
		uint64_t bytes, packets, drops;

		if (dp_read_guest_stats(g->dp, gu->id, &c))
			continue;
		drops = c.drops[GONA_DROP_HORIZON];
		/* Counters zeroed under it (a guest re-added): a new
		 * baseline, no measurement. */
		if (dt && c.tx_bytes >= m->bytes &&
		    c.tx_packets >= m->packets && drops >= m->drops) {
			bytes = c.tx_bytes - m->bytes;
			packets = c.tx_packets - m->packets;
			/* Dropped frames are as long as the sent ones. */
			bytes += (drops - m->drops) *
				 (packets ? bytes / packets : MTU_FRAME_BYTES);
			m->demand_bps = bytes * 8 * 1000 / dt;
		}
		m->bytes = c.tx_bytes;
		m->packets = c.tx_packets;
		m->drops = drops;
	}
	g->qos_ticked_ms = t;
	allocate(g);
}

/* Every guest's frames are stamped while EDT is the backend; one with no
 * pacing entry yet (rate 0) leaves at once. */
static void edt_guest_entry(const struct gonad *g, const struct guest *gu,
			    struct gona_guest *v)
{
	(void)g;
	(void)gu;
	v->flags |= GONA_GF_PACED;
}

/* The id may go to another guest: its clock must not follow. */
static void edt_guest_gone(struct gonad *g, struct guest *gu)
{
	dp_set_pacing(g->dp, gu->id, 0, 0);
	gu->paced_bps = 0;
	memset(&gu->edt, 0, sizeof(gu->edt));
}

const struct qos_ops qos_edt_ops = {
	.name = "edt",
	.uplink_attach = edt_uplink_attach,
	.update = allocate,
	.tick_ms = TICK_MS,
	.tick = edt_tick,
	.guest_entry = edt_guest_entry,
	.guest_gone = edt_guest_gone,
	.guest_capacity = guest_capacity,
};
