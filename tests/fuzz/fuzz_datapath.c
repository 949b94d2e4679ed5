/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the data path's tc programs (gona_guest_tx,
 * gona_uplink_rx, built with GONA_TEST so each redirect is logged) on
 * arbitrary frames under BPF_PROG_TEST_RUN, in a network namespace of
 * its own with veth devices for the guests and uplinks. Needs root.
 *
 * An input is one byte naming where the frame enters (a guest, an uplink,
 * or an interface gona does not know, through a filter with no guest's
 * id or with one's) and the frame. After each run it checks, against the
 * guests, uplinks and VLANs it wrote into the maps:
 *
 * - nothing leaves a guest with a source MAC, IPv4 or IPv6 source, ARP
 *   sender or neighbour advertisement target that is not the guest's
 *   (0.0.0.0 and :: claim nothing; an advertisement after a fragment
 *   header is one receivers ignore, RFC 6980), nor of another ethertype
 *   than IPv4, IPv6 and ARP;
 * - nothing goes to an uplink marked down, back to the interface it came
 *   from (a guest's copies), from an uplink to an uplink, or to a guest
 *   it is not for: unicast only to the guest of the destination MAC,
 *   broadcast only from the designated uplink or one of its LACP group
 *   (GONA_UF_BCAST), never dropped there as a copy, and only within the
 *   frame's VLAN, with the tag the guest takes it with;
 * - a frame to an IEEE 802.1D link-local group address (01:80:c2:00:00:00
 *   to 0f: LACP, STP, LLDP) from an uplink, any of them, goes on to the
 *   driver domain's stack as it came: to no guest, counted nowhere;
 * - an interface gona does not know gets nothing past it (fail closed),
 *   even through a filter carrying a guest's id;
 * - the counters add up: a drop is one drop of the entry's guest or
 *   uplink, a frame sent is one more sent, each copy one more received
 *   by its guest, and no other counter moves.
 *
 * A broken invariant prints what broke and aborts: libFuzzer keeps the
 * input. Frames shorter than an Ethernet header, and IPv4 or IPv6 ones
 * shorter than that header, are not run: BPF_PROG_TEST_RUN refuses them
 * before the program. The verdicts and drop reasons feed
 * libFuzzer's coverage, so inputs reaching a new one are kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define GONA_TEST 1
#include "ebpf/gona_shared.h"
#include "ebpf/gona_test.skel.h"
#include "tests/lib/mac_filter.h"
#include "tests/lib/veths.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where a frame enters: 0-3 the guests, 4-6 the uplinks, 7 a stranger. */
enum { N_GUESTS = 5, N_UPLINKS = 3, ENTRIES = 8 };

struct fguest {
	const char *dev; /* NULL: its interface is gone */
	uint32_t id;
	uint8_t mac[6];
	const char *ip4[2]; /* the first also in its entry */
	const char *ip6;
	int home; /* uplink slot, -1 not placed, 9 spread over 0 and 1 */
	uint16_t vlan;
	bool trunk; /* tags VLANs 20 and 30 itself */
};

/* g1 untagged on up0; g2 of VLAN 10 on up2, which is down; g3 a trunk
 * (native 10, tags 20 and 30) spread over up0 and up1; g4 not placed;
 * g5 a guest whose interface is gone. */
static const struct fguest guests[N_GUESTS] = {
	{ "g1",
	  3,
	  { 2, 0, 0, 0, 0, 1 },
	  { "192.0.2.1", "192.0.2.101" },
	  "2001:db8::1",
	  0,
	  0,
	  false },
	{ "g2",
	  5,
	  { 2, 0, 0, 0, 0, 2 },
	  { "192.0.2.2", NULL },
	  "2001:db8::2",
	  2,
	  10,
	  false },
	{ "g3",
	  7,
	  { 2, 0, 0, 0, 0, 3 },
	  { "192.0.2.3", NULL },
	  "2001:db8::3",
	  9,
	  10,
	  true },
	{ "g4",
	  9,
	  { 2, 0, 0, 0, 0, 4 },
	  { "192.0.2.4", NULL },
	  "2001:db8::4",
	  -1,
	  0,
	  false },
	{ NULL,
	  11,
	  { 2, 0, 0, 0, 0, 5 },
	  { "192.0.2.5", NULL },
	  "2001:db8::5",
	  0,
	  0,
	  false },
};

static const char *const uplink_devs[N_UPLINKS] = { "u0", "u1", "u2" };
static const bool uplink_up[N_UPLINKS] = { true, true, false };
/* Broadcast is taken from u0, the designated uplink (globals.bcast_ifindex,
 * without GONA_UF_BCAST, as an older gonad leaves it), and from u1, of its
 * LACP group (GONA_UF_BCAST alone). */
static const bool uplink_bcast[N_UPLINKS] = { false, true, false };
#define STRANGER "x0"

static struct gona_test *skel;
static int ncpus;
static int guest_ifi[N_GUESTS], uplink_ifi[N_UPLINKS], stranger_ifi;

/* Verdicts and drop reasons by entry, as coverage for libFuzzer. */
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t
	outcomes[ENTRIES][GONA_DROP_SLOTS + 3][4];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_datapath: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/* An invariant broken: said, and the input kept by libFuzzer. */
static void broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void broken(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_datapath: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void update(struct bpf_map *map, const void *key, size_t ksz,
		   const void *val, size_t vsz)
{
	int r = bpf_map__update_elem(map, key, ksz, val, vsz, BPF_ANY);

	if (r)
		die("update of map %s: %s", bpf_map__name(map), strerror(-r));
}

static void parse_ip4(const char *s, void *out)
{
	if (inet_pton(AF_INET, s, out) != 1)
		die("bad address %s", s);
}

static void parse_ip6(const char *s, void *out)
{
	if (inet_pton(AF_INET6, s, out) != 1)
		die("bad address %s", s);
}

/* What gonad writes for this topology. */
static void fill_maps(void)
{
	struct gona_globals gl = { .bcast_ifindex = (uint32_t)uplink_ifi[0],
				   .n_uplinks = N_UPLINKS,
				   .bcast_pps = 100000 };
	uint8_t one = 1;
	uint32_t key;

	for (size_t i = 0; i < N_GUESTS; i++) {
		const struct fguest *t = &guests[i];
		uint32_t ifindex = (uint32_t)guest_ifi[i];
		uint16_t pflags = t->trunk ? GONA_PORT_TRUNK : 0;
		struct gona_guest g = { .id = t->id,
					.vlan = t->vlan,
					.port_flags = pflags };
		struct gona_port port = { .ifindex = ifindex,
					  .id = t->id,
					  .vlan = t->vlan,
					  .flags = pflags };
		struct gona_trunk trunk = { 0 };
		struct gona_mac_key mk = { 0 };
		struct gona_ip6_key k6 = { .id = t->id };

		memcpy(g.mac, t->mac, 6);
		parse_ip4(t->ip4[0], &g.ip4);
		if (t->home >= 0) {
			g.flags = GONA_GF_PLACED;
			g.n_uplinks = t->home == 9 ? 2 : 1;
			g.homes = t->home == 9 ? 0x3 : 1u << t->home;
		}
		for (unsigned int s = 0; s < GONA_SPREAD_SLOTS; s++)
			g.slots[s] = (uint8_t)(t->home == 9  ? s % 3 == 0
					       : t->home > 0 ? t->home
							     : 0);
		if (ifindex) {
			g.ifindex = ifindex;
			update(skel->maps.guests, &t->id, sizeof(t->id), &g,
			       sizeof(g));
			key = gl.n_flood++;
			update(skel->maps.flood, &key, sizeof(key), &port,
			       sizeof(port));
		}
		if (t->trunk) {
			trunk.bits[0] |= 1ull << 20;
			trunk.bits[0] |= 1ull << 30;
		}
		update(skel->maps.guest_trunk, &t->id, sizeof(t->id), &trunk,
		       sizeof(trunk));
		memcpy(mk.addr, t->mac, 6);
		if (mac_filter_add(skel->maps.guest_mac_filter, t->mac))
			die("the MAC filter");
		update(skel->maps.guest_by_mac, &mk, sizeof(mk), &port,
		       sizeof(port));
		for (size_t a = 0; a < 2 && t->ip4[a]; a++) {
			struct gona_ip4_key k4 = { .id = t->id };

			parse_ip4(t->ip4[a], &k4.addr);
			update(skel->maps.guest_ip4, &k4, sizeof(k4), &one,
			       sizeof(one));
		}
		parse_ip6(t->ip6, k6.addr);
		update(skel->maps.guest_ip6, &k6, sizeof(k6), &one,
		       sizeof(one));
	}
	for (uint32_t slot = 0; slot < N_UPLINKS; slot++) {
		struct gona_uplink up = { .ifindex =
						  (uint32_t)uplink_ifi[slot] };
		uint32_t ifindex = (uint32_t)uplink_ifi[slot];

		if (uplink_up[slot])
			up.flags |= GONA_UF_UP;
		if (uplink_bcast[slot])
			up.flags |= GONA_UF_BCAST;
		update(skel->maps.uplinks, &slot, sizeof(slot), &up,
		       sizeof(up));
		update(skel->maps.uplink_by_ifindex, &ifindex, sizeof(ifindex),
		       &slot, sizeof(slot));
	}
	key = 0;
	update(skel->maps.globals, &key, sizeof(key), &gl, sizeof(gl));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (geteuid() != 0)
		die("needs root (a network namespace and BPF programs)");
	libbpf_set_print(veths_libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1)
		die("cannot count CPUs");
	veths_netns("fuzz_datapath");
	for (size_t i = 0; i < N_GUESTS; i++)
		guest_ifi[i] = guests[i].dev ? veths_add(guests[i].dev) : 0;
	for (size_t i = 0; i < N_UPLINKS; i++)
		uplink_ifi[i] = veths_add(uplink_devs[i]);
	stranger_ifi = veths_add(STRANGER);
	skel = gona_test__open_and_load();
	if (!skel)
		die("cannot load gona_test: %s", strerror(errno));
	fill_maps();
	return 0;
}

/* Counters ------------------------------------------------------------ */

struct tally {
	uint64_t tx, rx, drops;
	uint64_t by_reason[GONA_DROP_SLOTS];
};

struct snap {
	struct tally g[N_GUESTS], u[N_UPLINKS];
};

static void read_one(struct bpf_map *map, uint32_t key, struct tally *t)
{
	struct gona_counters v[ncpus];
	int r;

	memset(v, 0, sizeof(v));
	r = bpf_map__lookup_elem(map, &key, sizeof(key), v, sizeof(v), 0);
	if (r)
		die("lookup in %s: %s", bpf_map__name(map), strerror(-r));
	memset(t, 0, sizeof(*t));
	for (int c = 0; c < ncpus; c++) {
		t->tx += v[c].tx_packets;
		t->rx += v[c].rx_packets;
		for (int d = 0; d < GONA_DROP_SLOTS; d++) {
			t->drops += v[c].drops[d];
			t->by_reason[d] += v[c].drops[d];
		}
	}
}

static void snap_take(struct snap *s)
{
	for (size_t i = 0; i < N_GUESTS; i++)
		read_one(skel->maps.guest_stats, guests[i].id, &s->g[i]);
	for (uint32_t i = 0; i < N_UPLINKS; i++)
		read_one(skel->maps.uplink_stats, i, &s->u[i]);
}

static void expect_delta(const char *what, const struct tally *before,
			 const struct tally *after, uint64_t tx, uint64_t rx,
			 uint64_t drops)
{
	if (after->tx - before->tx != tx || after->rx - before->rx != rx ||
	    after->drops - before->drops != drops)
		broken("%s's counters moved by tx %llu rx %llu drops %llu, "
		       "expected %llu %llu %llu",
		       what, (unsigned long long)(after->tx - before->tx),
		       (unsigned long long)(after->rx - before->rx),
		       (unsigned long long)(after->drops - before->drops),
		       (unsigned long long)tx, (unsigned long long)rx,
		       (unsigned long long)drops);
}

/* The outcome of a run for libFuzzer's coverage: the verdict (a drop by
 * its reason) and how many redirects it made. */
static void note_outcome(int entry, int ret, const struct tally *before,
			 const struct tally *after, uint32_t hops)
{
	int v = ret & 1; /* TC_ACT_OK 0, TC_ACT_REDIRECT 1 */

	if (ret == TC_ACT_SHOT) {
		v = 2;
		for (int d = 0; d < GONA_DROP_SLOTS; d++)
			if (after->by_reason[d] != before->by_reason[d])
				v = 3 + d;
	}
	outcomes[entry][v][hops < 3 ? hops : 3] = 1;
}

/* Frames --------------------------------------------------------------- */

static bool is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

/* Whether broadcast and multicast are taken from uplink S. */
static bool bcast_from(int s)
{
	return s == 0 || uplink_bcast[s];
}

/* 01:80:c2:00:00:00 to 0f, which no bridge forwards. */
static bool is_link_local(const uint8_t *mac)
{
	static const uint8_t base[5] = { 0x01, 0x80, 0xc2, 0, 0 };

	return !memcmp(mac, base, sizeof(base)) && mac[5] < 0x10;
}

static int guest_of_mac(const uint8_t *mac)
{
	for (int i = 0; i < N_GUESTS; i++)
		if (!memcmp(guests[i].mac, mac, 6))
			return i;
	return -1;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The VLAN of frame F as it entered: the outer 802.1Q tag's VID, 0
 * untagged, -1 an 802.1ad tag or two tags; *tagged says whether it had
 * one. */
static int entry_vid(const uint8_t *f, size_t len, bool *tagged)
{
	uint16_t proto = be16(f + 12);

	*tagged = false;
	if (len < ETH_HLEN + 4 ||
	    (proto != ETH_P_8021Q && proto != ETH_P_8021AD))
		return 0;
	*tagged = true;
	if (proto == ETH_P_8021AD)
		return -1;
	/* Q-in-Q: the driver domain's, never a guest's. */
	if (be16(f + 16) == ETH_P_8021Q || be16(f + 16) == ETH_P_8021AD)
		return -1;
	return be16(f + 14) & 0xfff;
}

/* How guest I takes a frame of VLAN VID: 0 untagged, 1 tagged, -1 not. */
static int member(int i, int vid)
{
	const struct fguest *t = &guests[i];

	if (vid == t->vlan)
		return 0;
	if (vid && t->trunk && (vid == 20 || vid == 30))
		return 1;
	return -1;
}

static bool ip4_of(int i, const uint8_t *a)
{
	for (size_t k = 0; k < 2 && guests[i].ip4[k]; k++) {
		uint8_t b[4];

		parse_ip4(guests[i].ip4[k], b);
		if (!memcmp(a, b, 4))
			return true;
	}
	return false;
}

static bool ip6_of(int i, const uint8_t *a)
{
	const uint8_t *m = guests[i].mac;
	uint8_t b[16], ll[16] = { 0xfe, 0x80 };

	parse_ip6(guests[i].ip6, b);
	ll[8] = m[0] ^ 2;
	ll[9] = m[1];
	ll[10] = m[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = m[3];
	ll[14] = m[4];
	ll[15] = m[5];
	return !memcmp(a, b, 16) || !memcmp(a, ll, 16);
}

/* The claims of frame F (as it left) from guest I: its source MAC, its
 * ethertype and what its addresses say. */
static void check_claims(int i, const uint8_t *f, size_t len)
{
	static const uint8_t zero[16];
	size_t o = ETH_HLEN;
	uint16_t proto;

	if (len < ETH_HLEN)
		broken("a frame of %zu bytes left guest %s", len,
		       guests[i].dev);
	if (memcmp(f + 6, guests[i].mac, 6))
		broken("a frame from guest %s left with another source MAC",
		       guests[i].dev);
	proto = be16(f + 12);
	while ((proto == ETH_P_8021Q || proto == ETH_P_8021AD) &&
	       o + 4 <= len) {
		proto = be16(f + o + 2);
		o += 4;
	}
	switch (proto) {
	case ETH_P_IP:
		if (o + 20 <= len && memcmp(f + o + 12, zero, 4) &&
		    !ip4_of(i, f + o + 12))
			broken("an IPv4 frame from guest %s left with "
			       "another's source address",
			       guests[i].dev);
		break;
	case ETH_P_ARP:
		if (o + 28 > len || be16(f + o) != 1 ||
		    be16(f + o + 2) != ETH_P_IP || f[o + 4] != 6 ||
		    f[o + 5] != 4)
			broken("an ARP frame from guest %s left that is not "
			       "Ethernet/IPv4 ARP or is cut short",
			       guests[i].dev);
		if (memcmp(f + o + 8, guests[i].mac, 6) ||
		    (memcmp(f + o + 14, zero, 4) && !ip4_of(i, f + o + 14)))
			broken("an ARP frame from guest %s left claiming "
			       "another's MAC or address",
			       guests[i].dev);
		break;
	case ETH_P_IPV6: {
		uint8_t nh;
		size_t l4;

		if (o + 40 > len)
			break;
		if (memcmp(f + o + 8, zero, 16) && !ip6_of(i, f + o + 8))
			broken("an IPv6 frame from guest %s left with "
			       "another's source address",
			       guests[i].dev);
		/* Past hop-by-hop, routing and destination options to an
		 * advertisement; a fragment header ends the walk. */
		nh = f[o + 6];
		l4 = o + 40;
		while ((nh == 0 || nh == 43 || nh == 60) && l4 + 2 <= len) {
			nh = f[l4];
			l4 += ((size_t)f[l4 + 1] + 1) * 8;
		}
		if (nh != IPPROTO_ICMPV6 || l4 >= len || f[l4] != 136)
			break;
		if (l4 + 24 > len)
			broken("a neighbour advertisement from guest %s left "
			       "cut short before its target",
			       guests[i].dev);
		if (!ip6_of(i, f + l4 + 8))
			broken("a neighbour advertisement from guest %s left "
			       "for another's address",
			       guests[i].dev);
		break;
	}
	default:
		broken("a frame of ethertype 0x%04x left guest %s", proto,
		       guests[i].dev);
	}
}

/* One run ------------------------------------------------------------- */

struct run {
	int ret;
	struct gona_test_log log;
	uint8_t out[2048];
	uint32_t out_len;
};

/* Whether the kernel ran PROG on frame F (it refuses some before the
 * program: an IPv4 or IPv6 ethertype with less than that header). */
static bool run(struct bpf_program *prog, int ifindex, uint32_t classid,
		const uint8_t *f, size_t len, struct run *r)
{
	/* The test build reads the filter's classid from cb[0]. */
	struct __sk_buff ctx = { .ifindex = (uint32_t)ifindex,
				 .cb = { classid } };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f,
		    .data_size_in = (uint32_t)len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	struct gona_test_log empty = { 0 };
	uint32_t zero = 0;
	int err;

	update(skel->maps.test_log, &zero, sizeof(zero), &empty, sizeof(empty));
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err == -EINVAL)
		return false;
	if (err)
		die("test run of %s, %zu bytes: %s", bpf_program__name(prog),
		    len, strerror(-err));
	r->ret = (int)opts.retval;
	r->out_len = opts.data_size_out;
	err = bpf_map__lookup_elem(skel->maps.test_log, &zero, sizeof(zero),
				   &r->log, sizeof(r->log), 0);
	if (err)
		die("lookup in test_log: %s", strerror(-err));
	if (r->log.n > GONA_TEST_LOG_MAX)
		broken("%u redirects of one frame", r->log.n);
	return true;
}

static int guest_at(uint32_t ifindex)
{
	for (int i = 0; i < N_GUESTS; i++)
		if (guest_ifi[i] && (uint32_t)guest_ifi[i] == ifindex)
			return i;
	return -1;
}

static int uplink_at(uint32_t ifindex)
{
	for (int i = 0; i < N_UPLINKS; i++)
		if ((uint32_t)uplink_ifi[i] == ifindex)
			return i;
	return -1;
}

/* A copy to guest X of a frame of VLAN VID left with tag EV_VLAN. */
static void check_to_guest(const char *from, int x, int vid, uint32_t ev_vlan)
{
	int m = member(x, vid);

	if (m < 0)
		broken("a frame of VLAN %d from %s reached guest %s, of VLAN "
		       "%u",
		       vid, from, guests[x].dev, guests[x].vlan);
	if (m == 0 && ev_vlan)
		broken("guest %s got a frame of its own VLAN tagged (0x%x)",
		       guests[x].dev, ev_vlan);
	if (m == 1 && (ev_vlan & (GONA_TEST_TAGGED | 0xfff)) !=
			      (GONA_TEST_TAGGED | (uint32_t)vid))
		broken("trunk guest %s got a frame of VLAN %d with tag 0x%x",
		       guests[x].dev, vid, ev_vlan);
}

static void from_guest(int i, const uint8_t *f, size_t len)
{
	struct snap before, after;
	uint64_t grx[N_GUESTS] = { 0 }, utx[N_UPLINKS] = { 0 };
	const uint8_t *dst = f;
	int vid, owner = guest_of_mac(dst);
	bool tagged, sent = false;
	struct run r;

	vid = entry_vid(f, len, &tagged);
	if (!tagged)
		vid = guests[i].vlan;
	snap_take(&before);
	if (!run(skel->progs.gona_guest_tx, guest_ifi[i],
		 GONA_GUEST_CLASSID(guests[i].id), f, len, &r))
		return;
	snap_take(&after);
	if (r.ret != TC_ACT_SHOT && r.ret != TC_ACT_REDIRECT)
		broken("gona_guest_tx returned %d for guest %s", r.ret,
		       guests[i].dev);
	if (r.log.n && tagged &&
	    (vid <= 0 || !guests[i].trunk || member(i, vid) != 1))
		broken("guest %s's frame tagged 0x%04x %04x went somewhere",
		       guests[i].dev, be16(f + 12), be16(f + 14));
	for (uint32_t k = 0; k < r.log.n; k++) {
		const struct gona_test_event *ev = &r.log.ev[k];
		int x = guest_at(ev->ifindex), u = uplink_at(ev->ifindex);

		if (x == i)
			broken("guest %s's frame went back to it",
			       guests[i].dev);
		if (x >= 0) {
			if (!is_group(dst) && x != owner)
				broken("guest %s's unicast went to guest %s, "
				       "not the destination's",
				       guests[i].dev, guests[x].dev);
			check_to_guest(guests[i].dev, x, vid, ev->vlan);
			grx[x]++;
			if (!ev->clone)
				sent = true;
		} else if (u >= 0) {
			if (!uplink_up[u])
				broken("guest %s's frame went to uplink %s, "
				       "which is down",
				       guests[i].dev, uplink_devs[u]);
			if (ev->clone)
				broken("guest %s's frame was copied to uplink "
				       "%s",
				       guests[i].dev, uplink_devs[u]);
			if (owner >= 0)
				broken("guest %s's frame for guest %s went to "
				       "uplink %s",
				       guests[i].dev, guests[owner].dev,
				       uplink_devs[u]);
			if ((ev->vlan & (GONA_TEST_TAGGED | 0xfff)) !=
			    (vid ? GONA_TEST_TAGGED | (uint32_t)vid : 0))
				broken("guest %s's frame of VLAN %d left "
				       "uplink %s with tag 0x%x",
				       guests[i].dev, vid, uplink_devs[u],
				       ev->vlan);
			utx[u]++;
			sent = true;
		} else {
			broken("guest %s's frame went to ifindex %u",
			       guests[i].dev, ev->ifindex);
		}
		if (!ev->clone && k + 1 != r.log.n)
			broken("guest %s's frame was redirected before "
			       "its copies",
			       guests[i].dev);
	}
	if (r.log.n && r.out_len)
		check_claims(i, r.out, r.out_len);
	if (sent != (r.ret == TC_ACT_REDIRECT))
		broken("guest %s: verdict %d with%s a redirect", guests[i].dev,
		       r.ret, sent ? "" : "out");
	for (int x = 0; x < N_GUESTS; x++)
		expect_delta(guests[x].dev ? guests[x].dev : "g5", &before.g[x],
			     &after.g[x], x == i && sent, grx[x],
			     x == i && r.ret == TC_ACT_SHOT);
	for (int u = 0; u < N_UPLINKS; u++)
		expect_delta(uplink_devs[u], &before.u[u], &after.u[u], utx[u],
			     0, 0);
	note_outcome(i, r.ret, &before.g[i], &after.g[i], r.log.n);
}

/* A link-local frame on uplink S: on to the stack as it came (the test
 * run leaves a tag that was in the frame in skb->vlan_tci, as the
 * receive path hands it over), to nobody else, counted nowhere. */
static void check_link_local(int s, const uint8_t *f, size_t len, bool tagged,
			     const struct run *r, const struct snap *before,
			     const struct snap *after)
{
	size_t cut = tagged ? 4 : 0;

	if (r->ret != TC_ACT_OK || r->log.n)
		broken("a link-local frame on %s: verdict %d, %u redirects",
		       uplink_devs[s], r->ret, r->log.n);
	if (r->out_len != len - cut || memcmp(r->out, f, 12) ||
	    memcmp(r->out + 12, f + 12 + cut, len - 12 - cut))
		broken("a link-local frame on %s went on changed",
		       uplink_devs[s]);
	if (memcmp(before, after, sizeof(*before)))
		broken("a link-local frame on %s moved a counter",
		       uplink_devs[s]);
}

static void from_uplink(int s, const uint8_t *f, size_t len)
{
	struct snap before, after;
	uint64_t grx[N_GUESTS] = { 0 };
	int vid, owner = guest_of_mac(f);
	bool tagged, group = is_group(f), own = guest_of_mac(f + 6) >= 0;
	bool link_local = is_link_local(f);
	uint64_t srx, dup;
	struct run r;

	vid = entry_vid(f, len, &tagged);
	snap_take(&before);
	if (!run(skel->progs.gona_uplink_rx, uplink_ifi[s], 0, f, len, &r))
		return;
	snap_take(&after);
	if (r.ret != TC_ACT_SHOT && r.ret != TC_ACT_REDIRECT &&
	    r.ret != TC_ACT_OK)
		broken("gona_uplink_rx returned %d on %s", r.ret,
		       uplink_devs[s]);
	if (r.log.n && (vid < 0 || own || (group && !bcast_from(s))))
		broken("a frame on %s (VLAN %d, %s source, %s) went to a guest",
		       uplink_devs[s], vid, own ? "a guest's" : "a foreign",
		       group ? "group" : "unicast");
	if (link_local)
		check_link_local(s, f, len, tagged, &r, &before, &after);
	dup = after.u[s].by_reason[GONA_DROP_BCAST_DUP] -
	      before.u[s].by_reason[GONA_DROP_BCAST_DUP];
	if (dup && bcast_from(s))
		broken("a group frame on %s, which broadcast is taken from, "
		       "was dropped as a copy",
		       uplink_devs[s]);
	for (uint32_t k = 0; k < r.log.n; k++) {
		const struct gona_test_event *ev = &r.log.ev[k];
		int x = guest_at(ev->ifindex);

		if (x < 0)
			broken("a frame on %s went to ifindex %u, not a guest",
			       uplink_devs[s], ev->ifindex);
		if (!group && (x != owner || ev->clone))
			broken("a unicast on %s went to guest %s, not the "
			       "destination's",
			       uplink_devs[s], guests[x].dev);
		if (group && !ev->clone)
			broken("a group frame on %s was redirected to guest "
			       "%s, not copied",
			       uplink_devs[s], guests[x].dev);
		check_to_guest(uplink_devs[s], x, vid, ev->vlan);
		grx[x]++;
	}
	if ((r.ret == TC_ACT_REDIRECT) != (!group && r.log.n == 1))
		broken("%s: verdict %d with %u redirects", uplink_devs[s],
		       r.ret, r.log.n);
	/* Received: a frame for a guest, or a group frame taken from the
	 * uplink (copies or none). */
	srx = after.u[s].rx - before.u[s].rx;
	if (srx > 1 || (srx && r.ret == TC_ACT_SHOT) ||
	    (r.ret == TC_ACT_REDIRECT && !srx) || (srx && !group && !r.log.n))
		broken("%s: received counted %llu times, verdict %d",
		       uplink_devs[s], (unsigned long long)srx, r.ret);
	for (int x = 0; x < N_GUESTS; x++)
		expect_delta(guests[x].dev ? guests[x].dev : "g5", &before.g[x],
			     &after.g[x], 0, grx[x], 0);
	for (int u = 0; u < N_UPLINKS; u++)
		expect_delta(uplink_devs[u], &before.u[u], &after.u[u], 0,
			     u == s ? srx : 0, u == s && r.ret == TC_ACT_SHOT);
	note_outcome(4 + s, r.ret, &before.u[s], &after.u[s], r.log.n);
}

/* An interface gona does not know, through a filter with no classid or
 * with guest AS's (-1: none; an id given to a guest elsewhere while a
 * frame still carried it): nothing passes, nothing is counted. */
static void from_stranger(int as, const uint8_t *f, size_t len)
{
	uint32_t classid = as < 0 ? 0 : GONA_GUEST_CLASSID(guests[as].id);
	struct snap before, after;
	struct run r;

	snap_take(&before);
	if (!run(skel->progs.gona_guest_tx, stranger_ifi, classid, f, len, &r))
		return;
	snap_take(&after);
	if (r.ret != TC_ACT_SHOT || r.log.n)
		broken("a frame from an unknown interface: verdict %d, %u "
		       "redirects",
		       r.ret, r.log.n);
	if (memcmp(&before, &after, sizeof(before)))
		broken("a frame from an unknown interface moved a counter");
	outcomes[7][0][0] = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int entry;
	int as;

	if (size < 1 + ETH_HLEN || size > 1 + 1514)
		return 0;
	entry = data[0] % ENTRIES;
	as = (int)(data[0] / ENTRIES % (N_GUESTS + 1)) - 1;
	data++;
	size--;
	if (entry < 4)
		from_guest((int)entry, data, size);
	else if (entry < 7)
		from_uplink((int)entry - 4, data, size);
	else
		from_stranger(as, data, size);
	return 0;
}
