/* SPDX-License-Identifier: MIT */
/* The HTB backend: on every uplink an HTB tree whose root class is the
 * uplink's capacity, with a class for the driver domain's own traffic and
 * one for every guest placed there, or placed there before; the data path
 * classifies by skb->priority. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "daemon/gonad.h"

/* HTB needs a rate, even where the guarantees leave nothing spare. */
#define RATE_FLOOR 10000
#define MTU_FRAME 1514
#define LEAF_MAJOR(id) (0x1000 + (id))
#define HOST_LEAF_MAJOR 0x0fff

static uint32_t handle(uint32_t minor)
{
	return TC_H_MAKE(GONA_QOS_MAJOR << 16, minor);
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The driver domain's own traffic (and anything unclassified): a little
 * guaranteed, all of the uplink when the guests leave it. */
static uint64_t host_rate(uint64_t cap)
{
	return min64(max64(cap / 100, min64(1000000, cap / 10)), 100000000);
}

static uint64_t guest_capacity(uint64_t cap)
{
	return cap - host_rate(cap);
}

/*
 * Every guest's class on uplink U, in G's guest order.
 *
 * rate: where the guest is placed, its share of what the host class
 * leaves (qos_shares): its guarantee, kept whole even while idle, and a
 * part of the rest by weight and demand. The rates add up to the capacity,
 * so each is truly guaranteed; HTB lends what a class leaves unused to
 * the others, by quantum, that is by weight again, until the next sample
 * moves the rates to where the demand went.
 *
 * A guest gets a class on an uplink when it is first placed there, and
 * keeps it while it lives: not placed, a percent of the capacity and its
 * ceiling. The data path fails over to any uplink before gonad re-places
 * the guest, and HTB charges a frame at the class's rate, so a class at a
 * token rate would owe seconds for one frame, and still owe them once its
 * rate is raised; a class removed on a move would drop what it queued. A
 * guest's frames on an uplink where it has no class yet go to the host
 * class (HTB's default) until gonad has placed it there, moments later.
 * Classes only where guests go, not one for each guest on each uplink:
 * every HTB class is a filter block, and where the device has no offload
 * of its own (veth, virtio, bonds) the kernel keeps every block in one
 * list it searches for each new one; 4096 guests on each of 16 uplinks
 * took a minute to build (bench/scale.sh).
 */
static int uplink_classes(const struct gonad *g, const struct uplink *u,
			  struct qos_class *out)
{
	uint64_t cap = u->conf.capacity;
	uint64_t *allowed = calloc(g->n_guests + 1, sizeof(*allowed));
	uint64_t *measured = calloc(g->n_guests + 1, sizeof(*measured));
	uint64_t *share = calloc(g->n_guests + 1, sizeof(*share));
	int r = -ENOMEM;

	if (!allowed || !measured || !share)
		goto out;
	for (size_t i = 0; i < g->n_guests; i++) {
		measured[i] = g->guests[i]->rates.tx_bps;
		for (size_t j = 0; j < g->n_uplinks; j++)
			if (g->guests[i]->homes & (1u << j))
				allowed[i] += g->guests[i]->htb[j].rt.rate;
	}
	r = qos_shares(g, u, guest_capacity(cap), measured, allowed,
		       QOS_RESERVE, share);
	if (r)
		goto out;
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];
		const struct conf_slice *s = &gu->conf.slice;
		bool placed = gu->homes & (1u << u->slot);
		struct tc_rates *rt = &out[i].rt;

		rt->ceil = s->tx_max && placed
				   ? qos_home_part(gu, u->slot, s->tx_max)
				   : s->tx_max;
		rt->ceil = min64(rt->ceil ? rt->ceil : cap, cap);
		rt->rate = placed ? share[i] : cap / 100;
		rt->rate = max64(min64(rt->rate, rt->ceil), RATE_FLOOR);
		rt->ceil = max64(rt->ceil, rt->rate);
		rt->quantum = s->tx_weight * MTU_FRAME;
		rt->burst = s->tx_burst ? s->tx_burst : qos_burst(rt->rate);
		rt->cburst = s->tx_burst ? s->tx_burst : qos_burst(rt->ceil);
		out[i].limit = qos_queue(rt->ceil);
	}
out:
	free(allowed);
	free(measured);
	free(share);
	return r;
}

static bool near(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= b / 100;
}

/* A class whose rate and ceiling (and the buckets that follow them) moved
 * by at most a percent, and nothing else, is left as it is: demand
 * measured twice is never quite the same. */
static bool same_class(const struct tc_rates *a, const struct tc_rates *b)
{
	return near(a->rate, b->rate) && near(a->burst, b->burst) &&
	       near(a->ceil, b->ceil) && near(a->cburst, b->cburst) &&
	       a->quantum == b->quantum;
}

/* Set the guest's class on U to C, as far as it differs from what is
 * there. */
static int guest_class(struct gonad *g, struct guest *gu, struct uplink *u,
		       const struct qos_class *c)
{
	struct qos_class *was = &gu->htb[u->slot];
	uint32_t cls = handle(GONA_QOS_GUEST_MINOR(gu->id));
	int r = 0;

	if (!was->rt.rate || !same_class(&was->rt, &c->rt)) {
		r = tc_htb_class(g->tc, u->ifindex, handle(GONA_QOS_ROOT_MINOR),
				 cls, &c->rt);
		if (!r)
			was->rt = c->rt;
	}
	if (!r && was->limit != c->limit) {
		r = tc_bfifo(g->tc, u->ifindex, cls,
			     TC_H_MAKE(LEAF_MAJOR(gu->id) << 16, 0), c->limit);
		if (!r)
			was->limit = c->limit;
	}
	if (r)
		log_warnx("guest %s: cannot set its class on uplink %s: %s",
			  gu->conf.name, u->conf.name, strerror(-r));
	return r;
}

/* Bring U's guest classes to what the slices and placement say. */
static int uplink_update(struct gonad *g, struct uplink *u)
{
	struct qos_class *c = calloc(g->n_guests + 1, sizeof(*c));
	int r = 0, e;

	if (!c) {
		log_warnx("uplink %s: out of memory; its classes unchanged",
			  u->conf.name);
		return -ENOMEM;
	}
	r = uplink_classes(g, u, c);
	if (r) {
		log_warnx("uplink %s: out of memory; its classes unchanged",
			  u->conf.name);
		free(c);
		return r;
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		if (!(gu->homes & (1u << u->slot)) && !gu->htb[u->slot].rt.rate)
			continue; /* never placed here: no class */
		e = guest_class(g, gu, u, &c[i]);
		if (e && !r)
			r = e;
	}
	free(c);
	return r;
}

/*
 * In a tree taken over, the classes of guests gonad does not have (SEEN,
 * N ids): one added live and not in the file, which the previous gonad
 * served when it was killed. Each keeps a guaranteed rate nobody can use,
 * so the guests' own add up to more than the uplink; removed.
 */
static void drop_stale_classes(struct gonad *g, const struct uplink *u,
			       const uint8_t *seen, uint32_t n)
{
	for (uint32_t id = 0; id < n; id++) {
		int r;

		if (!seen[id])
			continue;
		r = tc_class_del(g->tc, u->ifindex,
				 handle(GONA_QOS_GUEST_MINOR(id)));
		if (r)
			log_warnx(
				"uplink %s (%s): cannot remove class %x:%x of "
				"a guest gone before this start: %s",
				u->conf.name, u->conf.device, GONA_QOS_MAJOR,
				GONA_QOS_GUEST_MINOR(id), strerror(-r));
		else
			log_info("uplink %s (%s): removed class %x:%x, of a "
				 "guest gone before this start",
				 u->conf.name, u->conf.device, GONA_QOS_MAJOR,
				 GONA_QOS_GUEST_MINOR(id));
	}
}

static int htb_uplink_attach(struct gonad *g, struct uplink *u)
{
	uint64_t cap = u->conf.capacity;
	struct tc_rates root = {
		.rate = cap,
		.ceil = cap,
		.burst = qos_burst(cap),
		.cburst = qos_burst(cap),
		.quantum = MTU_FRAME,
	};
	struct tc_rates host = {
		.rate = host_rate(cap),
		.ceil = cap,
		.burst = qos_burst(host_rate(cap)),
		.cburst = qos_burst(cap),
		.quantum = MTU_FRAME,
	};
	uint32_t n = dp_max_guests(g->dp);
	uint8_t *seen = NULL;
	bool kept;
	int r;

	/* A tree taken over from a previous gonad, or this one's before a
	 * new capacity, is kept as it is: HTB cannot change a root qdisc in
	 * place, and replacing it would drop what is queued. Any other is
	 * replaced by a new one. */
	kept = (g->adopted || u->qos_made) &&
	       tc_root_is(g->tc, u->ifindex, handle(0), "htb");
	/* Every class is set again below, whatever gonad knew of them: in
	 * a kept tree, those of guests not placed here too, which the kernel
	 * says are there (a rate of 1 bit/s: known to be there, settings
	 * not). */
	if (kept) {
		seen = calloc(n, 1);
		if (!seen ||
		    tc_class_minors(g->tc, u->ifindex, GONA_QOS_MAJOR,
				    GONA_QOS_GUEST_MINOR(0), seen, n)) {
			/* Unknown: set every guest's class (slower). */
			free(seen);
			seen = NULL;
		}
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		memset(&gu->htb[u->slot], 0, sizeof(gu->htb[u->slot]));
		if (kept && (!seen || seen[gu->id]))
			gu->htb[u->slot].rt.rate = 1;
		if (seen && gu->id < n)
			seen[gu->id] = 0;
	}
	if (seen)
		drop_stale_classes(g, u, seen, n);
	free(seen);
	r = kept ? 0
		 : tc_htb_qdisc(g->tc, u->ifindex, handle(0),
				GONA_QOS_HOST_MINOR);
	if (!r)
		r = tc_htb_class(g->tc, u->ifindex, handle(0),
				 handle(GONA_QOS_ROOT_MINOR), &root);
	if (!r)
		r = tc_htb_class(g->tc, u->ifindex, handle(GONA_QOS_ROOT_MINOR),
				 handle(GONA_QOS_HOST_MINOR), &host);
	if (!r)
		r = tc_bfifo(g->tc, u->ifindex, handle(GONA_QOS_HOST_MINOR),
			     TC_H_MAKE(HOST_LEAF_MAJOR << 16, 0),
			     qos_queue(cap));
	if (!r)
		r = uplink_update(g, u);
	if (r) {
		log_warnx("uplink %s (%s): cannot build its HTB tree: %s",
			  u->conf.name, u->conf.device, strerror(-r));
		tc_root_del(g->tc, u->ifindex);
	}
	return r;
}

static void htb_update(struct gonad *g)
{
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].qos_made)
			uplink_update(g, &g->uplinks[i]);
}

static void htb_guest_gone(struct gonad *g, struct guest *gu)
{
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];
		int r;

		if (!u->qos_made || !gu->htb[i].rt.rate)
			continue;
		r = tc_class_del(g->tc, u->ifindex,
				 handle(GONA_QOS_GUEST_MINOR(gu->id)));
		if (r)
			log_warnx("guest %s: cannot remove its class on uplink "
				  "%s: %s",
				  gu->conf.name, u->conf.name, strerror(-r));
		memset(&gu->htb[i], 0, sizeof(gu->htb[i]));
	}
}

static void htb_guest_entry(const struct gonad *g, const struct guest *gu,
			    struct gona_guest *v)
{
	(void)g;
	v->priority = GONA_QOS_PRIO(gu->id);
}

const struct qos_ops qos_htb_ops = {
	.name = "htb",
	.uplink_attach = htb_uplink_attach,
	.update = htb_update,
	.sample = htb_update,
	.guest_entry = htb_guest_entry,
	.guest_gone = htb_guest_gone,
	.guest_capacity = guest_capacity,
};
