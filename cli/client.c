/* SPDX-License-Identifier: MIT */
/* Talking to gonad, for gonactl's commands and for top: connecting to the
 * control socket, sending a request and collecting its reply records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CLI_REPLY_TIMEOUT_S };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot reach gonad at %s: %s", path,
			 strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* ARR (N records of SIZE) with REC appended, NULL if out of memory. */
static void *append(void *arr, size_t n, const void *rec, size_t size)
{
	char *a = realloc(arr, (n + 1) * size);

	if (a)
		memcpy(a + n * size, rec, size);
	return a;
}

/* One reply record into REP. */
static int collect(struct reply *rep, uint16_t type, const void *p, size_t plen)
{
	void *a;

	switch (type) {
	case CTL_REP_STATUS:
		memcpy(&rep->status, p, sizeof(rep->status));
		rep->have_status = true;
		return 0;
	case CTL_REP_UPLINK:
		a = append(rep->uplinks, rep->n_uplinks, p, plen);
		if (!a)
			return -ENOMEM;
		rep->uplinks = a;
		rep->n_uplinks++;
		return 0;
	case CTL_REP_GUEST:
		a = append(rep->guests, rep->n_guests, p, plen);
		if (!a)
			return -ENOMEM;
		rep->guests = a;
		rep->n_guests++;
		return 0;
	case CTL_REP_NOTE:
		snprintf(rep->note, sizeof(rep->note), "%s", (const char *)p);
		return 0;
	}
	return 0;
}

int cli_ask(int fd, uint16_t req, int argc, const char *const *argv,
	    struct reply *rep, char *err, size_t errlen)
{
	/* (with its most clients connected gonad closes a new one's
	 * connection before reading it) */
	static const char closed_early[] =
		"closed the connection before answering (its log says why)";
	static char buf[CTL_MSG_MAX];
	ssize_t len = ctl_req_encode(buf, sizeof(buf), req, argc, argv);

	if (len < 0) {
		snprintf(err, errlen, "arguments too long");
		return -E2BIG;
	}
	if (send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len) {
		int r = errno ? -errno : -EIO;

		if (r == -EPIPE || r == -ECONNRESET)
			snprintf(err, errlen, "%s", closed_early);
		else
			snprintf(err, errlen, "did not take the request: %s",
				 strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		char why[256];
		const void *p;
		uint16_t type;
		size_t plen;
		int r;

		if (n <= 0) {
			r = n == 0 ? -ECONNRESET : -errno;
			snprintf(err, errlen, "%s",
				 r == -ECONNRESET  ? closed_early
				 : errno == EAGAIN ? "did not answer"
						   : strerror(errno));
			return r;
		}
		if (n > (ssize_t)sizeof(buf) ||
		    ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, why,
				   sizeof(why))) {
			snprintf(err, errlen, "malformed reply from gonad: %s",
				 n > (ssize_t)sizeof(buf) ? "too long" : why);
			return -EBADMSG;
		}
		if (type == CTL_REP_DONE)
			return 0;
		if (type == CTL_REP_ERROR) {
			snprintf(err, errlen, "%s", (const char *)p);
			return -EPERM;
		}
		r = collect(rep, type, p, plen);
		if (r) {
			snprintf(err, errlen, "out of memory");
			return r;
		}
	}
}

void cli_reply_clear(struct reply *rep)
{
	free(rep->uplinks);
	free(rep->guests);
	memset(rep, 0, sizeof(*rep));
}
