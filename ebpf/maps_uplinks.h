/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The uplink maps: the data path's (ebpf/maps.h) and the carrier tracer's
 * (carrier_trace.bpf.c), which gonad hands the tracer, made only once. */
#ifndef GONA_MAPS_UPLINKS_H
#define GONA_MAPS_UPLINKS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_MAX_UPLINKS);
	__type(key, __u32); /* uplink slot */
	__type(value, struct gona_uplink);
} uplinks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GONA_MAX_UPLINKS);
	__type(key, __u32); /* ifindex of the uplink */
	__type(value, __u32); /* uplink slot */
} uplink_by_ifindex SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gona_globals);
} globals SEC(".maps");

/* The PFs of VF uplinks: a VF does not always lose carrier with its PF
 * (qemu's igb never tells it), so the PF's carrier is the VFs' too. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GONA_MAX_UPLINKS);
	__type(key, __u32); /* ifindex of the PF */
	__type(value, __u32); /* its VFs' uplink slots, a bit each */
} vf_pfs SEC(".maps");

#endif
