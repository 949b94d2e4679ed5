/* SPDX-License-Identifier: MIT */
/* Cost per packet of gona_guest_tx next to a program that only redirects,
 * and where its time goes (each stage of its work on a unicast frame to
 * the fabric, with what it adds, and its counting against one record per
 * guest and uplink); then for a guest spread over the uplinks,
 * with the flow table and with plain hashing; then of a VLAN guest against an
 * untagged one, sending (the tag pushed) and receiving (the tag popped); last,
 * of one guest among 4096 in maps sized for them (daemon.max_guests) against
 * one alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ebpf/gona_shared.h"
#include "bench/gona_bench.skel.h"
#include "bench/redirect_only.skel.h"
#include "tests/lib/mac_filter.h"
#include "tests/lib/veths.h"

#define N_GUESTS 64
#define N_UPLINKS 4
#define REPEAT 1000000
#define ROUNDS 9
#define EXIT_SKIP 77

/* Interface indexes of the guests that have no device here. */
#define FAKE_IFINDEX_BASE 10000

static int fill_guest(struct gona_bench *skel, __u32 i, __u32 ifindex)
{
	struct gona_guest g = { .id = i,
				.ifindex = ifindex,
				.priority = 0x10000 | (i + 1),
				.flags = GONA_GF_PLACED,
				.n_uplinks = 1 };
	struct gona_port port = { .ifindex = ifindex, .id = i };
	struct gona_mac_key mk;
	struct gona_ip4_key k4 = { .id = i, .addr = htonl(0xc0000200 + i + 1) };
	struct gona_ip6_key k6 = { .id = i };
	__u8 one = 1;
	int r;

	g.ip4 = k4.addr;
	g.mac[0] = 0x02;
	g.mac[4] = (__u8)((i + 1) >> 8);
	g.mac[5] = (__u8)(i + 1);
	memset(g.slots, i % N_UPLINKS, sizeof(g.slots));
	memset(&mk, 0, sizeof(mk));
	memcpy(mk.addr, g.mac, 6);
	k6.addr[0] = 0x20;
	k6.addr[1] = 0x01;
	k6.addr[2] = 0x0d;
	k6.addr[3] = 0xb8;
	k6.addr[14] = (__u8)((i + 1) >> 8);
	k6.addr[15] = (__u8)(i + 1);

	r = bpf_map__update_elem(skel->maps.guests, &i, sizeof(i), &g,
				 sizeof(g), BPF_ANY);
	r = r ?: mac_filter_add(skel->maps.guest_mac_filter, g.mac);
	r = r
		    ?: bpf_map__update_elem(skel->maps.guest_by_mac, &mk,
					    sizeof(mk), &port, sizeof(port),
					    BPF_ANY);
	r = r
		    ?: bpf_map__update_elem(skel->maps.flood, &i, sizeof(i),
					    &port, sizeof(port), BPF_ANY);
	r = r
		    ?: bpf_map__update_elem(skel->maps.guest_ip4, &k4,
					    sizeof(k4), &one, sizeof(one),
					    BPF_ANY);
	r = r
		    ?: bpf_map__update_elem(skel->maps.guest_ip6, &k6,
					    sizeof(k6), &one, sizeof(one),
					    BPF_ANY);
	return r;
}

/* N guests spread round robin over 4 uplinks, as gonad would set them. */
static int fill_maps(struct gona_bench *skel, int guest_ifindex,
		     const int *uplink_ifindex, __u32 n)
{
	struct gona_globals gl = { .bcast_ifindex = (__u32)uplink_ifindex[0],
				   .n_flood = n,
				   .n_uplinks = N_UPLINKS };
	__u32 zero = 0;
	int r;

	for (__u32 i = 0; i < n; i++) {
		r = fill_guest(skel, i,
			       i ? FAKE_IFINDEX_BASE + i
				 : (__u32)guest_ifindex);
		if (r)
			return r;
	}
	for (__u32 s = 0; s < N_UPLINKS; s++) {
		struct gona_uplink up = { .ifindex = (__u32)uplink_ifindex[s],
					  .flags = GONA_UF_UP };

		r = bpf_map__update_elem(skel->maps.uplinks, &s, sizeof(s), &up,
					 sizeof(up), BPF_ANY);
		r = r
			    ?: bpf_map__update_elem(
				       skel->maps.uplink_by_ifindex,
				       &up.ifindex, sizeof(up.ifindex), &s,
				       sizeof(s), BPF_ANY);
		if (r)
			return r;
	}
	return bpf_map__update_elem(skel->maps.globals, &zero, sizeof(zero),
				    &gl, sizeof(gl), BPF_ANY);
}

/* A 1514-byte TCP segment from guest 0 to a host beyond the fabric. */
static size_t build_frame(__u8 *buf, size_t size)
{
	static const __u8 dst[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
	static const __u8 src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct ethhdr eth = { .h_proto = htons(ETH_P_IP) };
	struct iphdr ip = { .version = 4,
			    .ihl = 5,
			    .ttl = 64,
			    .protocol = IPPROTO_TCP,
			    .saddr = htonl(0xc0000201),
			    .daddr = htonl(0xc6336401) };
	struct tcphdr th = {
		.source = htons(40000), .dest = htons(5201), .doff = 5, .ack = 1
	};
	size_t len = 1514;

	if (size < len)
		return 0;
	/* Built aligned and copied: in the frame, the IP header is not. */
	memcpy(eth.h_dest, dst, 6);
	memcpy(eth.h_source, src, 6);
	ip.tot_len = htons((__u16)(len - sizeof(eth)));
	memset(buf, 0, len);
	memcpy(buf, &eth, sizeof(eth));
	memcpy(buf + sizeof(eth), &ip, sizeof(ip));
	memcpy(buf + sizeof(eth) + sizeof(ip), &th, sizeof(th));
	return len;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * One run of REPEAT repetitions, in ns per packet. Timed from user space,
 * for a fraction of a nanosecond the kernel's own average (whole ns) does
 * not give; the syscall is a fixed cost over REPEAT runs.
 */
static int run_once(struct bpf_program *prog, int ifindex, const __u8 *frame,
		    size_t len, __u32 want, double *ns)
{
	struct __sk_buff ctx = { .ifindex = (__u32)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = REPEAT);
	double t0;
	int r;

	t0 = now_ns();
	r = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	*ns = (now_ns() - t0) / REPEAT;
	if (r) {
		fprintf(stderr, "bpf_cost: test run of %s: %s\n",
			bpf_program__name(prog), strerror(-r));
		return r;
	}
	if (opts.retval != want) {
		fprintf(stderr, "bpf_cost: %s returned %u, not %u\n",
			bpf_program__name(prog), opts.retval, want);
		return -EINVAL;
	}
	return 0;
}

/*
 * The best of ROUNDS runs of each of the N programs PROG, taken in turns,
 * in BEST (ns per packet): ratios among them are then not skewed by the
 * machine's clock or load drifting between one program's runs and
 * another's.
 */
static int measure_turns(struct bpf_program *const *prog, size_t n, int ifindex,
			 const __u8 *frame, size_t len, __u32 want,
			 double *best)
{
	for (size_t p = 0; p < n; p++)
		best[p] = 0;
	for (int i = 0; i < ROUNDS; i++) {
		for (size_t p = 0; p < n; p++) {
			double ns;
			int r = run_once(prog[p], ifindex, frame, len, want,
					 &ns);

			if (r)
				return r;
			if (!best[p] || ns < best[p])
				best[p] = ns;
		}
	}
	return 0;
}

/* Best of ROUNDS runs of PROG, in ns per packet. */
static int measure(struct bpf_program *prog, int ifindex, const __u8 *frame,
		   size_t len, __u32 want, double *best)
{
	return measure_turns(&prog, 1, ifindex, frame, len, want, best);
}

/* Guest 0 spread over every uplink; flow table on (its flow's entry found
 * at every packet but the first) or off (GONA_GLF_HASH_FLOWS). */
static int set_spread(struct gona_bench *skel, __u32 glflags)
{
	__u32 zero = 0;
	struct gona_globals gl;
	struct gona_guest g;
	int r;

	r = bpf_map__lookup_elem(skel->maps.guests, &zero, sizeof(zero), &g,
				 sizeof(g), 0);
	r = r
		    ?: bpf_map__lookup_elem(skel->maps.globals, &zero,
					    sizeof(zero), &gl, sizeof(gl), 0);
	if (r)
		return r;
	g.n_uplinks = N_UPLINKS;
	g.homes = (1u << N_UPLINKS) - 1;
	for (unsigned int s = 0; s < GONA_SPREAD_SLOTS; s++)
		g.slots[s] = (__u8)(s % N_UPLINKS);
	gl.flags = glflags;
	r = bpf_map__update_elem(skel->maps.guests, &zero, sizeof(zero), &g,
				 sizeof(g), BPF_ANY);
	return r
		       ?: bpf_map__update_elem(skel->maps.globals, &zero,
					       sizeof(zero), &gl, sizeof(gl),
					       BPF_ANY);
}

static int spread_costs(struct gona_bench *skel, int guest, const __u8 *frame,
			size_t len)
{
	double t_table, t_hash;

	if (set_spread(skel, 0) ||
	    measure(skel->progs.bench_tx, guest, frame, len, TC_ACT_REDIRECT,
		    &t_table) ||
	    set_spread(skel, GONA_GLF_HASH_FLOWS) ||
	    measure(skel->progs.bench_tx, guest, frame, len, TC_ACT_REDIRECT,
		    &t_hash)) {
		fprintf(stderr, "bpf_cost: cannot measure a spread guest\n");
		return -1;
	}
	printf("spread guest, flow table    %.1f ns/pkt\n", t_table);
	printf("spread guest, plain hashing %.1f ns/pkt\n", t_hash);
	printf("flow table / plain hashing  %.2f\n", t_table / t_hash);
	return 0;
}

/* Guest 0 in VLAN VID (0: untagged), and its frames arriving in it. */
static int set_vlan(struct gona_bench *skel, int guest_ifindex, __u16 vid)
{
	__u32 ifindex = (__u32)guest_ifindex, id = 0;
	struct gona_guest g;
	struct gona_port port;
	struct gona_mac_key mk = { 0 };
	int r;

	r = bpf_map__lookup_elem(skel->maps.guests, &id, sizeof(id), &g,
				 sizeof(g), 0);
	if (r)
		return r;
	memcpy(mk.addr, g.mac, 6);
	g.vlan = vid;
	port = (struct gona_port){ .ifindex = ifindex, .id = id, .vlan = vid };
	skel->bss->bench_rx_vid = vid;
	r = bpf_map__update_elem(skel->maps.guests, &id, sizeof(id), &g,
				 sizeof(g), BPF_ANY);
	r = r ?: mac_filter_add(skel->maps.guest_mac_filter, g.mac);
	return r
		       ?: bpf_map__update_elem(skel->maps.guest_by_mac, &mk,
					       sizeof(mk), &port, sizeof(port),
					       BPF_ANY);
}

/* A 1514-byte TCP segment from beyond the fabric to guest 0: the frame
 * to the fabric with its MACs swapped (the guest's checks see none of
 * the rest). */
static size_t build_rx_frame(__u8 *buf, size_t size)
{
	size_t len = build_frame(buf, size);
	__u8 mac[6];

	memcpy(mac, buf, 6);
	memcpy(buf, buf + 6, 6);
	memcpy(buf + 6, mac, 6);
	return len;
}

static int vlan_costs(struct gona_bench *skel, struct bpf_program *ro,
		      int guest, int uplink, const __u8 *frame, size_t len)
{
	struct bpf_program *tx = skel->progs.bench_guest_tx;
	struct bpf_program *rx = skel->progs.bench_uplink_rx;
	double t_tx0, t_tx, t_rx0, t_rx, t_cycle, t_ro, helper;
	__u8 in[2048];
	size_t in_len = build_rx_frame(in, sizeof(in));

	/* Taken in turns, best of each: the machine's noise falls on both. */
	t_tx0 = t_tx = t_rx0 = t_rx = 1e9;
	for (int i = 0; i < 5; i++) {
		double a, b, c, d;

		if (set_vlan(skel, guest, 0) ||
		    measure(tx, guest, frame, len, TC_ACT_REDIRECT, &a) ||
		    measure(rx, uplink, in, in_len, TC_ACT_REDIRECT, &b) ||
		    set_vlan(skel, guest, 10) ||
		    measure(tx, guest, frame, len, TC_ACT_REDIRECT, &c) ||
		    measure(rx, uplink, in, in_len, TC_ACT_REDIRECT, &d) ||
		    set_vlan(skel, guest, 0)) {
			fprintf(stderr,
				"bpf_cost: cannot measure a VLAN guest\n");
			return -1;
		}
		t_tx0 = a < t_tx0 ? a : t_tx0;
		t_rx0 = b < t_rx0 ? b : t_rx0;
		t_tx = c < t_tx ? c : t_tx;
		t_rx = d < t_rx ? d : t_rx;
	}
	if (measure(skel->progs.bench_tag_cycle, guest, frame, len,
		    TC_ACT_REDIRECT, &t_cycle) ||
	    measure(ro, guest, frame, len, TC_ACT_REDIRECT, &t_ro)) {
		fprintf(stderr, "bpf_cost: cannot measure a tag's helpers\n");
		return -1;
	}
	/* The VLAN runs pay one helper call more than gona does (the tag the
	 * run before left, taken off or put back); net of it: */
	helper = (t_cycle - t_ro) / 2;
	printf("untagged guest, sending     %.1f ns/pkt\n", t_tx0);
	printf("VLAN guest, sending         %.1f ns/pkt\n", t_tx);
	printf("VLAN / untagged, sending    %.2f\n", t_tx / t_tx0);
	printf("untagged guest, receiving   %.1f ns/pkt\n", t_rx0);
	printf("VLAN guest, receiving       %.1f ns/pkt\n", t_rx);
	printf("VLAN / untagged, receiving  %.2f\n", t_rx / t_rx0);
	printf("one tag helper call         %.1f ns (the bench's own in each "
	       "VLAN run)\n",
	       helper);
	printf("VLAN / untagged, net of it  sending %.2f, receiving %.2f\n",
	       (t_tx - helper) / t_tx0, (t_rx - helper) / t_rx0);
	return 0;
}

/* The maps sized by the number of guests, as gonad sizes them at load. */
static const struct {
	const char *name;
	__u32 per_guest;
} guest_maps[] = {
	{ "guests", 1 },
	{ "guest_by_mac", 1 },
	{ "guest_ip4", GONA_MAX_ADDRS },
	{ "guest_ip6", GONA_MAX_ADDRS },
	{ "flood", 1 },
	{ "guest_trunk", 1 },
	{ "guest_stats", 1 },
	{ "pacing", 1 },
	{ "storm", 1 },
	{ "flow_turn", 1 },
	{ "guest_uplink_bytes", GONA_MAX_UPLINKS },
};

/*
 * gona_guest_tx against the program that only redirects (RO), and where
 * its time goes: each stage's cost and what it adds to the one before,
 * from the floor to the whole, then the counting weighed against the
 * alternative of one record per guest and uplink. All are measured in
 * the same turns, so a line differs from another by its work, not by
 * the machine's drift.
 */
static int headline(struct gona_bench *skel, struct bpf_program *ro, int guest,
		    const __u8 *frame, size_t len)
{
	enum {
		WHOLE,
		RO,
		S_GUEST,
		S_CHECKS,
		S_DEST,
		S_UPLINK,
		S_COUNTED,
		WHATIF,
		N_PROGS
	};
	struct bpf_program *prog[N_PROGS] = {
		[WHOLE] = skel->progs.bench_tx,
		[RO] = ro,
		[S_GUEST] = skel->progs.stage_guest,
		[S_CHECKS] = skel->progs.stage_checks,
		[S_DEST] = skel->progs.stage_dest,
		[S_UPLINK] = skel->progs.stage_uplink,
		[S_COUNTED] = skel->progs.stage_counted,
		[WHATIF] = skel->progs.whatif_one_record,
	};
	static const char *const what[N_PROGS] = {
		[S_GUEST] = "the guest's entry (by classid)",
		[S_CHECKS] = "+ VLAN and anti-spoofing checks",
		[S_DEST] = "+ destination among the guests",
		[S_UPLINK] = "+ uplink, HTB class, VLAN tag",
		[S_COUNTED] = "+ the guest's and the uplink's counters",
		[WHOLE] = "+ the rest (broadcast test, verdict) = whole",
	};
	static const int order[] = { S_GUEST,  S_CHECKS,  S_DEST,
				     S_UPLINK, S_COUNTED, WHOLE };
	double t[N_PROGS], prev;

	if (measure_turns(prog, N_PROGS, guest, frame, len, TC_ACT_REDIRECT, t))
		return -1;
	printf("gona_guest_tx  %.1f ns/pkt\n", t[WHOLE]);
	printf("redirect_only  %.1f ns/pkt\n", t[RO]);
	printf("ratio  %.2f\n", t[WHOLE] / t[RO]);
	printf("where gona_guest_tx's time goes (ns/pkt, what each adds, and "
	       "x redirect only):\n");
	printf("  %-44s %6.1f\n", "redirect only", t[RO]);
	prev = t[RO];
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		printf("  %-44s %6.1f %+6.1f %6.2fx\n", what[order[i]],
		       t[order[i]], t[order[i]] - prev, t[order[i]] / t[RO]);
		prev = t[order[i]];
	}
	printf("counting weighed: the guest's and the uplink's records "
	       "(shipped) %.2fx;\n  one record per guest and uplink "
	       "(not shipped) %.2fx; none %.2fx\n",
	       t[S_COUNTED] / t[RO], t[WHATIF] / t[RO], t[S_UPLINK] / t[RO]);
	return 0;
}

/* gona_guest_tx for guest 0 among N guests, in maps sized for N (at
 * least the default, as daemon.max_guests). */
static int among(__u32 n, int guest, const int *uplink, const __u8 *frame,
		 size_t len, double *t)
{
	struct gona_bench *skel = gona_bench__open();
	__u32 room = n > GONA_GUESTS_DEFAULT ? n : GONA_GUESTS_DEFAULT;
	int r = 0;

	if (!skel)
		return -errno;
	for (size_t i = 0; i < sizeof(guest_maps) / sizeof(guest_maps[0]) && !r;
	     i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(
			skel->obj, guest_maps[i].name);

		r = m ? bpf_map__set_max_entries(m,
						 room * guest_maps[i].per_guest)
		      : -ENOENT;
	}
	if (!r)
		r = gona_bench__load(skel);
	if (!r)
		r = fill_maps(skel, guest, uplink, n);
	if (r)
		fprintf(stderr,
			"bpf_cost: %u guests: cannot load or fill: %s\n", n,
			strerror(r < 0 ? -r : r));
	else
		r = measure(skel->progs.bench_tx, guest, frame, len,
			    TC_ACT_REDIRECT, t);
	gona_bench__destroy(skel);
	return r;
}

int main(void)
{
	struct redirect_only *ro = NULL;
	struct gona_bench *skel = NULL;
	int guest, uplink[N_UPLINKS];
	__u8 frame[2048];
	size_t len;
	int r = EXIT_FAILURE;

	if (geteuid() != 0) {
		fprintf(stderr, "bpf_cost: skipped, needs root\n");
		return EXIT_SKIP;
	}
	libbpf_set_print(veths_libbpf_quiet);
	/* The programs find their devices by ifindex: make them privately. */
	veths_netns("bpf_cost");
	guest = veths_add("g0");
	for (int s = 0; s < N_UPLINKS; s++) {
		char name[IFNAMSIZ];

		snprintf(name, sizeof(name), "u%d", s);
		uplink[s] = veths_add(name);
	}
	len = build_frame(frame, sizeof(frame));

	skel = gona_bench__open_and_load();
	if (!skel) {
		fprintf(stderr, "bpf_cost: cannot load gona: %s\n",
			strerror(errno));
		goto out;
	}
	if (fill_maps(skel, guest, uplink, N_GUESTS)) {
		fprintf(stderr, "bpf_cost: cannot fill the maps\n");
		goto out;
	}
	ro = redirect_only__open();
	if (!ro) {
		fprintf(stderr, "bpf_cost: cannot open redirect_only\n");
		goto out;
	}
	ro->rodata->target_ifindex = (__u32)uplink[0];
	if (redirect_only__load(ro)) {
		fprintf(stderr, "bpf_cost: cannot load redirect_only\n");
		goto out;
	}

	skel->bss->bench_target = (__u32)uplink[0];
	if (headline(skel, ro->progs.redirect_only, guest, frame, len))
		goto out;
	if (spread_costs(skel, guest, frame, len))
		goto out;
	/* Back to one uplink, as a guest with a VLAN would mostly be. */
	if (fill_maps(skel, guest, uplink, N_GUESTS) ||
	    vlan_costs(skel, ro->progs.redirect_only, guest, uplink[0], frame,
		       len))
		goto out;
	{
		double t1, tn;

		if (among(1, guest, uplink, frame, len, &t1) ||
		    among(4096, guest, uplink, frame, len, &tn))
			goto out;
		printf("gona_guest_tx, 1 guest       %.1f ns/pkt\n", t1);
		printf("gona_guest_tx, 4096 guests   %.1f ns/pkt\n", tn);
		printf("ratio  %.2f\n", tn / t1);
	}
	r = EXIT_SUCCESS;
out:
	redirect_only__destroy(ro);
	gona_bench__destroy(skel);
	return r;
}
