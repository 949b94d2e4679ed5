/* SPDX-License-Identifier: MIT */
/* gonactl top: the uplinks and guests with their current rates against
 * their slices, redrawn every few seconds like top(1) until q. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define TOP_EXIT_REFUSED 1
#define TOP_EXIT_USAGE 2
#define TOP_DELAY_MIN 0.1
#define TOP_DELAY_MAX 86400.0
#define TOP_CELL 32
#define TOP_UPLINK_COLS 8
#define TOP_GUEST_COLS 9
#define FRAME_HEADER_LINES 3 /* above the tables */

/* ANSI: alternate screen and hidden cursor on, and off again; cursor home,
 * clear to the end of the line and of the screen; reverse video. */
#define ESC_ENTER "\033[?1049h\033[?25l\033[H\033[2J"
#define ESC_LEAVE "\033[?25h\033[?1049l"
#define ESC_HOME "\033[H"
#define ESC_EOL "\033[K"
#define ESC_EOS "\033[J"
#define ESC_REV "\033[7m"
#define ESC_NORM "\033[m"

#define TOP_SYNOPSIS "top [-d SECONDS] [-n COUNT]"
#define TOP_NO_JSON                                                          \
	"-j does not apply: top redraws a table on the terminal; for JSON, " \
	"poll gonactl -j stats"

const char top_help[] = TOP_SYNOPSIS
	"\n"
	"                         uplinks and guests with their rates "
	"against their\n"
	"                         slices, redrawn every SECONDS (default 1) "
	"until q";

struct top {
	const char *path;
	int fd; /* the control connection, kept for every frame */
	int sfd; /* signalfd: quit, window size, stop and continue */
	double delay; /* seconds between frames */
	unsigned long count; /* frames to draw; 0: until told to quit */
	bool screen; /* stdout is a terminal: draw in place with escapes */
	bool keys; /* stdin is a terminal as well: read q from it */
	bool raw; /* the terminal's modes are changed: restore them */
	bool alt; /* the alternate screen is on */
	struct termios saved;
	sigset_t old_mask;
	struct reply rep; /* the last answers */
	char *frame; /* the last frame drawn, for a redraw at a new size */
	size_t frame_len;
	size_t heads[2]; /* its lines that head a table */
	char err[CTL_ERR_MAX + 64]; /* what went wrong, after "gonactl: " */
};

static void top_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void top_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gonactl: top: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: gonactl [-s SOCKET] " TOP_SYNOPSIS "\n", stderr);
	exit(TOP_EXIT_USAGE);
}

static int parse_delay(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < TOP_DELAY_MIN ||
	    d > TOP_DELAY_MAX)
		return -EINVAL;
	*out = d;
	return 0;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n == 0)
		return -EINVAL;
	*out = n;
	return 0;
}

/* Terminal */

static void top_write(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

static void top_puts(const char *s)
{
	top_write(s, strlen(s));
}

static void term_size(const struct top *t, int *cols, int *rows)
{
	struct winsize ws;

	*cols = *rows = 0;
	if (!t->screen)
		return;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col &&
	    ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	} else {
		*cols = 80;
		*rows = 24;
	}
}

/* Keys one at a time and unechoed; ISIG stays, so Ctrl-C and Ctrl-Z still
 * send their signals, which the loop turns into quitting and stopping. */
static int term_enter(struct top *t)
{
	if (t->keys && !t->raw) {
		struct termios tio = t->saved;

		tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) < 0)
			return -errno;
		t->raw = true;
	}
	if (t->screen && !t->alt) {
		top_puts(ESC_ENTER);
		fflush(stdout);
		t->alt = true;
	}
	return 0;
}

/* Safe to call at any point, any number of times. */
static void term_leave(struct top *t)
{
	if (t->alt) {
		top_puts(ESC_LEAVE);
		fflush(stdout);
		t->alt = false;
	}
	if (t->raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
		t->raw = false;
	}
}

/* Control connection */

/* Send request REQ without arguments and add what comes back to t->rep.
 * On failure t->err says what happened; -EPERM: gonad refused. */
static int top_ask(struct top *t, uint16_t req)
{
	char why[CTL_ERR_MAX];
	int r = cli_ask(t->fd, req, 0, NULL, &t->rep, why, sizeof(why));

	if (r == -EPERM || r == -EBADMSG || r == -ENOMEM)
		snprintf(t->err, sizeof(t->err), "%s", why);
	else if (r)
		snprintf(t->err, sizeof(t->err), "gonad went away: %s", why);
	return r;
}

/* The three read-only requests: status, every uplink, every guest. */
static int top_fetch(struct top *t)
{
	int r;

	cli_reply_clear(&t->rep);
	r = top_ask(t, CTL_REQ_STATUS);
	if (!r)
		r = top_ask(t, CTL_REQ_UPLINK_SHOW);
	if (!r)
		r = top_ask(t, CTL_REQ_GUEST_SHOW);
	return r;
}

/* Frame */

/* Busiest first; equal rates by name, so rows do not jump about. */
static int by_tx_rate(const void *a, const void *b)
{
	const struct ctl_guest *x = a, *y = b;

	if (x->c.tx_bps != y->c.tx_bps)
		return x->c.tx_bps > y->c.tx_bps ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* What the guest's home uplinks can carry, 0 if it has none. */
static uint64_t homes_capacity(const struct reply *rep,
			       const struct ctl_guest *g)
{
	char homes[sizeof(g->homes)], *save = NULL;
	uint64_t cap = 0;

	memcpy(homes, g->homes, sizeof(homes));
	for (char *s = strtok_r(homes, ",", &save); s;
	     s = strtok_r(NULL, ",", &save))
		for (size_t i = 0; i < rep->n_uplinks; i++)
			if (!strcmp(rep->uplinks[i].name, s))
				cap += rep->uplinks[i].capacity;
	return cap;
}

/* Three summary lines, as top(1) starts with. */
static void frame_header(FILE *f, const struct reply *rep)
{
	const struct ctl_status *s = &rep->status;
	uint64_t up_s = s->uptime_ms / 1000, tx = 0, rx = 0;
	char clock[16] = "", a[32], b[32], c[32];
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	for (size_t i = 0; i < rep->n_uplinks; i++) {
		tx += rep->uplinks[i].c.tx_bps;
		rx += rep->uplinks[i].c.rx_bps;
	}
	fprintf(f,
		"gonactl top - %s, gonad %s pid %u up %lluh%02llum%02llus, "
		"backend %s\n",
		clock, s->version, s->pid, (unsigned long long)(up_s / 3600),
		(unsigned long long)(up_s / 60 % 60),
		(unsigned long long)(up_s % 60), s->backend);
	fprintf(f, "Uplinks: %u/%u up, %s capacity up, tx %s, rx %s\n",
		s->uplinks_up, s->uplinks_total,
		show_rate(s->capacity_up, a, sizeof(a)),
		show_rate(tx, b, sizeof(b)), show_rate(rx, c, sizeof(c)));
	fprintf(f, "Guests:  %u/%u attached, %s guaranteed, degraded ",
		s->guests_attached, s->guests_total,
		show_rate(s->guaranteed, a, sizeof(a)));
	if (s->degraded)
		fprintf(f, "yes: %s kept (%s)\n",
			show_rate(s->kept, b, sizeof(b)), s->degrade);
	else
		fprintf(f, "no\n");
}

static int frame_uplinks(FILE *f, const struct reply *rep)
{
	static const char *const head[TOP_UPLINK_COLS] = { "UPLINK", "DEVICE",
							   "STATE",  "CAPACITY",
							   "TX",     "RX",
							   "LOAD",   "GUESTS" };
	size_t n = rep->n_uplinks;
	char(*cell)[TOP_UPLINK_COLS][TOP_CELL] = calloc(n + 1, sizeof(*cell));
	const char **rows = calloc((n + 1) * TOP_UPLINK_COLS, sizeof(*rows));

	if (!cell || !rows) {
		free(cell);
		free(rows);
		return -ENOMEM;
	}
	memcpy(rows, head, sizeof(head));
	for (size_t i = 0; i < n; i++) {
		const struct ctl_uplink *u = &rep->uplinks[i];
		const char **row = rows + (i + 1) * TOP_UPLINK_COLS;
		char(*c)[TOP_CELL] = cell[i];

		row[0] = u->name;
		row[1] = u->device;
		row[2] = show_uplink_state(u);
		row[3] = show_rate(u->capacity, c[3], TOP_CELL);
		row[4] = show_rate(u->c.tx_bps, c[4], TOP_CELL);
		row[5] = show_rate(u->c.rx_bps, c[5], TOP_CELL);
		row[6] = show_percent(u->load_bps, u->capacity, c[6], TOP_CELL);
		snprintf(c[7], TOP_CELL, "%u", u->n_guests);
		row[7] = c[7];
	}
	show_table(f, TOP_UPLINK_COLS, n + 1, rows);
	free(cell);
	free(rows);
	return 0;
}

/* USE: the tx rate as a part of tx.max ("60%max"), or of the home uplinks'
 * capacity when the guest has no ceiling ("3%cap"). */
static const char *guest_use(const struct reply *rep, const struct ctl_guest *g,
			     char *buf, size_t len)
{
	uint64_t whole = g->tx_max ? g->tx_max : homes_capacity(rep, g);
	char pct[TOP_CELL];

	if (!whole)
		return "-";
	snprintf(buf, len, "%s%s",
		 show_percent(g->c.tx_bps, whole, pct, sizeof(pct)),
		 g->tx_max ? "max" : "cap");
	return buf;
}

static int frame_guests(FILE *f, struct reply *rep)
{
	static const char *const head[TOP_GUEST_COLS] = {
		"GUEST", "HOME", "TX",	   "TX.MIN", "TX.MAX",
		"USE",	 "RX",	 "RX.MAX", "DROPS"
	};
	size_t n = rep->n_guests;
	char(*cell)[TOP_GUEST_COLS][TOP_CELL] = calloc(n + 1, sizeof(*cell));
	const char **rows = calloc((n + 1) * TOP_GUEST_COLS, sizeof(*rows));

	if (!cell || !rows) {
		free(cell);
		free(rows);
		return -ENOMEM;
	}
	if (n)
		qsort(rep->guests, n, sizeof(*rep->guests), by_tx_rate);
	memcpy(rows, head, sizeof(head));
	for (size_t i = 0; i < n; i++) {
		const struct ctl_guest *g = &rep->guests[i];
		const char **row = rows + (i + 1) * TOP_GUEST_COLS;
		char(*c)[TOP_CELL] = cell[i];

		row[0] = g->name;
		row[1] = g->homes[0] ? g->homes : "-";
		row[2] = show_rate(g->c.tx_bps, c[2], TOP_CELL);
		row[3] = g->tx_min ? show_rate(g->tx_min, c[3], TOP_CELL) : "-";
		row[4] = g->tx_max ? show_rate(g->tx_max, c[4], TOP_CELL) : "-";
		row[5] = guest_use(rep, g, c[5], TOP_CELL);
		row[6] = show_rate(g->c.rx_bps, c[6], TOP_CELL);
		row[7] = g->rx_max ? show_rate(g->rx_max, c[7], TOP_CELL) : "-";
		snprintf(c[8], TOP_CELL, "%llu",
			 (unsigned long long)show_drops_total(&g->c));
		row[8] = c[8];
	}
	show_table(f, TOP_GUEST_COLS, n + 1, rows);
	free(cell);
	free(rows);
	return 0;
}

/* Lay out the last answers as text: the summary lines, the uplinks, the
 * guests busiest first; no blank line inside, so in a pipe a blank line
 * ends a frame. */
static int frame_render(struct top *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		return -errno;
	frame_header(f, &t->rep);
	r = frame_uplinks(f, &t->rep);
	if (!r)
		r = frame_guests(f, &t->rep);
	if (fclose(f) || r) {
		free(text);
		return r ? r : -ENOMEM;
	}
	free(t->frame);
	t->frame = text;
	t->frame_len = len;
	t->heads[0] = FRAME_HEADER_LINES;
	t->heads[1] = FRAME_HEADER_LINES + 1 + t->rep.n_uplinks;
	return 0;
}

/* How many bytes of LINE (LEN long) fill at most COLS columns, and in
 * *USED how many columns they take: UTF-8 continuation bytes take none. */
static size_t fit(const char *line, size_t len, int cols, int *used)
{
	size_t i;

	*used = 0;
	for (i = 0; i < len; i++) {
		if (((unsigned char)line[i] & 0xc0) == 0x80)
			continue;
		if (*used == cols)
			break;
		(*used)++;
	}
	return i;
}

/* Write the last frame. On the screen: over the previous one, each line
 * cut to the width, lines past the height left out, no newline after the
 * last so nothing scrolls (FINAL: below the shell's prompt instead, whole
 * lines). In a pipe: as it is, and a blank line. */
static void frame_show(struct top *t, bool final)
{
	const char *p = t->frame, *end = t->frame + t->frame_len;
	int cols, rows;

	if (!t->screen) {
		top_write(t->frame, t->frame_len);
		top_puts("\n");
		fflush(stdout);
		return;
	}
	term_size(t, &cols, &rows);
	if (!final)
		top_puts(ESC_HOME);
	for (size_t i = 0; p < end && (final || i < (size_t)rows); i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int used;
		size_t cut = fit(p, len, cols, &used);
		bool head = !final && (i == t->heads[0] || i == t->heads[1]);

		if (i && !final)
			top_puts("\n");
		if (head)
			top_puts(ESC_REV);
		top_write(p, cut);
		if (head)
			top_puts(ESC_NORM);
		if (final)
			top_puts("\n");
		else if (used < cols)
			top_puts(ESC_EOL); /* on a full line it would erase
					    * the last character */
		p = nl ? nl + 1 : end;
	}
	if (!final)
		top_puts(ESC_EOS);
	fflush(stdout);
}

/* Loop */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int setup_signals(struct top *t)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (t->screen)
		sigaddset(&mask, SIGWINCH);
	if (t->keys) {
		sigaddset(&mask, SIGTSTP);
		sigaddset(&mask, SIGCONT);
	}
	if (sigprocmask(SIG_BLOCK, &mask, &t->old_mask) < 0)
		return -errno;
	t->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return t->sfd < 0 ? -errno : 0;
}

enum top_event {
	TOP_GO_ON,
	TOP_QUIT,
	TOP_REDRAW,
};

static enum top_event on_signals(struct top *t)
{
	struct signalfd_siginfo si;
	enum top_event ev = TOP_GO_ON;

	while (read(t->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
		case SIGHUP:
			return TOP_QUIT;
		case SIGTSTP:
			/* Give the shell its terminal back while stopped. */
			term_leave(t);
			kill(getpid(), SIGSTOP);
			if (term_enter(t))
				return TOP_QUIT;
			ev = TOP_REDRAW;
			break;
		case SIGWINCH:
		case SIGCONT:
			ev = TOP_REDRAW;
			break;
		}
	}
	return ev;
}

static enum top_event on_keys(void)
{
	char buf[64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return TOP_GO_ON;
	if (n <= 0) /* the terminal is gone */
		return TOP_QUIT;
	if (memchr(buf, 'q', (size_t)n) || memchr(buf, 'Q', (size_t)n))
		return TOP_QUIT;
	return TOP_GO_ON;
}

/* Frames until -n COUNT, q or a signal; 0, or what went wrong. */
static int top_loop(struct top *t)
{
	uint64_t step = (uint64_t)(t->delay * 1e9), next = mono_ns();
	unsigned long frames = 0;
	int r;

	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = t->sfd, .events = POLLIN },
			{ .fd = t->fd, .events = POLLIN },
			{ .fd = t->keys ? STDIN_FILENO : -1, .events = POLLIN },
		};
		enum top_event ev = TOP_GO_ON;
		uint64_t now = mono_ns();
		struct timespec ts;

		if (now >= next) {
			r = top_fetch(t);
			if (r)
				return r;
			r = frame_render(t);
			if (r) {
				snprintf(t->err, sizeof(t->err),
					 "out of memory");
				return r;
			}
			frame_show(t, false);
			if (t->count && ++frames >= t->count)
				return 0;
			/* On the beat; after a stall, from now. */
			next += step;
			if (next <= now)
				next = now + step;
			continue;
		}
		ts.tv_sec = (time_t)((next - now) / 1000000000u);
		ts.tv_nsec = (long)((next - now) % 1000000000u);
		if (ppoll(fds, 3, &ts, NULL) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			snprintf(t->err, sizeof(t->err), "top: poll: %s",
				 strerror(-r));
			return r;
		}
		/* gonad says nothing unasked: this is it closing. */
		if (fds[1].revents) {
			char c;

			if (recv(t->fd, &c, 1, MSG_DONTWAIT) > 0) {
				snprintf(t->err, sizeof(t->err),
					 "malformed reply from gonad: a "
					 "message nobody asked for");
				return -EBADMSG;
			}
			snprintf(t->err, sizeof(t->err),
				 "gonad went away: closed the connection");
			return -ECONNRESET;
		}
		if (fds[0].revents)
			ev = on_signals(t);
		if (ev != TOP_QUIT && fds[2].revents)
			ev = on_keys() == TOP_QUIT ? TOP_QUIT : ev;
		if (ev == TOP_QUIT)
			return 0;
		if (ev == TOP_REDRAW && t->frame) {
			if (t->alt)
				top_puts(ESC_HOME ESC_EOS);
			frame_show(t, false);
		}
	}
}

int top_run(const char *path, bool json, int argc, char **argv)
{
	struct top t = { .path = path, .fd = -1, .sfd = -1, .delay = 1.0 };
	int opt, r, status = 0;

	if (json)
		top_usage(TOP_NO_JSON);
	opterr = 0;
	optind = 0; /* glibc: start over on this argv, whose [0] is "top" */
	while ((opt = getopt(argc, argv, "+d:n:j")) != -1) {
		switch (opt) {
		case 'd':
			if (parse_delay(optarg, &t.delay))
				top_usage("-d takes SECONDS from 0.1 to 86400, "
					  "not \"%s\"",
					  optarg);
			break;
		case 'n':
			if (parse_count(optarg, &t.count))
				top_usage("-n takes a COUNT of frames from 1, "
					  "not \"%s\"",
					  optarg);
			break;
		case 'j':
			top_usage(TOP_NO_JSON);
		default:
			if (optopt == 'd' || optopt == 'n')
				top_usage("-%c needs a value", optopt);
			top_usage("unknown option -%c", optopt);
		}
	}
	if (optind < argc)
		top_usage("unexpected argument \"%s\"", argv[optind]);

	t.fd = cli_connect(t.path, t.err, sizeof(t.err));
	if (t.fd < 0) {
		fprintf(stderr, "gonactl: %s\n", t.err);
		return TOP_EXIT_USAGE;
	}
	t.screen = isatty(STDOUT_FILENO);
	t.keys = t.screen && isatty(STDIN_FILENO) &&
		 tcgetattr(STDIN_FILENO, &t.saved) == 0;
	sigprocmask(SIG_BLOCK, NULL, &t.old_mask);
	r = setup_signals(&t);
	if (r)
		snprintf(t.err, sizeof(t.err), "top: signals: %s",
			 strerror(-r));
	else if ((r = term_enter(&t)))
		snprintf(t.err, sizeof(t.err), "top: terminal: %s",
			 strerror(-r));
	else
		r = top_loop(&t);
	term_leave(&t);
	/* After -n COUNT the last frame stays in view, as top -n leaves it. */
	if (!r && t.screen && t.count && t.frame)
		frame_show(&t, true);
	if (r) {
		fprintf(stderr, "gonactl: %s\n", t.err);
		status = r == -EPERM ? TOP_EXIT_REFUSED : TOP_EXIT_USAGE;
	}
	if (t.sfd >= 0)
		close(t.sfd);
	sigprocmask(SIG_SETMASK, &t.old_mask, NULL);
	close(t.fd);
	cli_reply_clear(&t.rep);
	free(t.frame);
	if (fflush(stdout) && !status)
		status = TOP_EXIT_USAGE;
	return status;
}
