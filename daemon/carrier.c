/* SPDX-License-Identifier: MIT */
/* The uplinks' carrier changes as the drivers make them
 * (ebpf/carrier_trace.bpf.c): its tracing programs loaded on the data path's
 * maps, their links pinned so they outlive a restart, and their ring buffer
 * read in the event loop. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/gonad.h"
#include "ebpf/carrier_trace.skel.h"

struct carrier {
	struct gonad *g;
	struct carrier_trace *skel;
	struct bpf_link *links[2];
	struct ring_buffer *rb;
	struct ev_source src;
};

/* The pins, beside the maps': the programs keep watching while no gonad
 * runs (a restart), and the next one replaces them. */
static const char *const pin_names[2] = { "carrier_off", "carrier_on" };

static void pin_path(const struct gonad *g, int i, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%.*s/%s", CONF_PATH_MAX,
		 g->conf->daemon.pin_dir, pin_names[i]);
}

static int on_event(void *arg, void *data, size_t size)
{
	struct carrier *c = arg;
	const struct gona_carrier_event *e = data;

	if (size < sizeof(*e))
		return 0;
	state_carrier(c->g, (int)e->ifindex, e->carrier != 0, e->changes,
		      e->ns);
	return 0;
}

static void on_readable(struct ev_source *src, uint32_t events)
{
	struct carrier *c = src->arg;
	int r;

	(void)events;
	r = ring_buffer__consume(c->rb);
	if (r < 0)
		log_warnx("carrier events: %s", strerror(-r));
}

/* Our link pinned where a previous gonad's was, and that one gone. */
static int pin_replacing(struct gonad *g, struct bpf_link *link, int i)
{
	char path[PATH_MAX];
	struct bpf_link *old;
	int r;

	pin_path(g, i, path);
	/* (libbpf would warn of a pin that is not there.) */
	old = access(path, F_OK) == 0 ? bpf_link__open(path) : NULL;
	if (old)
		unlink(path);
	r = bpf_link__pin(link, path);
	/* Its pin gone, closing it detaches the old program. */
	bpf_link__destroy(old);
	return r;
}

static int load(struct carrier *c)
{
	static const char *const shared[] = { "uplinks", "uplink_by_ifindex",
					      "globals", "vf_pfs" };
	struct bpf_program *progs[2];
	int r;

	c->skel = carrier_trace__open();
	if (!c->skel)
		return -errno;
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *m =
			bpf_object__find_map_by_name(c->skel->obj, shared[i]);
		int fd = dp_map_fd(c->g->dp, shared[i]);

		if (!m || fd < 0)
			return -ENOENT;
		r = bpf_map__reuse_fd(m, fd);
		if (r)
			return r;
	}
	r = carrier_trace__load(c->skel);
	if (r)
		return r;
	progs[0] = c->skel->progs.gona_carrier_off;
	progs[1] = c->skel->progs.gona_carrier_on;
	for (int i = 0; i < 2; i++) {
		c->links[i] = bpf_program__attach(progs[i]);
		if (!c->links[i])
			return -errno;
	}
	for (int i = 0; i < 2; i++) {
		r = pin_replacing(c->g, c->links[i], i);
		if (r)
			return r;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.carrier_events),
				 on_event, c, NULL);
	if (!c->rb)
		return -errno;
	c->src = (struct ev_source){ .fd = ring_buffer__epoll_fd(c->rb),
				     .ready = on_readable,
				     .arg = c };
	return ev_add(c->g, &c->src, EPOLLIN);
}

static void unload(struct carrier *c, bool keep)
{
	char path[PATH_MAX];

	if (c->rb) {
		ev_del(c->g, &c->src);
		ring_buffer__free(c->rb);
	}
	for (int i = 0; i < 2; i++) {
		if (!c->links[i])
			continue;
		/* Pinned, a link outlives our hold on it. */
		if (!keep) {
			pin_path(c->g, i, path);
			if (unlink(path) < 0 && errno != ENOENT)
				log_warn("cannot remove pin %s", path);
		}
		bpf_link__destroy(c->links[i]);
	}
	carrier_trace__destroy(c->skel);
	free(c);
}

/* libbpf's account of a kernel that cannot trace (its verifier log among
 * it) is for -v: the one warning below says what it means. */
static int debug_only(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char buf[1024];
	size_t n;

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_debug("%s", buf);
	return 0;
}

int carrier_open(struct gonad *g, struct carrier **out)
{
	struct carrier *c = calloc(1, sizeof(*c));
	libbpf_print_fn_t was;
	int r;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->g = g;
	was = libbpf_set_print(debug_only);
	r = load(c);
	libbpf_set_print(was);
	if (r) {
		/* Not fatal: rtnetlink still tells, later. */
		log_warnx("carrier changes: cannot trace the drivers' (%s); "
			  "they reach gonad through rtnetlink only, which "
			  "tells of a NIC's up to a second late",
			  strerror(-r));
		unload(c, false);
		return r;
	}
	*out = c;
	return 0;
}

void carrier_close(struct carrier *c, bool keep)
{
	if (c)
		unload(c, keep);
}
