/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the control protocol's decoders on arbitrary bytes,
 * as gonad receives a request and gonactl a reply. Broken if decoding
 * crashes or reads out of bounds (the sanitizers), if a refusal says
 * nothing, or if a request it accepts does not encode back to the same
 * bytes (what gonad acts on is what was sent). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[CTL_MSG_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req req;
	char err[256] = "";
	const void *payload;
	uint16_t type;
	size_t plen;
	ssize_t n;

	if (ctl_req_decode(data, size, &req, err, sizeof(err))) {
		if (!err[0])
			abort();
	} else {
		n = ctl_req_encode(again, sizeof(again), req.type,
				   (int)req.argc, req.argv);
		if (n < 0 || (size_t)n != size || memcmp(again, data, size)) {
			fprintf(stderr,
				"request type %u, %u arguments: "
				"encodes back differently\n",
				req.type, req.argc);
			abort();
		}
	}
	err[0] = 0;
	if (ctl_rep_decode(data, size, &type, &payload, &plen, err,
			   sizeof(err))) {
		if (!err[0])
			abort();
	} else if (plen > size ||
		   (plen && ((const uint8_t *)payload < data ||
			     (const uint8_t *)payload + plen > data + size))) {
		fprintf(stderr, "reply payload outside the message\n");
		abort();
	}
	return 0;
}
