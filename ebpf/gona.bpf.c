/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* gona's data path: tc ingress of guest interfaces and of uplinks. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/maps.h"
#include "ebpf/parse.h"
#include "ebpf/counters.h"
#include "ebpf/redirect.h"
#include "ebpf/spoof.h"
#include "ebpf/vlan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct gona_flood_ctx {
	struct __sk_buff *skb;
	struct gona_wire wire;
	__u32 skip; /* the sender's own interface, 0 for none */
	__u32 vid; /* the frame's VLAN, 0 untagged */
};

/* One guest of the flood list gets a copy, if the frame's VLAN is one of
 * its own, tagged as it takes that VLAN; bpf_loop callback. */
static long gona_flood_one(__u32 i, void *arg)
{
	struct gona_flood_ctx *fc = arg;
	struct gona_port *port;
	int tagged;

	port = bpf_map_lookup_elem(&flood, &i);
	if (!port)
		return 1;
	if (!port->ifindex || port->ifindex == fc->skip)
		return 0;
	tagged = gona_vlan_member(port->vlan, port->flags, port->id, fc->vid);
	if (tagged < 0 || gona_vlan_set(fc->skb, tagged, fc->vid))
		return 0;
	if (gona_redirect(fc->skb, port->ifindex, true) == 0)
		gona_count_rx(&guest_stats, port->id, &fc->wire);
	return 0;
}

/*
 * A copy of a broadcast or multicast frame of VLAN VID to every guest
 * interface of that VLAN but SKIP. bpf_loop keeps the verifier's work
 * constant however many guests the flood list may hold. The frame may
 * leave with another tag than it came with: the caller sets the one it
 * needs. Packet pointers are stale afterwards.
 */
static __always_inline void gona_flood(struct __sk_buff *skb, __u32 n,
				       __u32 skip, const struct gona_wire *w,
				       __u32 vid)
{
	struct gona_flood_ctx fc = {
		.skb = skb, .wire = *w, .skip = skip, .vid = vid
	};

	if (n > GONA_GUESTS_LIMIT)
		n = GONA_GUESTS_LIMIT;
	bpf_loop(n, gona_flood_one, &fc, 0);
}

static __always_inline struct gona_globals *gona_globals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&globals, &zero);
}

/* The guest whose MAC is at MAC (in the frame), NULL for none: a clear
 * bit in the MAC filter answers without a hash look-up (gona_shared.h),
 * from the MAC read into registers; only a look-up builds its key. */
static __always_inline struct gona_port *gona_port_of(const __u8 *mac)
{
	__u32 zero = 0, lo = *(const __u32 *)mac;
	__u16 hi = *(const __u16 *)(mac + 4);
	struct gona_mac_filter *f;
	struct gona_mac_key k;

	f = bpf_map_lookup_elem(&guest_mac_filter, &zero);
	if (f && !gona_mac_filter_has(f, gona_mac_hash_words(lo, hi)))
		return NULL;
	gona_mac_key_set(&k, mac);
	return bpf_map_lookup_elem(&guest_by_mac, &k);
}

/*
 * Whether guest ID may send one more broadcast or multicast frame: a
 * token bucket of PPS tokens a second, as deep as a second's worth, one
 * for all the CPUs a guest sends from (under its lock: a broadcast is the
 * rare frame). One guest's storm must not cost every other guest a copy
 * of each frame.
 */
static __always_inline bool gona_storm_ok(__u32 id, __u32 pps)
{
	struct gona_storm *s;
	__u64 now, dt, add;
	bool ok;

	if (!pps)
		return true;
	s = bpf_map_lookup_elem(&storm, &id);
	if (!s)
		return true;
	now = bpf_ktime_get_ns();
	bpf_spin_lock(&s->lock);
	dt = now > s->at_ns ? now - s->at_ns : 0;
	if (dt > 1000000000ull)
		dt = 1000000000ull;
	add = dt * pps / 1000000000ull;
	if (add) {
		/* Full, the bucket starts afresh; otherwise the time a token
		 * less than a whole one was earning stays earned. */
		if (s->tokens + add >= pps) {
			s->tokens = pps;
			s->at_ns = now;
		} else {
			s->tokens += add;
			s->at_ns += add * 1000000000ull / pps;
		}
	}
	ok = s->tokens > 0;
	if (ok)
		s->tokens--;
	bpf_spin_unlock(&s->lock);
	return ok;
}

static __always_inline bool gona_uplink_ok(const struct gona_uplink *up)
{
	return (up->flags & GONA_UF_UP) && up->ifindex;
}

/*
 * The first usable uplink after *SLOT, wrapping over the slots in use;
 * *SLOT becomes its slot. NULL when every uplink is down.
 */
static __always_inline struct gona_uplink *gona_uplink_fallback(__u32 *slot)
{
	struct gona_globals *gl = gona_globals();
	struct gona_uplink *up;
	__u32 n, s;

	if (!gl)
		return NULL;
	n = gl->n_uplinks;
	for (__u32 i = 1; i < GONA_MAX_UPLINKS; i++) {
		if (i >= n)
			break;
		s = (*slot + i) % n;
		up = bpf_map_lookup_elem(&uplinks, &s);
		if (up && gona_uplink_ok(up)) {
			*slot = s;
			return up;
		}
	}
	return NULL;
}

/*
 * EDT: the frame's departure time on the guest's virtual clock. While the
 * guest has a backlog, frames on several CPUs take their turns atomically,
 * so its rate holds whatever CPUs and uplink queues its frames cross; a
 * guest that was idle starts at now, where two CPUs may both start a frame
 * (one frame early, once).
 */
static __always_inline int gona_pace(struct __sk_buff *skb,
				     const struct gona_guest *g,
				     const struct gona_wire *w)
{
	struct gona_pacing *p;
	__u64 now, next, cost, t;
	__u32 id = g->id;

	p = bpf_map_lookup_elem(&pacing, &id);
	if (!p || !p->rate_bps)
		return 0;
	now = bpf_ktime_get_ns();
	cost = w->bytes * 8 * 1000000000ull / p->rate_bps;
	/* Read once: other CPUs move it meanwhile. */
	next = *(volatile __u64 *)&p->next_ns;
	if (next <= now) {
		if (cost > p->horizon_ns)
			return -GONA_DROP_HORIZON;
		*(volatile __u64 *)&p->next_ns = now + cost;
		t = now;
	} else {
		if (next + cost - now > p->horizon_ns)
			return -GONA_DROP_HORIZON;
		t = __sync_fetch_and_add(&p->next_ns, cost);
	}
	bpf_skb_set_tstamp(skb, t, BPF_SKB_TSTAMP_DELIVERY_MONO);
	return 0;
}

/*
 * A spread guest's flow: the uplink slot it keeps. A new flow, or one
 * whose uplink is no longer the guest's, takes the guest's next turn in
 * its slots (its uplinks in turn, by weight), so flows spread evenly
 * however their hashes fall. A flow gonad moved takes its new uplink at
 * a pause (gona_shared.h). Counts the frame on the flow.
 */
static __always_inline __u32 gona_flow_slot(struct __sk_buff *skb,
					    const struct gona_guest *g,
					    const struct gona_wire *w)
{
	struct gona_flow_key k = { .id = g->id };
	struct gona_flow *f, nf = { .bytes = w->bytes };
	struct gona_globals *gl = gona_globals();
	__u32 id = g->id, *turn, n;

	k.hash = bpf_get_hash_recalc(skb);
	gona_test_note_hash(k.hash);
	/* policy.flow_table off: plain hashing, as bonding's layer3+4. */
	if (gl && (gl->flags & GONA_GLF_HASH_FLOWS))
		return g->slots[k.hash % GONA_SPREAD_SLOTS];
	f = bpf_map_lookup_elem(&flows, &k);
	if (f && f->slot < GONA_MAX_UPLINKS && (g->homes & (1u << f->slot))) {
		__u64 now = bpf_ktime_get_ns();
		__u32 slot = f->slot, to = f->next_slot;

		/* gonad's move, at a pause or its deadline: the frames
		 * before it are through the old uplink by then. */
		if (to != slot && to < GONA_MAX_UPLINKS &&
		    (g->homes & (1u << to)) &&
		    ((__s64)(now - f->last_ns) >= (__s64)GONA_FLOWLET_GAP_NS ||
		     (__s64)(now - f->move_by_ns) >= 0)) {
			slot = to;
			f->slot = to;
		}
		f->last_ns = now;
		__sync_fetch_and_add(&f->bytes, w->bytes);
		return slot;
	}
	turn = bpf_map_lookup_elem(&flow_turn, &id);
	n = k.hash;
	if (turn) {
		/* Two new flows at once on two CPUs may share a turn. */
		n = *turn;
		__sync_fetch_and_add(turn, 1);
	}
	nf.slot = g->slots[n % GONA_SPREAD_SLOTS];
	nf.next_slot = nf.slot;
	nf.last_ns = bpf_ktime_get_ns();
	/* Full of recent flows, the map forgets the least recent. */
	bpf_map_update_elem(&flows, &k, &nf, BPF_ANY);
	return nf.slot;
}

/*
 * The uplink a frame of guest G leaves by, with its HTB class and
 * departure time set and tagged with VLAN VID if not 0; *SLOT becomes the
 * uplink's slot. NULL with *DROP set when it cannot leave. A guest on one
 * uplink has every slot naming it; only a spread guest (n_uplinks > 1)
 * has flows.
 */
static __always_inline struct gona_uplink *gona_uplink_for(
	struct __sk_buff *skb, const struct gona_guest *g,
	const struct gona_wire *w, __u32 vid, __u32 *slot, int *drop)
{
	struct gona_uplink *up;
	int r;

	*drop = -GONA_DROP_NO_UPLINK;
	if (!(g->flags & GONA_GF_PLACED))
		return NULL;
	*slot = g->n_uplinks > 1 ? gona_flow_slot(skb, g, w) : g->slots[0];
	up = bpf_map_lookup_elem(&uplinks, slot);
	if (!up || !gona_uplink_ok(up)) {
		up = gona_uplink_fallback(slot);
		if (!up)
			return NULL;
	}
	/*
	 * Always written, 0 included: a container guest can set SO_PRIORITY,
	 * which crosses the veth, and would otherwise pick its own HTB class
	 * (another guest's, or the qdisc's handle, which HTB sends unshaped).
	 */
	skb->priority = g->priority;
	if (g->flags & GONA_GF_PACED) {
		r = gona_pace(skb, g, w);
		if (r < 0) {
			*drop = r;
			return NULL;
		}
	}
	r = gona_vlan_set(skb, vid != 0, vid);
	if (r < 0) {
		*drop = r;
		return NULL;
	}
	return up;
}

/* A frame of guest G out of the uplink in SLOT, counted on both; and for
 * a spread guest, its bytes on that uplink (what rebalancing weighs). */
static __always_inline void gona_count_to_uplink(const struct gona_guest *g,
						 __u32 slot,
						 const struct gona_wire *w)
{
	gona_count_tx(&guest_stats, g->id, w);
	gona_count_tx(&uplink_stats, slot, w);
	if (g->n_uplinks > 1) {
		__u32 idx = GONA_GUEST_UPLINK_IDX(g->id, slot);
		__u64 *b = bpf_map_lookup_elem(&guest_uplink_bytes, &idx);

		if (b)
			*b += w->bytes;
	}
}

/* To the fabric through the guest's uplink. */
static __always_inline int gona_to_uplink(struct __sk_buff *skb,
					  const struct gona_guest *g,
					  const struct gona_wire *w, __u32 vid)
{
	struct gona_uplink *up;
	__u32 slot;
	int drop;

	up = gona_uplink_for(skb, g, w, vid, &slot, &drop);
	if (!up)
		return drop;
	gona_count_to_uplink(g, slot, w);
	return gona_redirect(skb, up->ifindex, false);
}

/* Guest to guest, without touching the fabric, within VLAN VID. */
static __always_inline int gona_to_guest(struct __sk_buff *skb,
					 const struct gona_guest *g,
					 const struct gona_port *port,
					 const struct gona_wire *w, __u32 vid)
{
	int tagged;

	/* Its own MAC: never sent back where it came from, as a bridge
	 * port without hairpin mode does not. */
	if (port->id == g->id)
		return -GONA_DROP_LOOP;
	tagged = gona_vlan_member(port->vlan, port->flags, port->id, vid);
	if (tagged < 0)
		return tagged;
	if (!port->ifindex)
		return -GONA_DROP_GUEST_ABSENT;
	if (gona_vlan_set(skb, tagged, vid))
		return -GONA_DROP_VLAN;
	gona_count_tx(&guest_stats, g->id, w);
	gona_count_rx(&guest_stats, port->id, w);
	return gona_redirect(skb, port->ifindex, false);
}

/* The guest's own MAC and addresses, checked on the linear bytes. */
static __always_inline int gona_guest_check(struct __sk_buff *skb,
					    const struct gona_guest *g)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	if (!gona_mac_eq(eth->h_source, g->mac))
		return -GONA_DROP_SRC_MAC;
	/* The receive path took the outer tag off before tc; a tag still in
	 * the frame is a second one (or was not taken off). */
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return -GONA_DROP_VLAN;
	case bpf_htons(ETH_P_IP):
		return gona_check_ip4(data, data_end, g);
	case bpf_htons(ETH_P_IPV6):
		return gona_check_ip6(data, data_end, g);
	case bpf_htons(ETH_P_ARP):
		return gona_check_arp(data, data_end, g);
	default:
		return -GONA_DROP_ETHERTYPE;
	}
}

static __always_inline int gona_guest_tx_frame(struct __sk_buff *skb,
					       const struct gona_guest *g)
{
	struct gona_globals *gl;
	struct gona_port *port;
	struct gona_wire wire;
	void *data, *data_end;
	struct ethhdr *eth;
	bool group;
	int ret, vid;

	vid = gona_guest_vid(skb, g);
	if (vid < 0)
		return vid;
	ret = gona_guest_check(skb, g);
	/* Headers cut short in the linear area, with more in the frame. */
	if (ret == -GONA_DROP_MALFORMED && gona_pull_more(skb))
		ret = gona_guest_check(skb, g);
	if (ret < 0)
		return ret;

	gona_wire_read(skb, &wire);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -GONA_DROP_MALFORMED;
	group = gona_mac_is_group(eth->h_dest);
	if (group) {
		gl = gona_globals();
		if (gl && !gona_storm_ok(g->id, gl->bcast_pps))
			return -GONA_DROP_STORM;
		if (gl)
			gona_flood(skb, gl->n_flood, skb->ifindex, &wire, vid);
	} else {
		port = gona_port_of(eth->h_dest);
		if (port)
			return gona_to_guest(skb, g, port, &wire, vid);
	}
	return gona_to_uplink(skb, g, &wire, vid);
}

/*
 * The classid of the filter the program runs from, which cls_bpf puts in
 * skb->tc_classid. BPF_PROG_TEST_RUN cannot set that field, so the
 * GONA_TEST build takes it from cb[0], where its tests put it.
 */
static __always_inline __u32 gona_classid(const struct __sk_buff *skb)
{
#ifdef GONA_TEST
	return skb->cb[0];
#else
	return skb->tc_classid;
#endif
}

/* The guest whose filter runs the program, by the filter's classid;
 * NULL if that guest's entry is not this interface's. */
static __always_inline struct gona_guest *gona_guest_of(
	const struct __sk_buff *skb)
{
	__u32 id = GONA_GUEST_OF_CLASSID(gona_classid(skb));
	struct gona_guest *g = bpf_map_lookup_elem(&guests, &id);

	return g && g->ifindex == skb->ifindex ? g : NULL;
}

/*
 * tc ingress of a guest interface: what the guest sends. gonad writes the
 * guest's entry before it attaches this program and clears it after it
 * removes it, so a frame whose entry is not found is one of an interface
 * whose entry could not be written, or was cleared: it is dropped (fail
 * closed), never let past the anti-spoofing checks into the fabric or
 * the driver domain.
 */
static __always_inline int gona_guest_tx_run(struct __sk_buff *skb)
{
	struct gona_guest *g = gona_guest_of(skb);

	if (!g)
		return TC_ACT_SHOT;
	return gona_verdict(&guest_stats, g->id, gona_guest_tx_frame(skb, g));
}

SEC("tc")
int gona_guest_tx(struct __sk_buff *skb)
{
	return gona_guest_tx_run(skb);
}

/*
 * Whether broadcast and multicast are taken from uplink IFINDEX (slot
 * SLOT): the designated one, or one gonad marked as a member of its LACP
 * group, out of any of which the switch may send the bundle's copy. The
 * designated one first: a gonad of before GONA_UF_BCAST sets only that,
 * and the look-up is paid by the frames it turns away. An entry of
 * another device (its slot being taken over) is not this uplink's.
 */
static __always_inline bool gona_bcast_from(const struct gona_globals *gl,
					    __u32 ifindex, __u32 slot)
{
	struct gona_uplink *up;

	if (ifindex == gl->bcast_ifindex)
		return true;
	up = bpf_map_lookup_elem(&uplinks, &slot);
	return up && (up->flags & GONA_UF_BCAST) && up->ifindex == ifindex;
}

static __always_inline int gona_uplink_rx_frame(struct __sk_buff *skb,
						__u32 slot)
{
	struct gona_globals *gl;
	struct gona_port *port;
	struct gona_wire wire;
	void *data, *data_end;
	struct ethhdr *eth;
	int vid, tagged;
	bool group;

	/* Service (802.1ad) tags are the driver domain's. */
	vid = gona_frame_vid(skb);
	if (vid < 0)
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	group = gona_mac_is_group(eth->h_dest);

	if (group) {
		/* The link's own protocols, from every uplink: gonad's LACP
		 * runs on each, and its packet socket sees a frame only if
		 * it passes here. Never the guests': no bridge forwards
		 * them. */
		if (gona_mac_is_link_local(eth->h_dest))
			return TC_ACT_OK;
		if (gona_port_of(eth->h_source))
			return -GONA_DROP_LOOP;
		gl = gona_globals();
		if (!gl || !gona_bcast_from(gl, skb->ifindex, slot))
			return -GONA_DROP_BCAST_DUP;
		gona_wire_read(skb, &wire);
		gona_flood(skb, gl->n_flood, 0, &wire, vid);
		gona_count_rx(&uplink_stats, slot, &wire);
		/* On to the driver domain's stack, tagged as it came. */
		gona_vlan_set(skb, vid != 0, vid);
		return TC_ACT_OK;
	}

	port = gona_port_of(eth->h_dest);
	if (!port)
		return TC_ACT_OK;
	if (gona_port_of(eth->h_source))
		return -GONA_DROP_LOOP;
	tagged = gona_vlan_member(port->vlan, port->flags, port->id, vid);
	if (tagged < 0)
		return tagged;
	if (!port->ifindex)
		return -GONA_DROP_GUEST_ABSENT;
	if (gona_vlan_set(skb, tagged, vid))
		return -GONA_DROP_VLAN;
	gona_wire_read(skb, &wire);
	gona_count_rx(&uplink_stats, slot, &wire);
	gona_count_rx(&guest_stats, port->id, &wire);
	return gona_redirect(skb, port->ifindex, false);
}

/*
 * tc ingress of an uplink: frames for the guests go to them, the rest on
 * to the driver domain's own stack.
 */
SEC("tc")
int gona_uplink_rx(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	__u32 *slot;

	slot = bpf_map_lookup_elem(&uplink_by_ifindex, &ifindex);
	if (!slot)
		return TC_ACT_OK;
	return gona_verdict(&uplink_stats, *slot,
			    gona_uplink_rx_frame(skb, *slot));
}
