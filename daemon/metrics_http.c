/* SPDX-License-Identifier: MIT */
/* The metrics endpoint (daemon.metrics): a TCP listener in gonad's event
 * loop answering GET /metrics with metrics.c's text, one request per
 * connection. Whatever a client does, it cannot hold gonad: sockets never
 * block, requests are read into a bounded buffer (http.c judges them),
 * at most METRICS_CLIENTS connections are kept (a new one closes the
 * oldest, after the new one's request, if sent, is read), and each has
 * METRICS_DEADLINE_MS to send its request and as long again to take the
 * answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/gonad.h"
#include "daemon/http.h"

#define METRICS_CLIENTS 32
#define METRICS_DEADLINE_MS 5000

enum mc_phase {
	MC_READING, /* the request head, not complete yet */
	MC_WRITING, /* the answer */
	MC_DRAINING, /* answered: what the client still sends is read and
		      * dropped until it closes, so that closing does not
		      * reset the connection before it has the answer */
};

struct mclient {
	struct ev_source src;
	struct metrics *m;
	struct mclient *next; /* in accept order: the oldest first */
	enum mc_phase phase;
	uint64_t due_ms; /* closed if the phase is not over by then */
	size_t in_len;
	char in[HTTP_HEAD_MAX];
	char *out;
	size_t out_len;
	size_t out_off;
};

struct metrics {
	struct gonad *g;
	struct ev_source listen;
	struct ev_source timer; /* the deadlines, once a second */
	struct mclient *clients;
	int n_clients;
	uint64_t served;
};

static void client_close(struct metrics *m, struct mclient *c)
{
	struct mclient **p;

	for (p = &m->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ev_del(m->g, &c->src);
	close(c->src.fd);
	free(c->out);
	free(c);
	m->n_clients--;
}

/* The answer to a verdict, whole, in c->out. */
static int answer(struct mclient *c, enum http_verdict v)
{
	char *body = NULL, *all = NULL;
	size_t blen = 0, alen = 0;
	const char *reason;
	int code = http_status(v, &reason), r = 0;
	FILE *f;

	f = open_memstream(&body, &blen);
	if (!f)
		return -ENOMEM;
	if (v == HTTP_OK)
		r = metrics_write(f, c->m->g);
	else
		fprintf(f, "%d %s\n", code, reason);
	if (fclose(f) || r) {
		free(body);
		return r ? r : -ENOMEM;
	}
	f = open_memstream(&all, &alen);
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	fprintf(f,
		"HTTP/1.1 %d %s\r\n"
		"Content-Type: %s\r\n"
		"Content-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		code, reason,
		v == HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
			     : "text/plain; charset=utf-8",
		blen);
	fwrite(body, 1, blen, f);
	free(body);
	if (fclose(f)) {
		free(all);
		return -ENOMEM;
	}
	c->out = all;
	c->out_len = alen;
	return 0;
}

static void client_write(struct metrics *m, struct mclient *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->src.fd, c->out + c->out_off,
			 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_close(m, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->src.fd, SHUT_WR);
	free(c->out);
	c->out = NULL;
	c->phase = MC_DRAINING;
	c->due_ms = now_ms() + METRICS_DEADLINE_MS;
	if (ev_mod(m->g, &c->src, EPOLLIN))
		client_close(m, c);
}

static void client_read(struct metrics *m, struct mclient *c)
{
	char sink[4096];
	enum http_verdict v;
	ssize_t n;

	if (c->phase == MC_DRAINING) {
		do
			n = recv(c->src.fd, sink, sizeof(sink), 0);
		while (n > 0 || (n < 0 && errno == EINTR));
		if (n == 0 || errno != EAGAIN)
			client_close(m, c);
		return;
	}
	n = recv(c->src.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone before its request was whole: nothing to answer. */
		client_close(m, c);
		return;
	}
	c->in_len += (size_t)n;
	v = http_judge(c->in, c->in_len, "/metrics");
	if (v == HTTP_MORE)
		return;
	if (answer(c, v)) {
		log_warnx("metrics: cannot make an answer: out of memory");
		client_close(m, c);
		return;
	}
	m->served++;
	c->phase = MC_WRITING;
	c->due_ms = now_ms() + METRICS_DEADLINE_MS;
	if (ev_mod(m->g, &c->src, EPOLLOUT)) {
		client_close(m, c);
		return;
	}
	client_write(m, c);
}

static void client_ready(struct ev_source *src, uint32_t events)
{
	struct mclient *c = src->arg;
	struct metrics *m = c->m;

	if (c->phase == MC_WRITING && (events & EPOLLOUT))
		client_write(m, c);
	else if (events & EPOLLIN)
		client_read(m, c);
	else if (events & (EPOLLERR | EPOLLHUP))
		client_close(m, c);
}

static void arm(struct metrics *m, bool on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_value.tv_sec = 1;
		its.it_interval.tv_sec = 1;
	}
	timerfd_settime(m->timer.fd, 0, &its, NULL);
}

static void accept_ready(struct ev_source *src, uint32_t events)
{
	struct metrics *m = src->arg;
	struct mclient *c, **tail;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(m->listen.fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_warn("metrics: accept");
			return;
		}
		/* Full: the oldest goes, a slow client more likely than not. */
		if (m->n_clients >= METRICS_CLIENTS)
			client_close(m, m->clients);
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->m = m;
		c->src = (struct ev_source){ .fd = fd,
					     .ready = client_ready,
					     .arg = c };
		c->phase = MC_READING;
		c->due_ms = now_ms() + METRICS_DEADLINE_MS;
		if (ev_add(m->g, &c->src, EPOLLIN)) {
			close(fd);
			free(c);
			continue;
		}
		for (tail = &m->clients; *tail; tail = &(*tail)->next)
			;
		*tail = c;
		if (!m->n_clients++)
			arm(m, true);
		/* Its request, if here already, is read now: a burst of
		 * connections behind it in the backlog would otherwise
		 * close it, the oldest by then, before it had a turn. */
		client_read(m, c);
	}
}

static void timer_ready(struct ev_source *src, uint32_t events)
{
	struct metrics *m = src->arg;
	struct mclient *c, *next;
	uint64_t now = now_ms(), ticks;

	(void)events;
	if (read(m->timer.fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn("metrics: timer");
	for (c = m->clients; c; c = next) {
		next = c->next;
		if (now >= c->due_ms)
			client_close(m, c);
	}
	if (!m->n_clients)
		arm(m, false);
}

static int listen_on(const char *addr, char *err, size_t len)
{
	struct conf_listen l;
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, one = 1;

	if (conf_parse_listen(addr, &l)) {
		snprintf(err, len, "metrics: \"%s\" is not an address and port",
			 addr);
		return -EINVAL;
	}
	if (l.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(l.port);
		memcpy(&s4->sin_addr, l.addr, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l.port);
		memcpy(&s6->sin6_addr, l.addr, 16);
		sl = sizeof(*s6);
	}
	fd = socket(l.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64))
		goto fail;
	return fd;
fail:
	snprintf(err, len, "metrics: cannot listen on %s: %s", addr,
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

int metrics_open(struct gonad *g, const char *addr, struct metrics **out,
		 char *err, size_t len)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int fd, r;

	*out = NULL;
	if (!m) {
		snprintf(err, len, "metrics: out of memory");
		return -ENOMEM;
	}
	m->g = g;
	m->timer.fd = -1;
	fd = listen_on(addr, err, len);
	if (fd < 0) {
		free(m);
		return fd;
	}
	m->listen =
		(struct ev_source){ .fd = fd, .ready = accept_ready, .arg = m };
	m->timer.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	m->timer.ready = timer_ready;
	m->timer.arg = m;
	r = m->timer.fd < 0 ? -errno : 0;
	if (!r)
		r = ev_add(g, &m->listen, EPOLLIN);
	if (!r) {
		r = ev_add(g, &m->timer, EPOLLIN);
		if (r)
			ev_del(g, &m->listen);
	}
	if (r) {
		snprintf(err, len, "metrics: %s", strerror(-r));
		if (m->timer.fd >= 0)
			close(m->timer.fd);
		close(fd);
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

void metrics_close(struct gonad *g, struct metrics *m)
{
	if (!m)
		return;
	while (m->clients)
		client_close(m, m->clients);
	ev_del(g, &m->listen);
	ev_del(g, &m->timer);
	close(m->listen.fd);
	close(m->timer.fd);
	free(m);
}
