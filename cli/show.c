/* SPDX-License-Identifier: MIT */
/* gonactl's printers: each reply as an aligned table or as JSON. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "policy/lacp.h"

#define COLS_MAX 16
#define CELL_MAX 64

/* A table is collected whole, then printed with columns as wide as their
 * widest cell. */
struct table {
	int ncols;
	size_t nrows, cap;
	char (*cells)[COLS_MAX][CELL_MAX];
};

static void table_row(struct table *t, const char *const *cols)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		void *c = realloc(t->cells, cap * sizeof(*t->cells));

		if (!c)
			abort();
		t->cells = c;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++)
		snprintf(t->cells[t->nrows][i], CELL_MAX, "%s", cols[i]);
	t->nrows++;
}

static void table_print(FILE *f, struct table *t)
{
	size_t w[COLS_MAX] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++)
			if (strlen(t->cells[r][i]) > w[i])
				w[i] = strlen(t->cells[r][i]);
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i + 1 < t->ncols; i++)
			fprintf(f, "%-*s  ", (int)w[i], t->cells[r][i]);
		fprintf(f, "%s\n", t->cells[r][t->ncols - 1]);
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* Rates with SI units, at most two decimals: 2.5G, 123.46M, 0. */
static const char *rate(uint64_t bps, char *buf, size_t len)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} units[] = { { 1000000000000ull, "T" },
		      { 1000000000ull, "G" },
		      { 1000000ull, "M" },
		      { 1000ull, "K" } };

	for (size_t i = 0; i < 4; i++) {
		if (bps < units[i].div)
			continue;
		snprintf(buf, len, "%.2f", (double)bps / (double)units[i].div);
		/* Trailing zeros say nothing: 2.50 -> 2.5, 1.00 -> 1. */
		char *end = buf + strlen(buf) - 1;

		while (*end == '0')
			*end-- = '\0';
		if (*end == '.')
			*end = '\0';
		strncat(buf, units[i].unit, len - strlen(buf) - 1);
		return buf;
	}
	snprintf(buf, len, "%llu", (unsigned long long)bps);
	return buf;
}

/* PART of WHOLE as "43%". */
static const char *percent(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	snprintf(buf, len, "%.0f%%",
		 whole ? (double)part * 100.0 / (double)whole : 0.0);
	return buf;
}

static const char *u64s(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* V, or null when it is "" (a string) or 0 (a number): none. */
static void json_str_or_null(struct json *j, const char *key, const char *v)
{
	if (v && v[0])
		json_str(j, key, v);
	else
		json_null(j, key);
}

static void json_u64_or_null(struct json *j, const char *key, uint64_t v)
{
	if (v)
		json_u64(j, key, v);
	else
		json_null(j, key);
}

/* -1 unknown, 0 off, 1 on. */
static void json_tristate(struct json *j, const char *key, int32_t v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_bool(j, key, v != 0);
}

static const char *const vf_link_states[] = { "auto", "enable", "disable" };

static const char *vf_link_state(int32_t v)
{
	return v >= 0 && v < 3 ? vf_link_states[v] : NULL;
}

/* An SR-IOV VF uplink: "vf": {...}, or null for any other. */
static void json_vf(struct json *j, const struct ctl_uplink *u)
{
	if (!u->is_vf) {
		json_null(j, "vf");
		return;
	}
	json_obj_open(j, "vf");
	if (u->vf_index >= 0)
		json_u64(j, "index", (uint64_t)u->vf_index);
	else
		json_null(j, "index");
	json_str_or_null(j, "pf", u->vf_pf);
	json_str(j, "pf_bus", u->vf_pf_bus);
	json_tristate(j, "spoofchk", u->vf_spoofchk);
	json_tristate(j, "trust", u->vf_trust);
	json_bool(j, "trust_by_gonad", u->vf_made_trust);
	json_bool(j, "spoofchk_off_by_gonad", u->vf_made_nospoof);
	json_str_or_null(j, "link_state", vf_link_state(u->vf_link_state));
	json_u64_or_null(j, "port_vlan", u->vf_port_vlan);
	json_u64(j, "mac_filters", u->vf_filters);
	json_bool(j, "filters_checkable", u->vf_checkable);
	json_u64(j, "filters_checked", u->vf_checked);
	json_u64(j, "filters_pending", u->vf_pending);
	json_str_or_null(j, "error", u->vf_error);
	json_obj_close(j);
}

static const char *onoff(int32_t v)
{
	return v < 0 ? "?" : v ? "on" : "off";
}

/* The VF lines of uplink show. */
static void vf_lines(FILE *f, const struct ctl_uplink *u)
{
	if (!u->is_vf)
		return;
	if (!u->vf_pf[0]) {
		fprintf(f,
			"sr-iov     VF %d of PF %s, not in this domain: %u "
			"guest MAC%s in its filter\n",
			u->vf_index, u->vf_pf_bus, u->vf_filters,
			u->vf_filters == 1 ? "" : "s");
	} else {
		fprintf(f,
			"sr-iov     VF %d of PF %s (%s): trust %s%s, spoof "
			"checking %s%s, link %s, port VLAN ",
			u->vf_index, u->vf_pf, u->vf_pf_bus, onoff(u->vf_trust),
			u->vf_made_trust ? " (by gonad)" : "",
			onoff(u->vf_spoofchk),
			u->vf_made_nospoof ? " (by gonad)" : "",
			vf_link_state(u->vf_link_state)
				? vf_link_state(u->vf_link_state)
				: "?");
		if (u->vf_port_vlan)
			fprintf(f, "%u", u->vf_port_vlan);
		else
			fprintf(f, "none");
		fprintf(f, "; %u guest MAC%s in its filter\n", u->vf_filters,
			u->vf_filters == 1 ? "" : "s");
	}
	if (!u->vf_checkable)
		fprintf(f, "           its filter entries are not checked "
			   "(no ARP monitor to check them by)\n");
	else if (u->vf_filters)
		fprintf(f,
			"           entries checked by an answer: %u, "
			"being checked: %u\n",
			u->vf_checked, u->vf_pending);
	if (u->vf_error[0])
		fprintf(f, "vf error   %s\n", u->vf_error);
}

/* " in VLAN N". */
static const char *in_vlan(uint32_t vid, char *buf, size_t len)
{
	snprintf(buf, len, " in VLAN %u", vid);
	return buf;
}

/* A trunk's VLANs as "10,20-29,4094" in BUF; NULL for none. A list too
 * long for BUF ends in "...". */
static const char *vlans_str(const uint64_t bits[64], char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (uint32_t v = 1; v <= 4094; v++) {
		uint32_t end = v;

		if (!(bits[v / 64] & (1ull << (v % 64))))
			continue;
		while (end < 4094 &&
		       (bits[(end + 1) / 64] & (1ull << ((end + 1) % 64))))
			end++;
		if (off + 16 >= len) {
			snprintf(buf + off, len - off, "...");
			return buf;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s%u",
					off ? "," : "", v);
		if (end > v)
			off += (size_t)snprintf(buf + off, len - off, "-%u",
						end);
		v = end;
	}
	return off ? buf : NULL;
}

static const char *mac(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

static uint64_t drops_total(const struct ctl_counters *c)
{
	uint64_t sum = 0;

	for (int i = 0; i < CTL_DROP_SLOTS; i++)
		sum += c->drops[i];
	return sum;
}

static const char *uplink_state(const struct ctl_uplink *u)
{
	if (!u->present)
		return "absent";
	if (!u->admin_up)
		return "drained";
	return u->up ? "up" : "down";
}

static void json_lacp_end(struct json *j, const char *key,
			  const struct ctl_lacp_end *e)
{
	char buf[96];

	json_obj_open(j, key);
	json_u64(j, "system_priority", e->system_priority);
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
		 e->system[0], e->system[1], e->system[2], e->system[3],
		 e->system[4], e->system[5]);
	json_str(j, "system", buf);
	json_u64(j, "key", e->key);
	json_u64(j, "port_priority", e->port_priority);
	json_u64(j, "port", e->port);
	json_u64(j, "state", e->state);
	json_str(j, "state_bits", lacp_state_str(e->state, buf, sizeof(buf)));
	json_obj_close(j);
}

/* "lacp": null for an uplink that is no member. */
static void json_lacp(struct json *j, const struct ctl_uplink *u)
{
	if (!u->lacp_group[0]) {
		json_null(j, "lacp");
		return;
	}
	json_obj_open(j, "lacp");
	json_str(j, "group", u->lacp_group);
	json_str(j, "rate", u->lacp_fast ? "fast" : "slow");
	json_bool(j, "active", u->lacp_active);
	json_bool(j, "running", u->lacp_running);
	json_bool(j, "aggregated", u->lacp_usable);
	json_str(j, "why", u->lacp_why);
	if (u->lacp_running) {
		json_str(j, "receive", u->lacp_rx);
		json_str(j, "mux", u->lacp_mux);
		json_lacp_end(j, "actor", &u->lacp_actor);
		json_lacp_end(j, "partner", &u->lacp_partner);
		json_u64(j, "pdus_in", u->lacp_rx_pdus);
		json_u64(j, "pdus_out", u->lacp_tx_pdus);
		if (u->lacp_heard_ago_ms != UINT64_MAX)
			json_u64(j, "last_pdu_ms", u->lacp_heard_ago_ms);
		json_u64(j, "expired", u->lacp_expired);
		json_u64(j, "defaulted", u->lacp_defaulted);
		json_u64(j, "markers_answered", u->lacp_markers);
		json_u64(j, "refused", u->lacp_refused);
		json_str(j, "last_refusal", u->lacp_refusal);
	}
	json_obj_close(j);
}

/* One end's line of uplink show: "LABEL system PRIO,MAC key K port
 * PRIO,N state BITS". */
static void lacp_end_line(FILE *f, const char *label,
			  const struct ctl_lacp_end *e)
{
	char st[96];

	fprintf(f,
		"%s system %u,%02x:%02x:%02x:%02x:%02x:%02x key %u port %u,%u "
		"state %s\n",
		label, e->system_priority, e->system[0], e->system[1],
		e->system[2], e->system[3], e->system[4], e->system[5], e->key,
		e->port_priority, e->port,
		lacp_state_str(e->state, st, sizeof(st)));
}

/* The LACP lines of uplink show. */
static void lacp_lines(FILE *f, const struct ctl_uplink *u)
{
	if (!u->lacp_group[0])
		return;
	fprintf(f, "lacp       group %s, %s, %s: %s%s%s\n", u->lacp_group,
		u->lacp_fast ? "fast" : "slow",
		u->lacp_active ? "active" : "passive",
		u->lacp_usable ? "aggregated" : "not carrying guests",
		u->lacp_why[0] ? ": " : "", u->lacp_why);
	if (!u->lacp_running)
		return;
	lacp_end_line(f, "actor     ", &u->lacp_actor);
	lacp_end_line(f, "partner   ", &u->lacp_partner);
	fprintf(f, "machines   receive %s, mux %s\n", u->lacp_rx, u->lacp_mux);
	fprintf(f, "lacpdus    %llu in, %llu out",
		(unsigned long long)u->lacp_rx_pdus,
		(unsigned long long)u->lacp_tx_pdus);
	if (u->lacp_heard_ago_ms != UINT64_MAX)
		fprintf(f, ", the last in %llu ms ago",
			(unsigned long long)u->lacp_heard_ago_ms);
	fprintf(f,
		"; partner timed out %llu times, defaulted %llu; %llu "
		"markers answered\n",
		(unsigned long long)u->lacp_expired,
		(unsigned long long)u->lacp_defaulted,
		(unsigned long long)u->lacp_markers);
	if (u->lacp_refused)
		fprintf(f, "refused    %llu frames, the last: %s\n",
			(unsigned long long)u->lacp_refused, u->lacp_refusal);
}

static void json_counters(struct json *j, const char *key,
			  const struct ctl_counters *c)
{
	json_obj_open(j, key);
	json_u64(j, "read_us", c->read_us);
	json_u64(j, "tx_packets", c->tx_packets);
	json_u64(j, "tx_bytes", c->tx_bytes);
	json_u64(j, "rx_packets", c->rx_packets);
	json_u64(j, "rx_bytes", c->rx_bytes);
	json_u64(j, "tx_bps", c->tx_bps);
	json_u64(j, "rx_bps", c->rx_bps);
	json_obj_open(j, "drops");
	for (unsigned int i = 0; i < CTL_DROP_SLOTS; i++)
		if (ctl_drop_name(i))
			json_u64(j, ctl_drop_name(i), c->drops[i]);
	json_obj_close(j);
	json_obj_close(j);
}

static void json_uplink(struct json *j, const char *key,
			const struct ctl_uplink *u)
{
	json_obj_open(j, key);
	json_str(j, "name", u->name);
	json_str(j, "device", u->device);
	json_u64(j, "ifindex", u->ifindex);
	json_str(j, "state", uplink_state(u));
	json_bool(j, "present", u->present);
	json_bool(j, "carrier", u->carrier);
	json_bool(j, "admin_up", u->admin_up);
	json_bool(j, "up", u->up);
	json_bool(j, "designated", u->designated);
	json_u64(j, "capacity", u->capacity);
	json_u64(j, "guaranteed", u->guaranteed);
	json_u64(j, "guests", u->n_guests);
	json_str(j, "cause", u->cause);
	json_u64(j, "since_ms", u->since_ms);
	json_u64(j, "downs", u->n_down);
	json_u64(j, "switch_us", u->switch_us);
	json_u64(j, "place_us", u->place_us);
	json_bool(j, "carrier_traced", u->traced);
	json_u64(j, "carrier_at_us", u->carrier_at_us);
	json_u64(j, "carrier_lag_us", u->carrier_lag_us);
	json_u64(j, "carrier_tx_packets", u->carrier_tx_packets);
	json_str(j, "group", u->group);
	json_u64(j, "load", u->load_bps);
	json_vf(j, u);
	json_lacp(j, u);
	if (u->monitor[0]) {
		json_obj_open(j, "monitor");
		json_str(j, "type", u->monitor);
		json_str(j, "target", u->target);
		json_u64(j, "interval_ms", u->interval_ms);
		json_u64(j, "missed", u->missed);
		json_u64_or_null(j, "vlan", u->monitor_vlan);
		json_bool(j, "answered", u->probe_ok);
		json_u64(j, "probes_sent", u->probes_sent);
		json_u64(j, "probes_answered", u->probes_answered);
		if (u->answer_ago_ms != UINT64_MAX)
			json_u64(j, "last_answer_ms", u->answer_ago_ms);
		json_obj_close(j);
	}
	json_counters(j, "counters", &u->c);
	json_obj_close(j);
}

static void json_guest(struct json *j, const char *key,
		       const struct ctl_guest *g)
{
	char buf[INET6_ADDRSTRLEN];

	json_obj_open(j, key);
	json_str(j, "name", g->name);
	json_str(j, "device", g->device);
	json_u64(j, "ifindex", g->ifindex);
	json_bool(j, "attached", g->attached);
	json_str(j, "mac", mac(g->mac, buf, sizeof(buf)));
	json_arr_open(j, "ipv4");
	for (uint32_t i = 0; i < g->n_ipv4; i++)
		json_str(j, NULL,
			 inet_ntop(AF_INET, &g->ipv4[i], buf, sizeof(buf)));
	json_arr_close(j);
	json_arr_open(j, "ipv6");
	for (uint32_t i = 0; i < g->n_ipv6; i++)
		json_str(j, NULL,
			 inet_ntop(AF_INET6, g->ipv6[i], buf, sizeof(buf)));
	json_arr_close(j);
	json_arr_open(j, "homes");
	{
		char homes[sizeof(g->homes)];

		memcpy(homes, g->homes, sizeof(homes));
		for (char *s = strtok(homes, ","); s; s = strtok(NULL, ","))
			json_str(j, NULL, s);
	}
	json_arr_close(j);
	json_arr_open(j, "per_home");
	{
		char homes[sizeof(g->homes)];
		size_t n = 0;

		memcpy(homes, g->homes, sizeof(homes));
		for (char *s = strtok(homes, ","); s && n < CTL_HOMES_MAX;
		     s = strtok(NULL, ","), n++) {
			json_obj_open(j, NULL);
			json_str(j, "uplink", s);
			json_u64(j, "tx_bps", g->home[n].tx_bps);
			json_u64(j, "min", g->home[n].min);
			json_u64(j, "max", g->home[n].max);
			json_obj_close(j);
		}
	}
	json_arr_close(j);
	json_u64(j, "spread", g->spread);
	json_u64(j, "priority", g->priority);
	json_str_or_null(j, "primary", g->primary);
	json_u64_or_null(j, "vlan", g->vlan);
	json_arr_open(j, "vlans");
	for (uint32_t v = 1; v <= 4094; v++)
		if (g->vlans[v / 64] & (1ull << (v % 64)))
			json_u64(j, NULL, v);
	json_arr_close(j);
	json_u64(j, "rebalanced", g->n_rebalanced);
	json_u64(j, "held_ms", g->held_ms);
	json_u64(j, "paced_bps", g->paced_bps);
	json_obj_open(j, "tx");
	json_u64(j, "min", g->tx_min);
	json_u64(j, "min_kept", g->tx_min_kept);
	json_u64(j, "max", g->tx_max);
	json_u64(j, "weight", g->tx_weight);
	json_u64(j, "burst", g->tx_burst);
	json_obj_close(j);
	json_obj_open(j, "rx");
	json_u64(j, "max", g->rx_max);
	json_obj_close(j);
	json_counters(j, "counters", &g->c);
	json_obj_close(j);
}

/* The part of the guarantees kept, 1 when none is promised. */
static double factor(const struct ctl_status *s)
{
	return s->guaranteed ? (double)s->kept / (double)s->guaranteed : 1.0;
}

void show_status(FILE *f, const struct reply *r, bool json)
{
	const struct ctl_status *s = &r->status;
	char a[32], b[32];
	uint64_t up_s = s->uptime_ms / 1000;

	if (!r->have_status)
		return;
	if (json) {
		struct json j;

		json_begin(&j, f);
		json_obj_open(&j, NULL);
		json_str(&j, "version", s->version);
		json_u64(&j, "pid", s->pid);
		json_u64(&j, "uptime_ms", s->uptime_ms);
		json_str(&j, "config", s->config);
		json_str(&j, "backend", s->backend);
		json_str(&j, "backend_why", s->backend_why);
		json_str_or_null(&j, "vf_error", s->vf_error);
		json_u64(&j, "uplinks_up", s->uplinks_up);
		json_u64(&j, "uplinks_total", s->uplinks_total);
		json_u64(&j, "capacity_up", s->capacity_up);
		json_u64(&j, "guests_attached", s->guests_attached);
		json_u64(&j, "guests_total", s->guests_total);
		json_u64(&j, "guests_room", s->guests_room);
		json_u64(&j, "max_guests", s->max_guests);
		json_u64(&j, "guaranteed", s->guaranteed);
		json_obj_open(&j, "degraded");
		json_bool(&j, "active", s->degraded);
		json_str(&j, "policy", s->degrade);
		json_u64(&j, "capacity_usable", s->capacity_usable);
		json_u64(&j, "kept", s->kept);
		json_double(&j, "factor", factor(s));
		json_obj_close(&j);
		json_obj_open(&j, "rebalancing");
		json_u64(&j, "rounds", s->rebalance_rounds);
		json_u64(&j, "moves", s->rebalance_moves);
		if (s->rebalance_rounds)
			json_u64(&j, "last_ms", s->rebalanced_ago_ms);
		json_obj_close(&j);
		if (s->adopted) {
			json_obj_open(&j, "adopted");
			json_u64(&j, "guests", s->adopted_guests);
			json_u64(&j, "uplinks", s->adopted_uplinks);
			json_obj_close(&j);
		} else {
			json_null(&j, "adopted");
		}
		json_bool(&j, "keep_datapath_on_stop", s->keep_datapath);
		json_obj_open(&j, "reload");
		json_u64(&j, "ok", s->reloads_ok);
		json_u64(&j, "failed", s->reloads_failed);
		if (s->reloads_ok)
			json_u64(&j, "last_ms", s->reloaded_ago_ms);
		if (s->reload_error[0])
			json_str(&j, "last_error", s->reload_error);
		else
			json_null(&j, "last_error");
		json_obj_close(&j);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	fprintf(f, "gonad %s, pid %u, up %lluh%02llum%02llus\n", s->version,
		s->pid, (unsigned long long)(up_s / 3600),
		(unsigned long long)(up_s / 60 % 60),
		(unsigned long long)(up_s % 60));
	fprintf(f, "config    %s\n", s->config);
	fprintf(f, "backend   %s (%s)\n", s->backend, s->backend_why);
	fprintf(f, "uplinks   %u/%u up, %s capacity up\n", s->uplinks_up,
		s->uplinks_total, rate(s->capacity_up, a, sizeof(a)));
	fprintf(f, "guests    %u/%u attached (room for %u", s->guests_attached,
		s->guests_total, s->guests_room);
	if (s->max_guests != s->guests_room)
		fprintf(f, "; daemon.max_guests %u waits for a rebuild",
			s->max_guests);
	fprintf(f, "), %s guaranteed\n", rate(s->guaranteed, b, sizeof(b)));
	if (s->degraded)
		fprintf(f,
			"degraded  yes: %s of the guarantees kept, factor "
			"%.3f (%s); the uplinks up give guests %s\n",
			rate(s->kept, a, sizeof(a)), factor(s), s->degrade,
			rate(s->capacity_usable, b, sizeof(b)));
	else
		fprintf(f, "degraded  no (policy %s)\n", s->degrade);
	if (s->rebalance_rounds)
		fprintf(f,
			"rebalanced %u moves (guests or flows) in %u rounds, "
			"the last "
			"%llu s ago\n",
			s->rebalance_moves, s->rebalance_rounds,
			(unsigned long long)(s->rebalanced_ago_ms / 1000));
	else
		fprintf(f, "rebalanced never\n");
	if (s->adopted)
		fprintf(f,
			"started   took over a previous gonad's data path: %u "
			"guests, %u uplinks, served without a break\n",
			s->adopted_guests, s->adopted_uplinks);
	else
		fprintf(f, "started   afresh\n");
	fprintf(f, "on stop   %s\n",
		s->keep_datapath ? "the data path stays (keep_datapath_on_stop)"
				 : "the data path is removed (kept on a "
				   "systemctl restart)");
	if (s->vf_error[0])
		fprintf(f, "sr-iov    %s\n", s->vf_error);
	if (s->reload_error[0])
		fprintf(f, "reload    refused: %s\n", s->reload_error);
	else if (s->reloads_ok)
		fprintf(f, "reload    done %u times, the last %llu s ago\n",
			s->reloads_ok,
			(unsigned long long)(s->reloaded_ago_ms / 1000));
	else
		fprintf(f, "reload    none since start\n");
}

void show_note(FILE *f, const struct reply *r, bool json)
{
	if (json) {
		struct json j;

		json_begin(&j, f);
		json_obj_open(&j, NULL);
		json_str(&j, "message", r->note);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	fprintf(f, "%s\n", r->note);
}

static void uplink_table(FILE *f, const struct ctl_uplink *u, size_t n)
{
	static const char *const head[] = { "NAME",	  "DEVICE", "STATE",
					    "CARRIER",	  "BCAST",  "CAPACITY",
					    "GUARANTEED", "GUESTS", "LOAD",
					    "TX",	  "RX",	    "DROPS" };
	struct table t = { .ncols = 12 };

	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		char cap[32], gua[32], ng[32], ld[32], tx[32], rx[32], dr[32];
		const char *row[] = {
			u[i].name,
			u[i].device,
			uplink_state(&u[i]),
			u[i].carrier ? "yes" : "no",
			u[i].designated ? "yes" : "-",
			rate(u[i].capacity, cap, sizeof(cap)),
			rate(u[i].guaranteed, gua, sizeof(gua)),
			u64s(u[i].n_guests, ng, sizeof(ng)),
			percent(u[i].load_bps, u[i].capacity, ld, sizeof(ld)),
			rate(u[i].c.tx_bps, tx, sizeof(tx)),
			rate(u[i].c.rx_bps, rx, sizeof(rx)),
			u64s(drops_total(&u[i].c), dr, sizeof(dr)),
		};
		table_row(&t, row);
	}
	table_print(f, &t);
}

static void guest_table(FILE *f, const struct ctl_guest *g, size_t n)
{
	static const char *const head[] = { "NAME", "DEVICE", "STATE",	"MAC",
					    "HOME", "TX.MIN", "TX.MAX", "TX",
					    "RX",   "DROPS" };
	struct table t = { .ncols = 10 };

	table_row(&t, head);
	for (size_t i = 0; i < n; i++) {
		char m[32], mn[32], mx[32], tx[32], rx[32], dr[32];
		const char *row[] = {
			g[i].name,
			g[i].device,
			g[i].attached ? "attached" : "absent",
			mac(g[i].mac, m, sizeof(m)),
			g[i].homes[0] ? g[i].homes : "-",
			g[i].tx_min ? rate(g[i].tx_min, mn, sizeof(mn)) : "-",
			g[i].tx_max ? rate(g[i].tx_max, mx, sizeof(mx)) : "-",
			rate(g[i].c.tx_bps, tx, sizeof(tx)),
			rate(g[i].c.rx_bps, rx, sizeof(rx)),
			u64s(drops_total(&g[i].c), dr, sizeof(dr)),
		};
		table_row(&t, row);
	}
	table_print(f, &t);
}

static void json_list(FILE *f, const struct reply *r, bool uplinks, bool guests)
{
	struct json j;

	json_begin(&j, f);
	if (uplinks && guests)
		json_obj_open(&j, NULL);
	if (uplinks) {
		json_arr_open(&j, guests ? "uplinks" : NULL);
		for (size_t i = 0; i < r->n_uplinks; i++)
			json_uplink(&j, NULL, &r->uplinks[i]);
		json_arr_close(&j);
	}
	if (guests) {
		json_arr_open(&j, uplinks ? "guests" : NULL);
		for (size_t i = 0; i < r->n_guests; i++)
			json_guest(&j, NULL, &r->guests[i]);
		json_arr_close(&j);
	}
	if (uplinks && guests)
		json_obj_close(&j);
	json_end(&j);
}

void show_uplink_list(FILE *f, const struct reply *r, bool json)
{
	if (json)
		json_list(f, r, true, false);
	else
		uplink_table(f, r->uplinks, r->n_uplinks);
}

void show_guest_list(FILE *f, const struct reply *r, bool json)
{
	if (json)
		json_list(f, r, false, true);
	else
		guest_table(f, r->guests, r->n_guests);
}

static void drops_lines(FILE *f, const struct ctl_counters *c)
{
	bool any = false;

	for (unsigned int i = 0; i < CTL_DROP_SLOTS; i++) {
		if (!c->drops[i] || !ctl_drop_name(i))
			continue;
		fprintf(f, "%s%s %llu", any ? ", " : "drops      ",
			ctl_drop_name(i), (unsigned long long)c->drops[i]);
		any = true;
	}
	fputs(any ? "\n" : "drops      none\n", f);
}

static void counter_lines(FILE *f, const struct ctl_counters *c)
{
	char a[32], b[32];

	fprintf(f, "tx         %llu packets, %llu bytes, %s bit/s\n",
		(unsigned long long)c->tx_packets,
		(unsigned long long)c->tx_bytes, rate(c->tx_bps, a, sizeof(a)));
	fprintf(f, "rx         %llu packets, %llu bytes, %s bit/s\n",
		(unsigned long long)c->rx_packets,
		(unsigned long long)c->rx_bytes, rate(c->rx_bps, b, sizeof(b)));
	drops_lines(f, c);
}

void show_uplink(FILE *f, const struct reply *r, bool json)
{
	const struct ctl_uplink *u = r->uplinks;
	char a[32], b[32];

	if (!r->n_uplinks)
		return;
	if (json) {
		struct json j;

		json_begin(&j, f);
		json_obj_open(&j, NULL);
		json_uplink(&j, "uplink", u);
		json_arr_open(&j, "guests");
		for (size_t i = 0; i < r->n_guests; i++)
			json_guest(&j, NULL, &r->guests[i]);
		json_arr_close(&j);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	fprintf(f, "uplink     %s\n", u->name);
	fprintf(f, "device     %s (ifindex %u)\n", u->device, u->ifindex);
	fprintf(f, "state      %s, carrier %s%s\n", uplink_state(u),
		u->carrier ? "yes" : "no",
		u->designated ? ", takes broadcast and multicast" : "");
	fprintf(f, "capacity   %s, %s guaranteed to %u guests\n",
		rate(u->capacity, a, sizeof(a)),
		rate(u->guaranteed, b, sizeof(b)), u->n_guests);
	fprintf(f, "load       %s (%s from its guests)\n",
		percent(u->load_bps, u->capacity, a, sizeof(a)),
		rate(u->load_bps, b, sizeof(b)));
	fprintf(f, "group      %s\n", u->group[0] ? u->group : "its own");
	if (u->since_ms)
		fprintf(f,
			"changed    %s %llu.%03llu s ago (%s), down %u "
			"times\n"
			"switch     data path %llu us, guests re-placed %llu "
			"us "
			"after gonad saw it\n",
			u->up ? "up" : "down",
			(unsigned long long)(u->since_ms / 1000),
			(unsigned long long)(u->since_ms % 1000), u->cause,
			u->n_down, (unsigned long long)u->switch_us,
			(unsigned long long)u->place_us);
	else
		fprintf(f, "changed    not since gonad started\n");
	if (!u->traced) {
		fprintf(f,
			"carrier    from rtnetlink only (tracing the drivers "
			"is not possible here)\n");
	} else if (u->carrier_at_us) {
		time_t t = (time_t)(u->carrier_at_us / 1000000);
		char when[32];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		fprintf(f,
			"carrier    traced in the driver: last changed at "
			"%s.%06llu, gonad had it %llu us later\n",
			when, (unsigned long long)(u->carrier_at_us % 1000000),
			(unsigned long long)u->carrier_lag_us);
	} else {
		fprintf(f, "carrier    traced in the driver: no change yet\n");
	}
	if (u->monitor[0]) {
		fprintf(f,
			"monitor    %s %s%s every %u ms, down after %u "
			"missed: %s\n"
			"probes     %llu sent, %llu answered",
			u->monitor, u->target,
			u->monitor_vlan ? in_vlan(u->monitor_vlan, a, sizeof(a))
					: "",
			u->interval_ms, u->missed,
			u->probe_ok ? "answered" : "unanswered",
			(unsigned long long)u->probes_sent,
			(unsigned long long)u->probes_answered);
		if (u->answer_ago_ms != UINT64_MAX)
			fprintf(f, ", the last %llu ms ago",
				(unsigned long long)u->answer_ago_ms);
		fputc('\n', f);
	} else {
		fprintf(f, "monitor    none (carrier only)\n");
	}
	vf_lines(f, u);
	lacp_lines(f, u);
	counter_lines(f, &u->c);
	if (r->n_guests) {
		fputc('\n', f);
		guest_table(f, r->guests, r->n_guests);
	}
}

void show_guest(FILE *f, const struct reply *r, bool json)
{
	const struct ctl_guest *g = r->guests;
	char a[64], b[32], c[32], vl[512];

	if (!r->n_guests)
		return;
	if (json) {
		struct json j;

		json_begin(&j, f);
		json_guest(&j, NULL, g);
		json_end(&j);
		return;
	}
	fprintf(f, "guest      %s\n", g->name);
	fprintf(f, "device     %s (%s", g->device,
		g->attached ? "attached" : "absent");
	if (g->attached)
		fprintf(f, ", ifindex %u", g->ifindex);
	fprintf(f, ")\nmac        %s\n", mac(g->mac, a, sizeof(a)));
	for (uint32_t i = 0; i < g->n_ipv4; i++)
		fprintf(f, "ipv4       %s\n",
			inet_ntop(AF_INET, &g->ipv4[i], a, sizeof(a)));
	for (uint32_t i = 0; i < g->n_ipv6; i++)
		fprintf(f, "ipv6       %s\n",
			inet_ntop(AF_INET6, g->ipv6[i], a, sizeof(a)));
	fprintf(f, "home       %s (spread %u)\n",
		g->homes[0] ? g->homes : "none: no uplink is up", g->spread);
	if (strchr(g->homes, ',')) {
		char homes[sizeof(g->homes)], x[32], y[32], z[32];
		size_t n = 0;

		memcpy(homes, g->homes, sizeof(homes));
		for (char *s = strtok(homes, ","); s && n < CTL_HOMES_MAX;
		     s = strtok(NULL, ","), n++)
			fprintf(f,
				"  %-8s sends %s; its part: min %s, max %s\n",
				s, rate(g->home[n].tx_bps, x, sizeof(x)),
				g->home[n].min
					? rate(g->home[n].min, y, sizeof(y))
					: "none",
				g->home[n].max
					? rate(g->home[n].max, z, sizeof(z))
					: "none");
	}
	fprintf(f, "tx.min     %s",
		g->tx_min ? rate(g->tx_min, b, sizeof(b)) : "none");
	if (g->tx_min_kept < g->tx_min)
		fprintf(f, " (degraded: %s kept)",
			rate(g->tx_min_kept, c, sizeof(c)));
	fputc('\n', f);
	fprintf(f, "tx.max     %s\n",
		g->tx_max ? rate(g->tx_max, c, sizeof(c)) : "none");
	fprintf(f, "tx.weight  %u\n", g->tx_weight);
	if (g->paced_bps)
		fprintf(f, "paced at   %s (EDT: what it may send now)\n",
			rate(g->paced_bps, b, sizeof(b)));
	fprintf(f, "priority   %u\n", g->priority);
	fprintf(f, "primary    %s\n", g->primary[0] ? g->primary : "none");
	if (g->vlan)
		fprintf(f, "vlan       %u (tagged on the uplinks)\n", g->vlan);
	else
		fprintf(f, "vlan       none (untagged)\n");
	if (vlans_str(g->vlans, vl, sizeof(vl)))
		fprintf(f, "vlans      %s (a trunk: it tags these itself)\n",
			vl);
	fprintf(f, "rebalanced %u times", g->n_rebalanced);
	if (g->held_ms)
		fprintf(f, ", stays put for %llu.%03llu s more",
			(unsigned long long)(g->held_ms / 1000),
			(unsigned long long)(g->held_ms % 1000));
	fputc('\n', f);
	if (g->tx_burst)
		fprintf(f, "tx.burst   %u bytes\n", g->tx_burst);
	fprintf(f, "rx.max     %s\n",
		g->rx_max ? rate(g->rx_max, b, sizeof(b)) : "none");
	counter_lines(f, &g->c);
}

void show_stats(FILE *f, const struct reply *r, bool json)
{
	static const char *const head[] = { "OBJECT",	  "NAME",
					    "TX.PACKETS", "TX.BYTES",
					    "RX.PACKETS", "RX.BYTES",
					    "DROPS" };
	struct table t = { .ncols = 7 };

	if (json) {
		json_list(f, r, true, true);
		return;
	}
	table_row(&t, head);
	for (size_t i = 0; i < r->n_uplinks + r->n_guests; i++) {
		bool up = i < r->n_uplinks;
		const struct ctl_counters *c =
			up ? &r->uplinks[i].c : &r->guests[i - r->n_uplinks].c;
		char v[4][32], dr[CELL_MAX] = "";
		size_t off = 0;

		for (unsigned int d = 0; d < CTL_DROP_SLOTS; d++)
			if (c->drops[d] && ctl_drop_name(d) && off < sizeof(dr))
				off += (size_t)snprintf(
					dr + off, sizeof(dr) - off, "%s%s=%llu",
					off ? "," : "", ctl_drop_name(d),
					(unsigned long long)c->drops[d]);
		const char *row[] = {
			up ? "uplink" : "guest",
			up ? r->uplinks[i].name
			   : r->guests[i - r->n_uplinks].name,
			u64s(c->tx_packets, v[0], 32),
			u64s(c->tx_bytes, v[1], 32),
			u64s(c->rx_packets, v[2], 32),
			u64s(c->rx_bytes, v[3], 32),
			off ? dr : "0",
		};
		table_row(&t, row);
	}
	table_print(f, &t);
}

/* The cell formats and the table above, for gonactl top (top.c), so its
 * tables read like the others. */
const char *show_rate(uint64_t bps, char *buf, size_t len)
{
	return rate(bps, buf, len);
}

const char *show_percent(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	return percent(part, whole, buf, len);
}

const char *show_uplink_state(const struct ctl_uplink *u)
{
	return uplink_state(u);
}

uint64_t show_drops_total(const struct ctl_counters *c)
{
	return drops_total(c);
}

void show_table(FILE *f, int ncols, size_t nrows, const char *const *cells)
{
	struct table t = { .ncols = ncols };

	if (ncols < 1 || ncols > COLS_MAX)
		return;
	for (size_t r = 0; r < nrows; r++)
		table_row(&t, cells + r * (size_t)ncols);
	table_print(f, &t);
}
