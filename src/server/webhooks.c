/*
 * webhooks.c — delivering events to webhooks: sender threads claim due
 * (webhook, account) delivery slots from the store (one node and thread
 * per slot, so each account's events go out in seq order and a failing
 * endpoint holds back only that account), POST the EVENT signed with
 * HMAC-SHA256, and record each attempt. Failures retry with exponential
 * backoff (2 s, 4 s, ... up to an hour); a webhook failing for 3 days is
 * disabled until its owner re-enables it. The slots live in the store,
 * so a killed server loses nothing: an unfinished claim expires and the
 * event goes out again (receivers dedupe by X-Inboxsync-Delivery).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/version.h"
#include "inboxsync/log.h"
#include "inboxsync/metrics.h"
#include "inboxsync/timeutil.h"
#include "server/server_internal.h"

#define BATCH 16                   /* slots claimed and sent at once */
#define CLAIM_TTL_S 60             /* > the 10 s timeout, with room */
#define SEND_TIMEOUT_MS 10000
#define ANSWER_MAX 65536
#define IDLE_WAIT_MS 500
#define BACKOFF_FIRST_S 2
#define BACKOFF_CAP_S 3600
#define DISABLE_AFTER_S (3 * 86400)
#define STOP_GRACE_MS 1500
#define URL_MAX 2000
#define RECORD_TRIES 20            /* x RECORD_RETRY_MS, well within the claim */
#define RECORD_RETRY_MS 1000

struct sender {
	struct webhook_sender *w;
	pthread_t thread;
	struct auth_env env;
	char holder[192];
	bool started;
	bool joined;
};

struct webhook_sender {
	struct server *srv;
	struct sender *senders;
	size_t n;
	volatile sig_atomic_t stop;
	volatile sig_atomic_t abort;
};

void webhook_signature(const char *secret, long long t, const char *body, size_t len,
		       char *out, size_t n)
{
	crypto_auth_hmacsha256_state h;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char ts[24], hex[crypto_auth_hmacsha256_BYTES * 2 + 1];

	snprintf(ts, sizeof(ts), "%lld", t);
	crypto_auth_hmacsha256_init(&h, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&h, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&h, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&h, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&h, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, n, "t=%s,v1=%s", ts, hex);
	sodium_memzero(&h, sizeof(h));
}

int webhook_check_url(const struct server *srv, const char *url, struct err *e)
{
	if (!url || strlen(url) > URL_MAX || http_check_user_url(url, e) < 0) {
		err_set(e, ERR_PERMANENT, "invalid_request", "the webhook URL must be an "
			"absolute http:// or https:// URL of at most %d characters", URL_MAX);
		return err_set_fix(e, FIX_CHECK_INPUT, "correct the webhook URL");
	}
	if (!srv->cfg.allow_private_webhooks && http_check_public_url(url, e) < 0)
		return err_set_fix(e, FIX_CHECK_INPUT, "use a public address (or start the "
				   "server with --allow-private-webhooks)");
	return 0;
}

/* When attempt k+1 (after k failures) should happen. */
static int64_t retry_at(int failures)
{
	double d = BACKOFF_FIRST_S;

	for (int i = 1; i < failures && d < BACKOFF_CAP_S; i++)
		d *= 2;
	if (d > BACKOFF_CAP_S)
		d = BACKOFF_CAP_S;
	d *= 0.75 + (double)randombytes_uniform(500) / 1000.0;
	if (failures <= 1 && d > 4.5)
		d = 4.5; /* the first retry comes within 5 s */
	return time_now() + (int64_t)(d < 1 ? 1 : d);
}

/* One prepared delivery. */
struct attempt {
	struct store_webhook hook;
	bool ready;
	char *body;
	char sig[160], event_hdr[96], delivery_hdr[64];
	struct http_request req;
	struct http_response resp;
	int rc;
	struct err err;
};

static bool prepare(struct sender *s, const struct store_delivery_slot *slot,
		    const struct store_event *ev, struct attempt *a)
{
	struct webhook_sender *w = s->w;
	struct err e;
	char *secret;
	json_t *doc;

	memset(a, 0, sizeof(*a));
	http_response_init(&a->resp);
	err_clear(&e);
	if (store_get_webhook(s->env.store, slot->webhook_id, &a->hook, &e) != 1 ||
	    a->hook.disabled)
		return false;
	if (!(secret = vault_unseal(s->env.vault, a->hook.secret_sealed, &e))) {
		log_warn("webhooks", "webhook %lld: cannot read its secret: %s",
			 (long long)a->hook.id, e.msg);
		return false;
	}
	doc = service_event_json(&s->env, ev);
	a->body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!a->body) {
		vault_free_plain(secret);
		return false;
	}
	webhook_signature(secret, (long long)time_now(), a->body, strlen(a->body), a->sig,
			  sizeof(a->sig));
	vault_free_plain(secret);
	snprintf(a->event_hdr, sizeof(a->event_hdr), "X-Inboxsync-Event: %s",
		 store_event_type_name(ev->type));
	snprintf(a->delivery_hdr, sizeof(a->delivery_hdr), "X-Inboxsync-Delivery: %lld",
		 (long long)ev->seq);
	memmove(a->sig + strlen("X-Inboxsync-Signature: "), a->sig, strlen(a->sig) + 1);
	memcpy(a->sig, "X-Inboxsync-Signature: ", strlen("X-Inboxsync-Signature: "));
	a->req = (struct http_request){
		.method = "POST", .url = a->hook.url, .content_type = "application/json",
		.body = a->body, .body_len = strlen(a->body),
		.headers = { a->event_hdr, a->delivery_hdr, a->sig },
		.total_timeout_ms = SEND_TIMEOUT_MS, .max_response = ANSWER_MAX,
		.public_only = !w->srv->cfg.allow_private_webhooks,
		.allow_plain_http = true, .kind = "webhook",
	};
	a->ready = true;
	return true;
}

/* A webhook failing for DISABLE_AFTER_S is switched off until its owner
 * re-enables it (PATCH). */
static void maybe_disable(struct sender *s, int64_t webhook_id, const char *why)
{
	struct store_webhook h;
	struct err e;

	err_clear(&e);
	if (store_get_webhook(s->env.store, webhook_id, &h, &e) != 1)
		return;
	if (!h.disabled && h.failing_since &&
	    time_now() - h.failing_since >= DISABLE_AFTER_S) {
		h.disabled = true;
		snprintf(h.disabled_reason, sizeof(h.disabled_reason), "deliveries failed "
			 "for 3 days (last: %.180s); re-enable it when the endpoint works",
			 why);
		if (store_update_webhook(s->env.store, &h, &e) == 0)
			log_warn("webhooks", "webhook %lld disabled: %s", (long long)h.id,
				 h.disabled_reason);
		metrics_add("inboxsync_webhooks_disabled_total", 1, NULL);
	}
	store_webhook_clear(&h);
}

/* Record an attempt. A store that is briefly away (a restart, a lost
 * connection) is tried again for a while: an unrecorded delivery goes out
 * a second time once its claim expires, so giving up early is what would
 * repeat an event, not the retry (recording is idempotent: the delivered
 * seq only grows). */
static int record_attempt(struct sender *s, const struct store_delivery_slot *slot,
			  const struct store_delivery_attempt *rec, struct err *e)
{
	int64_t next = rec->ok ? 0 : retry_at(slot->attempts + 1);

	for (int i = 0;; i++) {
		err_clear(e);
		if (store_finish_delivery(s->env.store, slot, rec, next, e) == 0)
			return 0;
		if (e->class != ERR_TRANSIENT || i >= RECORD_TRIES || s->w->stop)
			return -1;
		time_sleep_ms(RECORD_RETRY_MS);
	}
}

static void finish(struct sender *s, const struct store_delivery_slot *slot,
		   const struct store_event *ev, struct attempt *a, int64_t ms)
{
	struct store_delivery_attempt rec = {
		.webhook_id = slot->webhook_id, .seq = ev->seq,
		.account_id = slot->account_id, .at = time_now(),
		.http_status = (int)a->resp.status, .duration_ms = (int)ms,
	};
	struct err e;

	rec.ok = a->rc == 0 && a->resp.status >= 200 && a->resp.status < 300;
	if (a->rc < 0)
		str_copy(rec.error, sizeof(rec.error), a->err.msg);
	else if (!rec.ok)
		snprintf(rec.error, sizeof(rec.error), "the endpoint answered HTTP %ld",
			 a->resp.status);
	if (a->rc < 0 && err_is(&a->err, "aborted"))
		return; /* shutting down: the claim expires, it goes out again */
	if (record_attempt(s, slot, &rec, &e) < 0) {
		log_warn("webhooks", "cannot record a delivery: %s", e.msg);
		return;
	}
	metrics_add("inboxsync_webhook_deliveries_total", 1, "outcome",
		    rec.ok ? "ok" : "failed", NULL);
	if (!rec.ok) {
		log_info("webhooks", "webhook %lld, event %lld: %s (attempt %d)",
			 (long long)slot->webhook_id, (long long)ev->seq, rec.error,
			 slot->attempts + 1);
		maybe_disable(s, slot->webhook_id, rec.error);
	}
}

/* Claim, send and record one batch. Returns how many were claimed. */
static size_t send_batch(struct sender *s)
{
	struct store_delivery_slot slots[BATCH];
	struct store_event events[BATCH];
	struct attempt *a = xcalloc(BATCH, sizeof(*a));
	struct http_request reqs[BATCH];
	struct http_response resps[BATCH];
	int rcs[BATCH];
	struct err errs[BATCH];
	size_t n = 0, k = 0, idx[BATCH];
	struct err e;
	int64_t t0;

	err_clear(&e);
	if (store_claim_deliveries(s->env.store, s->holder, CLAIM_TTL_S, BATCH, slots,
				   events, &n, &e) < 0) {
		log_warn("webhooks", "cannot claim deliveries: %s", e.msg);
		free(a);
		return 0;
	}
	/* The events' strings live until the next store call: keep copies. */
	for (size_t i = 0; i < n; i++) {
		events[i].entity_id = xstrdup(events[i].entity_id);
		events[i].folder_path = xstrdup(events[i].folder_path);
		events[i].from_folder = xstrdup(events[i].from_folder);
		events[i].data_json = xstrdup(events[i].data_json);
	}
	for (size_t i = 0; i < n; i++)
		if (prepare(s, &slots[i], &events[i], &a[i])) {
			reqs[k] = a[i].req;
			resps[k] = a[i].resp;
			idx[k++] = i;
		}
	t0 = time_mono_ms();
	if (k)
		http_perform_many(s->env.http, reqs, resps, rcs, errs, k);
	for (size_t j = 0; j < k; j++) {
		struct attempt *at = &a[idx[j]];

		at->resp = resps[j];
		at->rc = rcs[j];
		at->err = errs[j];
		finish(s, &slots[idx[j]], &events[idx[j]], at, time_mono_ms() - t0);
	}
	for (size_t i = 0; i < n; i++) {
		free((char *)events[i].entity_id);
		free((char *)events[i].folder_path);
		free((char *)events[i].from_folder);
		free((char *)events[i].data_json);
		http_response_free(&a[i].resp);
		free(a[i].body);
		store_webhook_clear(&a[i].hook);
	}
	free(a);
	return n;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	while (!s->w->stop) {
		if (send_batch(s) == 0) {
			for (int i = 0; i < IDLE_WAIT_MS / 50 && !s->w->stop; i++)
				time_sleep_ms(50);
		}
	}
	return NULL;
}

int webhooks_start(struct server *srv, struct webhook_sender **out, struct err *e)
{
	struct webhook_sender *w = xcalloc(1, sizeof(*w));
	struct http_options ho = {
		.connect_timeout_ms = SEND_TIMEOUT_MS, .total_timeout_ms = SEND_TIMEOUT_MS,
		.max_response = ANSWER_MAX, .user_agent = "inboxsync-webhooks/" INBOXSYNC_VERSION,
	};

	*out = NULL;
	w->srv = srv;
	w->n = (size_t)(srv->cfg.webhook_threads > 0 ? srv->cfg.webhook_threads : 2);
	w->senders = xcalloc(w->n, sizeof(*w->senders));
	ho.abort_flag = &w->abort;
	for (size_t i = 0; i < w->n; i++) {
		struct sender *s = &w->senders[i];

		s->w = w;
		snprintf(s->holder, sizeof(s->holder), "%s/webhooks/%zu", srv->node_id, i);
		if (store_open_existing(srv->cfg.store_path, &s->env.store, e) < 0)
			goto fail;
		s->env.vault = srv->cfg.key_file ? vault_new_file(srv->cfg.key_file)
						 : vault_new(srv->cfg.data_dir);
		vault_guard_store(s->env.vault, s->env.store);
		s->env.http = http_client_new(&ho);
		if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
			err_set(e, ERR_PERMANENT, "threads", "cannot start webhook threads");
			goto fail;
		}
		s->started = true;
	}
	*out = w;
	return 0;
fail:
	webhooks_stop(w);
	return -1;
}

void webhooks_signal_stop(struct webhook_sender *w)
{
	if (w)
		w->stop = 1;
}

void webhooks_stop(struct webhook_sender *w)
{
	int64_t deadline = time_mono_ms() + STOP_GRACE_MS;

	if (!w)
		return;
	w->stop = 1;
	/* Attempts in flight get a moment, then are cut short. */
	while (time_mono_ms() < deadline) {
		bool busy = false;

		for (size_t i = 0; i < w->n; i++) {
			struct sender *s = &w->senders[i];

			if (s->started && !s->joined)
				s->joined = pthread_tryjoin_np(s->thread, NULL) == 0;
			busy = busy || (s->started && !s->joined);
		}
		if (!busy)
			break;
		time_sleep_ms(50);
	}
	w->abort = 1;
	for (size_t i = 0; i < w->n; i++) {
		struct sender *s = &w->senders[i];

		if (s->started && !s->joined)
			pthread_join(s->thread, NULL);
		store_close(s->env.store);
		vault_free(s->env.vault);
		http_client_free(s->env.http);
	}
	free(w->senders);
	free(w);
}
