/*
 * counters.c — request and token counters kept as JSON objects (see
 * counters.h), behind their own mutex (requests are counted after the
 * world lock is released).
 */
#include <pthread.h>
#include <stdio.h>
#include "inboxsync/alloc.h"
#include "counters.h"

struct counters {
	pthread_mutex_t mu;
	json_t *requests;      /* {"GET /v1.0/me": {"200": n}} */
	json_t *by_grant;      /* {"refresh_token": n} */
	json_t *by_outcome;    /* {"ok": n, "invalid_grant": n} */
	json_t *events;        /* {"throttled": n} */
	unsigned long long total, bytes_in, bytes_out;
	unsigned long long delayed, delay_ms, delay_max_ms;  /* latency.h */
	long inflight, inflight_max;
};

static void bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(obj, key, json_integer(1));
}

struct counters *ctr_new(void)
{
	struct counters *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	ctr_reset(c);
	return c;
}

void ctr_free(struct counters *c)
{
	if (!c)
		return;
	json_decref(c->requests);
	json_decref(c->by_grant);
	json_decref(c->by_outcome);
	json_decref(c->events);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void ctr_reset(struct counters *c)
{
	pthread_mutex_lock(&c->mu);
	json_decref(c->requests);
	json_decref(c->by_grant);
	json_decref(c->by_outcome);
	json_decref(c->events);
	c->requests = json_object();
	c->by_grant = json_object();
	c->by_outcome = json_object();
	c->events = json_object();
	c->total = c->bytes_in = c->bytes_out = 0;
	c->delayed = c->delay_ms = c->delay_max_ms = 0;
	c->inflight_max = c->inflight; /* what is in flight now stays counted */
	pthread_mutex_unlock(&c->mu);
}

void ctr_request(struct counters *c, const char *method,
		      const char *route, int status, size_t bytes_in,
		      size_t bytes_out)
{
	char key[300], st[16];
	json_t *per;

	snprintf(key, sizeof(key), "%s %s", method, route ? route : "(unrouted)");
	snprintf(st, sizeof(st), "%d", status);
	pthread_mutex_lock(&c->mu);
	per = json_object_get(c->requests, key);
	if (!per) {
		per = json_object();
		json_object_set_new(c->requests, key, per);
	}
	bump(per, st);
	c->total++;
	c->bytes_in += bytes_in;
	c->bytes_out += bytes_out;
	pthread_mutex_unlock(&c->mu);
}

void ctr_token(struct counters *c, const char *grant, const char *outcome)
{
	pthread_mutex_lock(&c->mu);
	bump(c->by_grant, grant);
	bump(c->by_outcome, outcome);
	pthread_mutex_unlock(&c->mu);
}

void ctr_event(struct counters *c, const char *name)
{
	pthread_mutex_lock(&c->mu);
	bump(c->events, name);
	pthread_mutex_unlock(&c->mu);
}

void ctr_latency(struct counters *c, long ms)
{
	if (ms <= 0)
		return;
	pthread_mutex_lock(&c->mu);
	c->delayed++;
	c->delay_ms += (unsigned long long)ms;
	if ((unsigned long long)ms > c->delay_max_ms)
		c->delay_max_ms = (unsigned long long)ms;
	pthread_mutex_unlock(&c->mu);
}

void ctr_inflight(struct counters *c, int n)
{
	pthread_mutex_lock(&c->mu);
	c->inflight += n;
	if (c->inflight > c->inflight_max)
		c->inflight_max = c->inflight;
	pthread_mutex_unlock(&c->mu);
}

json_t *ctr_to_json(struct counters *c)
{
	json_t *out;

	pthread_mutex_lock(&c->mu);
	/* deep copies: the snapshot is serialised after the mutex is gone */
	out = json_pack("{s:o, s:I, s:I, s:I, s:{s:o, s:o}, s:o}",
			 "requests", json_deep_copy(c->requests), "requests_total", (json_int_t)c->total,
			 "bytes_in", (json_int_t)c->bytes_in, "bytes_out",
			 (json_int_t)c->bytes_out, "token_requests", "by_grant",
			 json_deep_copy(c->by_grant), "by_outcome", json_deep_copy(c->by_outcome),
			 "events", json_deep_copy(c->events));
	json_object_set_new(out, "latency",
			    json_pack("{s:I, s:I, s:I}", "delayed", (json_int_t)c->delayed, "ms",
				      (json_int_t)c->delay_ms, "max_ms", (json_int_t)c->delay_max_ms));
	json_object_set_new(out, "inflight",
			    json_pack("{s:I, s:I}", "now", (json_int_t)c->inflight, "max",
				      (json_int_t)c->inflight_max));
	pthread_mutex_unlock(&c->mu);
	return out;
}
