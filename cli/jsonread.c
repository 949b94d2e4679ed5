/* SPDX-License-Identifier: MIT */
/* Reading JSON (iperf3's -J output, for gonactl test failover): a walk
 * over a document that hands every scalar to a callback with its path,
 * "end.sum.lost_packets" or "intervals[3].sum.packets". Checked as it
 * goes: malformed input, or nesting deeper than JR_DEPTH, is an error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define JR_DEPTH 32
#define JR_PATH 256

struct walk {
	const char *p, *end;
	char path[JR_PATH];
	jr_fn cb;
	void *arg;
	int depth;
};

static void ws(struct walk *w)
{
	while (w->p < w->end && strchr(" \t\r\n", *w->p))
		w->p++;
}

/* A string token; *S and *N its contents, escapes left as they are. */
static int string(struct walk *w, const char **s, size_t *n)
{
	if (w->p >= w->end || *w->p != '"')
		return -EINVAL;
	*s = ++w->p;
	while (w->p < w->end && *w->p != '"') {
		if (*w->p == '\\')
			w->p++;
		w->p++;
	}
	if (w->p >= w->end)
		return -EINVAL;
	*n = (size_t)(w->p - *s);
	w->p++;
	return 0;
}

static int value(struct walk *w);

/* Extend the path by ".KEY" or "[I]" for a member, and put it back. */
static int member(struct walk *w, const char *key, size_t klen, long idx)
{
	size_t was = strlen(w->path);
	int n, r;

	if (key)
		n = snprintf(w->path + was, sizeof(w->path) - was, "%s%.*s",
			     was ? "." : "", (int)klen, key);
	else
		n = snprintf(w->path + was, sizeof(w->path) - was, "[%ld]",
			     idx);
	if (n < 0 || (size_t)n >= sizeof(w->path) - was)
		return -E2BIG;
	r = value(w);
	w->path[was] = '\0';
	return r;
}

static int value(struct walk *w)
{
	const char *s;
	size_t n;
	long i = 0;
	int r;

	ws(w);
	if (w->p >= w->end)
		return -EINVAL;
	if (*w->p == '{' || *w->p == '[') {
		char close = *w->p == '{' ? '}' : ']';
		bool obj = *w->p == '{';

		if (++w->depth > JR_DEPTH)
			return -E2BIG;
		w->p++;
		ws(w);
		if (w->p < w->end && *w->p == close) {
			w->p++;
			w->depth--;
			return 0;
		}
		for (;;) {
			ws(w);
			if (obj) {
				const char *k;
				size_t kn;

				r = string(w, &k, &kn);
				ws(w);
				if (r || w->p >= w->end || *w->p++ != ':')
					return -EINVAL;
				r = member(w, k, kn, 0);
			} else {
				r = member(w, NULL, 0, i++);
			}
			if (r)
				return r;
			ws(w);
			if (w->p >= w->end)
				return -EINVAL;
			if (*w->p == ',') {
				w->p++;
				continue;
			}
			if (*w->p++ != close)
				return -EINVAL;
			w->depth--;
			return 0;
		}
	}
	if (*w->p == '"') {
		r = string(w, &s, &n);
		if (!r)
			w->cb(w->path, s, n, w->arg);
		return r;
	}
	s = w->p;
	while (w->p < w->end && !strchr(",]} \t\r\n", *w->p))
		w->p++;
	n = (size_t)(w->p - s);
	if (!n)
		return -EINVAL;
	w->cb(w->path, s, n, w->arg);
	return 0;
}

int jr_walk(const char *buf, size_t len, jr_fn cb, void *arg)
{
	struct walk w = { .p = buf, .end = buf + len, .cb = cb, .arg = arg };
	int r = value(&w);

	if (r)
		return r;
	ws(&w);
	return w.p == w.end ? 0 : -EINVAL;
}
