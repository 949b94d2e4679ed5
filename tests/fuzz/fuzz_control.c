/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: gonad's answer to a session of control requests,
 * each encoded as gonactl sends it and handled by gonad's own handler
 * (daemon/control.c, included for its handle()) against a gonad built in
 * memory from one configuration: three uplinks, four guests, every device
 * up (tests/fuzz/fake_kernel.c stands for the kernel). An input is text, a
 * request a line: a command as gonactl names it ("guest set", "uplink
 * add", ...) or a request type's number, then its arguments; "ro " before
 * it sends it as a client that may only read; "tick" lets an interval
 * pass (pending uplink changes due, the QoS tick, retries, a sample and
 * its rebalancing round); "links" re-reads the devices; "edt" as the
 * first line shapes with EDT instead of HTB.
 * FUZZ_CONTROL_SHOW in the environment prints each request's answer.
 * After each request, broken if:
 * - the answer does not end with one "done" or one error, or an error
 *   says nothing;
 * - a refused request changed anything: the running configuration (as
 *   printed), an uplink's or a guest's state (what `status` would show);
 * - the data path's MAC map is not exactly the guests' MACs, each with
 *   its guest's id (a stale entry, or a guest the data path cannot find);
 * and if gonad would have ended (fatal), crashed, leaked or read out of
 * bounds (the sanitizers).
 */
#include "daemon/control.c"

#include <unistd.h>

#include "tests/fuzz/fake_kernel.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_conf[] =
	"uplinks = (\n"
	"  { name = \"up0\"; device = \"up0\"; capacity = \"1G\"; },\n"
	"  { name = \"up1\"; device = \"up1\"; capacity = \"1G\"; },\n"
	"  { name = \"up2\"; device = \"up2\"; capacity = \"10G\"; }\n"
	");\n"
	"guests = (\n"
	"  { name = \"g1\"; device = \"vif1\"; mac = \"02:00:00:00:00:01\";\n"
	"    ipv4 = [ \"192.0.2.11\" ]; tx = { min = \"100M\"; max = "
	"\"400M\"; }; },\n"
	"  { name = \"g2\"; device = \"vif2\"; mac = \"02:00:00:00:00:02\";\n"
	"    ipv4 = [ \"192.0.2.12\" ]; ipv6 = [ \"2001:db8::12\" ];\n"
	"    tx = { min = \"200M\"; }; spread = 2; },\n"
	"  { name = \"g3\"; device = \"vif3\"; mac = \"02:00:00:00:00:03\";\n"
	"    rx = { max = \"100M\"; }; primary = \"up2\"; },\n"
	"  { name = \"g4\"; device = \"vif9\"; mac = \"02:00:00:00:00:04\"; }\n"
	");\n"
	"policy = { notify_count = 2; rebalance_interval_ms = 500; };\n"
	"daemon = { socket = \"/nonexistent/gona.sock\"; };\n";

static char conf_path[64];
static char conf_bak[sizeof(conf_path) + 4];
/* FUZZ_CONTROL_SHOW set: each request and its answer on stderr, to see
 * what an input does. */
static bool show;

/* The file and the backup "save" makes of it go with the fuzzer. */
static void conf_files_remove(void)
{
	unlink(conf_path);
	unlink(conf_bak);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* In memory where /dev/shm is mounted: "save" syncs the file and its
	 * backup to disk, which on /tmp's disk took 40% of the time. */
	static const char *const dirs[] = { "/dev/shm", "/tmp" };
	int fd = -1;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && fd < 0; i++) {
		snprintf(conf_path, sizeof(conf_path),
			 "%s/gona-fuzz-ctl.XXXXXX", dirs[i]);
		fd = mkstemp(conf_path);
	}
	if (fd < 0) {
		perror("fuzz_control: mkstemp");
		abort();
	}
	close(fd);
	snprintf(conf_bak, sizeof(conf_bak), "%s.bak", conf_path);
	atexit(conf_files_remove);
	show = getenv("FUZZ_CONTROL_SHOW") != NULL;
	return 0;
}

/* What a refused request must leave as it was, as text in *OUT. */
static char *snapshot(struct gonad *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	conf_print(f, g->conf);
	for (size_t i = 0; i < g->n_uplinks; i++) {
		const struct uplink *u = &g->uplinks[i];

		fprintf(f, "uplink %s: attached %d up %d admin %d ifindex %d\n",
			u->conf.name, u->attached, u->up, u->admin_up,
			u->ifindex);
	}
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		fprintf(f, "guest %s: id %u homes %x attached %d ifindex %d\n",
			gu->conf.name, gu->id, gu->homes, gu->attached,
			gu->ifindex);
	}
	fclose(f);
	return buf;
}

static void broken(const char *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void broken(const char *req, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_control: after request \"%s\": ", req);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Every guest's MAC in the data path with its id, and nothing else. */
static void check_macs(struct gonad *g, const char *req)
{
	const struct fake_mac *m;
	size_t n;

	m = fake_macs(&n);
	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];
		size_t k = 0;

		while (k < n && memcmp(m[k].mac, gu->conf.mac, 6))
			k++;
		if (k == n)
			broken(req, "guest %s's MAC is not in the data path",
			       gu->conf.name);
		if (m[k].port.id != gu->id)
			broken(req, "guest %s's MAC has id %u, the guest %u",
			       gu->conf.name, m[k].port.id, gu->id);
	}
	if (n != g->n_guests)
		broken(req, "the data path has %zu MACs for %zu guests", n,
		       g->n_guests);
}

/* The command LINE names (longest name first is not needed: no name is
 * a prefix of another followed by a space); its arguments after it. */
static const struct ctl_cmd *parse_cmd(const char *line, const char **args)
{
	char *end;
	unsigned long t;

	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		size_t k = strlen(ctl_cmds[i].name);

		if (!strncmp(line, ctl_cmds[i].name, k) &&
		    (line[k] == ' ' || line[k] == '\0')) {
			*args = line + k;
			return &ctl_cmds[i];
		}
	}
	t = strtoul(line, &end, 10);
	if (end == line || t > 0xffff)
		return NULL;
	*args = end;
	/* A request type by its number (the encoder refuses a number that
	 * is no request type; the decoders' fuzzer has those). */
	{
		static struct ctl_cmd any;

		any = (struct ctl_cmd){ .type = (uint16_t)t, .name = "" };
		return &any;
	}
}

/* Send LINE as a request and check what it did. */
static void one_request(struct gonad *g, struct ctl_client *cl, char *line)
{
	static char msg[CTL_MSG_MAX];
	const char *argv[CTL_ARGS_MAX + 1], *args;
	const struct ctl_cmd *cmd;
	char *before, *after, *save = NULL, *tok, *copy;
	const struct ctl_msg *last = NULL;
	char why[256];
	uint16_t type = 0;
	const void *payload;
	size_t plen;
	ssize_t n;
	int argc = 0, records = 0;

	cl->may_change = true;
	if (!strncmp(line, "ro ", 3)) {
		cl->may_change = false;
		line += 3;
	}
	if (!strcmp(line, "tick")) {
		/* What gonad's timers do when an interval passes. */
		fake_clock_advance(g->conf->policy.rebalance_interval_ms);
		state_delays_due(g);
		if (g->qos->tick_ms)
			qos_tick(g);
		state_retry(g);
		state_sample(g);
		check_macs(g, line);
		return;
	}
	if (!strcmp(line, "links")) {
		fake_devices_report(g);
		check_macs(g, line);
		return;
	}
	cmd = parse_cmd(line, &args);
	if (!cmd)
		return;
	copy = strdup(args);
	if (!copy)
		abort();
	for (tok = strtok_r(copy, " \t", &save); tok && argc <= CTL_ARGS_MAX;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	n = ctl_req_encode(msg, sizeof(msg), cmd->type, argc, argv);
	free(copy);
	if (n < 0)
		return;
	before = snapshot(g);
	handle(cl, msg, (size_t)n);
	for (const struct ctl_msg *m = cl->out; m; m = m->next) {
		last = m;
		records++;
	}
	if (!last || ctl_rep_decode(last->buf, last->len, &type, &payload,
				    &plen, why, sizeof(why)))
		broken(line, "no answer gonactl can read");
	if (show)
		fprintf(stderr, "%s -> %s%s\n", line,
			type == CTL_REP_ERROR ? "error: " : "done",
			type == CTL_REP_ERROR ? (const char *)payload : "");
	if (type != CTL_REP_DONE && type != CTL_REP_ERROR)
		broken(line, "the answer ends with a record of type %u", type);
	if (type == CTL_REP_ERROR) {
		if (plen < 2 || ((const char *)payload)[0] == '\0')
			broken(line, "an error that says nothing");
		if (records != 1)
			broken(line, "an error after %d records", records - 1);
		after = snapshot(g);
		if (strcmp(before, after))
			broken(line,
			       "refused (%s), yet it changed gonad:\n"
			       "--- before\n%s--- after\n%s",
			       (const char *)payload, before, after);
		free(after);
	}
	free(before);
	drop_queue_after(cl, &cl->out);
	check_macs(g, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gonad g = { .conf_file = conf_path,
			   .epfd = -1,
			   .delays.fd = -1,
			   .qos_timer.fd = -1,
			   .watchdog.fd = -1 };
	struct ctl ctl = { .g = &g };
	struct ctl_client cl = { .ctl = &ctl, .may_read = true };
	struct conf_err err;
	struct conf *c;
	char *text, *line, *save = NULL;
	FILE *f;

	/* Each input from the same start: "save" writes the file. */
	f = fopen(conf_path, "w");
	if (!f || fputs(base_conf, f) < 0 || fclose(f))
		abort();
	if (conf_load(conf_path, &c, &err)) {
		fprintf(stderr, "fuzz_control: the base configuration: %s\n",
			err.msg);
		abort();
	}
	fake_kernel_reset(&g);
	/* The QoS backend: HTB, or EDT if the input says so first. */
	g.qos = size >= 4 && !memcmp(data, "edt\n", 4) ? &qos_edt_ops
						       : &qos_htb_ops;
	if (state_init(&g, c))
		abort();
	fake_devices_report(&g);
	cl.out_tail = &cl.out;
	g.ctl = &ctl;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		one_request(&g, &cl, line);
	free(text);

	state_fini(&g);
	conf_free(g.conf);
	return 0;
}
