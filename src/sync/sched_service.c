/*
 * sched_service.c — the scheduler of `serve` (see sched.h): a dispatcher
 * thread that claims due accounts with their sync lease and keeps the
 * leases of running passes renewed, and a pool of workers that run one
 * pass per claimed account with the store fenced by the lease, then write
 * when the account is due again. What is due is the store's
 * (next_due_at), so every node sees the same schedule.
 *
 * Balance (docs/operations.md, "Many nodes"): every node writes a
 * heartbeat, which tells it how many nodes are alive and so its fair
 * share, ceil(accounts / nodes). After a pass a node keeps the account's
 * lease (renewed, at the same generation, while idle) as long as it holds
 * no more than its share, and gives it back otherwise; it sheds the excess
 * of what it keeps when its share shrinks (a node joined). Free accounts
 * (never leased, expired, shed) go first to the nodes under their share,
 * before their own kept accounts: a node at its share runs its kept
 * accounts first and claims free ones only every few rounds, to run a
 * pass and give them back. So a joining node takes about its share, from what
 * the others shed, and nothing else moves. A node alone keeps nothing
 * between passes (as a command-line sync on the same store expects).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/metrics.h"
#include "inboxsync/sched.h"
#include "inboxsync/timeutil.h"
#include "sync/sched_internal.h"

#define DEFAULT_WORKERS 4
#define MAX_WORKERS 256
#define DEFAULT_POLL_S 60
#define DEFAULT_TTL_S 30
#define CLAIM_EVERY_MS 1000        /* look for due accounts this often */
#define OUTBOX_RECHECK_S 2         /* only sends are waiting */
#define NEEDS_PERSON_S 300         /* auth, permanent: look again later */
#define AUTH_RECHECK_S 30          /* a failure counted toward auth_invalid */
#define BACKOFF_CAP_S 300
#define FULL_CLAIM_EVERY 4         /* at its share: claim free accounts every 4th round */

/* An account claimed by this node: queued, then run by a worker. */
struct claimed {
	int64_t id;
	bool running;
	int64_t gen;               /* the lease generation the pass works under */
	bool done;                 /* the pass ended: its lease is being let go or kept */
	bool was_kept;             /* its lease was kept here since an earlier pass */
};

struct sched_service {
	struct sched_config cfg;
	char holder[128];
	int poll_s, ttl_s;
	size_t n_workers;
	pthread_t *threads;
	size_t started;
	pthread_t dispatcher;
	bool dispatcher_started;
	struct auth_env denv;      /* the dispatcher's connection */
	pthread_mutex_t lock;
	pthread_cond_t work;       /* a claimed account waits for a worker */
	pthread_cond_t wake;       /* the dispatcher should look again */
	struct claimed *claims;    /* n_workers slots: queued or running */
	size_t n_claims;
	int64_t *kept;             /* accounts whose lease is kept between passes */
	size_t n_kept, cap_kept;
	long long share;           /* fair share of accounts; 0: keep none */
	long long nodes;           /* alive at the last heartbeat */
	bool poked;
	volatile sig_atomic_t stopping;
	volatile sig_atomic_t http_abort;
};

static void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static long kept_index(const struct sched_service *s, int64_t id);

/* ---- after a pass ------------------------------------------------------------- */

/* Write when the account is due again, from how the pass ended (the
 * engine already wrote its state and, when throttled, Retry-After). */
static void schedule_next(struct sched_service *s, struct store *st, int64_t id,
			  int rc, const struct engine_result *r, const struct err *e)
{
	struct store_account a;
	struct err se;
	int64_t now = time_now(), next;
	int backoff = 0;

	if (store_get_account(st, id, &a, &se) != 1)
		return; /* removed meanwhile */
	if (rc == 0) {
		/* A pass cut short goes on at once; one that left only sends
		 * waiting looks again shortly. */
		next = r->complete ? now + s->poll_s
		       : !r->stopped_early && r->folders_live == r->folders_selected
		       ? now + OUTBOX_RECHECK_S : 0;
		store_set_account_schedule(st, id, next, a.throttled_until, 0, &se);
		return;
	}
	switch (e->class) {
	case ERR_THROTTLED:
		next = a.throttled_until > now ? a.throttled_until
		       : now + (e->retry_after_s > 0 ? e->retry_after_s : 1);
		metrics_add("inboxsync_throttle_waits_total", 1, NULL);
		metrics_add("inboxsync_throttle_wait_seconds_total", (double)(next - now), NULL);
		store_set_account_schedule(st, id, next, a.throttled_until > now
					   ? a.throttled_until : next, a.backoff_s, &se);
		return;
	case ERR_TRANSIENT: {
		int k = 1;

		for (int b = a.backoff_s; b > 1 && k < 16; b /= 2)
			k++;
		backoff = sched_backoff_s(k);
		if (backoff > BACKOFF_CAP_S)
			backoff = BACKOFF_CAP_S;
		next = now + backoff;
		break;
	}
	default:
		/* An authorization failure that counted toward auth_invalid
		 * (a revoked grant, say) is tried again soon, so the account
		 * reaches auth_invalid and says so within a minute or two
		 * instead of after three long waits; the threshold, not the
		 * wait, is what guards against a passing failure. */
		next = now + (e->class == ERR_AUTH && a.auth_failures > 0 &&
			      a.state != STORE_STATE_AUTH_INVALID
			      ? AUTH_RECHECK_S : NEEDS_PERSON_S);
		backoff = a.backoff_s;
		break;
	}
	store_set_account_schedule(st, id, next, a.throttled_until, backoff, &se);
}

/* ---- workers ------------------------------------------------------------------ */

struct worker {
	struct sched_service *s;
	struct auth_env env;
};

/* The queued account to run next (marked running) into *id: false when
 * stopping. */
static bool take_claim(struct sched_service *s, int64_t *id)
{
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->stopping) {
			pthread_mutex_unlock(&s->lock);
			return false;
		}
		for (size_t i = 0; i < s->n_claims; i++) {
			if (!s->claims[i].running) {
				s->claims[i].running = true;
				*id = s->claims[i].id;
				pthread_mutex_unlock(&s->lock);
				return true;
			}
		}
		pthread_cond_wait(&s->work, &s->lock);
	}
}

/* Note what a running claim's lease is (gen > 0), or that its pass ended
 * (done), for the renewal. */
static void mark_claim(struct sched_service *s, int64_t id, int64_t gen, bool done)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_claims; i++) {
		if (s->claims[i].id == id) {
			s->claims[i].gen = gen;
			s->claims[i].done = done;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* The pass of account `id` is over: stop renewing, give the lease back. */
static void let_go(struct sched_service *s, struct store *st, int64_t id)
{
	mark_claim(s, id, 0, true);
	store_set_fence(st, 0, NULL, 0);
	store_release_lease(st, id, s->holder, &(struct err){ 0 });
}

/* Leases this node counts towards its share (lock held): those kept
 * between passes and the running passes of accounts it kept, but for
 * `except`. */
static size_t held_locked(const struct sched_service *s, int64_t except)
{
	size_t n = s->n_kept;

	for (size_t i = 0; i < s->n_claims; i++)
		if (s->claims[i].was_kept && !s->claims[i].done && s->claims[i].id != except)
			n++;
	return n;
}

/* The pass of account `id` is over (and its next time written): keep the
 * lease while this node holds no more than its share, else give it back.
 * An account that waits for a person (reauthorization, a permanent
 * error) is not kept: it takes no share. */
static void keep_or_let_go(struct sched_service *s, struct store *st, int64_t id,
			   int rc, const struct err *e)
{
	bool keep;

	pthread_mutex_lock(&s->lock);
	keep = s->share > 0 && !s->stopping &&
	       (rc == 0 || e->class == ERR_TRANSIENT || e->class == ERR_THROTTLED) &&
	       (long long)held_locked(s, id) + 1 <= s->share;
	if (keep) {
		for (size_t i = 0; i < s->n_claims; i++)
			if (s->claims[i].id == id)
				s->claims[i].done = true; /* renewed as kept from now on */
		if (s->n_kept == s->cap_kept) {
			s->cap_kept = s->cap_kept ? s->cap_kept * 2 : 64;
			s->kept = xrealloc(s->kept, s->cap_kept * sizeof(*s->kept));
		}
		s->kept[s->n_kept++] = id;
	}
	pthread_mutex_unlock(&s->lock);
	if (keep)
		store_set_fence(st, 0, NULL, 0);
	else
		let_go(s, st, id);
}

static void drop_claim(struct sched_service *s, int64_t id)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_claims; i++) {
		if (s->claims[i].id == id) {
			s->claims[i] = s->claims[--s->n_claims];
			break;
		}
	}
	s->poked = true; /* a worker is free: look for more */
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

static void run_one(struct worker *w, int64_t id)
{
	struct sched_service *s = w->s;
	struct store *st = w->env.store;
	struct engine_result r;
	struct store_lease cur;
	struct err e;
	int64_t gen = 0;
	int rc;

	err_clear(&e);
	memset(&r, 0, sizeof(r));
	rc = store_claim_lease(st, id, s->holder, s->ttl_s, &gen, &cur, &e);
	if (rc != 1) {
		if (rc < 0)
			log_warn("sched", "account %lld: cannot take the sync lease: %s",
				 (long long)id, e.msg);
		return; /* another node has it now */
	}
	store_set_fence(st, id, s->holder, gen);
	mark_claim(s, id, gen, false);
	rc = engine_sync_pass(&w->env, id, &s->cfg.engine, &r, &e);
	metrics_add("inboxsync_sync_passes_total", 1, NULL);
	if (rc < 0 && err_is(&e, "lease_lost")) {
		/* This node was away past its lease (paused, cut off): another
		 * one took the account, and the commit was refused. */
		log_warn("sched", "account %lld: lease_lost: the sync lease moved on "
			 "while this node worked; its last step was refused and not "
			 "kept", (long long)id);
		let_go(s, st, id); /* a no-op when another node holds it */
		return;
	}
	if (rc < 0 && err_is(&e, "aborted")) {
		let_go(s, st, id);
		return; /* shutting down: the account is due again as it was */
	}
	schedule_next(s, st, id, rc, &r, &e);
	keep_or_let_go(s, st, id, rc, &e);
	if (rc < 0)
		log_info("sched", "account %lld: pass failed (%s): %s", (long long)id,
			 err_class_name(e.class), e.msg);
	if (s->cfg.after_pass)
		s->cfg.after_pass(s->cfg.after_pass_ctx, id, rc, &r, &e);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t id;

	while (take_claim(w->s, &id)) {
		run_one(w, id);
		drop_claim(w->s, id);
	}
	sched_env_close(&w->env);
	free(w);
	return NULL;
}

/* ---- the dispatcher ------------------------------------------------------------- */

/* Index of `id` in the kept list, or -1 (lock held). */
static long kept_index(const struct sched_service *s, int64_t id)
{
	for (size_t i = 0; i < s->n_kept; i++)
		if (s->kept[i] == id)
			return (long)i;
	return -1;
}

static bool claimed_locked(const struct sched_service *s, int64_t id)
{
	for (size_t i = 0; i < s->n_claims; i++)
		if (s->claims[i].id == id)
			return true;
	return false;
}

/* The kept ids, copied (caller frees); NULL when there are none. */
static int64_t *copy_kept(struct sched_service *s, size_t *n)
{
	int64_t *ids = NULL;

	pthread_mutex_lock(&s->lock);
	*n = s->n_kept;
	if (*n) {
		ids = xcalloc(*n, sizeof(*ids));
		memcpy(ids, s->kept, *n * sizeof(*ids));
	}
	pthread_mutex_unlock(&s->lock);
	return ids;
}

/* The heartbeat: how many nodes are alive, hence this node's share
 * (none to keep when it is alone). Unchanged when the store fails. */
static void fleet_beat(struct sched_service *s)
{
	struct store_fleet f;
	struct err e;
	long long share;

	err_clear(&e);
	if (store_node_beat(s->denv.store, s->holder, s->ttl_s, &f, &e) < 0) {
		log_warn("sched", "cannot record the node's heartbeat: %s", e.msg);
		return;
	}
	share = f.nodes > 1 ? (f.accounts + f.nodes - 1) / f.nodes : 0;
	pthread_mutex_lock(&s->lock);
	if (f.nodes != s->nodes)
		log_info("sched", "%lld nodes alive, %lld accounts: this node's share is %lld",
			 f.nodes, f.accounts, share);
	s->nodes = f.nodes;
	s->share = share;
	pthread_mutex_unlock(&s->lock);
}

/* Queue the kept accounts that are due, the longest due first (a node
 * with more due than it can run serves them in turn), for the free
 * workers. */
static void take_due_kept(struct sched_service *s)
{
	size_t n, n_due = 0;
	int64_t *ids = copy_kept(s, &n);
	int64_t *due;
	struct err e;

	if (!ids)
		return;
	due = xcalloc(n, sizeof(*due));
	err_clear(&e);
	if (store_due_among(s->denv.store, ids, n, due, &n_due, &e) < 0) {
		log_warn("sched", "cannot look for due accounts: %s", e.msg);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n_due && s->n_claims < s->n_workers; i++) {
		long k;

		if ((k = kept_index(s, due[i])) < 0 || claimed_locked(s, due[i]))
			continue;
		s->kept[k] = s->kept[--s->n_kept];
		s->claims[s->n_claims++] = (struct claimed){ .id = due[i], .was_kept = true };
		pthread_cond_broadcast(&s->work);
	}
	pthread_mutex_unlock(&s->lock);
out:
	free(due);
	free(ids);
}

/* Renew the kept leases; forget those that were lost (this node was away
 * past its lease, and another node may have the account now). */
static void renew_kept(struct sched_service *s)
{
	size_t n;
	int64_t *ids = copy_kept(s, &n);
	bool *renewed;
	struct err e;

	if (!ids)
		return;
	renewed = xcalloc(n, sizeof(*renewed));
	err_clear(&e);
	if (store_renew_leases(s->denv.store, s->holder, s->ttl_s, ids, n, renewed, &e) < 0) {
		log_warn("sched", "cannot renew the kept sync leases: %s", e.msg);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		long k;

		if (renewed[i] || (k = kept_index(s, ids[i])) < 0)
			continue;
		s->kept[k] = s->kept[--s->n_kept];
		log_info("sched", "account %lld: the kept sync lease had expired; "
			 "not kept any longer", (long long)ids[i]);
	}
	pthread_mutex_unlock(&s->lock);
out:
	free(renewed);
	free(ids);
}

/* Give back the kept leases beyond this node's share (all of them when
 * it is alone), for the nodes under theirs. */
static void shed_excess(struct sched_service *s)
{
	int64_t *ids = NULL;
	size_t n = 0, held;

	pthread_mutex_lock(&s->lock);
	held = held_locked(s, 0);
	if (s->n_kept && (long long)held > s->share) {
		size_t excess = (size_t)((long long)held - s->share);

		if (excess > s->n_kept)
			excess = s->n_kept;
		ids = xcalloc(excess, sizeof(*ids));
		while (n < excess)
			ids[n++] = s->kept[--s->n_kept];
	}
	pthread_mutex_unlock(&s->lock);
	if (!n)
		return;
	log_info("sched", "giving back %zu sync leases beyond this node's share", n);
	for (size_t i = 0; i < n; i++)
		store_release_lease(s->denv.store, ids[i], s->holder, &(struct err){ 0 });
	free(ids);
}

/* Whether this node holds its share already (then free accounts are
 * left to the others first). */
static bool at_share(struct sched_service *s)
{
	bool full;

	pthread_mutex_lock(&s->lock);
	full = s->share > 0 && (long long)held_locked(s, 0) >= s->share;
	pthread_mutex_unlock(&s->lock);
	return full;
}

/* Claim due accounts for the free workers. */
static void claim_due(struct sched_service *s)
{
	int64_t *ids = NULL;
	size_t n = 0, free_slots;
	struct err e;

	pthread_mutex_lock(&s->lock);
	free_slots = s->n_workers - s->n_claims;
	pthread_mutex_unlock(&s->lock);
	if (!free_slots)
		return;
	err_clear(&e);
	if (store_claim_due_accounts(s->denv.store, s->holder, s->ttl_s, free_slots,
				     &ids, &n, &e) < 0) {
		log_warn("sched", "cannot look for due accounts: %s", e.msg);
		return;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n && s->n_claims < s->n_workers; i++)
		s->claims[s->n_claims++] = (struct claimed){ .id = ids[i] };
	if (n)
		pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	free(ids);
}

/* Whether this node still wants the lease of `id` that a renewal got at
 * generation `gen`: the account is still claimed here, its pass has not
 * ended, and the pass works under that generation (or has not started);
 * or its pass ended meanwhile and the lease is kept. */
static bool still_wanted(struct sched_service *s, int64_t id, int64_t gen)
{
	bool wanted;

	pthread_mutex_lock(&s->lock);
	wanted = kept_index(s, id) >= 0;
	for (size_t i = 0; i < s->n_claims; i++) {
		const struct claimed *c = &s->claims[i];

		if (c->id == id && !c->done && (c->gen == 0 || c->gen == gen))
			wanted = true;
	}
	pthread_mutex_unlock(&s->lock);
	return wanted;
}

/* Keep the leases of what this node works on. A renewal is a claim, so
 * it would also take a lease that had come free meanwhile, at a new
 * generation: one whose pass ended here a moment ago (and gave it back),
 * or one that had moved on (whose pass's fence names the old generation,
 * so its commits are refused anyway). Such a lease is given back at once
 * rather than held with nobody working under it. */
static void renew_leases(struct sched_service *s)
{
	int64_t ids[MAX_WORKERS], gens[MAX_WORKERS];
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_claims; i++) {
		if (s->claims[i].done)
			continue;
		ids[n] = s->claims[i].id;
		gens[n++] = s->claims[i].gen;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct store_lease cur;
		struct err e;
		int64_t gen = 0;
		int rc;

		err_clear(&e);
		rc = store_claim_lease(s->denv.store, ids[i], s->holder, s->ttl_s, &gen,
				       &cur, &e);
		if (rc == 0)
			log_warn("sched", "account %lld: the sync lease was taken by %s",
				 (long long)ids[i], cur.holder);
		else if (rc == 1 && ((gens[i] > 0 && gen != gens[i]) ||
				     !still_wanted(s, ids[i], gen)))
			store_release_lease(s->denv.store, ids[i], s->holder, &e);
	}
}

static void *dispatcher_main(void *arg)
{
	struct sched_service *s = arg;
	int64_t last_claim = 0, last_beat = 0, last_renew = time_mono_ms();
	unsigned rounds = 0;

	while (!s->stopping) {
		int64_t now = time_mono_ms();
		bool poked;
		struct timespec ts;

		pthread_mutex_lock(&s->lock);
		poked = s->poked;
		s->poked = false;
		pthread_mutex_unlock(&s->lock);
		/* Once a second whatever the pokes (a busy node is poked at
		 * the end of every pass): the heartbeat, and the share. */
		if (now - last_beat >= CLAIM_EVERY_MS) {
			fleet_beat(s);
			shed_excess(s);
			rounds++;
			last_beat = now;
		}
		/* Under its share a node takes free accounts first (it is
		 * short of them, and its kept ones wait less than a round);
		 * at its share its kept accounts go first, and free ones only
		 * every few rounds, left to the nodes under their share. */
		if (poked || now - last_claim >= CLAIM_EVERY_MS) {
			if (at_share(s)) {
				take_due_kept(s);
				if (rounds % FULL_CLAIM_EVERY == 0)
					claim_due(s);
			} else {
				claim_due(s);
				take_due_kept(s);
			}
			last_claim = now;
		}
		if (now - last_renew >= (int64_t)s->ttl_s * 1000 / 3) {
			renew_leases(s);
			renew_kept(s);
			last_renew = now;
		}
		pthread_mutex_lock(&s->lock);
		if (!s->poked && !s->stopping) {
			deadline_in(&ts, 250);
			pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

static void service_free(struct sched_service *s)
{
	sched_env_close(&s->denv);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->wake);
	free(s->threads);
	free(s->claims);
	free(s->kept);
	free(s);
}

int sched_service_start(const struct sched_config *cfg, struct sched_service **out,
			struct err *e)
{
	struct sched_service *s = xcalloc(1, sizeof(*s));
	char host[64] = "";

	*out = NULL;
	if (sodium_init() < 0) {
		free(s);
		return err_set(e, ERR_BUG, "sodium", "libsodium failed to initialise");
	}
	s->cfg = *cfg;
	s->cfg.http_abort = &s->http_abort;
	s->cfg.engine.stop = &s->stopping;
	s->poll_s = cfg->poll_interval_s > 0 ? cfg->poll_interval_s : DEFAULT_POLL_S;
	s->ttl_s = cfg->lease_ttl_s > 0 ? cfg->lease_ttl_s : DEFAULT_TTL_S;
	s->n_workers = (size_t)(cfg->workers > 0 ? cfg->workers : DEFAULT_WORKERS);
	if (s->n_workers > MAX_WORKERS)
		s->n_workers = MAX_WORKERS;
	gethostname(host, sizeof(host) - 1);
	if (cfg->node_id && *cfg->node_id)
		str_copy(s->holder, sizeof(s->holder), cfg->node_id);
	else
		snprintf(s->holder, sizeof(s->holder), "%.63s:%ld", host, (long)getpid());
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->claims = xcalloc(s->n_workers, sizeof(*s->claims));
	s->threads = xcalloc(s->n_workers, sizeof(*s->threads));
	if (sched_env_open(&s->cfg, &s->denv, e) < 0) {
		service_free(s);
		return -1;
	}
	for (size_t i = 0; i < s->n_workers; i++) {
		struct worker *w = xcalloc(1, sizeof(*w));

		w->s = s;
		if (sched_env_open(&s->cfg, &w->env, e) < 0 ||
		    pthread_create(&s->threads[i], NULL, worker_main, w) != 0) {
			if (w->env.store)
				sched_env_close(&w->env);
			free(w);
			if (e->class == ERR_NONE)
				err_set(e, ERR_PERMANENT, "threads", "cannot start worker threads");
			s->n_workers = i;
			sched_service_stop(s, 0);
			return -1;
		}
		s->started++;
	}
	if (pthread_create(&s->dispatcher, NULL, dispatcher_main, s) != 0) {
		err_set(e, ERR_PERMANENT, "threads", "cannot start the scheduler thread");
		sched_service_stop(s, 0);
		return -1;
	}
	s->dispatcher_started = true;
	log_info("sched", "scheduler started: %zu workers, node %s, lease %d s, poll "
		 "every %d s", s->n_workers, s->holder, s->ttl_s, s->poll_s);
	*out = s;
	return 0;
}

void sched_service_poke(struct sched_service *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->poked = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int sched_service_running(struct sched_service *s)
{
	int n = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_claims; i++)
		n += s->claims[i].running;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void sched_service_stop(struct sched_service *s, int grace_ms)
{
	int64_t deadline = time_mono_ms() + grace_ms;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->work);
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->dispatcher_started)
		pthread_join(s->dispatcher, NULL);
	/* Passes end after their current page; past the grace period the
	 * requests still in flight are cut short. */
	while (sched_service_running(s) > 0 && time_mono_ms() < deadline)
		time_sleep_ms(50);
	s->http_abort = 1;
	for (size_t i = 0; i < s->started; i++)
		pthread_join(s->threads[i], NULL);
	/* Claimed but never started, or kept: give those leases back. */
	for (size_t i = 0; i < s->n_claims; i++)
		store_release_lease(s->denv.store, s->claims[i].id, s->holder,
				    &(struct err){ 0 });
	for (size_t i = 0; i < s->n_kept; i++)
		store_release_lease(s->denv.store, s->kept[i], s->holder, &(struct err){ 0 });
	store_node_leave(s->denv.store, s->holder, &(struct err){ 0 });
	log_info("sched", "scheduler stopped");
	service_free(s);
}
