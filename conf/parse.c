/* SPDX-License-Identifier: MIT */
/* Reading gona.conf with libconfig: every setting goes through the same
 * setters as a live edit, and any key they do not know is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "conf/internal.h"

/* Far more than any configuration of CONF_GUESTS_LIMIT guests needs; a
 * bigger file is a mistake (or /dev/zero), not a configuration. */
#define FILE_MAX (16 << 20)

struct parser {
	const char *file;
	struct conf_err *err;
};

typedef int (*set_fn)(void *obj, const char *key, const char *value,
		      struct conf_err *err);

/* What libconfig type a key takes. Setters get text, so the parser alone
 * sees types, and refuses the wrong ones instead of reading true as a
 * rate or 1.5 as a weight. */
enum kind {
	K_NAME, /* the object's name, read before anything else */
	K_STR,
	K_INT,
	K_NUM, /* a rate or a size: a string with units, or an integer */
	K_BOOL,
	K_STRS, /* a string, or an array or list of strings */
	K_INTS, /* an integer, or an array or list of them: one comma list */
	K_GROUP,
};

struct key {
	const char *name;
	enum kind kind;
	const struct key *sub; /* K_GROUP: its members */
	const char *example; /* K_NUM: how one is written */
};

static const struct key monitor_keys[] = {
	{ .name = "type", .kind = K_STR },
	{ .name = "target", .kind = K_STR },
	{ .name = "interval_ms", .kind = K_INT },
	{ .name = "missed", .kind = K_INT },
	{ .name = "vlan", .kind = K_INT },
	{ .name = NULL },
};

static const struct key lacp_keys[] = {
	{ .name = "group", .kind = K_STR },
	{ .name = "rate", .kind = K_STR },
	{ .name = "active", .kind = K_BOOL },
	{ .name = "system_priority", .kind = K_INT },
	{ .name = "port_priority", .kind = K_INT },
	{ .name = "key", .kind = K_INT },
	{ .name = NULL },
};

static const struct key uplink_keys[] = {
	{ .name = "name", .kind = K_NAME },
	{ .name = "device", .kind = K_STR },
	{ .name = "capacity", .kind = K_NUM, .example = "10G" },
	{ .name = "group", .kind = K_STR },
	{ .name = "monitor", .kind = K_GROUP, .sub = monitor_keys },
	{ .name = "lacp", .kind = K_GROUP, .sub = lacp_keys },
	{ .name = NULL },
};

static const struct key tx_keys[] = {
	{ .name = "min", .kind = K_NUM, .example = "1G" },
	{ .name = "max", .kind = K_NUM, .example = "4G" },
	{ .name = "weight", .kind = K_INT },
	{ .name = "burst", .kind = K_NUM, .example = "64K" },
	{ .name = NULL },
};

static const struct key rx_keys[] = {
	{ .name = "max", .kind = K_NUM, .example = "4G" },
	{ .name = NULL },
};

static const struct key guest_keys[] = {
	{ .name = "name", .kind = K_NAME },
	{ .name = "device", .kind = K_STR },
	{ .name = "mac", .kind = K_STR },
	{ .name = "ipv4", .kind = K_STRS },
	{ .name = "ipv6", .kind = K_STRS },
	{ .name = "tx", .kind = K_GROUP, .sub = tx_keys },
	{ .name = "rx", .kind = K_GROUP, .sub = rx_keys },
	{ .name = "spread", .kind = K_INT },
	{ .name = "primary", .kind = K_STR },
	{ .name = "priority", .kind = K_INT },
	{ .name = "vlan", .kind = K_INT },
	{ .name = "vlans", .kind = K_INTS },
	{ .name = NULL },
};

static const struct key policy_keys[] = {
	{ .name = "rebalance_interval_ms", .kind = K_INT },
	{ .name = "rebalance_threshold", .kind = K_INT },
	{ .name = "rebalance_holddown_ms", .kind = K_INT },
	{ .name = "failback", .kind = K_BOOL },
	{ .name = "flow_table", .kind = K_BOOL },
	{ .name = "updelay_ms", .kind = K_INT },
	{ .name = "downdelay_ms", .kind = K_INT },
	{ .name = "notify_count", .kind = K_INT },
	{ .name = "notify_interval_ms", .kind = K_INT },
	{ .name = "broadcast_pps", .kind = K_INT },
	{ .name = "admission", .kind = K_STR },
	{ .name = "degrade", .kind = K_STR },
	{ .name = "qos_backend", .kind = K_STR },
	{ .name = NULL },
};

static const struct key test_keys[] = {
	{ .name = "mac", .kind = K_STR },
	{ .name = "ipv4", .kind = K_STRS },
	{ .name = "ipv6", .kind = K_STRS },
	{ .name = "vlan", .kind = K_INT },
	{ .name = NULL },
};

static const struct key daemon_keys[] = {
	{ .name = "socket", .kind = K_STR },
	{ .name = "pin_dir", .kind = K_STR },
	{ .name = "keep_datapath_on_stop", .kind = K_BOOL },
	{ .name = "max_guests", .kind = K_INT },
	{ .name = "metrics", .kind = K_STR },
	{ .name = "test", .kind = K_GROUP, .sub = test_keys },
	{ .name = NULL },
};

static int line_of(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

/* Put FILE:LINE in front of the message the setters wrote. */
static int at_line(struct parser *p, int line)
{
	char msg[CONF_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", p->err->msg);
	snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d: %.400s", p->file,
		 line, msg);
	return -EINVAL;
}

static int at(struct parser *p, const config_setting_t *s)
{
	return at_line(p, line_of(s));
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

static bool is_int(const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

static bool is_string(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_STRING;
}

/* The value of S as the text a user would type on gonactl's command line,
 * or NULL if S is not of kind K. */
static const char *text_of(const config_setting_t *s, enum kind k, char *buf,
			   size_t len)
{
	if (is_string(s) && (k == K_STR || k == K_NUM || k == K_STRS))
		return config_setting_get_string(s);
	if (is_int(s) && (k == K_INT || k == K_NUM || k == K_INTS)) {
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		return buf;
	}
	if (config_setting_type(s) == CONFIG_TYPE_BOOL && k == K_BOOL)
		return config_setting_get_bool(s) ? "true" : "false";
	return NULL;
}

static int wrong_type(struct parser *p, const config_setting_t *s,
		      const char *obj, const char *key, const struct key *k)
{
	switch (k->kind) {
	case K_INT:
		return fail_at(p, s, "%s: %s must be an integer", obj, key);
	case K_NUM:
		return fail_at(p, s,
			       "%s: %s must be a string such as \"%s\" or an "
			       "integer",
			       obj, key, k->example);
	case K_BOOL:
		return fail_at(p, s, "%s: %s must be true or false", obj, key);
	case K_INTS:
		return fail_at(p, s,
			       "%s: %s must be an integer or an array of "
			       "integers",
			       obj, key);
	case K_STRS:
		return fail_at(p, s,
			       "%s: %s must be a string or an array of "
			       "strings",
			       obj, key);
	case K_GROUP:
		return fail_at(p, s, "%s: %s must be a group { ... }", obj,
			       key);
	default:
		return fail_at(p, s, "%s: %s must be a string", obj, key);
	}
}

static const struct key *find_key(const struct key *keys, const char *name)
{
	for (; keys->name; keys++)
		if (!strcmp(keys->name, name))
			return keys;
	return NULL;
}

/*
 * The integers of array or list M, as one comma-separated value of KEY:
 * the setter sees the whole list (and so its duplicates) at once.
 */
static int feed_ints(struct parser *p, const config_setting_t *m,
		     const char *obj, const char *key, const struct key *k,
		     set_fn set, void *target)
{
	int n = config_setting_length(m), r = 0;
	/* Room for every value as the widest integer and a comma. */
	size_t len = (size_t)n * 22 + 1, off = 0;
	char *list;

	if (!n)
		return fail_at(p, m, "%s: %s is an empty list", obj, key);
	list = malloc(len);
	if (!list)
		return fail_at(p, m, "%s: %s: out of memory", obj, key);
	for (int j = 0; j < n && !r; j++) {
		const config_setting_t *e =
			config_setting_get_elem(m, (unsigned int)j);

		if (!is_int(e))
			r = wrong_type(p, e, obj, key, k);
		else
			off += (size_t)snprintf(list + off, len - off, "%s%lld",
						j ? "," : "",
						config_setting_get_int64(e));
	}
	if (!r && set(target, key, list, p->err))
		r = at(p, m);
	free(list);
	return r;
}

/*
 * Feed every member of the group G of OBJ to SET, as "PREFIXmember". Keys
 * not in KEYS are refused before their type is looked at, so that a typo
 * is reported as one whatever its value.
 */
static int feed(struct parser *p, const config_setting_t *g, const char *obj,
		const char *prefix, const struct key *keys, set_fn set,
		void *target)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m =
			config_setting_get_elem(g, (unsigned int)i);
		const struct key *k = find_key(keys, config_setting_name(m));
		char key[128], buf[32];
		const char *v;
		int r;

		snprintf(key, sizeof(key), "%s%s", prefix,
			 config_setting_name(m));
		if (!k)
			return fail_at(p, m, "%s: unknown key \"%s\"", obj,
				       key);
		if (k->kind == K_NAME)
			continue;
		if (k->kind == K_GROUP) {
			char sub[sizeof(key) + 1];

			if (!config_setting_is_group(m))
				return wrong_type(p, m, obj, key, k);
			snprintf(sub, sizeof(sub), "%s.", key);
			r = feed(p, m, obj, sub, k->sub, set, target);
			if (r)
				return r;
			continue;
		}
		if (k->kind == K_STRS &&
		    (config_setting_is_array(m) || config_setting_is_list(m))) {
			for (int j = 0; j < config_setting_length(m); j++) {
				const config_setting_t *e =
					config_setting_get_elem(
						m, (unsigned int)j);

				if (!is_string(e))
					return wrong_type(p, e, obj, key, k);
				if (set(target, key,
					config_setting_get_string(e), p->err))
					return at(p, e);
			}
			continue;
		}
		if (k->kind == K_INTS &&
		    (config_setting_is_array(m) || config_setting_is_list(m))) {
			r = feed_ints(p, m, obj, key, k, set, target);
			if (r)
				return r;
			continue;
		}
		v = text_of(m, k->kind, buf, sizeof(buf));
		if (!v)
			return wrong_type(p, m, obj, key, k);
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
	const config_setting_t *mon, *lacp;
	char obj[CONF_NAME_MAX + 8];
	const char *name;
	int r;

	r = object_name(p, s, "uplink", index, &name);
	if (r)
		return r;
	conf_uplink_init(u, name);
	u->line = line_of(s);
	snprintf(obj, sizeof(obj), "uplink %s", name);
	r = feed(p, s, obj, "", uplink_keys, set_uplink, u);
	if (r)
		return r;
	/* A monitor group without a type would print as nothing at all. */
	mon = config_setting_get_member(s, "monitor");
	if (mon && u->monitor.type == CONF_MON_NONE)
		return fail_at(p, mon, "%s: monitor needs a type (arp or ns)",
			       obj);
	/* Nor would a lacp group without a group: it joins nothing. */
	lacp = config_setting_get_member(s, "lacp");
	if (lacp && !u->lacp.group[0])
		return fail_at(p, lacp,
			       "%s: lacp needs a group (the link aggregation "
			       "group's name)",
			       obj);
	return 0;
}

static int parse_guest(struct parser *p, const config_setting_t *s, int index,
		       struct conf_guest *g)
{
	char obj[CONF_NAME_MAX + 8];
	const char *name;
	int r;

	r = object_name(p, s, "guest", index, &name);
	if (r)
		return r;
	conf_guest_init(g, name);
	g->line = line_of(s);
	snprintf(obj, sizeof(obj), "guest %s", name);
	return feed(p, s, obj, "", guest_keys, set_guest, g);
}

/* uplinks = ( {...}, ... ) and guests likewise; an empty [ ] too, since
 * that is how some write an empty list. */
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
	static const struct key top[] = {
		{ .name = "policy", .kind = K_GROUP, .sub = policy_keys },
		{ .name = "daemon", .kind = K_GROUP, .sub = daemon_keys },
		{ .name = NULL },
	};

	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s =
			config_setting_get_elem(root, (unsigned int)i);
		const char *key = config_setting_name(s);
		int line = config_setting_source_line(s), r;

		if (!strcmp(key, "uplinks"))
			c->uplinks_line = line;
		else if (!strcmp(key, "policy"))
			c->policy_line = line;
		else if (!strcmp(key, "daemon"))
			c->daemon_line = line;
		if (!strcmp(key, "uplinks"))
			r = parse_list(p, s, "uplink", (void **)&c->uplinks,
				       &c->n_uplinks, sizeof(*c->uplinks),
				       one_uplink);
		else if (!strcmp(key, "guests"))
			r = parse_list(p, s, "guest", (void **)&c->guests,
				       &c->n_guests, sizeof(*c->guests),
				       one_guest);
		else if (!find_key(top, key))
			r = fail_at(p, s, "unknown key \"%s\"", key);
		else if (!config_setting_is_group(s))
			r = fail_at(p, s, "%s must be a group { ... }", key);
		else if (!strcmp(key, "policy"))
			r = feed(p, s, "policy", "", policy_keys, set_policy,
				 &c->policy);
		else
			r = feed(p, s, "daemon", "", daemon_keys, set_daemon,
				 &c->daemon);
		if (r)
			return r;
	}
	return 0;
}

/* The whole file, NUL-terminated, or a negative errno. */
static int read_all(const char *file, char **out, size_t *len)
{
	size_t n = 0, cap = 8192;
	char *buf, *nb;
	struct stat st;
	int fd, r = 0;
	ssize_t got;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A file read whole at once: room for what it holds now (it may
	 * still grow meanwhile, which the loop takes). */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= FILE_MAX)
		cap = (size_t)st.st_size + 2;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n + 1 == cap) {
			if (cap > FILE_MAX) {
				r = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (!got)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (r) {
		free(buf);
		return r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static bool name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '*';
}

static bool digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Whether the number token T (of N characters) is an integer libconfig 1.5
 * reads as an int and cannot hold: it stores it cut to 32 bits, without a
 * word, so that 10000000000 would become 1410065408. */
static bool int_overflows(const char *t, size_t n)
{
	char tok[64], *end;
	size_t i = 0;
	long long v;

	if (n >= sizeof(tok))
		n = sizeof(tok) - 1;
	memcpy(tok, t, n);
	tok[n] = '\0';
	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
		unsigned long long h;

		for (i = 2; tok[i]; i++)
			if (!strchr("0123456789abcdefABCDEF", tok[i]))
				return false; /* hex64 (L) or not an int */
		if (i == 2)
			return false;
		errno = 0;
		h = strtoull(tok, &end, 16);
		return errno == ERANGE || h > 0x7fffffff;
	}
	if (tok[0] == '-' || tok[0] == '+')
		i = 1;
	if (!tok[i])
		return false;
	for (; tok[i]; i++)
		if (!digit(tok[i]))
			return false; /* float, integer64 (L) or garbage */
	errno = 0;
	v = strtoll(tok, &end, 10);
	return errno == ERANGE || v > 2147483647 || v < -2147483647 - 1;
}

/*
 * What libconfig 1.5 takes without a word but gets wrong: integers that do
 * not fit in 32 bits (cut silently), NUL bytes (the rest of the file
 * ignored) and @include (read relative to the working directory, with
 * line numbers of the other file). A lexer of libconfig's own tokens, so
 * that strings and comments are skipped.
 */
static int scan(struct parser *p, const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	int line = 1;
	size_t i = 0;

	/* Anywhere, comments included: libconfig would stop reading there. */
	if (nul) {
		for (const char *q = s; q < nul; q++)
			line += *q == '\n';
		snprintf(p->err->msg, sizeof(p->err->msg),
			 "NUL byte in the file");
		return at_line(p, line);
	}
	while (i < len) {
		char ch = s[i];

		if (ch == '\n') {
			line++;
			i++;
		} else if (ch == '#' ||
			   (ch == '/' && i + 1 < len && s[i + 1] == '/')) {
			while (i < len && s[i] != '\n')
				i++;
		} else if (ch == '/' && i + 1 < len && s[i + 1] == '*') {
			for (i += 2; i < len; i++) {
				if (s[i] == '*' && i + 1 < len &&
				    s[i + 1] == '/') {
					i += 2;
					break;
				}
				if (s[i] == '\n')
					line++;
			}
		} else if (ch == '"') {
			int start = line;

			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				if (s[i] == '\n')
					line++;
			}
			/* libconfig refuses it too, but loses memory. */
			if (i >= len) {
				snprintf(p->err->msg, sizeof(p->err->msg),
					 "a string that does not end");
				return at_line(p, start);
			}
			i++;
		} else if (ch == '@' && !strncmp(s + i, "@include", 8)) {
			snprintf(p->err->msg, sizeof(p->err->msg),
				 "@include is not supported: gona reads one "
				 "file");
			return at_line(p, line);
		} else if ((ch >= 'A' && ch <= 'Z') ||
			   (ch >= 'a' && ch <= 'z') || ch == '*') {
			while (i < len && name_char(s[i]))
				i++;
		} else if (digit(ch) ||
			   ((ch == '-' || ch == '+' || ch == '.') &&
			    i + 1 < len &&
			    (digit(s[i + 1]) || s[i + 1] == '.'))) {
			size_t start = i;

			for (i++; i < len; i++) {
				char c = s[i], prev = s[i - 1];

				if (digit(c) || c == '.' || c == '_' ||
				    (c >= 'A' && c <= 'Z') ||
				    (c >= 'a' && c <= 'z'))
					continue;
				if ((c == '-' || c == '+') &&
				    (prev == 'e' || prev == 'E'))
					continue;
				break;
			}
			if (int_overflows(s + start, i - start)) {
				snprintf(p->err->msg, sizeof(p->err->msg),
					 "integer %.*s does not fit in 32 "
					 "bits (write %.*sL, or a rate as a "
					 "string such as \"10G\")",
					 (int)(i - start > 40 ? 40 : i - start),
					 s + start,
					 (int)(i - start > 40 ? 40 : i - start),
					 s + start);
				return at_line(p, line);
			}
		} else {
			i++;
		}
	}
	return 0;
}

int conf_load_text(const char *file, const char *text, size_t len,
		   struct conf **out, struct conf_err *err)
{
	struct parser p = { .file = file, .err = err };
	struct conf *c;
	config_t cfg;
	int r;

	*out = NULL;
	r = scan(&p, text, len);
	if (r)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", file);
		return -ENOMEM;
	}
	conf_defaults(c);
	config_init(&cfg);
	if (!config_read_string(&cfg, text)) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s", file,
			 config_error_line(&cfg), config_error_text(&cfg));
		r = -EINVAL;
	} else {
		r = parse_root(&p, config_root_setting(&cfg), c);
		if (!r)
			r = conf_check(c, file, err);
	}
	config_destroy(&cfg);
	if (r) {
		conf_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int conf_load(const char *file, struct conf **out, struct conf_err *err)
{
	size_t len = 0;
	char *text = NULL;
	int r;

	*out = NULL;
	/* Read here rather than by libconfig, whose scanner exits the
	 * process when reading fails (a directory, say). */
	r = read_all(file, &text, &len);
	if (r) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot read: %s",
			 file, strerror(-r));
		return r;
	}
	r = conf_load_text(file, text, len, out, err);
	free(text);
	return r;
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
		errno = ENOMEM;
		return NULL;
	}
	if (c->n_uplinks)
		memcpy(d->uplinks, c->uplinks,
		       c->n_uplinks * sizeof(*d->uplinks));
	if (c->n_guests)
		memcpy(d->guests, c->guests, c->n_guests * sizeof(*d->guests));
	return d;
}
