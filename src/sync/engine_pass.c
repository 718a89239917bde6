/*
 * engine_pass.c — one sync pass over an account's selected folders:
 *   1. the first page (the newest messages) of every folder without a
 *      cursor, so a first screen of mail appears at once;
 *   2. backfill pages round-robin until every folder's round is complete
 *      (or the budget runs out), the pages fetched ahead by the driver
 *      (driver_prefetch_changes); a folder that was backfilling already
 *      also gets a check for mail newer than the newest stored after its
 *      first page of the pass (new mail keeps arriving during a long
 *      backfill);
 *   3. one poll of every live folder (Graph: one $batch for up to 20),
 *      following any further pages;
 *   4. orphans (removed from a folder) resolved into moves or deletions;
 *   5. the account's state and reason.
 * An expired cursor re-bootstraps the folder in the same pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inboxsync/account.h"
#include "inboxsync/alloc.h"
#include "inboxsync/log.h"
#include "inboxsync/outbox.h"
#include "inboxsync/timeutil.h"
#include "sync/engine_internal.h"

#define MAX_RESYNCS_PER_PASS 2

struct folder_run {
	struct store_folder f;
	bool skip;                 /* permanent error this pass */
	int resyncs;
	long long pages;
	bool check_new;            /* ask for newer mail after its next page */
};

struct pass {
	struct store *st;
	struct driver *d;
	struct store_account a;
	const struct engine_opts *o;
	struct engine_result *r;
	struct folder_run *runs;
	size_t n;
	int64_t deadline_ms;
	bool rescanned;            /* the folder tree was read in this pass */
	bool round_ended;          /* a fresh round completed in this pass */
	char note[400];            /* what happened worth telling the user */
};

static size_t first_page(const struct pass *p)
{
	return p->o->first_page ? p->o->first_page : ENGINE_FIRST_PAGE;
}

static size_t page_size(const struct pass *p)
{
	return p->o->page_size ? p->o->page_size : ENGINE_PAGE_SIZE;
}

static bool out_of_time(const struct pass *p)
{
	if (p->o->stop && *p->o->stop)
		return true;
	return p->deadline_ms && time_mono_ms() > p->deadline_ms;
}

static bool is_bootstrapping(const struct folder_run *fr)
{
	return fr->f.cursor && (fr->f.phase == STORE_PHASE_NEWEST ||
				fr->f.phase == STORE_PHASE_BACKFILL);
}

static bool is_live(const struct folder_run *fr)
{
	return fr->f.cursor && fr->f.phase == STORE_PHASE_LIVE;
}

static void report(struct pass *p, struct folder_run *fr, long long created)
{
	struct engine_progress pr;

	fr->f.synced += created;
	if (!p->o->progress)
		return;
	pr.account = p->a.name;
	pr.folder = fr->f.path;
	pr.phase = store_phase_name(fr->f.phase);
	pr.synced = fr->f.synced;
	pr.total = fr->f.total;
	pr.pages = fr->pages;
	pr.resync = fr->resyncs > 0;
	p->o->progress(p->o->progress_ctx, &pr);
}

static int start_round(struct pass *p, struct folder_run *fr, bool resync,
		       struct err *e)
{
	int64_t gen;

	if (store_start_folder_round(p->st, fr->f.id, resync, &gen, e) < 0)
		return -1;
	fr->f.round_gen = gen;
	fr->f.round_fresh = true;
	free(fr->f.cursor);
	fr->f.cursor = NULL;
	return 0;
}

/* A folder-level error: some are handled here (0 = go on), the rest end
 * the pass (-1). */
static int handle_folder_error(struct pass *p, struct folder_run *fr, struct err *e)
{
	if (e->class == ERR_RESYNC && fr->resyncs < MAX_RESYNCS_PER_PASS) {
		fr->resyncs++;
		p->r->resyncs++;
		log_info("sync", "%s/%s: sync state expired (%s); re-synchronizing the "
			 "folder and reconciling", p->a.name, fr->f.path, e->msg);
		snprintf(p->note, sizeof(p->note), "%.120s: the server's sync state had "
			 "expired, so the folder was re-synchronized and reconciled "
			 "automatically (nothing duplicated, deletions applied)",
			 fr->f.path);
		return start_round(p, fr, true, e);
	}
	if (err_is(e, "dependency_failed")) {
		/* Its poll did not run because another folder's failed first
		 * in the same batch: it is polled on its own next. */
		log_info("sync", "%s/%s: polled on its own (%s)", p->a.name, fr->f.path,
			 e->msg);
		err_clear(e);
		return 0;
	}
	if (err_is(e, "folder_gone")) {
		log_info("sync", "%s/%s: folder is gone on the server", p->a.name,
			 fr->f.path);
		fr->skip = true;
		return engine_scan_folders(p->st, p->d, p->a.id, NULL, e);
	}
	if (e->class == ERR_PERMANENT || e->class == ERR_RESYNC) {
		fr->skip = true;
		snprintf(p->note, sizeof(p->note), "%.100s: %.290s", fr->f.path, e->msg);
		log_warn("sync", "%s/%s: %s", p->a.name, fr->f.path, e->msg);
		return 0;
	}
	return -1;
}

/* Apply a fetched page to the folder's round. Returns 1 when the round is
 * complete, 0 when it goes on, -1 on error. */
static int take_page(struct pass *p, struct folder_run *fr, struct driver_page *pg,
		     bool first, struct err *e)
{
	enum store_phase phase = !fr->f.round_fresh ? STORE_PHASE_LIVE
				 : first ? STORE_PHASE_NEWEST : STORE_PHASE_BACKFILL;
	long long before = p->r->created, total;
	int done = pg->done_cursor != NULL;
	int rc = engine_apply_page(p->st, p->a.id, &fr->f, pg, phase, -1, p->r, e);

	if (rc == 1) {
		/* A large reconciliation: the server's count must confirm it. */
		if (driver_count_messages(p->d, fr->f.remote_id, &total, e) < 0)
			return -1;
		log_info("sync", "%s/%s: the round ends deleting many local messages; "
			 "the server counts %lld in the folder", p->a.name, fr->f.path,
			 total);
		rc = engine_apply_page(p->st, p->a.id, &fr->f, pg, phase, total, p->r, e);
	}
	if (rc < 0)
		return -1;
	if (done && phase != STORE_PHASE_LIVE)
		p->round_ended = true;
	fr->pages++;
	report(p, fr, p->r->created - before);
	return done;
}

/* Fetch and apply the next page of the folder's round (starting a round
 * when it has no cursor). Returns 1 round complete, 0 more to do, -1
 * error that ends the pass. */
static int step_folder(struct pass *p, struct folder_run *fr, struct err *e)
{
	struct driver_page pg;
	bool first;
	int rc;

	if (!fr->f.cursor && start_round(p, fr, false, e) < 0)
		return -1;
	first = fr->f.cursor == NULL;
	if (driver_get_changes(p->d, fr->f.remote_id, fr->f.cursor,
			       first ? first_page(p) : page_size(p), &pg, e) < 0) {
		err_prefix(e, "%.200s: ", fr->f.path);
		return handle_folder_error(p, fr, e) < 0 ? -1 : 0;
	}
	rc = take_page(p, fr, &pg, first, e);
	driver_page_free(&pg);
	return rc;
}

/* New mail in a folder that is still backfilling. */
static int check_new_mail(struct pass *p, struct folder_run *fr, struct err *e)
{
	struct driver_page pg;
	int rc;

	if (!fr->f.newest_at)
		return 0;
	if (driver_list_newest(p->d, fr->f.remote_id, fr->f.newest_at,
			       first_page(p), &pg, e) < 0) {
		/* Only a shortcut: the round brings new mail in the end. A
		 * mailbox that is throttling or failing still ends the pass. */
		if (e->class != ERR_PERMANENT)
			return -1;
		log_info("sync", "%s/%s: new-mail check skipped: %s", p->a.name,
			 fr->f.path, e->msg);
		return 0;
	}
	rc = engine_apply_listing(p->st, p->a.id, &fr->f, &pg, p->r, e);
	driver_page_free(&pg);
	return rc;
}

/* Follow a live folder's round to its done cursor. */
static int finish_round(struct pass *p, struct folder_run *fr, struct err *e)
{
	int rc = 0;

	while (!fr->skip && rc == 0 && !out_of_time(p))
		rc = step_folder(p, fr, e);
	if (rc == 0 && !fr->skip)
		p->r->stopped_early = true; /* the round goes on in the next pass */
	return rc < 0 ? -1 : 0;
}

/* Poll live folders, as many at a time as the driver allows. */
static int poll_live(struct pass *p, struct err *e)
{
	size_t batch = p->d->limits.max_poll ? p->d->limits.max_poll : 1;
	struct driver_poll *polls = xcalloc(batch, sizeof(*polls));
	/* an array of pointers: its element is one */
	struct folder_run **who = xcalloc(batch, sizeof(*who)); /* NOLINT(bugprone-sizeof-expression) */
	size_t i = 0;
	int rc = 0;

	while (rc == 0 && i < p->n) {
		size_t k = 0;

		for (; i < p->n && k < batch; i++) {
			if (p->runs[i].skip || !is_live(&p->runs[i]))
				continue;
			memset(&polls[k], 0, sizeof(polls[k]));
			polls[k].folder_remote_id = p->runs[i].f.remote_id;
			polls[k].cursor = p->runs[i].f.cursor;
			who[k++] = &p->runs[i];
		}
		if (k == 0)
			break;
		if (driver_poll_changes(p->d, polls, k, page_size(p), e) < 0) {
			rc = -1;
			break;
		}
		for (size_t j = 0; rc == 0 && j < k; j++) {
			if (polls[j].rc < 0) {
				*e = polls[j].err;
				err_prefix(e, "%.200s: ", who[j]->f.path);
				rc = handle_folder_error(p, who[j], e);
				if (rc == 0 && !who[j]->skip)
					rc = finish_round(p, who[j], e);
			} else {
				rc = take_page(p, who[j], &polls[j].page, false, e);
				if (rc == 0)
					rc = finish_round(p, who[j], e);
				else if (rc == 1)
					rc = 0;
			}
			driver_page_free(&polls[j].page);
			if (rc < 0)
				for (size_t m = j + 1; m < k; m++)
					driver_page_free(&polls[m].page);
		}
	}
	free(polls);
	free(who);
	return rc;
}

static int load_folders(struct pass *p, struct err *e)
{
	struct store_folder *list;
	size_t n;

	if (store_list_folders(p->st, p->a.id, true, &list, &n, e) < 0)
		return -1;
	p->runs = xcalloc(n ? n : 1, sizeof(*p->runs));
	for (size_t i = 0; i < n; i++)
		p->runs[i].f = list[i];
	free(list); /* the folders (and their cursors) now belong to runs */
	p->n = n;
	p->r->folders_selected = (int)n;
	return 0;
}

static void free_folders(struct pass *p)
{
	for (size_t i = 0; i < p->n; i++)
		store_folder_clear(&p->runs[i].f);
	free(p->runs);
	p->runs = NULL;
	p->n = 0;
}

/* Deliver the outbox; a mailbox that is throttling or failing ends the
 * pass like any other request would. */
static int drain_outbox(struct pass *p, struct err *e)
{
	struct outbox_stats s;
	int rc = outbox_drain(p->st, p->d, p->a.id, &s, e);

	p->r->sent += s.submitted;
	p->r->outbox_failed += s.failed;
	if (s.failed)
		snprintf(p->note, sizeof(p->note), "%d message%s could not be sent "
			 "(the outbox says why).", s.failed, s.failed == 1 ? "" : "s");
	return rc;
}

/* Entries still open, and confirmation of sent copies that synced. */
static int settle_outbox(struct pass *p, struct err *e)
{
	struct store_outbox *list;
	size_t n;

	if (store_outbox_confirm_synced(p->st, p->a.id, NULL, e) < 0 ||
	    store_outbox_list_open(p->st, p->a.id, INT64_MAX, &list, &n, e) < 0)
		return -1;
	p->r->outbox_open = (int)n;
	store_outbox_list_free(list, n);
	return 0;
}

/* Tell the driver which pages come next: the first page of every folder
 * without a round, and the next backfill page of every folder still in
 * its first round, so a transport that can fetches the folders' rounds
 * side by side (the first screens of every folder in one round trip). */
static void prefetch_rounds(struct pass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct folder_run *fr = &p->runs[i];

		if (fr->skip)
			continue;
		if (!fr->f.cursor)
			driver_prefetch_changes(p->d, fr->f.remote_id, NULL,
						first_page(p), page_size(p));
		else if (is_bootstrapping(fr))
			driver_prefetch_changes(p->d, fr->f.remote_id, fr->f.cursor,
						page_size(p), page_size(p));
	}
}

static long long changes_of(const struct engine_result *r)
{
	return r->created + r->updated + r->moved + r->deleted;
}

/* Re-read the folder tree (names, counts) and the selected folders. */
static int rescan(struct pass *p, struct err *e)
{
	if (engine_scan_folders(p->st, p->d, p->a.id, NULL, e) < 0)
		return -1;
	p->rescanned = true;
	free_folders(p);
	return load_folders(p, e);
}

/* The server's counts (TOTAL, UNREAD) come with the folder tree. A pass
 * reads it again when they went stale and it costs little: right after a
 * folder's first (or a fresh) round completed, so that a bootstrap ends
 * with counts that match; and when changes arrived and the tree is older
 * than ENGINE_COUNTS_REFRESH_S. */
static int refresh_counts(struct pass *p, long long changes_before, struct err *e)
{
	bool changed = changes_of(p->r) > changes_before;

	if (p->rescanned || (!p->round_ended && !changed))
		return 0;
	if (!p->round_ended &&
	    time_now() - p->a.folders_scanned_at < ENGINE_COUNTS_REFRESH_S)
		return 0;
	if (engine_scan_folders(p->st, p->d, p->a.id, NULL, e) < 0) {
		/* Only counts: a mailbox that throttles or fails ends the pass
		 * as usual, anything else leaves the old counts. */
		if (e->class != ERR_PERMANENT)
			return -1;
		log_info("sync", "%s: folder counts not refreshed: %s", p->a.name, e->msg);
		err_clear(e);
		return 0;
	}
	p->rescanned = true;
	free_folders(p);
	return load_folders(p, e);
}

/* The pass proper; errors end it. */
static int run_pass(struct pass *p, struct err *e)
{
	bool progress = true;
	long long changes_before;

	if (drain_outbox(p, e) < 0)
		return -1;
	if ((p->o->rescan_folders ||
	     time_now() - p->a.folders_scanned_at > ENGINE_FOLDER_RESCAN_S) &&
	    rescan(p, e) < 0)
		return -1;

	prefetch_rounds(p);
	for (size_t i = 0; i < p->n && !out_of_time(p); i++)
		if (!p->runs[i].f.cursor && !p->runs[i].skip &&
		    step_folder(p, &p->runs[i], e) < 0)
			return -1;
	for (size_t i = 0; i < p->n; i++)
		p->runs[i].check_new = is_bootstrapping(&p->runs[i]) &&
				       p->runs[i].pages == 0;
	while (progress && !out_of_time(p)) {
		progress = false;
		for (size_t i = 0; i < p->n && !out_of_time(p); i++) {
			struct folder_run *fr = &p->runs[i];

			if (fr->skip || (!is_bootstrapping(fr) && fr->f.cursor))
				continue;
			if (step_folder(p, fr, e) < 0)
				return -1;
			progress = true;
			/* Each folder's new-mail check right after its first page
			 * of the pass, one folder at a time: the rounds fetched
			 * ahead keep going meanwhile, so the checks cost no
			 * round trips of the backfill. */
			if (fr->check_new && !fr->skip) {
				fr->check_new = false;
				if (is_bootstrapping(fr) && check_new_mail(p, fr, e) < 0)
					return -1;
			}
		}
	}
	if (out_of_time(p)) {
		p->r->stopped_early = true;
		return 0;
	}
	changes_before = changes_of(p->r);
	if (poll_live(p, e) < 0 ||
	    engine_resolve_orphans(p->st, p->d, p->a.id, p->r, e) < 0 ||
	    refresh_counts(p, changes_before, e) < 0)
		return -1;
	for (size_t i = 0; p->o->prefetch_bodies && i < p->n && !out_of_time(p); i++)
		if (engine_prefetch_bodies(p->st, p->d, p->a.id, p->runs[i].f.id,
					   p->o->prefetch_bodies, e) < 0)
			return -1;
	return settle_outbox(p, e);
}

/* The account's state after a pass that ended well. */
static void record_success(struct pass *p)
{
	char reason[512];
	struct err se;
	long long total = 0;
	size_t live = 0;

	for (size_t i = 0; i < p->n; i++) {
		total += p->runs[i].f.synced;
		live += p->runs[i].f.phase == STORE_PHASE_LIVE;
	}
	p->r->folders_live = (int)live;
	/* Live is not enough: a round that ended in this pass may have begun
	 * in an earlier one, so what changed since its start comes with the
	 * poll that a pass cut short never made. */
	p->r->complete = live == p->n && p->r->outbox_open == 0 && !p->r->stopped_early;
	/* No time in the reason: an unchanged state writes no event (the
	 * time of the last fetch is the account's incoming.last_fetch_at). */
	if (p->r->complete)
		snprintf(reason, sizeof(reason), "Up to date: %zu folder%s, %lld messages.%s%s",
			 p->n, p->n == 1 ? "" : "s", total, p->note[0] ? " " : "", p->note);
	else if (live == p->n && p->r->stopped_early)
		snprintf(reason, sizeof(reason), "Synchronizing: all %zu folder%s fetched "
			 "(%lld messages); checking for changes made meanwhile.%s%s",
			 p->n, p->n == 1 ? "" : "s", total, p->note[0] ? " " : "", p->note);
	else
		snprintf(reason, sizeof(reason), "Synchronizing: %zu of %zu folders up to "
			 "date, %lld messages so far (newest first, then older mail).%s%s",
			 live, p->n, total, p->note[0] ? " " : "", p->note);
	store_set_account_state(p->st, p->a.id, p->r->complete ? STORE_STATE_IDLE
				: STORE_STATE_SYNCING, reason,
				p->r->outbox_failed ? FIX_SHOW_OUTBOX : FIX_NONE, p->a.name, &se);
	store_set_incoming_status(p->st, p->a.id, STORE_INCOMING_CONFIRMED, NULL,
				  time_now(), &se);
	store_set_account_schedule(p->st, p->a.id, 0, 0, 0, &se);
	store_clear_account_error(p->st, p->a.id, &se);
}

/* Counts of the folders (also after a pass that ended early). */
static void count_folders(struct pass *p)
{
	size_t live = 0;

	for (size_t i = 0; i < p->n; i++)
		live += p->runs[i].f.phase == STORE_PHASE_LIVE;
	p->r->folders_selected = (int)p->n;
	p->r->folders_live = (int)live;
}

/* The account's state after a pass that ended in an error. The fix comes
 * with the error; a throttled mailbox says until when it waits (the time
 * is stored: every process honours it, service_sync_allowed). */
static void record_failure(struct pass *p, const struct err *e)
{
	char reason[768], when[TIME_RFC3339_LEN], at[32];
	struct store_account now;
	struct err se;
	int64_t until;

	count_folders(p);
	store_note_account_error(p->st, p->a.id, e, NULL, &se);
	if (store_get_account(p->st, p->a.id, &now, &se) == 1 &&
	    now.state == STORE_STATE_AUTH_INVALID)
		return; /* auth already says what happened */
	switch (e->class) {
	case ERR_THROTTLED:
		until = time_now() + (e->retry_after_s > 0 ? e->retry_after_s : 1);
		time_format_rfc3339(until, when);
		snprintf(reason, sizeof(reason), "Microsoft is throttling this mailbox; "
			 "synchronization waits until %s as Microsoft asked "
			 "(Retry-After), then continues. Nothing is lost.", when);
		snprintf(at, sizeof(at), "%lld", (long long)until);
		store_set_account_schedule(p->st, p->a.id, until, until, 0, &se);
		store_set_account_state(p->st, p->a.id, STORE_STATE_THROTTLED, reason,
					FIX_RETRY_AT, at, &se);
		break;
	case ERR_AUTH:
		snprintf(reason, sizeof(reason), "Authorization needed: %s", e->msg);
		store_set_account_state(p->st, p->a.id, STORE_STATE_ERROR, reason,
					e->fix ? e->fix : FIX_REAUTHORIZE,
					e->fix ? e->fix_arg : p->a.name, &se);
		break;
	default:
		snprintf(reason, sizeof(reason), "%s failure: %s%s",
			 e->class == ERR_TRANSIENT ? "Temporary" : "Sync", e->msg,
			 e->class == ERR_TRANSIENT ? "; the next sync tries again" : "");
		store_set_account_state(p->st, p->a.id, STORE_STATE_ERROR, reason,
					e->fix ? e->fix : e->class == ERR_TRANSIENT
					? FIX_RETRY : FIX_NONE, e->fix_arg, &se);
		break;
	}
}

int engine_sync_pass_with(const struct auth_env *env, struct driver *d,
			  int64_t account_id, const struct engine_opts *o,
			  struct engine_result *r, struct err *e)
{
	struct pass p = { .st = env->store, .d = d, .o = o, .r = r };
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store_get_account(p.st, account_id, &p.a, e);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, ERR_PERMANENT, "not_found", "no such account");
	if (o->budget_ms)
		p.deadline_ms = time_mono_ms() + o->budget_ms;
	if (load_folders(&p, e) < 0)
		return -1;
	if (p.n == 0) {
		struct outbox_stats s;

		/* No folders to sync, but sends still go out. */
		rc = outbox_drain(p.st, d, p.a.id, &s, e);
		r->sent = s.submitted;
		r->outbox_failed = s.failed;
		r->outbox_open = s.open;
		r->complete = rc == 0 && s.open == 0;
		free_folders(&p);
		return rc;
	}
	if (p.a.state != STORE_STATE_IDLE)
		store_set_account_state(p.st, p.a.id, STORE_STATE_SYNCING,
					"Synchronizing the selected folders.", FIX_NONE,
					NULL, &(struct err){ 0 });
	rc = run_pass(&p, e);
	if (rc == 0)
		record_success(&p);
	else
		record_failure(&p, e);
	free_folders(&p);
	return rc;
}

/* The selected folders and how many are live, for a pass that is refused
 * before it starts (best effort). */
static void count_stored_folders(struct store *st, int64_t account_id,
				 struct engine_result *r)
{
	struct store_folder *list;
	struct err se;
	size_t n;

	if (store_list_folders(st, account_id, true, &list, &n, &se) < 0)
		return;
	r->folders_selected = (int)n;
	for (size_t i = 0; i < n; i++)
		r->folders_live += list[i].phase == STORE_PHASE_LIVE;
	store_folder_list_free(list, n);
}

int engine_sync_pass(const struct auth_env *env, int64_t account_id,
		     const struct engine_opts *o, struct engine_result *r,
		     struct err *e)
{
	struct store_account a;
	struct account_conn c;
	int rc = store_get_account(env->store, account_id, &a, e);

	memset(r, 0, sizeof(*r));
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(e, ERR_PERMANENT, "not_found", "no such account");
	count_stored_folders(env->store, account_id, r);
	if (a.state == STORE_STATE_AUTH_INVALID) {
		err_set(e, ERR_AUTH, "auth_invalid", "account '%s' is auth_invalid: "
			"background sync is suspended (%s)", a.name, a.state_reason);
		return err_set_fix(e, FIX_REAUTHORIZE, a.name);
	}
	if (!a.authorized_at) {
		err_set(e, ERR_AUTH, "auth_required", "account '%s' is not authorized",
			a.name);
		return err_set_fix(e, FIX_AUTHORIZE, a.name);
	}
	if (a.throttled_until > time_now()) {
		/* Microsoft's Retry-After belongs to the mailbox: every process
		 * honours it, without a request. */
		char when[TIME_RFC3339_LEN];

		time_format_rfc3339(a.throttled_until, when);
		err_set(e, ERR_THROTTLED, "throttled", "Microsoft asked to wait with "
			"'%s' until %s (Retry-After)", a.name, when);
		e->retry_after_s = (int)(a.throttled_until - time_now());
		return err_set_fix_at(e, FIX_RETRY_AT, a.throttled_until);
	}
	if (account_connect(env, &a, &c, e) < 0)
		return -1;
	memset(r, 0, sizeof(*r));
	rc = engine_sync_pass_with(env, c.driver, account_id, o, r, e);
	account_disconnect(&c);
	return rc;
}
