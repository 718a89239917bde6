/*
 * test_engine.c — the sync engine against a scripted driver that fails on
 * cue (no network): a page and its cursor are committed together, so a
 * failure resumes from the last committed cursor; an expired cursor
 * re-bootstraps the folder and sweeps what the server no longer has while
 * keeping cached bodies; removed messages found in another selected folder
 * move (one row); throttling is recorded on the account; a pass cut short
 * right after its rounds ended is not up to date until a poll is made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "inboxsync/alloc.h"
#include "inboxsync/engine.h"
#include "inboxsync/sched.h"
#include "inboxsync/timeutil.h"

/* ---- the scripted driver ------------------------------------------------------ */

#define MAX_MSGS 256

struct fake_msg {
	char id[16];
	char folder[16];
	int64_t t;
	bool removed_from_inbox; /* report as @removed in the next Inbox delta */
};

struct fake {
	struct driver base;
	struct fake_msg msgs[MAX_MSGS];
	size_t n;
	int calls;
	int fail_call;            /* this get_changes call fails (1-based), 0 = never */
	enum err_class fail_class;
	char expire_folder[16];   /* the next delta of this folder is expired */
	char last_cursor[64];
	size_t list_only;         /* > 0: a round lists only this many (garbled) */
	long long count_says;     /* >= 0: what count_messages answers */
	int counts;               /* count_messages calls */
};

static void page_release(void *p)
{
	free(p);
}

/* The page's priv: a release function followed by nothing else. */
static void *new_priv(void)
{
	void (**release)(void *) = xmalloc(sizeof(*release));

	*release = page_release;
	return release;
}

static void add_item(struct driver_page *pg, const struct fake_msg *m, bool removed)
{
	struct mail_message *it;

	pg->items = xrealloc(pg->items, (pg->n + 1) * sizeof(*pg->items));
	it = &pg->items[pg->n++];
	mail_message_init(it);
	it->remote_id = m->id;
	it->removed = removed;
	it->subject = m->id;
	it->received_at = m->t;
}

/* Cursors: "inbox:N" = next page starting at the N-th newest; "delta" =
 * done; pages hold 2 messages. */
static int fake_changes(struct driver *d, const char *folder, const char *cursor,
			size_t page_size, struct driver_page *pg, struct err *e)
{
	struct fake *f = (struct fake *)d;
	size_t start = 0, seen = 0;

	(void)page_size;
	f->calls++;
	snprintf(f->last_cursor, sizeof(f->last_cursor), "%s", cursor ? cursor : "(none)");
	if (f->fail_call == f->calls)
		return err_set(e, f->fail_class, "fake", "scripted failure");
	if (cursor && strcmp(cursor, "delta") == 0) {
		if (strcmp(f->expire_folder, folder) == 0) {
			f->expire_folder[0] = '\0';
			return err_set(e, ERR_RESYNC, "sync_state", "delta token expired");
		}
		pg->priv = new_priv();
		for (size_t i = 0; i < f->n; i++)
			if (f->msgs[i].removed_from_inbox && strcmp(folder, "inbox") == 0) {
				add_item(pg, &f->msgs[i], true);
				f->msgs[i].removed_from_inbox = false;
			}
		pg->done_cursor = xstrdup("delta");
		return 0;
	}
	if (cursor)
		start = (size_t)strtoul(strchr(cursor, ':') + 1, NULL, 10);
	pg->priv = new_priv();
	/* messages of the folder, newest first (msgs[] is kept newest first) */
	for (size_t i = 0; i < f->n && pg->n < 2; i++) {
		if (strcmp(f->msgs[i].folder, folder) != 0)
			continue;
		if (f->list_only && seen >= f->list_only)
			break;
		if (seen++ < start)
			continue;
		add_item(pg, &f->msgs[i], false);
	}
	if (pg->n == 2)
		pg->next_cursor = xasprintf("%s:%zu", folder, start + 2);
	else
		pg->done_cursor = xstrdup("delta");
	return 0;
}

static int fake_poll(struct driver *d, struct driver_poll *polls, size_t n,
		     size_t page_size, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		polls[i].rc = fake_changes(d, polls[i].folder_remote_id, polls[i].cursor,
					   page_size, &polls[i].page, &polls[i].err);
	}
	(void)e;
	return 0;
}

static int fake_locate(struct driver *d, struct driver_locate *items, size_t n,
		       struct err *e)
{
	struct fake *f = (struct fake *)d;

	(void)e;
	for (size_t i = 0; i < n; i++) {
		items[i].rc = 0;
		items[i].gone = true;
		for (size_t k = 0; k < f->n; k++)
			if (strcmp(f->msgs[k].id, items[i].remote_id) == 0) {
				items[i].gone = false;
				items[i].folder_remote_id = xstrdup(f->msgs[k].folder);
			}
	}
	return 0;
}

static int fake_count(struct driver *d, const char *folder, long long *total,
		      struct err *e)
{
	struct fake *f = (struct fake *)d;

	(void)e;
	f->counts++;
	*total = 0;
	if (f->count_says >= 0) {
		*total = f->count_says;
		return 0;
	}
	for (size_t i = 0; i < f->n; i++)
		*total += strcmp(f->msgs[i].folder, folder) == 0;
	return 0;
}

static const struct driver_ops fake_ops = {
	.name = "fake",
	.count_messages = fake_count,
	.get_changes = fake_changes,
	.poll_changes = fake_poll,
	.locate_messages = fake_locate,
};

/* ---- fixture --------------------------------------------------------------------- */

struct fixture {
	char dir[64];
	struct auth_env env;
	struct fake fake;
	int64_t account, inbox, archive;
};

static int64_t folder(struct fixture *fx, const char *remote, const char *path)
{
	struct store_folder_in in = { { remote, "", path, MAIL_ROLE_NONE, 0, 0 }, path };
	struct store_folder f;
	struct err e = { 0 };

	assert_int_equal(store_put_folder(fx->env.store, fx->account, &in, NULL, &e), 0);
	assert_int_equal(store_find_folder_by_remote(fx->env.store, fx->account, remote, &f, &e), 1);
	store_folder_clear(&f);
	assert_int_equal(store_select_folder(fx->env.store, f.id, true, MAIL_ROLE_CUSTOM, &e), 0);
	return f.id;
}

static void add_msg(struct fake *f, const char *id, const char *folder_name, int64_t t)
{
	struct fake_msg *m = &f->msgs[f->n++];

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->folder, sizeof(m->folder), "%s", folder_name);
	m->t = t;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct store_account a = { 0 };
	struct err e = { 0 };
	char path[96];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/inboxsync-engine-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/s.db", fx->dir);
	assert_int_equal(store_open(path, &fx->env.store, &e), 0);
	snprintf(a.name, sizeof(a.name), "work");
	snprintf(a.email, sizeof(a.email), "a@contoso.com");
	snprintf(a.transport, sizeof(a.transport), "graph");
	assert_int_equal(store_add_account(fx->env.store, &a, &e), 0);
	fx->account = a.id;
	/* the folder tree counts as just read: no rescan during the tests */
	assert_int_equal(store_begin_folder_scan(fx->env.store, a.id, &e), 0);
	fx->inbox = folder(fx, "inbox", "Inbox");
	fx->archive = folder(fx, "archive", "Archive");
	assert_int_equal(store_end_folder_scan(fx->env.store, a.id, NULL, &e), 0);
	fx->fake.base.ops = &fake_ops;
	fx->fake.count_says = -1;
	for (int i = 0; i < 5; i++) {
		char id[16];

		snprintf(id, sizeof(id), "M%d", i);
		add_msg(&fx->fake, id, "inbox", 1000 - i); /* newest first */
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[96];

	store_close(fx->env.store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static long long count(struct fixture *fx)
{
	long long n;
	struct err e;

	store_count_messages(fx->env.store, fx->account, &n, &e);
	return n;
}

static int pass(struct fixture *fx, struct engine_result *r, struct err *e)
{
	struct engine_opts o = { 0 };

	return engine_sync_pass_with(&fx->env, &fx->fake.base, fx->account, &o, r, e);
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_failure_resumes_from_the_committed_cursor(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_account a;

	fx->fake.fail_call = 3; /* Archive (empty), Inbox page 1, then page 2 fails */
	fx->fake.fail_class = ERR_TRANSIENT;
	assert_int_equal(pass(fx, &r, &e), -1);
	assert_int_equal(count(fx), 2);          /* page 1 committed with its cursor */
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "error");
	assert_non_null(strstr(a.state_reason, "Temporary"));
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_string_equal(fx->fake.last_cursor, "delta");
	assert_int_equal(count(fx), 5);
	assert_true(r.complete);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "idle");
}

static void test_expired_cursor_rebootstraps_and_sweeps(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_message m;

	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(count(fx), 5);
	assert_int_equal(store_put_body(fx->env.store, fx->account, "M1", "text", "kept", 4, &e), 0);
	/* the server loses M3 while the delta token is dead */
	memmove(&fx->fake.msgs[3], &fx->fake.msgs[4], sizeof(fx->fake.msgs[0]));
	fx->fake.n--;
	snprintf(fx->fake.expire_folder, sizeof(fx->fake.expire_folder), "inbox");
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(r.resyncs, 1);
	assert_int_equal(count(fx), 4);          /* swept, nothing duplicated */
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M1", &m, &e), 1);
	assert_true(m.body_fetched);             /* local state kept */
	store_message_clear(&m);
}

static void test_removed_then_found_elsewhere_moves(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_message m;

	assert_int_equal(pass(fx, &r, &e), 0);
	store_put_body(fx->env.store, fx->account, "M2", "text", "b", 1, &e);
	/* M2 moved to Archive; only the @removed in Inbox is reported */
	snprintf(fx->fake.msgs[2].folder, sizeof(fx->fake.msgs[2].folder), "archive");
	fx->fake.msgs[2].removed_from_inbox = true;
	/* M4 deleted */
	fx->fake.msgs[4].removed_from_inbox = true;
	snprintf(fx->fake.msgs[4].folder, sizeof(fx->fake.msgs[4].folder), "gone");
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M2", &m, &e), 1);
	assert_int_equal(m.folder_id, fx->archive);
	assert_true(m.body_fetched);            /* one row moved */
	store_message_clear(&m);
	/* "gone" is not a folder we know: removed locally */
	assert_int_equal(store_get_message(fx->env.store, fx->account, "M4", &m, &e), 0);
}

static void test_throttling_is_recorded(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	struct store_account a;

	fx->fake.fail_call = 1;
	fx->fake.fail_class = ERR_THROTTLED;
	assert_int_equal(pass(fx, &r, &e), -1);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "throttled");
	assert_true(a.throttled_until >= time_now());
	assert_non_null(strstr(a.state_reason, "Retry-After"));
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	for (int k = 1; k < 20; k++) {
		int s = sched_backoff_s(k);
		double base = k < 9 ? (double)(1 << k) : 300;

		if (base > 300)
			base = 300;
		assert_true(s >= (int)(base * 0.5) && s <= (int)(base * 1.5) + 1);
	}
}

/* A re-bootstrap whose round lists far fewer messages than the folder
 * holds is not believed until the server's own count confirms it. */
static void test_large_sweep_needs_the_servers_count(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };

	for (int i = 5; i < 150; i++) {
		char id[16];

		snprintf(id, sizeof(id), "N%03d", i);
		add_msg(&fx->fake, id, "inbox", 900 - i);
	}
	while (pass(fx, &r, &e) == 0 && !r.complete)
		;
	assert_int_equal(count(fx), 150);
	/* a garbled re-bootstrap: the round "ends" after 10 messages while
	 * the folder still holds 150 */
	fx->fake.list_only = 10;
	snprintf(fx->fake.expire_folder, sizeof(fx->fake.expire_folder), "inbox");
	assert_int_equal(pass(fx, &r, &e), -1);
	assert_string_equal(e.code, "sweep_refused");
	assert_int_equal(fx->fake.counts, 1);
	assert_int_equal(count(fx), 150);       /* nothing deleted */
	/* the server really lost 140 messages: its count agrees, the sweep goes */
	fx->fake.n = 10;
	fx->fake.list_only = 0;
	{
		int rc;

		while ((rc = pass(fx, &r, &e)) == 0 && !r.complete)
			;
		if (rc < 0)
			fail_msg("%s", e.msg);
	}
	assert_int_equal(count(fx), 10);
	assert_int_equal(fx->fake.counts, 2);
}

/* Every message of the fake server, once, in the right folder. */
static void assert_store_matches(struct fixture *fx)
{
	struct err e = { 0 };

	assert_int_equal(count(fx), (long long)fx->fake.n);
	for (size_t i = 0; i < fx->fake.n; i++) {
		struct store_message m;

		assert_int_equal(store_get_message(fx->env.store, fx->account,
						   fx->fake.msgs[i].id, &m, &e), 1);
		assert_int_equal(m.folder_id, strcmp(fx->fake.msgs[i].folder, "inbox") == 0
						      ? fx->inbox : fx->archive);
		store_message_clear(&m);
	}
}

/* A process that dies at its 1st, 2nd, ... allocation during a pass (the
 * finest crash test there is): after each, a pass by a new process
 * converges to the server's state, nothing lost or duplicated. */
static void test_abort_at_every_allocation_converges(void **state)
{
	struct fixture *fx = *state;
	struct engine_result r;
	struct err e = { 0 };
	char path[96];
	unsigned long total;

	snprintf(path, sizeof(path), "%s/s.db", fx->dir);
	/* How many allocations a first pass makes, in a child like the rest. */
	{
		int fd[2], status;
		pid_t pid;

		assert_int_equal(pipe(fd), 0);
		pid = fork();
		if (pid == 0) {
			alloc_fail_at(0);
			pass(fx, &r, &e);
			total = alloc_count();
			_exit(write(fd[1], &total, sizeof(total)) == sizeof(total) ? 0 : 1);
		}
		close(fd[1]);
		assert_int_equal(read(fd[0], &total, sizeof(total)), sizeof(total));
		close(fd[0]);
		waitpid(pid, &status, 0);
	}
	assert_true(total > 10);
	for (unsigned long n = 1; n <= total; n++) {
		pid_t pid;
		int status;

		/* Each child starts the folders' first rounds from nothing. */
		for (size_t i = 0; i < fx->fake.n; i++)
			assert_int_equal(store_delete_message(fx->env.store, fx->account,
							      fx->fake.msgs[i].id, &e), 0);
		for (int k = 0; k < 2; k++) {
			int64_t id = k ? fx->archive : fx->inbox;

			assert_int_equal(store_select_folder(fx->env.store, id, false,
							     MAIL_ROLE_NONE, &e), 0);
			assert_int_equal(store_select_folder(fx->env.store, id, true,
							     MAIL_ROLE_CUSTOM, &e), 0);
		}
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct auth_env env = fx->env;

			if (!freopen("/dev/null", "w", stderr) ||
			    store_open(path, &env.store, &e) < 0)
				_exit(3);
			alloc_fail_at(n);
			engine_sync_pass_with(&env, &fx->fake.base, fx->account,
					      &(struct engine_opts){ 0 }, &r, &e);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* The next pass, in this process, finishes the job. */
		assert_int_equal(pass(fx, &r, &e), 0);
		assert_store_matches(fx);
	}
}

/* Stops the pass once the Inbox's round ends, and makes a change on the
 * server at that moment (as if made while the round was paged). */
struct stop_at_live {
	struct fake *fake;
	volatile sig_atomic_t stop;
};

static void stop_when_inbox_live(void *ctx, const struct engine_progress *pr)
{
	struct stop_at_live *s = ctx;

	if (strcmp(pr->folder, "Inbox") != 0 || strcmp(pr->phase, "live") != 0 || s->stop)
		return;
	s->stop = 1;
	s->fake->msgs[1].removed_from_inbox = true; /* M1: deleted meanwhile */
	snprintf(s->fake->msgs[1].folder, sizeof(s->fake->msgs[1].folder), "gone");
}

static void test_a_pass_cut_short_after_its_rounds_is_not_complete(void **state)
{
	struct fixture *fx = *state;
	struct stop_at_live s = { &fx->fake, 0 };
	struct engine_opts o = { .progress = stop_when_inbox_live, .progress_ctx = &s,
				 .stop = &s.stop };
	struct engine_result r;
	struct err e = { 0 };
	struct store_account a;

	assert_int_equal(engine_sync_pass_with(&fx->env, &fx->fake.base, fx->account,
					       &o, &r, &e), 0);
	/* Every folder is live, but the poll that brings what changed since
	 * the rounds began was not made: not up to date yet. */
	assert_int_equal(r.folders_live, 2);
	assert_true(r.stopped_early);
	assert_false(r.complete);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "syncing");
	assert_non_null(strstr(a.state_reason, "changes made meanwhile"));
	assert_int_equal(count(fx), 5);
	/* The next pass polls and applies the deletion. */
	assert_int_equal(pass(fx, &r, &e), 0);
	assert_true(r.complete);
	assert_int_equal(count(fx), 4);
	store_get_account(fx->env.store, fx->account, &a, &e);
	assert_string_equal(store_state_name(a.state), "idle");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_resumes_from_the_committed_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_cursor_rebootstraps_and_sweeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_then_found_elsewhere_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throttling_is_recorded, setup, teardown),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test_setup_teardown(test_abort_at_every_allocation_converges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_sweep_needs_the_servers_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_pass_cut_short_after_its_rounds_is_not_complete, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
