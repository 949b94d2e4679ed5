/* SPDX-License-Identifier: MIT */
/* The kernel in memory for fuzz_control (fake_kernel.c): what the harness
 * sets up and reads back. */
#ifndef GONA_FUZZ_FAKE_KERNEL_H
#define GONA_FUZZ_FAKE_KERNEL_H

#include "daemon/gonad.h"

#define FAKE_MACS_MAX 4096

/* A guest_by_mac entry as gonad wrote it. */
struct fake_mac {
	uint8_t mac[6];
	struct gona_port port;
};

/* An empty data path, and tc and netlink, for G. */
void fake_kernel_reset(struct gonad *g);
/* A full link dump to G: every device up with carrier. */
void fake_devices_report(struct gonad *g);
/* The guest_by_mac entries, *N of them. */
const struct fake_mac *fake_macs(size_t *n);
/* The clock gonad reads moves on by MS. */
void fake_clock_advance(uint64_t ms);

#endif
