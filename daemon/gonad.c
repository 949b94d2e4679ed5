/* SPDX-License-Identifier: MIT */
/* gonad: options, start-up, the event loop and a clean stop. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon/gonad.h"

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

/* systemd's STATUS= line: what gonad serves, sent when it changes. */
static void status_line(struct gonad *g)
{
	char line[sizeof(g->status_line)];
	size_t up = 0, total = 0, attached = 0;

	for (size_t i = 0; i < g->n_uplinks; i++) {
		total += g->uplinks[i].conf.name[0] != '\0';
		up += g->uplinks[i].up;
	}
	for (size_t i = 0; i < g->n_guests; i++)
		attached += g->guests[i]->attached;
	snprintf(line, sizeof(line),
		 "serving %zu of %zu guests over %zu of %zu uplinks up%s%s",
		 attached, g->n_guests, up, total,
		 g->degraded ? ", degraded" : "",
		 g->reload_error[0] ? ", last reload refused" : "");
	if (strcmp(line, g->status_line)) {
		snprintf(g->status_line, sizeof(g->status_line), "%s", line);
		svc_notify("STATUS=%s", line);
	}
}

static void reload(struct gonad *g)
{
	char msg[CONF_ERR_MAX + 128];

	svc_notify("RELOADING=1");
	reload_file(g, msg, sizeof(msg));
	status_line(g);
	svc_notify("READY=1");
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
		} else if (si.ssi_signo == SIGHUP) {
			log_info("signal %s: reloading %s",
				 strsignal((int)si.ssi_signo), g->conf_file);
			reload(g);
		}
	}
}

static void on_timer(struct ev_source *src, uint32_t events)
{
	struct gonad *g = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0) {
		nlmon_retry(g->nl);
		state_retry(g);
		state_sample(g);
		status_line(g);
	}
}

static void on_qos_tick(struct ev_source *src, uint32_t events)
{
	struct gonad *g = src->arg;
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0)
		qos_tick(g);
}

static void on_watchdog(struct ev_source *src, uint32_t events)
{
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) > 0)
		svc_notify("WATCHDOG=1");
}

static struct itimerspec every(uint64_t ms)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	its.it_value = its.it_interval;
	return its;
}

void gonad_set_interval(struct gonad *g, uint32_t ms)
{
	struct itimerspec its = every(ms);

	if (timerfd_settime(g->timer.fd, 0, &its, NULL) < 0)
		log_warn("cannot set the sampling interval to %u ms", ms);
}

/* A timer of the event loop firing every MS, in SRC. */
static int periodic(struct gonad *g, struct ev_source *src, uint64_t ms,
		    void (*ready)(struct ev_source *, uint32_t))
{
	struct itimerspec its = every(ms);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -errno;
	}
	*src = (struct ev_source){ .fd = fd, .ready = ready, .arg = g };
	return ev_add(g, src, EPOLLIN);
}

/* Pinged at half systemd's watchdog period, from the event loop itself:
 * a loop that hangs stops the pings. */
static int setup_watchdog(struct gonad *g)
{
	uint64_t ms = svc_watchdog_ms();

	g->watchdog.fd = -1;
	if (!ms)
		return 0;
	log_info("systemd watchdog: pinging every %llu ms",
		 (unsigned long long)(ms / 2 ? ms / 2 : 1));
	return periodic(g, &g->watchdog, ms / 2 ? ms / 2 : 1, on_watchdog);
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
	return periodic(g, &g->timer, interval_ms, on_timer);
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
		/* A VF that refused a guest's MAC meanwhile; VLANs VFs no
		 * longer need. */
		state_vf_refusals(g);
		sriov_settle(g);
	}
}

/* The tracing programs see every namespace's devices, and pick ours by
 * this number. */
static uint32_t netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint32_t)st.st_ino : 0;
}

/* -n: the whole check a start would do, admission included, then print. */
static int check_only(const char *file)
{
	const struct conf_guest *over;
	char msg[256], where[PATH_MAX + 16];
	struct conf_err err;
	struct conf *c;
	int r;

	r = conf_load(file, &c, &err);
	if (r) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (state_admit(c, msg, sizeof(msg), &over)) {
		fprintf(stderr, "%s: %s\n",
			conf_where(file, over ? over->line : 0, where,
				   sizeof(where)),
			msg);
		conf_free(c);
		return 1;
	}
	conf_print(stdout, c);
	conf_free(c);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char *argv[])
{
	struct gonad g = { .conf_file = CONF_DEFAULT_FILE,
			   .epfd = -1,
			   .delays.fd = -1,
			   .qos_timer.fd = -1,
			   .watchdog.fd = -1 };
	bool foreground = false, check = false, keep;
	const struct conf_guest *over;
	struct conf_err err;
	struct conf *c;
	int verbose = 0, opt, r;
	char msg[256], where[PATH_MAX + 16];

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
	if (state_admit(c, msg, sizeof(msg), &over))
		fatalx("%s: %s",
		       conf_where(g.conf_file, over ? over->line : 0, where,
				  sizeof(where)),
		       msg);
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
	/* First of all, after a restart: the LACP partners hear from us
	 * again before the data path is loaded, which may take seconds. */
	r = lacp_open(&g, c->daemon.socket);
	if (r)
		fatalx("LACP: %s", strerror(-r));
	/* Before anything is made: a kernel gona cannot run on is told so
	 * and left as it is. */
	r = dp_probe_kernel(msg, sizeof(msg));
	if (r)
		fatalx("%s", msg);
	r = qos_open(&g, c->policy.qos_backend, msg, sizeof(msg));
	if (r)
		fatalx("%s", msg);
	r = announce_open(&g, &g.announcer);
	if (r)
		fatalx("announcing moved guests: %s", strerror(-r));
	g.netns_ino = netns_ino();
	r = dp_open(&g.dp, c->daemon.pin_dir, c->daemon.max_guests);
	if (r)
		fatalx("data path: %s", strerror(-r));
	if (c->n_guests > dp_max_guests(g.dp)) {
		uint32_t room = dp_max_guests(g.dp);

		dp_close(g.dp, true);
		fatalx("%s:%d: %zu guests, more than the data path pinned "
		       "in %s has room for (%u); it keeps forwarding: start "
		       "gonad with at most that many guests, then stop it "
		       "with keep_datapath_on_stop = false (systemctl stop) "
		       "to rebuild it with daemon.max_guests",
		       g.conf_file, c->guests[room].line, c->n_guests,
		       c->daemon.pin_dir, room);
	}
	/* A data path taken over stays as it was if start-up fails: the
	 * next try takes it over again. */
	r = state_init(&g, c);
	if (r) {
		dp_close(g.dp, g.adopted);
		fatalx("data path maps: %s", strerror(-r));
	}
	r = ctl_open(&g, &g.ctl, c->daemon.socket);
	if (r) {
		dp_close(g.dp, g.adopted);
		fatalx("%s: daemon.socket %s: %s",
		       conf_where(g.conf_file, c->daemon_line, where,
				  sizeof(where)),
		       c->daemon.socket, strerror(-r));
	}
	if (c->daemon.metrics[0] &&
	    metrics_open(&g, c->daemon.metrics, &g.metrics, msg, sizeof(msg))) {
		ctl_close(&g, g.ctl);
		dp_close(g.dp, g.adopted);
		fatalx("%s: daemon.%s",
		       conf_where(g.conf_file, c->daemon_line, where,
				  sizeof(where)),
		       msg);
	}
	r = nlmon_open(&g, &g.nl, state_link);
	if (!r)
		r = nlmon_resync(g.nl);
	if (!r)
		carrier_open(&g, &g.carrier);
	if (!r && (g.adopted || dp_inherited(g.dp)))
		state_release_leftovers(&g);
	if (!r)
		r = dp_prune(g.dp, &g);
	if (!r)
		r = setup_timer(&g, c->policy.rebalance_interval_ms);
	if (!r && g.qos->tick_ms)
		r = periodic(&g, &g.qos_timer, g.qos->tick_ms, on_qos_tick);
	if (!r)
		r = setup_watchdog(&g);
	if (r) {
		lacp_close(&g, g.adopted);
		if (g.adopted)
			state_leave_all(&g);
		else
			state_detach_all(&g);
		ctl_close(&g, g.ctl);
		metrics_close(&g, g.metrics);
		carrier_close(g.carrier, g.adopted);
		dp_close(g.dp, g.adopted);
		fatalx("start-up: %s", strerror(-r));
	}
	state_sample(&g);
	if (g.adopted)
		log_info("took over the data path pinned in %s: %u guests and "
			 "%u uplinks served without a break, counters kept",
			 c->daemon.pin_dir, g.adopted_guests,
			 g.adopted_uplinks);
	log_info("gonad %s serving %zu guests over %zu uplinks (config %s)",
		 PACKAGE_VERSION, g.n_guests, g.n_uplinks, g.conf_file);
	if (!foreground && !svc_managed() && daemon(0, 0) < 0)
		fatal("daemon");
	status_line(&g);
	svc_notify("READY=1");

	loop(&g);

	/* A restart (systemctl restart, or the operator's wish) leaves the
	 * data path forwarding for the next gonad, which takes it over. */
	keep = g.conf->daemon.keep_datapath_on_stop || svc_restarting();
	svc_notify("STOPPING=1\nSTATUS=%s",
		   keep ? "stopping; the data path stays" : "stopping");
	lacp_close(&g, keep);
	if (keep)
		state_leave_all(&g);
	else
		state_detach_all(&g);
	ctl_close(&g, g.ctl);
	metrics_close(&g, g.metrics);
	carrier_close(g.carrier, keep);
	nlmon_close(&g, g.nl);
	dp_close(g.dp, keep);
	qos_close(&g);
	announce_close(g.announcer);
	state_fini(&g);
	conf_free(g.conf);
	close(g.timer.fd);
	close(g.delays.fd);
	if (g.qos_timer.fd >= 0)
		close(g.qos_timer.fd);
	if (g.watchdog.fd >= 0)
		close(g.watchdog.fd);
	close(g.sig.fd);
	close(g.epfd);
	if (keep)
		log_info("stopped; the data path keeps forwarding for the "
			 "next gonad");
	else
		log_info("stopped; data path removed");
	return 0;
}
