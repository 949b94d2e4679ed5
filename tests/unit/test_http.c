/* SPDX-License-Identifier: MIT */
/* Unit tests of the metrics endpoint's request judge (daemon/http.c):
 * whole heads, heads still coming, every kind of malformed one, and the
 * size limit. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"

static enum http_verdict judge(const char *s)
{
	return http_judge(s, strlen(s), "/metrics");
}

static const struct {
	const char *req;
	enum http_verdict want;
} cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_OK },
	{ "GET /metrics HTTP/1.0\r\n\r\n", HTTP_OK },
	{ "GET /metrics HTTP/1.1\n\n", HTTP_OK },
	{ "GET /metrics?x=1 HTTP/1.1\r\n\r\n", HTTP_OK },
	{ "GET /metrics HTTP/1.1\r\nAccept: text/plain\r\n\r\nbody", HTTP_OK },
	{ "GET / HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "GET /metricsx HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "GET /metric HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "POST /metrics HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "HEAD /metrics HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "get /metrics HTTP/1.1\r\n\r\n", HTTP_NOT_FOUND },
	{ "GET /metrics", HTTP_MORE },
	{ "GET /metrics HTTP/1.1\r\n", HTTP_MORE },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r", HTTP_MORE },
	{ "", HTTP_MORE },
	{ "hello\r\n\r\n", HTTP_BAD },
	{ "GET  /metrics HTTP/1.1\r\n\r\n", HTTP_BAD },
	{ "GET /metrics\r\n\r\n", HTTP_BAD },
	{ "GET /metrics HTTP/2.0\r\n\r\n", HTTP_BAD },
	{ "GET /metrics HTTP/1.1x\r\n\r\n", HTTP_BAD },
	{ "GET /metrics HTTP/1.\r\n\r\n", HTTP_BAD },
	{ "GET /met\x01rics HTTP/1.1\r\n\r\n", HTTP_BAD },
	{ "GET /metrics HTTP/1.1\r\nX: \x1b\r\n\r\n", HTTP_BAD },
	{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_BAD },
	{ " GET /metrics HTTP/1.1\r\n\r\n", HTTP_BAD },
	{ "\r\n\r\n", HTTP_BAD },
};

START_TEST(verdicts)
{
	ck_assert_msg(judge(cases[_i].req) == cases[_i].want,
		      "case %d: got %d, want %d", _i, judge(cases[_i].req),
		      cases[_i].want);
}
END_TEST

/* A NUL inside the head is not HTTP; strlen would stop at it. */
START_TEST(nul_refused)
{
	static const char r[] = "GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n";

	ck_assert_int_eq(http_judge(r, sizeof(r) - 1, "/metrics"), HTTP_BAD);
}
END_TEST

START_TEST(size_limit)
{
	char *b = malloc(HTTP_HEAD_MAX + 64);
	size_t n;

	ck_assert_ptr_nonnull(b);
	n = (size_t)snprintf(b, 64, "GET /metrics HTTP/1.1\r\nX: ");
	memset(b + n, 'a', HTTP_HEAD_MAX + 64 - n);
	/* Still coming, short of the limit; refused once it is reached. */
	ck_assert_int_eq(http_judge(b, HTTP_HEAD_MAX - 1, "/metrics"),
			 HTTP_MORE);
	ck_assert_int_eq(http_judge(b, HTTP_HEAD_MAX, "/metrics"),
			 HTTP_TOO_BIG);
	/* A head that ends just past the limit is refused too. */
	memcpy(b + HTTP_HEAD_MAX - 2, "\r\n\r\n", 4);
	ck_assert_int_eq(http_judge(b, HTTP_HEAD_MAX + 2, "/metrics"),
			 HTTP_TOO_BIG);
	/* ... and one that ends at it is judged. */
	memcpy(b + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(http_judge(b, HTTP_HEAD_MAX, "/metrics"), HTTP_OK);
	free(b);
}
END_TEST

START_TEST(statuses)
{
	const char *r;

	ck_assert_int_eq(http_status(HTTP_OK, &r), 200);
	ck_assert_str_eq(r, "OK");
	ck_assert_int_eq(http_status(HTTP_NOT_FOUND, &r), 404);
	ck_assert_int_eq(http_status(HTTP_BAD, &r), 400);
	ck_assert_int_eq(http_status(HTTP_TOO_BIG, &r), 431);
	ck_assert_str_eq(r, "Request Header Fields Too Large");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("requests");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, verdicts, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, nul_refused);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, statuses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
