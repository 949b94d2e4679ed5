/* SPDX-License-Identifier: MIT */
/* LACP (policy/lacp.c): the PDUs' layout and checked decoding, the marker
 * answer, and the machines of gona's members negotiating with a partner
 * that runs the same machines (the switch's side of the link), in
 * simulated time: aggregation, a silent partner (fast and slow), a partner
 * out of sync, a member cabled to another system or with another key, a
 * carrier loss, no partner at all, the transmit limit, two passive ends. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/lacp.h"

#define STEP_MS 10

static const uint8_t SYS_GONA[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };
static const uint8_t SYS_SWITCH[6] = { 0x02, 0, 0, 0, 0xbb, 0x01 };
static const uint8_t SYS_OTHER[6] = { 0x02, 0, 0, 0, 0xcc, 0x01 };

/* A group of members (one system's ports of one key). */
struct grp {
	struct lacp_port *p[4];
	size_t n;
};

/* A cable between two ports; each direction may be cut (frames of
 * ethertype 0x8809 dropped there). */
struct cable {
	struct lacp_port *a, *b;
	bool a_deaf, b_deaf; /* a (b) hears nothing from the other end */
};

struct world {
	struct lacp_port ports[8];
	size_t n_ports;
	struct grp grps[3];
	size_t n_grps;
	struct cable cables[4];
	size_t n_cables;
	uint64_t now;
};

static struct lacp_port *port(struct world *w, size_t grp, const uint8_t sys[6],
			      uint16_t key, uint16_t num, bool fast,
			      bool active)
{
	struct lacp_port_conf c = { .system_priority = 100,
				    .key = key,
				    .port_priority = 255,
				    .port = num,
				    .fast = fast,
				    .active = active };
	struct lacp_port *p = &w->ports[w->n_ports++];

	memcpy(c.system, sys, 6);
	lacp_port_init(p, &c);
	if (grp >= w->n_grps)
		w->n_grps = grp + 1;
	w->grps[grp].p[w->grps[grp].n++] = p;
	return p;
}

static struct cable *cable(struct world *w, struct lacp_port *a,
			   struct lacp_port *b)
{
	struct cable *c = &w->cables[w->n_cables++];

	c->a = a;
	c->b = b;
	lacp_port_enable(a, true, w->now);
	lacp_port_enable(b, true, w->now);
	return c;
}

/* What FROM sends now, through its bytes on the wire, to TO (unless TO
 * is deaf to it). */
static void carry(struct lacp_port *from, struct lacp_port *to, bool deaf,
		  uint64_t now)
{
	uint8_t wire[LACP_PDU_LEN];
	struct lacpdu pdu, got;
	char err[128];

	if (!lacp_port_tx(from, now, &pdu))
		return;
	ck_assert_uint_eq(lacpdu_encode(&pdu, wire, sizeof(wire)),
			  LACP_PDU_LEN);
	ck_assert_msg(
		!lacpdu_decode(wire, sizeof(wire), &got, err, sizeof(err)),
		"%s", err);
	if (!deaf)
		lacp_port_rx(to, &got, now);
}

static void run_for(struct world *w, uint64_t ms)
{
	for (uint64_t end = w->now + ms; w->now < end; w->now += STEP_MS) {
		for (size_t g = 0; g < w->n_grps; g++)
			lacp_group_run(w->grps[g].p, w->grps[g].n, w->now);
		for (size_t i = 0; i < w->n_cables; i++) {
			struct cable *c = &w->cables[i];

			carry(c->a, c->b, c->b_deaf, w->now);
			carry(c->b, c->a, c->a_deaf, w->now);
		}
		for (size_t g = 0; g < w->n_grps; g++)
			lacp_group_run(w->grps[g].p, w->grps[g].n, w->now);
	}
}

/* How long (ms) until P's usability becomes WANT, at most LIMIT; LIMIT + 1
 * if it does not. */
static uint64_t until_usable(struct world *w, struct lacp_port *p, bool want,
			     uint64_t limit)
{
	uint64_t t0 = w->now;

	while (lacp_port_usable(p) != want && w->now - t0 <= limit)
		run_for(w, STEP_MS);
	return lacp_port_usable(p) == want ? w->now - t0 : limit + 1;
}

/* gona's two members (group 0) cabled to the switch's two (group 1). */
static void two_links(struct world *w, bool fast, struct lacp_port **g0,
		      struct lacp_port **g1)
{
	memset(w, 0, sizeof(*w));
	w->now = 1000;
	g0[0] = port(w, 0, SYS_GONA, 10, 1, fast, true);
	g0[1] = port(w, 0, SYS_GONA, 10, 2, fast, true);
	g1[0] = port(w, 1, SYS_SWITCH, 20, 7, fast, true);
	g1[1] = port(w, 1, SYS_SWITCH, 20, 8, fast, true);
	cable(w, g0[0], g1[0]);
	cable(w, g0[1], g1[1]);
}

START_TEST(pdu_layout_and_round_trip)
{
	struct lacpdu pdu = { .actor = { .system_priority = 0x1234,
					 .system = { 1, 2, 3, 4, 5, 6 },
					 .key = 0xabcd,
					 .port_priority = 0x00ff,
					 .port = 7,
					 .state = 0x3d },
			      .partner = { .key = 9, .port = 3, .state = 0x05 },
			      .collector_max_delay = 5 },
		      got;
	uint8_t b[LACP_PDU_LEN + 4];

	ck_assert_uint_eq(lacpdu_encode(&pdu, b, LACP_PDU_LEN - 1), 0);
	ck_assert_uint_eq(lacpdu_encode(&pdu, b, sizeof(b)), LACP_PDU_LEN);
	/* Subtype, version, the TLVs where 802.1AX puts them. */
	ck_assert_uint_eq(b[0], 1);
	ck_assert_uint_eq(b[1], 1);
	ck_assert_uint_eq(b[2], 1);
	ck_assert_uint_eq(b[3], 20);
	ck_assert_uint_eq(b[4], 0x12);
	ck_assert_uint_eq(b[5], 0x34);
	ck_assert_uint_eq(b[6], 1);
	ck_assert_uint_eq(b[12], 0xab);
	ck_assert_uint_eq(b[17], 7);
	ck_assert_uint_eq(b[18], 0x3d);
	ck_assert_uint_eq(b[22], 2);
	ck_assert_uint_eq(b[23], 20);
	ck_assert_uint_eq(b[42], 3);
	ck_assert_uint_eq(b[43], 16);
	ck_assert_uint_eq(b[45], 5);
	ck_assert_uint_eq(b[58], 0);
	ck_assert_uint_eq(b[59], 0);
	ck_assert_int_eq(lacpdu_decode(b, LACP_PDU_LEN, &got, NULL, 0), 0);
	ck_assert_mem_eq(&got.actor, &pdu.actor, sizeof(got.actor));
	ck_assert_mem_eq(&got.partner, &pdu.partner, sizeof(got.partner));
	ck_assert_uint_eq(got.collector_max_delay, 5);
	/* A later version (more TLVs after these) is read the same. */
	b[1] = 2;
	ck_assert_int_eq(lacpdu_decode(b, sizeof(b), &got, NULL, 0), 0);
}
END_TEST

/* Each refusal names what is wrong. */
static void expect_refused(const uint8_t *b, size_t len, const char *says)
{
	struct lacpdu got;
	char err[160] = "";

	ck_assert_int_eq(lacpdu_decode(b, len, &got, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, says), "got \"%s\", want \"%s\"", err, says);
}

START_TEST(pdu_refusals)
{
	/* A good PDU with one byte changed, and what the refusal says. */
	static const struct {
		size_t at;
		uint8_t to;
		const char *says;
	} bad[] = {
		{ 0, 2, "subtype 2, not 1" },
		{ 1, 0, "version 0" },
		{ 3, 19, "first TLV of type 1 and length 19" },
		{ 22, 3, "second TLV of type 3 and length 20" },
		{ 43, 0, "third TLV of type 3 and length 0" },
	};
	struct lacpdu pdu = { 0 };
	uint8_t b[LACP_PDU_LEN], c[LACP_PDU_LEN];

	lacpdu_encode(&pdu, b, sizeof(b));
	expect_refused(b, 64, "64 bytes, fewer than 110");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(c, b, sizeof(c));
		c[bad[i].at] = bad[i].to;
		expect_refused(c, sizeof(c), bad[i].says);
	}
}
END_TEST

START_TEST(marker_answered)
{
	uint8_t m[LACP_MARKER_LEN] = { 2, 1, 1, 16, 0, 7 },
		out[LACP_MARKER_LEN];
	char err[160] = "";

	memcpy(m + 6, SYS_SWITCH, 6);
	m[12] = 0xde; /* transaction id */
	m[15] = 0xad;
	ck_assert_int_eq(lacp_marker_answer(m, sizeof(m), out, sizeof(out), err,
					    sizeof(err)),
			 LACP_MARKER_LEN);
	ck_assert_uint_eq(out[2], 2); /* a response */
	ck_assert_mem_eq(out + 3, m + 3, 17); /* requester, transaction */
	/* A response is not answered; a bad one is refused, saying why. */
	ck_assert_int_eq(lacp_marker_answer(out, sizeof(out), m, sizeof(m), err,
					    sizeof(err)),
			 0);
	out[3] = 15;
	ck_assert_int_eq(lacp_marker_answer(out, sizeof(out), m, sizeof(m), err,
					    sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "type 2 and length 15"), "%s", err);
}
END_TEST

START_TEST(aggregates_both_ways)
{
	struct lacp_port *g[2], *s[2];
	struct world w;
	uint64_t t;

	two_links(&w, true, g, s);
	t = until_usable(&w, g[0], true, 5000);
	/* The aggregate wait (2 s) and a few PDUs. */
	ck_assert_msg(t >= LACP_AGGREGATE_WAIT_MS && t <= 3000,
		      "member 1 usable after %llu ms", (unsigned long long)t);
	run_for(&w, 100);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(lacp_port_usable(g[i]), "gona's member %d: %s",
			      i + 1, g[i]->why);
		ck_assert_msg(lacp_port_usable(s[i]), "switch's member %d: %s",
			      i + 1, s[i]->why);
		ck_assert_str_eq(g[i]->why, "");
		ck_assert_int_eq(g[i]->rx, LACP_RX_CURRENT);
		ck_assert_mem_eq(g[i]->partner.system, SYS_SWITCH, 6);
		ck_assert_uint_eq(g[i]->partner.key, 20);
		ck_assert_uint_eq(g[i]->actor.state,
				  LACP_ST_ACTIVITY | LACP_ST_TIMEOUT |
					  LACP_ST_AGGREGATION | LACP_ST_SYNC |
					  LACP_ST_COLLECTING |
					  LACP_ST_DISTRIBUTING);
	}
	/* Steady: a PDU a second each way (fast), no more. */
	t = g[0]->tx_pdus;
	run_for(&w, 10000);
	ck_assert_msg(g[0]->tx_pdus - t >= 9 && g[0]->tx_pdus - t <= 11,
		      "%llu PDUs in 10 s",
		      (unsigned long long)(g[0]->tx_pdus - t));
}
END_TEST

/* The partner stops sending (its PDUs dropped on the way) while the
 * carrier stays: out after 3 missed PDUs, the other member stays. */
static void silent_partner(bool fast, uint64_t lo, uint64_t hi)
{
	struct lacp_port *g[2], *s[2];
	struct world w;
	uint64_t t;

	two_links(&w, fast, g, s);
	run_for(&w, fast ? 5000 : 65000);
	ck_assert_msg(lacp_port_usable(g[0]), "%s", g[0]->why);
	w.cables[0].a_deaf = true;
	t = until_usable(&w, g[0], false, hi + 1000);
	ck_assert_msg(t > lo && t <= hi,
		      "the silent partner's member out after %llu ms (want "
		      "%llu to %llu)",
		      (unsigned long long)t, (unsigned long long)lo,
		      (unsigned long long)hi);
	ck_assert_int_eq(g[0]->rx, LACP_RX_EXPIRED);
	ck_assert_uint_eq(g[0]->expired, 1);
	ck_assert_msg(strstr(g[0]->why, "partner silent"), "%s", g[0]->why);
	ck_assert(g[0]->enabled);
	ck_assert_msg(lacp_port_usable(g[1]), "the other member: %s",
		      g[1]->why);
	/* It hears the partner again: back, through its sync. */
	w.cables[0].a_deaf = false;
	t = until_usable(&w, g[0], true, 5000);
	ck_assert_msg(t <= 5000, "back after %llu ms", (unsigned long long)t);
}

START_TEST(silent_partner_fast)
{
	/* Fast PDUs a second; 3 s without one. */
	silent_partner(true, 2000, 3000 + STEP_MS);
}
END_TEST

START_TEST(silent_partner_slow)
{
	/* Slow PDUs every 30 s; 90 s without one. */
	silent_partner(false, 60000, 90000 + STEP_MS);
}
END_TEST

START_TEST(partner_out_of_sync)
{
	struct lacp_port *g[2], *s[2];
	struct lacpdu pdu;
	struct world w;

	two_links(&w, true, g, s);
	run_for(&w, 5000);
	ck_assert(lacp_port_usable(g[0]));
	/* The switch says it is no longer in sync on link 1. */
	ck_assert(lacp_port_tx(s[0], w.now, &pdu) || true);
	pdu.actor = s[0]->actor;
	pdu.partner = s[0]->partner;
	pdu.actor.state &= (uint8_t) ~(LACP_ST_SYNC | LACP_ST_COLLECTING |
				       LACP_ST_DISTRIBUTING);
	lacp_port_rx(g[0], &pdu, w.now);
	lacp_group_run(w.grps[0].p, w.grps[0].n, w.now);
	ck_assert(!lacp_port_usable(g[0]));
	ck_assert_int_eq(g[0]->mux, LACP_MUX_ATTACHED);
	ck_assert_msg(strstr(g[0]->why, "partner not in sync"), "%s",
		      g[0]->why);
	ck_assert(lacp_port_usable(g[1]));
}
END_TEST

/* Member 2 cabled to SYS (key KEY) instead of the switch. */
static void third_party(const uint8_t sys[6], uint16_t key, const char *says)
{
	struct lacp_port *g[2], *s, *o;
	struct world w;

	memset(&w, 0, sizeof(w));
	w.now = 1000;
	g[0] = port(&w, 0, SYS_GONA, 10, 1, true, true);
	g[1] = port(&w, 0, SYS_GONA, 10, 2, true, true);
	s = port(&w, 1, SYS_SWITCH, 20, 7, true, true);
	o = port(&w, 2, sys, key, 9, true, true);
	cable(&w, g[0], s);
	cable(&w, g[1], o);
	run_for(&w, 6000);
	ck_assert_msg(lacp_port_usable(g[0]), "%s", g[0]->why);
	ck_assert(!lacp_port_usable(g[1]));
	ck_assert_int_eq(g[1]->selected, LACP_UNSELECTED);
	ck_assert_msg(strstr(g[1]->why, says), "got \"%s\", want \"%s\"",
		      g[1]->why, says);
	/* It tells the other end it is not in sync with it. */
	ck_assert(!(g[1]->actor.state & LACP_ST_SYNC));
	ck_assert(!lacp_port_usable(o));
}

START_TEST(other_partner_not_aggregated)
{
	third_party(SYS_OTHER, 20,
		    "not aggregated: partner system 02:00:00:00:cc:01 differs "
		    "from the group's (02:00:00:00:bb:01)");
}
END_TEST

START_TEST(other_key_not_aggregated)
{
	third_party(SYS_SWITCH, 21,
		    "not aggregated: partner key 21 differs (the group's "
		    "partner has key 20)");
}
END_TEST

START_TEST(carrier_loss_and_return)
{
	struct lacp_port *g[2], *s[2];
	struct world w;
	uint64_t t;

	two_links(&w, true, g, s);
	run_for(&w, 5000);
	lacp_port_enable(g[0], false, w.now);
	lacp_port_enable(s[0], false, w.now);
	run_for(&w, STEP_MS);
	ck_assert(!lacp_port_usable(g[0]));
	ck_assert_str_eq(g[0]->why, "no carrier");
	ck_assert_int_eq(g[0]->rx, LACP_RX_PORT_DISABLED);
	ck_assert(lacp_port_usable(g[1]));
	lacp_port_enable(g[0], true, w.now);
	lacp_port_enable(s[0], true, w.now);
	t = until_usable(&w, g[0], true, 5000);
	ck_assert_msg(t >= LACP_AGGREGATE_WAIT_MS && t <= 3000,
		      "back after %llu ms", (unsigned long long)t);
}
END_TEST

START_TEST(no_partner_defaulted)
{
	struct lacp_port *g[2], *s[2];
	struct world w;

	two_links(&w, true, g, s);
	w.cables[0].a_deaf = true;
	run_for(&w, 3000 + STEP_MS);
	ck_assert_int_eq(g[0]->rx, LACP_RX_DEFAULTED);
	ck_assert(!lacp_port_usable(g[0]));
	ck_assert_str_eq(g[0]->why, "not aggregated: no LACP partner heard");
	ck_assert(g[0]->actor.state & LACP_ST_DEFAULTED);
	ck_assert_uint_eq(g[0]->defaulted, 1);
	/* It keeps asking, fast. */
	ck_assert(g[0]->tx_pdus >= 3);
}
END_TEST

/* The partner's PDUs lost for long (both ends have given up on each
 * other): once they come again, aggregated within the aggregate wait and a
 * PDU or two, not at the next slow PDU (30 s). */
START_TEST(long_silence_recovers_fast)
{
	struct lacp_port *g[2], *s[2];
	struct world w;
	uint64_t t;

	two_links(&w, true, g, s);
	run_for(&w, 5000);
	w.cables[0].a_deaf = true;
	/* Long enough for the switch's side to give up too, were gona's
	 * member to fall back to slow PDUs. */
	run_for(&w, 20000);
	ck_assert_int_eq(g[0]->rx, LACP_RX_DEFAULTED);
	w.cables[0].a_deaf = false;
	t = until_usable(&w, g[0], true, 40000);
	ck_assert_msg(t <= 3500, "usable again after %llu ms",
		      (unsigned long long)t);
	ck_assert(lacp_port_usable(s[0]));
}
END_TEST

START_TEST(transmit_limit)
{
	struct lacp_port *g[2], *s[2];
	struct lacpdu pdu;
	struct world w;
	int sent = 0;

	two_links(&w, true, g, s);
	for (int i = 0; i < 10; i++) {
		g[0]->ntt = true;
		sent += lacp_port_tx(g[0], w.now + (uint64_t)i * 10, &pdu);
	}
	ck_assert_int_eq(sent, LACP_TX_PER_PERIOD);
	ck_assert(g[0]->ntt);
	ck_assert_uint_eq(lacp_next(w.grps[0].p, 1), w.now + 1000);
	/* In any second (found by tests/fuzz/fuzz_lacp: a window that
	 * restarted let 3 more go at once): at now + 1000 the first is a
	 * second old, the other two not yet. */
	ck_assert(lacp_port_tx(g[0], w.now + 1000, &pdu));
	g[0]->ntt = true;
	ck_assert(!lacp_port_tx(g[0], w.now + 1001, &pdu));
	ck_assert(!lacp_port_tx(g[0], w.now + 1009, &pdu));
	ck_assert(lacp_port_tx(g[0], w.now + 1010, &pdu));
}
END_TEST

START_TEST(passive_ends_stay_silent)
{
	struct lacp_port *g, *s;
	struct world w;

	memset(&w, 0, sizeof(w));
	w.now = 1000;
	g = port(&w, 0, SYS_GONA, 10, 1, true, false);
	s = port(&w, 1, SYS_SWITCH, 20, 7, true, false);
	cable(&w, g, s);
	run_for(&w, 5000);
	ck_assert_uint_eq(g->tx_pdus, 0);
	ck_assert_uint_eq(s->tx_pdus, 0);
	ck_assert(!lacp_port_usable(g));
	/* One active end is enough. */
	memset(&w, 0, sizeof(w));
	w.now = 1000;
	g = port(&w, 0, SYS_GONA, 10, 1, true, false);
	s = port(&w, 1, SYS_SWITCH, 20, 7, true, true);
	cable(&w, g, s);
	run_for(&w, 5000);
	ck_assert_msg(lacp_port_usable(g), "%s", g->why);
}
END_TEST

/* Run W for MS with P's usability checked at every step: the steps it was
 * not usable. */
static uint64_t steps_unusable(struct world *w, struct lacp_port *p,
			       uint64_t ms)
{
	uint64_t n = 0;

	for (uint64_t end = w->now + ms; w->now < end;) {
		run_for(w, STEP_MS);
		n += !lacp_port_usable(p);
	}
	return n;
}

/* gonad restarted: its members silent for a while, then taken up from
 * what it wrote down. The switch never takes the links out, and gona's
 * members carry guests at once. */
START_TEST(restart_resumes)
{
	struct lacp_port *g[2], *s[2];
	struct lacp_saved saved[2];
	struct world w;

	two_links(&w, true, g, s);
	run_for(&w, 5000);
	for (int i = 0; i < 2; i++) {
		lacp_port_save(g[i], &saved[i]);
		ck_assert(saved[i].selected);
		ck_assert_int_eq(saved[i].mux,
				 LACP_MUX_COLLECTING_DISTRIBUTING);
		w.cables[i].a_deaf = w.cables[i].b_deaf = true;
	}
	/* 1.5 s without gona (the switch's timeout is 3 s). */
	ck_assert_uint_eq(steps_unusable(&w, s[0], 1500), 0);
	for (int i = 0; i < 2; i++) {
		struct lacp_port_conf c = g[i]->conf;

		lacp_port_init(g[i], &c);
		lacp_port_resume(g[i], &saved[i], w.now);
		w.cables[i].a_deaf = w.cables[i].b_deaf = false;
	}
	lacp_group_run(w.grps[0].p, w.grps[0].n, w.now);
	ck_assert_msg(lacp_port_usable(g[0]), "%s", g[0]->why);
	ck_assert_msg(lacp_port_usable(g[1]), "%s", g[1]->why);
	ck_assert_uint_eq(steps_unusable(&w, s[0], 10000), 0);
	ck_assert_uint_eq(steps_unusable(&w, s[1], 10000), 0);
	ck_assert_uint_eq(steps_unusable(&w, g[0], 10000), 0);
	ck_assert_uint_eq(s[0]->expired + s[1]->expired, 0);
}
END_TEST

/* A restart longer than the partner waits (3 s): the partner has taken
 * the links out, so gona's members do not take up the old aggregate but
 * join again, as at a first start. */
START_TEST(restart_too_late)
{
	struct lacp_port *g[2], *s[2];
	struct lacp_saved saved;
	struct lacp_port_conf c;
	struct world w;
	uint64_t t;

	two_links(&w, true, g, s);
	run_for(&w, 5000);
	lacp_port_save(g[0], &saved);
	ck_assert_uint_gt(saved.heard, 0);
	ck_assert_uint_gt(saved.sent, 0);
	w.cables[0].a_deaf = w.cables[0].b_deaf = true;
	run_for(&w, 3500);
	ck_assert(!lacp_port_usable(s[0]));
	c = g[0]->conf;
	lacp_port_init(g[0], &c);
	lacp_port_resume(g[0], &saved, w.now);
	w.cables[0].a_deaf = w.cables[0].b_deaf = false;
	lacp_group_run(w.grps[0].p, w.grps[0].n, w.now);
	ck_assert(!lacp_port_usable(g[0]));
	t = until_usable(&w, g[0], true, 5000);
	ck_assert_msg(t >= LACP_AGGREGATE_WAIT_MS && t <= 3500,
		      "usable after %llu ms", (unsigned long long)t);
}
END_TEST

/* What was written down of a member with no partner heard starts it
 * afresh: aggregated after the wait, as at a first start. */
START_TEST(restart_without_partner)
{
	struct lacp_port *g[2], *s[2];
	struct lacp_saved saved;
	struct lacp_port_conf c;
	struct world w;
	uint64_t t;

	two_links(&w, true, g, s);
	lacp_port_save(g[0], &saved);
	ck_assert(!saved.selected);
	run_for(&w, 5000);
	c = g[0]->conf;
	lacp_port_init(g[0], &c);
	lacp_port_resume(g[0], &saved, w.now);
	ck_assert(!lacp_port_usable(g[0]));
	t = until_usable(&w, g[0], true, 5000);
	ck_assert_msg(t >= LACP_AGGREGATE_WAIT_MS && t <= 3000,
		      "usable after %llu ms", (unsigned long long)t);
}
END_TEST

START_TEST(state_names)
{
	char buf[128];

	ck_assert_str_eq(lacp_state_str(0x3d, buf, sizeof(buf)),
			 "activity,aggregation,sync,collecting,distributing");
	ck_assert_str_eq(lacp_state_str(0, buf, sizeof(buf)), "");
	ck_assert_str_eq(lacp_rx_name(LACP_RX_EXPIRED), "EXPIRED");
	ck_assert_str_eq(lacp_mux_name(LACP_MUX_COLLECTING_DISTRIBUTING),
			 "COLLECTING_DISTRIBUTING");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lacp");
	TCase *pdu = tcase_create("pdu"), *sm = tcase_create("machines");
	SRunner *sr;
	int failed;

	tcase_add_test(pdu, pdu_layout_and_round_trip);
	tcase_add_test(pdu, pdu_refusals);
	tcase_add_test(pdu, marker_answered);
	tcase_add_test(sm, aggregates_both_ways);
	tcase_add_test(sm, silent_partner_fast);
	tcase_add_test(sm, silent_partner_slow);
	tcase_add_test(sm, partner_out_of_sync);
	tcase_add_test(sm, other_partner_not_aggregated);
	tcase_add_test(sm, other_key_not_aggregated);
	tcase_add_test(sm, carrier_loss_and_return);
	tcase_add_test(sm, no_partner_defaulted);
	tcase_add_test(sm, long_silence_recovers_fast);
	tcase_add_test(sm, transmit_limit);
	tcase_add_test(sm, passive_ends_stay_silent);
	tcase_add_test(sm, restart_resumes);
	tcase_add_test(sm, restart_without_partner);
	tcase_add_test(sm, restart_too_late);
	tcase_add_test(sm, state_names);
	tcase_set_timeout(sm, 60);
	suite_add_tcase(s, pdu);
	suite_add_tcase(s, sm);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
