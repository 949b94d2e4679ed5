/* SPDX-License-Identifier: MIT */
/*
 * The devices of the BPF_PROG_TEST_RUN programs (tests/bpf,
 * tests/fuzz/fuzz_datapath, bench/bpf_cost): veth pairs NAME/NAMEp, both ends
 * up, in a network namespace of the program's own, so that redirects and copies
 * have real targets. Any failure ends the program: nothing runs without
 * them.
 */
#ifndef GONA_TESTS_VETHS_H
#define GONA_TESTS_VETHS_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

/* The program's name in what it says ("test_datapath"). */
static const char *veths_who = "veths";

static void veths_sys(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void veths_sys(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s: '%s' failed\n", veths_who, cmd);
		exit(EXIT_FAILURE);
	}
}

/* Into a network namespace of its own, with its loopback up. */
static void veths_netns(const char *who)
{
	veths_who = who;
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "%s: unshare(CLONE_NEWNET): %s\n", who,
			strerror(errno));
		exit(EXIT_FAILURE);
	}
	veths_sys("ip link set dev lo up");
}

/* The pair NAME/NAMEp, up; NAME's ifindex. */
static int veths_add(const char *name)
{
	int i;

	veths_sys("ip link add %s type veth peer name %sp", name, name);
	veths_sys("ip link set dev %s up", name);
	veths_sys("ip link set dev %sp up", name);
	i = (int)if_nametoindex(name);
	if (!i) {
		fprintf(stderr, "%s: no device %s\n", veths_who, name);
		exit(EXIT_FAILURE);
	}
	return i;
}

/* libbpf's warnings, not its debug chatter. */
static int veths_libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			      va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

#endif
