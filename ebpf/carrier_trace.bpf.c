/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Carrier changes of the uplinks as the drivers make them: after
 * netif_carrier_off() an uplink is out of the data path's use at once,
 * and gonad hears of every change through a ring buffer. rtnetlink tells
 * of a real NIC's change only when the link watch runs, at most once a
 * second; a veth's, at once. Loaded beside gona.bpf.c, on its maps.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/kernel.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* gona.bpf.c's uplink maps, whose file descriptors gonad hands this
 * object: created only there. */
#include "ebpf/maps_uplinks.h"

/* Its own: read by the gonad that loaded it. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} carrier_events SEC(".maps");

/*
 * Out of use: GONA_UF_UP cleared, in one atomic step. Clearing it by a
 * load and a store would write back the other flags as they were read,
 * undoing a change of gonad's in between (GONA_UF_BCAST, as the uplink
 * joins or leaves its LACP group).
 */
static __always_inline void gona_uplink_down(struct gona_uplink *up)
{
	struct gona_uplink keep = { .ifindex = ~0u, .flags = ~GONA_UF_UP };
	__u64 mask;

	/* The whole entry, 8 bytes and aligned as an array map's values
	 * are: a 32-bit atomic needs a newer BPF target than gona builds
	 * for. */
	_Static_assert(sizeof(keep) == sizeof(mask), "gona_uplink");
	__builtin_memcpy(&mask, &keep, sizeof(mask));
	__sync_fetch_and_and((__u64 *)up, mask);
}

static __always_inline int gona_carrier(struct net_device *dev, bool on)
{
	struct gona_carrier_event *e;
	struct gona_globals *gl;
	struct gona_uplink *up;
	__u32 zero = 0, ifindex, *slot, *slots;

	/* Every device of the machine passes here: only an uplink of
	 * gonad's own namespace counts (ifindexes are per namespace). */
	gl = bpf_map_lookup_elem(&globals, &zero);
	if (!gl || !gl->netns_ino || dev->nd_net.net->ns.inum != gl->netns_ino)
		return 0;
	ifindex = (__u32)dev->ifindex;
	slot = bpf_map_lookup_elem(&uplink_by_ifindex, &ifindex);
	if (slot) {
		if (!on && (gl->flags & GONA_GLF_FAST_DOWN)) {
			up = bpf_map_lookup_elem(&uplinks, slot);
			if (up && up->ifindex == ifindex)
				gona_uplink_down(up);
		}
	} else {
		/* The PF of VF uplinks: its carrier loss is theirs. */
		slots = bpf_map_lookup_elem(&vf_pfs, &ifindex);
		if (!slots)
			return 0;
		/* Unrolled: older verifiers see a loop whose counter is on
		 * the stack (a map key) as endless. */
		if (!on && (gl->flags & GONA_GLF_FAST_DOWN)) {
			__u32 bits = *slots;

#pragma clang loop unroll(full)
			for (int i = 0; i < GONA_MAX_UPLINKS; i++) {
				__u32 key = (__u32)i;

				if (!(bits & (1u << i)))
					continue;
				up = bpf_map_lookup_elem(&uplinks, &key);
				if (up)
					gona_uplink_down(up);
			}
		}
	}
	e = bpf_ringbuf_reserve(&carrier_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ifindex = ifindex;
	e->carrier = on;
	e->changes = (__u64)(__u32)dev->carrier_up_count.counter +
		     (__u32)dev->carrier_down_count.counter;
	e->ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* After the change (fexit): the counts include it. The argument is the
 * device, typed by the kernel's BTF of the function. */
SEC("fexit/netif_carrier_off")
int gona_carrier_off(unsigned long long *ctx)
{
	return gona_carrier((struct net_device *)ctx[0], false);
}

SEC("fexit/netif_carrier_on")
int gona_carrier_on(unsigned long long *ctx)
{
	return gona_carrier((struct net_device *)ctx[0], true);
}
