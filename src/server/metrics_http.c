/*
 * metrics_http.c — what /metrics says: the counters the process keeps
 * (metrics.h: API requests, Microsoft requests, token refreshes, throttle
 * waits, webhook deliveries) and gauges read from the store when scraped
 * (accounts by state, folders by phase, outbox by state, sync lag per
 * account, webhook queues, early warnings). Accounts appear by id only,
 * never by address or name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "inboxsync/version.h"
#include "inboxsync/metrics.h"
#include "inboxsync/provider.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"



static const struct {
	const char *name, *type, *help;
} families[] = {
	{ "inboxsync_api_requests_total", "counter", "API requests by route, method and status" },
	{ "inboxsync_api_request_duration_seconds", "histogram", "API request latency by route" },
	{ "inboxsync_microsoft_requests_total", "counter",
	  "Requests to Microsoft (identity platform and Graph) by route and status class" },
	{ "inboxsync_microsoft_request_duration_seconds", "histogram",
	  "Latency of requests to Microsoft by route" },
	{ "inboxsync_token_refreshes_total", "counter", "Access token refreshes by outcome" },
	{ "inboxsync_sync_passes_total", "counter", "Sync passes this node ran" },
	{ "inboxsync_throttle_waits_total", "counter", "Sync passes that waited for Retry-After" },
	{ "inboxsync_throttle_wait_seconds_total", "counter", "Seconds waited for Retry-After" },
	{ "inboxsync_webhook_deliveries_total", "counter", "Webhook delivery attempts by outcome" },
	{ "inboxsync_webhooks_disabled_total", "counter", "Webhooks disabled after 3 days of failures" },
};

void server_metrics_describe(void)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		metrics_describe(families[i].name, families[i].type, families[i].help);
}

/* A route template of a Microsoft URL path: words stay, ids become {id}. */
static void route_template(const char *path, char *out, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	while (*path && at + 8 < n) {
		size_t len;
		bool word = true;

		while (*path == '/')
			path++;
		len = strcspn(path, "/");
		if (!len)
			break;
		for (size_t i = 0; i < len; i++)
			word = word && ((path[i] >= 'a' && path[i] <= 'z') ||
					(path[i] >= 'A' && path[i] <= 'Z') || path[i] == '$');
		if (len > 32)
			word = false;
		if ((len == 4 && (strncmp(path, "v1.0", 4) == 0 || strncmp(path, "v2.0", 4) == 0)))
			word = true;
		at += (size_t)snprintf(out + at, n - at, "/%.*s", word ? (int)len : 4,
				       word ? path : "{id}");
		path += len;
	}
	if (!out[0])
		str_copy(out, n, "/");
}

void server_observe_http(const struct http_observation *o)
{
	char route[256], status[24];

	if (o->kind)
		return; /* webhooks are counted by their sender */
	route_template(o->path, route, sizeof(route));
	if (o->status)
		snprintf(status, sizeof(status), "%ldxx", o->status / 100);
	else
		str_copy(status, sizeof(status), "error");
	metrics_add("inboxsync_microsoft_requests_total", 1, "route", route, "method",
		    o->method, "status_class", status, NULL);
	metrics_observe("inboxsync_microsoft_request_duration_seconds",
			(double)o->duration_ms / 1000.0, "route", route, NULL);
}

static int gauge(struct buf *b, struct err *e, const char *name, const char *type,
		 const char *help)
{
	return buf_printf(b, e, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int store_gauges(const struct auth_env *env, struct buf *b, struct err *e)
{
	struct store_stats s;
	int rc;

	if (store_get_stats(env->store, &s, e) < 0)
		return -1;
	rc = gauge(b, e, "inboxsync_accounts", "gauge", "Mailbox accounts by state");
	for (int i = 0; rc == 0 && i < STORE_STATE_COUNT; i++)
		rc = buf_printf(b, e, "inboxsync_accounts{state=\"%s\"} %lld\n",
				store_state_name((enum store_state)i), s.accounts[i]);
	if (rc == 0)
		rc = gauge(b, e, "inboxsync_folders", "gauge", "Selected folders by sync phase");
	for (int i = 0; rc == 0 && i < STORE_PHASE_COUNT; i++)
		rc = buf_printf(b, e, "inboxsync_folders{phase=\"%s\"} %lld\n",
				store_phase_name((enum store_phase)i), s.folders[i]);
	if (rc == 0)
		rc = gauge(b, e, "inboxsync_outbox_entries", "gauge", "Outbox entries by state");
	for (int i = 0; rc == 0 && i < STORE_OUTBOX_STATE_COUNT; i++)
		rc = buf_printf(b, e, "inboxsync_outbox_entries{state=\"%s\"} %lld\n",
				store_outbox_state_name((enum store_outbox_state)i), s.outbox[i]);
	if (rc == 0)
		rc = gauge(b, e, "inboxsync_messages_stored", "gauge", "Messages in the store");
	if (rc == 0)
		rc = buf_printf(b, e, "inboxsync_messages_stored %lld\n", s.messages);
	if (rc == 0)
		rc = gauge(b, e, "inboxsync_events_last_seq", "gauge", "Newest change-feed seq");
	if (rc == 0)
		rc = buf_printf(b, e, "inboxsync_events_last_seq %lld\n", (long long)s.last_event_seq);
	return rc;
}

/* Sync lag: seconds since each authorized account last fetched. */
static int lag_gauges(const struct auth_env *env, struct buf *b, struct err *e)
{
	struct store_account *list;
	int64_t now = time_now();
	size_t n;
	int rc;

	if (store_list_accounts(env->store, 0, &list, &n, e) < 0)
		return -1;
	rc = gauge(b, e, "inboxsync_sync_lag_seconds", "gauge", "Seconds since the last "
		   "successful fetch of each authorized account (by id)");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct store_account *a = &list[i];

		if (!a->authorized_at || a->state == STORE_STATE_STOPPED)
			continue;
		rc = buf_printf(b, e, "inboxsync_sync_lag_seconds{account_id=\"%lld\"} %lld\n",
				(long long)a->id, (long long)(now - (a->incoming_last_fetch_at
				? a->incoming_last_fetch_at : a->authorized_at)));
	}
	free(list);
	return rc;
}

static int webhook_gauges(const struct auth_env *env, struct buf *b, struct err *e)
{
	struct store_webhook *list;
	long long disabled = 0;
	size_t n;
	int rc;

	if (store_list_webhooks(env->store, 0, &list, &n, e) < 0)
		return -1;
	rc = gauge(b, e, "inboxsync_webhook_queue_depth", "gauge",
		   "Events not yet delivered, per webhook");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		long long depth = 0;

		disabled += list[i].disabled;
		if (store_count_undelivered(env->store, list[i].id, &depth, e) < 0)
			depth = -1;
		rc = buf_printf(b, e, "inboxsync_webhook_queue_depth{webhook_id=\"%lld\"} %lld\n",
				(long long)list[i].id, depth);
	}
	if (rc == 0)
		rc = gauge(b, e, "inboxsync_webhooks", "gauge", "Webhooks by state");
	if (rc == 0)
		rc = buf_printf(b, e, "inboxsync_webhooks{state=\"enabled\"} %lld\n"
				"inboxsync_webhooks{state=\"disabled\"} %lld\n",
				(long long)n - disabled, disabled);
	store_webhook_list_free(list, n);
	return rc;
}

/* Early warnings: the client secret nearing expiry, grants about to
 * lapse for lack of use. */
static int warning_gauges(const struct auth_env *env, struct buf *b, struct err *e)
{
	struct store_provider p;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc, found;

	found = store_get_provider(env->store, PROVIDER_MICROSOFT, &p, e);
	if (found < 0)
		return -1;
	rc = gauge(b, e, "inboxsync_client_secret_expires_in_seconds", "gauge",
		   "Seconds until the client secret expires, as the administrator entered it");
	if (rc == 0 && found && p.client_secret_sealed && p.secret_expires_at)
		rc = buf_printf(b, e, "inboxsync_client_secret_expires_in_seconds %lld\n",
				(long long)(p.secret_expires_at - time_now()));
	if (found)
		store_provider_clear(&p);
	if (rc < 0 || store_list_stale_grants(env->store, time_now() -
					      (int64_t)SERVICE_GRANT_IDLE_WARN_DAYS * 86400, &ids, &n, e) < 0)
		return -1;
	rc = gauge(b, e, "inboxsync_stale_grants", "gauge", "Accounts whose refresh token "
		   "was not used for 60 of the 90 days after which it lapses");
	if (rc == 0)
		rc = buf_printf(b, e, "inboxsync_stale_grants %zu\n", n);
	free(ids);
	return rc;
}

int server_metrics_render(struct server *srv, const struct auth_env *env,
			  struct buf *out, struct err *e)
{
	int running, rc;

	pthread_mutex_lock(&srv->sched_lock);
	running = sched_service_running(srv->sched);
	pthread_mutex_unlock(&srv->sched_lock);
	rc = buf_printf(out, e, "# HELP inboxsync_build_info inboxsync's version\n"
			    "# TYPE inboxsync_build_info gauge\n"
			    "inboxsync_build_info{version=\"%s\"} 1\n"
			    "# HELP inboxsync_uptime_seconds Seconds since this node started\n"
			    "# TYPE inboxsync_uptime_seconds gauge\n"
			    "inboxsync_uptime_seconds %lld\n"
			    "# HELP inboxsync_sync_passes_running Sync passes running on this node\n"
			    "# TYPE inboxsync_sync_passes_running gauge\n"
			    "inboxsync_sync_passes_running %d\n", INBOXSYNC_VERSION,
			    (long long)(time_now() - srv->started_at), running);

	if (rc == 0)
		rc = store_gauges(env, out, e);
	if (rc == 0)
		rc = lag_gauges(env, out, e);
	if (rc == 0)
		rc = webhook_gauges(env, out, e);
	if (rc == 0)
		rc = warning_gauges(env, out, e);
	if (rc == 0)
		rc = metrics_render(out, e);
	return rc;
}
