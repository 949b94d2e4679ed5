/* SPDX-License-Identifier: MIT */
/* gonactl: reads the command line, asks gonad over the control socket and
 * prints the answer. Exit 0 done, 1 gonad refused, 2 usage or no gonad. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET "/run/gona/gonad.sock"
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

enum show {
	SHOW_STATUS,
	SHOW_UPLINKS,
	SHOW_UPLINK,
	SHOW_GUESTS,
	SHOW_GUEST,
	SHOW_STATS,
	SHOW_NOTHING, /* a change: silence is success */
	SHOW_NOTE, /* the message gonad sent back */
};

/* The command line grammar: words to match, arguments, request, printer. */
static const struct command {
	const char *words[2];
	int nargs; /* NAME after the words */
	bool pairs; /* then one or more KEY VALUE pairs */
	uint16_t req;
	enum show show;
	const char *help;
} commands[] = {
	{ .words = { "status" },
	  .req = CTL_REQ_STATUS,
	  .show = SHOW_STATUS,
	  .help = "status                 daemon state, backend, uplinks, "
		  "guests" },
	{ .words = { "uplink", "list" },
	  .req = CTL_REQ_UPLINK_SHOW,
	  .show = SHOW_UPLINKS,
	  .help = "uplink list            every uplink" },
	{ .words = { "uplink", "show" },
	  .nargs = 1,
	  .req = CTL_REQ_UPLINK_SHOW,
	  .show = SHOW_UPLINK,
	  .help = "uplink show NAME       one uplink and the guests on it" },
	{ .words = { "uplink", "set" },
	  .nargs = 1,
	  .pairs = true,
	  .req = CTL_REQ_UPLINK_SET,
	  .show = SHOW_NOTHING,
	  .help = "uplink set NAME admin down|up\n"
		  "                         drain an uplink (its guests move "
		  "off, nothing lost)\n"
		  "                         or bring it back" },
	{ .words = { "guest", "list" },
	  .req = CTL_REQ_GUEST_SHOW,
	  .show = SHOW_GUESTS,
	  .help = "guest list             every guest" },
	{ .words = { "guest", "show" },
	  .nargs = 1,
	  .req = CTL_REQ_GUEST_SHOW,
	  .show = SHOW_GUEST,
	  .help = "guest show NAME        one guest" },
	{ .words = { "guest", "set" },
	  .nargs = 1,
	  .pairs = true,
	  .req = CTL_REQ_GUEST_SET,
	  .show = SHOW_NOTHING,
	  .help = "guest set NAME KEY VALUE...\n"
		  "                         change a slice live: tx.min, "
		  "tx.max, tx.weight,\n"
		  "                         tx.burst, rx.max, spread, "
		  "priority,\n"
		  "                         vlan, vlans, primary" },
	{ .words = { "guest", "add" },
	  .nargs = 1,
	  .pairs = true,
	  .req = CTL_REQ_GUEST_ADD,
	  .show = SHOW_NOTE,
	  .help = "guest add NAME device DEV mac MAC [ipv4 A]... [ipv6 A]... "
		  "[KEY VALUE]...\n"
		  "                         serve a new guest (keys as for "
		  "guest set)" },
	{ .words = { "guest", "del" },
	  .nargs = 1,
	  .req = CTL_REQ_GUEST_DEL,
	  .show = SHOW_NOTE,
	  .help = "guest del NAME         stop serving a guest" },
	{ .words = { "uplink", "add" },
	  .nargs = 1,
	  .pairs = true,
	  .req = CTL_REQ_UPLINK_ADD,
	  .show = SHOW_NOTE,
	  .help = "uplink add NAME device DEV capacity RATE [KEY VALUE]...\n"
		  "                         a new uplink (group, "
		  "monitor.type, monitor.target,\n"
		  "                         monitor.interval_ms, "
		  "monitor.missed)" },
	{ .words = { "uplink", "del" },
	  .nargs = 1,
	  .req = CTL_REQ_UPLINK_DEL,
	  .show = SHOW_NOTE,
	  .help = "uplink del NAME        drain an uplink and give its "
		  "device back" },
	{ .words = { "reload" },
	  .req = CTL_REQ_RELOAD,
	  .show = SHOW_NOTE,
	  .help = "reload                 re-read the configuration file: "
		  "all or nothing" },
	{ .words = { "save" },
	  .req = CTL_REQ_SAVE,
	  .show = SHOW_NOTE,
	  .help = "save                   write the running configuration "
		  "to the file" },
	{ .words = { "rebalance" },
	  .req = CTL_REQ_REBALANCE,
	  .show = SHOW_NOTE,
	  .help = "rebalance              a rebalancing round now: which "
		  "guests moved, the loads" },
	{ .words = { "stats" },
	  .req = CTL_REQ_STATS,
	  .show = SHOW_STATS,
	  .help = "stats                  counters per uplink and per guest" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(void)
{
	fprintf(stderr,
		"usage: gonactl [-s SOCKET] [-j] COMMAND\n"
		"  -s SOCKET  gonad's control socket (default %s)\n"
		"  -j         print JSON\n"
		"commands:\n",
		DEFAULT_SOCKET);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(stderr, "  %s\n", commands[i].help);
	fprintf(stderr, "  %s\n", top_help);
	fprintf(stderr, "  %s\n", test_failover_help);
	exit(EXIT_USAGE);
}

static const struct command *parse(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		int n = c->words[1] ? 2 : 1;

		if (argc < n || strcmp(argv[0], c->words[0]) ||
		    (n == 2 && strcmp(argv[1], c->words[1])))
			continue;
		if (c->pairs ? argc < n + c->nargs + 2 ||
				       (argc - n - c->nargs) % 2
			     : argc != n + c->nargs) {
			fprintf(stderr,
				"gonactl: %s%s%s takes %d argument%s%s\n",
				c->words[0], n == 2 ? " " : "",
				n == 2 ? c->words[1] : "", c->nargs,
				c->nargs == 1 ? "" : "s",
				c->pairs ? " and KEY VALUE pairs" : "");
			usage();
		}
		*used = n;
		return c;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	char err[CTL_ERR_MAX + 64];
	const struct command *cmd;
	struct reply rep = { 0 };
	bool json = false;
	int opt, used, fd, r;

	while ((opt = getopt(argc, argv, "+s:jh")) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if (!strcmp(argv[0], "top"))
		return top_run(path, json, argc, argv);
	if (!strcmp(argv[0], "test"))
		return test_failover_run(path, json, argc, argv);
	cmd = parse(argc, argv, &used);
	if (!cmd) {
		fprintf(stderr, "gonactl: unknown command \"%s\"\n", argv[0]);
		usage();
	}
	fd = cli_connect(path, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "gonactl: %s\n", err);
		return EXIT_USAGE;
	}
	r = cli_ask(fd, cmd->req, argc - used, (const char *const *)argv + used,
		    &rep, err, sizeof(err));
	close(fd);
	if (r) {
		/* Refused, or a reply that makes no sense: gonad's words or
		 * ours; else the connection failed. */
		fprintf(stderr, "gonactl: %s%s\n",
			r == -EPERM || r == -EBADMSG || r == -E2BIG ||
					r == -ENOMEM
				? ""
				: "gonad ",
			err);
		cli_reply_clear(&rep);
		return r == -EPERM ? EXIT_REFUSED : EXIT_USAGE;
	}

	switch (cmd->show) {
	case SHOW_STATUS:
		show_status(stdout, &rep, json);
		break;
	case SHOW_UPLINKS:
		show_uplink_list(stdout, &rep, json);
		break;
	case SHOW_UPLINK:
		show_uplink(stdout, &rep, json);
		break;
	case SHOW_GUESTS:
		show_guest_list(stdout, &rep, json);
		break;
	case SHOW_GUEST:
		show_guest(stdout, &rep, json);
		break;
	case SHOW_STATS:
		show_stats(stdout, &rep, json);
		break;
	case SHOW_NOTE:
		show_note(stdout, &rep, json);
		break;
	case SHOW_NOTHING:
		break;
	}
	free(rep.uplinks);
	free(rep.guests);
	return fflush(stdout) == 0 ? 0 : EXIT_USAGE;
}
