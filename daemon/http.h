/* SPDX-License-Identifier: MIT */
/* The little HTTP gonad speaks for its metrics: a request's head read
 * and judged, without I/O (pure: the unit tests and fuzzers link it). */
#ifndef GONA_HTTP_H
#define GONA_HTTP_H

#include <stddef.h>

/* A request head larger than this is refused (431) and the connection
 * closed: nothing gonad serves needs more. */
#define HTTP_HEAD_MAX 8192

enum http_verdict {
	HTTP_MORE, /* the head is not complete yet */
	HTTP_OK, /* GET of the one path served: 200 */
	HTTP_NOT_FOUND, /* any other method or path: 404 */
	HTTP_BAD, /* not an HTTP/1.x request: 400 */
	HTTP_TOO_BIG, /* no end of the head within HTTP_HEAD_MAX: 431 */
};

/*
 * Judge the LEN bytes received so far on a connection: whether they hold a
 * whole request head ("METHOD TARGET HTTP/1.x", header lines, an empty
 * line) asking for GET PATH (a query string after it is ignored).
 */
enum http_verdict http_judge(const char *buf, size_t len, const char *path);

/* The status line's code and reason for a verdict (not HTTP_MORE). */
int http_status(enum http_verdict v, const char **reason);

#endif
