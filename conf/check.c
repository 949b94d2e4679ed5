/* SPDX-License-Identifier: MIT */
/* Checks of a whole configuration: every object valid, and names,
 * devices, MACs and addresses each belonging to one object only. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/internal.h"

/* Prefix a message with FILE:LINE (FILE: without a line) if from a file. */
static int locate(struct conf_err *err, const char *file, int line)
{
	char msg[CONF_ERR_MAX];

	if (!file)
		return -EINVAL;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (line > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %.400s", file,
			 line, msg);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: %.400s", file, msg);
	return -EINVAL;
}

/* Which uplink or guest already uses NAME or DEVICE, by index < LIMIT in
 * the order uplinks then guests; the described object if found. */
static const char *owner_of(const struct conf *c, size_t limit, bool device,
			    const char *what, char *buf, size_t len)
{
	for (size_t i = 0; i < limit && i < c->n_uplinks; i++) {
		const struct conf_uplink *u = &c->uplinks[i];

		if (!strcmp(device ? u->device : u->name, what)) {
			snprintf(buf, len, "uplink %s", u->name);
			return buf;
		}
	}
	for (size_t i = c->n_uplinks; i < limit; i++) {
		const struct conf_guest *g = &c->guests[i - c->n_uplinks];

		if (!strcmp(device ? g->device : g->name, what)) {
			snprintf(buf, len, "guest %s", g->name);
			return buf;
		}
	}
	return NULL;
}

/* The first address G and O share, written "ipv4 A" or "ipv6 A". */
static bool shared_addr(const struct conf_guest *g, const struct conf_guest *o,
			char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < g->n_ipv4; i++)
		for (size_t j = 0; j < o->n_ipv4; j++)
			if (g->ipv4[i].s_addr == o->ipv4[j].s_addr) {
				inet_ntop(AF_INET, &g->ipv4[i], a, sizeof(a));
				snprintf(buf, len, "ipv4 %s", a);
				return true;
			}
	for (size_t i = 0; i < g->n_ipv6; i++)
		for (size_t j = 0; j < o->n_ipv6; j++)
			if (IN6_ARE_ADDR_EQUAL(&g->ipv6[i], &o->ipv6[j])) {
				inet_ntop(AF_INET6, &g->ipv6[i], a, sizeof(a));
				snprintf(buf, len, "ipv6 %s", a);
				return true;
			}
	return false;
}

static int check_unique(const struct conf *c, const char *file,
			struct conf_err *err)
{
	size_t n = c->n_uplinks + c->n_guests;
	char other[CONF_NAME_MAX + 8], abuf[INET6_ADDRSTRLEN + 8], mbuf[24];

	for (size_t k = 0; k < n; k++) {
		bool up = k < c->n_uplinks;
		const char *kind = up ? "uplink" : "guest";
		const char *name = up ? c->uplinks[k].name
				      : c->guests[k - c->n_uplinks].name;
		const char *dev = up ? c->uplinks[k].device
				     : c->guests[k - c->n_uplinks].device;
		int line = up ? c->uplinks[k].line
			      : c->guests[k - c->n_uplinks].line;

		if (owner_of(c, k, false, name, other, sizeof(other))) {
			conf_errf(err, "%s %s: name already used by %s", kind,
				  name, other);
			return locate(err, file, line);
		}
		if (owner_of(c, k, true, dev, other, sizeof(other))) {
			conf_errf(err, "%s %s: device %s already used by %s",
				  kind, name, dev, other);
			return locate(err, file, line);
		}
	}
	for (size_t k = 0; k < c->n_guests; k++) {
		const struct conf_guest *g = &c->guests[k];

		for (size_t j = 0; j < k; j++) {
			const struct conf_guest *o = &c->guests[j];

			if (!memcmp(g->mac, o->mac, 6)) {
				conf_errf(err,
					  "guest %s: mac %s already used by "
					  "guest %s",
					  g->name,
					  conf_format_mac(g->mac, mbuf,
							  sizeof(mbuf)),
					  o->name);
				return locate(err, file, g->line);
			}
			if (shared_addr(g, o, abuf, sizeof(abuf))) {
				conf_errf(err,
					  "guest %s: %s already used by "
					  "guest %s",
					  g->name, abuf, o->name);
				return locate(err, file, g->line);
			}
		}
	}
	return 0;
}

int conf_check(const struct conf *c, const char *file, struct conf_err *err)
{
	if (!c->n_uplinks) {
		conf_errf(err, "at least one uplink is needed");
		return locate(err, file, 0);
	}
	if (c->n_uplinks > CONF_UPLINKS_MAX) {
		conf_errf(err, "%zu uplinks, at most %d", c->n_uplinks,
			  CONF_UPLINKS_MAX);
		return locate(err, file, c->uplinks[CONF_UPLINKS_MAX].line);
	}
	if (c->n_guests > CONF_GUESTS_MAX) {
		conf_errf(err, "%zu guests, at most %d", c->n_guests,
			  CONF_GUESTS_MAX);
		return locate(err, file, c->guests[CONF_GUESTS_MAX].line);
	}
	for (size_t i = 0; i < c->n_uplinks; i++)
		if (conf_uplink_check(&c->uplinks[i], err))
			return locate(err, file, c->uplinks[i].line);
	for (size_t i = 0; i < c->n_guests; i++)
		if (conf_guest_check(&c->guests[i], err))
			return locate(err, file, c->guests[i].line);
	return check_unique(c, file, err);
}
