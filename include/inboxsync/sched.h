/*
 * sched.h — the scheduler: a bounded pool of worker threads running
 * "sync this account once" jobs. Each account has a next-due time; a pass
 * that is throttled waits for Retry-After, a failing one backs off
 * exponentially with jitter, and meanwhile the workers serve the other
 * accounts — one slow or throttled mailbox never delays the rest. One
 * account is worked on by one worker at a time (so at most the driver's 4
 * requests are in flight per mailbox), and one process or node at a time:
 * a worker takes the account's sync lease in the store for each pass and
 * fences its store connection with it, and an account another process
 * holds waits until it is free. auth_invalid accounts are skipped. Each
 * worker has its own store connection, vault and HTTP client.
 */
#ifndef INBOXSYNC_SCHED_H
#define INBOXSYNC_SCHED_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/engine.h"

#define SCHED_DEFAULT_WORKERS 4 /* accounts synchronized in parallel */

enum sched_mode {
	SCHED_ONCE,            /* one pass per account */
	SCHED_UNTIL_COMPLETE,  /* passes until every selected folder is live */
	SCHED_FOREVER,         /* keep polling (the server) until stopped */
};

struct sched_config {
	const char *store_path;     /* opened once per worker */
	const char *data_dir;       /* for the vault's key file */
	int workers;                /* 0 = SCHED_DEFAULT_WORKERS */
	enum sched_mode mode;
	int poll_interval_s;        /* SCHED_FOREVER: between passes of an idle account */
	int max_transient_failures; /* SCHED_UNTIL_COMPLETE: give up after this many in a row (0 = 8) */
	int auth_invalid_threshold; /* 0 = default */
	struct engine_opts engine;  /* progress callback is called from workers */
	volatile sig_atomic_t *stop;
	/* Called after each pass (from a worker; may be NULL). */
	void (*after_pass)(void *ctx, int64_t account_id, int rc,
			   const struct engine_result *r, const struct err *e);
	/* Called once per account whose lease another process holds, with
	 * that holder's name (may be NULL). Same ctx. */
	void (*on_busy)(void *ctx, int64_t account_id, const char *holder);
	void *after_pass_ctx;
	const char *node_id;        /* prefix of lease holder names, or NULL;
				       the service's holder name itself */
	const char *key_file;       /* the vault's key file (NULL = data_dir's) */
	int lease_ttl_s;            /* service: sync lease TTL (0 = 30) */
	/* When set, HTTP transfers in flight end at once (the service sets
	 * it itself when stopping takes too long). */
	const volatile sig_atomic_t *http_abort;
};

/* Outcome per account. */
struct sched_outcome {
	int64_t account_id;
	int passes;
	bool complete;
	int rc;                     /* 0, or -1 with err */
	struct err err;
	struct engine_result total; /* summed over passes */
};

/* Run until every account reaches the end its mode asks for (or `stop`).
 * `out` (n entries, same order as ids) receives each account's outcome.
 * Returns 0 when the scheduler ran (accounts may still have failed: see
 * out[i].rc), -1 when it could not start. */
int sched_run(const struct sched_config *cfg, const int64_t *ids, size_t n,
	      struct sched_outcome *out, struct err *e);

/* ---- the server's scheduler ---------------------------------------------------
 * Runs until stopped over every account of the store, as the store says
 * they are due: accounts added, authorized or removed while it runs are
 * picked up, "sync now" (next_due_at = 0) within a second (at once with
 * sched_service_poke). A node claims due accounts with their sync lease
 * (store_claim_due_accounts, holder = cfg->node_id, cfg->lease_ttl_s),
 * renews the leases of the passes it runs every third of the TTL, fences
 * each worker's store connection with the lease during a pass, and after
 * a pass keeps the lease (renewed) while it holds no more than its fair
 * share of the accounts, ceil(accounts / nodes alive, from the heartbeats
 * of store_node_beat), giving it back otherwise and when it is the only
 * node; it sheds what it keeps beyond its share when nodes join. So
 * several processes on one database share the accounts, a joining node
 * takes a share without every account moving, and a dead one's accounts
 * move on within the TTL.
 * After a pass: live accounts come back after cfg->poll_interval_s, ones
 * with more to do at once, throttled ones at Retry-After, failing ones
 * with exponential backoff (sched_backoff_s), ones needing a person after
 * 5 minutes. cfg->mode is ignored; cfg->stop is not used (see stop). */
struct sched_service;

/* Start the workers and the dispatcher. Returns 0, or -1 when the store
 * cannot be opened or threads cannot start. */
int sched_service_start(const struct sched_config *cfg, struct sched_service **out,
			struct err *e);

/* Look for due accounts now (after "sync now", a send, a selection). */
void sched_service_poke(struct sched_service *s);

/* Passes running now (for metrics). */
int sched_service_running(struct sched_service *s);

/* Stop: no new passes; running ones stop after their current page; after
 * `grace_ms` HTTP requests still in flight are cut short (nothing is
 * half-committed: every commit is a transaction). Leases are given back.
 * Frees `s`. */
void sched_service_stop(struct sched_service *s, int grace_ms);

/* Backoff for the k-th consecutive transient failure (k >= 1): 2^k s
 * capped at 300 s, times a random factor in [0.5, 1.5). */
int sched_backoff_s(int k);

#endif
