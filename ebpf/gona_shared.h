/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Map keys, values and limits shared by the eBPF data path and gonad. */
#ifndef GONA_SHARED_H
#define GONA_SHARED_H

/*
 * Only fixed-width types and explicit padding here: the same bytes are read
 * by the BPF programs and by gonad, and gonad asserts every size and offset
 * (daemon/datapath.c) so a layout change cannot slip through silently.
 */
#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock, 4 bytes */

#define GONA_MAX_UPLINKS 32
/* Guests: the maps are built for GONA_GUESTS_DEFAULT and gonad sizes them
 * at load (daemon.max_guests), up to GONA_GUESTS_LIMIT. */
#define GONA_GUESTS_DEFAULT 1024
#define GONA_GUESTS_LIMIT 16384
#define GONA_MAX_ADDRS 16 /* per address family and guest */
#define GONA_SPREAD_SLOTS 64 /* flow-hash slots of one guest */
#define GONA_DROP_SLOTS 16 /* room for drop reasons in the counters */
#define GONA_VLAN_MAX 4094 /* 802.1Q VIDs 1..4094 */
#define GONA_MAX_FLOWS 65536 /* flows of spread guests, least recent out */

/*
 * Why a frame was dropped. The programs return these as negative codes from
 * their helpers; one place turns a code into TC_ACT_SHOT and a counter.
 */
enum gona_drop {
	GONA_DROP_MALFORMED = 1, /* headers shorter than they claim */
	GONA_DROP_SRC_MAC, /* guest frame whose source MAC is not the guest's */
	GONA_DROP_SRC_IP4, /* guest IPv4 source not among its addresses */
	GONA_DROP_SRC_IP6, /* guest IPv6 source not among its addresses */
	GONA_DROP_ARP_SPOOF, /* guest ARP sender MAC or IP not the guest's */
	GONA_DROP_ND_SPOOF, /* guest neighbour advertisement for another's
			       address */
	GONA_DROP_ETHERTYPE, /* guest frame neither IPv4, IPv6 nor ARP */
	GONA_DROP_NO_UPLINK, /* every uplink of the guest is down */
	GONA_DROP_BCAST_DUP, /* broadcast/multicast on an uplink it is not
				taken from (globals.bcast_ifindex,
				GONA_UF_BCAST) */
	GONA_DROP_LOOP, /* a guest's own frame reflected back by the fabric,
			   or its unicast to its own MAC */
	GONA_DROP_GUEST_ABSENT, /* unicast for a guest whose interface is gone
				 */
	GONA_DROP_HORIZON, /* paced departure time beyond the drop horizon */
	GONA_DROP_VLAN, /* a guest's tag it may not use, or a frame of a VLAN
			   that is not the receiving guest's */
	GONA_DROP_STORM, /* a guest's broadcast or multicast beyond
			    globals.bcast_pps */
	GONA_DROP_MAX,
};

/* Per-CPU counters, one slot per guest id and per uplink slot. */
struct gona_counters {
	__u64 tx_packets; /* guest: sent by it; uplink: sent out on it */
	__u64 tx_bytes; /* bytes on the wire (GSO segments counted each) */
	__u64 rx_packets; /* guest: delivered to it; uplink: received for guests
			   */
	__u64 rx_bytes;
	__u64 drops[GONA_DROP_SLOTS]; /* indexed by enum gona_drop */
};

#define GONA_GF_PLACED 0x01 /* the guest has at least one uplink */
#define GONA_GF_PACED 0x02 /* EDT: stamp its frames from the pacing map */

/*
 * guests: an array indexed by guest id. The filter on a guest's interface
 * carries GONA_GUEST_CLASSID(id), which cls_bpf puts in skb->tc_classid
 * before the program runs: an indexed read, not a hash look-up, finds the
 * entry, and the entry's ifindex must be the interface the frame came in
 * on (an id's entry cleared or given to another interface drops it).
 */
struct gona_guest {
	__u32 id; /* index into guest_stats and the address maps */
	__u32 priority; /* skb->priority given to its frames (HTB class), 0 none
			 */
	__u8 mac[6];
	__u8 flags; /* GONA_GF_* */
	__u8 n_uplinks; /* distinct uplinks in slots[] */
	/* A spread guest's new flows take these in turn: its uplinks
	 * interleaved, each as often as its weight. */
	__u8 slots[GONA_SPREAD_SLOTS];
	__u32 homes; /* its uplinks, a bit per uplink slot */
	__u16 vlan; /* its frames' VLAN, tagged on the uplinks; 0 untagged */
	__u16 port_flags; /* GONA_PORT_* */
	/* Its first IPv4 address (0: none), also in guest_ip4: the source of
	 * most of its frames, checked without a look-up. gonad writes it
	 * before the address leaves guest_ip4. */
	__be32 ip4;
	__u32 ifindex; /* its interface; 0: no interface, its frames dropped */
};

/*
 * flows: LRU hash of a spread guest's flows. A flow keeps the uplink its
 * first packet took, so its packets are never reordered, until gonad moves
 * it or its uplink stops being one of the guest's. gonad moves a flow by
 * writing next_slot: the flow takes it after a pause in its packets of
 * GONA_FLOWLET_GAP_NS, when those it sent are out of the old uplink's
 * queues (a flowlet), or at move_by_ns if it never pauses that long.
 */
struct gona_flow_key {
	__u32 id; /* guest id */
	__u32 hash; /* skb flow hash */
};

struct gona_flow {
	__u32 slot; /* uplink slot */
	__u32 next_slot; /* where gonad moves it; slot when it stays */
	__u64 bytes; /* on the wire, added atomically */
	__u64 last_ns; /* its latest packet, bpf_ktime_get_ns() */
	__u64 move_by_ns; /* next_slot at once from then on */
};

#define GONA_FLOWLET_GAP_NS 10000000ull /* 10 ms */

/* guest_uplink_bytes: per-CPU array, index id * GONA_MAX_UPLINKS + slot:
 * what a spread guest sent out of each of its uplinks. */
#define GONA_GUEST_UPLINK_IDX(id, slot) ((id)*GONA_MAX_UPLINKS + (slot))

/* guest_by_mac: key struct gona_mac_key, value struct gona_port. */
struct gona_mac_key {
	__u8 addr[6];
	__u8 pad[2];
};

/*
 * guest_mac_filter: one entry, a bit for each guest MAC's hash. A clear
 * bit says no guest has the MAC without a look-up in guest_by_mac: the
 * most common destination, the fabric's router, and the source of the
 * fabric's broadcasts cost none. gonad sets a MAC's bit before it writes
 * the MAC's guest_by_mac entry and clears bits only by rebuilding the
 * filter from that map, so a set bit may be stale (a look-up that
 * misses, as before) but a guest's is never clear.
 */
#define GONA_MAC_FILTER_SHIFT 16
#define GONA_MAC_FILTER_BITS (1u << GONA_MAC_FILTER_SHIFT)
struct gona_mac_filter {
	__u64 bits[GONA_MAC_FILTER_BITS / 64];
};

/* The filter's bit for a MAC whose first four bytes read as LO and last
 * two as HI (in the host's byte order: one host): its 48 bits folded to
 * 32 and mixed by a multiplication (Fibonacci hashing), whose top bits
 * are the index. */
static inline __u32 gona_mac_hash_words(__u32 lo, __u16 hi)
{
	return (lo ^ hi) * 2654435761u >> (32 - GONA_MAC_FILTER_SHIFT);
}

/* ... of key K (gonad's side). The data path hashes the MAC from the
 * frame: a 64-bit read of a key it had just written in 4 and 2 bytes
 * waited for the stores to complete (no store forwarding), some 5 ns a
 * frame. */
static inline __u32 gona_mac_hash(const struct gona_mac_key *k)
{
	__u32 lo;
	__u16 hi;

	__builtin_memcpy(&lo, k->addr, sizeof(lo));
	__builtin_memcpy(&hi, k->addr + 4, sizeof(hi));
	return gona_mac_hash_words(lo, hi);
}

static inline int gona_mac_filter_has(const struct gona_mac_filter *f, __u32 h)
{
	return (f->bits[h / 64] >> (h % 64)) & 1;
}

static inline void gona_mac_filter_add(struct gona_mac_filter *f, __u32 h)
{
	f->bits[h / 64] |= 1ull << (h % 64);
}

/* A trunk guest may send and receive, tagged, the VLANs of its bitmap in
 * guest_trunk; its untagged frames are of its own vlan. */
#define GONA_PORT_TRUNK 0x01

/* A guest's interface, id and VLAN: guest_by_mac values and flood
 * entries. A frame of VLAN v (0: untagged) reaches the guest untagged if
 * v is its vlan, tagged if it is a trunk with v in its bitmap, else not. */
struct gona_port {
	__u32 ifindex; /* guest interface, 0 while it does not exist */
	__u32 id; /* guest id */
	__u16 vlan; /* 0: untagged */
	__u16 flags; /* GONA_PORT_* */
};

/* guest_trunk: array indexed by guest id, a bit per VID a trunk guest may
 * tag itself. */
struct gona_trunk {
	__u64 bits[64];
};

/* guest_ip4 / guest_ip6: presence of the key allows the source address. */
struct gona_ip4_key {
	__u32 id; /* guest id */
	__u32 addr; /* network byte order */
};

struct gona_ip6_key {
	__u32 id;
	__u8 addr[16];
};

#define GONA_UF_UP 0x01 /* carries traffic: present, carrier, admin up */
/* Broadcast and multicast are taken from it: the designated uplink, and
 * the other members of its LACP group that are up (the switch sends a
 * group frame out of one member of the bundle, any of them). */
#define GONA_UF_BCAST 0x02

/* uplinks: array indexed by uplink slot. */
struct gona_uplink {
	__u32 ifindex; /* 0 while the device does not exist */
	__u32 flags; /* GONA_UF_* */
};

/* globals: array of one element. */
#define GONA_GLF_HASH_FLOWS 0x01 /* no flow table: the hash picks the slot */
/* An uplink's carrier loss takes it out of use in the kernel at once,
 * before gonad hears of it (no policy.downdelay_ms to wait for). */
#define GONA_GLF_FAST_DOWN 0x02

struct gona_globals {
	/* The designated uplink: broadcast and multicast are taken from it,
	 * and from the uplinks marked GONA_UF_BCAST. */
	__u32 bcast_ifindex;
	__u32 n_flood; /* flood map entries to walk (indexed by guest id) */
	__u32 n_uplinks; /* uplink slots in use */
	__u32 flags; /* GONA_GLF_* */
	__u32 netns_ino; /* gonad's network namespace: uplink ifindexes are
			    its */
	__u32 bcast_pps; /* broadcast and multicast frames a guest may send
			    per second; 0: no limit */
};

/* storm: index guest id: the token bucket of its broadcast and multicast
 * (at most bcast_pps tokens, one a frame), one for all CPUs, under lock. */
struct gona_storm {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 at_ns; /* when tokens were last added */
	__u64 tokens;
};

/*
 * carrier_events: ring buffer of the carrier changes of the uplinks, as
 * the drivers make them (ebpf/carrier_trace.bpf.c). rtnetlink tells of a real
 * NIC's change only when the kernel's link watch runs, which it does at
 * most once a second.
 */
struct gona_carrier_event {
	__u32 ifindex;
	__u32 carrier; /* 1 on, 0 off */
	__u64 changes; /* the device's carrier changes so far, this one in
			  (rtnetlink's IFLA_CARRIER_CHANGES) */
	__u64 ns; /* when, CLOCK_MONOTONIC */
};

/*
 * pacing: array indexed by guest id, for the EDT backend. One virtual
 * clock per guest, whatever uplink its frames take: a frame departs at
 * next_ns (or now, if that has passed) and moves next_ns on by its length
 * at rate_bps. A frame that would end later than horizon_ns from now is
 * dropped (GONA_DROP_HORIZON) and moves nothing: the guest sends faster
 * than its rate, and its queue, in time, is full.
 */
struct gona_pacing {
	__u64 rate_bps; /* 0: not paced */
	__u64 next_ns; /* CLOCK_MONOTONIC */
	__u64 horizon_ns; /* the longest a frame of the guest may wait */
};

/* The QoS classes on every uplink (HTB backend): the qdisc's handle is
 * GONA_QOS_MAJOR:0 everywhere, so a frame keeps its class whatever uplink
 * the data path sends it to. A guest's frames carry GONA_QOS_PRIO(id) in
 * skb->priority. */
#define GONA_QOS_MAJOR 0x60a
#define GONA_QOS_ROOT_MINOR 0x1 /* the uplink's capacity */
#define GONA_QOS_HOST_MINOR 0x2 /* the driver domain's own traffic */
#define GONA_QOS_GUEST_MINOR(id) (0x100 + (id))
#define GONA_QOS_PRIO(id) ((GONA_QOS_MAJOR << 16) | GONA_QOS_GUEST_MINOR(id))

/*
 * What gonad made on a device, in the owned map keyed by ifindex: the
 * programs never read it; it tells the gonad that takes over after a
 * restart or a crash what is its to keep, change or undo.
 */
#define GONA_OWN_FILTER 0x01 /* our program is attached */
#define GONA_OWN_CLSACT 0x02 /* we created its clsact qdisc */
#define GONA_OWN_PROMISC 0x04 /* we turned promiscuous mode on */
#define GONA_OWN_QOS 0x08 /* the root qdisc is ours */
#define GONA_OWN_DRAINED 0x10 /* an uplink drained by the operator */
#define GONA_OWN_GUEST 0x20 /* a guest interface (else an uplink) */
#define GONA_OWN_PROBE_DOWN 0x40 /* an uplink whose probes went unanswered */
#define GONA_OWN_VF_TRUST 0x80 /* a VF uplink whose trust we turned on */
#define GONA_OWN_VF_NOSPOOF 0x100 /* ... whose spoof checking we turned off */
/* An uplink its LACP partner does not aggregate. */
#define GONA_OWN_LACP_DOWN 0x200

/* Handle and priority of gona's tc filters, so gonad can find its own. */
#define GONA_TC_HANDLE 0x60a
#define GONA_TC_PRIO 0x60a
/* The classid of guest ID's filter (shown by tc as flowid 60a:ID+1). The
 * kernel keeps its minor, 16 bits, in skb->tc_classid: 0 is a filter
 * without one. */
#define GONA_GUEST_CLASSID(id) (((__u32)GONA_TC_HANDLE << 16) | ((id) + 1))
#define GONA_GUEST_OF_CLASSID(c) ((__u32)((c)&0xffff) - 1)

#ifdef GONA_TEST
/*
 * Built with GONA_TEST only: each redirect the programs make is appended
 * here, because BPF_PROG_TEST_RUN reports the verdict but not where a
 * frame would have gone. The tests zero the log before each run.
 */
#define GONA_TEST_LOG_MAX 32

#define GONA_TEST_TAGGED 0x10000 /* in vlan: the frame carried a tag */

struct gona_test_event {
	__u32 ifindex; /* target of bpf_redirect or bpf_clone_redirect */
	__u32 clone; /* 1 for bpf_clone_redirect */
	__u32 vlan; /* the tag it left with: GONA_TEST_TAGGED | TCI, or 0 */
	__u32 pad;
};

struct gona_test_log {
	__u32 n; /* redirects made, may exceed GONA_TEST_LOG_MAX */
	__u32 hash; /* flow hash the uplink choice used, if it used one */
	struct gona_test_event ev[GONA_TEST_LOG_MAX];
};
#endif

#endif
