/* SPDX-License-Identifier: MIT */
/* gonactl test failover: a failover self-test on a live driver domain,
 * against the operator's own switch and cables. gonad serves a probe
 * guest of its own (daemon/selftest.c) on a veth pair made here, whose
 * inner end lives in a network namespace that exists only as long as
 * this gonactl does (a child holds it and is killed with us). iperf3
 * streams UDP from there to the operator's iperf3 server and back (-R);
 * mid-stream the uplink carrying the guest fails (carrier: as a carrier
 * loss; drain: the admin drain) and comes back. Per uplink, direction and
 * trial: the packets lost and the outage they make, the time gonad took
 * to take the failure (to move the guest and announce it, told apart from
 * a stall elsewhere on the path), the time it took to fail back, and
 * whether traffic towards the guest resumed after it (the switch
 * relearned where the guest is). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define TF_DEV "gonatest0" /* gonad's end of the veth pair */
#define TF_GUEST "failover-test" /* = CONF_TEST_GUEST */
#define TF_LEN 100 /* UDP payload bytes: small datagrams */
#define TF_SECS 5 /* one stream */
#define TF_FAIL_MS 1500 /* into the stream: the failure */
#define TF_BACK_MS 3000 /* ... and the return */
#define TF_MAX_RESULTS 256

const char test_failover_help[] =
	"test failover --server ADDR [--uplinks U,U...] [--rate R] "
	"[--trials N]\n"
	"                [--mode carrier|drain] [--port P] [--ipv4 A] "
	"[--ipv6 A]\n"
	"                [--gateway A] [--mac MAC] [--vlan VID]\n"
	"                         fail each uplink under an iperf3 stream of "
	"a probe guest\n"
	"                         and measure the outage and the failback";

struct tf_result {
	char uplink[CTL_NAME_MAX];
	const char *dir; /* "tx" (guest to server) or "rx" */
	unsigned int trial;
	long lost, sent;
	double outage_ms;
	/* From asking gonad to fail the uplink to its answer, the guest moved
	 * and announced by then; -1: not asked, or refused. */
	double failover_ms;
	double failback_ms; /* -1: not back within 3 s */
	int relearned; /* rx: traffic to the guest after the failback */
	char error[200];
};

struct tf {
	const char *path;
	bool json;
	/* options */
	const char *server, *mode, *ipv4, *ipv6, *gateway, *mac, *vlan;
	char uplinks[CTL_HOMES_MAX][CTL_NAME_MAX];
	size_t n_uplinks;
	uint64_t rate; /* bit/s */
	unsigned int trials, port;
	int af; /* of the server */
	/* what it made, undone at the end */
	int fd; /* the control connection: the test lives as long */
	pid_t holder; /* holds the namespace */
	int nsfd;
	pid_t iperf;
	char addr[INET6_ADDRSTRLEN]; /* the guest's, in the server's family */
	struct tf_result res[TF_MAX_RESULTS];
	size_t n_res;
};

static volatile sig_atomic_t tf_stop;

static void on_signal(int sig)
{
	tf_stop = sig;
}

static void tf_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "gonactl: test failover: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: gonactl [-s SOCKET] [-j] %s\n",
		test_failover_help);
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double now_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sleep until T (now_ms); false if a signal asks to stop. */
static bool sleep_until(uint64_t t)
{
	uint64_t now;

	while (!tf_stop && (now = now_ms()) < t) {
		struct timespec ts = { .tv_sec = (time_t)((t - now) / 1000),
				       .tv_nsec = (long)((t - now) % 1000) *
						  1000000 };

		nanosleep(&ts, NULL);
	}
	return !tf_stop;
}

/* "20M", "1.5G", "800k", "64000": bit/s. */
static int parse_rate(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1;

	if (end == s || v <= 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		mult = 1e3;
	else if (*end == 'm' || *end == 'M')
		mult = 1e6;
	else if (*end == 'g' || *end == 'G')
		mult = 1e9;
	else if (*end)
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	v *= mult;
	if (v < 8000 || v > 10e9)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static bool in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char dir[4096];

	while (p && *p) {
		size_t n = strcspn(p, ":");

		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, prog);
		if (n && !access(dir, X_OK))
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Run ARGV (in the namespace NSFD, unless -1) with its output in OUT;
 * its exit status, or -errno. */
static int run(int nsfd, char *const argv[], char *out, size_t outlen)
{
	int pfd[2], st;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* run(), and a failure said as "WHAT: OUTPUT". */
static int must(int nsfd, const char *what, char *const argv[], char *err,
		size_t errlen)
{
	char out[1024];
	int r = run(nsfd, argv, out, sizeof(out));

	if (r) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, errlen, "%s: %s", what, out[0] ? out : "failed");
		return -EIO;
	}
	return 0;
}

static int ask(struct tf *t, uint16_t req, int argc, const char *const *argv,
	       struct reply *rep, char *err, size_t errlen)
{
	cli_reply_clear(rep);
	return cli_ask(t->fd, req, argc, argv, rep, err, errlen);
}

/* The probe guest's homes ("" none) and whether it is attached. */
static int guest_state(struct tf *t, char *homes, size_t len, bool *attached)
{
	const char *argv[] = { TF_GUEST };
	struct reply rep = { 0 };
	char err[CTL_ERR_MAX];
	int r;

	r = ask(t, CTL_REQ_GUEST_SHOW, 1, argv, &rep, err, sizeof(err));
	if (!r && rep.n_guests) {
		snprintf(homes, len, "%s", rep.guests[0].homes);
		if (attached)
			*attached = rep.guests[0].attached;
	} else if (!r) {
		r = -ENOENT;
	}
	cli_reply_clear(&rep);
	return r;
}

/* Until the probe guest is on UPLINK, for up to MS; how long it took (ms,
 * -1 if it did not get there). */
static double wait_home(struct tf *t, const char *uplink, unsigned int ms)
{
	double t0 = now_ms_f();
	char homes[256];

	while (!tf_stop && now_ms_f() - t0 < ms) {
		if (!guest_state(t, homes, sizeof(homes), NULL) &&
		    !strcmp(homes, uplink))
			return now_ms_f() - t0;
		usleep(1000);
	}
	return -1;
}

/* The namespace: a child that makes it and sleeps in it, killed when we
 * end, whatever ends us; the namespace and the veth end in it go with
 * it. */
static int make_namespace(struct tf *t, char *err, size_t errlen)
{
	char path[64], c = 0;
	int pfd[2];

	if (pipe(pfd)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	t->holder = fork();
	if (t->holder < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (!t->holder) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		c = unshare(CLONE_NEWNET) ? '!' : '1';
		if (write(pfd[1], &c, 1) != 1 || c != '1')
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1 || c != '1') {
		close(pfd[0]);
		snprintf(err, errlen,
			 "cannot make a network namespace (run as root)");
		return -EPERM;
	}
	close(pfd[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)t->holder);
	t->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->nsfd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The probe guest's interface: the veth pair, its inner end with the
 * guest's MAC and address and a route to the server. */
static int make_interface(struct tf *t, const struct ctl_guest *gu, char *err,
			  size_t errlen)
{
	char mac[18], pid[16], addr[INET6_ADDRSTRLEN + 8];
	bool six = t->af == AF_INET6;
	int r;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", gu->mac[0],
		 gu->mac[1], gu->mac[2], gu->mac[3], gu->mac[4], gu->mac[5]);
	snprintf(pid, sizeof(pid), "%d", (int)t->holder);
	snprintf(addr, sizeof(addr), "%s/%s", t->addr, six ? "128" : "32");
	{
		char *const add[] = { "ip",   "link",	 "add",	 TF_DEV,
				      "type", "veth",	 "peer", "name",
				      "eth0", "address", mac,	 "netns",
				      pid,    NULL };
		char *const up[] = { "ip", "link", "set", TF_DEV, "up", NULL };
		char *const lo[] = { "ip", "link", "set", "lo", "up", NULL };
		char *const eth[] = { "ip", "link", "set", "eth0", "up", NULL };
		char *const ad4[] = { "ip",  "addr", "add", addr,
				      "dev", "eth0", NULL };
		char *const ad6[] = { "ip",  "addr", "add",   addr,
				      "dev", "eth0", "nodad", NULL };
		char *const rt[] = { "ip",  "route", "add", (char *)t->server,
				     "dev", "eth0",  NULL };
		char *const gw[] = {
			"ip",	  "route",
			"add",	  (char *)t->server,
			"via",	  (char *)(t->gateway ? t->gateway : ""),
			"dev",	  "eth0",
			"onlink", NULL
		};

		if ((r = must(-1, "the probe guest's veth pair", add, err,
			      errlen)) ||
		    (r = must(-1, TF_DEV, up, err, errlen)) ||
		    (r = must(t->nsfd, "lo", lo, err, errlen)) ||
		    (r = must(t->nsfd, "eth0", eth, err, errlen)) ||
		    (r = must(t->nsfd, "the probe guest's address",
			      six ? ad6 : ad4, err, errlen)) ||
		    (r = must(t->nsfd, "the route to the server",
			      t->gateway ? gw : rt, err, errlen)))
			return r;
	}
	return 0;
}

/* iperf3 from the probe guest, its JSON into OUTFD. */
static pid_t start_iperf(struct tf *t, bool reverse, int outfd)
{
	char rate[32], port[16], secs[16], len[16];
	pid_t pid;

	snprintf(rate, sizeof(rate), "%llu", (unsigned long long)t->rate);
	snprintf(port, sizeof(port), "%u", t->port);
	snprintf(secs, sizeof(secs), "%d", TF_SECS);
	snprintf(len, sizeof(len), "%d", TF_LEN);
	pid = fork();
	if (pid)
		return pid;
	{
		char *const argv[] = { "iperf3",
				       "-c",
				       (char *)t->server,
				       "-p",
				       port,
				       "-u",
				       "-b",
				       rate,
				       "-l",
				       len,
				       "-t",
				       secs,
				       "-J",
				       "--connect-timeout",
				       "3000",
				       reverse ? "-R" : NULL,
				       NULL };

		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* -J: what iperf3 has to say is in its JSON; stderr would
		 * only break that. */
		dup2(outfd, 1);
		if (null >= 0)
			dup2(null, 2);
		if (setns(t->nsfd, CLONE_NEWNET))
			_exit(126);
		execvp("iperf3", argv);
		_exit(127);
	}
}

struct iperf_out {
	long lost, sent, last_packets;
	int last_interval;
	char error[160];
};

static void iperf_field(const char *path, const char *tok, size_t len,
			void *arg)
{
	struct iperf_out *o = arg;
	int i, end = 0;

	if (!strcmp(path, "end.sum.lost_packets"))
		o->lost = strtol(tok, NULL, 10);
	else if (!strcmp(path, "end.sum_sent.packets"))
		o->sent = strtol(tok, NULL, 10);
	else if (!strcmp(path, "error"))
		snprintf(o->error, sizeof(o->error), "%.*s", (int)len, tok);
	else if (sscanf(path, "intervals[%d]%n", &i, &end) == 1 && end &&
		 !strcmp(path + end, ".sum.packets") && i >= o->last_interval) {
		o->last_interval = i;
		o->last_packets = strtol(tok, NULL, 10);
	}
}

/* The stream's result from its JSON in FD. */
static int read_iperf(int fd, struct iperf_out *o)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf;
	int r;

	memset(o, 0, sizeof(*o));
	o->lost = o->sent = -1;
	if (size <= 0) {
		snprintf(o->error, sizeof(o->error), "iperf3 said nothing");
		return -EIO;
	}
	buf = malloc((size_t)size);
	if (!buf || pread(fd, buf, (size_t)size, 0) != size) {
		free(buf);
		snprintf(o->error, sizeof(o->error),
			 "cannot read iperf3's "
			 "output");
		return -EIO;
	}
	r = jr_walk(buf, (size_t)size, iperf_field, o);
	free(buf);
	if (r && !o->error[0])
		snprintf(o->error, sizeof(o->error),
			 "iperf3's output is not JSON");
	return o->error[0] ? -EIO : 0;
}

/* One stream through UPLINK with its failure and return. */
static void trial(struct tf *t, const char *uplink, bool reverse,
		  unsigned int n, struct tf_result *res)
{
	const char *place[] = { TF_GUEST, "primary", uplink };
	const char *down[] = { uplink, t->mode, "down" };
	const char *up[] = { uplink, t->mode, "up" };
	struct reply rep = { 0 };
	char err[CTL_ERR_MAX];
	struct iperf_out o;
	uint64_t t0;
	int ofd, st;

	memset(res, 0, sizeof(*res));
	snprintf(res->uplink, sizeof(res->uplink), "%s", uplink);
	res->dir = reverse ? "rx" : "tx";
	res->trial = n;
	res->lost = res->sent = -1;
	res->failover_ms = -1;
	res->failback_ms = -1;
	res->relearned = -1;
	if (ask(t, CTL_REQ_GUEST_SET, 3, place, &rep, err, sizeof(err)) ||
	    wait_home(t, uplink, 3000) < 0) {
		snprintf(res->error, sizeof(res->error),
			 "the probe guest could not be placed on %s%s%s",
			 uplink, err[0] ? ": " : "", err);
		cli_reply_clear(&rep);
		return;
	}
	ofd = memfd_create("iperf3", MFD_CLOEXEC);
	if (ofd < 0) {
		snprintf(res->error, sizeof(res->error), "memfd: %s",
			 strerror(errno));
		return;
	}
	t0 = now_ms();
	t->iperf = start_iperf(t, reverse, ofd);
	if (t->iperf < 0) {
		snprintf(res->error, sizeof(res->error), "fork: %s",
			 strerror(errno));
		close(ofd);
		return;
	}
	err[0] = '\0';
	if (sleep_until(t0 + TF_FAIL_MS)) {
		double f0 = now_ms_f();

		if (!ask(t, CTL_REQ_TEST_FAIL, 3, down, &rep, err, sizeof(err)))
			res->failover_ms = now_ms_f() - f0;
	}
	if (res->failover_ms >= 0 && sleep_until(t0 + TF_BACK_MS) &&
	    !ask(t, CTL_REQ_TEST_FAIL, 3, up, &rep, err, sizeof(err)))
		res->failback_ms = wait_home(t, uplink, 3000);
	else if (err[0])
		snprintf(res->error, sizeof(res->error), "%s", err);
	cli_reply_clear(&rep);
	/* The stream ends by itself; a stop ends it now. */
	while (waitpid(t->iperf, &st, 0) < 0 && errno == EINTR)
		if (tf_stop)
			kill(t->iperf, SIGKILL);
	t->iperf = 0;
	if (read_iperf(ofd, &o) && !res->error[0])
		snprintf(res->error, sizeof(res->error), "iperf3: %s", o.error);
	close(ofd);
	res->lost = o.lost;
	res->sent = o.sent;
	if (o.lost >= 0)
		res->outage_ms =
			(double)o.lost * TF_LEN * 8 * 1000 / (double)t->rate;
	if (reverse && o.last_interval > 0)
		res->relearned = o.last_packets > 0;
}

static void print_results(struct tf *t)
{
	if (t->json) {
		struct json j;

		json_begin(&j, stdout);
		json_obj_open(&j, NULL);
		json_str(&j, "server", t->server);
		json_str(&j, "mode", t->mode);
		json_u64(&j, "rate", t->rate);
		json_arr_open(&j, "results");
		for (size_t i = 0; i < t->n_res; i++) {
			const struct tf_result *r = &t->res[i];

			json_obj_open(&j, NULL);
			json_str(&j, "uplink", r->uplink);
			json_str(&j, "direction", r->dir);
			json_u64(&j, "trial", r->trial);
			if (r->lost >= 0) {
				json_u64(&j, "lost", (uint64_t)r->lost);
				json_u64(&j, "sent", (uint64_t)r->sent);
				json_double(&j, "outage_ms", r->outage_ms);
			} else {
				json_null(&j, "lost");
				json_null(&j, "sent");
				json_null(&j, "outage_ms");
			}
			if (r->failover_ms >= 0)
				json_double(&j, "failover_ms", r->failover_ms);
			else
				json_null(&j, "failover_ms");
			if (r->failback_ms >= 0)
				json_double(&j, "failback_ms", r->failback_ms);
			else
				json_null(&j, "failback_ms");
			if (r->relearned >= 0)
				json_bool(&j, "relearned", r->relearned);
			else
				json_null(&j, "relearned");
			if (r->error[0])
				json_str(&j, "error", r->error);
			else
				json_null(&j, "error");
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	printf("failover self-test: %s to %s, %s at %llu bit/s, "
	       "datagrams of %d bytes\n",
	       t->mode, t->server, "UDP", (unsigned long long)t->rate, TF_LEN);
	printf("%-10s %-3s %5s %8s %8s %10s %11s %11s %9s\n", "uplink", "dir",
	       "trial", "lost", "sent", "outage_ms", "failover_ms",
	       "failback_ms", "relearned");
	for (size_t i = 0; i < t->n_res; i++) {
		const struct tf_result *r = &t->res[i];
		char lost[24] = "-", sent[24] = "-", out[24] = "-",
		     fo[24] = "-", fb[24] = "-";

		if (r->lost >= 0) {
			snprintf(lost, sizeof(lost), "%ld", r->lost);
			snprintf(sent, sizeof(sent), "%ld", r->sent);
			snprintf(out, sizeof(out), "%.2f", r->outage_ms);
		}
		if (r->failover_ms >= 0)
			snprintf(fo, sizeof(fo), "%.2f", r->failover_ms);
		if (r->failback_ms >= 0)
			snprintf(fb, sizeof(fb), "%.1f", r->failback_ms);
		printf("%-10s %-3s %5u %8s %8s %10s %11s %11s %9s\n", r->uplink,
		       r->dir, r->trial, lost, sent, out, fo, fb,
		       r->relearned < 0 ? "-"
		       : r->relearned	? "yes"
					: "no");
		if (r->error[0])
			printf("  %s\n", r->error);
	}
}

/* Undo what was made: the iperf3 running, the test in gonad (its guest
 * and failures), the namespace with the veth pair. */
static void cleanup(struct tf *t)
{
	struct reply rep = { 0 };
	char err[CTL_ERR_MAX];

	if (t->iperf > 0) {
		kill(t->iperf, SIGKILL);
		waitpid(t->iperf, NULL, 0);
	}
	if (t->fd >= 0) {
		ask(t, CTL_REQ_TEST_END, 0, NULL, &rep, err, sizeof(err));
		cli_reply_clear(&rep);
		close(t->fd);
	}
	if (t->nsfd >= 0)
		close(t->nsfd);
	if (t->holder > 0) {
		kill(t->holder, SIGKILL);
		waitpid(t->holder, NULL, 0);
		/* The kernel takes the namespace down a moment later, the
		 * veth pair with it: wait for that, 2 s at most. */
		for (int i = 0; i < 200 && if_nametoindex(TF_DEV); i++)
			usleep(10000);
	}
}

static void parse_options(struct tf *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "uplinks", required_argument, NULL, 'u' },
		{ "rate", required_argument, NULL, 'r' },
		{ "trials", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "ipv4", required_argument, NULL, '4' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "mac", required_argument, NULL, 'M' },
		{ "vlan", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char a[16];
	char *end, *list, *tok, *save;
	unsigned long v;
	int opt;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			t->server = optarg;
			break;
		case 'u':
			list = optarg;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (t->n_uplinks == CTL_HOMES_MAX ||
				    strlen(tok) >= CTL_NAME_MAX)
					tf_usage("--uplinks: \"%s\" is not an "
						 "uplink's name",
						 tok);
				snprintf(t->uplinks[t->n_uplinks++],
					 CTL_NAME_MAX, "%s", tok);
			}
			break;
		case 'r':
			if (parse_rate(optarg, &t->rate))
				tf_usage("--rate takes a rate from 8k to 10G "
					 "(\"20M\"), not \"%s\"",
					 optarg);
			break;
		case 'n':
			v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 20)
				tf_usage("--trials takes 1 to 20, not \"%s\"",
					 optarg);
			t->trials = (unsigned int)v;
			break;
		case 'm':
			if (strcmp(optarg, "carrier") &&
			    strcmp(optarg, "drain"))
				tf_usage("--mode is carrier or drain, not "
					 "\"%s\"",
					 optarg);
			t->mode = optarg;
			break;
		case 'p':
			v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 65535)
				tf_usage("--port takes 1 to 65535, not \"%s\"",
					 optarg);
			t->port = (unsigned int)v;
			break;
		case '4':
			t->ipv4 = optarg;
			break;
		case '6':
			t->ipv6 = optarg;
			break;
		case 'g':
			t->gateway = optarg;
			break;
		case 'M':
			t->mac = optarg;
			break;
		case 'v':
			t->vlan = optarg;
			break;
		default:
			tf_usage("unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		tf_usage("unexpected argument \"%s\"", argv[optind]);
	if (!t->server)
		tf_usage("--server ADDR, the iperf3 server to test against, "
			 "is needed%s",
			 "");
	if (inet_pton(AF_INET, t->server, a) == 1)
		t->af = AF_INET;
	else if (inet_pton(AF_INET6, t->server, a) == 1)
		t->af = AF_INET6;
	else
		tf_usage("--server \"%s\" is not an IPv4 or IPv6 address",
			 t->server);
	if (t->gateway && inet_pton(t->af, t->gateway, a) != 1)
		tf_usage("--gateway \"%s\" is not an address of the server's "
			 "family",
			 t->gateway);
}

/* The uplinks to test: those named, or every uplink up; each must be up. */
static int pick_uplinks(struct tf *t, char *err, size_t errlen)
{
	struct reply rep = { 0 };
	size_t i, k;
	int r;

	r = ask(t, CTL_REQ_UPLINK_SHOW, 0, NULL, &rep, err, errlen);
	if (r)
		return r;
	for (k = 0; k < t->n_uplinks; k++) {
		for (i = 0; i < rep.n_uplinks; i++)
			if (!strcmp(rep.uplinks[i].name, t->uplinks[k]))
				break;
		if (i == rep.n_uplinks || !rep.uplinks[i].up) {
			snprintf(err, errlen, "uplink %s: %s", t->uplinks[k],
				 i == rep.n_uplinks ? "no such uplink"
						    : "not up, cannot be "
						      "failed");
			cli_reply_clear(&rep);
			return -EPERM;
		}
	}
	for (i = 0; !t->n_uplinks && i < rep.n_uplinks; i++)
		if (rep.uplinks[i].up && k < CTL_HOMES_MAX)
			snprintf(t->uplinks[k++], CTL_NAME_MAX, "%s",
				 rep.uplinks[i].name);
	if (!t->n_uplinks)
		t->n_uplinks = k;
	cli_reply_clear(&rep);
	return 0;
}

/* Begin the test in gonad: the probe guest's record in GU. */
static int begin(struct tf *t, struct ctl_guest *gu, char *err, size_t errlen)
{
	const char *argv[12];
	struct reply rep = { 0 };
	int n = 0, r;

	argv[n++] = "device";
	argv[n++] = TF_DEV;
	if (t->mac) {
		argv[n++] = "mac";
		argv[n++] = t->mac;
	}
	if (t->ipv4) {
		argv[n++] = "ipv4";
		argv[n++] = t->ipv4;
	}
	if (t->ipv6) {
		argv[n++] = "ipv6";
		argv[n++] = t->ipv6;
	}
	if (t->vlan) {
		argv[n++] = "vlan";
		argv[n++] = t->vlan;
	}
	r = ask(t, CTL_REQ_TEST_BEGIN, n, argv, &rep, err, errlen);
	if (!r && !rep.n_guests) {
		snprintf(err, errlen,
			 "gonad did not say what the probe guest "
			 "is");
		r = -EBADMSG;
	}
	if (!r)
		*gu = rep.guests[0];
	cli_reply_clear(&rep);
	return r;
}

int test_failover_run(const char *path, bool json, int argc, char **argv)
{
	static struct tf t;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[CTL_ERR_MAX + 128];
	struct ctl_guest gu;
	bool attached = false;
	char homes[256];
	int r, status = 0;

	if (argc < 2 || strcmp(argv[1], "failover"))
		tf_usage("the test is \"failover\"%s", "");
	t = (struct tf){ .path = path,
			 .json = json,
			 .fd = -1,
			 .nsfd = -1,
			 .mode = "carrier",
			 .rate = 20000000,
			 .trials = 1,
			 .port = 5201 };
	parse_options(&t, argc - 1, argv + 1);
	if (!in_path("iperf3")) {
		fprintf(stderr, "gonactl: test failover: iperf3 is not "
				"installed (Debian package iperf3)\n");
		return 2;
	}
	if (!in_path("ip")) {
		fprintf(stderr, "gonactl: test failover: ip is not installed "
				"(Debian package iproute2)\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	t.fd = cli_connect(path, err, sizeof(err));
	if (t.fd < 0) {
		fprintf(stderr, "gonactl: %s\n", err);
		return 2;
	}
	/* From here on everything made is undone by cleanup(). */
	r = pick_uplinks(&t, err, sizeof(err));
	if (!r && (r = make_namespace(&t, err, sizeof(err))))
		status = 2;
	if (!r && (r = begin(&t, &gu, err, sizeof(err))))
		status = r == -EPERM ? 1 : 2;
	if (!r) {
		const void *a = t.af == AF_INET ? (const void *)gu.ipv4
						: (const void *)gu.ipv6[0];

		if (!(t.af == AF_INET ? gu.n_ipv4 : gu.n_ipv6)) {
			snprintf(err, sizeof(err),
				 "the probe guest has no %s address to reach "
				 "%s from (daemon.test, --ipv4, --ipv6)",
				 t.af == AF_INET ? "IPv4" : "IPv6", t.server);
			r = -EINVAL;
			status = 2;
		} else {
			inet_ntop(t.af, a, t.addr, sizeof(t.addr));
		}
	}
	if (!r && (r = make_interface(&t, &gu, err, sizeof(err))))
		status = 2;
	/* Until gonad has attached to it. */
	for (int i = 0; !r && !tf_stop && i < 300 && !attached; i++)
		if (guest_state(&t, homes, sizeof(homes), &attached) ||
		    !attached)
			usleep(10000);
	if (!r && !attached && !tf_stop) {
		snprintf(err, sizeof(err),
			 "gonad did not attach to " TF_DEV " within 3 s");
		r = -ETIMEDOUT;
		status = 2;
	}
	if (r && !status)
		status = r == -EPERM ? 1 : 2;
	for (size_t u = 0; !r && !tf_stop && u < t.n_uplinks; u++)
		for (int dir = 0; !r && dir < 2 && !tf_stop; dir++)
			for (unsigned int n = 1;
			     !r && n <= t.trials && !tf_stop; n++) {
				struct tf_result *res = &t.res[t.n_res];

				if (t.n_res == TF_MAX_RESULTS)
					break;
				trial(&t, t.uplinks[u], dir, n, res);
				t.n_res++;
				/* A server that cannot be reached ends the
				 * test: the rest would say the same. */
				if (res->lost < 0 && t.n_res == 1) {
					snprintf(err, sizeof(err), "%s",
						 res->error);
					r = -EHOSTUNREACH;
					status = 2;
				}
			}
	cleanup(&t);
	if (tf_stop) {
		fprintf(stderr,
			"gonactl: test failover: stopped by signal %d; "
			"everything it made is undone\n",
			(int)tf_stop);
		return 128 + (int)tf_stop;
	}
	if (r) {
		fprintf(stderr, "gonactl: test failover: %s\n", err);
		return status ? status : 2;
	}
	print_results(&t);
	if (fflush(stdout))
		return 2;
	/* A trial that could not measure (said in its row) fails the test. */
	for (size_t i = 0; i < t.n_res; i++)
		if (t.res[i].error[0])
			return 1;
	return 0;
}
