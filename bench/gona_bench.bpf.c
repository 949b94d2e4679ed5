/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * gona's data path as shipped, with entry points of its own for
 * bench/bpf_cost. BPF_PROG_TEST_RUN runs one skb REPEAT times, and what a
 * run changes stays for the next: a VLAN guest's frame would carry the tag
 * the run before pushed, and the uplink's frame would have lost the tag
 * the run before popped. These entries put the frame back as the receive
 * path hands it over (no tag for a guest, the tag in skb->vlan_tci for an
 * uplink) and then do what gona_guest_tx and gona_uplink_rx do; they are
 * measured for untagged and VLAN guests alike, so the ratio of the two
 * carries that cost on both sides.
 *
 * cls_bpf puts the filter's classid in skb->tc_classid before it runs the
 * program, and gona_guest_tx finds its guest by it; BPF_PROG_TEST_RUN
 * cannot set that field, so every entry here stores guest 0's first, as
 * cls_bpf does (one store, which the reference program does not pay).
 *
 * The stage_* entries do a prefix of gona_guest_tx's work for a guest's
 * unicast frame to the fabric and then redirect to bench_target (stages
 * 4 and 5 to the uplink they chose): what each adds over the one before
 * is where gona_guest_tx's time goes. whatif_one_record is stage 5 with
 * another way of counting, weighed for a decision, not shipped.
 */
#include "ebpf/gona.bpf.c"

/* The VLAN the uplink's frames arrive in, 0 untagged; set by the bench. */
volatile __u32 bench_rx_vid;

/* What cls_bpf does for guest 0's filter; read back by the program, not
 * taken from the compiler's copy. */
static __always_inline void bench_classid(struct __sk_buff *skb)
{
	skb->tc_classid = GONA_GUEST_CLASSID(0);
	asm volatile("" ::: "memory");
}

/* gona_guest_tx, as cls_bpf runs it for guest 0. */
SEC("tc")
int bench_tx(struct __sk_buff *skb)
{
	bench_classid(skb);
	return gona_guest_tx_run(skb);
}

SEC("tc")
int bench_guest_tx(struct __sk_buff *skb)
{
	if (skb->vlan_present)
		bpf_skb_vlan_pop(skb);
	bench_classid(skb);
	return gona_guest_tx_run(skb);
}

SEC("tc")
int bench_uplink_rx(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, vid = bench_rx_vid;
	__u32 *slot;

	if (vid && !skb->vlan_present)
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid);
	slot = bpf_map_lookup_elem(&uplink_by_ifindex, &ifindex);
	if (!slot)
		return TC_ACT_OK;
	return gona_verdict(&uplink_stats, *slot,
			    gona_uplink_rx_frame(skb, *slot));
}

/* What the two entries above add: a tag pushed and popped, per run. Half
 * of it is one of their helper calls. */
SEC("tc")
int bench_tag_cycle(struct __sk_buff *skb)
{
	bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 10);
	bpf_skb_vlan_pop(skb);
	return bpf_redirect(skb->ifindex, 0);
}

/* The uplink the stages redirect to; set by the bench. */
volatile __u32 bench_target;

/* 1: the guest's entry, found by the filter's classid. */
SEC("tc")
int stage_guest(struct __sk_buff *skb)
{
	bench_classid(skb);
	if (!gona_guest_of(skb))
		return TC_ACT_SHOT;
	return bpf_redirect(bench_target, 0);
}

/* Stages 1 and 2: the frame's guest, if it is found and the frame passes
 * its VLAN and anti-spoofing checks; NULL if not. */
static __always_inline struct gona_guest *bench_checked(struct __sk_buff *skb)
{
	struct gona_guest *g;

	bench_classid(skb);
	g = gona_guest_of(skb);
	if (!g || gona_guest_vid(skb, g) < 0 || gona_guest_check(skb, g) < 0)
		return NULL;
	return g;
}

/* 2: and its VLAN and anti-spoofing checks (MAC, IP source, ARP/ND). */
SEC("tc")
int stage_checks(struct __sk_buff *skb)
{
	if (!bench_checked(skb))
		return TC_ACT_SHOT;
	return bpf_redirect(bench_target, 0);
}

/* Stages 1 to 3: and the look-up of the destination among the guests,
 * a miss for a frame to the fabric (the guest, or NULL if not). */
static __always_inline struct gona_guest *bench_to_fabric(struct __sk_buff *skb)
{
	struct gona_guest *g = bench_checked(skb);
	struct ethhdr *eth;

	if (!g)
		return NULL;
	eth = (void *)(long)skb->data;
	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return NULL;
	return gona_port_of(eth->h_dest) ? NULL : g;
}

/* 3: and the destination. */
SEC("tc")
int stage_dest(struct __sk_buff *skb)
{
	if (!bench_to_fabric(skb))
		return TC_ACT_SHOT;
	return bpf_redirect(bench_target, 0);
}

/*
 * Not shipped, weighed against the shipped counters: one per-CPU record
 * per guest and uplink slot, of packets and bytes, in place of the
 * guest's and the uplink's. It is as exact (a guest's frames to the
 * fabric are the sum of its slots, an uplink's the sum of its guests) but
 * gonad would read a record per guest and slot each interval; what it
 * saves per frame is what this bench reports.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT *GONA_MAX_UPLINKS);
	__type(key, __u32); /* GONA_GUEST_UPLINK_IDX(id, slot) */
	__type(value, struct gona_wire);
} whatif_guest_uplink_tx SEC(".maps");

enum bench_counting {
	BENCH_COUNT_NONE,
	BENCH_COUNT_SHIPPED, /* the guest's record and the uplink's */
	BENCH_COUNT_ONE_RECORD, /* whatif_guest_uplink_tx's */
};

/* Stages 1 to 4, and the frame counted HOW (a constant at each call), to
 * the uplink it leaves by. */
static __always_inline int bench_out(struct __sk_buff *skb,
				     enum bench_counting how)
{
	struct gona_guest *g = bench_to_fabric(skb);
	struct gona_uplink *up;
	struct gona_wire w, *c;
	__u32 slot, idx;
	int drop;

	if (!g)
		return TC_ACT_SHOT;
	gona_wire_read(skb, &w);
	up = gona_uplink_for(skb, g, &w, g->vlan, &slot, &drop);
	if (!up)
		return TC_ACT_SHOT;
	if (how == BENCH_COUNT_SHIPPED)
		gona_count_to_uplink(g, slot, &w);
	if (how == BENCH_COUNT_ONE_RECORD) {
		idx = GONA_GUEST_UPLINK_IDX(g->id, slot);
		c = bpf_map_lookup_elem(&whatif_guest_uplink_tx, &idx);
		if (c) {
			c->packets += w.packets;
			c->bytes += w.bytes;
		}
	}
	return bpf_redirect(up->ifindex, 0);
}

/* 4: and the uplink, its HTB class and the frame's tag, to that uplink:
 * all of gona_guest_tx but its counters. */
SEC("tc")
int stage_uplink(struct __sk_buff *skb)
{
	return bench_out(skb, BENCH_COUNT_NONE);
}

/* 5: and the counters as shipped. */
SEC("tc")
int stage_counted(struct __sk_buff *skb)
{
	return bench_out(skb, BENCH_COUNT_SHIPPED);
}

/* Stage 5 counting the other way. */
SEC("tc")
int whatif_one_record(struct __sk_buff *skb)
{
	return bench_out(skb, BENCH_COUNT_ONE_RECORD);
}
