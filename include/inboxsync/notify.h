/*
 * notify.h — telling the service manager how the service is doing
 * (systemd's Type=notify protocol, through libsystemd's sd_notify): ready
 * once the server answers, stopping when a shutdown begins, a status line,
 * and the watchdog's keep-alive. Outside systemd ($NOTIFY_SOCKET unset)
 * every call is a no-op that succeeds, so callers never check where they
 * run. Only the front end that runs the service (serve) calls these.
 */
#ifndef INBOXSYNC_NOTIFY_H
#define INBOXSYNC_NOTIFY_H

#include <stdint.h>
#include "inboxsync/err.h"

/* "READY=1" with `status` (may be NULL) as the STATUS= line: the service
 * answers requests now (systemctl start returns). Returns 1 when the
 * manager was told, 0 when no manager listens, -1 with ERR_TRANSIENT
 * "notify" when the message could not be sent. Never blocks for long
 * (a datagram on a local socket). */
int notify_ready(const char *status, struct err *e);

/* "STOPPING=1" with `status` (may be NULL): a graceful shutdown began.
 * Returns as notify_ready. */
int notify_stopping(const char *status, struct err *e);

/* "STATUS=`status`" alone (shown by systemctl status). Returns as
 * notify_ready. */
int notify_status(const char *status, struct err *e);

/* "WATCHDOG=1": the service is alive. Send it at least every
 * notify_watchdog_usec() microseconds. Returns as notify_ready. */
int notify_watchdog(struct err *e);

/* How often to send notify_watchdog: half of the manager's WatchdogSec=
 * (microseconds), so one late keep-alive never trips it; 0 when no
 * watchdog is armed for this process. */
uint64_t notify_watchdog_usec(void);

#endif
