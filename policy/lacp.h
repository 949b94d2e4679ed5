/* SPDX-License-Identifier: MIT */
/*
 * LACP (IEEE 802.1AX, formerly 802.3ad) for uplinks that are members of a
 * link aggregation group with the switch: LACPDU and marker PDU encoding
 * and checked decoding, and each member port's receive, periodic and mux
 * machines (coupled control) with the selection of the partner a group
 * aggregates with. Pure: the caller passes frames in and out and the time
 * (ms, CLOCK_MONOTONIC), and asks when it next needs to be called.
 */
#ifndef GONA_LACP_H
#define GONA_LACP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slow protocols (ethertype 0x8809) subtypes, and the sizes after the
 * Ethernet header. */
#define LACP_ETHERTYPE 0x8809
#define LACP_SUBTYPE_LACP 1
#define LACP_SUBTYPE_MARKER 2
#define LACP_PDU_LEN 110
#define LACP_MARKER_LEN 110

/* Port state bits (actor and partner). */
#define LACP_ST_ACTIVITY 0x01 /* active: sends without being asked */
#define LACP_ST_TIMEOUT 0x02 /* short timeout: wants fast LACPDUs */
#define LACP_ST_AGGREGATION 0x04 /* may aggregate (not individual) */
#define LACP_ST_SYNC 0x08 /* attached to the right aggregator */
#define LACP_ST_COLLECTING 0x10
#define LACP_ST_DISTRIBUTING 0x20
#define LACP_ST_DEFAULTED 0x40 /* partner information is the default */
#define LACP_ST_EXPIRED 0x80 /* partner information timed out */

/* The standard's times, ms. */
#define LACP_FAST_PERIODIC_MS 1000
#define LACP_SLOW_PERIODIC_MS 30000
#define LACP_SHORT_TIMEOUT_MS 3000
#define LACP_LONG_TIMEOUT_MS 90000
#define LACP_AGGREGATE_WAIT_MS 2000
#define LACP_TX_PER_PERIOD 3 /* at most, in any fast periodic time */

/* What one end says of itself (actor) or of the other (partner). */
struct lacp_info {
	uint16_t system_priority;
	uint8_t system[6];
	uint16_t key;
	uint16_t port_priority;
	uint16_t port;
	uint8_t state; /* LACP_ST_* */
};

struct lacpdu {
	struct lacp_info actor;
	struct lacp_info partner;
	uint16_t collector_max_delay; /* tens of us */
};

/* The LACPDU in B (LEN bytes after the Ethernet header, from the
 * subtype on) into *OUT; -EINVAL with the cause in ERR if it is not one. */
int lacpdu_decode(const uint8_t *b, size_t len, struct lacpdu *out, char *err,
		  size_t errlen);
/* PDU as LACP_PDU_LEN bytes (after the Ethernet header) into B, of LEN;
 * returns LACP_PDU_LEN, or 0 if B is too short. */
size_t lacpdu_encode(const struct lacpdu *pdu, uint8_t *b, size_t len);
/* The answer to the marker PDU in B (LEN bytes after the Ethernet header),
 * into OUT (LACP_MARKER_LEN bytes): returns LACP_MARKER_LEN, 0 when B is a
 * marker response (nothing to answer), or -EINVAL with the cause in ERR. */
int lacp_marker_answer(const uint8_t *b, size_t len, uint8_t *out,
		       size_t outlen, char *err, size_t errlen);

/* A member's configuration (uplinks.lacp and the device's MAC). */
struct lacp_port_conf {
	uint16_t system_priority;
	uint8_t system[6];
	uint16_t key; /* the group's */
	uint16_t port_priority;
	uint16_t port; /* its number, unique in the system, not 0 */
	bool fast; /* rate "fast": the partner is asked for a PDU a second */
	bool active; /* sends LACPDUs unasked */
};

enum lacp_rx_state {
	LACP_RX_INITIALIZE,
	LACP_RX_PORT_DISABLED,
	LACP_RX_EXPIRED,
	LACP_RX_DEFAULTED,
	LACP_RX_CURRENT,
};

enum lacp_mux_state {
	LACP_MUX_DETACHED,
	LACP_MUX_WAITING,
	LACP_MUX_ATTACHED,
	LACP_MUX_COLLECTING_DISTRIBUTING,
};

enum lacp_selected { LACP_UNSELECTED, LACP_SELECTED };

struct lacp_port {
	struct lacp_port_conf conf;
	struct lacp_info actor; /* as it is now (Actor_Oper) */
	struct lacp_info partner; /* as last heard, or the default */
	bool enabled; /* the port has carrier */
	enum lacp_rx_state rx;
	enum lacp_mux_state mux;
	enum lacp_selected selected;
	bool ntt; /* need to transmit */
	/* Deadlines (ms), 0 while stopped. */
	uint64_t current_while;
	uint64_t periodic;
	uint64_t wait_while;
	/* When the last LACP_TX_PER_PERIOD PDUs left (tx_at[tx_old] the
	 * oldest): no more than that many in any fast periodic time. */
	uint64_t tx_at[LACP_TX_PER_PERIOD];
	unsigned int tx_old;
	/* Counted: LACPDUs received and sent, partner timeouts (to
	 * EXPIRED), fallbacks to defaults (no partner heard). */
	uint64_t rx_pdus, tx_pdus, expired, defaulted;
	/* Why it does not carry guests, "" when it does. */
	char why[160];
};

void lacp_port_init(struct lacp_port *p, const struct lacp_port_conf *c);
/*
 * What a member was when gonad last wrote it down (a restart carries it
 * over, so that the partner does not take the link out while gonad is
 * replaced): the partner as heard, whether it was selected, its mux
 * state, when the partner was last heard and when the member last sent
 * (ms, 0 never). All zero for a member with no partner heard.
 */
struct lacp_saved {
	struct lacp_info partner;
	bool selected;
	enum lacp_mux_state mux;
	uint64_t heard;
	uint64_t sent;
};

void lacp_port_save(const struct lacp_port *p, struct lacp_saved *out);
/*
 * Take up a member with carrier where S left it, at NOW (after
 * lacp_port_init): its partner current (its PDUs while gonad was away
 * were sent but not heard: it has a whole timeout from now to be heard
 * again), its aggregator as it was, a LACPDU due at once. A member that
 * had no partner, or that has been silent for as long as the partner
 * waits (so the partner has taken the link out), starts afresh, as a
 * member whose carrier came.
 */
void lacp_port_resume(struct lacp_port *p, const struct lacp_saved *s,
		      uint64_t now);
/* The port's carrier came (UP) or went. */
void lacp_port_enable(struct lacp_port *p, bool up, uint64_t now);
/* A LACPDU received on the port. */
void lacp_port_rx(struct lacp_port *p, const struct lacpdu *pdu, uint64_t now);
/*
 * One step of a group's members at NOW: their timers, the selection of
 * the partner the group aggregates with (the one most members hear, then
 * the lowest port number; a member hearing another system, or the same
 * system with another key, is not aggregated and says why), their mux
 * machines. Call after any event and at lacp_next().
 */
void lacp_group_run(struct lacp_port *const *ports, size_t n, uint64_t now);
/* The LACPDU the port must send now, if any (into *OUT; counts it). */
bool lacp_port_tx(struct lacp_port *p, uint64_t now, struct lacpdu *out);
/* Whether the member may carry guests: collecting and distributing, and
 * its partner collecting. */
bool lacp_port_usable(const struct lacp_port *p);
/* The earliest deadline of the group's members (ms), 0 for none. */
uint64_t lacp_next(struct lacp_port *const *ports, size_t n);
/* "CURRENT", "COLLECTING_DISTRIBUTING"...; the state bits as
 * "activity,timeout,aggregation,..." into BUF. */
const char *lacp_rx_name(enum lacp_rx_state s);
const char *lacp_mux_name(enum lacp_mux_state s);
const char *lacp_state_str(uint8_t st, char *buf, size_t len);

#endif
