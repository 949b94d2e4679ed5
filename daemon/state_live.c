/* SPDX-License-Identifier: MIT */
/* Live changes of the running state: uplink set and guest set (checked
 * whole before anything changes), guests and uplinks added, deleted and
 * changed by a reload, and their order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>
#include <sys/timerfd.h>
#include <time.h>

#include "daemon/state_int.h"

int state_admit(const struct conf *c, char *msg, size_t len,
		const struct conf_guest **over)
{
	static const char *const why[] = {
		[POL_ADMIT_N1] = "left if the largest uplink fails",
		[POL_ADMIT_N] = "of all uplinks together",
		[POL_ADMIT_OFF] = "",
	};
	struct pol_uplink pu[GONA_MAX_UPLINKS];
	enum pol_admission mode;
	uint64_t sum = 0, limit;
	size_t first = 0;
	char a[32], b[32];

	if (over)
		*over = NULL;
	for (size_t i = 0; i < c->n_uplinks && i < GONA_MAX_UPLINKS; i++)
		pu[i] = (struct pol_uplink){ .capacity = c->uplinks[i].capacity,
					     .up = true };
	for (size_t i = 0; i < c->n_guests; i++)
		sum += c->guests[i].slice.tx_min;
	mode = c->policy.admission == CONF_ADMIT_N     ? POL_ADMIT_N
	       : c->policy.admission == CONF_ADMIT_OFF ? POL_ADMIT_OFF
						       : POL_ADMIT_N1;
	if (!pol_admit(pu, c->n_uplinks, sum, mode, &limit))
		return 0;
	if (mode == POL_ADMIT_N1 && c->n_uplinks == 1)
		mode = POL_ADMIT_N;
	/* The guest whose tx.min takes the sum over the limit, in the
	 * order of the configuration. */
	for (uint64_t run = 0; first < c->n_guests; first++) {
		run += c->guests[first].slice.tx_min;
		if (run > limit)
			break;
	}
	snprintf(msg, len, "guaranteed %s exceeds %s %s",
		 conf_format_rate(sum, a, sizeof(a)),
		 conf_format_rate(limit, b, sizeof(b)), why[mode]);
	if (over && first < c->n_guests) {
		*over = &c->guests[first];
		snprintf(msg + strlen(msg), len - strlen(msg),
			 " (passed at guest %s's tx.min %s)",
			 c->guests[first].name,
			 conf_format_rate(c->guests[first].slice.tx_min, a,
					  sizeof(a)));
	}
	return -ENOSPC;
}

bool state_last_uplink_up(const struct gonad *g, const struct uplink *u)
{
	if (!u->up)
		return false;
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].up && &g->uplinks[i] != u)
			return false;
	return true;
}

int state_uplink_set(struct gonad *g, struct uplink *u, size_t n,
		     const char *const *kv, char *err, size_t errlen)
{
	const char *name = u->conf.name;
	struct conf_uplink scratch;
	struct conf_err ce;
	int admin = -1;

	if (!n || n % 2) {
		snprintf(err, errlen, "uplink %s: set takes KEY VALUE pairs",
			 name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (strcmp(kv[i], "admin")) {
			scratch = u->conf;
			if (conf_uplink_set(&scratch, kv[i], kv[i + 1], &ce) ==
			    -ENOENT)
				snprintf(err, errlen, "%s", ce.msg);
			else
				snprintf(err, errlen,
					 "uplink %s: %s cannot be changed "
					 "while gonad runs",
					 name, kv[i]);
			return -EINVAL;
		}
		if (strcmp(kv[i + 1], "up") && strcmp(kv[i + 1], "down")) {
			snprintf(err, errlen,
				 "uplink %s: admin \"%s\" is neither up nor "
				 "down",
				 name, kv[i + 1]);
			return -EINVAL;
		}
		admin = !strcmp(kv[i + 1], "up");
	}
	/* Draining the last uplink would strand every guest. */
	if (!admin && state_last_uplink_up(g, u)) {
		snprintf(err, errlen,
			 "uplink %s: refused: it is the last uplink up; its "
			 "guests would have none",
			 name);
		return -EBUSY;
	}
	if (u->admin_up == (bool)admin)
		return 0;
	u->admin_up = admin;
	log_info("uplink %s: admin %s", name, admin ? "up" : "down");
	own_uplink(g, u);
	uplink_update(g, u, CAUSE_ADMIN);
	return 0;
}

/* The keys a running guest's slice can change by. */
static bool live_key(const char *key)
{
	static const char *const keys[] = {
		"tx.min", "tx.max",   "tx.weight", "tx.burst", "rx.max",
		"spread", "priority", "vlan",	   "vlans",    "primary",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* NG (GU's configuration, changed) against the whole configuration:
 * unique addresses, admission. */
static int check_changed(const struct gonad *g, const struct conf_guest *ng,
			 char *err, size_t errlen)
{
	struct conf *dup = conf_dup(g->conf);
	struct conf_err ce;
	char msg[256];
	int r;

	if (!dup) {
		snprintf(err, errlen, "guest %s: out of memory", ng->name);
		return -ENOMEM;
	}
	*conf_guest_find(dup, ng->name) = *ng;
	r = conf_check(dup, NULL, &ce);
	if (r)
		snprintf(err, errlen, "%s", ce.msg);
	else if ((r = state_admit(dup, msg, sizeof(msg), NULL)))
		snprintf(err, errlen, "guest %s: refused: %s", ng->name, msg);
	else if ((r = state_vlans_carried(g, dup, ng->name, msg, sizeof(msg))))
		snprintf(err, errlen, "%s", msg);
	conf_free(dup);
	return r;
}

int state_guest_set(struct gonad *g, struct guest *gu, size_t n,
		    const char *const *kv, char *err, size_t errlen)
{
	struct conf_guest ng = gu->conf, scratch;
	const char *name = gu->conf.name;
	struct conf_err ce;
	char done[256] = "";
	size_t off = 0;
	bool vlans;
	int r;

	if (!n || n % 2) {
		snprintf(err, errlen, "guest %s: set takes KEY VALUE pairs",
			 name);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		if (!live_key(kv[i])) {
			/* Known but not changeable live, or unknown: the
			 * configuration says which, on a scratch copy. */
			scratch = ng;
			r = conf_guest_set(&scratch, kv[i], kv[i + 1], &ce);
			if (r == -ENOENT)
				snprintf(err, errlen, "%s", ce.msg);
			else
				snprintf(err, errlen,
					 "guest %s: %s cannot be changed "
					 "while the guest runs",
					 name, kv[i]);
			return -EINVAL;
		}
		r = conf_guest_set(&ng, kv[i], kv[i + 1], &ce);
		if (r) {
			snprintf(err, errlen, "%s", ce.msg);
			return r;
		}
		off += (size_t)snprintf(done + off, sizeof(done) - off,
					"%s%s %s", off ? ", " : "", kv[i],
					kv[i + 1]);
		if (off >= sizeof(done))
			off = sizeof(done) - 1;
	}
	r = conf_guest_check(&ng, &ce);
	if (r) {
		snprintf(err, errlen, "%s", ce.msg);
		return r;
	}
	r = check_changed(g, &ng, err, errlen);
	if (r)
		return r;

	/* Committed: the configuration, then the kernel. A new primary is
	 * where the guest goes now (if it is up), the others stay. */
	vlans = vlans_differ(&gu->conf, &ng);
	gu->replace = strcmp(gu->conf.primary, ng.primary) != 0;
	*conf_guest_find(g->conf, name) = ng;
	gu->conf = ng;
	log_info("guest %s: %s", name, done);
	r = vlans ? push_vlans(g, gu) : 0;
	if (r)
		log_warnx("guest %s: cannot update its VLANs in the data path: "
			  "%s",
			  name, err_str(r));
	/* A new guarantee or priority may change what degraded mode keeps,
	 * a new spread where the guest goes. */
	if (!place_guests(g, POL_KEEP))
		qos_update(g);
	gu->replace = false;
	qos_guest_rx(g, gu);
	own_guest(g, gu);
	state_push_guest(g, gu);
	if (vlans)
		vlans_moved(g, gu);
	return 0;
}

/*
 * Live changes of the configuration. reload.c decides what changed and
 * that the whole of it is acceptable; these carry out one change each.
 * Devices are attached by the link dump that follows (state_relink).
 */
int state_guest_add(struct gonad *g, const struct conf_guest *cg)
{
	struct guest *gu;
	int r;

	if (g->n_guests >= dp_max_guests(g->dp))
		return -ENOSPC;
	gu = calloc(1, sizeof(*gu));
	if (!gu)
		return -ENOMEM;
	gu->conf = *cg;
	gu->id = alloc_id(g);
	g->guests[g->n_guests++] = gu;
	r = guest_maps(g, gu, true);
	if (r)
		log_warnx("guest %s: cannot write its data path entries: %s",
			  gu->conf.name, err_str(r));
	push_globals(g);
	log_info("guest %s (%s): added", gu->conf.name, gu->conf.device);
	return 0;
}

void state_guest_del(struct gonad *g, struct guest *gu)
{
	static const uint64_t no_vlans[64];
	struct gona_port p = { .ifindex = 0, .id = gu->id };
	size_t i;

	guest_detach(g, gu, false);
	sriov_guest_forget(g, gu);
	dp_del_mac(g->dp, gu->conf.mac);
	dp_del_addrs(g->dp, gu->id, &gu->conf);
	dp_set_flood(g->dp, gu->id, &p);
	dp_set_trunk(g->dp, gu->id, no_vlans);
	qos_guest_gone(g, gu);
	dp_zero_guest_stats(g->dp, gu->id);
	id_free(g, gu->id);
	for (i = 0; i < g->n_guests && g->guests[i] != gu; i++)
		;
	memmove(&g->guests[i], &g->guests[i + 1],
		(g->n_guests - i - 1) * sizeof(*g->guests));
	g->n_guests--;
	log_info("guest %s (%s): removed", gu->conf.name, gu->conf.device);
	free(gu);
}

/* Before the MACs change, so that guests may swap theirs: let go of an
 * interface that changes, then forget the MAC. */
void state_guest_unlink(struct gonad *g, struct guest *gu)
{
	guest_detach(g, gu, false);
}

void state_guest_unmac(struct gonad *g, struct guest *gu)
{
	sriov_guest_forget(g, gu);
	dp_del_mac(g->dp, gu->conf.mac);
}

/* The addresses of A that B does not have, in OUT (only those set). */
static void addrs_minus(const struct conf_guest *a, const struct conf_guest *b,
			struct conf_guest *out)
{
	out->n_ipv4 = out->n_ipv6 = 0;
	for (size_t i = 0; i < a->n_ipv4; i++) {
		bool kept = false;

		for (size_t j = 0; j < b->n_ipv4; j++)
			kept |= a->ipv4[i].s_addr == b->ipv4[j].s_addr;
		if (!kept)
			out->ipv4[out->n_ipv4++] = a->ipv4[i];
	}
	for (size_t i = 0; i < a->n_ipv6; i++) {
		bool kept = false;

		for (size_t j = 0; j < b->n_ipv6; j++)
			kept |= !memcmp(&a->ipv6[i], &b->ipv6[j], 16);
		if (!kept)
			out->ipv6[out->n_ipv6++] = a->ipv6[i];
	}
}

bool vlans_differ(const struct conf_guest *a, const struct conf_guest *b)
{
	return a->vlan != b->vlan ||
	       memcmp(a->vlans, b->vlans, sizeof(a->vlans));
}

bool state_guest_change(struct gonad *g, struct guest *gu,
			const struct conf_guest *ng)
{
	bool relink = strcmp(gu->conf.device, ng->device) != 0;
	bool vlans = vlans_differ(&gu->conf, ng);
	struct conf_guest *gone = malloc(sizeof(*gone));
	int r;

	/* An interface that changes was let go (state_guest_unlink). */
	/* New addresses before the old go: a frame from an address in both
	 * is never dropped. The old go after the guest's entry, whose first
	 * IPv4 address is let through without a look-up, is rewritten. */
	r = dp_set_addrs(g->dp, gu->id, ng);
	if (gone)
		addrs_minus(&gu->conf, ng, gone);
	/* A new primary: placed afresh by the settling placement. */
	gu->replace |= strcmp(gu->conf.primary, ng->primary) != 0;
	gu->conf = *ng;
	if (!r)
		r = push_vlans(g, gu);
	if (gu->attached) {
		qos_guest_rx(g, gu);
		own_guest(g, gu);
		state_push_guest(g, gu);
		if (vlans)
			vlans_moved(g, gu);
	}
	if (!gone)
		r = r ? r : -ENOMEM;
	else if (!r)
		r = dp_del_addrs(g->dp, gu->id, gone);
	free(gone);
	if (r)
		log_warnx("guest %s: cannot update its data path entries: %s",
			  gu->conf.name, err_str(r));
	log_info("guest %s (%s): changed", gu->conf.name, gu->conf.device);
	return relink;
}

int state_uplink_add(struct gonad *g, const struct conf_uplink *cu)
{
	unsigned int slot = 0;
	struct gona_uplink v = { 0 };
	int r;

	while (slot < g->n_uplinks && g->uplinks[slot].conf.name[0])
		slot++;
	if (slot >= GONA_MAX_UPLINKS)
		return -ENOSPC;
	uplink_init(g, slot, cu);
	for (size_t i = 0; i < g->n_guests; i++)
		memset(&g->guests[i]->htb[slot], 0,
		       sizeof(g->guests[i]->htb[slot]));
	r = dp_set_uplink(g->dp, slot, 0, &v);
	if (!r)
		r = dp_zero_uplink_stats(g->dp, slot);
	if (r)
		log_warnx("uplink %s: cannot write its data path entries: %s",
			  cu->name, err_str(r));
	push_globals(g);
	log_info("uplink %s (%s): added", cu->name, cu->device);
	return 0;
}

void state_uplink_del(struct gonad *g, struct uplink *u)
{
	unsigned int slot = u->slot;
	char name[CONF_NAME_MAX], dev[IFNAMSIZ];

	snprintf(name, sizeof(name), "%s", u->conf.name);
	snprintf(dev, sizeof(dev), "%s", u->conf.device);
	/* Drained first, as an operator would: its guests move to the
	 * others and are announced there before the device is let go. */
	if (u->up) {
		u->admin_up = false;
		uplink_update(g, u, CAUSE_ADMIN);
	}
	uplink_detach(g, u, false);
	for (size_t i = 0; i < g->n_guests; i++) {
		struct guest *gu = g->guests[i];

		gu->homes &= ~(1u << slot);
		memset(&gu->htb[slot], 0, sizeof(gu->htb[slot]));
		gu->home_sampled &= ~(1u << slot);
	}
	memset(u, 0, sizeof(*u));
	u->slot = slot;
	while (g->n_uplinks && !g->uplinks[g->n_uplinks - 1].conf.name[0])
		g->n_uplinks--;
	push_globals(g);
	log_info("uplink %s (%s): removed", name, dev);
}

bool state_uplink_change(struct gonad *g, struct uplink *u,
			 const struct conf_uplink *nc)
{
	bool relink = strcmp(u->conf.device, nc->device) != 0;
	bool mon = memcmp(&u->conf.monitor, &nc->monitor,
			  sizeof(nc->monitor)) != 0;
	bool cap = u->conf.capacity != nc->capacity;
	bool lacp = memcmp(&u->conf.lacp, &nc->lacp, sizeof(nc->lacp)) != 0;

	if (relink) {
		uplink_detach(g, u, false);
		u->conf = *nc;
		uplink_update(g, u, CAUSE_DEVICE);
	} else {
		if (mon)
			monitor_stop(g, u);
		/* A member's LACP starts afresh with its new settings (it
		 * leaves the aggregate for the aggregate wait). */
		if (lacp)
			lacp_stop(g, u);
		u->conf = *nc;
		/* The tree is rebuilt in place; one that cannot be is gone
		 * (qos_uplink_attach said why) and the uplink unshaped. */
		if (cap && u->qos_made && qos_uplink_attach(g, u)) {
			u->qos_made = false;
			own_uplink(g, u);
		}
		if (mon && u->attached) {
			monitor_start(g, u);
			state_uplink_probe(g, u, true);
		}
		if (lacp) {
			u->lacp_ok = !nc->lacp.group[0];
			if (u->attached)
				lacp_start(g, u);
			own_uplink(g, u);
			uplink_update(g, u, CAUSE_LACP);
		}
	}
	log_info("uplink %s (%s): changed", u->conf.name, u->conf.device);
	return relink;
}

/* Put the guests in the order of C, the configuration now in force. */
void state_guest_order(struct gonad *g, const struct conf *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n_guests; i++)
		for (size_t j = k; j < g->n_guests; j++)
			if (!strcmp(g->guests[j]->conf.name,
				    c->guests[i].name)) {
				struct guest *t = g->guests[k];

				g->guests[k++] = g->guests[j];
				g->guests[j] = t;
				break;
			}
}
