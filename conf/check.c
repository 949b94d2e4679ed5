/* SPDX-License-Identifier: MIT */
/* Checks of a whole configuration: every object valid, and names,
 * devices, MACs and addresses each belonging to one object only. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

const char *conf_where(const char *file, int line, char *buf, size_t len)
{
	if (line > 0)
		snprintf(buf, len, "%s:%d", file, line);
	else
		snprintf(buf, len, "%s", file);
	return buf;
}

/* Prefix a message with FILE:LINE (FILE: without a line) if from a file. */
static int locate(struct conf_err *err, const char *file, int line, int r)
{
	char msg[CONF_ERR_MAX], where[CONF_ERR_MAX];

	if (!file)
		return r;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	conf_where(file, line, where, sizeof(where));
	snprintf(err->msg, sizeof(err->msg), "%.200s: %.300s", where, msg);
	return r;
}

/* What must belong to one object only. Names and devices are shared by
 * uplinks and guests: a guest may not take an uplink's device. */
enum what { W_NAME, W_DEVICE, W_MAC, W_IPV4, W_IPV6 };

/* One name, device, MAC or address of object OBJ (uplinks first, then
 * guests), zero-padded so that equal values compare equal as bytes. */
struct ent {
	uint8_t key[CONF_NAME_MAX];
	uint32_t obj;
	uint8_t what;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int r;

	if (x->what != y->what)
		return x->what < y->what ? -1 : 1;
	r = memcmp(x->key, y->key, sizeof(x->key));
	if (r)
		return r;
	if (x->obj != y->obj)
		return x->obj < y->obj ? -1 : 1;
	return 0;
}

static struct ent *put(struct ent *e, uint32_t obj, enum what w,
		       const void *key, size_t len)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len);
	e->obj = obj;
	e->what = (uint8_t)w;
	return e + 1;
}

static const char *obj_name(const struct conf *c, uint32_t obj, char *buf,
			    size_t len)
{
	if (obj < c->n_uplinks)
		snprintf(buf, len, "uplink %s", c->uplinks[obj].name);
	else
		snprintf(buf, len, "guest %s",
			 c->guests[obj - c->n_uplinks].name);
	return buf;
}

static int obj_line(const struct conf *c, uint32_t obj)
{
	return obj < c->n_uplinks ? c->uplinks[obj].line
				  : c->guests[obj - c->n_uplinks].line;
}

static int clash(const struct conf *c, const struct ent *e, uint32_t other,
		 struct conf_err *err)
{
	char self[CONF_NAME_MAX + 8], them[CONF_NAME_MAX + 8];
	char v[INET6_ADDRSTRLEN];

	obj_name(c, e->obj, self, sizeof(self));
	obj_name(c, other, them, sizeof(them));
	switch (e->what) {
	case W_NAME:
		return conf_errf(err, "%s: name already used by %s", self,
				 them);
	case W_DEVICE:
		return conf_errf(err, "%s: device %s already used by %s", self,
				 (const char *)e->key, them);
	case W_MAC:
		return conf_errf(err, "%s: mac %s already used by %s", self,
				 conf_format_mac(e->key, v, sizeof(v)), them);
	default:
		inet_ntop(e->what == W_IPV4 ? AF_INET : AF_INET6, e->key, v,
			  sizeof(v));
		return conf_errf(err, "%s: %s %s already used by %s", self,
				 e->what == W_IPV4 ? "ipv4" : "ipv6", v, them);
	}
}

/*
 * Every value that must be unique, sorted, so that a clash is two
 * neighbours: n log n, where comparing every pair of guests would cost
 * a tenth of a second at 1024 guests of CONF_ADDRS_MAX
 * addresses each, on every live guest add. The object reported is the
 * first with a clash (uplinks, then guests), and the other object named
 * is the first that had the value.
 */
static int check_unique(const struct conf *c, const char *file,
			struct conf_err *err)
{
	size_t n = 2 * c->n_uplinks, nobj = c->n_uplinks + c->n_guests;
	const struct ent **first;
	uint32_t *other;
	struct ent *ents, *e;
	int r = 0;

	for (size_t i = 0; i < c->n_guests; i++)
		n += 3 + c->guests[i].n_ipv4 + c->guests[i].n_ipv6;
	ents = malloc((n ? n : 1) * sizeof(*ents));
	first = calloc(nobj ? nobj : 1, sizeof(*first));
	other = calloc(nobj ? nobj : 1, sizeof(*other));
	if (!ents || !first || !other) {
		conf_errf(err, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	e = ents;
	for (uint32_t i = 0; i < c->n_uplinks; i++) {
		const struct conf_uplink *u = &c->uplinks[i];

		e = put(e, i, W_NAME, u->name, strlen(u->name));
		e = put(e, i, W_DEVICE, u->device, strlen(u->device));
	}
	for (uint32_t i = 0; i < c->n_guests; i++) {
		const struct conf_guest *g = &c->guests[i];
		uint32_t obj = (uint32_t)c->n_uplinks + i;

		e = put(e, obj, W_NAME, g->name, strlen(g->name));
		e = put(e, obj, W_DEVICE, g->device, strlen(g->device));
		e = put(e, obj, W_MAC, g->mac, 6);
		for (size_t j = 0; j < g->n_ipv4; j++)
			e = put(e, obj, W_IPV4, &g->ipv4[j], 4);
		for (size_t j = 0; j < g->n_ipv6; j++)
			e = put(e, obj, W_IPV6, &g->ipv6[j], 16);
	}
	qsort(ents, n, sizeof(*ents), ent_cmp);
	/* For each object, its first clash in the order of its fields
	 * (name, device, mac, addresses), with the first owner. */
	for (size_t i = 1, run = 0; i < n; i++) {
		const struct ent *a = &ents[run], *b = &ents[i];
		const struct ent **f = &first[b->obj];

		if (a->what != b->what ||
		    memcmp(a->key, b->key, sizeof(a->key))) {
			run = i;
			continue;
		}
		/* The same address twice in one guest is for
		 * conf_guest_check() to report. */
		if (a->obj == b->obj)
			continue;
		if (!*f || b->what < (*f)->what) {
			*f = b;
			other[b->obj] = a->obj;
		}
	}
	for (uint32_t i = 0; i < nobj; i++) {
		if (first[i]) {
			clash(c, first[i], other[i], err);
			r = locate(err, file, obj_line(c, i), -EINVAL);
			break;
		}
	}
out:
	free(ents);
	free(first);
	free(other);
	return r;
}

/*
 * The members of a LACP group are one aggregator's ports: the partner
 * aggregates only ports that show it one system and one key. Each uplink
 * is held to the first of its group, so the message names that one.
 */
static int check_lacp_groups(const struct conf *c, const char *file,
			     struct conf_err *err)
{
	for (size_t i = 1; i < c->n_uplinks; i++) {
		const struct conf_uplink *u = &c->uplinks[i], *first = NULL;
		const struct conf_lacp *l = &u->lacp;

		if (!l->group[0])
			continue;
		for (size_t j = 0; j < i && !first; j++)
			if (!strcmp(c->uplinks[j].lacp.group, l->group))
				first = &c->uplinks[j];
		if (!first)
			continue;
		if (l->key != first->lacp.key) {
			conf_errf(err,
				  "uplink %s: lacp.key %u differs from uplink "
				  "%s's (%u) in LACP group %s (a group's "
				  "members share a key)",
				  u->name, l->key, first->name, first->lacp.key,
				  l->group);
			return locate(err, file, u->line, -EINVAL);
		}
		if (l->system_priority != first->lacp.system_priority) {
			conf_errf(err,
				  "uplink %s: lacp.system_priority %u differs "
				  "from uplink %s's (%u) in LACP group %s (a "
				  "group's members share a system priority)",
				  u->name, l->system_priority, first->name,
				  first->lacp.system_priority, l->group);
			return locate(err, file, u->line, -EINVAL);
		}
	}
	return 0;
}

static bool abs_path(const char *p, size_t size)
{
	return p[0] == '/' && memchr(p, '\0', size);
}

static int check_policy(const struct conf *c, struct conf_err *err)
{
	const struct conf_policy *p = &c->policy;

	if (p->rebalance_interval_ms < 10 || p->rebalance_interval_ms > 3600000)
		return conf_errf(err,
				 "policy: rebalance_interval_ms %u out of "
				 "range 10..3600000",
				 p->rebalance_interval_ms);
	if (p->rebalance_threshold < 1 || p->rebalance_threshold > 1000)
		return conf_errf(err,
				 "policy: rebalance_threshold %u out of range "
				 "1..1000 (percent)",
				 p->rebalance_threshold);
	if (p->rebalance_holddown_ms > 3600000)
		return conf_errf(
			err,
			"policy: rebalance_holddown_ms %u out of range "
			"0..3600000",
			p->rebalance_holddown_ms);
	if (p->updelay_ms > 600000 || p->downdelay_ms > 600000)
		return conf_errf(err, "policy: %s %u out of range 0..600000",
				 p->updelay_ms > 600000 ? "updelay_ms"
							: "downdelay_ms",
				 p->updelay_ms > 600000 ? p->updelay_ms
							: p->downdelay_ms);
	if (p->notify_count > 100)
		return conf_errf(err,
				 "policy: notify_count %u out of range 0..100",
				 p->notify_count);
	if (p->notify_interval_ms < 1 || p->notify_interval_ms > 10000)
		return conf_errf(err,
				 "policy: notify_interval_ms %u out of range "
				 "1..10000",
				 p->notify_interval_ms);
	if (p->broadcast_pps > CONF_BROADCAST_PPS_MAX)
		return conf_errf(err,
				 "policy: broadcast_pps %u out of range 0..%u",
				 p->broadcast_pps, CONF_BROADCAST_PPS_MAX);
	if (!conf_admission_name(p->admission))
		return conf_errf(err,
				 "policy: admission %d is not n-1, n or off",
				 (int)p->admission);
	if (!conf_degrade_name(p->degrade))
		return conf_errf(err,
				 "policy: degrade %d is not proportional or "
				 "priority",
				 (int)p->degrade);
	if (!conf_qos_backend_name(p->qos_backend))
		return conf_errf(err,
				 "policy: qos_backend %d is not auto, htb or "
				 "edt",
				 (int)p->qos_backend);
	return 0;
}

static int check_daemon(const struct conf *c, struct conf_err *err)
{
	if (!abs_path(c->daemon.socket, sizeof(c->daemon.socket)))
		return conf_errf(err,
				 "daemon: socket \"%.*s\" is not an absolute "
				 "path",
				 (int)sizeof(c->daemon.socket),
				 c->daemon.socket);
	if (!abs_path(c->daemon.pin_dir, sizeof(c->daemon.pin_dir)))
		return conf_errf(err,
				 "daemon: pin_dir \"%.*s\" is not an absolute "
				 "path",
				 (int)sizeof(c->daemon.pin_dir),
				 c->daemon.pin_dir);
	if (c->daemon.max_guests < 1 ||
	    c->daemon.max_guests > CONF_GUESTS_LIMIT)
		return conf_errf(err,
				 "daemon: max_guests %u out of range 1..%d",
				 c->daemon.max_guests, CONF_GUESTS_LIMIT);
	return 0;
}

int conf_check(const struct conf *c, const char *file, struct conf_err *err)
{
	int r;

	if (!c->n_uplinks) {
		conf_errf(err, "at least one uplink is needed%s",
			  c->uplinks_line ? "" : " (no uplinks list)");
		return locate(err, file,
			      c->uplinks_line > 0 ? c->uplinks_line : 1,
			      -EINVAL);
	}
	if (c->n_uplinks > CONF_UPLINKS_MAX) {
		conf_errf(err, "%zu uplinks, at most %d", c->n_uplinks,
			  CONF_UPLINKS_MAX);
		return locate(err, file, c->uplinks[CONF_UPLINKS_MAX].line,
			      -ENOSPC);
	}
	if (c->n_guests > c->daemon.max_guests &&
	    c->daemon.max_guests <= CONF_GUESTS_LIMIT) {
		conf_errf(err,
			  "%zu guests, more than daemon.max_guests (%u), the "
			  "data path's room",
			  c->n_guests, c->daemon.max_guests);
		return locate(err, file, c->guests[c->daemon.max_guests].line,
			      -ENOSPC);
	}
	for (size_t i = 0; i < c->n_uplinks; i++)
		if (conf_uplink_check(&c->uplinks[i], err))
			return locate(err, file, c->uplinks[i].line, -EINVAL);
	r = check_lacp_groups(c, file, err);
	if (r)
		return r;
	for (size_t i = 0; i < c->n_guests; i++) {
		const struct conf_guest *g = &c->guests[i];

		if (conf_guest_check(g, err))
			return locate(err, file, g->line, -EINVAL);
		if (!g->transient && !strcmp(g->name, CONF_TEST_GUEST)) {
			conf_errf(err,
				  "guest %s: the name is the failover "
				  "self-test's (gonactl test failover)",
				  g->name);
			return locate(err, file, g->line, -EINVAL);
		}
		if (g->primary[0] && !conf_uplink_find(c, g->primary)) {
			conf_errf(err, "guest %s: primary %s is not an uplink",
				  g->name, g->primary);
			return locate(err, file, g->line, -EINVAL);
		}
	}
	r = check_unique(c, file, err);
	if (r)
		return r;
	/* Refused at the group's line (a file without the group has its
	 * defaults, which pass). */
	if (check_policy(c, err))
		return locate(err, file, c->policy_line, -EINVAL);
	if (check_daemon(c, err))
		return locate(err, file, c->daemon_line, -EINVAL);
	return 0;
}
