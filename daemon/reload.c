/* SPDX-License-Identifier: MIT */
/* Changing the running configuration as a whole: reloading the file
 * (SIGHUP, gonactl reload), gonactl's guest and uplink add and del, and
 * writing the running configuration back (gonactl save). A new
 * configuration is checked in full before anything changes, then only
 * its difference with the running one is applied. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/gonad.h"
#include "daemon/names.h"

/* Equal but for where they were written. */
static bool same_guest(const struct conf_guest *a, const struct conf_guest *b)
{
	struct conf_guest x = *a, y = *b;

	x.line = y.line = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static bool same_uplink(const struct conf_uplink *a,
			const struct conf_uplink *b)
{
	struct conf_uplink x = *a, y = *b;

	x.line = y.line = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/* The guests by name: through IX if it could be built (each loop below
 * looks up every guest; a linear search each is quadratic). */
static struct guest *guest_named(struct gonad *g, const struct names *ix,
				 const char *name)
{
	return ix->name ? names_get(ix, name) : state_guest(g, name);
}

static void index_guests(struct gonad *g, struct names *ix)
{
	if (names_init(ix, g->n_guests))
		return; /* guest_named searches */
	for (size_t i = 0; i < g->n_guests; i++)
		names_put(ix, g->guests[i]->conf.name, g->guests[i]);
}

/* What only a restart can change: the socket and pins gonad holds, and
 * the backend and size its data path was built for. */
static int restart_only(const struct conf *old, const struct conf *nc,
			uint32_t room, char *err, size_t len)
{
	const char *key = NULL;

	if (strcmp(old->daemon.socket, nc->daemon.socket))
		key = "daemon.socket";
	else if (strcmp(old->daemon.pin_dir, nc->daemon.pin_dir))
		key = "daemon.pin_dir";
	else if (old->policy.qos_backend != nc->policy.qos_backend)
		key = "policy.qos_backend";
	else if (old->daemon.max_guests != nc->daemon.max_guests &&
		 nc->daemon.max_guests != room)
		/* Back to the room of the data path running is no change. */
		key = "daemon.max_guests";
	if (!key)
		return 0;
	snprintf(err, len,
		 "%s cannot change while gonad runs (restart gonad for it); "
		 "nothing changed",
		 key);
	return -EINVAL;
}

struct tally {
	unsigned int added, removed, changed;
};

/* Append to the message in BUF (OFF bytes so far), cut at LEN. */
static void say(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	*off = n < 0 || *off + (size_t)n >= len ? len - 1 : *off + (size_t)n;
}

static void tally_str(char *buf, size_t len, size_t *off, const char *what,
		      const struct tally *t)
{
	if (!t->added && !t->removed && !t->changed)
		return;
	say(buf, len, off, "%s%s", *off ? "; " : "", what);
	if (t->added)
		say(buf, len, off, " %u added", t->added);
	if (t->removed)
		say(buf, len, off, " %u removed", t->removed);
	if (t->changed)
		say(buf, len, off, " %u changed", t->changed);
}

int reload_apply(struct gonad *g, struct conf *nc, const char *origin,
		 char *msg, size_t len)
{
	struct conf *old = g->conf;
	struct tally tg = { 0 }, tu = { 0 };
	struct metrics *metrics = NULL;
	struct names ix = { 0 };
	bool relink = false, policy, keep, remetric;
	const struct conf_guest *over;
	char why[320], unshaped[128] = "", where[PATH_MAX + 16];
	size_t off = 0, uoff = 0;
	int r, line = 0;

	r = restart_only(old, nc, dp_max_guests(g->dp), why, sizeof(why));
	if (!r && nc->n_guests > dp_max_guests(g->dp)) {
		/* Below daemon.max_guests while a data path made for fewer
		 * runs (dp_open). */
		snprintf(why, sizeof(why),
			 "%zu guests, more than the running data path has room "
			 "for (%u; daemon.max_guests applies when it is "
			 "rebuilt); nothing changed",
			 nc->n_guests, dp_max_guests(g->dp));
		r = -ENOSPC;
		line = nc->guests[dp_max_guests(g->dp)].line;
	}
	if (!r && (r = state_admit(nc, why, sizeof(why), &over))) {
		strncat(why, "; nothing changed",
			sizeof(why) - strlen(why) - 1);
		line = over ? over->line : 0;
	}
	if (!r && (r = state_vlans_carried(g, nc, NULL, why, sizeof(why))))
		strncat(why, "; nothing changed",
			sizeof(why) - strlen(why) - 1);
	/* A new metrics address is listened on before anything changes:
	 * one that cannot be (taken, not here) refuses the reload. */
	remetric = strcmp(old->daemon.metrics, nc->daemon.metrics) != 0;
	if (!r && remetric && nc->daemon.metrics[0] &&
	    (r = metrics_open(g, nc->daemon.metrics, &metrics, why,
			      sizeof(why)))) {
		strncat(why, "; nothing changed",
			sizeof(why) - strlen(why) - 1);
		line = nc->daemon_line;
	}
	if (r) {
		if (origin)
			snprintf(msg, len, "%s: %s",
				 conf_where(origin, line, where, sizeof(where)),
				 why);
		else
			snprintf(msg, len, "%s", why);
		conf_free(nc);
		return r;
	}

	/* Checked: from here on it is applied. The new policy holds for
	 * every step (delays, failback, degrade). */
	policy = memcmp(&old->policy, &nc->policy, sizeof(nc->policy)) != 0;
	keep = old->daemon.keep_datapath_on_stop !=
	       nc->daemon.keep_datapath_on_stop;
	g->conf = nc;
	if (remetric) {
		metrics_close(g, g->metrics);
		g->metrics = metrics;
	}
	/* The guests the new configuration names, those it does not go. */
	if (names_init(&ix, nc->n_guests))
		ix.name = NULL;
	for (size_t i = 0; ix.name && i < nc->n_guests; i++)
		names_put(&ix, nc->guests[i].name, &nc->guests[i]);
	for (size_t i = g->n_guests; i-- > 0;) {
		struct guest *gu = g->guests[i];

		if (!(ix.name ? names_get(&ix, gu->conf.name) != NULL
			      : conf_guest_find(nc, gu->conf.name) != NULL)) {
			state_guest_del(g, gu);
			tg.removed++;
		}
	}
	names_free(&ix);
	for (size_t i = 0; i < g->n_uplinks; i++) {
		struct uplink *u = &g->uplinks[i];

		if (u->conf.name[0] && !conf_uplink_find(nc, u->conf.name)) {
			state_uplink_del(g, u);
			tu.removed++;
		}
	}
	for (size_t i = 0; i < nc->n_uplinks; i++) {
		struct uplink *u = state_uplink(g, nc->uplinks[i].name);

		if (!u) {
			if (!state_uplink_add(g, &nc->uplinks[i]))
				tu.added++;
			relink = true;
		} else if (!same_uplink(&u->conf, &nc->uplinks[i])) {
			bool shaped = u->qos_made, moved;

			moved = state_uplink_change(g, u, &nc->uplinks[i]);
			relink |= moved;
			tu.changed++;
			/* Its tree could not be rebuilt in place (the log
			 * says why): the reply says so too. */
			if (shaped && !moved && !u->qos_made)
				say(unshaped, sizeof(unshaped), &uoff, "%s%s",
				    uoff ? ", " : "", u->conf.name);
		}
	}
	/* MACs are unique across guests: all changed ones go (with the
	 * interfaces that change, whose detaching rewrites the MAC's entry)
	 * before any is set, so that two guests may swap theirs. */
	index_guests(g, &ix);
	for (size_t i = 0; i < nc->n_guests; i++) {
		struct guest *gu = guest_named(g, &ix, nc->guests[i].name);

		if (gu && strcmp(gu->conf.device, nc->guests[i].device))
			state_guest_unlink(g, gu);
	}
	for (size_t i = 0; i < nc->n_guests; i++) {
		struct guest *gu = guest_named(g, &ix, nc->guests[i].name);

		if (gu && memcmp(gu->conf.mac, nc->guests[i].mac, 6))
			state_guest_unmac(g, gu);
	}
	for (size_t i = 0; i < nc->n_guests; i++) {
		struct guest *gu = guest_named(g, &ix, nc->guests[i].name);

		if (!gu) {
			if (!state_guest_add(g, &nc->guests[i]))
				tg.added++;
			relink = true;
		} else if (!same_guest(&gu->conf, &nc->guests[i])) {
			relink |= state_guest_change(g, gu, &nc->guests[i]);
			tg.changed++;
		}
	}
	names_free(&ix);
	state_guest_order(g, nc);
	/* New devices are found, and new guests placed and attached, by a
	 * link dump, as at start. */
	if (relink && (r = nlmon_resync(g->nl)))
		log_warnx("reload: cannot re-read the links: %s; devices are "
			  "attached as their events come",
			  strerror(-r));
	state_settle(g);
	if (old->policy.rebalance_interval_ms !=
	    nc->policy.rebalance_interval_ms)
		gonad_set_interval(g, nc->policy.rebalance_interval_ms);
	conf_free(old);

	tally_str(msg, len, &off, "guests", &tg);
	tally_str(msg, len, &off, "uplinks", &tu);
	if (policy)
		say(msg, len, &off, "%spolicy changed", off ? "; " : "");
	if (remetric)
		say(msg, len, &off, "%sdaemon.metrics %s", off ? "; " : "",
		    nc->daemon.metrics[0] ? nc->daemon.metrics : "off");
	if (keep)
		say(msg, len, &off, "%sdaemon.keep_datapath_on_stop %s",
		    off ? "; " : "",
		    nc->daemon.keep_datapath_on_stop ? "on" : "off");
	if (uoff)
		say(msg, len, &off,
		    "; unshaped: uplink %s, whose qdisc could not be rebuilt "
		    "(the log says why)",
		    unshaped);
	if (!off)
		snprintf(msg, len, "nothing changed");
	return 0;
}

int reload_file(struct gonad *g, char *msg, size_t len)
{
	struct conf_err err;
	struct conf *nc;
	char done[CONF_ERR_MAX + 64];
	int r;

	r = conf_load(g->conf_file, &nc, &err);
	if (r) {
		snprintf(done, sizeof(done), "%s; nothing changed", err.msg);
	} else if ((r = selftest_keep(g, nc, err.msg, sizeof(err.msg)))) {
		snprintf(done, sizeof(done), "%s: %s; nothing changed",
			 g->conf_file, err.msg);
		conf_free(nc);
	} else {
		r = reload_apply(g, nc, g->conf_file, done, sizeof(done));
	}
	if (r) {
		g->reloads_failed++;
		snprintf(g->reload_error, sizeof(g->reload_error), "%s", done);
		log_warnx("reload refused: %s", done);
		snprintf(msg, len, "%s", done);
		return r;
	}
	g->reloads_ok++;
	g->reload_error[0] = '\0';
	g->reloaded_ms = now_ms();
	log_info("reloaded %s: %s", g->conf_file, done);
	snprintf(msg, len, "reloaded %s: %s", g->conf_file, done);
	return 0;
}

/* Write C to PATH through a file beside it, so that PATH is always whole:
 * the old file or the new one. */
static int write_whole(const char *path, const struct conf *c, mode_t mode)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	conf_print(f, c);
	if (fflush(f) || fsync(fd))
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* Copy FROM to TO (the previous configuration, kept). */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[8192], tmp[PATH_MAX];
	int in, out, r = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
	if (n < 0 && !r)
		r = -errno;
	if (!r && fsync(out))
		r = -errno;
	close(in);
	if (close(out) && !r)
		r = -errno;
	if (!r && rename(tmp, to) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int reload_save(struct gonad *g, char *msg, size_t len)
{
	const char *path = g->conf_file;
	char bak[PATH_MAX];
	struct stat st;
	mode_t mode = 0644;
	int r;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	if (snprintf(bak, sizeof(bak), "%s.bak", path) >= (int)sizeof(bak)) {
		snprintf(msg, len, "%s: name too long for a backup", path);
		return -ENAMETOOLONG;
	}
	r = copy_file(path, bak, mode);
	if (r) {
		snprintf(msg, len,
			 "%s: cannot keep the previous file as %s: %s", path,
			 bak, strerror(-r));
		return r;
	}
	r = write_whole(path, g->conf, mode);
	if (r) {
		snprintf(msg, len, "%s: cannot write: %s", path, strerror(-r));
		return r;
	}
	log_info("running configuration saved to %s (previous file: %s)", path,
		 bak);
	snprintf(msg, len, "saved to %s (the previous file is %s)", path, bak);
	return 0;
}
