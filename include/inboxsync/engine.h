/*
 * engine.h — the sync engine: folder fetch, the per-folder state machine
 * (pending → newest → backfill → live), page application with its cursor
 * in one transaction, re-bootstrap with mark-and-sweep after an expired
 * cursor, orphan resolution (moves vs deletes), bodies on demand, and the
 * account state it leaves behind. Sees servers only through driver.h and
 * storage only through store.h. The scheduler (sched.h) runs passes.
 */
#ifndef INBOXSYNC_ENGINE_H
#define INBOXSYNC_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inboxsync/auth.h"
#include "inboxsync/driver.h"

#define ENGINE_FIRST_PAGE 50      /* newest messages first: one screen */
#define ENGINE_PAGE_SIZE 500      /* backfill and delta pages */
#define ENGINE_FOLDER_RESCAN_S 900 /* re-read the folder tree this often */
#define ENGINE_COUNTS_REFRESH_S 60 /* ... and after changes, when older than this */
/* A reconciliation that would delete at least this many messages and more
 * than this share of a folder is confirmed by the server's count first. */
#define ENGINE_SWEEP_GUARD_MIN 100
#define ENGINE_SWEEP_GUARD_PERCENT 50

/* Progress of one folder, reported after every page. */
struct engine_progress {
	const char *account;
	const char *folder;        /* display path */
	const char *phase;         /* pending newest backfill live */
	long long synced;          /* messages stored for the folder */
	long long total;           /* server's count (0 = unknown) */
	long long pages;           /* pages applied in this run */
	bool resync;               /* a re-bootstrap is under way */
};

struct engine_opts {
	size_t first_page;         /* 0 = ENGINE_FIRST_PAGE */
	size_t page_size;          /* 0 = ENGINE_PAGE_SIZE */
	int64_t budget_ms;         /* per pass; 0 = no limit (one full pass) */
	size_t prefetch_bodies;    /* newest N bodies per folder (0 = none) */
	bool rescan_folders;       /* re-read the folder tree in this pass */
	void (*progress)(void *ctx, const struct engine_progress *p);
	void *progress_ctx;
	volatile sig_atomic_t *stop; /* set by a signal handler: stop soon */
};

/* What a pass did. */
struct engine_result {
	long long pages;
	long long created, updated, moved, deleted;
	int folders_selected;
	int folders_live;          /* selected folders in phase live */
	int resyncs;               /* folders re-bootstrapped this pass */
	int sent;                  /* outbox entries submitted this pass */
	int outbox_open;           /* entries still to deliver (retrying) */
	int outbox_failed;         /* entries failed for good (this pass) */
	bool complete;             /* every selected folder is live, was
				      polled to its round's end, and the
				      outbox is drained */
	bool stopped_early;        /* budget or stop flag, or work left for
				      the next pass: never complete */
};

/* Read the mailbox's folder tree into the store: new folders appear, renamed
 * ones follow, deleted ones go (with their messages). Roles come from the
 * server's well-known folders. When no folder of the account is selected
 * (the first fetch, or the first after a stop) Inbox and Sent Items are
 * selected. *n_folders gets the count (may be NULL). */
int engine_fetch_folders(const struct auth_env *env, int64_t account_id,
			 int *n_folders, struct err *e);

/* Same, with an already connected driver. */
int engine_scan_folders(struct store *st, struct driver *d, int64_t account_id,
			int *n_folders, struct err *e);

/* One sync pass over an account: its outbox is delivered first (sends go
 * out before anything else); the folder tree is re-read when asked or when
 * the last read is older than ENGINE_FOLDER_RESCAN_S (renames, deletions);
 * then the selected folders: the first page of
 * pending folders, then backfill pages, then one poll of live folders
 * (one request for as many as the driver allows), then orphans, the
 * server's folder counts when they went stale (after a round completed,
 * or after changes when the tree is older than ENGINE_COUNTS_REFRESH_S),
 * and the account state. Expired cursors re-bootstrap the folder in the same pass.
 * Stops at the budget or the stop flag, leaving the cursor of the last
 * committed page. Errors: ERR_THROTTLED (retry_after_s), ERR_TRANSIENT,
 * ERR_AUTH — recorded on the account (state and reason) before return. */
int engine_sync_pass(const struct auth_env *env, int64_t account_id,
		     const struct engine_opts *o, struct engine_result *r,
		     struct err *e);

/* Same, with an already connected driver (tests hand in faulty ones). */
int engine_sync_pass_with(const struct auth_env *env, struct driver *d,
			  int64_t account_id, const struct engine_opts *o,
			  struct engine_result *r, struct err *e);

/* Make sure a message's body is local: fetch it (and cache it) when it is
 * not. Returns 0. */
int engine_fetch_body(const struct auth_env *env, int64_t account_id,
		      const char *remote_id, struct err *e);

#endif
