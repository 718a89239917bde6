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

enum sched_mode {
	SCHED_ONCE,            /* one pass per account */
	SCHED_UNTIL_COMPLETE,  /* passes until every selected folder is live */
	SCHED_FOREVER,         /* keep polling (the server) until stopped */
};

struct sched_config {
	const char *store_path;     /* opened once per worker */
	const char *data_dir;       /* for the vault's key file */
	int workers;                /* 0 = 4 */
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
	const char *node_id;        /* prefix of lease holder names, or NULL */
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

/* Backoff for the k-th consecutive transient failure (k >= 1): 2^k s
 * capped at 300 s, times a random factor in [0.5, 1.5). */
int sched_backoff_s(int k);

#endif
