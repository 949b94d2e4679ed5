/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the metrics endpoint's judge of request heads on
 * arbitrary bytes, fed whole and in every split a client's writes could
 * make. Broken if judging crashes or reads out of bounds, if a verdict
 * has no status, or if a head judged complete is judged otherwise once
 * more bytes follow it (gonad answers at the first complete verdict). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *reason;
	enum http_verdict first = HTTP_MORE, v;
	size_t at = 0;

	/* As gonad reads: longer and longer prefixes, until a verdict. */
	for (size_t len = 0; len <= size; len++) {
		v = http_judge(buf, len, "/metrics");
		if (v != HTTP_MORE) {
			first = v;
			at = len;
			break;
		}
	}
	if (first == HTTP_MORE)
		return 0;
	if (http_status(first, &reason) < 100 || !reason || !reason[0])
		abort();
	/* A verdict stands whatever comes after it. */
	if (http_judge(buf, size, "/metrics") != first) {
		fprintf(stderr, "verdict %d at %zu bytes, %d at %zu\n", first,
			at, http_judge(buf, size, "/metrics"), size);
		abort();
	}
	return 0;
}
