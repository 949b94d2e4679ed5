/* SPDX-License-Identifier: MIT */
/* LACP's PDUs and each member's machines (policy/lacp.h): IEEE 802.1AX
 * clause 6.4 with coupled control; one aggregator per group, with the
 * partner most of its members hear. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/lacp.h"

/* TLV types and lengths of a LACPDU and a marker PDU. */
#define TLV_ACTOR 1
#define TLV_PARTNER 2
#define TLV_COLLECTOR 3
#define TLV_INFO_LEN 20
#define TLV_COLLECTOR_LEN 16
#define TLV_MARKER_INFO 1
#define TLV_MARKER_RESPONSE 2
#define TLV_MARKER_LEN 16

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* An actor or partner TLV at B: type, length, the information. */
static void put_info(uint8_t *b, uint8_t type, const struct lacp_info *i)
{
	b[0] = type;
	b[1] = TLV_INFO_LEN;
	put16(b + 2, i->system_priority);
	memcpy(b + 4, i->system, 6);
	put16(b + 10, i->key);
	put16(b + 12, i->port_priority);
	put16(b + 14, i->port);
	b[16] = i->state;
}

static void get_info(const uint8_t *b, struct lacp_info *i)
{
	i->system_priority = get16(b + 2);
	memcpy(i->system, b + 4, 6);
	i->key = get16(b + 10);
	i->port_priority = get16(b + 12);
	i->port = get16(b + 14);
	i->state = b[16];
}

static int bad(char *err, size_t errlen, const char *fmt, unsigned int a,
	       unsigned int b)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

int lacpdu_decode(const uint8_t *b, size_t len, struct lacpdu *out, char *err,
		  size_t errlen)
{
	if (len < LACP_PDU_LEN)
		return bad(err, errlen, "LACPDU: %u bytes, fewer than %u",
			   (unsigned int)len, LACP_PDU_LEN);
	if (b[0] != LACP_SUBTYPE_LACP)
		return bad(err, errlen, "LACPDU: subtype %u, not %u (LACP)",
			   b[0], LACP_SUBTYPE_LACP);
	/* Later versions add TLVs after these; version 0 is none. */
	if (b[1] == 0)
		return bad(err, errlen, "LACPDU: version %u, not %u or later",
			   b[1], 1);
	if (b[2] != TLV_ACTOR || b[3] != TLV_INFO_LEN)
		return bad(err, errlen,
			   "LACPDU: first TLV of type %u and length %u, not "
			   "the actor's (1, 20)",
			   b[2], b[3]);
	if (b[22] != TLV_PARTNER || b[23] != TLV_INFO_LEN)
		return bad(err, errlen,
			   "LACPDU: second TLV of type %u and length %u, not "
			   "the partner's (2, 20)",
			   b[22], b[23]);
	if (b[42] != TLV_COLLECTOR || b[43] != TLV_COLLECTOR_LEN)
		return bad(err, errlen,
			   "LACPDU: third TLV of type %u and length %u, not "
			   "the collector's (3, 16)",
			   b[42], b[43]);
	get_info(b + 2, &out->actor);
	get_info(b + 22, &out->partner);
	out->collector_max_delay = get16(b + 44);
	return 0;
}

size_t lacpdu_encode(const struct lacpdu *pdu, uint8_t *b, size_t len)
{
	if (len < LACP_PDU_LEN)
		return 0;
	memset(b, 0, LACP_PDU_LEN);
	b[0] = LACP_SUBTYPE_LACP;
	b[1] = 1;
	put_info(b + 2, TLV_ACTOR, &pdu->actor);
	put_info(b + 22, TLV_PARTNER, &pdu->partner);
	b[42] = TLV_COLLECTOR;
	b[43] = TLV_COLLECTOR_LEN;
	put16(b + 44, pdu->collector_max_delay);
	/* Terminator (type 0, length 0) and reserved: zero. */
	return LACP_PDU_LEN;
}

int lacp_marker_answer(const uint8_t *b, size_t len, uint8_t *out,
		       size_t outlen, char *err, size_t errlen)
{
	if (len < LACP_MARKER_LEN)
		return bad(err, errlen, "marker PDU: %u bytes, fewer than %u",
			   (unsigned int)len, LACP_MARKER_LEN);
	if (b[0] != LACP_SUBTYPE_MARKER)
		return bad(err, errlen,
			   "marker PDU: subtype %u, not %u (marker)", b[0],
			   LACP_SUBTYPE_MARKER);
	if (b[1] == 0)
		return bad(err, errlen,
			   "marker PDU: version %u, not %u or later", b[1], 1);
	if ((b[2] != TLV_MARKER_INFO && b[2] != TLV_MARKER_RESPONSE) ||
	    b[3] != TLV_MARKER_LEN)
		return bad(err, errlen,
			   "marker PDU: TLV of type %u and length %u, not a "
			   "marker information or response (1 or 2, 16)",
			   b[2], b[3]);
	if (b[2] == TLV_MARKER_RESPONSE)
		return 0;
	if (outlen < LACP_MARKER_LEN)
		return -ENOSPC;
	/* The same requester, port and transaction: only the type
	 * changes. */
	memset(out, 0, LACP_MARKER_LEN);
	memcpy(out, b, 2 + 2 + TLV_MARKER_LEN);
	out[2] = TLV_MARKER_RESPONSE;
	return LACP_MARKER_LEN;
}

/* Receive machine ------------------------------------------------------ */

/*
 * What the partner is taken to be when none is heard (Partner_Admin): one
 * that wants LACPDUs at the member's own rate. With rate fast, a member
 * that heard nothing for long keeps sending a PDU a second: a partner that
 * speaks again is answered at once and aggregates in seconds, not at the
 * next slow PDU of either end (up to 30 s).
 */
static void record_default(struct lacp_port *p)
{
	memset(&p->partner, 0, sizeof(p->partner));
	p->partner.state =
		LACP_ST_AGGREGATION | (p->conf.fast ? LACP_ST_TIMEOUT : 0);
	p->actor.state |= LACP_ST_DEFAULTED;
}

static bool same_port(const struct lacp_info *a, const struct lacp_info *b)
{
	return a->port == b->port && a->port_priority == b->port_priority &&
	       !memcmp(a->system, b->system, 6) &&
	       a->system_priority == b->system_priority && a->key == b->key;
}

/* How long the partner's information lasts: the timeout we asked for. */
static uint64_t timeout_of(const struct lacp_port *p)
{
	return p->actor.state & LACP_ST_TIMEOUT ? LACP_SHORT_TIMEOUT_MS
						: LACP_LONG_TIMEOUT_MS;
}

static void rx_port_disabled(struct lacp_port *p)
{
	p->rx = LACP_RX_PORT_DISABLED;
	p->partner.state &= (uint8_t)~LACP_ST_SYNC;
	p->current_while = 0;
}

static void rx_expired(struct lacp_port *p, uint64_t now)
{
	if (p->rx == LACP_RX_CURRENT)
		p->expired++;
	p->rx = LACP_RX_EXPIRED;
	p->partner.state &= (uint8_t)~LACP_ST_SYNC;
	/* Asks the partner for fast PDUs while it waits for one. */
	p->partner.state |= LACP_ST_TIMEOUT;
	p->current_while = now + LACP_SHORT_TIMEOUT_MS;
	p->actor.state |= LACP_ST_EXPIRED;
}

static void rx_defaulted(struct lacp_port *p)
{
	struct lacp_info def;

	memset(&def, 0, sizeof(def));
	/* update_Default_Selected: another partner than the default's. */
	if (!same_port(&p->partner, &def))
		p->selected = LACP_UNSELECTED;
	p->rx = LACP_RX_DEFAULTED;
	p->defaulted++;
	record_default(p);
	p->actor.state &= (uint8_t)~LACP_ST_EXPIRED;
	p->current_while = 0;
}

void lacp_port_init(struct lacp_port *p, const struct lacp_port_conf *c)
{
	memset(p, 0, sizeof(*p));
	p->conf = *c;
	p->actor.system_priority = c->system_priority;
	memcpy(p->actor.system, c->system, 6);
	p->actor.key = c->key;
	p->actor.port_priority = c->port_priority;
	p->actor.port = c->port;
	p->actor.state = LACP_ST_AGGREGATION |
			 (c->active ? LACP_ST_ACTIVITY : 0) |
			 (c->fast ? LACP_ST_TIMEOUT : 0);
	/* INITIALIZE, then PORT_DISABLED until the port has carrier. */
	p->selected = LACP_UNSELECTED;
	record_default(p);
	rx_port_disabled(p);
	p->mux = LACP_MUX_DETACHED;
	p->ntt = true;
	snprintf(p->why, sizeof(p->why), "no carrier");
}

void lacp_port_enable(struct lacp_port *p, bool up, uint64_t now)
{
	if (up == p->enabled)
		return;
	p->enabled = up;
	if (!up) {
		rx_port_disabled(p);
		p->periodic = 0;
	} else if (p->rx == LACP_RX_PORT_DISABLED) {
		rx_expired(p, now);
	}
}

void lacp_port_save(const struct lacp_port *p, struct lacp_saved *out)
{
	memset(out, 0, sizeof(*out));
	/* Only a partner heard is worth carrying over. */
	if (p->rx != LACP_RX_CURRENT)
		return;
	out->partner = p->partner;
	out->selected = p->selected == LACP_SELECTED;
	out->mux = p->mux;
	out->heard = p->current_while - timeout_of(p);
	if (p->tx_pdus)
		out->sent = p->tx_at[(p->tx_old + LACP_TX_PER_PERIOD - 1) %
				     LACP_TX_PER_PERIOD];
}

void lacp_port_resume(struct lacp_port *p, const struct lacp_saved *s,
		      uint64_t now)
{
	const uint8_t cd = LACP_ST_COLLECTING | LACP_ST_DISTRIBUTING;

	uint64_t partner_waits = s->partner.state & LACP_ST_TIMEOUT
					 ? LACP_SHORT_TIMEOUT_MS
					 : LACP_LONG_TIMEOUT_MS;

	lacp_port_enable(p, true, now);
	if (!s->heard || !s->sent || s->sent + partner_waits <= now)
		return;
	p->partner = s->partner;
	p->actor.state &= (uint8_t) ~(LACP_ST_DEFAULTED | LACP_ST_EXPIRED);
	p->rx = LACP_RX_CURRENT;
	p->current_while = now + timeout_of(p);
	p->selected = s->selected ? LACP_SELECTED : LACP_UNSELECTED;
	p->mux = s->selected ? s->mux : LACP_MUX_DETACHED;
	p->actor.state &= (uint8_t) ~(LACP_ST_SYNC | cd);
	if (p->mux == LACP_MUX_WAITING)
		p->wait_while = now + LACP_AGGREGATE_WAIT_MS;
	else if (p->mux == LACP_MUX_ATTACHED)
		p->actor.state |= LACP_ST_SYNC;
	else if (p->mux == LACP_MUX_COLLECTING_DISTRIBUTING)
		p->actor.state |= LACP_ST_SYNC | cd;
	p->ntt = true;
	p->why[0] = '\0';
}

void lacp_port_rx(struct lacp_port *p, const struct lacpdu *pdu, uint64_t now)
{
	const struct lacp_info *a = &pdu->actor, *pp = &pdu->partner;
	const uint8_t agg = LACP_ST_AGGREGATION;
	bool matched, sync;

	if (!p->enabled)
		return;
	p->rx_pdus++;
	/* update_Selected: another partner port, or a change of its
	 * aggregation, than recorded. */
	if (!same_port(a, &p->partner) ||
	    (a->state & agg) != (p->partner.state & agg))
		p->selected = LACP_UNSELECTED;
	/* update_NTT: the partner's view of us is out of date. */
	if (!same_port(pp, &p->actor) ||
	    ((pp->state ^ p->actor.state) &
	     (LACP_ST_ACTIVITY | LACP_ST_TIMEOUT | LACP_ST_SYNC | agg)))
		p->ntt = true;
	/* recordPDU: the partner as it says; in sync if it is and sees us
	 * as we are (or is individual), one of the two ends active. */
	matched = same_port(pp, &p->actor) &&
		  (pp->state & agg) == (p->actor.state & agg);
	sync = (a->state & LACP_ST_SYNC) && (matched || !(a->state & agg)) &&
	       ((a->state | p->actor.state) & LACP_ST_ACTIVITY);
	p->partner = *a;
	if (!sync)
		p->partner.state &= (uint8_t)~LACP_ST_SYNC;
	p->actor.state &= (uint8_t) ~(LACP_ST_DEFAULTED | LACP_ST_EXPIRED);
	p->rx = LACP_RX_CURRENT;
	p->current_while = now + timeout_of(p);
}

/* current_while and the periodic machine. */
static void timers(struct lacp_port *p, uint64_t now)
{
	uint64_t every;

	if (p->rx == LACP_RX_CURRENT && p->current_while &&
	    p->current_while <= now)
		rx_expired(p, now);
	else if (p->rx == LACP_RX_EXPIRED && p->current_while &&
		 p->current_while <= now)
		rx_defaulted(p);
	/* NO_PERIODIC without carrier, or when neither end is active. */
	if (!p->enabled ||
	    !((p->actor.state | p->partner.state) & LACP_ST_ACTIVITY)) {
		p->periodic = 0;
		return;
	}
	every = p->partner.state & LACP_ST_TIMEOUT ? LACP_FAST_PERIODIC_MS
						   : LACP_SLOW_PERIODIC_MS;
	/* A partner that asks for fast PDUs gets one at once. */
	if (!p->periodic || p->periodic > now + every)
		p->periodic = now + (p->periodic ? 0 : every);
	if (p->periodic <= now) {
		p->ntt = true;
		p->periodic = now + every;
	}
}

/* Selection ------------------------------------------------------------ */

static bool same_partner(const struct lacp_info *a, const struct lacp_info *b)
{
	return a->system_priority == b->system_priority &&
	       !memcmp(a->system, b->system, 6) && a->key == b->key;
}

static bool may_aggregate(const struct lacp_port *p)
{
	return p->enabled &&
	       (p->rx == LACP_RX_CURRENT || p->rx == LACP_RX_EXPIRED) &&
	       !(p->actor.state & LACP_ST_DEFAULTED) &&
	       (p->partner.state & LACP_ST_AGGREGATION);
}

static void mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* The partner the group aggregates with: the one most members hear, then
 * the one of the lowest port number; NULL when no member hears one. */
static const struct lacp_port *group_partner(struct lacp_port *const *ports,
					     size_t n)
{
	const struct lacp_port *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (!may_aggregate(ports[i]))
			continue;
		for (size_t j = 0; j < n; j++)
			k += may_aggregate(ports[j]) &&
			     same_partner(&ports[j]->partner,
					  &ports[i]->partner);
		if (k > best_n ||
		    (k == best_n && ports[i]->actor.port < best->actor.port)) {
			best = ports[i];
			best_n = k;
		}
	}
	return best;
}

static void select_port(struct lacp_port *p, const struct lacp_port *with)
{
	char mine[18], theirs[18];

	if (!p->enabled) {
		p->selected = LACP_UNSELECTED;
		snprintf(p->why, sizeof(p->why), "no carrier");
		return;
	}
	if (p->actor.state & LACP_ST_DEFAULTED) {
		p->selected = LACP_UNSELECTED;
		snprintf(p->why, sizeof(p->why),
			 "not aggregated: no LACP partner heard");
		return;
	}
	if (!(p->partner.state & LACP_ST_AGGREGATION)) {
		p->selected = LACP_UNSELECTED;
		snprintf(p->why, sizeof(p->why),
			 "not aggregated: the partner takes the link as "
			 "individual");
		return;
	}
	if (with && memcmp(p->partner.system, with->partner.system, 6)) {
		mac_str(p->partner.system, mine, sizeof(mine));
		mac_str(with->partner.system, theirs, sizeof(theirs));
		p->selected = LACP_UNSELECTED;
		snprintf(p->why, sizeof(p->why),
			 "not aggregated: partner system %s differs from the "
			 "group's (%s)",
			 mine, theirs);
		return;
	}
	if (with && !same_partner(&p->partner, &with->partner)) {
		p->selected = LACP_UNSELECTED;
		snprintf(p->why, sizeof(p->why),
			 "not aggregated: partner key %u differs (the "
			 "group's partner has key %u)",
			 p->partner.key, with->partner.key);
		if (p->partner.system_priority != with->partner.system_priority)
			snprintf(p->why, sizeof(p->why),
				 "not aggregated: partner system priority %u "
				 "differs from the group's (%u)",
				 p->partner.system_priority,
				 with->partner.system_priority);
		return;
	}
	p->selected = LACP_SELECTED;
	p->why[0] = '\0';
}

/* Mux machine (coupled control) ----------------------------------------- */

static void mux_to(struct lacp_port *p, enum lacp_mux_state s, uint64_t now)
{
	const uint8_t cd = LACP_ST_COLLECTING | LACP_ST_DISTRIBUTING;

	/* Every state but WAITING changes what the partner must hear. */
	p->mux = s;
	switch (s) {
	case LACP_MUX_DETACHED:
		p->actor.state &= (uint8_t) ~(LACP_ST_SYNC | cd);
		p->wait_while = 0;
		p->ntt = true;
		break;
	case LACP_MUX_WAITING:
		p->wait_while = now + LACP_AGGREGATE_WAIT_MS;
		break;
	case LACP_MUX_ATTACHED:
		p->actor.state |= LACP_ST_SYNC;
		p->actor.state &= (uint8_t)~cd;
		p->wait_while = 0;
		p->ntt = true;
		break;
	case LACP_MUX_COLLECTING_DISTRIBUTING:
		p->actor.state |= cd;
		p->ntt = true;
		break;
	}
}

static void mux(struct lacp_port *p, uint64_t now)
{
	bool sel = p->selected == LACP_SELECTED;
	bool psync = p->partner.state & LACP_ST_SYNC;

	for (;;) {
		enum lacp_mux_state was = p->mux;

		switch (p->mux) {
		case LACP_MUX_DETACHED:
			if (sel)
				mux_to(p, LACP_MUX_WAITING, now);
			break;
		case LACP_MUX_WAITING:
			if (!sel)
				mux_to(p, LACP_MUX_DETACHED, now);
			else if (p->wait_while <= now)
				mux_to(p, LACP_MUX_ATTACHED, now);
			break;
		case LACP_MUX_ATTACHED:
			if (!sel)
				mux_to(p, LACP_MUX_DETACHED, now);
			else if (psync)
				mux_to(p, LACP_MUX_COLLECTING_DISTRIBUTING,
				       now);
			break;
		case LACP_MUX_COLLECTING_DISTRIBUTING:
			if (!sel || !psync)
				mux_to(p, LACP_MUX_ATTACHED, now);
			break;
		}
		if (p->mux == was)
			return;
	}
}

/* Why a selected member does not carry guests yet, "" if it does. */
static void why_selected(struct lacp_port *p, uint64_t now)
{
	if (lacp_port_usable(p))
		p->why[0] = '\0';
	else if (p->mux == LACP_MUX_WAITING)
		snprintf(p->why, sizeof(p->why),
			 "joining: waiting %llu ms for the group's members",
			 (unsigned long long)(p->wait_while - now));
	else if (p->rx == LACP_RX_EXPIRED)
		snprintf(p->why, sizeof(p->why),
			 "partner silent: no LACPDU for %u s (expired)",
			 (p->actor.state & LACP_ST_TIMEOUT
				  ? LACP_SHORT_TIMEOUT_MS
				  : LACP_LONG_TIMEOUT_MS) /
				 1000);
	else if (!(p->partner.state & LACP_ST_SYNC))
		snprintf(p->why, sizeof(p->why),
			 "partner not in sync (it does not aggregate this "
			 "link with us yet)");
	else
		snprintf(p->why, sizeof(p->why), "partner not collecting");
}

void lacp_group_run(struct lacp_port *const *ports, size_t n, uint64_t now)
{
	const struct lacp_port *with;

	/* A member unselected by what it heard leaves its aggregator before
	 * it may be selected again. */
	for (size_t i = 0; i < n; i++) {
		timers(ports[i], now);
		mux(ports[i], now);
	}
	with = group_partner(ports, n);
	for (size_t i = 0; i < n; i++) {
		select_port(ports[i], with);
		mux(ports[i], now);
		if (ports[i]->selected == LACP_SELECTED)
			why_selected(ports[i], now);
	}
}

/* Whether a PDU now would be one more than allowed in the fast periodic
 * time that ends now. */
static bool tx_held(const struct lacp_port *p, uint64_t now)
{
	return p->tx_pdus >= LACP_TX_PER_PERIOD &&
	       now < p->tx_at[p->tx_old] + LACP_FAST_PERIODIC_MS;
}

bool lacp_port_tx(struct lacp_port *p, uint64_t now, struct lacpdu *out)
{
	if (!p->enabled || !p->ntt ||
	    !((p->actor.state | p->partner.state) & LACP_ST_ACTIVITY))
		return false;
	if (tx_held(p, now))
		return false;
	memset(out, 0, sizeof(*out));
	out->actor = p->actor;
	out->partner = p->partner;
	p->ntt = false;
	p->tx_at[p->tx_old] = now;
	p->tx_old = (p->tx_old + 1) % LACP_TX_PER_PERIOD;
	p->tx_pdus++;
	return true;
}

bool lacp_port_usable(const struct lacp_port *p)
{
	return p->enabled && p->selected == LACP_SELECTED &&
	       p->mux == LACP_MUX_COLLECTING_DISTRIBUTING &&
	       (p->partner.state & LACP_ST_COLLECTING);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a || (b && b < a) ? b : a;
}

uint64_t lacp_next(struct lacp_port *const *ports, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++) {
		const struct lacp_port *p = ports[i];

		t = earliest(t, p->current_while);
		t = earliest(t, p->periodic);
		t = earliest(t, p->wait_while);
		/* A PDU held back by the transmit limit. */
		if (p->ntt && p->tx_pdus >= LACP_TX_PER_PERIOD)
			t = earliest(t, p->tx_at[p->tx_old] +
						LACP_FAST_PERIODIC_MS);
	}
	return t;
}

const char *lacp_rx_name(enum lacp_rx_state s)
{
	static const char *const names[] = { "INITIALIZE", "PORT_DISABLED",
					     "EXPIRED", "DEFAULTED",
					     "CURRENT" };

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s]
								  : "?";
}

const char *lacp_mux_name(enum lacp_mux_state s)
{
	static const char *const names[] = { "DETACHED", "WAITING", "ATTACHED",
					     "COLLECTING_DISTRIBUTING" };

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s]
								  : "?";
}

const char *lacp_state_str(uint8_t st, char *buf, size_t len)
{
	static const char *const bits[] = { "activity",	   "timeout",
					    "aggregation", "sync",
					    "collecting",  "distributing",
					    "defaulted",   "expired" };
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int i = 0; i < 8 && used < len; i++)
		if (st & (1u << i)) {
			int k = snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", bits[i]);

			if (k < 0)
				break;
			used += (size_t)k;
		}
	return buf;
}
