/* SPDX-License-Identifier: MIT */
/* Unit tests of the control protocol: encoding, and the refusal of every
 * kind of malformed request or reply with a message saying why. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"

static char buf[CTL_MSG_MAX + 64];
static char err[256];

static struct ctl_hdr hdr(uint16_t type, uint32_t len, uint32_t argc)
{
	return (struct ctl_hdr){ .magic = CTL_MAGIC,
				 .version = CTL_VERSION,
				 .type = type,
				 .len = len,
				 .argc = argc };
}

START_TEST(request_round_trip)
{
	const char *argv[] = { "web", "tx.max", "2.5G" };
	struct ctl_req req;
	ssize_t n;

	n = ctl_req_encode(buf, sizeof(buf), CTL_REQ_GUEST_SHOW, 3, argv);
	ck_assert_int_eq(n, (ssize_t)(sizeof(struct ctl_hdr) + 4 + 7 + 5));
	ck_assert_int_eq(ctl_req_decode(buf, (size_t)n, &req, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(req.type, CTL_REQ_GUEST_SHOW);
	ck_assert_uint_eq(req.argc, 3);
	ck_assert_str_eq(req.argv[0], "web");
	ck_assert_str_eq(req.argv[1], "tx.max");
	ck_assert_str_eq(req.argv[2], "2.5G");

	n = ctl_req_encode(buf, sizeof(buf), CTL_REQ_STATUS, 0, NULL);
	ck_assert_int_eq(n, (ssize_t)sizeof(struct ctl_hdr));
	ck_assert_int_eq(ctl_req_decode(buf, (size_t)n, &req, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(req.argc, 0);
}
END_TEST

START_TEST(encode_refuses)
{
	const char *many[CTL_ARGS_MAX + 1];
	char longarg[CTL_ARG_MAX + 1];

	for (int i = 0; i <= CTL_ARGS_MAX; i++)
		many[i] = "x";
	memset(longarg, 'a', sizeof(longarg) - 1);
	longarg[sizeof(longarg) - 1] = '\0';
	const char *one[] = { longarg };

	ck_assert_int_eq(ctl_req_encode(buf, sizeof(buf), CTL_REQ_STATUS,
					CTL_ARGS_MAX + 1, many),
			 -EINVAL);
	ck_assert_int_eq(
		ctl_req_encode(buf, sizeof(buf), CTL_REQ_STATUS, 1, one),
		-E2BIG);
	ck_assert_int_eq(ctl_req_encode(buf, 8, CTL_REQ_STATUS, 0, NULL),
			 -E2BIG);
	ck_assert_int_eq(
		ctl_req_encode(buf, sizeof(buf), CTL_REP_DONE, 0, NULL),
		-EINVAL);
}
END_TEST

/* Each malformed request, as bytes, and the message it must get. */
static const struct bad_req {
	const char *name;
	size_t (*make)(void);
	const char *msg;
} bad_reqs[];

static size_t put(struct ctl_hdr h, const void *body, size_t blen)
{
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, blen);
	return sizeof(h) + blen;
}

static size_t mk_short(void)
{
	struct ctl_hdr h = hdr(CTL_REQ_STATUS, 16, 0);

	memcpy(buf, &h, sizeof(h));
	return 10;
}

static size_t mk_magic(void)
{
	struct ctl_hdr h = hdr(CTL_REQ_STATUS, 16, 0);

	h.magic = 0x12345678;
	return put(h, "", 0);
}

static size_t mk_version(void)
{
	struct ctl_hdr h = hdr(CTL_REQ_STATUS, 16, 0);

	h.version = 7;
	return put(h, "", 0);
}

static size_t mk_length(void)
{
	return put(hdr(CTL_REQ_STATUS, 20, 0), "", 0);
}

static size_t mk_type(void)
{
	return put(hdr(CTL_REP_DONE, 16, 0), "", 0);
}

static size_t mk_argc_max(void)
{
	return put(hdr(CTL_REQ_STATUS, 16, CTL_ARGS_MAX + 1), "", 0);
}

static size_t mk_unterminated(void)
{
	return put(hdr(CTL_REQ_GUEST_SHOW, 19, 1), "web", 3);
}

static size_t mk_missing_arg(void)
{
	return put(hdr(CTL_REQ_GUEST_SHOW, 20, 2), "web", 4);
}

static size_t mk_trailing(void)
{
	return put(hdr(CTL_REQ_GUEST_SHOW, 22, 1), "web\0xx", 6);
}

static size_t mk_long_arg(void)
{
	char a[CTL_ARG_MAX + 1];

	memset(a, 'a', CTL_ARG_MAX);
	a[CTL_ARG_MAX] = '\0';
	return put(hdr(CTL_REQ_GUEST_SHOW, 16 + CTL_ARG_MAX + 1, 1), a,
		   sizeof(a));
}

static const struct bad_req bad_reqs[] = {
	{ "short", mk_short, "message of 10 bytes is shorter than its header" },
	{ "magic", mk_magic, "bad magic 0x12345678" },
	{ "version", mk_version, "protocol version 7, expected 1" },
	{ "length", mk_length, "length field 20 but 16 bytes received" },
	{ "reply type", mk_type, "unknown request type 100" },
	{ "argc", mk_argc_max, "65 arguments, at most 64" },
	{ "unterminated", mk_unterminated, "argument 1 is not NUL-terminated" },
	{ "missing", mk_missing_arg, "argument 2 is not NUL-terminated" },
	{ "trailing", mk_trailing, "2 bytes after the last argument" },
	{ "long", mk_long_arg, "argument 1 is longer than 255 bytes" },
};

START_TEST(malformed_requests_refused)
{
	const struct bad_req *b = &bad_reqs[_i];
	struct ctl_req req = { .type = 0xffff };
	size_t n = b->make();

	err[0] = '\0';
	ck_assert_int_eq(ctl_req_decode(buf, n, &req, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, b->msg);
	/* Nothing of a refused request is taken. */
	ck_assert_uint_eq(req.type, 0xffff);
}
END_TEST

START_TEST(reply_round_trip)
{
	struct ctl_guest g = { .name = "web",
			       .device = "vif1.0",
			       .homes = "up0,up1",
			       .n_ipv4 = 1 };
	const void *p;
	uint16_t type;
	size_t plen;
	ssize_t n;

	n = ctl_rep_encode(buf, sizeof(buf), CTL_REP_GUEST, &g, sizeof(g));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
					sizeof(err)),
			 0);
	ck_assert_uint_eq(type, CTL_REP_GUEST);
	ck_assert_uint_eq(plen, sizeof(g));
	ck_assert_str_eq(((const struct ctl_guest *)p)->homes, "up0,up1");

	n = ctl_rep_encode(buf, sizeof(buf), CTL_REP_ERROR, "guest x: no", 12);
	ck_assert_int_eq(ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
					sizeof(err)),
			 0);
	ck_assert_uint_eq(type, CTL_REP_ERROR);
	ck_assert_str_eq(p, "guest x: no");
}
END_TEST

START_TEST(malformed_replies_refused)
{
	struct ctl_uplink u;
	struct ctl_status s = { 0 };
	const void *p;
	uint16_t type;
	size_t plen;
	ssize_t n;

	/* A record one byte short. */
	n = ctl_rep_encode(buf, sizeof(buf), CTL_REP_STATUS, &s, sizeof(s) - 1);
	ck_assert_int_eq(ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
					sizeof(err)),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "expected"));

	/* A name that does not end inside its field. */
	memset(&u, 'A', sizeof(u));
	n = ctl_rep_encode(buf, sizeof(buf), CTL_REP_UPLINK, &u, sizeof(u));
	ck_assert_int_eq(ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
					sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "unterminated string in uplink");

	/* An error message without its NUL. */
	n = ctl_rep_encode(buf, sizeof(buf), CTL_REP_ERROR, "abc", 3);
	ck_assert_int_eq(ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
					sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "malformed error reply");

	/* A request type where a reply belongs. */
	put(hdr(CTL_REQ_STATUS, 16, 0), "", 0);
	ck_assert_int_eq(
		ctl_rep_decode(buf, 16, &type, &p, &plen, err, sizeof(err)),
		-EBADMSG);
	ck_assert_str_eq(err, "unknown reply type 1");
}
END_TEST

START_TEST(drop_names)
{
	ck_assert_ptr_null(ctl_drop_name(0));
	ck_assert_str_eq(ctl_drop_name(2), "src-mac");
	for (unsigned int i = 1; i < 12; i++)
		ck_assert_ptr_nonnull(ctl_drop_name(i));
	ck_assert_ptr_null(ctl_drop_name(CTL_DROP_SLOTS));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc = tcase_create("messages");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, request_round_trip);
	tcase_add_test(tc, encode_refuses);
	tcase_add_loop_test(tc, malformed_requests_refused, 0,
			    sizeof(bad_reqs) / sizeof(bad_reqs[0]));
	tcase_add_test(tc, reply_round_trip);
	tcase_add_test(tc, malformed_replies_refused);
	tcase_add_test(tc, drop_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
