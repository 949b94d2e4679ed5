/* SPDX-License-Identifier: MIT */
/* A request head judged for the metrics server (see http.h): only what
 * decides the answer is read; a body, if any, is never looked at. */
#include <string.h>

#include "daemon/http.h"

/* The end of the head: after "\r\n\r\n" (or a bare "\n\n"), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i - 1] == '\n')
			return buf + i + 1;
		if (i >= 3 && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 3] == '\r')
			return buf + i + 1;
	}
	return NULL;
}

static int is_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A character of a request target: visible ASCII. */
static int is_vchar(char c)
{
	return c > ' ' && c < 0x7f;
}

enum http_verdict http_judge(const char *buf, size_t len, const char *path)
{
	const char *end =
		head_end(buf, len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX);
	const char *p = buf, *m, *t, *q;
	size_t mlen, tlen, plen = strlen(path);

	if (!end)
		return len >= HTTP_HEAD_MAX ? HTTP_TOO_BIG : HTTP_MORE;
	/* Header lines are not interpreted; a NUL or another control
	 * character in the head is not HTTP. */
	for (q = buf; q < end; q++)
		if ((unsigned char)*q < ' ' && *q != '\r' && *q != '\n' &&
		    *q != '\t')
			return HTTP_BAD;
	m = p;
	while (p < end && is_tchar(*p))
		p++;
	mlen = (size_t)(p - m);
	if (!mlen || p >= end || *p++ != ' ')
		return HTTP_BAD;
	t = p;
	while (p < end && is_vchar(*p))
		p++;
	tlen = (size_t)(p - t);
	if (!tlen || p >= end || *p++ != ' ')
		return HTTP_BAD;
	if ((size_t)(end - p) < 10 || memcmp(p, "HTTP/1.", 7) || p[7] < '0' ||
	    p[7] > '9' || !(p[8] == '\n' || (p[8] == '\r' && p[9] == '\n')))
		return HTTP_BAD;
	q = memchr(t, '?', tlen);
	if (q)
		tlen = (size_t)(q - t);
	if (mlen == 3 && !memcmp(m, "GET", 3) && tlen == plen &&
	    !memcmp(t, path, plen))
		return HTTP_OK;
	return HTTP_NOT_FOUND;
}

int http_status(enum http_verdict v, const char **reason)
{
	switch (v) {
	case HTTP_OK:
		*reason = "OK";
		return 200;
	case HTTP_NOT_FOUND:
		*reason = "Not Found";
		return 404;
	case HTTP_TOO_BIG:
		*reason = "Request Header Fields Too Large";
		return 431;
	case HTTP_MORE:
	case HTTP_BAD:
		break;
	}
	*reason = "Bad Request";
	return 400;
}
