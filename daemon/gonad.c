/* SPDX-License-Identifier: MIT */
/* gonad: options, start-up, the event loop and a clean stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon/gonad.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static void usage(void)
{
	fprintf(stderr,
		"usage: gonad [-dnv] [-f FILE]\n"
		"  -f FILE  configuration file (default %s)\n"
		"  -n       check the configuration, print it "
		"normalised and exit\n"
		"  -d       stay in the foreground, log to stderr\n"
		"  -v       more logging\n",
		CONF_DEFAULT_FILE);
	exit(2);
}

int ev_add(struct gonad *g, struct ev_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(g->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

int ev_mod(struct gonad *g, struct ev_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(g->epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0 ? -errno : 0;
}

void ev_del(struct gonad *g, struct ev_source *src)
{
	epoll_ctl(g->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	/* A handler may remove another source whose event is still waiting
	 * in the batch being handled: it must not run. */
	for (int i = 0; i < g->batch_n; i++)
		if (g->batch[i].data.ptr == src)
			g->batch[i].data.ptr = NULL;
}

static void on_signal(struct ev_source *src, uint32_t events)
{
	struct gonad *g = src->arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("signal %s: stopping",
				 strsignal((int)si.ssi_signo));
			g->quit = true;
		}
	}
}

static void on_timer(struct ev_source *src, uint32_t events)
{
	struct gonad *g = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0)
		state_sample(g);
}

static int setup_signals(struct gonad *g)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	g->sig = (struct ev_source){ .fd = fd, .ready = on_signal, .arg = g };
	return ev_add(g, &g->sig, EPOLLIN);
}

static int setup_timer(struct gonad *g, uint32_t interval_ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = interval_ms / 1000,
				 .tv_nsec =
					 (long)(interval_ms % 1000) * 1000000 },
	};
	int fd;

	its.it_value = its.it_interval;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -errno;
	}
	g->timer = (struct ev_source){ .fd = fd, .ready = on_timer, .arg = g };
	return ev_add(g, &g->timer, EPOLLIN);
}

static void on_delays(struct ev_source *src, uint32_t events)
{
	struct gonad *g = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0)
		state_delays_due(g);
}

/* One-shot, armed by state.c for uplink changes that wait. */
static int setup_delays(struct gonad *g)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	g->delays =
		(struct ev_source){ .fd = fd, .ready = on_delays, .arg = g };
	return ev_add(g, &g->delays, EPOLLIN);
}

static void loop(struct gonad *g)
{
	struct epoll_event evs[32];

	while (!g->quit) {
		int n = epoll_wait(g->epfd, evs, 32, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fatal("epoll_wait");
		g->batch = evs;
		g->batch_n = n;
		for (int i = 0; i < n && !g->quit; i++) {
			struct ev_source *src = evs[i].data.ptr;

			if (src)
				src->ready(src, evs[i].events);
		}
		g->batch_n = 0;
	}
}

/* -n: the whole check a start would do, admission included, then print. */
static int check_only(const char *file)
{
	struct conf_err err;
	struct conf *c;
	char msg[256];
	int r;

	r = conf_load(file, &c, &err);
	if (r) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (state_admit(c, msg, sizeof(msg))) {
		fprintf(stderr, "%s: %s\n", file, msg);
		conf_free(c);
		return 1;
	}
	conf_print(stdout, c);
	conf_free(c);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

int main(int argc, char *argv[])
{
	struct gonad g = { .conf_file = CONF_DEFAULT_FILE,
			   .epfd = -1,
			   .delays.fd = -1 };
	bool foreground = false, check = false;
	struct conf_err err;
	struct conf *c;
	int verbose = 0, opt, r;
	char msg[256];

	while ((opt = getopt(argc, argv, "df:nvh")) != -1) {
		switch (opt) {
		case 'd':
			foreground = true;
			break;
		case 'f':
			g.conf_file = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check)
		return check_only(g.conf_file);

	/* Under systemd (NOTIFY_SOCKET set) gonad neither forks nor writes to
	 * stderr; elsewhere it detaches once it is serving. */
	log_init(foreground, verbose);
	r = conf_load(g.conf_file, &c, &err);
	if (r)
		fatalx("%s", err.msg);
	if (state_admit(c, msg, sizeof(msg)))
		fatalx("%s: %s", g.conf_file, msg);
	g.started_ms = now_ms();
	g.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g.epfd < 0)
		fatal("epoll_create1");
	r = setup_signals(&g);
	if (r)
		fatalx("signals: %s", strerror(-r));
	r = setup_delays(&g);
	if (r)
		fatalx("uplink delay timer: %s", strerror(-r));
	r = qos_open(&g, c->policy.qos_backend, msg, sizeof(msg));
	if (r)
		fatalx("%s", msg);
	r = announce_open(&g, &g.announcer);
	if (r)
		fatalx("announcing moved guests: %s", strerror(-r));
	r = dp_open(&g.dp, c->daemon.pin_dir);
	if (r)
		fatalx("data path: %s", strerror(-r));
	r = state_init(&g, c);
	if (r) {
		dp_close(g.dp, false);
		fatalx("data path maps: %s", strerror(-r));
	}
	r = ctl_open(&g, &g.ctl, c->daemon.socket);
	if (r) {
		dp_close(g.dp, false);
		fatalx("control socket %s: %s", c->daemon.socket, strerror(-r));
	}
	r = nlmon_open(&g, &g.nl, state_link);
	if (!r)
		r = nlmon_resync(g.nl);
	if (!r)
		r = dp_prune(g.dp, &g);
	if (!r)
		r = setup_timer(&g, c->policy.rebalance_interval_ms);
	if (r) {
		state_detach_all(&g);
		ctl_close(&g, g.ctl);
		dp_close(g.dp, false);
		fatalx("start-up: %s", strerror(-r));
	}
	state_sample(&g);
	log_info("gonad %s serving %zu guests over %zu uplinks (config %s)",
		 PACKAGE_VERSION, g.n_guests, g.n_uplinks, g.conf_file);
	if (!foreground && !getenv("NOTIFY_SOCKET") && daemon(0, 0) < 0)
		fatal("daemon");
	notify("READY=1");

	loop(&g);

	notify("STOPPING=1");
	state_detach_all(&g);
	ctl_close(&g, g.ctl);
	nlmon_close(&g, g.nl);
	dp_close(g.dp, false);
	qos_close(&g);
	announce_close(g.announcer);
	state_fini(&g);
	conf_free(c);
	close(g.timer.fd);
	close(g.delays.fd);
	close(g.sig.fd);
	close(g.epfd);
	log_info("stopped; data path removed");
	return 0;
}
