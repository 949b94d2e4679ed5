/* SPDX-License-Identifier: MIT */
/* Attach bench/policer.bpf.c to a device for a while, print what it has
 * passed and dropped every second, then take it away again. Runs in the
 * device's network namespace. usage: policer DEV ingress|egress RATE_BPS
 * BURST_BYTES SECONDS
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/policer.skel.h"

/* Before gona's filter (priority 0x60a) on the same hook. */
#define POLICER_PRIO 1
#define POLICER_HANDLE 1

struct bucket_view {
	__u32 lock;
	__u32 pad;
	__u64 tokens;
	__u64 last_ns;
	__u64 passed_bytes;
	__u64 dropped_bytes;
	__u64 dropped_packets;
};

static unsigned long long number(const char *what, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || !v) {
		fprintf(stderr, "policer: %s \"%s\" is not a positive number\n",
			what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = POLICER_HANDLE,
			    .priority = POLICER_PRIO);
	struct bucket_view b = { 0 };
	struct policer *skel;
	unsigned long long secs;
	__u32 key = 0;
	int ifindex, r;

	if (argc != 6 ||
	    (strcmp(argv[2], "ingress") && strcmp(argv[2], "egress"))) {
		fprintf(stderr, "usage: policer DEV ingress|egress RATE_BPS "
				"BURST_BYTES SECONDS\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "policer: no device %s\n", argv[1]);
		return 2;
	}
	/* gona made the clsact already: libbpf's note that the hook exists
	 * is noise. Errors are reported here. */
	libbpf_set_print(NULL);
	skel = policer__open();
	if (!skel) {
		fprintf(stderr, "policer: cannot open the program\n");
		return 1;
	}
	skel->rodata->rate_bps = number("rate", argv[3]);
	skel->rodata->burst_bytes = number("burst", argv[4]);
	secs = number("seconds", argv[5]);
	if (policer__load(skel)) {
		fprintf(stderr, "policer: cannot load the program\n");
		policer__destroy(skel);
		return 1;
	}
	hook.ifindex = ifindex;
	hook.attach_point =
		strcmp(argv[2], "ingress") ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST) {
		fprintf(stderr, "policer: clsact on %s: %s\n", argv[1],
			strerror(-r));
		policer__destroy(skel);
		return 1;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.policer);
	r = bpf_tc_attach(&hook, &opts);
	if (r) {
		fprintf(stderr, "policer: attach to %s: %s\n", argv[1],
			strerror(-r));
		policer__destroy(skel);
		return 1;
	}
	/* What it passed and dropped so far, once a second. */
	printf("seconds passed_bytes dropped_bytes dropped_packets\n");
	for (unsigned long long t = 1; t <= secs; t++) {
		sleep(1);
		bpf_map__lookup_elem(skel->maps.bucket, &key, sizeof(key), &b,
				     sizeof(b), 0);
		printf("%llu %llu %llu %llu\n", t,
		       (unsigned long long)b.passed_bytes,
		       (unsigned long long)b.dropped_bytes,
		       (unsigned long long)b.dropped_packets);
		fflush(stdout);
	}
	opts.prog_fd = 0;
	opts.prog_id = 0;
	opts.flags = 0;
	r = bpf_tc_detach(&hook, &opts);
	if (r)
		fprintf(stderr, "policer: detach from %s: %s\n", argv[1],
			strerror(-r));
	policer__destroy(skel);
	return r ? 1 : 0;
}
