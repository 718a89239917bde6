/*
 * api_events.c — the change feed and webhooks over the API: GET /changes
 * (the caller's events after a seq, oldest first, long-polling up to 30 s
 * without holding a thread), and webhooks (create with a secret shown
 * once, list, show, change or re-enable, remove, the delivery log). A
 * webhook, like every object, is visible only to its owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

int api_changes(struct request *rq);
int api_webhooks_list(struct request *rq);
int api_webhooks_create(struct request *rq);
int api_webhook_get(struct request *rq);
int api_webhook_update(struct request *rq);
int api_webhook_delete(struct request *rq);
int api_webhook_deliveries(struct request *rq);

#define WAIT_MAX_S 30
#define SECRET_MIN 16
#define SECRET_MAX 256
#define DELIVERIES_SHOWN 100

static json_t *id_text(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	return json_string(buf);
}

/* ---- the change feed ------------------------------------------------------------- */

struct feed_page {
	struct request *rq;
	json_t *arr;
	int64_t last;
};

static int add_event(void *ctx, const struct store_event *ev)
{
	struct feed_page *p = ctx;

	json_array_append_new(p->arr, service_event_json(p->rq->env, ev));
	p->last = ev->seq;
	return 0;
}

int api_changes(struct request *rq)
{
	struct store_event_query q = { .user_id = rq->actor.user_id, .include_backfill = true };
	struct feed_page page = { .rq = rq };
	long long since, limit, wait, account;

	const char *since_text = rq_query(rq, "since");

	/* since=latest: only what happens from now on (a client that starts
	 * following the feed without reading its history) */
	if (since_text && strcmp(since_text, "latest") == 0 && rq->resumed) {
		since = rq->wait_after_seq; /* "latest" as it was when the wait began */
	} else if (since_text && strcmp(since_text, "latest") == 0) {
		int64_t newest = 0;

		if (store_last_event_seq(rq->env->store, &newest, &rq->err) < 0)
			return -1;
		since = newest;
	} else if (rq_query_int(rq, "since", 0, 0, INT64_MAX, &since) < 0) {
		return -1;
	}
	if (rq_query_int(rq, "limit", 100, 1, SERVICE_LIST_MAX, &limit) < 0 ||
	    rq_query_int(rq, "wait", 0, 0, WAIT_MAX_S, &wait) < 0 ||
	    rq_query_int(rq, "account_id", 0, 1, INT64_MAX, &account) < 0)
		return -1;
	if (account && !rq->resumed) {
		struct store_account a;

		if (service_account_get(rq->env, &rq->actor, account, &a, &rq->err) < 0)
			return -1;
	}
	q.account_id = account;
	q.after_seq = since;
	q.limit = (size_t)limit;
	page.arr = json_array();
	page.last = since;
	if (store_read_events(rq->env->store, &q, add_event, &page, &rq->err) < 0) {
		json_decref(page.arr);
		return -1;
	}
	if (json_array_size(page.arr) == 0 && wait > 0 && !rq->srv->stopping) {
		int64_t now = time_mono_ms(), newest = 0;

		if (!rq->resumed)
			rq->wait_until_ms = now + wait * 1000;
		if (now < rq->wait_until_ms &&
		    store_last_event_seq(rq->env->store, &newest, &rq->err) == 0) {
			json_decref(page.arr);
			rq->wait_after_seq = newest > since ? newest : since;
			return ROUTE_SUSPEND;
		}
		err_clear(&rq->err);
	}
	return rq_reply(rq, 200, json_pack("{s:o,s:I}", "changes", page.arr, "next_since",
					   (json_int_t)page.last));
}

/* ---- webhooks -------------------------------------------------------------------- */

static json_t *event_names(unsigned mask)
{
	json_t *arr = json_array();

	for (int t = 0; t < STORE_EVENT_TYPE_COUNT; t++)
		if (!mask || (mask & STORE_EVENT_BIT(t)))
			json_array_append_new(arr, json_string(store_event_type_name(
						      (enum store_event_type)t)));
	return arr;
}

static json_t *webhook_json(struct request *rq, const struct store_webhook *w)
{
	long long depth = 0;
	struct err e;

	err_clear(&e);
	store_count_undelivered(rq->env->store, w->id, &depth, &e);
	return json_pack("{s:o,s:s,s:o,s:b,s:b,s:o,s:o,s:o,s:I}", "id", id_text(w->id),
			 "url", w->url, "events", event_names(w->events),
			 "include_backfill", w->include_backfill, "disabled", w->disabled,
			 "disabled_reason", w->disabled_reason[0]
					    ? json_string(w->disabled_reason) : json_null(),
			 "failing_since", service_time_json(w->failing_since),
			 "created_at", service_time_json(w->created_at),
			 "queue_depth", (json_int_t)depth);
}

/* The caller's webhook {id}, else 404 (also for another user's). */
static int find_webhook(struct request *rq, struct store_webhook *w)
{
	int64_t id;
	int rc;

	if (rq_param_id(rq, "id", &id) < 0)
		return -1;
	rc = store_get_webhook(rq->env->store, id, w, &rq->err);
	if (rc < 0)
		return -1;
	if (rc == 0 || w->user_id != rq->actor.user_id) {
		if (rc == 1)
			store_webhook_clear(w);
		err_set(&rq->err, ERR_PERMANENT, "not_found", "no webhook %lld", (long long)id);
		return err_set_fix(&rq->err, FIX_CHECK_INPUT, "use an id from the webhook list");
	}
	return 0;
}

/* events: [type, ...] into a mask (absent: keep *mask). */
static int parse_events(struct request *rq, unsigned *mask)
{
	json_t *arr, *v;
	size_t i;

	if (rq_body_array(rq, "events", false, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	*mask = 0;
	json_array_foreach(arr, i, v) {
		enum store_event_type t;

		if (!json_is_string(v) || store_event_type_parse(json_string_value(v), &t) < 0)
			return rq_bad(rq, "'events[%zu]' is not an event type (message.created, "
				      "message.updated, message.moved, message.deleted, "
				      "folder.created, folder.updated, folder.deleted, "
				      "account.state_changed, send.confirmed, send.failed)", i);
		*mask |= STORE_EVENT_BIT(t);
	}
	return 0;
}

int api_webhooks_list(struct request *rq)
{
	struct store_webhook *list;
	json_t *arr;
	size_t n;

	if (store_list_webhooks(rq->env->store, rq->actor.user_id, &list, &n, &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, webhook_json(rq, &list[i]));
	store_webhook_list_free(list, n);
	return rq_reply(rq, 200, json_pack("{s:o}", "webhooks", arr));
}

int api_webhooks_create(struct request *rq)
{
	struct store_webhook w = { .user_id = rq->actor.user_id };
	const char *url, *secret;
	char made[64];
	int backfill;
	json_t *doc;

	if (rq_body_string(rq, "url", true, &url) < 0 ||
	    rq_body_string(rq, "secret", false, &secret) < 0 ||
	    rq_body_bool(rq, "include_backfill", &backfill) < 0 ||
	    parse_events(rq, &w.events) < 0)
		return -1;
	if (secret && (strlen(secret) < SECRET_MIN || strlen(secret) > SECRET_MAX))
		return rq_bad(rq, "a webhook secret is %d to %d characters", SECRET_MIN,
			      SECRET_MAX);
	if (webhook_check_url(rq->srv, url, &rq->err) < 0)
		return -1;
	if (!secret) {
		unsigned char raw[32];
		char b64[48];

		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(made, sizeof(made), "whsec_%s", b64);
		sodium_memzero(raw, sizeof(raw));
		secret = made;
	}
	str_copy(w.url, sizeof(w.url), url);
	w.include_backfill = backfill == 1;
	if (!(w.secret_sealed = vault_seal(rq->env->vault, secret, strlen(secret), &rq->err)))
		return -1;
	if (store_add_webhook(rq->env->store, &w, &rq->err) < 0) {
		store_webhook_clear(&w);
		return -1;
	}
	doc = webhook_json(rq, &w);
	json_object_set_new(doc, "secret", json_string(secret));
	sodium_memzero(made, sizeof(made));
	store_webhook_clear(&w);
	return rq_reply(rq, 201, doc);
}

int api_webhook_get(struct request *rq)
{
	struct store_webhook w;

	if (find_webhook(rq, &w) < 0)
		return -1;
	rq_reply(rq, 200, webhook_json(rq, &w));
	store_webhook_clear(&w);
	return 0;
}

int api_webhook_update(struct request *rq)
{
	struct store_webhook w;
	const char *url;
	int backfill, enabled, disabled, rc = -1;

	if (find_webhook(rq, &w) < 0)
		return -1;
	if (rq_body_string(rq, "url", false, &url) < 0 ||
	    rq_body_bool(rq, "include_backfill", &backfill) < 0 ||
	    rq_body_bool(rq, "enabled", &enabled) < 0 ||
	    rq_body_bool(rq, "disabled", &disabled) < 0 ||
	    parse_events(rq, &w.events) < 0)
		goto out;
	if (url) {
		if (webhook_check_url(rq->srv, url, &rq->err) < 0)
			goto out;
		str_copy(w.url, sizeof(w.url), url);
	}
	if (backfill >= 0)
		w.include_backfill = backfill == 1;
	if (enabled < 0 && disabled >= 0)
		enabled = !disabled;
	if (enabled == 1) {
		w.disabled = false;
		w.disabled_reason[0] = '\0';
		w.failing_since = 0;
	} else if (enabled == 0) {
		w.disabled = true;
		str_copy(w.disabled_reason, sizeof(w.disabled_reason), "disabled by its owner");
	}
	if (store_update_webhook(rq->env->store, &w, &rq->err) < 0 ||
	    (enabled == 1 && store_retry_deliveries_now(rq->env->store, w.id, &rq->err) < 0))
		goto out;
	rc = rq_reply(rq, 200, webhook_json(rq, &w));
out:
	store_webhook_clear(&w);
	return rc;
}

int api_webhook_delete(struct request *rq)
{
	struct store_webhook w;
	int rc;

	if (find_webhook(rq, &w) < 0)
		return -1;
	rc = store_delete_webhook(rq->env->store, w.id, &rq->err);
	store_webhook_clear(&w);
	return rc < 0 ? -1 : rq_reply(rq, 204, NULL);
}

int api_webhook_deliveries(struct request *rq)
{
	struct store_delivery_attempt *list;
	struct store_webhook w;
	json_t *arr;
	size_t n;

	if (find_webhook(rq, &w) < 0)
		return -1;
	store_webhook_clear(&w);
	if (store_list_deliveries(rq->env->store, w.id, DELIVERIES_SHOWN, &list, &n,
				  &rq->err) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct store_delivery_attempt *d = &list[i];

		json_array_append_new(arr, json_pack("{s:o,s:I,s:o,s:o,s:b,s:o,s:i,s:o}",
				      "event_id", id_text(d->seq), "seq", (json_int_t)d->seq,
				      "account_id", id_text(d->account_id), "at", service_time_json(d->at),
				      "ok", d->ok, "http_status", d->http_status
				      ? json_integer(d->http_status) : json_null(),
				      "duration_ms", d->duration_ms,
				      "error", d->error[0] ? json_string(d->error) : json_null()));
	}
	free(list);
	return rq_reply(rq, 200, json_pack("{s:o}", "deliveries", arr));
}
