/* SPDX-License-Identifier: MIT */
/* What the files of gonad's running state (daemon/state*.c) share among
 * themselves and nothing else uses: gonad.h has the state's interface. */
#ifndef GONA_DAEMON_STATE_INT_H
#define GONA_DAEMON_STATE_INT_H

#include "daemon/gonad.h"
#include "policy/policy.h"

/* state.c */
const char *err_str(int r);
struct gona_port guest_port(const struct guest *gu, int ifindex);
bool id_taken(const struct gonad *g, uint32_t id);
void push_flood(struct gonad *g, const struct guest *gu);
void push_globals(struct gonad *g);
struct gona_uplink uplink_value(const struct uplink *u);
uint32_t alloc_id(struct gonad *g);
int guest_maps(struct gonad *g, struct guest *gu, bool fresh);
void id_free(struct gonad *g, uint32_t id);
int push_vlans(struct gonad *g, struct guest *gu);
struct uplink *uplink_init(struct gonad *g, unsigned int slot,
			   const struct conf_uplink *cu);
void vlans_moved(struct gonad *g, struct guest *gu);
void homes_str(const struct gonad *g, uint32_t homes, char *buf, size_t len);
void fill_slots(const struct gonad *g, const struct guest *gu,
		uint8_t slots[GONA_SPREAD_SLOTS]);

/* state_devices.c */
void guest_detach(struct gonad *g, struct guest *gu, bool gone);
void own_guest(struct gonad *g, const struct guest *gu);
void own_uplink(struct gonad *g, const struct uplink *u);
void uplink_detach(struct gonad *g, struct uplink *u, bool gone);
void uplink_update(struct gonad *g, struct uplink *u, enum uplink_cause cause);

/* state_live.c */
bool vlans_differ(const struct conf_guest *a, const struct conf_guest *b);

/* state_place.c */
bool place_guests(struct gonad *g, enum pol_mode mode);
void build_pol_guests(const struct gonad *g, struct pol_guest *pg);
void build_pol_uplinks(const struct gonad *g, struct pol_uplink *pu);
void move_guests(struct gonad *g, const struct pol_guest *pg, const char *what);

#endif
