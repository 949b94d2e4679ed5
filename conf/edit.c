/* SPDX-License-Identifier: MIT */
/* Setting configuration keys from text, one key at a time: the single path
 * every value takes, from the file and from gonactl alike. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conf/internal.h"

int conf_unknown(struct conf_err *err, const char *obj, const char *key)
{
	conf_errf(err, "%s: unknown key \"%s\"", obj, key);
	return -ENOENT;
}

int conf_errf(struct conf_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool conf_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CONF_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

bool conf_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return true;
}

/* Whatever a shaper's bucket may hold; more is a typo. */
#define MAX_BURST (64u << 20)

/* What a rate is to its key: 0 means "none" for a guarantee and for a
 * ceiling (written "none", since a ceiling of 0 would stop everything),
 * and is refused for a capacity. */
enum rate_kind { RATE_GUARANTEE, RATE_CEILING, RATE_CAPACITY };

static int set_rate(uint64_t *out, const char *obj, const char *key,
		    const char *value, enum rate_kind kind,
		    struct conf_err *err)
{
	uint64_t v;
	int r;

	if (kind != RATE_CAPACITY && !strcmp(value, "none")) {
		*out = 0;
		return 0;
	}
	r = conf_parse_rate(value, &v);
	if (r == -EDOM)
		return conf_errf(err, "%s: %s \"%s\" is negative", obj, key,
				 value);
	if (r == -ERANGE)
		return conf_errf(err,
				 "%s: %s \"%s\" is out of range (whole bit/s, "
				 "at most 10T)",
				 obj, key, value);
	if (r)
		return conf_errf(err, "%s: %s: cannot parse rate \"%s\"", obj,
				 key, value);
	if (!v && kind == RATE_CEILING)
		return conf_errf(err,
				 "%s: %s 0 would stop all traffic (\"none\" "
				 "removes the ceiling)",
				 obj, key);
	if (!v && kind == RATE_CAPACITY)
		return conf_errf(err, "%s: %s 0 would stop all traffic", obj,
				 key);
	*out = v;
	return 0;
}

static int set_uint(uint32_t *out, const char *obj, const char *key,
		    const char *value, uint32_t min, uint32_t max,
		    struct conf_err *err)
{
	const char *digits = value[0] == '-' ? value + 1 : value;
	long long v;
	char *end;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (!isdigit((unsigned char)digits[0]) || *end)
		return conf_errf(err, "%s: %s \"%s\" is not a whole number",
				 obj, key, value);
	if (errno || v < min || v > max)
		return conf_errf(err, "%s: %s %s out of range %u..%u", obj, key,
				 value, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int set_bool(bool *out, const char *obj, const char *key,
		    const char *value, struct conf_err *err)
{
	if (!strcmp(value, "true") || !strcmp(value, "yes") ||
	    !strcmp(value, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(value, "false") || !strcmp(value, "no") ||
	    !strcmp(value, "off")) {
		*out = false;
		return 0;
	}
	return conf_errf(err, "%s: %s \"%s\" is not true or false", obj, key,
			 value);
}

static int bad_ifname(const char *obj, const char *value, struct conf_err *err)
{
	return conf_errf(err,
			 "%s: device \"%s\" is not a valid interface name "
			 "(1 to 15 characters, no '/', ':' or space)",
			 obj, value);
}

static int set_ifname(char out[IFNAMSIZ], const char *obj, const char *value,
		      struct conf_err *err)
{
	if (!conf_ifname_ok(value))
		return bad_ifname(obj, value, err);
	snprintf(out, IFNAMSIZ, "%s", value);
	return 0;
}

static int set_path(char *out, size_t size, const char *obj, const char *key,
		    const char *value, struct conf_err *err)
{
	if (value[0] != '/')
		return conf_errf(err, "%s: %s \"%s\" is not an absolute path",
				 obj, key, value);
	if (strlen(value) >= size)
		return conf_errf(err, "%s: %s is longer than %zu characters",
				 obj, key, size - 1);
	snprintf(out, size, "%s", value);
	return 0;
}

/* Addresses a host can own: not unspecified, multicast or broadcast. */
static bool ipv4_unicast(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return h != 0 && h != 0xffffffff && (h >> 28) != 0xe;
}

static bool ipv6_unicast(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
}

/*
 * The init functions cannot fail, and a name cut to fit would be a valid
 * name that nobody gave: so a name too long keeps its start and ends in
 * "…", which the checks refuse and the message shows for what it is.
 */
static void set_name(char out[CONF_NAME_MAX], const char *name)
{
	static const char more[] = "\u2026";

	if (strlen(name) < CONF_NAME_MAX) {
		snprintf(out, CONF_NAME_MAX, "%s", name);
		return;
	}
	memcpy(out, name, CONF_NAME_MAX - sizeof(more));
	memcpy(out + CONF_NAME_MAX - sizeof(more), more, sizeof(more));
}

void conf_guest_init(struct conf_guest *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	set_name(g->name, name);
	g->slice.tx_weight = 1;
	g->spread = 1;
}

static int add_ipv4(struct conf_guest *g, const char *obj, const char *value,
		    struct conf_err *err)
{
	struct in_addr a;

	if (inet_pton(AF_INET, value, &a) != 1)
		return conf_errf(err, "%s: ipv4 \"%s\" is not an IPv4 address",
				 obj, value);
	if (!ipv4_unicast(a))
		return conf_errf(err,
				 "%s: ipv4 %s is not a unicast host address",
				 obj, value);
	for (size_t i = 0; i < g->n_ipv4; i++)
		if (g->ipv4[i].s_addr == a.s_addr)
			return conf_errf(err, "%s: ipv4 %s listed twice", obj,
					 value);
	if (g->n_ipv4 == CONF_ADDRS_MAX)
		return conf_errf(err, "%s: more than %d ipv4 addresses", obj,
				 CONF_ADDRS_MAX);
	g->ipv4[g->n_ipv4++] = a;
	return 0;
}

static int add_ipv6(struct conf_guest *g, const char *obj, const char *value,
		    struct conf_err *err)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, value, &a) != 1)
		return conf_errf(err, "%s: ipv6 \"%s\" is not an IPv6 address",
				 obj, value);
	if (!ipv6_unicast(&a))
		return conf_errf(err,
				 "%s: ipv6 %s is not a unicast host address",
				 obj, value);
	for (size_t i = 0; i < g->n_ipv6; i++)
		if (IN6_ARE_ADDR_EQUAL(&g->ipv6[i], &a))
			return conf_errf(err, "%s: ipv6 %s listed twice", obj,
					 value);
	if (g->n_ipv6 == CONF_ADDRS_MAX)
		return conf_errf(err, "%s: more than %d ipv6 addresses", obj,
				 CONF_ADDRS_MAX);
	g->ipv6[g->n_ipv6++] = a;
	return 0;
}

static int set_mac(uint8_t out[6], const char *obj, const char *value,
		   struct conf_err *err)
{
	static const uint8_t zero[6];
	uint8_t m[6];

	if (conf_parse_mac(value, m))
		return conf_errf(err, "%s: mac \"%s\" is not a MAC address",
				 obj, value);
	if (m[0] & 1)
		return conf_errf(err, "%s: mac %s is a multicast address", obj,
				 value);
	if (!memcmp(m, zero, 6))
		return conf_errf(err, "%s: mac %s is all zeros", obj, value);
	memcpy(out, m, 6);
	return 0;
}

/* A VID: 1..4094, or with NONE_OK "none" for 0. */
static int parse_vid(uint32_t *out, const char *obj, const char *key,
		     const char *value, bool none_ok, struct conf_err *err)
{
	if (none_ok && !strcmp(value, "none")) {
		*out = 0;
		return 0;
	}
	return set_uint(out, obj, key, value, 1, CONF_VLAN_MAX, err);
}

/* One item of a trunk list, "VID" or "FIRST-LAST" (ITEM, N bytes), into
 * SET, where none of them may be yet. */
static int add_vids(uint64_t *set, const char *obj, const char *item, size_t n,
		    struct conf_err *err)
{
	char first[16], last[16];
	const char *dash = memchr(item, '-', n);
	size_t n1 = dash ? (size_t)(dash - item) : n;
	size_t n2 = dash ? n - n1 - 1 : n;
	uint32_t lo, hi;
	int r;

	if (n1 >= sizeof(first) || n2 >= sizeof(last))
		return conf_errf(err, "%s: vlans \"%.*s\" is not a VLAN", obj,
				 (int)(n > 40 ? 40 : n), item);
	memcpy(first, item, n1);
	first[n1] = '\0';
	memcpy(last, dash ? dash + 1 : item, n2);
	last[n2] = '\0';
	r = parse_vid(&lo, obj, "vlans", first, false, err);
	if (!r)
		r = parse_vid(&hi, obj, "vlans", last, false, err);
	if (r)
		return r;
	if (hi < lo)
		return conf_errf(err, "%s: vlans range %u-%u runs backwards",
				 obj, lo, hi);
	for (uint32_t v = lo; v <= hi; v++) {
		if (conf_vlan_has(set, v))
			return conf_errf(err, "%s: vlans lists %u twice", obj,
					 v);
		set[v / 64] |= 1ull << (v % 64);
	}
	return 0;
}

/* "10,20,30-39" or "none": the trunk list, replaced whole. */
static int set_vlans(struct conf_guest *g, const char *obj, const char *value,
		     struct conf_err *err)
{
	uint64_t set[64] = { 0 };
	const char *p = value;
	size_t n;
	int r;

	if (strcmp(value, "none")) {
		for (;;) {
			n = strcspn(p, ",");
			r = add_vids(set, obj, p, n, err);
			if (r)
				return r;
			if (!p[n])
				break;
			p += n + 1;
		}
	}
	memcpy(g->vlans, set, sizeof(set));
	return 0;
}

int conf_guest_set(struct conf_guest *g, const char *key, const char *value,
		   struct conf_err *err)
{
	struct conf_slice *s = &g->slice;
	char obj[CONF_NAME_MAX + 8];
	uint32_t burst;
	int r;

	snprintf(obj, sizeof(obj), "guest %s", g->name);
	if (!strcmp(key, "device"))
		return set_ifname(g->device, obj, value, err);
	if (!strcmp(key, "mac"))
		return set_mac(g->mac, obj, value, err);
	if (!strcmp(key, "ipv4"))
		return add_ipv4(g, obj, value, err);
	if (!strcmp(key, "ipv6"))
		return add_ipv6(g, obj, value, err);
	if (!strcmp(key, "tx.min"))
		return set_rate(&s->tx_min, obj, key, value, RATE_GUARANTEE,
				err);
	if (!strcmp(key, "tx.max"))
		return set_rate(&s->tx_max, obj, key, value, RATE_CEILING, err);
	if (!strcmp(key, "rx.max"))
		return set_rate(&s->rx_max, obj, key, value, RATE_CEILING, err);
	if (!strcmp(key, "tx.weight"))
		return set_uint(&s->tx_weight, obj, key, value, 1, 1000, err);
	if (!strcmp(key, "spread"))
		return set_uint(&g->spread, obj, key, value, 1,
				CONF_UPLINKS_MAX, err);
	if (!strcmp(key, "priority"))
		return set_uint(&g->priority, obj, key, value, 0, 1000, err);
	if (!strcmp(key, "vlan"))
		return parse_vid(&g->vlan, obj, key, value, true, err);
	if (!strcmp(key, "vlans"))
		return set_vlans(g, obj, value, err);
	if (!strcmp(key, "primary")) {
		if (!strcmp(value, "none")) {
			g->primary[0] = '\0';
			return 0;
		}
		if (!conf_name_ok(value))
			return conf_errf(err,
					 "%s: primary \"%.40s\" is not an "
					 "uplink's name",
					 obj, value);
		snprintf(g->primary, sizeof(g->primary), "%s", value);
		return 0;
	}
	if (!strcmp(key, "tx.burst")) {
		r = conf_parse_size(value, &burst);
		if (r)
			return conf_errf(err,
					 "%s: tx.burst: cannot parse size "
					 "\"%s\"",
					 obj, value);
		/* A bucket smaller than one frame never lets a full-sized
		 * frame through. */
		if (burst < CONF_MIN_BURST)
			return conf_errf(err,
					 "%s: tx.burst %s is too small for one "
					 "%d-byte frame",
					 obj, value, CONF_MIN_BURST);
		if (burst > MAX_BURST)
			return conf_errf(err, "%s: tx.burst %s exceeds 64M",
					 obj, value);
		s->tx_burst = burst;
		return 0;
	}
	return conf_unknown(err, obj, key);
}

/* A rate of a struct that did not come through set_rate(). */
static int check_rate(const char *obj, const char *key, uint64_t v,
		      struct conf_err *err)
{
	char a[32];

	if (v > CONF_RATE_MAX)
		return conf_errf(err, "%s: %s %s exceeds 10T", obj, key,
				 conf_format_rate(v, a, sizeof(a)));
	return 0;
}

static int check_addrs(const struct conf_guest *g, const char *obj,
		       struct conf_err *err)
{
	char a[INET6_ADDRSTRLEN];

	if (g->n_ipv4 > CONF_ADDRS_MAX)
		return conf_errf(err, "%s: more than %d ipv4 addresses", obj,
				 CONF_ADDRS_MAX);
	if (g->n_ipv6 > CONF_ADDRS_MAX)
		return conf_errf(err, "%s: more than %d ipv6 addresses", obj,
				 CONF_ADDRS_MAX);
	for (size_t i = 0; i < g->n_ipv4; i++) {
		inet_ntop(AF_INET, &g->ipv4[i], a, sizeof(a));
		if (!ipv4_unicast(g->ipv4[i]))
			return conf_errf(err,
					 "%s: ipv4 %s is not a unicast host "
					 "address",
					 obj, a);
		for (size_t j = 0; j < i; j++)
			if (g->ipv4[j].s_addr == g->ipv4[i].s_addr)
				return conf_errf(err,
						 "%s: ipv4 %s listed twice",
						 obj, a);
	}
	for (size_t i = 0; i < g->n_ipv6; i++) {
		inet_ntop(AF_INET6, &g->ipv6[i], a, sizeof(a));
		if (!ipv6_unicast(&g->ipv6[i]))
			return conf_errf(err,
					 "%s: ipv6 %s is not a unicast host "
					 "address",
					 obj, a);
		for (size_t j = 0; j < i; j++)
			if (IN6_ARE_ADDR_EQUAL(&g->ipv6[j], &g->ipv6[i]))
				return conf_errf(err,
						 "%s: ipv6 %s listed twice",
						 obj, a);
	}
	return 0;
}

/* Everything conf_guest_set() refuses, again, for guests built otherwise
 * (by hand, or by a caller that copies structs around). */
int conf_guest_check(const struct conf_guest *g, struct conf_err *err)
{
	static const uint8_t zero[6];
	const struct conf_slice *s = &g->slice;
	char obj[CONF_NAME_MAX + 8], a[32], b[32];
	int r;

	if (!conf_name_ok(g->name))
		return conf_errf(err,
				 "guest \"%s\": a name is 1 to %d characters "
				 "of A-Z a-z 0-9 _ . -",
				 g->name, CONF_NAME_MAX - 1);
	snprintf(obj, sizeof(obj), "guest %s", g->name);
	if (!g->device[0])
		return conf_errf(err, "%s: no device", obj);
	if (!conf_ifname_ok(g->device))
		return bad_ifname(obj, g->device, err);
	if (!memcmp(g->mac, zero, 6))
		return conf_errf(err, "%s: no mac", obj);
	if (g->mac[0] & 1)
		return conf_errf(err, "%s: mac %s is a multicast address", obj,
				 conf_format_mac(g->mac, a, sizeof(a)));
	r = check_addrs(g, obj, err);
	if (r)
		return r;
	if (check_rate(obj, "tx.min", s->tx_min, err) ||
	    check_rate(obj, "tx.max", s->tx_max, err) ||
	    check_rate(obj, "rx.max", s->rx_max, err))
		return -EINVAL;
	if (s->tx_max && s->tx_min > s->tx_max)
		return conf_errf(err, "%s: tx.min %s exceeds tx.max %s", obj,
				 conf_format_rate(s->tx_min, a, sizeof(a)),
				 conf_format_rate(s->tx_max, b, sizeof(b)));
	if (s->tx_weight < 1 || s->tx_weight > 1000)
		return conf_errf(err, "%s: tx.weight %u out of range 1..1000",
				 obj, s->tx_weight);
	if (s->tx_burst && s->tx_burst < CONF_MIN_BURST)
		return conf_errf(err,
				 "%s: tx.burst %u is too small for one "
				 "%d-byte frame",
				 obj, s->tx_burst, CONF_MIN_BURST);
	if (s->tx_burst > MAX_BURST)
		return conf_errf(err, "%s: tx.burst %s exceeds 64M", obj,
				 conf_format_size(s->tx_burst, a, sizeof(a)));
	if (g->spread < 1 || g->spread > CONF_UPLINKS_MAX)
		return conf_errf(err, "%s: spread %u out of range 1..%d", obj,
				 g->spread, CONF_UPLINKS_MAX);
	if (g->priority > 1000)
		return conf_errf(err, "%s: priority %u out of range 0..1000",
				 obj, g->priority);
	if (g->vlan > CONF_VLAN_MAX)
		return conf_errf(err, "%s: vlan %u out of range 1..%d", obj,
				 g->vlan, CONF_VLAN_MAX);
	if (g->vlans[0] & 1)
		return conf_errf(err, "%s: vlans lists 0, not a VLAN", obj);
	if (g->vlans[63] >> 63)
		return conf_errf(err, "%s: vlans lists 4095, not a VLAN", obj);
	if (g->vlan && conf_vlan_has(g->vlans, g->vlan))
		return conf_errf(err,
				 "%s: vlan %u is its untagged VLAN and cannot "
				 "also be in vlans",
				 obj, g->vlan);
	return 0;
}

/* An uplink's LACP settings until set: teamd's priorities (the lowest
 * system priority, so that the switch chooses which ports aggregate, and
 * port priority 255), and the first key of 1..65535. */
#define LACP_SYSTEM_PRIORITY 65535
#define LACP_PORT_PRIORITY 255
#define LACP_KEY 1

void conf_uplink_init(struct conf_uplink *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	set_name(u->name, name);
	u->monitor.interval_ms = 100;
	u->monitor.missed = 3;
	u->lacp.rate = CONF_LACP_FAST;
	u->lacp.active = true;
	u->lacp.system_priority = LACP_SYSTEM_PRIORITY;
	u->lacp.port_priority = LACP_PORT_PRIORITY;
	u->lacp.key = LACP_KEY;
}

int conf_uplink_set(struct conf_uplink *u, const char *key, const char *value,
		    struct conf_err *err)
{
	struct conf_monitor *m = &u->monitor;
	struct conf_lacp *l = &u->lacp;
	char obj[CONF_NAME_MAX + 8];

	snprintf(obj, sizeof(obj), "uplink %s", u->name);
	if (!strcmp(key, "device"))
		return set_ifname(u->device, obj, value, err);
	if (!strcmp(key, "capacity"))
		return set_rate(&u->capacity, obj, key, value, RATE_CAPACITY,
				err);
	if (!strcmp(key, "group")) {
		if (!conf_name_ok(value))
			return conf_errf(err,
					 "%s: group \"%s\": a group is 1 to %d "
					 "characters of A-Z a-z 0-9 _ . -",
					 obj, value, CONF_NAME_MAX - 1);
		snprintf(u->group, sizeof(u->group), "%s", value);
		return 0;
	}
	if (!strcmp(key, "monitor.type")) {
		if (!strcmp(value, "arp"))
			m->type = CONF_MON_ARP;
		else if (!strcmp(value, "ns"))
			m->type = CONF_MON_NS;
		else
			return conf_errf(err,
					 "%s: monitor.type \"%s\" is not arp "
					 "or ns",
					 obj, value);
		return 0;
	}
	if (!strcmp(key, "monitor.target")) {
		struct in6_addr a6;
		struct in_addr a4;

		/* Probes go to one neighbour, which must be able to
		 * answer: not a group or an unspecified address. Only one
		 * family is kept, so that a printed monitor reads back the
		 * same. */
		memset(&a4, 0, sizeof(a4));
		memset(&a6, 0, sizeof(a6));
		if (inet_pton(AF_INET, value, &a4) == 1) {
			if (!ipv4_unicast(a4))
				return conf_errf(err,
						 "%s: monitor.target %s is not "
						 "a unicast host address",
						 obj, value);
			m->target_af = AF_INET;
		} else if (inet_pton(AF_INET6, value, &a6) == 1) {
			if (!ipv6_unicast(&a6))
				return conf_errf(err,
						 "%s: monitor.target %s is not "
						 "a unicast host address",
						 obj, value);
			m->target_af = AF_INET6;
		} else {
			return conf_errf(err,
					 "%s: monitor.target \"%s\" is not an "
					 "IP address",
					 obj, value);
		}
		m->target4 = a4;
		m->target6 = a6;
		return 0;
	}
	if (!strcmp(key, "monitor.interval_ms"))
		return set_uint(&m->interval_ms, obj, key, value, 1, 60000,
				err);
	if (!strcmp(key, "monitor.missed"))
		return set_uint(&m->missed, obj, key, value, 1, 255, err);
	if (!strcmp(key, "monitor.vlan"))
		return parse_vid(&m->vlan, obj, key, value, true, err);
	if (!strcmp(key, "lacp.group")) {
		if (!conf_name_ok(value))
			return conf_errf(
				err,
				"%s: lacp.group \"%s\": a group is 1 to "
				"%d characters of A-Z a-z 0-9 _ . -",
				obj, value, CONF_NAME_MAX - 1);
		snprintf(l->group, sizeof(l->group), "%s", value);
		return 0;
	}
	if (!strcmp(key, "lacp.rate")) {
		if (!strcmp(value, "fast"))
			l->rate = CONF_LACP_FAST;
		else if (!strcmp(value, "slow"))
			l->rate = CONF_LACP_SLOW;
		else
			return conf_errf(err,
					 "%s: lacp.rate \"%s\" is not fast or "
					 "slow",
					 obj, value);
		return 0;
	}
	if (!strcmp(key, "lacp.active"))
		return set_bool(&l->active, obj, key, value, err);
	if (!strcmp(key, "lacp.system_priority"))
		return set_uint(&l->system_priority, obj, key, value, 1, 65535,
				err);
	if (!strcmp(key, "lacp.port_priority"))
		return set_uint(&l->port_priority, obj, key, value, 1, 65535,
				err);
	if (!strcmp(key, "lacp.key"))
		return set_uint(&l->key, obj, key, value, 1, 65535, err);
	return conf_unknown(err, obj, key);
}

/* The LACP settings of a struct that did not come through the setters.
 * Without a group they are unused, and must be the defaults: else the
 * uplink would print without them, and read back otherwise. */
static int check_lacp(const struct conf_lacp *l, const char *obj,
		      struct conf_err *err)
{
	const struct {
		const char *key;
		uint32_t v;
	} nums[] = {
		{ "system_priority", l->system_priority },
		{ "port_priority", l->port_priority },
		{ "key", l->key },
	};

	if (!memchr(l->group, '\0', sizeof(l->group)) ||
	    (l->group[0] && !conf_name_ok(l->group)))
		return conf_errf(err,
				 "%s: lacp.group \"%.*s\": a group is 1 to %d "
				 "characters of A-Z a-z 0-9 _ . -",
				 obj, (int)sizeof(l->group), l->group,
				 CONF_NAME_MAX - 1);
	if (l->rate != CONF_LACP_FAST && l->rate != CONF_LACP_SLOW)
		return conf_errf(err, "%s: lacp.rate %d is not fast or slow",
				 obj, (int)l->rate);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (nums[i].v < 1 || nums[i].v > 65535)
			return conf_errf(err,
					 "%s: lacp.%s %u out of range 1..65535",
					 obj, nums[i].key, nums[i].v);
	if (!l->group[0] &&
	    (l->rate != CONF_LACP_FAST || !l->active ||
	     l->system_priority != LACP_SYSTEM_PRIORITY ||
	     l->port_priority != LACP_PORT_PRIORITY || l->key != LACP_KEY))
		return conf_errf(err, "%s: lacp needs a group", obj);
	return 0;
}

int conf_uplink_check(const struct conf_uplink *u, struct conf_err *err)
{
	const struct conf_monitor *m = &u->monitor;
	char obj[CONF_NAME_MAX + 8], a[INET6_ADDRSTRLEN];

	if (!conf_name_ok(u->name))
		return conf_errf(err,
				 "uplink \"%s\": a name is 1 to %d characters "
				 "of A-Z a-z 0-9 _ . -",
				 u->name, CONF_NAME_MAX - 1);
	snprintf(obj, sizeof(obj), "uplink %s", u->name);
	if (u->group[0] && !conf_name_ok(u->group))
		return conf_errf(err,
				 "%s: group \"%.*s\": a group is 1 to %d "
				 "characters of A-Z a-z 0-9 _ . -",
				 obj, (int)sizeof(u->group), u->group,
				 CONF_NAME_MAX - 1);
	if (!u->device[0])
		return conf_errf(err, "%s: no device", obj);
	if (!conf_ifname_ok(u->device))
		return bad_ifname(obj, u->device, err);
	if (!u->capacity)
		return conf_errf(err, "%s: no capacity", obj);
	if (check_rate(obj, "capacity", u->capacity, err))
		return -EINVAL;
	if (check_lacp(&u->lacp, obj, err))
		return -EINVAL;
	if (m->vlan > CONF_VLAN_MAX)
		return conf_errf(err, "%s: monitor.vlan %u out of range 1..%d",
				 obj, m->vlan, CONF_VLAN_MAX);
	if (m->type == CONF_MON_NONE) {
		if (m->target_af || m->vlan)
			return conf_errf(err, "%s: monitor needs a type", obj);
		return 0;
	}
	if (m->type != CONF_MON_ARP && m->type != CONF_MON_NS)
		return conf_errf(err, "%s: monitor.type %d is not arp or ns",
				 obj, (int)m->type);
	if (m->type == CONF_MON_ARP && m->target_af != AF_INET)
		return conf_errf(err, "%s: an arp monitor needs an IPv4 target",
				 obj);
	if (m->type == CONF_MON_NS && m->target_af != AF_INET6)
		return conf_errf(err, "%s: an ns monitor needs an IPv6 target",
				 obj);
	if (m->target_af == AF_INET ? !ipv4_unicast(m->target4)
				    : !ipv6_unicast(&m->target6))
		return conf_errf(err,
				 "%s: monitor.target %s is not a unicast host "
				 "address",
				 obj,
				 inet_ntop(m->target_af,
					   m->target_af == AF_INET
						   ? (const void *)&m->target4
						   : (const void *)&m->target6,
					   a, sizeof(a)));
	if (m->interval_ms < 1 || m->interval_ms > 60000)
		return conf_errf(err,
				 "%s: monitor.interval_ms %u out of range "
				 "1..60000",
				 obj, m->interval_ms);
	if (m->missed < 1 || m->missed > 255)
		return conf_errf(err,
				 "%s: monitor.missed %u out of range 1..255",
				 obj, m->missed);
	return 0;
}

static const char *const admission_names[] = {
	[CONF_ADMIT_N1] = "n-1",
	[CONF_ADMIT_N] = "n",
	[CONF_ADMIT_OFF] = "off",
};

static const char *const degrade_names[] = {
	[CONF_DEGRADE_PROPORTIONAL] = "proportional",
	[CONF_DEGRADE_PRIORITY] = "priority",
};

static const char *const qos_backend_names[] = {
	[CONF_QOS_AUTO] = "auto",
	[CONF_QOS_HTB] = "htb",
	[CONF_QOS_EDT] = "edt",
};

#define N_NAMES(a) (sizeof(a) / sizeof((a)[0]))

const char *conf_admission_name(enum conf_admission a)
{
	return (unsigned int)a < N_NAMES(admission_names) ? admission_names[a]
							  : NULL;
}

const char *conf_degrade_name(enum conf_degrade d)
{
	return (unsigned int)d < N_NAMES(degrade_names) ? degrade_names[d]
							: NULL;
}

const char *conf_qos_backend_name(enum conf_qos_backend b)
{
	return (unsigned int)b < N_NAMES(qos_backend_names)
		       ? qos_backend_names[b]
		       : NULL;
}

/* One of NAMES; the message lists them all. */
static int set_enum(unsigned int *out, const char *obj, const char *key,
		    const char *value, const char *const *names, size_t n,
		    struct conf_err *err)
{
	char list[128] = "";
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(value, names[i])) {
			*out = (unsigned int)i;
			return 0;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
					i ? (i + 1 == n ? " or " : ", ") : "",
					names[i]);
	}
	return conf_errf(err, "%s: %s \"%s\" is not %s", obj, key, value, list);
}

int conf_policy_set(struct conf_policy *p, const char *key, const char *value,
		    struct conf_err *err)
{
	unsigned int v;
	int r;

	if (!strcmp(key, "rebalance_interval_ms"))
		return set_uint(&p->rebalance_interval_ms, "policy", key, value,
				10, 3600000, err);
	if (!strcmp(key, "rebalance_threshold"))
		return set_uint(&p->rebalance_threshold, "policy", key, value,
				1, 1000, err);
	if (!strcmp(key, "rebalance_holddown_ms"))
		return set_uint(&p->rebalance_holddown_ms, "policy", key, value,
				0, 3600000, err);
	if (!strcmp(key, "failback"))
		return set_bool(&p->failback, "policy", key, value, err);
	if (!strcmp(key, "flow_table"))
		return set_bool(&p->flow_table, "policy", key, value, err);
	if (!strcmp(key, "updelay_ms"))
		return set_uint(&p->updelay_ms, "policy", key, value, 0, 600000,
				err);
	if (!strcmp(key, "downdelay_ms"))
		return set_uint(&p->downdelay_ms, "policy", key, value, 0,
				600000, err);
	if (!strcmp(key, "notify_count"))
		return set_uint(&p->notify_count, "policy", key, value, 0, 100,
				err);
	if (!strcmp(key, "notify_interval_ms"))
		return set_uint(&p->notify_interval_ms, "policy", key, value, 1,
				10000, err);
	if (!strcmp(key, "broadcast_pps"))
		return set_uint(&p->broadcast_pps, "policy", key, value, 0,
				CONF_BROADCAST_PPS_MAX, err);
	if (!strcmp(key, "admission")) {
		r = set_enum(&v, "policy", key, value, admission_names,
			     N_NAMES(admission_names), err);
		if (!r)
			p->admission = (enum conf_admission)v;
		return r;
	}
	if (!strcmp(key, "degrade")) {
		r = set_enum(&v, "policy", key, value, degrade_names,
			     N_NAMES(degrade_names), err);
		if (!r)
			p->degrade = (enum conf_degrade)v;
		return r;
	}
	if (!strcmp(key, "qos_backend")) {
		r = set_enum(&v, "policy", key, value, qos_backend_names,
			     N_NAMES(qos_backend_names), err);
		if (!r)
			p->qos_backend = (enum conf_qos_backend)v;
		return r;
	}
	return conf_unknown(err, "policy", key);
}

int conf_daemon_set(struct conf_daemon *d, const char *key, const char *value,
		    struct conf_err *err)
{
	if (!strcmp(key, "socket"))
		return set_path(d->socket, sizeof(d->socket), "daemon", key,
				value, err);
	if (!strcmp(key, "pin_dir"))
		return set_path(d->pin_dir, sizeof(d->pin_dir), "daemon", key,
				value, err);
	if (!strcmp(key, "keep_datapath_on_stop"))
		return set_bool(&d->keep_datapath_on_stop, "daemon", key, value,
				err);
	if (!strcmp(key, "max_guests"))
		return set_uint(&d->max_guests, "daemon", key, value, 1,
				CONF_GUESTS_LIMIT, err);
	if (!strncmp(key, "test.", 5)) {
		const char *k = key + 5;

		if (!strcmp(k, "ipv4"))
			return add_ipv4(&d->test, "daemon: test", value, err);
		if (!strcmp(k, "ipv6"))
			return add_ipv6(&d->test, "daemon: test", value, err);
		if (!strcmp(k, "mac"))
			return set_mac(d->test.mac, "daemon: test", value, err);
		if (!strcmp(k, "vlan"))
			return parse_vid(&d->test.vlan, "daemon: test", "vlan",
					 value, false, err);
		return conf_unknown(err, "daemon", key);
	}
	if (!strcmp(key, "metrics")) {
		struct conf_listen l;

		if (strlen(value) >= sizeof(d->metrics) ||
		    conf_parse_listen(value, &l))
			return conf_errf(err,
					 "daemon: metrics \"%.80s\" is not an "
					 "address and port to listen on "
					 "(\"127.0.0.1:9465\", \"[::1]:9465\")",
					 value);
		snprintf(d->metrics, sizeof(d->metrics), "%s", value);
		return 0;
	}
	return conf_unknown(err, "daemon", key);
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->policy.rebalance_interval_ms = 1000;
	c->policy.rebalance_threshold = 20;
	c->policy.rebalance_holddown_ms = 10000;
	c->policy.flow_table = true;
	c->policy.failback = true;
	c->policy.notify_count = 3;
	c->policy.notify_interval_ms = 50;
	c->policy.broadcast_pps = 1000;
	c->policy.admission = CONF_ADMIT_N1;
	snprintf(c->daemon.socket, sizeof(c->daemon.socket), "%s",
		 CONF_DEFAULT_SOCKET);
	snprintf(c->daemon.pin_dir, sizeof(c->daemon.pin_dir), "%s",
		 CONF_DEFAULT_PIN_DIR);
	c->daemon.max_guests = CONF_GUESTS_DEFAULT;
	conf_guest_init(&c->daemon.test, CONF_TEST_GUEST);
}

struct conf_guest *conf_guest_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_guests; i++)
		if (!strcmp(c->guests[i].name, name))
			return &c->guests[i];
	return NULL;
}

struct conf_uplink *conf_uplink_find(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_uplinks; i++)
		if (!strcmp(c->uplinks[i].name, name))
			return &c->uplinks[i];
	return NULL;
}

/* A copy of the array ARR of N elements of SIZE bytes with ELEM appended
 * (ELEM may point into ARR), or NULL. */
static void *appended(const void *arr, size_t n, const void *elem, size_t size)
{
	char *a = malloc((n + 1) * size);

	if (!a)
		return NULL;
	if (n)
		memcpy(a, arr, n * size);
	memcpy(a + n * size, elem, size);
	return a;
}

/* Make NEXT, which holds one new array in place of C's, the configuration
 * if it passes the whole check; else C stays as it was. */
static int commit(struct conf *c, struct conf *next, struct conf_err *err)
{
	int r = conf_check(next, NULL, err);
	struct conf *keep = r ? c : next, *drop = r ? next : c;

	/* Of the two arrays of a kind, the one not kept goes. */
	if (drop->guests != keep->guests)
		free(drop->guests);
	if (drop->uplinks != keep->uplinks)
		free(drop->uplinks);
	*c = *keep;
	return r;
}

/* Remove element I of the array ARR of *N elements of SIZE bytes. */
static void removed(void *arr, size_t *n, size_t i, size_t size)
{
	char *a = arr;

	memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

int conf_guest_add(struct conf *c, const struct conf_guest *g,
		   struct conf_err *err)
{
	struct conf next = *c;

	next.guests = appended(c->guests, c->n_guests, g, sizeof(*g));
	if (!next.guests) {
		conf_errf(err, "guest %s: out of memory", g->name);
		return -ENOMEM;
	}
	next.n_guests++;
	return commit(c, &next, err);
}

int conf_guest_del(struct conf *c, const char *name, struct conf_err *err)
{
	struct conf_guest *g = conf_guest_find(c, name);

	if (!g) {
		conf_errf(err, "guest %s: no such guest", name);
		return -ENOENT;
	}
	removed(c->guests, &c->n_guests, (size_t)(g - c->guests), sizeof(*g));
	return 0;
}

int conf_uplink_add(struct conf *c, const struct conf_uplink *u,
		    struct conf_err *err)
{
	struct conf next = *c;

	next.uplinks = appended(c->uplinks, c->n_uplinks, u, sizeof(*u));
	if (!next.uplinks) {
		conf_errf(err, "uplink %s: out of memory", u->name);
		return -ENOMEM;
	}
	next.n_uplinks++;
	return commit(c, &next, err);
}

int conf_uplink_del(struct conf *c, const char *name, struct conf_err *err)
{
	struct conf_uplink *u = conf_uplink_find(c, name);

	if (!u) {
		conf_errf(err, "uplink %s: no such uplink", name);
		return -ENOENT;
	}
	removed(c->uplinks, &c->n_uplinks, (size_t)(u - c->uplinks),
		sizeof(*u));
	return 0;
}
