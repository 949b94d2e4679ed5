/* SPDX-License-Identifier: MIT */
/* BPF_PROG_TEST_RUN tests of gona's tc programs on crafted frames. */
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
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>

#define GONA_TEST 1
#include "ebpf/gona_shared.h"
#include "ebpf/gona_test.skel.h"
#include "tests/lib/mac_filter.h"
#include "tests/lib/veths.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status of a test that cannot run here (automake's SKIP). */
#define EXIT_SKIP 77

/* Devices of the private namespace; each is a veth with a peer "<name>p". */
enum dev {
	D_G1,
	D_G2,
	D_G3,
	D_G4,
	D_G5,
	D_G6,
	D_G7,
	D_U0,
	D_U1,
	D_U2,
	D_X,
	D_N
};

static const char *const dev_names[D_N] = {
	[D_G1] = "g1", [D_G2] = "g2", [D_G3] = "g3", [D_G4] = "g4",
	[D_G5] = "g5", [D_G6] = "g6", [D_G7] = "g7", [D_U0] = "u0",
	[D_U1] = "u1", [D_U2] = "u2", [D_X] = "x0",
};

static int ifi[D_N];

/* Guest ids are deliberately not 0..n, so an index mix-up shows. */
enum {
	ID_G1 = 3,
	ID_G2 = 5,
	ID_G3 = 7,
	ID_G4 = 9,
	ID_ABSENT = 11,
	ID_G5 = 12,
	ID_G6 = 13,
	ID_G7 = 14,
};

#define N_IDS 16
#define N_SLOTS 4
#define PRIO_G1 0x10010u

static const __u8 MAC_G1[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 MAC_G2[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const __u8 MAC_G3[6] = { 0x02, 0, 0, 0, 0, 0x03 };
static const __u8 MAC_G4[6] = { 0x02, 0, 0, 0, 0, 0x04 };
static const __u8 MAC_ABSENT[6] = { 0x02, 0, 0, 0, 0, 0x05 };
static const __u8 MAC_G5[6] = { 0x02, 0, 0, 0, 0, 0x06 };
static const __u8 MAC_G6[6] = { 0x02, 0, 0, 0, 0, 0x07 };
static const __u8 MAC_G7[6] = { 0x02, 0, 0, 0, 0, 0x08 };
static const __u8 MAC_EXT[6] = { 0x02, 0, 0, 0, 0x99, 0x01 };
static const __u8 MAC_EXT2[6] = { 0x02, 0, 0, 0, 0x99, 0x02 };
static const __u8 MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 MAC_ND_G1[6] = { 0x33, 0x33, 0xff, 0, 0, 0x01 };

struct tguest {
	enum dev dev; /* D_N: no interface */
	__u32 id;
	const __u8 *mac;
	const char *ip4;
	const char *ip6;
	__u32 priority;
	int placed;
	int spread; /* slots alternate between uplink slots 0 and 1 */
	__u8 home;
	__u16 vlan; /* 0 untagged */
	int trunk; /* tags VLANs 20 and 30 itself */
};

/* An address of g1's besides its first (which its entry carries). */
#define G1_SECOND_IP4 "192.0.2.101"

static const struct tguest tguests[] = {
	{ D_G1, ID_G1, MAC_G1, "192.0.2.1", "2001:db8::1", PRIO_G1, 1, 0, 0, 0,
	  0 },
	{ D_G2, ID_G2, MAC_G2, "192.0.2.2", "2001:db8::2", 0, 1, 0, 1, 0, 0 },
	{ D_G3, ID_G3, MAC_G3, "192.0.2.3", "2001:db8::3", 0, 1, 1, 0, 0, 0 },
	{ D_G4, ID_G4, MAC_G4, "192.0.2.4", "2001:db8::4", 0, 0, 0, 0, 0, 0 },
	{ D_N, ID_ABSENT, MAC_ABSENT, "192.0.2.5", "2001:db8::5", 0, 1, 0, 0, 0,
	  0 },
	/* VLAN guests: g5 of VLAN 10, g6 of 20, and g7 a trunk whose
	 * untagged frames are of 10 and that tags 20 and 30 itself. */
	{ D_G5, ID_G5, MAC_G5, "192.0.2.6", "2001:db8::6", 0, 1, 0, 0, 10, 0 },
	{ D_G6, ID_G6, MAC_G6, "192.0.2.7", "2001:db8::7", 0, 1, 0, 1, 20, 0 },
	{ D_G7, ID_G7, MAC_G7, "192.0.2.8", "2001:db8::8", 0, 1, 0, 2, 10, 1 },
};

/* The slot table of the spread guest g3: uneven on purpose. */
static __u8 spread_slot(unsigned int i)
{
	return i % 3 == 0 ? 1 : 0;
}

static struct gona_test *skel;
static int ncpus;

static void update(struct bpf_map *map, const void *key, size_t ksz,
		   const void *val, size_t vsz)
{
	int r = bpf_map__update_elem(map, key, ksz, val, vsz, BPF_ANY);

	ck_assert_msg(r == 0, "update of map %s: %s", bpf_map__name(map),
		      strerror(-r));
}

static void set_uplink(__u32 slot, enum dev dev, __u32 flags)
{
	struct gona_uplink up = { .ifindex = dev == D_N ? 0 : (__u32)ifi[dev],
				  .flags = flags };

	update(skel->maps.uplinks, &slot, sizeof(slot), &up, sizeof(up));
}

/* What gonad writes: the guests, their addresses, uplinks and globals. */
static void fill_maps(void)
{
	struct gona_globals gl = { .bcast_ifindex = (__u32)ifi[D_U0],
				   .n_uplinks = 3 };
	__u8 one = 1;
	__u32 key;

	for (size_t i = 0; i < ARRAY_SIZE(tguests); i++) {
		const struct tguest *t = &tguests[i];
		__u32 ifindex = t->dev == D_N ? 0 : (__u32)ifi[t->dev];
		__u16 pflags = t->trunk ? GONA_PORT_TRUNK : 0;
		struct gona_guest g = { .id = t->id,
					.ifindex = ifindex,
					.priority = t->priority,
					.vlan = t->vlan,
					.port_flags = pflags };
		struct gona_port port = { .ifindex = ifindex,
					  .id = t->id,
					  .vlan = t->vlan,
					  .flags = pflags };
		struct gona_trunk trunk = { 0 };
		struct gona_mac_key mk;
		struct gona_ip4_key k4 = { .id = t->id };
		struct gona_ip6_key k6 = { .id = t->id };

		memcpy(g.mac, t->mac, 6);
		/* As gonad does: the first address in the entry too. */
		ck_assert_int_eq(inet_pton(AF_INET, t->ip4, &g.ip4), 1);
		if (t->placed) {
			g.flags = GONA_GF_PLACED;
			g.n_uplinks = t->spread ? 2 : 1;
			g.homes = t->spread ? 0x3 : 1u << t->home;
		}
		for (unsigned int s = 0; s < GONA_SPREAD_SLOTS; s++)
			g.slots[s] = t->spread ? spread_slot(s) : t->home;
		if (ifindex) {
			update(skel->maps.guests, &t->id, sizeof(t->id), &g,
			       sizeof(g));
			key = gl.n_flood++;
			update(skel->maps.flood, &key, sizeof(key), &port,
			       sizeof(port));
		}
		if (t->trunk) {
			trunk.bits[20 / 64] |= 1ull << (20 % 64);
			trunk.bits[30 / 64] |= 1ull << (30 % 64);
		}
		update(skel->maps.guest_trunk, &t->id, sizeof(t->id), &trunk,
		       sizeof(trunk));
		memset(&mk, 0, sizeof(mk));
		memcpy(mk.addr, t->mac, 6);
		ck_assert_int_eq(
			mac_filter_add(skel->maps.guest_mac_filter, t->mac), 0);
		update(skel->maps.guest_by_mac, &mk, sizeof(mk), &port,
		       sizeof(port));
		ck_assert_int_eq(inet_pton(AF_INET, t->ip4, &k4.addr), 1);
		update(skel->maps.guest_ip4, &k4, sizeof(k4), &one,
		       sizeof(one));
		ck_assert_int_eq(inet_pton(AF_INET6, t->ip6, k6.addr), 1);
		update(skel->maps.guest_ip6, &k6, sizeof(k6), &one,
		       sizeof(one));
	}
	/* g1's second address: in guest_ip4 only. */
	{
		struct gona_ip4_key k4 = { .id = ID_G1 };

		ck_assert_int_eq(inet_pton(AF_INET, G1_SECOND_IP4, &k4.addr),
				 1);
		update(skel->maps.guest_ip4, &k4, sizeof(k4), &one,
		       sizeof(one));
	}
	for (__u32 slot = 0; slot < 3; slot++) {
		__u32 ifindex = (__u32)ifi[D_U0 + slot];

		set_uplink(slot, D_U0 + slot, GONA_UF_UP);
		update(skel->maps.uplink_by_ifindex, &ifindex, sizeof(ifindex),
		       &slot, sizeof(slot));
	}
	key = 0;
	update(skel->maps.globals, &key, sizeof(key), &gl, sizeof(gl));
}

static void setup(void)
{
	skel = gona_test__open_and_load();
	ck_assert_msg(skel, "cannot load gona_test: %s", strerror(errno));
	fill_maps();
}

static void teardown(void)
{
	gona_test__destroy(skel);
	skel = NULL;
}

/* Frames ------------------------------------------------------------- */

struct frame {
	__u8 b[2048];
	size_t len;
};

static void put(struct frame *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->len + n, sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, __u8 v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, __u16 v)
{
	__u16 n = htons(v);

	put(f, &n, 2);
}

static void put32(struct frame *f, __u32 v)
{
	__u32 n = htonl(v);

	put(f, &n, 4);
}

static void put_zero(struct frame *f, size_t n)
{
	ck_assert_uint_le(f->len + n, sizeof(f->b));
	memset(f->b + f->len, 0, n);
	f->len += n;
}

static void put_addr(struct frame *f, int family, const char *a)
{
	__u8 buf[16];

	ck_assert_msg(inet_pton(family, a, buf) == 1, "bad address %s", a);
	put(f, buf, family == AF_INET ? 4 : 16);
}

static void set16(struct frame *f, size_t off, __u16 v)
{
	__u16 n = htons(v);

	memcpy(f->b + off, &n, 2);
}

/* An IPv4 or IPv6 packet; zero fields take sensible defaults. */
struct pkt {
	const __u8 *dst, *src;
	int family; /* AF_INET or AF_INET6 */
	const char *saddr, *daddr;
	__u8 proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 */
	__u16 sport, dport;
	__u8 ihl; /* IPv4 header words, default 5 */
	__u8 doff; /* TCP header words, default 5 */
	__u8 icmp6_type;
	const char *target; /* neighbour solicitation/advertisement */
	int dstopts; /* IPv6: a destination options header before L4 */
	size_t payload;
};

static void build(struct frame *f, const struct pkt *p)
{
	size_t l3, l4;

	f->len = 0;
	put(f, p->dst, 6);
	put(f, p->src, 6);
	put16(f, p->family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	l3 = f->len;
	if (p->family == AF_INET) {
		__u8 ihl = p->ihl ? p->ihl : 5;

		put8(f, 0x40 | ihl);
		put8(f, 0);
		put16(f, 0); /* total length, set below */
		put16(f, 0x1234);
		put16(f, 0x4000); /* DF */
		put8(f, 64);
		put8(f, p->proto);
		put16(f, 0);
		put_addr(f, AF_INET, p->saddr);
		put_addr(f, AF_INET, p->daddr);
		put_zero(f, (ihl - 5) * 4u);
	} else {
		put32(f, 0x60000000);
		put16(f, 0); /* payload length, set below */
		put8(f, p->dstopts ? 60 : p->proto);
		put8(f, 255);
		put_addr(f, AF_INET6, p->saddr);
		put_addr(f, AF_INET6, p->daddr);
		if (p->dstopts) {
			put8(f, p->proto);
			put8(f, 0); /* 8 bytes */
			put8(f, 1); /* PadN */
			put8(f, 4);
			put_zero(f, 4);
		}
	}
	l4 = f->len;
	if (p->proto == IPPROTO_TCP) {
		__u8 doff = p->doff ? p->doff : 5;

		put16(f, p->sport);
		put16(f, p->dport);
		put32(f, 1);
		put32(f, 0);
		put8(f, (__u8)(doff << 4));
		put8(f, 0x18); /* PSH ACK */
		put16(f, 65535);
		put32(f, 0);
		put_zero(f, (doff - 5) * 4u);
	} else if (p->proto == IPPROTO_UDP) {
		put16(f, p->sport);
		put16(f, p->dport);
		put16(f, 0); /* length, set below */
		put16(f, 0);
	} else if (p->proto == IPPROTO_ICMPV6) {
		put8(f, p->icmp6_type);
		put8(f, 0);
		put16(f, 0);
		put32(f, p->icmp6_type == 136 ? 0x60000000 : 0);
		if (p->target)
			put_addr(f, AF_INET6, p->target);
	}
	put_zero(f, p->payload);
	if (p->proto == IPPROTO_UDP)
		set16(f, l4 + 4, (__u16)(f->len - l4));
	if (p->family == AF_INET)
		set16(f, l3 + 2, (__u16)(f->len - l3));
	else
		set16(f, l3 + 4, (__u16)(f->len - l3 - 40));
}

static void build_arp(struct frame *f, const __u8 *dst, const __u8 *src,
		      __u16 op, const __u8 *sha, const char *sip,
		      const char *tip)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, src, 6);
	put16(f, ETH_P_ARP);
	put16(f, 1);
	put16(f, ETH_P_IP);
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	put(f, sha, 6);
	put_addr(f, AF_INET, sip);
	put_zero(f, 6);
	put_addr(f, AF_INET, tip);
	put_zero(f, 18); /* Ethernet padding to 60 bytes */
}

/* A TCP segment from guest g1 to a host beyond the fabric. */
static void build_g1_tcp(struct frame *f)
{
	build(f, &(struct pkt){ .dst = MAC_EXT,
				.src = MAC_G1,
				.family = AF_INET,
				.saddr = "192.0.2.1",
				.daddr = "198.51.100.1",
				.proto = IPPROTO_TCP,
				.sport = 40000,
				.dport = 5201,
				.payload = 100 });
}

/* Running the programs ----------------------------------------------- */

struct run {
	int ret;
	struct __sk_buff ctx;
	struct gona_test_log log;
	__u8 out[2048]; /* the frame as the program left it */
	__u32 out_len;
};

static void run_ctx(struct bpf_program *prog, enum dev dev,
		    const struct frame *f, struct __sk_buff *ctx, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b,
		    .data_size_in = (__u32)f->len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = ctx,
		    .ctx_size_in = sizeof(*ctx), .ctx_out = &r->ctx,
		    .ctx_size_out = sizeof(r->ctx), .repeat = 1);
	struct gona_test_log empty = { 0 };
	__u32 zero = 0;
	int err;

	ctx->ifindex = (__u32)ifi[dev];
	/* The classid of the guest's filter on DEV, as gonad attaches it
	 * (the test build reads cb[0] for skb->tc_classid), unless the test
	 * gave one; none on a device of no guest. */
	for (size_t i = 0; i < ARRAY_SIZE(tguests) && !ctx->cb[0]; i++)
		if (tguests[i].dev == dev)
			ctx->cb[0] = GONA_GUEST_CLASSID(tguests[i].id);
	update(skel->maps.test_log, &zero, sizeof(zero), &empty, sizeof(empty));
	memset(r, 0, sizeof(*r));
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	ck_assert_msg(err == 0, "test run of %s on %s, %zu bytes: %s",
		      bpf_program__name(prog), dev_names[dev], f->len,
		      strerror(-err));
	r->ret = (int)opts.retval;
	r->out_len = opts.data_size_out;
	err = bpf_map__lookup_elem(skel->maps.test_log, &zero, sizeof(zero),
				   &r->log, sizeof(r->log), 0);
	ck_assert_int_eq(err, 0);
}

static void run(struct bpf_program *prog, enum dev dev, const struct frame *f,
		struct run *r)
{
	struct __sk_buff ctx = { 0 };

	run_ctx(prog, dev, f, &ctx, r);
}

static void guest_tx(enum dev dev, const struct frame *f, struct run *r)
{
	run(skel->progs.gona_guest_tx, dev, f, r);
}

/* A frame on DEV through a filter carrying guest ID's classid. */
static void guest_tx_as(enum dev dev, __u32 id, const struct frame *f,
			struct run *r)
{
	struct __sk_buff ctx = { .cb = { GONA_GUEST_CLASSID(id) } };

	run_ctx(skel->progs.gona_guest_tx, dev, f, &ctx, r);
}

static void uplink_rx(enum dev dev, const struct frame *f, struct run *r)
{
	run(skel->progs.gona_uplink_rx, dev, f, r);
}

/* The redirects the run made, in order: a device and 1 for a clone. */
struct hop {
	enum dev dev;
	int clone;
};

static void expect_hops(const struct run *r, const struct hop *hops, size_t n)
{
	ck_assert_msg(r->log.n == n, "%u redirects, expected %zu", r->log.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct gona_test_event *ev = &r->log.ev[i];

		ck_assert_msg(ev->ifindex == (__u32)ifi[hops[i].dev] &&
				      ev->clone == (__u32)hops[i].clone,
			      "redirect %zu: ifindex %u clone %u, expected %s "
			      "(%d) clone %d",
			      i, ev->ifindex, ev->clone, dev_names[hops[i].dev],
			      ifi[hops[i].dev], hops[i].clone);
	}
}

#define EXPECT_HOPS(r, ...)                                 \
	do {                                                \
		const struct hop hops_[] = { __VA_ARGS__ }; \
		expect_hops(r, hops_, ARRAY_SIZE(hops_));   \
	} while (0)

/* Counters ------------------------------------------------------------ */

struct snap {
	struct gona_counters g[N_IDS];
	struct gona_counters u[N_SLOTS];
};

static void read_sum(struct bpf_map *map, __u32 key, struct gona_counters *sum)
{
	struct gona_counters v[ncpus];
	int err;

	/* Zeroed first: valgrind cannot tell the kernel fills every CPU's. */
	memset(v, 0, sizeof(v));
	err = bpf_map__lookup_elem(map, &key, sizeof(key), v, sizeof(v), 0);
	ck_assert_int_eq(err, 0);
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpus; c++) {
		sum->tx_packets += v[c].tx_packets;
		sum->tx_bytes += v[c].tx_bytes;
		sum->rx_packets += v[c].rx_packets;
		sum->rx_bytes += v[c].rx_bytes;
		for (int d = 0; d < GONA_DROP_SLOTS; d++)
			sum->drops[d] += v[c].drops[d];
	}
}

static void snap_take(struct snap *s)
{
	for (__u32 i = 0; i < N_IDS; i++)
		read_sum(skel->maps.guest_stats, i, &s->g[i]);
	for (__u32 i = 0; i < N_SLOTS; i++)
		read_sum(skel->maps.uplink_stats, i, &s->u[i]);
}

static void cmp_counters(const char *what, unsigned int i,
			 const struct gona_counters *want,
			 const struct gona_counters *got)
{
	static const char *const names[] = { "tx_packets", "tx_bytes",
					     "rx_packets", "rx_bytes" };
	const __u64 *w = &want->tx_packets, *g = &got->tx_packets;

	for (size_t f = 0; f < ARRAY_SIZE(names); f++)
		ck_assert_msg(w[f] == g[f], "%s %u %s: %llu, expected %llu",
			      what, i, names[f], (unsigned long long)g[f],
			      (unsigned long long)w[f]);
	for (int d = 0; d < GONA_DROP_SLOTS; d++)
		ck_assert_msg(want->drops[d] == got->drops[d],
			      "%s %u drops[%d]: %llu, expected %llu", what, i,
			      d, (unsigned long long)got->drops[d],
			      (unsigned long long)want->drops[d]);
}

/* Every counter must be as WANT says: the expected ones moved, no other. */
static void snap_expect(const struct snap *want)
{
	struct snap got;

	snap_take(&got);
	for (unsigned int i = 0; i < N_IDS; i++)
		cmp_counters("guest id", i, &want->g[i], &got.g[i]);
	for (unsigned int i = 0; i < N_SLOTS; i++)
		cmp_counters("uplink slot", i, &want->u[i], &got.u[i]);
}

static void add_tx(struct gona_counters *c, __u64 packets, __u64 bytes)
{
	c->tx_packets += packets;
	c->tx_bytes += bytes;
}

static void add_rx(struct gona_counters *c, __u64 packets, __u64 bytes)
{
	c->rx_packets += packets;
	c->rx_bytes += bytes;
}

/* F from guest DEV (id ID) is dropped for REASON, counted there only. */
static void expect_guest_drop(enum dev dev, __u32 id, const struct frame *f,
			      enum gona_drop reason)
{
	struct snap want;
	struct run r;

	snap_take(&want);
	guest_tx(dev, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.g[id].drops[reason]++;
	snap_expect(&want);
}

/* F from guest g1 goes to uplink slot SLOT alone, counted as sent. */
static void expect_g1_to_uplink(const struct frame *f, __u32 slot)
{
	struct snap want;
	struct run r;

	snap_take(&want);
	guest_tx(D_G1, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U0 + slot, 0 });
	add_tx(&want.g[ID_G1], 1, f->len);
	add_tx(&want.u[slot], 1, f->len);
	snap_expect(&want);
}

/* gona_guest_tx: frames to the fabric ---------------------------------- */

START_TEST(test_ip4_to_fabric)
{
	struct frame f;

	build_g1_tcp(&f);
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_ip4_second_address)
{
	struct frame f;

	/* Not the first (in the guest's entry): found in guest_ip4. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = G1_SECOND_IP4,
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP });
	expect_g1_to_uplink(&f, 0);
	build_arp(&f, MAC_EXT, MAC_G1, 2, MAC_G1, G1_SECOND_IP4,
		  "198.51.100.1");
	expect_g1_to_uplink(&f, 0);
	/* Another guest's first address is nobody else's. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G2,
				 .family = AF_INET,
				 .saddr = G1_SECOND_IP4,
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G2, ID_G2, &f, GONA_DROP_SRC_IP4);
}
END_TEST

START_TEST(test_ip6_to_fabric)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_UDP,
				 .sport = 5000,
				 .dport = 53,
				 .payload = 40 });
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_ip6_link_local_eui64)
{
	struct frame f;

	/* 02:00:00:00:00:01 -> fe80::ff:fe00:1 */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "fe80::ff:fe00:1",
				 .daddr = "fe80::1",
				 .proto = IPPROTO_TCP,
				 .sport = 1,
				 .dport = 2 });
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_arp_reply_to_fabric)
{
	struct frame f;

	build_arp(&f, MAC_EXT, MAC_G1, 2, MAC_G1, "192.0.2.1", "198.51.100.1");
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_arp_probe_allowed)
{
	struct frame f;

	build_arp(&f, MAC_EXT, MAC_G1, 1, MAC_G1, "0.0.0.0", "192.0.2.1");
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_na_own_target_allowed)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "fe80::ff:fe00:1",
				 .daddr = "fe80::99",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 136,
				 .target = "2001:db8::1" });
	expect_g1_to_uplink(&f, 0);
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "fe80::99",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 136,
				 .target = "fe80::ff:fe00:1" });
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_priority_set)
{
	struct __sk_buff ctx = { .priority = 0x10002 };
	struct frame f;
	struct run r;

	build_g1_tcp(&f);
	run_ctx(skel->progs.gona_guest_tx, D_G1, &f, &ctx, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	ck_assert_uint_eq(r.ctx.priority, PRIO_G1);

	/* g2 has no class yet: it gets none, not the one it asked for, even
	 * the HTB root's handle (1:0), which HTB would send unshaped. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G2,
				 .family = AF_INET,
				 .saddr = "192.0.2.2",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_UDP,
				 .sport = 1,
				 .dport = 2 });
	memset(&ctx, 0, sizeof(ctx));
	ctx.priority = 0x10000;
	run_ctx(skel->progs.gona_guest_tx, D_G2, &f, &ctx, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U1, 0 });
	ck_assert_uint_eq(r.ctx.priority, 0);
}
END_TEST

/* EDT: g1 paced at RATE from the time NEXT (0: from now), a frame that
 * would end more than 500 ms from now dropped. */
#define HORIZON_NS 500000000ull

static void pace_g1(__u64 rate, __u64 next)
{
	struct gona_pacing p = { .rate_bps = rate,
				 .next_ns = next,
				 .horizon_ns = HORIZON_NS };
	__u32 id = ID_G1;
	struct gona_guest g;

	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.guests, &id,
					      sizeof(id), &g, sizeof(g), 0),
			 0);
	g.flags |= GONA_GF_PACED;
	update(skel->maps.guests, &id, sizeof(id), &g, sizeof(g));
	update(skel->maps.pacing, &id, sizeof(id), &p, sizeof(p));
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

START_TEST(test_edt_departures_spaced_by_rate)
{
	/* 1 Mbit/s: a frame-time (1.2 ms) far above the time between two
	 * test runs, so the clock, not the wall, sets each departure. */
	const __u64 rate = 1000000;
	__u64 t[4], before, gap;
	struct frame f;
	struct run r;

	build_g1_tcp(&f);
	gap = (__u64)f.len * 8 * 1000000000ull / rate;
	pace_g1(rate, 0);
	before = mono_ns();
	for (int i = 0; i < 4; i++) {
		guest_tx(D_G1, &f, &r);
		ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
		t[i] = r.ctx.tstamp;
	}
	/* The first leaves now; each next one its length at 1M later. */
	ck_assert_uint_ge(t[0], before);
	ck_assert_uint_lt(t[0], mono_ns());
	for (int i = 1; i < 4; i++)
		ck_assert_uint_eq(t[i] - t[i - 1], gap);
}
END_TEST

START_TEST(test_edt_clock_shared_by_uplinks)
{
	struct gona_uplink down = { .ifindex = (__u32)ifi[D_U0] };
	__u32 slot = 0;
	struct frame f;
	struct run r;
	__u64 t0;

	/* One clock per guest: the frame after a failover to another uplink
	 * still departs one frame-time after the one before. */
	build_g1_tcp(&f);
	pace_g1(1000000, 0);
	guest_tx(D_G1, &f, &r);
	EXPECT_HOPS(&r, { D_U0, 0 });
	t0 = r.ctx.tstamp;
	update(skel->maps.uplinks, &slot, sizeof(slot), &down, sizeof(down));
	guest_tx(D_G1, &f, &r);
	EXPECT_HOPS(&r, { D_U1, 0 });
	ck_assert_uint_eq(r.ctx.tstamp - t0, (__u64)f.len * 8 * 1000);
}
END_TEST

static __u64 g1_next_ns(void)
{
	struct gona_pacing p;
	__u32 id = ID_G1;

	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.pacing, &id,
					      sizeof(id), &p, sizeof(p), 0),
			 0);
	return p.next_ns;
}

START_TEST(test_edt_horizon_drops)
{
	struct frame f;
	__u64 next, cost;

	/* A guest already 600 ms ahead of its rate: past the 500 ms horizon,
	 * and the dropped frame moves its clock no further. */
	build_g1_tcp(&f);
	next = mono_ns() + 600000000ull;
	pace_g1(100000000, next);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_HORIZON);
	ck_assert_uint_eq(g1_next_ns(), next);
	/* Within the horizon it is stamped, not dropped. */
	next = mono_ns() + 400000000ull;
	pace_g1(100000000, next);
	expect_g1_to_uplink(&f, 0);
	cost = (__u64)f.len * 8 * 1000000000ull / 100000000;
	ck_assert_uint_eq(g1_next_ns(), next + cost);
}
END_TEST

START_TEST(test_edt_horizon_counts_the_frame)
{
	struct frame f;
	__u64 next;

	/* At 1 kbit/s one frame takes longer than the horizon: an idle guest
	 * may not send it, nor push its clock seconds ahead by it. */
	build_g1_tcp(&f);
	pace_g1(1000, 0);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_HORIZON);
	ck_assert_uint_eq(g1_next_ns(), 0);
	/* 10 ms short of the horizon, a frame of 20 ms does not fit. */
	next = mono_ns() + HORIZON_NS - 10000000ull;
	pace_g1((__u64)f.len * 8 * 50, next);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_HORIZON);
	ck_assert_uint_eq(g1_next_ns(), next);
}
END_TEST

START_TEST(test_edt_unpaced_untouched)
{
	struct frame f;
	struct run r;

	build_g1_tcp(&f);
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	ck_assert_uint_eq(r.ctx.tstamp, 0);
	/* Paced with rate 0: not paced either. */
	pace_g1(0, 0);
	guest_tx(D_G1, &f, &r);
	ck_assert_uint_eq(r.ctx.tstamp, 0);
}
END_TEST

START_TEST(test_not_a_guest)
{
	struct snap want;
	struct frame f;
	struct run r;

	/* An interface the guest program runs on without a guest entry (a
	 * failed map write): nothing passes, to the fabric or the stack. */
	build_g1_tcp(&f);
	snap_take(&want);
	guest_tx(D_X, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	/* An uplink is no guest interface either. */
	guest_tx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	/* A filter carrying g1's id on another interface (g1's id given to
	 * a guest elsewhere while a frame still carried it): g1's entry
	 * names g1's interface, not this one. */
	guest_tx_as(D_X, ID_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	guest_tx_as(D_G2, ID_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	/* An id beyond the map. */
	guest_tx_as(D_G1, GONA_GUESTS_DEFAULT + 5, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	snap_expect(&want);
}
END_TEST

START_TEST(test_guest_entry_cleared)
{
	struct gona_guest g, none = { .id = ID_G1 };
	__u32 id = ID_G1;
	struct frame f;
	struct run r;

	/* g1's entry cleared as gonad clears it (no interface) while its
	 * filter still runs: its frames drop; written again, they pass. */
	build_g1_tcp(&f);
	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.guests, &id,
					      sizeof(id), &g, sizeof(g), 0),
			 0);
	update(skel->maps.guests, &id, sizeof(id), &none, sizeof(none));
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	update(skel->maps.guests, &id, sizeof(id), &g, sizeof(g));
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
}
END_TEST

/* gona_guest_tx: anti-spoofing ---------------------------------------- */

START_TEST(test_forged_src_mac)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G2,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_MAC);
	/* Checked before the ethertype: a forged ARP is a forged MAC. */
	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_G1, "192.0.2.1", "192.0.2.9");
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_MAC);
}
END_TEST

START_TEST(test_forged_ip4)
{
	struct frame f;

	/* Another guest's address is as forbidden as a stranger's. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.2",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP4);
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "10.9.9.9",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_UDP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP4);
}
END_TEST

START_TEST(test_dhcp_from_zero_allowed)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "0.0.0.0",
				 .daddr = "255.255.255.255",
				 .proto = IPPROTO_UDP,
				 .sport = 68,
				 .dport = 67,
				 .payload = 240 });
	snap_take(&want);
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G2, 1 }, { D_G3, 1 }, { D_G4, 1 }, { D_U0, 0 });
	add_tx(&want.g[ID_G1], 1, f.len);
	add_rx(&want.g[ID_G2], 1, f.len);
	add_rx(&want.g[ID_G3], 1, f.len);
	add_rx(&want.g[ID_G4], 1, f.len);
	add_tx(&want.u[0], 1, f.len);
	snap_expect(&want);
}
END_TEST

START_TEST(test_zero_src_not_dhcp)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "0.0.0.0",
				 .daddr = "255.255.255.255",
				 .proto = IPPROTO_UDP,
				 .sport = 68,
				 .dport = 1234 });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP4);
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "0.0.0.0",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP,
				 .sport = 68,
				 .dport = 67 });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP4);
}
END_TEST

START_TEST(test_forged_ip6)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::2",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP6);
	/* Another guest's link-local address. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "fe80::ff:fe00:2",
				 .daddr = "fe80::1",
				 .proto = IPPROTO_UDP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP6);
	/* :: is for neighbour discovery, not for UDP. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "::",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_UDP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_SRC_IP6);
}
END_TEST

START_TEST(test_dad_from_any_allowed)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_ND_G1,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "::",
				 .daddr = "ff02::1:ff00:1",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 135,
				 .target = "2001:db8::1" });
	snap_take(&want);
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G2, 1 }, { D_G3, 1 }, { D_G4, 1 }, { D_U0, 0 });
	add_tx(&want.g[ID_G1], 1, f.len);
	add_rx(&want.g[ID_G2], 1, f.len);
	add_rx(&want.g[ID_G3], 1, f.len);
	add_rx(&want.g[ID_G4], 1, f.len);
	add_tx(&want.u[0], 1, f.len);
	snap_expect(&want);
}
END_TEST

START_TEST(test_forged_arp_sender_mac)
{
	struct frame f;

	build_arp(&f, MAC_BCAST, MAC_G1, 1, MAC_G2, "192.0.2.1", "192.0.2.9");
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_ARP_SPOOF);
}
END_TEST

START_TEST(test_forged_arp_sender_ip)
{
	struct frame f;

	build_arp(&f, MAC_BCAST, MAC_G1, 2, MAC_G1, "192.0.2.2", "192.0.2.9");
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_ARP_SPOOF);
}
END_TEST

START_TEST(test_spoofed_na_target)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "ff02::1",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 136,
				 .target = "2001:db8::2" });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_ND_SPOOF);
	/* Hidden behind an extension header it is still seen. */
	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "fe80::ff:fe00:1",
				 .daddr = "ff02::1",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 136,
				 .dstopts = 1,
				 .target = "fe80::ff:fe00:2" });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_ND_SPOOF);
}
END_TEST

/* Insert a tag of PROTO with TCI after the MACs. */
static void tag(struct frame *f, __u16 proto, __u16 tci)
{
	ck_assert_uint_le(f->len + 4, sizeof(f->b));
	memmove(f->b + 16, f->b + 12, f->len - 12);
	set16(f, 12, proto);
	set16(f, 14, tci);
	f->len += 4;
}

START_TEST(test_vlan_tagged)
{
	struct frame f;

	/* An untagged guest's own tag: gona does the tagging. */
	build_g1_tcp(&f);
	tag(&f, 0x8100, 10);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_VLAN);
	/* A second tag inside the first. */
	build_g1_tcp(&f);
	tag(&f, 0x8100, 10);
	tag(&f, 0x8100, 10);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_VLAN);
	/* Neither IPv4, IPv6 nor ARP: LLDP. */
	build_g1_tcp(&f);
	set16(&f, 12, 0x88cc);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_ETHERTYPE);
}
END_TEST

START_TEST(test_truncated)
{
	struct frame f;

	/* test_run refuses frames shorter than an Ethernet header, and on
	 * this kernel IPv4 and IPv6 frames without a whole fixed L3 header,
	 * so the truncations here are of what those headers announce. */
	build_arp(&f, MAC_BCAST, MAC_G1, 1, MAC_G1, "192.0.2.1", "192.0.2.9");
	f.len = 14;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);
	f.len = 14 + 27;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);

	/* IPv4 announcing options the frame does not have. */
	build_g1_tcp(&f);
	f.b[14] = 0x46;
	f.len = 14 + 20;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);

	build_g1_tcp(&f);
	f.b[14] = 0x44; /* IHL 4: shorter than a header can be */
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);

	/* IPv6 whose extension header is cut off. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_TCP,
				 .dstopts = 1 });
	f.len = 14 + 40 + 4;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);

	/* A neighbour advertisement cut inside its target. */
	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "ff02::1",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 136,
				 .target = "2001:db8::1" });
	f.len -= 4;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);

	/* A DHCP client whose UDP header is missing. */
	build(&f, &(struct pkt){ .dst = MAC_BCAST,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "0.0.0.0",
				 .daddr = "255.255.255.255",
				 .proto = IPPROTO_UDP,
				 .sport = 68,
				 .dport = 67 });
	f.len = 14 + 20 + 2;
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_MALFORMED);
}
END_TEST

/* gona_guest_tx: where frames go --------------------------------------- */

/* A TCP segment of 500 bytes from g1 to g2. */
static void build_g1_to_g2(struct frame *f)
{
	build(f, &(struct pkt){ .dst = MAC_G2,
				.src = MAC_G1,
				.family = AF_INET,
				.saddr = "192.0.2.1",
				.daddr = "192.0.2.2",
				.proto = IPPROTO_TCP,
				.payload = 500 });
}

START_TEST(test_guest_to_guest)
{
	struct snap want;
	struct frame f;
	struct run r;

	build_g1_to_g2(&f);
	snap_take(&want);
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G2, 0 });
	add_tx(&want.g[ID_G1], 1, f.len);
	add_rx(&want.g[ID_G2], 1, f.len);
	snap_expect(&want);
	/* The guest's class is for its uplink, not for its neighbours. */
	ck_assert_uint_eq(r.ctx.priority, 0);
}
END_TEST

/* A guest's unicast to its own MAC is not sent back to it (found by
 * tests/fuzz/fuzz_datapath): dropped as a loop. */
START_TEST(test_guest_to_itself)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_G1,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "192.0.2.1",
				 .proto = IPPROTO_UDP,
				 .payload = 20 });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_LOOP);
}
END_TEST

/* The filter of guest MACs decides whether a destination is looked up
 * among the guests: a set bit of no guest's (a MAC gone, or one sharing a
 * guest's bit) costs a look-up and changes nothing; a clear bit sends the
 * frame to the fabric unlooked-up, which is why gonad sets a guest's bit
 * before its entry. */
START_TEST(test_mac_filter)
{
	struct gona_mac_filter none = { 0 };
	__u32 zero = 0;
	struct frame f;

	ck_assert_int_eq(mac_filter_add(skel->maps.guest_mac_filter, MAC_EXT),
			 0);
	build_g1_tcp(&f);
	expect_g1_to_uplink(&f, 0);
	update(skel->maps.guest_mac_filter, &zero, sizeof(zero), &none,
	       sizeof(none));
	build_g1_to_g2(&f);
	expect_g1_to_uplink(&f, 0);
}
END_TEST

START_TEST(test_guest_to_absent_guest)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_ABSENT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "192.0.2.5",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_GUEST_ABSENT);
}
END_TEST

START_TEST(test_guest_broadcast)
{
	struct snap want;
	struct frame f;
	struct run r;

	/* g2 lives on uplink slot 1; its broadcast goes out there. */
	build_arp(&f, MAC_BCAST, MAC_G2, 1, MAC_G2, "192.0.2.2", "192.0.2.9");
	snap_take(&want);
	guest_tx(D_G2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G1, 1 }, { D_G3, 1 }, { D_G4, 1 }, { D_U1, 0 });
	add_tx(&want.g[ID_G2], 1, f.len);
	add_rx(&want.g[ID_G1], 1, f.len);
	add_rx(&want.g[ID_G3], 1, f.len);
	add_rx(&want.g[ID_G4], 1, f.len);
	add_tx(&want.u[1], 1, f.len);
	snap_expect(&want);
}
END_TEST

/* The globals as gonad last wrote them, and written back. */
static struct gona_globals get_globals(void)
{
	struct gona_globals gl;
	__u32 zero = 0;

	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.globals, &zero,
					      sizeof(zero), &gl, sizeof(gl), 0),
			 0);
	return gl;
}

static void put_globals(const struct gona_globals *gl)
{
	__u32 zero = 0;

	update(skel->maps.globals, &zero, sizeof(zero), gl, sizeof(*gl));
}

static void set_bcast_pps(__u32 pps)
{
	struct gona_globals gl = get_globals();

	gl.bcast_pps = pps;
	put_globals(&gl);
}

/* Run this thread, and the programs it tests, on CPU C only. */
static void on_cpu(int c)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(c, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
}

START_TEST(test_guest_broadcast_storm)
{
	struct frame f;
	struct run r;

	/* policy.broadcast_pps 3: a full bucket lets 3 through (each to
	 * every guest), the 4th is dropped as storm, counted, copied to no
	 * one and sent out of no uplink. The bucket is the guest's, whatever
	 * CPUs it sends from: the first two from one CPU, the others from
	 * another (where a bucket per CPU let 3 more through). */
	build_arp(&f, MAC_BCAST, MAC_G2, 1, MAC_G2, "192.0.2.2", "192.0.2.9");
	set_bcast_pps(3);
	for (int i = 0; i < 3; i++) {
		if (i == 2 && ncpus > 1)
			on_cpu(1);
		else if (i == 0)
			on_cpu(0);
		guest_tx(D_G2, &f, &r);
		ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	}
	expect_guest_drop(D_G2, ID_G2, &f, GONA_DROP_STORM);
	on_cpu(0);
	/* Another guest has a bucket of its own. */
	build_arp(&f, MAC_BCAST, MAC_G1, 1, MAC_G1, "192.0.2.1", "192.0.2.9");
	guest_tx(D_G1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	/* Refilled at 3 a second: one more within 400 ms. */
	usleep(400000);
	build_arp(&f, MAC_BCAST, MAC_G2, 1, MAC_G2, "192.0.2.2", "192.0.2.9");
	guest_tx(D_G2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	/* 0: no limit. */
	set_bcast_pps(0);
	for (int i = 0; i < 10; i++) {
		guest_tx(D_G2, &f, &r);
		ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	}
}
END_TEST

START_TEST(test_home_uplink_down)
{
	struct frame f;

	build_g1_tcp(&f);
	set_uplink(0, D_U0, 0);
	expect_g1_to_uplink(&f, 1);
	/* Up, but its device is gone. */
	set_uplink(0, D_N, GONA_UF_UP);
	expect_g1_to_uplink(&f, 1);
	/* The scan starts after the home slot and wraps: g1 is at home on 0,
	 * so with 1 down it is 2; g2 (home 1) with 1 and 2 down wraps to 0. */
	set_uplink(0, D_U0, 0);
	set_uplink(1, D_U1, 0);
	expect_g1_to_uplink(&f, 2);
}
END_TEST

START_TEST(test_failover_wraps)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G2,
				 .family = AF_INET,
				 .saddr = "192.0.2.2",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_UDP,
				 .sport = 9,
				 .dport = 9 });
	set_uplink(1, D_U1, 0);
	guest_tx(D_G2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U2, 0 });
	set_uplink(2, D_U2, 0);
	snap_take(&want);
	guest_tx(D_G2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U0, 0 });
	add_tx(&want.g[ID_G2], 1, f.len);
	add_tx(&want.u[0], 1, f.len);
	snap_expect(&want);
}
END_TEST

START_TEST(test_all_uplinks_down)
{
	struct frame f;

	build_g1_tcp(&f);
	for (__u32 s = 0; s < 3; s++)
		set_uplink(s, D_U0 + s, 0);
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_NO_UPLINK);
}
END_TEST

START_TEST(test_unplaced_guest)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G4,
				 .family = AF_INET,
				 .saddr = "192.0.2.4",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP });
	expect_guest_drop(D_G4, ID_G4, &f, GONA_DROP_NO_UPLINK);
}
END_TEST

/* A TCP frame of the spread guest g3 from port SPORT. */
static void g3_flow(struct frame *f, __u16 sport)
{
	build(f, &(struct pkt){ .dst = MAC_EXT,
				.src = MAC_G3,
				.family = AF_INET,
				.saddr = "192.0.2.3",
				.daddr = "198.51.100.1",
				.proto = IPPROTO_TCP,
				.sport = sport,
				.dport = 443 });
}

/* The uplink slot g3's frame F went out of. */
static unsigned int g3_sent(const struct frame *f)
{
	struct run r;

	guest_tx(D_G3, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	ck_assert_uint_eq(r.log.n, 1);
	for (unsigned int s = 0; s <= D_U2 - D_U0; s++)
		if ((int)r.log.ev[0].ifindex == ifi[D_U0 + s])
			return s;
	ck_abort_msg("g3's frame went to ifindex %u, no uplink",
		     r.log.ev[0].ifindex);
	return 0;
}

static __u32 g3_turn(void)
{
	__u32 id = ID_G3, turn = 0;

	bpf_map__lookup_elem(skel->maps.flow_turn, &id, sizeof(id), &turn,
			     sizeof(turn), 0);
	return turn;
}

static __u64 g3_uplink_bytes(unsigned int slot)
{
	__u32 key = GONA_GUEST_UPLINK_IDX(ID_G3, slot);
	__u64 v[256] = { 0 }, sum = 0;

	ck_assert_int_le(ncpus, 256);
	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.guest_uplink_bytes,
					      &key, sizeof(key), v,
					      sizeof(v[0]) * (size_t)ncpus, 0),
			 0);
	for (int c = 0; c < ncpus; c++)
		sum += v[c];
	return sum;
}

START_TEST(test_spread_guest)
{
	unsigned int seen[N_SLOTS] = { 0 }, first[48];
	__u64 bytes0[N_SLOTS];
	struct snap want;
	struct frame f;
	__u32 turn0 = g3_turn(), id = ID_G3;
	struct gona_guest g;

	for (unsigned int s = 0; s < N_SLOTS; s++)
		bytes0[s] = g3_uplink_bytes(s);
	snap_take(&want);
	/* New flows take the guest's slots in turn, whatever their hash. */
	for (unsigned int flow = 0; flow < 48; flow++) {
		g3_flow(&f, (__u16)(30000 + flow));
		first[flow] = g3_sent(&f);
		ck_assert_uint_eq(first[flow], spread_slot((turn0 + flow) %
							   GONA_SPREAD_SLOTS));
		seen[first[flow]]++;
		add_tx(&want.g[ID_G3], 1, f.len);
		add_tx(&want.u[first[flow]], 1, f.len);
	}
	snap_expect(&want);
	/* 48 flows over a 1:2 table: 16 and 32, never the third uplink. */
	ck_assert_uint_eq(seen[1], 16);
	ck_assert_uint_eq(seen[0], 32);
	ck_assert_uint_eq(seen[2], 0);
	ck_assert_uint_eq(g3_turn(), turn0 + 48);
	/* Counted per uplink for gonad's rate limiting. */
	ck_assert_uint_eq(g3_uplink_bytes(0) - bytes0[0], 32 * f.len);
	ck_assert_uint_eq(g3_uplink_bytes(1) - bytes0[1], 16 * f.len);

	/* A flow keeps its uplink when the turns change: all on uplink 1
	 * now for new flows, the old ones stay. */
	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.guests, &id,
					      sizeof(id), &g, sizeof(g), 0),
			 0);
	memset(g.slots, 1, sizeof(g.slots));
	update(skel->maps.guests, &id, sizeof(id), &g, sizeof(g));
	for (unsigned int flow = 0; flow < 48; flow++) {
		g3_flow(&f, (__u16)(30000 + flow));
		ck_assert_uint_eq(g3_sent(&f), first[flow]);
	}
	g3_flow(&f, 31000);
	ck_assert_uint_eq(g3_sent(&f), 1);

	/* Uplink 0 no longer the guest's: its flows take new turns. */
	g.homes = 0x2;
	update(skel->maps.guests, &id, sizeof(id), &g, sizeof(g));
	for (unsigned int flow = 0; flow < 48; flow++) {
		g3_flow(&f, (__u16)(30000 + flow));
		ck_assert_uint_eq(g3_sent(&f), 1);
	}
	/* Back as it was for the other tests. */
	for (unsigned int s = 0; s < GONA_SPREAD_SLOTS; s++)
		g.slots[s] = spread_slot(s);
	g.homes = 0x3;
	update(skel->maps.guests, &id, sizeof(id), &g, sizeof(g));
}
END_TEST

/* g3's flow from port SPORT as the flow table has it, after a frame. */
static struct gona_flow_key g3_flow_key(__u16 sport, struct frame *f)
{
	struct run r;

	g3_flow(f, sport);
	guest_tx(D_G3, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	return (struct gona_flow_key){ .id = ID_G3, .hash = r.log.hash };
}

static struct gona_flow get_flow(const struct gona_flow_key *k)
{
	struct gona_flow v;

	ck_assert_int_eq(bpf_map__lookup_elem(skel->maps.flows, k, sizeof(*k),
					      &v, sizeof(v), 0),
			 0);
	return v;
}

/* gonad's move of flow K to uplink slot TO, as dp_move_flow writes it,
 * with its latest packet at LAST and the deadline at BY. */
static void move_flow(const struct gona_flow_key *k, __u32 to, __u64 last,
		      __u64 by)
{
	struct gona_flow v = get_flow(k);

	v.next_slot = to;
	v.last_ns = last;
	v.move_by_ns = by;
	update(skel->maps.flows, k, sizeof(*k), &v, sizeof(v));
}

START_TEST(test_flow_moves_at_a_pause)
{
	struct frame f;
	struct gona_flow_key k = g3_flow_key(33000, &f);
	unsigned int a = g3_sent(&f), b = 1 - a;
	__u64 now = mono_ns(), far = now + 3600ull * 1000000000ull;
	struct gona_flow v;

	/* Moved while it sends (its latest packet "now" from the program's
	 * clock's view: later than this frame): it stays, and the frame is
	 * its latest. */
	move_flow(&k, b, far, far);
	ck_assert_uint_eq(g3_sent(&f), a);
	v = get_flow(&k);
	ck_assert_uint_eq(v.slot, a);
	ck_assert_uint_eq(v.next_slot, b);
	ck_assert_uint_lt(v.last_ns, far);
	ck_assert_uint_ge(v.last_ns, now);
	/* After a pause of the gap, the next frame takes the new uplink, and
	 * the flow stays there. */
	move_flow(&k, b, mono_ns() - GONA_FLOWLET_GAP_NS - 1000000, far);
	ck_assert_uint_eq(g3_sent(&f), b);
	ck_assert_uint_eq(get_flow(&k).slot, b);
	ck_assert_uint_eq(g3_sent(&f), b);
	/* A flow that never pauses goes at its deadline. */
	move_flow(&k, a, far, mono_ns() - 1);
	ck_assert_uint_eq(g3_sent(&f), a);
	ck_assert_uint_eq(get_flow(&k).slot, a);
	/* Never to an uplink that is not the guest's (slot 2), however
	 * long it paused. */
	move_flow(&k, 2, 0, 0);
	ck_assert_uint_eq(g3_sent(&f), a);
	ck_assert_uint_eq(get_flow(&k).slot, a);
	move_flow(&k, GONA_MAX_UPLINKS, 0, 0);
	ck_assert_uint_eq(g3_sent(&f), a);
}
END_TEST

static void set_global_flags(__u32 flags)
{
	struct gona_globals gl = get_globals();

	gl.flags = flags;
	put_globals(&gl);
}

START_TEST(test_spread_plain_hashing)
{
	struct frame f;
	struct run r;
	__u32 turn0 = g3_turn();

	/* policy.flow_table off: the hash alone picks the uplink, and the
	 * flow table is not touched. */
	set_global_flags(GONA_GLF_HASH_FLOWS);
	for (unsigned int flow = 0; flow < 16; flow++) {
		g3_flow(&f, (__u16)(32000 + flow));
		guest_tx(D_G3, &f, &r);
		ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
		EXPECT_HOPS(&r,
			    { (enum dev)(D_U0 + spread_slot(r.log.hash %
							    GONA_SPREAD_SLOTS)),
			      0 });
	}
	ck_assert_uint_eq(g3_turn(), turn0);
	set_global_flags(0);
}
END_TEST

/* Wire bytes ------------------------------------------------------------ */

/* F from g1 as a GSO packet of SEGS segments: HDR bytes repeat per segment. */
static void expect_g1_gso(const struct frame *f, __u32 segs, __u32 hdr)
{
	struct __sk_buff ctx = { .gso_segs = segs, .gso_size = 100 };
	__u64 wire = f->len + (__u64)(segs - 1) * hdr;
	struct snap want;
	struct run r;

	snap_take(&want);
	run_ctx(skel->progs.gona_guest_tx, D_G1, f, &ctx, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U0, 0 });
	add_tx(&want.g[ID_G1], segs, wire);
	add_tx(&want.u[0], segs, wire);
	snap_expect(&want);
}

START_TEST(test_gso_tcp4)
{
	struct frame f;

	/* TCP with timestamps: a 32-byte header. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP,
				 .doff = 8,
				 .payload = 400 });
	expect_g1_gso(&f, 4, 14 + 20 + 32);
	/* IPv4 options count too. */
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "198.51.100.1",
				 .proto = IPPROTO_TCP,
				 .ihl = 6,
				 .payload = 300 });
	expect_g1_gso(&f, 3, 14 + 24 + 20);
}
END_TEST

START_TEST(test_gso_udp6)
{
	struct frame f;

	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_UDP,
				 .payload = 300 });
	expect_g1_gso(&f, 3, 14 + 40 + 8);
	build(&f, &(struct pkt){ .dst = MAC_EXT,
				 .src = MAC_G1,
				 .family = AF_INET6,
				 .saddr = "2001:db8::1",
				 .daddr = "2001:db8:ffff::1",
				 .proto = IPPROTO_TCP,
				 .dstopts = 1,
				 .payload = 300 });
	expect_g1_gso(&f, 2, 14 + 40 + 8 + 20);
}
END_TEST

START_TEST(test_gso_one_segment)
{
	struct frame f;

	build_g1_tcp(&f);
	expect_g1_gso(&f, 1, 0);
}
END_TEST

START_TEST(test_gso_uplink_rx)
{
	struct __sk_buff ctx = { .gso_segs = 5, .gso_size = 200 };
	struct snap want;
	struct frame f;
	struct run r;
	__u64 wire;

	build(&f, &(struct pkt){ .dst = MAC_G2,
				 .src = MAC_EXT,
				 .family = AF_INET,
				 .saddr = "198.51.100.1",
				 .daddr = "192.0.2.2",
				 .proto = IPPROTO_TCP,
				 .doff = 8,
				 .payload = 400 });
	wire = f.len + 4 * (14 + 20 + 32);
	snap_take(&want);
	run_ctx(skel->progs.gona_uplink_rx, D_U1, &f, &ctx, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G2, 0 });
	add_rx(&want.u[1], 5, wire);
	add_rx(&want.g[ID_G2], 5, wire);
	snap_expect(&want);
}
END_TEST

/* gona_uplink_rx --------------------------------------------------------- */

START_TEST(test_rx_unicast_to_guest)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_G2,
				 .src = MAC_EXT,
				 .family = AF_INET6,
				 .saddr = "2001:db8:ffff::1",
				 .daddr = "2001:db8::2",
				 .proto = IPPROTO_TCP,
				 .payload = 1000 });
	snap_take(&want);
	/* Whichever uplink it comes in on: here not g2's home. */
	uplink_rx(D_U2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G2, 0 });
	add_rx(&want.u[2], 1, f.len);
	add_rx(&want.g[ID_G2], 1, f.len);
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_unknown_unicast)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_EXT2,
				 .src = MAC_EXT,
				 .family = AF_INET,
				 .saddr = "198.51.100.1",
				 .daddr = "198.51.100.2",
				 .proto = IPPROTO_TCP });
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_not_an_uplink)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_G2,
				 .src = MAC_EXT,
				 .family = AF_INET,
				 .saddr = "198.51.100.1",
				 .daddr = "192.0.2.2",
				 .proto = IPPROTO_TCP });
	snap_take(&want);
	uplink_rx(D_X, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_bcast_other_uplink)
{
	struct snap want;
	struct frame f;
	struct run r;

	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.1");
	snap_take(&want);
	uplink_rx(D_U1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[1].drops[GONA_DROP_BCAST_DUP]++;
	snap_expect(&want);
}
END_TEST

/* F on uplink DEV is copied to each untagged guest, counted as received
 * there and by the uplink, and goes on to the driver domain's stack. */
static void expect_rx_flood(enum dev dev, const struct frame *f)
{
	struct snap want;
	struct run r;

	snap_take(&want);
	uplink_rx(dev, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	EXPECT_HOPS(&r, { D_G1, 1 }, { D_G2, 1 }, { D_G3, 1 }, { D_G4, 1 });
	add_rx(&want.u[dev - D_U0], 1, f->len);
	add_rx(&want.g[ID_G1], 1, f->len);
	add_rx(&want.g[ID_G2], 1, f->len);
	add_rx(&want.g[ID_G3], 1, f->len);
	add_rx(&want.g[ID_G4], 1, f->len);
	snap_expect(&want);
}

START_TEST(test_rx_bcast_designated)
{
	struct frame f;

	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.1");
	expect_rx_flood(D_U0, &f);
	/* IPv6 multicast as well. */
	build(&f, &(struct pkt){ .dst = MAC_ND_G1,
				 .src = MAC_EXT,
				 .family = AF_INET6,
				 .saddr = "fe80::99",
				 .daddr = "ff02::1:ff00:1",
				 .proto = IPPROTO_ICMPV6,
				 .icmp6_type = 135,
				 .target = "2001:db8::1" });
	expect_rx_flood(D_U0, &f);
}
END_TEST

/* F on uplink DEV is dropped as a copy of the designated uplink's. */
static void expect_rx_bcast_dup(enum dev dev, const struct frame *f)
{
	struct snap want;
	struct run r;

	snap_take(&want);
	uplink_rx(dev, f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[dev - D_U0].drops[GONA_DROP_BCAST_DUP]++;
	snap_expect(&want);
}

/* The switch sends a broadcast out of one member of an LACP bundle, any
 * of them: those gonad marks GONA_UF_BCAST, the designated uplink's
 * group, are the guests' too. */
START_TEST(test_rx_bcast_lacp_member)
{
	struct frame f;

	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.1");
	set_uplink(1, D_U1, GONA_UF_UP | GONA_UF_BCAST);
	expect_rx_flood(D_U1, &f);
	/* The designated one's entry has no flag, as an older gonad
	 * leaves it: globals.bcast_ifindex alone still decides. */
	expect_rx_flood(D_U0, &f);
	/* Out of the group, a copy again. */
	set_uplink(1, D_U1, GONA_UF_UP);
	expect_rx_bcast_dup(D_U1, &f);
	/* The flag of an entry that is another device's (the slot being
	 * taken over) is not this uplink's. */
	set_uplink(1, D_X, GONA_UF_UP | GONA_UF_BCAST);
	expect_rx_bcast_dup(D_U1, &f);
}
END_TEST

/* Link-local frames: the driver domain's ------------------------------- */

static const __u8 MAC_SWITCH[6] = { 0x02, 0, 0, 0, 0x99, 0x10 };

/* The IEEE 802.1D reserved group address 01:80:c2:00:00:LAST. */
static void set_link_local(__u8 *mac, __u8 last)
{
	static const __u8 base[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };

	memcpy(mac, base, 6);
	mac[5] = last;
}

/* A LACPDU of the switch's (IEEE 802.1AX): to the slow protocols'
 * address and ethertype, 110 bytes after the Ethernet header. */
static void build_lacpdu(struct frame *f)
{
	__u8 dst[6];

	set_link_local(dst, 0x02);
	f->len = 0;
	put(f, dst, 6);
	put(f, MAC_SWITCH, 6);
	put16(f, ETH_P_SLOW);
	put8(f, 1); /* subtype: LACP */
	put8(f, 1); /* version */
	put8(f, 1); /* actor information, 20 bytes */
	put8(f, 20);
	put16(f, 0x8000); /* system priority */
	put(f, MAC_SWITCH, 6);
	put16(f, 7); /* key */
	put16(f, 0x8000); /* port priority */
	put16(f, 1); /* port */
	/* Active, aggregatable, in sync, collecting, distributing. */
	put8(f, 0x3d);
	put_zero(f, 3);
	put8(f, 2); /* partner information, unknown yet */
	put8(f, 20);
	put_zero(f, 18);
	put8(f, 3); /* collector information */
	put8(f, 16);
	put_zero(f, 14);
	put8(f, 0); /* terminator, and the reserved bytes */
	put8(f, 0);
	put_zero(f, 50);
	ck_assert_uint_eq(f->len, ETH_HLEN + 110);
}

/* An LLDPDU of the switch's to DST: chassis and port by MAC, a TTL. */
static void build_lldp(struct frame *f, const __u8 *dst)
{
	f->len = 0;
	put(f, dst, 6);
	put(f, MAC_SWITCH, 6);
	put16(f, ETH_P_LLDP);
	put16(f, 1 << 9 | 7); /* chassis ID: a MAC */
	put8(f, 4);
	put(f, MAC_SWITCH, 6);
	put16(f, 2 << 9 | 7); /* port ID: a MAC */
	put8(f, 3);
	put(f, MAC_SWITCH, 6);
	put16(f, 3 << 9 | 2); /* TTL */
	put16(f, 120);
	put16(f, 0); /* end */
	put_zero(f, 60 - f->len);
}

/* F on uplink DEV goes on to the driver domain's stack as it came: no
 * guest gets it and no counter moves, as for a frame not for gona. */
static void expect_rx_to_stack(enum dev dev, const struct frame *f)
{
	struct snap want;
	struct run r;

	snap_take(&want);
	uplink_rx(dev, f, &r);
	ck_assert_msg(r.ret == TC_ACT_OK, "verdict %d on %s, expected %d",
		      r.ret, dev_names[dev], TC_ACT_OK);
	ck_assert_msg(r.log.n == 0, "%u redirects on %s, expected none",
		      r.log.n, dev_names[dev]);
	ck_assert_uint_eq(r.out_len, f->len);
	ck_assert_msg(!memcmp(r.out, f->b, f->len), "the frame was changed");
	snap_expect(&want);
}

/* gonad's LACP runs on every uplink through a packet socket, which sees
 * a frame only after tc: the designated uplink's LACPDUs and the others'
 * alike reach it, and none is a broadcast for the guests. */
START_TEST(test_rx_lacpdu_to_stack)
{
	struct frame f;

	build_lacpdu(&f);
	for (enum dev d = D_U0; d <= D_U2; d++)
		expect_rx_to_stack(d, &f);
	/* A member of the designated uplink's LACP group too. */
	set_uplink(1, D_U1, GONA_UF_UP | GONA_UF_BCAST);
	expect_rx_to_stack(D_U1, &f);
}
END_TEST

START_TEST(test_rx_lldp_to_stack)
{
	__u8 dst[6];
	struct frame f;

	set_link_local(dst, 0x0e);
	build_lldp(&f, dst);
	expect_rx_to_stack(D_U1, &f);
	expect_rx_to_stack(D_U0, &f);
}
END_TEST

/* The whole reserved range and only it: 00 to 0f (STP's is 00, and
 * its BPDUs have an 802.3 length, not an ethertype). Past it, a
 * multicast of the guests', taken from the designated uplink. */
START_TEST(test_rx_link_local_range)
{
	static const __u8 llc_stp[] = { 0x42, 0x42, 0x03 };
	__u8 dst[6];
	struct frame f;

	set_link_local(dst, 0x00);
	f.len = 0;
	put(&f, dst, 6);
	put(&f, MAC_SWITCH, 6);
	put16(&f, 3 + 35); /* LLC and a configuration BPDU */
	put(&f, llc_stp, sizeof(llc_stp));
	put_zero(&f, 35);
	put_zero(&f, 60 - f.len);
	expect_rx_to_stack(D_U1, &f);
	expect_rx_to_stack(D_U0, &f);
	set_link_local(dst, 0x0f);
	build_lldp(&f, dst);
	expect_rx_to_stack(D_U1, &f);
	expect_rx_to_stack(D_U0, &f);

	set_link_local(dst, 0x10);
	build_lldp(&f, dst);
	expect_rx_flood(D_U0, &f);
	expect_rx_bcast_dup(D_U1, &f);
	set_link_local(dst, 0x0e);
	dst[4] = 0x01;
	build_lldp(&f, dst);
	expect_rx_flood(D_U0, &f);
	set_link_local(dst, 0x0e);
	dst[2] = 0xc3;
	build_lldp(&f, dst);
	expect_rx_flood(D_U0, &f);
}
END_TEST

/* Tagged, still the link's: not flooded to the guests of the VLAN. */
START_TEST(test_vlan_rx_link_local)
{
	struct snap want;
	__u8 dst[6];
	struct frame f;
	struct run r;

	set_link_local(dst, 0x0e);
	build_lldp(&f, dst);
	tag(&f, 0x8100, 10);
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	uplink_rx(D_U1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_reflected_bcast)
{
	struct snap want;
	struct frame f;
	struct run r;

	build_arp(&f, MAC_BCAST, MAC_G1, 1, MAC_G1, "192.0.2.1", "192.0.2.9");
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[0].drops[GONA_DROP_LOOP]++;
	/* On another uplink too: LOOP is checked first. */
	uplink_rx(D_U2, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	want.u[2].drops[GONA_DROP_LOOP]++;
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_reflected_unicast)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_G2,
				 .src = MAC_G1,
				 .family = AF_INET,
				 .saddr = "192.0.2.1",
				 .daddr = "192.0.2.2",
				 .proto = IPPROTO_TCP });
	snap_take(&want);
	uplink_rx(D_U1, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[1].drops[GONA_DROP_LOOP]++;
	snap_expect(&want);
}
END_TEST

START_TEST(test_rx_absent_guest)
{
	struct snap want;
	struct frame f;
	struct run r;

	build(&f, &(struct pkt){ .dst = MAC_ABSENT,
				 .src = MAC_EXT,
				 .family = AF_INET,
				 .saddr = "198.51.100.1",
				 .daddr = "192.0.2.5",
				 .proto = IPPROTO_TCP });
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[0].drops[GONA_DROP_GUEST_ABSENT]++;
	snap_expect(&want);
}
END_TEST

/* VLANs: tags pushed, popped, kept and refused --------------------------- */

/* A TCP segment of SRC (192.0.2.N) to DST. */
static void build_tcp(struct frame *f, const __u8 *dst, const __u8 *src,
		      const char *saddr, const char *daddr)
{
	build(f, &(struct pkt){ .dst = dst,
				.src = src,
				.family = AF_INET,
				.saddr = saddr,
				.daddr = daddr,
				.proto = IPPROTO_TCP,
				.sport = 40000,
				.dport = 5201,
				.payload = 100 });
}

/* Redirect I of R left with the tag VID (0: none). */
static void expect_tag(const struct run *r, unsigned int i, __u16 vid)
{
	__u32 got;

	ck_assert_uint_lt(i, r->log.n);
	got = r->log.ev[i].vlan;
	if (!vid)
		ck_assert_msg(got == 0,
			      "redirect %u left tagged (tci 0x%x), expected "
			      "untagged",
			      i, got & 0xffff);
	else
		ck_assert_msg((got & GONA_TEST_TAGGED) && (got & 0xfff) == vid,
			      "redirect %u left with 0x%x, expected VLAN %u", i,
			      got, vid);
}

START_TEST(test_vlan_access_tagged_on_uplink)
{
	struct snap want;
	struct frame f;
	struct run r;

	build_tcp(&f, MAC_EXT, MAC_G5, "192.0.2.6", "198.51.100.1");
	snap_take(&want);
	guest_tx(D_G5, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U0, 0 });
	expect_tag(&r, 0, 10);
	add_tx(&want.g[ID_G5], 1, f.len);
	add_tx(&want.u[0], 1, f.len);
	snap_expect(&want);
}
END_TEST

START_TEST(test_vlan_access_own_tag_dropped)
{
	struct frame f;

	/* Even its own VLAN: an access guest does not tag. */
	build_tcp(&f, MAC_EXT, MAC_G5, "192.0.2.6", "198.51.100.1");
	tag(&f, 0x8100, 10);
	expect_guest_drop(D_G5, ID_G5, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_EXT, MAC_G5, "192.0.2.6", "198.51.100.1");
	tag(&f, 0x8100, 20);
	expect_guest_drop(D_G5, ID_G5, &f, GONA_DROP_VLAN);
	/* A priority tag (VID 0) is a tag too. */
	build_tcp(&f, MAC_EXT, MAC_G5, "192.0.2.6", "198.51.100.1");
	tag(&f, 0x8100, 0x6000);
	expect_guest_drop(D_G5, ID_G5, &f, GONA_DROP_VLAN);
}
END_TEST

START_TEST(test_vlan_trunk_tags)
{
	struct frame f;
	struct run r;

	/* Its own tags of its trunk list are kept, priority bits too. */
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x8100, 0xa000 | 20);
	guest_tx(D_G7, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_U2, 0 });
	expect_tag(&r, 0, 20);
	ck_assert_uint_eq(r.log.ev[0].vlan & 0xf000, 0xa000);
	/* Untagged, its frames are of its own VLAN. */
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	guest_tx(D_G7, &f, &r);
	EXPECT_HOPS(&r, { D_U2, 0 });
	expect_tag(&r, 0, 10);
	/* A VLAN not in its list, its own VLAN tagged, a service tag. */
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x8100, 40);
	expect_guest_drop(D_G7, ID_G7, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x8100, 10);
	expect_guest_drop(D_G7, ID_G7, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x88a8, 20);
	expect_guest_drop(D_G7, ID_G7, &f, GONA_DROP_VLAN);
	/* Tagged, its frames are still its own. */
	build_tcp(&f, MAC_EXT, MAC_G5, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x8100, 20);
	expect_guest_drop(D_G7, ID_G7, &f, GONA_DROP_SRC_MAC);
}
END_TEST

START_TEST(test_vlan_guest_to_guest)
{
	struct snap want;
	struct frame f;
	struct run r;

	/* g5 (10) to the trunk g7, whose untagged VLAN is 10. */
	build_tcp(&f, MAC_G7, MAC_G5, "192.0.2.6", "192.0.2.8");
	guest_tx(D_G5, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G7, 0 });
	expect_tag(&r, 0, 0);
	/* g6 (20) to g7, which takes 20 tagged. */
	build_tcp(&f, MAC_G7, MAC_G6, "192.0.2.7", "192.0.2.8");
	guest_tx(D_G6, &f, &r);
	EXPECT_HOPS(&r, { D_G7, 0 });
	expect_tag(&r, 0, 20);
	/* g7's VLAN 20 to g6: popped. */
	build_tcp(&f, MAC_G6, MAC_G7, "192.0.2.8", "192.0.2.7");
	tag(&f, 0x8100, 20);
	guest_tx(D_G7, &f, &r);
	EXPECT_HOPS(&r, { D_G6, 0 });
	expect_tag(&r, 0, 0);
	/* Across VLANs, and between untagged and tagged: never, counted. */
	build_tcp(&f, MAC_G6, MAC_G5, "192.0.2.6", "192.0.2.7");
	expect_guest_drop(D_G5, ID_G5, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_G5, MAC_G1, "192.0.2.1", "192.0.2.6");
	expect_guest_drop(D_G1, ID_G1, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_G1, MAC_G5, "192.0.2.6", "192.0.2.1");
	expect_guest_drop(D_G5, ID_G5, &f, GONA_DROP_VLAN);
	build_tcp(&f, MAC_G5, MAC_G7, "192.0.2.8", "192.0.2.6");
	tag(&f, 0x8100, 30);
	snap_take(&want);
	guest_tx(D_G7, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	want.g[ID_G7].drops[GONA_DROP_VLAN]++;
	snap_expect(&want);
}
END_TEST

START_TEST(test_vlan_guest_broadcast)
{
	struct frame f;
	struct run r;

	/* g5's broadcast: to g7 (untagged, 10 is its own) and out tagged;
	 * not to the untagged guests, not to g6. */
	build_arp(&f, MAC_BCAST, MAC_G5, 1, MAC_G5, "192.0.2.6", "192.0.2.9");
	guest_tx(D_G5, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G7, 1 }, { D_U0, 0 });
	expect_tag(&r, 0, 0);
	expect_tag(&r, 1, 10);
	/* g7's broadcast in 20: g6 untagged, the uplink tagged. */
	build_arp(&f, MAC_BCAST, MAC_G7, 1, MAC_G7, "192.0.2.8", "192.0.2.9");
	tag(&f, 0x8100, 20);
	guest_tx(D_G7, &f, &r);
	EXPECT_HOPS(&r, { D_G6, 1 }, { D_U2, 0 });
	expect_tag(&r, 0, 0);
	expect_tag(&r, 1, 20);
}
END_TEST

START_TEST(test_vlan_rx_unicast)
{
	struct snap want;
	struct frame f;
	struct run r;

	/* Tagged 10 for g5: delivered untagged, counted without the tag. */
	build_tcp(&f, MAC_G5, MAC_EXT, "198.51.100.1", "192.0.2.6");
	tag(&f, 0x8100, 10);
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_REDIRECT);
	EXPECT_HOPS(&r, { D_G5, 0 });
	expect_tag(&r, 0, 0);
	add_rx(&want.u[0], 1, f.len - 4);
	add_rx(&want.g[ID_G5], 1, f.len - 4);
	snap_expect(&want);
	/* Tagged 30 for the trunk g7: delivered tagged. */
	build_tcp(&f, MAC_G7, MAC_EXT, "198.51.100.1", "192.0.2.8");
	tag(&f, 0x8100, 30);
	uplink_rx(D_U2, &f, &r);
	EXPECT_HOPS(&r, { D_G7, 0 });
	expect_tag(&r, 0, 30);
	/* Of another VLAN, or untagged, for a VLAN guest; tagged for an
	 * untagged one: dropped on the uplink, counted. */
	build_tcp(&f, MAC_G5, MAC_EXT, "198.51.100.1", "192.0.2.6");
	tag(&f, 0x8100, 20);
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	ck_assert_uint_eq(r.log.n, 0);
	want.u[0].drops[GONA_DROP_VLAN]++;
	build_tcp(&f, MAC_G5, MAC_EXT, "198.51.100.1", "192.0.2.6");
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	want.u[0].drops[GONA_DROP_VLAN]++;
	build_tcp(&f, MAC_G1, MAC_EXT, "198.51.100.1", "192.0.2.1");
	tag(&f, 0x8100, 10);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_SHOT);
	want.u[0].drops[GONA_DROP_VLAN]++;
	snap_expect(&want);
	/* A service tag is the driver domain's, whoever it is for. */
	build_tcp(&f, MAC_G5, MAC_EXT, "198.51.100.1", "192.0.2.6");
	tag(&f, 0x88a8, 10);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
}
END_TEST

/* Q-in-Q from the fabric (found by tests/fuzz/fuzz_datapath): a frame
 * with a second tag is the driver domain's, not a guest's. Taking the
 * outer tag off for g5 moved the inner one into its place: g5 got the
 * frame tagged, and the trunk g7's copy lost the inner tag. */
START_TEST(test_vlan_rx_double_tag)
{
	struct snap want;
	struct frame f;
	struct run r;

	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.6");
	tag(&f, 0x8100, 30);
	tag(&f, 0x8100, 10);
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	build_tcp(&f, MAC_G5, MAC_EXT, "198.51.100.1", "192.0.2.6");
	tag(&f, 0x88a8, 100);
	tag(&f, 0x8100, 10);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
	snap_expect(&want);
	/* From a trunk guest, a second tag is dropped as before. */
	build_tcp(&f, MAC_EXT, MAC_G7, "192.0.2.8", "198.51.100.1");
	tag(&f, 0x8100, 30);
	tag(&f, 0x8100, 20);
	expect_guest_drop(D_G7, ID_G7, &f, GONA_DROP_VLAN);
}
END_TEST

START_TEST(test_vlan_rx_broadcast)
{
	struct snap want;
	struct frame f;
	struct run r;

	/* VLAN 10's broadcast: g5 and g7, untagged, once each. */
	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.6");
	tag(&f, 0x8100, 10);
	snap_take(&want);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	EXPECT_HOPS(&r, { D_G5, 1 }, { D_G7, 1 });
	expect_tag(&r, 0, 0);
	expect_tag(&r, 1, 0);
	add_rx(&want.u[0], 1, f.len - 4);
	add_rx(&want.g[ID_G5], 1, f.len - 4);
	add_rx(&want.g[ID_G7], 1, f.len - 4);
	snap_expect(&want);
	/* VLAN 20's: g6 untagged, the trunk g7 tagged. */
	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.7");
	tag(&f, 0x8100, 20);
	uplink_rx(D_U0, &f, &r);
	EXPECT_HOPS(&r, { D_G6, 1 }, { D_G7, 1 });
	expect_tag(&r, 0, 0);
	expect_tag(&r, 1, 20);
	/* VLAN 40's: nobody's. */
	build_arp(&f, MAC_BCAST, MAC_EXT, 1, MAC_EXT, "198.51.100.1",
		  "192.0.2.7");
	tag(&f, 0x8100, 40);
	uplink_rx(D_U0, &f, &r);
	ck_assert_int_eq(r.ret, TC_ACT_OK);
	ck_assert_uint_eq(r.log.n, 0);
}
END_TEST

/* Driver ---------------------------------------------------------------- */

static Suite *datapath_suite(void)
{
	Suite *s = suite_create("datapath");
	TCase *tx = tcase_create("guest_tx");
	TCase *spoof = tcase_create("anti_spoof");
	TCase *fwd = tcase_create("forwarding");
	TCase *wire = tcase_create("wire_bytes");
	TCase *rx = tcase_create("uplink_rx");
	TCase *vlan = tcase_create("vlan");
	TCase *all[] = { tx, spoof, fwd, wire, rx, vlan };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 30);
		suite_add_tcase(s, all[i]);
	}

	tcase_add_test(tx, test_ip4_to_fabric);
	tcase_add_test(tx, test_ip4_second_address);
	tcase_add_test(tx, test_ip6_to_fabric);
	tcase_add_test(tx, test_ip6_link_local_eui64);
	tcase_add_test(tx, test_arp_reply_to_fabric);
	tcase_add_test(tx, test_arp_probe_allowed);
	tcase_add_test(tx, test_na_own_target_allowed);
	tcase_add_test(tx, test_priority_set);
	tcase_add_test(tx, test_edt_departures_spaced_by_rate);
	tcase_add_test(tx, test_edt_clock_shared_by_uplinks);
	tcase_add_test(tx, test_edt_horizon_drops);
	tcase_add_test(tx, test_edt_horizon_counts_the_frame);
	tcase_add_test(tx, test_edt_unpaced_untouched);
	tcase_add_test(tx, test_not_a_guest);
	tcase_add_test(tx, test_guest_entry_cleared);

	tcase_add_test(spoof, test_forged_src_mac);
	tcase_add_test(spoof, test_forged_ip4);
	tcase_add_test(spoof, test_dhcp_from_zero_allowed);
	tcase_add_test(spoof, test_zero_src_not_dhcp);
	tcase_add_test(spoof, test_forged_ip6);
	tcase_add_test(spoof, test_dad_from_any_allowed);
	tcase_add_test(spoof, test_forged_arp_sender_mac);
	tcase_add_test(spoof, test_forged_arp_sender_ip);
	tcase_add_test(spoof, test_spoofed_na_target);
	tcase_add_test(spoof, test_vlan_tagged);
	tcase_add_test(spoof, test_truncated);

	tcase_add_test(fwd, test_guest_to_guest);
	tcase_add_test(fwd, test_guest_to_itself);
	tcase_add_test(fwd, test_mac_filter);
	tcase_add_test(fwd, test_guest_to_absent_guest);
	tcase_add_test(fwd, test_guest_broadcast);
	tcase_add_test(fwd, test_guest_broadcast_storm);
	tcase_add_test(fwd, test_home_uplink_down);
	tcase_add_test(fwd, test_failover_wraps);
	tcase_add_test(fwd, test_all_uplinks_down);
	tcase_add_test(fwd, test_unplaced_guest);
	tcase_add_test(fwd, test_spread_guest);
	tcase_add_test(fwd, test_flow_moves_at_a_pause);
	tcase_add_test(fwd, test_spread_plain_hashing);

	tcase_add_test(wire, test_gso_tcp4);
	tcase_add_test(wire, test_gso_udp6);
	tcase_add_test(wire, test_gso_one_segment);
	tcase_add_test(wire, test_gso_uplink_rx);

	tcase_add_test(rx, test_rx_unicast_to_guest);
	tcase_add_test(rx, test_rx_unknown_unicast);
	tcase_add_test(rx, test_rx_not_an_uplink);
	tcase_add_test(rx, test_rx_bcast_other_uplink);
	tcase_add_test(rx, test_rx_bcast_designated);
	tcase_add_test(rx, test_rx_bcast_lacp_member);
	tcase_add_test(rx, test_rx_lacpdu_to_stack);
	tcase_add_test(rx, test_rx_lldp_to_stack);
	tcase_add_test(rx, test_rx_link_local_range);
	tcase_add_test(rx, test_rx_reflected_bcast);
	tcase_add_test(rx, test_rx_reflected_unicast);
	tcase_add_test(rx, test_rx_absent_guest);

	tcase_add_test(vlan, test_vlan_access_tagged_on_uplink);
	tcase_add_test(vlan, test_vlan_access_own_tag_dropped);
	tcase_add_test(vlan, test_vlan_trunk_tags);
	tcase_add_test(vlan, test_vlan_guest_to_guest);
	tcase_add_test(vlan, test_vlan_guest_broadcast);
	tcase_add_test(vlan, test_vlan_rx_unicast);
	tcase_add_test(vlan, test_vlan_rx_broadcast);
	tcase_add_test(vlan, test_vlan_rx_double_tag);
	tcase_add_test(vlan, test_vlan_rx_link_local);
	return s;
}

/*
 * The programs find guests and uplinks by skb->ifindex, and test_run takes
 * the ifindex of a real device: make them in a namespace of our own, up,
 * so the copies bpf_clone_redirect really sends are accepted.
 */
static void make_devices(void)
{
	veths_netns("test_datapath");
	for (int d = 0; d < D_N; d++)
		ifi[d] = veths_add(dev_names[d]);
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_datapath: skipped, needs root\n");
		return EXIT_SKIP;
	}
	libbpf_set_print(veths_libbpf_quiet);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1) {
		fprintf(stderr, "test_datapath: cannot count CPUs\n");
		return EXIT_FAILURE;
	}
	make_devices();

	sr = srunner_create(datapath_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
