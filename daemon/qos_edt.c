/* SPDX-License-Identifier: MIT */
/* The EDT backend: fq on every uplink releases frames at the departure
 * time the data path stamps from each guest's pacing rate; gonad sets the
 * rates from guarantees, ceilings, weights and measured demand. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "daemon/gonad.h"

/* A placed guest is always paced: rate 0 would mean unpaced. */
#define RATE_FLOOR 10000

static int edt_uplink_attach(struct gonad *g, struct uplink *u)
{
	int r = tc_root_qdisc(g->tc, u->ifindex,
			      TC_H_MAKE(GONA_QOS_MAJOR << 16, 0), "fq", false);

	if (r)
		log_warnx("uplink %s (%s): cannot set fq: %s", u->conf.name,
			  u->conf.device, strerror(-r));
	return r;
}

/* fq paces guests only; the driver domain's own traffic is not shaped. */
static uint64_t guest_capacity(uint64_t cap)
{
	return cap;
}

/* Every guest's pacing rate: the sum of its shares of its uplinks. */
static void allocate(struct gonad *g)
{
	uint64_t *allowed = calloc(g->n_guests + 1, sizeof(*allowed));
	uint64_t *share = calloc(g->n_guests + 1, sizeof(*share));
	uint64_t *rate = calloc(g->n_guests + 1, sizeof(*rate));

	if (!allowed || !share || !rate)
		goto oom;
	for (size_t i = 0; i < g->n_guests; i++)
		allowed[i] = g->guests[i]->paced_bps;
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];

		if (!u->up)
			continue;
		if (qos_shares(g, u, u->conf.capacity, allowed, false, share))
			goto oom;
		for (size_t j = 0; j < g->n_guests; j++)
			rate[j] += share[j];
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];
		uint64_t r = gu->homes ? rate[i] : 0;
		bool was_paced = gu->paced_bps != 0;
		int e;

		if (gu->homes && r < RATE_FLOOR)
			r = RATE_FLOOR;
		if (r == gu->paced_bps)
			continue;
		e = dp_set_pacing(g->dp, gu->id, r);
		if (e) {
			log_warnx("guest %s: cannot set its pacing rate: %s",
				  gu->conf.name, strerror(-e));
			continue;
		}
		gu->paced_bps = r;
		if (was_paced != (r != 0))
			state_push_guest(g, gu);
	}
	goto out;
oom:
	log_warnx("QoS: out of memory; pacing rates unchanged");
out:
	free(allowed);
	free(share);
	free(rate);
}

static void edt_guest_entry(const struct gonad *g, const struct guest *gu,
			    struct gona_guest *v)
{
	(void)g;
	if (gu->paced_bps)
		v->flags |= GONA_GF_PACED;
}

static void edt_guest_gone(struct gonad *g, struct guest *gu)
{
	if (gu->paced_bps)
		dp_set_pacing(g->dp, gu->id, 0);
	gu->paced_bps = 0;
}

const struct qos_ops qos_edt_ops = {
	.name = "edt",
	.uplink_attach = edt_uplink_attach,
	.update = allocate,
	.sample = allocate,
	.guest_entry = edt_guest_entry,
	.guest_gone = edt_guest_gone,
	.guest_capacity = guest_capacity,
};
