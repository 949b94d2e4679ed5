/* SPDX-License-Identifier: MIT */
/* The failover self-test's side in gonad (gonactl test failover): a probe
 * guest of gonad's own, CONF_TEST_GUEST, on an interface gonactl makes,
 * and the failures the test injects into uplinks: a carrier loss as gonad
 * and the data path take a real one, or a drain. All of it belongs to the
 * control connection that asked, and is undone when that connection ends,
 * however it ends: also the interface, if it came after the test began
 * (gonactl's veth pair, which would otherwise go only with gonactl's
 * namespace, and that may be held for minutes by an orphaned TCP socket of
 * iperf3's whose last segments found the guest gone). The guest is
 * transient: never saved, kept by reloads. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/gonad.h"

struct selftest {
	const void *owner;
	uint32_t carrier_taken; /* uplink slots whose carrier it took */
	uint32_t drained; /* uplink slots it drained */
	char device[IFNAMSIZ]; /* the guest's interface, made after the test
				* began (deleted at its end), or "" */
};

/* Apply NC (a changed copy of the running configuration); MSG says why
 * not. */
static int apply(struct gonad *g, struct conf *nc, char *err, size_t errlen)
{
	char msg[CONF_ERR_MAX + 64];
	int r = reload_apply(g, nc, NULL, msg, sizeof(msg));

	if (r)
		snprintf(err, errlen, "%s", msg);
	return r;
}

/* The test guest from daemon.test and the pairs KV (each key given
 * replaces what daemon.test says of it). */
static int test_guest(const struct gonad *g, size_t n, const char *const *kv,
		      struct conf_guest *tg, char *err, size_t errlen)
{
	static const char *const keys[] = { "device", "mac", "ipv4", "ipv6",
					    "vlan" };
	bool cleared4 = false, cleared6 = false;
	struct conf_err ce;
	size_t k;
	int r;

	static const uint8_t zero[6];

	*tg = g->conf->daemon.test;
	tg->transient = true;
	/* A MAC of its own, locally administered, unless one is given:
	 * 02:67:6f:6e:61:74 ("gonat"). */
	if (!memcmp(tg->mac, zero, 6))
		memcpy(tg->mac, "\x02\x67\x6f\x6e\x61\x74", 6);
	if (n % 2) {
		snprintf(err, errlen, "test begin takes KEY VALUE pairs");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2) {
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(kv[i], keys[k]))
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen,
				 "the failover self-test's guest: unknown key "
				 "\"%s\" (device, mac, ipv4, ipv6, vlan)",
				 kv[i]);
			return -EINVAL;
		}
		if (!strcmp(kv[i], "ipv4") && !cleared4) {
			tg->n_ipv4 = 0;
			cleared4 = true;
		}
		if (!strcmp(kv[i], "ipv6") && !cleared6) {
			tg->n_ipv6 = 0;
			cleared6 = true;
		}
		r = conf_guest_set(tg, kv[i], kv[i + 1], &ce);
		if (r) {
			snprintf(err, errlen, "%s", ce.msg);
			return r;
		}
	}
	if (!tg->n_ipv4 && !tg->n_ipv6) {
		snprintf(err, errlen,
			 "the failover self-test's guest has no address: "
			 "set daemon.test.ipv4 (or ipv6) or give --ipv4");
		return -EINVAL;
	}
	r = conf_guest_check(tg, &ce);
	if (r)
		snprintf(err, errlen, "%s", ce.msg);
	return r;
}

int selftest_begin(struct gonad *g, const void *owner, size_t n,
		   const char *const *kv, char *err, size_t errlen)
{
	char up[256] = "";
	struct conf_guest tg;
	struct conf_err ce;
	struct conf *nc;
	size_t n_up = 0, off = 0;
	int r;

	if (g->selftest) {
		snprintf(err, errlen,
			 "a failover self-test is running already (another "
			 "gonactl)");
		return -EBUSY;
	}
	for (size_t i = 0; i < g->n_uplinks; i++) {
		if (!g->uplinks[i].up)
			continue;
		n_up++;
		off += (size_t)snprintf(up + off, sizeof(up) - off, "%s%s",
					off ? ", " : "",
					g->uplinks[i].conf.name);
		if (off >= sizeof(up))
			off = sizeof(up) - 1;
	}
	if (n_up < 2) {
		snprintf(err, errlen,
			 "the failover self-test needs two uplinks up; up: %s",
			 n_up ? up : "none");
		return -EBUSY;
	}
	r = test_guest(g, n, kv, &tg, err, errlen);
	if (r)
		return r;
	nc = conf_dup(g->conf);
	if (!nc) {
		snprintf(err, errlen, "the failover self-test: out of memory");
		return -ENOMEM;
	}
	r = conf_guest_add(nc, &tg, &ce);
	if (r) {
		conf_free(nc);
		snprintf(err, errlen, "%s", ce.msg);
		return r;
	}
	r = apply(g, nc, err, errlen);
	if (r)
		return r;
	g->selftest = calloc(1, sizeof(*g->selftest));
	if (!g->selftest) {
		selftest_end(g, NULL);
		snprintf(err, errlen, "the failover self-test: out of memory");
		return -ENOMEM;
	}
	g->selftest->owner = owner;
	if (!if_nametoindex(tg.device))
		snprintf(g->selftest->device, sizeof(g->selftest->device), "%s",
			 tg.device);
	log_info("failover self-test: begins, its guest on %s", tg.device);
	return 0;
}

int selftest_fail(struct gonad *g, const void *owner, const char *uplink,
		  const char *how, const char *dir, char *err, size_t errlen)
{
	struct selftest *t = g->selftest;
	struct uplink *u = state_uplink(g, uplink);
	bool down = !strcmp(dir, "down");
	const char *kv[2] = { "admin", down ? "down" : "up" };
	int r;

	if (!t || t->owner != owner) {
		snprintf(err, errlen,
			 "no failover self-test of this "
			 "connection is running");
		return -EINVAL;
	}
	if (!u) {
		snprintf(err, errlen, "uplink %s: no such uplink", uplink);
		return -ENOENT;
	}
	if (!down && strcmp(dir, "up")) {
		snprintf(err, errlen,
			 "uplink %s: \"%s\" is neither down nor up", uplink,
			 dir);
		return -EINVAL;
	}
	if (!strcmp(how, "carrier")) {
		state_uplink_test_carrier(g, u, down);
		if (down)
			t->carrier_taken |= 1u << u->slot;
		else
			t->carrier_taken &= ~(1u << u->slot);
		return 0;
	}
	if (strcmp(how, "drain")) {
		snprintf(err, errlen,
			 "uplink %s: a failure \"%s\" is neither carrier nor "
			 "drain",
			 uplink, how);
		return -EINVAL;
	}
	/* Only what it drained is given back: an operator's drain stays. */
	if (!down && !(t->drained & (1u << u->slot)))
		return 0;
	r = state_uplink_set(g, u, 2, kv, err, errlen);
	if (r)
		return r;
	if (down)
		t->drained |= 1u << u->slot;
	else
		t->drained &= ~(1u << u->slot);
	return 0;
}

void selftest_end(struct gonad *g, const void *owner)
{
	struct selftest *t = g->selftest;
	const char *kv[2] = { "admin", "up" };
	char err[CONF_ERR_MAX + 64];
	char device[IFNAMSIZ] = "";
	struct conf_err ce;
	struct conf *nc;
	int r;

	/* Another connection's test, or none (NULL: a start that failed
	 * halfway, whose guest goes). */
	if (t ? t->owner != owner : owner != NULL)
		return;
	for (size_t i = 0; t && i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];

		if (t->carrier_taken & (1u << i))
			state_uplink_test_carrier(g, u, false);
		if ((t->drained & (1u << i)) &&
		    state_uplink_set(g, u, 2, kv, err, sizeof(err)))
			log_warnx("failover self-test: %s", err);
	}
	if (t)
		memcpy(device, t->device, sizeof(device));
	free(t);
	g->selftest = NULL;
	/* Its guest, unless an operator removed it meanwhile. */
	if (conf_guest_find(g->conf, CONF_TEST_GUEST)) {
		nc = conf_dup(g->conf);
		if (!nc || conf_guest_del(nc, CONF_TEST_GUEST, &ce)) {
			conf_free(nc);
			log_warnx("failover self-test: cannot remove its "
				  "guest: %s",
				  nc ? ce.msg : "out of memory");
		} else if (apply(g, nc, err, sizeof(err))) {
			log_warnx("failover self-test: cannot remove its "
				  "guest: %s",
				  err);
		} else {
			log_info("failover self-test: ends, its guest removed");
		}
	}
	/* Then its interface, after the data path has let go of it. */
	if (!device[0])
		return;
	r = nl_veth_del(g->nl, device);
	if (!r)
		log_info("failover self-test: its interface %s deleted",
			 device);
	else if (r != -ENODEV && r != -ENOENT)
		log_warnx("failover self-test: cannot delete its interface "
			  "%s: %s",
			  device,
			  r == -EMEDIUMTYPE ? "not a veth (left alone)"
					    : strerror(-r));
}

int selftest_keep(struct gonad *g, struct conf *nc, char *err, size_t errlen)
{
	const struct conf_guest *tg = conf_guest_find(g->conf, CONF_TEST_GUEST);
	struct conf_err ce;
	int r;

	if (!tg || !tg->transient)
		return 0;
	r = conf_guest_add(nc, tg, &ce);
	if (r)
		snprintf(err, errlen,
			 "it clashes with the running failover self-test's "
			 "guest: %s",
			 ce.msg);
	return r;
}
