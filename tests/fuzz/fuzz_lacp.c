/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: LACP (policy/lacp.c) on what the network may send. A
 * group of three members (carrier up) hears a sequence of frames, each 2
 * bytes then a slow-protocols PDU of 110 bytes: the member it arrives on,
 * the time that passes before it (x 10 ms), the PDU (a LACPDU, a marker, or
 * anything), decoded as gonad would and given to the member if it is one.
 * After each, broken if:
 * - a refused PDU's refusal says nothing, or a marker's answer is not a
 *   response to the same requester;
 * - a member carries guests without being selected, in sync both ways,
 *   collecting and distributing, its partner collecting; or says why it
 *   does not while it does, or nothing while it does not;
 * - two members that carry guests aggregate with different partners
 *   (system or key);
 * - a member in CURRENT still calls its partner defaulted or expired;
 * - a member sends more than 3 LACPDUs in a second;
 * and on a crash or an out-of-bounds read (the sanitizers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/lacp.h"

#define PORTS 3
#define FRAME (2 + LACP_PDU_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const struct lacp_port *p)
{
	char a[96], b[96];

	fprintf(stderr,
		"fuzz_lacp: port %u: %s (rx %s, mux %s, selected %d, actor "
		"%s, partner %s, why \"%s\")\n",
		p->actor.port, what, lacp_rx_name(p->rx), lacp_mux_name(p->mux),
		p->selected, lacp_state_str(p->actor.state, a, sizeof(a)),
		lacp_state_str(p->partner.state, b, sizeof(b)), p->why);
	abort();
}

static void check(struct lacp_port *const *ports, uint64_t now,
		  unsigned int *sent, uint64_t (*at)[LACP_TX_PER_PERIOD])
{
	const struct lacp_port *carrier = NULL;
	const uint8_t all =
		LACP_ST_SYNC | LACP_ST_COLLECTING | LACP_ST_DISTRIBUTING;
	struct lacpdu pdu;

	for (size_t i = 0; i < PORTS; i++) {
		struct lacp_port *p = ports[i];

		if (lacp_port_usable(p)) {
			if (p->selected != LACP_SELECTED ||
			    p->mux != LACP_MUX_COLLECTING_DISTRIBUTING ||
			    (p->actor.state & all) != all ||
			    !(p->partner.state & LACP_ST_SYNC) ||
			    !(p->partner.state & LACP_ST_COLLECTING))
				broken("carries guests out of sync", p);
			if (p->why[0])
				broken("carries guests, yet says why not", p);
			if (carrier &&
			    (memcmp(carrier->partner.system, p->partner.system,
				    6) ||
			     carrier->partner.key != p->partner.key ||
			     carrier->partner.system_priority !=
				     p->partner.system_priority))
				broken("aggregates with another partner than "
				       "a member of its group",
				       p);
			carrier = p;
		} else if (!p->why[0]) {
			broken("does not carry guests and does not say why", p);
		}
		if (p->rx == LACP_RX_CURRENT &&
		    (p->actor.state & (LACP_ST_DEFAULTED | LACP_ST_EXPIRED)))
			broken("CURRENT with a defaulted or expired partner",
			       p);
		/* sent: how many so far; at: when the last 3 left, the
		 * oldest at at[sent % 3]. */
		while (lacp_port_tx(p, now, &pdu)) {
			uint64_t *t = &at[i][sent[i] % LACP_TX_PER_PERIOD];

			if (sent[i] >= LACP_TX_PER_PERIOD &&
			    now < *t + LACP_FAST_PERIODIC_MS)
				broken("more than 3 LACPDUs in a second", p);
			*t = now;
			sent[i]++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lacp_port port[PORTS], *ports[PORTS];
	unsigned int sent[PORTS] = { 0 };
	uint64_t at[PORTS][LACP_TX_PER_PERIOD] = { { 0 } }, now = 1000;

	for (size_t i = 0; i < PORTS; i++) {
		struct lacp_port_conf c = { .system_priority = 1,
					    .system = { 2, 0, 0, 0, 0xaa, 1 },
					    .key = 10,
					    .port_priority = 255,
					    .port = (uint16_t)(i + 1),
					    .fast = i != 2,
					    .active = i != 1 };

		lacp_port_init(&port[i], &c);
		lacp_port_enable(&port[i], true, now);
		ports[i] = &port[i];
	}
	lacp_group_run(ports, PORTS, now);
	check(ports, now, sent, at);
	for (size_t off = 0; off + FRAME <= size; off += FRAME) {
		const uint8_t *f = data + off;
		struct lacp_port *p = ports[f[0] % PORTS];
		uint8_t answer[LACP_MARKER_LEN];
		char err[160] = "";
		struct lacpdu pdu;
		int r;

		/* Time passes in steps, as gonad's timer would wake it. */
		for (unsigned int t = 0; t < f[1]; t++) {
			now += 10;
			lacp_group_run(ports, PORTS, now);
			check(ports, now, sent, at);
		}
		if (f[2] == LACP_SUBTYPE_MARKER) {
			r = lacp_marker_answer(f + 2, LACP_PDU_LEN, answer,
					       sizeof(answer), err,
					       sizeof(err));
			if (r < 0 && !err[0])
				abort();
			if (r > 0 &&
			    (answer[2] != 2 || memcmp(answer + 3, f + 5, 17)))
				abort();
			continue;
		}
		if (lacpdu_decode(f + 2, LACP_PDU_LEN, &pdu, err,
				  sizeof(err))) {
			if (!err[0])
				abort();
			continue;
		}
		/* A carrier flap before it when the time byte is 255. */
		if (f[1] == 255) {
			lacp_port_enable(p, false, now);
			lacp_group_run(ports, PORTS, now);
			check(ports, now, sent, at);
			lacp_port_enable(p, true, now);
		}
		lacp_port_rx(p, &pdu, now);
		lacp_group_run(ports, PORTS, now);
		check(ports, now, sent, at);
	}
	return 0;
}
