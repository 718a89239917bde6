/*
 * throttle.c — per (app, mailbox) concurrency and fixed-window rate limits
 * (see throttle.h). Entries are never freed before the world, so a slot
 * pointer stays valid while its response is being sent; the in-flight
 * counter has its own mutex because slots are released by MHD's completion
 * callback without the world lock.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/alloc.h"
#include "simtime.h"
#include "strmap.h"
#include "throttle.h"

struct throttle_slot {
	long inflight;
	long peak;               /* most requests in flight or asking to be */
	int64_t window_start;
	long window_count;
	long window_peak;        /* most requests counted in one window */
};

struct throttle {
	pthread_mutex_t mu;
	struct strmap entries;   /* "client_id|mbox" → struct throttle_slot */
};

struct throttle *thr_new(void)
{
	struct throttle *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->mu, NULL);
	smap_init(&t->entries);
	return t;
}

static int free_entry(const char *k, void *v, void *ctx)
{
	(void)k;
	(void)ctx;
	free(v);
	return 1;
}

void thr_free(struct throttle *t)
{
	if (!t)
		return;
	smap_foreach(&t->entries, free_entry, NULL);
	smap_free(&t->entries);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct throttle_slot *entry(struct throttle *t, const char *cid,
				   uint32_t mbox)
{
	char key[160];
	struct throttle_slot *e;

	snprintf(key, sizeof(key), "%s|%u", cid, (unsigned)mbox);
	e = smap_get(&t->entries, key);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		smap_put(&t->entries, key, e);
	}
	return e;
}

/* Count toward the window; THROTTLE_RATE when over the limit. */
static enum throttle_verdict window(struct throttle_slot *e,
				    const struct sim_config *cfg, long *retry)
{
	int64_t now = simtime_now();

	if (!e->window_start || now >= e->window_start + cfg->rate_limit_window) {
		e->window_start = now;
		e->window_count = 0;
	}
	e->window_count++;
	if (e->window_count > e->window_peak)
		e->window_peak = e->window_count;
	if (e->window_count > cfg->rate_limit_requests) {
		*retry = (long)(e->window_start + cfg->rate_limit_window - now);
		if (*retry < 1)
			*retry = 1;
		return THROTTLE_RATE;
	}
	return THROTTLE_OK;
}

enum throttle_verdict thr_admit(struct throttle *t,
				     const struct sim_config *cfg,
				     const char *client_id, uint32_t mbox,
				     int take_slot, struct throttle_slot **slot,
				     long *retry_after)
{
	struct throttle_slot *e;
	enum throttle_verdict v;

	pthread_mutex_lock(&t->mu);
	e = entry(t, client_id, mbox);
	v = window(e, cfg, retry_after);
	if (take_slot && e->inflight + 1 > e->peak)
		e->peak = e->inflight + 1;
	if (v == THROTTLE_OK && take_slot) {
		if (e->inflight >= cfg->concurrency_limit) {
			*retry_after = cfg->concurrency_retry_after;
			v = THROTTLE_CONCURRENCY;
		} else {
			e->inflight++;
			*slot = e;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return v;
}

enum throttle_verdict thr_count(struct throttle *t,
				     const struct sim_config *cfg,
				     const char *client_id, uint32_t mbox,
				     long *retry_after)
{
	enum throttle_verdict v;

	pthread_mutex_lock(&t->mu);
	v = window(entry(t, client_id, mbox), cfg, retry_after);
	pthread_mutex_unlock(&t->mu);
	return v;
}

void thr_release(struct throttle *t, struct throttle_slot *slot)
{
	if (!slot)
		return;
	pthread_mutex_lock(&t->mu);
	if (slot->inflight > 0)
		slot->inflight--;
	pthread_mutex_unlock(&t->mu);
}

static int reset_entry(const char *k, void *v, void *ctx)
{
	struct throttle_slot *e = v;

	(void)k;
	(void)ctx;
	e->window_start = 0;
	e->window_count = 0;
	e->window_peak = 0;
	e->peak = e->inflight;
	return 0;
}

void thr_reset(struct throttle *t)
{
	pthread_mutex_lock(&t->mu);
	smap_foreach(&t->entries, reset_entry, NULL);
	pthread_mutex_unlock(&t->mu);
}

struct peak_query {
	char suffix[16];
	bool of_window;          /* window_peak rather than the in-flight peak */
	long peak;
};

static int peak_entry(const char *k, void *v, void *ctx)
{
	const struct throttle_slot *e = v;
	struct peak_query *q = ctx;
	size_t kl = strlen(k), sl = strlen(q->suffix);
	long peak = q->of_window ? e->window_peak : e->peak;

	if (kl >= sl && strcmp(k + kl - sl, q->suffix) == 0 && peak > q->peak)
		q->peak = peak;
	return 0;
}

static long mailbox_peak(struct throttle *t, uint32_t mbox, bool of_window)
{
	struct peak_query q = { .of_window = of_window, .peak = 0 };

	snprintf(q.suffix, sizeof(q.suffix), "|%u", (unsigned)mbox);
	pthread_mutex_lock(&t->mu);
	smap_foreach(&t->entries, peak_entry, &q);
	pthread_mutex_unlock(&t->mu);
	return q.peak;
}

long thr_peak(struct throttle *t, uint32_t mbox)
{
	return mailbox_peak(t, mbox, false);
}

long thr_window_peak(struct throttle *t, uint32_t mbox)
{
	return mailbox_peak(t, mbox, true);
}
