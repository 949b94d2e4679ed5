/* SPDX-License-Identifier: MIT */
/* gonactl's internal interfaces: the replies it collected and the code
 * that prints them as tables or JSON. */
#ifndef GONA_CLI_H
#define GONA_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/control.h"

/* Everything one request brought back. */
struct reply {
	bool have_status;
	struct ctl_status status;
	struct ctl_uplink *uplinks;
	size_t n_uplinks;
	struct ctl_guest *guests;
	size_t n_guests;
	char note[CTL_ERR_MAX]; /* CTL_REP_NOTE */
};

/* show.c: one printer per command, table or JSON. */
void show_status(FILE *f, const struct reply *r, bool json);
void show_uplink_list(FILE *f, const struct reply *r, bool json);
void show_uplink(FILE *f, const struct reply *r, bool json);
void show_guest_list(FILE *f, const struct reply *r, bool json);
void show_guest(FILE *f, const struct reply *r, bool json);
void show_stats(FILE *f, const struct reply *r, bool json);
void show_note(FILE *f, const struct reply *r, bool json);

/* json.c: a small streaming JSON writer with correct escaping. */
struct json {
	FILE *f;
	int depth;
	bool need_comma[16];
};
void json_begin(struct json *j, FILE *f);
void json_end(struct json *j);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_double(struct json *j, const char *key, double v);

#endif
