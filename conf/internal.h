/* SPDX-License-Identifier: MIT */
/* What the files of conf/ share among themselves and nobody else needs. */
#ifndef GONA_CONF_INTERNAL_H
#define GONA_CONF_INTERNAL_H

#include "conf/conf.h"

/* Write a message into ERR; returns -EINVAL for the caller to return. */
int conf_errf(struct conf_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "OBJ: unknown key "KEY"" in ERR; returns -ENOENT, which tells an
 * unknown key from a bad value. */
int conf_unknown(struct conf_err *err, const char *obj, const char *key);
/* Uplink and guest names: 1..31 of [A-Za-z0-9_.-]. */
bool conf_name_ok(const char *name);
/* Linux interface names: 1..15 bytes, no '/', ':' or space, not . or .. */
bool conf_ifname_ok(const char *name);

#endif
