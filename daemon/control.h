/* SPDX-License-Identifier: MIT */
/* The control protocol between gonad and gonactl: message layout, request
 * and reply records, and their checked encoding. gonactl includes this. */
#ifndef GONA_CONTROL_H
#define GONA_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Messages travel over a SOCK_SEQPACKET UNIX socket, one message per
 * datagram. A client sends one request; gonad answers with zero or more
 * records and ends with CTL_REP_DONE or CTL_REP_ERROR. Every message starts
 * with struct ctl_hdr and is checked in full (ctl_req_decode,
 * ctl_rep_decode) before any of it is used.
 */
#define CTL_MAGIC 0x474f4e41u /* "GONA" */
#define CTL_VERSION 1
#define CTL_MSG_MAX 65536
#define CTL_ARGS_MAX 64 /* strings in one request */
#define CTL_ARG_MAX 256 /* bytes in one string, with the NUL */
#define CTL_NAME_MAX 32
#define CTL_DEV_MAX 16
#define CTL_ADDRS_MAX 16
#define CTL_DROP_SLOTS 16
#define CTL_ERR_MAX 1024
#define CTL_HOMES_MAX 32 /* = GONA_MAX_UPLINKS */

struct ctl_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type; /* enum ctl_type */
	uint32_t len; /* the whole message, this header included */
	uint32_t argc; /* requests: NUL-terminated strings after the header */
};

enum ctl_type {
	/* Requests; their strings are the command's arguments. */
	CTL_REQ_STATUS = 1, /* none */
	CTL_REQ_UPLINK_SHOW, /* [NAME]: the uplink, then its guests */
	CTL_REQ_GUEST_SHOW, /* [NAME] */
	CTL_REQ_STATS, /* none: every uplink, then every guest */
	CTL_REQ_GUEST_SET, /* NAME KEY VALUE [KEY VALUE]... */
	CTL_REQ_UPLINK_SET, /* NAME KEY VALUE [KEY VALUE]... */
	CTL_REQ_REBALANCE, /* none: a rebalancing round now */
	CTL_REQ_RELOAD, /* none: re-read the configuration file */
	CTL_REQ_SAVE, /* none: write the running configuration to it */
	CTL_REQ_GUEST_ADD, /* NAME KEY VALUE [KEY VALUE]... */
	CTL_REQ_GUEST_DEL, /* NAME */
	CTL_REQ_UPLINK_ADD, /* NAME KEY VALUE [KEY VALUE]... */
	CTL_REQ_UPLINK_DEL, /* NAME */
	/* The failover self-test (gonactl test failover): its guest, added
	 * for this connection (KEY VALUE: device, mac, ipv4, ipv6, vlan;
	 * answered with its record); a failure of an uplink (NAME
	 * carrier|drain down|up); the end. Undone when the connection
	 * ends. */
	CTL_REQ_TEST_BEGIN,
	CTL_REQ_TEST_FAIL,
	CTL_REQ_TEST_END,
	CTL_REQ_MAX,
	/* Replies. */
	CTL_REP_DONE = 100, /* no payload */
	CTL_REP_ERROR, /* payload: a NUL-terminated message */
	CTL_REP_STATUS, /* struct ctl_status */
	CTL_REP_UPLINK, /* struct ctl_uplink */
	CTL_REP_GUEST, /* struct ctl_guest */
	CTL_REP_NOTE, /* payload: a NUL-terminated message for the user */
	CTL_REP_MAX,
};

/* Counters summed over CPUs, and rates measured over the last interval. */
struct ctl_counters {
	uint64_t read_us; /* when they were read, CLOCK_MONOTONIC: a rate
			     between two replies needs no clock of its own */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_bps; /* bits per second on the wire */
	uint64_t rx_bps;
	uint64_t drops[CTL_DROP_SLOTS]; /* by reason, see ctl_drop_name() */
};

struct ctl_status {
	char version[16];
	char backend[16]; /* QoS backend in use */
	char config[256]; /* the file gonad was started with */
	uint32_t pid;
	uint32_t uplinks_up;
	uint32_t uplinks_total;
	uint32_t guests_attached; /* guest interfaces present and served */
	uint32_t guests_total;
	/* The guests the data path has room for (its maps' size in force),
	 * which may be less than max_guests after taking over the data path
	 * of a gonad started with less. */
	uint32_t guests_room;
	uint64_t uptime_ms;
	uint64_t capacity_up; /* sum over uplinks that are up, bit/s */
	uint64_t guaranteed; /* sum of tx.min over all guests, bit/s */
	/* Degraded mode: the uplinks up cannot carry every guarantee. */
	uint64_t capacity_usable; /* what the uplinks up give guests */
	uint64_t kept; /* sum of the guarantees kept, <= guaranteed */
	uint8_t degraded;
	uint8_t pad2[7];
	char degrade[16]; /* policy.degrade */
	/* Rebalancing: rounds that moved guests, guests moved, how long ago
	 * the last (0: never). */
	uint32_t rebalance_rounds;
	uint32_t rebalance_moves;
	uint64_t rebalanced_ago_ms;
	/* Started by taking over a previous gonad's data path: the guests
	 * and uplinks it was serving. */
	uint8_t adopted;
	uint8_t keep_datapath; /* daemon.keep_datapath_on_stop */
	uint8_t pad3[2];
	uint32_t adopted_guests;
	uint32_t adopted_uplinks;
	/* Reloads done and refused; how long ago the last one was done (0:
	 * never); why the last refused one was ("" once one is done). */
	uint32_t reloads_ok;
	uint32_t reloads_failed;
	uint32_t max_guests; /* daemon.max_guests as configured */
	uint64_t reloaded_ago_ms;
	char reload_error[640];
	char backend_why[160]; /* why the QoS backend is the one in use */
	/* A VF uplink's last refusal, by uplink, "" none. */
	char vf_error[280];
};

/* What one end of an LACP member's link says of itself. */
struct ctl_lacp_end {
	uint16_t system_priority;
	uint16_t key;
	uint16_t port_priority;
	uint16_t port;
	uint8_t system[6];
	uint8_t state; /* LACP_ST_* bits */
	uint8_t pad;
};

struct ctl_uplink {
	char name[CTL_NAME_MAX];
	char device[CTL_DEV_MAX];
	uint32_t ifindex; /* 0 while the device does not exist */
	uint32_t slot;
	uint8_t present; /* the device exists and gona is attached to it */
	uint8_t carrier;
	uint8_t admin_up; /* not drained by the operator */
	uint8_t up; /* carries traffic */
	uint8_t designated; /* takes broadcast and multicast for the guests */
	uint8_t pad[3];
	uint32_t n_guests; /* guests placed on it */
	uint64_t capacity;
	uint64_t guaranteed; /* sum of the guarantees kept placed on it */
	char cause[16]; /* of the last change of up: carrier, admin... */
	uint64_t since_ms; /* how long ago that was; 0: no change yet */
	uint32_t n_down; /* times it went down */
	uint32_t pad2;
	uint64_t switch_us; /* that change: gonad to the data path map */
	uint64_t place_us; /* ... to the guests re-placed */
	/* Carrier changes traced in the drivers (else rtnetlink only); the
	 * last one: when (wall clock, us; 0 none yet), until gonad had it. */
	uint8_t traced;
	uint8_t pad4[7];
	uint64_t carrier_at_us;
	uint64_t carrier_lag_us;
	uint64_t carrier_tx_packets; /* sent out of it by then (loss only) */
	/* Its probe monitor: type "" (none), "arp" or "ns". */
	char monitor[8];
	char target[48];
	uint32_t interval_ms;
	uint32_t missed;
	uint8_t probe_ok; /* answered within missed x interval_ms */
	uint8_t pad3[3];
	uint32_t monitor_vlan; /* probes tagged with it; 0 untagged */
	uint64_t probes_sent; /* since the uplink was last attached */
	uint64_t probes_answered;
	uint64_t answer_ago_ms; /* the last answer; UINT64_MAX: none yet */
	uint64_t load_bps; /* the rates of the guests placed on it */
	char group[CTL_NAME_MAX]; /* "" if none */
	/* An SR-IOV VF: its PF (netdev, "" if not in this domain; its PCI
	 * address) and index; as the PF reports it (-1: not reported);
	 * whether gonad turned trust on and spoof checking off; the guests'
	 * MACs in its filter; its last refusal. */
	uint8_t is_vf;
	uint8_t vf_made_trust;
	uint8_t vf_made_nospoof;
	uint8_t pad5;
	int32_t vf_index;
	char vf_pf[CTL_DEV_MAX];
	char vf_pf_bus[32];
	int32_t vf_spoofchk;
	int32_t vf_trust;
	int32_t vf_link_state; /* IFLA_VF_LINK_STATE_AUTO, _ENABLE, _DISABLE */
	uint32_t vf_port_vlan; /* 0 none */
	uint32_t vf_filters;
	uint32_t vf_checked; /* of them, proved by an answer */
	uint32_t vf_pending; /* being checked */
	uint8_t vf_checkable; /* it has an ARP monitor to check them by */
	uint8_t pad6[3];
	char vf_error[200];
	/* LACP: its group ("" none) and settings; whether the member runs
	 * the protocol (attached) and carries guests (collecting and
	 * distributing with the group's partner), and why not ("" when it
	 * does); the machines' states; what each end says of itself. */
	char lacp_group[CTL_NAME_MAX];
	uint8_t lacp_fast;
	uint8_t lacp_active;
	uint8_t lacp_running;
	uint8_t lacp_usable;
	uint8_t pad7[4];
	struct ctl_lacp_end lacp_actor;
	struct ctl_lacp_end lacp_partner;
	char lacp_rx[16]; /* receive machine: CURRENT, EXPIRED... */
	char lacp_mux[32]; /* mux: COLLECTING_DISTRIBUTING... */
	char lacp_why[160];
	uint64_t lacp_rx_pdus;
	uint64_t lacp_tx_pdus;
	uint64_t lacp_expired; /* partner timeouts */
	uint64_t lacp_defaulted; /* no partner heard */
	uint64_t lacp_markers; /* marker PDUs answered */
	uint64_t lacp_refused; /* frames refused */
	uint64_t lacp_heard_ago_ms; /* the last LACPDU; UINT64_MAX none */
	char lacp_refusal[160]; /* the last refusal's cause */
	struct ctl_counters c;
};

struct ctl_guest {
	char name[CTL_NAME_MAX];
	char device[CTL_DEV_MAX];
	char homes[256]; /* uplink names, comma separated */
	uint8_t mac[6];
	uint8_t attached; /* the interface exists and gona is attached to it */
	uint8_t pad;
	uint32_t ifindex;
	uint32_t spread;
	uint32_t n_ipv4;
	uint32_t n_ipv6;
	uint32_t ipv4[CTL_ADDRS_MAX]; /* network byte order */
	uint8_t ipv6[CTL_ADDRS_MAX][16];
	uint32_t tx_weight;
	uint32_t tx_burst;
	uint64_t tx_min;
	uint64_t tx_min_kept; /* < tx_min in degraded mode */
	uint64_t tx_max;
	uint64_t rx_max;
	uint32_t priority;
	uint32_t n_rebalanced; /* times rebalancing moved it */
	uint64_t held_ms; /* rebalancing leaves it where it is this long */
	uint64_t paced_bps; /* EDT: the rate its frames leave at; 0 unpaced */
	uint32_t vlan; /* its untagged frames' VLAN; 0 none */
	uint32_t pad5;
	uint64_t vlans[64]; /* a trunk's own tags, a bit per VID */
	char primary[CTL_NAME_MAX]; /* its primary uplink; "" none */
	/* Per uplink in homes, in its order: what it sends there and its
	 * part of tx.min and tx.max there (0: none). */
	struct ctl_home {
		uint64_t tx_bps;
		uint64_t min;
		uint64_t max;
	} home[CTL_HOMES_MAX];
	struct ctl_counters c;
};

/* A decoded request; argv points into the buffer it was decoded from. */
struct ctl_req {
	uint16_t type;
	uint32_t argc;
	const char *argv[CTL_ARGS_MAX];
};

/* Encode a request of TYPE with ARGC strings into BUF; returns its length
 * or -E2BIG / -EINVAL. */
ssize_t ctl_req_encode(void *buf, size_t size, uint16_t type, int argc,
		       const char *const argv[]);
/* Check a received request completely; on error returns -EBADMSG and says
 * why in ERR. */
int ctl_req_decode(const void *buf, size_t len, struct ctl_req *req, char *err,
		   size_t errlen);

ssize_t ctl_rep_encode(void *buf, size_t size, uint16_t type,
		       const void *payload, size_t plen);
/* Check a received reply: header, the payload size its type fixes, and every
 * string in it NUL-terminated. */
int ctl_rep_decode(const void *buf, size_t len, uint16_t *type,
		   const void **payload, size_t *plen, char *err,
		   size_t errlen);

/* Short names of the drop reasons ("src-mac", ...), NULL past the last. */
const char *ctl_drop_name(unsigned int reason);

#endif
