/* SPDX-License-Identifier: MIT */
/* gonad's logging: to stderr in the foreground, to stderr with sd-daemon(3)
 * priority prefixes under systemd (its journal reads them), to syslog as
 * a daemon of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon/gonad.h"

static bool log_stderr = true;
static bool log_prefix; /* "<N>" before each line, for the journal */
static int log_verbose;

void log_init(bool foreground, int verbose)
{
	log_stderr = foreground || svc_managed();
	log_prefix = !foreground && svc_managed();
	log_verbose = verbose;
	if (!log_stderr)
		openlog("gonad", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_vmsg(int prio, const char *fmt, va_list ap)
{
	if (prio == LOG_DEBUG && !log_verbose)
		return;
	if (log_stderr) {
		/* One write per line: a line is never split by another
		 * writer, and logging costs one system call in the event
		 * loop (a failover logs on its way). */
		char buf[1200];
		int n = log_prefix ? snprintf(buf, sizeof(buf), "<%d>", prio)
				   : 0;
		int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt,
				  ap);

		n += m > 0 ? m : 0;
		if (n > (int)sizeof(buf) - 2)
			n = (int)sizeof(buf) - 2;
		buf[n++] = '\n';
		fwrite(buf, 1, (size_t)n, stderr);
		fflush(stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
}

/* Append ": strerror(errno)" to the message, keeping errno for the caller. */
static void log_errno(int prio, const char *fmt, va_list ap)
{
	int saved = errno;
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_stderr && log_prefix)
		fprintf(stderr, "<%d>%s: %s\n", prio, buf, strerror(saved));
	else if (log_stderr)
		fprintf(stderr, "%s: %s\n", buf, strerror(saved));
	else
		syslog(prio, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
