/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-guest VLANs: which VLAN a frame is of, whether a guest may have it,
 * and the tag it leaves with. By the time tc sees a frame the receive path
 * has taken its outer tag off into skb->vlan_tci, and bpf_skb_vlan_push
 * and _pop change only that field while the frame's tag is there: so a
 * frame is re-tagged for each guest of a flood at the cost of a store.
 */
#ifndef GONA_VLAN_H
#define GONA_VLAN_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/maps.h"

#define GONA_VID_MASK 0x0fff

/* The tag after the MACs (linux/if_vlan.h is not for BPF programs). */
struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

/*
 * The VID of the frame's tag, 0 untagged; -1 for a tag that is not
 * 802.1Q (an 802.1ad service tag: not a guest VLAN), a frame with a
 * second tag after it (Q-in-Q: the driver domain's too, never a guest's;
 * taking one tag off would move the next into skb->vlan_tci, where the
 * flood's re-tagging would lose it), or one that could not be read.
 * A tag still in the frame's data (a path that did not take it off, or a
 * BPF_PROG_TEST_RUN frame) is moved into skb->vlan_tci first, so every
 * frame is judged and re-tagged alike. Packet pointers are stale
 * afterwards.
 */
static __always_inline int gona_frame_vid(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	__be16 proto;
	__u16 tci;

	if (!skb->vlan_present) {
		if ((void *)(vh + 1) > data_end)
			return 0;
		proto = eth->h_proto;
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			return 0;
		tci = bpf_ntohs(vh->h_vlan_TCI);
		if (bpf_skb_vlan_pop(skb) || bpf_skb_vlan_push(skb, proto, tci))
			return -1;
	}
	/* With the tag in vlan_tci, skb->protocol is the type after it. */
	if (skb->vlan_proto != bpf_htons(ETH_P_8021Q) ||
	    skb->protocol == bpf_htons(ETH_P_8021Q) ||
	    skb->protocol == bpf_htons(ETH_P_8021AD))
		return -1;
	return skb->vlan_tci & GONA_VID_MASK;
}

static __always_inline bool gona_trunk_has(__u32 id, __u32 vid)
{
	struct gona_trunk *t = bpf_map_lookup_elem(&guest_trunk, &id);

	vid &= GONA_VID_MASK;
	return t && (t->bits[vid >> 6] & (1ull << (vid & 63)));
}

/*
 * How a frame of VLAN VID reaches a guest of VLAN VLAN (FLAGS, ID): 0
 * untagged, 1 tagged, -GONA_DROP_VLAN not at all.
 */
static __always_inline int gona_vlan_member(__u16 vlan, __u16 flags, __u32 id,
					    __u32 vid)
{
	if (vid == vlan)
		return 0;
	if (vid && (flags & GONA_PORT_TRUNK) && gona_trunk_has(id, vid))
		return 1;
	return -GONA_DROP_VLAN;
}

/*
 * The VLAN of a frame guest G sends: its own, or for a trunk guest the
 * tag it put on, if it may. An access guest's own tags, and tags not
 * 802.1Q, are refused: tagging is gona's to do.
 */
static __always_inline int gona_guest_vid(struct __sk_buff *skb,
					  const struct gona_guest *g)
{
	int vid = gona_frame_vid(skb);

	/* Untagged, the common case: vlan_present is read once. */
	if (vid == 0)
		return skb->vlan_present ? -GONA_DROP_VLAN : g->vlan;
	if (vid <= 0 || !(g->port_flags & GONA_PORT_TRUNK) ||
	    !gona_trunk_has(g->id, vid))
		return -GONA_DROP_VLAN;
	return vid;
}

/*
 * Make the frame carry a tag of VID (TAGGED) or none. A tag that is
 * already right stays, with its priority bits. 0, or -GONA_DROP_VLAN
 * when the kernel could not (no memory for a tag in the frame's data).
 * Packet pointers are stale afterwards.
 */
static __always_inline int gona_vlan_set(struct __sk_buff *skb, int tagged,
					 __u32 vid)
{
	if (skb->vlan_present) {
		if (tagged && (skb->vlan_tci & GONA_VID_MASK) == vid)
			return 0;
		if (bpf_skb_vlan_pop(skb))
			return -GONA_DROP_VLAN;
	}
	if (tagged && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid))
		return -GONA_DROP_VLAN;
	return 0;
}

#endif
