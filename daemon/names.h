/* SPDX-License-Identifier: MIT */
/* A hash index of names (guests', uplinks') to what they name, built once
 * for the loops that look up every name of a configuration: a reload of
 * 4096 guests looked each up with a linear search, 8 million string
 * compares a loop. */
#ifndef GONA_NAMES_H
#define GONA_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct names {
	size_t mask; /* slots - 1; slots a power of two, at least 2n */
	const char **name; /* NULL: an empty slot */
	void **val;
};

/* Room for N names. -ENOMEM. */
int names_init(struct names *ni, size_t n);
/* NAME (which must outlive the index) to VAL; a name put twice keeps
 * the first. */
void names_put(struct names *ni, const char *name, void *val);
/* What NAME was put with, or NULL. */
void *names_get(const struct names *ni, const char *name);
void names_free(struct names *ni);

#endif
