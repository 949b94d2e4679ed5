/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU counters of wire bytes and packets, and the verdict of drops. */
#ifndef GONA_COUNTERS_H
#define GONA_COUNTERS_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "ebpf/gona_shared.h"
#include "ebpf/parse.h"

/* What one frame is on the wire: a GSO packet is several frames. */
struct gona_wire {
	__u64 bytes;
	__u64 packets;
};

/*
 * HTB charges a GSO packet its length plus the headers of every segment
 * after the first (qdisc_pkt_len_init), so gona's rates count the same way.
 * The L2+L3+L4 header length is parsed only for GSO packets, whose headers
 * the stack (or GRO) made linear.
 */
static __always_inline void gona_wire_read(struct __sk_buff *skb,
					   struct gona_wire *w)
{
	__u32 segs = skb->gso_segs;

	w->bytes = skb->len;
	w->packets = 1;
	if (segs > 1) {
		w->bytes += (__u64)(segs - 1) * gona_hdr_len(skb);
		w->packets = segs;
	}
}

/*
 * Counters are per CPU and a program runs on one CPU without migrating,
 * so plain additions are exact. A missing slot (an id beyond the map)
 * counts nowhere rather than failing the frame.
 */
static __always_inline void gona_count_tx(void *stats, __u32 idx,
					  const struct gona_wire *w)
{
	struct gona_counters *c = bpf_map_lookup_elem(stats, &idx);

	if (!c)
		return;
	c->tx_packets += w->packets;
	c->tx_bytes += w->bytes;
}

static __always_inline void gona_count_rx(void *stats, __u32 idx,
					  const struct gona_wire *w)
{
	struct gona_counters *c = bpf_map_lookup_elem(stats, &idx);

	if (!c)
		return;
	c->rx_packets += w->packets;
	c->rx_bytes += w->bytes;
}

/*
 * The verdict of a program: RET is a TC_ACT_* code, or -GONA_DROP_* from
 * a helper, which becomes TC_ACT_SHOT and one more drop of that reason on
 * slot IDX of STATS. Nothing else in the data path drops a frame.
 */
static __always_inline int gona_verdict(void *stats, __u32 idx, int ret)
{
	struct gona_counters *c;
	__u32 reason;

	if (ret >= 0)
		return ret;
	reason = -ret;
	c = bpf_map_lookup_elem(stats, &idx);
	if (c && reason < GONA_DROP_SLOTS) {
		/* Masked too, the compiler kept from knowing it is a no-op:
		 * Linux 6.1's verifier loses the upper half of a register
		 * negated in 32 bits (-mcpu=v3), which a 32-bit comparison
		 * does not bound, and would refuse the index. */
		asm volatile("" : "+r"(reason));
		c->drops[reason & (GONA_DROP_SLOTS - 1)]++;
	}
	return TC_ACT_SHOT;
}

#endif
