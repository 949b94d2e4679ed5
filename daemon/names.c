/* SPDX-License-Identifier: MIT */
/* The name index of names.h: open addressing, FNV-1a, linear probing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/names.h"

static size_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

int names_init(struct names *ni, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	ni->mask = slots - 1;
	ni->name = calloc(slots, sizeof(*ni->name));
	ni->val = calloc(slots, sizeof(*ni->val));
	if (!ni->name || !ni->val) {
		names_free(ni);
		return -ENOMEM;
	}
	return 0;
}

void names_put(struct names *ni, const char *name, void *val)
{
	size_t i = hash(name) & ni->mask;

	for (; ni->name[i]; i = (i + 1) & ni->mask)
		if (!strcmp(ni->name[i], name))
			return;
	ni->name[i] = name;
	ni->val[i] = val;
}

void *names_get(const struct names *ni, const char *name)
{
	size_t i = hash(name) & ni->mask;

	for (; ni->name[i]; i = (i + 1) & ni->mask)
		if (!strcmp(ni->name[i], name))
			return ni->val[i];
	return NULL;
}

void names_free(struct names *ni)
{
	free(ni->name);
	free(ni->val);
	ni->name = NULL;
	ni->val = NULL;
}
