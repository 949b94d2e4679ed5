/* SPDX-License-Identifier: MIT */
/* gonad as a systemd service: readiness and status notifications, the
 * watchdog, and whether a stop is the first half of a restart. Without
 * libsystemd (or outside systemd) each of these does nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon/gonad.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>
#endif

bool svc_managed(void)
{
	return getenv("NOTIFY_SOCKET") != NULL;
}

void svc_notify(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
#ifdef HAVE_SYSTEMD
	sd_notify(0, buf);
#endif
}

uint64_t svc_watchdog_ms(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec / 1000 ? usec / 1000 : 1;
#endif
	return 0;
}

#ifdef HAVE_SYSTEMD
/* Whether systemd has a restart job for UNIT, over its private bus (there
 * is no D-Bus broker to need: systemd answers root there itself). */
static bool restart_queued(const char *unit)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char *path = NULL, *type = NULL;
	const char *job_path = NULL;
	sd_bus *bus = NULL;
	uint32_t job_id = 0;
	bool yes = false;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(bus, 2000000);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit,
				       &path);
	if (r >= 0)
		r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path,
					"org.freedesktop.systemd1.Unit", "Job",
					&e, &reply, "(uo)");
	if (r >= 0)
		r = sd_bus_message_read(reply, "(uo)", &job_id, &job_path);
	if (r >= 0 && job_id)
		r = sd_bus_get_property_string(
			bus, "org.freedesktop.systemd1", job_path,
			"org.freedesktop.systemd1.Job", "JobType", &e, &type);
	if (r < 0)
		log_warnx("cannot ask systemd whether %s restarts: %s", unit,
			  e.message ? e.message : strerror(-r));
	else if (job_id && type)
		yes = !strcmp(type, "restart");
	free(type);
	free(path);
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return yes;
}
#endif

bool svc_restarting(void)
{
#ifdef HAVE_SYSTEMD
	char *unit = NULL;
	bool yes;

	if (!svc_managed() || sd_pid_get_unit(0, &unit) < 0)
		return false;
	yes = restart_queued(unit);
	free(unit);
	return yes;
#else
	return false;
#endif
}
