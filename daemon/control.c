/* SPDX-License-Identifier: MIT */
/* The control socket: accepts gonactl's connections, checks each request
 * and answers it through the command table. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "daemon/control.h"
#include "daemon/gonad.h"
#include "policy/lacp.h"

#define CTL_MAX_CLIENTS 64
/* With CTL_MAX_CLIENTS connected, a new client closes the one that has
 * made no progress (no request read, no reply byte taken) for longest, if
 * that is at least this long: clients that connect and do nothing, or
 * send and never read, cannot lock the operator out. */
#define CTL_IDLE_EVICT_MS 5000
#define CTL_GROUP "gona" /* may read */
#define CTL_GROUP_ADMIN "gona-admin" /* may change */

struct ctl_msg {
	struct ctl_msg *next;
	size_t len;
	char buf[];
};

struct ctl_client {
	struct ev_source src;
	struct ctl *ctl;
	struct ctl_client *next;
	struct ctl_msg *out; /* replies not yet sent */
	struct ctl_msg **out_tail;
	bool broken; /* a reply could not be queued: close after sending */
	uint64_t progress_ms; /* now_ms() of its last request or sent reply */
	/* Who is at the other end (SO_PEERCRED, SO_PEERGROUPS) and what it
	 * may do: read (root, groups gona and gona-admin), change (root,
	 * gona-admin). */
	uid_t uid;
	bool may_read;
	bool may_change;
};

struct ctl {
	struct gonad *g;
	struct ev_source listen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_client *clients;
	int n_clients;
};

/* Queue one reply record for the client. */
static int ctl_reply(struct ctl_client *c, uint16_t type, const void *payload,
		     size_t plen)
{
	struct ctl_msg *m = malloc(sizeof(*m) + sizeof(struct ctl_hdr) + plen);
	ssize_t n;

	if (!m)
		return -ENOMEM;
	n = ctl_rep_encode(m->buf, sizeof(struct ctl_hdr) + plen, type, payload,
			   plen);
	if (n < 0) {
		free(m);
		return (int)n;
	}
	m->len = (size_t)n;
	m->next = NULL;
	*c->out_tail = m;
	c->out_tail = &m->next;
	return 0;
}

static void drop_queue_after(struct ctl_client *c, struct ctl_msg **from)
{
	struct ctl_msg *m = *from, *next;

	for (; m; m = next) {
		next = m->next;
		free(m);
	}
	*from = NULL;
	c->out_tail = from;
}

/* Counters as they are now; rates as the periodic sampler measured them,
 * so a reply never shortens the interval a rate is measured over. */
static void fill_counters(struct ctl_counters *out,
			  const struct gona_counters *now,
			  const struct rates *rt)
{
	out->read_us = now_us();
	out->tx_packets = now->tx_packets;
	out->tx_bytes = now->tx_bytes;
	out->rx_packets = now->rx_packets;
	out->rx_bytes = now->rx_bytes;
	out->tx_bps = rt->tx_bps;
	out->rx_bps = rt->rx_bps;
	for (int i = 0; i < CTL_DROP_SLOTS; i++)
		out->drops[i] = now->drops[i];
}

static void lacp_end(struct ctl_lacp_end *e, const struct lacp_info *i)
{
	e->system_priority = i->system_priority;
	e->key = i->key;
	e->port_priority = i->port_priority;
	e->port = i->port;
	memcpy(e->system, i->system, 6);
	e->state = i->state;
}

/* A member's LACP, as the machines of lacp.c have it. */
static void lacp_fill(struct ctl_uplink *r, const struct uplink *u)
{
	const struct conf_lacp *cl = &u->conf.lacp;
	struct lacp_member_stats st;
	const struct lacp_port *p;

	if (!cl->group[0])
		return;
	snprintf(r->lacp_group, sizeof(r->lacp_group), "%s", cl->group);
	r->lacp_fast = cl->rate == CONF_LACP_FAST;
	r->lacp_active = cl->active;
	r->lacp_usable = u->lacp_ok;
	p = lacp_port_of(u, &st);
	if (!p) {
		snprintf(r->lacp_why, sizeof(r->lacp_why), "%s",
			 u->attached
				 ? "LACP could not start on it (see the log)"
				 : "its device is absent");
		return;
	}
	r->lacp_running = 1;
	lacp_end(&r->lacp_actor, &p->actor);
	lacp_end(&r->lacp_partner, &p->partner);
	snprintf(r->lacp_rx, sizeof(r->lacp_rx), "%s", lacp_rx_name(p->rx));
	snprintf(r->lacp_mux, sizeof(r->lacp_mux), "%s", lacp_mux_name(p->mux));
	snprintf(r->lacp_why, sizeof(r->lacp_why), "%s", p->why);
	r->lacp_rx_pdus = p->rx_pdus;
	r->lacp_tx_pdus = p->tx_pdus;
	r->lacp_expired = p->expired;
	r->lacp_defaulted = p->defaulted;
	r->lacp_markers = st.markers;
	r->lacp_refused = st.refused;
	r->lacp_heard_ago_ms = st.heard_ago_ms;
	snprintf(r->lacp_refusal, sizeof(r->lacp_refusal), "%s", st.refusal);
}

static int send_uplink(struct ctl_client *c, const struct uplink *u)
{
	struct gonad *g = c->ctl->g;
	struct ctl_uplink r = { 0 };
	struct gona_counters now;

	snprintf(r.name, sizeof(r.name), "%s", u->conf.name);
	snprintf(r.device, sizeof(r.device), "%s", u->conf.device);
	r.ifindex = (uint32_t)u->ifindex;
	r.slot = u->slot;
	r.present = u->attached;
	r.carrier = u->carrier;
	r.admin_up = u->admin_up;
	r.up = u->up;
	r.designated = g->bcast_slot == u->slot;
	r.capacity = u->conf.capacity;
	r.guaranteed = state_uplink_guaranteed(g, u, &r.n_guests);
	snprintf(r.cause, sizeof(r.cause), "%s", uplink_cause_name(u->cause));
	r.since_ms = u->changed_ms ? now_ms() - u->changed_ms : 0;
	r.n_down = u->n_down;
	r.switch_us = u->switch_us;
	r.place_us = u->place_us;
	r.traced = g->carrier != NULL;
	r.carrier_at_us = u->carrier_at_us;
	r.carrier_lag_us = u->carrier_lag_us;
	r.carrier_tx_packets = u->carrier_tx_packets;
	r.load_bps = state_uplink_load(g, u);
	snprintf(r.group, sizeof(r.group), "%s", u->conf.group);
	if (u->conf.monitor.type != CONF_MON_NONE) {
		struct monitor_stats ms;

		snprintf(r.monitor, sizeof(r.monitor), "%s",
			 u->conf.monitor.type == CONF_MON_ARP ? "arp" : "ns");
		snprintf(r.target, sizeof(r.target), "%s", monitor_target(u));
		r.interval_ms = u->conf.monitor.interval_ms;
		r.missed = u->conf.monitor.missed;
		r.probe_ok = u->probe_ok;
		r.monitor_vlan = u->conf.monitor.vlan;
		monitor_stats(u, &ms);
		r.probes_sent = ms.sent;
		r.probes_answered = ms.answered;
		r.answer_ago_ms =
			ms.answer_ms ? now_ms() - ms.answer_ms : UINT64_MAX;
	}
	r.is_vf = u->vf.is_vf;
	r.vf_index = u->vf.index;
	snprintf(r.vf_pf, sizeof(r.vf_pf), "%s", u->vf.pf_name);
	snprintf(r.vf_pf_bus, sizeof(r.vf_pf_bus), "%s", u->vf.pf_bus);
	r.vf_spoofchk = u->vf.pf_ifindex ? u->vf_state.spoofchk : -1;
	r.vf_trust = u->vf.pf_ifindex ? u->vf_state.trust : -1;
	r.vf_link_state = u->vf.pf_ifindex ? u->vf_state.link_state : -1;
	r.vf_port_vlan = u->vf.pf_ifindex ? u->vf_state.vlan : 0;
	r.vf_made_trust = u->vf_made_trust;
	r.vf_made_nospoof = u->vf_made_nospoof;
	r.vf_filters = u->vf_filters;
	r.vf_checkable = u->vfc != NULL;
	for (size_t i = 0; i < g->n_guests; i++) {
		r.vf_checked += !!(g->guests[i]->vf_checked & (1u << u->slot));
		r.vf_pending += !!(g->guests[i]->vf_pending & (1u << u->slot));
	}
	snprintf(r.vf_error, sizeof(r.vf_error), "%s", u->vf_error);
	lacp_fill(&r, u);
	if (dp_read_uplink_stats(g->dp, u->slot, &now))
		now = u->rates.last;
	fill_counters(&r.c, &now, &u->rates);
	return ctl_reply(c, CTL_REP_UPLINK, &r, sizeof(r));
}

static int send_guest(struct ctl_client *c, const struct guest *gu)
{
	struct gonad *g = c->ctl->g;
	struct ctl_guest r = { 0 };
	struct gona_counters now;
	size_t off = 0;

	snprintf(r.name, sizeof(r.name), "%s", gu->conf.name);
	snprintf(r.device, sizeof(r.device), "%s", gu->conf.device);
	for (size_t i = 0, n = 0; i < g->n_uplinks && n < CTL_HOMES_MAX; i++) {
		if (!(gu->homes & (1u << i)))
			continue;
		r.home[n].tx_bps = gu->home_bps[i];
		r.home[n].min =
			qos_home_part(gu, (unsigned int)i, gu->tx_min_kept);
		r.home[n].max = qos_home_part(gu, (unsigned int)i,
					      gu->conf.slice.tx_max);
		n++;
		off += (size_t)snprintf(r.homes + off, sizeof(r.homes) - off,
					"%s%s", off ? "," : "",
					g->uplinks[i].conf.name);
		if (off >= sizeof(r.homes))
			break;
	}
	memcpy(r.mac, gu->conf.mac, 6);
	r.attached = gu->attached;
	r.ifindex = (uint32_t)gu->ifindex;
	r.spread = gu->conf.spread;
	r.n_ipv4 = (uint32_t)gu->conf.n_ipv4;
	r.n_ipv6 = (uint32_t)gu->conf.n_ipv6;
	for (size_t i = 0; i < gu->conf.n_ipv4; i++)
		r.ipv4[i] = gu->conf.ipv4[i].s_addr;
	for (size_t i = 0; i < gu->conf.n_ipv6; i++)
		memcpy(r.ipv6[i], &gu->conf.ipv6[i], 16);
	r.tx_min = gu->conf.slice.tx_min;
	r.tx_min_kept = gu->tx_min_kept;
	r.priority = gu->conf.priority;
	r.vlan = gu->conf.vlan;
	snprintf(r.primary, sizeof(r.primary), "%s", gu->conf.primary);
	memcpy(r.vlans, gu->conf.vlans, sizeof(r.vlans));
	r.n_rebalanced = gu->n_rebalanced;
	r.held_ms =
		gu->held_until_ms > now_ms() ? gu->held_until_ms - now_ms() : 0;
	r.paced_bps = gu->paced_bps;
	r.tx_max = gu->conf.slice.tx_max;
	r.tx_weight = gu->conf.slice.tx_weight;
	r.tx_burst = gu->conf.slice.tx_burst;
	r.rx_max = gu->conf.slice.rx_max;
	if (dp_read_guest_stats(g->dp, gu->id, &now))
		now = gu->rates.last;
	fill_counters(&r.c, &now, &gu->rates);
	return ctl_reply(c, CTL_REP_GUEST, &r, sizeof(r));
}

static int cmd_status(struct ctl_client *c, const struct ctl_req *req,
		      char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct ctl_status s = { 0 };

	(void)req;
	(void)err;
	(void)errlen;
	snprintf(s.version, sizeof(s.version), "%s", PACKAGE_VERSION);
	snprintf(s.backend, sizeof(s.backend), "%s", qos_name(g));
	snprintf(s.backend_why, sizeof(s.backend_why), "%s", g->qos_why);
	snprintf(s.config, sizeof(s.config), "%s", g->conf_file);
	s.pid = (uint32_t)getpid();
	s.uptime_ms = now_ms() - g->started_ms;
	for (size_t i = 0; i < g->n_uplinks; i++) {
		s.uplinks_total += g->uplinks[i].conf.name[0] != '\0';
		if (!g->uplinks[i].up)
			continue;
		s.uplinks_up++;
		s.capacity_up += g->uplinks[i].conf.capacity;
	}
	s.guests_total = (uint32_t)g->n_guests;
	s.guests_room = dp_max_guests(g->dp);
	s.max_guests = g->conf->daemon.max_guests;
	for (size_t i = 0; i < g->n_guests; i++) {
		s.guests_attached += g->guests[i]->attached;
		s.guaranteed += g->guests[i]->conf.slice.tx_min;
	}
	s.capacity_usable = g->capacity_usable;
	s.kept = g->kept;
	s.degraded = g->degraded;
	snprintf(s.degrade, sizeof(s.degrade), "%s",
		 conf_degrade_name(g->conf->policy.degrade));
	s.rebalance_rounds = g->rebalance_rounds;
	s.rebalance_moves = g->rebalance_moves;
	s.rebalanced_ago_ms =
		g->rebalanced_ms ? now_ms() - g->rebalanced_ms : 0;
	s.adopted = g->adopted;
	s.adopted_guests = g->adopted_guests;
	s.adopted_uplinks = g->adopted_uplinks;
	s.keep_datapath = g->conf->daemon.keep_datapath_on_stop;
	s.reloads_ok = g->reloads_ok;
	s.reloads_failed = g->reloads_failed;
	s.reloaded_ago_ms = g->reloaded_ms ? now_ms() - g->reloaded_ms : 0;
	snprintf(s.reload_error, sizeof(s.reload_error), "%s", g->reload_error);
	snprintf(s.vf_error, sizeof(s.vf_error), "%s", g->vf_error);
	return ctl_reply(c, CTL_REP_STATUS, &s, sizeof(s));
}

static int cmd_uplink_show(struct ctl_client *c, const struct ctl_req *req,
			   char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct uplink *u;
	int r = 0;

	if (req->argc == 0) {
		for (size_t i = 0; i < g->n_uplinks && !r; i++)
			if (g->uplinks[i].conf.name[0])
				r = send_uplink(c, &g->uplinks[i]);
		return r;
	}
	u = state_uplink(g, req->argv[0]);
	if (!u) {
		snprintf(err, errlen, "uplink %s: no such uplink",
			 req->argv[0]);
		return -ENOENT;
	}
	/* A VF's link state as its PF reports it now. */
	sriov_uplink_report(g, u);
	r = send_uplink(c, u);
	for (size_t i = 0; i < g->n_guests && !r; i++)
		if (g->guests[i]->homes & (1u << u->slot))
			r = send_guest(c, g->guests[i]);
	return r;
}

static int cmd_guest_show(struct ctl_client *c, const struct ctl_req *req,
			  char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct guest *gu;
	int r = 0;

	if (req->argc == 0) {
		for (size_t i = 0; i < g->n_guests && !r; i++)
			r = send_guest(c, g->guests[i]);
		return r;
	}
	gu = state_guest(g, req->argv[0]);
	if (!gu) {
		snprintf(err, errlen, "guest %s: no such guest", req->argv[0]);
		return -ENOENT;
	}
	return send_guest(c, gu);
}

static int cmd_stats(struct ctl_client *c, const struct ctl_req *req, char *err,
		     size_t errlen)
{
	struct gonad *g = c->ctl->g;
	int r = 0;

	(void)req;
	(void)err;
	(void)errlen;
	for (size_t i = 0; i < g->n_uplinks && !r; i++)
		if (g->uplinks[i].conf.name[0])
			r = send_uplink(c, &g->uplinks[i]);
	for (size_t i = 0; i < g->n_guests && !r; i++)
		r = send_guest(c, g->guests[i]);
	return r;
}

static int cmd_guest_set(struct ctl_client *c, const struct ctl_req *req,
			 char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct guest *gu = state_guest(g, req->argv[0]);

	if (!gu) {
		snprintf(err, errlen, "guest %s: no such guest", req->argv[0]);
		return -ENOENT;
	}
	return state_guest_set(g, gu, req->argc - 1, req->argv + 1, err,
			       errlen);
}

static int cmd_uplink_set(struct ctl_client *c, const struct ctl_req *req,
			  char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct uplink *u = state_uplink(g, req->argv[0]);

	if (!u) {
		snprintf(err, errlen, "uplink %s: no such uplink",
			 req->argv[0]);
		return -ENOENT;
	}
	return state_uplink_set(g, u, req->argc - 1, req->argv + 1, err,
				errlen);
}

static int cmd_rebalance(struct ctl_client *c, const struct ctl_req *req,
			 char *err, size_t errlen)
{
	char msg[CTL_ERR_MAX];
	int r;

	(void)req;
	r = state_rebalance(c->ctl->g, true, msg, sizeof(msg));
	if (r < 0) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	return ctl_reply(c, CTL_REP_NOTE, msg, strlen(msg) + 1);
}

static int note(struct ctl_client *c, const char *msg)
{
	return ctl_reply(c, CTL_REP_NOTE, msg, strlen(msg) + 1);
}

static int cmd_reload(struct ctl_client *c, const struct ctl_req *req,
		      char *err, size_t errlen)
{
	char msg[CTL_ERR_MAX];
	int r;

	(void)req;
	r = reload_file(c->ctl->g, msg, sizeof(msg));
	if (r) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	return note(c, msg);
}

static int cmd_save(struct ctl_client *c, const struct ctl_req *req, char *err,
		    size_t errlen)
{
	char msg[CTL_ERR_MAX];
	int r;

	(void)req;
	r = reload_save(c->ctl->g, msg, sizeof(msg));
	if (r) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	return note(c, msg);
}

/* ERR says what the configuration refused (CE), returning R. */
static int refused(char *err, size_t errlen, const struct conf_err *ce, int r)
{
	snprintf(err, errlen, "%s", ce->msg);
	return r;
}

/* NC is a copy of the running configuration that an edit returning R
 * (saying why in CE) changed: apply it all or nothing, or say why not. */
static int apply(struct ctl_client *c, struct conf *nc, int r,
		 const struct conf_err *ce, char *err, size_t errlen)
{
	char msg[CTL_ERR_MAX];

	if (r) {
		conf_free(nc);
		return refused(err, errlen, ce, r);
	}
	r = reload_apply(c->ctl->g, nc, NULL, msg, sizeof(msg));
	if (r) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	return note(c, msg);
}

static struct conf *running_copy(struct gonad *g, const char *what, char *err,
				 size_t errlen)
{
	struct conf *nc = conf_dup(g->conf);

	if (!nc)
		snprintf(err, errlen, "%s: out of memory", what);
	return nc;
}

/* "guest add" and "uplink add": NAME new, then KEY VALUE pairs. */
static int new_object(const struct ctl_req *req, const char *kind, bool exists,
		      char *err, size_t errlen)
{
	if (exists) {
		snprintf(err, errlen, "%s %s: exists already", kind,
			 req->argv[0]);
		return -EEXIST;
	}
	if ((req->argc - 1) % 2) {
		snprintf(err, errlen, "%s %s: add takes KEY VALUE pairs", kind,
			 req->argv[0]);
		return -EINVAL;
	}
	return 0;
}

static int cmd_guest_add(struct ctl_client *c, const struct ctl_req *req,
			 char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	const char *name = req->argv[0];
	struct conf_guest ng;
	struct conf_err ce;
	struct conf *nc;
	int r;

	r = new_object(req, "guest", state_guest(g, name), err, errlen);
	if (r)
		return r;
	conf_guest_init(&ng, name);
	for (uint32_t i = 1; i + 1 < req->argc && !r; i += 2)
		r = conf_guest_set(&ng, req->argv[i], req->argv[i + 1], &ce);
	if (r || (r = conf_guest_check(&ng, &ce)))
		return refused(err, errlen, &ce, r);
	nc = running_copy(g, name, err, errlen);
	if (!nc)
		return -ENOMEM;
	return apply(c, nc, conf_guest_add(nc, &ng, &ce), &ce, err, errlen);
}

static int cmd_guest_del(struct ctl_client *c, const struct ctl_req *req,
			 char *err, size_t errlen)
{
	struct conf_err ce;
	struct conf *nc;

	nc = running_copy(c->ctl->g, req->argv[0], err, errlen);
	if (!nc)
		return -ENOMEM;
	return apply(c, nc, conf_guest_del(nc, req->argv[0], &ce), &ce, err,
		     errlen);
}

static int cmd_uplink_add(struct ctl_client *c, const struct ctl_req *req,
			  char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	const char *name = req->argv[0];
	struct conf_uplink nu;
	struct conf_err ce;
	struct conf *nc;
	int r;

	r = new_object(req, "uplink", state_uplink(g, name), err, errlen);
	if (r)
		return r;
	conf_uplink_init(&nu, name);
	for (uint32_t i = 1; i + 1 < req->argc && !r; i += 2)
		r = conf_uplink_set(&nu, req->argv[i], req->argv[i + 1], &ce);
	if (r || (r = conf_uplink_check(&nu, &ce)))
		return refused(err, errlen, &ce, r);
	nc = running_copy(g, name, err, errlen);
	if (!nc)
		return -ENOMEM;
	return apply(c, nc, conf_uplink_add(nc, &nu, &ce), &ce, err, errlen);
}

static int cmd_uplink_del(struct ctl_client *c, const struct ctl_req *req,
			  char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	struct uplink *u = state_uplink(g, req->argv[0]);
	struct conf_err ce;
	struct conf *nc;
	int r;

	if (!u) {
		snprintf(err, errlen, "uplink %s: no such uplink",
			 req->argv[0]);
		return -ENOENT;
	}
	/* As for a drain: the last uplink up would strand every guest
	 * (without guests, nothing is stranded). */
	if (g->n_guests && state_last_uplink_up(g, u)) {
		snprintf(err, errlen,
			 "uplink %s: refused: it is the last uplink up; its "
			 "guests would have none",
			 u->conf.name);
		return -EBUSY;
	}
	nc = running_copy(g, req->argv[0], err, errlen);
	if (!nc)
		return -ENOMEM;
	r = conf_uplink_del(nc, req->argv[0], &ce);
	if (!r)
		r = conf_check(nc, NULL, &ce);
	return apply(c, nc, r, &ce, err, errlen);
}

static int cmd_test_begin(struct ctl_client *c, const struct ctl_req *req,
			  char *err, size_t errlen)
{
	struct gonad *g = c->ctl->g;
	int r = selftest_begin(g, c, req->argc, req->argv, err, errlen);
	struct guest *gu = r ? NULL : state_guest(g, CONF_TEST_GUEST);

	if (r)
		return r;
	if (!gu) {
		selftest_end(g, c);
		snprintf(err, errlen, "the failover self-test's guest is gone");
		return -ENOENT;
	}
	return send_guest(c, gu);
}

static int cmd_test_fail(struct ctl_client *c, const struct ctl_req *req,
			 char *err, size_t errlen)
{
	return selftest_fail(c->ctl->g, c, req->argv[0], req->argv[1],
			     req->argv[2], err, errlen);
}

static int cmd_test_end(struct ctl_client *c, const struct ctl_req *req,
			char *err, size_t errlen)
{
	(void)req;
	(void)err;
	(void)errlen;
	selftest_end(c->ctl->g, c);
	return 0;
}

/* The commands: request type, name for messages, arguments, handler. */
static const struct ctl_cmd {
	uint16_t type;
	const char *name;
	uint32_t min_args, max_args;
	bool change; /* needs root or group gona-admin */
	int (*run)(struct ctl_client *c, const struct ctl_req *req, char *err,
		   size_t errlen);
} ctl_cmds[] = {
	{ CTL_REQ_STATUS, "status", 0, 0, false, cmd_status },
	{ CTL_REQ_UPLINK_SHOW, "uplink show", 0, 1, false, cmd_uplink_show },
	{ CTL_REQ_GUEST_SHOW, "guest show", 0, 1, false, cmd_guest_show },
	{ CTL_REQ_STATS, "stats", 0, 0, false, cmd_stats },
	{ CTL_REQ_GUEST_SET, "guest set", 3, CTL_ARGS_MAX, true,
	  cmd_guest_set },
	{ CTL_REQ_UPLINK_SET, "uplink set", 3, CTL_ARGS_MAX, true,
	  cmd_uplink_set },
	{ CTL_REQ_REBALANCE, "rebalance", 0, 0, true, cmd_rebalance },
	{ CTL_REQ_RELOAD, "reload", 0, 0, true, cmd_reload },
	{ CTL_REQ_SAVE, "save", 0, 0, true, cmd_save },
	{ CTL_REQ_GUEST_ADD, "guest add", 1, CTL_ARGS_MAX, true,
	  cmd_guest_add },
	{ CTL_REQ_GUEST_DEL, "guest del", 1, 1, true, cmd_guest_del },
	{ CTL_REQ_UPLINK_ADD, "uplink add", 1, CTL_ARGS_MAX, true,
	  cmd_uplink_add },
	{ CTL_REQ_UPLINK_DEL, "uplink del", 1, 1, true, cmd_uplink_del },
	{ CTL_REQ_TEST_BEGIN, "test begin", 2, CTL_ARGS_MAX, true,
	  cmd_test_begin },
	{ CTL_REQ_TEST_FAIL, "test fail", 3, 3, true, cmd_test_fail },
	{ CTL_REQ_TEST_END, "test end", 0, 0, true, cmd_test_end },
};

static const struct ctl_cmd *find_cmd(uint16_t type)
{
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (ctl_cmds[i].type == type)
			return &ctl_cmds[i];
	return NULL;
}

static void handle(struct ctl_client *c, const void *buf, size_t len)
{
	struct ctl_msg **mark = c->out_tail;
	const struct ctl_cmd *cmd;
	char err[CTL_ERR_MAX] = "";
	struct ctl_req req;
	int r;

	r = ctl_req_decode(buf, len, &req, err, sizeof(err));
	if (!r) {
		cmd = find_cmd(req.type);
		if (!cmd) {
			snprintf(err, sizeof(err),
				 "request type %u is not "
				 "supported",
				 req.type);
			r = -EOPNOTSUPP;
		} else if (!c->may_read || (cmd->change && !c->may_change)) {
			snprintf(err, sizeof(err),
				 "%s: permission denied: uid %u may %s "
				 "(%s needs root or group %s)",
				 cmd->name, (unsigned)c->uid,
				 c->may_read ? "only read" : "not use gonad",
				 cmd->change ? "a change" : "reading",
				 cmd->change ? CTL_GROUP_ADMIN : CTL_GROUP);
			r = -EACCES;
		} else if (req.argc < cmd->min_args ||
			   req.argc > cmd->max_args) {
			snprintf(err, sizeof(err),
				 "%s: takes %u to %u arguments, got %u",
				 cmd->name, cmd->min_args, cmd->max_args,
				 req.argc);
			r = -EINVAL;
		} else {
			r = cmd->run(c, &req, err, sizeof(err));
		}
	} else {
		char why[CTL_ERR_MAX - 32];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, sizeof(err), "malformed request: %s", why);
	}
	if (r) {
		/* All or nothing: records queued before the failure go. */
		drop_queue_after(c, mark);
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		if (ctl_reply(c, CTL_REP_ERROR, err, strlen(err) + 1))
			c->broken = true;
	} else if (ctl_reply(c, CTL_REP_DONE, NULL, 0)) {
		c->broken = true;
	}
}

static void client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;

	for (struct ctl_client **p = &ctl->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	/* A failover self-test it ran ends with it. */
	selftest_end(ctl->g, c);
	ev_del(ctl->g, &c->src);
	close(c->src.fd);
	drop_queue_after(c, &c->out);
	ctl->n_clients--;
	free(c);
}

/* Send what is queued; false if the client must be dropped. A client
 * whose socket is full is not read until its replies are sent: one that
 * sends requests and reads no answers holds at most one request's replies
 * in gonad, not a queue that grows until memory runs out. */
static bool flush(struct ctl_client *c)
{
	while (c->out) {
		struct ctl_msg *m = c->out;
		ssize_t n = send(c->src.fd, m->buf, m->len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_mod(c->ctl->g, &c->src, EPOLLOUT);
			return true;
		}
		if (n < 0)
			return false;
		c->progress_ms = now_ms();
		c->out = m->next;
		if (!c->out)
			c->out_tail = &c->out;
		free(m);
	}
	ev_mod(c->ctl->g, &c->src, EPOLLIN);
	return !c->broken;
}

static void on_client(struct ev_source *src, uint32_t events)
{
	struct ctl_client *c = src->arg;
	static char buf[CTL_MSG_MAX];
	ssize_t n;

	if (events & EPOLLIN) {
		/* MSG_TRUNC returns the real size, so an oversized request is
		 * refused instead of being read as a shorter one. */
		n = recv(src->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			client_free(c);
			return;
		}
		if (n > (ssize_t)sizeof(buf)) {
			char err[128];

			snprintf(err, sizeof(err),
				 "malformed request: %zd bytes, at most %d", n,
				 CTL_MSG_MAX);
			if (ctl_reply(c, CTL_REP_ERROR, err, strlen(err) + 1))
				c->broken = true;
		} else if (n > 0) {
			c->progress_ms = now_ms();
			handle(c, buf, (size_t)n);
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		client_free(c);
		return;
	}
	if (!flush(c))
		client_free(c);
}

/* Whether the peer on FD is in GROUP (as primary or supplementary). */
static bool peer_in_group(int fd, gid_t primary, const char *group)
{
	struct group *gr = getgrnam(group);
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *groups = NULL;
	bool yes = false;

	if (!gr)
		return false;
	if (primary == gr->gr_gid)
		return true;
	/* ERANGE says how much room the whole list needs. */
	for (int tries = 0; tries < 2 && !yes; tries++) {
		gid_t *more = realloc(groups, len ? len : sizeof(gid_t));

		if (!more)
			break;
		groups = more;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    0) {
			for (size_t i = 0; i < len / sizeof(gid_t); i++)
				yes |= groups[i] == gr->gr_gid;
			break;
		}
		if (errno != ERANGE)
			break;
	}
	free(groups);
	return yes;
}

/* What the client may do, from who it is: the socket's mode lets only
 * root and group gona connect; this also tells readers from admins. A
 * peer gonad cannot identify may do nothing. */
static void peer_rights(struct ctl_client *c, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_warn("control: cannot tell who connected; refusing it");
		c->uid = (uid_t)-1;
		return;
	}
	c->uid = cr.uid;
	c->may_change =
		cr.uid == 0 || peer_in_group(fd, cr.gid, CTL_GROUP_ADMIN);
	c->may_read = c->may_change || peer_in_group(fd, cr.gid, CTL_GROUP);
}

/* Close the client idle longest, if for CTL_IDLE_EVICT_MS; whether one
 * was. */
static bool evict_idle(struct ctl *ctl)
{
	struct ctl_client *idle = NULL;
	uint64_t now = now_ms();

	for (struct ctl_client *c = ctl->clients; c; c = c->next)
		if (!idle || c->progress_ms < idle->progress_ms)
			idle = c;
	if (!idle || now - idle->progress_ms < CTL_IDLE_EVICT_MS)
		return false;
	log_warnx("control: %d clients connected; closed one of uid %u "
		  "idle for %llu ms%s for a new one",
		  ctl->n_clients, (unsigned int)idle->uid,
		  (unsigned long long)(now - idle->progress_ms),
		  idle->out ? " with replies it did not take" : "");
	client_free(idle);
	return true;
}

static void on_accept(struct ev_source *src, uint32_t events)
{
	struct ctl *ctl = src->arg;
	struct ctl_client *c;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control: accept");
		return;
	}
	if (ctl->n_clients >= CTL_MAX_CLIENTS && !evict_idle(ctl)) {
		log_warnx("control: %d clients connected, all busy within "
			  "%d s; refusing another",
			  ctl->n_clients, CTL_IDLE_EVICT_MS / 1000);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	peer_rights(c, fd);
	c->src.fd = fd;
	c->src.ready = on_client;
	c->src.arg = c;
	c->out_tail = &c->out;
	c->progress_ms = now_ms();
	if (ev_add(ctl->g, &c->src, EPOLLIN)) {
		close(fd);
		free(c);
		return;
	}
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->n_clients++;
}

/* Create the socket's directory if needed (systemd's RuntimeDirectory=
 * does it for the service). */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		if (errno == ENOENT && make_parent(dir) == 0 &&
		    mkdir(dir, 0755) == 0)
			return 0;
		return -errno;
	}
	return 0;
}

/* The socket belongs to group gona, whose members may read. */
static void socket_group(const char *path)
{
	struct group *gr = getgrnam(CTL_GROUP);

	if (!gr) {
		log_info("control socket %s: no group %s here; only root may "
			 "use it",
			 path, CTL_GROUP);
		return;
	}
	if (chown(path, 0, gr->gr_gid) < 0)
		log_warn("control socket %s: cannot give it to group %s", path,
			 CTL_GROUP);
}

int ctl_open(struct gonad *g, struct ctl **out, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl *ctl;
	mode_t old_mask;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = make_parent(path);
	if (r) {
		log_warnx("control socket %s: cannot create its directory: %s",
			  path, strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A socket file nobody answers on is a leftover; one that answers
	 * belongs to a running gonad, which we must not steal it from. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_warnx("control socket %s: another gonad is running", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Never reachable by others, not even between bind and chmod. */
	old_mask = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (r < 0 || chmod(path, 0660) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		log_warn("control socket %s", path);
		close(fd);
		unlink(path);
		return r;
	}
	socket_group(path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	ctl->g = g;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen.fd = fd;
	ctl->listen.ready = on_accept;
	ctl->listen.arg = ctl;
	r = ev_add(g, &ctl->listen, EPOLLIN);
	if (r) {
		close(fd);
		unlink(path);
		free(ctl);
		return r;
	}
	*out = ctl;
	return 0;
}

void ctl_close(struct gonad *g, struct ctl *ctl)
{
	if (!ctl)
		return;
	/* gonad stops: a self-test's guest goes with everything else, its
	 * failures with gonad's state. */
	free(g->selftest);
	g->selftest = NULL;
	while (ctl->clients)
		client_free(ctl->clients);
	ev_del(g, &ctl->listen);
	close(ctl->listen.fd);
	unlink(ctl->path);
	free(ctl);
}
