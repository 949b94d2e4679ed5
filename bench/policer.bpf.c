/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bench/slices' reference: a ceiling enforced by a token-bucket drop
 * policer in a tc program, as policers do it: a frame the bucket cannot
 * pay for is dropped, not delayed. Passes with TC_ACT_UNSPEC, so the next
 * filter (gona's) still sees the frames it lets through. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load. */
const volatile __u64 rate_bps = 0;
const volatile __u64 burst_bytes = 0;

/* Tokens are counted in bytes times 8e9, so that a microsecond at a few
 * Mbit/s still earns whole units. */
#define SCALE 8000000000ull
/* Header bytes of every segment of a GSO packet after the first, as HTB
 * charges them: Ethernet, IPv4 and TCP with timestamps (iperf3's). */
#define SEG_HDR 66

struct bucket {
	struct bpf_spin_lock lock;
	__u64 tokens;
	__u64 last_ns;
	__u64 passed_bytes;
	__u64 dropped_bytes;
	__u64 dropped_packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bucket);
} bucket SEC(".maps");

SEC("tc")
int policer(struct __sk_buff *skb)
{
	__u64 wire = skb->len, now = bpf_ktime_get_ns(), elapsed, cost;
	__u32 key = 0, segs = skb->gso_segs;
	struct bucket *b = bpf_map_lookup_elem(&bucket, &key);
	int pass;

	if (!b)
		return TC_ACT_UNSPEC;
	if (segs > 1)
		wire += (__u64)(segs - 1) * SEG_HDR;
	cost = wire * SCALE;
	bpf_spin_lock(&b->lock);
	elapsed = now - b->last_ns;
	/* A full bucket is reached within 100 ms at any rate used here;
	 * the cap keeps elapsed * rate within 64 bits. */
	if (elapsed > 100000000)
		elapsed = 100000000;
	b->tokens += elapsed * rate_bps;
	if (b->tokens > burst_bytes * SCALE)
		b->tokens = burst_bytes * SCALE;
	b->last_ns = now;
	pass = b->tokens >= cost;
	if (pass) {
		b->tokens -= cost;
		b->passed_bytes += wire;
	} else {
		b->dropped_bytes += wire;
		b->dropped_packets += segs > 1 ? segs : 1;
	}
	bpf_spin_unlock(&b->lock);
	return pass ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}
