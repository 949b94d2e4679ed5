/* SPDX-License-Identifier: MIT */
/*
 * The kernel as fuzz_control's gonad sees it, in memory: the data path's
 * guest and MAC maps (what gonad wrote, so the harness can check them
 * against what gonad believes), a fixed set of network devices (all up,
 * reported by nlmon_resync as a full link dump would), and tc, netlink,
 * probes, the SR-IOV and self-test parts and the event loop answering
 * "done" without doing anything. The logging is quiet; fatal() and
 * fatalx() abort, so a handler that ends gonad is a finding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h> /* before linux/if.h, which then adds only IFF_LOWER_UP */
#include <linux/if.h>

#include "tests/fuzz/fake_kernel.h"

/* The fakes ignore most of what they are given. */
#pragma clang diagnostic ignored "-Wunused-parameter"

/* The devices: up0..up3 and vif1..vif8, ifindex 10 on. */
static const char *const fake_devs[] = { "up0",	 "up1",	 "up2",	 "up3",
					 "vif1", "vif2", "vif3", "vif4",
					 "vif5", "vif6", "vif7", "vif8" };
#define FAKE_NDEVS (sizeof(fake_devs) / sizeof(fake_devs[0]))
#define FAKE_IFINDEX0 10

struct dp {
	struct fake_mac macs[FAKE_MACS_MAX];
	size_t n_macs;
};

struct nlmon {
	struct gonad *g;
};

struct tc {
	int unused;
};

static struct dp fake_dp;
static struct nlmon fake_nl;
static struct tc fake_tc;
static uint64_t fake_clock_ms = 1000000;

void fake_kernel_reset(struct gonad *g)
{
	memset(&fake_dp, 0, sizeof(fake_dp));
	fake_nl.g = g;
	g->dp = &fake_dp;
	g->nl = &fake_nl;
	g->tc = &fake_tc;
}

void fake_devices_report(struct gonad *g)
{
	state_resync_begin(g);
	for (size_t i = 0; i < FAKE_NDEVS; i++) {
		struct nl_link_info li = { .ifindex = FAKE_IFINDEX0 + (int)i,
					   .flags = IFF_UP | IFF_LOWER_UP |
						    IFF_RUNNING };

		snprintf(li.name, sizeof(li.name), "%s", fake_devs[i]);
		state_link(g, &li);
	}
	state_resync_end(g);
}

const struct fake_mac *fake_macs(size_t *n)
{
	*n = fake_dp.n_macs;
	return fake_dp.macs;
}

void fake_clock_advance(uint64_t ms)
{
	fake_clock_ms += ms;
}

/* Logging and the clock (daemon/log.c) --------------------------------- */

void log_init(bool foreground, int verbose)
{
	(void)foreground;
	(void)verbose;
}

void log_vmsg(int prio, const char *fmt, va_list ap)
{
	char buf[1200];

	(void)prio;
	/* Formatted all the same: a bad format or argument is a finding. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
}

#define FAKE_LOG(name)                  \
	void name(const char *fmt, ...) \
	{                               \
		va_list ap;             \
                                        \
		va_start(ap, fmt);      \
		log_vmsg(0, fmt, ap);   \
		va_end(ap);             \
	}
FAKE_LOG(log_warn)
FAKE_LOG(log_warnx)
FAKE_LOG(log_info)
FAKE_LOG(log_debug)

#define FAKE_FATAL(name)                                                   \
	void name(const char *fmt, ...)                                    \
	{                                                                  \
		va_list ap;                                                \
                                                                           \
		va_start(ap, fmt);                                         \
		vfprintf(stderr, fmt, ap);                                 \
		va_end(ap);                                                \
		fprintf(stderr, ": gonad would have ended (" #name ")\n"); \
		abort();                                                   \
	}
FAKE_FATAL(fatal)
FAKE_FATAL(fatalx)

uint64_t now_ms(void)
{
	return fake_clock_ms;
}

uint64_t now_us(void)
{
	return fake_clock_ms * 1000;
}

/* The data path's maps (daemon/datapath.c) ------------------------------ */

int dp_set_mac(struct dp *dp, const uint8_t mac[6], const struct gona_port *p)
{
	for (size_t i = 0; i < dp->n_macs; i++)
		if (!memcmp(dp->macs[i].mac, mac, 6)) {
			dp->macs[i].port = *p;
			return 0;
		}
	if (dp->n_macs == FAKE_MACS_MAX)
		return -ENOSPC;
	memcpy(dp->macs[dp->n_macs].mac, mac, 6);
	dp->macs[dp->n_macs++].port = *p;
	return 0;
}

int dp_del_mac(struct dp *dp, const uint8_t mac[6])
{
	for (size_t i = 0; i < dp->n_macs; i++)
		if (!memcmp(dp->macs[i].mac, mac, 6)) {
			dp->macs[i] = dp->macs[--dp->n_macs];
			return 0;
		}
	return 0;
}

static bool fake_owns_mac(const struct gonad *g, const uint8_t mac[6])
{
	for (size_t i = 0; i < g->n_guests; i++)
		if (!memcmp(g->guests[i]->conf.mac, mac, 6))
			return true;
	return false;
}

int dp_prune_guests(struct dp *dp, const struct gonad *g)
{
	for (size_t i = 0; i < dp->n_macs;)
		if (fake_owns_mac(g, dp->macs[i].mac))
			i++;
		else
			dp->macs[i] = dp->macs[--dp->n_macs];
	return 0;
}

bool dp_adopted(const struct dp *dp)
{
	(void)dp;
	return false;
}

uint32_t dp_max_guests(const struct dp *dp)
{
	(void)dp;
	return CONF_GUESTS_DEFAULT;
}

int dp_read_flows(struct dp *dp, struct dp_flow **out, size_t *n)
{
	(void)dp;
	*out = NULL;
	*n = 0;
	return 0;
}

int dp_read_owned(struct dp *dp, struct dp_owned **out, size_t *n)
{
	(void)dp;
	*out = NULL;
	*n = 0;
	return 0;
}

int dp_read_guest_stats(struct dp *dp, uint32_t id, struct gona_counters *sum)
{
	(void)dp;
	(void)id;
	memset(sum, 0, sizeof(*sum));
	return 0;
}

int dp_read_uplink_stats(struct dp *dp, unsigned int slot,
			 struct gona_counters *sum)
{
	(void)dp;
	(void)slot;
	memset(sum, 0, sizeof(*sum));
	return 0;
}

int dp_read_guest_uplink_bytes(struct dp *dp, uint32_t id, unsigned int slot,
			       uint64_t *sum)
{
	(void)dp;
	(void)id;
	(void)slot;
	*sum = 0;
	return 0;
}

int dp_read_guest_homes(struct dp *dp, uint32_t *homes)
{
	(void)dp;
	(void)homes;
	return -ENOENT;
}

int dp_guest_id_by_mac(struct dp *dp, const uint8_t mac[6], uint32_t *id)
{
	for (size_t i = 0; i < dp->n_macs; i++)
		if (!memcmp(dp->macs[i].mac, mac, 6)) {
			*id = dp->macs[i].port.id;
			return 0;
		}
	return -ENOENT;
}

int dp_uplink_slot(struct dp *dp, int ifindex, uint32_t *slot)
{
	(void)dp;
	(void)ifindex;
	(void)slot;
	return -ENOENT;
}

int dp_get_owned(struct dp *dp, int ifindex, uint32_t *flags)
{
	(void)dp;
	(void)ifindex;
	*flags = 0;
	return 0;
}

/* Writes that gonad's state does not read back: accepted. */
#define FAKE_OK(decl)     \
	decl              \
	{                 \
		return 0; \
	}
FAKE_OK(int dp_attach(struct dp *dp, struct tc *tc, int ifindex,
		      enum dp_role role, uint32_t id, bool *made_clsact))
FAKE_OK(int dp_detach(struct dp *dp, int ifindex, bool destroy_clsact))
FAKE_OK(int dp_set_uplink(struct dp *dp, unsigned int slot, int old_ifindex,
			  const struct gona_uplink *u))
FAKE_OK(int dp_set_globals(struct dp *dp, const struct gona_globals *gl))
FAKE_OK(int dp_set_guest(struct dp *dp, uint32_t id,
			 const struct gona_guest *v))
FAKE_OK(int dp_del_guest(struct dp *dp, uint32_t id))
FAKE_OK(int dp_set_addrs(struct dp *dp, uint32_t id,
			 const struct conf_guest *cg))
FAKE_OK(int dp_del_addrs(struct dp *dp, uint32_t id,
			 const struct conf_guest *cg))
FAKE_OK(int dp_set_flood(struct dp *dp, uint32_t id, const struct gona_port *p))
FAKE_OK(int dp_set_trunk(struct dp *dp, uint32_t id, const uint64_t vlans[64]))
FAKE_OK(int dp_set_owned(struct dp *dp, int ifindex, uint32_t flags))
FAKE_OK(int dp_set_pacing(struct dp *dp, uint32_t id, uint64_t rate_bps,
			  uint64_t horizon_ns))
FAKE_OK(int dp_move_flow(struct dp *dp, const struct gona_flow_key *k,
			 unsigned int slot, uint64_t wait_ms))
FAKE_OK(int dp_zero_guest_stats(struct dp *dp, uint32_t id))
FAKE_OK(int dp_zero_uplink_stats(struct dp *dp, unsigned int slot))
FAKE_OK(int dp_zero_stats(struct dp *dp))

void dp_mac_filter_tidy(struct dp *dp)
{
	(void)dp;
}

/* tc (daemon/tc.c): every qdisc and class made; no tree there before. */
FAKE_OK(int tc_open(struct tc **out))
FAKE_OK(int tc_bfifo(struct tc *tc, int ifindex, uint32_t parent,
		     uint32_t handle, uint32_t limit))
FAKE_OK(int tc_fq(struct tc *tc, int ifindex, uint32_t parent, uint32_t handle,
		  uint32_t limit, uint32_t flow_limit))
FAKE_OK(int tc_class_del(struct tc *tc, int ifindex, uint32_t classid))
FAKE_OK(int tc_htb_class(struct tc *tc, int ifindex, uint32_t parent,
			 uint32_t classid, const struct tc_rates *rt))
FAKE_OK(int tc_htb_qdisc(struct tc *tc, int ifindex, uint32_t handle,
			 uint32_t defcls))
FAKE_OK(int tc_root_del(struct tc *tc, int ifindex))
FAKE_OK(int tc_root_qdisc(struct tc *tc, int ifindex, uint32_t handle,
			  const char *kind, bool exclusive))

const char *tc_said(const struct tc *tc)
{
	(void)tc;
	return "";
}

void tc_said_reset(struct tc *tc)
{
	(void)tc;
}

int tc_class_minors(struct tc *tc, int ifindex, uint32_t major, uint32_t from,
		    uint8_t *seen, size_t n)
{
	(void)tc;
	(void)ifindex;
	(void)major;
	(void)from;
	memset(seen, 0, n);
	return 0;
}

bool tc_root_is(struct tc *tc, int ifindex, uint32_t handle, const char *kind)
{
	(void)tc;
	(void)ifindex;
	(void)handle;
	(void)kind;
	return false;
}

int tc_tx_queues(struct tc *tc, int ifindex)
{
	(void)tc;
	(void)ifindex;
	return 1;
}

void tc_close(struct tc *tc)
{
	(void)tc;
}

/* netlink (daemon/netlink.c): a re-read reports the fixed devices. */
int nlmon_resync(struct nlmon *nl)
{
	fake_devices_report(nl->g);
	return 0;
}

FAKE_OK(int nl_set_promisc(struct nlmon *nl, int ifindex, bool on))

/* Probes (daemon/monitor.c): started, never answered nor failed. */
FAKE_OK(int monitor_start(struct gonad *g, struct uplink *u))

void monitor_stop(struct gonad *g, struct uplink *u)
{
	(void)g;
	(void)u;
}

void monitor_stats(const struct uplink *u, struct monitor_stats *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
}

const char *monitor_target(const struct uplink *u)
{
	(void)u;
	return "";
}

/* LACP (daemon/lacp.c): no partner on the fake devices; a member is
 * taken as aggregated from its start, so that it carries guests as an
 * uplink of its own would (its protocol has its own fuzzer, fuzz_lacp). */
FAKE_OK(int lacp_open(struct gonad *g, const char *sock))

void lacp_close(struct gonad *g, bool keep)
{
	(void)keep;
	for (size_t i = 0; i < g->n_uplinks; i++)
		g->uplinks[i].lacp_ok = !g->uplinks[i].conf.lacp.group[0];
}

int lacp_start(struct gonad *g, struct uplink *u)
{
	(void)g;
	u->lacp_ok = true;
	return 0;
}

void lacp_stop(struct gonad *g, struct uplink *u)
{
	(void)g;
	u->lacp_ok = !u->conf.lacp.group[0];
}

void lacp_carrier(struct gonad *g, struct uplink *u)
{
	(void)g;
	(void)u;
}

const struct lacp_port *lacp_port_of(const struct uplink *u,
				     struct lacp_member_stats *st)
{
	(void)u;
	if (st)
		memset(st, 0, sizeof(*st));
	return NULL;
}

/* The event loop (daemon/gonad.c) and systemd (daemon/service.c). */
FAKE_OK(int ev_add(struct gonad *g, struct ev_source *src, uint32_t events))
FAKE_OK(int ev_mod(struct gonad *g, struct ev_source *src, uint32_t events))

void ev_del(struct gonad *g, struct ev_source *src)
{
	(void)g;
	(void)src;
}

void gonad_set_interval(struct gonad *g, uint32_t ms)
{
	(void)g;
	(void)ms;
}

bool svc_managed(void)
{
	return false;
}

/* Announcements, metrics (off), SR-IOV (no VF uplinks here). */
void announce_moved(struct announcer *an, struct guest *gu)
{
	(void)an;
	(void)gu;
}

int metrics_open(struct gonad *g, const char *addr, struct metrics **out,
		 char *err, size_t len)
{
	(void)g;
	(void)addr;
	*out = NULL;
	snprintf(err, len, "no metrics endpoint in the fuzzer");
	return -EOPNOTSUPP;
}

void metrics_close(struct gonad *g, struct metrics *m)
{
	(void)g;
	(void)m;
}

bool sriov_guest_add(struct gonad *g, struct guest *gu)
{
	(void)g;
	(void)gu;
	return true;
}

#define FAKE_VOID(decl) \
	decl            \
	{               \
	}
FAKE_VOID(void sriov_guest_forget(struct gonad *g, struct guest *gu))
FAKE_VOID(void sriov_guest_prune(struct gonad *g, struct guest *gu))
FAKE_VOID(void sriov_release_leftover(struct gonad *g, const char *dev,
				      uint32_t own))
FAKE_VOID(void sriov_uplink_attach(struct gonad *g, struct uplink *u,
				   uint32_t was))
FAKE_VOID(void sriov_uplink_release(struct gonad *g, struct uplink *u,
				    bool gone))
FAKE_VOID(void sriov_uplink_report(struct gonad *g, struct uplink *u))
FAKE_VOID(void sriov_vlans_changed(struct gonad *g))

/* The failover self-test needs real devices: refused, as gonad refuses it
 * where it cannot run. */
int selftest_begin(struct gonad *g, const void *owner, size_t n,
		   const char *const *kv, char *err, size_t errlen)
{
	(void)g;
	(void)owner;
	(void)n;
	(void)kv;
	snprintf(err, errlen, "test failover: not in the fuzzer");
	return -EOPNOTSUPP;
}

int selftest_fail(struct gonad *g, const void *owner, const char *uplink,
		  const char *how, const char *dir, char *err, size_t errlen)
{
	(void)g;
	(void)owner;
	(void)uplink;
	(void)how;
	(void)dir;
	snprintf(err, errlen, "test fail: no failover self-test running");
	return -ENOENT;
}

FAKE_VOID(void selftest_end(struct gonad *g, const void *owner))
FAKE_OK(int selftest_keep(struct gonad *g, struct conf *nc, char *err,
			  size_t errlen))
