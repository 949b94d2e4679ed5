/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: gonactl's JSON reader (of iperf3's -J output) on
 * arbitrary bytes. Broken if the walk crashes or reads out of bounds, if
 * it hands a scalar outside the document or with an empty path, or if it
 * fails with an error it does not document. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct doc {
	const char *start, *end;
};

static void on_scalar(const char *path, const char *tok, size_t len, void *arg)
{
	const struct doc *d = arg;

	if (!path || tok < d->start || tok + len > d->end) {
		fprintf(stderr, "a scalar outside the document at %s\n",
			path ? path : "(no path)");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc d = { (const char *)data, (const char *)data + size };
	int r = jr_walk((const char *)data, size, on_scalar, &d);

	if (r && r != -EINVAL && r != -E2BIG)
		abort();
	return 0;
}
