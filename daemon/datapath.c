/* SPDX-License-Identifier: MIT */
/* The eBPF data path as gonad sees it: bpffs, loading the programs with
 * their maps pinned, tc attachment, and every map read and write. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/gonad.h"
#include "ebpf/gona.skel.h"

/* The programs read these layouts; a change here must be a change there. */
_Static_assert(sizeof(struct gona_counters) == 32 + 8 * GONA_DROP_SLOTS,
	       "gona_counters layout");
_Static_assert(sizeof(struct gona_guest) == 32 + GONA_SPREAD_SLOTS,
	       "gona_guest layout");
_Static_assert(offsetof(struct gona_guest, ifindex) == 28 + GONA_SPREAD_SLOTS,
	       "gona_guest.ifindex");
_Static_assert(GONA_GUESTS_LIMIT < 0xffff, "a guest's id in a classid minor");
_Static_assert(offsetof(struct gona_guest, ip4) == 24 + GONA_SPREAD_SLOTS,
	       "gona_guest.ip4");
_Static_assert(offsetof(struct gona_guest, mac) == 8, "gona_guest.mac");
_Static_assert(offsetof(struct gona_guest, slots) == 16, "gona_guest.slots");
_Static_assert(offsetof(struct gona_guest, vlan) == 20 + GONA_SPREAD_SLOTS,
	       "gona_guest.vlan");
_Static_assert(offsetof(struct gona_guest, homes) == 16 + GONA_SPREAD_SLOTS,
	       "gona_guest.homes");
_Static_assert(sizeof(struct gona_flow_key) == 8, "gona_flow_key layout");
_Static_assert(sizeof(struct gona_flow) == 32, "gona_flow layout");
_Static_assert(sizeof(struct gona_storm) == 24, "gona_storm layout");
_Static_assert(sizeof(struct gona_mac_key) == 8, "gona_mac_key layout");
_Static_assert(sizeof(struct gona_port) == 12, "gona_port layout");
_Static_assert(sizeof(struct gona_trunk) == 512, "gona_trunk layout");
_Static_assert(sizeof(struct gona_ip4_key) == 8, "gona_ip4_key layout");
_Static_assert(sizeof(struct gona_ip6_key) == 20, "gona_ip6_key layout");
_Static_assert(offsetof(struct gona_ip6_key, addr) == 4, "gona_ip6_key.addr");
_Static_assert(sizeof(struct gona_uplink) == 8, "gona_uplink layout");
_Static_assert(sizeof(struct gona_globals) == 24, "gona_globals layout");
_Static_assert(sizeof(struct gona_carrier_event) == 24, "carrier event layout");
_Static_assert(sizeof(struct gona_pacing) == 24, "gona_pacing layout");
_Static_assert(GONA_MAX_UPLINKS == CONF_UPLINKS_MAX, "uplink limits");
_Static_assert(GONA_GUESTS_DEFAULT == CONF_GUESTS_DEFAULT, "guest limits");
_Static_assert(GONA_GUESTS_LIMIT == CONF_GUESTS_LIMIT, "guest limits");
_Static_assert(GONA_MAX_ADDRS == CONF_ADDRS_MAX, "address limits");

#define DP_MAX_DIRS 8

struct dp {
	struct gona *skel;
	char pin_dir[CONF_PATH_MAX];
	char mounted[PATH_MAX]; /* where we mounted bpffs, "" if nowhere */
	char made_dirs[DP_MAX_DIRS][PATH_MAX]; /* directories we created */
	int n_made_dirs;
	int lock_fd; /* the pin directory, flock()ed while we use it */
	int ncpus;
	uint32_t max_guests; /* what the maps are sized for */
	bool adopted; /* the maps are those a previous gonad pinned */
	bool inherited; /* pins of another layout replaced, what their gonad
			   owned carried over (dp_inherited) */
	struct gona_mac_filter mac_filter; /* what guest_mac_filter holds */
	bool mac_filter_stale; /* a MAC left guest_by_mac since it was made */
	bool mac_filter_warned; /* a failed rebuild was logged */
};

/* Set while gonad makes a clsact qdisc that may exist already (gonad's
 * own, taken over at a restart, or an operator's): libbpf's warnings are
 * held in clsact_said meanwhile, and logged only if the making failed
 * otherwise (the kernel's "Exclusivity flag on" is no news). */
static bool clsact_may_exist;
static char clsact_said[256];

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	/* libbpf's messages end with a newline already. */
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	/* libbpf names itself at the start of its messages. */
	if (level == LIBBPF_WARN && clsact_may_exist)
		snprintf(clsact_said, sizeof(clsact_said), "%s", buf);
	else if (level == LIBBPF_WARN)
		log_warnx("%s", buf);
	else
		log_debug("%s", buf);
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* mkdir -p below an existing directory, remembering what we made. */
static int make_dirs(struct dp *dp, const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (!exists(path)) {
			if (mkdir(path, 0700) < 0)
				return -errno;
			if (dp->n_made_dirs < DP_MAX_DIRS)
				snprintf(dp->made_dirs[dp->n_made_dirs++],
					 PATH_MAX, "%s", path);
		}
		if (end)
			break;
		*p = '/';
	}
	return 0;
}

static int mount_bpffs(struct dp *dp, const char *where)
{
	if (mount("bpffs", where, "bpf", 0, "mode=0700") < 0)
		return -errno;
	snprintf(dp->mounted, sizeof(dp->mounted), "%s", where);
	log_info("mounted bpffs on %s", where);
	return 0;
}

/*
 * Make the pin directory a directory on bpffs. Where bpffs is not mounted,
 * mount it on the pin directory itself if that can be created (tmpfs), or
 * else on its deepest existing ancestor: /sys/fs/bpf is an empty directory
 * of sysfs, in which nothing can be created.
 */
static int pin_dir_prepare(struct dp *dp, const char *dir)
{
	char anc[PATH_MAX];
	char *slash;
	int r;

	if (dir[0] != '/')
		return -EINVAL;
	if (exists(dir))
		return is_bpffs(dir) ? 0 : mount_bpffs(dp, dir);

	snprintf(anc, sizeof(anc), "%s", dir);
	do {
		slash = strrchr(anc, '/');
		if (slash == anc)
			anc[1] = '\0';
		else
			*slash = '\0';
	} while (!exists(anc));

	if (is_bpffs(anc))
		return make_dirs(dp, dir);
	r = make_dirs(dp, dir);
	if (r == 0)
		return mount_bpffs(dp, dir);
	if (strcmp(anc, "/") == 0)
		return r;
	r = mount_bpffs(dp, anc);
	if (r < 0)
		return r;
	return make_dirs(dp, dir);
}

/* PIN_DIR/MAP: pin_dir is at most CONF_PATH_MAX, map names are short. */
static char *pin_path(const struct dp *dp, const struct bpf_map *map,
		      char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%.*s/%.64s", CONF_PATH_MAX, dp->pin_dir,
		 bpf_map__name(map));
	return path;
}

static void unpin_all(struct dp *dp)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, dp->skel->obj)
	{
		char path[PATH_MAX];

		if (bpf_map__is_internal(map))
			continue;
		if (unlink(pin_path(dp, map, path)) < 0 && errno != ENOENT)
			log_warn("cannot remove pin %s", path);
	}
}

static int set_pin_paths(struct dp *dp)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, dp->skel->obj)
	{
		char path[PATH_MAX];
		int r;

		/* Internal maps (.rodata, .bss) are the program's own. */
		if (bpf_map__is_internal(map))
			continue;
		r = bpf_map__set_pin_path(map, pin_path(dp, map, path));
		if (r)
			return r;
	}
	return 0;
}

/* Size the maps of guests for dp->max_guests (the object has
 * GONA_GUESTS_DEFAULT). */
static int size_maps(struct dp *dp)
{
	const struct {
		struct bpf_map *map;
		uint32_t per_guest, more;
	} maps[] = {
		{ dp->skel->maps.guests, 1, 0 },
		{ dp->skel->maps.guest_by_mac, 1, 0 },
		{ dp->skel->maps.guest_ip4, GONA_MAX_ADDRS, 0 },
		{ dp->skel->maps.guest_ip6, GONA_MAX_ADDRS, 0 },
		{ dp->skel->maps.flood, 1, 0 },
		{ dp->skel->maps.guest_trunk, 1, 0 },
		{ dp->skel->maps.guest_stats, 1, 0 },
		{ dp->skel->maps.pacing, 1, 0 },
		{ dp->skel->maps.storm, 1, 0 },
		{ dp->skel->maps.flow_turn, 1, 0 },
		{ dp->skel->maps.guest_uplink_bytes, GONA_MAX_UPLINKS, 0 },
		{ dp->skel->maps.owned, 1, GONA_MAX_UPLINKS },
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int r = bpf_map__set_max_entries(
			maps[i].map,
			dp->max_guests * maps[i].per_guest + maps[i].more);

		if (r)
			return r;
	}
	return 0;
}

/* The guests the pinned maps of a previous gonad have room for, 0 if
 * that cannot be read. */
static uint32_t pinned_guests(const char *path)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

static int load(struct dp *dp)
{
	uint32_t pinned, want = dp->max_guests;
	char path[PATH_MAX];
	bool resized;
	int r;

	dp->skel = gona__open();
	if (!dp->skel)
		return -errno;
	r = set_pin_paths(dp);
	if (!r)
		r = size_maps(dp);
	if (r)
		return r;
	/* Pins a previous gonad left are reused: the data path it fed
	 * keeps running while this gonad takes it over, with the room it
	 * was made with (a changed daemon.max_guests waits for a rebuild:
	 * taking it over is what keeps the guests' traffic flowing). */
	pin_path(dp, dp->skel->maps.guests, path);
	dp->adopted = exists(path);
	pinned = dp->adopted ? pinned_guests(path) : 0;
	resized = pinned && pinned != want && pinned <= GONA_GUESTS_LIMIT;
	if (resized) {
		dp->max_guests = pinned;
		r = size_maps(dp);
		if (r)
			return r;
	}
	r = gona__load(dp->skel);
	if (r) {
		/* Pins that cannot be taken over are replaced (dp_open),
		 * with the room the configuration asks for. */
		dp->adopted = false;
		dp->max_guests = want;
		return r;
	}
	if (resized)
		log_warnx(
			"daemon.max_guests %u waits: the data path pinned in "
			"%s, which this gonad takes over, has room for %u "
			"guests; a stop with keep_datapath_on_stop = false "
			"(systemctl stop, not restart) and a start rebuild it",
			want, dp->pin_dir, pinned);
	return 0;
}

/* What the programs call and the maps they use, with the Linux release
 * that brought each: a kernel without one cannot load them. */
static const struct {
	enum bpf_func_id id;
	const char *name;
	const char *since;
} dp_helpers[] = {
	{ BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", "3.18" },
	{ BPF_FUNC_map_update_elem, "bpf_map_update_elem", "3.18" },
	{ BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", "4.1" },
	{ BPF_FUNC_clone_redirect, "bpf_clone_redirect", "4.2" },
	{ BPF_FUNC_redirect, "bpf_redirect", "4.4" },
	{ BPF_FUNC_get_hash_recalc, "bpf_get_hash_recalc", "4.8" },
	{ BPF_FUNC_skb_pull_data, "bpf_skb_pull_data", "4.9" },
	{ BPF_FUNC_loop, "bpf_loop", "5.17" },
	{ BPF_FUNC_skb_set_tstamp, "bpf_skb_set_tstamp", "5.18" },
};

static const struct {
	enum bpf_map_type type;
	const char *name;
	const char *since;
} dp_map_types[] = {
	{ BPF_MAP_TYPE_HASH, "hash", "3.19" },
	{ BPF_MAP_TYPE_ARRAY, "array", "3.19" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, "per-CPU array", "4.6" },
	{ BPF_MAP_TYPE_LRU_HASH, "LRU hash", "4.10" },
};

int dp_probe_kernel(char *err, size_t len)
{
	/* A probe that cannot run (no permission) proves nothing: loading
	 * will say what is wrong. Only a clear "no" refuses here. */
	for (size_t i = 0; i < sizeof(dp_helpers) / sizeof(dp_helpers[0]); i++)
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS,
					    dp_helpers[i].id, NULL) == 0) {
			snprintf(err, len,
				 "this kernel lacks the BPF helper %s (Linux "
				 "%s) that gona's data path calls",
				 dp_helpers[i].name, dp_helpers[i].since);
			return -EOPNOTSUPP;
		}
	for (size_t i = 0; i < sizeof(dp_map_types) / sizeof(dp_map_types[0]);
	     i++)
		if (libbpf_probe_bpf_map_type(dp_map_types[i].type, NULL) ==
		    0) {
			snprintf(err, len,
				 "this kernel lacks the BPF map type %s (Linux "
				 "%s) that gona's data path uses",
				 dp_map_types[i].name, dp_map_types[i].since);
			return -EOPNOTSUPP;
		}
	return 0;
}

int dp_map_fd(const struct dp *dp, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(dp->skel->obj, name);

	return map ? bpf_map__fd(map) : -ENOENT;
}

bool dp_adopted(const struct dp *dp)
{
	return dp->adopted;
}

uint32_t dp_max_guests(const struct dp *dp)
{
	return dp->max_guests;
}

static int mac_filter_write(struct dp *dp, const struct gona_mac_filter *f)
{
	__u32 zero = 0;

	return bpf_map__update_elem(dp->skel->maps.guest_mac_filter, &zero,
				    sizeof(zero), f, sizeof(*f), BPF_ANY);
}

/* The MAC filter made anew from guest_by_mac: the bits of MACs gone are
 * cleared. */
static int mac_filter_rebuild(struct dp *dp)
{
	struct bpf_map *map = dp->skel->maps.guest_by_mac;
	struct gona_mac_filter *f = calloc(1, sizeof(*f));
	struct gona_mac_key k, next;
	int r;

	if (!f)
		return -ENOMEM;
	for (r = bpf_map__get_next_key(map, NULL, &next, sizeof(next)); !r;
	     r = bpf_map__get_next_key(map, &k, &next, sizeof(next))) {
		gona_mac_filter_add(f, gona_mac_hash(&next));
		k = next;
	}
	if (r == -ENOENT)
		r = mac_filter_write(dp, f);
	if (!r) {
		dp->mac_filter = *f;
		dp->mac_filter_stale = false;
	}
	free(f);
	return r;
}

/*
 * What the gonad of pins this one cannot load owned (the `owned` map, a
 * layout every gonad has had): its interfaces' clsact qdiscs, trees and
 * promiscuous mode stay its successor's to give back, as at a takeover.
 * Nothing if that map cannot be read.
 */
static void read_pinned_owned(struct dp *dp, struct dp_owned **out, size_t *n)
{
	size_t cap = GONA_GUESTS_LIMIT + GONA_MAX_UPLINKS, k = 0;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key, next, flags;
	char path[PATH_MAX];
	struct dp_owned *v;
	int fd;

	*out = NULL;
	*n = 0;
	fd = bpf_obj_get(pin_path(dp, dp->skel->maps.owned, path));
	if (fd < 0)
		return;
	v = calloc(cap, sizeof(*v));
	if (v && !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.key_size == sizeof(key) && info.value_size == sizeof(flags))
		for (int r = bpf_map_get_next_key(fd, NULL, &next);
		     !r && k < cap; r = bpf_map_get_next_key(fd, &key, &next)) {
			key = next;
			if (!bpf_map_lookup_elem(fd, &key, &flags))
				v[k++] = (struct dp_owned){ .ifindex = (int)key,
							    .flags = flags };
		}
	close(fd);
	*out = v;
	*n = k;
}

static void carry_owned(struct dp *dp, const struct dp_owned *own, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += !dp_set_owned(dp, own[i].ifindex, own[i].flags);
	dp->inherited = k > 0;
	if (n)
		log_info("the replaced data path's gonad served %zu devices; "
			 "this one gives back those it does not serve",
			 k);
}

bool dp_inherited(const struct dp *dp)
{
	return dp->inherited;
}

int dp_open(struct dp **out, const char *pin_dir, uint32_t max_guests)
{
	struct dp *dp;
	int r;

	libbpf_set_print(libbpf_log);
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->lock_fd = -1;
	dp->max_guests = max_guests;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus < 1) {
		r = dp->ncpus ? dp->ncpus : -EINVAL;
		goto err;
	}
	r = pin_dir_prepare(dp, pin_dir);
	if (r) {
		log_warnx("pin directory %s: %s", pin_dir, strerror(-r));
		goto err;
	}
	/* Two gonads on one pin directory would feed each other's maps. */
	dp->lock_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->lock_fd < 0 || flock(dp->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
		log_warnx("pin directory %s: %s", pin_dir,
			  r == -EADDRINUSE ? "used by another gonad"
					   : strerror(-r));
		goto err;
	}
	r = load(dp);
	if (r == -EPERM || r == -EACCES) {
		/* Not allowed to load at all: the pins are not the cause,
		 * and the data path they hold must go on forwarding. */
		log_warnx("cannot load the data path: %s", strerror(-r));
		dp_close(dp, true);
		return r;
	}
	if (r) {
		struct dp_owned *own = NULL;
		size_t n_own = 0;

		/* Most likely pins of an incompatible gonad: start afresh. */
		log_warnx("cannot load the data path with the maps pinned in "
			  "%s (%s); replacing them",
			  pin_dir, strerror(-r));
		if (dp->skel) {
			read_pinned_owned(dp, &own, &n_own);
			unpin_all(dp);
			gona__destroy(dp->skel);
		}
		r = load(dp);
		if (r) {
			free(own);
			log_warnx("cannot load the data path: %s",
				  strerror(-r));
			goto err;
		}
		carry_owned(dp, own, n_own);
		free(own);
	}
	/* The filter as guest_by_mac says, a taken-over one included (made
	 * by an older gonad, or not at all). */
	r = mac_filter_rebuild(dp);
	if (r) {
		log_warnx("cannot make the data path's filter of guest MACs: "
			  "%s",
			  strerror(-r));
		if (dp->adopted) {
			/* Its pins hold a running data path. */
			dp_close(dp, true);
			return r;
		}
		goto err;
	}
	*out = dp;
	return 0;
err:
	dp_close(dp, false);
	return r;
}

/* Whether DIR is the mount point we made or one of its ancestors. */
static bool holds_mount(const struct dp *dp, const char *dir)
{
	size_t n = strlen(dir);

	return dp->mounted[0] && !strncmp(dp->mounted, dir, n) &&
	       (dp->mounted[n] == '\0' || dp->mounted[n] == '/');
}

/* Deepest first; the directories holding our mount only after umount. */
static void remove_dirs(struct dp *dp, bool mount_holders)
{
	for (int i = dp->n_made_dirs - 1; i >= 0; i--)
		if (holds_mount(dp, dp->made_dirs[i]) == mount_holders &&
		    rmdir(dp->made_dirs[i]) < 0 && errno != ENOENT)
			log_warn("cannot remove %s", dp->made_dirs[i]);
}

void dp_close(struct dp *dp, bool keep_pins)
{
	if (!dp)
		return;
	if (dp->skel) {
		if (!keep_pins)
			unpin_all(dp);
		gona__destroy(dp->skel);
	}
	if (dp->lock_fd >= 0)
		close(dp->lock_fd);
	if (!keep_pins) {
		remove_dirs(dp, false);
		if (dp->mounted[0] && umount2(dp->mounted, MNT_DETACH) < 0)
			log_warn("cannot unmount bpffs from %s", dp->mounted);
		remove_dirs(dp, true);
	}
	free(dp);
}

/* PROG's filter on the clsact ingress of IFINDEX: a guest's through TC,
 * with its classid; an uplink's through libbpf. */
static int attach_filter(struct tc *tc, int ifindex, struct bpf_program *prog,
			 enum dp_role role, uint32_t id)
{
	/* REPLACE: a filter a previous gonad left is swapped atomically for
	 * ours, so no frame passes unfiltered during a takeover. */
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = GONA_TC_HANDLE,
		    .priority = GONA_TC_PRIO, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(prog));
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	char name[BPF_OBJ_NAME_LEN + 16];
	int r;

	if (role == DP_UPLINK)
		return bpf_tc_attach(&hook, &opts);
	/* Named as libbpf names the uplinks', for tc filter show. */
	r = bpf_obj_get_info_by_fd(opts.prog_fd, &info, &len);
	if (r)
		return r;
	snprintf(name, sizeof(name), "%s:[%u]", bpf_program__name(prog),
		 info.id);
	return tc_bpf_ingress(tc, ifindex, GONA_TC_HANDLE, GONA_TC_PRIO,
			      opts.prog_fd, name, GONA_GUEST_CLASSID(id));
}

int dp_attach(struct dp *dp, struct tc *tc, int ifindex, enum dp_role role,
	      uint32_t id, bool *made_clsact)
{
	struct bpf_program *prog = role == DP_GUEST
					   ? dp->skel->progs.gona_guest_tx
					   : dp->skel->progs.gona_uplink_rx;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	int r;

	if (role == DP_GUEST && id >= dp->max_guests)
		return -ERANGE;
	clsact_may_exist = true;
	clsact_said[0] = '\0';
	r = bpf_tc_hook_create(&hook);
	clsact_may_exist = false;
	if (r && r != -EEXIST && clsact_said[0])
		log_warnx("%s", clsact_said);
	if (r && r != -EEXIST)
		return r;
	*made_clsact = r == 0;
	r = attach_filter(tc, ifindex, prog, role, id);
	if (r && *made_clsact) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		*made_clsact = false;
	}
	return r;
}

int dp_detach(struct dp *dp, int ifindex, bool destroy_clsact)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = GONA_TC_HANDLE,
		    .priority = GONA_TC_PRIO);
	int r;

	(void)dp;
	r = bpf_tc_detach(&hook, &opts);
	if (destroy_clsact) {
		/* Both attach points: that is what removes the qdisc. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		int r2 = bpf_tc_hook_destroy(&hook);

		if (!r)
			r = r2;
	}
	return r;
}

static int update(struct bpf_map *map, const void *key, size_t ksz,
		  const void *val, size_t vsz)
{
	return bpf_map__update_elem(map, key, ksz, val, vsz, BPF_ANY);
}

static int delete (struct bpf_map *map, const void *key, size_t ksz)
{
	int r = bpf_map__delete_elem(map, key, ksz, 0);

	return r == -ENOENT ? 0 : r;
}

int dp_set_uplink(struct dp *dp, unsigned int slot, int old_ifindex,
		  const struct gona_uplink *u)
{
	__u32 key = slot, ifi;
	int r;

	if (slot >= GONA_MAX_UPLINKS)
		return -EINVAL;
	/* The state first: a packet racing with this sees either the old or
	 * the new entry, never a half-written one. */
	r = update(dp->skel->maps.uplinks, &key, sizeof(key), u, sizeof(*u));
	if (r)
		return r;
	if (old_ifindex > 0 && (__u32)old_ifindex != u->ifindex) {
		ifi = (__u32)old_ifindex;
		r = delete (dp->skel->maps.uplink_by_ifindex, &ifi,
			    sizeof(ifi));
		if (r)
			return r;
	}
	if (u->ifindex) {
		ifi = u->ifindex;
		r = update(dp->skel->maps.uplink_by_ifindex, &ifi, sizeof(ifi),
			   &key, sizeof(key));
	}
	return r;
}

int dp_set_vf_pf(struct dp *dp, int pf_ifindex, uint32_t slots)
{
	__u32 key = (__u32)pf_ifindex;

	if (!slots)
		return delete (dp->skel->maps.vf_pfs, &key, sizeof(key));
	return update(dp->skel->maps.vf_pfs, &key, sizeof(key), &slots,
		      sizeof(slots));
}

int dp_set_globals(struct dp *dp, const struct gona_globals *gl)
{
	__u32 key = 0;

	return update(dp->skel->maps.globals, &key, sizeof(key), gl,
		      sizeof(*gl));
}

int dp_set_guest(struct dp *dp, uint32_t id, const struct gona_guest *v)
{
	if (id >= dp->max_guests)
		return -ERANGE;
	return update(dp->skel->maps.guests, &id, sizeof(id), v, sizeof(*v));
}

/* An entry of no interface: a frame its filter still runs for drops. */
int dp_del_guest(struct dp *dp, uint32_t id)
{
	struct gona_guest none = { .id = id };

	return dp_set_guest(dp, id, &none);
}

static struct gona_mac_key mac_key(const uint8_t mac[6])
{
	struct gona_mac_key k = { 0 };

	memcpy(k.addr, mac, 6);
	return k;
}

void dp_mac_filter_tidy(struct dp *dp)
{
	int r;

	if (!dp->mac_filter_stale)
		return;
	r = mac_filter_rebuild(dp);
	if (r && !dp->mac_filter_warned)
		log_warnx("cannot rebuild the data path's filter of guest "
			  "MACs (%s): the MACs of guests gone still cost a "
			  "look-up; retrying each sample",
			  strerror(-r));
	dp->mac_filter_warned = r != 0;
}

int dp_set_mac(struct dp *dp, const uint8_t mac[6], const struct gona_port *p)
{
	struct gona_mac_key k = mac_key(mac);
	__u32 h = gona_mac_hash(&k);
	int r;

	/* The filter's bit first: the data path looks a MAC up only when
	 * its bit is set. */
	if (!gona_mac_filter_has(&dp->mac_filter, h)) {
		gona_mac_filter_add(&dp->mac_filter, h);
		r = mac_filter_write(dp, &dp->mac_filter);
		if (r) {
			dp->mac_filter.bits[h / 64] &= ~(1ull << (h % 64));
			return r;
		}
	}
	return update(dp->skel->maps.guest_by_mac, &k, sizeof(k), p,
		      sizeof(*p));
}

int dp_del_mac(struct dp *dp, const uint8_t mac[6])
{
	struct gona_mac_key k = mac_key(mac);

	/* Its bit stays until the next rebuild (another MAC may share it). */
	dp->mac_filter_stale = true;
	return delete (dp->skel->maps.guest_by_mac, &k, sizeof(k));
}

/* Write (SET) or remove the guest's allowed source addresses. */
static int addrs(struct dp *dp, uint32_t id, const struct conf_guest *cg,
		 bool set)
{
	__u8 one = 1;
	int r = 0;

	for (size_t i = 0; i < cg->n_ipv4 && !r; i++) {
		struct gona_ip4_key k = { .id = id,
					  .addr = cg->ipv4[i].s_addr };

		r = set ? update(dp->skel->maps.guest_ip4, &k, sizeof(k), &one,
				 sizeof(one))
			: delete (dp->skel->maps.guest_ip4, &k, sizeof(k));
	}
	for (size_t i = 0; i < cg->n_ipv6 && !r; i++) {
		struct gona_ip6_key k = { .id = id };

		memcpy(k.addr, &cg->ipv6[i], 16);
		r = set ? update(dp->skel->maps.guest_ip6, &k, sizeof(k), &one,
				 sizeof(one))
			: delete (dp->skel->maps.guest_ip6, &k, sizeof(k));
	}
	return r;
}

int dp_set_addrs(struct dp *dp, uint32_t id, const struct conf_guest *cg)
{
	return addrs(dp, id, cg, true);
}

int dp_del_addrs(struct dp *dp, uint32_t id, const struct conf_guest *cg)
{
	return addrs(dp, id, cg, false);
}

int dp_guest_id_by_mac(struct dp *dp, const uint8_t mac[6], uint32_t *id)
{
	struct gona_mac_key k = mac_key(mac);
	struct gona_port p;
	int r;

	r = bpf_map__lookup_elem(dp->skel->maps.guest_by_mac, &k, sizeof(k), &p,
				 sizeof(p), 0);
	if (!r)
		*id = p.id;
	return r;
}

int dp_uplink_slot(struct dp *dp, int ifindex, uint32_t *slot)
{
	__u32 key = (__u32)ifindex, v;
	int r;

	r = bpf_map__lookup_elem(dp->skel->maps.uplink_by_ifindex, &key,
				 sizeof(key), &v, sizeof(v), 0);
	if (!r)
		*slot = v;
	return r;
}

int dp_get_owned(struct dp *dp, int ifindex, uint32_t *flags)
{
	__u32 key = (__u32)ifindex, v = 0;
	int r;

	r = bpf_map__lookup_elem(dp->skel->maps.owned, &key, sizeof(key), &v,
				 sizeof(v), 0);
	*flags = r ? 0 : v;
	return r == -ENOENT ? 0 : r;
}

int dp_set_owned(struct dp *dp, int ifindex, uint32_t flags)
{
	__u32 key = (__u32)ifindex, v = flags;

	if (ifindex <= 0)
		return -EINVAL;
	if (!flags)
		return delete (dp->skel->maps.owned, &key, sizeof(key));
	return update(dp->skel->maps.owned, &key, sizeof(key), &v, sizeof(v));
}

int dp_read_owned(struct dp *dp, struct dp_owned **out, size_t *n)
{
	struct bpf_map *map = dp->skel->maps.owned;
	size_t cap = dp->max_guests + GONA_MAX_UPLINKS, k = 0;
	struct dp_owned *v = calloc(cap, sizeof(*v));
	__u32 key, next;
	bool first = true;

	if (!v)
		return -ENOMEM;
	while (k < cap && !bpf_map__get_next_key(map, first ? NULL : &key,
						 &next, sizeof(next))) {
		__u32 flags;

		key = next;
		first = false;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &flags,
					 sizeof(flags), 0))
			continue;
		v[k].ifindex = (int)key;
		v[k].flags = flags;
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

int dp_set_flood(struct dp *dp, uint32_t id, const struct gona_port *p)
{
	return update(dp->skel->maps.flood, &id, sizeof(id), p, sizeof(*p));
}

int dp_set_trunk(struct dp *dp, uint32_t id, const uint64_t vlans[64])
{
	struct gona_trunk t;

	_Static_assert(sizeof(t.bits) == 64 * sizeof(vlans[0]), "trunk bits");
	memcpy(t.bits, vlans, sizeof(t.bits));
	return update(dp->skel->maps.guest_trunk, &id, sizeof(id), &t,
		      sizeof(t));
}

int dp_set_pacing(struct dp *dp, uint32_t id, uint64_t rate_bps,
		  uint64_t horizon_ns)
{
	struct gona_pacing p = { 0 };
	struct timespec ts;
	uint64_t now;

	/* A missing entry reads as zeros anyway. */
	bpf_map__lookup_elem(dp->skel->maps.pacing, &id, sizeof(id), &p,
			     sizeof(p), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	/*
	 * What the guest has queued ahead of now drains at the new rate: a
	 * raised rate ends its drops at once, a lowered one holds it back
	 * at once. Unpaced, or a new guest in a reused id, starts afresh.
	 */
	if (!rate_bps || !p.rate_bps)
		p.next_ns = 0;
	else if (p.next_ns > now)
		p.next_ns =
			now + (uint64_t)((unsigned __int128)(p.next_ns - now) *
					 p.rate_bps / rate_bps);
	if (p.next_ns > now + horizon_ns)
		p.next_ns = now + horizon_ns;
	p.rate_bps = rate_bps;
	p.horizon_ns = horizon_ns;
	return update(dp->skel->maps.pacing, &id, sizeof(id), &p, sizeof(p));
}

static int read_percpu(struct dp *dp, struct bpf_map *map, __u32 key,
		       struct gona_counters *sum)
{
	struct gona_counters *v;
	int r;

	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = bpf_map__lookup_elem(map, &key, sizeof(key), v,
				 sizeof(*v) * (size_t)dp->ncpus, 0);
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; !r && c < dp->ncpus; c++) {
		sum->tx_packets += v[c].tx_packets;
		sum->tx_bytes += v[c].tx_bytes;
		sum->rx_packets += v[c].rx_packets;
		sum->rx_bytes += v[c].rx_bytes;
		for (int d = 0; d < GONA_DROP_SLOTS; d++)
			sum->drops[d] += v[c].drops[d];
	}
	free(v);
	return r;
}

int dp_read_guest_stats(struct dp *dp, uint32_t id, struct gona_counters *sum)
{
	return read_percpu(dp, dp->skel->maps.guest_stats, id, sum);
}

int dp_read_uplink_stats(struct dp *dp, unsigned int slot,
			 struct gona_counters *sum)
{
	return read_percpu(dp, dp->skel->maps.uplink_stats, slot, sum);
}

int dp_read_guest_uplink_bytes(struct dp *dp, uint32_t id, unsigned int slot,
			       uint64_t *sum)
{
	__u32 key = GONA_GUEST_UPLINK_IDX(id, slot);
	uint64_t *v = calloc((size_t)dp->ncpus, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	r = bpf_map__lookup_elem(dp->skel->maps.guest_uplink_bytes, &key,
				 sizeof(key), v, sizeof(*v) * (size_t)dp->ncpus,
				 0);
	*sum = 0;
	for (int c = 0; !r && c < dp->ncpus; c++)
		*sum += v[c];
	free(v);
	return r;
}

int dp_read_flows(struct dp *dp, struct dp_flow **out, size_t *n)
{
	struct bpf_map *map = dp->skel->maps.flows;
	struct gona_flow_key k, next;
	struct dp_flow *v = NULL;
	size_t cap = 0, used = 0;
	bool first = true;

	*out = NULL;
	*n = 0;
	while (!bpf_map__get_next_key(map, first ? NULL : &k, &next,
				      sizeof(next))) {
		struct gona_flow f;

		first = false;
		k = next;
		if (bpf_map__lookup_elem(map, &k, sizeof(k), &f, sizeof(f), 0))
			continue; /* gone meanwhile */
		if (used == cap) {
			struct dp_flow *w;

			cap = cap ? cap * 2 : 256;
			w = realloc(v, cap * sizeof(*v));
			if (!w) {
				free(v);
				return -ENOMEM;
			}
			v = w;
		}
		v[used++] = (struct dp_flow){ .key = k,
					      .slot = f.slot,
					      .bytes = f.bytes };
		if (used >= GONA_MAX_FLOWS)
			break;
	}
	*out = v;
	*n = used;
	return 0;
}

int dp_move_flow(struct dp *dp, const struct gona_flow_key *k,
		 unsigned int slot, uint64_t wait_ms)
{
	struct bpf_map *map = dp->skel->maps.flows;
	struct gona_flow f;
	struct timespec ts;
	int r;

	r = bpf_map__lookup_elem(map, k, sizeof(*k), &f, sizeof(f), 0);
	if (r)
		return r;
	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	f.next_slot = slot;
	f.move_by_ns = (uint64_t)ts.tv_sec * 1000000000ull +
		       (uint64_t)ts.tv_nsec + wait_ms * 1000000ull;
	return bpf_map__update_elem(map, k, sizeof(*k), &f, sizeof(f),
				    BPF_EXIST);
}

/* Zero the per-CPU counters of keys FROM..TO - 1. */
static int zero_percpu(struct dp *dp, struct bpf_map *map, __u32 from, __u32 to)
{
	struct gona_counters *v;
	int r = 0;

	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 i = from; i < to && !r; i++)
		r = update(map, &i, sizeof(i), v,
			   sizeof(*v) * (size_t)dp->ncpus);
	free(v);
	return r;
}

/* Every entry of `guests`, max_guests of them, in batches: NULL, or
 * what the kernel refused (*ERR). */
static struct gona_guest *read_guests(struct dp *dp, int *err)
{
	size_t n = dp->max_guests;
	struct gona_guest *v = calloc(n, sizeof(*v));
	__u32 *keys = calloc(n, sizeof(*keys));
	__u32 batch = 0, count;
	size_t got = 0;
	int fd = bpf_map__fd(dp->skel->maps.guests), r = 0;

	if (!v || !keys) {
		r = -ENOMEM;
		goto out;
	}
	while (got < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);

		count = (__u32)(n - got);
		r = bpf_map_lookup_batch(fd, got ? &batch : NULL, &batch,
					 keys + got, v + got, &count, &opts);
		got += count;
		if (r == -ENOENT) {
			r = 0;
			break;
		}
		if (r)
			break;
	}
out:
	free(keys);
	if (r) {
		free(v);
		v = NULL;
	}
	*err = r;
	return v;
}

int dp_read_guest_homes(struct dp *dp, uint32_t *homes)
{
	struct gona_guest *v;
	int r;

	memset(homes, 0, dp->max_guests * sizeof(*homes));
	v = read_guests(dp, &r);
	if (!v)
		return r;
	for (uint32_t id = 0; id < dp->max_guests; id++)
		if (v[id].ifindex)
			homes[id] = v[id].homes;
	free(v);
	return 0;
}

int dp_zero_guest_stats(struct dp *dp, uint32_t id)
{
	return zero_percpu(dp, dp->skel->maps.guest_stats, id, id + 1);
}

int dp_zero_uplink_stats(struct dp *dp, unsigned int slot)
{
	return zero_percpu(dp, dp->skel->maps.uplink_stats, slot, slot + 1);
}

int dp_zero_stats(struct dp *dp)
{
	int r = zero_percpu(dp, dp->skel->maps.guest_stats, 0, dp->max_guests);

	return r ? r
		 : zero_percpu(dp, dp->skel->maps.uplink_stats, 0,
			       GONA_MAX_UPLINKS);
}

/* Whether the current state owns a key of one of the hash maps. */
static bool owns_guest_ifindex(const struct gonad *g, const void *key)
{
	__u32 ifi;

	memcpy(&ifi, key, sizeof(ifi));
	for (size_t i = 0; i < g->n_guests; i++)
		if (g->guests[i]->attached &&
		    (__u32)g->guests[i]->ifindex == ifi)
			return true;
	return false;
}

static bool owns_mac(const struct gonad *g, const void *key)
{
	const struct gona_mac_key *k = key;

	for (size_t i = 0; i < g->n_guests; i++)
		if (!memcmp(g->guests[i]->conf.mac, k->addr, 6))
			return true;
	return false;
}

static bool owns_ip4(const struct gonad *g, const void *key)
{
	const struct gona_ip4_key *k = key;

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		if (gu->id != k->id)
			continue;
		for (size_t a = 0; a < gu->conf.n_ipv4; a++)
			if (gu->conf.ipv4[a].s_addr == k->addr)
				return true;
	}
	return false;
}

static bool owns_ip6(const struct gonad *g, const void *key)
{
	const struct gona_ip6_key *k = key;

	for (size_t i = 0; i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		if (gu->id != k->id)
			continue;
		for (size_t a = 0; a < gu->conf.n_ipv6; a++)
			if (!memcmp(&gu->conf.ipv6[a], k->addr, 16))
				return true;
	}
	return false;
}

static bool owns_uplink_ifindex(const struct gonad *g, const void *key)
{
	__u32 ifi;

	memcpy(&ifi, key, sizeof(ifi));
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].attached &&
		    (__u32)g->uplinks[i].ifindex == ifi)
			return true;
	return false;
}

static bool owns_vf_pf(const struct gonad *g, const void *key)
{
	__u32 ifi;

	memcpy(&ifi, key, sizeof(ifi));
	for (size_t i = 0; i < g->n_uplinks; i++)
		if (g->uplinks[i].attached &&
		    (__u32)g->uplinks[i].vf.pf_ifindex == ifi)
			return true;
	return false;
}

static bool owns_ifindex(const struct gonad *g, const void *key)
{
	return owns_guest_ifindex(g, key) || owns_uplink_ifindex(g, key);
}

static int prune(struct bpf_map *map, const struct gonad *g,
		 bool (*owns)(const struct gonad *, const void *))
{
	size_t ksz = bpf_map__key_size(map);
	char key[64], next[64];
	bool first = true;
	int r;

	if (ksz > sizeof(key))
		return -EINVAL;
	/* Deleting the current key would restart the walk; step first. */
	for (;;) {
		r = bpf_map__get_next_key(map, first ? NULL : key, next, ksz);
		if (r == -ENOENT)
			break;
		if (r)
			return r;
		if (!first && !owns(g, key))
			delete (map, key, ksz);
		memcpy(key, next, ksz);
		first = false;
	}
	if (!first && !owns(g, key))
		delete (map, key, ksz);
	return 0;
}

int dp_prune_guests(struct dp *dp, const struct gonad *g)
{
	int r = prune(dp->skel->maps.guest_by_mac, g, owns_mac);

	dp->mac_filter_stale = true;
	if (!r)
		r = prune(dp->skel->maps.guest_ip4, g, owns_ip4);
	if (!r)
		r = prune(dp->skel->maps.guest_ip6, g, owns_ip6);
	return r;
}

/* The entries of `guests` that name an interface no guest of that id is
 * attached to now are cleared. */
static int prune_guests(struct dp *dp, const struct gonad *g)
{
	__u32 *ifindex = calloc(dp->max_guests, sizeof(*ifindex));
	struct gona_guest *v;
	int r = -ENOMEM;

	v = ifindex ? read_guests(dp, &r) : NULL;
	for (size_t i = 0; v && i < g->n_guests; i++) {
		const struct guest *gu = g->guests[i];

		if (gu->attached && gu->id < dp->max_guests)
			ifindex[gu->id] = (__u32)gu->ifindex;
	}
	for (uint32_t id = 0; v && id < dp->max_guests && !r; id++)
		if (v[id].ifindex && v[id].ifindex != ifindex[id])
			r = dp_del_guest(dp, id);
	free(ifindex);
	free(v);
	return r;
}

int dp_prune(struct dp *dp, const struct gonad *g)
{
	struct gona_skel_maps {
		struct bpf_map *map;
		bool (*owns)(const struct gonad *, const void *);
	} maps[] = {
		{ dp->skel->maps.guest_by_mac, owns_mac },
		{ dp->skel->maps.guest_ip4, owns_ip4 },
		{ dp->skel->maps.guest_ip6, owns_ip6 },
		{ dp->skel->maps.uplink_by_ifindex, owns_uplink_ifindex },
		{ dp->skel->maps.vf_pfs, owns_vf_pf },
		{ dp->skel->maps.owned, owns_ifindex },
	};
	int r = 0;

	dp->mac_filter_stale = true;
	r = prune_guests(dp, g);
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]) && !r; i++)
		r = prune(maps[i].map, g, maps[i].owns);
	return r;
}
