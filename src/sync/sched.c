/*
 * sched.c — the worker pool behind `sync` and the server (see sched.h).
 * One mutex guards the job table; workers take the due job with the
 * earliest next-due time that nobody is running, take the account's sync
 * lease in the store (so no other process or node syncs it meanwhile),
 * run one pass outside the lock with the store fenced by that lease, and
 * reschedule the job from the result.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/holder.h"
#include "inboxsync/log.h"
#include "inboxsync/sched.h"
#include "inboxsync/timeutil.h"
#include "sync/sched_internal.h"

#define MAX_WORKERS 64
#define DEFAULT_MAX_TRANSIENT 8
#define BACKOFF_CAP_S 300
#define OUTBOX_RECHECK_MS 2000
#define LEASE_TTL_S 60             /* a pass is budgeted well below this */
#define LEASE_RETRY_MS 1000        /* another process holds the account */

struct job {
	int64_t due_ms;            /* monotonic */
	bool running;
	bool finished;
	bool told_busy;            /* the holder of its lease was reported */
	int transient_in_row;
};

struct sched {
	const struct sched_config *cfg;
	const int64_t *ids;
	struct sched_outcome *out;
	struct job *jobs;
	size_t n;
	size_t finished;
	pthread_mutex_t lock;
	pthread_cond_t wake;
};

int sched_backoff_s(int k)
{
	double base = 1;
	double factor;

	for (int i = 0; i < k && base < BACKOFF_CAP_S; i++)
		base *= 2;
	if (base > BACKOFF_CAP_S)
		base = BACKOFF_CAP_S;
	factor = 0.5 + (double)randombytes_uniform(1000) / 1000.0;
	return (int)(base * factor) > 0 ? (int)(base * factor) : 1;
}

static bool stopping(const struct sched *s)
{
	return s->cfg->stop && *s->cfg->stop;
}

/* Index of the job to run now, or -1; *wait_ms gets how long to wait for
 * the next one (-1 = no job left). Called with the lock held. */
static long pick_job(struct sched *s, int64_t *wait_ms)
{
	int64_t now = time_mono_ms(), best_due = INT64_MAX;
	long best = -1;

	*wait_ms = -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct job *j = &s->jobs[i];

		if (j->finished || j->running)
			continue;
		if (j->due_ms < best_due) {
			best_due = j->due_ms;
			best = (long)i;
		}
	}
	if (best < 0) {
		/* Only running jobs left: wait for them to reschedule. */
		*wait_ms = s->finished < s->n ? 1000 : -1;
		return -1;
	}
	if (best_due > now) {
		*wait_ms = best_due - now;
		return -1;
	}
	return best;
}

static void add_result(struct engine_result *sum, const struct engine_result *r)
{
	sum->pages += r->pages;
	sum->created += r->created;
	sum->updated += r->updated;
	sum->moved += r->moved;
	sum->deleted += r->deleted;
	sum->resyncs += r->resyncs;
	sum->sent += r->sent;
	sum->outbox_failed += r->outbox_failed;
	sum->outbox_open = r->outbox_open;
	sum->folders_selected = r->folders_selected;
	sum->folders_live = r->folders_live;
	sum->complete = r->complete;
}

/* Decide what happens to job i after a pass. Lock held. */
static void reschedule(struct sched *s, size_t i, int rc,
		       const struct engine_result *r, const struct err *e)
{
	struct job *j = &s->jobs[i];
	struct sched_outcome *o = &s->out[i];
	int max_transient = s->cfg->max_transient_failures > 0
			    ? s->cfg->max_transient_failures : DEFAULT_MAX_TRANSIENT;
	int64_t now = time_mono_ms();
	bool done = false;

	o->passes++;
	o->rc = rc;
	/* A pass that failed still committed what it did before the error,
	 * and the folders are still there: both count. */
	add_result(&o->total, r);
	if (rc == 0) {
		o->complete = r->complete;
		err_clear(&o->err);
		j->transient_in_row = 0;
		if (s->cfg->mode == SCHED_ONCE ||
		    (s->cfg->mode == SCHED_UNTIL_COMPLETE && r->complete))
			done = true;
		else if (r->complete)
			j->due_ms = now + (int64_t)s->cfg->poll_interval_s * 1000;
		else if (r->folders_live == r->folders_selected)
			j->due_ms = now + OUTBOX_RECHECK_MS; /* only sends are waiting */
		else
			j->due_ms = now; /* more to do: straight back in the queue */
	} else {
		o->err = *e;
		switch (e->class) {
		case ERR_THROTTLED:
			j->due_ms = now + (int64_t)(e->retry_after_s > 0 ? e->retry_after_s : 1) * 1000;
			done = s->cfg->mode == SCHED_ONCE;
			break;
		case ERR_TRANSIENT:
			j->transient_in_row++;
			j->due_ms = now + (int64_t)sched_backoff_s(j->transient_in_row) * 1000;
			/* A full disk does not empty itself: a run until complete
			 * stops and says so; the service keeps retrying, and
			 * resumes once there is room. */
			done = s->cfg->mode == SCHED_ONCE ||
			       (s->cfg->mode == SCHED_UNTIL_COMPLETE &&
				(j->transient_in_row >= max_transient ||
				 err_is(e, "store_full")));
			break;
		default: /* auth, permanent, bug: the owner must act */
			done = s->cfg->mode != SCHED_FOREVER;
			j->due_ms = now + (int64_t)BACKOFF_CAP_S * 1000;
			break;
		}
	}
	j->running = false;
	if (done) {
		j->finished = true;
		s->finished++;
	}
	pthread_cond_broadcast(&s->wake);
}

/* Another process or node syncs account i: try again shortly, telling
 * the caller once who holds it. Lock held. */
static void wait_for_holder(struct sched *s, size_t i, const char *holder)
{
	struct job *j = &s->jobs[i];

	if (!j->told_busy && s->cfg->on_busy) {
		j->told_busy = true;
		pthread_mutex_unlock(&s->lock);
		s->cfg->on_busy(s->cfg->after_pass_ctx, s->ids[i], holder);
		pthread_mutex_lock(&s->lock);
	}
	j->due_ms = time_mono_ms() + LEASE_RETRY_MS;
	j->running = false;
	pthread_cond_broadcast(&s->wake);
}

struct worker {
	struct sched *s;
	struct auth_env env;
	char holder[128];          /* this worker's name on sync leases */
	pthread_t thread;
	bool started;
};

/* Take the account's lease for one pass. 1 taken (the store is fenced),
 * 0 another holder has it (its name in `busy`), -1 error. */
static int lease_take(struct worker *w, int64_t id, char busy[128], struct err *e)
{
	struct store_lease cur;
	int64_t gen = 0;
	int rc = store_claim_lease(w->env.store, id, w->holder, LEASE_TTL_S, &gen,
				   &cur, e);

	if (rc == 0 && holder_is_dead(cur.holder)) {
		/* A command killed mid-pass on this host: nothing of its pass
		 * outlives it (every commit is fenced), so its lease is ours
		 * now rather than at its expiry. */
		log_info("sched", "account %lld: taking over the sync lease of a process "
			 "that ended (%s)", (long long)id, cur.holder);
		if (store_release_lease(w->env.store, id, cur.holder, e) < 0)
			return -1;
		rc = store_claim_lease(w->env.store, id, w->holder, LEASE_TTL_S, &gen,
				       &cur, e);
	}
	if (rc == 1)
		store_set_fence(w->env.store, id, w->holder, gen);
	else if (rc == 0)
		str_copy(busy, 128, cur.holder);
	return rc;
}

static void lease_drop(struct worker *w, int64_t id)
{
	struct err e;

	store_set_fence(w->env.store, 0, NULL, 0);
	store_release_lease(w->env.store, id, w->holder, &e);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sched *s = w->s;

	pthread_mutex_lock(&s->lock);
	while (s->finished < s->n && !stopping(s)) {
		int64_t wait_ms;
		long i = pick_job(s, &wait_ms);
		struct engine_result r;
		struct err e = { 0 };
		int rc;

		if (i < 0) {
			struct timespec ts;

			if (wait_ms < 0)
				break;
			if (wait_ms > 500)
				wait_ms = 500; /* re-check the stop flag */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait_ms / 1000);
			ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
			continue;
		}
		s->jobs[i].running = true;
		pthread_mutex_unlock(&s->lock);
		{
			char busy[128] = "";
			int leased = lease_take(w, s->ids[i], busy, &e);

			if (leased == 0) {
				pthread_mutex_lock(&s->lock);
				wait_for_holder(s, (size_t)i, busy);
				continue;
			}
			memset(&r, 0, sizeof(r));
			rc = leased < 0 ? -1
			     : engine_sync_pass(&w->env, s->ids[i], &s->cfg->engine, &r, &e);
			if (leased == 1)
				lease_drop(w, s->ids[i]);
		}
		if (s->cfg->after_pass)
			s->cfg->after_pass(s->cfg->after_pass_ctx, s->ids[i], rc, &r, &e);
		if (rc < 0)
			log_info("sched", "account %lld: pass failed (%s): %s",
				 (long long)s->ids[i], err_class_name(e.class), e.msg);
		pthread_mutex_lock(&s->lock);
		reschedule(s, (size_t)i, rc, &r, &e);
	}
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int sched_env_open(const struct sched_config *cfg, struct auth_env *env, struct err *e)
{
	memset(env, 0, sizeof(*env));
	if (store_open_existing(cfg->store_path, &env->store, e) < 0)
		return -1;
	env->vault = cfg->key_file ? vault_new_file(cfg->key_file) : vault_new(cfg->data_dir);
	vault_guard_store(env->vault, env->store);
	env->http = http_client_new(&(struct http_options){ .abort_flag = cfg->http_abort });
	env->auth_invalid_threshold = cfg->auth_invalid_threshold;
	return 0;
}

void sched_env_close(struct auth_env *env)
{
	store_close(env->store);
	vault_free(env->vault);
	http_client_free(env->http);
	memset(env, 0, sizeof(*env));
}

static int worker_open(struct worker *w, const struct sched_config *cfg,
		       size_t index, struct err *e)
{
	char tag[24];

	snprintf(tag, sizeof(tag), "%zu", index);
	holder_name(w->holder, sizeof(w->holder), cfg->node_id, tag);
	return sched_env_open(cfg, &w->env, e);
}

static void worker_close(struct worker *w)
{
	sched_env_close(&w->env);
}

int sched_run(const struct sched_config *cfg, const int64_t *ids, size_t n,
	      struct sched_outcome *out, struct err *e)
{
	struct sched s = { .cfg = cfg, .ids = ids, .out = out, .n = n };
	size_t nw = (size_t)(cfg->workers > 0 ? cfg->workers : SCHED_DEFAULT_WORKERS);
	struct worker *workers;
	int rc = 0;

	if (sodium_init() < 0)
		return err_set(e, ERR_BUG, "sodium", "libsodium failed to initialise");
	if (nw > MAX_WORKERS)
		nw = MAX_WORKERS;
	if (nw > n)
		nw = n ? n : 1;
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i].account_id = ids[i];
	s.jobs = xcalloc(n ? n : 1, sizeof(*s.jobs));
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.wake, NULL);
	workers = xcalloc(nw, sizeof(*workers));
	for (size_t i = 0; i < nw && rc == 0; i++) {
		workers[i].s = &s;
		if (worker_open(&workers[i], cfg, i, e) < 0) {
			rc = -1;
			break;
		}
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			worker_close(&workers[i]);
			rc = err_set(e, ERR_PERMANENT, "threads", "cannot start worker threads");
			break;
		}
		workers[i].started = true;
	}
	if (rc < 0) {
		pthread_mutex_lock(&s.lock);
		s.finished = s.n; /* tell started workers to leave */
		pthread_cond_broadcast(&s.wake);
		pthread_mutex_unlock(&s.lock);
	}
	for (size_t i = 0; i < nw; i++) {
		if (!workers[i].started)
			continue;
		pthread_join(workers[i].thread, NULL);
		worker_close(&workers[i]);
	}
	free(workers);
	free(s.jobs);
	pthread_mutex_destroy(&s.lock);
	pthread_cond_destroy(&s.wake);
	return rc;
}
