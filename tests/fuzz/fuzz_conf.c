/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the configuration's parser, checker and printer on
 * arbitrary bytes. Broken if a load crashes, leaks or reads out of
 * bounds (the sanitizers), if a refusal does not name the file and the
 * line, or if what loads does not print to a file that loads back to a
 * configuration printing the same (what gonad -n shows is what it runs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The configuration C as conf_print writes it, in a buffer to free. */
static char *printed(const struct conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	conf_print(f, c);
	if (fclose(f))
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p1, *p2;
	struct conf *c, *back;
	struct conf_err err;
	size_t n1, n2;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (conf_load_text("fuzz.conf", text, size, &c, &err)) {
		const char *at = err.msg + 10;

		if (strncmp(err.msg, "fuzz.conf:", 10) || *at < '1' ||
		    *at > '9' || at[strspn(at, "0123456789")] != ':') {
			fprintf(stderr, "a refusal without FILE:LINE: %s\n",
				err.msg);
			abort();
		}
		free(text);
		return 0;
	}
	p1 = printed(c, &n1);
	if (conf_load_text("printed.conf", p1, n1, &back, &err)) {
		fprintf(stderr, "what was printed is refused: %s\n%s\n",
			err.msg, p1);
		abort();
	}
	p2 = printed(back, &n2);
	if (n1 != n2 || memcmp(p1, p2, n1)) {
		fprintf(stderr, "printed twice, differently:\n%s\n--\n%s\n", p1,
			p2);
		abort();
	}
	free(p1);
	free(p2);
	conf_free(back);
	conf_free(c);
	free(text);
	return 0;
}
