/* SPDX-License-Identifier: MIT */
/* gonactl: reads the command line, asks gonad over the control socket and
 * prints the answer. Exit 0 done, 1 gonad refused, 2 usage or no gonad. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET "/run/gona/gonad.sock"
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define REPLY_TIMEOUT_S 10

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
		  "priority" },
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

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "gonactl: socket path %s is too long\n", path);
		exit(EXIT_USAGE);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "gonactl: cannot reach gonad at %s: %s\n", path,
			strerror(errno));
		exit(EXIT_USAGE);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void *append(void *arr, size_t *n, const void *rec, size_t size)
{
	char *a = realloc(arr, (*n + 1) * size);

	if (!a) {
		fprintf(stderr, "gonactl: out of memory\n");
		exit(EXIT_USAGE);
	}
	memcpy(a + *n * size, rec, size);
	(*n)++;
	return a;
}

/* Collect records until DONE; an ERROR reply is printed and ends gonactl. */
static void receive(int fd, struct reply *rep)
{
	static char buf[CTL_MSG_MAX];

	for (;;) {
		char err[256];
		const void *p;
		uint16_t type;
		size_t plen;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);

		if (n <= 0) {
			fprintf(stderr, "gonactl: gonad %s\n",
				n == 0		  ? "closed the connection"
				: errno == EAGAIN ? "did not answer"
						  : strerror(errno));
			exit(EXIT_USAGE);
		}
		if (n > (ssize_t)sizeof(buf) ||
		    ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
				   sizeof(err))) {
			fprintf(stderr,
				"gonactl: malformed reply from gonad: "
				"%s\n",
				n > (ssize_t)sizeof(buf) ? "too long" : err);
			exit(EXIT_USAGE);
		}
		switch (type) {
		case CTL_REP_DONE:
			return;
		case CTL_REP_ERROR:
			fprintf(stderr, "gonactl: %s\n", (const char *)p);
			exit(EXIT_REFUSED);
		case CTL_REP_STATUS:
			memcpy(&rep->status, p, sizeof(rep->status));
			rep->have_status = true;
			break;
		case CTL_REP_UPLINK:
			rep->uplinks = append(rep->uplinks, &rep->n_uplinks, p,
					      sizeof(struct ctl_uplink));
			break;
		case CTL_REP_GUEST:
			rep->guests = append(rep->guests, &rep->n_guests, p,
					     sizeof(struct ctl_guest));
			break;
		case CTL_REP_NOTE:
			snprintf(rep->note, sizeof(rep->note), "%s",
				 (const char *)p);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_SOCKET;
	static char buf[CTL_MSG_MAX];
	const struct command *cmd;
	struct reply rep = { 0 };
	bool json = false;
	int opt, used, fd;
	ssize_t len;

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
	cmd = parse(argc, argv, &used);
	if (!cmd) {
		fprintf(stderr, "gonactl: unknown command \"%s\"\n", argv[0]);
		usage();
	}
	len = ctl_req_encode(buf, sizeof(buf), cmd->req, argc - used,
			     (const char *const *)argv + used);
	if (len < 0) {
		fprintf(stderr, "gonactl: arguments too long\n");
		return EXIT_USAGE;
	}
	fd = connect_to(path);
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, "gonactl: cannot send to gonad: %s\n",
			strerror(errno));
		return EXIT_USAGE;
	}
	receive(fd, &rep);
	close(fd);

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
