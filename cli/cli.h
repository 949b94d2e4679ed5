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

/*
 * client.c: talking to gonad. cli_connect returns a socket or -errno;
 * cli_ask sends request REQ with ARGC strings and adds what comes back to
 * REP. On failure ERR says why: -EPERM gonad refused (its message),
 * -EBADMSG a malformed reply, else the connection failed ("closed the
 * connection", "did not answer"...).
 */
#define CLI_REPLY_TIMEOUT_S 10
int cli_connect(const char *path, char *err, size_t errlen);
int cli_ask(int fd, uint16_t req, int argc, const char *const *argv,
	    struct reply *rep, char *err, size_t errlen);
void cli_reply_clear(struct reply *rep);

/* show.c: one printer per command, table or JSON. */
void show_status(FILE *f, const struct reply *r, bool json);
void show_uplink_list(FILE *f, const struct reply *r, bool json);
void show_uplink(FILE *f, const struct reply *r, bool json);
void show_guest_list(FILE *f, const struct reply *r, bool json);
void show_guest(FILE *f, const struct reply *r, bool json);
void show_stats(FILE *f, const struct reply *r, bool json);
void show_note(FILE *f, const struct reply *r, bool json);
/* The cells of those tables, and the tables themselves: NROWS rows of NCOLS
 * cells, row after row, in columns as wide as their widest cell. */
const char *show_rate(uint64_t bps, char *buf, size_t len);
const char *show_percent(uint64_t part, uint64_t whole, char *buf, size_t len);
const char *show_uplink_state(const struct ctl_uplink *u);
uint64_t show_drops_total(const struct ctl_counters *c);
void show_table(FILE *f, int ncols, size_t nrows, const char *const *cells);

/* top.c: gonactl top, a live table of the uplinks and guests redrawn until
 * q. ARGV starts at the word "top"; returns gonactl's exit status. */
extern const char top_help[];
int top_run(const char *path, bool json, int argc, char **argv);

/* test_failover.c: gonactl test failover; ARGV starts at the word
 * "test"; returns gonactl's exit status. */
extern const char test_failover_help[];
int test_failover_run(const char *path, bool json, int argc, char **argv);

/* jsonread.c: every scalar of the JSON document BUF (LEN bytes), with its
 * path ("end.sum.lost_packets", "intervals[3].sum.packets") and its raw
 * text (a string's without quotes, escapes left), to CB. -EINVAL when it
 * is not JSON, -E2BIG when nested or pathed too deep. */
typedef void (*jr_fn)(const char *path, const char *tok, size_t len, void *arg);
int jr_walk(const char *buf, size_t len, jr_fn cb, void *arg);

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
void json_null(struct json *j, const char *key);
void json_double(struct json *j, const char *key, double v);

#endif
