/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bench/bpf_cost's floor: a tc program that only redirects. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load. */
const volatile __u32 target_ifindex = 0;

SEC("tc")
int redirect_only(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(target_ifindex, 0);
}
