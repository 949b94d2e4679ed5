/* SPDX-License-Identifier: MIT */
/* Enforcing the slices: which QoS backend the kernel allows, the receive
 * shaper both backends use, and the calls into the backend in use. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>

#include "daemon/gonad.h"
#include "policy/policy.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
/* The receive shaper's class and the handle of the probes' qdiscs. */
#define RX_MINOR 0x1
#define RX_LEAF_MAJOR 0x2000
#define PROBE_MAJOR 0x60b

uint32_t qos_burst(uint64_t rate)
{
	uint64_t b = rate / 8 / 100;

	/*
	 * Smaller buckets let HTB fall short of its rate: at 800 Mbit/s a
	 * 1600-byte bucket gave 750. A TCP sender keeps about a millisecond
	 * queued (TCP small queues), so whenever it waits for a CPU the
	 * class runs dry, and a bucket shorter than the wait loses the rest
	 * of it for good: 1 ms buckets gave 758 of 800 Mbit/s on a busy
	 * machine now and then. 10 ms makes up for such waits; over a second
	 * the rate is the same. A GSO frame is up to 64 KiB.
	 */
	if (b < 64 * KIB)
		b = 64 * KIB;
	return b > 64 * MIB ? 64 * MIB : (uint32_t)b;
}

uint32_t qos_queue(uint64_t ceil)
{
	uint64_t q = ceil / 8 / 20;

	/* Bounded, so a guest's own flows do not wait seconds behind its
	 * bulk transfer; deep enough that TCP keeps the class busy. */
	if (q < 256 * KIB)
		q = 256 * KIB;
	return q > 64 * MIB ? 64 * MIB : (uint32_t)q;
}

uint64_t qos_home_part(const struct guest *gu, unsigned int slot, uint64_t v)
{
	unsigned int k = (unsigned int)__builtin_popcount(gu->homes);
	uint64_t sum = 0, num, den;

	if (k <= 1)
		return v;
	for (unsigned int s = 0; s < GONA_MAX_UPLINKS; s++)
		if (gu->homes & (1u << s))
			sum += gu->home_bps[s];
	if (!sum)
		return v / k;
	/* A tenth of the whole spread evenly, so an uplink the guest's
	 * flows have left can take them again. */
	num = gu->home_bps[slot] + sum / 10 / k;
	den = sum + sum / 10;
	return (uint64_t)((unsigned __int128)v * num / den);
}

int qos_shares(const struct gonad *g, const struct uplink *u, uint64_t cap,
	       const uint64_t *measured, const uint64_t *allowed,
	       unsigned int how, uint64_t *share)
{
	struct pol_claim *c = calloc(g->n_guests + 1, sizeof(*c));
	size_t *who = calloc(g->n_guests + 1, sizeof(*who)), n = 0;

	if (!c || !who) {
		free(c);
		free(who);
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];
		const struct conf_slice *s = &gu->conf.slice;
		uint64_t min, demand;

		share[i] = 0;
		if (!(gu->homes & (1u << u->slot)))
			continue;
		min = qos_home_part(gu, u->slot, gu->tx_min_kept);
		demand = pol_demand(measured[i], allowed[i]);
		if (demand != POL_DEMAND_ANY)
			demand = qos_home_part(gu, u->slot, demand);
		if ((how & QOS_RESERVE) && demand < min)
			demand = min;
		c[n] = (struct pol_claim){
			.min = min,
			.max = qos_home_part(gu, u->slot, s->tx_max),
			.weight = s->tx_weight,
			.demand = demand,
		};
		who[n++] = i;
	}
	if (how & QOS_SPARE)
		pol_alloc_spare(cap, c, n);
	else
		pol_alloc(cap, c, n);
	for (size_t j = 0; j < n; j++)
		share[who[j]] = c[j].rate;
	free(c);
	free(who);
	return 0;
}

/*
 * Whether the kernel has a qdisc KIND: create it on lo and remove it at
 * once. -EEXIST (lo has a root qdisc someone set) means it cannot tell.
 */
static int probe(struct tc *tc, int lo, const char *kind)
{
	int r = tc_root_qdisc(tc, lo, TC_H_MAKE(PROBE_MAJOR << 16, 0), kind,
			      true);

	if (!r)
		tc_root_del(tc, lo);
	return r;
}

static const char *no_qdisc(int r, const char *kind)
{
	static char buf[96];

	snprintf(buf, sizeof(buf),
		 r == -ENOENT ? "this kernel has no sch_%s"
			      : "cannot tell whether this kernel has sch_%s "
				"(lo has a root qdisc)",
		 kind);
	return buf;
}

/*
 * The backend: the one policy.qos_backend names, refused if the kernel
 * lacks it; or, for auto, HTB wherever the kernel has it. Both keep the
 * same promises in the steady state, and EDT is the cheaper per packet,
 * but only HTB lends a guarantee its guest leaves unused and takes it
 * back the moment the guest sends: under EDT, a guest that starts sending
 * shares the uplink with the rates lent away until the next tick. The
 * default must be the backend that keeps every promise at every moment.
 */
int qos_open(struct gonad *g, enum conf_qos_backend want, char *err,
	     size_t errlen)
{
	int lo = (int)if_nametoindex("lo"), r, fq = -ENODEV, htb = -ENODEV;

	r = tc_open(&g->tc);
	if (r) {
		snprintf(err, errlen, "QoS: netlink: %s", strerror(-r));
		return r;
	}
	if (lo > 0) {
		fq = probe(g->tc, lo, "fq");
		htb = probe(g->tc, lo, "htb");
	}
	if (want == CONF_QOS_EDT && fq) {
		snprintf(err, errlen, "policy.qos_backend edt: %s",
			 no_qdisc(fq, "fq"));
		return -EOPNOTSUPP;
	}
	if (want == CONF_QOS_HTB && htb && htb != -EEXIST) {
		snprintf(err, errlen, "policy.qos_backend htb: %s",
			 no_qdisc(htb, "htb"));
		return -EOPNOTSUPP;
	}
	/* HTB shapes what guests receive whatever shapes what they send. */
	if (htb && htb != -EEXIST)
		log_warnx("QoS: this kernel has no sch_htb: rx.max cannot be "
			  "enforced");
	if (want == CONF_QOS_EDT) {
		g->qos = &qos_edt_ops;
		snprintf(g->qos_why, sizeof(g->qos_why),
			 "policy.qos_backend edt");
	} else if (want == CONF_QOS_HTB) {
		g->qos = &qos_htb_ops;
		snprintf(g->qos_why, sizeof(g->qos_why),
			 "policy.qos_backend htb");
	} else if (htb && htb != -EEXIST && !fq) {
		g->qos = &qos_edt_ops;
		snprintf(g->qos_why, sizeof(g->qos_why),
			 "auto: %s; it has sch_fq", no_qdisc(htb, "htb"));
	} else if (htb && htb != -EEXIST) {
		/* Neither: the uplinks will say they cannot be shaped. */
		g->qos = &qos_htb_ops;
		snprintf(g->qos_why, sizeof(g->qos_why), "auto: %s, nor sch_fq",
			 no_qdisc(htb, "htb"));
	} else {
		g->qos = &qos_htb_ops;
		snprintf(g->qos_why, sizeof(g->qos_why),
			 "auto: htb gives a guest's unused guarantee back the "
			 "moment it sends; edt only at its next %u ms tick",
			 qos_edt_ops.tick_ms);
	}
	log_info("QoS: backend %s (%s)", g->qos->name, g->qos_why);
	return 0;
}

void qos_close(struct gonad *g)
{
	tc_close(g->tc);
	g->tc = NULL;
}

const char *qos_name(const struct gonad *g)
{
	return g->qos ? g->qos->name : "none";
}

int qos_uplink_attach(struct gonad *g, struct uplink *u)
{
	const uint32_t root = TC_H_MAKE(GONA_QOS_MAJOR << 16, 0);
	const char *other = g->qos == &qos_htb_ops ? "fq" : "htb";
	int r;

	/* A previous gonad's root of the other backend (a restart that
	 * changed policy.qos_backend) cannot be changed into ours. */
	if (g->adopted && tc_root_is(g->tc, u->ifindex, root, other))
		tc_root_del(g->tc, u->ifindex);
	r = g->qos->uplink_attach(g, u);

	if (!r)
		u->qos_made = true;
	return r;
}

void qos_uplink_detach(struct gonad *g, struct uplink *u, bool gone)
{
	if (u->qos_made && u->ifindex && !gone)
		/* Both backends own the root qdisc, and only it. */
		tc_root_del(g->tc, u->ifindex);
	u->qos_made = false;
}

void qos_update(struct gonad *g)
{
	g->qos->update(g);
}

void qos_sample(struct gonad *g)
{
	if (g->qos->sample)
		g->qos->sample(g);
}

void qos_tick(struct gonad *g)
{
	g->qos->tick(g);
}

void qos_guest_entry(const struct gonad *g, const struct guest *gu,
		     struct gona_guest *v)
{
	g->qos->guest_entry(g, gu, v);
}

uint64_t qos_guest_capacity(const struct gonad *g, const struct uplink *u)
{
	return g->qos ? g->qos->guest_capacity(u->conf.capacity)
		      : u->conf.capacity;
}

int qos_guest_rx(struct gonad *g, struct guest *gu)
{
	uint64_t max = gu->conf.slice.rx_max;
	const uint32_t root = TC_H_MAKE(GONA_QOS_MAJOR << 16, 0);
	const uint32_t cls = TC_H_MAKE(GONA_QOS_MAJOR << 16, RX_MINOR);
	struct tc_rates rt = {
		.rate = max,
		.ceil = max,
		.burst = qos_burst(max),
		.cburst = qos_burst(max),
		.quantum = 1514,
	};
	int r;

	if (!gu->ifindex)
		return 0;
	if (!max) {
		if (gu->rx_shaped)
			tc_root_del(g->tc, gu->ifindex);
		gu->rx_shaped = false;
		return 0;
	}
	/* Frames for the guest leave by its interface: one HTB class there
	 * holds them to rx.max, whoever sends them. HTB cannot change a
	 * qdisc in place: once made, only its class changes. */
	r = gu->rx_shaped || (g->adopted &&
			      tc_root_is(g->tc, gu->ifindex, root, "htb"))
		    ? 0
		    : tc_htb_qdisc(g->tc, gu->ifindex, root, RX_MINOR);
	if (!r)
		r = tc_htb_class(g->tc, gu->ifindex, root, cls, &rt);
	if (!r)
		r = tc_bfifo(g->tc, gu->ifindex, cls,
			     TC_H_MAKE(RX_LEAF_MAJOR << 16, 0), qos_queue(max));
	if (r) {
		log_warnx("guest %s (%s): cannot shape rx.max: %s",
			  gu->conf.name, gu->conf.device, strerror(-r));
		return r;
	}
	gu->rx_shaped = true;
	return 0;
}

void qos_guest_gone(struct gonad *g, struct guest *gu)
{
	g->qos->guest_gone(g, gu);
}

void qos_guest_detach(struct gonad *g, struct guest *gu, bool gone)
{
	if (gu->rx_shaped && gu->ifindex && !gone)
		tc_root_del(g->tc, gu->ifindex);
	gu->rx_shaped = false;
}
