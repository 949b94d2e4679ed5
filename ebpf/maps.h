/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The maps of gona's data path; their names are the contract with gonad. */
#ifndef GONA_MAPS_H
#define GONA_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"

/* Room for every address of every guest, per family. */
#define GONA_MAX_ADDR_KEYS (GONA_GUESTS_DEFAULT * GONA_MAX_ADDRS)

/*
 * Nothing is pinned here: gonad sets every map's pin path before it loads
 * the object, so that several gonad instances can keep their own. The
 * maps sized by the number of guests have GONA_GUESTS_DEFAULT here and
 * daemon.max_guests after gonad sized them (daemon/datapath.c).
 *
 * The hash maps gonad writes while the programs read them (the guests by
 * MAC, their addresses) are not preallocated: a preallocated element
 * replaced or deleted goes back to the free list at once, and may hold
 * another key's value while a program on another CPU still reads it (a
 * frame judged by another guest's entry). Before Linux 6.1 an element not
 * preallocated was freed after an RCU grace period. Since 6.1 (hash maps on
 * bpf_mem_alloc, Debian 12's kernel included) it goes to the per-CPU
 * free list of the CPU that freed it, which that CPU's next allocation
 * takes at once: gonad's next insert on the same CPU may reuse it while
 * a program still reads it, a window of one program's reads as with
 * preallocation. Not closed yet (a program's reads of an entry are not
 * checked against a reuse). The rare writes pay an allocation.
 */

/*
 * By guest id (the filter's classid), written in place: a frame read on
 * another CPU during gonad's write of its guest's entry may mix the
 * entry's old and new fields, each a value the guest had or has (a MAC
 * changed live could be read torn for the copy's nanoseconds). An id
 * given to another guest loses its filter first; a frame still carrying
 * it is dropped when the entry's ifindex is not its interface's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, struct gona_guest);
} guests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, struct gona_mac_key);
	__type(value, struct gona_port);
} guest_by_mac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gona_mac_filter);
} guest_mac_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GONA_MAX_ADDR_KEYS);
	__type(key, struct gona_ip4_key);
	__type(value, __u8);
} guest_ip4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GONA_MAX_ADDR_KEYS);
	__type(key, struct gona_ip6_key);
	__type(value, __u8);
} guest_ip6 SEC(".maps");

/* uplinks, uplink_by_ifindex, globals */
#include "ebpf/maps_uplinks.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct gona_port);
} flood SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, struct gona_trunk);
} guest_trunk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, struct gona_counters);
} guest_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GONA_MAX_UPLINKS);
	__type(key, __u32); /* uplink slot */
	__type(value, struct gona_counters);
} uplink_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, struct gona_pacing);
} pacing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, struct gona_storm);
} storm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GONA_MAX_FLOWS);
	__type(key, struct gona_flow_key);
	__type(value, struct gona_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT);
	__type(key, __u32); /* guest id */
	__type(value, __u32); /* new flows so far: the next turn in slots */
} flow_turn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GONA_GUESTS_DEFAULT *GONA_MAX_UPLINKS);
	__type(key, __u32); /* GONA_GUEST_UPLINK_IDX(id, slot) */
	__type(value, __u64); /* bytes on the wire */
} guest_uplink_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GONA_GUESTS_DEFAULT + GONA_MAX_UPLINKS);
	__type(key, __u32); /* ifindex */
	__type(value, __u32); /* GONA_OWN_* */
} owned SEC(".maps");

#ifdef GONA_TEST
/* Where each frame was sent, for the BPF_PROG_TEST_RUN tests only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gona_test_log);
} test_log SEC(".maps");
#endif

#endif
