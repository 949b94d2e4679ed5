/* SPDX-License-Identifier: MIT */
/* What gonad tells Prometheus (daemon.metrics): every metric family in
 * the text exposition format, from the state and the data path counters
 * as they are at the scrape. metrics_http.c serves it. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon/control.h"
#include "daemon/gonad.h"
#include "policy/lacp.h"

/* A label value as the format wants it: \, " and newline escaped. */
static void label(FILE *f, const char *name, const char *v)
{
	fprintf(f, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{uplink="..."} or NAME{guest="..."}, without the value. A slot
 * of an uplink removed live has no name: it is left out of every family. */
static void series(FILE *f, const char *name, const char *key, const char *obj)
{
	fprintf(f, "%s{", name);
	label(f, key, obj);
	fputc('}', f);
}

static void u64_line(FILE *f, const char *name, const char *key,
		     const char *obj, uint64_t v)
{
	if (!obj[0])
		return;
	series(f, name, key, obj);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

static void sec_line(FILE *f, const char *name, const char *key,
		     const char *obj, uint64_t us)
{
	if (!obj[0])
		return;
	series(f, name, key, obj);
	fprintf(f, " %llu.%06llu\n", (unsigned long long)(us / 1000000),
		(unsigned long long)(us % 1000000));
}

/* The wall clock time of a now_ms() reading, in seconds. */
static double wall_of(uint64_t mono_ms)
{
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return now - (double)(now_ms() - mono_ms) / 1000.0;
}

/* The counters of the objects of a kind, read once per scrape. */
struct counted {
	const char *key; /* "guest" or "uplink" */
	size_t n;
	const char *const *names;
	const struct gona_counters *c;
	const struct rates *const *rt;
};

static void counters(FILE *f, const struct counted *k)
{
	static const struct {
		const char *suffix, *help;
		size_t off;
	} fields[] = {
		{ "tx_bytes_total", "Bytes sent to the fabric, on the wire.",
		  offsetof(struct gona_counters, tx_bytes) },
		{ "tx_packets_total", "Frames sent to the fabric.",
		  offsetof(struct gona_counters, tx_packets) },
		{ "rx_bytes_total",
		  "Bytes received from the fabric, on the wire.",
		  offsetof(struct gona_counters, rx_bytes) },
		{ "rx_packets_total", "Frames received from the fabric.",
		  offsetof(struct gona_counters, rx_packets) },
	};
	char name[96];

	for (size_t fi = 0; fi < sizeof(fields) / sizeof(fields[0]); fi++) {
		snprintf(name, sizeof(name), "gona_%s_%s", k->key,
			 fields[fi].suffix);
		family(f, name, "counter", fields[fi].help);
		for (size_t i = 0; i < k->n; i++)
			u64_line(f, name, k->key, k->names[i],
				 *(const uint64_t *)((const char *)&k->c[i] +
						     fields[fi].off));
	}
	snprintf(name, sizeof(name), "gona_%s_drops_total", k->key);
	family(f, name, "counter",
	       "Frames the data path dropped, by reason (gonactl stats).");
	for (size_t i = 0; i < k->n; i++)
		for (unsigned int d = 1; d < GONA_DROP_MAX && k->names[i][0];
		     d++) {
			fprintf(f, "%s{", name);
			label(f, k->key, k->names[i]);
			fputc(',', f);
			label(f, "reason", ctl_drop_name(d));
			fprintf(f, "} %llu\n",
				(unsigned long long)k->c[i].drops[d]);
		}
	snprintf(name, sizeof(name), "gona_%s_tx_rate_bytes_per_second",
		 k->key);
	family(f, name, "gauge", "Send rate over the last sampling interval.");
	for (size_t i = 0; i < k->n; i++)
		u64_line(f, name, k->key, k->names[i], k->rt[i]->tx_bps / 8);
	snprintf(name, sizeof(name), "gona_%s_rx_rate_bytes_per_second",
		 k->key);
	family(f, name, "gauge",
	       "Receive rate over the last sampling interval.");
	for (size_t i = 0; i < k->n; i++)
		u64_line(f, name, k->key, k->names[i], k->rt[i]->rx_bps / 8);
}

static void daemon_families(FILE *f, const struct gonad *g)
{
	family(f, "gona_build_info", "gauge",
	       "gonad's version and the QoS backend it uses.");
	fprintf(f, "gona_build_info{");
	label(f, "version", PACKAGE_VERSION);
	fputc(',', f);
	label(f, "backend", g->qos->name);
	fprintf(f, "} 1\n");
	family(f, "gona_start_time_seconds", "gauge",
	       "When gonad started, in seconds since the epoch.");
	fprintf(f, "gona_start_time_seconds %.3f\n", wall_of(g->started_ms));
	family(f, "gona_degraded", "gauge",
	       "1 while the uplinks up cannot carry every guarantee.");
	fprintf(f, "gona_degraded %d\n", g->degraded);
	family(f, "gona_guarantees_promised_bytes_per_second", "gauge",
	       "The guests' guarantees (tx.min) added up.");
	fprintf(f, "gona_guarantees_promised_bytes_per_second %llu\n",
		(unsigned long long)g->promised / 8);
	family(f, "gona_guarantees_kept_bytes_per_second", "gauge",
	       "What of the guarantees the uplinks up carry.");
	fprintf(f, "gona_guarantees_kept_bytes_per_second %llu\n",
		(unsigned long long)g->kept / 8);
	family(f, "gona_reloads_total", "counter",
	       "Configuration reloads (SIGHUP, gonactl reload), by result.");
	fprintf(f, "gona_reloads_total{result=\"applied\"} %u\n",
		g->reloads_ok);
	fprintf(f, "gona_reloads_total{result=\"refused\"} %u\n",
		g->reloads_failed);
	family(f, "gona_reload_refused", "gauge",
	       "1 if the last reload was refused (the running "
	       "configuration is the one before it).");
	fprintf(f, "gona_reload_refused %d\n", g->reload_error[0] != '\0');
	family(f, "gona_rebalance_moves_total", "counter",
	       "Guests moved by rebalancing.");
	fprintf(f, "gona_rebalance_moves_total %u\n", g->rebalance_moves);
}

/* LACP members only (an uplink of its own has no such series). */
static void lacp_families(FILE *f, const struct gonad *g,
			  const char *const *names)
{
	static const char *const help[] = {
		"1 while the switch aggregates the LACP member (collecting "
		"and distributing): only then does it carry guests.",
		"LACPDUs received on the member.",
		"LACPDUs sent on the member.",
		"Times the member's partner went silent for its timeout "
		"(3 s fast, 90 s slow).",
		"Times the member heard no partner at all and took the "
		"defaults.",
	};
	static const char *const name[] = {
		"gona_uplink_lacp_aggregated",
		"gona_uplink_lacp_pdus_received_total",
		"gona_uplink_lacp_pdus_sent_total",
		"gona_uplink_lacp_partner_timeouts_total",
		"gona_uplink_lacp_defaulted_total",
	};

	for (size_t k = 0; k < sizeof(name) / sizeof(name[0]); k++) {
		family(f, name[k], k ? "counter" : "gauge", help[k]);
		for (size_t i = 0; i < g->n_uplinks; i++) {
			const struct uplink *u = &g->uplinks[i];
			const struct lacp_port *p = lacp_port_of(u, NULL);
			uint64_t v[] = {
				u->lacp_ok,	      p ? p->rx_pdus : 0,
				p ? p->tx_pdus : 0,   p ? p->expired : 0,
				p ? p->defaulted : 0,
			};

			if (u->conf.lacp.group[0])
				u64_line(f, name[k], "uplink", names[i], v[k]);
		}
	}
}

static void uplink_families(FILE *f, const struct gonad *g,
			    const char *const *names)
{
	uint32_t n;

	family(f, "gona_uplink_info", "gauge",
	       "An uplink: its device, its group (what it hangs off) and "
	       "its LACP group, if any.");
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];

		if (!names[i][0])
			continue;
		fprintf(f, "gona_uplink_info{");
		label(f, "uplink", names[i]);
		fputc(',', f);
		label(f, "device", u->conf.device);
		fputc(',', f);
		label(f, "group", u->conf.group);
		fputc(',', f);
		label(f, "lacp_group", u->conf.lacp.group);
		fprintf(f, "} 1\n");
	}
	lacp_families(f, g, names);
#define UPLINK_GAUGE(metric, help, expr)                                 \
	do {                                                             \
		family(f, metric, "gauge", help);                        \
		for (size_t i = 0; i < g->n_uplinks; i++) {              \
			const struct uplink *u = &g->uplinks[i];         \
			u64_line(f, metric, "uplink", names[i], (expr)); \
		}                                                        \
	} while (0)
	UPLINK_GAUGE("gona_uplink_up", "1 while the uplink carries guests.",
		     u->up);
	UPLINK_GAUGE("gona_uplink_present",
		     "1 while its device exists and gona's filter is on it.",
		     u->attached);
	UPLINK_GAUGE("gona_uplink_carrier", "1 while it has carrier.",
		     u->carrier);
	UPLINK_GAUGE("gona_uplink_admin_up",
		     "0 while drained (gonactl uplink set NAME admin down).",
		     u->admin_up);
	UPLINK_GAUGE("gona_uplink_probes_answered",
		     "1 while its monitor's probes are answered (or it has "
		     "none).",
		     u->probe_ok);
	UPLINK_GAUGE("gona_uplink_designated",
		     "1 for the uplink that takes broadcast and multicast.",
		     g->bcast_slot == u->slot);
	UPLINK_GAUGE("gona_uplink_capacity_bytes_per_second",
		     "Its capacity as configured.", u->conf.capacity / 8);
	UPLINK_GAUGE("gona_uplink_guaranteed_bytes_per_second",
		     "The guarantees of the guests placed on it.",
		     state_uplink_guaranteed(g, u, &n) / 8);
	UPLINK_GAUGE("gona_uplink_guests", "Guests placed on it.",
		     (state_uplink_guaranteed(g, u, &n), n));
	UPLINK_GAUGE("gona_uplink_vf_filters",
		     "Guests' MACs in the filter of the VF it is (0 if not "
		     "a VF).",
		     u->vf_filters);
	UPLINK_GAUGE("gona_uplink_vf_refused",
		     "1 if its VF refused a guest's MAC (uplink show says "
		     "which).",
		     u->vf_error[0] != '\0');
#undef UPLINK_GAUGE
	family(f, "gona_uplink_down_total", "counter",
	       "Times it stopped carrying guests (failovers away from it).");
	for (size_t i = 0; i < g->n_uplinks; i++)
		u64_line(f, "gona_uplink_down_total", "uplink", names[i],
			 g->uplinks[i].n_down);
	family(f, "gona_uplink_last_outage_seconds", "gauge",
	       "How long it was out of service the last time, from going "
	       "down to coming back (0: never down).");
	for (size_t i = 0; i < g->n_uplinks; i++)
		sec_line(f, "gona_uplink_last_outage_seconds", "uplink",
			 names[i], g->uplinks[i].last_out_ms * 1000);
	family(f, "gona_uplink_last_switch_seconds", "gauge",
	       "At its last change, from gonad handling the news to the "
	       "data path using it or not.");
	for (size_t i = 0; i < g->n_uplinks; i++)
		sec_line(f, "gona_uplink_last_switch_seconds", "uplink",
			 names[i], g->uplinks[i].switch_us);
	family(f, "gona_uplink_last_placement_seconds", "gauge",
	       "At its last change, until every guest was placed again.");
	for (size_t i = 0; i < g->n_uplinks; i++)
		sec_line(f, "gona_uplink_last_placement_seconds", "uplink",
			 names[i], g->uplinks[i].place_us);
	family(f, "gona_uplink_state_change_timestamp_seconds", "gauge",
	       "When it last went up or down, in seconds since the epoch "
	       "(0: not since gonad started).");
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];

		if (!names[i][0])
			continue;
		series(f, "gona_uplink_state_change_timestamp_seconds",
		       "uplink", names[i]);
		fprintf(f, " %.3f\n",
			u->changed_ms ? wall_of(u->changed_ms) : 0.0);
	}
}

static void guest_families(FILE *f, const struct gonad *g,
			   const char *const *names, const char *const *unames)
{
	char mac[18];

	family(f, "gona_guest_info", "gauge",
	       "A guest: its interface, MAC and VLAN (0: untagged).");
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];
		char vlan[8];

		snprintf(vlan, sizeof(vlan), "%u", gu->conf.vlan);
		fprintf(f, "gona_guest_info{");
		label(f, "guest", names[i]);
		fputc(',', f);
		label(f, "device", gu->conf.device);
		fputc(',', f);
		label(f, "mac",
		      conf_format_mac(gu->conf.mac, mac, sizeof(mac)));
		fputc(',', f);
		label(f, "vlan", vlan);
		fprintf(f, "} 1\n");
	}
#define GUEST_GAUGE(metric, help, expr)                                 \
	do {                                                            \
		family(f, metric, "gauge", help);                       \
		for (size_t i = 0; i < g->n_guests; i++) {              \
			const struct guest *gu = g->guests[i];          \
			u64_line(f, metric, "guest", names[i], (expr)); \
		}                                                       \
	} while (0)
	GUEST_GAUGE("gona_guest_attached",
		    "1 while its interface exists and is served.",
		    gu->attached);
	GUEST_GAUGE("gona_guest_tx_min_bytes_per_second",
		    "Its guarantee (tx.min; 0: best effort).",
		    gu->conf.slice.tx_min / 8);
	GUEST_GAUGE("gona_guest_tx_min_kept_bytes_per_second",
		    "Its guarantee in force (less than tx.min while "
		    "degraded).",
		    gu->tx_min_kept / 8);
	GUEST_GAUGE("gona_guest_tx_max_bytes_per_second",
		    "Its ceiling (tx.max; 0: none).",
		    gu->conf.slice.tx_max / 8);
	GUEST_GAUGE("gona_guest_tx_weight",
		    "Its share of spare capacity (tx.weight).",
		    gu->conf.slice.tx_weight);
	GUEST_GAUGE("gona_guest_rx_max_bytes_per_second",
		    "Its receive ceiling (rx.max; 0: none).",
		    gu->conf.slice.rx_max / 8);
	GUEST_GAUGE("gona_guest_spread",
		    "Uplinks its flows may be hashed over.", gu->conf.spread);
	GUEST_GAUGE("gona_guest_homes", "Uplinks it is placed on now.",
		    (uint64_t)__builtin_popcount(gu->homes));
#undef GUEST_GAUGE
	family(f, "gona_guest_placed", "gauge",
	       "1 for each uplink the guest is placed on.");
	for (size_t i = 0; i < g->n_guests; i++)
		for (size_t s = 0; s < g->n_uplinks; s++) {
			if (!(g->guests[i]->homes & (1u << s)))
				continue;
			fprintf(f, "gona_guest_placed{");
			label(f, "guest", names[i]);
			fputc(',', f);
			label(f, "uplink", unames[s]);
			fprintf(f, "} 1\n");
		}
	family(f, "gona_guest_rebalanced_total", "counter",
	       "Times rebalancing moved it.");
	for (size_t i = 0; i < g->n_guests; i++)
		u64_line(f, "gona_guest_rebalanced_total", "guest", names[i],
			 g->guests[i]->n_rebalanced);
}

int metrics_write(FILE *f, struct gonad *g)
{
	size_t nu = g->n_uplinks, ng = g->n_guests;
	const char **unames = calloc(nu + 1, sizeof(*unames));
	const char **gnames = calloc(ng + 1, sizeof(*gnames));
	struct gona_counters *uc = calloc(nu + 1, sizeof(*uc));
	struct gona_counters *gc = calloc(ng + 1, sizeof(*gc));
	const struct rates **urt = calloc(nu + 1, sizeof(*urt));
	const struct rates **grt = calloc(ng + 1, sizeof(*grt));
	int r = -ENOMEM;

	if (!unames || !gnames || !uc || !gc || !urt || !grt)
		goto out;
	for (size_t i = 0; i < nu; i++) {
		unames[i] = g->uplinks[i].conf.name;
		urt[i] = &g->uplinks[i].rates;
		dp_read_uplink_stats(g->dp, g->uplinks[i].slot, &uc[i]);
	}
	for (size_t i = 0; i < ng; i++) {
		gnames[i] = g->guests[i]->conf.name;
		grt[i] = &g->guests[i]->rates;
		dp_read_guest_stats(g->dp, g->guests[i]->id, &gc[i]);
	}
	daemon_families(f, g);
	uplink_families(f, g, unames);
	counters(f, &(struct counted){ "uplink", nu, unames, uc, urt });
	guest_families(f, g, gnames, unames);
	counters(f, &(struct counted){ "guest", ng, gnames, gc, grt });
	r = ferror(f) ? -EIO : 0;
out:
	free(unames);
	free(gnames);
	free(uc);
	free(gc);
	free(urt);
	free(grt);
	return r;
}
