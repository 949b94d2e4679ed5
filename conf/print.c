/* SPDX-License-Identifier: MIT */
/* Printing a configuration in normalised libconfig syntax: every value in
 * its shortest exact form, defaults written out, the same order always. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"

/* KEY = "VALUE"; with libconfig's escapes, at DEPTH tabs. */
static void print_str(FILE *f, int depth, const char *key, const char *v)
{
	fprintf(f, "%.*s%s = \"", depth, "\t\t\t\t", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputs("\";\n", f);
}

static void print_addrs(FILE *f, const char *key, int af, const void *addrs,
			size_t n, size_t size)
{
	char buf[INET6_ADDRSTRLEN];

	if (!n)
		return;
	fprintf(f, "\t\t%s = [ ", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "",
			inet_ntop(af, (const char *)addrs + i * size, buf,
				  sizeof(buf)));
	fprintf(f, " ];\n");
}

static void print_uplink(FILE *f, const struct conf_uplink *u, bool last)
{
	const struct conf_monitor *m = &u->monitor;
	const struct conf_lacp *l = &u->lacp;
	char buf[INET6_ADDRSTRLEN];

	fprintf(f, "\t{\n");
	print_str(f, 2, "name", u->name);
	print_str(f, 2, "device", u->device);
	fprintf(f, "\t\tcapacity = \"%s\";\n",
		conf_format_rate(u->capacity, buf, sizeof(buf)));
	if (u->group[0])
		print_str(f, 2, "group", u->group);
	if (m->type != CONF_MON_NONE) {
		fprintf(f, "\t\tmonitor = {\n\t\t\ttype = \"%s\";\n",
			m->type == CONF_MON_ARP ? "arp" : "ns");
		fprintf(f, "\t\t\ttarget = \"%s\";\n",
			m->target_af == AF_INET
				? inet_ntop(AF_INET, &m->target4, buf,
					    sizeof(buf))
				: inet_ntop(AF_INET6, &m->target6, buf,
					    sizeof(buf)));
		fprintf(f, "\t\t\tinterval_ms = %u;\n\t\t\tmissed = %u;\n",
			m->interval_ms, m->missed);
		if (m->vlan)
			fprintf(f, "\t\t\tvlan = %u;\n", m->vlan);
		fprintf(f, "\t\t};\n");
	}
	/* Whole, defaults included, so that a group reads as it runs. */
	if (l->group[0]) {
		fprintf(f, "\t\tlacp = {\n");
		print_str(f, 3, "group", l->group);
		fprintf(f, "\t\t\trate = \"%s\";\n",
			l->rate == CONF_LACP_SLOW ? "slow" : "fast");
		fprintf(f, "\t\t\tactive = %s;\n",
			l->active ? "true" : "false");
		fprintf(f, "\t\t\tsystem_priority = %u;\n", l->system_priority);
		fprintf(f, "\t\t\tport_priority = %u;\n", l->port_priority);
		fprintf(f, "\t\t\tkey = %u;\n", l->key);
		fprintf(f, "\t\t};\n");
	}
	fprintf(f, "\t}%s\n", last ? "" : ",");
}

static void print_guest(FILE *f, const struct conf_guest *g, bool last)
{
	const struct conf_slice *s = &g->slice;
	char buf[32];

	fprintf(f, "\t{\n");
	print_str(f, 2, "name", g->name);
	print_str(f, 2, "device", g->device);
	fprintf(f, "\t\tmac = \"%s\";\n",
		conf_format_mac(g->mac, buf, sizeof(buf)));
	print_addrs(f, "ipv4", AF_INET, g->ipv4, g->n_ipv4, sizeof(g->ipv4[0]));
	print_addrs(f, "ipv6", AF_INET6, g->ipv6, g->n_ipv6,
		    sizeof(g->ipv6[0]));
	fprintf(f, "\t\ttx = {\n");
	if (s->tx_min)
		fprintf(f, "\t\t\tmin = \"%s\";\n",
			conf_format_rate(s->tx_min, buf, sizeof(buf)));
	if (s->tx_max)
		fprintf(f, "\t\t\tmax = \"%s\";\n",
			conf_format_rate(s->tx_max, buf, sizeof(buf)));
	fprintf(f, "\t\t\tweight = %u;\n", s->tx_weight);
	if (s->tx_burst)
		fprintf(f, "\t\t\tburst = \"%s\";\n",
			conf_format_size(s->tx_burst, buf, sizeof(buf)));
	fprintf(f, "\t\t};\n");
	if (s->rx_max)
		fprintf(f, "\t\trx = {\n\t\t\tmax = \"%s\";\n\t\t};\n",
			conf_format_rate(s->rx_max, buf, sizeof(buf)));
	fprintf(f, "\t\tspread = %u;\n", g->spread);
	if (g->priority)
		fprintf(f, "\t\tpriority = %u;\n", g->priority);
	if (g->primary[0])
		print_str(f, 2, "primary", g->primary);
	if (g->vlan)
		fprintf(f, "\t\tvlan = %u;\n", g->vlan);
	if (conf_guest_is_trunk(g)) {
		const char *sep = "";

		fprintf(f, "\t\tvlans = [ ");
		for (uint32_t v = 1; v <= CONF_VLAN_MAX; v++)
			if (conf_vlan_has(g->vlans, v)) {
				fprintf(f, "%s%u", sep, v);
				sep = ", ";
			}
		fprintf(f, " ];\n");
	}
	fprintf(f, "\t}%s\n", last ? "" : ",");
}

/* daemon.test, if anything of it is set. */
static void print_test(FILE *f, const struct conf_guest *t)
{
	static const uint8_t zero[6];
	char buf[32];

	if (!memcmp(t->mac, zero, 6) && !t->n_ipv4 && !t->n_ipv6 && !t->vlan)
		return;
	fprintf(f, "\ttest = {\n");
	if (memcmp(t->mac, zero, 6))
		fprintf(f, "\t\tmac = \"%s\";\n",
			conf_format_mac(t->mac, buf, sizeof(buf)));
	print_addrs(f, "ipv4", AF_INET, t->ipv4, t->n_ipv4, sizeof(t->ipv4[0]));
	print_addrs(f, "ipv6", AF_INET6, t->ipv6, t->n_ipv6,
		    sizeof(t->ipv6[0]));
	if (t->vlan)
		fprintf(f, "\t\tvlan = %u;\n", t->vlan);
	fprintf(f, "\t};\n");
}

void conf_print(FILE *f, const struct conf *c)
{
	size_t last = 0;

	fprintf(f, "# gona configuration, normalised by gonad -n\n");
	fprintf(f, "uplinks = (\n");
	for (size_t i = 0; i < c->n_uplinks; i++)
		print_uplink(f, &c->uplinks[i], i + 1 == c->n_uplinks);
	fprintf(f, ");\n\nguests = (\n");
	/* The self-test's guest is gonad's while the test runs: left out. */
	for (size_t i = 0; i < c->n_guests; i++)
		if (!c->guests[i].transient)
			last = i;
	for (size_t i = 0; i < c->n_guests; i++)
		if (!c->guests[i].transient)
			print_guest(f, &c->guests[i], i == last);
	fprintf(f, ");\n\npolicy = {\n");
	fprintf(f, "\trebalance_interval_ms = %u;\n",
		c->policy.rebalance_interval_ms);
	fprintf(f, "\trebalance_threshold = %u;\n",
		c->policy.rebalance_threshold);
	fprintf(f, "\trebalance_holddown_ms = %u;\n",
		c->policy.rebalance_holddown_ms);
	fprintf(f, "\tflow_table = %s;\n",
		c->policy.flow_table ? "true" : "false");
	fprintf(f, "\tfailback = %s;\n", c->policy.failback ? "true" : "false");
	fprintf(f, "\tupdelay_ms = %u;\n", c->policy.updelay_ms);
	fprintf(f, "\tdowndelay_ms = %u;\n", c->policy.downdelay_ms);
	fprintf(f, "\tnotify_count = %u;\n", c->policy.notify_count);
	fprintf(f, "\tnotify_interval_ms = %u;\n",
		c->policy.notify_interval_ms);
	fprintf(f, "\tbroadcast_pps = %u;\n", c->policy.broadcast_pps);
	fprintf(f, "\tadmission = \"%s\";\n",
		conf_admission_name(c->policy.admission));
	fprintf(f, "\tdegrade = \"%s\";\n",
		conf_degrade_name(c->policy.degrade));
	fprintf(f, "\tqos_backend = \"%s\";\n",
		conf_qos_backend_name(c->policy.qos_backend));
	fprintf(f, "};\n\ndaemon = {\n");
	print_str(f, 1, "socket", c->daemon.socket);
	print_str(f, 1, "pin_dir", c->daemon.pin_dir);
	fprintf(f, "\tkeep_datapath_on_stop = %s;\n",
		c->daemon.keep_datapath_on_stop ? "true" : "false");
	fprintf(f, "\tmax_guests = %u;\n", c->daemon.max_guests);
	if (c->daemon.metrics[0])
		print_str(f, 1, "metrics", c->daemon.metrics);
	print_test(f, &c->daemon.test);
	fprintf(f, "};\n");
}
