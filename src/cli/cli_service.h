/*
 * cli_service.h — `serve` under a service manager (systemd's Type=notify,
 * notify.h): READY once the server listens, STOPPING as soon as a stop
 * is asked for, and the watchdog fed while the server answers its own
 * /healthz. Outside systemd only the thread that watches for the stop
 * runs, and it sends nothing.
 */
#ifndef INBOXSYNC_CLI_SERVICE_H
#define INBOXSYNC_CLI_SERVICE_H

#include <signal.h>

struct cli_service;

/* The server listens on `url` ("http://HOST:PORT"): tell the manager it is
 * ready, and start the thread that sends STOPPING=1 once *stop is set and
 * WATCHDOG=1 every notify_watchdog_usec() while GET url/healthz answers
 * 200 (on the loopback address when the server listens on all of them).
 * Never NULL. */
struct cli_service *cli_service_start(const char *url, volatile sig_atomic_t *stop);

/* The server has returned: stop the thread (STOPPING=1 was sent when the
 * stop began) and free. NULL-safe. */
void cli_service_finish(struct cli_service *s);

#endif
