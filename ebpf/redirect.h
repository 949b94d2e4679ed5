/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The one redirect wrapper, which the test build makes log its targets. */
#ifndef GONA_REDIRECT_H
#define GONA_REDIRECT_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/maps.h"

/*
 * BPF_PROG_TEST_RUN returns TC_ACT_REDIRECT but not the target, so the
 * GONA_TEST build appends every target to test_log. The shipped build
 * compiles these to nothing.
 */
static __always_inline void gona_test_note_redirect(struct __sk_buff *skb,
						    __u32 ifindex, bool clone)
{
#ifdef GONA_TEST
	struct gona_test_log *log;
	__u32 zero = 0, n;

	log = bpf_map_lookup_elem(&test_log, &zero);
	if (!log)
		return;
	n = log->n;
	if (n < GONA_TEST_LOG_MAX) {
		log->ev[n].ifindex = ifindex;
		log->ev[n].clone = clone;
		log->ev[n].vlan = skb->vlan_present
					  ? GONA_TEST_TAGGED | skb->vlan_tci
					  : 0;
	}
	log->n = n + 1;
#else
	(void)skb;
	(void)ifindex;
	(void)clone;
#endif
}

static __always_inline void gona_test_note_hash(__u32 hash)
{
#ifdef GONA_TEST
	struct gona_test_log *log;
	__u32 zero = 0;

	log = bpf_map_lookup_elem(&test_log, &zero);
	if (log)
		log->hash = hash;
#else
	(void)hash;
#endif
}

/*
 * Send the frame out of IFINDEX (egress). CLONE, a constant at every call,
 * sends a copy now and keeps the frame (0 or a negative errno); otherwise
 * the frame itself goes when the program returns (TC_ACT_REDIRECT).
 */
static __always_inline long gona_redirect(struct __sk_buff *skb, __u32 ifindex,
					  bool clone)
{
	gona_test_note_redirect(skb, ifindex, clone);
	if (clone)
		return bpf_clone_redirect(skb, ifindex, 0);
	return bpf_redirect(ifindex, 0);
}

#endif
