/*
 * server.h — `inboxsync serve`: the scheduler for every account, the REST
 * API under /api/v1, the OAuth redirect endpoint, the web UI, /healthz and
 * /metrics, and webhook delivery, in one process (src/server). The CLI
 * parses the options and calls server_run; everything else is here.
 */
#ifndef INBOXSYNC_SERVER_H
#define INBOXSYNC_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "inboxsync/err.h"

struct server_config {
	const char *listen;          /* "HOST:PORT"; NULL = 127.0.0.1:8025 */
	const char *public_url;      /* NULL = http:// + the listen address */
	const char *store_path;      /* SQLite file or postgresql:// URL */
	const char *data_dir;        /* key file, when key_file is NULL */
	const char *key_file;
	const char *node_id;         /* NULL = HOST:PID */
	int workers;                 /* sync workers (0 = 4) */
	int http_threads;            /* request threads (0 = 8) */
	int poll_interval_s;         /* 0 = 60 */
	int lease_ttl_s;             /* 0 = 30 */
	int webhook_threads;         /* delivery threads (0 = 2) */
	bool allow_private_webhooks;
	volatile sig_atomic_t *stop; /* set by SIGTERM/SIGINT: shut down */
};

/* Run until *cfg->stop: listen (port 0 picks one), call `on_listening`
 * once with the URL it listens on ("http://HOST:PORT"), serve, and on
 * stop: refuse new connections, let passes and requests finish what they
 * commit (in-flight remote requests are cut short after a grace period),
 * give sync leases back and return 0 within 10 s. -1 with `e` when it
 * cannot start (store, schema, port in use, bad options). */
int server_run(const struct server_config *cfg,
	       void (*on_listening)(void *ctx, const char *url), void *ctx,
	       struct err *e);

/* Print the route table (method, path, who may call it) as JSON lines,
 * for tests and documentation. */
void server_print_routes(FILE *out);

#endif
