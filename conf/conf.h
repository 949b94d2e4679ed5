/* SPDX-License-Identifier: MIT */
/* The configuration of gona: its model, and how it is parsed, checked,
 * printed and edited. The one public header of conf/. */
#ifndef GONA_CONF_H
#define GONA_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>

#define CONF_NAME_MAX 32 /* uplink and guest names, with the NUL */
#define CONF_ADDRS_MAX 16 /* addresses per family and guest */
#define CONF_UPLINKS_MAX 32 /* = GONA_MAX_UPLINKS */
/* daemon.max_guests: the default, and the most it may be. */
#define CONF_GUESTS_DEFAULT 1024 /* = GONA_GUESTS_DEFAULT */
#define CONF_GUESTS_LIMIT 16384 /* = GONA_GUESTS_LIMIT */
#define CONF_SOCKET_MAX 108 /* sizeof(sun_path) */
#define CONF_PATH_MAX 256
#define CONF_ERR_MAX 512
#define CONF_MIN_BURST 1514 /* one MTU-sized Ethernet frame */
#define CONF_VLAN_MAX 4094 /* 802.1Q VIDs are 1..4094 */

#ifndef GONA_SYSCONFDIR
#define GONA_SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_FILE GONA_SYSCONFDIR "/gona/gona.conf"
#define CONF_DEFAULT_SOCKET "/run/gona/gonad.sock"
#define CONF_DEFAULT_PIN_DIR "/sys/fs/bpf/gona"

/* A message for the user: "FILE:LINE: object: cause" or "object: cause". */
struct conf_err {
	char msg[CONF_ERR_MAX];
};

enum conf_monitor_type {
	CONF_MON_NONE = 0, /* carrier only */
	CONF_MON_ARP, /* ARP requests to an IPv4 target */
	CONF_MON_NS, /* neighbour solicitations to an IPv6 target */
};

struct conf_monitor {
	enum conf_monitor_type type;
	int target_af; /* AF_INET or AF_INET6 once a target is set, else 0 */
	struct in_addr target4; /* CONF_MON_ARP */
	struct in6_addr target6; /* CONF_MON_NS */
	uint32_t interval_ms; /* between probes */
	uint32_t missed; /* unanswered probes before the uplink is down */
	uint32_t vlan; /* probes tagged with this VLAN, answers expected in
			  it; 0 untagged */
};

/* LACP (802.3ad) membership of an uplink: "" group for none. The
 * group's members share key and system_priority (conf_check). */
enum conf_lacp_rate {
	CONF_LACP_FAST = 0, /* the partner is asked for a LACPDU a second */
	CONF_LACP_SLOW, /* one every 30 s */
};

struct conf_lacp {
	char group[CONF_NAME_MAX];
	enum conf_lacp_rate rate;
	bool active; /* sends LACPDUs unasked (default), or only answers */
	uint32_t system_priority; /* 1..65535, default 65535 */
	uint32_t port_priority; /* 1..65535, default 255 */
	uint32_t key; /* 1..65535, default 1 */
};

struct conf_uplink {
	char name[CONF_NAME_MAX];
	char device[IFNAMSIZ];
	uint64_t capacity; /* bits per second on the wire, > 0 */
	/* What it hangs off (a PF, a card, a switch): a spread guest's
	 * uplinks are taken from different groups where possible. "": a
	 * group of its own. */
	char group[CONF_NAME_MAX];
	struct conf_monitor monitor;
	struct conf_lacp lacp;
	int line; /* where it was defined, 0 if not from a file */
};

/* What a guest is promised. A rate of 0 means "none": no guarantee for
 * tx_min, no ceiling for tx_max and rx_max. */
struct conf_slice {
	uint64_t tx_min; /* guaranteed, bits per second */
	uint64_t tx_max; /* ceiling, bits per second */
	uint32_t tx_weight; /* share of spare capacity, 1..1000 */
	uint32_t tx_burst; /* bytes, 0 = derived from the rate */
	uint64_t rx_max; /* receive ceiling, bits per second */
};

struct conf_guest {
	char name[CONF_NAME_MAX];
	char device[IFNAMSIZ];
	uint8_t mac[6];
	size_t n_ipv4;
	size_t n_ipv6;
	struct in_addr ipv4[CONF_ADDRS_MAX];
	struct in6_addr ipv6[CONF_ADDRS_MAX];
	struct conf_slice slice;
	uint32_t spread; /* hash flows over up to this many uplinks, >= 1 */
	/* With policy.degrade "priority", guarantees are kept highest
	 * priority first when the uplinks up cannot carry them all. */
	uint32_t priority; /* 0..1000 */
	/* Its VLAN (1..4094, 0 none): its frames leave the uplinks tagged
	 * with it and only that VLAN's frames reach it, untagged. */
	uint32_t vlan;
	/* A trunk guest: the VLANs it may tag itself, a bit per VID. */
	uint64_t vlans[64];
	/* The uplink it is placed on whenever that is up, as bonding's
	 * primary ("" none): a failure moves it off, and it goes back
	 * with the failback. */
	char primary[CONF_NAME_MAX];
	/* Added by gonad for a while (the self-test's): never printed, and
	 * kept by a reload. */
	bool transient;
	int line;
};

static inline bool conf_vlan_has(const uint64_t *set, uint32_t vid)
{
	return vid <= CONF_VLAN_MAX && (set[vid / 64] & (1ull << (vid % 64)));
}

static inline bool conf_guest_is_trunk(const struct conf_guest *g)
{
	for (int i = 0; i < 64; i++)
		if (g->vlans[i])
			return true;
	return false;
}

enum conf_admission {
	CONF_ADMIT_N1 =
		0, /* guarantees survive the loss of the largest uplink */
	CONF_ADMIT_N, /* guarantees fit the sum of all uplinks */
	CONF_ADMIT_OFF, /* no check */
};

/* What gives when the uplinks up cannot carry every guarantee. */
enum conf_degrade {
	CONF_DEGRADE_PROPORTIONAL = 0, /* every guarantee shrinks alike */
	CONF_DEGRADE_PRIORITY, /* kept whole by falling guest priority */
};

enum conf_qos_backend {
	CONF_QOS_AUTO = 0, /* EDT where the kernel has sch_fq, else HTB */
	CONF_QOS_HTB, /* an HTB tree on each uplink */
	CONF_QOS_EDT, /* departure times from the data path, fq on uplinks */
};

#define CONF_BROADCAST_PPS_MAX 10000000u

struct conf_policy {
	uint32_t rebalance_interval_ms;
	/* Guests are moved when the busiest uplink's load exceeds the least
	 * busy one's by more than this many percent (relative to their
	 * capacities); a guest moved stays put for the hold-down time. */
	uint32_t rebalance_threshold;
	uint32_t rebalance_holddown_ms;
	/* Spread guests' flows keep the uplink their first packet took
	 * (true), or go where their hash says (false: no state, but large
	 * flows may share an uplink while another idles). */
	bool flow_table;
	bool failback; /* move guests back when their uplink returns */
	/* An uplink that fails (carrier, probes) is taken down only after
	 * downdelay_ms of failing, one that recovers is used again only
	 * after updelay_ms of health; 0: at once. */
	uint32_t updelay_ms;
	uint32_t downdelay_ms;
	enum conf_admission admission;
	enum conf_degrade degrade;
	enum conf_qos_backend qos_backend;
	/* After a guest moves: gratuitous ARP / unsolicited neighbour
	 * advertisements for its addresses out of its new uplink, this many
	 * (0: none), this far apart. */
	uint32_t notify_count;
	uint32_t notify_interval_ms;
	/* Broadcast and multicast frames a guest may send a second (per CPU;
	 * 0: no limit); more are dropped, counted as "storm". */
	uint32_t broadcast_pps;
};

/* The words of the enumerated keys ("n-1", "htb"...). */
const char *conf_admission_name(enum conf_admission a);
const char *conf_qos_backend_name(enum conf_qos_backend b);
const char *conf_degrade_name(enum conf_degrade d);

/* A TCP address to listen on: "IPV4:PORT" or "[IPV6]:PORT". */
#define CONF_LISTEN_MAX 64
struct conf_listen {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; the first 4 bytes for IPv4 */
	uint16_t port;
};

struct conf_daemon {
	char socket[CONF_SOCKET_MAX];
	char pin_dir[CONF_PATH_MAX];
	/* A clean stop leaves the data path running for the next gonad. */
	bool keep_datapath_on_stop;
	/* The guests the data path's maps are sized for at its load. */
	uint32_t max_guests;
	/* Where Prometheus' metrics are served ("" none). */
	char metrics[CONF_LISTEN_MAX];
	/* The failover self-test's probe guest (gonactl test failover):
	 * its mac, ipv4, ipv6 and vlan; the rest unused. */
	struct conf_guest test;
};

/* The self-test's guest's name: the failover self-test adds it while it
 * runs, never saved; no configured guest may be called so. */
#define CONF_TEST_GUEST "failover-test"

struct conf {
	struct conf_uplink *uplinks;
	size_t n_uplinks;
	struct conf_guest *guests;
	size_t n_guests;
	struct conf_policy policy;
	struct conf_daemon daemon;
	/* Where the uplinks list and the policy and daemon groups begin in
	 * the file, for messages; 0 if not there (or not from a file). */
	int uplinks_line, policy_line, daemon_line;
};

/* Parse and check FILE. On error returns a negative errno, *out is NULL and
 * err says "FILE:LINE: message". */
int conf_load(const char *file, struct conf **out, struct conf_err *err);
/* The same of TEXT (LEN bytes, NUL-terminated at LEN), named FILE in
 * messages. */
int conf_load_text(const char *file, const char *text, size_t len,
		   struct conf **out, struct conf_err *err);
void conf_free(struct conf *c);
struct conf *conf_dup(const struct conf *c);

/* Check the whole configuration (names, devices, MACs and addresses unique,
 * every object valid). FILE, if not NULL, prefixes messages as FILE:LINE. */
int conf_check(const struct conf *c, const char *file, struct conf_err *err);

/* Print the configuration in normalised libconfig syntax; the output parses
 * back to the same configuration. */
void conf_print(FILE *f, const struct conf *c);

/* Rates: "500M", "2.5G", "10G", "500mbit", "1gbit", "64000"; SI units.
 * Returns 0, -EINVAL (not a rate), -EDOM (negative) or -ERANGE (above
 * CONF_RATE_MAX, or not a whole number of bit/s). */
#define CONF_RATE_MAX 10000000000000ull /* 10T */
int conf_parse_rate(const char *s, uint64_t *bps);
/* "FILE:LINE" (what an error names), or "FILE" where LINE is 0 (not
 * from the file); in BUF. */
const char *conf_where(const char *file, int line, char *buf, size_t len);
/* Shortest exact form: 2500000000 -> "2.5G". */
char *conf_format_rate(uint64_t bps, char *buf, size_t len);
/* Sizes: "64K", "1M" (binary units), "1514". -EINVAL or -ERANGE. */
int conf_parse_size(const char *s, uint32_t *bytes);
char *conf_format_size(uint32_t bytes, char *buf, size_t len);
int conf_parse_mac(const char *s, uint8_t mac[6]);
char *conf_format_mac(const uint8_t mac[6], char *buf, size_t len);
/* "127.0.0.1:9465", "[::1]:9465" (port 1..65535). -EINVAL if not. */
int conf_parse_listen(const char *s, struct conf_listen *out);

/* Live editing, as gonactl does it. A guest starts from conf_guest_init()
 * (best effort, spread 1, weight 1) and takes KEY VALUE pairs: device, mac,
 * ipv4 and ipv6 (each adds one address), tx.min, tx.max, tx.weight,
 * tx.burst, rx.max, spread, priority, vlan (1..4094 or "none") and vlans
 * (a comma-separated list of VIDs and FIRST-LAST ranges, or "none",
 * replacing the list). Errors name
 * the guest and the key; on error the guest is unchanged. An unknown key
 * returns -ENOENT, a bad value -EINVAL. */
void conf_guest_init(struct conf_guest *g, const char *name);
int conf_guest_set(struct conf_guest *g, const char *key, const char *value,
		   struct conf_err *err);
/* The guest's own invariants (tx.min <= tx.max, device and MAC set...). */
int conf_guest_check(const struct conf_guest *g, struct conf_err *err);

/* Uplinks take device, capacity, monitor.type, monitor.target,
 * monitor.interval_ms, monitor.missed, monitor.vlan, lacp.group,
 * lacp.rate, lacp.active, lacp.system_priority, lacp.port_priority and
 * lacp.key the same way. */
void conf_uplink_init(struct conf_uplink *u, const char *name);
int conf_uplink_set(struct conf_uplink *u, const char *key, const char *value,
		    struct conf_err *err);
int conf_uplink_check(const struct conf_uplink *u, struct conf_err *err);

/* policy.* and daemon.* keys, without their prefix. */
int conf_policy_set(struct conf_policy *p, const char *key, const char *value,
		    struct conf_err *err);
int conf_daemon_set(struct conf_daemon *d, const char *key, const char *value,
		    struct conf_err *err);
void conf_defaults(struct conf *c);

struct conf_guest *conf_guest_find(const struct conf *c, const char *name);
struct conf_uplink *conf_uplink_find(const struct conf *c, const char *name);
/* Append a copy of G (checked against the rest with conf_check) or remove
 * the guest NAME. */
int conf_guest_add(struct conf *c, const struct conf_guest *g,
		   struct conf_err *err);
int conf_guest_del(struct conf *c, const char *name, struct conf_err *err);
/* The same for uplinks. */
int conf_uplink_add(struct conf *c, const struct conf_uplink *u,
		    struct conf_err *err);
int conf_uplink_del(struct conf *c, const char *name, struct conf_err *err);

#endif
