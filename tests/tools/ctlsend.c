/* SPDX-License-Identifier: MIT */
/* A test tool that sends gonad malformed control requests and prints the
 * error it answers, to show every one is refused cleanly; and that times
 * a guest set or uplink set from gonad's side of the socket (the request
 * sent, the change made, the answer back) without a process start in the
 * way, printing the milliseconds it took and when (CLOCK_MONOTONIC, us)
 * it was sent; and that sends gonad requests without reading the answers
 * (pipeline), to show such a client cannot make gonad hoard replies; and
 * that holds connections doing nothing (hold), to show they cannot lock
 * other clients out. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"

static char buf[CTL_MSG_MAX + 8192];

static size_t craft(const char *kind)
{
	struct ctl_hdr h = { .magic = CTL_MAGIC,
			     .version = CTL_VERSION,
			     .type = CTL_REQ_STATUS };
	size_t len = sizeof(h);

	if (!strcmp(kind, "short")) {
		memcpy(buf, &h, 8);
		return 8;
	} else if (!strcmp(kind, "magic")) {
		h.magic = 0xdeadbeef;
	} else if (!strcmp(kind, "version")) {
		h.version = CTL_VERSION + 1;
	} else if (!strcmp(kind, "length")) {
		h.len = 1000; /* claims more than is sent */
		memcpy(buf, &h, sizeof(h));
		return sizeof(h);
	} else if (!strcmp(kind, "type")) {
		h.type = 99;
	} else if (!strcmp(kind, "unterminated")) {
		h.type = CTL_REQ_GUEST_SHOW;
		h.argc = 1;
		memcpy(buf + len, "abc", 3);
		len += 3;
	} else if (!strcmp(kind, "argc")) {
		h.type = CTL_REQ_GUEST_SHOW;
		h.argc = 3; /* one string sent */
		memcpy(buf + len, "abc", 4);
		len += 4;
	} else if (!strcmp(kind, "trailing")) {
		memcpy(buf + len, "junk", 4);
		len += 4;
	} else if (!strcmp(kind, "args")) {
		h.type = CTL_REQ_GUEST_SHOW;
		h.argc = 2;
		memcpy(buf + len, "a\0b", 4);
		len += 4;
	} else if (!strcmp(kind, "oversize")) {
		len = sizeof(buf);
		memset(buf + sizeof(h), 'x', len - sizeof(h));
	} else {
		fprintf(stderr, "ctlsend: unknown case %s\n", kind);
		exit(2);
	}
	if (!h.len)
		h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	return len;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Send up to COUNT stats requests on FD and read none of the answers,
 * until gonad takes no more for a second; print how many it took, then
 * hold the connection HOLD_MS ms (the caller measures gonad meanwhile).
 */
static int pipeline(int fd, long count, long hold_ms)
{
	ssize_t len = ctl_req_encode(buf, sizeof(buf), CTL_REQ_STATS, 0, NULL);
	long sent = 0;

	if (len < 0) {
		fprintf(stderr, "ctlsend: cannot encode: %s\n",
			strerror((int)-len));
		return 2;
	}
	while (sent < count) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		if (send(fd, buf, (size_t)len, MSG_DONTWAIT) == len) {
			sent++;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			perror("ctlsend: send");
			return 1;
		}
		if (poll(&p, 1, 1000) <= 0)
			break;
	}
	printf("%ld\n", sent);
	fflush(stdout);
	usleep((useconds_t)hold_ms * 1000);
	return 0;
}

/*
 * Connect COUNT times and send nothing; print how many connected, hold
 * them HOLD_MS ms, then print how many gonad has closed meanwhile.
 */
static int hold(const struct sockaddr_un *sa, long count, long hold_ms)
{
	long connected = 0, closed = 0;
	int *fds = calloc((size_t)count, sizeof(int));

	if (!fds)
		return 2;
	for (long i = 0; i < count; i++) {
		fds[i] = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (const struct sockaddr *)sa, sizeof(*sa))) {
			perror("ctlsend: connect");
			break;
		}
		connected++;
	}
	printf("%ld\n", connected);
	fflush(stdout);
	usleep((useconds_t)hold_ms * 1000);
	for (long i = 0; i < connected; i++) {
		char c;

		if (recv(fds[i], &c, 1, MSG_DONTWAIT) == 0)
			closed++;
		close(fds[i]);
	}
	free(fds);
	printf("%ld\n", closed);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	uint16_t req = 0;
	bool timed, piped = false, held;
	const void *p;
	size_t len = 0, plen;
	uint16_t type;
	char err[256];
	uint64_t t0 = 0;
	ssize_t n;
	int fd;

	if (argc > 3 && !strcmp(argv[2], "guest-set"))
		req = CTL_REQ_GUEST_SET;
	else if (argc > 3 && !strcmp(argv[2], "uplink-set"))
		req = CTL_REQ_UPLINK_SET;
	timed = req != 0;
	piped = argc == 5 && !strcmp(argv[2], "pipeline");
	held = argc == 5 && !strcmp(argv[2], "hold");
	if ((argc != 3 && !timed && !piped && !held) ||
	    strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr,
			"usage: ctlsend SOCKET CASE\n"
			"       ctlsend SOCKET guest-set|uplink-set NAME KEY "
			"VALUE...\n"
			"       ctlsend SOCKET pipeline COUNT HOLD_MS\n"
			"       ctlsend SOCKET hold COUNT HOLD_MS\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	if (held)
		return hold(&sa, atol(argv[3]), atol(argv[4]));
	if (timed) {
		n = ctl_req_encode(buf, sizeof(buf), req, argc - 3,
				   (const char *const *)argv + 3);
		if (n < 0) {
			fprintf(stderr, "ctlsend: cannot encode: %s\n",
				strerror((int)-n));
			return 2;
		}
		len = (size_t)n;
	} else if (!piped) {
		len = craft(argv[2]);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("ctlsend: connect");
		return 2;
	}
	if (piped)
		return pipeline(fd, atol(argv[3]), atol(argv[4]));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now_us();
	if (send(fd, buf, len, 0) != (ssize_t)len) {
		perror("ctlsend: send");
		return 2;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0) {
		fprintf(stderr, "ctlsend: no reply: %s\n",
			n ? strerror(errno) : "connection closed");
		return 1;
	}
	if (ctl_rep_decode(buf, (size_t)n, &type, &p, &plen, err,
			   sizeof(err))) {
		fprintf(stderr, "ctlsend: bad reply: %s\n", err);
		return 1;
	}
	/* A guest set may say something first (CTL_REP_NOTE). */
	while (timed && type == CTL_REP_NOTE) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || ctl_rep_decode(buf, (size_t)n, &type, &p, &plen,
					     err, sizeof(err))) {
			fprintf(stderr, "ctlsend: no answer after a note\n");
			return 1;
		}
	}
	if (timed) {
		if (type != CTL_REP_DONE) {
			fprintf(stderr, "ctlsend: refused: %s\n",
				type == CTL_REP_ERROR ? (const char *)p : "?");
			return 1;
		}
		printf("%.1f %llu\n", (double)(now_us() - t0) / 1000,
		       (unsigned long long)t0);
		return 0;
	}
	if (type != CTL_REP_ERROR) {
		fprintf(stderr, "ctlsend: reply type %u, not an error\n", type);
		return 1;
	}
	printf("%s\n", (const char *)p);
	return 0;
}
