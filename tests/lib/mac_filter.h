/* SPDX-License-Identifier: MIT */
/*
 * For the programs that fill the data path's maps themselves (tests/bpf,
 * tests/fuzz/fuzz_datapath, bench/bpf_cost): a guest MAC's bit in the
 * data path's filter of guest MACs, set as gonad sets it before it writes
 * the MAC's guest_by_mac entry (the data path looks up only MACs whose bit
 * is set).
 */
#ifndef GONA_TESTS_MAC_FILTER_H
#define GONA_TESTS_MAC_FILTER_H

#include <string.h>

#include <bpf/libbpf.h>

#include "ebpf/gona_shared.h"

/* Set MAC's bit in FILTER (the guest_mac_filter map); 0 or -errno. */
static inline int mac_filter_add(struct bpf_map *filter, const __u8 mac[6])
{
	struct gona_mac_key k = { 0 };
	struct gona_mac_filter f;
	__u32 zero = 0;
	int r;

	memcpy(k.addr, mac, 6);
	r = bpf_map__lookup_elem(filter, &zero, sizeof(zero), &f, sizeof(f), 0);
	if (r)
		return r;
	gona_mac_filter_add(&f, gona_mac_hash(&k));
	return bpf_map__update_elem(filter, &zero, sizeof(zero), &f, sizeof(f),
				    BPF_ANY);
}

#endif
