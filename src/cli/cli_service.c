/*
 * cli_service.c — serve's side of the service manager protocol (see
 * cli_service.h). The watchdog is fed by a probe of the server itself, so
 * a server that still runs but no longer answers (a stuck store, every
 * request thread blocked) is restarted by systemd; a probe it cannot make
 * (a listen address the HTTP client will not reach over plain http) falls
 * back to feeding it while the process lives, and says so once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli_service.h"
#include "inboxsync/alloc.h"
#include "inboxsync/http.h"
#include "inboxsync/log.h"
#include "inboxsync/notify.h"
#include "inboxsync/timeutil.h"

#define STEP_MS 100
#define PROBE_TIMEOUT_MS 10000L

struct cli_service {
	pthread_t thread;
	bool started;
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t done;     /* set by cli_service_finish */
	char health_url[300];
};

static void warn_notify(const struct err *e)
{
	log_warn("service", "%s", e->msg);
}

/* The URL to probe: url/healthz, with a wildcard host replaced by the
 * loopback address the server also listens on. */
static void health_url_of(const char *url, char *out, size_t n)
{
	static const struct {
		const char *wildcard, *loopback;
	} hosts[] = {
		{ "http://0.0.0.0:", "http://127.0.0.1:" },
		{ "http://[::]:", "http://[::1]:" },
	};

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t k = strlen(hosts[i].wildcard);

		if (strncmp(url, hosts[i].wildcard, k) == 0) {
			snprintf(out, n, "%s%s/healthz", hosts[i].loopback, url + k);
			return;
		}
	}
	snprintf(out, n, "%s/healthz", url);
}

/* 1 when the server answered /healthz with 200, 0 when it did not, -1
 * when it cannot be probed from here. */
static int probe(struct http_client *http, const char *url)
{
	struct http_request req = { .method = "GET", .url = url,
				    .total_timeout_ms = PROBE_TIMEOUT_MS };
	struct http_response resp;
	struct err e = { 0 };
	int rc;

	if (http_check_url(url, &e) < 0)
		return -1;
	http_response_init(&resp);
	rc = http_perform(http, &req, &resp, &e) == 0 && resp.status == 200;
	if (!rc && resp.status)
		log_warn("service", "the health check %s answered %ld: the watchdog "
			 "is not fed", url, resp.status);
	else if (!rc)
		log_warn("service", "the health check %s failed (%s): the watchdog "
			 "is not fed", url, e.msg);
	http_response_free(&resp);
	return rc;
}

static void *watch(void *arg)
{
	struct cli_service *s = arg;
	struct http_options opt = { .connect_timeout_ms = PROBE_TIMEOUT_MS,
				    .total_timeout_ms = PROBE_TIMEOUT_MS };
	struct http_client *http = http_client_new(&opt);
	int64_t every_ms = (int64_t)(notify_watchdog_usec() / 1000), next = 0;
	bool probing = true;
	struct err e = { 0 };

	while (!*s->stop && !s->done) {
		int64_t now = time_mono_ms();

		if (every_ms > 0 && now >= next) {
			int alive = probing ? probe(http, s->health_url) : 1;

			if (alive < 0) {
				log_warn("service", "cannot probe %s over plain http from "
					 "here: the watchdog is fed while the process runs",
					 s->health_url);
				probing = false;
				alive = 1;
			}
			if (alive && notify_watchdog(&e) < 0)
				warn_notify(&e);
			next = now + every_ms;
		}
		time_sleep_ms(STEP_MS);
	}
	if (*s->stop && notify_stopping("stopping: finishing what is being committed", &e) < 0)
		warn_notify(&e);
	http_client_free(http);
	return NULL;
}

struct cli_service *cli_service_start(const char *url, volatile sig_atomic_t *stop)
{
	struct cli_service *s = xcalloc(1, sizeof(*s));
	char status[400];
	struct err e = { 0 };

	s->stop = stop;
	health_url_of(url, s->health_url, sizeof(s->health_url));
	snprintf(status, sizeof(status), "listening on %s", url);
	if (notify_ready(status, &e) < 0)
		warn_notify(&e);
	s->started = pthread_create(&s->thread, NULL, watch, s) == 0;
	if (!s->started)
		log_warn("service", "cannot start the service manager thread: no "
			 "watchdog and no STOPPING notice");
	return s;
}

void cli_service_finish(struct cli_service *s)
{
	if (!s)
		return;
	s->done = 1;
	if (s->started)
		pthread_join(s->thread, NULL);
	free(s);
}
