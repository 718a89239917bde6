/*
 * notify.c — sd_notify messages for Type=notify services (see notify.h).
 * A thin layer over libsystemd: it composes the message, sends it, and
 * turns a failure into a classified error. It keeps no state.
 */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include "inboxsync/notify.h"

#define MESSAGE_MAX 512

/* Send `fields`, then "STATUS=`status`" on a line of its own when status
 * is not NULL. */
static int send_message(const char *fields, const char *status, struct err *e)
{
	char msg[MESSAGE_MAX], line[MESSAGE_MAX - 32]; /* room for the fields */
	int n, rc;

	/* A status is one line: a newline in it would start another field. */
	snprintf(line, sizeof(line), "%s", status ? status : "");
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (status)
		n = snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", fields,
			     *fields ? "\n" : "", line);
	else
		n = snprintf(msg, sizeof(msg), "%s", fields);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return err_set(e, ERR_BUG, "notify",
			       "a service manager message is longer than %d bytes",
			       MESSAGE_MAX - 1);
	rc = sd_notify(0, msg);
	if (rc < 0)
		return err_set(e, ERR_TRANSIENT, "notify",
			       "cannot tell the service manager '%s': %s",
			       *fields ? fields : "STATUS", strerror(-rc));
	return rc > 0 ? 1 : 0;
}

int notify_ready(const char *status, struct err *e)
{
	return send_message("READY=1", status, e);
}

int notify_stopping(const char *status, struct err *e)
{
	return send_message("STOPPING=1", status, e);
}

int notify_status(const char *status, struct err *e)
{
	return send_message("", status ? status : "", e);
}

int notify_watchdog(struct err *e)
{
	return send_message("WATCHDOG=1", NULL, e);
}

uint64_t notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2;
}
