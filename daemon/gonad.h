/* SPDX-License-Identifier: MIT */
/* gonad's internal interfaces: the daemon context, the running state of
 * uplinks and guests, and the modules of daemon/ that act on them. */
#ifndef GONA_GONAD_H
#define GONA_GONAD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"
#include "ebpf/gona_shared.h"

struct dp;
struct nlmon;
struct ctl;
struct tc;
struct qos_ops;
struct announcer;
struct monitor;
struct flows;
struct vf_check;
struct lacp;
struct lacp_member;
struct lacp_port;

/* A file descriptor in the event loop and what to do when it is ready. */
struct ev_source {
	int fd;
	void (*ready)(struct ev_source *src, uint32_t events);
	void *arg;
};

/* Rates measured from the data path counters over the last interval. */
struct rates {
	struct gona_counters last; /* counters at the last sample */
	uint64_t tx_bps;
	uint64_t rx_bps;
	uint64_t prev_tx_bps; /* tx_bps over the interval before */
};

/* Why an uplink last went up or down. */
enum uplink_cause {
	CAUSE_NONE, /* it has not changed since gonad started */
	CAUSE_DEVICE, /* the device appeared or went away */
	CAUSE_CARRIER, /* carrier (IFF_UP and IFF_LOWER_UP) */
	CAUSE_ADMIN, /* gonactl uplink set NAME admin up|down */
	CAUSE_PROBE, /* its monitor's probes went unanswered, or answered */
	CAUSE_LACP, /* LACP: the switch aggregates it, or no longer */
};
const char *uplink_cause_name(enum uplink_cause c);

/* VF VF of the PF IFINDEX as the PF reports it; -1: not reported. */
struct nl_vf_state {
	uint8_t mac[6]; /* set by the PF, zeros if none */
	uint32_t vlan; /* port VLAN the PF tags its frames with, 0 none */
	int spoofchk;
	int trust;
	int link_state; /* IFLA_VF_LINK_STATE_AUTO, _ENABLE, _DISABLE */
};

/* An uplink that is an SR-IOV VF: its PCI device, its PF's, its index,
 * and the PF's netdev if that is in this network namespace (else 0). */
struct vf_id {
	bool is_vf;
	char bus[32];
	char pf_bus[32];
	int index; /* -1 if the PF does not list it */
	int pf_ifindex;
	char pf_name[IFNAMSIZ];
};

struct uplink {
	struct conf_uplink conf;
	unsigned int slot; /* index in the uplinks map and in gonad.uplinks */
	int ifindex; /* 0 while the device does not exist */
	bool attached; /* our filter is on the device */
	bool made_clsact; /* we created its clsact qdisc */
	bool made_promisc; /* we turned promiscuous mode on */
	bool carrier; /* IFF_UP and IFF_LOWER_UP (and its PF's, for a VF) */
	/* A VF whose PF (in this domain) has no carrier, and the PF's
	 * carrier changes as of that news. */
	bool pf_down;
	uint64_t pf_carrier_changes;
	bool test_down; /* the failover self-test took its carrier away */
	bool if_up; /* IFF_UP, from rtnetlink */
	bool lower_up; /* IFF_LOWER_UP: the driver's carrier */
	/* The device's carrier changes as of the latest news of lower_up:
	 * news of fewer (rtnetlink late behind the tracing) is stale. */
	uint64_t carrier_changes;
	/* The last change traced in the driver: when (wall clock, us), and
	 * how long until gonad had it. */
	uint64_t carrier_at_us;
	uint64_t carrier_lag_us;
	/* Frames the data path had sent out of it when gonad had a traced
	 * carrier loss: with the loss taken in the kernel, none follow. */
	uint64_t carrier_tx_packets;
	bool admin_up; /* not drained */
	bool up; /* carries traffic: attached, carrier and admin up */
	bool dp_stale; /* the data path was refused its up or down */
	bool seen; /* during a resync: present in the dump */
	bool qos_made; /* our QoS root qdisc is on the device */
	bool probe_ok; /* its monitor's probes are answered (or it has none) */
	struct monitor *mon; /* its probe monitor while attached, if any */
	/* LACP (lacp.c): collecting and distributing with the group's
	 * partner (always true for an uplink that is no member), and the
	 * member's machines while attached. */
	bool lacp_ok;
	struct lacp_member *lacp;
	/* Takes broadcast and multicast for the guests (GONA_UF_BCAST): the
	 * designated uplink and the members of its LACP group. */
	bool bcast;
	/* A change of up waiting for policy.updelay_ms / downdelay_ms. */
	bool pending;
	enum uplink_cause pending_cause;
	uint64_t pending_due_ms;
	enum uplink_cause cause; /* of the last change of up */
	uint64_t changed_ms; /* now_ms() of that change, 0 none */
	uint32_t n_down; /* times it went from up to down */
	uint64_t last_out_ms; /* how long it was down last time, 0 never */
	/* The last change, from gonad handling the event: until the data
	 * path map had it, and until the guests were re-placed. */
	uint64_t switch_us;
	uint64_t place_us;
	struct rates rates;
	/* SR-IOV (sriov.c): what the VF is, how its PF reported it last,
	 * what gonad changed there, the guests' MACs in its filter, and the
	 * last refusal ("" none). */
	struct vf_id vf;
	struct nl_vf_state vf_state;
	bool vf_made_trust;
	bool vf_made_nospoof;
	uint32_t vf_filters;
	char vf_error[200];
	struct vf_check *vfc; /* checks its filter entries (ARP monitor) */
	/* The VLANs of its guests the VF lets through (a VLAN device each,
	 * "gonaSLOT.VID"), and whether some may no longer be needed. */
	uint64_t vf_vlans[64];
	bool vf_vlans_stale;
};

/* A traffic-control class (tc.c). Rates in bit/s, sizes in bytes. */
struct tc_rates {
	uint64_t rate;
	uint64_t ceil;
	uint32_t burst; /* bucket of the rate */
	uint32_t cburst; /* bucket of the ceiling */
	uint32_t quantum; /* bytes per round when sharing spare capacity */
};
/* A guest's class on one uplink and the queue under it. */
struct qos_class {
	struct tc_rates rt;
	uint32_t limit; /* bytes */
};

struct guest {
	struct conf_guest conf;
	uint32_t id; /* index in guest_stats and the address maps */
	int ifindex; /* 0 while the interface does not exist */
	bool attached;
	bool made_clsact;
	uint32_t homes; /* uplink slots it is placed on, a bit each */
	uint32_t vf_filtered; /* VF uplinks whose filter has its MAC */
	uint32_t vf_refused; /* VF uplinks that refused its MAC: barred */
	uint32_t vf_pending; /* ... whose filter entry is being checked */
	uint32_t vf_checked; /* ... whose entry an answer proved */
	uint8_t vf_tries[GONA_MAX_UPLINKS]; /* probes of the check so far */
	int pending_ifindex; /* seen during a resync, attached at its end */
	/* Its interface, which it could not be attached to (a map or filter
	 * the kernel refused): tried again at each sample (state_retry). */
	int retry_ifindex;
	bool push_failed; /* the last write of its entry was refused */
	bool seen;
	bool rx_shaped; /* our rx.max shaper is on its interface */
	/* HTB: its class on each uplink as last set (all zero: not made) */
	struct qos_class htb[GONA_MAX_UPLINKS];
	uint64_t paced_bps; /* EDT: its pacing rate, 0 if not paced */
	/* EDT: its counters at the last tick, and what it wanted since:
	 * what it sent and what the horizon dropped, in bit/s. */
	struct edt_meter {
		uint64_t bytes;
		uint64_t packets;
		uint64_t drops;
		uint64_t demand_bps;
	} edt;
	uint32_t notify_left; /* announcements of its move still to send */
	bool replace; /* placed afresh at the next placement (new primary) */
	/* Its guarantee in force: tx.min, or less while the uplinks up
	 * cannot carry every guarantee (policy.degrade). */
	uint64_t tx_min_kept;
	uint64_t held_until_ms; /* moved by rebalancing: stays till then */
	uint32_t n_rebalanced; /* times rebalancing moved it */
	struct rates rates;
	/* Spread over several uplinks: what it sent out of each, at the
	 * last sample and as a rate since the one before. */
	uint64_t home_bytes[GONA_MAX_UPLINKS];
	uint64_t home_bps[GONA_MAX_UPLINKS];
	uint32_t home_sampled; /* slots whose home_bytes are a baseline */
	uint8_t slots[GONA_SPREAD_SLOTS]; /* as last written to the data path */
	/* Its entry as last written, under the interface it was written
	 * for (0: none written, or gone). */
	struct gona_guest pushed;
	int pushed_ifindex;
};

struct gonad {
	const char *conf_file;
	struct conf *conf;
	struct uplink *uplinks; /* conf->n_uplinks, by slot */
	size_t n_uplinks;
	struct guest **guests; /* in configuration order */
	size_t n_guests;
	uint64_t id_used[GONA_GUESTS_LIMIT / 64]; /* guest ids taken */
	unsigned int bcast_slot; /* designated uplink, or GONA_MAX_UPLINKS */
	bool resyncing; /* a full link dump is being applied */
	/* A VF uplink refused a guest's MAC: the guests are placed again.
	 * The latest refusal, by uplink, for status ("" none). */
	bool vf_replace;
	char vf_error[280];
	/* Degraded mode: the guarantees promised and kept, and the
	 * capacity of the uplinks up they were measured against. */
	bool degraded;
	uint64_t promised;
	uint64_t kept;
	uint64_t capacity_usable;
	/* Rebalancing: rounds that moved guests, guests moved, the last. */
	uint32_t rebalance_rounds;
	uint32_t rebalance_moves;
	uint64_t rebalanced_ms;
	bool rebalance_settling; /* guests just moved: skip the next round */
	bool rebalance_armed; /* the last round found the loads uneven */
	/* Rounds in a row that waited for rising rates to settle. */
	uint32_t rebalance_waits;
	struct flows *flows; /* the flow table as last read (flows.c) */
	/* Taken over from a previous gonad: its maps were found pinned;
	 * the devices whose filter it had left on. */
	bool adopted;
	uint32_t adopted_guests;
	uint32_t adopted_uplinks;
	/* Reloads (SIGHUP, gonactl reload) done and refused since start, the
	 * last refusal's reason ("" once one succeeds), the last success. */
	uint32_t reloads_ok;
	uint32_t reloads_failed;
	char reload_error[CONF_ERR_MAX + 64];
	uint64_t reloaded_ms;
	char status_line[128]; /* as last sent to systemd */

	struct dp *dp;
	struct nlmon *nl;
	struct carrier *carrier; /* the drivers' carrier changes, traced */
	uint32_t netns_ino; /* gonad's network namespace */
	struct ctl *ctl;
	struct metrics *metrics; /* daemon.metrics, NULL when off */
	struct selftest *selftest; /* a failover self-test running, or NULL */
	struct tc *tc;
	const struct qos_ops *qos; /* the QoS backend in use */
	char qos_why[160]; /* why it is the one */
	struct announcer *announcer;
	struct lacp *lacp; /* LACP's timer and state file (lacp.c) */
	int epfd;
	struct epoll_event *batch; /* the events being handled */
	int batch_n;
	struct ev_source sig;
	struct ev_source timer;
	struct ev_source qos_timer; /* the backend's own tick, if it has one */
	uint64_t qos_ticked_ms;
	struct ev_source delays; /* one-shot: the next pending uplink change */
	struct ev_source watchdog; /* systemd's watchdog, at half its period */
	uint64_t started_ms;
	uint64_t sampled_ms;
	bool quit;
};

/* log.c: stderr with -d, syslog otherwise. log_warn appends strerror(errno). */
void log_init(bool foreground, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void log_vmsg(int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
uint64_t now_ms(void);
uint64_t now_us(void);

/* gonad.c: the event loop. */
int ev_add(struct gonad *g, struct ev_source *src, uint32_t events);
int ev_mod(struct gonad *g, struct ev_source *src, uint32_t events);
void ev_del(struct gonad *g, struct ev_source *src);
/* policy.rebalance_interval_ms changed: the sampling timer follows. */
void gonad_set_interval(struct gonad *g, uint32_t ms);

/* service.c: systemd. svc_notify sends a sd_notify(3) state; the
 * watchdog period (0: none); whether systemd is restarting gonad's unit
 * (a stop then keeps the data path for the gonad that follows). */
bool svc_managed(void);
void svc_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t svc_watchdog_ms(void);
bool svc_restarting(void);

/*
 * reload.c: a new configuration NC as a whole. reload_apply checks it
 * (admission, what needs a restart) and applies its difference with the
 * running one, or changes nothing; it owns NC either way. ORIGIN (a file
 * name or NULL) prefixes its errors. MSG says what changed or why not.
 */
int reload_apply(struct gonad *g, struct conf *nc, const char *origin,
		 char *msg, size_t len);
/* Re-read g->conf_file and apply it; counted in g->reloads_*. */
int reload_file(struct gonad *g, char *msg, size_t len);
/* Write the running configuration to g->conf_file, the old as FILE.bak. */
int reload_save(struct gonad *g, char *msg, size_t len);

/* datapath.c: the BPF objects, their pins and their tc attachments. */
enum dp_role { DP_GUEST, DP_UPLINK };
/* Whether the kernel has every BPF helper and map type the programs use;
 * if not, ERR names the first it lacks. Nothing is changed. */
int dp_probe_kernel(char *err, size_t len);
/* Load the data path with its maps sized for MAX_GUESTS, or adopt the
 * maps a previous gonad pinned in PIN_DIR with the size they have
 * (dp_max_guests says which). */
int dp_open(struct dp **out, const char *pin_dir, uint32_t max_guests);
/* KEEP_PINS leaves the maps in bpffs (a restart will adopt them). */
void dp_close(struct dp *dp, bool keep_pins);
/* The file descriptor of the data path's map NAME (carrier.c shares it). */
int dp_map_fd(const struct dp *dp, const char *name);
/* Whether dp_open found and reused the maps a previous gonad pinned. */
bool dp_adopted(const struct dp *dp);
/* Pins of another layout were replaced, and what their gonad owned (its
 * devices' qdiscs, trees, promiscuous mode) carried over: the devices it
 * served and this configuration does not are given back as after a
 * takeover (state_release_leftovers). */
bool dp_inherited(const struct dp *dp);
/* The guests its maps have room for (daemon.max_guests at its load). */
uint32_t dp_max_guests(const struct dp *dp);
/* The guest id the data path has for MAC (-ENOENT: none). */
int dp_guest_id_by_mac(struct dp *dp, const uint8_t mac[6], uint32_t *id);
/* The slot the data path has for the uplink device IFINDEX. */
int dp_uplink_slot(struct dp *dp, int ifindex, uint32_t *slot);
/* What gonad made on a device (GONA_OWN_*; 0 removes the entry). */
int dp_get_owned(struct dp *dp, int ifindex, uint32_t *flags);
int dp_set_owned(struct dp *dp, int ifindex, uint32_t flags);
struct dp_owned {
	int ifindex;
	uint32_t flags;
};
/* Every device the owned map names, in *OUT (to free). */
int dp_read_owned(struct dp *dp, struct dp_owned **out, size_t *n);
int dp_zero_guest_stats(struct dp *dp, uint32_t id);
int dp_zero_uplink_stats(struct dp *dp, unsigned int slot);
/* The uplinks the data path sends each guest to, by guest id (HOMES has
 * dp_max_guests entries, 0 where the data path has no guest). */
int dp_read_guest_homes(struct dp *dp, uint32_t *homes);
/* The data path's filter on IFINDEX's ingress, replacing one a previous
 * gonad left; a clsact qdisc made for it sets *MADE_CLSACT. A guest's
 * filter (TC given) carries its id, ID, as its classid. */
int dp_attach(struct dp *dp, struct tc *tc, int ifindex, enum dp_role role,
	      uint32_t id, bool *made_clsact);
int dp_detach(struct dp *dp, int ifindex, bool destroy_clsact);
int dp_set_uplink(struct dp *dp, unsigned int slot, int old_ifindex,
		  const struct gona_uplink *u);
int dp_set_globals(struct dp *dp, const struct gona_globals *gl);
/* The uplink SLOTS (a bit each) that are VFs of PF PF_IFINDEX, whose
 * carrier the tracer follows for them; 0 removes it. */
int dp_set_vf_pf(struct dp *dp, int pf_ifindex, uint32_t slots);
/* Guest ID's entry, V->ifindex its interface; deleting it leaves an
 * entry of no interface, whose filter drops every frame. */
int dp_set_guest(struct dp *dp, uint32_t id, const struct gona_guest *v);
int dp_del_guest(struct dp *dp, uint32_t id);
int dp_set_mac(struct dp *dp, const uint8_t mac[6], const struct gona_port *p);
int dp_del_mac(struct dp *dp, const uint8_t mac[6]);
/* Clear the data path's MAC filter of the bits of MACs deleted since it
 * was last made (they cost a look-up meanwhile); each sample. */
void dp_mac_filter_tidy(struct dp *dp);
int dp_set_addrs(struct dp *dp, uint32_t id, const struct conf_guest *cg);
int dp_del_addrs(struct dp *dp, uint32_t id, const struct conf_guest *cg);
int dp_set_flood(struct dp *dp, uint32_t id, const struct gona_port *p);
/* The VLANs a trunk guest tags itself, a bit per VID (conf_guest.vlans). */
int dp_set_trunk(struct dp *dp, uint32_t id, const uint64_t vlans[64]);
int dp_read_guest_stats(struct dp *dp, uint32_t id, struct gona_counters *sum);
int dp_read_uplink_stats(struct dp *dp, unsigned int slot,
			 struct gona_counters *sum);
int dp_zero_stats(struct dp *dp);
/* What guest ID sent out of uplink SLOT while spread, summed over CPUs. */
int dp_read_guest_uplink_bytes(struct dp *dp, uint32_t id, unsigned int slot,
			       uint64_t *sum);
/* EDT: the guest's pacing rate and horizon; its backlog drains at the new
 * rate. Rate 0 unpaces it and resets its clock. */
int dp_set_pacing(struct dp *dp, uint32_t id, uint64_t rate_bps,
		  uint64_t horizon_ns);
/* A spread guest's flow as the flow table holds it. */
struct dp_flow {
	struct gona_flow_key key;
	uint32_t slot;
	uint64_t bytes;
};
/* Every flow in the table, in *OUT (to free), at most GONA_MAX_FLOWS. */
int dp_read_flows(struct dp *dp, struct dp_flow **out, size_t *n);
/* Send the flow K out of uplink SLOT from its first packet after a pause
 * (GONA_FLOWLET_GAP_NS), or from WAIT_MS on if it never pauses. */
int dp_move_flow(struct dp *dp, const struct gona_flow_key *k,
		 unsigned int slot, uint64_t wait_ms);
/* Remove map entries a previous gonad left that the current state does not
 * own (after a crash), so the data path holds exactly what gonad knows. */
int dp_prune(struct dp *dp, const struct gonad *g);
/* The same for the MACs and addresses only, which the configuration alone
 * decides (no interface needed). */
int dp_prune_guests(struct dp *dp, const struct gonad *g);

/* netlink.c: rtnetlink link events and link changes. */
struct nl_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned int flags; /* IFF_* */
	bool gone; /* RTM_DELLINK */
	bool has_changes; /* the kernel gave carrier_changes */
	uint32_t carrier_changes; /* IFLA_CARRIER_CHANGES */
};
typedef void (*nl_link_cb)(struct gonad *g, const struct nl_link_info *li);
int nlmon_open(struct gonad *g, struct nlmon **out, nl_link_cb cb);
void nlmon_close(struct gonad *g, struct nlmon *nl);
/* Re-read every link and act on the whole (state_resync_begin, the
 * callback for each, state_resync_end); a dump the kernel interrupts is
 * read again. */
int nlmon_resync(struct nlmon *nl);
/* A re-read of the links after lost events, if the last one failed. */
void nlmon_retry(struct nlmon *nl);
int nl_set_promisc(struct nlmon *nl, int ifindex, bool on);
int nl_vf_get(struct nlmon *nl, int pf_ifindex, int vf,
	      struct nl_vf_state *out);
/* Turn ATTR (IFLA_VF_TRUST or IFLA_VF_SPOOFCHK) of VF VF ON or off. */
int nl_vf_set(struct nlmon *nl, int pf_ifindex, int vf, int attr, bool on);
/* Add MAC to (or remove it from) the unicast filter of device IFINDEX
 * ("bridge fdb add MAC dev DEV self"): a VF's driver passes it on to
 * the PF, which may refuse. */
int nl_fdb_self(struct nlmon *nl, int ifindex, const uint8_t mac[6], bool add);
/* Create (ADD) or delete the 802.1Q device NAME of VID on LINK: on a VF,
 * creating it makes the PF let frames of VID through to the VF. */
int nl_vlan_dev(struct nlmon *nl, int link, const char *name, uint16_t vid,
		bool add);
/* Delete the veth pair whose end here is NAME (-ENODEV: none such;
 * -EMEDIUMTYPE: NAME is not a veth, left alone). */
int nl_veth_del(struct nlmon *nl, const char *name);
/* A libnl error as a negative errno. */
int nl_err(int nlerr);

/* sriov.c: VF uplinks (see there). Identify DEV: id->is_vf false for a
 * device that is not a VF. */
int sriov_identify(const char *dev, struct vf_id *id);
/* On attach: what the VF is, and trust on, spoof checking off through
 * its PF if that is here; WAS: the owned flags a previous gonad left. */
void sriov_uplink_attach(struct gonad *g, struct uplink *u, uint32_t was);
/* GU's MAC into the filters of the VF uplinks among its homes that lack
 * it; true if one refused (GU is then barred from it). */
bool sriov_guest_add(struct gonad *g, struct guest *gu);
/* ... out of those of VF uplinks no longer among its homes; of all.
 * Either may leave a VF's VLAN unused: sriov_settle takes it away. */
void sriov_guest_prune(struct gonad *g, struct guest *gu);
void sriov_guest_forget(struct gonad *g, struct guest *gu);
/* On detach: the guests' MACs out of its filter (unless the device is
 * GONE), trust and spoof checking as they were. */
void sriov_uplink_release(struct gonad *g, struct uplink *u, bool gone);
/* A guest's VLANs changed: the VFs' may be needed no more. */
void sriov_vlans_changed(struct gonad *g);
/* After a batch of events: VLANs of VF uplinks no guest there needs. */
void sriov_settle(struct gonad *g);
/* The uplinks that are VFs of PF_IFINDEX, a bit each. */
uint32_t sriov_pf_slots(const struct gonad *g, int pf_ifindex);
/* The VF's state as its PF reports it now, for uplink show. */
void sriov_uplink_report(struct gonad *g, struct uplink *u);
/* A VF a previous gonad changed (OWN flags) and this one does not serve. */
void sriov_release_leftover(struct gonad *g, const char *dev, uint32_t own);

/* frames.c: the frames gonad writes itself, into FRAME_MAX bytes. */
#define FRAME_MAX 128
size_t frame_garp(uint8_t *f, const uint8_t *mac, const struct in_addr *a);
size_t frame_rarp(uint8_t *f, const uint8_t *mac);
/* F (LEN bytes, room for 4 more) tagged with 802.1Q VLAN VID after its
 * MACs, if VID is not 0; returns the new length. */
size_t frame_tag(uint8_t *f, size_t len, uint32_t vid);
size_t frame_unsolicited_na(uint8_t *f, const uint8_t *mac,
			    const struct in6_addr *a);
/* Probes of a monitor, and whether a received frame answers one. */
size_t frame_arp_probe(uint8_t *f, const uint8_t *mac,
		       const struct in_addr *target);
bool frame_is_arp_answer(const uint8_t *f, size_t len, const uint8_t *mac,
			 const struct in_addr *target);
size_t frame_ns_probe(uint8_t *f, const uint8_t *mac,
		      const struct in6_addr *src,
		      const struct in6_addr *target);
bool frame_is_na_answer(const uint8_t *f, size_t len, const uint8_t *mac,
			const struct in6_addr *src,
			const struct in6_addr *target);

/* monitor.c: ARP and ND probe monitors of uplinks. */
int monitor_start(struct gonad *g, struct uplink *u);
void monitor_stop(struct gonad *g, struct uplink *u);
const char *monitor_target(const struct uplink *u);
/* A socket filter for FD (AF_PACKET, every protocol): only received
 * frames of PROTO, tagged with VLAN VID (0: untagged). */
int monitor_sock_filter(int fd, uint16_t proto, uint32_t vid);
/* Since the uplink was last attached; all 0 without a running monitor. */
struct monitor_stats {
	uint64_t sent; /* probes that left */
	uint64_t answered; /* frames that answered one */
	uint64_t answer_ms; /* now_ms() of the last answer, 0: none yet */
};
void monitor_stats(const struct uplink *u, struct monitor_stats *out);

/* lacp.c: LACP (802.3ad) on the uplinks that are members of a link
 * aggregation group. lacp_open reads what a previous gonad left next to
 * the control socket SOCK (and tells the partners it is back); a
 * member's machines run from lacp_start (attached) to lacp_stop;
 * lacp_carrier after its carrier may have changed. lacp_close with KEEP
 * writes the members down for the next gonad (a restart), else forgets
 * them. */
int lacp_open(struct gonad *g, const char *sock);
void lacp_close(struct gonad *g, bool keep);
int lacp_start(struct gonad *g, struct uplink *u);
void lacp_stop(struct gonad *g, struct uplink *u);
void lacp_carrier(struct gonad *g, struct uplink *u);
/* A member's machines (NULL for an uplink not running LACP) and what
 * lacp.c counts of it. */
struct lacp_member_stats {
	uint64_t heard_ago_ms; /* the last LACPDU received; UINT64_MAX none */
	uint64_t markers; /* marker PDUs answered */
	uint64_t refused; /* frames refused as no LACPDU or marker */
	char refusal[160]; /* the last refusal's cause */
};
const struct lacp_port *lacp_port_of(const struct uplink *u,
				     struct lacp_member_stats *st);

/* announce.c: telling the fabric where a guest now is. */
int announce_open(struct gonad *g, struct announcer **out);
void announce_close(struct announcer *an);
/* GU was placed anew: announce it now and notify_count - 1 more times. */
void announce_moved(struct announcer *an, struct guest *gu);

/* tc.c: qdiscs and classes through libnl. Rates in bit/s, sizes in bytes. */
int tc_open(struct tc **out);
void tc_close(struct tc *tc);
int tc_htb_qdisc(struct tc *tc, int ifindex, uint32_t handle, uint32_t defcls);
int tc_htb_class(struct tc *tc, int ifindex, uint32_t parent, uint32_t classid,
		 const struct tc_rates *rt);
int tc_class_del(struct tc *tc, int ifindex, uint32_t classid);
/* Mark SEEN[m - FROM] for every class MAJOR:m on IFINDEX with FROM <= m <
 * FROM + N (one dump of the device's classes). */
int tc_class_minors(struct tc *tc, int ifindex, uint32_t major, uint32_t from,
		    uint8_t *seen, size_t n);
int tc_bfifo(struct tc *tc, int ifindex, uint32_t parent, uint32_t handle,
	     uint32_t limit);
/* fq at PARENT with room for LIMIT packets, FLOW_LIMIT per flow; an fq
 * with HANDLE there already is changed in place. */
int tc_fq(struct tc *tc, int ifindex, uint32_t parent, uint32_t handle,
	  uint32_t limit, uint32_t flow_limit);
/* The device's transmit queues (mq gives each a child qdisc). */
int tc_tx_queues(struct tc *tc, int ifindex);
/* EXCLUSIVE fails with -EEXIST if the device has a root qdisc already;
 * otherwise it is replaced. */
int tc_root_qdisc(struct tc *tc, int ifindex, uint32_t handle, const char *kind,
		  bool exclusive);
int tc_root_del(struct tc *tc, int ifindex);
/* Whether the device's root qdisc is of KIND with HANDLE. */
bool tc_root_is(struct tc *tc, int ifindex, uint32_t handle, const char *kind);
/*
 * A BPF filter on IFINDEX's clsact ingress with HANDLE and PRIO: program
 * PROG_FD, named NAME as tc shows it, in direct-action mode, with
 * CLASSID, which cls_bpf gives the program in skb->tc_classid (libbpf's
 * bpf_tc_attach sets none). One there with that handle and priority is
 * replaced atomically.
 */
int tc_bpf_ingress(struct tc *tc, int ifindex, uint32_t handle, uint32_t prio,
		   int prog_fd, const char *name, uint32_t classid);
/* The kernel's message for the last request it refused since
 * tc_said_reset, "" if none or it said nothing. */
const char *tc_said(const struct tc *tc);
void tc_said_reset(struct tc *tc);

/*
 * qos.c: the slices, enforced by one backend chosen at start (qos_htb.c,
 * qos_edt.c). The backends share the receive shaper (HTB on the guest
 * interface) and the sizes of buckets and queues.
 */
struct qos_ops {
	const char *name;
	/* Shape what leaves by the uplink; an uplink whose shaping cannot
	 * be built is not used. */
	int (*uplink_attach)(struct gonad *g, struct uplink *u);
	/* A placement or a slice changed: one guest's share depends on the
	 * others', so all are recomputed. */
	void (*update)(struct gonad *g);
	/* New rates were measured (every rebalance interval); or NULL. */
	void (*sample)(struct gonad *g);
	/* Every TICK_MS, if not 0: the backend measures for itself. */
	uint32_t tick_ms;
	void (*tick)(struct gonad *g);
	/* What the guest's data path entry carries for this backend. */
	void (*guest_entry)(const struct gonad *g, const struct guest *gu,
			    struct gona_guest *v);
	/* The guest is removed: what the backend holds for it goes. */
	void (*guest_gone)(struct gonad *g, struct guest *gu);
	/* What of an uplink's capacity CAP it gives guests. */
	uint64_t (*guest_capacity)(uint64_t cap);
};
extern const struct qos_ops qos_htb_ops;
extern const struct qos_ops qos_edt_ops;
int qos_open(struct gonad *g, enum conf_qos_backend want, char *err,
	     size_t errlen);
void qos_close(struct gonad *g);
const char *qos_name(const struct gonad *g);
int qos_uplink_attach(struct gonad *g, struct uplink *u);
/* GONE: the device went with everything on it; only forget. */
void qos_uplink_detach(struct gonad *g, struct uplink *u, bool gone);
void qos_update(struct gonad *g);
/* The receive shaper on the guest interface, after rx.max. */
int qos_guest_rx(struct gonad *g, struct guest *gu);
void qos_guest_detach(struct gonad *g, struct guest *gu, bool gone);
/* The guest is no more: its classes on the uplinks go. */
void qos_guest_gone(struct gonad *g, struct guest *gu);
void qos_sample(struct gonad *g);
void qos_tick(struct gonad *g);
void qos_guest_entry(const struct gonad *g, const struct guest *gu,
		     struct gona_guest *v);
uint64_t qos_guest_capacity(const struct gonad *g, const struct uplink *u);
/*
 * Each guest's share of uplink U's capacity CAP in SHARE (indexed like
 * g->guests; 0 where it is not placed): weighted max-min over the guests
 * placed there (policy/alloc.c), each claiming its slice (with the
 * guarantee in force, tx_min_kept) divided by its number of uplinks and
 * what it showed it wants: its MEASURED rate against ALLOWED, what the
 * backend let it send. HOW:
 *   QOS_RESERVE  an idle guest keeps its guarantee (HTB lends unused
 *                rate to the others itself);
 *   QOS_SPARE    what the demands leave goes to every guest by weight
 *                (EDT, whose rates are all a guest may send).
 */
#define QOS_RESERVE 0x1
#define QOS_SPARE 0x2
int qos_shares(const struct gonad *g, const struct uplink *u, uint64_t cap,
	       const uint64_t *measured, const uint64_t *allowed,
	       unsigned int how, uint64_t *share);
/*
 * The part of V (a guarantee, a ceiling, a demand) a guest spread over
 * several uplinks has on the one in SLOT: in proportion to what it sent
 * there, with a tenth of V spread evenly so a forsaken uplink can grow
 * again (distributed rate limiting); V / uplinks before anything was
 * measured, V itself on a single uplink. The parts add up to at most V.
 */
uint64_t qos_home_part(const struct guest *gu, unsigned int slot, uint64_t v);
/* A bucket for RATE: room for a 64 KiB GSO frame, or 10 ms at the rate. */
uint32_t qos_burst(uint64_t rate);
/* A queue for CEIL: 50 ms at it, at least 256 KiB. */
uint32_t qos_queue(uint64_t ceil);

/*
 * carrier.c: the uplinks' carrier changes traced in the kernel, the moment
 * a driver makes them (an uplink losing carrier is out of the data path
 * at once), each passed to state_carrier. Failing to trace is not fatal:
 * *OUT stays NULL and rtnetlink tells, later. KEEP leaves the tracing on
 * for the next gonad.
 */
int carrier_open(struct gonad *g, struct carrier **out);
void carrier_close(struct carrier *c, bool keep);

/* state.c: what gonad knows and how events change it. */
int state_init(struct gonad *g, struct conf *c);
void state_fini(struct gonad *g);
void state_link(struct gonad *g, const struct nl_link_info *li);
/* After each batch of events: the guests a VF refused meanwhile, placed
 * again. */
void state_vf_refusals(struct gonad *g);
/* Whether every guest with a VLAN in C (or the guest ONLY, if not NULL)
 * has an uplink that can tag it; else -EINVAL and why in MSG. */
int state_vlans_carried(const struct gonad *g, const struct conf *c,
			const char *only, char *msg, size_t len);
/* The carrier of device IFINDEX went ON or off, its CHANGES-th change,
 * at NS (CLOCK_MONOTONIC), as the driver made it. */
void state_carrier(struct gonad *g, int ifindex, bool on, uint64_t changes,
		   uint64_t ns);
/* Called after a full link dump: links not seen are gone. */
void state_resync_begin(struct gonad *g);
void state_resync_end(struct gonad *g);
void state_sample(struct gonad *g);
/*
 * A rebalancing round (policy/balance.c) over the rates last sampled:
 * moves guests if the uplinks' loads are uneven, holds them down, says in
 * MSG what it did and the loads. Unless NOW_OR_NEVER (gonactl rebalance)
 * or the busiest uplink carries more than twice the least busy, the loads
 * must have been uneven at the round before too. Returns the number moved
 * or -errno.
 */
int state_rebalance(struct gonad *g, bool now_or_never, char *msg, size_t len);
/* The guests' rates on U (a spread guest's as sent out of U). */
uint64_t state_uplink_load(const struct gonad *g, const struct uplink *u);
/* "up0 43%, up1 12% (down)": every uplink's load against capacity. */
void state_loads_str(const struct gonad *g, char *buf, size_t len);

/*
 * flows.c: a rebalancing round over spread guests' flows. For a guest not
 * held whose uplinks are uneven (as rebalancing judges uplinks), move the
 * one flow from its busiest uplink to its least busy that evens them out
 * most, and hold the guest. Rates come from the flow table's bytes since
 * the last round. Appends what moved to MSG; returns the flows moved.
 */
int flows_rebalance(struct gonad *g, char *msg, size_t len);
void flows_free(struct gonad *g);
/* Rewrite the guest's data path entry (placement, QoS marks). */
int state_push_guest(struct gonad *g, struct guest *gu);
/* What the kernel refused, written again (each sample). */
void state_retry(struct gonad *g);
void state_detach_all(struct gonad *g);
/* Let go of the devices without undoing anything: the data path stays
 * as it is for the gonad that follows. */
void state_leave_all(struct gonad *g);
/* After taking over: undo what the previous gonad made on devices this
 * configuration does not name (before dp_prune forgets them). */
void state_release_leftovers(struct gonad *g);
/* Live changes of the configuration, one object each (reload.c checks
 * the whole change first). Those returning true need the devices
 * re-read (nlmon_resync) to attach what they name. */
int state_guest_add(struct gonad *g, const struct conf_guest *cg);
void state_guest_del(struct gonad *g, struct guest *gu);
void state_guest_unlink(struct gonad *g, struct guest *gu);
void state_guest_unmac(struct gonad *g, struct guest *gu);
bool state_guest_change(struct gonad *g, struct guest *gu,
			const struct conf_guest *ng);
int state_uplink_add(struct gonad *g, const struct conf_uplink *cu);
void state_uplink_del(struct gonad *g, struct uplink *u);
bool state_uplink_change(struct gonad *g, struct uplink *u,
			 const struct conf_uplink *nc);
void state_guest_order(struct gonad *g, const struct conf *c);
void state_settle(struct gonad *g);
/* The delays timer fired: apply the uplink changes now due. */
void state_delays_due(struct gonad *g);
/* The uplink's monitor found its probes answered (OK) or not. */
void state_uplink_probe(struct gonad *g, struct uplink *u, bool ok);
/* The uplink's LACP partner aggregates it (OK) or no longer. */
void state_uplink_lacp(struct gonad *g, struct uplink *u, bool ok);
/* The failover self-test takes the uplink's carrier away (DOWN) or gives
 * it back: gonad and the data path take it as a carrier change. */
void state_uplink_test_carrier(struct gonad *g, struct uplink *u, bool down);
struct uplink *state_uplink(struct gonad *g, const char *name);
struct guest *state_guest(struct gonad *g, const char *name);
uint64_t state_uplink_guaranteed(const struct gonad *g, const struct uplink *u,
				 uint32_t *n_guests);
/* Whether the guests' tx.min, added up, fit what the uplinks carry under
 * policy.admission: -ENOSPC and MSG if not, with OVER (if given) the guest
 * whose tx.min passes the limit, for its line. */
int state_admit(const struct conf *c, char *msg, size_t len,
		const struct conf_guest **over);
/* Whether U is up and no other uplink is. */
bool state_last_uplink_up(const struct gonad *g, const struct uplink *u);
/* Change a running uplink from N KEY VALUE strings (admin up|down): all or
 * nothing; ERR says why not. */
int state_uplink_set(struct gonad *g, struct uplink *u, size_t n,
		     const char *const *kv, char *err, size_t errlen);
/* Change a running guest's slice from N KEY VALUE strings: all or
 * nothing; ERR says why not. */
int state_guest_set(struct gonad *g, struct guest *gu, size_t n,
		    const char *const *kv, char *err, size_t errlen);

/* control.c: the control socket and its commands. */
int ctl_open(struct gonad *g, struct ctl **out, const char *path);
void ctl_close(struct gonad *g, struct ctl *ctl);

/*
 * selftest.c: the failover self-test's side (gonactl test failover), for
 * the control connection OWNER: its guest (N KEY VALUE strings over
 * daemon.test), a failure of an uplink, and the end, which undoes both
 * (also called for every connection that ends). ERR says why not.
 */
int selftest_begin(struct gonad *g, const void *owner, size_t n,
		   const char *const *kv, char *err, size_t errlen);
int selftest_fail(struct gonad *g, const void *owner, const char *uplink,
		  const char *how, const char *dir, char *err, size_t errlen);
void selftest_end(struct gonad *g, const void *owner);
/* The running self-test's guest, to keep across a reload of the file:
 * added to NC; ERR says why it cannot be. */
int selftest_keep(struct gonad *g, struct conf *nc, char *err, size_t errlen);

/* metrics.c: every metric, in Prometheus' text format, to F. */
int metrics_write(FILE *f, struct gonad *g);
/* metrics_http.c: serve them on ADDR (daemon.metrics); ERR says why
 * not. metrics_close takes NULL. */
int metrics_open(struct gonad *g, const char *addr, struct metrics **out,
		 char *err, size_t len);
void metrics_close(struct gonad *g, struct metrics *m);

#endif
