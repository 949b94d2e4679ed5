/* SPDX-License-Identifier: MIT */
/* Reading gona.conf with libconfig: every setting goes through the same
 * setters as a live edit, and any key they do not know is an error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf/internal.h"

struct parser {
	const char *file;
	struct conf_err *err;
};

typedef int (*set_fn)(void *obj, const char *key, const char *value,
		      struct conf_err *err);

static int line_of(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* Put FILE:LINE of S in front of the message the setters wrote. */
static int at(struct parser *p, const config_setting_t *s)
{
	char msg[CONF_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", p->err->msg);
	snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d: %.400s", p->file,
		 line_of(s), msg);
	return -EINVAL;
}

static int fail_at(struct parser *p, const config_setting_t *s, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, const config_setting_t *s, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return at(p, s);
}

/* A scalar setting as the text the setters read: libconfig's typed values
 * become what a user would type on gonactl's command line. */
static const char *text_of(const config_setting_t *s, char *buf, size_t len)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return config_setting_get_string(s);
	case CONFIG_TYPE_INT:
		snprintf(buf, len, "%d", config_setting_get_int(s));
		return buf;
	case CONFIG_TYPE_INT64:
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		return buf;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, len, "%.17g", config_setting_get_float(s));
		return buf;
	case CONFIG_TYPE_BOOL:
		return config_setting_get_bool(s) ? "true" : "false";
	default:
		return NULL;
	}
}

static bool in_list(const char *key, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(key, *list))
			return true;
	return false;
}

/* A group or list where a value belongs: an unknown key says so, which
 * the setter knows; asked on a scratch copy, so nothing is touched. */
static int not_scalar(struct parser *p, const config_setting_t *m,
		      const char *obj, const char *key, set_fn set,
		      const void *target, size_t size)
{
	void *scratch = malloc(size);
	int r;

	if (!scratch)
		return fail_at(p, m, "out of memory");
	memcpy(scratch, target, size);
	r = set(scratch, key, "", p->err);
	free(scratch);
	if (r == -ENOENT)
		return at(p, m);
	return fail_at(p, m, "%s: %s must be a single value", obj, key);
}

/*
 * Feed every member of the group G of OBJ to SET. Members named in GROUPS
 * are groups whose members become "group.member"; members named in ARRAYS
 * may hold several values, each set in turn; SKIP is handled by the caller.
 */
static int feed(struct parser *p, const config_setting_t *g, const char *obj,
		set_fn set, void *target, size_t size,
		const char *const *groups, const char *const *arrays,
		const char *skip)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m =
			config_setting_get_elem(g, (unsigned int)i);
		const char *key = config_setting_name(m), *v;
		char buf[64], sub[96];

		if (skip && !strcmp(key, skip))
			continue;
		if (in_list(key, groups)) {
			if (!config_setting_is_group(m))
				return fail_at(p, m,
					       "%s: %s must be a group { ... }",
					       obj, key);
			for (int j = 0; j < config_setting_length(m); j++) {
				const config_setting_t *c =
					config_setting_get_elem(
						m, (unsigned int)j);

				snprintf(sub, sizeof(sub), "%s.%s", key,
					 config_setting_name(c));
				v = text_of(c, buf, sizeof(buf));
				if (!v)
					return fail_at(
						p, c,
						"%s: %s must be a single "
						"value",
						obj, sub);
				if (set(target, sub, v, p->err))
					return at(p, c);
			}
			continue;
		}
		if (in_list(key, arrays) && config_setting_is_aggregate(m) &&
		    !config_setting_is_group(m)) {
			for (int j = 0; j < config_setting_length(m); j++) {
				const config_setting_t *c =
					config_setting_get_elem(
						m, (unsigned int)j);

				v = text_of(c, buf, sizeof(buf));
				if (!v)
					return fail_at(
						p, c,
						"%s: %s holds values, not "
						"groups or lists",
						obj, key);
				if (set(target, key, v, p->err))
					return at(p, c);
			}
			continue;
		}
		v = text_of(m, buf, sizeof(buf));
		if (!v)
			return not_scalar(p, m, obj, key, set, target, size);
		if (set(target, key, v, p->err))
			return at(p, m);
	}
	return 0;
}

static int set_guest(void *obj, const char *key, const char *value,
		     struct conf_err *err)
{
	return conf_guest_set(obj, key, value, err);
}

static int set_uplink(void *obj, const char *key, const char *value,
		      struct conf_err *err)
{
	return conf_uplink_set(obj, key, value, err);
}

static int set_policy(void *obj, const char *key, const char *value,
		      struct conf_err *err)
{
	return conf_policy_set(obj, key, value, err);
}

static int set_daemon(void *obj, const char *key, const char *value,
		      struct conf_err *err)
{
	return conf_daemon_set(obj, key, value, err);
}

/* The name of the INDEXth object in list L: it comes first in messages. */
static int object_name(struct parser *p, const config_setting_t *s,
		       const char *kind, int index, const char **name)
{
	const config_setting_t *n;

	if (!config_setting_is_group(s))
		return fail_at(p, s, "%ss: entry %d is not a group { ... }",
			       kind, index + 1);
	n = config_setting_get_member(s, "name");
	if (!n)
		return fail_at(p, s, "%s #%d: no name", kind, index + 1);
	if (config_setting_type(n) != CONFIG_TYPE_STRING)
		return fail_at(p, n, "%s #%d: name must be a string", kind,
			       index + 1);
	*name = config_setting_get_string(n);
	if (!conf_name_ok(*name))
		return fail_at(p, n,
			       "%s \"%s\": a name is 1 to %d characters of "
			       "A-Z a-z 0-9 _ . -",
			       kind, *name, CONF_NAME_MAX - 1);
	return 0;
}

static int parse_uplink(struct parser *p, const config_setting_t *s, int index,
			struct conf_uplink *u)
{
	static const char *const groups[] = { "monitor", NULL };
	const config_setting_t *mon;
	char obj[CONF_NAME_MAX + 8];
	const char *name;
	int r;

	r = object_name(p, s, "uplink", index, &name);
	if (r)
		return r;
	conf_uplink_init(u, name);
	u->line = line_of(s);
	snprintf(obj, sizeof(obj), "uplink %s", name);
	r = feed(p, s, obj, set_uplink, u, sizeof(*u), groups, NULL, "name");
	if (r)
		return r;
	mon = config_setting_get_member(s, "monitor");
	if (mon && u->monitor.type == CONF_MON_NONE)
		return fail_at(p, mon, "%s: monitor needs a type (arp or ns)",
			       obj);
	return 0;
}

static int parse_guest(struct parser *p, const config_setting_t *s, int index,
		       struct conf_guest *g)
{
	static const char *const groups[] = { "tx", "rx", NULL };
	static const char *const arrays[] = { "ipv4", "ipv6", NULL };
	char obj[CONF_NAME_MAX + 8];
	const char *name;
	int r;

	r = object_name(p, s, "guest", index, &name);
	if (r)
		return r;
	conf_guest_init(g, name);
	g->line = line_of(s);
	snprintf(obj, sizeof(obj), "guest %s", name);
	return feed(p, s, obj, set_guest, g, sizeof(*g), groups, arrays,
		    "name");
}

/* uplinks = ( {...}, ... ) and guests likewise. */
static int parse_list(struct parser *p, const config_setting_t *s,
		      const char *kind, void **arr, size_t *n, size_t size,
		      int (*one)(struct parser *, const config_setting_t *, int,
				 void *))
{
	int len = config_setting_length(s);

	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return fail_at(p, s, "%ss must be a list ( {...}, {...} )",
			       kind);
	*arr = calloc(len ? (size_t)len : 1, size);
	if (!*arr)
		return fail_at(p, s, "out of memory");
	for (int i = 0; i < len; i++) {
		int r = one(p, config_setting_get_elem(s, (unsigned int)i), i,
			    (char *)*arr + (size_t)i * size);

		if (r)
			return r;
		(*n)++;
	}
	return 0;
}

static int one_uplink(struct parser *p, const config_setting_t *s, int i,
		      void *out)
{
	return parse_uplink(p, s, i, out);
}

static int one_guest(struct parser *p, const config_setting_t *s, int i,
		     void *out)
{
	return parse_guest(p, s, i, out);
}

static int parse_root(struct parser *p, const config_setting_t *root,
		      struct conf *c)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s =
			config_setting_get_elem(root, (unsigned int)i);
		const char *key = config_setting_name(s);
		int r;

		if (!strcmp(key, "uplinks"))
			r = parse_list(p, s, "uplink", (void **)&c->uplinks,
				       &c->n_uplinks, sizeof(*c->uplinks),
				       one_uplink);
		else if (!strcmp(key, "guests"))
			r = parse_list(p, s, "guest", (void **)&c->guests,
				       &c->n_guests, sizeof(*c->guests),
				       one_guest);
		else if (!strcmp(key, "policy") && config_setting_is_group(s))
			r = feed(p, s, "policy", set_policy, &c->policy,
				 sizeof(c->policy), NULL, NULL, NULL);
		else if (!strcmp(key, "daemon") && config_setting_is_group(s))
			r = feed(p, s, "daemon", set_daemon, &c->daemon,
				 sizeof(c->daemon), NULL, NULL, NULL);
		else if (!strcmp(key, "policy") || !strcmp(key, "daemon"))
			r = fail_at(p, s, "%s must be a group { ... }", key);
		else
			r = fail_at(p, s, "unknown key \"%s\"", key);
		if (r)
			return r;
	}
	return 0;
}

int conf_load(const char *file, struct conf **out, struct conf_err *err)
{
	struct parser p = { .file = file, .err = err };
	struct conf *c;
	config_t cfg;
	FILE *f;
	int r;

	*out = NULL;
	f = fopen(file, "r");
	if (!f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: cannot read: %s",
			 file, strerror(-r));
		return r;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		fclose(f);
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", file);
		return -ENOMEM;
	}
	conf_defaults(c);
	config_init(&cfg);
	if (!config_read(&cfg, f)) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", file,
			 config_error_line(&cfg), config_error_text(&cfg));
		r = -EINVAL;
	} else {
		r = parse_root(&p, config_root_setting(&cfg), c);
		if (!r)
			r = conf_check(c, file, err);
	}
	config_destroy(&cfg);
	fclose(f);
	if (r) {
		conf_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->uplinks);
	free(c->guests);
	free(c);
}

struct conf *conf_dup(const struct conf *c)
{
	struct conf *d = malloc(sizeof(*d));

	if (!d)
		return NULL;
	*d = *c;
	d->uplinks =
		malloc((c->n_uplinks ? c->n_uplinks : 1) * sizeof(*d->uplinks));
	d->guests =
		malloc((c->n_guests ? c->n_guests : 1) * sizeof(*d->guests));
	if (!d->uplinks || !d->guests) {
		conf_free(d);
		return NULL;
	}
	memcpy(d->uplinks, c->uplinks, c->n_uplinks * sizeof(*d->uplinks));
	memcpy(d->guests, c->guests, c->n_guests * sizeof(*d->guests));
	return d;
}
